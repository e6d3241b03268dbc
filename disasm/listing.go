// SPDX-License-Identifier: GPL-2.0-only

package disasm

import (
	"encoding/binary"
	"fmt"
	"github.com/jitscope/jitscope/internal/par"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Line is one machine instruction of a listing.
//
// The one-byte fields are last, together: a million-instruction program
// lists 2.5 million lines for two architectures (136 bytes each, not 144).
type Line struct {
	Addr   uint64
	Offset int    // byte offset in the function image
	Bytes  []byte // the instruction's bytes
	Text   string // objdump syntax
	Op     string // mnemonic
	Target uint64 // branch/literal target, when HasTarget
	BPF    int    // index into the function's BPF instructions, -1 outside the body
	Region jit.RegionKind
	Notes  []string
	Kind   BranchKind
	// HasTarget is set for PC-relative instructions.
	HasTarget bool
}

// Func is the listing of one function image.
type Func struct {
	Image *jit.FuncImage
	// Lines are the lines as List lists them; nil in the compact form
	// (Index), which the accessors in lazy.go read.
	Lines []Line
	ix    *lineIndex
}

// Header is the function's header line as seed 000 and bpftool print it:
// the C prototype when known, else the name.
func (f *Func) Header() string {
	if f.Image.Prototype != "" {
		return normalizePrototype(f.Image.Prototype) + ":"
	}
	return f.Image.Name + ":"
}

// normalizePrototype writes pointers as C programmers do ("struct
// __sk_buff *skb"); BTF-derived prototypes often say "struct __sk_buff * skb".
func normalizePrototype(p string) string {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '*' && i+1 < len(p) && p[i+1] == ' ' && i > 0 && p[i-1] == ' ' {
			out = append(out, '*')
			i++
			continue
		}
		out = append(out, p[i])
	}
	return string(out)
}

// Program is the listing of one compiled program.
type Program struct {
	Image *jit.Image
	Funcs []*Func
}

// Options control how listings are printed.
type Options struct {
	// Legacy selects binutils' spelling before 2.36 for x86 (jmpq, callq,
	// retq), as listings of that era (seed 001) show it.
	Legacy bool
	// Intel selects Intel syntax for x86.
	Intel bool
}

// List decodes every function of img into lines.
func List(img *jit.Image) (*Program, error) { return ListOpts(img, Options{}) }

// ListOpts is List with printing options.
func ListOpts(img *jit.Image, opt Options) (*Program, error) {
	return eachFunc(img, opt, listFuncCached)
}

// eachFunc makes the Program of img with list, the functions in
// parallel, each goroutine with its decode cache.
func eachFunc(img *jit.Image, opt Options, list func(kernel.Arch, *jit.FuncImage, Options, *decodeCache) (*Func, error)) (*Program, error) {
	p := &Program{Image: img, Funcs: make([]*Func, len(img.Funcs))}
	size := 0
	for _, fi := range img.Funcs {
		size += len(fi.Code)
	}
	caches := sync.Pool{New: func() any { return newDecodeCache(size) }}
	err := par.ForEach(len(img.Funcs), func(i int) error {
		fi := img.Funcs[i]
		cache := caches.Get().(*decodeCache)
		defer caches.Put(cache)
		f, err := list(img.Arch, fi, opt, cache)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", img.Program, fi.Name, err)
		}
		p.Funcs[i] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ListFunc decodes one function image.
func ListFunc(arch kernel.Arch, fi *jit.FuncImage) (*Func, error) {
	return listFunc(arch, fi, Options{})
}

func listFunc(arch kernel.Arch, fi *jit.FuncImage, opt Options) (*Func, error) {
	return listFuncCached(arch, fi, opt, newDecodeCache(len(fi.Code)))
}

func listFuncCached(arch kernel.Arch, fi *jit.FuncImage, opt Options, cache *decodeCache) (*Func, error) {
	f := &Func{Image: fi}
	notes := lineNotes(fi)
	noteAt := func(off int) []string {
		if len(notes) == 0 {
			return nil
		}
		return notes[off]
	}
	bpf := bpfSweep{fi: fi}
	switch arch {
	case kernel.ARM64:
		if len(fi.Code)%4 != 0 {
			return nil, fmt.Errorf("arm64 image of %d bytes is not a whole number of instructions", len(fi.Code))
		}
		f.Lines = make([]Line, 0, len(fi.Code)/4)
		for off := 0; off < len(fi.Code); off += 4 {
			w := binary.LittleEndian.Uint32(fi.Code[off:])
			pc := fi.Address + uint64(off)
			in, err := cache.a64(w, pc)
			if err != nil {
				return nil, err
			}
			f.Lines = append(f.Lines, Line{
				Addr: pc, Offset: off, Bytes: fi.Code[off : off+4 : off+4], Text: in.Text, Op: in.Op,
				Kind: in.Kind, Target: in.Target, HasTarget: in.HasTarget,
				BPF: bpf.at(off), Notes: noteAt(off),
			})
		}
	case kernel.X86_64:
		// About 3.5 bytes per instruction in JITed code.
		f.Lines = make([]Line, 0, len(fi.Code)*2/7+1)
		xopt := X86Opts{Legacy: opt.Legacy}
		// Only the syntax the listing shows is rendered (a listing in
		// another syntax is listed again: session.Listing).
		want := x86ATT
		if opt.Intel {
			want = x86Intel
		}
		for off := 0; off < len(fi.Code); {
			pc := fi.Address + uint64(off)
			in, err := cache.x86(fi.Code[off:], pc, xopt, want)
			if err != nil {
				return nil, err
			}
			text := in.Text
			if opt.Intel {
				text = in.Intel
			}
			f.Lines = append(f.Lines, Line{
				Addr: pc, Offset: off, Bytes: fi.Code[off : off+in.Len : off+in.Len], Text: text, Op: in.Op,
				Kind: in.Kind, Target: in.Target, HasTarget: in.HasTarget,
				BPF: bpf.at(off), Notes: noteAt(off),
			})
			off += in.Len
		}
	default:
		return nil, fmt.Errorf("no disassembler for %s", arch)
	}
	f.paintRegions()
	return f, nil
}

// paintRegions sets each line's region. Regions may overlap (a patch site
// inside the prologue); the first one listed wins, as in RegionAt, so they
// are painted last to first. Linear in lines plus region sizes.
func (f *Func) paintRegions() {
	rs := f.Image.Regions
	// lb is the first line at or after the previous region's start: for
	// regions in ascending order (as the JITs record them) the next one
	// down is found by stepping back from there.
	lb, prev := len(f.Lines), math.MaxInt
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		if r.Start <= prev {
			for lb > 0 && f.Lines[lb-1].Offset >= r.Start {
				lb--
			}
		} else {
			lb = sort.Search(len(f.Lines), func(k int) bool { return f.Lines[k].Offset >= r.Start })
		}
		prev = r.Start
		j := lb
		for ; j < len(f.Lines) && f.Lines[j].Offset < r.End; j++ {
			f.Lines[j].Region = r.Kind
		}
	}
}

// LineAt returns the index of the line at byte offset off, or -1.
func (f *Func) LineAt(off int) int {
	if x := f.ix; x != nil {
		if x.offs == nil {
			if off < 0 || off%4 != 0 || off/4 >= x.n {
				return -1
			}
			return off / 4
		}
		if off >= 0 && off <= math.MaxInt32 {
			if i, ok := slices.BinarySearch(x.offs, int32(off)); ok {
				return i
			}
		}
		return -1
	}
	lo, hi := 0, f.Len()-1
	for lo <= hi {
		mid := (lo + hi) / 2
		switch o := f.Offset(mid); {
		case o == off:
			return mid
		case o < off:
			lo = mid + 1
		default:
			hi = mid - 1
		}
	}
	return -1
}

// noteOfLine is how a note names a source line: "file:line: text".
func noteOfLine(li kernel.LineInfo) string {
	src := fmt.Sprintf("line %d", li.Line)
	if li.File != "" {
		src = fmt.Sprintf("%s:%d", li.File, li.Line)
	}
	if li.Text != "" {
		src += ": " + strings.TrimSpace(li.Text)
	}
	return src
}
