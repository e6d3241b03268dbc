// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// seed000 is the program of scenario seed 000.
const seed000 = `entry:
	w2 = 0
	*(u8 *)(r10 - 1) = r2
	call subprog_tail
	exit
subprog_tail:
	r6 = r1
	w1 = 1
	*(u32 *)(r10 - 4) = r1
	r7 = map[jmp_table]
	r1 = r6
	r2 = r7
	r3 = 0
	call bpf_tail_call
	r0 = *(u32 *)(r10 - 4)
	exit
`

func checkProgram(t *testing.T, src string, got, want asm.Instructions) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("Parse(%q) = %v, want %v", src, showAll(got), showAll(want))
	}
	for i := range want {
		if !same(got[i], want[i]) {
			t.Errorf("Parse(%q)[%d] = %v, want %v", src, i, show(got[i]), show(want[i]))
		}
	}
}

// marshal encodes insns with cilium and decodes them again, so that tests can
// see what Marshal resolved.
func marshal(t *testing.T, insns asm.Instructions) asm.Instructions {
	t.Helper()
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		t.Fatalf("Marshal() = %v", err)
	}
	out, err := asm.AppendInstructions(nil, &buf, binary.LittleEndian, "linux")
	if err != nil {
		t.Fatalf("AppendInstructions() = %v", err)
	}
	return out
}

func TestSeed000(t *testing.T) {
	got, err := Parse("seed000.txt", 3, seed000)
	if err != nil {
		t.Fatalf("Parse(seed 000) = %v", err)
	}
	want := asm.Instructions{
		asm.Mov.Imm32(asm.R2, 0).WithSymbol("entry"),
		asm.StoreMem(asm.R10, -1, asm.R2, asm.Byte),
		asm.Call.Label("subprog_tail"),
		asm.Return(),
		asm.Mov.Reg(asm.R6, asm.R1).WithSymbol("subprog_tail"),
		asm.Mov.Imm32(asm.R1, 1),
		asm.StoreMem(asm.R10, -4, asm.R1, asm.Word),
		asm.LoadMapPtr(asm.R7, 0).WithReference("jmp_table"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Mov.Reg(asm.R2, asm.R7),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.LoadMem(asm.R0, asm.R10, -4, asm.Word),
		asm.Return(),
	}
	checkProgram(t, seed000, got, want)
	if name := got.Name(); name != "entry" {
		t.Errorf("Name() = %q, want %q", name, "entry")
	}
	if refs := got.FunctionReferences(); len(refs) != 1 || refs[0] != "subprog_tail" {
		t.Errorf("FunctionReferences() = %v, want [subprog_tail]", refs)
	}

	// cilium resolves the bpf-to-bpf call: entry is 4 slots long, the call
	// is in slot 2, so the callee is 1 slot past the next instruction.
	enc := marshal(t, got)
	if c := enc[2]; c.Src != asm.PseudoCall || c.Constant != 1 {
		t.Errorf("Marshal() call = %v, want pseudo call with imm 1", show(c))
	}
	if ld := enc[7]; ld.Src != asm.PseudoMapFD || ld.Constant != 0 {
		t.Errorf("Marshal() map load = %v, want map fd load", show(ld))
	}

	// The same program through FormatProgram parses back identically.
	text := FormatProgram(got)
	again, err := Parse("formatted", 1, text)
	if err != nil {
		t.Fatalf("Parse(FormatProgram()) = %v\n%s", err, text)
	}
	checkProgram(t, text, again, got)
}

func TestLabels(t *testing.T) {
	src := `start:
	r1 = 0x123456789 ll
loop:
	r1 -= 1
	if r1 > 0 goto loop
	r2 = 1 ll
	goto end
	r3 = 5 ll
	gotol <end>
	may_goto loop
	if w1 s< w2 goto <start>
end:
.Lalias:
	call .Lalias
	exit
`
	got, err := Parse("labels.s", 1, src)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	// Slots: 0-1 ldimm, 2 loop, 3 if, 4-5 ldimm, 6 goto, 7-8 ldimm,
	// 9 gotol, 10 may_goto, 11 if, 12 end, 13 exit.
	want := asm.Instructions{
		asm.LoadImm(asm.R1, 0x123456789, asm.DWord).WithSymbol("start"),
		asm.Sub.Imm(asm.R1, 1).WithSymbol("loop"),
		jmp(asm.JGT, false, asm.R1, 0, -2).WithReference("loop"),
		asm.LoadImm(asm.R2, 1, asm.DWord),
		ja(5).WithReference("end"),
		asm.LoadImm(asm.R3, 5, asm.DWord),
		gotol(2).WithReference("end"),
		mayGoto(-9).WithReference("loop"),
		jmp(asm.JSLT, true, asm.R1, asm.R2, -12).WithReference("start"),
		asm.Call.Label("end").WithSymbol("end"),
		asm.Return(),
	}
	checkProgram(t, src, got, want)

	// Marshal keeps the offsets Parse computed.
	enc := marshal(t, got)
	for i, w := range want {
		if w.OpCode.Class().IsJump() && w.OpCode.JumpOp() != asm.Call && !sameFields(enc[i], w) {
			t.Errorf("Marshal()[%d] = %v, want %v", i, show(enc[i]), show(w))
		}
	}
	if enc[9].Constant != -1 {
		t.Errorf("Marshal() recursive call = %v, want imm -1", show(enc[9]))
	}
}

func TestLabelTooFar(t *testing.T) {
	var b strings.Builder
	b.WriteString("goto far\n")
	for range 16384 {
		b.WriteString("r1 = 0 ll\n")
	}
	b.WriteString("far:\nexit\n")
	_, err := Parse("far.s", 1, b.String())
	want := `far.s:1: label "far" is too far away (offset 32768 does not fit in 16 bits)`
	if err == nil || err.Error() != want {
		t.Errorf("Parse(far jump) = %v, want %q", err, want)
	}
	// gotol has a 32-bit range.
	src := strings.Replace(b.String(), "goto far", "gotol far", 1)
	got, err := Parse("far.s", 1, src)
	if err != nil {
		t.Fatalf("Parse(far gotol) = %v", err)
	}
	if got[0].Constant != 32768 {
		t.Errorf("Parse(far gotol)[0] = %v, want imm 32768", show(got[0]))
	}
}

var reObjdumpInsn = regexp.MustCompile(`(?m)^\s*\d+:\t((?:[0-9a-f]{2} ){7}[0-9a-f]{2}(?: (?:[0-9a-f]{2} ){7}[0-9a-f]{2})?)\t`)

// rawInstructions decodes the raw bytes llvm-objdump printed.
func rawInstructions(t *testing.T, text string) asm.Instructions {
	t.Helper()
	var raw []byte
	for _, m := range reObjdumpInsn.FindAllStringSubmatch(text, -1) {
		b, err := hex.DecodeString(strings.ReplaceAll(m[1], " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(raw), binary.LittleEndian, "linux")
	if err != nil {
		t.Fatal(err)
	}
	for i := range insns {
		if insns[i].OpCode.AtomicOp() != asm.InvalidAtomic {
			insns[i].Constant = 0
		}
	}
	return insns
}

func TestObjdumpFixture(t *testing.T) {
	text, err := os.ReadFile("testdata/prog.objdump.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("testdata/prog.objdump.txt", 1, string(text))
	if err != nil {
		t.Fatalf("Parse(prog.objdump.txt) = %v", err)
	}
	raw := rawInstructions(t, string(text))
	if len(got) != len(raw) {
		t.Fatalf("Parse(prog.objdump.txt) has %d instructions, raw bytes have %d", len(got), len(raw))
	}

	idx := map[string]int{}
	for i, ins := range got {
		if sym := ins.Symbol(); sym != "" {
			idx[sym] = i
		}
	}
	for _, sym := range []string{"mix", "LBB0_1", "LBB0_2", "subprog_tail", "entry", "LBB1_3", "LBB1_5", "LBB1_6"} {
		if _, ok := idx[sym]; !ok {
			t.Errorf("Parse(prog.objdump.txt) has no symbol %q", sym)
		}
	}

	// Relocated instructions, by instruction index (llvm-objdump numbers
	// slots, and entry has 64-bit loads at slots 8, 15, 27 and 44).
	entry := idx["entry"]
	relocated := map[int]asm.Instruction{
		idx["subprog_tail"] + 2: asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		entry + 8:               asm.LoadMapPtr(asm.R1, 0).WithReference("counters"),
		entry + 14:              asm.LoadMapValue(asm.R2, 0, 0).WithReference(".bss"),
		entry + 25:              asm.LoadMapValue(asm.R2, 0, 0).WithReference(".data"),
		entry + 41:              asm.LoadMapValue(asm.R1, 0, 0).WithReference(".data").WithSymbol("LBB1_5"),
		entry + 47:              asm.Call.Label("mix"),
		entry + 51:              asm.Call.Label("subprog_tail"),
	}
	for i := range got {
		if want, ok := relocated[i]; ok {
			if !same(got[i], want) {
				t.Errorf("Parse(prog.objdump.txt)[%d] = %v, want %v", i, show(got[i]), show(want))
			}
			continue
		}
		if !sameFields(got[i], raw[i]) {
			t.Errorf("Parse(prog.objdump.txt)[%d] = %v, raw bytes say %v", i, show(got[i]), show(raw[i]))
		}
	}
	if t.Failed() {
		return
	}

	// Jumps keep llvm's numeric offsets and the label as reference.
	if j := got[entry+11]; j.Reference() != "LBB1_6" || j.Offset != 45 {
		t.Errorf("Parse(prog.objdump.txt)[%d] = %v, want jump +45 <LBB1_6>", entry+11, show(j))
	}

	// cilium resolves both bpf-to-bpf calls to their callee's slot.
	enc := marshal(t, got)
	slot := func(i int) int {
		n := 0
		for _, ins := range got[:i] {
			n += int(ins.Width())
		}
		return n
	}
	for _, c := range []struct {
		at     int
		callee string
	}{{entry + 47, "mix"}, {entry + 51, "subprog_tail"}} {
		want := int64(slot(idx[c.callee]) - slot(c.at) - 1)
		if enc[c.at].Constant != want {
			t.Errorf("Marshal() call %s = %v, want imm %d", c.callee, show(enc[c.at]), want)
		}
	}
}

func TestObjdumpUnknownFixture(t *testing.T) {
	text, err := os.ReadFile("testdata/atomics32.objdump.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse("testdata/atomics32.objdump.txt", 1, string(text))
	if err != nil {
		t.Fatalf("Parse(atomics32.objdump.txt) = %v", err)
	}
	raw := rawInstructions(t, string(text))
	if len(got) != len(raw) {
		t.Fatalf("Parse(atomics32.objdump.txt) has %d instructions, raw bytes have %d", len(got), len(raw))
	}
	for i := range got {
		if !sameFields(got[i], raw[i]) {
			t.Errorf("Parse(atomics32.objdump.txt)[%d] = %v, raw bytes say %v", i, show(got[i]), show(raw[i]))
		}
	}
	if want := asm.CmpXchg.Mem(asm.R1, asm.R3, asm.Word, 12); !sameFields(got[12], want) {
		t.Errorf("Parse(atomics32.objdump.txt)[12] = %v, want %v", show(got[12]), show(want))
	}
}

func TestMultipleLabels(t *testing.T) {
	src := "first:\nsecond:\n\tr0 = 0\n\texit\nmain:\n\tcall second\n\tgoto second\n\texit\n"
	got, err := Parse("multi.s", 1, src)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	want := asm.Instructions{
		asm.Mov.Imm(asm.R0, 0).WithSymbol("first"),
		asm.Return(),
		asm.Call.Label("first").WithSymbol("main"),
		ja(-4).WithReference("first"),
		asm.Return(),
	}
	checkProgram(t, src, got, want)
}

func TestHelperNames(t *testing.T) {
	for _, c := range []struct {
		fn   asm.BuiltinFunc
		name string
	}{
		{asm.FnMapLookupElem, "bpf_map_lookup_elem"},
		{asm.FnTailCall, "bpf_tail_call"},
		{asm.FnKtimeGetNs, "bpf_ktime_get_ns"},
		{asm.FnGetPrandomU32, "bpf_get_prandom_u32"},
		{asm.FnTracePrintk, "bpf_trace_printk"},
		{asm.FnRedirect, "bpf_redirect"},
		{asm.FnL4CsumReplace, "bpf_l4_csum_replace"},
		{asm.FnSkcToTcp6Sock, "bpf_skc_to_tcp6_sock"},
		{asm.FnTcpRawGenSyncookieIpv4, "bpf_tcp_raw_gen_syncookie_ipv4"},
		{asm.FnCgrpStorageDelete, "bpf_cgrp_storage_delete"},
	} {
		if got := HelperName(c.fn); got != c.name {
			t.Errorf("HelperName(%v) = %q, want %q", c.fn, got, c.name)
		}
		if got, ok := HelperByName(c.name); !ok || got != c.fn {
			t.Errorf("HelperByName(%q) = %v, %v, want %v", c.name, got, ok, c.fn)
		}
	}
	if got := HelperName(asm.BuiltinFunc(5000)); got != "" {
		t.Errorf("HelperName(5000) = %q, want \"\"", got)
	}
}
