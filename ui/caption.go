// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// The tour's caption, the one renderer for walking a tour with t/ctrl+t
// and for playing it (autoplay.go): a header line (stop, playback state,
// what the stop runs with, the keys that act on the tour) and the stop's
// paragraph, wrapped, with the extra lines the stop's panes ask for (prog
// array slots, packet, compatibility report). Its height is the tallest
// stop's at the current width, at most a third of the screen, so the
// listings do not jump from stop to stop.

// maxCaption bounds the caption's height: the listings keep the rest.
func (m *Model) maxCaption() int { return max(3, m.c.Height/3) }

// captionLines is the number of lines the caption takes, 0 when closed.
func (m *Model) captionLines() int {
	if !m.tour.open {
		return 0
	}
	m.layoutCaption()
	return m.tour.height
}

func (m *Model) captionWidth() int { return max(m.c.Width-2, 10) }

// captionBody is stop i's paragraph and extra lines, unstyled: the
// walkthrough's caption instead of the paragraph when one is set, and
// first the reason the stop could not be shown when it is the one shown.
func (m *Model) captionBody(i int) []string {
	w := m.captionWidth()
	var lines []string
	text := ""
	if m.tp != nil && m.tp.caption != "" && i == m.tour.idx {
		text = m.tp.caption
	}
	if m.tour.tour == nil || i < 0 || i >= len(m.tour.tour.Stops) {
		for _, l := range wrap(text, w) {
			lines = append(lines, " "+l)
		}
		return lines
	}
	st := &m.tour.tour.Stops[i]
	if text == "" {
		text = st.Text
	}
	if i == m.tour.idx && m.tour.err != "" {
		lines = append(lines, " ("+m.tour.err+")")
	}
	for _, l := range wrap(text, w) {
		lines = append(lines, " "+l)
	}
	var extra []string
	t := m.sess.Target
	if st.Has("maps") {
		extra = append(extra, "maps: "+slotsText(t))
	}
	if st.Has("packet") {
		extra = append(extra, packetText(t, st.Config.Packet))
	}
	if st.Has("compat") {
		extra = append(extra, t.CompatSummary()...)
	}
	for _, e := range extra {
		for _, l := range wrap(e, max(w-2, 10)) {
			lines = append(lines, "   "+l)
		}
	}
	return lines
}

// layoutCaption sets the caption's height for the terminal's width: the
// header and the tallest stop's body (a walkthrough without a tour: its
// caption), within maxCaption.
func (m *Model) layoutCaption() {
	w := m.c.Width
	if m.tour.w == w && m.tour.h == m.c.Height {
		return
	}
	m.tour.w, m.tour.h = w, m.c.Height
	n := 1
	if m.tour.tour != nil {
		for i := range m.tour.tour.Stops {
			n = max(n, len(m.captionBody(i)))
		}
	}
	n = max(n, len(m.captionBody(m.tour.idx)))
	m.tour.height = min(1+n, m.maxCaption())
}

// relayoutCaption measures the caption again (a stop was shown, a
// walkthrough caption set, the packet changed) and gives the listings
// what is left.
func (m *Model) relayoutCaption() {
	m.tour.w = -1
	m.resize()
}

// captionHead is the header line's left part: the stop, the playback,
// where the stop is and what it runs with; and its right part, the keys.
func (m *Model) captionHead() (string, string) {
	tp := m.tp
	var left, right string
	n := 0
	if m.tour.tour != nil {
		n = len(m.tour.tour.Stops)
	}
	if n == 0 {
		// A walkthrough of a scenario without a tour: captions only.
		return " walkthrough", "esc leave "
	}
	left = fmt.Sprintf(" tour %d/%d", m.tour.idx+1, n)
	switch {
	case tp == nil:
		right = "t next · ctrl+t back · esc close "
	case tp.playing:
		left += " · playing · " + speedText(tp.speed) + "×"
		right = "space pause · ←/→ stop · +/- speed · esc leave "
	case tp.done:
		left += " · end of the tour · " + speedText(tp.speed) + "×"
		right = "space again · ← back · esc leave · q quit "
	default:
		left += " · paused · " + speedText(tp.speed) + "×"
		right = "space play · ←/→ stop · +/- speed · esc leave "
	}
	if m.tour.idx < 0 {
		return left, right
	}
	st := &m.tour.tour.Stops[m.tour.idx]
	if st.Err != nil {
		return left, right
	}
	left += fmt.Sprintf(" · %s %s", st.Arch, st.Profile)
	if st.CompatOnly != "" {
		left += " (compatibility model only)"
	}
	if st.Config.Entry != "" {
		left += " · entry " + st.Config.Entry
	}
	if st.Config.Packet != "" {
		left += " · packet " + st.Config.Packet
	}
	for _, sl := range st.Config.Slots {
		if strings.HasSuffix(sl, "=") {
			sl += "(empty)"
		}
		left += " · " + sl
	}
	if st.IsStep() {
		left += fmt.Sprintf(" · step %d", st.Step)
	}
	return left, right
}

// captionView renders the caption: exactly captionLines lines.
func (m *Model) captionView() []string {
	m.layoutCaption()
	th := m.c.Styles.Theme
	w := m.c.Width
	left, right := m.captionHead()
	head := left
	if gap := w - ansi.StringWidth(left) - ansi.StringWidth(right); gap >= 1 {
		head += spaces(gap) + right
	}
	out := []string{th.OverlayTitle.Render(pad(ansi.Truncate(head, w, "…"), w))}
	body := m.captionBody(m.tour.idx)
	h := m.tour.height
	if len(body) > h-1 {
		body = append(body[:max(h-2, 0)], " … (the rest: jitscope show "+m.sess.Target.Name+" --tour)")
		body = body[:h-1]
	}
	for i := 1; i < h; i++ {
		s := ""
		if i-1 < len(body) {
			s = ansi.Truncate(body[i-1], w, "…")
		}
		st := th.Overlay
		if m.tour.err != "" && i == 1 {
			st = th.Error.Inherit(th.Overlay)
		}
		out = append(out, st.Render(pad(s, w)))
	}
	return out
}

func speedText(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }

// keyOverlay draws the keys pressed lately during a tour's playback in a
// small box at the top right, over the listing.
func (m *Model) keyOverlay(lines []string) {
	tp := m.tp
	if tp == nil || len(tp.keys) == 0 || len(lines) < 4 {
		return
	}
	th := m.c.Styles.Theme
	s := " ⌨ " + strings.Join(tp.keys, " ") + " "
	sw := ansi.StringWidth(s)
	if sw+2 > m.c.Width {
		return
	}
	box := []string{
		th.OverlayTitle.Render("╭" + strings.Repeat("─", sw) + "╮"),
		th.OverlayTitle.Render("│" + s + "│"),
		th.OverlayTitle.Render("╰" + strings.Repeat("─", sw) + "╯"),
	}
	x := m.c.Width - sw - 3
	for i, b := range box {
		base := lines[1+i]
		lines[1+i] = ansi.Truncate(base, x, "") + b + ansi.TruncateLeft(base, x+sw+2, "")
	}
}
