// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/kernel"
)

func newTrampTest(t *testing.T, proto string, w, h int) *TrampModel {
	t.Helper()
	f, err := abi.ParsePrototype(proto)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewTrampModel(TrampOptions{Func: f, Arch: kernel.ARM64, Fentry: 1, Theme: "mono"}, true)
	if err != nil {
		t.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

func trampKeys(m *TrampModel, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "tab":
			msg = tea.KeyPressMsg{Code: tea.KeyTab}
		case "right":
			msg = tea.KeyPressMsg{Code: tea.KeyRight}
		case "left":
			msg = tea.KeyPressMsg{Code: tea.KeyLeft}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		m.Update(msg)
	}
}

func trampShape(t *testing.T, m *TrampModel) {
	t.Helper()
	lines := strings.Split(m.Render(), "\n")
	if len(lines) != m.height {
		t.Errorf("%d lines, want %d", len(lines), m.height)
	}
	for i, l := range lines {
		if w := ansi.StringWidth(l); w > m.width {
			t.Errorf("line %d is %d columns wide, more than %d", i, w, m.width)
		}
	}
}

// TestTrampolineView: seed 003's example in the TUI: the placement page
// flags g, the version keys change the selected JIT, the emulator page
// shows what each version's program read.
func TestTrampolineView(t *testing.T) {
	m := newTrampTest(t, "int func(__int128 a, __int128 b, __int128 c, int64_t d, __int128 e, int64_t f, __int128 g)", 120, 40)
	trampShape(t, m)
	golden.RequireEqual(t, ansi.Strip(m.Render()))
	screen := ansi.Strip(m.Render())
	for _, want := range []string{"arm64 v6.18 · [placement]", "g    sp+32..+47", "sp+24,sp+32 ✗"} {
		if !strings.Contains(screen, want) {
			t.Errorf("placement page lacks %q", want)
		}
	}
	trampKeys(m, "left")
	if m.report.Selected.Version.Name != "seed003-v2" {
		t.Errorf("← selected %s, want seed003-v2", m.report.Selected.Version.Name)
	}
	trampKeys(m, "2")
	if s := ansi.Strip(m.Render()); !strings.Contains(s, "Stack layout (seed003-v2") || !strings.Contains(s, "nargs_off") {
		t.Errorf("stack page:\n%s", s)
	}
	trampKeys(m, "3")
	if s := ansi.Strip(m.Render()); !strings.Contains(s, "; save args") || !strings.Contains(s, "stp x29, x9, [sp, #-16]!") {
		t.Errorf("listing page:\n%s", s)
	}
	trampKeys(m, "4", "G")
	s := ansi.Strip(m.Render())
	// The last lines: v6.18's run, g read wrong.
	if !strings.Contains(s, "v6.18 (") || !strings.Contains(s, "g    ctx[11]") || !strings.Contains(s, "✗") {
		t.Errorf("emulator page:\n%s", s)
	}
	trampShape(t, m)
	trampKeys(m, "a")
	if m.report.Selected.Version.Arch != kernel.X86_64 {
		t.Errorf("a: arch %s, want x86_64", m.report.Selected.Version.Arch)
	}
	trampKeys(m, "1")
	if s := ansi.Strip(m.Render()); !strings.Contains(s, "SysV x86-64") {
		t.Errorf("x86 placement page:\n%s", s)
	}
	if _, cmd := m.Update(tea.KeyPressMsg{Code: 'q', Text: "q"}); cmd == nil {
		t.Error("q does not quit")
	}
}
