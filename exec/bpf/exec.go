package bpf

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/jitscope/jitscope/kernel"
)

// Opcode fields (include/uapi/linux/bpf_common.h, bpf.h; include/linux/filter.h
// for the kernel-internal ones).
const (
	opLdImm64 = kernel.ClassLD | 0x18 // BPF_LD | BPF_IMM | BPF_DW

	srcX = 0x08

	aluAdd  = 0x00
	aluSub  = 0x10
	aluMul  = 0x20
	aluDiv  = 0x30
	aluOr   = 0x40
	aluAnd  = 0x50
	aluLsh  = 0x60
	aluRsh  = 0x70
	aluNeg  = 0x80
	aluMod  = 0x90
	aluXor  = 0xa0
	aluMov  = 0xb0
	aluArsh = 0xc0
	aluEnd  = 0xd0

	jmpJA       = 0x00
	jmpJEQ      = 0x10
	jmpJGT      = 0x20
	jmpJGE      = 0x30
	jmpJSET     = 0x40
	jmpJNE      = 0x50
	jmpJSGT     = 0x60
	jmpJSGE     = 0x70
	jmpCall     = 0x80
	jmpExit     = 0x90
	jmpJLT      = 0xa0
	jmpJLE      = 0xb0
	jmpJSLT     = 0xc0
	jmpJSLE     = 0xd0
	jmpTailCall = 0xf0 // BPF_TAIL_CALL: the verifier's rewrite of bpf_tail_call

	modeMem        = 0x60
	modeMemSX      = 0x80
	modeAtomic     = 0xc0 // STX
	modeNospec     = 0xc0 // ST: speculation barrier
	modeProbeMem   = 0x20 // LDX, verifier-internal
	modeProbeMemSX = 0x40

	sizeW  = 0x00
	sizeH  = 0x08
	sizeB  = 0x10
	sizeDW = 0x18

	atomicFetch   = 0x01
	atomicXchg    = 0xe0 | atomicFetch
	atomicCmpXchg = 0xf0 | atomicFetch
	loadAcquire   = 0x100 // BPF_LOAD_ACQ (6.15)
	storeRelease  = 0x110 // BPF_STORE_REL (6.15)

	regAX = 11 // BPF_REG_AX: the verifier's and constant blinding's scratch register
)

var errUnknownOpcode = errors.New("unknown opcode")

func unknown(b kernel.BPFInsn) error {
	return fmt.Errorf("%w %#02x (off %d, imm %#x): not in the kernel interpreter's jump table", errUnknownOpcode, b.Code, b.Off, b.Imm)
}

func sizeBytes(size uint8) int {
	switch size {
	case sizeB:
		return 1
	case sizeH:
		return 2
	case sizeW:
		return 4
	}
	return 8
}

// regs checks the registers an instruction uses.
func regs(b kernel.BPFInsn, src bool) error {
	if b.Dst > regAX {
		return fmt.Errorf("invalid destination register r%d", b.Dst)
	}
	if src && b.Src > regAX {
		return fmt.Errorf("invalid source register r%d", b.Src)
	}
	return nil
}

// exec runs one instruction of the current frame; it reports whether the
// run is over.
func (v *vm) exec(fr *frame, in *kernel.Insn) (bool, error) {
	b := in.Raw
	switch b.Class() {
	case kernel.ClassALU, kernel.ClassALU64:
		if err := v.alu(b); err != nil {
			return false, err
		}
		fr.pc++
		return false, nil
	case kernel.ClassJMP, kernel.ClassJMP32:
		return v.jmp(fr, in)
	case kernel.ClassLD:
		// LD_IMM_DW; for map, map value and function pointers Imm64 is
		// the address the verifier resolved.
		if b.Code != opLdImm64 {
			return false, unknown(b)
		}
		if err := regs(b, false); err != nil {
			return false, err
		}
		v.r[b.Dst] = b.Imm64
		fr.pc++
		return false, nil
	case kernel.ClassLDX:
		if err := v.ldx(b); err != nil {
			return false, err
		}
	case kernel.ClassST:
		if err := v.st(b); err != nil {
			return false, err
		}
	case kernel.ClassSTX:
		if err := v.stx(b); err != nil {
			return false, err
		}
	}
	fr.pc++
	return false, nil
}

// alu runs ALU and ALU64 instructions (core.c ALU, SHT, ALU_NEG, *_MOV_*,
// *_ARSH_*, *_DIV_*, *_MOD_*, *_END_*).
func (v *vm) alu(b kernel.BPFInsn) error {
	op, x := b.Op(), b.SrcX()
	is64 := b.Class() == kernel.ClassALU64
	if err := regs(b, x); err != nil {
		return err
	}
	switch {
	case op == aluNeg && x, op > aluEnd, op == aluEnd && is64 && x:
		return unknown(b)
	case op == aluEnd:
		r, err := endian(v.r[b.Dst], b.Imm, is64 || x)
		if err != nil {
			return err
		}
		v.r[b.Dst] = r
		return nil
	}
	var src uint64
	if x {
		src = v.r[b.Src]
	} else {
		src = uint64(int64(b.Imm)) // IMM: s32, sign-extended in 64-bit context
	}
	var r uint64
	var err error
	if is64 {
		r, err = alu64(op, b.Off, x, v.r[b.Dst], src)
	} else {
		var r32 uint32
		r32, err = alu32(op, b.Off, x, uint32(v.r[b.Dst]), uint32(src))
		r = uint64(r32) // 32-bit operations zero-extend
	}
	if err != nil {
		return err
	}
	v.r[b.Dst] = r
	return nil
}

// alu64 is one ALU64 operation. Shift amounts are masked with 63 as the
// interpreter does ("DST = DST OP (SRC & 63)"); division follows the
// verifier's rewrite (kernel/bpf/verifier.c do_misc_fixups, 6.12): x / 0 =
// 0, x % 0 = x, LLONG_MIN s/ -1 = LLONG_MIN (a neg), x s% -1 = 0.
func alu64(op uint8, off int16, x bool, d, s uint64) (uint64, error) {
	switch op {
	case aluAdd:
		return d + s, nil
	case aluSub:
		return d - s, nil
	case aluMul:
		return d * s, nil
	case aluOr:
		return d | s, nil
	case aluAnd:
		return d & s, nil
	case aluXor:
		return d ^ s, nil
	case aluLsh:
		return d << (s & 63), nil
	case aluRsh:
		return d >> (s & 63), nil
	case aluArsh:
		return uint64(int64(d) >> (s & 63)), nil
	case aluNeg:
		return -d, nil
	case aluMov:
		if !x {
			return s, nil
		}
		switch off {
		case 0:
			return s, nil
		case 8:
			return uint64(int64(int8(s))), nil
		case 16:
			return uint64(int64(int16(s))), nil
		case 32:
			return uint64(int64(int32(s))), nil
		}
		return 0, fmt.Errorf("movsx with invalid off %d", off)
	case aluDiv, aluMod:
		switch off {
		case 0:
			switch {
			case s == 0 && op == aluDiv:
				return 0, nil
			case s == 0:
				return d, nil
			case op == aluDiv:
				return d / s, nil
			}
			return d % s, nil
		case 1:
			sd, ss := int64(d), int64(s)
			switch {
			case ss == 0 && op == aluDiv:
				return 0, nil
			case ss == 0:
				return d, nil
			case ss == -1 && op == aluDiv:
				return -d, nil
			case ss == -1:
				return 0, nil
			case op == aluDiv:
				return uint64(sd / ss), nil
			}
			return uint64(sd % ss), nil
		}
		return 0, fmt.Errorf("div/mod with invalid off %d", off)
	}
	return 0, fmt.Errorf("%w: alu64 op %#02x", errUnknownOpcode, op)
}

// alu32 is one ALU (32-bit) operation on the low halves; the caller
// zero-extends. Shifts mask with 31; division as alu64 (INT_MIN s/ -1 =
// INT_MIN; the 32-bit "x % 0" leaves the zero-extended x).
func alu32(op uint8, off int16, x bool, d, s uint32) (uint32, error) {
	switch op {
	case aluAdd:
		return d + s, nil
	case aluSub:
		return d - s, nil
	case aluMul:
		return d * s, nil
	case aluOr:
		return d | s, nil
	case aluAnd:
		return d & s, nil
	case aluXor:
		return d ^ s, nil
	case aluLsh:
		return d << (s & 31), nil
	case aluRsh:
		return d >> (s & 31), nil
	case aluArsh:
		return uint32(int32(d) >> (s & 31)), nil
	case aluNeg:
		return -d, nil
	case aluMov:
		if !x {
			return s, nil
		}
		switch off {
		case 0:
			return s, nil
		case 8:
			return uint32(int32(int8(s))), nil
		case 16:
			return uint32(int32(int16(s))), nil
		}
		return 0, fmt.Errorf("movsx (32-bit) with invalid off %d", off)
	case aluDiv, aluMod:
		switch off {
		case 0:
			switch {
			case s == 0 && op == aluDiv:
				return 0, nil
			case s == 0:
				return d, nil
			case op == aluDiv:
				return d / s, nil
			}
			return d % s, nil
		case 1:
			sd, ss := int32(d), int32(s)
			switch {
			case ss == 0 && op == aluDiv:
				return 0, nil
			case ss == 0:
				return d, nil
			case ss == -1 && op == aluDiv:
				return -d, nil
			case ss == -1:
				return 0, nil
			case op == aluDiv:
				return uint32(sd / ss), nil
			}
			return uint32(sd % ss), nil
		}
		return 0, fmt.Errorf("div/mod with invalid off %d", off)
	}
	return 0, fmt.Errorf("%w: alu op %#02x", errUnknownOpcode, op)
}

// endian is BPF_END: swap is set for BPF_TO_BE and for the unconditional
// ALU64 bswap; BPF_TO_LE on a little-endian machine only truncates
// (core.c ALU_END_TO_BE/LE, ALU64_END_TO_LE; jitscope's kernels are
// little-endian).
func endian(d uint64, imm int32, swap bool) (uint64, error) {
	switch imm {
	case 16:
		if swap {
			return uint64(bits.ReverseBytes16(uint16(d))), nil
		}
		return uint64(uint16(d)), nil
	case 32:
		if swap {
			return uint64(bits.ReverseBytes32(uint32(d))), nil
		}
		return uint64(uint32(d)), nil
	case 64:
		if swap {
			return bits.ReverseBytes64(d), nil
		}
		return d, nil
	}
	return 0, fmt.Errorf("byte swap of invalid width %d", imm)
}

// cond evaluates a conditional jump (core.c COND_JMP): JMP compares 64-bit
// values, JMP32 their low halves; K operands are sign-extended imm.
func cond(op uint8, is32 bool, d, s uint64) (bool, error) {
	if is32 {
		d, s = uint64(uint32(d)), uint64(uint32(s))
	}
	sd, ss := int64(d), int64(s)
	if is32 {
		sd, ss = int64(int32(d)), int64(int32(s))
	}
	switch op {
	case jmpJEQ:
		return d == s, nil
	case jmpJNE:
		return d != s, nil
	case jmpJGT:
		return d > s, nil
	case jmpJLT:
		return d < s, nil
	case jmpJGE:
		return d >= s, nil
	case jmpJLE:
		return d <= s, nil
	case jmpJSET:
		return d&s != 0, nil
	case jmpJSGT:
		return sd > ss, nil
	case jmpJSLT:
		return sd < ss, nil
	case jmpJSGE:
		return sd >= ss, nil
	case jmpJSLE:
		return sd <= ss, nil
	}
	return false, errUnknownOpcode
}

// jmp runs JMP and JMP32 instructions: jumps, calls, tail calls, exit.
func (v *vm) jmp(fr *frame, in *kernel.Insn) (bool, error) {
	b := in.Raw
	op, x := b.Op(), b.SrcX()
	is32 := b.Class() == kernel.ClassJMP32
	switch op {
	case jmpJA:
		if x {
			return false, unknown(b)
		}
		if is32 {
			return false, v.jump(fr, in, int(b.Imm)) // gotol: JMP32_JA uses imm
		}
		return false, v.jump(fr, in, int(b.Off))
	case jmpCall:
		if is32 || x {
			return false, unknown(b)
		}
		switch in.Kind {
		case kernel.HelperCall:
			return false, v.helper(fr, in)
		case kernel.FuncCall:
			return false, v.call(fr, in)
		case kernel.TailCall:
			return false, v.tailCall(fr)
		}
		return false, fmt.Errorf("call (src_reg %d, imm %d) that the loader did not resolve", b.Src, b.Imm)
	case jmpTailCall:
		if is32 || x {
			return false, unknown(b)
		}
		return false, v.tailCall(fr)
	case jmpExit:
		if is32 || x {
			return false, unknown(b)
		}
		return v.exit(), nil
	}
	if err := regs(b, x); err != nil {
		return false, err
	}
	s := uint64(int64(b.Imm))
	if x {
		s = v.r[b.Src]
	}
	taken, err := cond(op, is32, v.r[b.Dst], s)
	if err != nil {
		return false, unknown(b)
	}
	if taken {
		return false, v.jump(fr, in, int(b.Off))
	}
	fr.pc++
	return false, nil
}

// ldx runs LDX: MEM zero-extends, MEMSX sign-extends (B, H, W); the
// verifier-internal PROBE_MEM forms read 0 where the memory faults
// (bpf_probe_read_kernel_common).
func (v *vm) ldx(b kernel.BPFInsn) error {
	if err := regs(b, true); err != nil {
		return err
	}
	mode, size := b.Mode(), b.Size()
	n := sizeBytes(size)
	addr := v.r[b.Src] + uint64(int64(b.Off))
	switch mode {
	case modeMem, modeProbeMem:
		val, err := v.k.Mem.Load(addr, n)
		if err != nil {
			if mode != modeProbeMem {
				return err
			}
			val = 0
		}
		v.r[b.Dst] = val
		return nil
	case modeMemSX, modeProbeMemSX:
		if size == sizeDW {
			return unknown(b)
		}
		val, err := v.k.Mem.Load(addr, n)
		if err != nil {
			if mode != modeProbeMemSX {
				return err
			}
			val = 0
		}
		v.r[b.Dst] = signExtend(val, n)
		return nil
	}
	return unknown(b)
}

func signExtend(val uint64, n int) uint64 {
	sh := 64 - 8*uint(n)
	return uint64(int64(val<<sh) >> sh)
}

// st runs ST: *(size *)(dst + off) = imm; BPF_NOSPEC is a barrier.
func (v *vm) st(b kernel.BPFInsn) error {
	switch b.Mode() {
	case modeMem:
		if err := regs(b, false); err != nil {
			return err
		}
		return v.k.Mem.Store(v.r[b.Dst]+uint64(int64(b.Off)), sizeBytes(b.Size()), uint64(int64(b.Imm)))
	case modeNospec:
		if b.Code == kernel.ClassST|modeNospec {
			return nil
		}
	}
	return unknown(b)
}

// stx runs STX: stores and atomics (core.c STX_ATOMIC_W/DW, with
// load-acquire and store-release of 6.15).
func (v *vm) stx(b kernel.BPFInsn) error {
	if err := regs(b, true); err != nil {
		return err
	}
	n := sizeBytes(b.Size())
	m := v.k.Mem
	switch b.Mode() {
	case modeMem:
		return m.Store(v.r[b.Dst]+uint64(int64(b.Off)), n, v.r[b.Src])
	case modeAtomic:
	default:
		return unknown(b)
	}
	switch b.Imm {
	case loadAcquire:
		// dst = smp_load_acquire((size *)(src + off)), zero-extended.
		val, err := m.Load(v.r[b.Src]+uint64(int64(b.Off)), n)
		if err != nil {
			return err
		}
		v.r[b.Dst] = val
		return nil
	case storeRelease:
		// smp_store_release((size *)(dst + off), src).
		return m.Store(v.r[b.Dst]+uint64(int64(b.Off)), n, v.r[b.Src])
	}
	if n != 4 && n != 8 {
		return unknown(b) // read-modify-write atomics are W and DW only
	}
	addr := v.r[b.Dst] + uint64(int64(b.Off))
	mask := ^uint64(0) >> (64 - 8*uint(n))
	src := v.r[b.Src] & mask
	var update func(old uint64) (uint64, bool)
	switch b.Imm &^ atomicFetch {
	case aluAdd:
		update = func(old uint64) (uint64, bool) { return old + src, true }
	case aluAnd:
		update = func(old uint64) (uint64, bool) { return old & src, true }
	case aluOr:
		update = func(old uint64) (uint64, bool) { return old | src, true }
	case aluXor:
		update = func(old uint64) (uint64, bool) { return old ^ src, true }
	}
	switch b.Imm {
	case aluAdd, aluAnd, aluOr, aluXor:
	case aluAdd | atomicFetch, aluAnd | atomicFetch, aluOr | atomicFetch, aluXor | atomicFetch:
	case atomicXchg:
		update = func(uint64) (uint64, bool) { return src, true }
	case atomicCmpXchg:
		// R0 = atomic_cmpxchg(dst + off, R0, src): compare the low n
		// bytes of R0, R0 gets the old value zero-extended.
		want := v.r[0] & mask
		update = func(old uint64) (uint64, bool) { return src, old == want }
	default:
		return unknown(b)
	}
	old, err := m.Load(addr, n)
	if err != nil {
		return err
	}
	if nv, write := update(old); write {
		if err := m.Store(addr, n, nv&mask); err != nil {
			return err
		}
	}
	switch {
	case b.Imm == atomicCmpXchg:
		v.r[0] = old
	case b.Imm&atomicFetch != 0:
		v.r[b.Src] = old // fetch and xchg: src = old value (zero-extended for W)
	}
	return nil
}
