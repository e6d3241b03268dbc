// SPDX-License-Identifier: GPL-2.0-only

package kernel_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/capture"
	"github.com/jitscope/jitscope/gen"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/scenarios"
)

// TestLoadMatchesReference holds Load (one walk, instructions resolved in
// place, the checks sharing what it noted) to the implementation it
// replaced: the same Loaded, field by field, or the same error, for every
// program of the built-in scenarios, the scenario files and captures of the
// tree, generated programs of every shape, and programs broken on purpose.
func TestLoadMatchesReference(t *testing.T) {
	var items []item
	for _, b := range scenarios.Builtins() {
		s, err := scenarios.Builtin(b.Name)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item{"builtin " + b.Name, s})
	}
	files, _ := filepath.Glob("../testdata/*/*.scn")
	for _, f := range files {
		s, err := scenarios.Load(f)
		if err != nil {
			continue // files that test parse errors
		}
		items = append(items, item{f, s})
	}
	dirs, err := capture.Find("../testdata/captures")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		c, err := capture.Load(d)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item{d, c.Set})
	}
	for _, o := range []gen.Options{
		{Insns: 1000, Seed: 1}, {Insns: 30_000, Seed: 2}, {Insns: 20_000, Seed: 3, NoTailCalls: true},
		{Insns: 5000, Seed: 4, NoCalls: true}, {Insns: 40_000, Seed: 5, Funcs: 8},
	} {
		s, err := gen.Set(o)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, item{"gen " + gen.Name(o), s})
	}
	items = append(items, broken()...)
	if len(items) < 30 {
		t.Fatalf("only %d sets to compare", len(items))
	}
	compared := 0
	for _, it := range items {
		for _, p := range it.set.Programs {
			for _, arch := range []kernel.Arch{kernel.ARM64, kernel.X86_64} {
				for _, opt := range []kernel.Options{{}, {UnroundedStackDepth: true, Layout: kernel.Layout{ArrayPtrs: 0x100}}} {
					got, gerr := kernel.Load(it.set, p.Name, arch, opt)
					want, werr := kernel.RefLoad(it.set, p.Name, arch, opt)
					if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
						t.Errorf("%s: %s (%s): error %v, want %v", it.name, p.Name, arch, gerr, werr)
						continue
					}
					if got != nil {
						// The reference had no compact form: it must
						// be each instruction's, and nothing else
						// differs.
						for _, f := range got.Funcs {
							if len(f.Compact) != len(f.Insns) {
								t.Fatalf("%s: %s: %d compact instructions for %d", it.name, f.Name, len(f.Compact), len(f.Insns))
							}
							for i := range f.Insns {
								if f.Compact[i] != kernel.CompactOf(&f.Insns[i]) {
									t.Fatalf("%s: %s: compact instruction %d is %+v, want %+v", it.name, f.Name, i, f.Compact[i], kernel.CompactOf(&f.Insns[i]))
								}
							}
							f.Compact = nil
						}
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s: %s (%s): Load differs from the reference", it.name, p.Name, arch)
					}
					compared++
				}
			}
		}
	}
	t.Logf("%d loads compared", compared)
}

type item struct {
	name string
	set  *kernel.Set
}

// broken returns small sets, most of which Load refuses.
func broken() []item {
	mk := func(insns asm.Instructions, maps ...*kernel.Map) *kernel.Set {
		return &kernel.Set{Name: "t", Programs: []*kernel.Program{{Name: "p", Type: "xdp", Insns: insns}}, Maps: maps}
	}
	var out []item
	add := func(name string, s *kernel.Set) { out = append(out, item{name, s}) }
	add("r10 write", mk(asm.Instructions{asm.Mov.Imm(asm.R10, 1), asm.Return()}))
	add("r10 write after bad jump", mk(asm.Instructions{asm.Ja.Imm(asm.R0, 0, "x"), asm.Mov.Imm(asm.R10, 1), asm.Return()}))
	add("jump out", mk(asm.Instructions{{OpCode: asm.Ja.Op(asm.ImmSource), Offset: 5}, asm.Return()}))
	add("jump into ld_imm64", mk(asm.Instructions{{OpCode: asm.Ja.Op(asm.ImmSource), Offset: 1}, asm.LoadImm(asm.R1, 1<<40, asm.DWord), asm.Return()}))
	add("no exit", mk(asm.Instructions{asm.Mov.Imm(asm.R0, 1)}))
	add("unknown helper", mk(asm.Instructions{asm.BuiltinFunc(9999).Call(), asm.Return()}))
	add("unknown map", mk(asm.Instructions{asm.LoadMapPtr(asm.R1, 0).WithReference("nope"), asm.Return()}))
	add("unknown function", mk(asm.Instructions{asm.Call.Label("nope"), asm.Return()}))
	add("call by offset", mk(asm.Instructions{{OpCode: asm.Call.Op(asm.ImmSource), Src: asm.PseudoCall, Constant: 1}, asm.Return(), asm.Mov.Imm(asm.R0, 2), asm.Return()}))
	add("call by bad offset", mk(asm.Instructions{{OpCode: asm.Call.Op(asm.ImmSource), Src: asm.PseudoCall, Constant: 5}, asm.Return(), asm.Mov.Imm(asm.R0, 2), asm.Return()}))
	add("tail call via sub", mk(asm.Instructions{
		asm.Mov.Imm(asm.R1, 1).WithSymbol("p"), asm.Call.Label("sub"), asm.Call.Label("sub2"), asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("sub2"), asm.Return(),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jt").WithSymbol("sub"), asm.Mov.Imm(asm.R3, 2), asm.FnTailCall.Call(), asm.Return(),
	}, &kernel.Map{Name: "jt", Type: "prog_array", MaxEntries: 4, Progs: map[uint32]string{1: "p", 2: "elsewhere"}}))
	add("duplicate symbol", mk(asm.Instructions{asm.Call.Label("f"), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("f"), asm.Return(), asm.Mov.Imm(asm.R0, 2).WithSymbol("f"), asm.Return()}))
	add("function pointer", mk(asm.Instructions{asm.Instruction{OpCode: asm.LoadImmOp(asm.DWord), Dst: asm.R1, Src: asm.PseudoFunc}.WithReference("g"), asm.Return(), asm.Mov.Imm(asm.R0, 1).WithSymbol("g"), asm.Return()}))
	add("big stack", mk(asm.Instructions{asm.StoreImm(asm.R10, -600, 1, asm.DWord), asm.Return()}))
	add("atomic", mk(asm.Instructions{asm.StoreImm(asm.R10, -8, 1, asm.DWord), asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -8), asm.Mov.Imm(asm.R1, 1), asm.StoreXAdd(asm.R2, asm.R1, asm.DWord), asm.Return()}))
	return out
}
