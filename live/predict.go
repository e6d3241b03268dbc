// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"encoding/binary"
	"fmt"

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
// from the snapshot, and &cpu_number from the kernel's own xlated
// instructions (a per-CPU variable kallsyms lists only with
// CONFIG_KALLSYMS_ALL).
func (r *Reader) Facts(snap *Snapshot) verifier.Facts {
	f := verifier.Facts{Layout: r.Host.Layout, Func: r.Kallsyms.Addr, MapIDs: map[string]int{}}
	f.CallBase, _ = r.Kallsyms.Addr("__bpf_call_base")
	for _, m := range snap.Capture.Maps {
		f.MapIDs[m.Name] = m.ID
		if m.KernelName != "" {
			f.MapIDs[m.KernelName] = m.ID
		}
	}
	x := snap.Info.Xlated
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
	f := r.Facts(snap)
	// The kernel keeps 15 characters of a map's name (BPF_OBJ_NAME_LEN).
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
	p, err := verifier.Rewrite(set, name, f)
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
