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
	if m.stateShown() {
		// The state pane shows the runs: compute them before the
		// listings draw their PC.
		// (A large program's runs are computed in the background,
		// startRuns, not before its first frame.)
		for _, p := range m.visible() {
			if p.l.Err == nil && !m.backgroundRun(p) {
				m.ensureRun(p)
			}
		}
	}
	m.ensureDiff()
	lines := make([]string, 0, h)
	lines = append(lines, m.titleLine())
	lines = append(lines, m.panesView()...)
	lines = append(lines, m.describeLine())
	if m.stateShown() {
		lines = append(lines, m.statePane()...)
	} else {
		lines = append(lines, m.c.Styles.Theme.Dim.Render(pad(m.runLine(), m.c.Width)))
	}
	if m.tour.open {
		lines = append(lines, m.captionView()...)
	}
	lines = append(lines, m.statusLine())
	m.keyOverlay(lines)
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
	// The longest message that fits: a 10x3 terminal still reads
	// "jitscope / need 60x15 / (now 10x3)".
	msgs := []string{
		fmt.Sprintf("jitscope needs at least %dx%d (now %dx%d)", MinWidth, MinHeight, w, h),
		fmt.Sprintf("jitscope need %dx%d (now %dx%d)", MinWidth, MinHeight, w, h),
		fmt.Sprintf("need %dx%d", MinWidth, MinHeight),
	}
	var out []string
	for _, msg := range msgs {
		out = wrap(msg, max(w, 1))
		fits := len(out) <= max(h, 1)
		for _, l := range out {
			fits = fits && len(l) <= max(w, 1)
		}
		if fits {
			break
		}
	}
	if h > 0 && len(out) > h {
		out = out[:h]
	}
	for i, l := range out {
		if w > 0 && len(l) > w {
			out[i] = l[:w]
		}
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

// helpBox is the help overlay, generated from the keymap: the keymap's
// columns side by side, in as many rows of columns as the width needs.
func (m *Model) helpBox() []string {
	th := m.c.Styles.Theme
	groups := m.c.Keys.FullHelp()
	hm := m.help
	hm.SetWidth(0) // measured here, not cut by bubbles
	avail := m.c.Width - 8
	var body []string
	for per := len(groups); per >= 1; per-- {
		body = body[:0]
		fits := true
		for i := 0; i < len(groups); i += per {
			if i > 0 {
				body = append(body, "")
			}
			for _, l := range strings.Split(hm.FullHelpView(groups[i:min(i+per, len(groups))]), "\n") {
				fits = fits && ansi.StringWidth(l) <= avail
				body = append(body, l)
			}
		}
		if fits {
			break
		}
	}
	inner := 0
	for _, l := range body {
		inner = max(inner, ansi.StringWidth(l))
	}
	inner = min(inner+4, m.c.Width-4)
	lines := []string{th.OverlayTitle.Render(pad(" jitscope keys", inner)), th.Overlay.Render(spaces(inner))}
	for _, l := range body {
		lw := ansi.StringWidth(l)
		if lw > inner-2 {
			l, lw = ansi.Truncate(l, inner-2, "…"), inner-2
		}
		l = th.Overlay.Render("  ") + l
		if lw+2 < inner {
			l += th.Overlay.Render(spaces(inner - lw - 2))
		}
		lines = append(lines, l)
	}
	legend := func(s string) {
		for _, w := range wrap(s, inner-3) {
			lines = append(lines, th.Overlay.Render(pad(" "+w, inner)))
		}
	}
	lines = append(lines, th.Overlay.Render(spaces(inner)))
	legend("Arrows: ╭╰│ branch, ┊ backward, ┏┗┃ call/tail call/return, bold: on the cursor line")
	legend("Marker: ▌ prologue/epilogue/tail call, » tail call landing pad")
	legend("; text  // file:line rows: the C source line starting at the BPF instruction below (BTF line info; u hides them)")
	legend("Version diff (a: one architecture, two profiles): ~ instruction changed, + only on this side; d/D go to the next/previous change")
	legend("Verifier (v, BPF objects, profiles with verifier facts: x86_64 v6.18): the BPF column is what the JIT sees after the verifier's rewrites, the column before it the BPF as written, * where the verifier changed it")
	lines = append(lines, th.Overlay.Render(spaces(inner)))
	legend("Stepping runs the entry program on the emulator with the scenario's packet (w chooses another); each pane has its own run, step keys act on the focused one.")
	legend("t walks the scenario's guided tour (ctrl+t back, esc closes the caption). jitscope tour NAME and open --autoplay play it: while it plays, space pauses, ←/→ go to the previous/next stop and +/- change the speed instead of following arrows, moving between functions and going back; any other key pauses it and shows in a key overlay.")
	legend("Profiles marked ≈ are compatibility models only: their JIT output is not modelled instruction-exactly.")
	legend("▶ next instruction to run · × prologue the tail call just skipped · ╔═╚ edge just taken · * register the last step changed")
	legend("any key closes this help")
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

// describeLine says what the focused pane's cursor is on.
func (m *Model) describeLine() string {
	return m.c.Styles.Theme.Text.Render(pad(describe(m.focused()), m.c.Width))
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
	if li, ok := l.SourceLine(r); ok {
		return " " + session.SourceText(li)
	}
	if ln == nil {
		return fmt.Sprintf(" %s at %#x, %d bytes, %d instructions", f.Image.Name, f.Image.Address, len(f.Image.Code), f.Len())
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
