package kernel

import "github.com/cilium/ebpf/asm"

// InsnKind says how the JIT has to treat an instruction beyond its opcode.
type InsnKind uint8

// Instruction kinds the verifier distinguishes before the JIT runs.
const (
	Plain      InsnKind = iota
	HelperCall          // call of a kernel helper: Ins.Constant = address - __bpf_call_base
	TailCall            // bpf_tail_call, rewritten by the verifier to BPF_JMP|BPF_TAIL_CALL
	FuncCall            // bpf-to-bpf call: Callee is the index of the called function
	MapPtr              // ld_imm64 of a struct bpf_map * (Ins.Constant is the address)
	MapValue            // ld_imm64 of a map value address (Ins.Constant is the address)
	FuncPtr             // ld_imm64 of a function address (BPF_PSEUDO_FUNC)
)

// Insn is one translated instruction as the JIT receives it.
//
// (The small fields are together: a loaded 1M-instruction program holds a
// million of these per architecture.)
type Insn struct {
	asm.Instruction
	// Raw is the instruction in the kernel's encoding, what a JIT switches on.
	Raw  BPFInsn
	Kind InsnKind
	// Direct is set on a TailCall whose map and key are the same constants on
	// every path (the verifier's poke descriptor case); Map and Key then say
	// which slot it targets.
	Direct bool
	Key    uint32
	Callee int    // FuncCall, FuncPtr: index into Loaded.Funcs
	Ref    string // symbolic name of what the instruction refers to (helper, function, map)
	// Index is the instruction's slot index in the whole program (ld_imm64
	// takes two slots), as bpftool numbers xlated instructions.
	Index int
	Map   string
}

// Loaded is one program as a kernel JIT receives it for one architecture:
// the verifier's translated instructions split into functions (the kernel's
// jit_subprogs), with every address resolved.
type Loaded struct {
	Arch  Arch
	Name  string
	Type  string
	Funcs []*LoadedFunc // kernel order: main program first, then subprograms in instruction order
	// CallBase is __bpf_call_base; helper calls go to CallBase + imm.
	CallBase uint64
	// Symbols names addresses for annotation (helpers, functions, programs).
	Symbols map[uint64]string
	// Layout holds the struct offsets the JIT bakes into tail calls.
	Layout Layout
	// Config holds configuration that overrides the profile (captures).
	Config map[string]string
	// ProgArrays describes the prog arrays this program uses.
	ProgArrays []*LoadedProgArray
	// MapAddrs and ValueAddrs give every map's struct bpf_map address and
	// the address of its first value (array maps), as the code uses them.
	MapAddrs, ValueAddrs map[string]uint64
}

// LoadedFunc is one function: one JIT image.
type LoadedFunc struct {
	Name      string
	Ksym      string
	Prototype string
	Index     int    // func_idx: 0 is the main program
	Address   uint64 // where the image is placed
	// StackDepth is the verifier's stack depth of this function in bytes.
	StackDepth int
	// TailCallReachable is set when a tail call can be reached from this
	// function (directly or through the functions it calls).
	TailCallReachable bool
	// Insns holds this function's instructions; Insns[i].Index numbers them
	// in the whole program.
	Insns []Insn
	// Lines maps instructions to source lines, where known; LineInfo.Insn
	// indexes the program's instructions (Start is this function's first).
	Lines []LineInfo
	// Start is the index of the function's first instruction in the program.
	Start int
	// Compact[i] is Insns[i] in the form the JIT backends read for every
	// instruction (CompactOf): 16 pointer-free bytes instead of a 104-byte
	// Insn, so that their walks over a large function read a sixth of the
	// memory. Load fills it; code that changes Insns afterwards must set
	// it to nil (see CompactInsns).
	Compact []CompactInsn
}

// CompactInsn is what a JIT backend reads of every instruction: the
// kernel encoding but for ld_imm64's upper half (Raw), the kind and the
// slot. Everything else stays in the Insn.
type CompactInsn struct {
	Code, Dst, Src uint8
	Kind           InsnKind
	Off            int16
	// OffDiffers is set when the decoded instruction's Offset is not
	// Raw.Off (see jit/x86's rawInsn).
	OffDiffers bool
	Imm        int32
	Index      int32 // Insn.Index
}

// CompactOf returns in's compact form.
func CompactOf(in *Insn) CompactInsn {
	return CompactInsn{
		Code: in.Raw.Code, Dst: in.Raw.Dst, Src: in.Raw.Src, Kind: in.Kind,
		Off: in.Raw.Off, OffDiffers: in.Offset != in.Raw.Off, Imm: in.Raw.Imm, Index: int32(in.Index),
	}
}

// Raw returns the instruction's kernel encoding without Imm64.
func (c CompactInsn) Raw() BPFInsn {
	return BPFInsn{Code: c.Code, Dst: c.Dst, Src: c.Src, Off: c.Off, Imm: c.Imm}
}

// CompactInsns returns f.Compact when it has one entry per instruction,
// else the compact form built from Insns (not kept: functions built by
// hand or edited after Load).
func (f *LoadedFunc) CompactInsns() []CompactInsn {
	if len(f.Compact) == len(f.Insns) {
		return f.Compact
	}
	c := make([]CompactInsn, len(f.Insns))
	for i := range f.Insns {
		c[i] = CompactOf(&f.Insns[i])
	}
	return c
}

// LoadedProgArray is a prog array with its filled slots resolved.
type LoadedProgArray struct {
	Name       string
	Address    uint64 // struct bpf_array *
	MaxEntries uint32
	Slots      map[uint32]ProgRef
}

// ProgRef is a program sitting in a prog array slot.
type ProgRef struct {
	Name    string
	Address uint64 // bpf_func: address of the program's main image
}

// Layout holds the struct offsets a JIT bakes into its code.
type Layout struct {
	ArrayMaxEntries int // offsetof(struct bpf_array, map.max_entries)
	ArrayPtrs       int // offsetof(struct bpf_array, ptrs)
	ProgBPFFunc     int // offsetof(struct bpf_prog, bpf_func)
	ThreadInfoCPU   int // offsetof(struct thread_info, cpu) (arm64 6.12+ inlines it)
}

// Func returns the function called name, or nil.
func (l *Loaded) Func(name string) *LoadedFunc {
	for _, f := range l.Funcs {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// UsesTailCalls reports whether any function of the program contains a tail call.
func (l *Loaded) UsesTailCalls() bool {
	for _, f := range l.Funcs {
		for k := range f.Insns {
			in := &f.Insns[k]
			if in.Kind == TailCall {
				return true
			}
		}
	}
	return false
}

// HasCalls reports whether the program has bpf-to-bpf calls.
func (l *Loaded) HasCalls() bool { return len(l.Funcs) > 1 }
