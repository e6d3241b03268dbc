// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// v on an object with an array map lookup: the x86-64 v6.18 pane compiles
// what the verifier leaves, and the "as written" column shows the call
// the inlined lookup replaced beside its first instruction, marked '*'.
// The arm64 pane (no verifier facts) stays as written, and the status
// line says so.
func TestVerifierColumn(t *testing.T) {
	sess, err := session.Load("../live/testdata/maps.bpf.o", session.Options{
		Profiles: map[kernel.Arch]string{kernel.X86_64: "v6.18"}})
	if err != nil {
		t.Fatal(err)
	}
	th := themes.Dark()
	m := NewFromSession(Options{Theme: th.Name}, th, sess)
	m.Update(tea.WindowSizeMsg{Width: 320, Height: 60})
	press(m, "v")
	x := m.panes[1]
	if x.l.Arch != kernel.X86_64 || x.l.Rewrites == nil {
		t.Fatalf("after v: pane 2 is %s with rewrites %v (status %q)", x.l.Arch, x.l.Rewrites != nil, m.msg)
	}
	if m.panes[0].l.Rewrites != nil {
		t.Error("the arm64 pane has rewrites: no facts for it")
	}
	if !strings.Contains(m.msg, "verifier rewrites: on") || !strings.Contains(m.msg, "no verifier facts for arm64") {
		t.Errorf("status %q: want on, and why arm64 is as written", m.msg)
	}
	site := -1
	for r := range x.l.Rows {
		if in, ok := x.l.BPFInsn(r); ok && disasm.BPFText(in) == "r1 += 312" {
			site = r
			break
		}
	}
	if site < 0 {
		t.Fatal("no inlined array lookup (r1 += 312) in the x86-64 listing")
	}
	m.setFocus(1)
	x.SetCursor(site)
	m.sync()
	requireShape(t, m)
	plain := ansi.Strip(m.Render())
	found := false
	for _, ln := range strings.Split(plain, "\n") {
		w := strings.Index(ln, "* 10: call bpf_map_lookup_elem")
		j := strings.Index(ln, ": r1 += 312")
		if w >= 0 && j > w {
			found = true
		}
	}
	if !found {
		t.Errorf("no line with the call as written beside r1 += 312:\n%s", plain)
	}
	if !strings.Contains(plain, "BPF as written → as the JIT sees it") {
		t.Error("the x86-64 pane's title does not say it shows the rewrites")
	}
	// v again: back to the BPF as written, no fourth column.
	press(m, "v")
	if m.panes[1].l.Rewrites != nil || m.panes[1].lay.origW != 0 {
		t.Errorf("after v v: rewrites %v, column width %d", m.panes[1].l.Rewrites != nil, m.panes[1].lay.origW)
	}
}

// v on a scenario (no BPF as written to compare with) says why in one
// status line and changes nothing.
func TestVerifierUnavailable(t *testing.T) {
	m := newTest(t, themes.Dark(), 200, 50)
	before := m.panes[1].l
	press(m, "v")
	if !m.msgErr || !strings.Contains(m.msg, "not a BPF object") || strings.Contains(m.msg, "\n") {
		t.Errorf("status %q (error %v): want one line saying it is not a BPF object", m.msg, m.msgErr)
	}
	if m.panes[1].l != before || m.sess.Verifier() {
		t.Error("a refused v changed the listing or the mode")
	}
	if lines := strings.Split(ansi.Strip(m.Render()), "\n"); !strings.Contains(lines[len(lines)-1], "not a BPF object") {
		t.Errorf("status line %q", lines[len(lines)-1])
	}
}
