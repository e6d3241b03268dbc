// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/kernel"
)

// DiffMark says how a row of one listing compares with the other listing
// of a version diff.
type DiffMark uint8

// Diff marks: the same instruction on the other side, an instruction the
// other side has in another form (DiffChanged), or one the other side has
// nothing in place of (DiffOnly).
const (
	DiffSame DiffMark = iota
	DiffChanged
	DiffOnly
)

// Diff is the comparison of two listings of the same architecture under
// two profiles (a version diff): per side, a mark per row and the rows
// marked, in order.
type Diff struct {
	Marks   [2][]DiffMark
	Changed [2][]int
}

// Mark returns the mark of row r of side i.
func (d *Diff) Mark(i, r int) DiffMark {
	if d == nil || r < 0 || r >= len(d.Marks[i]) {
		return DiffSame
	}
	return d.Marks[i][r]
}

// Next returns the next marked row of side i after row r (dir > 0) or
// before it (dir < 0), wrapping around, or -1 when none is marked.
func (d *Diff) Next(i, r, dir int) int {
	if d == nil || len(d.Changed[i]) == 0 {
		return -1
	}
	c := d.Changed[i]
	if dir >= 0 {
		k := sort.SearchInts(c, r+1)
		if k == len(c) {
			k = 0
		}
		return c[k]
	}
	k := sort.SearchInts(c, r) - 1
	if k < 0 {
		k = len(c) - 1
	}
	return c[k]
}

// Compare aligns two listings of the same architecture and marks the
// instructions that differ. Functions pair by program and name; inside a
// function, the machine code pairs by BPF instruction (both listings
// compile the same BPF), and code outside the body by region kind
// (prologue with prologue...). In each pair the instructions are aligned
// by a longest common subsequence of their normalised text (NormText:
// addresses and the image's own addresses left out). It returns nil when
// the listings cannot be compared (another architecture, an error).
func Compare(a, b *Listing) *Diff {
	if a == nil || b == nil || a.Err != nil || b.Err != nil || a.Arch != b.Arch {
		return nil
	}
	d := &Diff{}
	d.Marks[0] = make([]DiffMark, len(a.Rows))
	d.Marks[1] = make([]DiffMark, len(b.Rows))
	ta, tb := normTexts(a, b)
	type fkey struct{ prog, name string }
	bf := map[fkey]int{}
	for fi, f := range b.Funcs {
		bf[fkey{b.Programs[b.FuncProg[fi]].Image.Program, f.Image.Name}] = fi
	}
	seen := make([]bool, len(b.Funcs))
	for fa, f := range a.Funcs {
		fb, ok := bf[fkey{a.Programs[a.FuncProg[fa]].Image.Program, f.Image.Name}]
		if !ok {
			markAll(d.Marks[0], a, fa)
			continue
		}
		seen[fb] = true
		compareFunc(d, a, b, fa, fb, ta[fa], tb[fb])
	}
	for fb := range b.Funcs {
		if !seen[fb] {
			markAll(d.Marks[1], b, fb)
		}
	}
	for i := range d.Marks {
		for r, m := range d.Marks[i] {
			if m != DiffSame {
				d.Changed[i] = append(d.Changed[i], r)
			}
		}
	}
	return d
}

func markAll(marks []DiffMark, l *Listing, fi int) {
	for li := range l.Funcs[fi].Len() {
		marks[l.RowOfLine(fi, li)] = DiffOnly
	}
}

// segKey is what a run of lines of a function is aligned by: its BPF
// instruction (index in the program), or outside the body its region
// kind.
type segKey struct {
	bpf    int
	region string
}

// segs are a function's lines grouped by segKey: per BPF instruction in
// a slice (indexed by the instruction's index in the program), per region in a
// map, with the keys in order of first appearance.
type segs struct {
	bpf    [][]int
	region map[string][]int
	order  []segKey
}

func segments(f *disasm.Func) *segs {
	n := 0
	for _, in := range f.Image.Insns {
		n = max(n, in.Index+1)
	}
	s := &segs{bpf: make([][]int, n), region: map[string][]int{}}
	for li := range f.Len() {
		if b := f.BPF(li); b >= 0 {
			x := f.Image.Insns[b].Index
			if s.bpf[x] == nil {
				s.order = append(s.order, segKey{bpf: x})
			}
			s.bpf[x] = append(s.bpf[x], li)
			continue
		}
		k := string(f.Region(li))
		if _, ok := s.region[k]; !ok {
			s.order = append(s.order, segKey{bpf: -1, region: k})
		}
		s.region[k] = append(s.region[k], li)
	}
	return s
}

// lines returns the lines of key k, and whether f has any.
func (s *segs) lines(k segKey) ([]int, bool) {
	if k.bpf >= 0 {
		if k.bpf < len(s.bpf) && s.bpf[k.bpf] != nil {
			return s.bpf[k.bpf], true
		}
		return nil, false
	}
	l, ok := s.region[k.region]
	return l, ok
}

// compareFunc aligns function fa of a with fb of b: both were compiled
// from the same BPF program, so an instruction index names the same BPF
// instruction on both sides.
func compareFunc(d *Diff, a, b *Listing, fa, fb int, ta, tb []string) {
	sa := segments(a.Funcs[fa])
	sb := segments(b.Funcs[fb])
	for _, k := range sa.order {
		la, _ := sa.lines(k)
		lb, _ := sb.lines(k)
		ma, mb := alignLines(la, lb, ta, tb)
		for i, li := range la {
			d.Marks[0][a.RowOfLine(fa, li)] = ma[i]
		}
		for i, li := range lb {
			d.Marks[1][b.RowOfLine(fb, li)] = mb[i]
		}
	}
	for _, k := range sb.order {
		if _, ok := sa.lines(k); ok {
			continue
		}
		lb, _ := sb.lines(k)
		for _, li := range lb {
			d.Marks[1][b.RowOfLine(fb, li)] = DiffOnly
		}
	}
}

// maxLCS bounds the table of one alignment; longer pairs compare line by
// line.
const maxLCS = 1 << 16

// alignLines marks lines la (texts ta) against lines lb (texts tb): the
// lines of a longest common subsequence are the same; between two of
// them, lines on both sides are changed (paired in order), the surplus
// on one side is only there.
func alignLines(la, lb []int, ta, tb []string) ([]DiffMark, []DiffMark) {
	ma, mb := make([]DiffMark, len(la)), make([]DiffMark, len(lb))
	n, m := len(la), len(lb)
	if n*m > maxLCS {
		for i := range max(n, m) {
			switch {
			case i >= n:
				mb[i] = DiffOnly
			case i >= m:
				ma[i] = DiffOnly
			case ta[la[i]] != tb[lb[i]]:
				ma[i], mb[i] = DiffChanged, DiffChanged
			}
		}
		return ma, mb
	}
	// t[i][j]: LCS length of la[i:] and lb[j:].
	t := make([]int32, (n+1)*(m+1))
	at := func(i, j int) int32 { return t[i*(m+1)+j] }
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			v := max(at(i+1, j), at(i, j+1))
			if ta[la[i]] == tb[lb[j]] {
				v = max(v, at(i+1, j+1)+1)
			}
			t[i*(m+1)+j] = v
		}
	}
	gap := func(i0, i1, j0, j1 int) {
		for i := i0; i < i1; i++ {
			ma[i] = DiffOnly
			if i-i0 < j1-j0 {
				ma[i] = DiffChanged
			}
		}
		for j := j0; j < j1; j++ {
			mb[j] = DiffOnly
			if j-j0 < i1-i0 {
				mb[j] = DiffChanged
			}
		}
	}
	i, j, gi, gj := 0, 0, 0, 0
	for i < n && j < m {
		switch {
		case ta[la[i]] == tb[lb[j]] && at(i, j) == at(i+1, j+1)+1:
			gap(gi, i, gj, j)
			i, j = i+1, j+1
			gi, gj = i, j
		case at(i+1, j) >= at(i, j+1):
			i++
		default:
			j++
		}
	}
	gap(gi, n, gj, m)
	return ma, mb
}

// normTexts returns NormText of every line of a and b, per function. The
// two sides are compared in one spelling: x86 listings of 5.x kernels
// print the legacy AT&T mnemonics (callq, retq), which is not a change of
// the code, so such a side is printed again in the modern spelling.
func normTexts(a, b *Listing) ([][]string, [][]string) {
	oa, _ := ListOptions(a.Profile, a.Syntax)
	ob, _ := ListOptions(b.Profile, b.Syntax)
	texts := func(l *Listing, respell bool) [][]string {
		l.Fill() // an indexed listing's texts (at once for one listed whole)
		out := make([][]string, len(l.Funcs))
		ix := newImageIndex(l)
		for fi, f := range l.Funcs {
			text := f.Text
			if respell {
				if g, err := disasm.ListFunc(l.Arch, f.Image); err == nil && g.Len() == f.Len() {
					text = g.Text
				}
			}
			out[fi] = make([]string, f.Len())
			for li := range out[fi] {
				out[fi][li] = ix.norm(text(li))
			}
		}
		return out
	}
	respell := a.Arch == kernel.X86_64 && oa.Legacy != ob.Legacy
	return texts(a, respell && oa.Legacy), texts(b, respell && ob.Legacy)
}

// imageIndex finds the function image holding an address.
type imageIndex struct {
	starts []uint64
	funcs  []*disasm.Func
}

func newImageIndex(l *Listing) *imageIndex {
	ix := &imageIndex{funcs: append([]*disasm.Func(nil), l.Funcs...)}
	sort.Slice(ix.funcs, func(i, j int) bool { return ix.funcs[i].Image.Address < ix.funcs[j].Image.Address })
	for _, f := range ix.funcs {
		ix.starts = append(ix.starts, f.Image.Address)
	}
	return ix
}

func (ix *imageIndex) find(addr uint64) (*disasm.Func, bool) {
	i := sort.Search(len(ix.starts), func(i int) bool { return ix.starts[i] > addr }) - 1
	if i < 0 {
		return nil, false
	}
	f := ix.funcs[i]
	if addr >= f.Image.Address+uint64(len(f.Image.Code)) {
		return nil, false
	}
	return f, true
}

// norm is NormText with the listing's images known.
func (ix *imageIndex) norm(s string) string {
	if !strings.Contains(s, "0x") {
		return s
	}
	var sb strings.Builder
	for {
		i := strings.Index(s, "0x")
		if i < 0 {
			break
		}
		j := i + 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		sb.WriteString(s[:i])
		lit := s[i:j]
		s = s[j:]
		v, err := strconv.ParseUint(lit[2:], 16, 64)
		if err != nil || j-i < 10 { // small numbers are offsets, not addresses
			sb.WriteString(lit)
			continue
		}
		if f, ok := ix.find(v); ok {
			fmt.Fprintf(&sb, "<%s+%#x>", f.Image.Name, v-f.Image.Address)
			continue
		}
		sb.WriteString(lit)
	}
	sb.WriteString(s)
	return sb.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// NormText is the text a version diff compares: the instruction's
// mnemonic and operands, with the addresses inside l's function images
// (branch and call targets, the images' own addresses as immediates)
// written as function+offset, so code that only moved compares equal.
func NormText(l *Listing, ln *disasm.Line) string { return newImageIndex(l).norm(ln.Text) }
