// SPDX-License-Identifier: GPL-2.0-only

package disasm

// a64MoveWide prints the move wide (immediate) class, MOVN, MOVZ and MOVK,
// as DecodeA64 does (objdump 2.40), without going through x/arch: the JITs
// build every constant and address with them, so they are most of what a
// listing decodes that it has not seen. MOVZ and MOVN print as "mov" with
// the value moved unless imm16 is 0 with a shift (and, for MOVN of a w
// register, unless imm16 is 0xffff); MOVK always prints its shift. ok is
// false for the unallocated encodings.
func a64MoveWide(w uint32) (op, text string, ok bool) {
	b, op, ok := appendA64MoveWide(nil, w)
	return op, string(b), ok
}
