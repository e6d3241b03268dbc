// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Compatibility profiles: kernels the prog array compatibility model
// (kernel/compat.go, seed 004) covers but no JIT profile models
// instruction by instruction. They can be chosen like any profile so a run
// plays that kernel's prog array and freplace rules, but their machine
// code is the JIT of the nearest modelled kernel below them, changed only
// where the tail call behaviour differs; every place that shows or offers
// them says so (CompatOnly).
type compatProfile struct {
	name, kernel, base string
	// adjust makes the base profile's tail call facts the kernel's.
	adjust func(p *jit.Profile)
	why    string
}

var compatProfiles = []compatProfile{
	{
		name: "v5.15", kernel: "5.15", base: "v5.10",
		// MAX_TAIL_CALL_CNT is still 32 with "count > MAX" (33 and >= came
		// in 5.17, commit ebf7f6f0a6cd); arm64 still refuses tail calls
		// in programs with bpf-to-bpf calls (allowed from 6.0, commit
		// d4609a5d8c70) and has no bpf_arch_text_poke (6.0): both as
		// v5.10.
		adjust: func(p *jit.Profile) {},
		why:    "5.10's JIT (same tail call design: count by value, limit 32 with >)",
	},
	{
		name: "v6.6", kernel: "6.6", base: "v6.1",
		// cpu v4 instructions are JITed from 6.6 (arm64 and x86 "bpf,
		// x86: support new insns" / "bpf, arm64: support ..." series);
		// the tail call count is still passed by value (pointer from
		// 6.11).
		adjust: func(p *jit.Profile) { p.CPUv4 = true },
		why:    "6.1's JIT plus cpu v4 (same tail call design: count by value, limit 33 with >=)",
	},
}

// CompatOnlyNote is how a compatibility profile is labelled.
const CompatOnlyNote = "compatibility model only: JIT output not modelled instruction-exactly"

func (c compatProfile) build(arch kernel.Arch) (*jit.Profile, error) {
	base, err := jit.LookupProfile(arch, c.base)
	if err != nil {
		return nil, err
	}
	p := *base
	p.Name, p.Kernel = c.name, c.kernel
	p.Summary = fmt.Sprintf("Linux %s, %s: machine code of %s", c.kernel, CompatOnlyNote, c.why)
	p.Sources = append([]string{"kernel/compat.go: the " + c.kernel + " prog array compatibility rules"}, base.Sources...)
	c.adjust(&p)
	return &p, nil
}

// CompatOnly reports whether p is a compatibility profile, and what its
// machine code really is.
func CompatOnly(p *jit.Profile) (string, bool) {
	if p == nil {
		return "", false
	}
	for _, c := range compatProfiles {
		if c.name == p.Name && c.kernel == p.Kernel {
			return fmt.Sprintf("%s %s: %s; the machine code is %s", p.Arch, p.Name, CompatOnlyNote, c.why), true
		}
	}
	return "", false
}

// Profiles lists the profiles of arch a user can choose: the JIT's, in
// their order, with each compatibility profile before the first JIT
// profile of a later kernel. The last one is the newest modelled kernel
// (the default).
func Profiles(arch kernel.Arch) []*jit.Profile {
	var out []*jit.Profile
	done := map[string]bool{}
	add := func(before int) {
		for _, c := range compatProfiles {
			if done[c.name] || (before > 0 && kernelVersion(c.kernel) >= before) {
				continue
			}
			if q, err := c.build(arch); err == nil {
				out = append(out, q)
			}
			done[c.name] = true
		}
	}
	for _, p := range jit.Profiles(arch) {
		if v := kernelVersion(p.Kernel); v > 0 {
			add(v)
		}
		out = append(out, p)
	}
	if len(out) > 0 {
		// Compatibility profiles newer than every JIT profile go before
		// the newest, which stays the default.
		last := out[len(out)-1]
		out = out[:len(out)-1]
		add(0)
		out = append(out, last)
	}
	return out
}

// jitProfile is the profile the JIT backend compiles p with: for a
// compatibility profile, its base's name (backends key their per-version
// facts by name) with the compatibility profile's adjustments.
func jitProfile(p *jit.Profile) *jit.Profile {
	for _, c := range compatProfiles {
		if c.name == p.Name && c.kernel == p.Kernel {
			q := *p
			q.Name = c.base
			return &q
		}
	}
	return p
}

// LookupProfile finds a JIT or compatibility profile by name.
func LookupProfile(arch kernel.Arch, name string) (*jit.Profile, error) {
	for _, c := range compatProfiles {
		if c.name == name {
			return c.build(arch)
		}
	}
	p, err := jit.LookupProfile(arch, name)
	if err != nil && len(jit.Profiles(arch)) > 0 {
		var names []string
		for _, q := range Profiles(arch) {
			names = append(names, q.Name)
		}
		return nil, fmt.Errorf("unknown %s profile %q (have %s)", arch, name, strings.Join(names, ", "))
	}
	return p, err
}

// CompatKernelFor is the prog array compatibility model a run with
// profile p plays: the kernel of a compatibility profile, else the newest
// modelled mainline kernel at or below the profile's (the rules changed
// only at the modelled versions; 5.10's bpf_prog_array_compatible is
// 5.15's). The note says which and why; nil for profiles that are not a
// kernel (the counter-example).
func CompatKernelFor(p *jit.Profile) (*kernel.CompatKernel, string) {
	if p.Counterexample {
		return nil, ""
	}
	ver := kernelVersion(p.Kernel)
	if ver == 0 {
		return nil, ""
	}
	var pick *kernel.CompatKernel
	for _, k := range kernel.CompatKernels() {
		kv := kernelVersion(k.Name)
		if strings.Count(k.Name, ".") > 1 {
			continue // stable releases: not what a mainline profile runs
		}
		if pick == nil || (kv <= ver && kv > kernelVersion(pick.Name)) {
			pick = k
		}
	}
	if pick == nil {
		return nil, ""
	}
	if kernelVersion(pick.Name) == ver {
		return pick, fmt.Sprintf("prog array rules of %s", pick.Name)
	}
	return pick, fmt.Sprintf("prog array rules of %s, the nearest modelled kernel at or below %s", pick.Name, strings.Fields(p.Kernel)[0])
}

// kernelVersion reads "6.12" (or "6.18 (...)") as 612; 0 if it is not a
// version.
func kernelVersion(s string) int {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0
	}
	parts := strings.SplitN(f[0], ".", 3)
	if len(parts) < 2 {
		return 0
	}
	a, err1 := strconv.Atoi(parts[0])
	b, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return 0
	}
	return a*100 + b
}
