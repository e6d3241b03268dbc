package arm64_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/jit"
	_ "github.com/jitscope/jitscope/jit/arm64"
	"github.com/jitscope/jitscope/kernel"
)

// seedSet is seed 000's program built with cilium/ebpf's asm builders,
// pinned at the seed's addresses (independent of the scenario parser).
func seedSet() *kernel.Set {
	entry := asm.Instructions{
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
	cls := asm.Instructions{
		asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss").WithSymbol("classifier_0"),
		asm.Mov.Imm32(asm.R2, 1),
		asm.StoreMem(asm.R1, 0, asm.R2, asm.Word),
		asm.Mov.Imm32(asm.R0, 0),
		asm.Return(),
	}
	s := &kernel.Set{
		Name: "seed000",
		Programs: []*kernel.Program{
			{Name: "entry", Type: "sched_cls", Insns: entry, Funcs: []kernel.Func{
				{Name: "entry", Start: 0, Prototype: "int entry(struct __sk_buff *skb)", StackDepth: -1},
				{Name: "subprog_tail", Start: 4, Prototype: "int subprog_tail(struct __sk_buff *skb)", StackDepth: -1},
			}},
			{Name: "classifier_0", Type: "sched_cls", Insns: cls, Funcs: []kernel.Func{
				{Name: "classifier_0", Start: 0, Prototype: "int classifier_0(struct __sk_buff *skb)", StackDepth: -1},
			}},
		},
		Maps: []*kernel.Map{
			{Name: "jmp_table", Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 1, Progs: map[uint32]string{0: "classifier_0"}},
			{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 4, MaxEntries: 1},
		},
	}
	pl := s.Placement(kernel.ARM64)
	pl.Funcs = map[string]uint64{"entry": 0xffffffc0090151d4, "subprog_tail": 0xffffffc00902d25c, "classifier_0": 0xffffffc008ff5874}
	pl.Maps = map[string]uint64{"jmp_table": 0xffffff80c0334e00}
	pl.Values = map[string]uint64{".bss": 0xffffffc008fc6000}
	pl.Config = map[string]string{"CONFIG_ARM64_PTR_AUTH_KERNEL": "y", "CONFIG_ARM64_BTI_KERNEL": "y"}
	return s
}

func TestSeed000Plain(t *testing.T) {
	want, err := os.ReadFile("../../testdata/seed000/listing.txt")
	if err != nil {
		t.Fatal(err)
	}
	set := seedSet()
	prof, err := jit.LookupProfile(kernel.ARM64, "bpf-next-2022-06")
	if err != nil {
		t.Fatal(err)
	}
	var progs []*disasm.Program
	for _, p := range set.Programs {
		l, err := kernel.Load(set, p.Name, kernel.ARM64, kernel.Options{Layout: prof.Layout})
		if err != nil {
			t.Fatal(err)
		}
		img, err := jit.Compile(l, prof)
		if err != nil {
			t.Fatal(err)
		}
		lp, err := disasm.List(img)
		if err != nil {
			t.Fatal(err)
		}
		progs = append(progs, lp)
	}
	var got bytes.Buffer
	if err := disasm.WriteText(&got, progs, disasm.TextOptions{Plain: true}); err != nil {
		t.Fatal(err)
	}
	gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("line %d: got  %q\n              want %q", i+1, g, w)
		}
	}
	var arrows bytes.Buffer
	disasm.WriteText(&arrows, progs, disasm.TextOptions{})
	t.Logf("\n%s", arrows.String())
}
