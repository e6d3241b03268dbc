// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"fmt"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Comparison is the kernel's image of one program beside jitscope's JIT of
// the kernel's own xlated instructions, at the kernel's addresses.
type Comparison struct {
	Snapshot *Snapshot
	Profile  *jit.Profile
	// Ours is jitscope's image; KernelImage the kernel's bytes in the same
	// frame (jitscope's regions and BPF offsets, which annotate the kernel's
	// listing exactly as far as the two agree).
	Ours, KernelImage *jit.Image
	Funcs             []FuncComparison
}

// FuncComparison is one function.
type FuncComparison struct {
	Name      string
	Address   uint64
	Identical bool
	// FirstDiff is the byte offset of the first difference, -1 when
	// identical.
	FirstDiff      int
	Kernel, Ours   *disasm.Func
	Rows           []Row
	KernelLen, Len int
}

// Row pairs the kernel's instruction and jitscope's at the same offset;
// either is nil where only one side has an instruction starting there.
type Row struct {
	Kernel, Ours *disasm.Line
	Differs      bool
}

// Identical reports whether every function is byte-identical.
func (c *Comparison) Identical() bool {
	for _, f := range c.Funcs {
		if !f.Identical {
			return false
		}
	}
	return len(c.Funcs) > 0
}

// Compare JITs the snapshot's xlated instructions with profile p and sets
// the result beside the kernel's image.
func Compare(s *Snapshot, p *jit.Profile, lopt disasm.Options) (*Comparison, error) {
	c := s.Capture
	l, err := kernel.Load(c.Set, c.Program, c.Kernel.Arch, p.LoadOptions())
	if err != nil {
		return nil, fmt.Errorf("program %d: %w", s.ID, err)
	}
	img, err := jit.Compile(l, p)
	if err != nil {
		return nil, fmt.Errorf("program %d: %w", s.ID, err)
	}
	if len(img.Funcs) != len(c.Funcs) {
		return nil, fmt.Errorf("program %d: jitscope made %d functions, the kernel %d", s.ID, len(img.Funcs), len(c.Funcs))
	}
	kimg := *img
	kimg.Funcs = make([]*jit.FuncImage, len(img.Funcs))
	for i, f := range img.Funcs {
		kf := *f
		kf.Code = c.Funcs[i].Bytes
		// Regions, BPF offsets and notes past the kernel's end would point
		// nowhere: keep those inside it.
		kf.BPFOffsets = append([]int(nil), f.BPFOffsets...)
		for j, o := range kf.BPFOffsets {
			if o > len(kf.Code) {
				kf.BPFOffsets[j] = len(kf.Code)
			}
		}
		kimg.Funcs[i] = &kf
	}
	ours, err := disasm.ListOpts(img, lopt)
	if err != nil {
		return nil, fmt.Errorf("program %d: jitscope's image: %w", s.ID, err)
	}
	theirs, err := disasm.ListOpts(&kimg, lopt)
	if err != nil {
		return nil, fmt.Errorf("program %d: the kernel's image: %w", s.ID, err)
	}
	cmp := &Comparison{Snapshot: s, Profile: p, Ours: img, KernelImage: &kimg}
	for i, f := range img.Funcs {
		kb := c.Funcs[i].Bytes
		fc := FuncComparison{Name: f.Name, Address: f.Address, FirstDiff: firstDiff(f.Code, kb),
			Kernel: theirs.Funcs[i], Ours: ours.Funcs[i], KernelLen: len(kb), Len: len(f.Code)}
		fc.Identical = fc.FirstDiff < 0
		fc.Rows = pairRows(theirs.Funcs[i].Lines, ours.Funcs[i].Lines)
		cmp.Funcs = append(cmp.Funcs, fc)
	}
	return cmp, nil
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return n
	}
	return -1
}

// pairRows merges two listings by byte offset.
func pairRows(k, o []disasm.Line) []Row {
	var rows []Row
	i, j := 0, 0
	for i < len(k) || j < len(o) {
		switch {
		case j >= len(o) || (i < len(k) && k[i].Offset < o[j].Offset):
			rows = append(rows, Row{Kernel: &k[i], Differs: true})
			i++
		case i >= len(k) || o[j].Offset < k[i].Offset:
			rows = append(rows, Row{Ours: &o[j], Differs: true})
			j++
		default:
			rows = append(rows, Row{Kernel: &k[i], Ours: &o[j], Differs: string(k[i].Bytes) != string(o[j].Bytes)})
			i++
			j++
		}
	}
	return rows
}

// Describe is a one-line summary of a function's comparison.
func (f *FuncComparison) Describe() string {
	if f.Identical {
		return fmt.Sprintf("%s: identical (%d bytes)", f.Name, f.Len)
	}
	for _, r := range f.Rows {
		if !r.Differs {
			continue
		}
		k, o := "(nothing)", "(nothing)"
		off := 0
		if r.Kernel != nil {
			k, off = r.Kernel.Text, r.Kernel.Offset
		}
		if r.Ours != nil {
			o, off = r.Ours.Text, r.Ours.Offset
		}
		return fmt.Sprintf("%s: differs at +%#x: kernel %q, jitscope %q (kernel %d bytes, jitscope %d)", f.Name, off, k, o, f.KernelLen, f.Len)
	}
	return fmt.Sprintf("%s: differs at +%#x (kernel %d bytes, jitscope %d)", f.Name, f.FirstDiff, f.KernelLen, f.Len)
}
