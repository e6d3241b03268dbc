// SPDX-License-Identifier: GPL-2.0-only

package gen_test

import (
	"bytes"
	"testing"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	_ "github.com/jitscope/jitscope/jit/x86"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// TestCompilesEverywhere loads and JITs generated programs with every
// profile of both architectures and lists them.
func TestCompilesEverywhere(t *testing.T) {
	for _, n := range []int{gen.MinInsns, 1000, 10_000} {
		for _, arch := range jit.Arches() {
			for _, p := range jit.Profiles(arch) {
				opt := gen.Options{Insns: n, Seed: uint64(n)}
				if arch == kernel.ARM64 && p.Name == "v5.10" {
					opt.NoTailCalls = true
				}
				set, err := gen.Set(opt)
				if err != nil {
					t.Fatal(err)
				}
				slots := 0
				for _, ins := range set.Programs[0].Insns {
					slots += int(ins.Size() / 8)
				}
				if slots != n {
					t.Fatalf("%d slots, want %d", slots, n)
				}
				for _, prog := range set.Programs {
					l, err := kernel.Load(set, prog.Name, arch, kernel.Options{Layout: p.Layout})
					if err != nil {
						t.Fatalf("%s %s n=%d: %v", arch, p.Name, n, err)
					}
					img, err := jit.Compile(l, p)
					if err != nil {
						t.Fatalf("%s %s n=%d: %v", arch, p.Name, n, err)
					}
					if _, err := disasm.List(img); err != nil {
						t.Fatalf("%s %s n=%d: %v", arch, p.Name, n, err)
					}
					if prog.Name == gen.MainProg && n >= 1000 && len(l.Funcs) < 4 {
						t.Errorf("%d functions", len(l.Funcs))
					}
				}
			}
		}
	}
}

// TestDeterministic: the same options give the same program; another seed
// another.
func TestDeterministic(t *testing.T) {
	a, _ := gen.Scenario(gen.Options{Insns: 5000, Seed: 1})
	b, _ := gen.Scenario(gen.Options{Insns: 5000, Seed: 1})
	c, _ := gen.Scenario(gen.Options{Insns: 5000, Seed: 2})
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatal("not deterministic by seed")
	}
}

// TestScenarioRoundTrip: the .scn text parses back into the same
// instructions.
func TestScenarioRoundTrip(t *testing.T) {
	opt := gen.Options{Insns: 3000, Seed: 7}
	data, err := gen.Scenario(opt)
	if err != nil {
		t.Fatal(err)
	}
	set, err := scenarios.Parse("gen.scn", data)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := gen.Set(opt)
	for i, p := range want.Programs {
		got := set.Programs[i]
		if got.Name != p.Name || len(got.Insns) != len(p.Insns) {
			t.Fatalf("program %d: %s with %d insns, want %s with %d", i, got.Name, len(got.Insns), p.Name, len(p.Insns))
		}
		for j := range p.Insns {
			if got.Insns[j].OpCode != p.Insns[j].OpCode || got.Insns[j].Offset != p.Insns[j].Offset ||
				got.Insns[j].Dst != p.Insns[j].Dst || got.Insns[j].Src != p.Insns[j].Src {
				t.Fatalf("%s insn %d: %v, want %v", p.Name, j, got.Insns[j], p.Insns[j])
			}
		}
	}
}

// TestFuncs: Options.Funcs gives that many functions of about the same
// size, the exact number of slots, and refuses what cannot be made.
func TestFuncs(t *testing.T) {
	const n = 20_000
	for _, funcs := range []int{1, 7, 100} {
		set, err := gen.Set(gen.Options{Insns: n, Seed: 3, Funcs: funcs})
		if err != nil {
			t.Fatal(err)
		}
		l, err := kernel.Load(set, gen.MainProg, kernel.X86_64, kernel.Options{})
		if err != nil {
			t.Fatalf("funcs=%d: %v", funcs, err)
		}
		if len(l.Funcs) != funcs {
			t.Fatalf("funcs=%d: %d functions", funcs, len(l.Funcs))
		}
		slots, lo, hi := 0, n, 0
		for i, f := range l.Funcs {
			end := n
			if i+1 < len(l.Funcs) {
				end = l.Funcs[i+1].Insns[0].Index
			}
			size := end - f.Insns[0].Index
			slots += size
			lo, hi = min(lo, size), max(hi, size)
		}
		if slots != n {
			t.Errorf("funcs=%d: %d slots, want %d", funcs, slots, n)
		}
		if funcs > 1 && hi > 4*lo {
			t.Errorf("funcs=%d: sizes from %d to %d, want about the same", funcs, lo, hi)
		}
	}
	for _, opt := range []gen.Options{
		{Insns: n, Funcs: -1},
		{Insns: n, Funcs: n/gen.MinInsns + 1},
		{Insns: n, Funcs: 2, NoCalls: true},
	} {
		if _, err := gen.Set(opt); err == nil {
			t.Errorf("Set(%+v) succeeded, want an error", opt)
		}
	}
}
