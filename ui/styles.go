// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/themes"
)

// sid names a foreground style of the listing; bgid a row background.
type (
	sid  int
	bgid int
)

// Fixed foreground styles; arrow colours and regions follow them.
const (
	sText sid = iota
	sDim
	sAddr
	sBytes
	sBPF
	sHeader
	sError
	sHot
	sPC         // the ▶ of the run's next instruction
	sSkipped    // instructions a tail call just skipped
	sTaken      // the edge the run just took
	sChanged    // a register the last step changed
	sTitle      // a state block's title (the pane title's colours)
	sTitleFocus // ... of the focused pane
	sDiffChange // a version diff's changed instruction (~)
	sDiffOnly   // ... and one only on this side (+)
	sSource     // a C source row
	sTok0       // themes.NumTokens token styles
)

// Row backgrounds; the BPF bands follow them.
const (
	bgNone bgid = iota
	bgCursor
	bgCursorBlur
	bgLinked
	bgSibling
	bgMatch
	bgBand0
)

// regionKinds are the regions with a marker colour, in style order.
var regionKinds = []jit.RegionKind{
	jit.RegionPrologue, jit.RegionPatchSite, jit.RegionTCCInit, jit.RegionLandingPad,
	jit.RegionStackSetup, jit.RegionTailCall, jit.RegionEpilogue, jit.RegionPLT,
	jit.RegionPokeTarget, jit.RegionPokeBypass, jit.RegionExtraPadding,
}

// Styles are a theme compiled for the listing renderer: the SGR sequence
// of every (foreground, background) pair, computed once per theme with
// lipgloss, so a frame only concatenates strings (no lipgloss rendering
// per token per frame, and no NewStyle in View).
type Styles struct {
	Theme  *themes.Theme
	sgr    [][]string // [sid][bgid]
	arrow0 sid
	nArrow int
	region map[jit.RegionKind]sid
	nBand  int
}

const sgrReset = "\x1b[m"

// prefix returns the escape sequence lipgloss puts before text in style s.
func prefix(s lipgloss.Style) string {
	out := s.Render("X")
	p, _, _ := strings.Cut(out, "X")
	return p
}

// NewStyles compiles t.
func NewStyles(t *themes.Theme) *Styles {
	fgs := []lipgloss.Style{t.Text, t.Dim, t.Addr, t.Bytes, t.BPF, t.Header, t.Error, t.ArrowHot,
		t.ArrowHot.Bold(true), t.Dim.Strikethrough(true), t.ArrowHot.Bold(true), t.ArrowHot.Bold(true),
		t.PaneTitle, t.PaneTitleFocused, t.ArrowHot.Bold(true), t.Error.Bold(true), t.Tokens[themes.TokComment]}
	fgs = append(fgs, t.Tokens[:]...)
	s := &Styles{Theme: t, region: map[jit.RegionKind]sid{}}
	s.arrow0 = sid(len(fgs))
	s.nArrow = len(t.Arrows)
	fgs = append(fgs, t.Arrows...)
	for _, k := range regionKinds {
		s.region[k] = sid(len(fgs))
		fgs = append(fgs, t.RegionStyle(k))
	}
	bgs := []lipgloss.Style{lipgloss.NewStyle(), t.Cursor, t.CursorBlur, t.Linked, t.Sibling, t.Match}
	bgs = append(bgs, t.Bands...)
	s.nBand = len(t.Bands)
	s.sgr = make([][]string, len(fgs))
	for i, f := range fgs {
		s.sgr[i] = make([]string, len(bgs))
		for j, b := range bgs {
			s.sgr[i][j] = prefix(f.Inherit(b))
		}
	}
	return s
}

func (s *Styles) arrow(color uint32) sid { return s.arrow0 + sid(color%uint32(s.nArrow)) }

func (s *Styles) band(i int) bgid { return bgBand0 + bgid(i%s.nBand) }

func (s *Styles) regionStyle(k jit.RegionKind) sid {
	if r, ok := s.region[k]; ok {
		return r
	}
	return sDim
}

// line assembles one screen line of styled segments, cut at a width.
type line struct {
	b     strings.Builder
	st    *Styles
	width int // columns written
	max   int
	last  string
}

func (l *line) reset(st *Styles, max int) {
	l.b.Reset()
	l.b.Grow(max*3 + 256)
	l.st, l.width, l.max, l.last = st, 0, max, ""
}

func (l *line) set(f sid, bg bgid) {
	p := l.st.sgr[f][bg]
	if p == l.last {
		return
	}
	if l.last != "" {
		l.b.WriteString(sgrReset)
	}
	l.b.WriteString(p)
	l.last = p
}

// put writes s (of display width w) in style (f, bg), cut at the line's width.
func (l *line) put(s string, w int, f sid, bg bgid) {
	if w <= 0 || l.width >= l.max {
		return
	}
	if l.width+w > l.max {
		s, w = truncate(s, l.max-l.width)
	}
	l.set(f, bg)
	l.b.WriteString(s)
	l.width += w
}

// text writes an ASCII-or-not string, measuring it.
func (l *line) text(s string, f sid, bg bgid) { l.put(s, width(s), f, bg) }

// pad fills up to column col with spaces in background bg.
func (l *line) pad(col int, bg bgid) {
	col = min(col, l.max)
	if col <= l.width {
		return
	}
	l.set(sText, bg)
	l.b.WriteString(spaces(col - l.width))
	l.width = col
}

func (l *line) String() string {
	if l.last != "" {
		l.b.WriteString(sgrReset)
		l.last = ""
	}
	return l.b.String()
}

var spaceRun = strings.Repeat(" ", 512)

func spaces(n int) string {
	if n <= len(spaceRun) {
		return spaceRun[:n]
	}
	return strings.Repeat(" ", n)
}
