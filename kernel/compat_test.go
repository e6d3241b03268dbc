// SPDX-License-Identifier: GPL-2.0-only

package kernel

import (
	"strings"
	"testing"
)

// seed004Plan is the flow of seed 004: the XDP dispatcher, the extension
// acl (replacing dispatcher/subprog1, tail-calling through acl_progs) and
// acl_algo, of type algoType, then acl_progs[1] = acl_algo.
func seed004Plan(algoType string) *CompatPlan {
	algo := &CompatProg{Name: "acl_algo", Type: algoType, Jited: true, AttachType: DefaultExpectedAttachType(algoType)}
	if algoType == "ext" {
		algo.Target, algo.TargetFunc = "dispatcher", "subprog2"
	}
	return &CompatPlan{
		Progs: []*CompatProg{
			{Name: "dispatcher", Type: "xdp", Jited: true, AttachType: "xdp"},
			{Name: "acl", Type: "ext", Target: "dispatcher", TargetFunc: "subprog1", Attach: true, Jited: true, UsedProgArrays: []string{"acl_progs"}},
			algo,
		},
		Updates:    []SlotUpdate{{Map: "acl_progs", Key: 1, Prog: "acl_algo"}},
		MaxEntries: map[string]uint32{"acl_progs": 2},
	}
}

// TestSeed004Table is the table: whether acl_progs[1] = acl_algo
// succeeds, per kernel, and the rule that decides, with its values.
func TestSeed004Table(t *testing.T) {
	cases := []struct {
		algo, kernel string
		ok           bool
		errno, rule  string
		reason       []string // substrings of the reason
		ownerType    string
	}{
		{"ext", "5.15", true, "", "owner-match",
			[]string{"type BPF_PROG_TYPE_EXT == owner.type BPF_PROG_TYPE_EXT", "jited 1 == 1", "owner claimed by acl"}, "ext"},
		{"ext", "6.6", true, "", "owner-match",
			[]string{"type BPF_PROG_TYPE_XDP == owner.type BPF_PROG_TYPE_XDP", "resolve_prog_type(acl_algo) = BPF_PROG_TYPE_XDP", "xdp_has_frags 0 == 0"}, "xdp"},
		{"ext", "6.12", false, "-EINVAL", "ext-refused",
			[]string{"acl_algo is BPF_PROG_TYPE_EXT, which cannot be added to a prog array (6.12+)"}, "xdp"},
		{"ext", "6.12.117", false, "-EINVAL", "ext-refused", []string{"BPF_PROG_TYPE_EXT"}, "xdp"},
		{"xdp", "5.15", false, "-EINVAL", "owner-type",
			[]string{"type BPF_PROG_TYPE_XDP != owner.type BPF_PROG_TYPE_EXT", "owner claimed by acl"}, "ext"},
		{"xdp", "6.6", true, "", "owner-match", []string{"type BPF_PROG_TYPE_XDP == owner.type BPF_PROG_TYPE_XDP"}, "xdp"},
		{"xdp", "6.12", true, "", "owner-match", []string{"type BPF_PROG_TYPE_XDP == owner.type BPF_PROG_TYPE_XDP"}, "xdp"},
		// The 2025 stable kernels compare expected_attach_type too: acl
		// inherited dispatcher's BPF_XDP, as libbpf loads SEC("xdp").
		{"xdp", "6.12.117", true, "", "owner-match",
			[]string{"expected_attach_type BPF_XDP == BPF_XDP"}, "xdp"},
	}
	for _, c := range cases {
		t.Run(c.algo+"/"+c.kernel, func(t *testing.T) {
			k, err := LookupCompatKernel(c.kernel)
			if err != nil {
				t.Fatal(err)
			}
			r := k.Run(seed004Plan(c.algo))
			for _, s := range r.Steps {
				if s.Action != "update" && !s.OK {
					t.Fatalf("%s: %s", s.What(), s.Verdict)
				}
			}
			if s := r.Step("load", "acl"); len(s.Claimed) != 1 || s.Claimed[0] != "acl_progs" {
				t.Errorf("loading acl claims %v, want [acl_progs]", s.Claimed)
			}
			if o := r.Owners["acl_progs"]; o == nil || o.Type != c.ownerType || o.By != "acl" || !o.Jited {
				t.Errorf("owner %+v, want type %s claimed by acl, jited", o, c.ownerType)
			}
			u := r.Update("acl_progs", 1)
			if u == nil {
				t.Fatal("no update step")
			}
			t.Log(u.Verdict)
			if u.OK != c.ok || u.Errno != c.errno || u.Rule != c.rule {
				t.Errorf("update: ok %v errno %q rule %q, want %v %q %q (%s)", u.OK, u.Errno, u.Rule, c.ok, c.errno, c.rule, u.Reason)
			}
			for _, want := range c.reason {
				if !strings.Contains(u.Reason, want) {
					t.Errorf("reason %q lacks %q", u.Reason, want)
				}
			}
		})
	}
}

// An extension inherits its target's expected_attach_type, so with a
// dispatcher loaded with 0 (not libbpf's SEC("xdp")) the 2025 stable kernels
// refuse the XDP acl_algo that libbpf loads with BPF_XDP; the release tags
// do not compare it.
func TestInheritedAttachType(t *testing.T) {
	for _, c := range []struct {
		kernel string
		ok     bool
	}{{"6.6", true}, {"6.12", true}, {"6.12.117", false}} {
		k, _ := LookupCompatKernel(c.kernel)
		plan := seed004Plan("xdp")
		plan.Progs[0].AttachType = ""
		r := k.Run(plan)
		if o := r.Owners["acl_progs"]; k.AttachType && o.AttachType != "" {
			t.Errorf("%s: owner expected_attach_type %q, want acl's inherited 0", c.kernel, o.AttachType)
		}
		u := r.Update("acl_progs", 1)
		if u.OK != c.ok {
			t.Errorf("%s: %s", c.kernel, u.Verdict)
		}
		if !c.ok && (u.Rule != "owner-attach-type" || !strings.Contains(u.Reason, "expected_attach_type BPF_XDP != owner.expected_attach_type 0")) {
			t.Errorf("%s: refused with %s", c.kernel, u.Verdict)
		}
	}
	r := compatKernels[3].Run(seed004Plan("xdp"))
	if s := r.Step("load", "acl"); !strings.Contains(s.Reason, "expected_attach_type BPF_XDP (inherited from dispatcher)") {
		t.Errorf("acl's owner claim: %s", s.Reason)
	}
}

func TestResolveProgType(t *testing.T) {
	plan := seed004Plan("ext")
	for _, c := range []struct {
		kernel, acl string
	}{{"5.15", "ext"}, {"6.6", "xdp"}, {"6.12", "xdp"}} {
		k, _ := LookupCompatKernel(c.kernel)
		r := k.Run(&CompatPlan{Progs: plan.Progs})
		if got, _ := r.resolve(plan.Progs[1]); got != c.acl {
			t.Errorf("%s: resolve_prog_type(acl) = %s, want %s", c.kernel, got, c.acl)
		}
		if got, _ := r.resolve(plan.Progs[0]); got != "xdp" {
			t.Errorf("%s: resolve_prog_type(dispatcher) = %s", c.kernel, got)
		}
	}
}

// The other rules, each with the kernels it applies to.
func TestCompatRules(t *testing.T) {
	xdp := func(name string) *CompatProg {
		return &CompatProg{Name: name, Type: "xdp", Jited: true, AttachType: "xdp", UsedProgArrays: []string{"jt"}}
	}
	type want struct {
		ok          bool
		errno, rule string
	}
	cases := []struct {
		name  string
		plan  func() *CompatPlan
		step  func(r *CompatReport) *CompatStep
		perK  map[string]want
		check string // substring of the deciding reason (first refusing kernel)
	}{
		{"jited mismatch", func() *CompatPlan {
			b := xdp("b")
			b.Jited = false
			return &CompatPlan{Progs: []*CompatProg{xdp("a"), b}, Updates: []SlotUpdate{{"jt", 0, "b"}}}
		}, func(r *CompatReport) *CompatStep { return r.Step("load", "b") },
			map[string]want{"5.15": {false, "-EINVAL", "owner-jited"}, "6.6": {false, "-EINVAL", "owner-jited"}, "6.12": {false, "-EINVAL", "owner-jited"}},
			"jited 0 != owner.jited 1"},
		{"xdp frags mismatch", func() *CompatPlan {
			b := xdp("b")
			b.UsedProgArrays = nil
			b.XDPHasFrags = true
			return &CompatPlan{Progs: []*CompatProg{xdp("a"), b}, Updates: []SlotUpdate{{"jt", 0, "b"}}}
		}, func(r *CompatReport) *CompatStep { return r.Update("jt", 0) },
			map[string]want{"5.15": {true, "", "owner-match"}, "6.6": {false, "-EINVAL", "owner-xdp-frags"}, "6.12": {false, "-EINVAL", "owner-xdp-frags"}},
			"xdp_has_frags 1 != owner.xdp_has_frags 0"},
		{"dev-bound program in a prog array", func() *CompatPlan {
			b := xdp("b")
			b.UsedProgArrays = nil
			b.DevBound = true
			return &CompatPlan{Progs: []*CompatProg{xdp("a"), b}, Updates: []SlotUpdate{{"jt", 0, "b"}}}
		}, func(r *CompatReport) *CompatStep { return r.Update("jt", 0) },
			map[string]want{"5.15": {true, "", "owner-match"}, "6.6": {false, "-EINVAL", "dev-bound"}, "6.12.117": {false, "-EINVAL", "dev-bound"}},
			"dev-bound"},
		{"dev-bound program using a prog array", func() *CompatPlan {
			a := xdp("a")
			a.DevBound = true
			return &CompatPlan{Progs: []*CompatProg{a}}
		}, func(r *CompatReport) *CompatStep { return r.Step("load", "a") },
			map[string]want{"6.6": {false, "-EINVAL", "dev-bound"}, "6.12": {false, "-EINVAL", "dev-bound"}, "6.12.117": {true, "", "loaded"}},
			"bpf_check_tail_call"},
		{"kprobe override", func() *CompatPlan {
			return &CompatPlan{Progs: []*CompatProg{{Name: "k", Type: "kprobe", Jited: true, KprobeOverride: true, UsedProgArrays: []string{"jt"}}}}
		}, func(r *CompatReport) *CompatStep { return r.Step("load", "k") },
			map[string]want{"5.15": {false, "-EINVAL", "kprobe-override"}, "6.12": {false, "-EINVAL", "kprobe-override"}},
			"bpf_override_return"},
		{"extension of an extension", func() *CompatPlan {
			p := seed004Plan("ext")
			p.Progs[2].Target, p.Progs[2].TargetFunc = "acl", "acl_algo"
			return p
		}, func(r *CompatReport) *CompatStep { return r.Step("load", "acl_algo") },
			map[string]want{"5.15": {false, "-EINVAL", "recursive-attach"}, "6.6": {false, "-EINVAL", "recursive-attach"}, "6.12": {false, "-EINVAL", "recursive-attach"}},
			"cannot recursively attach"},
		{"extended program as a tail callee", func() *CompatPlan {
			p := seed004Plan("xdp")
			p.Updates = []SlotUpdate{{"acl_progs", 0, "dispatcher"}}
			return p
		}, func(r *CompatReport) *CompatStep { return r.Update("acl_progs", 0) },
			map[string]want{"5.15": {false, "-EINVAL", "owner-type"}, "6.6": {true, "", "owner-match"}, "6.12": {false, "-EBUSY", "extended"}},
			"is extended by an freplace program"},
		{"index out of range", func() *CompatPlan {
			return &CompatPlan{Progs: []*CompatProg{xdp("a")}, Updates: []SlotUpdate{{"jt", 4, "a"}}, MaxEntries: map[string]uint32{"jt": 4}}
		}, func(r *CompatReport) *CompatStep { return r.Update("jt", 4) },
			map[string]want{"5.15": {false, "-E2BIG", "index"}, "6.12": {false, "-E2BIG", "index"}},
			"index 4 >= max_entries 4"},
		{"failed load", func() *CompatPlan {
			p := seed004Plan("ext")
			p.Progs[2].Target, p.Progs[2].TargetFunc = "acl", "acl_algo"
			return p
		}, func(r *CompatReport) *CompatStep { return r.Update("acl_progs", 1) },
			map[string]want{"5.15": {false, "-EBADF", "not-loaded"}},
			"acl_algo is not loaded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen := false
			for kn, w := range c.perK {
				k, err := LookupCompatKernel(kn)
				if err != nil {
					t.Fatal(err)
				}
				s := c.step(k.Run(c.plan()))
				if s == nil {
					t.Fatalf("%s: no such step", kn)
				}
				if s.OK != w.ok || s.Errno != w.errno || s.Rule != w.rule {
					t.Errorf("%s: %s: ok %v %q %q, want %v %q %q (%s)", kn, s.What(), s.OK, s.Errno, s.Rule, w.ok, w.errno, w.rule, s.Reason)
				}
				if !s.OK && strings.Contains(s.Reason, c.check) {
					seen = true
				}
			}
			if !seen {
				t.Errorf("no refusal says %q", c.check)
			}
		})
	}
}

// On 6.12 an extension cannot attach to a program that is in a prog
// array; before, it could.
func TestAttachToTailCallee(t *testing.T) {
	plan := &CompatPlan{
		Progs: []*CompatProg{
			{Name: "owner", Type: "xdp", Jited: true, AttachType: "xdp", UsedProgArrays: []string{"jt"}},
			{Name: "callee", Type: "xdp", Jited: true, AttachType: "xdp"},
			{Name: "ext", Type: "ext", Jited: true, Target: "callee", TargetFunc: "callee", Attach: true},
		},
	}
	// Run plays updates after attachments; here the update comes first,
	// so the steps are played one by one.
	for _, c := range []struct {
		kernel string
		ok     bool
	}{{"5.15", true}, {"6.6", true}, {"6.12", false}} {
		k, _ := LookupCompatKernel(c.kernel)
		r := newReport(k)
		for _, p := range plan.Progs {
			r.progs[p.Name] = p
		}
		for _, p := range plan.Progs {
			if s := r.load(p); !s.OK {
				t.Fatalf("%s: %s: %s", c.kernel, s.What(), s.Verdict)
			}
		}
		if v, _ := r.update(SlotUpdate{"jt", 0, "callee"}); !v.OK {
			t.Fatalf("%s: update: %s", c.kernel, v)
		}
		s := r.attach(plan.Progs[2])
		if s.OK != c.ok {
			t.Errorf("%s: attach: %s", c.kernel, s.Verdict)
		}
		if !c.ok && (s.Errno != "-EBUSY" || !strings.Contains(s.Reason, "prog_array_member_cnt")) {
			t.Errorf("%s: attach refused with %s", c.kernel, s.Verdict)
		}
	}
}

func TestLookupCompatKernel(t *testing.T) {
	for _, n := range []string{"5.15", "v6.6", "6.12", "6.12.117"} {
		if _, err := LookupCompatKernel(n); err != nil {
			t.Error(err)
		}
	}
	if _, err := LookupCompatKernel("4.19"); err == nil || !strings.Contains(err.Error(), "have 5.15, 6.6, 6.12, 6.12.117") {
		t.Errorf("LookupCompatKernel(4.19) = %v", err)
	}
	if ProgTypeEnum("sched_cls") != "BPF_PROG_TYPE_SCHED_CLS" || ProgTypeEnum("ext") != "BPF_PROG_TYPE_EXT" {
		t.Error("ProgTypeEnum")
	}
}
