// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

var big = map[int]*session.Session{}
var bigMu sync.Mutex

// bigSession compiles a synthetic program of n BPF instructions once.
func bigSession(tb testing.TB, n int) *session.Session {
	bigMu.Lock()
	defer bigMu.Unlock()
	if s := big[n]; s != nil {
		return s
	}
	s := session.FromTarget(session.Synthetic(n), session.Options{})
	for _, l := range s.Listings {
		if l.Err != nil {
			tb.Fatalf("%s: %v", l.Arch, l.Err)
		}
	}
	big[n] = s
	return s
}

// BenchmarkView measures one frame at 200x50, side by side, with the
// cursor in the middle of the program: the cost must not grow with the
// program's size.
func BenchmarkView(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			s := bigSession(b, n)
			m := NewFromSession(Options{}, themes.Dark(), s)
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
			m.focused().SetCursor(len(m.focused().l.Rows) / 2)
			m.sync()
			b.Logf("%d rows, %d arrow groups, %d lanes", len(s.Listings[0].Rows), len(s.Listings[0].Groups), s.Listings[0].Lanes)
			m.View() // the first frame fills the row cache
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				// Move the cursor so each frame draws different rows.
				if i%2 == 0 {
					m.focused().Move(1)
				} else {
					m.focused().Move(-1)
				}
				m.sync()
				_ = m.View()
			}
		})
	}
}

// BenchmarkViewStepping measures one frame at 200x50 with the state pane,
// stepping back and forth in the middle of the run (registers rebuilt
// from the nearest checkpoint each frame, the PC followed by the cursor).
func BenchmarkViewStepping(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			s := bigSession(b, n)
			m := NewFromSession(Options{}, themes.Dark(), s)
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
			if !m.stateShown() {
				b.Fatal("no state pane at 200x50")
			}
			p := m.focused()
			r := m.ensureRun(p)
			if !r.Ran || r.Err != nil {
				b.Fatalf("run: %v", r.Err)
			}
			m.moveTo(p, r.Len()/2+checkpointMid)
			b.Logf("%d steps", r.Len())
			m.View()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					m.step(stepInto, 1)
				} else {
					m.step(stepInto, -1)
				}
				_ = m.View()
			}
		})
	}
}

// checkpointMid puts the benchmark's position between two register
// checkpoints, the worst case for Regs.
const checkpointMid = 63

// BenchmarkViewDiff is BenchmarkView in a version diff (x86 | x86 under
// two profiles): the comparison runs once per listing change, so a frame
// costs what it costs without it.
func BenchmarkViewDiff(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		b.Run(fmt.Sprintf("insns=%d", n), func(b *testing.B) {
			s := bigSession(b, n)
			m := NewFromSession(Options{}, themes.Dark(), s)
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
			m.cycleLayout()
			m.cycleLayout()
			m.cycleLayout()
			if m.ensureDiff() == nil {
				b.Fatal("no diff")
			}
			m.focused().SetCursor(len(m.focused().l.Rows) / 2)
			m.sync()
			m.View()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					m.focused().Move(1)
				} else {
					m.focused().Move(-1)
				}
				m.sync()
				_ = m.View()
			}
		})
	}
}
