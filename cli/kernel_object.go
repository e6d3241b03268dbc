// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"fmt"

	"github.com/jitscope/jitscope/capture"
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
		f = verifier.Facts{Layout: r.Host.Layout, Func: r.Kallsyms.Addr, Arch: r.Host.Arch}
		if capture.MajorMinor(r.Host.Release) == verifier.Version61 {
			f.Version = verifier.Version61 // else the model's 6.18
		}
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

// captureFromObject is `dump CAPTURE --object OBJ`: the capture's program
// as written in OBJ, through jitscope's verifier model with the capture's
// facts (verifier.FactsFromCapture), JITed at the capture's addresses
// (live.CaptureImage). It also says how the rewritten program compares
// with the capture's xlated.bin: "identical" or where it differs.
func captureFromObject(t *session.Target, obj string, p *jit.Profile) (*jit.Image, string, error) {
	c := t.Capture
	ot, err := session.LoadTarget(obj)
	if err != nil {
		return nil, "", err
	}
	if !ot.Object {
		return nil, "", fmt.Errorf("%s: --object: %s is not a BPF object", t.Name, obj)
	}
	name := verifier.CaptureProgram(ot.Set, c.Program)
	if name == "" {
		return nil, "", fmt.Errorf("%s: --object: %s has no program %s (the capture's)", t.Name, obj, c.Program)
	}
	f, err := verifier.FactsFromCapture(c)
	if err != nil {
		return nil, "", err
	}
	vp, err := verifier.Rewrite(ot.Set, name, f)
	if err != nil {
		return nil, "", fmt.Errorf("%s: verifier: %w", obj, err)
	}
	xlated := "identical"
	got := vp.Bytes()
	if string(got) != string(c.Xlated) {
		s := 0
		for 8*s+8 <= min(len(got), len(c.Xlated)) && string(got[8*s:8*s+8]) == string(c.Xlated[8*s:8*s+8]) {
			s++
		}
		xlated = fmt.Sprintf("differs at insn %d (%d insns, the kernel %d)", s, len(got)/8, len(c.Xlated)/8)
	}
	img, _, err := live.CaptureImage(ot.Set, vp, f, c, p)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", obj, err)
	}
	return img, xlated, nil
}
