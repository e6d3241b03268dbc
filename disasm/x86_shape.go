// SPDX-License-Identifier: GPL-2.0-only

package disasm

// x86 instruction shapes without decoding: the length, the kind of
// control flow and the target of a relative branch of the instructions
// the eBPF JIT emits most (ALU, moves, loads and stores, shifts, jumps,
// calls, push/pop), read from a table of opcodes as the length decoders
// of debuggers do (Intel SDM vol. 2, Appendix A, "Opcode Map"; the
// ModRM/SIB displacement rules of §2.1.5). Anything else (most prefixes,
// VEX, the 0F 38/3A maps, system instructions) is left to the full
// decoder. TestX86ShapeExhaustive holds every encoding the table accepts,
// over every ModRM, the SIBs that matter, both operand sizes and every REX
// prefix, to the full decoder: the same length, kind and target, and the
// full decoder decodes it.

const (
	xsOK      uint16 = 1 << iota
	xsModRM          // a ModRM byte (and SIB, displacement) follows
	xsImm8           // an 8-bit immediate
	xsImmZ           // a 16-bit immediate with 66, else 32-bit
	xsImmV           // B8+r: 64-bit with REX.W, else as xsImmZ
	xsRel8           // an 8-bit branch displacement
	xsRel32          // a 32-bit branch displacement
	xsNoMod3         // ModRM.mod == 3 is not an instruction (lea)
	xsNo66           // 66 makes it another instruction (or none): full decoder
	xsTestImm        // F6/F7: /0 and /1 (test) take an immediate
)

type x86ShapeOp struct {
	flags uint16
	// regs is the set of ModRM.reg values that are instructions (for
	// xsModRM entries; 0 means all).
	regs uint8
	kind BranchKind
}

var x86ShapeOne, x86ShapeTwo = x86ShapeTables()

func x86ShapeTables() (one, two [256]x86ShapeOp) {
	set := func(t *[256]x86ShapeOp, lo, hi int, flags uint16) {
		for b := lo; b <= hi; b++ {
			t[b] = x86ShapeOp{flags: xsOK | flags}
		}
	}
	for b := 0; b < 0x40; b += 8 {
		set(&one, b, b+3, xsModRM) // add, or, adc, sbb, and, sub, xor, cmp
		set(&one, b+4, b+4, xsImm8)
		set(&one, b+5, b+5, xsImmZ)
	}
	set(&one, 0x50, 0x5f, xsNo66) // push, pop
	set(&one, 0x63, 0x63, xsModRM|xsNo66)
	set(&one, 0x69, 0x69, xsModRM|xsImmZ)
	set(&one, 0x6b, 0x6b, xsModRM|xsImm8)
	set(&one, 0x70, 0x7f, xsRel8|xsNo66)
	set(&one, 0x80, 0x80, xsModRM|xsImm8)
	set(&one, 0x81, 0x81, xsModRM|xsImmZ)
	set(&one, 0x83, 0x83, xsModRM|xsImm8)
	set(&one, 0x84, 0x8b, xsModRM) // test, xchg, mov
	set(&one, 0x8d, 0x8d, xsModRM|xsNoMod3)
	set(&one, 0x90, 0x90, xsNo66)
	set(&one, 0x98, 0x99, 0) // cltq, cqto...
	set(&one, 0xa8, 0xa8, xsImm8)
	set(&one, 0xa9, 0xa9, xsImmZ)
	set(&one, 0xb0, 0xb7, xsImm8)
	set(&one, 0xb8, 0xbf, xsImmV)
	set(&one, 0xc0, 0xc1, xsModRM|xsImm8)
	set(&one, 0xc3, 0xc3, xsNo66)
	set(&one, 0xc6, 0xc6, xsModRM|xsImm8)
	set(&one, 0xc7, 0xc7, xsModRM|xsImmZ)
	one[0xc6].regs, one[0xc7].regs = 1, 1 // mov $imm (C6/C7 /0)
	set(&one, 0xc9, 0xc9, xsNo66)
	set(&one, 0xcc, 0xcc, xsNo66)
	set(&one, 0xd0, 0xd3, xsModRM) // shifts by 1 and %cl
	set(&one, 0xe8, 0xe9, xsRel32|xsNo66)
	set(&one, 0xeb, 0xeb, xsRel8|xsNo66)
	set(&one, 0xf6, 0xf7, xsModRM|xsTestImm)
	set(&one, 0xff, 0xff, xsModRM|xsNo66)
	one[0xff].regs = 1<<0 | 1<<1 | 1<<2 | 1<<4 | 1<<6 // inc, dec, call*, jmp*, push
	for b := 0x70; b <= 0x7f; b++ {
		one[b].kind = CondJump
	}
	one[0xc3].kind = Return
	one[0xe8].kind = Call
	one[0xe9].kind, one[0xeb].kind = Jump, Jump

	set(&two, 0x0b, 0x0b, xsNo66)         // ud2
	set(&two, 0x1f, 0x1f, xsModRM|xsNo66) // nopl
	two[0x1f].regs = 1                    // (0F 1F /0; the others are hints)
	set(&two, 0x40, 0x4f, xsModRM|xsNo66) // cmovcc
	set(&two, 0x80, 0x8f, xsRel32|xsNo66)
	set(&two, 0x90, 0x9f, xsModRM|xsNo66) // setcc
	set(&two, 0xaf, 0xaf, xsModRM|xsNo66) // imul
	set(&two, 0xb6, 0xb7, xsModRM|xsNo66) // movzb, movzw
	set(&two, 0xbe, 0xbf, xsModRM|xsNo66) // movsb, movsw
	set(&two, 0xc8, 0xcf, xsNo66)         // bswap
	for b := 0x80; b <= 0x8f; b++ {
		two[b].kind = CondJump
	}
	return one, two
}

// x86Shape returns the length, control-flow kind and, for a relative
// branch, the target of the instruction at the start of code (found at
// pc), when the table knows its encoding; ok is false otherwise, and for
// code that ends before the instruction does.
func x86Shape(code []byte, pc uint64) (n int, kind BranchKind, target uint64, hasTarget, ok bool) {
	i := 0
	p66 := false
	if len(code) > 0 && code[0] == 0x66 {
		p66 = true
		i++
	}
	var rex byte
	if i < len(code) && code[i]&0xf0 == 0x40 {
		rex = code[i]
		i++
	}
	if i >= len(code) {
		return
	}
	op := code[i]
	i++
	var e x86ShapeOp
	if op == 0x0f {
		if i >= len(code) {
			return
		}
		e = x86ShapeTwo[code[i]]
		i++
	} else {
		e = x86ShapeOne[op]
	}
	if e.flags&xsOK == 0 || p66 && e.flags&xsNo66 != 0 {
		return
	}
	kind = e.kind
	z := 4 // the size of a z immediate
	if p66 && rex&8 == 0 {
		z = 2 // (REX.W wins over 66)
	}
	if e.flags&xsModRM != 0 {
		if i >= len(code) {
			return
		}
		m := code[i]
		i++
		mod, reg, rm := m>>6, m>>3&7, m&7
		if e.regs != 0 && e.regs&(1<<reg) == 0 {
			return
		}
		if op == 0xff {
			switch reg {
			case 2:
				kind = Call
			case 4:
				kind = IndirectJump
			}
		}
		if mod == 3 {
			if e.flags&xsNoMod3 != 0 {
				return
			}
		} else {
			if rm == 4 {
				if i >= len(code) {
					return
				}
				if mod == 0 && code[i]&7 == 5 {
					i += 4 // no base: disp32
				}
				i++
			} else if mod == 0 && rm == 5 {
				i += 4 // RIP-relative
			}
			switch mod {
			case 1:
				i++
			case 2:
				i += 4
			}
		}
		if e.flags&xsTestImm != 0 && reg < 2 {
			if op == 0xf6 {
				i++
			} else {
				i += z
			}
		}
	}
	switch {
	case e.flags&xsImm8 != 0:
		i++
	case e.flags&xsImmZ != 0:
		i += z
	case e.flags&xsImmV != 0:
		if rex&8 != 0 {
			i += 8
		} else {
			i += z
		}
	case e.flags&xsRel8 != 0:
		if i+1 > len(code) {
			return
		}
		target, hasTarget = pc+uint64(i+1)+uint64(int64(int8(code[i]))), true
		i++
	case e.flags&xsRel32 != 0:
		if i+4 > len(code) {
			return
		}
		rel := int32(uint32(code[i]) | uint32(code[i+1])<<8 | uint32(code[i+2])<<16 | uint32(code[i+3])<<24)
		target, hasTarget = pc+uint64(i+4)+uint64(int64(rel)), true
		i += 4
	}
	if i > len(code) || i > 15 {
		return 0, None, 0, false, false
	}
	return i, kind, target, hasTarget, true
}
