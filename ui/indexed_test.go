// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// drain runs cmd and the commands that follow from it as the Bubble Tea
// loop would, handing the model the messages of its background work (the
// runs and texts of indexed listings).
func drain(m *Model, cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case runMsg, filledMsg:
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// TestIndexedListingScreens opens the default scenario twice, listed
// whole and indexed (as a large program is: session.Options.IndexAbove),
// and holds the indexed viewer to the other once its background work is
// done: the run the state pane shows, the text column, the screens while
// stepping to the tail call. Before that work is done the indexed viewer
// says the run is being computed instead of waiting for it.
func TestIndexedListingScreens(t *testing.T) {
	open := func(above int) (*Model, tea.Cmd) {
		sess, err := session.Load(scenarios.Default, session.Options{IndexAbove: above})
		if err != nil {
			t.Fatal(err)
		}
		m := NewFromSession(Options{}, themes.Dark(), sess)
		_, cmd := m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
		return m, cmd
	}
	whole, cw := open(1 << 40)
	ix, ci := open(1)
	if !ix.focused().l.Indexed() || whole.focused().l.Indexed() {
		t.Fatal("not the two forms")
	}
	drain(whole, cw)
	if plain := ansi.Strip(ix.Render()); !strings.Contains(plain, "run: running the program…") || ix.focused().run != nil ||
		!strings.Contains(plain, "· printing texts…") {
		t.Fatalf("the indexed viewer waited for its run, or does not say it prints the texts:\n%s", plain)
	}
	drain(ix, ci)
	if ix.focused().run == nil || !ix.focused().textFilled {
		t.Fatal("the background work did not arrive")
	}
	for _, keys := range [][]string{nil, {"c"}, {"c"}, {"x"}, {"tab", "x"}, {"/", "b", "t", "i", "enter"}, {"r"}, {"r"}} {
		for _, k := range keys {
			_, c1 := whole.Update(pressMsg(k))
			drain(whole, c1)
			_, c2 := ix.Update(pressMsg(k))
			drain(ix, c2)
		}
		if a, b := whole.Render(), ix.Render(); a != b {
			t.Fatalf("after %v the screens differ:\n%s\nindexed:\n%s", keys, ansi.Strip(a), ansi.Strip(b))
		}
	}
}
