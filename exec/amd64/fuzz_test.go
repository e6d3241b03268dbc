// SPDX-License-Identifier: GPL-2.0-only

package amd64

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"golang.org/x/arch/x86/x86asm"

	"github.com/jitscope/jitscope/exec/mem/memtest"
)

// FuzzStep executes random bytes: Step must not panic, and must either
// fault (leaving the state unchanged) or execute an instruction of 1 to
// 15 bytes. Where it decodes, x86asm must agree on the length (x86asm
// misreads endbr64 and does not know the BMI2 shifts, so those are
// exempt).
func FuzzStep(f *testing.F) {
	for _, s := range undoPool {
		b, _ := hex.DecodeString(s)
		f.Add(b, uint64(0x10100), uint64(3))
	}
	for _, b := range [][]byte{
		{0xf3, 0x0f, 0x1e, 0xfa}, {0xc4, 0xe2, 0xc9, 0xf7, 0xff}, {0x0f, 0x1f, 0x44, 0x00, 0x00},
		{0xf0, 0x48, 0x0f, 0xb1, 0x37}, {0x65, 0x48, 0xc1, 0x3c, 0x25, 0x40, 0, 0, 0, 5},
		{0x66, 0x41, 0xc1, 0xc8, 0x08}, {0x48, 0xf7, 0xf1}, {0xcc}, {0x0f, 0x0b}, {},
	} {
		f.Add(b, uint64(0x10100), uint64(0))
	}
	f.Fuzz(func(t *testing.T, code []byte, addr, v uint64) {
		if len(code) > 0x1000 {
			code = code[:0x1000]
		}
		m := caseMemory(t)
		if err := m.WriteBytes(caseText, code); err != nil {
			t.Fatal(err)
		}
		c := &CPU{RIP: caseText, Trace: v&1 != 0, IBT: v&2 != 0, GSBase: addr}
		for i := range c.R {
			switch (v >> (2 * i)) & 3 {
			case 0:
				c.R[i] = addr + uint64(i)*8
			case 1:
				c.R[i] = caseStack + 0x8000
			case 2:
				c.R[i] = v * uint64(i+1)
			default:
				c.R[i] = uint64(i)
			}
		}
		full := append(append([]byte(nil), code...), make([]byte, 16)...) // memory past the code is zero
		before := *c
		e, err := c.Step(m)
		if err != nil {
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("% x: error %T is not a *Fault: %v", code, err, err)
			}
			if c.R != before.R || c.RIP != before.RIP || c.Flags != before.Flags {
				t.Fatalf("% x: fault changed the state: %v", code, err)
			}
			if len(f.Bytes) > 15 {
				t.Fatalf("% x: fault with %d bytes", code, len(f.Bytes))
			}
			return
		}
		if e.Len < 1 || e.Len > 15 || !bytes.Equal(e.Bytes, full[:e.Len]) {
			t.Fatalf("% x: Len %d, Bytes % x", code, e.Len, e.Bytes)
		}
		if e.Bytes[0] == 0xc4 || bytes.Contains(e.Bytes, []byte{0x0f, 0x1e}) {
			return
		}
		inst, xerr := x86asm.Decode(full, 64)
		if xerr == nil && inst.Op != 0 && inst.Len != e.Len && !oddPrefixes(e.Bytes) {
			t.Fatalf("% x: length %d, x86asm says %d (%v)", code, e.Len, inst.Len, inst)
		}
	})
}

// oddPrefixes reports segment overrides other than fs/gs, repeated or
// conflicting prefixes, and REX before a legacy prefix: encodings x86asm
// decodes differently from the CPU.
func oddPrefixes(b []byte) bool {
	seen := map[byte]bool{}
	rex := false
	for _, c := range b {
		switch c {
		case 0x26, 0x2e, 0x36, 0x3e:
			return true
		case 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x64, 0x65:
			if seen[c] || rex {
				return true
			}
			seen[c] = true
			continue
		}
		if c&0xf0 == 0x40 {
			if rex {
				return true
			}
			rex = true
			continue
		}
		break
	}
	return seen[0xf2] && seen[0xf3]
}

// FuzzRun executes random code for up to runLimit steps, registers
// pointing into the data and stack regions: it must fault with a *Fault or
// keep going, never panic; it must not map memory, write outside the
// writable regions or change its own text (stores into text fault, as
// into the kernel's read-only JITed code).
func FuzzRun(f *testing.F) {
	for _, s := range undoPool {
		b, _ := hex.DecodeString(s)
		f.Add(b, uint64(0x5))
	}
	f.Add([]byte{0x48, 0x83, 0xc0, 0x01, 0xeb, 0xfa}, uint64(0))                         // add $1,%rax; jmp back
	f.Add([]byte{0x55, 0x48, 0x89, 0xe5, 0xe8, 0x00, 0x00, 0x00, 0x00, 0xc3}, uint64(2)) // push, call, ret
	f.Add([]byte{0x48, 0x89, 0x05, 0x00, 0x00, 0x00, 0x00}, uint64(1))                   // store into text
	const runLimit = 2000
	f.Fuzz(func(t *testing.T, code []byte, seed uint64) {
		if len(code) > 0x1000 {
			code = code[:0x1000]
		}
		m := caseMemory(t)
		if err := m.WriteBytes(caseText, code); err != nil {
			t.Fatal(err)
		}
		c := &CPU{RIP: caseText, IBT: seed&1 != 0, Trace: seed&2 != 0}
		for i := range c.R {
			c.R[i] = caseData + (seed>>2+uint64(i)*8)%0x10000
		}
		c.R[4] = caseStack + 0x8000 // rsp
		g := memtest.Watch(m, caseText, 0x2000)
		for steps := 0; steps < runLimit; steps++ {
			rip := c.RIP
			if _, err := c.Step(m); err != nil {
				var fault *Fault
				if !errors.As(err, &fault) {
					t.Fatalf("step %d at %#x: %v is not a *Fault", steps, rip, err)
				}
				break
			}
		}
		g.Check(t)
	})
}
