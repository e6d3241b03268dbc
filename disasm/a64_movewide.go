// SPDX-License-Identifier: GPL-2.0-only

package disasm

import "strconv"

// a64MoveWide prints the move wide (immediate) class, MOVN, MOVZ and MOVK,
// as DecodeA64 does (objdump 2.40), without going through x/arch: the JITs
// build every constant and address with them, so they are most of what a
// listing decodes that it has not seen. MOVZ and MOVN print as "mov" with
// the value moved unless imm16 is 0 with a shift (and, for MOVN of a w
// register, unless imm16 is 0xffff); MOVK always prints its shift. ok is
// false for the unallocated encodings.
func a64MoveWide(w uint32) (op, text string, ok bool) {
	if w&0x1f800000 != 0x12800000 {
		return "", "", false
	}
	sf := w>>31 != 0
	opc := w >> 29 & 3
	hw := w >> 21 & 3
	imm := uint64(w >> 5 & 0xffff)
	rd := w & 31
	if opc == 1 || (!sf && hw > 1) {
		return "", "", false
	}
	var reg string
	switch {
	case rd == 31 && sf:
		reg = "xzr"
	case rd == 31:
		reg = "wzr"
	case sf:
		reg = "x" + strconv.Itoa(int(rd))
	default:
		reg = "w" + strconv.Itoa(int(rd))
	}
	shift := 16 * hw
	hex := func(v uint64) string { return "#0x" + strconv.FormatUint(v, 16) }
	explicit := func(op string) (string, string, bool) {
		s := op + " " + reg + ", " + hex(imm)
		if shift != 0 {
			s += ", lsl #" + strconv.Itoa(int(shift))
		}
		return op, s, true
	}
	switch opc {
	case 2: // MOVZ
		if imm == 0 && hw != 0 {
			return explicit("movz")
		}
		return "mov", "mov " + reg + ", " + hex(imm<<shift), true
	case 0: // MOVN
		if (imm == 0 && hw != 0) || (!sf && imm == 0xffff) {
			return explicit("movn")
		}
		v := ^(imm << shift)
		if !sf {
			v &= 0xffffffff
		}
		return "mov", "mov " + reg + ", " + hex(v), true
	}
	return explicit("movk")
}
