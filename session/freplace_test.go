// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// Seed 004's outcomes, per kernel: whether the update acl_progs[1] =
// acl_algo is allowed, and the rule and -errno when it is not.
var freplaceCases = []struct {
	scenario, profile string
	allowed           bool
	rule, errno       string
}{
	// acl_algo is an extension.
	{"freplace-tailcall", "v5.15", true, "owner-match", ""}, // owner type EXT == EXT
	{"freplace-tailcall", "v6.6", true, "owner-match", ""},  // both resolve to XDP
	{"freplace-tailcall", "v6.18", false, "ext-refused", "-EINVAL"},
	// acl_algo is an XDP program: the workaround.
	{"freplace-tailcall-xdp", "v5.15", false, "owner-type", "-EINVAL"}, // owner EXT is not XDP
	{"freplace-tailcall-xdp", "v6.6", true, "owner-match", ""},
	{"freplace-tailcall-xdp", "v6.18", true, "owner-match", ""},
}

// TestFreplaceRuns runs seed 004's scenarios on each kernel's profile and
// architecture: the slot update is allowed or refused with its rule and
// -errno in the setup events, acl is attached in place of subprog1, and
// where the update succeeds the run goes dispatcher -> (replaced)
// subprog1 -> acl -> acl_algo subprogram -> tail call -> the program
// acl_algo with the count at 1, and back to dispatcher.
func TestFreplaceRuns(t *testing.T) {
	for _, c := range freplaceCases {
		for _, arch := range DefaultArches {
			t.Run(fmt.Sprintf("%s/%s/%s", c.scenario, arch, c.profile), func(t *testing.T) {
				s, err := Load(c.scenario, Options{Arches: []kernel.Arch{arch}, Profiles: map[kernel.Arch]string{arch: c.profile}})
				if err != nil {
					t.Fatal(err)
				}
				l := s.Listings[0]
				if arch == kernel.ARM64 && c.profile == "v5.15" {
					// arm64 5.15 cannot JIT acl: tail calls and bpf-to-bpf
					// calls in one program came to arm64 in 6.0.
					if l.Err == nil || !strings.Contains(l.Err.Error(), "tail_calls are not allowed in programs with bpf-to-bpf calls") {
						t.Fatalf("arm64 v5.15 compiled acl: %v", l.Err)
					}
					return
				}
				if l.Err != nil {
					t.Fatal(l.Err)
				}
				r := s.Run(l)
				if !r.Ran || r.Err != nil {
					t.Fatalf("run: %v", r.Err)
				}
				if r.Retval != 2 {
					t.Errorf("retval %d, want XDP_PASS (2)", r.Retval)
				}
				evs := r.Events()
				var upd, att *trace.Event
				for i := range evs {
					switch evs[i].Kind {
					case trace.MapUpdate:
						upd = &evs[i]
					case trace.Attach:
						att = &evs[i]
					}
				}
				if upd == nil || att == nil {
					t.Fatalf("no map_update / attach event: %+v", evs)
				}
				if !strings.Contains(att.Detail, "acl replaces dispatcher/subprog1") || !strings.Contains(att.Detail, "bpf_arch_text_poke") {
					t.Errorf("attach: %s", att.Detail)
				}
				if !strings.Contains(upd.Detail, "rule "+c.rule) {
					t.Errorf("update rule: %s, want %s", upd.Detail, c.rule)
				}
				if c.allowed != strings.Contains(upd.Detail, ": allowed (") || !c.allowed && !strings.Contains(upd.Detail, "REFUSED "+c.errno) {
					t.Errorf("update: %s, want allowed %v %s", upd.Detail, c.allowed, c.errno)
				}
				// The flow.
				var kinds []string
				tccAtTail := int64(-1)
				var lastTCC int64 = -1
				for _, e := range evs {
					switch e.Kind {
					case trace.Call, trace.Freplace, trace.TailCall, trace.TailCallMiss:
						kinds = append(kinds, fmt.Sprintf("%s %s>%s", e.Kind, e.From, e.To))
					}
					if e.Kind == trace.TCC && e.Value != nil {
						lastTCC = *e.Value
						// After an x86 "leave" rbp is the caller's: the
						// run loop must not read a count there.
						if lastTCC < 0 || lastTCC > 33 {
							t.Errorf("step %d: TCC = %d in %s (%s): not a count", e.Step, lastTCC, e.Where, e.From)
						}
					}
					if e.Kind == trace.TailCall {
						tccAtTail = lastTCC
					}
				}
				flow := strings.Join(kinds, ", ")
				want := "call dispatcher>dispatcher/subprog1, freplace dispatcher/subprog1>acl, call acl>acl/acl_algo, "
				if c.allowed {
					want += "tail_call acl/acl_algo>acl_algo, "
				} else {
					want += "tail_call_miss acl/acl_algo>, "
				}
				want += "call dispatcher>dispatcher/subprog2"
				if flow != want {
					t.Errorf("flow:\n got %s\nwant %s", flow, want)
				}
				if c.allowed && tccAtTail != 1 {
					t.Errorf("TCC before the tail call: %d, want 1", tccAtTail)
				}
				if c.allowed && r.TailCalls != 1 || !c.allowed && r.TailCalls != 0 {
					t.Errorf("%d tail calls", r.TailCalls)
				}
			})
		}
	}
}

// TestCompatProfiles: v5.15 and v6.6 are offered, labelled, compile with
// their base's JIT, and pick their own prog array rules.
func TestCompatProfiles(t *testing.T) {
	for _, arch := range DefaultArches {
		names := ProfileNames(arch)
		for _, n := range []string{"v5.15", "v6.6"} {
			p, err := LookupProfile(arch, n)
			if err != nil {
				t.Fatal(err)
			}
			note, ok := CompatOnly(p)
			if !ok || !strings.Contains(note, "compatibility model only") || !strings.Contains(p.Summary, "compatibility model only") {
				t.Errorf("%s %s: note %q, summary %q", arch, n, note, p.Summary)
			}
			found := false
			for _, m := range names {
				found = found || m == n
			}
			if !found {
				t.Errorf("%s profiles %v lack %s", arch, names, n)
			}
			k, why := CompatKernelFor(p)
			if k == nil || "v"+k.Name != n || why != "prog array rules of "+k.Name {
				t.Errorf("%s %s plays %v (%s)", arch, n, k, why)
			}
		}
		// The default stays the newest modelled kernel.
		def, err := (&Target{Set: &kernel.Set{}}).PickProfile(arch, "")
		if err != nil || def.Name != "v6.18" {
			t.Errorf("%s default profile %v %v", arch, def, err)
		}
		if _, ok := CompatOnly(def); ok {
			t.Errorf("%s default is a compatibility profile", arch)
		}
		p618, _ := LookupProfile(arch, "v6.18")
		if k, why := CompatKernelFor(p618); k == nil || k.Name != "6.12" || !strings.Contains(why, "nearest modelled kernel") {
			t.Errorf("%s v6.18 plays %v (%s)", arch, k, why)
		}
	}
	if p, err := LookupProfile(kernel.X86_64, "v6.66"); err == nil || !strings.Contains(err.Error(), "v5.15") {
		t.Errorf("unknown profile: %v %v", p, err)
	}
}

// TestRunConfig: the entry, packet and slots of a session's runs.
func TestRunConfig(t *testing.T) {
	s, err := Load("packet-parser", Options{Arches: []kernel.Arch{kernel.X86_64}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"": 80, "tcp": 80, "udp": 53, "icmp": 0, "arp": 0}
	for pk, rv := range want {
		if _, err := s.SetRunConfig(RunConfig{Packet: pk}); err != nil {
			t.Fatal(err)
		}
		r := s.Run(s.Listings[0])
		if r.Err != nil || r.Retval != rv {
			t.Errorf("packet %q: retval %d (%v), want %d", pk, r.Retval, r.Err, rv)
		}
	}
	if _, err := s.SetRunConfig(RunConfig{Packet: "nope"}); err == nil {
		t.Error("unknown packet accepted")
	}
	if _, err := s.SetRunConfig(RunConfig{Entry: "nope"}); err == nil {
		t.Error("unknown entry accepted")
	}
	// Slots recompile: emptying the TCP slot makes a TCP packet unknown.
	re, err := s.SetRunConfig(RunConfig{Packet: "tcp", Slots: []string{"ipproto_jmp_table[6]="}})
	if err != nil || !re {
		t.Fatalf("slots: recompiled %v, %v", re, err)
	}
	if r := s.Run(s.Listings[0]); r.Retval != 0 || r.TailCalls != 0 {
		t.Errorf("tcp with its slot empty: retval %d, %d tail calls", r.Retval, r.TailCalls)
	}
	if re, err := s.SetRunConfig(RunConfig{Packet: "tcp"}); err != nil || !re {
		t.Fatalf("slots back: %v %v", re, err)
	}
	if r := s.Run(s.Listings[0]); r.Retval != 80 {
		t.Errorf("tcp with the slots as loaded: retval %d", r.Retval)
	}
	if _, err := s.SetRunConfig(RunConfig{Slots: []string{"ipproto_jmp_table[999]=parse_tcp"}}); err == nil {
		t.Error("out-of-range slot accepted")
	}
}

// TestCompatProfilesRunLikeTheirBase: v5.15 and v6.6 express every
// built-in scenario as the JIT they borrow does (v5.10's, v6.1's with cpu
// v4): same refusals, return values, tail calls and events. The freplace
// scenarios differ on purpose (the prog array rules are the kernel's) and
// are checked in TestFreplaceRuns and TestFreplaceSelftests; the
// hierarchy selftests that explode
// before 6.11 run to the step limit on both and are left out for time.
func TestCompatProfilesRunLikeTheirBase(t *testing.T) {
	pairs := [][2]string{{"v5.15", "v5.10"}, {"v6.6", "v6.1"}}
	for _, b := range scenarios.Builtins() {
		if strings.Contains(b.Name, "freplace") || b.Name == "selftest-hierarchy1" || b.Name == "selftest-hierarchy3" {
			continue
		}
		for _, arch := range DefaultArches {
			for _, pr := range pairs {
				run := func(prof string) (*Listing, *Run) {
					s, err := Load(b.Name, Options{Arches: []kernel.Arch{arch}, Profiles: map[kernel.Arch]string{arch: prof}})
					if err != nil {
						t.Fatal(err)
					}
					l := s.Listings[0]
					if l.Err != nil {
						return l, nil
					}
					return l, s.Run(l)
				}
				cl, cr := run(pr[0])
				bl, br := run(pr[1])
				what := fmt.Sprintf("%s %s %s vs %s", b.Name, arch, pr[0], pr[1])
				if (cl.Err == nil) != (bl.Err == nil) {
					t.Errorf("%s: compile %v vs %v", what, cl.Err, bl.Err)
					continue
				}
				if cr == nil {
					continue
				}
				if cr.Retval != br.Retval || cr.TailCalls != br.TailCalls || (cr.Err == nil) != (br.Err == nil) || len(cr.Events()) != len(br.Events()) {
					t.Errorf("%s: retval %d/%d, tail calls %d/%d, err %v/%v, %d/%d events", what,
						cr.Retval, br.Retval, cr.TailCalls, br.TailCalls, cr.Err, br.Err, len(cr.Events()), len(br.Events()))
				}
			}
		}
	}
}

// TestFreplaceSelftests: the selftests tailcall_freplace and
// tailcall_bpf2bpf_freplace per kernel. The first puts the extension into
// its own prog array (6.12: -EINVAL), the second the extended program
// (6.12: -EBUSY; 5.15: -EINVAL, owner type EXT); where a kernel allows it
// the first tail-calls itself to the limit (count 34) and the second
// loops until the stack overflows.
func TestFreplaceSelftests(t *testing.T) {
	cases := []struct {
		scenario, profile string
		rule, errno       string // "" errno: allowed
		retval            uint64
		overflow          bool
	}{
		{"selftest-tailcall-freplace", "v5.15", "owner-match", "", 34, false},
		{"selftest-tailcall-freplace", "v6.6", "owner-match", "", 34, false},
		{"selftest-tailcall-freplace", "v6.18", "ext-refused", "-EINVAL", 1, false},
		{"selftest-bpf2bpf-freplace", "v5.15", "owner-type", "-EINVAL", 1, false},
		{"selftest-bpf2bpf-freplace", "v6.6", "owner-match", "", 0, true},
		{"selftest-bpf2bpf-freplace", "v6.18", "extended", "-EBUSY", 1, false},
	}
	for _, c := range cases {
		for _, arch := range DefaultArches {
			t.Run(fmt.Sprintf("%s/%s/%s", c.scenario, arch, c.profile), func(t *testing.T) {
				s, err := Load(c.scenario, Options{Arches: []kernel.Arch{arch}, Profiles: map[kernel.Arch]string{arch: c.profile}})
				if err != nil {
					t.Fatal(err)
				}
				if s.Listings[0].Err != nil {
					t.Fatal(s.Listings[0].Err)
				}
				r := s.Run(s.Listings[0])
				var upd, att *trace.Event
				for i := range r.Events() {
					switch e := &r.Events()[i]; e.Kind {
					case trace.MapUpdate:
						upd = e
					case trace.Attach:
						att = e
					}
				}
				if upd == nil || att == nil {
					t.Fatalf("events %+v", r.Events())
				}
				if !strings.Contains(upd.Detail, "rule "+c.rule) || (c.errno == "") != strings.Contains(upd.Detail, ": allowed (") ||
					c.errno != "" && !strings.Contains(upd.Detail, "REFUSED "+c.errno) {
					t.Errorf("update: %s; want rule %s %s", upd.Detail, c.rule, c.errno)
				}
				if arch == kernel.ARM64 && c.profile == "v5.15" {
					// No bpf_arch_text_poke before 6.0: not attached,
					// entry_tc runs its own subprog_tc.
					if !strings.Contains(att.Detail, "REFUSED -ENOTSUPP") || r.Err != nil || r.Retval != 1 {
						t.Errorf("arm64 5.15: %s; retval %d, %v", att.Detail, r.Retval, r.Err)
					}
					return
				}
				if c.overflow {
					if r.Err == nil || !strings.Contains(r.Err.Error(), "unmapped") || r.TailCalls <= 33 {
						t.Errorf("want the loop to overflow the stack: %v, %d tail calls", r.Err, r.TailCalls)
					}
					return
				}
				if r.Err != nil || r.Retval != c.retval {
					t.Errorf("retval %d (%v), want %d", r.Retval, r.Err, c.retval)
				}
			})
		}
	}
}
