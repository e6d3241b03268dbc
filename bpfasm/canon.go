// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"math"

	"github.com/cilium/ebpf/asm"
)

// canonInsn reads the most common instruction lines written exactly as
// FormatProgram prints them (one space around operators, none inside
// "(r10 - 8)"'s parentheses but around the sign, nothing after the last
// token), which is how generated programs and scenario files are written:
// ALU operations and moves, loads, stores, atomic adds, conditional jumps,
// gotos and exit. It works on local offsets with few calls; at a million
// lines fastInsn's token functions were most of the parse.
//
// Like fastInsn, ok is false for anything else (and the caller then tries
// fastInsn and the general path), and when ok is true the general path
// reads the line as the same instruction at the same column; the tokens
// it sees end where canonInsn's do, because every token canonInsn takes
// is followed by a space, the end of the line, or a byte that cannot
// continue it. None of these instructions carries metadata or a label.
// TestFastMatchesGeneral and FuzzFastLine check it with fastInsn.
func canonInsn(s string) (ins asm.Instruction, col int, ok bool) {
	i := skipBlank(s, 0)
	if i >= len(s) {
		return ins, 0, false
	}
	col = i + 1
	switch s[i] {
	case 'r', 'w':
		ins, ok = canonReg(s, i)
	case '*':
		ins, ok = canonStore(s, i)
	case 'i':
		ins, ok = canonCond(s, i)
	case 'g':
		if hasAt(s, i, "goto ") {
			var off int16
			if off, ok = canonOffset(s, i+5); ok {
				ins = asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource), Offset: off}
			}
		}
	case 'e':
		if s[i:] == "exit" {
			ins, ok = asm.Return(), true
		}
	case 'l':
		ins, ok = canonLock(s, i)
	}
	return ins, col, ok
}

// hasAt reports whether s has prefix p at i.
func hasAt(s string, i int, p string) bool {
	return len(s)-i >= len(p) && s[i:i+len(p)] == p
}

// canonRegAt reads a register name at i (as lineParser.reg accepts it)
// that the next byte ends; j is the offset after it.
func canonRegAt(s string, i int) (r asm.Register, w bool, j int, ok bool) {
	if i+1 >= len(s) || (s[i] != 'r' && s[i] != 'w') || !isDigit(s[i+1]) {
		return 0, false, 0, false
	}
	n := s[i+1] - '0'
	j = i + 2
	if j < len(s) && isDigit(s[j]) {
		if n != 1 || s[j] != '0' {
			return 0, false, 0, false
		}
		n, j = 10, j+1
	}
	if j < len(s) && isIdentChar(s[j]) {
		return 0, false, 0, false
	}
	return asm.Register(n), s[i] == 'w', j, true
}

// canonNum reads a number at i, optionally signed ("-5", "+3"), that the
// next byte ends (lineParser.number for decimal numbers of up to 19
// digits and hexadecimal ones of up to 16); j is the offset after it.
func canonNum(s string, i int) (mag uint64, neg, hex bool, j int, ok bool) {
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	if i >= len(s) || !isDigit(s[i]) {
		return 0, false, false, 0, false
	}
	j = i
	if s[i] == '0' && i+2 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X') {
		j = i + 2
		for ; j < len(s) && j-i <= 18; j++ {
			var d byte
			switch c := s[j]; {
			case c >= '0' && c <= '9':
				d = c - '0'
			case c >= 'a' && c <= 'f':
				d = c - 'a' + 10
			case c >= 'A' && c <= 'F':
				d = c - 'A' + 10
			default:
				goto hexEnd
			}
			mag = mag<<4 | uint64(d)
		}
	hexEnd:
		if j-i > 18 || j == i+2 || j < len(s) && isIdentChar(s[j]) {
			return 0, false, false, 0, false
		}
		return mag, neg, true, j, true
	}
	for ; j < len(s) && isDigit(s[j]); j++ {
		mag = mag*10 + uint64(s[j]-'0')
	}
	if j-i > 19 || j < len(s) && isIdentChar(s[j]) {
		return 0, false, false, 0, false
	}
	return mag, neg, false, j, true
}

// canonOffset reads a jump offset "+N" or "-N" at i, the rest of the line.
func canonOffset(s string, i int) (int16, bool) {
	if i >= len(s) || (s[i] != '+' && s[i] != '-') {
		return 0, false
	}
	mag, neg, _, j, ok := canonNum(s, i)
	if !ok || j != len(s) {
		return 0, false
	}
	return off16Of(mag, neg)
}

// off16Of is lineParser.off16's range check.
func off16Of(mag uint64, neg bool) (int16, bool) {
	switch {
	case neg && mag <= 1<<15:
		return int16(-int64(mag)), true
	case !neg && mag <= math.MaxInt16:
		return int16(mag), true
	}
	return 0, false
}

// canonMem reads "(u32 *)(r10 - 8)" or "(u32 *)(r1 + 0)" at i (s8, s16
// and s32 too when signed is set); j is the offset after it.
func canonMem(s string, i int, signed bool) (size asm.Size, sx bool, r asm.Register, off int16, j int, ok bool) {
	if i+4 > len(s) || s[i] != '(' {
		return
	}
	switch s[i+1] {
	case 'u':
	case 's':
		if !signed {
			return
		}
		sx = true
	default:
		return
	}
	switch {
	case s[i+2] == '8':
		size, j = asm.Byte, i+3
	case s[i+2] == '1' && s[i+3] == '6':
		size, j = asm.Half, i+4
	case s[i+2] == '3' && s[i+3] == '2':
		size, j = asm.Word, i+4
	case s[i+2] == '6' && s[i+3] == '4' && !sx:
		size, j = asm.DWord, i+4
	default:
		return
	}
	if !hasAt(s, j, " *)(") {
		return
	}
	r, w, j, ok := canonRegAt(s, j+4)
	if !ok || w || j+3 >= len(s) || s[j] != ' ' || (s[j+1] != '-' && s[j+1] != '+') || s[j+2] != ' ' || !isDigit(s[j+3]) {
		return 0, false, 0, 0, 0, false
	}
	neg := s[j+1] == '-'
	mag, _, _, j, ok := canonNum(s, j+3)
	if !ok || j >= len(s) || s[j] != ')' {
		return 0, false, 0, 0, 0, false
	}
	if off, ok = off16Of(mag, neg); !ok {
		return 0, false, 0, 0, 0, false
	}
	return size, sx, r, off, j + 1, true
}

// canonOp reads an operator at i followed by a space: the operator and the
// offset after the space.
func canonOp(s string, i int) (string, int, bool) {
	j := i
	for j < len(s) && s[j] != ' ' {
		j++
	}
	if j == i || j+1 >= len(s) {
		return "", 0, false
	}
	return s[i:j], j + 1, true
}

// canonReg reads lines that start with a register at i.
func canonReg(s string, i int) (ins asm.Instruction, ok bool) {
	dst, dw, j, ok := canonRegAt(s, i)
	if !ok || j >= len(s) || s[j] != ' ' {
		return ins, false
	}
	op, k, ok := canonOp(s, j+1)
	if !ok {
		return ins, false
	}
	cls := aluClass(dw)
	if op != "=" {
		aop, ok := aluOpOf(op)
		if !ok {
			return ins, false
		}
		ins.Dst = dst
		if src, sw, e, ok := canonRegAt(s, k); ok {
			if sw != dw || e != len(s) {
				return ins, false
			}
			ins.OpCode = asm.OpCode(cls).SetALUOp(aop).SetSource(asm.RegSource)
			ins.Src = src
			return ins, true
		}
		mag, neg, hex, e, ok := canonNum(s, k)
		if !ok || e != len(s) {
			return ins, false
		}
		imm, ok := imm32Of(mag, neg, hex, dw)
		if !ok {
			return ins, false
		}
		ins.OpCode = asm.OpCode(cls).SetALUOp(aop).SetSource(asm.ImmSource)
		ins.Constant = imm
		return ins, true
	}

	// dst = ...
	switch c := s[k]; {
	case c == 'r' || c == 'w':
		src, sw, e, ok := canonRegAt(s, k)
		if !ok || sw != dw || e != len(s) {
			return ins, false
		}
		return asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(asm.Mov).SetSource(asm.RegSource), Dst: dst, Src: src}, true
	case c == '-' && k+1 < len(s) && (s[k+1] == 'r' || s[k+1] == 'w'):
		// Negation: r1 = -r1.
		src, sw, e, ok := canonRegAt(s, k+1)
		if !ok || sw != dw || src != dst || e != len(s) {
			return ins, false
		}
		return asm.Instruction{OpCode: asm.OpCode(cls).SetALUOp(asm.Neg).SetSource(asm.ImmSource), Dst: dst}, true
	case c == '-' || isDigit(c):
		mag, neg, hex, e, ok := canonNum(s, k)
		if !ok || neg && mag > 1<<63 {
			return ins, false
		}
		v := int64(mag)
		if neg {
			v = int64(-mag)
		}
		switch {
		case e == len(s):
		case s[e:] == " ll" && !dw:
			return asm.LoadImm(dst, v, asm.DWord), true
		default:
			return ins, false
		}
		if !dw {
			if (neg && mag <= 1<<31) || (!neg && mag <= math.MaxInt32) {
				return asm.Mov.Imm(dst, int32(v)), true
			}
			return asm.LoadImm(dst, v, asm.DWord), true
		}
		imm, ok := imm32Of(mag, neg, hex, true)
		if !ok {
			return ins, false
		}
		return asm.Mov.Imm32(dst, int32(imm)), true
	case c == '*':
		size, sx, src, off, e, ok := canonMem(s, k+1, true)
		if !ok || e != len(s) {
			return ins, false
		}
		if sx {
			return asm.LoadMemSX(dst, src, off, size), true
		}
		return asm.LoadMem(dst, src, off, size), true
	case c == 'l' || c == 'b':
		// Endianness: r1 = le16 r1, r1 = bswap32 r1.
		name, e, ok := canonOp(s, k)
		if !ok {
			return ins, false
		}
		en, ok := endianOps[name]
		if !ok {
			return ins, false
		}
		src, _, e, ok := canonRegAt(s, e)
		if !ok || src != dst || e != len(s) {
			return ins, false
		}
		op := asm.OpCode(en.cls).SetALUOp(asm.Swap)
		if en.cls == asm.ALUClass {
			op = op.SetSource(asm.Source(en.endian))
		}
		return asm.Instruction{OpCode: op, Dst: dst, Constant: en.bits}, true
	}
	return ins, false
}

// canonStore reads "*(u32 *)(r10 - 8) = r1" and "*(u32 *)(r10 - 8) = 5".
func canonStore(s string, i int) (ins asm.Instruction, ok bool) {
	size, _, dst, off, j, ok := canonMem(s, i+1, false)
	if !ok || !hasAt(s, j, " = ") {
		return ins, false
	}
	j += 3
	if src, _, e, ok := canonRegAt(s, j); ok {
		if e != len(s) {
			return ins, false
		}
		return asm.StoreMem(dst, off, src, size), true
	}
	mag, neg, hex, e, ok := canonNum(s, j)
	if !ok || e != len(s) {
		return ins, false
	}
	imm, ok := imm32Of(mag, neg, hex, size != asm.DWord)
	if !ok {
		return ins, false
	}
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: imm}, true
}

// canonLock reads "lock *(u64 *)(r10 - 8) += r1".
func canonLock(s string, i int) (ins asm.Instruction, ok bool) {
	if !hasAt(s, i, "lock *") {
		return ins, false
	}
	size, _, dst, off, j, ok := canonMem(s, i+6, false)
	if !ok || j+4 >= len(s) || s[j] != ' ' || s[j+2] != '=' || s[j+3] != ' ' {
		return ins, false
	}
	var aop asm.AtomicOp
	switch s[j+1] {
	case '+':
		aop = asm.AddAtomic
	case '&':
		aop = asm.AndAtomic
	case '|':
		aop = asm.OrAtomic
	case '^':
		aop = asm.XorAtomic
	default:
		return ins, false
	}
	src, _, e, ok := canonRegAt(s, j+4)
	if !ok || e != len(s) {
		return ins, false
	}
	op := aop.OpCode(size)
	if op == asm.InvalidOpCode {
		return ins, false
	}
	return asm.Instruction{OpCode: op, Dst: dst, Src: src, Offset: off}, true
}

// canonCond reads "if r1 OP r2 goto +N" and "if r1 OP IMM goto -N".
func canonCond(s string, i int) (ins asm.Instruction, ok bool) {
	if !hasAt(s, i, "if ") {
		return ins, false
	}
	dst, dw, j, ok := canonRegAt(s, i+3)
	if !ok || j >= len(s) || s[j] != ' ' {
		return ins, false
	}
	op, k, ok := canonOp(s, j+1)
	if !ok {
		return ins, false
	}
	jop, ok := jumpOpOf(op)
	if !ok {
		return ins, false
	}
	cls := asm.JumpClass
	if dw {
		cls = asm.Jump32Class
	}
	ins.Dst = dst
	var e int
	if src, sw, end, ok := canonRegAt(s, k); ok {
		if sw != dw {
			return ins, false
		}
		ins.OpCode = asm.OpCode(cls).SetJumpOp(jop).SetSource(asm.RegSource)
		ins.Src, e = src, end
	} else {
		mag, neg, hex, end, ok := canonNum(s, k)
		if !ok {
			return ins, false
		}
		imm, ok := imm32Of(mag, neg, hex, true)
		if !ok {
			return ins, false
		}
		ins.OpCode = asm.OpCode(cls).SetJumpOp(jop).SetSource(asm.ImmSource)
		ins.Constant, e = imm, end
	}
	if !hasAt(s, e, " goto ") {
		return ins, false
	}
	if ins.Offset, ok = canonOffset(s, e+6); !ok {
		return ins, false
	}
	return ins, true
}
