// SPDX-License-Identifier: GPL-2.0-only

package kernel_test

import (
	"fmt"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/benchutil"
	"github.com/jitscope/jitscope/kernel"
)

// BenchmarkLoad is kernel.Load of generated programs (seed 1): functions,
// calls, maps and helpers resolved, stack depths, the raw encoding of every
// instruction. It reports BPF instructions per second and the process's
// CPU time per load (cpu-ns/op: the machine is shared).
func BenchmarkLoad(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
		set, err := gen.Set(gen.Options{Insns: n, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			b.Run(fmt.Sprintf("arch=%s/insns=%d", arch, n), func(b *testing.B) {
				b.ReportAllocs()
				cpu := benchutil.Start()
				for b.Loop() {
					if _, err := kernel.Load(set, gen.MainProg, arch, kernel.Options{}); err != nil {
						b.Fatal(err)
					}
				}
				cpu.Report(b)
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "insns/s")
			})
		}
	}
}
