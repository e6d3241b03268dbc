// SPDX-License-Identifier: GPL-2.0-only

package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/themes"
)

// Pane shows one listing: a title line, then rows of
//
//	marker │ [as written] │ BPF column │ address │ [bytes] │ arrow gutter │ instruction // notes
//
// The "as written" column is there when the listing was compiled from the
// verifier's rewrites (session.Listing.Rewrites): the BPF column is then
// the BPF as the JIT saw it, and "as written" the instruction of the
// object each came from, '*' where the verifier changed it.
//
// It renders only the rows on screen; the per-row strings (tokens, BPF
// text, address) are computed on first display and cached, so a frame
// costs the same on a 100,000-instruction program as on seed 000.
type Pane struct {
	c       *Common
	l       *session.Listing
	cursor  int
	top     int
	w, h    int // h counts listing rows, without the title
	focused bool
	bytes   bool
	back    []int // rows to return to after following arrows

	// run is the listing's run (nil until needed) and pos the position
	// the pane is stopped at; marks is what that draws on the listing.
	run   *session.Run
	pos   int
	marks runMarks

	// diff is the version diff the pane is side `side` of, nil when the
	// panes do not compare two profiles.
	diff *session.Diff
	side int

	lay      paneLayout
	cache    map[int]*rowCache       // rows drawn lately (rowCacheMax at most)
	srcNotes map[int]map[string]bool // see sourceNotes
	textW    int                     // widest instruction text, capped
	// textFilled says textW is the listing's (not the width it has
	// before an indexed listing's texts are printed).
	textFilled bool
	folded     int // the listing's Folded(), counted once
}

type paneLayout struct {
	bpfW, origW, addrDigits, bytesW, lanes, gutterW int
}

type rowCache struct {
	bpf   string // BPF column text ("" on continuation rows)
	bpfW  int
	orig  string // "as written" column text ("" on continuation rows)
	origW int
	// origChanged: the verifier changed the instruction as written.
	origChanged bool
	band        int // band index, -1 for none
	addr        string
	bytes       string
	tokens      []segment
	notes       string
	notesW      int
}

// NewPane shows listing l.
func NewPane(c *Common, l *session.Listing) *Pane {
	p := &Pane{c: c}
	p.SetListing(l)
	return p
}

// setTextWidth sizes the instruction text column: the widest text, at
// most 40 columns. An indexed listing's texts are printed in the
// background; until they are, the column is 40 wide (and textFilled is
// unset: the model sets it again when they are, filledMsg).
func (p *Pane) setTextWidth() {
	w, ok := p.l.TextWidth()
	p.textFilled = ok
	if !ok {
		w = 40
	}
	p.textW = min(w, 40)
}

// SetListing replaces the listing, keeping the cursor on the same address
// (or function) when the new listing has it.
func (p *Pane) SetListing(l *session.Listing) {
	var addr uint64
	var fn string
	if p.l != nil {
		if ln := p.l.Line(p.cursor); ln != nil {
			addr = ln.Addr
		}
		if f := p.l.Func(p.cursor); f != nil {
			fn = f.Image.Name
		}
	}
	p.l = l
	p.folded = l.Folded()
	p.cache = map[int]*rowCache{}
	p.srcNotes = nil
	p.setTextWidth()
	p.back = nil
	r := -1
	if addr != 0 {
		r = l.RowOfAddr(addr)
	}
	if r < 0 && fn != "" {
		r = l.RowOfFunc(fn)
	}
	if r < 0 {
		r = min(p.cursor, len(l.Rows)-1)
	}
	p.cursor = max(r, 0)
	p.relayout()
	p.scrollToCursor()
}

// Listing returns the pane's listing.
func (p *Pane) Listing() *session.Listing { return p.l }

// SetSize sets the pane's size, title line included.
func (p *Pane) SetSize(w, h int) {
	p.w, p.h = w, max(h-1, 1)
	p.relayout()
	p.scrollToCursor()
}

func (p *Pane) relayout() {
	old := p.lay
	w := p.w
	lay := paneLayout{addrDigits: 16}
	switch {
	case w >= 150:
		lay.bpfW = 34
	case w >= 90:
		lay.bpfW = 24
	case w >= 70:
		lay.bpfW = 18
	}
	if w < 90 {
		lay.addrDigits = 8
	}
	if p.l.Rewrites != nil {
		lay.origW = lay.bpfW
	}
	if p.bytes {
		lay.bytesW = 8 // arm64: the instruction word
		if p.l.Arch != "arm64" {
			lay.bytesW = 20 // x86: up to 7 bytes, then "…"
		}
	}
	lay.lanes = p.l.DrawnLanes()
	if w < 90 {
		lay.lanes = min(lay.lanes, 4)
	}
	lay.gutterW = 2*lay.lanes + 2
	if lay.lanes == 0 {
		lay.gutterW = 1
	}
	p.lay = lay
	if old != lay {
		clear(p.cache)
	}
}

// ToggleBytes shows or hides the opcode bytes column.
func (p *Pane) ToggleBytes() {
	p.bytes = !p.bytes
	p.relayout()
}

// Cursor is the row under the cursor.
func (p *Pane) Cursor() int { return p.cursor }

// SetCursor moves the cursor to row r and scrolls it into view.
func (p *Pane) SetCursor(r int) {
	if len(p.l.Rows) == 0 {
		return
	}
	p.cursor = max(0, min(r, len(p.l.Rows)-1))
	p.scrollToCursor()
}

// Move moves the cursor by d rows.
func (p *Pane) Move(d int) { p.SetCursor(p.cursor + d) }

// Scroll moves the view by d rows, dragging the cursor along when it
// would leave the screen (mouse wheel).
func (p *Pane) Scroll(d int) {
	maxTop := max(0, len(p.l.Rows)-p.h)
	p.top = max(0, min(p.top+d, maxTop))
	p.cursor = max(p.top, min(p.cursor, p.top+p.h-1))
}

// Center scrolls so row r is in the middle, unless it is already visible.
func (p *Pane) reveal(r int) {
	if r >= p.top && r < p.top+p.h {
		return
	}
	maxTop := max(0, len(p.l.Rows)-p.h)
	p.top = max(0, min(r-p.h/3, maxTop))
}

const scrollOff = 3

func (p *Pane) scrollToCursor() {
	off := min(scrollOff, (p.h-1)/2)
	if p.cursor < p.top+off {
		p.top = p.cursor - off
	}
	if p.cursor > p.top+p.h-1-off {
		p.top = p.cursor - p.h + 1 + off
	}
	maxTop := max(0, len(p.l.Rows)-p.h)
	p.top = max(0, min(p.top, maxTop))
}

// Follow moves the cursor along the arrow leaving the cursor line.
func (p *Pane) Follow() bool {
	t := p.l.Target(p.cursor)
	if t < 0 {
		return false
	}
	p.back = append(p.back, p.cursor)
	p.SetCursor(t)
	return true
}

// Back returns to where the last Follow started.
func (p *Pane) Back() bool {
	if len(p.back) == 0 {
		return false
	}
	r := p.back[len(p.back)-1]
	p.back = p.back[:len(p.back)-1]
	p.SetCursor(r)
	return true
}

// FuncStep moves to the header of the next (d > 0) or previous function;
// from inside a function, "previous" is its own header first.
func (p *Pane) FuncStep(d int) {
	fr := p.l.FuncRow
	if len(fr) == 0 {
		return
	}
	fi := int(p.l.Rows[p.cursor].Func)
	switch {
	case d > 0 && fi+1 < len(fr):
		p.SetCursor(fr[fi+1])
	case d < 0 && p.cursor > fr[fi]:
		p.SetCursor(fr[fi])
	case d < 0 && fi > 0:
		p.SetCursor(fr[fi-1])
	}
}

// frame is what a pane needs from the rest of the screen to draw itself.
type frame struct {
	linked int32  // BPF id under the other pane's cursor, -1 for none
	query  string // active search
}

// Title is the pane's title line.
func (p *Pane) Title() string {
	l := p.l
	prof := "no profile"
	if l.Profile != nil {
		prof = l.Profile.Name
		if _, ok := session.CompatOnly(l.Profile); ok {
			prof += " (compatibility model only)"
		}
	}
	t := fmt.Sprintf(" %s · %s", l.Arch, prof)
	if l.Arch == "x86_64" && l.Err == nil {
		switch l.Syntax {
		case session.SyntaxIntel:
			t += " · intel"
		default:
			t += " · at&t"
		}
	}
	if f := l.Func(p.cursor); f != nil {
		t += " · " + f.Image.Name
		if ln := l.Line(p.cursor); ln != nil {
			t += fmt.Sprintf("+%#x", ln.Offset)
		}
	}
	if l.Rewrites != nil {
		t += " · BPF as written → as the JIT sees it (verifier)"
	}
	if p.diff != nil {
		t += fmt.Sprintf(" · %d changed", len(p.diff.Changed[p.side]))
	}
	if !p.textFilled && l.Err == nil {
		// A large program's texts, printed in the background after the
		// first frame: a search waits for them.
		t += " · printing texts…"
	}
	if n := p.folded; n > 0 {
		t += fmt.Sprintf(" · «%d arrows folded»", n)
	}
	return t
}

// View renders the title and the visible rows as p.h+1 lines of width p.w.
func (p *Pane) View(f frame) []string {
	st := p.c.Styles
	th := st.Theme
	out := make([]string, 0, p.h+1)
	ts := th.PaneTitle
	if p.focused {
		ts = th.PaneTitleFocused
	}
	title, tw := truncate(p.Title(), p.w)
	out = append(out, ts.Render(title+spaces(p.w-tw)))
	if p.l.Err != nil {
		return append(out, p.errorView()...)
	}
	hot := p.hotGroups()
	p.marks = p.runMarks()
	var ln line
	for i := range p.h {
		r := p.top + i
		ln.reset(st, p.w)
		if r < len(p.l.Rows) {
			p.row(&ln, r, f, hot)
		}
		ln.pad(p.w, bgNone)
		out = append(out, ln.String())
	}
	return out
}

// errorView says why there is no listing: the refusal in the kernel's words.
func (p *Pane) errorView() []string {
	st := p.c.Styles
	lines := []string{"", "  cannot show this listing:", ""}
	for _, s := range wrap(p.l.Err.Error(), p.w-4) {
		lines = append(lines, "  "+s)
	}
	lines = append(lines, "", "  p: choose another profile")
	out := make([]string, 0, p.h)
	var ln line
	for i := range p.h {
		ln.reset(st, p.w)
		if i < len(lines) {
			s := sText
			if i >= 3 && i < len(lines)-2 {
				s = sError
			}
			ln.text(lines[i], s, bgNone)
		}
		ln.pad(p.w, bgNone)
		out = append(out, ln.String())
	}
	return out
}

// hotGroups lists the arrow groups with an end on the cursor line.
func (p *Pane) hotGroups() []uint32 {
	var hot []uint32
	for _, v := range p.l.Cells(p.cursor) {
		if v&(session.CellSource|session.CellTarget) != 0 {
			hot = append(hot, v>>2)
		}
	}
	return hot
}

func (p *Pane) rowBG(r int, f frame) bgid {
	row := p.l.Rows[r]
	switch {
	case r == p.cursor && p.focused:
		return bgCursor
	case r == p.cursor:
		return bgCursorBlur
	case f.query != "" && p.l.Matches(r, f.query):
		return bgMatch
	case row.BPF >= 0 && row.BPF == f.linked && !p.focused:
		return bgLinked
	case row.BPF >= 0 && p.focused && row.Kind == session.RowInsn && row.BPF == p.l.Rows[p.cursor].BPF:
		return bgSibling
	}
	return bgNone
}

func (p *Pane) row(ln *line, r int, f frame, hot []uint32) {
	row := p.l.Rows[r]
	bg := p.rowBG(r, f)
	// A version diff adds a column in front: ~ for an instruction the
	// other side has in another form, + for one only this side has.
	dm := session.DiffSame
	if p.diff != nil {
		dm = p.diff.Mark(p.side, r)
		switch dm {
		case session.DiffChanged:
			ln.put("~", 1, sDiffChange, bg)
		case session.DiffOnly:
			ln.put("+", 1, sDiffOnly, bg)
		default:
			ln.put(" ", 1, sText, bg)
		}
	}
	switch row.Kind {
	case session.RowBlank:
		ln.pad(p.w, bg)
		return
	case session.RowHeader:
		ln.put(" ", 1, sText, bg)
		ln.text(p.l.Funcs[row.Func].Header(), sHeader, bg)
		ln.pad(p.w, bg)
		return
	case session.RowSource:
		p.sourceRow(ln, r, bg, hot)
		return
	}
	rc := p.rowCache(r)
	l := p.l.Line(r)
	mk := &p.marks
	skipped := mk.on && r >= mk.skipLo && r < mk.skipHi
	// Marker: the run's next instruction (▶), the instructions a tail
	// call just skipped (×), else the code region, in its colour; a tail
	// call's landing pad gets its own glyph so it reads without colour.
	mark, ms := " ", p.c.Styles.regionStyle(l.Region)
	if l.Region != jit.RegionBody && l.Region != "" {
		mark = "▌"
		if l.Region == jit.RegionLandingPad {
			mark = "»"
		}
	}
	switch {
	case mk.on && r == mk.pcRow:
		mark, ms = "▶", sPC
	case skipped:
		mark, ms = "×", sSkipped
	}
	ln.put(mark, 1, ms, bg)
	if p.lay.origW > 0 {
		s := sDim
		if rc.origChanged {
			s = sDiffChange
		}
		b0 := ln.width
		ln.put(rc.orig, rc.origW, s, bg)
		ln.pad(b0+p.lay.origW, bg)
		ln.put(" ", 1, sText, bg)
	}
	if p.lay.bpfW > 0 {
		bbg := bg
		if bg == bgNone || bg == bgSibling {
			if rc.band >= 0 {
				bbg = p.c.Styles.band(rc.band)
			}
		}
		s := sBPF
		if l.BPF < 0 {
			s = p.c.Styles.regionStyle(l.Region)
		}
		b0 := ln.width
		if skipped && r == mk.skipLo {
			t, tw := truncate(mk.skipNote, p.lay.bpfW)
			ln.put(t, tw, sPC, bbg)
		} else {
			ln.put(rc.bpf, rc.bpfW, s, bbg)
		}
		ln.pad(b0+p.lay.bpfW, bbg)
		ln.put(" ", 1, sText, bg)
	}
	as := sAddr
	switch {
	case mk.on && r == mk.pcRow:
		as = sPC
	case dm == session.DiffChanged:
		as = sDiffChange
	case dm == session.DiffOnly:
		as = sDiffOnly
	}
	ln.put(rc.addr, len(rc.addr), as, bg)
	ln.put(" ", 1, sText, bg)
	if p.lay.bytesW > 0 {
		ln.put(rc.bytes, width(rc.bytes), sBytes, bg)
		ln.pad(ln.width+p.lay.bytesW-width(rc.bytes)+1, bg)
	}
	p.gutter(ln, r, bg, hot)
	start := ln.width
	for _, s := range rc.tokens {
		st := sTok0 + sid(s.tok)
		if skipped {
			st = sSkipped
		}
		ln.put(s.text, len(s.text), st, bg)
	}
	switch {
	case skipped && r == mk.skipLo && p.lay.bpfW == 0:
		ln.pad(start+p.textW+1, bg)
		ln.text("// "+mk.skipNote, sPC, bg)
	case rc.notes != "":
		ln.pad(start+p.textW+1, bg)
		ln.put("// ", 3, sTok0+sid(themes.TokComment), bg)
		ln.put(rc.notes, rc.notesW, sTok0+sid(themes.TokComment), bg)
	}
	ln.pad(p.w, bg)
}

// gutterCol is the column where the arrow gutter starts, diff marker and
// run marker included.
func (p *Pane) gutterCol() int {
	c := 1 + p.lay.addrDigits + 1
	if p.diff != nil {
		c++
	}
	if p.lay.bpfW > 0 {
		c += p.lay.bpfW + 1
	}
	if p.lay.origW > 0 {
		c += p.lay.origW + 1
	}
	if p.lay.bytesW > 0 {
		c += p.lay.bytesW + 1
	}
	return c
}

// sourceRow draws a C source line above the machine code of the BPF
// instruction where it starts: "; text" across the BPF and address
// columns, the arrows going on through the gutter, then where the line
// is (file:line) in the instruction column.
func (p *Pane) sourceRow(ln *line, r int, bg bgid, hot []uint32) {
	rc := p.cache[r]
	if rc == nil {
		p.trimCache()
		li, _ := p.l.SourceLine(r)
		rc = &rowCache{band: -1}
		text := strings.TrimSpace(strings.Join(strings.Fields(li.Text), " "))
		if text == "" {
			text = "(no text)"
		}
		rc.bpf = "; " + text
		rc.bpfW = width(rc.bpf)
		loc := fmt.Sprintf("line %d", li.Line)
		if li.File != "" {
			loc = fmt.Sprintf("%s:%d", li.File, li.Line)
		}
		rc.notes, rc.notesW = loc, width(loc)
		p.cache[r] = rc
	}
	gc := p.gutterCol()
	ln.put(" ", 1, sText, bg)
	t, tw := truncate(rc.bpf, gc-ln.width-1)
	ln.put(t, tw, sSource, bg)
	ln.pad(gc, bg)
	p.gutter(ln, r, bg, hot)
	ln.put("// ", 3, sSource, bg)
	ln.put(rc.notes, rc.notesW, sSource, bg)
	ln.pad(p.w, bg)
}

// Gutter glyphs: light for branches inside a function, heavy for calls,
// tail calls and returns; dotted verticals for backward edges (radare2
// draws those with ':'), so direction does not depend on colour.
var (
	lightGlyphs = glyphs{top: "╭", bottom: "╰", joint: "├", down: "│", up: "┊", horiz: "─"}
	heavyGlyphs = glyphs{top: "┏", bottom: "┗", joint: "┣", down: "┃", up: "┇", horiz: "━"}
	// The edge the run just took is drawn double, in any theme.
	takenGlyphs = glyphs{top: "╔", bottom: "╚", joint: "╠", down: "║", up: "║", horiz: "═"}
)

type glyphs struct{ top, bottom, joint, down, up, horiz string }

type gcell struct {
	s  string
	st sid
}

// gutter draws the arrow lanes of row r: lane 0 nearest the instruction.
func (p *Pane) gutter(ln *line, r int, bg bgid, hot []uint32) {
	nl := p.lay.lanes
	gw := p.lay.gutterW
	if nl == 0 {
		ln.put(" ", 1, sText, bg)
		return
	}
	var buf [2*session.GutterLanes + 2]gcell
	cells := buf[:gw]
	for i := range cells {
		cells[i] = gcell{" ", sText}
	}
	var cellBuf [session.GutterLanes]uint32
	vals := p.l.AppendCells(cellBuf[:0], r)
	taken := uint32(0)
	if p.marks.on {
		taken = p.marks.taken
	}
	glyphsOf := func(g *session.Group, gi uint32) glyphs {
		switch {
		case gi == taken:
			return takenGlyphs
		case !g.Local():
			return heavyGlyphs
		}
		return lightGlyphs
	}
	styleOf := func(gi uint32) sid {
		if gi == taken {
			return sTaken
		}
		for _, h := range hot {
			if h == gi {
				return sHot
			}
		}
		return p.c.Styles.arrow(p.l.Groups[gi-1].Color)
	}
	col := func(lane int) int { return 2 * (nl - 1 - lane) }
	for lane := 0; lane < nl; lane++ {
		v := vals[lane]
		if v == 0 || v&3 != 0 {
			continue
		}
		g := &p.l.Groups[v>>2-1]
		gl := glyphsOf(g, v>>2)
		s := gl.down
		if r > g.Target {
			s = gl.up
		}
		cells[col(lane)] = gcell{s, styleOf(v >> 2)}
	}
	head := -1
	for lane := nl - 1; lane >= 0; lane-- {
		v := vals[lane]
		if v&3 == 0 {
			continue
		}
		g := &p.l.Groups[v>>2-1]
		gl := glyphsOf(g, v>>2)
		st := styleOf(v >> 2)
		c := col(lane)
		switch {
		case g.Lo == g.Hi:
			cells[c] = gcell{gl.horiz, st}
		case r == g.Lo:
			cells[c] = gcell{gl.top, st}
		case r == g.Hi:
			cells[c] = gcell{gl.bottom, st}
		default:
			cells[c] = gcell{gl.joint, st}
		}
		for x := c + 1; x < gw-1; x++ {
			if x%2 == 0 && x < 2*nl {
				if w := vals[nl-1-x/2]; w != 0 && w&3 == 0 {
					continue // the horizontal passes under a vertical
				}
			}
			cells[x] = gcell{gl.horiz, st}
		}
		if v&session.CellTarget != 0 {
			head = int(st)
		}
	}
	if head >= 0 {
		cells[gw-2] = gcell{">", sid(head)}
	}
	for _, c := range cells {
		ln.put(c.s, 1, c.st, bg)
	}
}

func (p *Pane) rowCache(r int) *rowCache {
	if rc := p.cache[r]; rc != nil {
		return rc
	}
	p.trimCache()
	l := p.l.Line(r)
	rc := &rowCache{band: -1}
	first := r == 0 || p.l.Rows[r-1].BPF != p.l.Rows[r].BPF
	if p.lay.origW > 0 {
		// Rows link by the instruction as written, which the verifier may
		// have made several: "as written" once, the BPF column per
		// instruction the JIT saw.
		if w, ok := p.l.Written(r); ok {
			rc.origChanged = w.Changed
			if first {
				mark := " "
				if w.Changed {
					mark = "*"
				}
				rc.orig = fmt.Sprintf("%s%3d: %s", mark, w.Index, w.Text)
			}
		}
		rc.orig, rc.origW = truncate(rc.orig, p.lay.origW)
		if !first {
			a, okA := p.l.BPFInsn(r - 1)
			b, okB := p.l.BPFInsn(r)
			first = okA && okB && a.Index != b.Index
		}
	}
	if in, ok := p.l.BPFInsn(r); ok {
		rc.band = in.Index
		if first {
			rc.bpf = fmt.Sprintf("%3d: %s", in.Index, disasm.BPFText(in))
		}
	} else if first && l.Region != "" {
		rc.bpf = regionName(l.Region)
	}
	rc.bpf, rc.bpfW = truncate(rc.bpf, p.lay.bpfW)
	a := fmt.Sprintf("%016x", l.Addr)
	rc.addr = a[16-p.lay.addrDigits:]
	if p.lay.bytesW > 0 {
		rc.bytes = opcodeBytes(p.l.Arch == "arm64", l.Bytes, p.lay.bytesW)
	}
	rc.tokens = tokenize(l.Text)
	notes := l.Notes
	if p.l.SourceRows > 0 && len(notes) > 0 {
		// The source rows say it already: no "file:line: text" notes.
		src := p.sourceNotes(int(p.l.Rows[r].Func))
		notes = slices.DeleteFunc(slices.Clone(notes), func(n string) bool { return src[n] })
	}
	if len(notes) > 0 {
		rc.notes = strings.Join(notes, "; ")
		rc.notesW = width(rc.notes)
	}
	p.cache[r] = rc
	return rc
}

// rowCacheMax bounds the rows a pane keeps drawn: a table of every row
// took 8 bytes a row (20 MB a pane at a million instructions) and kept
// every row ever drawn.
const rowCacheMax = 4096

// trimCache empties the row cache when it is full, before a row is added.
func (p *Pane) trimCache() {
	if len(p.cache) >= rowCacheMax {
		clear(p.cache)
	}
}

// sourceNotes is the set of notes function fi's line info makes (the
// source lines disasm writes as notes), built once per function.
func (p *Pane) sourceNotes(fi int) map[string]bool {
	if p.srcNotes == nil {
		p.srcNotes = map[int]map[string]bool{}
	}
	if s, ok := p.srcNotes[fi]; ok {
		return s
	}
	s := map[string]bool{}
	for _, li := range p.l.Funcs[fi].Image.Lines {
		s[session.SourceText(li)] = true
	}
	p.srcNotes[fi] = s
	return s
}

// opcodeBytes prints arm64 instructions as their 32-bit word (as objdump
// does) and x86 ones as bytes.
func opcodeBytes(word bool, b []byte, w int) string {
	if word && len(b) == 4 {
		return fmt.Sprintf("%02x%02x%02x%02x", b[3], b[2], b[1], b[0])
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	s, _ := truncate(sb.String(), w)
	return s
}

func regionName(k jit.RegionKind) string {
	switch k {
	case jit.RegionTCCInit:
		return "tcc init"
	case jit.RegionLandingPad:
		return "tail call landing pad"
	case jit.RegionStackSetup:
		return "stack set-up"
	case jit.RegionTailCall:
		return "tail call"
	case jit.RegionPatchSite:
		return "fentry patch site"
	case jit.RegionPokeTarget:
		return "poke: tailcall_target"
	case jit.RegionPokeBypass:
		return "poke: tailcall_bypass"
	}
	return string(k)
}

// wrap breaks s into lines of at most w columns at spaces.
func wrap(s string, w int) []string {
	if w < 10 {
		w = 10
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		cur := ""
		for _, word := range strings.Fields(para) {
			if cur != "" && len(cur)+1+len(word) > w {
				out = append(out, cur)
				cur = ""
			}
			if cur != "" {
				cur += " "
			}
			cur += word
		}
		out = append(out, cur)
	}
	return out
}
