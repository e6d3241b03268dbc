// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Kernel opcode fields (include/uapi/linux/bpf.h, bpf_common.h, and the
// JIT-internal modes of include/linux/filter.h and kernel/bpf/verifier.c).
const (
	opADD  = 0x00
	opSUB  = 0x10
	opMUL  = 0x20
	opDIV  = 0x30
	opOR   = 0x40
	opAND  = 0x50
	opLSH  = 0x60
	opRSH  = 0x70
	opNEG  = 0x80
	opMOD  = 0x90
	opXOR  = 0xa0
	opMOV  = 0xb0
	opARSH = 0xc0
	opEND  = 0xd0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40
	jmpJNE  = 0x50
	jmpJSGT = 0x60
	jmpJSGE = 0x70
	jmpCALL = 0x80
	jmpEXIT = 0x90
	jmpJLT  = 0xa0
	jmpJLE  = 0xb0
	jmpJSLT = 0xc0
	jmpJSLE = 0xd0

	modeIMM         = 0x00
	modeProbeMem    = 0x20 // BPF_PROBE_MEM (verifier-internal)
	modeProbeMemSX  = 0x40 // BPF_PROBE_MEMSX
	modeMem         = 0x60
	modeMemSX       = 0x80 // BPF_MEMSX (cpuv4)
	modeProbeMem32  = 0xa0 // BPF_PROBE_MEM32 (arena)
	modeAtomic      = 0xc0
	modeProbeAtomic = 0xe0 // BPF_PROBE_ATOMIC (arena)

	sizeW  = 0x00
	sizeH  = 0x08
	sizeB  = 0x10
	sizeDW = 0x18

	srcX = 0x08 // BPF_X; BPF_TO_BE for BPF_END

	atomicFetch   = 0x01
	atomicXchg    = 0xe0 | atomicFetch
	atomicCmpXchg = 0xf0 | atomicFetch
	atomicLoadAcq = 0x100 // BPF_LOAD_ACQ (6.15)
	atomicStorRel = 0x110 // BPF_STORE_REL (6.15)

	ldImm64    = kernel.ClassLD | modeIMM | sizeDW // 0x18
	codeNOSPEC = kernel.ClassST | 0xc0             // BPF_ST | BPF_NOSPEC

	addrSpaceCast = 1  // BPF_ADDR_SPACE_CAST (off of a cast mov)
	addrPercpu    = -1 // BPF_ADDR_PERCPU (off of a per-CPU address mov)
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
	r := in.Raw
	if r.Dst > regAX || r.Src > regAX {
		return i, c.errorf(in, "invalid register r%d/r%d", r.Dst, r.Src)
	}
	start := c.pos()
	var err error
	switch r.Class() {
	case kernel.ClassALU, kernel.ClassALU64:
		err = c.alu(in)
	case kernel.ClassLD:
		if r.Code != ldImm64 {
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
	if is64 {
		c.emit(add2mod(0x48, dst, src))
	} else if isEreg(dst) || isEreg(src) {
		c.emit(add2mod(0x40, dst, src))
	}
}

// maybeEmit1Mod is maybeEmitMod for one register (maybe_emit_1mod).
func (c *ctx) maybeEmit1Mod(reg int, is64 bool) {
	if is64 {
		c.emit(add1mod(0x48, reg))
	} else if isEreg(reg) {
		c.emit(add1mod(0x40, reg))
	}
}

// emitMov is EMIT_mov: a 64-bit register move, nothing when dst == src.
func (c *ctx) emitMov(dst, src int) {
	if dst != src {
		c.emit(add2mod(0x48, dst, src), 0x89, add2reg(0xC0, dst, src)) // mov dst, src
	}
}

// emitMovReg models emit_mov_reg.
func (c *ctx) emitMovReg(is64 bool, dst, src int) {
	if is64 {
		c.emitMov(dst, src) // mov dst, src
		return
	}
	if isEreg(dst) || isEreg(src) {
		c.emit(add2mod(0x40, dst, src))
	}
	c.emit(0x89, add2reg(0xC0, dst, src)) // mov32 dst, src
}

// emitMovsxReg models emit_movsx_reg (cpuv4 movsx).
func (c *ctx) emitMovsxReg(bits int, is64 bool, dst, src int) {
	if is64 {
		switch bits {
		case 8:
			c.emit(add2mod(0x48, src, dst), 0x0f, 0xbe, add2reg(0xC0, src, dst)) // movsbq dst, src
		case 16:
			c.emit(add2mod(0x48, src, dst), 0x0f, 0xbf, add2reg(0xC0, src, dst)) // movswq dst, src
		case 32:
			c.emit(add2mod(0x48, src, dst), 0x63, add2reg(0xC0, src, dst)) // movslq dst, src
		}
		return
	}
	switch bits {
	case 8:
		c.emit(add2mod(0x40, src, dst), 0x0f, 0xbe, add2reg(0xC0, src, dst)) // movsbl dst, src
	case 16:
		if isEreg(dst) || isEreg(src) {
			c.emit(add2mod(0x40, src, dst))
		}
		c.emit(add2mod(0x0f, src, dst), 0xbf, add2reg(0xC0, src, dst)) // movswl dst, src
	}
}

// emitMovImm32 models emit_mov_imm32.
func (c *ctx) emitMovImm32(signPropagate bool, dst int, imm uint32) {
	switch {
	case signPropagate && int32(imm) < 0:
		// 'mov %rax, imm32' sign extends imm32
		c.emit(add1mod(0x48, dst), 0xC7, add1reg(0xC0, dst))
		c.emit32(int32(imm))
	case imm == 0:
		// 'xor %eax, %eax' saves 3 bytes
		if isEreg(dst) {
			c.emit(add2mod(0x40, dst, dst))
		}
		c.emit(0x31, add2reg(0xC0, dst, dst))
	default:
		// mov %eax, imm32
		if isEreg(dst) {
			c.emit(add1mod(0x40, dst))
		}
		c.emit(add1reg(0xB8, dst))
		c.emit32(int32(imm))
	}
}

// emitMovImm64 models emit_mov_imm64 and reports whether it emitted movabs.
func (c *ctx) emitMovImm64(dst int, imm64 uint64) bool {
	switch {
	case isUimm32(imm64):
		c.emitMovImm32(false, dst, uint32(imm64))
	case c.v.movImm64Simm32 && isSimm32(int64(imm64)):
		c.emitMovImm32(true, dst, uint32(imm64))
	default:
		c.emit(add1mod(0x48, dst), add1reg(0xB8, dst)) // movabsq rax, imm64
		c.emit32(int32(uint32(imm64)))
		c.emit32(int32(uint32(imm64 >> 32)))
		return true
	}
	return false
}

// emitInsnSuffix models emit_insn_suffix: ModRM with a disp8 or disp32
// for *(ptr + off) and val.
func (c *ctx) emitInsnSuffix(ptr, val int, off int32) {
	if isImm8(int64(off)) {
		c.emit(add2reg(0x40, ptr, val), byte(off))
	} else {
		c.emit(add2reg(0x80, ptr, val))
		c.emit32(off)
	}
}

// emitLdx models emit_ldx: dst = *(size *)(src + off), zero-extended.
func (c *ctx) emitLdx(size uint8, dst, src int, off int32) {
	switch size {
	case sizeB:
		c.emit(add2mod(0x48, src, dst), 0x0F, 0xB6) // movzx rax, byte ptr [rax + off]
	case sizeH:
		c.emit(add2mod(0x48, src, dst), 0x0F, 0xB7) // movzx rax, word ptr [rax + off]
	case sizeW:
		if isEreg(dst) || isEreg(src) { // mov eax, dword ptr [rax + off]
			c.emit(add2mod(0x40, src, dst), 0x8B)
		} else {
			c.emit(0x8B)
		}
	case sizeDW:
		c.emit(add2mod(0x48, src, dst), 0x8B) // mov rax, qword ptr [rax + off]
	}
	c.emitInsnSuffix(src, dst, off)
}

// emitLdsx models emit_ldsx: dst = *(s8/s16/s32 *)(src + off).
func (c *ctx) emitLdsx(size uint8, dst, src int, off int32) {
	switch size {
	case sizeB:
		c.emit(add2mod(0x48, src, dst), 0x0F, 0xBE) // movsx rax, byte ptr [rax + off]
	case sizeH:
		c.emit(add2mod(0x48, src, dst), 0x0F, 0xBF) // movsx rax, word ptr [rax + off]
	case sizeW:
		c.emit(add2mod(0x48, src, dst), 0x63) // movsx rax, dword ptr [rax + off]
	}
	c.emitInsnSuffix(src, dst, off)
}

// emitStx models emit_stx: *(size *)(dst + off) = src.
func (c *ctx) emitStx(size uint8, dst, src int, off int32) {
	switch size {
	case sizeB:
		if isEreg(dst) || isEreg8l(src) { // mov byte ptr [rax + off], al
			c.emit(add2mod(0x40, dst, src), 0x88)
		} else {
			c.emit(0x88)
		}
	case sizeH:
		if isEreg(dst) || isEreg(src) { // mov word ptr [rax + off], ax
			c.emit(0x66, add2mod(0x40, dst, src), 0x89)
		} else {
			c.emit(0x66, 0x89)
		}
	case sizeW:
		if isEreg(dst) || isEreg(src) { // mov dword ptr [rax + off], eax
			c.emit(add2mod(0x40, dst, src), 0x89)
		} else {
			c.emit(0x89)
		}
	case sizeDW:
		c.emit(add2mod(0x48, dst, src), 0x89) // mov qword ptr [rax + off], rax
	}
	c.emitInsnSuffix(dst, src, off)
}
