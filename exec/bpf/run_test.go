package bpf

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	"github.com/jitscope/jitscope/kernel"
)

// Tail call counter models: the profiles' three designs.
var (
	cfg510 = Config{MaxTailCallCnt: 32, CountGT: true} // 5.10: cmp eax, 32; ja out
	cfg61  = Config{MaxTailCallCnt: 33}                // 5.17-6.10: count by value, jae
	cfg612 = Config{MaxTailCallCnt: 33, TCCPtr: true}  // 6.11+: tcc pointer
)

func bss() *kernel.Map {
	return &kernel.Map{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 8, MaxEntries: 1}
}

func progArray(name string, max uint32, slots map[uint32]string) *kernel.Map {
	return &kernel.Map{Name: name, Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: max, Progs: slots}
}

// seed000 is seed 000's programs (jit/arm64/seed_test.go), unpinned.
func seed000(t *testing.T) *machine.Kernel {
	entry := asm.Instructions{
		asm.Mov.Imm32(asm.R2, 0),
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
	cls := asm.Instructions{
		asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss"),
		asm.Mov.Imm32(asm.R2, 1),
		asm.StoreMem(asm.R1, 0, asm.R2, asm.Word),
		asm.Mov.Imm32(asm.R0, 0),
		asm.Return(),
	}
	return newKernel(t, []progSpec{{"entry", entry}, {"classifier_0", cls}},
		progArray("jmp_table", 1, map[uint32]string{0: "classifier_0"}),
		&kernel.Map{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 4, MaxEntries: 1})
}

func TestSeed000(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"6.1", cfg61, []string{
			"tcc entry> =0",
			"call entry>entry/subprog_tail",
			"tcc entry/subprog_tail> =1",
			"tail_call entry/subprog_tail>classifier_0",
			"return classifier_0>entry",
			"tcc entry> =0 restored", // entry's own count: the callee's increment is gone
			"return entry>kernel =0",
		}},
		{"6.12", cfg612, []string{
			"tcc entry> =0",
			"call entry>entry/subprog_tail",
			"tcc entry/subprog_tail> =1",
			"tail_call entry/subprog_tail>classifier_0",
			"return classifier_0>entry",
			"return entry>kernel =0",
		}},
	} {
		k := seed000(t)
		res, err := Run(k, "entry", c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.Retval != 0 || res.TailCalls != 1 {
			t.Errorf("%s: retval %d, tail calls %d; want 0, 1", c.name, res.Retval, res.TailCalls)
		}
		if done := readU32(t, k, ".bss", 0); done != 1 {
			t.Errorf("%s: .bss done = %d, want 1", c.name, done)
		}
		if got := kinds(res.Events); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: events\n got  %q\n want %q", c.name, got, c.want)
		}
		// entry: 4 insns, subprog_tail up to the tail call: 8, classifier_0: 5 (ld_imm64 counts once).
		if res.Steps != 3+8+5+1 {
			t.Errorf("%s: steps = %d, want %d", c.name, res.Steps, 3+8+5+1)
		}
	}
}

// selfTail is tailcall_3's counting program in one: it counts its runs in
// .bss and tail-calls itself through jmp_table[0]; r0 = 7 once a tail call
// fails.
func selfTail() asm.Instructions {
	return asm.Instructions{
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
	}
}

func TestTailCallLimit(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
	}{
		{"6.1 count >= 33", cfg61},
		{"5.10 count > 32", cfg510},
		{"6.12 tcc pointer", cfg612},
	} {
		k := newKernel(t, []progSpec{{"self", selfTail()}}, progArray("jmp_table", 1, map[uint32]string{0: "self"}), bss())
		res, err := Run(k, "self", c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// The first run plus MAX_TAIL_CALL_CNT (33) tail calls.
		if runs := readU32(t, k, ".bss", 0); runs != 34 {
			t.Errorf("%s: runs = %d, want 34", c.name, runs)
		}
		if res.TailCalls != 33 || res.Retval != 7 {
			t.Errorf("%s: tail calls %d, retval %d; want 33, 7", c.name, res.TailCalls, res.Retval)
		}
		misses := kinds(res.Events, trace.TailCallMiss)
		if !reflect.DeepEqual(misses, []string{"tail_call_miss self> limit"}) {
			t.Errorf("%s: misses %q, want one limit miss", c.name, misses)
		}
		var tcc []int64
		for _, e := range res.Events {
			if e.Kind == trace.TCC {
				tcc = append(tcc, *e.Value)
				if e.Where != Where {
					t.Errorf("%s: tcc event where %q", c.name, e.Where)
				}
			}
		}
		if len(tcc) != 34 || tcc[0] != 0 || tcc[33] != 33 {
			t.Errorf("%s: tcc values %v, want 0..33", c.name, tcc)
		}
	}
	// 5.10 with its MAX of 32 but a ">=" check would stop one earlier: the
	// ">" is what makes it 33.
	k := newKernel(t, []progSpec{{"self", selfTail()}}, progArray("jmp_table", 1, map[uint32]string{0: "self"}), bss())
	if _, err := Run(k, "self", Config{MaxTailCallCnt: 32}); err != nil {
		t.Fatal(err)
	}
	if runs := readU32(t, k, ".bss", 0); runs != 33 {
		t.Errorf("MAX 32 with >=: runs = %d, want 33", runs)
	}
}

// TestTailCall3 is selftests tailcall_3: entry tail-calls classifier_0,
// which counts and tail-calls itself; count == 33, retval 1.
func TestTailCall3(t *testing.T) {
	entry := asm.Instructions{
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	cls := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss"),
		asm.Mov.Imm(asm.R2, 1),
		atomic(asm.AddAtomic.Mem(asm.R1, asm.R2, asm.Word, 0)),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
	}
	for _, cfg := range []Config{cfg510, cfg61, cfg612} {
		k := newKernel(t, []progSpec{{"entry", entry}, {"classifier_0", cls}}, progArray("jmp_table", 1, map[uint32]string{0: "classifier_0"}), bss())
		res, err := Run(k, "entry", cfg)
		if err != nil {
			t.Fatal(err)
		}
		if n := readU32(t, k, ".bss", 0); n != 33 || res.Retval != 1 {
			t.Errorf("%+v: count %d, retval %d; want 33, 1", cfg, n, res.Retval)
		}
	}
}

// hierarchy1 is selftests tailcall_bpf2bpf_hierarchy1.c: entry counts in
// .bss and calls subprog_tail twice; subprog_tail tail-calls entry.
func hierarchy1(t *testing.T) *machine.Kernel {
	entry := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss"),
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word),
		asm.Add.Imm(asm.R2, 1),
		asm.StoreMem(asm.R1, 0, asm.R2, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Call.Label("subprog_tail"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.Call.Label("subprog_tail"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table").WithSymbol("subprog_tail"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	}
	return newKernel(t, []progSpec{{"entry", entry}}, progArray("jmp_table", 1, map[uint32]string{0: "entry"}), bss())
}

func TestHierarchy1(t *testing.T) {
	// 6.11+: one counter for the whole run (the selftest's assertion on a
	// fixed kernel): entry runs 34 times, 35 after the slot is emptied.
	k := hierarchy1(t)
	res, err := Run(k, "entry", cfg612)
	if err != nil {
		t.Fatal(err)
	}
	if n := readU32(t, k, ".bss", 0); n != 34 || res.Retval != 1 {
		t.Errorf("tcc pointer: count %d, retval %d; want 34, 1", n, res.Retval)
	}
	// Every entry but the last misses with its second call, the last with both.
	if res.TailCalls != 33 || count(res.Events, trace.TailCallMiss, "limit") != 35 {
		t.Errorf("tcc pointer: %d tail calls, %d limit misses; want 33, 35", res.TailCalls, count(res.Events, trace.TailCallMiss, "limit"))
	}
	if err := k.SetProgArray("jmp_table", 0, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(k, "entry", cfg612); err != nil {
		t.Fatal(err)
	}
	if n := readU32(t, k, ".bss", 0); n != 35 {
		t.Errorf("after deleting the slot: count %d, want 35", n)
	}

	// Before 6.11 each subprog_tail call starts from its caller's count
	// and the caller never sees what the tail calls added: entry at count
	// c runs 1 + 2*N(c+1) times, N(MAX) = 1, so 2^(MAX+1) - 1 in all
	// (about 2^34 with MAX 33: the bug the 6.11 design fixed).
	for _, max := range []int{1, 2, 3, 5} {
		k := hierarchy1(t)
		res, err := Run(k, "entry", Config{MaxTailCallCnt: max})
		if err != nil {
			t.Fatal(err)
		}
		if n, want := readU32(t, k, ".bss", 0), uint64(1)<<(max+1)-1; n != want {
			t.Errorf("by value, MAX %d: count %d, want %d", max, n, want)
		}
		if res.TailCalls != 1<<(max+1)-2 {
			t.Errorf("by value, MAX %d: %d tail calls, want %d", max, res.TailCalls, 1<<(max+1)-2)
		}
		k = hierarchy1(t)
		if _, err := Run(k, "entry", Config{MaxTailCallCnt: max, TCCPtr: true}); err != nil {
			t.Fatal(err)
		}
		if n := readU32(t, k, ".bss", 0); n != uint64(max)+1 {
			t.Errorf("tcc pointer, MAX %d: count %d, want %d", max, n, max+1)
		}
	}
	k = hierarchy1(t)
	res, err = Run(k, "entry", Config{MaxTailCallCnt: 33, StepLimit: 200_000})
	if !errors.Is(err, machine.ErrStepLimit) {
		t.Fatalf("by value, MAX 33: err = %v, want the step limit", err)
	}
	if res.Steps != 200_000 {
		t.Errorf("steps = %d, want 200000", res.Steps)
	}
}

// tailCaller tail-calls jmp_table[r3 = idx] and returns 100 on a miss.
func tailCaller(idx asm.Instruction) asm.Instructions {
	return asm.Instructions{
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		idx,
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 100),
		asm.Return(),
	}
}

func TestTailCallMisses(t *testing.T) {
	target := asm.Instructions{asm.Mov.Imm(asm.R0, 5), asm.Return()}
	arr := func() *kernel.Map { return progArray("jmp_table", 4, map[uint32]string{0: "target"}) }
	for _, c := range []struct {
		name   string
		idx    asm.Instruction
		cfg    Config
		retval uint64
		want   []string
	}{
		{"index", asm.Mov.Imm(asm.R3, 4), cfg61, 100,
			[]string{"tcc p> =0", "tail_call_miss p> index", "return p>kernel =100"}},
		{"index is u32: 1<<32 is slot 0", ld64(asm.R3, 1<<32), cfg61, 5,
			[]string{"tcc p> =0", "tcc p> =1", "tail_call p>target", "return target>kernel =5"}},
		{"negative index", asm.Mov.Imm(asm.R3, -1), cfg612, 100,
			[]string{"tcc p> =0", "tail_call_miss p> index"}},
		{"empty before 6.11 counts", asm.Mov.Imm(asm.R3, 2), cfg61, 100,
			[]string{"tcc p> =0", "tcc p> =1", "tail_call_miss p> empty", "return p>kernel =100"}},
		{"empty 6.11+ does not count", asm.Mov.Imm(asm.R3, 2), cfg612, 100,
			[]string{"tcc p> =0", "tail_call_miss p> empty", "return p>kernel =100"}},
	} {
		k := newKernel(t, []progSpec{{"p", tailCaller(c.idx)}, {"target", target}}, arr())
		res, err := Run(k, "p", c.cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.Retval != c.retval {
			t.Errorf("%s: retval %d, want %d", c.name, res.Retval, c.retval)
		}
		got := kinds(res.Events)
		if len(got) > len(c.want) {
			got = got[:len(c.want)]
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: events\n got  %q\n want %q", c.name, kinds(res.Events), c.want)
		}
	}
}

// TestEmptySlotsUseTheBudget: before 6.11 a tail call into an empty slot
// still counts, so after 33 of them a populated slot is out of reach.
func TestEmptySlotsUseTheBudget(t *testing.T) {
	insns := asm.Instructions{
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
	}
	target := asm.Instructions{asm.Mov.Imm(asm.R0, 5), asm.Return()}
	for _, c := range []struct {
		cfg          Config
		empty, limit int
		retval       uint64
	}{
		{cfg61, 33, 8, 100},
		{cfg510, 33, 8, 100},
		{cfg612, 40, 0, 5},
	} {
		k := newKernel(t, []progSpec{{"p", insns}, {"target", target}}, progArray("jmp_table", 2, map[uint32]string{0: "target"}))
		res, err := Run(k, "p", c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		e, l := count(res.Events, trace.TailCallMiss, "empty"), count(res.Events, trace.TailCallMiss, "limit")
		if e != c.empty || l != c.limit || res.Retval != c.retval {
			t.Errorf("%+v: %d empty, %d limit misses, retval %d; want %d, %d, %d", c.cfg, e, l, res.Retval, c.empty, c.limit, c.retval)
		}
	}
}

// TestCalls checks bpf-to-bpf calls: arguments in R1-R5, R6-R9 and the
// frame preserved for the caller, the callee's own frame.
func TestCalls(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R6, 1000),
		asm.Mov.Imm(asm.R9, 30000),
		asm.StoreImm(asm.R10, -8, 77, asm.Word),
		asm.Mov.Imm(asm.R1, 1),
		asm.Mov.Imm(asm.R2, 2),
		asm.Mov.Imm(asm.R5, 5),
		asm.Call.Label("sub"),
		// r0 = sub's result + r6 + r9 + the caller's stack slot
		asm.Add.Reg(asm.R0, asm.R6),
		asm.Add.Reg(asm.R0, asm.R9),
		asm.LoadMem(asm.R1, asm.R10, -8, asm.Word),
		asm.Add.Reg(asm.R0, asm.R1),
		asm.Return(),
		// sub: r0 = r1 + r2 + r5 + r6 (inherited), then clobbers r6-r9
		// and its own stack slot.
		asm.Mov.Reg(asm.R0, asm.R1).WithSymbol("sub"),
		asm.Add.Reg(asm.R0, asm.R2),
		asm.Add.Reg(asm.R0, asm.R5),
		asm.Add.Reg(asm.R0, asm.R6),
		asm.StoreImm(asm.R10, -8, 5, asm.Word),
		asm.Mov.Imm(asm.R6, 0),
		asm.Mov.Imm(asm.R9, 0),
		asm.Return(),
	}
	res, _ := runOne(t, insns, Config{})
	if want := uint64(1 + 2 + 5 + 1000 + 1000 + 30000 + 77); res.Retval != want {
		t.Errorf("r0 = %d, want %d", res.Retval, want)
	}
	want := []string{"tcc p> =0", "call p>p/sub", "return p/sub>p", "return p>kernel =32085"}
	if got := kinds(res.Events); !reflect.DeepEqual(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestHelpers(t *testing.T) {
	// bpf_map_update_elem(&h, &key, &val, BPF_ANY), then
	// bpf_map_lookup_elem(&h, &key) and read the value through it.
	insns := asm.Instructions{
		asm.StoreImm(asm.R10, -4, 42, asm.Word),
		ld64(asm.R1, 0x1234_5678_9abc),
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
	}
	hash := &kernel.Map{Name: "h", Type: "hash", KeySize: 4, ValueSize: 8, MaxEntries: 8}
	res, k := runOne(t, insns, Config{}, hash)
	if res.Retval != 0x1234_5678_9abc {
		t.Errorf("hash: r0 = %#x, want %#x", res.Retval, 0x1234_5678_9abc)
	}
	var helpers []string
	for _, e := range res.Events {
		if e.Kind == trace.Helper {
			helpers = append(helpers, e.To)
			if e.To == "bpf_map_update_elem" && *e.Value != 0 {
				t.Errorf("update returned %d", *e.Value)
			}
			if e.To == "bpf_map_lookup_elem" && *e.Value == 0 {
				t.Error("lookup returned NULL")
			}
		}
	}
	if want := []string{"bpf_map_update_elem", "bpf_map_lookup_elem"}; !reflect.DeepEqual(helpers, want) {
		t.Errorf("helper events %q, want %q", helpers, want)
	}
	_ = k

	// Array: lookup of key 1 gives &values[1]; key 4 (max_entries 4) NULL.
	arr := &kernel.Map{Name: "a", Type: "array", KeySize: 4, ValueSize: 8, MaxEntries: 4}
	lookup := func(key int32, then ...asm.Instruction) asm.Instructions {
		return append(asm.Instructions{
			asm.StoreImm(asm.R10, -4, int64(key), asm.Word),
			asm.LoadMapPtr(asm.R1, 0).WithReference("a"),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, -4),
			asm.FnMapLookupElem.Call(),
		}, then...)
	}
	res, k = runOne(t, append(lookup(1, asm.JEq.Imm(asm.R0, 0, "null"),
		asm.StoreImm(asm.R0, 0, 0xabcd, asm.Word),
		asm.Mov.Imm(asm.R0, 0)),
		asm.Return(),
		asm.Mov.Imm(asm.R0, -1).WithSymbol("null"),
		asm.Return()), Config{}, arr)
	if res.Retval != 0 {
		t.Errorf("array lookup of key 1 failed: r0 = %#x", res.Retval)
	}
	if v, err := k.Mem.Load(k.Maps["a"].ValueAddr+8, 8); err != nil || v != 0xabcd {
		t.Errorf("values[1] = %#x (%v), want 0xabcd", v, err)
	}
	res, _ = runOne(t, append(lookup(4), asm.Return()), Config{}, arr)
	if res.Retval != 0 {
		t.Errorf("array lookup of key 4 = %#x, want NULL", res.Retval)
	}

	// Helpers clobber R1-R5.
	res, _ = runOne(t, asm.Instructions{
		asm.Mov.Imm(asm.R5, 9),
		asm.FnKtimeGetNs.Call(),
		asm.Mov.Reg(asm.R0, asm.R5),
		asm.Return(),
	}, Config{})
	if res.Retval != 0 {
		t.Errorf("r5 after a helper call = %d, want 0", res.Retval)
	}
}

func TestStepLimit(t *testing.T) {
	k := newKernel(t, []progSpec{{"spin", asm.Instructions{
		asm.Mov.Imm(asm.R0, 0),
		asm.Add.Imm(asm.R0, 1).WithSymbol("top"),
		asm.Ja.Label("top"),
		asm.Return(),
	}}})
	res, err := Run(k, "spin", Config{StepLimit: 1001})
	if !errors.Is(err, machine.ErrStepLimit) {
		t.Fatalf("err = %v, want the step limit", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Prog != "spin" || e.Insn != 1 {
		t.Errorf("error %v does not name spin: insn 1", err)
	}
	if !strings.HasPrefix(err.Error(), "spin: insn 1: step limit reached") {
		t.Errorf("error text %q", err)
	}
	if res.Steps != 1001 {
		t.Errorf("steps = %d, want 1001", res.Steps)
	}
	// The default limit.
	if _, err := Run(k, "spin", Config{}); !errors.Is(err, machine.ErrStepLimit) || !strings.Contains(err.Error(), "1000000") {
		t.Errorf("default limit: %v", err)
	}
}

func TestFaults(t *testing.T) {
	// A NULL dereference in a subprogram names program, function and slot.
	k := newKernel(t, []progSpec{{"entry", asm.Instructions{
		asm.Call.Label("subprog_tail"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("subprog_tail"),
		ld64(asm.R1, 0),
		asm.LoadMem(asm.R0, asm.R1, 8, asm.DWord),
		asm.Return(),
	}}})
	res, err := Run(k, "entry", Config{})
	var f *mem.Fault
	if !errors.As(err, &f) || f.Addr != 8 {
		t.Fatalf("err = %v, want a fault at 8", err)
	}
	if !strings.HasPrefix(err.Error(), "entry/subprog_tail: insn 5: read of 8 bytes at 0x8") {
		t.Errorf("error text %q", err)
	}
	if res == nil || len(res.Events) != 2 {
		t.Errorf("the result so far should hold the tcc and call events: %+v", res)
	}

	// A store to the helper text is refused by its permissions.
	k = newKernel(t, []progSpec{{"p", asm.Instructions{
		asm.StoreImm(asm.R1, 0, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference("m"),
		asm.StoreImm(asm.R1, -8, 1, asm.Word),
		asm.Return(),
	}}}, &kernel.Map{Name: "m", Type: "array", KeySize: 4, ValueSize: 4, MaxEntries: 1})
	_, err = Run(k, "p", Config{})
	if err == nil || !strings.HasPrefix(err.Error(), "p: insn 3: write of 4 bytes") {
		t.Errorf("err = %v, want a write fault at insn 3", err)
	}

	// Unbounded recursion runs out of the kernel stack.
	k = newKernel(t, []progSpec{{"r", asm.Instructions{
		asm.Call.Label("rec"),
		asm.Return(),
		asm.Call.Label("rec").WithSymbol("rec"),
		asm.Return(),
	}}})
	if _, err := Run(k, "r", Config{}); err == nil || !strings.Contains(err.Error(), "r/rec: insn 2: kernel stack exhausted") {
		t.Errorf("recursion: err = %v", err)
	}
}

// TestBadInstructions patches the loaded code with what the verifier
// would never let through: the run must end in an error, not a panic.
func TestBadInstructions(t *testing.T) {
	for _, c := range []struct {
		name string
		raw  kernel.BPFInsn
		want string
	}{
		{"alu op 0xe0", kernel.BPFInsn{Code: 0xe4}, "unknown opcode 0xe4"},
		{"neg with a register source", kernel.BPFInsn{Code: 0x8f}, "unknown opcode 0x8f"},
		{"jcond", kernel.BPFInsn{Code: 0xe5}, "unknown opcode 0xe5"},
		{"ld_abs", kernel.BPFInsn{Code: 0x20}, "unknown opcode 0x20"},
		{"register 12", kernel.BPFInsn{Code: 0xbf, Dst: 12}, "invalid destination register r12"},
		{"source register 15", kernel.BPFInsn{Code: 0x0f, Src: 15}, "invalid source register r15"},
		{"movsx 24", kernel.BPFInsn{Code: 0xbf, Off: 24}, "movsx with invalid off 24"},
		{"sdiv off 2", kernel.BPFInsn{Code: 0x3f, Off: 2}, "div/mod with invalid off 2"},
		{"bswap 8", kernel.BPFInsn{Code: 0xd7, Imm: 8}, "byte swap of invalid width 8"},
		{"jump out of the function", kernel.BPFInsn{Code: 0x05, Off: 100}, "jump to slot 103, outside function p"},
		{"jump into ld_imm64", kernel.BPFInsn{Code: 0x05, Off: -2}, "the middle of an ld_imm64"},
		{"atomic b add", kernel.BPFInsn{Code: 0xd3, Dst: 10, Src: 1, Off: -8}, "unknown opcode 0xd3"},
		{"atomic op 0x20", kernel.BPFInsn{Code: 0xdb, Dst: 10, Src: 1, Off: -8, Imm: 0x20}, "unknown opcode 0xdb"},
		{"ldxsx dw", kernel.BPFInsn{Code: 0x99, Src: 10, Off: -8}, "unknown opcode 0x99"},
		{"exit32", kernel.BPFInsn{Code: 0x96}, "unknown opcode 0x96"},
		{"unresolved call", kernel.BPFInsn{Code: 0x85, Imm: 1}, "the loader did not resolve"},
	} {
		k := newKernel(t, []progSpec{{"p", asm.Instructions{
			ld64(asm.R0, 0),
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		}}})
		in := &k.Loaded["p"].Funcs[0].Insns[1]
		in.Raw = c.raw
		in.Kind = kernel.Plain
		_, err := Run(k, "p", Config{})
		if err == nil || !strings.HasPrefix(err.Error(), "p: insn 2: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want p: insn 2: ...%s", c.name, err, c.want)
		}
	}
	// Running off the end of a function.
	k := newKernel(t, []progSpec{{"p", asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}}})
	k.Loaded["p"].Funcs[0].Insns[1].Raw = kernel.BPFInsn{Code: 0xb7}
	if _, err := Run(k, "p", Config{}); err == nil || !strings.Contains(err.Error(), "ran off the end") {
		t.Errorf("fall-through: %v", err)
	}
	if _, err := Run(k, "nope", Config{}); err == nil {
		t.Error("unknown program: no error")
	}
}

func TestConfigFor(t *testing.T) {
	for _, c := range []struct {
		profile string
		want    Config
	}{
		{"v5.10", cfg510},
		{"v6.1", cfg61},
		{"v6.18", cfg612},
	} {
		p, err := jit.LookupProfile(kernel.ARM64, c.profile)
		if err != nil {
			t.Fatal(err)
		}
		if got := ConfigFor(p); got != c.want {
			t.Errorf("ConfigFor(%s) = %+v, want %+v", c.profile, got, c.want)
		}
	}
}

// TestTailCallFromSubprog: the target replaces the subprogram's frame and
// returns to the subprogram's caller, whose R6-R9 and frame are intact.
func TestTailCallFromSubprog(t *testing.T) {
	entry := asm.Instructions{
		asm.Mov.Imm(asm.R6, 1000),
		asm.Mov.Imm(asm.R9, 20000),
		asm.StoreImm(asm.R10, -8, 300, asm.Word),
		asm.Call.Label("sub"),
		asm.Add.Reg(asm.R0, asm.R6),
		asm.Add.Reg(asm.R0, asm.R9),
		asm.LoadMem(asm.R1, asm.R10, -8, asm.Word),
		asm.Add.Reg(asm.R0, asm.R1),
		asm.Return(),
		asm.Mov.Imm(asm.R6, 1).WithSymbol("sub"),
		asm.StoreImm(asm.R10, -8, 2, asm.Word),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, -1),
		asm.Return(),
	}
	target := asm.Instructions{
		asm.Mov.Imm(asm.R6, 7),
		asm.Mov.Imm(asm.R9, 7),
		asm.StoreImm(asm.R10, -8, 7, asm.Word),
		asm.Mov.Imm(asm.R0, 5),
		asm.Return(),
	}
	for _, cfg := range []Config{cfg61, cfg612} {
		k := newKernel(t, []progSpec{{"entry", entry}, {"target", target}}, progArray("jmp_table", 1, map[uint32]string{0: "target"}))
		res, err := Run(k, "entry", cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Retval != 5+1000+20000+300 {
			t.Errorf("%+v: r0 = %d, want %d", cfg, res.Retval, 5+1000+20000+300)
		}
		calls := kinds(res.Events, trace.Call, trace.TailCall, trace.Return)
		want := []string{"call entry>entry/sub", "tail_call entry/sub>target", "return target>entry", "return entry>kernel =21305"}
		if !reflect.DeepEqual(calls, want) {
			t.Errorf("%+v: events %q, want %q", cfg, calls, want)
		}
	}
}
