// SPDX-License-Identifier: GPL-2.0-only

package disasm_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/benchutil"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
)

var benchArches = []kernel.Arch{kernel.ARM64, kernel.X86_64}

type imgKey struct {
	n    int
	arch kernel.Arch
}

var (
	imgMu  sync.Mutex
	images = map[imgKey][]*jit.Image{}
)

// compiled returns every program of the generated set of n instructions
// (seed 1) JITed for arch with its newest profile, cached.
func compiled(b *testing.B, n int, arch kernel.Arch) []*jit.Image {
	imgMu.Lock()
	defer imgMu.Unlock()
	k := imgKey{n, arch}
	if imgs := images[k]; imgs != nil {
		return imgs
	}
	set, err := gen.Set(gen.Options{Insns: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	ps := jit.Profiles(arch)
	p := ps[len(ps)-1]
	var imgs []*jit.Image
	for _, prog := range set.Programs {
		l, err := kernel.Load(set, prog.Name, arch, kernel.Options{Layout: p.Layout})
		if err != nil {
			b.Fatal(err)
		}
		img, err := jit.Compile(l, p)
		if err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	images[k] = imgs
	return imgs
}

func listAll(b *testing.B, imgs []*jit.Image) []*disasm.Program {
	var progs []*disasm.Program
	for _, img := range imgs {
		p, err := disasm.List(img)
		if err != nil {
			b.Fatal(err)
		}
		progs = append(progs, p)
	}
	return progs
}

func lines(progs []*disasm.Program) int {
	n := 0
	for _, f := range disasm.Flatten(progs) {
		n += f.Len()
	}
	return n
}

// BenchmarkDecode decodes the machine code of the 1M-instruction program
// one instruction at a time (DecodeA64 / DecodeX86, the printers included)
// and reports machine instructions per second.
func BenchmarkDecode(b *testing.B) {
	const n = 1_000_000
	for _, arch := range benchArches {
		b.Run(fmt.Sprintf("arch=%s/insns=%d", arch, n), func(b *testing.B) {
			imgs := compiled(b, n, arch)
			count := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				count = 0
				for _, img := range imgs {
					for _, f := range img.Funcs {
						for off := 0; off < len(f.Code); {
							pc := f.Address + uint64(off)
							if arch == kernel.ARM64 {
								if _, err := disasm.DecodeA64(binary.LittleEndian.Uint32(f.Code[off:]), pc); err != nil {
									b.Fatal(err)
								}
								off += 4
							} else {
								in, err := disasm.DecodeX86(f.Code[off:], pc)
								if err != nil {
									b.Fatal(err)
								}
								off += in.Len
							}
							count++
						}
					}
				}
			}
			b.ReportMetric(float64(count)*float64(b.N)/b.Elapsed().Seconds(), "minsns/s")
		})
	}
}

// BenchmarkList is disasm.List: every function decoded into lines with
// their BPF instruction, region and notes. It reports machine instructions
// per second.
func BenchmarkList(b *testing.B) {
	benchListing(b, []int{10_000, 100_000, 1_000_000}, disasm.ListOpts, false)
}

// benchListing measures list on the compiled programs of each size and
// architecture (then Fill on each, with fill), in machine instructions
// per second.
func benchListing(b *testing.B, sizes []int, list func(*jit.Image, disasm.Options) (*disasm.Program, error), fill bool) {
	for _, n := range sizes {
		for _, arch := range benchArches {
			b.Run(fmt.Sprintf("arch=%s/insns=%d", arch, n), func(b *testing.B) {
				imgs := compiled(b, n, arch)
				var progs []*disasm.Program
				b.ReportAllocs()
				b.ResetTimer()
				cpu := benchutil.Start()
				for b.Loop() {
					progs = progs[:0]
					for _, img := range imgs {
						p, err := list(img, disasm.Options{})
						if err == nil && fill {
							err = p.Fill()
						}
						if err != nil {
							b.Fatal(err)
						}
						progs = append(progs, p)
					}
				}
				cpu.Report(b)
				b.ReportMetric(float64(lines(progs))*float64(b.N)/b.Elapsed().Seconds(), "minsns/s")
			})
		}
	}
}

// BenchmarkArrows is the arrow layout of a listing: disasm.Flow and
// AssignLanes, as WriteText and the viewer do it.
func BenchmarkArrows(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, arch := range benchArches {
			b.Run(fmt.Sprintf("arch=%s/insns=%d", arch, n), func(b *testing.B) {
				funcs := disasm.Flatten(listAll(b, compiled(b, n, arch)))
				first := make([]int, len(funcs))
				row := 0
				for i, f := range funcs {
					first[i] = row
					row += len(f.Lines) + 2
				}
				rowOf := func(p disasm.Pos) int { return first[p.Func] + p.Line }
				var arrows []disasm.Arrow
				lanes := 0
				b.ReportAllocs()
				b.ResetTimer()
				cpu := benchutil.Start()
				for b.Loop() {
					arrows = disasm.Flow(funcs)
					lanes = disasm.AssignLanes(arrows, rowOf)
				}
				cpu.Report(b)
				b.ReportMetric(float64(len(arrows)), "arrows")
				b.ReportMetric(float64(lanes), "lanes")
			})
		}
	}
}

// BenchmarkWriteText is the text listing (`jitscope dump` without the
// loading) of already listed programs to io.Discard: arrows and notes, and
// --plain.
func BenchmarkWriteText(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, arch := range benchArches {
			for _, plain := range []bool{false, true} {
				b.Run(fmt.Sprintf("arch=%s/insns=%d/plain=%v", arch, n, plain), func(b *testing.B) {
					progs := listAll(b, compiled(b, n, arch))
					cw := &countWriter{}
					b.ReportAllocs()
					b.ResetTimer()
					cpu := benchutil.Start()
					for b.Loop() {
						cw.n = 0
						if err := disasm.WriteText(cw, progs, disasm.TextOptions{Plain: plain}); err != nil {
							b.Fatal(err)
						}
					}
					cpu.Report(b)
					b.ReportMetric(float64(cw.n), "bytes")
					b.ReportMetric(float64(lines(progs))*float64(b.N)/b.Elapsed().Seconds(), "minsns/s")
				})
			}
		}
	}
}

// BenchmarkDumpMemory reports the live heap per BPF instruction of the
// 1M-instruction program compiled and listed for both architectures (what
// a viewer holds), and the peak heap of writing it.
func BenchmarkDumpMemory(b *testing.B) {
	const n = 1_000_000
	set, err := gen.Set(gen.Options{Insns: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var keep [][]*disasm.Program
		for _, arch := range benchArches {
			ps := jit.Profiles(arch)
			p := ps[len(ps)-1]
			var progs []*disasm.Program
			for _, prog := range set.Programs {
				l, err := kernel.Load(set, prog.Name, arch, kernel.Options{Layout: p.Layout})
				if err != nil {
					b.Fatal(err)
				}
				img, err := jit.Compile(l, p)
				if err != nil {
					b.Fatal(err)
				}
				lp, err := disasm.List(img)
				if err != nil {
					b.Fatal(err)
				}
				progs = append(progs, lp)
			}
			keep = append(keep, progs)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "live-B/insn")
		for _, progs := range keep {
			if err := disasm.WriteText(io.Discard, progs, disasm.TextOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "alloc-B/insn")
		runtime.KeepAlive(keep)
	}
}

type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkIndex is disasm.Index: the compact listing a viewer lays out
// before its first frame (line starts, BPF instructions, regions, control
// flow; no text). It reports machine instructions per second.
func BenchmarkIndex(b *testing.B) {
	benchListing(b, []int{100_000, 1_000_000}, disasm.Index, false)
}

// BenchmarkIndexFill is disasm.Index and then Program.Fill: every line's
// text printed into the arena, what a search of an indexed listing needs
// (Fill's own cost is this less BenchmarkIndex).
func BenchmarkIndexFill(b *testing.B) {
	benchListing(b, []int{1_000_000}, disasm.Index, true)
}
