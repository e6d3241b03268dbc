package disasm

import (
	"bufio"
	"bytes"
	"cmp"
	"io"
	"slices"
	"strings"
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

// textRows walks the rows WriteText prints: per function a blank separator
// (but before the first), its header and its instruction lines. each gets
// the row's text (valid until the next call) and notes.
func textRows(funcs []*Func, arch kernel.Arch, byteCols int, each func(text []byte, notes []string) error) error {
	var buf []byte
	for fi, f := range funcs {
		if fi > 0 {
			if err := each(nil, nil); err != nil {
				return err
			}
		}
		if err := each(append(buf[:0], f.Header()...), nil); err != nil {
			return err
		}
		for li := range f.Lines {
			l := &f.Lines[li]
			buf = appendInstructionText(buf[:0], arch, l, byteCols)
			if err := each(buf, l.Notes); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteText prints listings as seed 000 shows them: a header per function,
// one line per instruction, and unless Plain, control-flow arrows on the
// right and "// annotations" after them.
//
// The arrows go in lanes right of the widest line. Arrows sharing a lane
// and a target are drawn as one: a vertical from the topmost to the
// bottommost end, corners at the two extremes and joints ('+') at the ends
// in between; each end is joined to its line by dashes, with an arrowhead
// at a target. Lines are written one at a time: the verticals that cross a
// row, then its ends in arrow order.
func WriteText(w io.Writer, progs []*Program, opt TextOptions) error {
	funcs := Flatten(progs)
	arch := kernel.ARM64
	if len(progs) > 0 {
		arch = progs[0].Image.Arch
	}
	byteCols := 7 // objdump's width, widened for longer instructions
	for _, f := range funcs {
		for _, l := range f.Lines {
			byteCols = max(byteCols, len(l.Bytes))
		}
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if opt.Plain {
		err := textRows(funcs, arch, byteCols, func(text []byte, _ []string) error {
			bw.Write(text)
			return bw.WriteByte('\n')
		})
		if err != nil {
			return err
		}
		return bw.Flush()
	}
	first := make([]int, len(funcs)) // row of each function's first line
	rows, width := 0, 0
	for fi, f := range funcs {
		if fi > 0 {
			rows++
		}
		width = max(width, len(f.Header()))
		rows++
		first[fi] = rows
		for li := range f.Lines {
			width = max(width, instructionTextLen(arch, &f.Lines[li], byteCols))
		}
		rows += len(f.Lines)
	}
	rowOf := func(p Pos) int { return first[p.Func] + p.Line }
	arrows := Flow(funcs)
	nLanes := AssignLanes(arrows, rowOf)
	laneCol := func(lane int) int { return width + 2 + 2*lane }
	total := laneCol(nLanes)

	type span struct{ lo, hi int }
	spans := map[[2]int]*span{} // (lane, target row)
	key := func(a Arrow) [2]int { return [2]int{a.Lane, rowOf(a.To)} }
	for _, a := range arrows {
		lo, hi := rowOf(a.From), rowOf(a.To)
		if lo > hi {
			lo, hi = hi, lo
		}
		if s := spans[key(a)]; s != nil {
			s.lo, s.hi = min(s.lo, lo), max(s.hi, hi)
		} else {
			spans[key(a)] = &span{lo, hi}
		}
	}
	// Verticals, as the columns they start and stop on: a span draws '|'
	// on the rows strictly between its ends.
	type vert struct{ row, col, d int }
	var verts []vert
	for k, s := range spans {
		if s.hi-s.lo >= 2 {
			col := laneCol(k[0])
			verts = append(verts, vert{s.lo + 1, col, 1}, vert{s.hi, col, -1})
		}
	}
	// (The order of a row's verticals does not matter: spans come from a
	// map, and a row's result depends only on the counts.)
	slices.SortFunc(verts, func(a, b vert) int { return cmp.Compare(a.row, b.row) })
	// Ends, by row, in the order of the arrows.
	type end struct {
		row, col int
		head     bool
		s        *span
	}
	ends := make([]end, 0, 2*len(arrows))
	for _, a := range arrows {
		s := spans[key(a)]
		col := laneCol(a.Lane)
		ends = append(ends, end{rowOf(a.From), col, false, s}, end{rowOf(a.To), col, true, s})
	}
	slices.SortStableFunc(ends, func(a, b end) int { return cmp.Compare(a.row, b.row) })

	// lanes holds the verticals crossing the current row (columns from
	// width on), count the spans at each column; right is one past the
	// rightmost column with one.
	lanes := []byte(strings.Repeat(" ", total-width))
	count := make([]int, total-width)
	right := 0
	var line []byte
	r, vi, ei := 0, 0, 0
	err := textRows(funcs, arch, byteCols, func(text []byte, notes []string) error {
		for ; vi < len(verts) && verts[vi].row <= r; vi++ {
			v := verts[vi]
			c := v.col - width
			count[c] += v.d
			if count[c] > 0 {
				lanes[c] = '|'
				right = max(right, c+1)
			} else {
				lanes[c] = ' '
				for right > 0 && lanes[right-1] == ' ' {
					right--
				}
			}
		}
		line = append(line[:0], text...)
		if right > 0 || (ei < len(ends) && ends[ei].row == r) {
			for len(line) < width {
				line = append(line, ' ')
			}
			line = append(line[:width], lanes[:right]...)
		}
		for ; ei < len(ends) && ends[ei].row == r; ei++ {
			e := ends[ei]
			for len(line) <= e.col {
				line = append(line, ' ')
			}
			start := len(text) + 1
			for c := start; c < e.col; c++ {
				if line[c] == ' ' {
					line[c] = '-'
				}
			}
			if e.head {
				line[start] = '<'
			}
			switch r {
			case e.s.lo:
				line[e.col] = '.'
			case e.s.hi:
				line[e.col] = '\''
			default:
				line[e.col] = '+'
			}
		}
		r++
		line = bytes.TrimRight(line, " ")
		if len(notes) > 0 {
			for n := utf8.RuneCount(line); n < total; n++ {
				line = append(line, ' ')
			}
			line = append(line, " // "...)
			for i, n := range notes {
				if i > 0 {
					line = append(line, "; "...)
				}
				line = append(line, n...)
			}
		}
		bw.Write(line)
		return bw.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}
