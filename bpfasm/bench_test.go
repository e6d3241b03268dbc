// SPDX-License-Identifier: GPL-2.0-only

package bpfasm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/bpfasm"
	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/benchutil"
)

// genSource returns the main program of the generated set of n slots
// (seed 1) as FormatProgram prints it, the text a scenario file holds.
func genSource(tb testing.TB, n int) string {
	set, err := gen.Set(gen.Options{Insns: n, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return bpfasm.FormatProgram(set.Programs[0].Insns)
}

// BenchmarkParse is bpfasm.Parse of generated programs: the text of a
// scenario's asm block to cilium/ebpf instructions. It reports source
// lines per second.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			src := genSource(b, n)
			lines := strings.Count(src, "\n")
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := benchutil.Start()
			for b.Loop() {
				if _, err := bpfasm.Parse("gen.scn", 1, src); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b)
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkFormatProgram is bpfasm.FormatProgram of generated programs
// (what jitscope gen writes into a scenario file). It reports instructions
// per second.
func BenchmarkFormatProgram(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			set, err := gen.Set(gen.Options{Insns: n, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			insns := set.Programs[0].Insns
			b.ReportAllocs()
			b.ResetTimer()
			cpu := benchutil.Start()
			for b.Loop() {
				_ = bpfasm.FormatProgram(insns)
			}
			cpu.Report(b)
			b.ReportMetric(float64(len(insns))*float64(b.N)/b.Elapsed().Seconds(), "insns/s")
		})
	}
}
