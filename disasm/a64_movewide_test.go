// SPDX-License-Identifier: GPL-2.0-only

package disasm

import "testing"

// TestA64MoveWide: the move wide printer agrees with DecodeA64 on every
// immediate, shift, size and operation, for a few registers (and on every
// register for a few immediates).
func TestA64MoveWide(t *testing.T) {
	check := func(w uint32) {
		op, text, ok := a64MoveWide(w)
		in, err := DecodeA64(w, 0x1000)
		if !ok {
			if w&0x1f800000 == 0x12800000 && err == nil && (w>>29&3 != 1) && !(w>>31 == 0 && w>>21&3 > 1) {
				t.Fatalf("%#08x: refused, DecodeA64 gives %q", w, in.Text)
			}
			return
		}
		if err != nil || in.Text != text || in.Op != op || in.Kind != None || in.HasTarget {
			t.Fatalf("%#08x: %q %q, DecodeA64 %q %q %v", w, op, text, in.Op, in.Text, err)
		}
	}
	step := uint32(1)
	if testing.Short() {
		step = 97
	}
	for _, base := range []uint32{0x12800000, 0x52800000, 0x72800000, 0x92800000, 0xd2800000, 0xf2800000, 0x32800000, 0xb2800000} {
		for hw := uint32(0); hw < 4; hw++ {
			for imm := uint32(0); imm <= 0xffff; imm += step {
				check(base | hw<<21 | imm<<5 | 10)
			}
			for _, imm := range []uint32{0, 1, 0xffff, 0x8000, 0x1234} {
				for rd := uint32(0); rd < 32; rd++ {
					check(base | hw<<21 | imm<<5 | rd)
				}
			}
		}
	}
}
