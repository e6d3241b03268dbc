// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestX86ShapeExhaustive holds x86Shape to the full decoder on every
// encoding its table accepts: both operand sizes (66), no REX and every
// REX, every opcode of the one- and two-byte maps, every ModRM, and every
// SIB (without REX and with REX.WXB; with the others the SIBs whose base
// decides a displacement), followed by two patterns of bytes (positive
// and negative displacements). Where x86Shape answers, the full decoder
// must decode the same length, kind and branch target; the same bytes cut
// short by one must not be answered.
func TestX86ShapeExhaustive(t *testing.T) {
	const pc = 0xffffffffc0001000
	tails := [][]byte{
		{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x08, 0x19, 0x2a, 0x3b, 0x4c, 0x5d, 0x6e, 0x7f, 0x01},
		{0x80, 0xff, 0xfe, 0xfd, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x8f, 0x9f, 0xaf, 0xbf, 0xcf},
	}
	if testing.Short() {
		tails = tails[:1]
	}
	few := []byte{0x00, 0x05, 0x24, 0x25, 0x65, 0xe5}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	accepted, checked := 0, 0
	buf := make([]byte, 0, 40)
	check := func(code []byte) {
		checked++
		n, kind, target, has, ok := x86Shape(code, pc)
		if !ok {
			return
		}
		accepted++
		if n > 1 {
			if _, _, _, _, ok := x86Shape(code[:n-1], pc); ok {
				t.Fatalf("% x: answered when cut to %d bytes", code[:n], n-1)
			}
		}
		in, err := decodeX86(code, pc, X86Opts{}, 0)
		if err != nil {
			t.Fatalf("% x: x86Shape says %d bytes, the decoder: %v", code[:n], n, err)
		}
		rel := in.HasTarget && !in.RIPRelative
		if in.Len != n || in.Kind != kind || rel != has || has && in.Target != target {
			t.Fatalf("% x: x86Shape %d bytes %v target %v %#x; decoder %d bytes %v target %v %#x (%s)",
				code[:min(len(code), 15)], n, kind, has, target, in.Len, in.Kind, rel, in.Target, in.Op)
		}
	}
	for _, p66 := range []bool{false, true} {
		for rex := 0x3f; rex <= 0x4f; rex++ { // 0x3f: none
			for _, two := range []bool{false, true} {
				table := &x86ShapeOne
				if two {
					table = &x86ShapeTwo
				}
				for op := range 256 {
					e := table[op]
					if e.flags&xsOK == 0 {
						continue
					}
					pre := buf[:0]
					if p66 {
						pre = append(pre, 0x66)
					}
					if rex != 0x3f {
						pre = append(pre, byte(rex))
					}
					if two {
						pre = append(pre, 0x0f)
					}
					pre = append(pre, byte(op))
					for _, tail := range tails {
						if e.flags&xsModRM == 0 {
							check(append(pre, tail...))
							continue
						}
						for m := range 256 {
							sibs := []byte{tail[0]}
							if m>>6 != 3 && m&7 == 4 {
								sibs = few
								if rex == 0x3f || rex == 0x4b {
									sibs = all
								}
							}
							for _, sib := range sibs {
								code := append(append(pre, byte(m), sib), tail...)
								check(code)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d encodings, %d answered by the table", checked, accepted)
	if accepted < 100_000 {
		t.Fatalf("only %d encodings answered", accepted)
	}
}

// FuzzX86Shape: on any bytes, an answer of x86Shape is the decoder's.
func FuzzX86Shape(f *testing.F) {
	for _, s := range []string{"48 89 e5", "0f 84 10 00 00 00", "66 c1 c0 08", "48 b8 11 22 33 44 55 66 77 88", "ff d0"} {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		const pc = 0xffffffffc0001000
		n, kind, target, has, ok := x86Shape(code, pc)
		if !ok {
			return
		}
		in, err := decodeX86(code, pc, X86Opts{}, 0)
		if err != nil || in.Len != n || in.Kind != kind || (in.HasTarget && !in.RIPRelative) != has || has && in.Target != target {
			t.Fatalf("% x: shape %d %v %v %#x, decoder %d %v %v %#x %v", code, n, kind, has, target, in.Len, in.Kind, in.HasTarget, in.Target, err)
		}
	})
}
