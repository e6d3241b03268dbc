// SPDX-License-Identifier: GPL-2.0-only

package x86_test

import (
	"testing"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// bigProgram is n instructions of straight-line ALU code, stack traffic and
// forward branches, short ones and (every 1000 instructions) one that needs
// a near jcc, so that the passes have something to converge on.
func bigProgram(n int) *kernel.Loaded {
	insns := make([]kernel.Insn, 0, n)
	for len(insns) < n-2 {
		k := len(insns)
		switch k % 8 {
		case 0:
			insns = append(insns, insn(0x07, 1, 0, 0, 7)) // r1 += 7
		case 1:
			insns = append(insns, insn(0xbf, 2, 1, 0, 0)) // r2 = r1
		case 2:
			insns = append(insns, insn(0x2f, 2, 3, 0, 0)) // r2 *= r3
		case 3:
			off := int16(3)
			if k%1000 == 3 && k+201 < n-2 {
				off = 200
			}
			insns = append(insns, insn(0x25, 1, 0, off, 100)) // if r1 > 100 goto +off
		case 4:
			insns = append(insns, insn(0xac, 3, 2, 0, 0)) // w3 ^= w2
		case 5:
			insns = append(insns, insn(0x67, 4, 0, 0, 3)) // r4 <<= 3
		case 6:
			insns = append(insns, insn(0x7b, 10, 1, -8, 0)) // *(u64 *)(r10 - 8) = r1
		case 7:
			insns = append(insns, insn(0x79, 0, 10, -8, 0)) // r0 = *(u64 *)(r10 - 8)
		}
	}
	insns = append(insns, insn(0xb7, 0, 0, 0, 0), insn(0x95, 0, 0, 0, 0))
	return loaded(8, false, insns...)
}

// BenchmarkCompileX86 JITs a 100k-instruction program with the 6.18
// profile and reports BPF instructions per second.
func BenchmarkCompileX86(b *testing.B) {
	const n = 100_000
	l := bigProgram(n)
	p, err := jit.LookupProfile(kernel.X86_64, "v6.18")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := jit.Compile(l, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "insns/s")
}

// TestBigProgram checks that the benchmark's program converges and keeps
// every instruction where addrs[] says.
func TestBigProgram(t *testing.T) {
	l := bigProgram(20_000)
	for _, profile := range []string{"v5.10", "v6.1", "v6.18"} {
		fi := compile(t, profile, l).Funcs[0]
		checkImage(t, fi)
		if len(fi.Code) < 20_000*2 {
			t.Errorf("%s: %d bytes for 20000 instructions", profile, len(fi.Code))
		}
	}
}
