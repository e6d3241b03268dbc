// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"encoding/binary"
	"fmt"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/verifier"
)

// Prediction is jitscope's verifier model applied to a program as
// written, beside the kernel's xlated instructions of the same program.
type Prediction struct {
	Program *verifier.Program
	Kernel  []byte // the kernel's xlated.bin
	// FirstDiff is the first differing slot, -1 when identical.
	FirstDiff int
	Err       error // the rewrite failed (something not modelled)
}

// Facts returns the verifier facts of this host for a program the kernel
// holds as snap: struct offsets from BTF, functions from kallsyms, map ids
// from the snapshot, and &cpu_number and &jiffies from the kernel's own
// xlated instructions (data symbols kallsyms lists only with
// CONFIG_KALLSYMS_ALL).
func (r *Reader) Facts(snap *Snapshot) verifier.Facts {
	f := verifier.Facts{Layout: r.Host.Layout, Func: r.Kallsyms.Addr, MapIDs: map[string]int{}, Arch: r.Host.Arch}
	if capture.MajorMinor(r.Host.Release) == verifier.Version61 {
		f.Version = verifier.Version61 // else the model's 6.18
	}
	f.CallBase, _ = r.Kallsyms.Addr("__bpf_call_base")
	for _, m := range snap.Capture.Maps {
		f.MapIDs[m.Name] = m.ID
		if m.KernelName != "" {
			f.MapIDs[m.KernelName] = m.ID
		}
	}
	x := snap.Info.Xlated
	for s := 0; s+24 <= len(x); s += 8 {
		// r0 = imm64 ll; r0 = *(u64 *)(r0 + 0): the inlined bpf_jiffies64
		// (verified code cannot load through a constant otherwise)
		if x[s] == 0x18 && x[s+1] == 0 && x[s+16] == 0x79 && x[s+17] == 0 && binary.LittleEndian.Uint16(x[s+18:]) == 0 {
			f.Jiffies = uint64(binary.LittleEndian.Uint32(x[s+4:])) | uint64(binary.LittleEndian.Uint32(x[s+12:]))<<32
			break
		}
	}
	for s := 0; s+16 <= len(x); s += 8 {
		// r0 = imm; r0 = per-CPU address of r0 (mov with off -1)
		if x[s] == 0xb7 && x[s+1] == 0 && x[s+8] == 0xbf && x[s+9] == 0 && binary.LittleEndian.Uint16(x[s+10:]) == 0xffff {
			f.CPUNumber = binary.LittleEndian.Uint32(x[s+4:])
			break
		}
	}
	return f
}

// Predict rewrites program name of set with this host's facts and
// compares the result with the kernel's xlated instructions in snap.
func (r *Reader) Predict(set *kernel.Set, name string, snap *Snapshot) *Prediction {
	pr := &Prediction{Kernel: snap.Info.Xlated, FirstDiff: -1}
	p, err := verifier.Rewrite(set, name, r.setFacts(set, snap))
	if err != nil {
		pr.Err = err
		return pr
	}
	pr.Program = p
	got := p.Bytes()
	n := min(len(got), len(pr.Kernel)) / 8
	for s := 0; s < n; s++ {
		if string(got[8*s:8*s+8]) != string(pr.Kernel[8*s:8*s+8]) {
			pr.FirstDiff = s
			return pr
		}
	}
	if len(got) != len(pr.Kernel) {
		pr.FirstDiff = n
	}
	return pr
}

// setFacts is Facts with the set's map names resolved to the kernel's
// ids: the kernel keeps 15 characters of a name (BPF_OBJ_NAME_LEN).
func (r *Reader) setFacts(set *kernel.Set, snap *Snapshot) verifier.Facts {
	f := r.Facts(snap)
	f.StackDepths = r.StackDepths[snap.ID]
	for _, m := range set.Maps {
		short := m.Name
		if len(short) > 15 {
			short = short[:15]
		}
		if id, ok := f.MapIDs[short]; ok {
			if _, have := f.MapIDs[m.Name]; !have {
				f.MapIDs[m.Name] = id
			}
		}
	}
	return f
}

func slotText(b []byte, s int) string {
	if 8*s+8 > len(b) {
		return "(end)"
	}
	x := b[8*s:]
	return fmt.Sprintf("%02x %x/%x %+d %d", x[0], x[1]&0xf, x[1]>>4, int16(binary.LittleEndian.Uint16(x[2:])), int32(binary.LittleEndian.Uint32(x[4:])))
}

// Describe is one line: identical, the rewrite's failure, or the first
// differing instruction.
func (p *Prediction) Describe() string {
	switch {
	case p.Err != nil:
		return "not predicted: " + p.Err.Error()
	case p.FirstDiff < 0:
		return fmt.Sprintf("identical (%d insns, %d rewrites)", len(p.Program.Insns), len(p.Program.Rewrites))
	}
	got := p.Program.Bytes()
	return fmt.Sprintf("differs at insn %d: jitscope [%s], kernel [%s] (%d insns, kernel %d)",
		p.FirstDiff, slotText(got, p.FirstDiff), slotText(p.Kernel, p.FirstDiff), len(got)/8, len(p.Kernel)/8)
}

// ObjectImage JITs the predicted program (the object as written, through
// jitscope's verifier model) at the kernel's addresses from snap, and
// compares it with the kernel's image: the whole path from a .o to the
// machine code without the kernel's translation.
func (r *Reader) ObjectImage(set *kernel.Set, pr *Prediction, snap *Snapshot, p *jit.Profile) (*jit.Image, string, error) {
	if pr.Err != nil || pr.Program == nil {
		return nil, "", fmt.Errorf("no prediction")
	}
	return CaptureImage(set, pr.Program, r.setFacts(set, snap), snap.Capture, p)
}

// CaptureImage JITs vp, a program of set as jitscope's verifier model
// rewrote it with facts f, at the addresses of the kernel capture c (its
// functions, maps, values, prog-array slots, symbols, layout and
// configuration) and compares the image with the kernel's: "" when every
// function is identical, else where the first difference is.
func CaptureImage(set *kernel.Set, vp *verifier.Program, f verifier.Facts, c *capture.Capture, p *jit.Profile) (*jit.Image, string, error) {
	arch := c.Kernel.Arch
	obj, err := verifier.ToSet(set, arch, []*verifier.Program{vp}, f)
	if err != nil {
		return nil, "", err
	}
	// The kernel's placement: where it put the functions, maps and
	// values, its symbols, layout and configuration.
	cpl := c.Placement()
	pl := obj.Placement(arch)
	pl.Funcs = map[string]uint64{}
	for k, v := range cpl.Funcs {
		pl.Funcs[k] = v
	}
	prog := obj.Programs[0]
	for i, fn := range prog.Funcs {
		if i < len(c.Funcs) {
			pl.Funcs[prog.Name+"/"+fn.Name] = c.Funcs[i].Address
		}
	}
	pl.Maps, pl.Values = map[string]uint64{}, map[string]uint64{}
	for _, m := range obj.Maps {
		// Slots come from the kernel's prog arrays (those the program
		// uses); the object's other programs are not in this set.
		m.Progs = nil
		for _, cm := range c.Maps {
			if cm.ID == m.ID {
				if a, ok := cpl.Maps[cm.Name]; ok {
					pl.Maps[m.Name] = a
				}
				if a, ok := cpl.Values[cm.Name]; ok {
					pl.Values[m.Name] = a
				}
				if cm.Entries != nil && m.IsProgArray() {
					m.Progs = map[uint32]string{}
					for k, e := range cm.Entries {
						m.Progs[k] = e.Prog
						pl.Funcs[e.Prog] = e.Address
					}
				}
			}
		}
	}
	for k, v := range cpl.Symbols {
		pl.Symbols[k] = v
	}
	pl.Layout, pl.Config = cpl.Layout, cpl.Config
	for i := range prog.Funcs {
		if i < len(c.Funcs) {
			prog.Funcs[i].StackDepth = c.Prog().Funcs[i].StackDepth
		}
	}
	l, err := kernel.Load(obj, prog.Name, arch, p.LoadOptions())
	if err != nil {
		return nil, "", err
	}
	img, err := jit.Compile(l, p.WithConfig(pl.Config))
	if err != nil {
		return nil, "", err
	}
	if len(img.Funcs) != len(c.Funcs) {
		return img, fmt.Sprintf("%d functions, the kernel %d", len(img.Funcs), len(c.Funcs)), nil
	}
	for i, fi := range img.Funcs {
		if d := firstDiff(fi.Code, c.Funcs[i].Bytes); d >= 0 {
			return img, fmt.Sprintf("%s differs at +%#x", fi.Name, d), nil
		}
	}
	return img, "", nil
}
