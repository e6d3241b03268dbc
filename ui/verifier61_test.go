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

// v with arm64 v6.1 beside x86-64 v6.1: both panes compile what Linux
// 6.1's verifier leaves (skb->len read from struct sk_buff at 112), and
// the "as written" column shows the uapi load it came from.
func TestVerifierColumn61(t *testing.T) {
	profiles := map[kernel.Arch]string{kernel.ARM64: "v6.1", kernel.X86_64: "v6.1"}
	sess, err := session.Load("../testdata/captures-src/obj/qemu-tailcall_simple.bpf.o", session.Options{Profiles: profiles})
	if err != nil {
		t.Fatal(err)
	}
	th := themes.Dark()
	m := NewFromSession(Options{Theme: th.Name, Profiles: profiles}, th, sess)
	m.Update(tea.WindowSizeMsg{Width: 320, Height: 60})
	press(m, "v")
	if !strings.Contains(m.msg, "verifier rewrites: on") || strings.Contains(m.msg, "no verifier facts") {
		t.Errorf("status %q: want on for both panes", m.msg)
	}
	for i, p := range m.panes[:2] {
		if p.l.Rewrites == nil || p.l.Profile.Name != "v6.1" {
			t.Fatalf("pane %d (%s %s): no rewrites", i, p.l.Arch, p.l.Profile.Name)
		}
		site := -1
		for r := range p.l.Rows {
			if in, ok := p.l.BPFInsn(r); ok && disasm.BPFText(in) == "r3 = *(u32 *)(r1 + 112)" {
				site = r
				break
			}
		}
		if site < 0 {
			t.Fatalf("pane %d (%s): no load of sk_buff.len at 112", i, p.l.Arch)
		}
		m.setFocus(i)
		p.SetCursor(site)
		m.sync()
		requireShape(t, m)
		plain := ansi.Strip(m.Render())
		found := false
		for _, ln := range strings.Split(plain, "\n") {
			w := strings.Index(ln, ": r3 = *(u32 *)(r1 + 0)")
			j := strings.Index(ln, ": r3 = *(u32 *)(r1 + 112)")
			if w >= 0 && j > w && strings.Contains(ln[:w], "*") {
				found = true
			}
		}
		if !found {
			t.Errorf("pane %d (%s): no line with the uapi load as written beside the sk_buff load:\n%s", i, p.l.Arch, plain)
		}
	}
}
