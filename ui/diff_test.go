// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// TestVersionDiff: the layout key reaches x86 v5.10 | x86 v6.18 (older
// profile on the left); the changed prologue instructions are marked ~,
// 6.11's tcc_ptr prologue + on the 6.18 side only, the titles count the
// changes, and d walks them.
func TestVersionDiff(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "a", "a", "a")
	a, b := m.panes[0], m.panes[1]
	if a.l.Arch != kernel.X86_64 || b.l.Arch != kernel.X86_64 || a.l.Profile.Name != "v5.10" || b.l.Profile.Name != "v6.18" {
		t.Fatalf("layout %s %s | %s %s", a.l.Arch, a.l.Profile.Name, b.l.Arch, b.l.Profile.Name)
	}
	requireShape(t, m)
	requireScreen(t, m)
	plain := ansi.Strip(m.Render())
	d := m.ensureDiff()
	for _, want := range []string{
		"x86_64 · v5.10 · at&t · entry · " + itoa(len(d.Changed[0])) + " changed",
		"x86_64 · v6.18 · at&t · entry · " + itoa(len(d.Changed[1])) + " changed",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	// The marks are text: they survive NO_COLOR (mono) and ansi.Strip.
	lines := strings.Split(plain, "\n")
	has := func(side int, prefix, text string) bool {
		for _, l := range lines {
			parts := strings.SplitN(l, "│", 2)
			if len(parts) < 2 {
				continue
			}
			if strings.HasPrefix(parts[side], prefix) && strings.Contains(parts[side], text) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		side         int
		prefix, text string
	}{
		{0, "~▌tcc init", "xor %eax,%eax"},
		{1, "~▌tcc init", "xor %rax,%rax"},
		{1, "+▌tcc init", "cmp $0x21,%rax"},
		{1, "+▌", "mov %rsp,%rax"},
		{0, " ▌prologue", "push %rbp"},
		{0, "~", "mov -0x9(%rbp),%rax"},
		{1, "~", "mov -0x18(%rbp),%rax"},
		{0, " ", "callq 0x"},
		{1, "~▌prologue", "nopl (%rax)"},
	} {
		if !has(c.side, c.prefix, c.text) {
			t.Errorf("pane %d: no line %q…%q", c.side, c.prefix, c.text)
		}
	}
	// d goes to the first change (the TCC initialisation), D back around.
	press(m, "d")
	if ln := a.l.Line(a.cursor); ln == nil || ln.Text != "xor %eax,%eax" {
		t.Errorf("d: cursor on %+v", ln)
	}
	if ln := b.l.Line(b.cursor); ln == nil || ln.Text != "xor %rax,%rax" {
		t.Errorf("d: the other pane follows to %+v", ln)
	}
	press(m, "d")
	if r := a.cursor; d.Mark(0, r) == session.DiffSame {
		t.Errorf("second d: row %d is not marked", r)
	}
	press(m, "D", "D")
	if r := a.cursor; r != d.Changed[0][len(d.Changed[0])-1] {
		t.Errorf("D from the first change: row %d, want the last change", r)
	}
	// Mono (NO_COLOR) shows the same marks.
	press(m, "g")
	m.setTheme(themes.Mono())
	if got := ansi.Strip(m.Render()); !strings.Contains(got, "+▌tcc init") {
		t.Error("mono theme lost the + marks")
	}
	// Back to arm64 | x86: no diff, no marker column.
	press(m, "a")
	if m.ensureDiff() != nil || strings.Contains(ansi.Strip(m.Render()), " changed") {
		t.Error("the arm64 | x86_64 layout shows a diff")
	}
	press(m, "d")
	if !strings.Contains(m.msg, "no version diff") {
		t.Errorf("d without a diff says %q", m.msg)
	}
}

// TestSourceLines loads tailcall.o, whose BTF line info puts the C source
// lines above the BPF instructions they start at; u hides them.
func TestSourceLines(t *testing.T) {
	sess, err := session.Load("../scenarios/testdata/elf/tailcall.o", session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewFromSession(Options{Target: "tailcall.o"}, themes.Dark(), sess)
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 50})
	press(m, "l") // entry, its body in view
	for range 14 {
		press(m, "j")
	}
	requireShape(t, m)
	requireScreen(t, m)
	plain := ansi.Strip(m.Render())
	for _, want := range []string{
		"; volatile char arr[1] = {};", "// ./tailcall.c:37",
		"; int entry(struct __sk_buff *skb)", "; done = 1;",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	// The notes do not say it again.
	if strings.Contains(plain, "./tailcall.c:37: volatile") {
		t.Error("the source line is also a note")
	}
	rows, src := len(m.panes[0].l.Rows), m.panes[0].l.SourceRows
	if src == 0 {
		t.Fatal("no source rows")
	}
	press(m, "u")
	plain = ansi.Strip(m.Render())
	if strings.Contains(plain, "; volatile char arr[1]") || len(m.panes[0].l.Rows) != rows-src {
		t.Errorf("u: source rows still shown (%d rows, were %d)", len(m.panes[0].l.Rows), rows)
	}
	if !strings.Contains(plain, "// ./tailcall.c") {
		t.Error("u: the source line is not back among the notes")
	}
	requireShape(t, m)
	press(m, "u")
	if len(m.panes[0].l.Rows) != rows {
		t.Errorf("u u: %d rows, want %d", len(m.panes[0].l.Rows), rows)
	}
	// The cursor stays on its instruction across the toggles, and the
	// describe line names a source row.
	p := m.focused()
	for r := range p.l.Rows {
		if p.l.Rows[r].Kind == session.RowSource {
			p.SetCursor(r)
			break
		}
	}
	if got := describe(p); !strings.Contains(got, "./tailcall.c:") {
		t.Errorf("describe on a source row: %q", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The diff's marker column and the source rows fit every size.
func TestDiffAndSourceShapes(t *testing.T) {
	sess, err := session.Load("../scenarios/testdata/elf/tailcall.o", session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewFromSession(Options{}, themes.Dark(), sess)
	press(m, "a", "a", "a") // x86 | x86: a diff with source rows
	if m.ensureDiff() == nil || m.panes[0].l.SourceRows == 0 {
		t.Fatal("no diff with source rows")
	}
	for _, sz := range [][2]int{{60, 15}, {80, 24}, {100, 30}, {133, 41}, {200, 50}, {250, 70}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		for _, keys := range [][]string{{"l", "j", "j"}, {"b"}, {"z"}, {"d"}, {"z", "b", "u"}, {"u", "G"}, {"g"}} {
			press(m, keys...)
			requireShape(t, m)
		}
	}
}
