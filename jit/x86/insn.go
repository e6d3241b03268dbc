// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"encoding/binary"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// unknown is the kernel's "bpf_jit: unknown opcode %02x".
func (c *ctx) unknown(in *kernel.Insn, why string) error {
	if why != "" {
		return c.errorf(in, "unknown opcode %02x (%s)", in.Raw.Code, why)
	}
	return c.errorf(in, "unknown opcode %02x", in.Raw.Code)
}

// insn translates the instruction at 1-based slot i (the loop body of
// do_jit) and returns the slot it ended on: ld_imm64 takes two.
func (c *ctx) insn(in *kernel.Insn, i int, seenExit *bool) (int, error) {
	r := &in.Raw
	if r.Dst > regAX || r.Src > regAX {
		return i, c.errorf(in, "invalid register r%d/r%d", r.Dst, r.Src)
	}
	start := c.pos()
	var err error
	switch r.Class() {
	case kernel.ClassALU, kernel.ClassALU64:
		err = c.alu(in)
	case kernel.ClassLD:
		if r.Code != kernel.CodeLdImm64 {
			return i, c.unknown(in, "")
		}
		c.ldImm64(in)
		i++
	case kernel.ClassLDX:
		err = c.ldx(in)
	case kernel.ClassST:
		err = c.st(in)
	case kernel.ClassSTX:
		err = c.stx(in)
	case kernel.ClassJMP, kernel.ClassJMP32:
		err = c.jmp(in, i, start, seenExit)
	default:
		err = c.unknown(in, "")
	}
	if err != nil {
		return i, err
	}
	kind := jit.RegionBody
	if in.Kind == kernel.TailCall {
		kind = jit.RegionTailCall
	}
	c.fillRegion(start, kind)
	return i, nil
}

// fillRegion covers what the instruction emitted after the last region it
// recorded itself.
func (c *ctx) fillRegion(start int, kind jit.RegionKind) {
	if !c.emitting {
		return
	}
	if n := len(c.regions); n > 0 && c.regions[n-1].End > start {
		start = c.regions[n-1].End
	}
	c.region(start, kind)
}

// maybeEmitMod emits a REX prefix when the operation is 64-bit or a
// register needs one (maybe_emit_mod).
func (c *ctx) maybeEmitMod(dst, src int, is64 bool) {
	b := add2mod(0x40, dst, src)
	if is64 {
		b |= 0x08
	}
	c.emit1If(b, b != 0x40)
}

// maybeEmit1Mod is maybeEmitMod for one register (maybe_emit_1mod).
func (c *ctx) maybeEmit1Mod(reg int, is64 bool) {
	b := add1mod(0x40, reg)
	if is64 {
		b |= 0x08
	}
	c.emit1If(b, b != 0x40)
}

// emit1If appends b when cond holds. It writes b either way and keeps it
// or not: whether an instruction needs a REX prefix is data, and a branch
// on it mispredicts.
func (c *ctx) emit1If(b byte, cond bool) {
	n := len(c.code)
	if n+1 > cap(c.code) {
		c.grow(1)
	}
	c.code = c.code[:n+1]
	c.code[n] = b
	if !cond {
		c.code = c.code[:n]
	}
}

// emitMov is EMIT_mov: a 64-bit register move, nothing when dst == src.
func (c *ctx) emitMov(dst, src int) {
	if dst != src {
		c.emit3(add2mod(0x48, dst, src), 0x89, add2reg(0xC0, dst, src)) // mov dst, src
	}
}

// emitMovReg models emit_mov_reg.
func (c *ctx) emitMovReg(is64 bool, dst, src int) {
	if is64 {
		c.emitMov(dst, src) // mov dst, src
		return
	}
	if isEreg(dst) || isEreg(src) {
		c.emit1(add2mod(0x40, dst, src))
	}
	c.emit2(0x89, add2reg(0xC0, dst, src)) // mov32 dst, src
}

// emitMovsxReg models emit_movsx_reg (cpuv4 movsx).
func (c *ctx) emitMovsxReg(bits int, is64 bool, dst, src int) {
	if is64 {
		switch bits {
		case 8:
			c.emit4(add2mod(0x48, src, dst), 0x0f, 0xbe, add2reg(0xC0, src, dst)) // movsbq dst, src
		case 16:
			c.emit4(add2mod(0x48, src, dst), 0x0f, 0xbf, add2reg(0xC0, src, dst)) // movswq dst, src
		case 32:
			c.emit3(add2mod(0x48, src, dst), 0x63, add2reg(0xC0, src, dst)) // movslq dst, src
		}
		return
	}
	switch bits {
	case 8:
		c.emit4(add2mod(0x40, src, dst), 0x0f, 0xbe, add2reg(0xC0, src, dst)) // movsbl dst, src
	case 16:
		if isEreg(dst) || isEreg(src) {
			c.emit1(add2mod(0x40, src, dst))
		}
		c.emit3(add2mod(0x0f, src, dst), 0xbf, add2reg(0xC0, src, dst)) // movswl dst, src
	}
}

// emitMovImm32 models emit_mov_imm32.
func (c *ctx) emitMovImm32(signPropagate bool, dst int, imm uint32) {
	switch {
	case signPropagate && int32(imm) < 0:
		// 'mov %rax, imm32' sign extends imm32
		c.emit3(add1mod(0x48, dst), 0xC7, add1reg(0xC0, dst))
		c.emit32(int32(imm))
	case imm == 0:
		// 'xor %eax, %eax' saves 3 bytes
		if isEreg(dst) {
			c.emit1(add2mod(0x40, dst, dst))
		}
		c.emit2(0x31, add2reg(0xC0, dst, dst))
	default:
		// mov %eax, imm32
		if isEreg(dst) {
			c.emit1(add1mod(0x40, dst))
		}
		c.emit1(add1reg(0xB8, dst))
		c.emit32(int32(imm))
	}
}

// movabsLen is the length of "movabs reg, imm64" (REX.W, B8+r, imm64);
// emit_mov_imm64's other forms are shorter.
const movabsLen = 10

// emitMovImm64 models emit_mov_imm64 and reports whether it emitted movabs.
func (c *ctx) emitMovImm64(dst int, imm64 uint64) bool {
	switch {
	case isUimm32(imm64):
		c.emitMovImm32(false, dst, uint32(imm64))
	case c.v.movImm64Simm32 && isSimm32(int64(imm64)):
		c.emitMovImm32(true, dst, uint32(imm64))
	default:
		c.emit2(add1mod(0x48, dst), add1reg(0xB8, dst)) // movabsq rax, imm64
		c.emit32(int32(uint32(imm64)))
		c.emit32(int32(uint32(imm64 >> 32)))
		return true
	}
	return false
}

// emitInsnSuffix models emit_insn_suffix: ModRM with a disp8 or disp32
// for *(ptr + off) and val.
func (c *ctx) emitInsnSuffix(ptr, val int, off int32) {
	// [ptr + disp8] (ModRM 0x40) or [ptr + disp32] (0x80): both written,
	// the length chosen after, without a branch on the offset.
	modrm, n := add2reg(0x80, ptr, val), 5
	if isImm8(int64(off)) {
		modrm, n = modrm^0xC0, 2
	}
	m := len(c.code)
	if m+5 > cap(c.code) {
		c.grow(5)
	}
	code := c.code[m : m+5]
	code[0] = modrm
	binary.LittleEndian.PutUint32(code[1:], uint32(off))
	c.code = c.code[:m+n]
}

// emitLdx models emit_ldx: dst = *(size *)(src + off), zero-extended.
func (c *ctx) emitLdx(size uint8, dst, src int, off int32) {
	switch size {
	case kernel.SizeB:
		c.emit3(add2mod(0x48, src, dst), 0x0F, 0xB6) // movzx rax, byte ptr [rax + off]
	case kernel.SizeH:
		c.emit3(add2mod(0x48, src, dst), 0x0F, 0xB7) // movzx rax, word ptr [rax + off]
	case kernel.SizeW:
		if isEreg(dst) || isEreg(src) { // mov eax, dword ptr [rax + off]
			c.emit2(add2mod(0x40, src, dst), 0x8B)
		} else {
			c.emit1(0x8B)
		}
	case kernel.SizeDW:
		c.emit2(add2mod(0x48, src, dst), 0x8B) // mov rax, qword ptr [rax + off]
	}
	c.emitInsnSuffix(src, dst, off)
}

// emitLdsx models emit_ldsx: dst = *(s8/s16/s32 *)(src + off).
func (c *ctx) emitLdsx(size uint8, dst, src int, off int32) {
	switch size {
	case kernel.SizeB:
		c.emit3(add2mod(0x48, src, dst), 0x0F, 0xBE) // movsx rax, byte ptr [rax + off]
	case kernel.SizeH:
		c.emit3(add2mod(0x48, src, dst), 0x0F, 0xBF) // movsx rax, word ptr [rax + off]
	case kernel.SizeW:
		c.emit2(add2mod(0x48, src, dst), 0x63) // movsx rax, dword ptr [rax + off]
	}
	c.emitInsnSuffix(src, dst, off)
}

// emitStx models emit_stx: *(size *)(dst + off) = src.
func (c *ctx) emitStx(size uint8, dst, src int, off int32) {
	switch size {
	case kernel.SizeB:
		if isEreg(dst) || isEreg8l(src) { // mov byte ptr [rax + off], al
			c.emit2(add2mod(0x40, dst, src), 0x88)
		} else {
			c.emit1(0x88)
		}
	case kernel.SizeH:
		if isEreg(dst) || isEreg(src) { // mov word ptr [rax + off], ax
			c.emit3(0x66, add2mod(0x40, dst, src), 0x89)
		} else {
			c.emit2(0x66, 0x89)
		}
	case kernel.SizeW:
		if isEreg(dst) || isEreg(src) { // mov dword ptr [rax + off], eax
			c.emit2(add2mod(0x40, dst, src), 0x89)
		} else {
			c.emit1(0x89)
		}
	case kernel.SizeDW:
		c.emit2(add2mod(0x48, dst, src), 0x89) // mov qword ptr [rax + off], rax
	}
	c.emitInsnSuffix(dst, src, off)
}
