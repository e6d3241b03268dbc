package kernel

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/asm"
)

// BPFInsn is an instruction in the kernel's own encoding (struct bpf_insn),
// the form the JITs switch on: cilium/ebpf's asm.OpCode folds some fields
// (sdiv, movsx, atomic operations) into the opcode, the kernel keeps them
// in off and imm.
type BPFInsn struct {
	Code  uint8
	Dst   uint8
	Src   uint8
	Off   int16
	Imm   int32
	Imm64 uint64 // ld_imm64: the full 64-bit immediate
}

// Kernel opcode fields (include/uapi/linux/bpf_common.h, bpf.h).
const (
	ClassLD    = 0x00
	ClassLDX   = 0x01
	ClassST    = 0x02
	ClassSTX   = 0x03
	ClassALU   = 0x04
	ClassJMP   = 0x05
	ClassJMP32 = 0x06
	ClassALU64 = 0x07
)

// Class returns BPF_CLASS(code).
func (b *BPFInsn) Class() uint8 { return b.Code & 0x07 }

// Op returns BPF_OP(code) for ALU and JMP classes.
func (b *BPFInsn) Op() uint8 { return b.Code & 0xf0 }

// Mode returns BPF_MODE(code) for load/store classes.
func (b *BPFInsn) Mode() uint8 { return b.Code & 0xe0 }

// Size returns BPF_SIZE(code) for load/store classes.
func (b *BPFInsn) Size() uint8 { return b.Code & 0x18 }

// SrcX reports BPF_SRC(code) == BPF_X.
func (b *BPFInsn) SrcX() bool { return b.Code&0x08 != 0 }

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// RawOf encodes ins in the kernel's form.
func RawOf(ins asm.Instruction) (BPFInsn, error) {
	if r, ok := rawDirect(&ins); ok {
		return r, nil
	}
	return rawOfMarshal(ins)
}

// rawDirect is RawOf for the instructions whose kernel encoding is their
// cilium/ebpf fields as they stand: a one-byte opcode (no extended ALU or
// atomic operation folded into it) outside the atomic mode. It gives what
// Marshal and the corrections of rawOfMarshal give, without the encoder's
// allocations: registers keep their low four bits, an ALU off survives,
// a call's imm is its constant, an ld_imm64 carries the 64-bit constant.
func rawDirect(ins *asm.Instruction) (BPFInsn, bool) {
	op := ins.OpCode
	if op > 0xff {
		return BPFInsn{}, false
	}
	if op.Class() == asm.StXClass && op.Mode() == asm.AtomicMode {
		return BPFInsn{}, false
	}
	r := BPFInsn{
		Code: uint8(op),
		Dst:  uint8(ins.Dst) & 0x0f,
		Src:  uint8(ins.Src) & 0x0f,
		Off:  ins.Offset,
		Imm:  int32(ins.Constant),
	}
	if op.IsDWordLoad() {
		r.Imm64 = uint64(ins.Constant)
	}
	return r, true
}

// rawOfMarshal encodes ins through cilium/ebpf's Marshal.
func rawOfMarshal(ins asm.Instruction) (BPFInsn, error) {
	call := ins.OpCode.JumpOp() == asm.Call && ins.OpCode.Class().IsJump()
	keep := ins.Constant
	if call {
		// Helper calls carry an address offset, not a helper id, after
		// Load; marshal them as id 0 and put the value back.
		ins.Constant = 0
	}
	w := sliceWriter{b: make([]byte, 0, 16)}
	if _, err := ins.Marshal(&w, binary.LittleEndian); err != nil {
		return BPFInsn{}, fmt.Errorf("encoding %v: %w", ins, err)
	}
	b := w.b
	r := BPFInsn{
		Code: b[0],
		Dst:  b[1] & 0x0f,
		Src:  b[1] >> 4,
		Off:  int16(binary.LittleEndian.Uint16(b[2:4])),
		Imm:  int32(binary.LittleEndian.Uint32(b[4:8])),
	}
	if call {
		r.Imm = int32(keep)
	}
	// cilium/ebpf's Marshal reads imm before folding an atomic operation
	// into it, so instructions built with its atomic builders (FetchAdd,
	// Xchg, CmpXchg...) would come out as plain adds: take the kernel's imm
	// from the opcode.
	if ins.OpCode.Class() == asm.StXClass && ins.OpCode.Mode() == asm.AtomicMode {
		if op := ins.OpCode.AtomicOp(); op != asm.InvalidAtomic {
			r.Imm = int32(uint32(op) >> 8)
		}
	}
	// cilium/ebpf rewrites off of ALU instructions from its extended
	// opcodes and zeroes it otherwise; the kernel's own off values on plain
	// ALU ops (BPF_ADDR_PERCPU = -1 on a 64-bit mov, 6.10+) must survive.
	if cls := ins.OpCode.Class(); cls.IsALU() && r.Off == 0 && ins.Offset != 0 {
		r.Off = ins.Offset
	}
	if len(b) == 16 {
		r.Imm64 = uint64(uint32(r.Imm)) | uint64(binary.LittleEndian.Uint32(b[12:16]))<<32
	}
	return r, nil
}
