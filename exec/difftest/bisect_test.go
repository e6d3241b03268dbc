// SPDX-License-Identifier: GPL-2.0-only

package difftest

import (
	"flag"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

var flagTarget = flag.String("difftest.target", "x86_64/v6.1", "TestBisect's target (arch/profile[+variant], as TestDifferential names them)")

// insertBefore returns insns with extra inserted before index k; jumps to
// k land on the inserted code.
func insertBefore(insns asm.Instructions, k int, extra ...asm.Instruction) asm.Instructions {
	slot := make([]int, len(insns)+1)
	s := 0
	for i, in := range insns {
		slot[i] = s
		s += int(in.Size() / asm.InstructionSize)
	}
	slot[len(insns)] = s
	idx := map[int]int{}
	for i := range slot {
		idx[slot[i]] = i
	}
	n := 0
	for _, e := range extra {
		n += int(e.Size() / asm.InstructionSize)
	}
	newSlot := func(j int, target bool) int {
		if j > k || (j == k && !target) {
			return slot[j] + n
		}
		return slot[j]
	}
	var out asm.Instructions
	for i, in := range insns {
		if i == k {
			out = append(out, extra...)
		}
		op := in.OpCode
		if op.Class().IsJump() && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit {
			long := op.Class() == asm.Jump32Class && op.JumpOp() == asm.Ja
			off := int(in.Offset)
			if long {
				off = int(in.Constant)
			}
			no := newSlot(idx[slot[i]+1+off], true) - newSlot(i, false) - 1
			if long {
				in.Constant = int64(no)
			} else {
				in.Offset = int16(no)
			}
		}
		out = append(out, in)
	}
	return out
}

// TestBisect finds where case -difftest.only starts to differ on
// -difftest.target: the first instruction before which returning r9 (the
// accumulator of everything computed so far) already gives a different
// outcome, trying every function of every program in order.
func TestBisect(t *testing.T) {
	if *flagOne < 0 {
		t.Skip("-difftest.only=SEED selects the case to bisect")
	}
	var tg *target
	for _, x := range targets(t) {
		if x.name == *flagTarget {
			tg = &x
		}
	}
	if tg == nil {
		t.Fatalf("no target %q", *flagTarget)
	}
	run := func(c *Case) string {
		if tg.config != nil {
			c.Set.Placement(tg.p.Arch).Config = tg.config
		}
		p := Profile(c.Set, tg.p)
		imgs, err := Compile(c.Set, p)
		if err != nil {
			t.Fatal(err)
		}
		return Diff(RunInterp(c.Set, p, InterpConfig(p)), RunJIT(c.Set, p, imgs, 0))
	}
	if run(Generate(uint64(*flagOne), Options{})) == "" {
		t.Skipf("seed %d does not differ on %s", *flagOne, tg.name)
	}
	base := Generate(uint64(*flagOne), Options{})
	for pi, pr := range base.Set.Programs {
		for fi, f := range pr.Funcs {
			end := len(pr.Insns)
			if fi+1 < len(pr.Funcs) {
				end = pr.Funcs[fi+1].Start
			}
			for k := f.Start; k < end; k++ {
				c := Generate(uint64(*flagOne), Options{})
				mp := c.Set.Programs[pi]
				mp.Insns = insertBefore(mp.Insns, k, asm.Mov.Reg(asm.R0, asm.R9), asm.Return())
				for j := fi + 1; j < len(mp.Funcs); j++ {
					mp.Funcs[j].Start += 2
				}
				if d := run(c); d != "" {
					slot := 0
					for _, in := range pr.Insns[:k] {
						slot += int(in.Size() / asm.InstructionSize)
					}
					t.Logf("%s/%s differs with a return before instruction %d (%v):\n%s\n%s", pr.Name, f.Name, slot, pr.Insns[k],
						d, strings.TrimSpace(Listing(base.Set, tg.p)))
					return
				}
			}
		}
	}
	t.Log("no single function's prefix shows the difference")
}
