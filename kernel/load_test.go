package kernel

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

func set(insns asm.Instructions, maps ...*Map) *Set {
	return &Set{Name: "t", Programs: []*Program{{Name: "p", Type: "xdp", Insns: insns}}, Maps: maps}
}

func TestLoadSplitsFunctionsAndResolvesCalls(t *testing.T) {
	s := set(asm.Instructions{
		asm.Mov.Imm(asm.R1, 1).WithSymbol("p"),
		asm.Call.Label("sub"),
		asm.Return(),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jt").WithSymbol("sub"),
		asm.Mov.Reg(asm.R3, asm.R1),
		asm.Mov.Imm(asm.R3, 2),
		asm.FnTailCall.Call(),
		asm.FnKtimeGetNs.Call(),
		asm.Return(),
	}, &Map{Name: "jt", Type: "prog_array", MaxEntries: 4})
	l, err := Load(s, "p", ARM64, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Funcs) != 2 || l.Funcs[0].Name != "p" || l.Funcs[1].Name != "sub" {
		t.Fatalf("functions = %v, want p, sub", names(l))
	}
	call := l.Funcs[0].Insns[1]
	if call.Kind != FuncCall || call.Callee != 1 || call.Ref != "sub" {
		t.Errorf("call: kind %d callee %d ref %q, want FuncCall to 1 (sub)", call.Kind, call.Callee, call.Ref)
	}
	sub := l.Funcs[1]
	if sub.Insns[0].Kind != MapPtr || uint64(sub.Insns[0].Constant) == 0 {
		t.Errorf("map load not resolved to an address: %+v", sub.Insns[0])
	}
	if sub.Insns[0].Index != 3 || sub.Insns[1].Index != 5 {
		t.Errorf("slot indexes %d, %d, want 3, 5 (ld_imm64 takes two slots)", sub.Insns[0].Index, sub.Insns[1].Index)
	}
	tc := sub.Insns[3]
	if tc.Kind != TailCall || !tc.Direct || tc.Map != "jt" || tc.Key != 2 {
		t.Errorf("tail call: %+v, want a direct tail call to jt[2]", tc)
	}
	helper := sub.Insns[4]
	if helper.Kind != HelperCall || helper.Ref != "bpf_ktime_get_ns" {
		t.Errorf("helper call: kind %d ref %q", helper.Kind, helper.Ref)
	}
	if got := l.CallBase + uint64(int64(int32(helper.Constant))); l.Symbols[got] != "bpf_ktime_get_ns" {
		t.Errorf("helper address %#x not named in Symbols", got)
	}
	if !l.Funcs[0].TailCallReachable || !l.Funcs[1].TailCallReachable {
		t.Errorf("tail call reachability: main %v, sub %v; want both", l.Funcs[0].TailCallReachable, l.Funcs[1].TailCallReachable)
	}
}

func names(l *Loaded) []string {
	var n []string
	for _, f := range l.Funcs {
		n = append(n, f.Name)
	}
	return n
}

func TestStackDepth(t *testing.T) {
	cases := []struct {
		name  string
		insns asm.Instructions
		want  int
	}{
		{"none", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}, 0},
		{"byte at -1 rounds to 8", asm.Instructions{asm.StoreImm(asm.R10, -1, 0, asm.Byte), asm.Return()}, 8},
		{"load at -20", asm.Instructions{asm.LoadMem(asm.R0, asm.R10, -20, asm.Word), asm.Return()}, 24},
		{"pointer r2 = r10 - 40 passed to a helper", asm.Instructions{asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -40), asm.FnTracePrintk.Call(), asm.Return()}, 40},
		{"pointer arithmetic alone", asm.Instructions{asm.Mov.Reg(asm.R2, asm.R10), asm.Add.Imm(asm.R2, -40), asm.Return()}, 0},
	}
	for _, c := range cases {
		l, err := Load(set(c.insns), "p", X86_64, Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := l.Funcs[0].StackDepth; got != c.want {
			t.Errorf("%s: stack depth %d, want %d", c.name, got, c.want)
		}
	}
}

func TestDirectTailCallNeedsConstantsOnEveryPath(t *testing.T) {
	// r3 is set on one path only: a jump target sits between the constant
	// and the tail call, so the key is not known.
	s := set(asm.Instructions{
		asm.LoadMapPtr(asm.R2, 0).WithReference("jt"),
		asm.Mov.Imm(asm.R3, 0),
		asm.JEq.Imm(asm.R1, 0, "skip"),
		asm.Mov.Imm(asm.R3, 1),
		asm.FnTailCall.Call().WithSymbol("skip"),
		asm.Return(),
	}, &Map{Name: "jt", Type: "prog_array", MaxEntries: 2})
	// Resolve the label by hand: cilium leaves jump references to the assembler.
	s.Programs[0].Insns[2].Offset = 1
	s.Programs[0].Insns[4] = s.Programs[0].Insns[4].WithSymbol("")
	l, err := Load(s, "p", ARM64, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tc := l.Funcs[0].Insns[4]; tc.Direct {
		t.Errorf("tail call after a join marked direct: %+v", tc)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name  string
		insns asm.Instructions
		want  string
	}{
		{"jump out of range", asm.Instructions{asm.Ja.Imm(asm.R0, 0, ""), asm.Return()}, "jump out of range"},
		{"unknown map", asm.Instructions{asm.LoadMapPtr(asm.R1, 0).WithReference("nope"), asm.Return()}, `unknown map "nope"`},
		{"unknown function", asm.Instructions{asm.Call.Label("nowhere"), asm.Return()}, `unknown function "nowhere"`},
		{"stack too deep", asm.Instructions{asm.StoreMem(asm.R10, -520, asm.R1, asm.DWord), asm.Return()}, "exceeds the kernel's 512 bytes"},
	}
	cases[0].insns[0].Offset = 5
	for _, c := range cases {
		_, err := Load(set(c.insns), "p", ARM64, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestHelperNames(t *testing.T) {
	for id, want := range map[int64]string{1: "bpf_map_lookup_elem", 5: "bpf_ktime_get_ns", 7: "bpf_get_prandom_u32", 12: "bpf_tail_call", 23: "bpf_redirect", 6: "bpf_trace_printk"} {
		if got := HelperName(id); got != want {
			t.Errorf("HelperName(%d) = %q, want %q", id, got, want)
		}
		if got := HelperID(want); got != id {
			t.Errorf("HelperID(%q) = %d, want %d", want, got, id)
		}
	}
}

// TestXlatedCalls: in a capture's xlated form, "call 12" is the tail call,
// other helper and kfunc calls carry their address relative to
// __bpf_call_base, and bpf-to-bpf calls name the callee's index.
func TestXlatedCalls(t *testing.T) {
	kf := asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: 0x1000}
	helper := asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Constant: -0x40}
	s := &Set{Name: "x", Programs: []*Program{{Name: "p", Xlated: true, Insns: asm.Instructions{
		kf, helper, asm.FnTailCall.Call(), asm.Return(),
	}, Funcs: []Func{{Name: "p", StackDepth: 0}}}}}
	s.Placement(ARM64).Symbols = map[string]uint64{"__bpf_call_base": 0xffff800008000000}
	l, err := Load(s, "p", ARM64, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := l.Funcs[0].Insns
	if in[0].Kind != HelperCall || in[0].Raw.Imm != 0x1000 || in[0].Raw.Src != 2 {
		t.Errorf("kfunc call: %+v", in[0])
	}
	if in[1].Kind != HelperCall || in[1].Raw.Imm != -0x40 {
		t.Errorf("helper call: %+v", in[1])
	}
	if in[2].Kind != TailCall {
		t.Errorf("call 12 is not a tail call: %+v", in[2])
	}
}

// TestRawAtomics: atomics built with cilium/ebpf's builders keep their
// operation in the kernel's imm (cilium's Marshal alone would lose it).
func TestRawAtomics(t *testing.T) {
	cases := []struct {
		ins  asm.Instruction
		want int32
	}{
		{asm.AddAtomic.Mem(asm.R1, asm.R2, asm.Word, 0), 0x00},
		{asm.FetchAdd.Mem(asm.R1, asm.R2, asm.DWord, 8), 0x01},
		{asm.FetchXor.Mem(asm.R1, asm.R2, asm.DWord, 0), 0xa1},
		{asm.Xchg.Mem(asm.R1, asm.R2, asm.Word, 0), 0xe1},
		{asm.CmpXchg.Mem(asm.R1, asm.R2, asm.DWord, 0), 0xf1},
	}
	for _, c := range cases {
		r, err := RawOf(c.ins)
		if err != nil {
			t.Fatal(err)
		}
		if r.Imm != c.want || r.Code&0xe0 != 0xc0 {
			t.Errorf("RawOf(%v) = code %#x imm %#x, want an atomic with imm %#x", c.ins, r.Code, r.Imm, c.want)
		}
	}
}
