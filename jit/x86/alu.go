// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"fmt"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// movPercpuAddr translates the verifier's per-CPU address mov (6.8+,
// insn_is_mov_percpu_addr): dst = src + this CPU's offset, read from
// this_cpu_off through gs.
func (c *ctx) movPercpuAddr(in *kernel.Insn, dst, src int) error {
	c.emitMov(dst, src) // mov <dst>, <src> (if necessary)
	if c.l.Config["CONFIG_SMP"] == "n" {
		return nil
	}
	sym, ok := symbolAddr(c.l, c.v, "this_cpu_off")
	if !ok {
		return c.errorf(in, "per-CPU address: this_cpu_off has no address (name it in the placement's symbols)")
	}
	at := c.pos()
	c.emit2(0x65, add1mod(0x48, dst))          // add <dst>, gs:[<off>]
	c.emit3(0x03, add2reg(0x04, 0, dst), 0x25) // ModRM [disp32], SIB no base
	c.emit32(int32(uint32(sym)))
	c.reloc(jit.Reloc{Offset: at, Field: at + 5, Size: 4, Kind: "disp32", Target: sym, What: "kernel", Name: "this_cpu_off"})
	c.note(at, "per-CPU address: + this CPU's offset (gs:this_cpu_off)")
	return nil
}

// alu translates the ALU and ALU64 classes.
func (c *ctx) alu(in *kernel.Insn) error {
	r := &in.Raw
	op := r.Op()
	is64 := r.Class() == kernel.ClassALU64
	x := r.SrcX()
	dst, src := int(r.Dst), int(r.Src)
	imm := r.Imm
	if r.Off != 0 {
		switch {
		case !c.v.cpuv4:
			return c.unknown(in, fmt.Sprintf("off=%d: movsx/sdiv/smod are cpuv4, Linux 6.6+; this verifier rejects the reserved field", r.Off))
		case op == kernel.OpMOV && x, (op == kernel.OpDIV || op == kernel.OpMOD) && r.Off == 1:
		default:
			return c.unknown(in, fmt.Sprintf("off=%d is reserved for this operation", r.Off))
		}
	}
	switch op >> 4 { // dense: a jump table, not a search over op
	case kernel.OpADD >> 4, kernel.OpSUB >> 4, kernel.OpAND >> 4, kernel.OpOR >> 4, kernel.OpXOR >> 4:
		if x {
			c.maybeEmitMod(dst, src, is64)
			c.emit2(aluOpcode(op), add2reg(0xC0, dst, src)) // add/sub/and/or/xor dst, src
			return nil
		}
		c.maybeEmit1Mod(dst, is64)
		// b3 holds the 'normal' opcode extension, b2 the short form only
		// valid when dst is eax/rax.
		var b2, b3 byte
		switch op {
		case kernel.OpADD:
			b3, b2 = 0xC0, 0x05
		case kernel.OpSUB:
			b3, b2 = 0xE8, 0x2D
		case kernel.OpAND:
			b3, b2 = 0xE0, 0x25
		case kernel.OpOR:
			b3, b2 = 0xC8, 0x0D
		case kernel.OpXOR:
			b3, b2 = 0xF0, 0x35
		}
		switch {
		case isImm8(int64(imm)):
			c.emit3(0x83, add1reg(b3, dst), byte(imm)) // op dst, imm8
		case dst == r0:
			c.emit1(b2) // op eax, imm32
			c.emit32(imm)
		default:
			c.emit2(0x81, add1reg(b3, dst)) // op dst, imm32
			c.emit32(imm)
		}
		return nil

	case kernel.OpMOV >> 4:
		if !x {
			c.emitMovImm32(is64, dst, uint32(imm))
			return nil
		}
		if is64 && c.v.cpuv4 {
			if r.Off == kernel.AddrSpaceCast && imm == 1<<16 {
				return c.errorf(in, "addr_space_cast to the user address space: arena programs are not modelled")
			}
			if r.Off == kernel.AddrPercpu {
				return c.movPercpuAddr(in, dst, src)
			}
		}
		if r.Off == 0 {
			c.emitMovReg(is64, dst, src)
		} else {
			c.emitMovsxReg(int(r.Off), is64, dst, src)
		}
		return nil

	case kernel.OpNEG >> 4:
		c.maybeEmit1Mod(dst, is64)
		c.emit2(0xF7, add1reg(0xD8, dst)) // neg dst
		return nil

	case kernel.OpDIV >> 4, kernel.OpMOD >> 4:
		if !c.v.divNoAux {
			c.div510(in, is64, dst, src, x)
			return nil
		}
		c.div(in, is64, dst, src, x)
		return nil

	case kernel.OpMUL >> 4:
		if !c.v.imul {
			c.mul510(is64, dst, src, x, imm)
			return nil
		}
		if x {
			c.maybeEmitMod(src, dst, is64)
			c.emit3(0x0F, 0xAF, add2reg(0xC0, src, dst)) // imul dst, src
			return nil
		}
		c.maybeEmitMod(dst, dst, is64)
		if isImm8(int64(imm)) {
			c.emit3(0x6B, add2reg(0xC0, dst, dst), byte(imm)) // imul dst, dst, imm8
		} else {
			c.emit2(0x69, add2reg(0xC0, dst, dst)) // imul dst, dst, imm32
			c.emit32(imm)
		}
		return nil

	case kernel.OpLSH >> 4, kernel.OpRSH >> 4, kernel.OpARSH >> 4:
		if x {
			c.shiftX(in, is64, dst, src)
			return nil
		}
		c.maybeEmit1Mod(dst, is64)
		b3 := aluOpcode(op)
		if imm == 1 {
			c.emit2(0xD1, add1reg(b3, dst)) // shl/shr/sar dst, 1
		} else {
			c.emit3(0xC1, add1reg(b3, dst), byte(imm)) // shl/shr/sar dst, imm8
		}
		return nil

	case kernel.OpEND >> 4:
		return c.end(in, dst, imm)
	}
	return c.unknown(in, "")
}

// div emits BPF_DIV/BPF_MOD as 5.15+ does: rax and rdx saved only when not
// the destination, the divisor in its own register or r11, and (cpuv4)
// cdq/cqo + idiv for the signed forms.
func (c *ctx) div(in *kernel.Insn, is64 bool, dst, src int, x bool) {
	r := &in.Raw
	if dst != r0 {
		c.emit1(0x50) // push rax
	}
	if dst != r3 {
		c.emit1(0x52) // push rdx
	}
	if x {
		if src == r0 || src == r3 {
			c.emitMov(auxReg, src) // mov r11, src_reg
			src = auxReg
		}
	} else {
		c.emit3(0x49, 0xC7, 0xC3) // mov r11, imm32
		c.emit32(r.Imm)
		src = auxReg
	}
	if dst != r0 {
		c.emitMovReg(is64, r0, dst) // mov rax, dst_reg
	}
	if r.Off == 0 {
		c.emit2(0x31, 0xd2) // xor edx, edx
		c.maybeEmit1Mod(src, is64)
		c.emit2(0xF7, add1reg(0xF0, src)) // div src_reg
	} else {
		if is64 {
			c.emit2(0x48, 0x99) // cqo
		} else {
			c.emit1(0x99) // cdq
		}
		c.maybeEmit1Mod(src, is64)
		c.emit2(0xF7, add1reg(0xF8, src)) // idiv src_reg
	}
	if r.Op() == kernel.OpMOD && dst != r3 {
		c.emitMovReg(is64, dst, r3) // mov dst_reg, rdx
	} else if r.Op() == kernel.OpDIV && dst != r0 {
		c.emitMovReg(is64, dst, r0) // mov dst_reg, rax
	}
	if dst != r3 {
		c.emit1(0x5A) // pop rdx
	}
	if dst != r0 {
		c.emit1(0x58) // pop rax
	}
}

// div510 emits BPF_DIV/BPF_MOD as 5.10 does: everything through r11.
func (c *ctx) div510(in *kernel.Insn, is64 bool, dst, src int, x bool) {
	c.emit1(0x50) // push rax
	c.emit1(0x52) // push rdx
	if x {
		c.emitMov(auxReg, src) // mov r11, src_reg
	} else {
		c.emit3(0x49, 0xC7, 0xC3) // mov r11, imm32
		c.emit32(in.Raw.Imm)
	}
	c.emitMov(r0, dst)  // mov rax, dst_reg
	c.emit2(0x31, 0xd2) // xor edx, edx
	if is64 {
		c.emit3(0x49, 0xF7, 0xF3) // div r11
	} else {
		c.emit3(0x41, 0xF7, 0xF3) // div r11d
	}
	if in.Raw.Op() == kernel.OpMOD {
		c.emit3(0x49, 0x89, 0xD3) // mov r11, rdx
	} else {
		c.emit3(0x49, 0x89, 0xC3) // mov r11, rax
	}
	c.emit1(0x5A)          // pop rdx
	c.emit1(0x58)          // pop rax
	c.emitMov(dst, auxReg) // mov dst_reg, r11
}

// mul510 emits BPF_MUL as 5.10 does: mul r11 with rax/rdx saved.
func (c *ctx) mul510(is64 bool, dst, src int, x bool, imm int32) {
	if dst != r0 {
		c.emit1(0x50) // push rax
	}
	if dst != r3 {
		c.emit1(0x52) // push rdx
	}
	c.emitMov(auxReg, dst) // mov r11, dst_reg
	if x {
		c.emitMovReg(is64, r0, src) // mov rax, src_reg
	} else {
		c.emitMovImm32(is64, r0, uint32(imm)) // mov rax, imm32
	}
	if is64 {
		c.emit1(add1mod(0x48, auxReg))
	} else if isEreg(auxReg) {
		c.emit1(add1mod(0x40, auxReg))
	}
	c.emit2(0xF7, add1reg(0xE0, auxReg)) // mul(q) r11
	if dst != r3 {
		c.emit1(0x5A) // pop rdx
	}
	if dst != r0 {
		c.emitMov(dst, r0) // mov dst_reg, rax
		c.emit1(0x58)      // pop rax
	}
}

// shiftX emits a shift by a register: shlx/shrx/sarx with BMI2 (6.3+),
// else through cl, with rcx saved or dst moved to r11 as each version does.
func (c *ctx) shiftX(in *kernel.Insn, is64 bool, dst, src int) {
	op := in.Raw.Op()
	b3 := aluOpcode(op)
	if c.v.shiftV2 {
		// BMI2 shifts aren't better when the shift count is already in rcx.
		if c.cfg.BMI2 && src != r4 {
			var pp byte
			switch op {
			case kernel.OpLSH:
				pp = 1 // prefix 0x66: shlx
			case kernel.OpRSH:
				pp = 3 // prefix 0xf2: shrx
			case kernel.OpARSH:
				pp = 2 // prefix 0xf3: sarx
			}
			c.emitShiftx(dst, src, is64, pp) // shlx/shrx/sarx dst, dst, src
			return
		}
		if src != r4 {
			if dst == r4 {
				c.emitMov(auxReg, dst) // mov r11, dst_reg
				dst = auxReg
			} else {
				c.emit1(0x51) // push rcx
			}
			c.emitMov(r4, src) // mov rcx, src_reg
		}
		c.maybeEmit1Mod(dst, is64)
		c.emit2(0xD3, add1reg(b3, dst)) // shl/shr/sar dst, cl
		if src != r4 {
			if int(in.Raw.Dst) == r4 {
				c.emitMov(r4, auxReg) // mov dst_reg, r11
			} else {
				c.emit1(0x59) // pop rcx
			}
		}
		return
	}
	// 5.10 - 6.1: check for the bad case when dst_reg == rcx.
	if dst == r4 {
		c.emitMov(auxReg, dst) // mov r11, dst_reg
		dst = auxReg
	}
	if src != r4 {
		c.emit1(0x51)      // push rcx
		c.emitMov(r4, src) // mov rcx, src_reg
	}
	c.maybeEmit1Mod(dst, is64)
	c.emit2(0xD3, add1reg(b3, dst)) // shl/shr/sar dst, cl
	if src != r4 {
		c.emit1(0x59) // pop rcx
	}
	if int(in.Raw.Dst) == r4 {
		c.emitMov(r4, auxReg) // mov dst_reg, r11
	}
}

// emitShiftx models emit_shiftx with emit_3vex: a VEX-encoded BMI2 shift
// "op dst, dst, src" (map 0F38, opcode F7, pp selects shlx/sarx/shrx).
func (c *ctx) emitShiftx(dst, src int, is64 bool, pp byte) {
	rx := isEreg(dst)
	const m = 2 // escape code 0f38
	vvvv := reg2hex[src]
	if isEreg(src) {
		vvvv |= 8
	}
	var b1 byte = m
	if !rx {
		b1 |= 0x80 // ~R
	}
	b1 |= 0x40 // ~X
	if !rx {
		b1 |= 0x20 // ~B
	}
	var b2 byte
	if is64 {
		b2 = 0x80 // W
	}
	b2 |= (^vvvv & 0xf) << 3
	b2 |= pp
	c.emit3(0xc4, b1, b2)                  // 3-byte VEX prefix
	c.emit2(0xf7, add2reg(0xC0, dst, dst)) // shlx/shrx/sarx
}

// end translates BPF_END: byte swaps (to_be, and the cpuv4 unconditional
// bswap) and the zero-extending to_le.
func (c *ctx) end(in *kernel.Insn, dst int, imm int32) error {
	r := &in.Raw
	swap := r.Class() == kernel.ClassALU && r.SrcX()
	switch {
	case swap:
	case r.Class() == kernel.ClassALU64 && !r.SrcX():
		if !c.v.cpuv4 {
			return c.unknown(in, "bswap is cpuv4, Linux 6.6+")
		}
		swap = true
	case r.Class() == kernel.ClassALU:
	default:
		return c.unknown(in, "")
	}
	if swap {
		switch imm {
		case 16:
			// ror %ax, 8 swaps the lower 2 bytes, movzwl zero-extends.
			c.emit1(0x66)
			if isEreg(dst) {
				c.emit1(0x41)
			}
			c.emit3(0xC1, add1reg(0xC8, dst), 8) // ror dst16, 8
			if isEreg(dst) {
				c.emit3(0x45, 0x0F, 0xB7)
			} else {
				c.emit2(0x0F, 0xB7)
			}
			c.emit1(add2reg(0xC0, dst, dst)) // movzwl dst, dst16
		case 32:
			if isEreg(dst) {
				c.emit2(0x41, 0x0F)
			} else {
				c.emit1(0x0F)
			}
			c.emit1(add1reg(0xC8, dst)) // bswap eax
		case 64:
			c.emit3(add1mod(0x48, dst), 0x0F, add1reg(0xC8, dst)) // bswap rax
		default:
			return c.errorf(in, "invalid byte swap width %d", imm)
		}
		return nil
	}
	switch imm {
	case 16:
		if isEreg(dst) {
			c.emit3(0x45, 0x0F, 0xB7)
		} else {
			c.emit2(0x0F, 0xB7)
		}
		c.emit1(add2reg(0xC0, dst, dst)) // movzwl eax, ax
	case 32:
		if isEreg(dst) {
			c.emit1(0x45)
		}
		c.emit2(0x89, add2reg(0xC0, dst, dst)) // mov eax, eax
	case 64:
		// nop
	default:
		return c.errorf(in, "invalid endianness width %d", imm)
	}
	return nil
}
