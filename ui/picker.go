// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// item is one choice of a picker.
type item struct {
	value, label, desc string
}

// picker is a small modal list: j/k to move, enter to choose, esc to close.
type picker struct {
	c      *Common
	title  string
	items  []item
	cursor int
	choose func(value string) tea.Cmd
}

func newPicker(c *Common, title string, items []item, current string, choose func(string) tea.Cmd) *picker {
	p := &picker{c: c, title: title, items: items, choose: choose}
	for i, it := range items {
		if it.value == current {
			p.cursor = i
		}
	}
	return p
}

var (
	pickEnter = key.NewBinding(key.WithKeys("enter", "space"))
	pickClose = key.NewBinding(key.WithKeys("esc", "q"))
)

// update handles a key; done reports that the picker closed.
func (p *picker) update(msg tea.KeyPressMsg) (cmd tea.Cmd, done bool) {
	k := p.c.Keys
	switch {
	case key.Matches(msg, pickClose):
		return nil, true
	case key.Matches(msg, pickEnter):
		return p.choose(p.items[p.cursor].value), true
	case key.Matches(msg, k.Up):
		p.cursor = max(0, p.cursor-1)
	case key.Matches(msg, k.Down):
		p.cursor = min(len(p.items)-1, p.cursor+1)
	case key.Matches(msg, k.Top):
		p.cursor = 0
	case key.Matches(msg, k.Bottom):
		p.cursor = len(p.items) - 1
	}
	return nil, false
}

// view renders the picker as box lines of at most w columns.
func (p *picker) view(w int) []string {
	th := p.c.Styles.Theme
	inner := 0
	for _, it := range p.items {
		inner = max(inner, width(it.label)+2+width(it.desc))
	}
	inner = min(max(inner, width(p.title)+2), w-4)
	lines := []string{th.OverlayTitle.Render(pad(" "+p.title, inner))}
	lines = append(lines, th.Overlay.Render(spaces(inner)))
	for i, it := range p.items {
		s := " " + it.label
		if it.desc != "" {
			s += "  " + it.desc
		}
		s, _ = truncate(s, inner)
		st := th.Overlay
		if i == p.cursor {
			st = th.Selected
		}
		lines = append(lines, st.Render(pad(s, inner)))
	}
	lines = append(lines, th.Overlay.Render(spaces(inner)))
	lines = append(lines, th.Overlay.Render(pad(" enter: choose · esc: close", inner)))
	return box(th.Overlay, lines, inner)
}

// pad right-pads s with spaces to w columns.
func pad(s string, w int) string {
	s, sw := truncate(s, w)
	return s + spaces(w-sw)
}

// box frames lines of width w in a border drawn in style st.
func box(st interface{ Render(...string) string }, lines []string, w int) []string {
	out := []string{st.Render("╭" + strings.Repeat("─", w) + "╮")}
	for _, l := range lines {
		out = append(out, st.Render("│")+l+st.Render("│"))
	}
	return append(out, st.Render("╰"+strings.Repeat("─", w)+"╯"))
}
