// SPDX-License-Identifier: GPL-2.0-only

package live

import (
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/verifier"
)

// RunFacts are this host's verifier facts for running set's programs the
// way the kernel holds them (snaps, by program name): one set of facts
// for all (struct offsets, kallsyms, every snapshot's map ids, &jiffies
// and &cpu_number from whichever program's xlated instructions have
// them) and each program's stack depths as its verifier reported them.
func (r *Reader) RunFacts(set *kernel.Set, snaps map[string]*Snapshot) (verifier.Facts, map[string][]int) {
	var f verifier.Facts
	depths := map[string][]int{}
	first := true
	for _, p := range set.Programs {
		snap := snaps[p.Name]
		if snap == nil {
			continue
		}
		sf := r.setFacts(set, snap)
		depths[p.Name] = sf.StackDepths
		if first {
			f, first = sf, false
			f.StackDepths = nil
			continue
		}
		for k, v := range sf.MapIDs {
			if _, ok := f.MapIDs[k]; !ok {
				f.MapIDs[k] = v
			}
		}
		if f.Jiffies == 0 {
			f.Jiffies = sf.Jiffies
		}
		if f.CPUNumber == 0 {
			f.CPUNumber = sf.CPUNumber
		}
	}
	if first {
		f = verifier.Facts{Layout: r.Host.Layout, Func: r.Kallsyms.Addr}
		f.CallBase, _ = r.Kallsyms.Addr("__bpf_call_base")
	}
	return f, depths
}
