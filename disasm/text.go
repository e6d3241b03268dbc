// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"cmp"
	"io"
	"runtime"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/jitscope/jitscope/kernel"
)

// TextOptions controls WriteText.
type TextOptions struct {
	// Plain prints only headers and instruction lines: no arrows, no notes.
	Plain bool
}

// InstructionText is a line as `jitscope dump --plain` prints it:
// "0x%016x: text", with x86's opcode bytes between address and text in a
// column of byteCols bytes.
func InstructionText(arch kernel.Arch, l *Line, byteCols int) string {
	return string(appendInstructionText(nil, arch, l, byteCols))
}

const hexDigits = "0123456789abcdef"

// appendInstructionText appends InstructionText(arch, l, byteCols) to b.
func appendInstructionText(b []byte, arch kernel.Arch, l *Line, byteCols int) []byte {
	b = append(b, '0', 'x')
	for sh := 60; sh >= 0; sh -= 4 {
		b = append(b, hexDigits[l.Addr>>uint(sh)&0xf])
	}
	b = append(b, ':', ' ')
	if arch == kernel.X86_64 {
		n := 0
		for i, x := range l.Bytes {
			if i > 0 {
				b = append(b, ' ')
				n++
			}
			b = append(b, hexDigits[x>>4], hexDigits[x&0xf])
			n += 2
		}
		for ; n < 3*byteCols-1; n++ {
			b = append(b, ' ')
		}
		b = append(b, ' ')
	}
	return append(b, l.Text...)
}

// instructionTextLen is len(InstructionText(arch, l, byteCols)).
func instructionTextLen(arch kernel.Arch, l *Line, byteCols int) int {
	n := 20 + len(l.Text)
	if arch == kernel.X86_64 {
		hex := 0
		if len(l.Bytes) > 0 {
			hex = 3*len(l.Bytes) - 1
		}
		n += max(hex, 3*byteCols-1) + 1
	}
	return n
}

// WriteText prints listings as seed 000 shows them: a header per function,
// one line per instruction, and unless Plain, control-flow arrows on the
// right and "// annotations" after them.
//
// The arrows go in lanes right of the widest line. Arrows sharing a lane
// and a target are drawn as one: a vertical from the topmost to the
// bottommost end, corners at the two extremes and joints ('+') at the ends
// in between; each end is joined to its line by dashes, with an arrowhead
// at a target.
//
// Rows are printed in chunks of consecutive lines of a function, formatted
// on up to GOMAXPROCS goroutines and written in order: a row depends only
// on its text, its notes, the verticals crossing it (kept as a count per
// lane column, known at a chunk's first row from the verticals that start
// and stop above it) and its arrow ends.
func WriteText(w io.Writer, progs []*Program, opt TextOptions) error {
	t := &textLayout{funcs: Flatten(progs), arch: kernel.ARM64, plain: opt.Plain}
	if len(progs) > 0 {
		t.arch = progs[0].Image.Arch
	}
	t.byteCols = 7 // objdump's width, widened for longer instructions
	if t.arch == kernel.X86_64 {
		for _, f := range t.funcs {
			for li := range f.Lines {
				t.byteCols = max(t.byteCols, len(f.Lines[li].Bytes))
			}
		}
	}
	t.first = make([]int, len(t.funcs)) // row of each function's first line
	rows := 0
	for fi, f := range t.funcs {
		if fi > 0 {
			rows++
		}
		rows++
		t.first[fi] = rows
		rows += len(f.Lines)
	}
	if !opt.Plain {
		t.layArrows()
	}
	return t.write(w, t.chunks())
}

// textLayout is what WriteText knows before printing a row.
type textLayout struct {
	funcs    []*Func
	arch     kernel.Arch
	plain    bool
	byteCols int
	first    []int // row of each function's first line
	// width is the widest row's text, total the column after the last lane.
	width, total int
	verts        []textVert // sorted by row
	ends         []textEnd  // sorted by row, then arrow order
	spans        []textSpan
}

// A textSpan is the rows an arrow group (a lane and a target row) covers.
type textSpan struct{ lo, hi int }

// A textVert starts (d = 1) or stops (d = -1) a span's vertical at a row,
// in a column counted from the width.
type textVert struct{ row, col, d int32 }

// A textEnd is an arrow's end on a row: its column counted from the width,
// whether it is the head, and its span.
type textEnd struct {
	row, col, span int32
	head           bool
}

func (t *textLayout) rowOf(p Pos) int { return t.first[p.Func] + p.Line }

// layArrows computes the arrows and lanes, the width and the verticals
// and ends each row gets.
func (t *textLayout) layArrows() {
	// The width (a pass over every line) is found while the arrows are
	// laid out, which does not need it.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, f := range t.funcs {
			t.width = max(t.width, len(f.Header()))
			for li := range f.Lines {
				t.width = max(t.width, instructionTextLen(t.arch, &f.Lines[li], t.byteCols))
			}
		}
	}()
	arrows := Flow(t.funcs)
	nLanes := AssignLanes(arrows, t.rowOf)
	wg.Wait()
	laneCol := func(lane int) int32 { return int32(2 + 2*lane) } // from the width
	t.total = t.width + int(laneCol(nLanes))

	// Spans by (lane, target row), numbered in the order of the arrows.
	spanOf := make(map[int64]int32, len(arrows)/2)
	key := func(a Arrow) int64 { return int64(a.Lane)<<32 | int64(t.rowOf(a.To)) }
	arrowSpan := make([]int32, len(arrows))
	for i, a := range arrows {
		lo, hi := t.rowOf(a.From), t.rowOf(a.To)
		if lo > hi {
			lo, hi = hi, lo
		}
		k := key(a)
		if s, ok := spanOf[k]; ok {
			sp := &t.spans[s]
			sp.lo, sp.hi = min(sp.lo, lo), max(sp.hi, hi)
			arrowSpan[i] = s
		} else {
			spanOf[k] = int32(len(t.spans))
			arrowSpan[i] = int32(len(t.spans))
			t.spans = append(t.spans, textSpan{lo, hi})
		}
	}
	// Verticals, as the columns they start and stop on: a span draws '|'
	// on the rows strictly between its ends. (The order of a row's
	// verticals does not matter: a row's result depends only on the
	// counts.)
	spanLane := make([]int32, len(t.spans))
	for i, a := range arrows {
		spanLane[arrowSpan[i]] = int32(a.Lane)
	}
	for i, s := range t.spans {
		if s.hi-s.lo >= 2 {
			col := laneCol(int(spanLane[i]))
			t.verts = append(t.verts, textVert{int32(s.lo + 1), col, 1}, textVert{int32(s.hi), col, -1})
		}
	}
	slices.SortFunc(t.verts, func(a, b textVert) int { return cmp.Compare(a.row, b.row) })
	// Ends, by row, in the order of the arrows.
	t.ends = make([]textEnd, 0, 2*len(arrows))
	for i, a := range arrows {
		col := laneCol(a.Lane)
		t.ends = append(t.ends,
			textEnd{int32(t.rowOf(a.From)), col, arrowSpan[i], false},
			textEnd{int32(t.rowOf(a.To)), col, arrowSpan[i], true})
	}
	slices.SortStableFunc(t.ends, func(a, b textEnd) int { return cmp.Compare(a.row, b.row) })
}

// textChunkRows is the number of instruction lines in a chunk of
// WriteText's output (a variable so that tests can cut chunks anywhere).
var textChunkRows = 4096

// A textChunk is lines [lo, hi) of function fi, after its separator and
// header when lo is 0.
type textChunk struct {
	fi, lo, hi int
	row        int // the chunk's first row
	vi, ei     int // its first vertical and end
	count      []int32
}

// chunks cuts the listing into chunks and computes the lane state each
// starts with.
func (t *textLayout) chunks() []textChunk {
	var cs []textChunk
	for fi, f := range t.funcs {
		for lo := 0; lo == 0 || lo < len(f.Lines); lo += textChunkRows {
			c := textChunk{fi: fi, lo: lo, hi: min(lo+textChunkRows, len(f.Lines)), row: t.first[fi] + lo}
			if lo == 0 {
				c.row-- // the header
				if fi > 0 {
					c.row-- // the separator
				}
			}
			cs = append(cs, c)
		}
	}
	if t.plain {
		return cs
	}
	cols := t.total - t.width
	counts := make([]int32, len(cs)*cols)
	run := make([]int32, cols)
	vi, ei := 0, 0
	for i := range cs {
		c := &cs[i]
		for ; vi < len(t.verts) && int(t.verts[vi].row) < c.row; vi++ {
			run[t.verts[vi].col] += t.verts[vi].d
		}
		for ei < len(t.ends) && int(t.ends[ei].row) < c.row {
			ei++
		}
		c.vi, c.ei = vi, ei
		c.count = counts[i*cols : (i+1)*cols : (i+1)*cols]
		copy(c.count, run)
	}
	return cs
}

// rowState is the lanes crossing the current row: count per column from
// the width, lanes the characters, right one past the rightmost '|'.
type rowState struct {
	r, vi, ei int
	count     []int32
	lanes     []byte
	right     int
}

const spaces = "                                                                "

func appendSpaces(b []byte, n int) []byte {
	for n > len(spaces) {
		b = append(b, spaces...)
		n -= len(spaces)
	}
	if n > 0 {
		b = append(b, spaces[:n]...)
	}
	return b
}

// format appends the rows of chunk c to b.
func (t *textLayout) format(b []byte, c *textChunk, st *rowState) []byte {
	f := t.funcs[c.fi]
	if !t.plain {
		st.r, st.vi, st.ei = c.row, c.vi, c.ei
		st.count = append(st.count[:0], c.count...)
		st.lanes = st.lanes[:0]
		st.right = 0
		for i, n := range st.count {
			if n > 0 {
				st.lanes = append(st.lanes, '|')
				st.right = i + 1
			} else {
				st.lanes = append(st.lanes, ' ')
			}
		}
	}
	if c.lo == 0 {
		if c.fi > 0 {
			b = t.endRow(b, len(b), nil, st)
		}
		start := len(b)
		b = append(b, f.Header()...)
		b = t.endRow(b, start, nil, st)
	}
	for li := c.lo; li < c.hi; li++ {
		l := &f.Lines[li]
		start := len(b)
		b = appendInstructionText(b, t.arch, l, t.byteCols)
		b = t.endRow(b, start, l.Notes, st)
	}
	return b
}

// endRow finishes the row whose text is b[start:]: its lanes, arrow ends
// and notes, and the newline.
func (t *textLayout) endRow(b []byte, start int, notes []string, st *rowState) []byte {
	if t.plain {
		return append(b, '\n')
	}
	r := st.r
	st.r++
	for ; st.vi < len(t.verts) && int(t.verts[st.vi].row) <= r; st.vi++ {
		v := t.verts[st.vi]
		c := int(v.col)
		st.count[c] += v.d
		if st.count[c] > 0 {
			st.lanes[c] = '|'
			st.right = max(st.right, c+1)
		} else {
			st.lanes[c] = ' '
			for st.right > 0 && st.lanes[st.right-1] == ' ' {
				st.right--
			}
		}
	}
	textLen := len(b) - start
	hasEnd := st.ei < len(t.ends) && int(t.ends[st.ei].row) == r
	if st.right > 0 || hasEnd {
		b = appendSpaces(b, t.width-textLen)
		b = append(b, st.lanes[:st.right]...)
	}
	for ; st.ei < len(t.ends) && int(t.ends[st.ei].row) == r; st.ei++ {
		e := t.ends[st.ei]
		col := start + t.width + int(e.col)
		if len(b) <= col {
			b = appendSpaces(b, col+1-len(b))
		}
		from := start + textLen + 1
		for c := from; c < col; c++ {
			if b[c] == ' ' {
				b[c] = '-'
			}
		}
		if e.head {
			b[from] = '<'
		}
		switch s := t.spans[e.span]; r {
		case s.lo:
			b[col] = '.'
		case s.hi:
			b[col] = '\''
		default:
			b[col] = '+'
		}
	}
	for len(b) > start && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	if len(notes) > 0 {
		if n := utf8.RuneCount(b[start:]); n < t.total {
			b = appendSpaces(b, t.total-n)
		}
		b = append(b, " // "...)
		for i, n := range notes {
			if i > 0 {
				b = append(b, "; "...)
			}
			b = append(b, n...)
		}
	}
	return append(b, '\n')
}

// write formats the chunks on up to GOMAXPROCS goroutines and writes them
// to w in order, a few chunks ahead at most.
func (t *textLayout) write(w io.Writer, cs []textChunk) error {
	workers := min(runtime.GOMAXPROCS(0), len(cs))
	if workers <= 1 {
		var b []byte
		var st rowState
		for i := range cs {
			b = t.format(b[:0], &cs[i], &st)
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	ahead := 2 * workers
	done := make([]chan []byte, len(cs))
	for i := range done {
		done[i] = make(chan []byte, 1)
	}
	next := make(chan int)
	quit := make(chan struct{})
	tokens := make(chan struct{}, ahead)
	free := make(chan []byte, ahead+workers)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // hands out chunks in order, at most ahead unwritten
		defer wg.Done()
		defer close(next)
		for i := range cs {
			select {
			case tokens <- struct{}{}:
			case <-quit:
				return
			}
			select {
			case next <- i:
			case <-quit:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var st rowState
			for i := range next {
				var b []byte
				select {
				case b = <-free:
				default:
				}
				done[i] <- t.format(b[:0], &cs[i], &st)
			}
		}()
	}
	var err error
	for i := range cs {
		b := <-done[i]
		if _, err = w.Write(b); err != nil {
			break
		}
		select {
		case free <- b:
		default:
		}
		<-tokens
	}
	close(quit)
	wg.Wait()
	return err
}
