// SPDX-License-Identifier: GPL-2.0-only

package difftest

import (
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/kernel"
)

// linkLabels resolves jump labels (cilium/ebpf leaves them to the
// assembler), as exec/bpf's tests do.
func linkLabels(t *testing.T, insns asm.Instructions) asm.Instructions {
	t.Helper()
	out := append(asm.Instructions(nil), insns...)
	slot := make([]int, len(out))
	syms := map[string]int{}
	s := 0
	for i, ins := range out {
		slot[i] = s
		if sym := ins.Symbol(); sym != "" {
			syms[sym] = s
		}
		s += int(ins.Size() / asm.InstructionSize)
	}
	for i, ins := range out {
		op := ins.OpCode
		if !op.Class().IsJump() || op.JumpOp() == asm.Call || op.JumpOp() == asm.Exit || ins.Reference() == "" {
			continue
		}
		target, ok := syms[ins.Reference()]
		if !ok {
			t.Fatalf("insn %d: jump to unknown label %q", i, ins.Reference())
		}
		out[i].Offset = int16(target - slot[i] - 1)
	}
	return out
}

// The programs of exec/bpf's own tests (run_test.go), on the machine code
// of every profile: a program tail-calling itself to the limit
// (tailcall3), 40 tail calls into an empty slot before a populated one
// (TestEmptySlotsUseTheBudget), misses on index, u32 truncation of the
// index and empty slots (TestTailCallMisses), bpf-to-bpf calls
// (TestCalls), and a hash map update and lookup (TestHelpers).
func TestInterpreterSuitePrograms(t *testing.T) {
	progArray := func(max uint32, slots map[uint32]string) *kernel.Map {
		return &kernel.Map{Name: "jmp_table", Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: max, Progs: slots}
	}
	bss := &kernel.Map{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 8, MaxEntries: 1}
	target := asm.Instructions{asm.Mov.Imm(asm.R0, 5), asm.Return()}
	tailCaller := func(idx asm.Instruction) asm.Instructions {
		return asm.Instructions{
			asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
			idx,
			asm.FnTailCall.Call(),
			asm.Mov.Imm(asm.R0, 100),
			asm.Return(),
		}
	}
	type prog struct {
		name  string
		insns asm.Instructions
	}
	cases := []struct {
		name  string
		progs []prog
		maps  []*kernel.Map
	}{
		{"self tail call", []prog{{"self", asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss"),
			asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
			asm.Add.Imm(asm.R2, 1),
			asm.StoreMem(asm.R1, 0, asm.R2, asm.Word),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnTailCall.Call(),
			asm.Mov.Imm(asm.R0, 7),
			asm.Return(),
		}}}, []*kernel.Map{progArray(1, map[uint32]string{0: "self"}), bss}},
		{"empty slots use the budget", []prog{{"p", asm.Instructions{
			asm.Mov.Reg(asm.R6, asm.R1),
			asm.Mov.Imm(asm.R7, 40),
			asm.Mov.Reg(asm.R1, asm.R6).WithSymbol("loop"),
			asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
			asm.Mov.Imm(asm.R3, 1), // empty
			asm.FnTailCall.Call(),
			asm.Sub.Imm(asm.R7, 1),
			asm.JNE.Imm(asm.R7, 0, "loop"),
			asm.Mov.Reg(asm.R1, asm.R6),
			asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnTailCall.Call(),
			asm.Mov.Imm(asm.R0, 100),
			asm.Return(),
		}}, {"target", target}}, []*kernel.Map{progArray(2, map[uint32]string{0: "target"})}},
		{"miss: index", []prog{{"p", tailCaller(asm.Mov.Imm(asm.R3, 4))}, {"target", target}},
			[]*kernel.Map{progArray(4, map[uint32]string{0: "target"})}},
		{"index is u32: 1<<32 is slot 0", []prog{{"p", tailCaller(asm.LoadImm(asm.R3, 1<<32, asm.DWord))}, {"target", target}},
			[]*kernel.Map{progArray(4, map[uint32]string{0: "target"})}},
		{"miss: negative index", []prog{{"p", tailCaller(asm.Mov.Imm(asm.R3, -1))}, {"target", target}},
			[]*kernel.Map{progArray(4, map[uint32]string{0: "target"})}},
		{"miss: empty", []prog{{"p", tailCaller(asm.Mov.Imm(asm.R3, 2))}, {"target", target}},
			[]*kernel.Map{progArray(4, map[uint32]string{0: "target"})}},
		{"calls", []prog{{"p", asm.Instructions{
			asm.Mov.Imm(asm.R6, 1000),
			asm.Mov.Imm(asm.R9, 30000),
			asm.StoreImm(asm.R10, -8, 77, asm.Word),
			asm.Mov.Imm(asm.R1, 1),
			asm.Mov.Imm(asm.R2, 2),
			asm.Mov.Imm(asm.R5, 5),
			asm.Call.Label("sub"),
			asm.Add.Reg(asm.R0, asm.R6),
			asm.Add.Reg(asm.R0, asm.R9),
			asm.LoadMem(asm.R1, asm.R10, -8, asm.Word),
			asm.Add.Reg(asm.R0, asm.R1),
			asm.Return(),
			asm.Mov.Reg(asm.R0, asm.R1).WithSymbol("sub"),
			asm.Add.Reg(asm.R0, asm.R2),
			asm.Add.Reg(asm.R0, asm.R5),
			asm.StoreImm(asm.R10, -8, 5, asm.Word),
			asm.Mov.Imm(asm.R6, 0),
			asm.Mov.Imm(asm.R9, 0),
			asm.Return(),
		}}}, nil},
		{"hash update and lookup", []prog{{"p", asm.Instructions{
			asm.StoreImm(asm.R10, -4, 42, asm.Word),
			asm.LoadImm(asm.R1, 0x1234_5678_9abc, asm.DWord),
			asm.StoreMem(asm.R10, -16, asm.R1, asm.DWord),
			asm.LoadMapPtr(asm.R1, 0).WithReference("h"),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.Mov.Reg(asm.R3, asm.R10),
			asm.Add.Imm(asm.R3, -16),
			asm.Mov.Imm(asm.R4, 0),
			asm.FnMapUpdateElem.Call(),
			asm.Mov.Reg(asm.R6, asm.R0),
			asm.LoadMapPtr(asm.R1, 0).WithReference("h"),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "miss"),
			asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord),
			asm.Add.Reg(asm.R0, asm.R6),
			asm.Return(),
			asm.Mov.Imm(asm.R0, -1).WithSymbol("miss"),
			asm.Return(),
		}}}, []*kernel.Map{{Name: "h", Type: "hash", KeySize: 4, ValueSize: 8, MaxEntries: 8}}},
	}
	for _, c := range cases {
		for _, p0 := range profiles(t) {
			t.Run(c.name+"/"+string(p0.Arch)+"/"+p0.Name, func(t *testing.T) {
				set := &kernel.Set{Name: c.name, Maps: c.maps}
				for _, pr := range c.progs {
					set.Programs = append(set.Programs, &kernel.Program{Name: pr.name, Type: "sched_cls", Insns: linkLabels(t, pr.insns)})
				}
				p := Profile(set, p0)
				imgs, err := Compile(set, p)
				if err != nil {
					if f, ok := RefusedFor(set, p, err); ok && f&^supported(p) != 0 {
						t.Skipf("refused as expected: %v", err)
					}
					t.Fatal(err)
				}
				if d := Diff(RunInterp(set, p, InterpConfig(p)), RunJIT(set, p, imgs, 0)); d != "" {
					t.Error(d)
				}
			})
		}
	}
}
