// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/themes"
)

// bomb is a model with a bug: it panics where told to.
type bomb struct{ inUpdate, inView, inCmd bool }

func (b *bomb) Init() tea.Cmd { return nil }
func (b *bomb) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "x" {
		switch {
		case b.inUpdate:
			var m map[string]int
			m["boom"]++ // assignment to entry in nil map
		case b.inCmd:
			return b, tea.Batch(func() tea.Msg { return nil }, func() tea.Msg { panic("bad command") })
		}
	}
	return b, nil
}
func (b *bomb) View() tea.View {
	if b.inView {
		var s []int
		_ = s[3]
	}
	return tea.NewView("fine")
}

func keyMsg(s string) tea.KeyPressMsg {
	if s == "esc" {
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

// A panic in Update, in View or in a command becomes the error pane; the
// only thing left to do is quit, and Run reports the error.
func TestGuardCatchesPanics(t *testing.T) {
	for _, c := range []struct {
		name string
		b    *bomb
		want string
	}{
		{"update", &bomb{inUpdate: true}, "assignment to entry in nil map"},
		{"view", &bomb{inView: true}, "index out of range"},
		{"command", &bomb{inCmd: true}, "bad command"},
	} {
		g := newGuard(c.b, false)
		g.Update(tea.WindowSizeMsg{Width: 40, Height: 10})
		_, cmd := g.Update(keyMsg("x"))
		if cmd != nil {
			// Run the command as Bubble Tea would, batch members too.
			msg := cmd()
			if b, ok := msg.(tea.BatchMsg); ok {
				for _, bc := range b {
					if m := bc(); m != nil {
						g.Update(m)
					}
				}
			} else if msg != nil {
				g.Update(msg)
			}
		}
		screen := g.View().Content
		if g.err == nil || !strings.Contains(screen, "internal error") || !strings.Contains(screen, c.want) {
			t.Errorf("%s: screen %q, err %v", c.name, screen, g.err)
			continue
		}
		if !g.View().AltScreen {
			t.Errorf("%s: the error pane left the alternate screen", c.name)
		}
		if len(g.err.Stack) == 0 {
			t.Errorf("%s: no stack kept", c.name)
		}
		for _, l := range strings.Split(screen, "\n") {
			if ansi.StringWidth(l) > 40 {
				t.Errorf("%s: error pane line wider than the terminal: %q", c.name, l)
			}
		}
		if _, cmd := g.Update(keyMsg("j")); cmd != nil {
			t.Errorf("%s: a key other than q does something in the error pane", c.name)
		}
		if _, cmd := g.Update(keyMsg("q")); cmd == nil {
			t.Errorf("%s: q does not quit the error pane", c.name)
		} else if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s: q gives %T, want tea.QuitMsg", c.name, cmd())
		}
		var ie *InternalError
		if err := error(g.err); !errors.As(err, &ie) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %q is not one line", c.name, err)
		}
	}
}

// A 10x3 terminal shows that it needs more, in 3 lines of 10 columns.
func TestTinyTerminal(t *testing.T) {
	m := newTest(t, themes.Dark(), 10, 3)
	lines := strings.Split(ansi.Strip(m.Render()), "\n")
	var words []string
	for _, l := range lines {
		words = append(words, strings.TrimSpace(l))
	}
	if len(lines) > 3 || strings.Join(words, " ") != "jitscope need 60x15 (now 10x3)" {
		t.Errorf("10x3 screen %q", lines)
	}
	for _, l := range lines {
		if len(l) > 10 {
			t.Errorf("line %q is wider than 10", l)
		}
	}
	for _, sz := range [][2]int{{1, 1}, {5, 2}, {59, 14}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		lines := strings.Split(ansi.Strip(m.Render()), "\n")
		if len(lines) > max(sz[1], 1) {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for _, l := range lines {
			if len(l) > max(sz[0], 1) {
				t.Errorf("%dx%d: line %q too wide", sz[0], sz[1], l)
			}
		}
	}
}

// Without a UTF-8 locale the screen is ASCII with the same layout.
func TestASCIIScreen(t *testing.T) {
	m := newTest(t, themes.Dark(), 120, 40)
	press(m, "?")
	orig := m.Render()
	got := asciiScreen(orig)
	for i := 0; i < len(got); i++ {
		if got[i] >= 0x80 {
			t.Fatalf("non-ASCII byte %#x at %d: %q", got[i], i, got[max(0, i-20):i+1])
		}
	}
	ol, gl := strings.Split(orig, "\n"), strings.Split(got, "\n")
	if len(ol) != len(gl) {
		t.Fatalf("%d lines, was %d", len(gl), len(ol))
	}
	for i := range ol {
		if ansi.StringWidth(ol[i]) != ansi.StringWidth(gl[i]) {
			t.Errorf("line %d: width %d, was %d", i, ansi.StringWidth(gl[i]), ansi.StringWidth(ol[i]))
		}
	}
	if !strings.Contains(orig, "─") || !strings.Contains(got, "-") {
		t.Error("the help box has no box drawing to replace")
	}
	g := newGuard(m, true)
	if v := g.View().Content; strings.ContainsFunc(v, func(r rune) bool { return r >= 0x80 }) {
		t.Error("guard with ascii shows non-ASCII")
	}
}

func TestUTF8Locale(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, true},
		{map[string]string{"LANG": "en_US.UTF-8"}, true},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "de_DE.ISO-8859-1"}, false},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_ALL": "POSIX"}, false},
		{map[string]string{"LANG": "C", "LC_CTYPE": "C.utf8"}, true},
	} {
		if got := UTF8Locale(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %v, want %v", c.env, got, c.want)
		}
	}
}
