// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"cmp"
	"slices"
	"sort"

	"github.com/jitscope/jitscope/jit"
)

// ArrowKind classifies a drawn control-flow edge.
type ArrowKind string

// Arrow kinds.
const (
	ArrowJump     ArrowKind = "jump"      // unconditional branch inside a function
	ArrowCondJump ArrowKind = "cond-jump" // conditional branch inside a function
	ArrowCall     ArrowKind = "call"      // bpf-to-bpf call
	ArrowTailCall ArrowKind = "tail-call" // tail call into another program's landing pad
	ArrowReturn   ArrowKind = "return"    // return to the instruction after a call
)

// Pos addresses a line: function index in a flat function list, line index.
type Pos struct{ Func, Line int }

// Arrow is one edge to draw.
type Arrow struct {
	From, To Pos
	Kind     ArrowKind
	Lane     int // 0 is nearest the instruction text
	Label    string
}

// Flatten lists the functions of progs in order.
func Flatten(progs []*Program) []*Func {
	var fs []*Func
	for _, p := range progs {
		fs = append(fs, p.Funcs...)
	}
	return fs
}

// Flow computes the static control flow of a group of listed programs: the
// branches inside each function, bpf-to-bpf calls, tail calls whose target
// is known (constant map and key, slot filled), and the returns that follow
// from them: a tail call replaces the current frame, so the target
// program's ret returns to the instruction after the call that entered the
// replaced function — the flow seed 000 draws.
func Flow(funcs []*Func) []Arrow {
	at := newAddrIndex(funcs)
	n := 0 // jumps are most arrows: at most one a flow line
	for _, f := range funcs {
		n += f.flowLines()
	}
	arrows := make([]Arrow, 0, n+n/8)
	type site struct {
		from Pos
		ret  Pos
	}
	callers := map[int][]site{} // callee func index -> call sites
	tails := map[int][]int{}    // func index -> tail-called func indexes
	for fi, f := range funcs {
		for fl := range f.Flow() {
			if (fl.Kind == Jump || fl.Kind == CondJump) && fl.HasTarget {
				if to, ok := at.pos(fl.Target); ok && to.Func == fi {
					k := ArrowJump
					if fl.Kind == CondJump {
						k = ArrowCondJump
					}
					arrows = append(arrows, Arrow{From: Pos{fi, int(fl.Line)}, To: to, Kind: k})
				}
			}
		}
		for _, e := range f.Image.Edges {
			li := f.LineAt(e.From)
			to, ok := at.pos(e.To)
			if li < 0 || !ok {
				continue
			}
			from := Pos{fi, li}
			switch e.Kind {
			case jit.EdgeCall:
				arrows = append(arrows, Arrow{From: from, To: to, Kind: ArrowCall, Label: e.Detail})
				if li+1 < f.Len() {
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
	rets := map[int][]int{} // function -> its return lines
	retLines := func(fi int) []int {
		r, ok := rets[fi]
		if !ok {
			for fl := range funcs[fi].Flow() {
				if fl.Kind == Return {
					r = append(r, int(fl.Line))
				}
			}
			rets[fi] = r
		}
		return r
	}
	for callee, sites := range callers {
		returners := []int{callee}
		if t := tails[callee]; len(t) > 0 {
			returners = t
		}
		for _, s := range sites {
			for _, rf := range returners {
				for _, li := range retLines(rf) {
					arrows = append(arrows, Arrow{From: Pos{rf, li}, To: s.ret, Kind: ArrowReturn})
				}
			}
		}
	}
	return sortArrows(arrows)
}

// sortArrows orders arrows by source, then target, keeping the order they
// were found in among equals (as a stable sort would): an index sort with
// the index as the last key, then one permutation, instead of a stable
// sort moving the 56-byte arrows.
func sortArrows(arrows []Arrow) []Arrow {
	type key struct{ from, to, i int64 }
	pack := func(p Pos) int64 { return int64(p.Func)<<32 | int64(uint32(p.Line)) }
	keys := make([]key, len(arrows))
	for i, a := range arrows {
		keys[i] = key{pack(a.From), pack(a.To), int64(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.from, b.from); c != 0 {
			return c
		}
		if c := cmp.Compare(a.to, b.to); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	out := make([]Arrow, len(arrows))
	for i, k := range keys {
		out[i] = arrows[k.i]
	}
	return out
}

// AssignLanes gives each arrow a lane, given the row each position is drawn
// on. Branches to the same target share a lane (GNU objdump merges them the
// same way). Groups are taken shortest first and put in the lowest lane whose
// groups do not overlap them (first fit, as objdump --visualize-jumps and
// llvm-objdump do), so short local branches stay near the code. It returns
// the number of lanes.
func AssignLanes(arrows []Arrow, row func(Pos) int) int {
	type group struct {
		lo, hi int
		lane   int32
	}
	groups := make([]group, 0, len(arrows))
	groupOf := make([]int32, len(arrows))
	byTarget := make(map[int64]int32, len(arrows)/2)
	for i, a := range arrows {
		lo, hi := row(a.From), row(a.To)
		if lo > hi {
			lo, hi = hi, lo
		}
		local := a.Kind == ArrowJump || a.Kind == ArrowCondJump
		if local {
			to := int64(a.To.Func)<<32 | int64(uint32(a.To.Line))
			if gi, ok := byTarget[to]; ok {
				g := &groups[gi]
				g.lo, g.hi = min(g.lo, lo), max(g.hi, hi)
				groupOf[i] = gi
				continue
			}
			byTarget[to] = int32(len(groups))
		}
		groupOf[i] = int32(len(groups))
		groups = append(groups, group{lo: lo, hi: hi})
	}
	// Shortest first, then topmost, then in the order found (what a
	// stable sort by the first two keys gives): the keys packed, rows
	// being below 2^32.
	type okey struct {
		lenLo uint64 // length << 32 | lo
		idx   int32
	}
	order := make([]okey, len(groups))
	for i := range groups {
		g := &groups[i]
		order[i] = okey{uint64(g.hi-g.lo)<<32 | uint64(uint32(g.lo)), int32(i)}
	}
	slices.SortFunc(order, func(a, b okey) int {
		if a.lenLo != b.lenLo {
			return cmp.Compare(a.lenLo, b.lenLo)
		}
		return cmp.Compare(a.idx, b.idx)
	})
	var lanes []laneSet
	for _, o := range order {
		gi := o.idx
		g := &groups[gi]
		lane := -1
		for li := range lanes {
			if lanes[li].insert(g.lo, g.hi) {
				lane = li
				break
			}
		}
		if lane < 0 {
			lanes = append(lanes, laneSet{})
			lane = len(lanes) - 1
			lanes[lane].insert(g.lo, g.hi)
		}
		g.lane = int32(lane)
	}
	for i := range arrows {
		arrows[i].Lane = int(groups[groupOf[i]].lane)
	}
	return len(lanes)
}

// laneSet holds the row intervals of one lane's arrow groups, which never
// overlap: sorted by start (and so by end), in chunks of at most
// laneChunk, so that an insertion moves a chunk rather than the whole lane
// (a lane of a million-instruction listing holds tens of thousands).
type laneSet struct {
	chunks [][]interval
}

type interval struct{ lo, hi int }

const laneChunk = 512

// insert adds [lo, hi] if it overlaps none of the set's intervals (ends
// included) and reports whether it did.
func (s *laneSet) insert(lo, hi int) bool {
	// The first interval that ends at or after lo must start after hi.
	ci := sort.Search(len(s.chunks), func(c int) bool {
		ch := s.chunks[c]
		return ch[len(ch)-1].hi >= lo
	})
	if ci == len(s.chunks) {
		if ci == 0 || len(s.chunks[ci-1]) >= laneChunk {
			s.chunks = append(s.chunks, make([]interval, 0, laneChunk))
		}
		ci = len(s.chunks) - 1
		s.chunks[ci] = append(s.chunks[ci], interval{lo, hi})
		return true
	}
	ch := s.chunks[ci]
	k := sort.Search(len(ch), func(k int) bool { return ch[k].hi >= lo })
	if ch[k].lo <= hi {
		return false
	}
	ch = slices.Insert(ch, k, interval{lo, hi})
	if len(ch) > 2*laneChunk {
		// Split: the second half becomes a chunk of its own.
		rest := append(make([]interval, 0, laneChunk*2), ch[laneChunk:]...)
		ch = ch[:laneChunk:laneChunk]
		s.chunks = slices.Insert(s.chunks, ci+1, rest)
	}
	s.chunks[ci] = ch
	return true
}

// addrIndex finds the line at an address: the last function's, when
// functions share addresses.
type addrIndex struct {
	funcs  []*Func
	byAddr map[uint64]Pos // when function ranges overlap
	order  []int          // functions by address, when they do not
	// stride4 is set for functions whose lines are 4 bytes apart
	// (arm64): a line's index is its distance from the first / 4.
	stride4 []bool
}

func newAddrIndex(funcs []*Func) *addrIndex {
	x := &addrIndex{funcs: funcs, stride4: make([]bool, len(funcs))}
	for fi, f := range funcs {
		if n := f.Len(); n > 0 {
			x.order = append(x.order, fi)
			// A function's addresses only grow (as the search in pos
			// assumes too), so this span means steps of 4.
			x.stride4[fi] = f.Addr(n-1)-f.Addr(0) == 4*uint64(n-1)
		}
	}
	first := func(fi int) uint64 { return funcs[fi].Addr(0) }
	last := func(fi int) uint64 { return funcs[fi].Addr(funcs[fi].Len() - 1) }
	sort.SliceStable(x.order, func(i, j int) bool { return first(x.order[i]) < first(x.order[j]) })
	for i := 1; i < len(x.order); i++ {
		if first(x.order[i]) <= last(x.order[i-1]) {
			x.order = nil
			x.byAddr = map[uint64]Pos{}
			for fi, f := range funcs {
				for li := range f.Len() {
					x.byAddr[f.Addr(li)] = Pos{fi, li}
				}
			}
			break
		}
	}
	return x
}

func (x *addrIndex) pos(addr uint64) (Pos, bool) {
	if x.byAddr != nil {
		p, ok := x.byAddr[addr]
		return p, ok
	}
	k := sort.Search(len(x.order), func(k int) bool { return x.funcs[x.order[k]].Addr(0) > addr }) - 1
	if k < 0 {
		return Pos{}, false
	}
	fi := x.order[k]
	f := x.funcs[fi]
	n := f.Len()
	if x.stride4[fi] {
		if d := addr - f.Addr(0); d%4 == 0 && d/4 < uint64(n) {
			return Pos{fi, int(d / 4)}, true
		}
		return Pos{}, false
	}
	if li := f.LineOfAddr(addr); li >= 0 {
		return Pos{fi, li}, true
	}
	return Pos{}, false
}
