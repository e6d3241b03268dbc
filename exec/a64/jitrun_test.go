package a64

import (
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// TestRunJITProgram compiles a self-contained BPF program (ALU, stack,
// atomics and a bpf-to-bpf call; no maps, no helpers) with every arm64
// profile and runs the images with BTI and PAC enforced: the prologues,
// landing pads, frame set-up, calls and epilogues must work as emitted.
func TestRunJITProgram(t *testing.T) {
	xadd := asm.StoreXAdd(asm.R10, asm.R3, asm.DWord) // lock *(u64 *)(r10-16) += r3
	xadd.Offset = -16
	entry := asm.Instructions{
		asm.Mov.Imm(asm.R6, 10).WithSymbol("entry"),
		asm.Mov.Imm(asm.R1, 5),
		asm.Call.Label("sub"),       // r0 = 15
		asm.Add.Reg(asm.R0, asm.R6), // 25
		asm.StoreMem(asm.R10, -8, asm.R0, asm.DWord),
		asm.Mov.Imm(asm.R2, 100),
		asm.StoreMem(asm.R10, -16, asm.R2, asm.DWord),
		asm.Mov.Imm(asm.R3, 7),
		xadd,
		asm.LoadMem(asm.R0, asm.R10, -8, asm.DWord),  // 25
		asm.LoadMem(asm.R4, asm.R10, -16, asm.DWord), // 107
		asm.Sub.Imm(asm.R4, 107),
		{OpCode: asm.JEq.Op(asm.ImmSource), Dst: asm.R4, Constant: 0, Offset: 1}, // if r4 == 0 goto +1
		asm.Mov.Imm(asm.R0, -1),
		asm.Return(),
		asm.Mov.Reg(asm.R0, asm.R1).WithSymbol("sub"), // insn 15
		asm.Mul.Imm(asm.R0, 3),
		asm.Return(),
	}
	const (
		entryAddr = 0xffff800008010000
		subAddr   = 0xffff800008030000
		codeBase  = 0xffff800008000000
		stackTop  = 0xffff800010004000
		retAddr   = 0xffff800008000100 // the caller's continuation
	)
	for _, prof := range jit.Profiles(kernel.ARM64) {
		s := &kernel.Set{
			Name: "run",
			Programs: []*kernel.Program{{Name: "entry", Type: "sched_cls", Insns: entry, Funcs: []kernel.Func{
				{Name: "entry", Start: 0, StackDepth: -1},
				{Name: "sub", Start: 15, StackDepth: -1},
			}}},
		}
		pl := s.Placement(kernel.ARM64)
		pl.Funcs = map[string]uint64{"entry": entryAddr, "sub": subAddr}
		pl.Config = map[string]string{"CONFIG_ARM64_PTR_AUTH_KERNEL": "y", "CONFIG_ARM64_BTI_KERNEL": "y"}
		l, err := kernel.Load(s, "entry", kernel.ARM64, kernel.Options{Layout: prof.Layout})
		if err != nil {
			t.Fatal(err)
		}
		img, err := jit.Compile(l, prof)
		if err != nil {
			t.Fatalf("%s: %v", prof.Name, err)
		}
		m := mem.New(0)
		if err := m.Map("text", codeBase, 0x40000, mem.Read|mem.Exec); err != nil {
			t.Fatal(err)
		}
		if err := m.Map("stack", stackTop-0x4000, 0x4000, mem.Read|mem.Write); err != nil {
			t.Fatal(err)
		}
		for _, f := range img.Funcs {
			if err := m.WriteBytes(f.Address, f.Code); err != nil {
				t.Fatal(err)
			}
		}
		m.WriteBytes(retAddr, []byte{0x1f, 0x20, 0x03, 0xd5}) // nop
		for _, cfg := range []struct{ bti, pac bool }{{true, true}, {false, false}} {
			c := &CPU{PC: img.Funcs[0].Address, SP: stackTop, BTI: cfg.bti, PAC: cfg.pac, Trace: true}
			c.X[0] = stackTop - 0x2000 // ctx
			c.X[30] = retAddr
			c.BType = 2 // entered with blr, as the kernel calls a program
			var effects []Effect
			n := 0
			for ; c.PC != retAddr && n < 1000; n++ {
				e, err := c.Step(m)
				if err != nil {
					t.Fatalf("%s (BTI %v, PAC %v): step %d: %v", prof.Name, cfg.bti, cfg.pac, n, err)
				}
				effects = append(effects, e)
			}
			if c.PC != retAddr || c.X[0] != 25 || c.SP != stackTop {
				t.Errorf("%s: after %d steps pc %#x x0 %d sp %#x; want return to %#x with 25, sp %#x",
					prof.Name, n, c.PC, c.X[0], c.SP, uint64(retAddr), uint64(stackTop))
			}
			for i := len(effects) - 1; i >= 0; i-- {
				c.Undo(m, effects[i])
			}
			if c.PC != img.Funcs[0].Address || c.SP != stackTop || c.X[30] != retAddr || c.X[0] != stackTop-0x2000 {
				t.Errorf("%s: undo did not return to the entry state", prof.Name)
			}
		}
	}
}

// TestRunJITTailCalls runs the tail-call-count scenario on every arm64
// profile: entry tail-calls classifier_0, which counts its runs in global
// data and tail-calls itself until the JIT's counter stops it. The kernel
// objects the inlined tail call reads (struct bpf_array, struct bpf_prog)
// are laid out in memory by hand with the profile's offsets.
func TestRunJITTailCalls(t *testing.T) {
	entry := asm.Instructions{
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table").WithSymbol("entry"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return(),
	}
	cls := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1).WithSymbol("classifier_0"),
		asm.LoadMapValue(asm.R7, 0, 0).WithReference(".bss"),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R7, asm.R1, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table"),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnTailCall.Call(),
		asm.LoadMem(asm.R0, asm.R7, 0, asm.Word),
		asm.Return(),
	}
	const (
		codeBase  = 0xffff800008000000
		entryAddr = 0xffff800008010000
		clsAddr   = 0xffff800008020000
		retAddr   = 0xffff800008000100
		dataBase  = 0xffff000002000000 // map, prog and .bss
		mapAddr   = dataBase
		progAddr  = dataBase + 0x1000
		bssAddr   = dataBase + 0x2000
		stackTop  = 0xffff800010004000
	)
	for _, prof := range jit.Profiles(kernel.ARM64) {
		s := &kernel.Set{
			Name: "tailcall_count",
			Programs: []*kernel.Program{
				{Name: "entry", Type: "sched_cls", Insns: entry, Funcs: []kernel.Func{{Name: "entry", StackDepth: -1}}},
				{Name: "classifier_0", Type: "sched_cls", Insns: cls, Funcs: []kernel.Func{{Name: "classifier_0", StackDepth: -1}}},
			},
			Maps: []*kernel.Map{
				{Name: "jmp_table", Type: "prog_array", KeySize: 4, ValueSize: 4, MaxEntries: 1, Progs: map[uint32]string{0: "classifier_0"}},
				{Name: ".bss", Type: "array", KeySize: 4, ValueSize: 4, MaxEntries: 1},
			},
		}
		pl := s.Placement(kernel.ARM64)
		pl.Funcs = map[string]uint64{"entry": entryAddr, "classifier_0": clsAddr}
		pl.Maps = map[string]uint64{"jmp_table": mapAddr}
		pl.Values = map[string]uint64{".bss": bssAddr}
		pl.Config = map[string]string{"CONFIG_ARM64_PTR_AUTH_KERNEL": "y", "CONFIG_ARM64_BTI_KERNEL": "y"}
		m := mem.New(0)
		if err := m.Map("text", codeBase, 0x40000, mem.Read|mem.Exec); err != nil {
			t.Fatal(err)
		}
		if err := m.Map("kernel data", dataBase, 0x3000, mem.Read|mem.Write); err != nil {
			t.Fatal(err)
		}
		if err := m.Map("stack", stackTop-0x4000, 0x4000, mem.Read|mem.Write); err != nil {
			t.Fatal(err)
		}
		m.WriteBytes(retAddr, []byte{0x1f, 0x20, 0x03, 0xd5}) // nop
		var clsImage *jit.FuncImage
		for _, name := range []string{"entry", "classifier_0"} {
			l, err := kernel.Load(s, name, kernel.ARM64, kernel.Options{Layout: prof.Layout})
			if err != nil {
				t.Fatal(err)
			}
			img, err := jit.Compile(l, prof)
			if err != nil {
				t.Fatalf("%s: %v", prof.Name, err)
			}
			for _, f := range img.Funcs {
				if err := m.WriteBytes(f.Address, f.Code); err != nil {
					t.Fatal(err)
				}
			}
			if name == "classifier_0" {
				clsImage = img.Funcs[0]
			}
		}
		lay := prof.Layout
		m.Store(mapAddr+uint64(lay.ArrayMaxEntries), 4, 1)    // array->map.max_entries
		m.Store(mapAddr+uint64(lay.ArrayPtrs), 8, progAddr)   // array->ptrs[0]
		m.Store(progAddr+uint64(lay.ProgBPFFunc), 8, clsAddr) // prog->bpf_func
		if clsImage.TailCallEntry < 0 {
			t.Fatalf("%s: classifier_0 has no tail call entry", prof.Name)
		}
		c := &CPU{PC: entryAddr, SP: stackTop, BTI: true, PAC: true, Trace: true}
		c.X[0] = stackTop - 0x2000 // ctx
		c.X[30] = retAddr
		c.BType = 2
		tailCalls, n := 0, 0
		for ; c.PC != retAddr && n < 20000; n++ {
			e, err := c.Step(m)
			if err != nil {
				t.Fatalf("%s: step %d: %v", prof.Name, n, err)
			}
			if e.Branch.Kind == BranchIndirect {
				tailCalls++
				if e.Branch.Target != clsAddr+uint64(clsImage.TailCallEntry) {
					t.Fatalf("%s: tail call to %#x, want the landing pad %#x", prof.Name, e.Branch.Target, clsAddr+uint64(clsImage.TailCallEntry))
				}
			}
		}
		count, _ := m.Load(bssAddr, 4)
		if c.PC != retAddr || c.SP != stackTop || c.X[0] != count || count != 33 || tailCalls != 33 {
			t.Errorf("%s: after %d steps: pc %#x sp %#x x0 %d, count %d, %d tail calls; want a return with 33 runs and 33 tail calls",
				prof.Name, n, c.PC, c.SP, c.X[0], count, tailCalls)
		} else {
			t.Logf("%s: %d instructions, %d tail calls, count %d", prof.Name, n, tailCalls, count)
		}
	}
}
