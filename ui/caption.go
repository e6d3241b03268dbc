// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// The caption bar of a tour: a header line (stop, playback state, keys)
// and the stop's paragraph, wrapped. Its height is the tallest paragraph
// of the tour at the current width, so the listings do not jump from stop
// to stop.

const maxCaptionLines = 6

// captionHeight is the number of lines the caption bar takes, 0 outside
// a tour.
func (m *Model) captionHeight() int {
	tp := m.tp
	if tp == nil {
		return 0
	}
	n := 1
	w := m.captionWidth()
	for i := 0; i < tp.tour.Len(); i++ {
		n = max(n, len(wrap(tp.tour.Caption(i), w)))
	}
	return 1 + min(n, maxCaptionLines)
}

func (m *Model) captionWidth() int { return max(m.c.Width-4, 10) }

// captionBar draws the bar.
func (m *Model) captionBar() []string {
	tp := m.tp
	th := m.c.Styles.Theme
	w := m.c.Width
	h := m.captionHeight()
	state := "paused"
	switch {
	case tp.playing:
		state = "playing"
	case tp.done:
		state = "end of the tour"
	}
	n := tp.tour.Len()
	left := fmt.Sprintf(" tour %d/%d · %s · %s×", tp.cur+1, n, state, speedText(tp.speed))
	// A tour may say what a stop runs with (ScenarioTour.Detail).
	if d, ok := tp.tour.(interface{ Detail(int) string }); ok && tp.cur >= 0 {
		if s := d.Detail(tp.cur); s != "" {
			left += " · " + s
		}
	}
	right := "space play/pause · ←/→ stop · +/- speed · esc leave "
	if tp.done {
		right = "space again · ← back · q quit "
	}
	if n == 0 {
		// A walkthrough of a scenario without a tour: captions only.
		left, right = " walkthrough", "esc leave "
	}
	gap := w - ansi.StringWidth(left) - ansi.StringWidth(right)
	head := left
	if gap >= 1 {
		head += spaces(gap) + right
	}
	out := []string{th.OverlayTitle.Render(pad(head, w))}
	text := tp.caption
	if text == "" && tp.cur >= 0 {
		text = tp.tour.Caption(tp.cur)
	}
	body := wrap(text, m.captionWidth())
	if tp.err != "" {
		body = append([]string{"(" + tp.err + ")"}, body...)
	}
	if len(body) > h-1 {
		body = body[:h-1]
		last := body[len(body)-1]
		body[len(body)-1] = ansi.Truncate(last, m.captionWidth()-1, "") + "…"
	}
	for i := 1; i < h; i++ {
		s := ""
		if i-1 < len(body) {
			s = body[i-1]
		}
		st := th.Overlay
		if tp.err != "" && i == 1 {
			st = th.Error.Inherit(th.Overlay)
		}
		out = append(out, st.Render(pad("  "+s, w)))
	}
	return out
}

func speedText(s float64) string { return strconv.FormatFloat(s, 'f', -1, 64) }

// keyOverlay draws the keys pressed lately in a small box at the top
// right, over the listing.
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
