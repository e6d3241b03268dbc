// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"fmt"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/live"
	"github.com/jitscope/jitscope/session"
	"github.com/jitscope/jitscope/verifier"
)

// verifiedSet is `dump --verifier`: the target's programs through
// jitscope's model of the verifier's rewrites, so the JIT compiles what the
// kernel's JIT would receive. Facts come from the profile ("profile":
// built-in struct offsets, stand-in addresses) or from the running kernel
// ("host": its BTF and kallsyms, no program loaded).
func verifiedSet(t *session.Target, arch kernel.Arch, p *jit.Profile, from string) (*kernel.Set, error) {
	if t.Capture != nil {
		return nil, fmt.Errorf("%s: --verifier: a kernel capture is already the verifier's output", t.Name)
	}
	var f verifier.Facts
	switch from {
	case "profile":
		var ok bool
		if f, ok = verifier.FactsFor(arch, p.Name); !ok {
			return nil, fmt.Errorf("%s: --verifier profile: jitscope has no verifier facts for %s %s (it has them for x86_64 v6.18; or use --verifier host)", t.Name, arch, p.Name)
		}
	case "host":
		if err := kernelChecks(); err != nil {
			return nil, err
		}
		r, err := live.NewReader(live.HostOptions{})
		if err != nil {
			return nil, err
		}
		if r.Host.Arch != arch {
			return nil, fmt.Errorf("%s: --verifier host: this machine is %s, not %s", t.Name, r.Host.Arch, arch)
		}
		f = verifier.Facts{Layout: r.Host.Layout, Func: r.Kallsyms.Addr}
		f.CallBase, _ = r.Kallsyms.Addr("__bpf_call_base")
		// &cpu_number is in no kallsyms without CONFIG_KALLSYMS_ALL.
		f.CPUNumber = verifier.V618().CPUNumber
	default:
		return nil, usagef("dump: --verifier must be profile or host, not %q", from)
	}
	f = verifier.Offline(f)
	var progs []*verifier.Program
	for _, prog := range t.Set.Programs {
		vp, err := verifier.Rewrite(t.Set, prog.Name, f)
		if err != nil {
			return nil, fmt.Errorf("%s: --verifier: %w", t.Name, err)
		}
		progs = append(progs, vp)
	}
	return verifier.ToSet(t.Set, arch, progs, f)
}
