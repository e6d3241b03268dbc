// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"reflect"
	"testing"
)

// TestDecodeX86OneSyntax holds decodeX86, which renders only the texts a
// listing asks for, to DecodeX86Opts, which renders all three: the same
// instruction and the asked-for text. The inputs are
// the objdump fixture and the prefix/opcode sweep of TestX86Sweep.
func TestDecodeX86OneSyntax(t *testing.T) {
	type input struct {
		code []byte
		pc   uint64
	}
	var inputs []input
	_, cases := readX86Fixture(t)
	for _, c := range cases {
		inputs = append(inputs, input{c.follow, c.pc})
	}
	tails := [][]byte{{0x00}, {0x44, 0x24, 0x08, 0x11, 0x22, 0x33, 0x44}, {0x84, 0xd6, 0x38, 0x01, 0x00, 0x00, 0x7f, 0x80},
		{0xc0, 0x01}, {0x05, 0xf0, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03, 0x04}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	prefixes := [][]byte{nil, {0x48}, {0x66}, {0xf0}, {0xf3}, {0xf2, 0x41}, {0x65, 0x4f}, {0x67}, {0x2e}, {0x3e, 0x66, 0x49}, {0x40}}
	for _, p := range prefixes {
		for op := 0; op < 256; op++ {
			for _, two := range []bool{false, true} {
				for _, tail := range tails {
					code := append(append([]byte{}, p...), byte(op))
					if two {
						code = append(append(append([]byte{}, p...), 0x0f), byte(op))
					}
					inputs = append(inputs, input{append(code, tail...), 0xffffffffc0000000})
				}
			}
		}
	}
	n := 0
	for _, in := range inputs {
		for _, opts := range []X86Opts{{}, {Legacy: true}} {
			all, errAll := DecodeX86Opts(in.code, in.pc, opts)
			for _, want := range []x86Syntax{x86ATT, x86Intel} {
				got, err := decodeX86(in.code, in.pc, opts, want)
				if (err == nil) != (errAll == nil) || err != nil && err.Error() != errAll.Error() {
					t.Fatalf("% x legacy=%v want=%d: error %v, DecodeX86Opts %v", in.code, opts.Legacy, want, err, errAll)
				}
				if err != nil {
					continue
				}
				n++
				exp := all
				if want == x86ATT {
					if got.Text != all.Text {
						t.Fatalf("% x legacy=%v: Text %q, want %q", in.code, opts.Legacy, got.Text, all.Text)
					}
				} else if got.Intel != all.Intel {
					t.Fatalf("% x legacy=%v: Intel %q, want %q", in.code, opts.Legacy, got.Intel, all.Intel)
				}
				exp.Text, exp.Intel, exp.Legacy = got.Text, got.Intel, got.Legacy
				if !reflect.DeepEqual(got, exp) {
					t.Fatalf("% x legacy=%v want=%d: %+v, want %+v", in.code, opts.Legacy, want, got, all)
				}
			}
		}
	}
	t.Logf("%d decodes compared", n)
}
