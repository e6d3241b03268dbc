package kernel

// Opcode fields of struct bpf_insn as the kernel's JITs switch on them
// (include/uapi/linux/bpf.h, bpf_common.h, and the verifier-internal modes
// of include/linux/filter.h and kernel/bpf/verifier.c).
const (
	// BPF_OP of the ALU and ALU64 classes.
	OpADD  = 0x00
	OpSUB  = 0x10
	OpMUL  = 0x20
	OpDIV  = 0x30
	OpOR   = 0x40
	OpAND  = 0x50
	OpLSH  = 0x60
	OpRSH  = 0x70
	OpNEG  = 0x80
	OpMOD  = 0x90
	OpXOR  = 0xa0
	OpMOV  = 0xb0
	OpARSH = 0xc0
	OpEND  = 0xd0

	// BPF_OP of the JMP and JMP32 classes.
	JmpJA   = 0x00
	JmpJEQ  = 0x10
	JmpJGT  = 0x20
	JmpJGE  = 0x30
	JmpJSET = 0x40
	JmpJNE  = 0x50
	JmpJSGT = 0x60
	JmpJSGE = 0x70
	JmpCALL = 0x80
	JmpEXIT = 0x90
	JmpJLT  = 0xa0
	JmpJLE  = 0xb0
	JmpJSLT = 0xc0
	JmpJSLE = 0xd0

	// BPF_MODE of the load and store classes.
	ModeIMM         = 0x00
	ModeProbeMem    = 0x20 // BPF_PROBE_MEM (verifier-internal)
	ModeProbeMemSX  = 0x40 // BPF_PROBE_MEMSX
	ModeMem         = 0x60
	ModeMemSX       = 0x80 // BPF_MEMSX (cpu v4)
	ModeProbeMem32  = 0xa0 // BPF_PROBE_MEM32 (arena)
	ModeAtomic      = 0xc0
	ModeProbeAtomic = 0xe0 // BPF_PROBE_ATOMIC (arena)

	// BPF_SIZE.
	SizeW  = 0x00
	SizeH  = 0x08
	SizeB  = 0x10
	SizeDW = 0x18

	SrcX = 0x08 // BPF_X; BPF_TO_BE for BPF_END

	// The imm of BPF_ATOMIC instructions (besides the ALU ops).
	AtomicFetch    = 0x01
	AtomicXchg     = 0xe0 | AtomicFetch
	AtomicCmpXchg  = 0xf0 | AtomicFetch
	AtomicLoadAcq  = 0x100 // BPF_LOAD_ACQ (6.15)
	AtomicStoreRel = 0x110 // BPF_STORE_REL (6.15)

	CodeLdImm64 = ClassLD | ModeIMM | SizeDW // 0x18
	CodeNOSPEC  = ClassST | 0xc0             // BPF_ST | BPF_NOSPEC

	AddrSpaceCast = 1  // BPF_ADDR_SPACE_CAST (off of a cast mov)
	AddrPercpu    = -1 // BPF_ADDR_PERCPU (off of a per-CPU address mov)
)
