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
