// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// newTest builds the model on the default scenario at w x h. The screen's
// content is lipgloss' full-colour output, so goldens do not depend on the
// terminal running the tests; the renderer downsamples only when drawing.
func newTest(t testing.TB, th *themes.Theme, w, h int) *Model {
	t.Helper()
	sess, err := session.Load(scenarios.Default, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewFromSession(Options{Theme: th.Name}, th, sess)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

func press(m *Model, keys ...string) {
	for _, k := range keys {
		m.Update(pressMsg(k))
	}
}

// pressMsg is the message of key k ("tab", "enter", "esc", "backspace"
// or a character).
func pressMsg(k string) tea.KeyPressMsg {
	switch k {
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	}
	r := []rune(k)[0]
	return tea.KeyPressMsg{Code: r, Text: k}
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// requireScreen compares the screen with two goldens: the styled screen
// and the screen without escape sequences (the one to read in a review).
func requireScreen(t *testing.T, m *Model) {
	t.Helper()
	out := m.Render()
	t.Run("styled", func(t *testing.T) { golden.RequireEqual(t, out) })
	t.Run("plain", func(t *testing.T) { golden.RequireEqual(t, ansi.Strip(out)) })
}

// requireShape checks every line is exactly the terminal's width and the
// screen exactly its height: a line too long wraps and breaks the layout.
func requireShape(t *testing.T, m *Model) {
	t.Helper()
	lines := strings.Split(m.Render(), "\n")
	if len(lines) != m.c.Height {
		t.Fatalf("%d lines on a %d-line terminal", len(lines), m.c.Height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w != m.c.Width {
			t.Fatalf("line %d is %d columns on a %d-column terminal: %q", i, w, m.c.Width, ansi.Strip(l))
		}
	}
}

func TestStartup(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	requireShape(t, m)
	requireScreen(t, m)
	plain := ansi.Strip(m.Render())
	for _, want := range []string{
		"arm64 · bpf-next-2022-06", "x86_64 · v6.18",
		"int entry(struct __sk_buff *skb):", "mov x26, #0x0", "bti j", "blr x10", "┏━━ blr x10",
		"arm64 run · step 0 of 86 · ▶ entry+0x0 · prologue", "x86_64 run · step 0 of 50",
		" x7   r0 ", " rax    r0 ",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("startup screen lacks %q", want)
		}
	}
}

func TestSideBySideLinked(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	// Put the arm64 cursor on the bpf2bpf call (BPF insn 2: blr x10).
	a := m.panes[0]
	r := a.l.RowOfAddr(0xffffffc00901521c)
	a.SetCursor(r)
	m.sync()
	x := m.panes[1]
	in, ok := x.l.BPFInsn(x.cursor)
	if !ok || in.Kind != kernel.FuncCall {
		t.Fatalf("x86 cursor on %v, want the same BPF call", in)
	}
	// Every x86 line of that BPF instruction is highlighted as linked.
	f := frame{linked: a.l.Rows[r].BPF}
	n := 0
	for xr := range x.l.Rows {
		if x.l.Rows[xr].BPF == f.linked && xr != x.cursor {
			if got := x.rowBG(xr, f); got != bgLinked {
				t.Errorf("x86 row %d of the linked BPF insn has background %d, want linked", xr, got)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("the call is one x86 instruction only? want its LOAD_TAIL_CALL_CNT_PTR too")
	}
	requireShape(t, m)
	requireScreen(t, m)
}

func TestHelpOverlay(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "?")
	requireShape(t, m)
	requireScreen(t, m)
	plain := ansi.Strip(m.Render())
	// Generated from the keymap: every binding's help is on it.
	for _, g := range m.c.Keys.FullHelp() {
		for _, b := range g {
			if !strings.Contains(plain, b.Help().Desc) {
				t.Errorf("help overlay lacks %q", b.Help().Desc)
			}
		}
	}
	press(m, "x")
	if m.mode != modeNormal {
		t.Error("a key did not close the help")
	}
}

func TestNarrow(t *testing.T) {
	m := newTest(t, themes.Dark(), 50, 12)
	requireScreen(t, m)
	if got := ansi.Strip(m.Render()); !strings.Contains(got, "jitscope needs at least 60x15 (now 50x12)") {
		t.Errorf("narrow screen says %q", got)
	}
	m.Update(tea.WindowSizeMsg{Width: 60, Height: 15})
	requireShape(t, m)
}

func TestLightTheme(t *testing.T) {
	m := newTest(t, themes.Light(), 200, 50)
	requireScreen(t, m)
}

func TestShapeAtManySizes(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	for _, sz := range [][2]int{{60, 15}, {80, 24}, {100, 30}, {133, 41}, {250, 70}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		requireShape(t, m)
		press(m, "b")
		requireShape(t, m)
		press(m, "z")
		requireShape(t, m)
		press(m, "z", "b", "G")
		requireShape(t, m)
		press(m, "g")
		// The help overlay and the stepping state fit too.
		press(m, "?")
		requireShape(t, m)
		press(m, "?", "x", "s", "L", "e")
		requireShape(t, m)
		press(m, "L", "R")
	}
}

func TestBackgroundSelectsTheme(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	m := newTest(t, themes.Dark(), 200, 50)
	m.themeName = "auto"
	m.Update(tea.BackgroundColorMsg{Color: ansi.RGBColor{R: 0xff, G: 0xff, B: 0xf0}})
	if got := m.c.Styles.Theme.Name; got != "light" {
		t.Errorf("light background gave the %s theme", got)
	}
	m.Update(tea.BackgroundColorMsg{Color: ansi.RGBColor{R: 0x10, G: 0x10, B: 0x10}})
	if got := m.c.Styles.Theme.Name; got != "dark" {
		t.Errorf("dark background gave the %s theme", got)
	}
	m.themeName = "high-contrast"
	m.Update(tea.BackgroundColorMsg{Color: ansi.RGBColor{R: 0xff, G: 0xff, B: 0xff}})
	if got := m.c.Styles.Theme.Name; got != "dark" {
		t.Errorf("an explicit theme was replaced by %s on a background report", got)
	}
}

func TestKeyDownMovesCursor(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	p := m.focused()
	press(m, "j", "j")
	if p.cursor != 2 {
		t.Fatalf("cursor at %d after jj, want 2", p.cursor)
	}
	if ln := p.l.Line(2); ln == nil || ln.Text != "stp x29, x30, [sp, #-16]!" {
		t.Errorf("row 2 is %+v", ln)
	}
	press(m, "k")
	if p.cursor != 1 {
		t.Errorf("cursor at %d after k, want 1", p.cursor)
	}
	press(m, "G")
	if p.cursor != len(p.l.Rows)-1 {
		t.Errorf("G: cursor at %d of %d rows", p.cursor, len(p.l.Rows))
	}
	press(m, "g", "l")
	if f := p.l.Func(p.cursor); f.Image.Name != "subprog_tail" || p.l.Rows[p.cursor].Kind != session.RowHeader {
		t.Errorf("l went to %s row %d, want subprog_tail's header", f.Image.Name, p.cursor)
	}
}

func TestTabSwitchesPane(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "tab")
	if m.focus != 1 || !m.panes[1].focused || m.panes[0].focused {
		t.Fatalf("focus %d after tab", m.focus)
	}
	press(m, "j")
	if m.panes[1].cursor != 1 {
		t.Errorf("j in the x86 pane left its cursor at %d", m.panes[1].cursor)
	}
	press(m, "tab")
	if m.focus != 0 {
		t.Errorf("second tab: focus %d", m.focus)
	}
}

func TestSearchFindsBTI(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "/")
	typeText(m, "bti j")
	press(m, "enter")
	p := m.focused()
	ln := p.l.Line(p.cursor)
	if ln == nil || ln.Text != "bti j" || ln.Addr != 0xffffffc0090151f8 {
		t.Fatalf("search bti j: cursor on %+v", ln)
	}
	press(m, "n")
	if ln2 := p.l.Line(p.cursor); ln2 == nil || ln2.Text != "bti j" || ln2.Addr != 0xffffffc008ff5898 {
		t.Errorf("n: cursor on %+v, want classifier_0's landing pad", ln2)
	}
	press(m, "N")
	if p.l.Line(p.cursor).Addr != 0xffffffc0090151f8 {
		t.Errorf("N did not go back to entry's bti j")
	}
	// Symbols: a function name finds its header.
	press(m, "/")
	typeText(m, "classifier_0")
	m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
	typeText(m, "_0")
	press(m, "enter")
	if p.l.Rows[p.cursor].Kind != session.RowHeader || p.l.Func(p.cursor).Image.Name != "classifier_0" {
		t.Errorf("search classifier_0 landed on row %d", p.cursor)
	}
}

func TestGotoAndFollow(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, ":")
	typeText(m, "0xffffffc00902d2f4")
	press(m, "enter")
	p := m.focused()
	if p.l.Line(p.cursor).Text != "br x10" {
		t.Fatalf(": address: cursor on %q", p.l.Line(p.cursor).Text)
	}
	press(m, "enter") // follow the tail call
	if ln := p.l.Line(p.cursor); ln.Text != "bti j" || p.l.Func(p.cursor).Image.Name != "classifier_0" {
		t.Errorf("following br x10 reached %s %q", p.l.Func(p.cursor).Image.Name, ln.Text)
	}
	press(m, "backspace")
	if p.l.Line(p.cursor).Text != "br x10" {
		t.Errorf("back: cursor on %q", p.l.Line(p.cursor).Text)
	}
	press(m, ":")
	typeText(m, "subprog_tail+0x4")
	press(m, "enter")
	if ln := p.l.Line(p.cursor); ln.Addr != 0xffffffc00902d260 {
		t.Errorf(": subprog_tail+0x4 went to %#x", ln.Addr)
	}
}

func TestProfilePickerChangesListing(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "p")
	if m.mode != modePicker {
		t.Fatal("p opened no picker")
	}
	// The arm64 profiles in order: v5.10, bpf-next-2022-06, v6.1, v6.18.
	press(m, "j", "enter")
	p := m.panes[0]
	if p.l.Profile.Name != "v6.1" || p.l.Err != nil {
		t.Fatalf("picked %v (%v), want v6.1", p.l.Profile.Name, p.l.Err)
	}
	// 6.1 has the patchable entry (mov x9, lr; nop) and "bti jc".
	if !strings.Contains(ansi.Strip(m.Render()), "bti jc") {
		t.Error("the v6.1 listing shows no bti jc")
	}
	// v5.10 refuses the program: the pane says why, nothing crashes.
	press(m, "p", "g", "enter")
	if p.l.Err == nil {
		t.Fatal("v5.10 compiled a tail call from a subprogram")
	}
	requireShape(t, m)
	if got := ansi.Strip(m.Render()); !strings.Contains(got, "cannot show this listing") || !strings.Contains(got, "not allowed") {
		t.Errorf("refusal not shown:\n%s", got)
	}
	// P picks for the other pane.
	press(m, "P", "g", "enter")
	if m.panes[1].l.Profile.Name != "v5.10" {
		t.Errorf("P: x86 pane on %s, want v5.10", m.panes[1].l.Profile.Name)
	}
}

func TestLayoutZoomSyntaxBytes(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "i")
	if m.panes[1].l.Syntax != session.SyntaxIntel || m.panes[0].l.Err != nil {
		t.Fatalf("i: x86 syntax %q, arm64 err %v", m.panes[1].l.Syntax, m.panes[0].l.Err)
	}
	if !strings.Contains(ansi.Strip(m.Render()), "xor rax,rax") {
		t.Error("Intel syntax not shown")
	}
	press(m, "b")
	if !strings.Contains(ansi.Strip(m.Render()), "d503233f") {
		t.Error("b: no arm64 instruction words (paciasp is d503233f)")
	}
	press(m, "a")
	if m.panes[0].l.Arch != kernel.X86_64 || m.panes[1].l.Arch != kernel.ARM64 {
		t.Errorf("a: layout %s | %s", m.panes[0].l.Arch, m.panes[1].l.Arch)
	}
	press(m, "a")
	if m.panes[0].l.Arch != kernel.ARM64 || m.panes[1].l.Arch != kernel.ARM64 || m.panes[0].l.Profile.Name == m.panes[1].l.Profile.Name {
		t.Errorf("a a: want arm64 under two profiles, got %s %s | %s %s", m.panes[0].l.Arch, m.panes[0].l.Profile.Name, m.panes[1].l.Arch, m.panes[1].l.Profile.Name)
	}
	press(m, "z")
	if !m.zoom || m.focused().w != 200 {
		t.Errorf("z: zoom %v, pane width %d", m.zoom, m.focused().w)
	}
}

func TestMouse(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	// Click row 10 of the right pane: focus moves there.
	m.Update(tea.MouseClickMsg{X: 150, Y: 12, Button: tea.MouseLeft})
	if m.focus != 1 || m.panes[1].cursor != 10 {
		t.Errorf("click: focus %d, cursor %d; want pane 1 row 10", m.focus, m.panes[1].cursor)
	}
	m.Update(tea.MouseWheelMsg{X: 10, Y: 20, Button: tea.MouseWheelDown})
	if m.panes[0].top != 3 {
		t.Errorf("wheel down: left pane top %d, want 3", m.panes[0].top)
	}
}

func TestScenarioPicker(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	press(m, "f")
	if m.mode != modePicker || len(m.picker.items) != len(scenarios.Builtins()) {
		t.Fatalf("f: mode %d", m.mode)
	}
	press(m, "esc")
	if m.mode != modeNormal {
		t.Error("esc did not close the picker")
	}
}

// TestProgram runs the real program (teatest): it starts, shows both
// listings with arrows, and quits on q.
func TestProgram(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(200, 50),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.TrueColor)))
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		s := ansi.Strip(string(b))
		return strings.Contains(s, "paciasp") && strings.Contains(s, "x86_64 · v6.18") && strings.Contains(s, "━")
	}, teatest.WithDuration(5*time.Second))
	tm.Send(tea.KeyPressMsg{Code: 'j', Text: "j"})
	tm.Send(tea.KeyPressMsg{Code: 'q', Text: "q"})
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if fm.focused().cursor != 1 {
		t.Errorf("after j the cursor is at %d", fm.focused().cursor)
	}
}
