package bpf

import (
	"strconv"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/kernel"
)

// testLayout is the x86-64 6.x struct layout (bpf_array.map.max_entries,
// bpf_array.ptrs, bpf_prog.bpf_func).
var testLayout = kernel.Layout{ArrayMaxEntries: 0x24, ArrayPtrs: 0x110, ProgBPFFunc: 0x30}

// link resolves jump labels: cilium/ebpf leaves jump references to the
// assembler. Symbols name the targets; calls are left to kernel.Load.
func link(t testing.TB, insns asm.Instructions) asm.Instructions {
	t.Helper()
	out := make(asm.Instructions, len(insns))
	copy(out, insns)
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
		off := target - slot[i] - 1
		if op.Class() == asm.Jump32Class && op.JumpOp() == asm.Ja {
			out[i].Constant = int64(off)
		} else {
			out[i].Offset = int16(off)
		}
	}
	return out
}

type progSpec struct {
	name  string
	insns asm.Instructions
}

// newKernel lays out programs and maps for the interpreter (no images).
func newKernel(t testing.TB, progs []progSpec, maps ...*kernel.Map) *machine.Kernel {
	t.Helper()
	set := &kernel.Set{Name: "test", Maps: maps}
	for _, p := range progs {
		set.Programs = append(set.Programs, &kernel.Program{Name: p.name, Type: "sched_cls", Insns: link(t, p.insns)})
	}
	k, err := machine.New(set, kernel.X86_64, testLayout, nil, machine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// runOne runs a single-program set and fails the test on error.
func runOne(t testing.TB, insns asm.Instructions, cfg Config, maps ...*kernel.Map) (*Result, *machine.Kernel) {
	t.Helper()
	k := newKernel(t, []progSpec{{"p", insns}}, maps...)
	res, err := Run(k, "p", cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res, k
}

// readU32 reads a u32 of array map name at byte offset off of its values.
func readU32(t testing.TB, k *machine.Kernel, name string, off uint64) uint64 {
	t.Helper()
	m := k.Maps[name]
	if m == nil {
		t.Fatalf("no map %s", name)
	}
	v, err := k.Mem.Load(m.ValueAddr+off, 4)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// kinds lists the events as "kind from>to value detail" strings.
func kinds(evs []trace.Event, only ...trace.Kind) []string {
	var out []string
	for _, e := range evs {
		if len(only) > 0 {
			keep := false
			for _, k := range only {
				keep = keep || e.Kind == k
			}
			if !keep {
				continue
			}
		}
		s := string(e.Kind)
		if e.From != "" || e.To != "" {
			s += " " + e.From + ">" + e.To
		}
		if e.Value != nil {
			s += " =" + strconv.FormatInt(*e.Value, 10)
		}
		if e.Detail != "" && e.Kind != trace.TailCall {
			s += " " + e.Detail
		}
		out = append(out, s)
	}
	return out
}

func count(evs []trace.Event, kind trace.Kind, detail string) int {
	n := 0
	for _, e := range evs {
		if e.Kind == kind && (detail == "" || e.Detail == detail) {
			n++
		}
	}
	return n
}

// Instruction builders for forms cilium/ebpf builds only with labels.

func jmpReg(op asm.JumpOp, dst, src asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(op).SetSource(asm.RegSource), Dst: dst, Src: src, Offset: off}
}

func jmpImm(op asm.JumpOp, dst asm.Register, imm int32, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(op).SetSource(asm.ImmSource), Dst: dst, Constant: int64(imm), Offset: off}
}

func jmp32Reg(op asm.JumpOp, dst, src asm.Register, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(op).SetSource(asm.RegSource), Dst: dst, Src: src, Offset: off}
}

func jmp32Imm(op asm.JumpOp, dst asm.Register, imm int32, off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(op).SetSource(asm.ImmSource), Dst: dst, Constant: int64(imm), Offset: off}
}

func ld64(dst asm.Register, v uint64) asm.Instruction { return asm.LoadImm(dst, int64(v), asm.DWord) }

// stImm64 is "*(u64 *)(dst + off) = imm", which cilium/ebpf's StoreImm
// refuses to build (the kernel sign-extends imm: BPF_ST | BPF_MEM | BPF_DW).
func stImm64(dst asm.Register, off int16, imm int32) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: int64(imm)}
}

// atomic puts the atomic operation into Constant: cilium/ebpf v0.22's
// Instruction.Marshal reads the immediate before it folds the operation
// back into it, so builder-made atomics would be encoded with imm 0
// (BPF_ADD) by kernel.RawOf.
func atomic(ins asm.Instruction) asm.Instruction {
	if op := ins.OpCode.AtomicOp(); op != asm.InvalidAtomic {
		ins.Constant = int64(uint32(op) >> 8)
	}
	return ins
}
