// SPDX-License-Identifier: GPL-2.0-only

package a64

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/jitscope/jitscope/exec/mem/memtest"
)

// runTemplates are encodings the JITs emit, with the register fields
// (Rd/Rt 0-4, Rn 5-9) at x0/x1 so fuzz bits can pick others: random words
// alone are mostly unallocated and fault at the first step.
var runTemplates = []uint32{
	0x91000420, // add x0, x1, #0x1
	0xd1000420, // sub x0, x1, #0x1
	0xd2800000, // mov x0, #0x0
	0xf2a00000, // movk x0, #0x0, lsl #16
	0xf9400420, // ldr x0, [x1, #8]
	0xf9000420, // str x0, [x1, #8]
	0xb8616800, // ldr w0, [x0, x1]
	0xa9bf7bfd, // stp x29, x30, [sp, #-16]!
	0xa8c17bfd, // ldp x29, x30, [sp], #16
	0x54000041, // b.ne .+8
	0xb4000040, // cbz x0, .+8
	0x14000002, // b .+8
	0x17fffffe, // b .-8
	0x94000002, // bl .+8
	0xd65f03c0, // ret
	0xeb01001f, // cmp x0, x1
	0x9b027c20, // mul x0, x1, x2
	0x9ac20820, // udiv x0, x1, x2
	0x9ac22020, // lsl x0, x1, x2
	0xc85f7c20, // ldxr x0, [x1]
	0xc8027c20, // stxr w2, x0, [x1]
	0xf8200041, // ldadd x0, x1, [x2]
	0xd63f0020, // blr x1
	0xd61f0020, // br x1
	0xd503233f, // paciasp
	0xd50323bf, // autiasp
	0xd503249f, // bti j
}

// FuzzRun executes random code for up to runLimit steps from a text page
// whose registers point into a data page: whatever the code does, it must
// fault with a *Fault or keep going, never panic; it must not map memory,
// write outside the writable regions or change its own text (stores into
// text fault: the kernel's JITed code is read-only).
func FuzzRun(f *testing.F) {
	f.Add([]byte{}, uint64(0))
	f.Add([]byte{0, 0, 0, 0x80, 1, 0, 0, 0x80, 14, 0, 0, 0x80}, uint64(8))
	var loop []byte
	for i := range runTemplates {
		loop = binary.LittleEndian.AppendUint32(loop, uint32(i)|0x8000_0000)
	}
	f.Add(loop, uint64(0x10))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x1f, 0x20, 0x03, 0xd5}, uint64(3))
	const runLimit = 2000
	f.Fuzz(func(t *testing.T, code []byte, seed uint64) {
		if len(code) > 0x1000 {
			code = code[:0x1000]
		}
		var words []uint32
		for i := 0; i+4 <= len(code); i += 4 {
			w := binary.LittleEndian.Uint32(code[i:])
			if w&0x8000_0000 != 0 {
				// A template with fuzzed register fields.
				tpl := runTemplates[int(w&0xff)%len(runTemplates)]
				w = tpl ^ (w >> 8 & 0x3ff) ^ (w >> 18 & 0x1f << 16)
			}
			words = append(words, w)
		}
		c, m := newMachine(t, words)
		c.BTI, c.PAC = seed&1 != 0, seed&2 != 0
		for i := range c.X {
			c.X[i] = dataBase + (seed>>2+uint64(i)*8)%dataSize
		}
		c.X[30] = textBase + 4*uint64(len(words))
		g := memtest.Watch(m, textBase, 0x10000)
		steps := 0
		for ; steps < runLimit; steps++ {
			pc := c.PC
			if _, err := c.Step(m); err != nil {
				var fault *Fault
				if !errors.As(err, &fault) || fault.PC != pc {
					t.Fatalf("step %d at %#x: %v is not a *Fault at the pc", steps, pc, err)
				}
				break
			}
		}
		g.Check(t)
	})
}
