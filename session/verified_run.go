// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"

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
