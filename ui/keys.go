// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/session"
)

// handleKey acts on a key in normal mode.
func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	p := m.focused()
	m.msg = ""
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.mode = modeHelp
	case key.Matches(msg, k.Up):
		p.Move(-1)
	case key.Matches(msg, k.Down):
		p.Move(1)
	case key.Matches(msg, k.PageUp):
		p.Move(-max(p.h-1, 1))
	case key.Matches(msg, k.PageDown):
		p.Move(max(p.h-1, 1))
	case key.Matches(msg, k.Top):
		p.SetCursor(0)
	case key.Matches(msg, k.Bottom):
		p.SetCursor(len(p.l.Rows) - 1)
	case key.Matches(msg, k.PrevFunc):
		p.FuncStep(-1)
	case key.Matches(msg, k.NextFunc):
		p.FuncStep(1)
	case key.Matches(msg, k.Pane):
		m.setFocus(1 - m.focus)
		return nil
	case key.Matches(msg, k.Zoom):
		m.zoom = !m.zoom
		m.resize()
	case key.Matches(msg, k.Layout):
		m.cycleLayout()
	case key.Matches(msg, k.Follow):
		if !p.Follow() {
			m.say("no arrow leaves this line")
		}
	case key.Matches(msg, k.Back):
		if !p.Back() {
			m.say("nothing to go back to")
		}
	case key.Matches(msg, k.Search):
		m.openInput(modeSearch, "/", "")
		return nil
	case key.Matches(msg, k.Goto):
		m.openInput(modeGoto, ":", "")
		return nil
	case key.Matches(msg, k.Next):
		m.searchNext(1)
	case key.Matches(msg, k.Prev):
		m.searchNext(-1)
	case key.Matches(msg, k.Bytes):
		for _, q := range m.panes {
			q.ToggleBytes()
		}
	case key.Matches(msg, k.Syntax):
		m.toggleSyntax()
	case key.Matches(msg, k.Profile):
		m.profilePicker(m.focus)
		return nil
	case key.Matches(msg, k.OtherProfile):
		m.profilePicker(1 - m.focus)
		return nil
	case key.Matches(msg, k.Scenario):
		m.scenarioPicker()
		return nil
	case key.Matches(msg, k.Theme):
		m.cycleTheme()
	case key.Matches(msg, k.NextDiff):
		m.nextDiff(1)
	case key.Matches(msg, k.PrevDiff):
		m.nextDiff(-1)
	case key.Matches(msg, k.Source):
		m.toggleSource()
	case key.Matches(msg, k.Verifier):
		m.toggleVerifier()
	case key.Matches(msg, k.Step):
		m.step(stepInto, 1)
		return nil
	case key.Matches(msg, k.StepBack):
		m.step(stepInto, -1)
		return nil
	case key.Matches(msg, k.Over):
		m.step(stepOver, 1)
		return nil
	case key.Matches(msg, k.OverBack):
		m.step(stepOver, -1)
		return nil
	case key.Matches(msg, k.NextTCC):
		m.step(stepTCC, 1)
		return nil
	case key.Matches(msg, k.PrevTCC):
		m.step(stepTCC, -1)
		return nil
	case key.Matches(msg, k.NextTail):
		m.step(stepTail, 1)
		return nil
	case key.Matches(msg, k.PrevTail):
		m.step(stepTail, -1)
		return nil
	case key.Matches(msg, k.NextCall):
		m.step(stepCall, 1)
		return nil
	case key.Matches(msg, k.PrevCall):
		m.step(stepCall, -1)
		return nil
	case key.Matches(msg, k.Restart):
		m.step(stepRestart, 0)
		return nil
	case key.Matches(msg, k.Lock):
		m.toggleLock()
		return nil
	case key.Matches(msg, k.State):
		m.toggleState()
		return nil
	case key.Matches(msg, k.TourNext):
		return m.tourKey(1)
	case key.Matches(msg, k.TourPrev):
		return m.tourKey(-1)
	case key.Matches(msg, k.Packet):
		m.packetPicker()
		return nil
	case key.Matches(msg, k.TourClose):
		m.closeTour()
		return nil
	default:
		return nil
	}
	m.sync()
	return nil
}

func (m *Model) setFocus(i int) {
	m.panes[m.focus].focused = false
	m.focus = i
	m.panes[i].focused = true
	if m.zoom {
		m.resize()
	}
}

func (m *Model) openInput(md mode, prompt, value string) {
	m.mode = md
	m.input.Prompt = prompt
	m.input.SetValue(value)
	m.input.CursorEnd()
	m.input.Focus()
}

// updateInput edits the search or go-to line; enter runs it, esc cancels.
func (m *Model) updateInput(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc", "ctrl+c":
		m.mode = modeNormal
		m.input.Blur()
		return nil
	case "enter":
		v := strings.TrimSpace(m.input.Value())
		md := m.mode
		m.mode = modeNormal
		m.input.Blur()
		if md == modeSearch {
			m.query = v
			if v != "" {
				m.searchNext(1)
			}
		} else {
			m.gotoTarget(v)
		}
		m.sync()
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	return cmd
}

// searchNext moves the focused pane to the next (dir > 0) or previous match.
func (m *Model) searchNext(dir int) {
	if m.query == "" {
		m.say("no search yet: press /")
		return
	}
	p := m.focused()
	r := p.l.Search(m.query, p.cursor, dir)
	if r < 0 {
		m.fail("not found: %s", m.query)
		return
	}
	if (dir > 0 && r <= p.cursor) || (dir < 0 && r >= p.cursor) {
		m.say("search wrapped: %s", m.query)
	}
	p.SetCursor(r)
}

// gotoTarget moves to an address (hex, with or without 0x; a suffix of
// the address is enough when unambiguous in the low bits), a function
// name, or function+offset.
func (m *Model) gotoTarget(v string) {
	p := m.focused()
	if v == "" {
		return
	}
	name, off, hasOff := strings.Cut(v, "+")
	if r := p.l.RowOfFunc(name); r >= 0 {
		if hasOff {
			o, err := strconv.ParseUint(strings.TrimPrefix(off, "0x"), 16, 64)
			f := p.l.Funcs[p.l.Rows[r].Func]
			if err != nil {
				m.fail("bad offset %q", off)
				return
			}
			if rr := p.l.RowOfAddr(f.Image.Address + o); rr >= 0 {
				r = rr
			}
		}
		p.back = append(p.back, p.cursor)
		p.SetCursor(r)
		return
	}
	hex := strings.TrimPrefix(strings.ToLower(v), "0x")
	a, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		m.fail("not an address or function: %s", v)
		return
	}
	r := p.l.RowOfAddr(a)
	if r < 0 && len(hex) < 16 {
		// A short address: match the low digits, as the pane shows them.
		mask := uint64(1)<<(4*uint(len(hex))) - 1
		for fi, f := range p.l.Funcs {
			for li := range f.Len() {
				if f.Addr(li)&mask == a {
					r = p.l.RowOfLine(fi, li)
					break
				}
			}
			if r >= 0 {
				break
			}
		}
	}
	if r < 0 {
		m.fail("no instruction at %s", v)
		return
	}
	p.back = append(p.back, p.cursor)
	p.SetCursor(r)
}

func (m *Model) toggleSyntax() {
	if m.syntax == session.SyntaxIntel {
		m.syntax = session.SyntaxDefault
	} else {
		m.syntax = session.SyntaxIntel
	}
	n := 0
	for _, p := range m.panes {
		if p.l.Arch == kernel.X86_64 {
			p.SetListing(m.sess.Relist(p.l, m.syntax))
			m.listingChanged(p)
			n++
		}
	}
	name := "AT&T"
	if m.syntax == session.SyntaxIntel {
		name = "Intel"
	}
	if n == 0 {
		m.say("x86 syntax: %s (no x86-64 pane shown)", name)
		return
	}
	m.say("x86 syntax: %s", name)
}

// paneAt returns the visible pane under column x and its left edge.
func (m *Model) paneAt(x int) (int, int) {
	if m.zoom {
		return m.focus, 0
	}
	lw := m.panes[0].w
	if x <= lw {
		return 0, 0
	}
	return 1, lw + 1
}

func (m *Model) wheel(ms tea.Mouse) {
	i, _ := m.paneAt(ms.X)
	switch ms.Button {
	case tea.MouseWheelUp:
		m.panes[i].Scroll(-3)
	case tea.MouseWheelDown:
		m.panes[i].Scroll(3)
	}
}

// click focuses the pane under the mouse and moves its cursor there.
func (m *Model) click(ms tea.Mouse) {
	if ms.Button != tea.MouseLeft || m.mode != modeNormal {
		return
	}
	i, _ := m.paneAt(ms.X)
	if i != m.focus {
		m.setFocus(i)
	}
	row := ms.Y - 2 // title line, pane title
	p := m.panes[i]
	if row < 0 || row >= p.h {
		return
	}
	p.SetCursor(p.top + row)
	m.sync()
}

// toggleState shows or hides the state pane.
func (m *Model) toggleState() {
	m.stateOn = !m.stateOn
	m.resize()
	switch {
	case !m.stateOn:
		m.say("state pane off (r shows it)")
	case !m.stateShown():
		m.say("the state pane needs a terminal of %d rows (now %d)", minStateRows, m.c.Height)
	}
}

// nextDiff moves the focused pane to its next (dir > 0) or previous
// changed line of the version diff.
func (m *Model) nextDiff(dir int) {
	d := m.ensureDiff()
	if d == nil {
		m.say("no version diff: a shows one architecture under two profiles")
		return
	}
	p := m.focused()
	r := d.Next(m.focus, p.cursor, dir)
	if r < 0 {
		m.say("no changed line")
		return
	}
	if (dir > 0 && r <= p.cursor) || (dir < 0 && r >= p.cursor) {
		m.say("changes wrapped")
	}
	p.SetCursor(r)
}

// toggleSource shows or hides the C source rows (BTF line info).
func (m *Model) toggleSource() {
	on := !m.sess.ShowSource()
	m.sess.SetShowSource(on)
	n := 0
	for _, p := range m.panes {
		p.SetListing(m.sess.Relayout(p.l))
		m.listingChanged(p)
		n += p.l.SourceRows
	}
	switch {
	case !on:
		m.say("C source lines: off")
	case n == 0:
		m.say("C source lines: on (this target has no line info)")
	default:
		m.say("C source lines: on")
	}
}

// toggleVerifier compiles the panes from the verifier model's rewrites
// (the BPF the JIT sees, beside the BPF as written) or from the programs
// as written again; the status line says why the rewrites are not
// available (not a BPF object, no verifier facts for the profiles shown).
func (m *Model) toggleVerifier() {
	on := !m.sess.Verifier()
	if err := m.sess.SetVerifier(on, m.panes[0].l, m.panes[1].l); err != nil {
		m.fail("%s", oneLine(err.Error()))
		return
	}
	m.msg = ""
	for i, p := range m.panes {
		m.recompile(i, p.l.Arch)
	}
	if m.msgErr {
		return
	}
	if !on {
		m.say("verifier rewrites: off (BPF as written)")
		return
	}
	var with, without []string
	for _, p := range m.panes {
		if p.l.Rewrites != nil {
			with = append(with, string(p.l.Arch))
		} else if p.l.NoRewrites != nil {
			without = append(without, fmt.Sprintf("%s: %s", p.l.Arch, oneLine(p.l.NoRewrites.Error())))
		}
	}
	msg := "verifier rewrites: on (" + strings.Join(with, ", ") + ": BPF as written → as the JIT sees it)"
	if len(without) > 0 {
		msg += "; as written in " + strings.Join(without, "; ")
	}
	m.say("%s", msg)
}
