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
func verifiedSet(t *session.Target, arch kernel.Arch, p *jit.Profile, from string) (*kernel.Set, []*verifier.Program, error) {
	if t.Capture != nil {
		return nil, nil, fmt.Errorf("%s: --verifier: a kernel capture is already the verifier's output", t.Name)
	}
	f, err := verifierFacts(t, arch, p, from, "dump")
	if err != nil {
		return nil, nil, err
	}
	return t.VerifiedSet(arch, f)
}

// verifierFacts are the facts `--verifier from` names for cmd (dump,
// run): the profile's built-in ones or the running kernel's.
func verifierFacts(t *session.Target, arch kernel.Arch, p *jit.Profile, from, cmd string) (verifier.Facts, error) {
	var f verifier.Facts
	switch from {
	case "profile":
		var err error
		if f, err = t.ProfileFacts(arch, p); err != nil {
			return f, fmt.Errorf("%s: --verifier profile: %w; or use --verifier host", t.Name, err)
		}
	case "host":
		if err := kernelChecks(); err != nil {
			return f, err
		}
		r, err := live.NewReader(live.HostOptions{})
		if err != nil {
			return f, err
		}
		if r.Host.Arch != arch {
			return f, fmt.Errorf("%s: --verifier host: this machine is %s, not %s", t.Name, r.Host.Arch, arch)
		}
		f = verifier.Facts{Layout: r.Host.Layout, Func: r.Kallsyms.Addr}
		f.CallBase, _ = r.Kallsyms.Addr("__bpf_call_base")
		// &cpu_number is in no kallsyms without CONFIG_KALLSYMS_ALL.
		f.CPUNumber = verifier.V618().CPUNumber
		f = verifier.Offline(f)
	default:
		return f, usagef("%s: --verifier must be profile or host, not %q", cmd, from)
	}
	return f, nil
}

// writeRewrites prints, per program, the BPF as written (left) beside the
// BPF the JIT receives (right): each written instruction on one row, the
// instructions it became beside it, '*' where the verifier changed it.
func writeRewrites(env Env, orig, xl *kernel.Set, arch kernel.Arch, p *jit.Profile, progs []*verifier.Program) error {
	for i, vp := range progs {
		op := orig.Program(vp.Name)
		l, err := kernel.Load(xl, vp.Name, arch, p.LoadOptions())
		if err != nil {
			return err
		}
		rw := session.TraceRewrite(op, vp, l)
		if i > 0 {
			fmt.Fprintln(env.Stdout)
		}
		fmt.Fprintf(env.Stdout, "%s: BPF as written | BPF as the JIT sees it (%d rewrites)\n", vp.Name, len(vp.Rewrites))
		width := 0
		for _, w := range rw.Written {
			width = max(width, len(w))
		}
		for k := range op.Insns {
			rows := rw.After[k]
			mark := " "
			if rw.Changed(k) {
				mark = "*"
			}
			if len(rows) == 0 {
				rows = []string{"(removed)"}
			}
			for j, r := range rows {
				left := ""
				if j == 0 {
					left = rw.Written[k]
				}
				fmt.Fprintf(env.Stdout, "%s %4d  %-*s | %s\n", mark, k, width, left, r)
				mark = " "
			}
		}
		for _, note := range vp.Rewrites {
			fmt.Fprintf(env.Stdout, "  %s\n", note)
		}
	}
	return nil
}
