// SPDX-License-Identifier: GPL-2.0-only

package jit_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/benchutil"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

// Sizes of the generated programs the benchmarks use (BPF instruction
// slots of the main program, as the kernel counts insn_cnt).
var benchSizes = []int{1_000, 10_000, 100_000, 1_000_000}

type loadKey struct {
	n      int
	arch   kernel.Arch
	noTail bool
	funcs  int
}

var (
	loadedMu sync.Mutex
	loaded   = map[loadKey]*kernel.Loaded{}
)

// load returns the generated program of n instructions (seed 1) loaded for
// arch, cached: arm64 v5.10 refuses tail calls mixed with bpf2bpf calls, so
// it gets the variant without tail calls. funcs is gen.Options.Funcs.
func load(b *testing.B, n int, arch kernel.Arch, noTail bool, funcs int) *kernel.Loaded {
	loadedMu.Lock()
	defer loadedMu.Unlock()
	k := loadKey{n, arch, noTail, funcs}
	if l := loaded[k]; l != nil {
		return l
	}
	set, err := gen.Set(gen.Options{Insns: n, Seed: 1, NoTailCalls: noTail, Funcs: funcs})
	if err != nil {
		b.Fatal(err)
	}
	l, err := kernel.Load(set, gen.MainProg, arch, kernel.Options{})
	if err != nil {
		b.Fatal(err)
	}
	loaded[k] = l
	// The generator's and the loader's garbage (hundreds of MB at 1M)
	// is collected now, not in the first timed compiles.
	runtime.GC()
	return l
}

// BenchmarkCompile JITs generated programs with every profile of both
// backends and reports BPF instructions per second. The 1M program's
// largest functions (110k and 40k instructions) need 46 and 21 passes on
// x86, more than the 20 a kernel without jump padding (before 5.11) allows:
// those profiles give up on it as the kernel does (the benchmark is
// skipped with the kernel's reason), and every x86 profile is also measured
// on the 1M program made of 100 functions of 10k instructions ("funcs=100":
// 12 passes at most).
func BenchmarkCompile(b *testing.B) {
	type size struct{ n, funcs int }
	for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
		sizes := []size{}
		for _, n := range benchSizes {
			sizes = append(sizes, size{n, 0})
		}
		if arch == kernel.X86_64 {
			sizes = append(sizes, size{1_000_000, 100})
		}
		for _, p := range jit.Profiles(arch) {
			for _, sz := range sizes {
				n := sz.n
				name := fmt.Sprintf("arch=%s/profile=%s/insns=%d", arch, p.Name, n)
				if sz.funcs > 0 {
					name += fmt.Sprintf("/funcs=%d", sz.funcs)
				}
				b.Run(name, func(b *testing.B) {
					l := load(b, n, arch, arch == kernel.ARM64 && !p.SubprogTailCalls, sz.funcs)
					if _, err := jit.Compile(l, p); err != nil {
						// x86 before jump padding (5.10) does not converge
						// on the default 1M program in 20 passes, as the
						// kernel.
						b.Skip(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					cpu := benchutil.Start()
					for b.Loop() {
						if _, err := jit.Compile(l, p); err != nil {
							b.Fatal(err)
						}
					}
					cpu.Report(b)
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "insns/s")
				})
			}
		}
	}
}

// BenchmarkCompileMemory reports what an image retains per BPF
// instruction: the live heap after JIT (GC'd), less the loaded program's.
func BenchmarkCompileMemory(b *testing.B) {
	for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
		ps := jit.Profiles(arch)
		p := ps[len(ps)-1]
		n := 1_000_000
		b.Run(fmt.Sprintf("arch=%s/profile=%s/insns=%d", arch, p.Name, n), func(b *testing.B) {
			l := load(b, n, arch, false, 0)
			var img *jit.Image
			var before, after runtime.MemStats
			for b.Loop() {
				img = nil
				runtime.GC()
				runtime.ReadMemStats(&before)
				var err error
				if img, err = jit.Compile(l, p); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
			}
			runtime.KeepAlive(img)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "live-B/insn")
		})
	}
}
