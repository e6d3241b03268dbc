// SPDX-License-Identifier: GPL-2.0-only

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
	"github.com/jitscope/jitscope/session"
)

func TestShowSource(t *testing.T) {
	for _, in := range scenarios.Builtins() {
		out, errOut, st := runCLI(t, "show", in.Name)
		if st != 0 {
			t.Fatalf("show %s: status %d: %s", in.Name, st, errOut)
		}
		want, err := scenarios.Show(in.Name)
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("show %s is not scenarios.Show's text", in.Name)
		}
	}
	// What show prints can be saved, edited and run.
	out, _, _ := runCLI(t, "show", "tailcall-limit")
	f := filepath.Join(t.TempDir(), "limit.scn")
	if err := os.WriteFile(f, []byte(strings.Replace(out, `entries = { "0" = "hop_0", "1" = "hop_1", "2" = "hop_2" }`, `entries = { "0" = "hop_0" }`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runJSON(t, "run", f, "--arch", "x86_64")
	if res.Retval != 1 || res.TailCalls != 1 {
		t.Errorf("edited tailcall-limit: retval %d, %d tail calls; want 1, 1 (hop_0 finds slot 1 empty)", res.Retval, res.TailCalls)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "nope"}, "jitscope: nope: not a built-in scenario (see `jitscope list`)\n"},
		{[]string{"show"}, "jitscope: show takes one NAME, got 0 (see `jitscope help`)\n"},
		{[]string{"show", "x", "--tour", "--compat"}, "jitscope: show: give one of --tour, --compat and --packets (see `jitscope help`)\n"},
		{[]string{"show", "x", "--kernel", "6.6"}, "jitscope: show: --kernel goes with --compat (see `jitscope help`)\n"},
		{[]string{"show", "freplace-tailcall", "--compat", "--kernel", "4.19"}, "jitscope: show: no compatibility model for kernel \"4.19\" (have 5.15, 6.6, 6.12, 6.12.117) (see `jitscope help`)\n"},
		{[]string{"show", "x", "--format", "yaml"}, "jitscope: show: --format must be text or json, not \"yaml\" (see `jitscope help`)\n"},
	} {
		_, errOut, st := runCLI(t, c.args...)
		if st != 1 || errOut != c.want {
			t.Errorf("%v: status %d, stderr %q; want 1, %q", c.args, st, errOut, c.want)
		}
	}
	if out, _, st := runCLI(t, "help"); st != 0 || !strings.Contains(out, "jitscope show NAME") || !strings.Contains(out, "--packet NAME|0xHEX") || !strings.Contains(out, "--compat") {
		t.Errorf("usage text lacks show/--packet/--compat:\n%s", out)
	}
}

func TestShowPackets(t *testing.T) {
	out, errOut, st := runCLI(t, "show", "packet-parser", "--packets")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	for _, want := range []string{"tcp (default): 64 bytes\n", "udp: 64 bytes\n", "  0010  00 20 00 00 40 00 40 11", "arp: 64 bytes\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("show --packets lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCLI(t, "show", "bpf2bpf-tailcall", "--packets")
	if !strings.Contains(out, "names no packets") {
		t.Errorf("bpf2bpf-tailcall packets: %s", out)
	}
}

func runJSON(t *testing.T, args ...string) *runResult {
	t.Helper()
	out, errOut, st := runCLI(t, append(args, "--format", "json")...)
	if st != 0 {
		t.Fatalf("%v: status %d: %s", args, st, errOut)
	}
	var r runResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return &r
}

// TestSeed002Runs runs the dispatch scenarios of seed 002 and the limit
// on every profile (compatibility profiles included), with each of their
// packets.
func TestSeed002Runs(t *testing.T) {
	cases := []struct {
		scenario, packet string
		retval           uint64
		tailCalls        int
		to               string // where the tail call goes
		miss             string // tail_call_miss detail, if any
	}{
		{"syscall-dispatch", "", 13, 1, "sys_write_event", ""},
		{"syscall-dispatch", "write", 13, 1, "sys_write_event", ""},
		{"syscall-dispatch", "read", 4096, 1, "sys_read_event", ""},
		{"syscall-dispatch", "getpid", 0, 0, "", "empty"},
		{"syscall-dispatch", "bogus", 0, 0, "", "index"},
		{"packet-parser", "", 80, 1, "parse_tcp", ""},
		{"packet-parser", "udp", 53, 1, "parse_udp", ""},
		{"packet-parser", "icmp", 0, 0, "", "empty"},
		{"packet-parser", "arp", 0, 0, "", ""},
		// Every version allows 33 tail calls: 5.10 (MAX 32, checked with >)
		// as well as 5.17+ (MAX 33, checked with >=).
		{"tailcall-limit", "", 33, 33, "hop_2", "limit"},
	}
	for _, arch := range jit.Arches() {
		for _, p := range session.Profiles(arch) { // the compatibility profiles too
			for _, c := range cases {
				name := fmt.Sprintf("%s/%s/%s/%s", arch, p.Name, c.scenario, c.packet)
				args := []string{"run", c.scenario, "--arch", string(arch), "--profile", p.Name}
				if c.packet != "" {
					args = append(args, "--packet", c.packet)
				}
				r := runJSON(t, args...)
				if r.Error != "" || r.Retval != c.retval || r.TailCalls != c.tailCalls {
					t.Errorf("%s: retval %d, %d tail calls (%s); want %d, %d", name, r.Retval, r.TailCalls, r.Error, c.retval, c.tailCalls)
				}
				var to, miss string
				for _, e := range r.Events {
					switch e.Kind {
					case trace.TailCall:
						to = e.To
					case trace.TailCallMiss:
						miss = e.Detail
					}
				}
				if to != c.to || miss != c.miss {
					t.Errorf("%s: last tail call to %q, miss %q; want %q, %q", name, to, miss, c.to, c.miss)
				}
			}
		}
	}
}

func TestRunPacketFlag(t *testing.T) {
	// A packet given as bytes: nr 0 (read) with args[2] = 5.
	pkt := "0x00000000" + "3e0000c0" + strings.Repeat("00", 8) + strings.Repeat("00", 16) + "0500000000000000"
	r := runJSON(t, "run", "syscall-dispatch", "--arch", "arm64", "--packet", pkt)
	if r.Retval != 5 || r.TailCalls != 1 {
		t.Errorf("hex packet: retval %d, %d tail calls; want 5, 1", r.Retval, r.TailCalls)
	}
	// Scenarios without packets run on the emulator's default frame.
	if r := runJSON(t, "run", "bpf2bpf-tailcall"); r.Retval != 0 || r.TailCalls != 1 {
		t.Errorf("bpf2bpf-tailcall: %d, %d", r.Retval, r.TailCalls)
	}
	for _, c := range []struct{ args, want string }{
		{"run syscall-dispatch --packet nope", `jitscope: syscall-dispatch: no packet "nope" (packets: write, read, getpid, bogus)`},
		{"run bpf2bpf-tailcall --packet tcp", `jitscope: bpf2bpf-tailcall: no packet "tcp": the scenario names no packets`},
		{"run bpf2bpf-tailcall --packet 0x1", "jitscope: --packet 0x1: want an even number of hex digits, at most 3840 bytes"},
	} {
		_, errOut, st := runCLI(t, strings.Fields(c.args)...)
		if st != 1 || strings.TrimSpace(errOut) != c.want {
			t.Errorf("%s: status %d, %q; want %q", c.args, st, errOut, c.want)
		}
	}
}

// The freplace scenarios of seed 004 run end to end: the kernel's answer
// to the slot update (per profile: its kernel's prog array rules), then
// dispatcher through subprog1's patched entry into acl, whose acl_algo
// subprogram tail-calls the program acl_algo where the update was allowed
// and misses on the empty slot where it was refused. arm64 before 6.0
// cannot express acl (no tail calls in programs with bpf-to-bpf calls).
func TestSeed004Runs(t *testing.T) {
	allowed := map[string]map[string]bool{
		"freplace-tailcall":     {"5.15": true, "6.6": true, "6.12": false},
		"freplace-tailcall-xdp": {"5.15": false, "6.6": true, "6.12": true},
	}
	for name, want := range allowed {
		for _, arch := range jit.Arches() {
			for _, p := range session.Profiles(arch) {
				what := fmt.Sprintf("%s %s %s", name, arch, p.Name)
				args := []string{"run", name, "--arch", string(arch), "--profile", p.Name}
				if arch == kernel.ARM64 && !p.SubprogTailCalls {
					_, errOut, st := runCLI(t, args...)
					if st != 1 || !strings.Contains(errOut, "tail_calls are not allowed in programs with bpf-to-bpf calls") {
						t.Errorf("%s: status %d: %s", what, st, errOut)
					}
					continue
				}
				r := runJSON(t, args...)
				k, _ := session.CompatKernelFor(p)
				if k == nil {
					if !p.Counterexample {
						t.Errorf("%s: no compatibility kernel", what)
					}
					continue
				}
				ok := want[k.Name]
				var upd, att, fr, tc *trace.Event
				for i := range r.Events {
					switch e := &r.Events[i]; e.Kind {
					case trace.MapUpdate:
						upd = e
					case trace.Attach:
						att = e
					case trace.Freplace:
						fr = e
					case trace.TailCall:
						tc = e
					}
				}
				if r.Retval != 2 || r.Error != "" {
					t.Errorf("%s: retval %d (%s)", what, r.Retval, r.Error)
				}
				if upd == nil || att == nil {
					t.Fatalf("%s: events %+v", what, r.Events)
				}
				if arch == kernel.ARM64 && !p.PatchableEntry {
					// No bpf_arch_text_poke on arm64 before 6.0: the link
					// fails and dispatcher runs its own subprog1.
					if !strings.Contains(att.Detail, "REFUSED -ENOTSUPP") || fr != nil || r.TailCalls != 0 {
						t.Errorf("%s: attach %s, freplace %+v, %d tail calls", what, att.Detail, fr, r.TailCalls)
					}
					continue
				}
				if fr == nil {
					t.Fatalf("%s: no freplace event: %+v", what, r.Events)
				}
				if got := !strings.Contains(upd.Detail, "REFUSED"); got != ok {
					t.Errorf("%s (rules of %s): update %s, want allowed %v", what, k.Name, upd.Detail, ok)
				}
				if !ok && !strings.Contains(upd.Detail, "-EINVAL") {
					t.Errorf("%s: refusal without its errno: %s", what, upd.Detail)
				}
				if fr.From != "dispatcher/subprog1" || fr.To != "acl" {
					t.Errorf("%s: freplace %s -> %s", what, fr.From, fr.To)
				}
				if ok && (r.TailCalls != 1 || tc == nil || tc.From != "acl/acl_algo" || tc.To != "acl_algo") {
					t.Errorf("%s: %d tail calls, last %+v; want acl/acl_algo -> acl_algo", what, r.TailCalls, tc)
				}
				if !ok && r.TailCalls != 0 {
					t.Errorf("%s: %d tail calls into a slot the kernel refused", what, r.TailCalls)
				}
			}
		}
	}
	// The text says it, with the compatibility note.
	out, _, st := runCLI(t, "run", "freplace-tailcall", "--arch", "x86_64", "--profile", "v6.6")
	for _, w := range []string{"note: x86_64 v6.6: compatibility model only", "setup: prog array rules of 6.6",
		"attach      6.6 attach acl: ok", "map_update  6.6 update acl_progs[1] = acl_algo: allowed (rule owner-match)",
		"freplace    dispatcher/subprog1 is replaced by acl", "tail_call   tail call: acl/acl_algo -> acl_algo"} {
		if st != 0 || !strings.Contains(out, w) {
			t.Errorf("run --profile v6.6: status %d, no %q in\n%s", st, w, out)
		}
	}
	out, _, _ = runCLI(t, "run", "freplace-tailcall", "--arch", "x86_64", "--profile", "v6.18")
	if !strings.Contains(out, "REFUSED -EINVAL (rule ext-refused): prog_fd_array_get_ptr: acl_algo is BPF_PROG_TYPE_EXT") {
		t.Errorf("run --profile v6.18: no refusal in\n%s", out)
	}
}

// TestTours walks every tour of every built-in scenario: each stop's
// function exists in its architecture's image and its offset is within the
// function and on an instruction boundary; each step or event exists in the
// run; and the stops the seed stories depend on land where they say.
func TestTours(t *testing.T) {
	total := 0
	for _, in := range scenarios.Builtins() {
		sc, err := scenarios.BuiltinScenario(in.Name)
		if err != nil {
			t.Fatal(err)
		}
		stops, err := resolveTour(in.Name)
		if err != nil {
			t.Fatalf("%s: %v", in.Name, err)
		}
		if len(stops) != len(sc.Tour) {
			t.Fatalf("%s: %d stops resolved of %d", in.Name, len(stops), len(sc.Tour))
		}
		for i, s := range stops {
			total++
			if s.Error != "" {
				t.Errorf("%s: stop %d (%s) does not resolve: %s", in.Name, i+1, s.Where, s.Error)
				continue
			}
			if s.Function == "" || s.Insn == "" || s.Address == "" {
				t.Errorf("%s: stop %d resolved to %+v", in.Name, i+1, s)
			}
			st := sc.Tour[i]
			if st.Position() == "function" && (s.Offset != st.Offset || !strings.HasSuffix(s.Function, "/"+st.Function) && s.Function != st.Function) {
				t.Errorf("%s: stop %d at %s+%#x, want %s+%#x", in.Name, i+1, s.Function, s.Offset, st.Function, st.Offset)
			}
			if st.NeedsRun() && s.Step == nil {
				t.Errorf("%s: stop %d has no step", in.Name, i+1)
			}
		}
	}
	if total < 30 {
		t.Errorf("only %d tour stops in all", total)
	}
	// Seed 000's story, stop by stop.
	want := []string{
		"entry/entry+0x0 paciasp",
		"entry/entry+0x20 mov x26, #0x0",
		"entry/entry+0x24 bti j",
		"entry/entry+0x48 blr x10",
		"entry/subprog_tail+0x1c mov x25, sp",
		"entry/subprog_tail+0x64 mov w10, #0x21",
		"entry/subprog_tail+0x98 br x10",
		"classifier_0/classifier_0+0x24 bti j",
		"entry/entry+0x4c add x7, x0, #0x0",
	}
	checkStops(t, "bpf2bpf-tailcall", want)
	checkStops(t, "direct-tailcall-poke", []string{
		"prog/prog+0x0 nopl 0x0(%rax,%rax,1)",
		"prog/prog+0x37 jmpq 0xffffffffc0513ab4",
		"prog/prog+0x45 nopl 0x0(%rax,%rax,1)",
		"prog/prog+0x4a mov %rbx,%rdi",
		"prog/prog+0x37 nopl 0x0(%rax,%rax,1)",
		"target/target+0xb sub $0x0,%rsp",
	})
	checkStops(t, "tailcall-limit", []string{
		"hop_0/hop_0+0x34 mov w11, #0x3",
		"hop_0/hop_0+0x60 ldr x12, [x26]",
		"hop_0/hop_0+0x1c mov x1, #0xffff000000000000",
		"hop_2/hop_2+0x1c mov x1, #0xffff000000000000",
		"hop_2/hop_2+0x98 mov x0, #0xffff000000000000",
		"hop_2/hop_2+0xb8 ret",
	})
}

func checkStops(t *testing.T, name string, want []string) {
	t.Helper()
	stops, err := resolveTour(name)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range stops {
		got = append(got, fmt.Sprintf("%s+%#x %s", s.Function, s.Offset, s.Insn))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s tour:\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Stops that do not resolve say why, and show --tour fails on them.
func TestTourDoesNotResolve(t *testing.T) {
	dir := t.TempDir()
	src, err := scenarios.Show("tailcall-limit")
	if err != nil {
		t.Fatal(err)
	}
	base := string(src[:strings.Index(string(src), "# The guided tour")])
	stop := func(body string) string {
		f := filepath.Join(dir, fmt.Sprintf("s%d.scn", len(body)))
		if err := os.WriteFile(f, []byte(base+"[[tour]]\narch = \"arm64\"\nprofile = \"v6.18\"\ntext = \"x\"\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, c := range []struct{ body, want string }{
		{"function = \"hop_0\"\noffset = 0x2\n", "is inside an instruction, not at its start"},
		{"function = \"hop_0\"\noffset = 0x1000\n", "offset 0x1000 is past the end of hop_0"},
		{"step = \"tail_call#34\"\n", "the run has 33 tail_call event(s), not 34"},
		{"step = 5000\n", "step 5000 is past the end of the run (1057 steps)"},
		{"step = \"poke\"\n", "the run has 0 poke event(s), not 1"},
		{"address = \"0x10\"\n", "0x10 is not in any function's image"},
	} {
		f := stop(c.body)
		out, errOut, st := runCLI(t, "show", f, "--tour")
		if st != 1 || !strings.Contains(errOut, ":"+fmt.Sprint(strings.Count(base, "\n")+1)+": tour stop 1 does not resolve: ") || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: status %d, stderr %q; want %q", c.body, st, errOut, c.want)
		}
		if !strings.Contains(out, "DOES NOT RESOLVE: ") {
			t.Errorf("%q: output lacks the failure:\n%s", c.body, out)
		}
	}
	f := stop("function = \"hop_1\"\noffset = 0x60\n")
	out, _, st := runCLI(t, "show", f, "--tour", "--format", "json")
	var stops []tourStop
	if st != 0 || json.Unmarshal([]byte(out), &stops) != nil || len(stops) != 1 || stops[0].Insn != "ldr x12, [x26]" || stops[0].Profile != "v6.18" {
		t.Errorf("json tour: status %d: %s", st, out)
	}
}

// TestCompatCommand is seed 004's table as `jitscope show --compat`
// prints it, each refusal with its rule and values.
func TestCompatCommand(t *testing.T) {
	out, errOut, st := runCLI(t, "show", "freplace-tailcall", "--compat")
	if st != 0 {
		t.Fatalf("status %d: %s", st, errOut)
	}
	for _, want := range []string{
		"5.15: v5.15 (mainline tag), bpf_prog_array_compatible\n  (no JIT profile models this kernel's machine code: compatibility model only; run it with the compatibility profiles arm64 v5.15, x86_64 v5.15)\n",
		"  load acl: ok: loaded as an extension of dispatcher/subprog1; acl_progs has no owner yet: acl claims it with type BPF_PROG_TYPE_EXT, jited 1",
		"  update acl_progs[1] = acl_algo: allowed: type BPF_PROG_TYPE_EXT == owner.type BPF_PROG_TYPE_EXT, jited 1 == 1 (owner claimed by acl)",
		"  update acl_progs[1] = acl_algo: allowed: type BPF_PROG_TYPE_XDP == owner.type BPF_PROG_TYPE_XDP, jited 1 == 1, xdp_has_frags 0 == 0 (owner claimed by acl); resolve_prog_type(acl_algo) = BPF_PROG_TYPE_XDP",
		"  update acl_progs[1] = acl_algo: REFUSED -EINVAL: prog_fd_array_get_ptr: acl_algo is BPF_PROG_TYPE_EXT, which cannot be added to a prog array (6.12+)\n",
		"slot update              5.15     6.6      6.12     6.12.117\nacl_progs[1] = acl_algo  allowed  allowed  -EINVAL  -EINVAL\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show --compat lacks\n%s\nin\n%s", want, out)
		}
	}
	out, _, _ = runCLI(t, "show", "freplace-tailcall-xdp", "--compat")
	for _, want := range []string{
		"  update acl_progs[1] = acl_algo: REFUSED -EINVAL: bpf_prog_array_compatible: type BPF_PROG_TYPE_XDP != owner.type BPF_PROG_TYPE_EXT (owner claimed by acl)\n",
		"acl_progs[1] = acl_algo  -EINVAL  allowed  allowed  allowed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("xdp variant lacks\n%s\nin\n%s", want, out)
		}
	}
	// JSON, one kernel.
	out, _, st = runCLI(t, "show", "freplace-tailcall", "--compat", "--kernel", "6.12", "--format", "json")
	var res compatResultJSON
	if st != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("json: status %d: %s", st, out)
	}
	if len(res.Kernels) != 1 || res.Kernels[0].Kernel != "6.12" || len(res.Kernels[0].Sources) == 0 {
		t.Fatalf("json kernels %+v", res.Kernels)
	}
	steps := res.Kernels[0].Steps
	last := steps[len(steps)-1]
	if len(steps) != 5 || last.Action != "update" || last.Map != "acl_progs" || last.Key == nil || *last.Key != 1 ||
		last.OK || last.Errno != "-EINVAL" || last.Rule != "ext-refused" {
		t.Errorf("json steps %+v", steps)
	}
	if steps[1].Prog != "acl" || len(steps[1].Claimed) != 1 || steps[1].Claimed[0] != "acl_progs" {
		t.Errorf("acl's load step %+v", steps[1])
	}
	// Scenarios without extensions are compatible everywhere.
	out, _, _ = runCLI(t, "show", "syscall-dispatch", "--compat")
	if !strings.Contains(out, "syscall_jmp_table[1] = sys_write_event  allowed  allowed  allowed  allowed\n") {
		t.Errorf("syscall-dispatch compat:\n%s", out)
	}
}

// `jitscope list` offers the compatibility profiles and says what they are.
func TestListCompatProfiles(t *testing.T) {
	out, _, st := runCLI(t, "list")
	if st != 0 {
		t.Fatalf("status %d", st)
	}
	for _, arch := range []string{"arm64", "x86_64"} {
		for _, name := range []string{"v5.15", "v6.6"} {
			found := false
			for _, l := range strings.Split(out, "\n") {
				f := strings.Fields(l)
				if len(f) > 2 && f[0] == arch && f[1] == name {
					found = true
					if !strings.Contains(l, "compatibility model only: JIT output not modelled instruction-exactly") {
						t.Errorf("%s %s: %q", arch, name, l)
					}
				}
			}
			if !found {
				t.Errorf("list has no %s %s", arch, name)
			}
		}
	}
	if !strings.Contains(out, "selftest-tailcall5") || !strings.Contains(out, "selftest-bpf2bpf5") {
		t.Error("list lacks the tailcall5 / bpf2bpf5 selftests")
	}
}
