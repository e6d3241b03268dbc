// SPDX-License-Identifier: GPL-2.0-only

package disasm

// The text listing, arrow flow and lane assignment as they were before
// they were made fast (streamed rows, interval searches, an address index):
// the reference the tests compare the fast ones with.

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// row is one printed line: a header, a blank separator or an instruction.
type refRow struct {
	text  string
	notes []string
}

// InstructionText is a line as `jitscope dump --plain` prints it:
// "0x%016x: text", with x86's opcode bytes between address and text in a
// column of byteCols bytes.
func instructionTextReference(arch kernel.Arch, l *Line, byteCols int) string {
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
func writeTextReference(w io.Writer, progs []*Program, opt TextOptions) error {
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
	var rows []refRow
	first := make([]int, len(funcs)) // row of each function's first line
	for fi, f := range funcs {
		if fi > 0 {
			rows = append(rows, refRow{})
		}
		rows = append(rows, refRow{text: f.Header()})
		first[fi] = len(rows)
		for li := range f.Lines {
			l := &f.Lines[li]
			rows = append(rows, refRow{text: instructionTextReference(arch, l, byteCols), notes: l.Notes})
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
	arrows := flowReference(funcs)
	nLanes := assignLanesReference(arrows, rowOf)
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

func flowReference(funcs []*Func) []Arrow {
	byAddr := map[uint64]Pos{}
	for fi, f := range funcs {
		for li, l := range f.Lines {
			byAddr[l.Addr] = Pos{fi, li}
		}
	}
	var arrows []Arrow
	type site struct {
		from Pos
		ret  Pos
	}
	callers := map[int][]site{} // callee func index -> call sites
	tails := map[int][]int{}    // func index -> tail-called func indexes
	for fi, f := range funcs {
		for li, l := range f.Lines {
			if (l.Kind == Jump || l.Kind == CondJump) && l.HasTarget {
				if to, ok := byAddr[l.Target]; ok && to.Func == fi {
					k := ArrowJump
					if l.Kind == CondJump {
						k = ArrowCondJump
					}
					arrows = append(arrows, Arrow{From: Pos{fi, li}, To: to, Kind: k})
				}
			}
		}
		for _, e := range f.Image.Edges {
			li := f.LineAt(e.From)
			to, ok := byAddr[e.To]
			if li < 0 || !ok {
				continue
			}
			from := Pos{fi, li}
			switch e.Kind {
			case jit.EdgeCall:
				arrows = append(arrows, Arrow{From: from, To: to, Kind: ArrowCall, Label: e.Detail})
				if li+1 < len(f.Lines) {
					callers[to.Func] = append(callers[to.Func], site{from, Pos{fi, li + 1}})
				}
			case jit.EdgeTailCall:
				arrows = append(arrows, Arrow{From: from, To: to, Kind: ArrowTailCall, Label: e.Detail})
				tails[fi] = append(tails[fi], to.Func)
			}
		}
	}
	// Returns: a called function's own ret returns after the call site,
	// unless it tail-calls; then the tail-called program's ret does.
	for callee, sites := range callers {
		returners := []int{callee}
		if t := tails[callee]; len(t) > 0 {
			returners = t
		}
		for _, s := range sites {
			for _, rf := range returners {
				for li, l := range funcs[rf].Lines {
					if l.Kind == Return {
						arrows = append(arrows, Arrow{From: Pos{rf, li}, To: s.ret, Kind: ArrowReturn})
					}
				}
			}
		}
	}
	sort.SliceStable(arrows, func(i, j int) bool {
		a, b := arrows[i], arrows[j]
		if a.From != b.From {
			return lessReference(a.From, b.From)
		}
		return lessReference(a.To, b.To)
	})
	return arrows
}

func lessReference(a, b Pos) bool {
	if a.Func != b.Func {
		return a.Func < b.Func
	}
	return a.Line < b.Line
}

// AssignLanes gives each arrow a lane, given the row each position is drawn
// on. Branches to the same target share a lane (GNU objdump merges them the
// same way). Groups are taken shortest first and put in the lowest lane whose
// groups do not overlap them (first fit, as objdump --visualize-jumps and
// llvm-objdump do), so short local branches stay near the code. It returns
// the number of lanes.
func assignLanesReference(arrows []Arrow, row func(Pos) int) int {
	type group struct {
		lo, hi  int
		members []int
	}
	var groups []*group
	byTarget := map[Pos]*group{}
	for i, a := range arrows {
		lo, hi := row(a.From), row(a.To)
		if lo > hi {
			lo, hi = hi, lo
		}
		local := a.Kind == ArrowJump || a.Kind == ArrowCondJump
		if g := byTarget[a.To]; local && g != nil {
			g.lo, g.hi = min(g.lo, lo), max(g.hi, hi)
			g.members = append(g.members, i)
			continue
		}
		g := &group{lo: lo, hi: hi, members: []int{i}}
		if local {
			byTarget[a.To] = g
		}
		groups = append(groups, g)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		li, lj := groups[i].hi-groups[i].lo, groups[j].hi-groups[j].lo
		if li != lj {
			return li < lj
		}
		return groups[i].lo < groups[j].lo
	})
	var lanes [][]*group
	for _, g := range groups {
		lane := -1
		for li := range lanes {
			free := true
			for _, o := range lanes[li] {
				if g.lo <= o.hi && o.lo <= g.hi {
					free = false
					break
				}
			}
			if free {
				lane = li
				break
			}
		}
		if lane < 0 {
			lanes = append(lanes, nil)
			lane = len(lanes) - 1
		}
		lanes[lane] = append(lanes[lane], g)
		for _, m := range g.members {
			arrows[m].Lane = lane
		}
	}
	return len(lanes)
}
