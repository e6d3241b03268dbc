// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"encoding/binary"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/jitscope/jitscope/internal/par"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// An indexed listing (Index) keeps, per function, only what laying the
// listing out needs: where each line starts, its BPF instruction and
// region, and the lines that change the flow of control (about 9 bytes a
// line, against a Line's 136). A line's text and the rest of its Line are
// decoded when asked for (Func.Line), or printed for every line into one
// arena by Fill, which a search needs; a viewer shows its first frame
// before that. Func's accessors (Len, Offset, Addr, Text, BPF, Region,
// Notes, Flow, LineAt, LineOfAddr) read either form; what they return is
// what List's Lines hold (TestIndexMatchesList).
type lineIndex struct {
	arch kernel.Arch
	opt  Options
	n    int
	offs []int32 // x86: where each line starts; nil on arm64 (line i at 4i)
	bpf  []int32 // each line's BPF instruction, -1 outside the body
	// region is each line's region as an index into regionKinds, + 1; 0
	// for none.
	region      []uint8
	regionKinds []jit.RegionKind
	flow        []FlowLine // the lines with control flow, in order
	// The lines with notes, in order, and their notes (few: a search
	// asks for every line's).
	noteLines []int32
	notes     [][]string

	// The texts, once Fill has printed them: line i's is
	// text[textEnd[i-1]:textEnd[i]].
	fillOnce sync.Once
	filled   atomic.Bool
	text     []byte
	textEnd  []uint32
	fillErr  error
	maxText  int
}

// FlowLine is a line that changes the flow of control: its index, kind
// and, for direct jumps and conditional branches (HasTarget), where it
// goes.
type FlowLine struct {
	Line      int32
	Kind      BranchKind
	HasTarget bool
	Target    uint64
}

// Index lists img as List does, keeping each function in the compact form
// described at lineIndex: no line's text is printed. A function whose code
// cannot be decoded is an error, as in List (x86; an arm64 word is printed
// only when asked for, and an undecodable one is Fill's error).
func Index(img *jit.Image, opt Options) (*Program, error) {
	return eachFunc(img, opt, indexFunc)
}

func indexFunc(arch kernel.Arch, fi *jit.FuncImage, opt Options, cache *decodeCache) (*Func, error) {
	x := &lineIndex{arch: arch, opt: opt}
	code := fi.Code
	switch arch {
	case kernel.ARM64:
		if len(code)%4 != 0 {
			return nil, fmt.Errorf("arm64 image of %d bytes is not a whole number of instructions", len(code))
		}
		x.n = len(code) / 4
		for i := 0; i < x.n; i++ {
			w := binary.LittleEndian.Uint32(code[4*i:])
			// Every branch has op0 = x101 (bits 28:26 = 101).
			if w&0x1c000000 != 0x14000000 {
				continue
			}
			if k := a64Kind(w); k != None {
				fl := FlowLine{Line: int32(i), Kind: k}
				if k == Jump || k == CondJump {
					fl.Target, fl.HasTarget = a64Target(w, fi.Address+uint64(4*i))
				}
				x.flow = append(x.flow, fl)
			}
		}
	case kernel.X86_64:
		x.offs = make([]int32, 0, len(code)*2/7+1)
		xopt := X86Opts{Legacy: opt.Legacy}
		for off := 0; off < len(code); {
			// The shapes only (length, kind, target): from the table
			// of common encodings, else decoded (no syntax printed).
			pc := fi.Address + uint64(off)
			n, kind, target, has, ok := x86Shape(code[off:], pc)
			if !ok {
				in, err := cache.x86(code[off:], pc, xopt, 0)
				if err != nil {
					return nil, err
				}
				n, kind, target, has = in.Len, in.Kind, in.Target, in.HasTarget && !in.RIPRelative
			}
			if kind != None {
				fl := FlowLine{Line: int32(len(x.offs)), Kind: kind}
				if has && (kind == Jump || kind == CondJump) {
					fl.Target, fl.HasTarget = target, true
				}
				x.flow = append(x.flow, fl)
			}
			x.offs = append(x.offs, int32(off))
			off += n
		}
		x.n = len(x.offs)
	default:
		return nil, fmt.Errorf("no disassembler for %s", arch)
	}
	f := &Func{Image: fi, ix: x}
	x.bpf = make([]int32, x.n)
	bpf := bpfSweep{fi: fi}
	for i := range x.bpf {
		x.bpf[i] = int32(bpf.at(f.Offset(i)))
	}
	if err := x.paintRegions(f); err != nil {
		return nil, err
	}
	// (Notes at an offset where no line starts are not shown, as in List.)
	notes := lineNotes(fi)
	for off := range notes {
		if li := f.LineAt(off); li >= 0 {
			x.noteLines = append(x.noteLines, int32(li))
		}
	}
	slices.Sort(x.noteLines)
	for _, li := range x.noteLines {
		x.notes = append(x.notes, notes[f.Offset(int(li))])
	}
	return f, nil
}

// lineNotes are the notes shown under the lines of fi, by byte offset:
// source lines first (BTF line info, as bpftool's "linum"), then the JIT's.
func lineNotes(fi *jit.FuncImage) map[int][]string {
	notes := map[int][]string{}
	for _, li := range fi.Lines {
		i := li.Insn - fi.FirstInsn
		if i < 0 || i >= len(fi.Insns) || li.Line == 0 {
			continue
		}
		at := fi.BPFOffsets[i]
		notes[at] = append(notes[at], noteOfLine(li))
	}
	for _, n := range fi.Notes {
		notes[n.Offset] = append(notes[n.Offset], n.Text)
	}
	return notes
}

// paintRegions is Func.paintRegions for the index. A line's region is
// one byte: an image with more than 255 kinds of region (the JITs have a
// dozen) is an error.
func (x *lineIndex) paintRegions(f *Func) error {
	rs := f.Image.Regions
	if len(rs) == 0 {
		return nil
	}
	x.region = make([]uint8, x.n)
	ids := map[jit.RegionKind]uint8{}
	// Consecutive regions are often of one kind (the body, between the
	// regions of calls and tail calls).
	var lastKind jit.RegionKind
	var lastID uint8
	lb, prev := x.n, int(^uint(0)>>1)
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if r.Start <= prev {
			for lb > 0 && f.Offset(lb-1) >= r.Start {
				lb--
			}
		} else {
			lb = sort.Search(x.n, func(k int) bool { return f.Offset(k) >= r.Start })
		}
		prev = r.Start
		id, ok := lastID, r.Kind == lastKind && lastID != 0
		if !ok {
			id, ok = ids[r.Kind]
		}
		if !ok {
			if len(x.regionKinds) == 255 {
				return fmt.Errorf("%d kinds of code region in one image; an indexed listing holds 255", len(x.regionKinds)+1)
			}
			x.regionKinds = append(x.regionKinds, r.Kind)
			id = uint8(len(x.regionKinds))
			ids[r.Kind] = id
		}
		lastKind, lastID = r.Kind, id
		if x.offs == nil {
			for j := lb; j < x.n && 4*j < r.End; j++ {
				x.region[j] = id
			}
			continue
		}
		for j := lb; j < x.n && int(x.offs[j]) < r.End; j++ {
			x.region[j] = id
		}
	}
	return nil
}

// Indexed reports whether f is in the compact form (Index).
func (f *Func) Indexed() bool { return f.ix != nil }

// Len is the number of lines.
func (f *Func) Len() int {
	if f.ix != nil {
		return f.ix.n
	}
	return len(f.Lines)
}

// Offset is line i's byte offset in the function image.
func (f *Func) Offset(i int) int {
	if x := f.ix; x != nil {
		if x.offs == nil {
			return 4 * i
		}
		return int(x.offs[i])
	}
	return f.Lines[i].Offset
}

// Addr is line i's address.
func (f *Func) Addr(i int) uint64 { return f.Image.Address + uint64(f.Offset(i)) }

// end is the offset where line i ends.
func (f *Func) end(i int) int {
	if i+1 < f.Len() {
		return f.Offset(i + 1)
	}
	return len(f.Image.Code)
}

// Bytes are line i's bytes.
func (f *Func) Bytes(i int) []byte {
	if f.ix == nil {
		return f.Lines[i].Bytes
	}
	off, end := f.Offset(i), f.end(i)
	return f.Image.Code[off:end:end]
}

// BPF is the index into Image.Insns of line i's BPF instruction, -1
// outside the body.
func (f *Func) BPF(i int) int {
	if f.ix != nil {
		return int(f.ix.bpf[i])
	}
	return f.Lines[i].BPF
}

// Region is line i's region.
func (f *Func) Region(i int) jit.RegionKind {
	if x := f.ix; x != nil {
		if x.region == nil || x.region[i] == 0 {
			return ""
		}
		return x.regionKinds[x.region[i]-1]
	}
	return f.Lines[i].Region
}

// Notes are the notes under line i.
func (f *Func) Notes(i int) []string {
	if x := f.ix; x != nil {
		if len(x.noteLines) == 0 {
			return nil
		}
		if k, ok := slices.BinarySearch(x.noteLines, int32(i)); ok {
			return x.notes[k]
		}
		return nil
	}
	return f.Lines[i].Notes
}

// Flow yields the lines that change the flow of control, in order.
func (f *Func) Flow() iter.Seq[FlowLine] {
	return func(yield func(FlowLine) bool) {
		if x := f.ix; x != nil {
			for _, fl := range x.flow {
				if !yield(fl) {
					return
				}
			}
			return
		}
		for i := range f.Lines {
			l := &f.Lines[i]
			if l.Kind == None {
				continue
			}
			fl := FlowLine{Line: int32(i), Kind: l.Kind}
			if l.HasTarget && (l.Kind == Jump || l.Kind == CondJump) {
				fl.Target, fl.HasTarget = l.Target, true
			}
			if !yield(fl) {
				return
			}
		}
	}
}

// flowLines counts the lines with control flow (a bound for Flow's
// arrows).
func (f *Func) flowLines() int {
	if f.ix != nil {
		return len(f.ix.flow)
	}
	n := 0
	for i := range f.Lines {
		if f.Lines[i].Kind != None {
			n++
		}
	}
	return n
}

// LineOfAddr returns the index of the line starting at addr, or -1.
func (f *Func) LineOfAddr(addr uint64) int {
	if addr < f.Image.Address {
		return -1
	}
	d := addr - f.Image.Address
	if d >= uint64(len(f.Image.Code)) {
		return -1
	}
	return f.LineAt(int(d))
}

// LineContaining returns the index of the line whose bytes hold offset
// off, or -1.
func (f *Func) LineContaining(off int) int {
	n := f.Len()
	if off < 0 || n == 0 || off >= len(f.Image.Code) {
		return -1
	}
	i := sort.Search(n, func(i int) bool { return f.Offset(i) > off }) - 1
	return i
}

// Text is line i's text.
func (f *Func) Text(i int) string {
	x := f.ix
	if x == nil {
		return f.Lines[i].Text
	}
	if x.filled.Load() {
		lo := uint32(0)
		if i > 0 {
			lo = x.textEnd[i-1]
		}
		hi := x.textEnd[i]
		if lo == hi {
			return ""
		}
		return unsafe.String(&x.text[lo], hi-lo)
	}
	return f.Line(i).Text
}

// Line returns line i as List lists it. In the compact form it is decoded
// now; an instruction that cannot be decoded is shown as its error.
func (f *Func) Line(i int) Line {
	x := f.ix
	if x == nil {
		return f.Lines[i]
	}
	off := f.Offset(i)
	ln := Line{
		Addr: f.Addr(i), Offset: off, Bytes: f.Bytes(i),
		BPF: int(x.bpf[i]), Region: f.Region(i), Notes: f.Notes(i),
	}
	switch x.arch {
	case kernel.ARM64:
		in, err := DecodeA64(binary.LittleEndian.Uint32(f.Image.Code[off:]), ln.Addr)
		if err != nil {
			ln.Text = err.Error()
			return ln
		}
		ln.Text, ln.Op, ln.Kind, ln.Target, ln.HasTarget = in.Text, in.Op, in.Kind, in.Target, in.HasTarget
	case kernel.X86_64:
		want := x86ATT
		if x.opt.Intel {
			want = x86Intel
		}
		in, err := decodeX86(f.Image.Code[off:], ln.Addr, X86Opts{Legacy: x.opt.Legacy}, want)
		if err != nil {
			ln.Text = err.Error()
			return ln
		}
		ln.Text, ln.Op, ln.Kind, ln.Target, ln.HasTarget = in.Text, in.Op, in.Kind, in.Target, in.HasTarget
		if x.opt.Intel {
			ln.Text = in.Intel
		}
	}
	return ln
}

// Filled reports whether every line's text has been printed (Fill), or f
// is not in the compact form.
func (f *Func) Filled() bool { return f.ix == nil || f.ix.filled.Load() }

// MaxText is the length of the longest line text; f must be Filled.
func (f *Func) MaxText() int {
	if f.ix == nil {
		n := 0
		for i := range f.Lines {
			n = max(n, len(f.Lines[i].Text))
		}
		return n
	}
	f.Fill()
	return f.ix.maxText
}

// Fill prints every line's text into one arena, once; it returns the
// error of the first line that could not be decoded (its text is the
// error's). Safe to call from several goroutines.
func (f *Func) Fill() error {
	if f.ix == nil {
		return nil
	}
	f.ix.fillOnce.Do(func() { f.fill(newDecodeCache(len(f.Image.Code))) })
	return f.ix.fillErr
}

func (f *Func) fill(cache *decodeCache) {
	x := f.ix
	code := f.Image.Code
	text := make([]byte, 0, x.n*24)
	ends := make([]uint32, x.n)
	add := func(i int, s string, err error) {
		if err != nil {
			if x.fillErr == nil {
				x.fillErr = err
			}
			s = err.Error()
		}
		text = append(text, s...)
		ends[i] = uint32(len(text))
		x.maxText = max(x.maxText, len(s))
	}
	switch x.arch {
	case kernel.ARM64:
		for i := 0; i < x.n; i++ {
			pc := f.Image.Address + uint64(4*i)
			in, err := cache.a64(binary.LittleEndian.Uint32(code[4*i:]), pc)
			add(i, in.Text, err)
		}
	case kernel.X86_64:
		xopt := X86Opts{Legacy: x.opt.Legacy}
		want := x86ATT
		if x.opt.Intel {
			want = x86Intel
		}
		for i := 0; i < x.n; i++ {
			off := int(x.offs[i])
			in, err := cache.x86(code[off:], f.Image.Address+uint64(off), xopt, want)
			s := in.Text
			if x.opt.Intel {
				s = in.Intel
			}
			add(i, s, err)
		}
	}
	x.text, x.textEnd = text, ends
	x.filled.Store(true)
}

// Fill prints the texts of every function of p (Func.Fill), the functions
// in parallel; it returns the first error.
func (p *Program) Fill() error {
	size := 0
	for _, f := range p.Funcs {
		size += len(f.Image.Code)
	}
	caches := sync.Pool{New: func() any { return newDecodeCache(size) }}
	return par.ForEach(len(p.Funcs), func(i int) error {
		f := p.Funcs[i]
		if f.ix == nil {
			return nil
		}
		f.ix.fillOnce.Do(func() {
			c := caches.Get().(*decodeCache)
			defer caches.Put(c)
			f.fill(c)
		})
		return f.ix.fillErr
	})
}

// Full returns f with every Line listed, as List lists it: f itself when
// it is not in the compact form. For readers that walk every line's
// fields (exports, comparisons) of a listing that may be indexed. A line
// that cannot be decoded (where List fails) reads as Line gives it.
func (f *Func) Full() *Func {
	if f.ix == nil {
		return f
	}
	g, err := listFuncCached(f.ix.arch, f.Image, f.ix.opt, newDecodeCache(len(f.Image.Code)))
	if err == nil {
		return g
	}
	g = &Func{Image: f.Image, Lines: make([]Line, f.Len())}
	for i := range g.Lines {
		g.Lines[i] = f.Line(i)
	}
	return g
}
