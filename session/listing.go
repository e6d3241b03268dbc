// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// RowKind says what a listing row shows.
type RowKind uint8

// Row kinds: a machine instruction, a function header (the C prototype as
// seed 000 prints it), or the blank line between functions.
const (
	RowInsn RowKind = iota
	RowHeader
	RowBlank
	// RowSource is a C source line (BTF line info) shown above the first
	// machine instruction of the BPF instruction where it starts; Line is
	// that instruction's line (SourceLine says which source line).
	RowSource
)

// Row is one displayed line of a listing: 16 bytes, as a listing of a
// million BPF instructions has 1.3 million rows per architecture.
type Row struct {
	Kind RowKind
	Func int32 // index into Listing.Funcs
	Line int32 // index into the function's lines (RowInsn, RowSource)
	// BPF is the id (see BPFIDs) of the BPF instruction or code region the
	// line belongs to, the same id for the same instruction in every
	// listing of the session; -1 for none.
	BPF int32
}

// Listing is one architecture's compiled target, laid out in rows with the
// arrows of its control flow assigned to lanes.
type Listing struct {
	Arch     kernel.Arch
	Profile  *jit.Profile   // nil when no profile could be chosen
	Profiles []*jit.Profile // the architecture's profiles, for pickers
	Syntax   Syntax
	Err      error // why there is no listing (a refused program...)
	// Rewrites is set when the programs were compiled as the verifier
	// model rewrote them (Session.SetVerifier), by program name: what the
	// JIT saw traced to the BPF as written (Written). NoRewrites says why
	// a listing of a session in that mode was compiled as written.
	Rewrites   map[string]*Rewrite
	NoRewrites error

	Programs []*disasm.Program
	Funcs    []*disasm.Func // all functions, program order
	FuncProg []int          // program index of each function
	FuncRow  []int          // row of each function's header
	Rows     []Row
	// Source says whether RowSource rows are laid out (where the images
	// carry line info); SourceRows counts them.
	Source     bool
	SourceRows int
	// The RowSource rows in order and, for each, the index of its line
	// in the function image's Lines.
	sourceAt, sourceIdx []int32
	lineRow             [][]int32 // row of each function's each line

	// Groups are the static control-flow edges (disasm.Flow) with lanes
	// assigned over rows, those drawn as one line merged.
	Groups []Group
	Lanes  int // lanes used by Groups

	ids      *BPFIDs
	firstRow []int32 // BPF id -> first row + 1 (0: none; ids are dense)
	// loaded holds the programs as loaded for the JIT (with loadOpts), by
	// name: a run lays out the same programs and need not load them again.
	loaded   map[string]*kernel.Loaded
	loadOpts kernel.Options

	cellsOnce sync.Once
	cellLanes int
	// The groups of each drawn lane by first row (they never overlap in
	// a lane), and each group's source rows sorted: Cells looks a row up
	// instead of keeping a rows x lanes table (126 MB at 1M instructions).
	laneGroups [][]int32
	srcStart   []int32 // group gi's sorted sources: srcRows[srcStart[gi]:srcStart[gi+1]]
	srcRows    []int32
	// cells is the rows x lanes table, for the (unexpected) listing whose
	// groups overlap in a lane: group+1 << 2 | end flags.
	cells []uint32

	// targets maps a branch row to the target of its first group, built
	// on the first Target (a key press used to scan every group).
	targetsOnce sync.Once
	targets     map[int]int

	// The lines of an indexed listing decoded for Line, a bounded cache
	// (a frame asks for its rows' lines again and again).
	linesMu sync.Mutex
	lines   map[int]*disasm.Line
	// fill is closed when every text is printed (Fill, Filling).
	fillMu sync.Mutex
	fill   chan struct{}
	textW  int
}

// Group is a set of arrows drawn as one line in one lane: branches to the
// same target (GNU objdump merges them so), or a single call, tail call or
// return edge.
type Group struct {
	Lane    int
	Lo, Hi  int // rows spanned
	Target  int // row of the target
	Kind    disasm.ArrowKind
	Sources []int // rows of the branches
	Label   string
	// Color is a stable hash of the target, so every edge into one place
	// shares a colour (objdump --visualize-jumps=color).
	Color uint32
}

// Local reports whether the group is a branch inside a function.
func (g *Group) Local() bool {
	return g.Kind == disasm.ArrowJump || g.Kind == disasm.ArrowCondJump
}

// Line returns the instruction shown on row r, or nil. Its fields are
// not to be changed.
func (l *Listing) Line(r int) *disasm.Line {
	if r < 0 || r >= len(l.Rows) || l.Rows[r].Kind != RowInsn {
		return nil
	}
	row := l.Rows[r]
	f := l.Funcs[row.Func]
	if !f.Indexed() {
		return &f.Lines[row.Line]
	}
	l.linesMu.Lock()
	defer l.linesMu.Unlock()
	if ln := l.lines[r]; ln != nil {
		return ln
	}
	if l.lines == nil || len(l.lines) >= lineCacheSize {
		l.lines = make(map[int]*disasm.Line, 256)
	}
	ln := f.Line(int(row.Line))
	l.lines[r] = &ln
	return &ln
}

// lineCacheSize bounds the lines an indexed listing keeps decoded.
const lineCacheSize = 4096

// defaultIndexAbove is Options.IndexAbove's default.
const defaultIndexAbove = 512 << 10

// Fill prints every text of an indexed listing, what Search and TextWidth
// read, and returns when it is done (at once for a listing listed whole).
func (l *Listing) Fill() { <-l.Filling() }

// Filling starts printing the texts in the background, once, and returns
// a channel closed when they are all printed.
func (l *Listing) Filling() <-chan struct{} {
	l.fillMu.Lock()
	defer l.fillMu.Unlock()
	if l.fill == nil {
		l.fill = make(chan struct{})
		progs := l.Programs
		fill := func() {
			w := 0
			for _, p := range progs {
				// An undecodable word prints as its error (List
				// would have failed); the listing still shows.
				_ = p.Fill()
				for _, f := range p.Funcs {
					w = max(w, f.MaxText())
				}
			}
			l.textW = w
			close(l.fill)
		}
		if l.unprinted() {
			go fill()
		} else {
			fill() // listed whole: nothing to print
		}
	}
	return l.fill
}

// unprinted reports whether some function's texts are not printed yet.
func (l *Listing) unprinted() bool {
	for _, p := range l.Programs {
		for _, f := range p.Funcs {
			if !f.Filled() {
				return true
			}
		}
	}
	return false
}

// Indexed reports whether the listing is in the compact form
// (disasm.Index): a large program, whose texts are printed on demand.
func (l *Listing) Indexed() bool {
	return len(l.Programs) > 0 && len(l.Programs[0].Funcs) > 0 && l.Programs[0].Funcs[0].Indexed()
}

// Filled reports whether every text is printed. It does not start
// printing them (Filling does), except in a listing listed whole, where
// there is nothing to print.
func (l *Listing) Filled() bool {
	l.fillMu.Lock()
	started := l.fill != nil
	l.fillMu.Unlock()
	if !started && l.unprinted() {
		return false
	}
	select {
	case <-l.Filling():
		return true
	default:
		return false
	}
}

// TextWidth is the length of the longest instruction text, once the
// listing is Filled; false before.
func (l *Listing) TextWidth() (int, bool) {
	if !l.Filled() {
		return 0, false
	}
	return l.textW, true
}

// Func returns the function row r belongs to.
func (l *Listing) Func(r int) *disasm.Func {
	if r < 0 || r >= len(l.Rows) {
		return nil
	}
	return l.Funcs[l.Rows[r].Func]
}

// BPFInsn returns the BPF instruction row r was compiled from, if any.
func (l *Listing) BPFInsn(r int) (kernel.Insn, bool) {
	if r < 0 || r >= len(l.Rows) || l.Rows[r].Kind != RowInsn {
		return kernel.Insn{}, false
	}
	f := l.Funcs[l.Rows[r].Func]
	b := f.BPF(int(l.Rows[r].Line))
	if b < 0 {
		return kernel.Insn{}, false
	}
	return f.Image.Insns[b], true
}

// FirstRowOfBPF returns the first row with BPF id id, or -1.
func (l *Listing) FirstRowOfBPF(id int32) int {
	if id >= 0 && int(id) < len(l.firstRow) {
		return int(l.firstRow[id]) - 1
	}
	return -1
}

// RowOfLine returns the row of line li of function fi.
func (l *Listing) RowOfLine(fi, li int) int { return int(l.lineRow[fi][li]) }

// SourceLine returns the source line a RowSource row shows.
func (l *Listing) SourceLine(r int) (kernel.LineInfo, bool) {
	if r < 0 || r >= len(l.Rows) || l.Rows[r].Kind != RowSource {
		return kernel.LineInfo{}, false
	}
	i, found := slices.BinarySearch(l.sourceAt, int32(r))
	if !found {
		return kernel.LineInfo{}, false
	}
	return l.Funcs[l.Rows[r].Func].Image.Lines[l.sourceIdx[i]], true
}

// SourceText is how a note and a source row name a line: "file:line: text"
// (disasm's notes spell it so).
func SourceText(li kernel.LineInfo) string {
	s := fmt.Sprintf("line %d", li.Line)
	if li.File != "" {
		s = fmt.Sprintf("%s:%d", li.File, li.Line)
	}
	if t := strings.TrimSpace(li.Text); t != "" {
		s += ": " + t
	}
	return s
}

// sourceStarts maps the byte offsets of f's image where a new source line
// starts (the line info changes file or line) to the index in Lines.
func sourceStarts(f *disasm.Func) map[int]int32 {
	img := f.Image
	if len(img.Lines) == 0 {
		return nil
	}
	out := map[int]int32{}
	prevFile, prevLine := "", -1
	for i, li := range img.Lines {
		k := li.Insn - img.FirstInsn
		if k < 0 || k >= len(img.Insns) || li.Line == 0 || k >= len(img.BPFOffsets) {
			continue
		}
		if li.File == prevFile && li.Line == prevLine {
			continue
		}
		prevFile, prevLine = li.File, li.Line
		if _, ok := out[img.BPFOffsets[k]]; !ok {
			out[img.BPFOffsets[k]] = int32(i)
		}
	}
	return out
}

// layout flattens the programs into rows and assigns arrow lanes.
func (l *Listing) layout() {
	l.layoutRows()
	l.layoutArrows()
}

// layoutRows flattens the programs into rows, giving BPF ids from the
// session's table: listings sharing the table are laid out one at a time.
func (l *Listing) layoutRows() {
	// The rows are counted first (source rows at most one per entry of
	// each function's sourceStarts) so that they are allocated once.
	var srcs []map[int]int32
	n := 0
	for _, p := range l.Programs {
		for _, f := range p.Funcs {
			var src map[int]int32
			if l.Source {
				src = sourceStarts(f)
			}
			srcs = append(srcs, src)
			n += 2 + f.Len() + len(src)
		}
	}
	l.Rows = make([]Row, 0, n)
	l.Funcs = make([]*disasm.Func, 0, len(srcs))
	l.lineRow = make([][]int32, 0, len(srcs))
	for pi, p := range l.Programs {
		for _, f := range p.Funcs {
			fi := len(l.Funcs)
			l.Funcs = append(l.Funcs, f)
			l.FuncProg = append(l.FuncProg, pi)
			if fi > 0 {
				l.Rows = append(l.Rows, Row{Kind: RowBlank, Func: int32(fi), BPF: -1})
			}
			l.FuncRow = append(l.FuncRow, len(l.Rows))
			l.Rows = append(l.Rows, Row{Kind: RowHeader, Func: int32(fi), BPF: -1})
			l.layoutFunc(fi, p.Image.Program, f, srcs[fi])
		}
	}
}

// layoutArrows finds the arrows of the laid out rows and assigns their
// lanes; it reads only the listing, so listings are done at the same time.
func (l *Listing) layoutArrows() {
	rowOf := func(p disasm.Pos) int { return int(l.lineRow[p.Func][p.Line]) }
	arrows := disasm.Flow(l.Funcs)
	l.Lanes = disasm.AssignLanes(arrows, rowOf)
	// Arrows in the same lane to the same row are one group, in order
	// of first appearance. The groups' sources share one array: counted
	// first, then filled.
	byKey := make(map[int64]int32, len(arrows)/2)
	groupOf := make([]int32, len(arrows))
	var first, count []int32 // per group: its first arrow, its sources
	for i := range arrows {
		a := &arrows[i]
		k := int64(a.Lane)<<32 | int64(uint32(rowOf(a.To)))
		gi, ok := byKey[k]
		if !ok {
			gi = int32(len(first))
			byKey[k] = gi
			first = append(first, int32(i))
			count = append(count, 0)
		}
		groupOf[i] = gi
		count[gi]++
	}
	l.Groups = make([]Group, len(first))
	srcs := make([]int, len(arrows))
	at := 0
	for gi, i := range first {
		a := &arrows[i]
		to, n := rowOf(a.To), int(count[gi])
		l.Groups[gi] = Group{Lane: a.Lane, Lo: to, Hi: to, Target: to, Kind: a.Kind, Label: a.Label, Color: rowColor(to),
			Sources: srcs[at : at : at+n]}
		at += n
	}
	for i := range arrows {
		g := &l.Groups[groupOf[i]]
		from := rowOf(arrows[i].From)
		g.Lo, g.Hi = min(g.Lo, from), max(g.Hi, from)
		g.Sources = append(g.Sources, from)
	}
}

// rowColor is a group's Color: FNV-1a of the target row in decimal.
func rowColor(row int) uint32 {
	var b [24]byte
	h := uint32(2166136261)
	for _, c := range strconv.AppendInt(b[:0], int64(row), 10) {
		h ^= uint32(c)
		h *= 16777619
	}
	return h
}

// layoutFunc appends the rows of function fi's lines, giving each its BPF
// id: the function's id table is looked up and locked once, not per line.
func (l *Listing) layoutFunc(fi int, prog string, f *disasm.Func, src map[int]int32) {
	rows := make([]int32, f.Len())
	l.lineRow = append(l.lineRow, rows)
	var origin []int
	if rw := l.Rewrites[prog]; rw != nil {
		origin = rw.Program.Origin
	}
	insns := f.Image.Insns
	b := l.ids
	b.mu.Lock()
	defer b.mu.Unlock()
	var ft *funcIDs
	for li := range rows {
		if len(src) > 0 {
			if si, ok := src[f.Offset(li)]; ok {
				l.sourceAt = append(l.sourceAt, int32(len(l.Rows)))
				l.sourceIdx = append(l.sourceIdx, si)
				l.Rows = append(l.Rows, Row{Kind: RowSource, Func: int32(fi), Line: int32(li), BPF: -1})
				l.SourceRows++
			}
		}
		rows[li] = int32(len(l.Rows))
		index, region := -1, jit.RegionKind("")
		if b := f.BPF(li); b >= 0 {
			index = insns[b].Index
			if index < len(origin) {
				// The instruction as written: what the other
				// pane (BPF as written) links to.
				index = origin[index]
			}
		} else {
			region = f.Region(li)
		}
		if ft == nil {
			ft = b.funcTable(prog, f.Image.Name, index)
		}
		id := b.id(ft, index, region)
		if int(id) >= len(l.firstRow) {
			l.firstRow = append(l.firstRow, make([]int32, int(id)+1-len(l.firstRow))...)
		}
		if l.firstRow[id] == 0 {
			l.firstRow[id] = int32(len(l.Rows)) + 1
		}
		l.Rows = append(l.Rows, Row{Kind: RowInsn, Func: int32(fi), Line: int32(li), BPF: id})
	}
}

// GutterLanes caps the lanes a gutter draws (radare2's asm.lines.width):
// edges in outer lanes are not drawn, and Folded counts them.
const GutterLanes = 12

// Cell flags in Cells' values.
const (
	CellSource uint32 = 1 << 0 // the row is a branch of the group
	CellTarget uint32 = 1 << 1 // the row is the group's target
)

// Cells returns, for row r, one value per drawn lane (lane 0 first): 0 for
// an empty cell, else (group index + 1) << 2 with CellSource/CellTarget
// set where the row is an end of the group's line. The lanes are indexed
// on first use, in time linear in the groups; a row is a binary search per
// lane.
func (l *Listing) Cells(r int) []uint32 {
	return l.AppendCells(nil, r)
}

// AppendCells is Cells appending to dst: a frame draws its rows' cells
// into one buffer.
func (l *Listing) AppendCells(dst []uint32, r int) []uint32 {
	l.cellsOnce.Do(l.buildCells)
	if r < 0 || r >= len(l.Rows) || l.cellLanes == 0 {
		return dst
	}
	if l.cells != nil {
		return append(dst, l.cells[r*l.cellLanes:(r+1)*l.cellLanes]...)
	}
	for _, gs := range l.laneGroups {
		dst = append(dst, l.laneCell(gs, r))
	}
	return dst
}

// laneCell is the cell of row r in the lane whose groups are gs.
func (l *Listing) laneCell(gs []int32, r int) uint32 {
	// The last group starting at or before r.
	lo, hi := 0, len(gs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.Groups[gs[m]].Lo <= r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0
	}
	gi := int(gs[lo-1])
	g := &l.Groups[gi]
	if g.Hi < r {
		return 0
	}
	v := uint32(gi+1) << 2
	if g.Target == r {
		v |= CellTarget
	}
	srcs := l.srcRows[l.srcStart[gi]:l.srcStart[gi+1]]
	if _, found := slices.BinarySearch(srcs, int32(r)); found {
		v |= CellSource
	}
	return v
}

// DrawnLanes is the number of lanes Cells describes.
func (l *Listing) DrawnLanes() int { return min(l.Lanes, GutterLanes) }

// Folded counts the groups in lanes beyond GutterLanes.
func (l *Listing) Folded() int {
	n := 0
	for i := range l.Groups {
		if l.Groups[i].Lane >= GutterLanes {
			n++
		}
	}
	return n
}

func (l *Listing) buildCells() {
	nl := l.DrawnLanes()
	l.cellLanes = nl
	if nl == 0 {
		return
	}
	l.laneGroups = make([][]int32, nl)
	l.srcStart = make([]int32, len(l.Groups)+1)
	for gi := range l.Groups {
		g := &l.Groups[gi]
		l.srcStart[gi+1] = l.srcStart[gi]
		if g.Lane >= nl {
			continue
		}
		l.laneGroups[g.Lane] = append(l.laneGroups[g.Lane], int32(gi))
		l.srcStart[gi+1] += int32(len(g.Sources))
		for _, r := range g.Sources {
			l.srcRows = append(l.srcRows, int32(r))
		}
		slices.Sort(l.srcRows[l.srcStart[gi]:])
	}
	disjoint := true
	for _, gs := range l.laneGroups {
		slices.SortFunc(gs, func(a, b int32) int { return cmp.Compare(l.Groups[a].Lo, l.Groups[b].Lo) })
		for k := 1; k < len(gs); k++ {
			if l.Groups[gs[k]].Lo <= l.Groups[gs[k-1]].Hi {
				disjoint = false
			}
		}
	}
	if disjoint {
		return
	}
	l.laneGroups, l.srcStart, l.srcRows = nil, nil, nil
	l.buildCellTable(nl)
}

// buildCellTable fills the rows x lanes table: later groups over earlier
// ones where they overlap.
func (l *Listing) buildCellTable(nl int) {
	l.cells = make([]uint32, len(l.Rows)*nl)
	for gi := range l.Groups {
		g := &l.Groups[gi]
		if g.Lane >= nl {
			continue
		}
		v := uint32(gi+1) << 2
		for r := g.Lo; r <= g.Hi; r++ {
			l.cells[r*nl+g.Lane] = v
		}
		for _, s := range g.Sources {
			l.cells[s*nl+g.Lane] |= CellSource
		}
		l.cells[g.Target*nl+g.Lane] |= CellTarget
	}
}

// RowOfAddr returns the row of the instruction containing addr, or -1.
func (l *Listing) RowOfAddr(addr uint64) int {
	for fi, f := range l.Funcs {
		img := f.Image
		if addr < img.Address || addr >= img.Address+uint64(len(img.Code)) {
			continue
		}
		i := f.LineContaining(int(addr - img.Address))
		if i < 0 {
			return -1
		}
		return int(l.lineRow[fi][i])
	}
	return -1
}

// RowOfFunc returns the header row of the function named name, or -1.
func (l *Listing) RowOfFunc(name string) int {
	for fi, f := range l.Funcs {
		if f.Image.Name == name || f.Image.Ksym == name {
			return l.FuncRow[fi]
		}
	}
	return -1
}

// Matches reports whether row r matches a search for q: its instruction
// text, its notes, or on a header row the function's name and prototype.
// An all-lowercase q matches case-insensitively (smart case).
func (l *Listing) Matches(r int, q string) bool {
	if q == "" || r < 0 || r >= len(l.Rows) {
		return false
	}
	return l.matches(r, newQuery(q))
}

// query is a search's text and whether it folds case, decided once per
// search rather than once per row.
type query struct {
	q    string
	fold bool
}

func newQuery(q string) query { return query{q: q, fold: strings.ToLower(q) == q} }

func (m query) in(s string) bool {
	if m.fold {
		return containsLower(s, m.q)
	}
	return strings.Contains(s, m.q)
}

// matches is Matches for a row in range and a non-empty query.
func (l *Listing) matches(r int, m query) bool {
	row := l.Rows[r]
	switch row.Kind {
	case RowHeader:
		f := l.Funcs[row.Func]
		return m.in(f.Image.Name) || m.in(f.Image.Ksym) || m.in(f.Header())
	case RowSource:
		li, _ := l.SourceLine(r)
		return m.in(SourceText(li))
	case RowInsn:
		f := l.Funcs[row.Func]
		if m.in(f.Text(int(row.Line))) {
			return true
		}
		for _, n := range f.Notes(int(row.Line)) {
			if m.in(n) {
				return true
			}
		}
	}
	return false
}

// containsLower is strings.Contains(strings.ToLower(s), q) for an
// all-lowercase q, without lowering s when it has no capital or non-ASCII
// letter (instruction text almost never has): a search reads every row.
func containsLower(s, q string) bool {
	if strings.Contains(s, q) {
		return true
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return strings.Contains(strings.ToLower(s), q)
		}
	}
	return false
}

// Search returns the next row after from (dir > 0) or before it (dir < 0)
// that matches q, wrapping around, or -1.
func (l *Listing) Search(q string, from, dir int) int {
	n := len(l.Rows)
	if n == 0 || q == "" {
		return -1
	}
	step := 1
	if dir < 0 {
		step = -1
	}
	l.Fill() // every row's text, printed once
	m := newQuery(q)
	r := (from%n + n) % n
	for range n {
		// (from + step*i) mod n, without two divisions a row.
		r += step
		if r == n {
			r = 0
		} else if r < 0 {
			r = n - 1
		}
		if l.matches(r, m) {
			return r
		}
	}
	return -1
}

// Target returns the row a control-flow edge from row r leads to: the
// branch target, the called function, the tail call's landing pad, or -1.
func (l *Listing) Target(r int) int {
	l.targetsOnce.Do(l.buildTargets)
	if t, ok := l.targets[r]; ok {
		return t
	}
	if ln := l.Line(r); ln != nil && ln.HasTarget {
		return l.RowOfAddr(ln.Target)
	}
	return -1
}

// buildTargets records, for each source row of a group, the target of the
// first group (in order) that has it as a source and does not target it.
func (l *Listing) buildTargets() {
	l.targets = map[int]int{}
	for gi := range l.Groups {
		g := &l.Groups[gi]
		for _, s := range g.Sources {
			if _, seen := l.targets[s]; !seen && g.Target != s {
				l.targets[s] = g.Target
			}
		}
	}
}

// BPFKey names a BPF instruction (Index >= 0) or, for machine code outside
// the body, a region of a function, independently of the architecture.
type BPFKey struct {
	Prog, Func string
	Index      int
	Region     jit.RegionKind
}

// BPFIDs interns BPFKeys so rows of different listings compare by int.
// Ids are given in order of first sight. Every machine instruction asks for
// one, so the table is per function: its instructions' ids in a slice
// indexed by instruction (a function's instructions are contiguous), its
// regions' in a small map (a map of every key took 140 MB at 1M
// instructions).
type BPFIDs struct {
	mu    sync.Mutex
	n     int32
	funcs map[[2]string]*funcIDs // (Prog, Func)
}

type funcIDs struct {
	base     int     // Index of byIndex[0]
	byIndex  []int32 // id + 1, 0 for none yet
	byRegion map[bpfRegionKey]int32
}

// bpfRegionKey is the rest of a BPFKey that is not an instruction.
type bpfRegionKey struct {
	index  int
	region jit.RegionKind
}

// NewBPFIDs returns an empty table.
func NewBPFIDs() *BPFIDs { return &BPFIDs{funcs: map[[2]string]*funcIDs{}} }

// ID returns k's id, assigning the next one on first sight.
func (b *BPFIDs) ID(k BPFKey) int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.id(b.funcTable(k.Prog, k.Func, k.Index), k.Index, k.Region)
}

// funcTable returns the table of (prog, fn), made with base index when
// new; b.mu is held.
func (b *BPFIDs) funcTable(prog, fn string, index int) *funcIDs {
	f := b.funcs[[2]string{prog, fn}]
	if f == nil {
		f = &funcIDs{base: index}
		b.funcs[[2]string{prog, fn}] = f
	}
	return f
}

// id is ID for a key of f's function; b.mu is held.
func (b *BPFIDs) id(f *funcIDs, index int, region jit.RegionKind) int32 {
	if index < 0 || region != "" {
		rk := bpfRegionKey{index, region}
		id, ok := f.byRegion[rk]
		if !ok {
			if f.byRegion == nil {
				f.byRegion = map[bpfRegionKey]int32{}
			}
			id = b.next()
			f.byRegion[rk] = id
		}
		return id
	}
	if len(f.byIndex) == 0 || index < f.base {
		// The first instruction, or one before those seen: move the base.
		shift := 0
		if len(f.byIndex) > 0 {
			shift = f.base - index
		}
		f.byIndex = append(make([]int32, shift, shift+len(f.byIndex)), f.byIndex...)
		f.base = index
	}
	i := index - f.base
	if i >= len(f.byIndex) {
		f.byIndex = append(f.byIndex, make([]int32, i+1-len(f.byIndex))...)
	}
	if f.byIndex[i] == 0 {
		f.byIndex[i] = b.next() + 1
	}
	return f.byIndex[i] - 1
}

func (b *BPFIDs) next() int32 {
	id := b.n
	b.n++
	return id
}
