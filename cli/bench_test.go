// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/benchutil"
)

// benchScenario writes the generated scenario of n instructions (seed 1)
// to a temporary directory of b and returns its path.
func benchScenario(b *testing.B, n int) string {
	data, err := gen.Scenario(gen.Options{Insns: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), fmt.Sprintf("gen-%d.scn", n))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkDump is `jitscope dump FILE --arch A > /dev/null` on generated
// scenarios: parse, load, JIT every program, disassemble, lay out the
// arrows and print.
func BenchmarkDump(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, arch := range []string{"arm64", "x86_64"} {
			b.Run(fmt.Sprintf("insns=%d/arch=%s", n, arch), func(b *testing.B) {
				path := benchScenario(b, n)
				b.ReportAllocs()
				b.ResetTimer()
				cpu := benchutil.Start()
				for b.Loop() {
					if st := Main([]string{"dump", path, "--arch", arch}, Env{Stdout: io.Discard, Stderr: os.Stderr}); st != 0 {
						b.Fatal("dump failed")
					}
				}
				cpu.Report(b)
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "insns/s")
			})
		}
	}
}
