// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/verifier"
)

// Verified returns the target as jitscope's verifier model rewrites it
// with facts f: the same name, scenario and packets, its set the
// programs as the JIT receives them (VerifiedSet). depths, when it has a
// program, gives that program's stack depths as the kernel's verifier
// reported them (Facts.StackDepths, where may_goto's counter lives).
// Running it (machine.Options.Verified = &f) runs the image the kernel's
// JIT makes, on the kernel memory model.
func (t *Target) Verified(arch kernel.Arch, f verifier.Facts, depths map[string][]int) (*Target, error) {
	if t.Capture != nil {
		return nil, fmt.Errorf("%s: --verifier: a kernel capture is already the verifier's output", t.Name)
	}
	var progs []*verifier.Program
	for _, prog := range t.Set.Programs {
		pf := f
		if d, ok := depths[prog.Name]; ok {
			pf.StackDepths = d
		}
		vp, err := verifier.Rewrite(t.Set, prog.Name, pf)
		if err != nil {
			return nil, fmt.Errorf("%s: verifier: %w", t.Name, err)
		}
		progs = append(progs, vp)
	}
	set, err := verifier.ToSet(t.Set, arch, progs, f)
	if err != nil {
		return nil, fmt.Errorf("%s: verifier: %w", t.Name, err)
	}
	return &Target{Name: t.Name, Set: set, Scenario: t.Scenario, Object: t.Object}, nil
}

// CaptureFacts are the verifier facts a kernel capture runs with on the
// kernel memory model: its programs are the verifier's output already, so
// only what they read needs facts — struct offsets from the profile's
// built-in facts (the capture's kernel version), &cpu_number and &jiffies
// from its own translated instructions (the inlined
// bpf_get_smp_processor_id and bpf_jiffies64).
func (t *Target) CaptureFacts(arch kernel.Arch, p *jit.Profile) (verifier.Facts, error) {
	f, ok := verifier.FactsFor(arch, p.Name)
	if !ok {
		return f, fmt.Errorf("%s: a capture runs on the kernel memory model, and jitscope has no struct offsets for %s %s (it has them for x86_64 v6.18)", t.Name, arch, p.Name)
	}
	f.CPUNumber = 0
	for _, prog := range t.Set.Programs {
		ins := prog.Insns
		for i := 0; i+1 < len(ins); i++ {
			a, b := ins[i], ins[i+1]
			switch {
			case a.OpCode == asm.Mov.Op(asm.ImmSource) && a.Dst == asm.R0 && b.OpCode == asm.Mov.Op(asm.RegSource) &&
				b.Dst == asm.R0 && b.Src == asm.R0 && b.Offset == -1:
				// r0 = (u32)&cpu_number; r0 = per-CPU address of r0
				f.CPUNumber = uint32(a.Constant)
			case a.OpCode.IsDWordLoad() && a.Src == 0 && a.Dst == asm.R0 && b.OpCode == asm.LoadMemOp(asm.DWord) &&
				b.Dst == asm.R0 && b.Src == asm.R0 && b.Offset == 0:
				// r0 = &jiffies ll; r0 = *(u64 *)(r0 + 0)
				f.Jiffies = uint64(a.Constant)
			}
		}
	}
	return f, nil
}
