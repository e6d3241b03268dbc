package disasm

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/jitscope/jitscope/kernel"
)

// TextOptions controls WriteText.
type TextOptions struct {
	// Plain prints only headers and instruction lines: no arrows, no notes.
	Plain bool
}

// row is one printed line: a header, a blank separator or an instruction.
type row struct {
	text  string
	notes []string
}

// InstructionText is a line as `jitscope dump --plain` prints it:
// "0x%016x: text", with x86's opcode bytes between address and text in a
// column of byteCols bytes.
func InstructionText(arch kernel.Arch, l *Line, byteCols int) string {
	if arch == kernel.X86_64 {
		hex := make([]string, len(l.Bytes))
		for i, b := range l.Bytes {
			hex[i] = fmt.Sprintf("%02x", b)
		}
		return fmt.Sprintf("0x%016x: %-*s %s", l.Addr, 3*byteCols-1, strings.Join(hex, " "), l.Text)
	}
	return fmt.Sprintf("0x%016x: %s", l.Addr, l.Text)
}

// WriteText prints listings as seed 000 shows them: a header per function,
// one line per instruction, and unless Plain, control-flow arrows on the
// right and "// annotations" after them.
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
	var rows []row
	first := make([]int, len(funcs)) // row of each function's first line
	for fi, f := range funcs {
		if fi > 0 {
			rows = append(rows, row{})
		}
		rows = append(rows, row{text: f.Header()})
		first[fi] = len(rows)
		for li := range f.Lines {
			l := &f.Lines[li]
			rows = append(rows, row{text: InstructionText(arch, l, byteCols), notes: l.Notes})
		}
	}
	bw := bufio.NewWriter(w)
	if opt.Plain {
		for _, r := range rows {
			bw.WriteString(r.text)
			bw.WriteByte('\n')
		}
		return bw.Flush()
	}
	rowOf := func(p Pos) int { return first[p.Func] + p.Line }
	arrows := Flow(funcs)
	nLanes := AssignLanes(arrows, rowOf)
	width := 0
	for _, r := range rows {
		width = max(width, len(r.text))
	}
	laneCol := func(lane int) int { return width + 2 + 2*lane }
	total := laneCol(nLanes)
	grid := make([][]byte, len(rows))
	for i, r := range rows {
		g := []byte(strings.Repeat(" ", total))
		copy(g, r.text)
		grid[i] = g
	}
	// Arrows sharing a lane and a target are drawn as one: a vertical from
	// the topmost to the bottommost end, corners at the two extremes and
	// joints ('+') at the ends in between.
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
	for k, s := range spans {
		col := laneCol(k[0])
		for r := s.lo + 1; r < s.hi; r++ {
			if grid[r][col] == ' ' || grid[r][col] == '-' {
				grid[r][col] = '|'
			}
		}
	}
	end := func(r, col int, s *span, head bool) {
		start := len(rows[r].text) + 1
		for c := start; c < col; c++ {
			if grid[r][c] == ' ' {
				grid[r][c] = '-'
			}
		}
		if head {
			grid[r][start] = '<'
		}
		switch r {
		case s.lo:
			grid[r][col] = '.'
		case s.hi:
			grid[r][col] = '\''
		default:
			grid[r][col] = '+'
		}
	}
	for _, a := range arrows {
		s := spans[key(a)]
		col := laneCol(a.Lane)
		end(rowOf(a.From), col, s, false)
		end(rowOf(a.To), col, s, true)
	}
	for i, g := range grid {
		line := strings.TrimRight(string(g), " ")
		if len(rows[i].notes) > 0 {
			line = fmt.Sprintf("%-*s // %s", total, line, strings.Join(rows[i].notes, "; "))
		}
		bw.WriteString(line)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
