// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

var formatCases = []struct {
	ins  asm.Instruction
	want string
}{
	{asm.Mov.Imm(asm.R2, 0), "r2 = 0"},
	{asm.Mov.Imm32(asm.R2, 0), "w2 = 0"},
	{asm.Mov.Reg(asm.R6, asm.R1), "r6 = r1"},
	{asm.Add.Imm(asm.R2, -4), "r2 += -4"},
	{asm.ArSh.Imm32(asm.R1, 2), "w1 s>>= 2"},
	{asm.SDiv.Reg(asm.R1, asm.R2), "r1 s/= r2"},
	{asm.SMod.Imm32(asm.R1, 3), "w1 s%= 3"},
	{neg(asm.R1, false), "r1 = -r1"},
	{neg(asm.R3, true), "w3 = -w3"},
	{asm.MovSX8.Reg(asm.R1, asm.R2), "r1 = (s8)r2"},
	{asm.MovSX16.Reg32(asm.R1, asm.R2), "w1 = (s16)w2"},
	{asm.HostTo(asm.BE, asm.R1, asm.Half), "r1 = be16 r1"},
	{asm.HostTo(asm.LE, asm.R4, asm.DWord), "r4 = le64 r4"},
	{asm.BSwap(asm.R1, asm.Word), "r1 = bswap32 r1"},
	{asm.StoreMem(asm.R10, -1, asm.R2, asm.Byte), "*(u8 *)(r10 - 1) = r2"},
	{asm.LoadMem(asm.R0, asm.R10, -4, asm.Word), "r0 = *(u32 *)(r10 - 4)"},
	{asm.LoadMem(asm.R0, asm.R1, 0, asm.DWord), "r0 = *(u64 *)(r1 + 0)"},
	{asm.LoadMemSX(asm.R1, asm.R2, 8, asm.Half), "r1 = *(s16 *)(r2 + 8)"},
	{storeImm(asm.R1, 0, 5, asm.Word), "*(u32 *)(r1 + 0) = 5"},
	{asm.LoadAbs(12, asm.Half), "r0 = *(u16 *)skb[12]"},
	{asm.LoadInd(asm.R0, asm.R1, -4, asm.Byte), "r0 = *(u8 *)skb[r1 - 4]"},
	{jmp(asm.JGE, false, asm.R2, asm.R3, 5), "if r2 >= r3 goto +5"},
	{jmp(asm.JSet, true, asm.R1, 4, -1), "if w1 & 4 goto -1"},
	{jmp(asm.JEq, false, asm.R0, 0, 45).WithReference("LBB1_6"), "if r0 == 0 goto +45 <LBB1_6>"},
	{ja(-2), "goto -2"},
	{ja(0), "goto +0"},
	{gotol(70000), "gotol +70000"},
	{mayGoto(3), "may_goto +3"},
	{asm.FnTailCall.Call(), "call bpf_tail_call"},
	{asm.FnMapLookupElem.Call(), "call bpf_map_lookup_elem"},
	{asm.BuiltinFunc(123).Call(), "call bpf_get_current_ancestor_cgroup_id"},
	{asm.BuiltinFunc(3000).Call(), "call 3000"},
	{asm.Call.Label("subprog_tail"), "call subprog_tail"},
	{asm.Call.Label("bpf_tail_call"), "call pc-1 <bpf_tail_call>"},
	{pseudoCall(2), "call pc+2"},
	{pseudoCall(2).WithReference("sub"), "call pc+2 <sub>"},
	{kfuncCall(77), "call kernel-function#77"},
	{asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"), "r2 = map[jmp_table]"},
	{asm.LoadMapPtr(asm.R2, 5), "r2 = map[fd:5]"},
	{asm.LoadMapValue(asm.R1, 0, 4).WithReference(".bss"), "r1 = map[.bss][0]+4"},
	{asm.LoadMapValue(asm.R1, 3, 0), "r1 = map[fd:3][0]+0"},
	{asm.LoadImm(asm.R1, 0x123456789, asm.DWord), "r1 = 0x123456789 ll"},
	{asm.LoadImm(asm.R1, -1, asm.DWord), "r1 = 0xffffffffffffffff ll"},
	{asm.AddAtomic.Mem(asm.R1, asm.R2, asm.Word, 0), "lock *(u32 *)(r1 + 0) += r2"},
	{asm.XorAtomic.Mem(asm.R1, asm.R2, asm.DWord, -8), "lock *(u64 *)(r1 - 8) ^= r2"},
	{asm.FetchAdd.Mem(asm.R1, asm.R2, asm.DWord, 0), "r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)"},
	{asm.FetchOr.Mem(asm.R1, asm.R2, asm.Word, 4), "w2 = atomic_fetch_or((u32 *)(r1 + 4), w2)"},
	{asm.Xchg.Mem(asm.R1, asm.R2, asm.DWord, 0), "r2 = xchg_64(r1 + 0, r2)"},
	{asm.Xchg.Mem(asm.R1, asm.R2, asm.Word, 0), "w2 = xchg32_32(r1 + 0, w2)"},
	{asm.CmpXchg.Mem(asm.R1, asm.R2, asm.DWord, 0), "r0 = cmpxchg_64(r1 + 0, r0, r2)"},
	{asm.CmpXchg.Mem(asm.R1, asm.R2, asm.Word, -4), "w0 = cmpxchg32_32(r1 - 4, w0, w2)"},
	{asm.LoadAcquire(asm.R0, asm.R1, asm.Byte, 0), "w0 = load_acquire((u8 *)(r1 + 0))"},
	{asm.LoadAcquire(asm.R3, asm.R1, asm.DWord, 8), "r3 = load_acquire((u64 *)(r1 + 8))"},
	{asm.StoreRelease(asm.R1, asm.R2, asm.DWord, -8), "store_release((u64 *)(r1 - 8), r2)"},
	{asm.Return(), "exit"},
	{asm.Instruction{OpCode: asm.InvalidOpCode}, "<invalid INVALID>"},
}

func TestFormat(t *testing.T) {
	for _, tc := range formatCases {
		if got := Format(tc.ins); got != tc.want {
			t.Errorf("Format(%v) = %q, want %q", show(tc.ins), got, tc.want)
		}
	}
}

// allInstructions generates instructions of every class and operation that
// cilium supports.
func allInstructions() asm.Instructions {
	var out asm.Instructions
	add := func(ins ...asm.Instruction) { out = append(out, ins...) }

	regs := []asm.Register{asm.R0, asm.R1, asm.R5, asm.R9, asm.R10}
	imms := []int32{0, 1, -1, 0x7fffffff, -0x80000000, 4096}
	for _, op := range []asm.ALUOp{asm.Add, asm.Sub, asm.Mul, asm.Div, asm.SDiv, asm.Or, asm.And, asm.LSh, asm.RSh, asm.Mod, asm.SMod, asm.Xor, asm.Mov, asm.ArSh} {
		for i, r := range regs {
			src := regs[(i+1)%len(regs)]
			imm := imms[i%len(imms)]
			add(op.Reg(r, src), op.Imm(r, imm), op.Reg32(r, src), op.Imm32(r, imm))
		}
	}
	for _, r := range regs {
		add(neg(r, false), neg(r, true))
		add(asm.MovSX8.Reg(r, asm.R3), asm.MovSX16.Reg(r, asm.R3), asm.MovSX32.Reg(r, asm.R3))
		add(asm.MovSX8.Reg32(r, asm.R3), asm.MovSX16.Reg32(r, asm.R3))
		for _, size := range []asm.Size{asm.Half, asm.Word, asm.DWord} {
			add(asm.HostTo(asm.LE, r, size), asm.HostTo(asm.BE, r, size), asm.BSwap(r, size))
		}
	}

	offs := []int16{0, 1, -1, 32767, -32768}
	for _, op := range []asm.JumpOp{asm.JEq, asm.JGT, asm.JGE, asm.JSet, asm.JNE, asm.JSGT, asm.JSGE, asm.JLT, asm.JLE, asm.JSLT, asm.JSLE} {
		for i, r := range regs {
			off := offs[i%len(offs)]
			imm := int(imms[i%len(imms)])
			add(jmp(op, false, r, regs[(i+2)%len(regs)], off), jmp(op, false, r, imm, off))
			add(jmp(op, true, r, regs[(i+2)%len(regs)], off), jmp(op, true, r, imm, off))
		}
	}
	for _, off := range offs {
		add(ja(off), mayGoto(off))
	}
	add(ja(7).WithReference("LBB0_7"), jmp(asm.JEq, false, asm.R1, 0, -1).WithReference("loop"))
	for _, imm := range []int64{0, 1, -1, 70000, -70000, 0x7fffffff, -0x80000000} {
		add(gotol(imm))
	}
	add(gotol(-1).WithReference("far"))
	for _, fn := range []asm.BuiltinFunc{asm.FnUnspec, asm.FnMapLookupElem, asm.FnTailCall, asm.FnKtimeGetNs, asm.FnCgrpStorageDelete, 212, 1000} {
		add(fn.Call())
	}
	add(pseudoCall(2), pseudoCall(-5), pseudoCall(-1).WithReference("bpf_tail_call"), pseudoCall(9).WithReference("sub"))
	add(kfuncCall(1234), kfuncCall(-1).WithReference("bpf_obj_new_impl"))
	add(asm.Return())

	sizes := []asm.Size{asm.Byte, asm.Half, asm.Word, asm.DWord}
	for i, size := range sizes {
		off := offs[i%len(offs)]
		add(asm.LoadMem(asm.R0, asm.R10, off, size), asm.StoreMem(asm.R10, off, asm.R3, size))
		add(storeImm(asm.R1, off, -7, size), storeImm(asm.R2, off, 0x7fffffff, size))
		if size != asm.DWord {
			add(asm.LoadMemSX(asm.R4, asm.R5, off, size))
			add(asm.LoadAbs(int32(i*100-50), size), asm.LoadInd(asm.R0, asm.R6, int32(50-i*100), size))
		}
		add(asm.LoadAcquire(asm.R1, asm.R2, size, off), asm.StoreRelease(asm.R3, asm.R4, size, off))
	}
	for _, size := range []asm.Size{asm.Word, asm.DWord} {
		for _, op := range []asm.AtomicOp{asm.AddAtomic, asm.AndAtomic, asm.OrAtomic, asm.XorAtomic, asm.FetchAdd, asm.FetchAnd, asm.FetchOr, asm.FetchXor, asm.Xchg, asm.CmpXchg} {
			add(op.Mem(asm.R1, asm.R2, size, -16), op.Mem(asm.R10, asm.R0, size, 100))
		}
	}

	for _, v := range []int64{0, 1, -1, 0x123456789, -0x123456789, -1 << 63, 0x7fffffffffffffff, 0x80000000} {
		add(asm.LoadImm(asm.R3, v, asm.DWord))
	}
	add(asm.LoadMapPtr(asm.R1, 0).WithReference("jmp_table"), asm.LoadMapPtr(asm.R2, 7))
	add(asm.LoadMapPtr(asm.R2, 0).WithReference("id:5"))
	add(asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss"), asm.LoadMapValue(asm.R1, 0, 0xffffffff).WithReference(".rodata.str1.1"))
	add(asm.LoadMapValue(asm.R9, 3, 24))
	return out
}

func TestRoundTrip(t *testing.T) {
	insns := allInstructions()
	classes := map[asm.Class]bool{}
	for _, ins := range insns {
		classes[ins.OpCode.Class()] = true
		s := Format(ins)
		got, err := Parse("roundtrip", 1, s)
		if err != nil {
			t.Errorf("Parse(Format(%v)) = Parse(%q) = %v", show(ins), s, err)
			continue
		}
		if len(got) != 1 || !same(got[0], ins) {
			t.Errorf("Parse(%q) = %v, want %v", s, showAll(got), show(ins))
		}
	}
	if len(classes) != 8 {
		t.Errorf("generated instructions cover classes %v, want all 8", classes)
	}

	// As a program, with labels and calls to them.
	prog := append(asm.Instructions{asm.Call.Label("sub").WithSymbol("main")}, insns...)
	prog = append(prog, asm.Mov.Imm(asm.R0, 0).WithSymbol("sub"), asm.Call.Label("main"), asm.Return())
	text := FormatProgram(prog)
	got, err := Parse("roundtrip", 1, text)
	if err != nil {
		t.Fatalf("Parse(FormatProgram()) = %v", err)
	}
	checkProgram(t, text, got, prog)
}

func TestFormatProgram(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R0, 0).WithSymbol("entry"),
		asm.Call.Label("odd name"),
		asm.Return(),
		asm.Return().WithSymbol("odd name"),
	}
	want := "entry:\n\tr0 = 0\n\tcall pc-1 <odd name>\n\texit\n<odd name>:\n\texit\n"
	if got := FormatProgram(insns); got != want {
		t.Errorf("FormatProgram() = %q, want %q", got, want)
	}
}

func fuzzCheck(t *testing.T, src string) {
	insns, err := Parse("fuzz", 1, src)
	if err != nil {
		if _, ok := err.(*Error); !ok {
			t.Fatalf("Parse(%q) error %T is not *Error", src, err)
		}
		return
	}
	for _, ins := range insns {
		s := Format(ins)
		if ins.IsFunctionCall() && ins.Constant == -1 && !strings.HasPrefix(s, "call pc") {
			continue // "call name" needs the label, checked below
		}
		got, err := Parse("fuzz", 1, s)
		if err != nil {
			t.Fatalf("Parse(%q): Parse(Format(%v)) = Parse(%q) = %v", src, show(ins), s, err)
		}
		want := ins.WithSymbol("")
		if len(got) != 1 || !same(got[0], want) {
			t.Fatalf("Parse(%q): Parse(%q) = %v, want %v", src, s, showAll(got), show(want))
		}
	}
	text := FormatProgram(insns)
	got, err := Parse("fuzz", 1, text)
	if err != nil {
		t.Fatalf("Parse(%q): Parse(FormatProgram()) = Parse(%q) = %v", src, text, err)
	}
	if len(got) != len(insns) {
		t.Fatalf("Parse(%q): Parse(%q) = %v, want %v", src, text, showAll(got), showAll(insns))
	}
	for i := range insns {
		if !same(got[i], insns[i]) {
			t.Fatalf("Parse(%q): Parse(%q)[%d] = %v, want %v", src, text, i, show(got[i]), show(insns[i]))
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.src)
	}
	for _, tc := range errCases {
		f.Add(tc.src)
	}
	for _, tc := range formatCases {
		f.Add(tc.want)
	}
	f.Add(seed000)
	for _, name := range []string{"testdata/prog.objdump.txt", "testdata/atomics32.objdump.txt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(fuzzCheck)
}

// TestFuzzRegressions keeps inputs that once broke the round trip.
func TestFuzzRegressions(t *testing.T) {
	for i, src := range []string{
		"call pc",
		"call kernel\nkernel:\nexit",
		"<a b>:\nfoo:\ncall foo",
		"goto +1 < s>\nexit",
		"x:\ngoto x\n",
		"r1 = map_value(a]b)",
		"exit\n0: R_BPF_64_64 m",
		"r1 = 0 ll\n0: R_BPF_64_64 .bss",
		"r0=0 ll\n0: R_BPF_64_64 \v",
		"< a\v>:\ngoto < a\v>\n",
		"r1 = 8 ll\n0: R_BPF_64_64 .data",
		"Disassembly of section .text:\nf:\nexit\ncall -2\n0: R_BPF_64_32 .text",
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) { fuzzCheck(t, src) })
	}
}
