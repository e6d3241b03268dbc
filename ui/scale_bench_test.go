// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/internal/benchutil"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// genTarget is the generated program of n instructions (seed 1), the one
// `jitscope gen --insns N` writes, as an already parsed target.
func genTarget(tb testing.TB, n int) *session.Target {
	set, err := gen.Set(gen.Options{Insns: n, Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return &session.Target{Name: set.Name, Set: set}
}

// BenchmarkOpen is the viewer opening a generated program to its first
// frame at 200x50: both architectures loaded, JITed, listed and laid out
// (session.FromTarget), the model built and the first View. Reading the
// scenario file is BenchmarkParse (bpfasm) and scenarios' own.
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			t := genTarget(b, n)
			b.ReportAllocs()
			cpu := benchutil.Start()
			for b.Loop() {
				s := session.FromTarget(t, session.Options{})
				m := NewFromSession(Options{}, themes.Dark(), s)
				m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
				_ = m.View()
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkOpenFile is `jitscope open FILE` to its first frame at 200x50
// on the file `jitscope gen --insns N` writes: the scenario read and
// parsed, then everything BenchmarkOpen measures (what ui.Run does before
// the terminal shows the first frame).
func BenchmarkOpenFile(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			src, err := gen.Scenario(gen.Options{Insns: n, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "big.scn")
			if err := os.WriteFile(path, src, 0o644); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := benchutil.Start()
			for b.Loop() {
				m, err := New(Options{Target: path}, true)
				if err != nil {
					b.Fatal(err)
				}
				m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
				_ = m.View()
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkFrameAt is one frame at 200x50 of the generated 1M-instruction
// program with the cursor at the top, in the middle and at the end of the
// focused listing (moving by one row each frame, so that every frame draws
// different rows), and jumping far away each frame (at=jump: nothing on
// screen drawn before).
func BenchmarkFrameAt(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	s := session.FromTarget(genTarget(b, n), session.Options{})
	for _, l := range s.Listings {
		if l.Err != nil {
			b.Fatalf("%s: %v", l.Arch, l.Err)
		}
	}
	m := NewFromSession(Options{}, themes.Dark(), s)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	rows := len(m.focused().l.Rows)
	for _, at := range []struct {
		name string
		row  int
	}{{"top", 1}, {"middle", rows / 2}, {"end", rows - 2}, {"jump", -1}} {
		b.Run(fmt.Sprintf("insns=%d/at=%s", n, at.name), func(b *testing.B) {
			m.focused().SetCursor(max(at.row, 0))
			m.sync()
			m.View()
			b.ReportAllocs()
			cpu := benchutil.Start()
			for i := 0; b.Loop(); i++ {
				if at.row < 0 {
					// Each frame somewhere else, far away: every row
					// drawn is new (decoded, laid out) in both panes.
					m.focused().SetCursor((i + 1) * 7_919_993 % rows)
				} else if i%2 == 0 {
					m.focused().Move(1)
				} else {
					m.focused().Move(-1)
				}
				m.sync()
				_ = m.View()
			}
			cpu.Report(b)
		})
	}
}

// BenchmarkSearch is a search from the top of the focused listing of the
// generated 1M-instruction program: for the last function's name (its
// header is the last match, near the end) and for text that is nowhere
// (every row read).
func BenchmarkSearch(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	s := session.FromTarget(genTarget(b, n), session.Options{})
	l := s.Listings[0]
	if l.Err != nil {
		b.Fatalf("%s: %v", l.Arch, l.Err)
	}
	// Once the texts are printed, which the viewer starts after its
	// first frame (BenchmarkIndexFill in disasm measures that).
	l.Fill()
	last := l.Funcs[len(l.Funcs)-1].Image.Name
	for _, q := range []struct{ name, query string }{{"last", last + ":"}, {"none", "no such text"}} {
		b.Run(fmt.Sprintf("insns=%d/match=%s", n, q.name), func(b *testing.B) {
			var r int
			cpu := benchutil.Start()
			for b.Loop() {
				r = l.Search(q.query, 0, 1)
			}
			cpu.Report(b)
			if q.name == "last" && r < len(l.Rows)/2 {
				b.Fatalf("search %q found row %d of %d", q.query, r, len(l.Rows))
			}
			if q.name == "none" && r >= 0 {
				b.Fatalf("search %q found row %d", q.query, r)
			}
		})
	}
}

// BenchmarkOpenMemory is the memory of the viewer opened on the generated
// 1M-instruction program to its first frame at 200x50 (as BenchmarkOpen):
// the live heap after a GC (live-MB) and the peak resident size of the
// process while opening (peak-RSS-MB: the kernel's high-water mark, reset
// after the program is generated and the heap returned to the system;
// Linux only, 0 elsewhere); then the same once the work the viewer starts
// after its first frame is done (settled-*: the state pane's runs, every
// text printed for search). Run it alone: other benchmarks' heaps would
// count.
func BenchmarkOpenMemory(b *testing.B) {
	t := genTarget(b, 1_000_000)
	for b.Loop() {
		runtime.GC()
		debug.FreeOSMemory()
		resetPeakRSS()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := session.FromTarget(t, session.Options{})
		m := NewFromSession(Options{}, themes.Dark(), s)
		_, cmd := m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
		_ = m.View()
		peak := peakRSS()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "live-MB")
		b.ReportMetric(float64(peak)/1e6, "peak-RSS-MB")
		// Then the background work the viewer starts after its first
		// frame: the runs of the state pane, every text printed.
		drain(m, cmd)
		_ = m.View()
		peak = peakRSS()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "settled-live-MB")
		b.ReportMetric(float64(peak)/1e6, "settled-peak-RSS-MB")
		runtime.KeepAlive(m)
	}
}

// resetPeakRSS resets the process's peak resident size (VmHWM), where
// Linux lets it be (clear_refs, "5").
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident size in bytes (VmHWM), 0 where
// /proc does not say.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, ln := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(ln, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
