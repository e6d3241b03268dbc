// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"slices"
	"testing"

	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

func loadRuns(t *testing.T, target string, profiles map[kernel.Arch]string) (*Session, *Run, *Run) {
	t.Helper()
	s, err := Load(target, Options{Profiles: profiles})
	if err != nil {
		t.Fatal(err)
	}
	a, x := s.Run(s.Listings[0]), s.Run(s.Listings[1])
	for _, r := range []*Run{a, x} {
		if !r.Ran || r.Err != nil {
			t.Fatalf("%s %s %s run: ran %v, %v", target, r.Arch, r.Profile, r.Ran, r.Err)
		}
	}
	return s, a, x
}

func reg(t *testing.T, regs []RegView, name string) RegView {
	t.Helper()
	for _, r := range regs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no register %s", name)
	return RegView{}
}

// Seed 000 on arm64: x26 holds the count, 0 from the prologue, 1 after
// subprog_tail's tail call sequence increments it; the tail call lands
// on classifier_0's bti j past 9 prologue instructions and replaces
// subprog_tail's frame.
func TestRunSeed000Arm64(t *testing.T) {
	s, a, _ := loadRuns(t, scenarios.Default, nil)
	if s.Run(s.Listings[0]) != a {
		t.Error("the run is not cached")
	}
	tc, e, ok := a.NextEvent(0, 1, KindsTailCall)
	if !ok || tc != 58 || e.Skipped != 9 {
		t.Fatalf("tail call at %d: %+v", tc, e)
	}
	v := a.Step(tc)
	if v.Landed == nil || v.Func != "classifier_0" || !v.Jumped || a.Step(tc-1).Func != "subprog_tail" {
		t.Errorf("landing: %+v", v)
	}
	if ln := s.Listings[0].Line(s.Listings[0].RowOfAddr(v.PC)); ln.Text != "bti j" {
		t.Errorf("landed on %q", ln.Text)
	}
	if !slices.Equal(v.Frames, []string{"entry", "classifier_0"}) || !slices.Equal(a.Step(tc-1).Frames, []string{"entry", "subprog_tail"}) {
		t.Errorf("frames %v, before %v", v.Frames, a.Step(tc-1).Frames)
	}
	if !v.TCCKnown || v.TCC != 1 || v.TCCWhere != "x26" {
		t.Errorf("TCC %d in %q (known %v)", v.TCC, v.TCCWhere, v.TCCKnown)
	}
	inc, _, _ := a.NextEvent(20, 1, KindsTCC)
	if x := reg(t, a.Regs(inc), "x26"); x.Value != 1 || !x.Changed || x.BPF != "tcc" {
		t.Errorf("x26 at %d: %+v", inc, x)
	}
	if x := reg(t, a.Regs(inc-1), "x26"); x.Value != 0 || x.Changed {
		t.Errorf("x26 at %d: %+v", inc-1, x)
	}
	if st := a.Step(0); st.TCCKnown || st.Func != "entry" || st.Region != "prologue" || !slices.Equal(st.Frames, []string{"entry"}) {
		t.Errorf("position 0: %+v", st)
	}
	end := a.Step(a.Len())
	if !end.Done || len(end.Frames) != 0 || a.Retval != 0 {
		t.Errorf("end: %+v, retval %d", end, a.Retval)
	}
	if x := reg(t, a.Regs(0), "x0"); x.BPF != "r1" || x.Value == 0 {
		t.Errorf("x0 at entry: %+v, want r1 = the context", x)
	}
}

// On x86-64 the return from the tail-called program goes through the
// return thunk: the run reports it as a return, so the stack unwinds.
func TestRunX86ThunkReturn(t *testing.T) {
	_, _, x := loadRuns(t, scenarios.Default, nil)
	tc, e, ok := x.NextEvent(0, 1, KindsTailCall)
	if !ok || e.Skipped != 4 {
		t.Fatalf("tail call %+v", e)
	}
	ret, re, ok := x.NextEvent(tc, 1, KindsCall)
	if !ok || re.Kind != trace.Return || ShortName(re.From) != "classifier_0" || ShortName(re.To) != "entry" {
		t.Fatalf("after the tail call: %+v", re)
	}
	if f := x.Step(ret).Frames; !slices.Equal(f, []string{"entry"}) {
		t.Errorf("frames after the return %v", f)
	}
	if v := x.Step(tc); !v.TCCKnown || v.TCC != 1 {
		t.Errorf("x86 TCC after the tail call: %d in %s", v.TCC, v.TCCWhere)
	}
}

// Every position's registers agree with the steps: before step j each
// changed register holds the step's old value, after it the new one
// (checked from checkpoints in random order, so stepping back is exact).
func TestRegsAgreeWithSteps(t *testing.T) {
	helpers := 0
	for _, name := range []string{scenarios.Default, "selftest-tailcall3", "selftest-bpf2bpf4", "selftest-hierarchy1", "packet-parser"} {
		for _, prof := range []map[kernel.Arch]string{nil, {kernel.ARM64: "v6.1", kernel.X86_64: "v5.10"}} {
			if name == "selftest-hierarchy1" && prof != nil {
				continue // before 6.11 the hierarchy runs far past the step limit
			}
			_, a, x := loadRuns(t, name, prof)
			for _, r := range []*Run{a, x} {
				if r.Len() < 2*checkpointEvery && name == "selftest-tailcall3" {
					t.Errorf("%s %s: only %d steps, want a run past a few checkpoints", name, r.Arch, r.Len())
				}
				order := make([]int, r.Len())
				for i := range order {
					order[i] = (i * 7919) % r.Len()
				}
				for _, j := range order {
					before, after := r.Regs(j), r.Regs(j+1)
					for _, c := range r.Steps[j].Regs {
						if c.Reg == "pc" || c.Reg == "rip" {
							continue
						}
						if b := reg(t, before, c.Reg); b.Value != c.Old {
							t.Fatalf("%s %s %s: %s before step %d = %#x, step says %#x", name, r.Arch, r.Profile, c.Reg, j, b.Value, c.Old)
						}
						if a := reg(t, after, c.Reg); !a.Changed || (a.Value != c.New && !r.helperAt(j+1)) {
							t.Fatalf("%s %s %s: %s after step %d = %#x (changed %v), step says %#x", name, r.Arch, r.Profile, c.Reg, j, a.Value, a.Changed, c.New)
						}
					}
				}
				// A helper's result is in the return register as soon as
				// the helper has returned.
				result := map[kernel.Arch]string{kernel.ARM64: "x0", kernel.X86_64: "rax"}[r.Arch]
				for _, e := range r.Events() {
					if e.Kind != trace.Helper {
						continue
					}
					helpers++
					prev := reg(t, r.Regs(e.Step-1), result).Value
					if v := reg(t, r.Regs(e.Step), result); v.Value != uint64(*e.Value) || v.Changed != (v.Value != prev || changes(r.Steps[e.Step-1], result)) {
						t.Errorf("%s %s: %s after %s() = %#x (changed %v), want %#x", name, r.Arch, result, e.To, v.Value, v.Changed, *e.Value)
					}
				}
			}
		}
	}
	if helpers == 0 {
		t.Error("no helper calls: the hidden register changes went untested")
	}
}

func (r *Run) helperAt(p int) bool {
	for _, e := range r.events {
		if e.Step == p && e.Kind == trace.Helper {
			return true
		}
	}
	return false
}

// o steps over the bpf2bpf call whole; O comes back to its start.
func TestOver(t *testing.T) {
	s, a, _ := loadRuns(t, scenarios.Default, nil)
	l := s.Listings[0]
	call, _, _ := a.NextEvent(0, 1, KindsCall) // first instruction of subprog_tail
	// The start of the BPF call instruction in entry.
	start := a.insnStart(call - 1)
	if in, ok := l.BPFInsn(l.RowOfAddr(a.Step(start).PC)); !ok || in.Kind != kernel.FuncCall {
		t.Fatalf("position %d is not the call: %v", start, in)
	}
	next := a.Over(start, 1)
	v := a.Step(next)
	ret, _, _ := a.NextEvent(call, 1, KindsCall)
	if v.Func != "entry" || next <= ret || a.ID(next) == a.ID(start) {
		t.Errorf("over the call: position %d, %s bpf %d", next, v.Func, v.BPFIndex)
	}
	if back := a.Over(next, -1); back != start {
		t.Errorf("back over the call: %d, want %d", back, start)
	}
	// Inside a BPF instruction, O goes to its start first.
	if got := a.Over(start+1, -1); got != start {
		t.Errorf("O from inside: %d, want %d", got, start)
	}
	if got := a.Over(a.Len(), 1); got != a.Len() {
		t.Errorf("over at the end: %d", got)
	}
	if got := a.Over(a.Len(), -1); got != a.insnStart(a.Len()-1) || got < a.Len()-12 {
		t.Errorf("back over from the end: %d, want the epilogue's start", got)
	}
}

// Lockstep: the same execution of the same BPF instruction on the other
// architecture, and past the tail call from the arm64 landing pad, which
// x86-64 has no region for.
func TestMatch(t *testing.T) {
	_, a, x := loadRuns(t, scenarios.Default, nil)
	call, _, _ := a.NextEvent(0, 1, KindsCall)
	start := a.insnStart(call - 1)
	p := a.Match(start, x)
	if id, n := x.Occurrence(p); id != a.ID(start) || n != 1 {
		t.Errorf("match of the call: x86 position %d (id %d #%d), want id %d", p, id, n, a.ID(start))
	}
	tc, _, _ := a.NextEvent(0, 1, KindsTailCall)
	xtc, _, _ := x.NextEvent(0, 1, KindsTailCall)
	if got := a.Match(tc, x); got != xtc {
		t.Errorf("match of the arm64 landing pad: %d, want x86's landing %d", got, xtc)
	}
	if got := a.Match(a.Len(), x); got != x.Len() {
		t.Errorf("end: %d", got)
	}
}

func TestRunRefused(t *testing.T) {
	s, err := Load(scenarios.Default, Options{Profiles: map[kernel.Arch]string{kernel.ARM64: "v5.10"}})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Run(s.Listings[0])
	if r.Ran || r.Err == nil || r.Len() != 0 || r.Regs(0) != nil {
		t.Errorf("a refused program ran: %+v", r)
	}
	if v := r.Step(3); v.Pos != 0 {
		t.Errorf("Step clamps: %+v", v)
	}
}

func TestEventText(t *testing.T) {
	e := trace.Event{Kind: trace.TailCall, From: "entry/subprog_tail", To: "classifier_0", Skipped: 9}
	if got := EventText(e); got != "tail call: subprog_tail → classifier_0, skipped 9 prologue instructions" {
		t.Errorf("%q", got)
	}
}

var _ Trace = (*Run)(nil)

func BenchmarkRegsRandom(b *testing.B) {
	s := FromTarget(Synthetic(20000), Options{Arches: []kernel.Arch{kernel.ARM64}})
	r := s.Run(s.Listings[0])
	if !r.Ran || r.Err != nil {
		b.Fatal(r.Err)
	}
	b.Logf("%d steps", r.Len())
	i := 0
	for b.Loop() {
		i = (i + 7919) % r.Len()
		_ = r.Regs(i)
		_ = r.Step(i)
	}
}
