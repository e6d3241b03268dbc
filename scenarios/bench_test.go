// SPDX-License-Identifier: GPL-2.0-only

package scenarios_test

import (
	"fmt"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/benchutil"
	"github.com/jitscope/jitscope/scenarios"
)

// BenchmarkParse is scenarios.Parse of a generated scenario file (seed 1):
// the TOML document and its programs' assembly, as jitscope dump reads it.
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			src, err := gen.Scenario(gen.Options{Insns: n, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := benchutil.Start()
			for b.Loop() {
				if _, err := scenarios.Parse("gen.scn", src); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b)
		})
	}
}
