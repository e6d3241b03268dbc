package machine_test

import (
	"testing"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// build JITs every program of a built-in scenario and lays it out.
func build(t *testing.T, name string, arch kernel.Arch, profile string) (*machine.Kernel, *jit.Profile) {
	t.Helper()
	set, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := jit.LookupProfile(arch, profile)
	if err != nil {
		t.Fatal(err)
	}
	if pl := set.Placements[arch]; pl != nil {
		p = p.WithConfig(pl.Config)
	}
	imgs := map[string]*jit.Image{}
	for _, pr := range set.Programs {
		l, err := kernel.Load(set, pr.Name, arch, p.LoadOptions())
		if err != nil {
			t.Fatal(err)
		}
		if imgs[pr.Name], err = jit.Compile(l, p); err != nil {
			t.Fatal(err)
		}
	}
	k, err := machine.New(set, arch, p.Layout, imgs, machine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return k, p
}

// TestSeed000Run executes seed 000's machine code: the bpf2bpf call, the
// TCC in x26 going 0 -> 1, the tail call landing 9 instructions (36 bytes)
// into classifier_0, and classifier_0 returning straight into entry.
func TestSeed000Run(t *testing.T) {
	k, p := build(t, "bpf2bpf-tailcall", kernel.ARM64, "bpf-next-2022-06")
	r, err := machine.NewRunner(k, p)
	if err != nil {
		t.Fatal(err)
	}
	cpu, err := machine.NewCPU(k, p.BTI, p.PAC, false)
	if err != nil {
		t.Fatal(err)
	}
	run := r.Run(cpu, "entry", machine.RunOptions{})
	if run.Err != nil {
		t.Fatal(run.Err)
	}
	if run.Retval != 0 || run.TailCalls != 1 {
		t.Errorf("retval %d, tail calls %d; want 0, 1", run.Retval, run.TailCalls)
	}
	var kinds []string
	var tccs []int64
	for _, e := range run.Events {
		kinds = append(kinds, string(e.Kind))
		switch e.Kind {
		case trace.TCC:
			tccs = append(tccs, *e.Value)
			if e.Where != "x26" {
				t.Errorf("TCC lives in %q, want x26", e.Where)
			}
		case trace.TailCall:
			if e.From != "entry/subprog_tail" || e.To != "classifier_0" || e.Landing != 36 || e.Skipped != 9 {
				t.Errorf("tail call %+v, want entry/subprog_tail -> classifier_0 landing +36 skipping 9", e)
			}
		case trace.Call:
			if e.To != "entry/subprog_tail" {
				t.Errorf("call to %q", e.To)
			}
		}
	}
	want := []string{"tcc", "call", "tcc", "tail_call", "return", "tcc", "return"}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("events %v, want %v", kinds, want)
		}
	}
	// 0 at entry, 1 after the tail call; back in entry x26 is whatever
	// subprog_tail's prologue saved (0), restored by classifier_0's epilogue.
	if len(tccs) != 3 || tccs[0] != 0 || tccs[1] != 1 || tccs[2] != 0 {
		t.Errorf("TCC values %v, want [0 1 0]", tccs)
	}
	// classifier_0 set the global done = 1.
	if v, err := k.Mem.Load(k.Maps[".bss"].ValueAddr, 4); err != nil || v != 1 {
		t.Errorf(".bss done = %d, %v; want 1", v, err)
	}
}
