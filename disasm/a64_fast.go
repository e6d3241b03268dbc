// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"strconv"
	"strings"
)

// textArena hands out the texts of a listing's lines from large shared
// blocks instead of one allocation each: a million-instruction listing
// has hundreds of thousands of texts that are not in the decode cache
// (branches by every distance, constants). A strings.Builder never changes
// what it has written, so the strings sliced from it stay valid when it
// grows or is replaced.
type textArena struct {
	b strings.Builder
}

const textArenaBlock = 64 << 10

// str returns b as a string kept in the arena.
func (a *textArena) str(b []byte) string {
	if a.b.Cap()-a.b.Len() < len(b) {
		a.b = strings.Builder{}
		a.b.Grow(max(len(b), textArenaBlock))
	}
	start := a.b.Len()
	a.b.Write(b)
	return a.b.String()[start:]
}

// a64CondBranches are the B.cond mnemonics as objdump 2.40 prints them.
var a64CondBranches = [16]string{"b.eq", "b.ne", "b.cs", "b.cc", "b.mi", "b.pl", "b.vs", "b.vc", "b.hi", "b.ls", "b.ge", "b.lt", "b.gt", "b.le", "b.al", "b.nv"}

// appendA64Branch prints B, BL and B.cond (not BC.cond) as DecodeA64 does
// ("b.ne 0xffff800008001234"), without going through x/arch: every
// distance is a new encoding, so branches are most of what a listing's
// decode cache would miss. It appends the text to b and returns the
// mnemonic, kind and target; ok is false for other words.
func appendA64Branch(b []byte, w uint32, pc uint64) (out []byte, op string, kind BranchKind, target uint64, ok bool) {
	switch {
	case w&0xfc000000 == 0x14000000:
		op, kind = "b", Jump
	case w&0xfc000000 == 0x94000000:
		op, kind = "bl", Call
	case w&0xff000010 == 0x54000000:
		op, kind = a64CondBranches[w&15], CondJump
	default:
		return b, "", None, 0, false
	}
	target, _ = a64Target(w, pc)
	b = append(b, op...)
	b = append(b, " 0x"...)
	b = strconv.AppendUint(b, target, 16)
	return b, op, kind, target, true
}

// appendA64MoveWide is a64MoveWide appending its text to b.
func appendA64MoveWide(b []byte, w uint32) (out []byte, op string, ok bool) {
	if w&0x1f800000 != 0x12800000 {
		return b, "", false
	}
	sf := w>>31 != 0
	opc := w >> 29 & 3
	hw := w >> 21 & 3
	imm := uint64(w >> 5 & 0xffff)
	rd := w & 31
	if opc == 1 || (!sf && hw > 1) {
		return b, "", false
	}
	shift := 16 * hw
	reg := func(b []byte) []byte {
		switch {
		case rd == 31 && sf:
			return append(b, "xzr"...)
		case rd == 31:
			return append(b, "wzr"...)
		case sf:
			b = append(b, 'x')
		default:
			b = append(b, 'w')
		}
		return strconv.AppendUint(b, uint64(rd), 10)
	}
	explicit := func(op string) ([]byte, string, bool) {
		b = append(b, op...)
		b = append(b, ' ')
		b = reg(b)
		b = append(b, ", #0x"...)
		b = strconv.AppendUint(b, imm, 16)
		if shift != 0 {
			b = append(b, ", lsl #"...)
			b = strconv.AppendUint(b, uint64(shift), 10)
		}
		return b, op, true
	}
	var v uint64
	switch opc {
	case 2: // MOVZ
		if imm == 0 && hw != 0 {
			return explicit("movz")
		}
		v = imm << shift
	case 0: // MOVN
		if (imm == 0 && hw != 0) || (!sf && imm == 0xffff) {
			return explicit("movn")
		}
		v = ^(imm << shift)
		if !sf {
			v &= 0xffffffff
		}
	default:
		return explicit("movk")
	}
	b = append(b, "mov "...)
	b = reg(b)
	b = append(b, ", #0x"...)
	b = strconv.AppendUint(b, v, 16)
	return b, "mov", true
}
