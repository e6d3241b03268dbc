// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/session"
)

// View draws the screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "jitscope — " + m.sess.Target.Name
	return v
}

// Render is the screen's content: what View shows, as one string.
func (m *Model) Render() string {
	w, h := m.c.Width, m.c.Height
	if w < MinWidth || h < MinHeight {
		return m.tooSmall()
	}
	lines := make([]string, 0, h)
	lines = append(lines, m.titleLine())
	lines = append(lines, m.panesView()...)
	lines = append(lines, m.state.view(m)...)
	lines = append(lines, m.statusLine())
	switch m.mode {
	case modeHelp:
		m.overlay(lines, m.helpBox())
	case modePicker:
		m.overlay(lines, m.picker.view(w))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) tooSmall() string {
	w, h := m.c.Width, m.c.Height
	msg := fmt.Sprintf("jitscope needs at least %dx%d (now %dx%d)", MinWidth, MinHeight, w, h)
	var out []string
	for _, s := range wrap(msg, max(w, 10)) {
		out = append(out, s)
	}
	return m.c.Styles.Theme.Title.Render(strings.Join(out, "\n"))
}

func (m *Model) titleLine() string {
	th := m.c.Styles.Theme
	t := m.sess.Target
	desc, _, _ := strings.Cut(t.Set.Description, "\n")
	s := " jitscope  " + t.Name
	if desc != "" {
		s += " — " + desc
	}
	s = pad(s, m.c.Width)
	return th.Status.Render(s)
}

// panesView lays the visible panes out side by side, with a rule between.
func (m *Model) panesView() []string {
	vis := m.visible()
	var fr [2]frame
	for i, p := range m.panes {
		o := m.panes[1-i]
		fr[i] = frame{linked: -1, query: m.query}
		if !p.focused && o.focused && o.cursor < len(o.l.Rows) {
			fr[i].linked = o.l.Rows[o.cursor].BPF
		}
	}
	if len(vis) == 1 {
		return vis[0].View(fr[m.focus])
	}
	left, right := m.panes[0].View(fr[0]), m.panes[1].View(fr[1])
	rule := m.c.Styles.sgr[sDim][bgNone] + "│" + sgrReset
	out := make([]string, len(left))
	for i := range left {
		out[i] = left[i] + rule + right[i]
	}
	return out
}

// statusLine shows the prompt while typing, else the last message, else
// the short help.
func (m *Model) statusLine() string {
	th := m.c.Styles.Theme
	w := m.c.Width
	switch {
	case m.mode == modeSearch || m.mode == modeGoto:
		hint := "  enter: go · esc: cancel"
		if m.mode == modeGoto {
			hint = "  address, function or function+off · esc: cancel"
		}
		s := m.input.View()
		return s + th.Status.Render(pad(hint, max(w-ansi.StringWidth(s), 0)))
	case m.msg != "":
		st := th.Status
		if m.msgErr {
			st = th.Error.Inherit(th.Status)
		}
		return st.Render(pad(" "+m.msg, w))
	}
	// The short help changes only with the width and the theme.
	if k := (statusKey{w, m.c.Styles}); m.shortHelp.key != k {
		s := " " + m.help.ShortHelpView(m.c.Keys.ShortHelp())
		m.shortHelp.key, m.shortHelp.s = k, th.Status.Render(pad(s, w))
	}
	return m.shortHelp.s
}

type statusKey struct {
	w  int
	st *Styles
}

// helpBox is the help overlay, generated from the keymap.
func (m *Model) helpBox() []string {
	th := m.c.Styles.Theme
	body := strings.Split(m.help.FullHelpView(m.c.Keys.FullHelp()), "\n")
	inner := 0
	for _, l := range body {
		inner = max(inner, ansi.StringWidth(l))
	}
	inner = min(inner+4, m.c.Width-4)
	lines := []string{th.OverlayTitle.Render(pad(" jitscope keys", inner)), th.Overlay.Render(spaces(inner))}
	for _, l := range body {
		lw := ansi.StringWidth(l)
		l = th.Overlay.Render("  ") + l
		if lw+2 < inner {
			l += th.Overlay.Render(spaces(inner - lw - 2))
		}
		lines = append(lines, l)
	}
	lines = append(lines, th.Overlay.Render(spaces(inner)),
		th.Overlay.Render(pad(" Arrows: ╭╰│ branch, ┊ backward, ┏┗┃ call/tail call/return, bold: on the cursor line", inner)),
		th.Overlay.Render(pad(" Marker: ▌ prologue/epilogue/tail call, » tail call landing pad", inner)),
		th.Overlay.Render(pad(" any key closes this help", inner)))
	return box(th.Overlay, lines, inner)
}

// overlay draws box centred over lines.
func (m *Model) overlay(lines, box []string) {
	bw := 0
	for _, l := range box {
		bw = max(bw, ansi.StringWidth(l))
	}
	x := max((m.c.Width-bw)/2, 0)
	y := max((len(lines)-len(box))/2, 0)
	for i, b := range box {
		if y+i >= len(lines) {
			break
		}
		base := lines[y+i]
		lines[y+i] = ansi.Truncate(base, x, "") + b + ansi.TruncateLeft(base, x+bw, "")
	}
}

// stateView is the strip under the listings: what is under the cursor,
// and the run (stepping arrives with the emulators).
type stateView struct {
	trace session.Trace
}

func (s *stateView) view(m *Model) []string {
	th := m.c.Styles.Theme
	w := m.c.Width
	p := m.focused()
	info := describe(p)
	run := " run: no run yet"
	if s.trace != nil {
		run = fmt.Sprintf(" run: %d steps", s.trace.Len())
	}
	return []string{
		th.Text.Render(pad(info, w)),
		th.Dim.Render(pad(run, w)),
	}
}

// describe says what the cursor is on: where, which BPF instruction, which
// region, and where its arrow goes.
func describe(p *Pane) string {
	l := p.l
	if l.Err != nil || len(l.Rows) == 0 {
		return ""
	}
	r := p.cursor
	f := l.Func(r)
	ln := l.Line(r)
	if ln == nil {
		return fmt.Sprintf(" %s at %#x, %d bytes, %d instructions", f.Image.Name, f.Image.Address, len(f.Image.Code), len(f.Lines))
	}
	s := fmt.Sprintf(" %s+%#x  %#x  %s", f.Image.Name, ln.Offset, ln.Addr, ln.Text)
	if in, ok := l.BPFInsn(r); ok {
		s += fmt.Sprintf("  ·  bpf %d: %s", in.Index, disasm.BPFText(in))
	}
	if ln.Region != "" {
		s += "  ·  " + regionName(ln.Region)
	}
	if t := l.Target(r); t >= 0 {
		if tl := l.Line(t); tl != nil {
			tf := l.Func(t)
			s += fmt.Sprintf("  ·  → %s+%#x (enter follows)", tf.Image.Name, tl.Offset)
		}
	}
	return s
}
