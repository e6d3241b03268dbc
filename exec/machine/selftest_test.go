// SPDX-License-Identifier: GPL-2.0-only

package machine_test

// The kernel selftests' tail call programs (built-in scenarios
// selftest-*, hand translations of tools/testing/selftests/bpf/progs/
// tailcall*.c) run on the emulators for every architecture and JIT
// profile, checked against what prog_tests/tailcalls.c asserts or, where a
// kernel version did otherwise, what that version really did: the
// "tailcall hierarchy" programs count 34 (33 tail calls in all) only with
// the 6.11 fix and explode into a binary tree of tail calls before it.

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// stMachine is one built-in scenario JITed for one profile and laid out in
// an emulated kernel, run the way `jitscope run` runs it (cli/run.go).
type stMachine struct {
	t      *testing.T
	name   string
	arch   kernel.Arch
	prof   *jit.Profile
	set    *kernel.Set
	k      *machine.Kernel
	r      *machine.Runner
	thunks map[uint64]string
}

// stLoad JITs every program of scenario name (jit.Compile after
// kernel.Load, as cli's compileAll) and builds the kernel. A JIT refusal
// is returned, not fatal: arm64 5.10 refuses some of these programs.
func stLoad(t *testing.T, name string, arch kernel.Arch, p *jit.Profile) (*stMachine, error) {
	t.Helper()
	set, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	if pl := set.Placements[arch]; pl != nil {
		p = p.WithConfig(pl.Config)
	}
	imgs := map[string]*jit.Image{}
	var list []*jit.Image
	for _, pr := range set.Programs {
		l, err := kernel.Load(set, pr.Name, arch, p.LoadOptions())
		if err != nil {
			t.Fatalf("%s: kernel.Load(%s): %v", name, pr.Name, err)
		}
		img, err := jit.Compile(l, p)
		if err != nil {
			return nil, err
		}
		imgs[pr.Name] = img
		list = append(list, img)
	}
	k, err := machine.New(set, arch, p.Layout, imgs, machine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := machine.NewRunner(k, p)
	if err != nil {
		t.Fatal(err)
	}
	return &stMachine{t: t, name: name, arch: arch, prof: p, set: set, k: k, r: r, thunks: stThunks(list)}, nil
}

// stThunks is cli's thunks: the kernel text the x86 images jump to
// (retpolines behave as "jmp *%reg", return thunks as "ret").
func stThunks(imgs []*jit.Image) map[uint64]string {
	t := map[uint64]string{}
	for _, img := range imgs {
		for _, f := range img.Funcs {
			for _, r := range f.Relocs {
				switch {
				case strings.HasPrefix(r.Name, "__x86_indirect_thunk_"):
					t[r.Target] = strings.TrimPrefix(r.Name, "__x86_indirect_thunk_")
				case strings.HasPrefix(r.Name, "__x86_indirect_its_thunk_"):
					t[r.Target] = strings.TrimPrefix(r.Name, "__x86_indirect_its_thunk_")
				case strings.Contains(r.Name, "return_thunk"):
					t[r.Target] = "ret"
				}
			}
		}
	}
	return t
}

// run runs the scenario's entry program on a fresh CPU (as each
// `jitscope run` and each --then run does).
func (m *stMachine) run(limit int) *machine.Run {
	m.t.Helper()
	cpu, err := machine.NewCPU(m.k, m.prof.BTI, m.prof.PAC, false)
	if err != nil {
		m.t.Fatal(err)
	}
	return m.r.Run(cpu, m.set.Programs[0].Name, machine.RunOptions{StepLimit: limit, Thunks: m.thunks})
}

// mustRun runs to completion and checks the return value.
func (m *stMachine) mustRun(what string, retval uint64) *machine.Run {
	m.t.Helper()
	run := m.run(0)
	if run.Err != nil {
		m.t.Fatalf("%s: %v", what, run.Err)
	}
	if run.Retval != retval {
		m.t.Errorf("%s: retval %d, want %d", what, run.Retval, retval)
	}
	return run
}

// global reads the u32 at off in the value of array map name (a global of
// .bss), from emulated memory at the map's ValueAddr.
func (m *stMachine) global(name string, off uint64) uint32 {
	m.t.Helper()
	v, err := m.k.Mem.Load(m.k.Maps[name].ValueAddr+off, 4)
	if err != nil {
		m.t.Fatal(err)
	}
	return uint32(v)
}

// setGlobal writes a global, as user space's bpf_map_update_elem on .bss.
func (m *stMachine) setGlobal(name string, off uint64, v uint32) {
	m.t.Helper()
	if err := m.k.Mem.Store(m.k.Maps[name].ValueAddr+off, 4, uint64(v)); err != nil {
		m.t.Fatal(err)
	}
}

// update fills (prog != "") or empties a prog array slot from user space,
// with the text pokes the kernel makes; it returns the poked site addresses.
func (m *stMachine) update(mapName string, key uint32, prog string) map[uint64]bool {
	m.t.Helper()
	pokes, err := m.k.UpdateProgArray(mapName, key, prog)
	if err != nil {
		m.t.Fatalf("%s[%d] = %q: %v", mapName, key, prog, err)
	}
	sites := map[uint64]bool{}
	for _, p := range pokes {
		if p.Step.Site == "tailcall_target" {
			sites[p.Step.Addr] = true
		}
	}
	return sites
}

// pokeDescriptors counts the direct tail call sites of a program's image.
func (m *stMachine) pokeDescriptors(prog string) int {
	n := 0
	for _, f := range m.k.Images[prog].Funcs {
		n += len(f.Pokes)
	}
	return n
}

func (m *stMachine) pktLen() uint64 { return uint64(len(m.k.Packet)) }

// tailCallSteps returns the indices of the steps at which the run entered
// a main function's tail call landing pad (FuncImage.TailCallEntry) other
// than by falling through from the instruction before it: the run's tail
// calls, found from the machine state alone. (The run loop's own
// TailCalls and tail_call events miss the tail calls that the x86-64 5.10
// JIT makes through its inline retpoline: see TestSelftestTailCallEvents.)
func (m *stMachine) tailCallSteps(run *machine.Run) []int {
	pads := map[uint64]bool{}
	for _, img := range m.k.Images {
		if f := img.Funcs[0]; f.TailCallEntry >= 0 {
			pads[f.Address+uint64(f.TailCallEntry)] = true
		}
	}
	var out []int
	for j := 1; j < len(run.Steps); j++ {
		prev := run.Steps[j-1]
		if pads[run.Steps[j].PC] && prev.PC+uint64(prev.Len) != run.Steps[j].PC {
			out = append(out, j)
		}
	}
	return out
}

// tailCalls is the number of tail calls the run made.
func (m *stMachine) tailCalls(run *machine.Run) int { return len(m.tailCallSteps(run)) }

// tailCallSeq is the run's tail calls and limit misses in order: "T" for a
// tail call taken, "L" for one stopped by the tail call limit.
func (m *stMachine) tailCallSeq(run *machine.Run) string {
	type ev struct {
		at int
		c  byte
	}
	var evs []ev
	for _, j := range m.tailCallSteps(run) {
		evs = append(evs, ev{j, 'T'})
	}
	for _, e := range run.Events {
		// e.Step is the number of steps run when the miss's branch
		// was taken: the index of the step after it.
		if e.Kind == trace.TailCallMiss && e.Detail == "limit" {
			evs = append(evs, ev{e.Step, 'L'})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	var sb strings.Builder
	for _, e := range evs {
		sb.WriteByte(e.c)
	}
	return sb.String()
}

func countEvents(run *machine.Run, kind trace.Kind, detail string) int {
	n := 0
	for _, e := range run.Events {
		if e.Kind == kind && (detail == "" || e.Detail == detail || e.To == detail) {
			n++
		}
	}
	return n
}

// hierarchyModel returns the first n tail call events ("T" taken, "L"
// stopped by the limit) of a program that, each time it runs, makes two
// bpf2bpf calls each of which tail-calls the program again, starting at
// count start. shared models the 6.11+ JITs: one counter per run, reached
// through a pointer. Otherwise each call passes the caller's count by
// value and the callee's increments never come back (x86-64 rax / the
// stack slot before 6.11, arm64 x26 before 6.11): a binary tree of depth
// 33 - start, explored depth first.
func hierarchyModel(shared bool, start, limit, n int) string {
	var sb strings.Builder
	cnt := start
	var visit func(d int)
	visit = func(d int) {
		for i := 0; i < 2 && sb.Len() < n; i++ {
			if shared {
				if cnt < limit {
					cnt++
					sb.WriteByte('T')
					visit(0)
				} else {
					sb.WriteByte('L')
				}
				continue
			}
			if d < limit {
				sb.WriteByte('T')
				visit(d + 1)
			} else {
				sb.WriteByte('L')
			}
		}
	}
	visit(start)
	return sb.String()
}

func TestHierarchyModel(t *testing.T) {
	// 6.11+: the first chain takes all 33 tail calls; then the deepest
	// run's two calls and every shallower run's second call miss.
	if got, want := hierarchyModel(true, 0, 33, 1000), strings.Repeat("T", 33)+strings.Repeat("L", 35); got != want {
		t.Errorf("shared model %q, want %q", got, want)
	}
	// Before: after the depth-33 run's two misses the depth-32 run's second
	// call still sees 32 and goes on.
	if got, want := hierarchyModel(false, 0, 33, 40), strings.Repeat("T", 33)+"LLTLLTT"; got != want {
		t.Errorf("by-value model %q, want %q", got, want)
	}
	// A small limit shows the whole tree: 2 + 4 = 6 tail calls, 8 misses.
	if got := hierarchyModel(false, 0, 2, 1000); got != "TTLLTLLTTLLTLL" {
		t.Errorf("by-value model with limit 2: %q", got)
	}
}

// fixedHierarchy reports whether a profile has the 6.11 "tailcall
// hierarchy" fix (a pointer to one counter per run).
func fixedHierarchy(p *jit.Profile) bool {
	// jit.Profile.TCCPtr says so for arm64 but is not set in the x86-64
	// v6.18 profile (whose JIT does emit the pointer design), so go by the
	// kernel version the profile models.
	return p.TCCPtr || strings.HasPrefix(p.Kernel, "6.18")
}

// countsOnlyPopulated reports whether the JIT increments the tail call
// count only when the slot holds a program (the 6.12 source: x86-64 "Inc
// tail_call_cnt if the slot is populated", arm64 "Update tail_call_cnt if
// the slot is populated", both with the 6.11 pointer design); up to 6.1 a
// tail call into an empty slot used up one of the 33.
func countsOnlyPopulated(p *jit.Profile) bool { return fixedHierarchy(p) }

// refusesSubprogTailCalls: arm64 before bpf_jit_supports_subprog_tailcalls
// (Linux 5.10): the verifier refuses tail calls in programs with
// bpf-to-bpf calls.
func refusesSubprogTailCalls(arch kernel.Arch, p *jit.Profile) bool {
	return arch == kernel.ARM64 && !p.SubprogTailCalls
}

type selftestCase struct {
	name string
	// subprogTailCalls: the scenario has a program with both bpf-to-bpf
	// calls and tail calls (refused by arm64 5.10).
	subprogTailCalls bool
	check            func(t *testing.T, m *stMachine)
}

var selftestCases = []selftestCase{
	{name: "selftest-tailcall1", check: checkTailcall1},
	{name: "selftest-tailcall2", check: checkTailcall2},
	{name: "selftest-tailcall3", check: func(t *testing.T, m *stMachine) {
		checkTailcallCount(t, m, true)
	}},
	{name: "selftest-tailcall4", check: checkTailcall4},
	{name: "selftest-tailcall5", check: checkTailcall5},
	{name: "selftest-tailcall6", check: func(t *testing.T, m *stMachine) {
		checkTailcallCount(t, m, false)
	}},
	{name: "selftest-bpf2bpf1", subprogTailCalls: true, check: checkBPF2BPF1},
	{name: "selftest-bpf2bpf2", subprogTailCalls: true, check: func(t *testing.T, m *stMachine) {
		checkTailcallCount(t, m, true)
	}},
	{name: "selftest-bpf2bpf3", subprogTailCalls: true, check: checkBPF2BPF3},
	{name: "selftest-bpf2bpf4", subprogTailCalls: true, check: checkBPF2BPF4},
	{name: "selftest-bpf2bpf5", subprogTailCalls: true, check: checkBPF2BPF5},
	{name: "selftest-bpf2bpf6", subprogTailCalls: true, check: checkBPF2BPF6},
	{name: "selftest-hierarchy1", subprogTailCalls: true, check: checkHierarchy1},
	{name: "selftest-hierarchy2", subprogTailCalls: true, check: checkHierarchy2},
	{name: "selftest-hierarchy3", subprogTailCalls: true, check: checkHierarchy3},
	{name: "selftest-tailcall-freplace", check: checkTailcallFreplace},
	{name: "selftest-bpf2bpf-freplace", check: checkBPF2BPFFreplace},
}

// TestSelftestScenarios runs every selftest scenario on every architecture
// and profile.
func TestSelftestScenarios(t *testing.T) {
	for _, c := range selftestCases {
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			for _, p := range jit.Profiles(arch) {
				if p.Counterexample {
					continue // not a kernel
				}
				t.Run(fmt.Sprintf("%s/%s/%s", c.name, arch, p.Name), func(t *testing.T) {
					m, err := stLoad(t, c.name, arch, p)
					if c.subprogTailCalls && refusesSubprogTailCalls(arch, p) {
						var je *jit.Error
						if err == nil || !errors.As(err, &je) ||
							!strings.Contains(err.Error(), "tail_calls are not allowed in programs with bpf-to-bpf calls") {
							t.Fatalf("arm64 %s loaded a program with tail calls and bpf-to-bpf calls (err %v); Linux 5.10 refuses it", p.Name, err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					c.check(t, m)
				})
			}
		}
	}
}

// Every built-in selftest scenario has a case here.
func TestSelftestScenariosCovered(t *testing.T) {
	have := map[string]bool{}
	for _, c := range selftestCases {
		have[c.name] = true
	}
	for _, in := range scenarios.Builtins() {
		if strings.HasPrefix(in.Name, "selftest-") && !have[in.Name] {
			t.Errorf("built-in %s has no selftest case", in.Name)
		}
	}
}

// checkTailcall1 follows test_tailcall_1.
func checkTailcall1(t *testing.T, m *stMachine) {
	// Four direct tail call sites per slot on x86-64 (one poke descriptor
	// each); arm64 always emits the indirect sequence.
	direct := m.arch == kernel.X86_64
	if n := m.pokeDescriptors("entry"); direct && n != 12 || !direct && n != 0 {
		t.Errorf("entry has %d poke descriptors", n)
	}
	checkSites := func(what string, sites map[uint64]bool) {
		t.Helper()
		if want := map[bool]int{true: 4, false: 0}[direct]; len(sites) != want {
			t.Errorf("%s: %d tailcall_target sites poked, want %d", what, len(sites), want)
		}
	}
	for i := uint32(0); i < 3; i++ {
		run := m.mustRun(fmt.Sprintf("slots %d.. filled", i), uint64(i))
		if m.tailCalls(run) != 1 {
			t.Errorf("slots %d..: %d tail calls", i, m.tailCalls(run))
		}
		checkSites(fmt.Sprintf("delete %d", i), m.update("jmp_table", i, ""))
	}
	if run := m.mustRun("all slots empty", 3); m.tailCalls(run) != 0 {
		t.Errorf("empty table: %d tail calls", m.tailCalls(run))
	}
	for i := uint32(0); i < 3; i++ {
		checkSites(fmt.Sprintf("refill %d", i), m.update("jmp_table", i, fmt.Sprintf("classifier_%d", i)))
	}
	m.mustRun("refilled", 0)
	// jmp -> jmp: slot i = classifier_{2-i}. Slot 1 keeps classifier_1:
	// __bpf_arch_text_poke finds the new jump already there and writes
	// nothing.
	for i := uint32(0); i < 3; i++ {
		sites := m.update("jmp_table", i, fmt.Sprintf("classifier_%d", 2-i))
		if i == 1 {
			if len(sites) != 0 {
				t.Errorf("slot 1 rewritten with the same program: %d sites poked", len(sites))
			}
			continue
		}
		checkSites(fmt.Sprintf("reverse %d", i), sites)
	}
	for i := uint32(0); i < 3; i++ {
		m.mustRun(fmt.Sprintf("reversed, slots %d.. filled", i), uint64(2-i))
		m.update("jmp_table", i, "")
	}
	m.mustRun("all slots empty again", 3)
	// nop -> nop: deleting an empty slot changes nothing.
	for i := uint32(0); i < 3; i++ {
		if sites := m.update("jmp_table", i, ""); len(sites) != 0 {
			t.Errorf("deleting empty slot %d poked %d sites", i, len(sites))
		}
		m.mustRun("empty slot deleted", 3)
	}
}

// checkTailcall2 follows test_tailcall_2.
func checkTailcall2(t *testing.T, m *stMachine) {
	if run := m.mustRun("all filled", 2); m.tailCalls(run) != 3 {
		t.Errorf("entry -> 0 -> 1 -> 2: %d tail calls, want 3", m.tailCalls(run))
	}
	m.update("jmp_table", 2, "")
	if run := m.mustRun("slot 2 deleted", 1); m.tailCalls(run) != 2 {
		t.Errorf("entry -> 0 -> 1: %d tail calls, want 2", m.tailCalls(run))
	}
	m.update("jmp_table", 0, "")
	run := m.mustRun("slots 0 and 2 deleted", 3)
	// entry -> 3 -> 4 -> ... until the limit stops a tail call of
	// classifier_3. Up to 6.1 every JIT counts a tail call before it
	// finds the slot empty, so entry's two misses use up two of the 33:
	// 31 tail calls. The 6.12 source counts only tail calls into a
	// populated slot ("Inc tail_call_cnt if the slot is populated"): 33.
	// Either way the count is odd and the last program is classifier_3.
	want := 31
	if countsOnlyPopulated(m.prof) {
		want = 33
	}
	if got := m.tailCalls(run); got != want {
		t.Errorf("3 <-> 4 ping-pong: %d tail calls, want %d", got, want)
	}
	if seq := m.tailCallSeq(run); seq != strings.Repeat("T", want)+"L" {
		t.Errorf("tail calls and limit misses %q", seq)
	}
}

// checkTailcallCount follows test_tailcall_count (tailcall3, tailcall6,
// bpf2bpf2): retval 1 and count == 33, then retval 0 with the slot
// deleted. direct says whether x86-64 uses a direct (poked) tail call.
func checkTailcallCount(t *testing.T, m *stMachine, direct bool) {
	const off = 0 // count is the first global of .bss
	n := m.pokeDescriptors("classifier_0")
	if want := 0; m.arch == kernel.X86_64 && direct {
		if n == 0 {
			t.Errorf("classifier_0 has no poke descriptor: want a direct tail call")
		}
	} else if n != want {
		t.Errorf("classifier_0 has %d poke descriptors, want an indirect tail call", n)
	}
	run := m.mustRun("slot 0 filled", 1)
	if c := m.global(".bss", off); c != 33 {
		t.Errorf("count = %d, want 33", c)
	}
	if m.tailCalls(run) != 33 {
		t.Errorf("%d tail calls, want 33", m.tailCalls(run))
	}
	if got := countEvents(run, trace.TailCallMiss, "limit"); got != 1 {
		t.Errorf("%d limit misses, want 1", got)
	}
	m.update("jmp_table", 0, "")
	m.mustRun("slot 0 deleted", 0)
	if c := m.global(".bss", off); c != 33 {
		t.Errorf("count = %d after a run with the slot empty, want 33 still", c)
	}
}

// checkTailcall4 follows test_tailcall_4.
func checkTailcall4(t *testing.T, m *stMachine) {
	if n := m.pokeDescriptors("entry"); n != 0 {
		t.Errorf("entry has %d poke descriptors: the key is not constant", n)
	}
	for i := uint32(0); i < 3; i++ {
		m.setGlobal(".bss", 0, i)
		m.mustRun(fmt.Sprintf("selector %d", i), uint64(i))
		m.update("jmp_table", i, "")
		m.mustRun(fmt.Sprintf("selector %d, slot deleted", i), 3)
	}
}

// checkTailcall5 follows test_tailcall_5: selector 1111, 1234, 5678 pick
// slots 0, 1, 2 through per-path constant keys; a deleted slot gives 3.
func checkTailcall5(t *testing.T, m *stMachine) {
	if n := m.pokeDescriptors("entry"); n != 0 {
		t.Errorf("entry has %d poke descriptors: the key differs per path, so the site must be indirect", n)
	}
	keys := []uint32{1111, 1234, 5678}
	for i, k := range keys {
		m.setGlobal(".bss", 0, k)
		if run := m.mustRun(fmt.Sprintf("selector %d", k), uint64(i)); m.tailCalls(run) != 1 {
			t.Errorf("selector %d: %d tail calls, want 1", k, m.tailCalls(run))
		}
	}
	for i, k := range keys {
		m.setGlobal(".bss", 0, k)
		m.update("jmp_table", uint32(i), "")
		if run := m.mustRun(fmt.Sprintf("selector %d, slot %d deleted", k, i), 3); m.tailCalls(run) != 0 {
			t.Errorf("selector %d, slot deleted: %d tail calls", k, m.tailCalls(run))
		}
	}
}

// checkBPF2BPF5 follows test_tailcall_bpf2bpf_4(true), the subtest
// tailcall_bpf2bpf_5: the scenario's .bss already has noise = 1.
func checkBPF2BPF5(t *testing.T, m *stMachine) {
	if n := m.global(".bss", 4); n != 1 {
		t.Fatalf("noise = %d as loaded, want 1", n)
	}
	run := m.mustRun("noise 1", 3*m.pktLen())
	if c := m.global(".bss", 0); c != 31 {
		t.Errorf("count = %d, want 31", c)
	}
	if m.tailCalls(run) != 33 {
		t.Errorf("%d tail calls, want 33", m.tailCalls(run))
	}
	if got := countEvents(run, trace.Helper, "bpf_map_lookup_elem"); got != 32 {
		t.Errorf("%d map lookups, want 32 (one per subprog_tail_2)", got)
	}
}

// attachFreplace attaches entry_freplace in place of entry_tc/subprog_tc
// where the profile's JIT can poke BPF text; false where it cannot (arm64
// before 6.0: -ENOTSUPP, and the selftest cannot run).
func (m *stMachine) attachFreplace() bool {
	m.t.Helper()
	_, err := m.k.AttachExtension(m.prof, "entry_freplace", "entry_tc", "subprog_tc")
	if errors.Is(err, machine.ErrNoTextPoke) {
		if m.arch != kernel.ARM64 || m.prof.PatchableEntry {
			m.t.Fatalf("%s %s refused the attachment: %v", m.arch, m.prof.Name, err)
		}
		return false
	}
	if err != nil {
		m.t.Fatal(err)
	}
	return true
}

// checkTailcallFreplace: without the extension entry_tc returns
// subprog_tc's 1; attached, with jmp_table[0] = entry_freplace (what
// kernels before 6.12 accept; session's tests check 6.12's -EINVAL),
// entry_freplace tail-calls itself until the limit: count = 34.
func checkTailcallFreplace(t *testing.T, m *stMachine) {
	if run := m.mustRun("not attached", 1); m.tailCalls(run) != 0 {
		t.Errorf("not attached: %d tail calls", m.tailCalls(run))
	}
	if !m.attachFreplace() {
		return
	}
	run := m.mustRun("attached, slot 0 = entry_freplace", 34)
	if m.tailCalls(run) != 33 || m.global(".bss", 0) != 34 {
		t.Errorf("%d tail calls, count %d; want 33, 34", m.tailCalls(run), m.global(".bss", 0))
	}
	m.update("jmp_table", 0, "")
	m.setGlobal(".bss", 0, 0)
	m.mustRun("attached, slot 0 empty", 1)
}

// checkBPF2BPFFreplace: with entry_freplace attached and jmp_table[0] =
// entry_tc (what 6.6 accepts; 6.12 answers -EBUSY, 5.15 -EINVAL: session's
// tests), every round enters the extension by a call that restarts the
// tail call count, so the limit never ends the loop: the kernel stack
// overflows. With the slot empty entry_tc returns count = 1.
func checkBPF2BPFFreplace(t *testing.T, m *stMachine) {
	if !m.attachFreplace() {
		return
	}
	run := m.run(0)
	if run.Err == nil || !strings.Contains(run.Err.Error(), "unmapped") {
		t.Fatalf("the loop ended: %v, retval %d", run.Err, run.Retval)
	}
	if n := m.tailCalls(run); n <= 33 {
		t.Errorf("%d tail calls: the limit stopped the loop", n)
	}
	m.update("jmp_table", 0, "")
	m.setGlobal(".bss", 0, 0)
	m.mustRun("slot 0 empty", 1)
}

// checkBPF2BPF1 follows test_tailcall_bpf2bpf_1.
func checkBPF2BPF1(t *testing.T, m *stMachine) {
	m.mustRun("both slots", 1)
	m.update("jmp_table", 1, "")
	run := m.mustRun("slot 1 deleted", 0)
	if m.tailCalls(run) != 1 || countEvents(run, trace.Call, "entry/subprog_tail") != 1 {
		t.Errorf("want the subprogram's tail call: %d tail calls", m.tailCalls(run))
	}
	m.update("jmp_table", 0, "")
	m.mustRun("both slots deleted", 2*m.pktLen())
}

// checkBPF2BPF3 follows test_tailcall_bpf2bpf_3.
func checkBPF2BPF3(t *testing.T, m *stMachine) {
	if run := m.mustRun("both slots", 3*m.pktLen()); m.tailCalls(run) != 2 {
		t.Errorf("%d tail calls, want 2", m.tailCalls(run))
	}
	m.update("jmp_table", 1, "")
	m.mustRun("slot 1 deleted", m.pktLen())
	m.update("jmp_table", 0, "")
	m.mustRun("slots deleted", 2*m.pktLen())
}

// checkBPF2BPF4 follows test_tailcall_bpf2bpf_4(false) and (true).
func checkBPF2BPF4(t *testing.T, m *stMachine) {
	for _, noise := range []uint32{0, 1} {
		m.setGlobal(".bss", 0, 0)
		m.setGlobal(".bss", 4, noise)
		run := m.mustRun(fmt.Sprintf("noise %d", noise), 3*m.pktLen())
		if c := m.global(".bss", 0); c != 31 {
			t.Errorf("noise %d: count = %d, want 31", noise, c)
		}
		if m.tailCalls(run) != 33 {
			t.Errorf("noise %d: %d tail calls, want 33", noise, m.tailCalls(run))
		}
		// subprog_tail_2 runs once from classifier_1 and 31 times from
		// classifier_2.
		if got, want := countEvents(run, trace.Helper, "bpf_map_lookup_elem"), int(noise)*32; got != want {
			t.Errorf("noise %d: %d map lookups, want %d", noise, got, want)
		}
	}
}

// checkBPF2BPF6 follows test_tailcall_bpf2bpf_6, then runs again on a
// kernel stack full of leftover data, as a real one is.
func checkBPF2BPF6(t *testing.T, m *stMachine) {
	if run := m.mustRun("slot 0", 0); m.tailCalls(run) != 1 {
		t.Errorf("%d tail calls, want 1", m.tailCalls(run))
	}
	if d := m.global(".bss", 0); d != 1 {
		t.Errorf("done = %d, want 1", d)
	}
	// Before "bpf, x86: Fix tail call count offset calculation on bpf2bpf
	// call" (5.19) the x86-64 JIT reloads the count for the bpf2bpf call
	// from rbp - (stack_depth + 8) with the verifier's unrounded depth 1:
	// "mov -0x9(%rbp),%rax", 8 bytes that are mostly entry's stack slot
	// and not the count at rbp - 16. subprog_tail then checks the high
	// half of that, leftover stack bytes: with 0xa5 there the count is
	// 0xa5a5a5a5 > 32, the tail call is refused, subprog_tail returns
	// ret (1) and done stays 0 — the selftest fails.
	buggy := m.arch == kernel.X86_64 && strings.HasPrefix(m.prof.Kernel, "5.")
	var off int32
	for _, f := range m.k.Images["entry"].Funcs[:1] {
		// mov rax, [rbp + disp32] before the call to subprog_tail.
		code := f.Code
		for i := 0; i+7 <= len(code); i++ {
			if code[i] == 0x48 && code[i+1] == 0x8b && code[i+2] == 0x85 {
				off = int32(uint32(code[i+3]) | uint32(code[i+4])<<8 | uint32(code[i+5])<<16 | uint32(code[i+6])<<24)
			}
		}
	}
	if m.arch == kernel.X86_64 {
		// 5.17+: RESTORE_TAIL_CALL_CNT, rbp - round_up(1, 8) - 8; 6.11+:
		// the count pointer at rbp - round_up(1, 8) - 16.
		want := int32(-16)
		switch {
		case buggy:
			want = -9
		case fixedHierarchy(m.prof):
			want = -24
		}
		if off != want {
			t.Errorf("entry reloads the count (pointer) from rbp%d, want rbp%d", off, want)
		}
	}
	m.setGlobal(".bss", 0, 0)
	junk := make([]byte, 0x1000)
	for i := range junk {
		junk[i] = 0xa5
	}
	if err := m.k.Mem.WriteBytes(m.k.StackTop-uint64(len(junk)), junk); err != nil {
		t.Fatal(err)
	}
	if buggy {
		run := m.mustRun("leftover stack data, unrounded reload", 1)
		if d, n := m.global(".bss", 0), m.tailCalls(run); d != 0 || n != 0 {
			t.Errorf("done = %d after %d tail calls, want 0 after none", d, n)
		}
		if got := countEvents(run, trace.TailCallMiss, "limit"); got != 1 {
			t.Errorf("%d limit misses, want 1: the garbage count", got)
		}
		return
	}
	m.mustRun("leftover stack data", 0)
	if d := m.global(".bss", 0); d != 1 {
		t.Errorf("done = %d with leftover stack data, want 1", d)
	}
}

// explodeLimit bounds the runs that, before 6.11, would make 2^34 - 2
// tail calls.
const explodeLimit = 300_000

// checkExploding checks a pre-6.11 hierarchy run: it hits the step limit
// with the count far past the selftest's value, and its tail calls follow
// the by-value model exactly: after the limit stops the deepest run's tail
// calls, the shallower runs' second calls still go on.
// prefix is what comes before the tree (hierarchy3: entry's tail call) and
// start the depth of the tree's root.
func checkExploding(t *testing.T, m *stMachine, run *machine.Run, count uint32, fixedCount uint32, prefix string, start int) {
	t.Helper()
	if !errors.Is(run.Err, machine.ErrStepLimit) {
		t.Fatalf("%s %s: run ended with %v (retval %d), want the step limit: without the 6.11 fix the count is not shared", m.arch, m.prof.Name, run.Err, run.Retval)
	}
	if count < 10*fixedCount {
		t.Errorf("count = %d after %d instructions, want far more than %d", count, explodeLimit, fixedCount)
	}
	seq := m.tailCallSeq(run)
	if want := prefix + hierarchyModel(false, start, 33, len(seq)-len(prefix)); seq != want {
		t.Errorf("tail calls and limit misses differ from the by-value model:\n got %.200s\nwant %.200s", seq, want)
	}
	// The limit is still checked on each path: misses happen, but more
	// than 33 tail calls are taken in one run.
	if strings.Count(seq, "L") == 0 || m.tailCalls(run) <= 33 {
		t.Errorf("%d tail calls, %d limit misses", m.tailCalls(run), strings.Count(seq, "L"))
	}
	t.Logf("%s %s: count %d, %d tail calls, %d limit misses after %d instructions", m.arch, m.prof.Name, count, m.tailCalls(run), strings.Count(seq, "L"), len(run.Steps))
}

// checkHierarchy1 follows test_tailcall_bpf2bpf_hierarchy_1.
func checkHierarchy1(t *testing.T, m *stMachine) {
	if !fixedHierarchy(m.prof) {
		run := m.run(explodeLimit)
		count := m.global(".bss", 0)
		checkExploding(t, m, run, count, 34, "", 0)
		// Every run of entry but the first came from a tail call; the
		// limit may stop one between its landing and count++.
		if c := int(count); c != m.tailCalls(run)+1 && c != m.tailCalls(run) {
			t.Errorf("count %d, %d tail calls", c, m.tailCalls(run))
		}
		return
	}
	run := m.mustRun("entry in slot 0", 1)
	if c := m.global(".bss", 0); c != 34 {
		t.Errorf("count = %d, want 34", c)
	}
	if m.tailCalls(run) != 33 {
		t.Errorf("%d tail calls, want 33", m.tailCalls(run))
	}
	if seq, want := m.tailCallSeq(run), hierarchyModel(true, 0, 33, 1000); seq != want {
		t.Errorf("tail calls and limit misses %q, want %q", seq, want)
	}
	m.update("jmp_table", 0, "")
	m.mustRun("slot deleted", 1)
	if c := m.global(".bss", 0); c != 35 {
		t.Errorf("count = %d after the second run, want 35", c)
	}
}

// checkHierarchy2 follows test_tailcall_bpf2bpf_hierarchy_2 (retval 33).
func checkHierarchy2(t *testing.T, m *stMachine) {
	fixed := fixedHierarchy(m.prof)
	want, wantTC, count1 := uint64(33), 33, uint32(0)
	if !fixed {
		// The second chain starts from entry's own count, still 0.
		want, wantTC, count1 = 33<<16|33, 66, 33
	}
	run := m.mustRun("both chains", want)
	if c0, c1 := m.global(".bss", 0), m.global(".bss", 4); c0 != 33 || c1 != count1 {
		t.Errorf("count0 %d count1 %d, want 33 %d", c0, c1, count1)
	}
	if m.tailCalls(run) != wantTC {
		t.Errorf("%d tail calls, want %d", m.tailCalls(run), wantTC)
	}
	wantSeq := strings.Repeat("T", 33) + "L" + strings.Repeat("T", wantTC-33) + "L"
	if seq := m.tailCallSeq(run); seq != wantSeq {
		t.Errorf("tail calls and limit misses %q, want %q", seq, wantSeq)
	}
	// Not in the selftest: with slot 0 empty, subprog_tail0's tail call
	// misses and subprog_tail1's chain runs 33 tail calls on every
	// version: 6.11+ does not count a miss on an empty slot, and before,
	// the miss used up only subprog_tail0's copy of the count.
	m.update("jmp_table", 0, "")
	more := uint32(33)
	m.mustRun("slot 0 deleted", uint64(count1+more)<<16|33)
	if c0, c1 := m.global(".bss", 0), m.global(".bss", 4); c0 != 33 || c1 != count1+more {
		t.Errorf("slot 0 deleted: count0 %d count1 %d, want 33 %d", c0, c1, count1+more)
	}
}

// checkHierarchy3 follows test_tailcall_bpf2bpf_hierarchy_3 (retval 33).
func checkHierarchy3(t *testing.T, m *stMachine) {
	if n := m.pokeDescriptors("classifier_0"); n != 0 {
		t.Errorf("classifier_0 has %d poke descriptors: subprog_tail sees two maps", n)
	}
	if !fixedHierarchy(m.prof) {
		run := m.run(explodeLimit)
		count := m.global(".bss", 0)
		// entry's tail call is the root: classifier_0 runs at depth 1.
		checkExploding(t, m, run, count, 33, "T", 1)
		if c := int(count); c != m.tailCalls(run) && c != m.tailCalls(run)-1 {
			t.Errorf("count %d, %d tail calls", c, m.tailCalls(run))
		}
		return
	}
	run := m.mustRun("classifier_0 in both tables", 33)
	if c := m.global(".bss", 0); c != 33 {
		t.Errorf("count = %d, want 33", c)
	}
	// entry's tail call, then classifier_0's shared count.
	if seq, want := m.tailCallSeq(run), "T"+hierarchyModel(true, 1, 33, 1000); seq != want {
		t.Errorf("tail calls and limit misses %q, want %q", seq, want)
	}
}

// TestSelftestTailCallEvents compares the run loop's own account of tail
// calls (Run.TailCalls, tail_call events) with the landings found from
// the steps, for a direct (tailcall3) and an indirect (tailcall6) tail
// call on every profile.
//
// Known jitscope bug: the x86-64 5.10-era JITs (profiles v5.10 and
// bpf-next-2020-07) jump to an indirect tail call's target through the
// inline retpoline RETPOLINE_RCX_BPF_JIT ("call 1f; pause; lfence; jmp;
// 1: mov %rcx,(%rsp); ret"). Runner.Run (exec/machine/run.go) sees that
// "ret" as a return, emits a "return" event into the target instead of a
// tail_call event and does not count it: selftest-tailcall6 on x86_64
// v5.10 reports 0 tail calls for the 33 it makes.
func TestSelftestTailCallEvents(t *testing.T) {
	for _, name := range []string{"selftest-tailcall3", "selftest-tailcall6"} {
		for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
			for _, p := range jit.Profiles(arch) {
				if p.Counterexample {
					continue // not a kernel
				}
				t.Run(fmt.Sprintf("%s/%s/%s", name, arch, p.Name), func(t *testing.T) {
					m, err := stLoad(t, name, arch, p)
					if err != nil {
						t.Fatal(err)
					}
					run := m.mustRun("slot 0 filled", 1)
					steps := m.tailCallSteps(run)
					events := countEvents(run, trace.TailCall, "")
					if run.TailCalls == len(steps) && events == len(steps) {
						return
					}
					viaRet := 0
					for _, j := range steps {
						if run.Steps[j-1].BranchKind == "return" {
							viaRet++
						}
					}
					msg := fmt.Sprintf("the run loop counts %d tail calls (%d tail_call events); the steps show %d landings, %d of them reached by a ret",
						run.TailCalls, events, len(steps), viaRet)
					t.Error(msg)
				})
			}
		}
	}
}

// TestSelftestTCCTrace checks the run loop's tcc events on tailcall3: the
// counter goes 0, 1, ..., 33 and never holds anything else.

func TestSelftestTCCTrace(t *testing.T) {
	for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
		for _, p := range jit.Profiles(arch) {
			if p.Counterexample {
				continue // not a kernel
			}
			t.Run(fmt.Sprintf("%s/%s", arch, p.Name), func(t *testing.T) {
				m, err := stLoad(t, "selftest-tailcall3", arch, p)
				if err != nil {
					t.Fatal(err)
				}
				run := m.mustRun("slot 0 filled", 1)
				seen := map[int64]bool{}
				var bad []string
				for _, e := range run.Events {
					if e.Kind != trace.TCC {
						continue
					}
					seen[*e.Value] = true
					if *e.Value < 0 || *e.Value > 33 {
						bad = append(bad, fmt.Sprintf("%d in %s (%s)", *e.Value, e.Where, e.From))
					}
				}
				missing := 0
				for v := int64(0); v <= 33; v++ {
					if !seen[v] {
						missing++
					}
				}
				if len(bad) == 0 && missing == 0 {
					return
				}
				msg := fmt.Sprintf("tcc events: %d of the values 0..33 missing, out of range: %v", missing, bad)
				t.Error(msg)
			})
		}
	}
}
