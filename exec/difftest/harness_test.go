// SPDX-License-Identifier: GPL-2.0-only

package difftest

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// TestHarnessDetects checks that the comparison sees a one-bit change: the
// machine code is built from a copy of the entry program whose
// accumulator starts with one bit flipped. Every run in which the entry
// returns itself (rather than through a tail call) should then differ.
func TestHarnessDetects(t *testing.T) {
	for _, kp := range []struct {
		arch kernel.Arch
		name string
	}{{kernel.ARM64, "v6.1"}, {kernel.X86_64, "v6.18"}} {
		p, err := jit.LookupProfile(kp.arch, kp.name)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		var missed []uint64
		for seed := uint64(1); seed <= 40; seed++ {
			c := Generate(seed, Options{Allowed: Atomics | SubprogTailCalls})
			entry := c.Set.Programs[0]
			if in := entry.Insns[1]; !in.OpCode.IsDWordLoad() || in.Dst != asm.R9 {
				t.Fatalf("seed %d: entry insn 1 is %v, not the accumulator's ld_imm64", seed, in)
			}
			mut := *c.Set
			me := *entry
			me.Insns = append(asm.Instructions(nil), entry.Insns...)
			me.Insns[1].Constant ^= 1 << 40
			mut.Programs = append([]*kernel.Program{&me}, c.Set.Programs[1:]...)
			imgs, err := Compile(&mut, p)
			if err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			w := RunInterp(c.Set, p, InterpConfig(p))
			g := RunJIT(&mut, p, imgs, 0)
			returns := true
			for _, e := range w.Events {
				if strings.HasPrefix(e, "tail_call entry") {
					returns = false
				}
			}
			if !returns {
				continue
			}
			checked++
			if Diff(w, g) == "" {
				missed = append(missed, seed)
			}
		}
		// The accumulator also feeds computations (shift amounts, stored
		// and reloaded values) that can swallow one bit; rarely.
		if checked < 10 || len(missed) > checked/10 {
			t.Errorf("%s %s: a flipped bit went unnoticed in %d of %d runs (seeds %v)", p.Arch, p.Name, len(missed), checked, missed)
		}
	}
}

// TestPlacementLayout runs a scenario whose placement pins struct
// offsets (bpf2bpf-tailcall pins bpf_array.map.max_entries 0x24 for arm64)
// on a profile with other defaults (arm64 v6.18: 0x4c), laying out the
// machine as cli/run.go and session/run.go do: machine.New(set, arch,
// p.Layout, ...). The JIT reads max_entries where the placement says, so
// the machine must put it there too. (A regression test: TestScenarios
// found machine.New using p.Layout as is, the tail call missing on
// "index"; fixed in 7cb4229.)
func TestPlacementLayout(t *testing.T) {
	set, err := scenarios.Builtin("bpf2bpf-tailcall")
	if err != nil {
		t.Fatal(err)
	}
	p0, err := jit.LookupProfile(kernel.ARM64, "v6.18")
	if err != nil {
		t.Fatal(err)
	}
	p := p0.WithConfig(set.Placements[kernel.ARM64].Config)
	imgs, err := Compile(set, p)
	if err != nil {
		t.Fatal(err)
	}
	k, err := machine.New(set, p.Arch, p.Layout, imgs, machine.Options{})
	if err != nil {
		t.Fatal(err)
	}
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
	if run.TailCalls != 1 || run.Retval != 0 {
		t.Errorf("%d tail calls, retval %d; want 1, 0 (struct bpf_array laid out with max_entries at %#x, the placement says %#x)",
			run.TailCalls, run.Retval, p.Layout.ArrayMaxEntries, p.WithLayout(set.Placements[kernel.ARM64].Layout).ArrayMaxEntries)
	}
}

// TestStackDepthPaths: a register that is a stack pointer on one path and
// a scalar on another. The verifier tracks each path: the stack depth is
// the 8 bytes at r10-8. (A regression test: the generator hit kernel.Load
// counting "r7 -= 1000" on the scalar path as a stack access, "combined
// stack size 1000 exceeds the kernel's 512 bytes"; fixed in 7cb4229.)
func TestStackDepthPaths(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R7, 5),
		jmpImm(asm.JEq, false, asm.R1, 0), // if r1 == 0 goto scalar (+3)
		asm.Mov.Reg(asm.R7, asm.R10),
		asm.StoreImm(asm.R7, -8, 1, asm.Word),
		ja(),                      // goto out (+1)
		asm.Sub.Imm(asm.R7, 1000), // scalar: r7 = 5 - 1000
		asm.Mov.Reg(asm.R0, asm.R7),
		asm.Return(),
	}
	insns[1].Offset, insns[4].Offset = 3, 1
	set := &kernel.Set{Name: "stack-depth-paths", Programs: []*kernel.Program{{Name: "p", Type: "sched_cls", Insns: insns}}}
	l, err := kernel.Load(set, "p", kernel.X86_64, kernel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := l.Funcs[0].StackDepth; d != 8 {
		t.Errorf("stack depth %d, want 8", d)
	}
}

// TestFeatureSupport compiles one small program per optional feature on
// every profile: accepted where the kernel accepts it (supported), a
// *jit.Error elsewhere.
func TestFeatureSupport(t *testing.T) {
	stack := []asm.Instruction{stImm(asm.DWord, asm.R10, -8, 3)}
	progs := map[Feature]asm.Instructions{
		Atomics: append(stack, asm.Mov.Imm(asm.R1, 1), atomicOp(asm.FetchAdd, asm.R10, asm.R1, asm.DWord, -8), asm.Mov.Reg(asm.R0, asm.R1)),
		CPUv4:   {asm.Mov.Imm(asm.R1, 0x80), asm.MovSX8.Reg(asm.R0, asm.R1)},
		Gotol:   {asm.Mov.Imm(asm.R0, 0), gotol()},
		AX:      {asm.Mov.Reg(rAX, asm.R1), asm.Mov.Reg(asm.R0, rAX), asm.Mov.Imm(asm.R0, 0)},
		AcqRel:  append(stack, asm.LoadAcquire(asm.R0, asm.R10, asm.DWord, -8)),
		Nospec:  append(stack, nospec(), asm.Mov.Imm(asm.R0, 0)),
	}
	progs[SubprogTailCalls] = asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.Call.Label("sub"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, 0).WithReference(mapJmp),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("sub"),
	}
	for f, insns := range progs {
		insns = append(insns, asm.Return())
		set := &kernel.Set{Name: f.String(), Programs: []*kernel.Program{{Name: "p", Type: "sched_cls", Insns: insns}},
			Maps: []*kernel.Map{{Name: mapJmp, Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 1, Progs: map[uint32]string{0: "p"}}}}
		for _, p := range profiles(t) {
			t.Run(f.String()+"/"+string(p.Arch)+"/"+p.Name, func(t *testing.T) {
				got := FeaturesOf(mustLoad(t, set, p))
				if got != f {
					t.Fatalf("%v program: FeaturesOf = %v", f, got)
				}
				_, err := Compile(set, p)
				want := supported(p)&f != 0
				switch {
				case want && err != nil:
					t.Errorf("%s %s refuses %v: %v", p.Arch, p.Name, f, err)
				case !want && err == nil:
					t.Errorf("%s %s accepts %v, which its kernel refuses", p.Arch, p.Name, f)
				case !want && !IsRefusal(err):
					t.Errorf("%s %s: %v: %v is not a *jit.Error", p.Arch, p.Name, f, err)
				case !want:
					if got, ok := RefusedFor(set, p, err); !ok || got != f {
						t.Errorf("%s %s: the refusal of %v names another instruction: %v", p.Arch, p.Name, f, err)
					}
				}
			})
		}
	}
}

func mustLoad(t *testing.T, set *kernel.Set, p *jit.Profile) *kernel.Loaded {
	t.Helper()
	l, err := kernel.Load(set, set.Programs[0].Name, p.Arch, p.LoadOptions())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestGenerateDeterministic: a seed is a program.
func TestGenerateDeterministic(t *testing.T) {
	p, err := jit.LookupProfile(kernel.X86_64, "v6.18")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 20; seed++ {
		a, b := Listing(Generate(seed, Options{}).Set, p), Listing(Generate(seed, Options{}).Set, p)
		if a != b {
			t.Fatalf("seed %d generates two different sets", seed)
		}
	}
}

// TestShowSeed prints the case of -difftest.only=SEED and its interpreter
// run, for reproducing a report.
func TestShowSeed(t *testing.T) {
	if *flagOne < 0 {
		t.Skip("-difftest.only=SEED selects the case to show")
	}
	c := Generate(uint64(*flagOne), Options{})
	for _, p := range profiles(t) {
		w := RunInterp(c.Set, p, InterpConfig(p))
		t.Logf("%s %s: retval %#x, %d tail calls, error %v, events %q", p.Arch, p.Name, w.Retval, w.TailCalls, w.Err, w.Events)
	}
	p, _ := jit.LookupProfile(kernel.X86_64, "v6.18")
	t.Logf("seed %d, features %v:\n%s", *flagOne, c.Features(), Listing(c.Set, p))
}

// TestVariantsTakeEffect: each configuration variant changes the machine
// code of a program with atomics, shifts by a register and a tail call.
func TestVariantsTakeEffect(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		stImm(asm.DWord, asm.R10, -8, 3),
		asm.Mov.Imm(asm.R1, 5),
		atomicOp(asm.AddAtomic, asm.R10, asm.R1, asm.DWord, -8),
		asm.Mov.Imm(asm.R2, 3),
		asm.LSh.Reg(asm.R1, asm.R2),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, 0).WithReference(mapJmp),
		asm.LoadMem(asm.R3, asm.R10, -8, asm.DWord), // a key the JIT cannot see: an indirect tail call
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	newSet := func() *kernel.Set {
		return &kernel.Set{Name: "variants", Programs: []*kernel.Program{{Name: "p", Type: "sched_cls", Insns: insns}},
			Maps: []*kernel.Map{{Name: mapJmp, Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 1, Progs: map[uint32]string{0: "p"}}}}
	}
	code := func(set *kernel.Set, p *jit.Profile) []byte {
		imgs, err := Compile(set, Profile(set, p))
		if err != nil {
			t.Fatal(err)
		}
		return imgs["p"].Funcs[0].Code
	}
	for _, v := range variants {
		p, err := jit.LookupProfile(v.arch, v.name)
		if err != nil {
			t.Fatal(err)
		}
		def := code(newSet(), p)
		set := newSet()
		set.Placement(v.arch).Config = v.config
		if string(code(set, p)) == string(def) {
			t.Errorf("%s %s+%s: the configuration %v changes nothing", v.arch, v.name, v.label, v.config)
		}
	}
}

// TestCmpxchgZext: x86-64's "lock cmpxchg [mem], eax" does not write eax
// when the comparison succeeds, so a 32-bit BPF cmpxchg leaves R0's upper
// half in place unless the verifier's BPF_ZEXT_REG(R0) follows it (as it
// does since 5.13); the interpreter zero-extends. The generator emits the
// zext (gen.go): this is the difference without it.
func TestCmpxchgZext(t *testing.T) {
	prog := func(withZext bool) *kernel.Set {
		insns := asm.Instructions{
			asm.LoadImm(asm.R0, -2, asm.DWord), // 0xfffffffffffffffe
			asm.StoreMem(asm.R10, -8, asm.R0, asm.Word),
			asm.Mov.Imm(asm.R1, 7),
			atomicOp(asm.CmpXchg, asm.R10, asm.R1, asm.Word, -8), // equal: stores 7, R0 = 0xfffffffe
		}
		if withZext {
			insns = append(insns, zext(asm.R0))
		}
		insns = append(insns, asm.Return())
		return &kernel.Set{Name: "cmpxchg", Programs: []*kernel.Program{{Name: "p", Type: "sched_cls", Insns: insns}}}
	}
	p, err := jit.LookupProfile(kernel.X86_64, "v6.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, withZext := range []bool{false, true} {
		set := prog(withZext)
		imgs, err := Compile(set, p)
		if err != nil {
			t.Fatal(err)
		}
		w, g := RunInterp(set, p, InterpConfig(p)), RunJIT(set, p, imgs, 0)
		if w.Retval != 0xfffffffe {
			t.Errorf("zext %v: interpreter r0 = %#x, want 0xfffffffe", withZext, w.Retval)
		}
		want := uint64(0xfffffffe)
		if !withZext {
			want = 0xfffffffffffffffe
		}
		if g.Retval != want {
			t.Errorf("zext %v: x86-64 v6.1 r0 = %#x, want %#x", withZext, g.Retval, want)
		}
	}
}
