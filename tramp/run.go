// SPDX-License-Identifier: GPL-2.0-only

package tramp

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/jitscope/jitscope/abi"
	"github.com/jitscope/jitscope/exec/a64"
	"github.com/jitscope/jitscope/exec/amd64"
	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// RunResult is what one emulated call through a trampoline observed.
type RunResult struct {
	// Ctx is what the first program read from its context, slot by slot
	// (ctx[0] .. ctx[n-1], n the argument slots of the prototype); for an
	// fexit program one more slot, the return value.
	Ctx []uint64
	// Progs is what each attached program read, in the order of
	// TrampRequest.ProgKinds (Ctx is Progs[0]).
	Progs [][]uint64
	// Ret is what the traced function returned to its caller. Its body
	// returns its last stack argument slot as it finds it (0x2a without
	// stack arguments), so Ret also checks the stack arguments the
	// original function got.
	Ret   uint64
	Steps int
	// Clobbered lists the caller's callee-saved registers that did not
	// survive the call ("rbp = 0x..."): the trampoline broke the ABI.
	Clobbered []string
}

// Memory map of the emulated machine (all kernel addresses).
const (
	runStack   = 0xffff800010000000 // stack top
	runOut     = 0xffff000010000000 // where the program stores what it reads
	runRetAddr = 0xffff800008000100 // the traced function's caller
)

// ArgValues are distinct test values for each argument of f, one per
// 8-byte part, cut to the argument's size: what a caller passes.
func ArgValues(f *abi.Func) [][]uint64 {
	var v [][]uint64
	for i, a := range f.Args {
		size := a.Type.Size
		if a.Type.Kind == abi.Pointer {
			size = 8
		}
		var parts []uint64
		for j := 0; j*8 < size; j++ {
			x := 0x8070605040302010 ^ uint64(i+1)<<56 ^ uint64(j+1)<<48 ^ uint64(i*16+j)*0x01010101
			if n := size - 8*j; n < 8 {
				x &= 1<<(8*n) - 1
			}
			parts = append(parts, x)
		}
		v = append(v, parts)
	}
	return v
}

// recorder is a BPF program that copies nslots context slots to out and
// returns ret.
func recorder(nslots int, out uint64, ret int32) asm.Instructions {
	in := asm.Instructions{asm.LoadImm(asm.R3, int64(out), asm.DWord).WithSymbol("rec")}
	for k := 0; k < nslots; k++ {
		in = append(in,
			asm.LoadMem(asm.R2, asm.R1, int16(8*k), asm.DWord),
			asm.StoreMem(asm.R3, int16(8*k), asm.R2, asm.DWord))
	}
	return append(in, asm.Mov.Imm(asm.R0, ret), asm.Return())
}

// RunOptions change what the programs do.
type RunOptions struct {
	// FmodRet is what fmod_ret programs return: nonzero skips the
	// original function, and becomes its return value.
	FmodRet int32
}

// Run calls t's traced function with vals (per argument, per 8-byte
// part) placed as the calling convention says, through the trampoline,
// and reports what the first attached program (a recorder JITed by the
// trampoline version's BPF JIT) read from its context.
func Run(t *jit.Trampoline, call *abi.Call, vals [][]uint64) (*RunResult, error) {
	return RunWith(t, call, vals, RunOptions{})
}

// RunWith is Run with options.
func RunWith(t *jit.Trampoline, call *abi.Call, vals [][]uint64, o RunOptions) (*RunResult, error) {
	req := t.Request
	nslots := 0
	for _, a := range req.Func.Args {
		nslots += a.Type.Slots()
	}
	kinds := req.ProgKinds()
	if len(kinds) == 0 || len(req.Addrs.ProgFuncs) == 0 {
		return nil, fmt.Errorf("no program attached")
	}
	if len(kinds) > 16 {
		return nil, fmt.Errorf("%d programs: the emulator records at most 16", len(kinds))
	}
	prof, err := jit.LookupProfile(t.Arch, t.Version.Profile)
	if err != nil {
		return nil, err
	}
	// Every attached program is a recorder with its own output area; an
	// fexit program records the return value after the arguments.
	slotsOf := func(i int) int {
		if kinds[i] == "fexit" {
			return nslots + 1
		}
		return nslots
	}
	m := mem.New(0)
	mapped := map[uint64]bool{}
	mapPage := func(a uint64, perm mem.Perm) error {
		pg := a &^ 0xfff
		if mapped[pg] {
			return nil
		}
		mapped[pg] = true
		return m.Map(fmt.Sprintf("page %#x", pg), pg, 0x1000, perm)
	}
	write := func(a uint64, b []byte) error {
		for p := a &^ 0xfff; p < a+uint64(len(b)); p += 0x1000 {
			if err := mapPage(p, mem.Read|mem.Write|mem.Exec); err != nil {
				return err
			}
		}
		return m.WriteBytes(a, b)
	}
	retOf := func(i int) int32 {
		if kinds[i] == "fmod_ret" {
			return o.FmodRet
		}
		return 0
	}
	for i, fn := range req.Addrs.ProgFuncs {
		if i >= len(kinds) {
			break
		}
		set := &kernel.Set{Name: "tramp", Programs: []*kernel.Program{{Name: "rec", Type: "tracing",
			Insns: recorder(slotsOf(i), runOut+uint64(i)*0x100, retOf(i)), Funcs: []kernel.Func{{Name: "rec", Start: 0, StackDepth: -1}}}}}
		pl := set.Placement(t.Arch)
		pl.Funcs = map[string]uint64{"rec": fn}
		l, err := kernel.Load(set, "rec", t.Arch, prof.LoadOptions())
		if err != nil {
			return nil, err
		}
		img, err := jit.Compile(l, prof)
		if err != nil {
			return nil, fmt.Errorf("program %d: %w", i, err)
		}
		if err := write(fn, img.Funcs[0].Code); err != nil {
			return nil, err
		}
	}
	if err := write(t.Image.Address, t.Image.Code); err != nil {
		return nil, err
	}
	if err := m.Map("stack", runStack-0x10000, 0x10000, mem.Read|mem.Write); err != nil {
		return nil, err
	}
	if err := m.Map("out", runOut, 0x1000, mem.Read|mem.Write); err != nil {
		return nil, err
	}
	// The traced function's body returns its last stack argument slot.
	lastStack := -1
	for _, a := range call.Args {
		for _, p := range a.Parts {
			if p.Reg == "" && !p.Pad && p.Stack > lastStack {
				lastStack = p.Stack
			}
		}
	}
	res := &RunResult{}
	switch t.Arch {
	case kernel.ARM64:
		err = runA64(t, call, vals, m, write, lastStack, res)
	case kernel.X86_64:
		err = runAMD64(t, call, vals, m, write, lastStack, res)
	default:
		err = fmt.Errorf("no emulator for %s", t.Arch)
	}
	if err != nil {
		return nil, err
	}
	for i := range kinds {
		var got []uint64
		for k := 0; k < slotsOf(i); k++ {
			v, err := m.Load(runOut+uint64(i)*0x100+uint64(8*k), 8)
			if err != nil {
				return nil, err
			}
			got = append(got, v)
		}
		res.Progs = append(res.Progs, got)
	}
	res.Ctx = res.Progs[0]
	return res, nil
}

func le32(ws ...uint32) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

const maxSteps = 100000

func runA64(t *jit.Trampoline, call *abi.Call, vals [][]uint64, m *mem.Memory, write func(uint64, []byte) error, lastStack int, res *RunResult) error {
	ad := t.Request.Addrs
	ret := le32(0xd65f03c0) // ret
	stubs := map[uint64][]byte{
		ad.Enter:     le32(0xd2800020, 0xd65f03c0), // mov x0, #1; ret
		ad.Exit:      ret,
		ad.TrampEnt:  ret,
		ad.TrampExit: ret,
		runRetAddr:   le32(0xd503201f), // nop: the caller, where the run stops
	}
	// The traced function: its patched entry (mov x9, x30; bl trampoline),
	// then a body that returns its last stack argument slot.
	bl := uint32(0x94000000) | uint32((int64(t.Image.Address)-int64(ad.Func+4))/4)&0x3ffffff
	body := le32(0xd2800540, 0xd65f03c0) // mov x0, #0x2a; ret
	if lastStack >= 0 {
		body = le32(0xf9400000|uint32(lastStack/8)<<10|31<<5, 0xd65f03c0) // ldr x0, [sp, #off]; ret
	}
	stubs[ad.Func] = append(le32(0xaa1e03e9, bl), body...)
	for a, code := range stubs {
		if err := write(a, code); err != nil {
			return err
		}
	}
	c := &a64.CPU{PC: ad.Func, Trace: false}
	sp := uint64(runStack - 0x1000)
	c.SP = sp
	c.X[30] = runRetAddr
	// The caller's callee-saved registers (x19-x28) and frame pointer,
	// checked after the call.
	for r := 19; r <= 28; r++ {
		c.X[r] = 0x5a5a000000000000 | uint64(r)
	}
	c.X[29] = runStack - 0x100
	for i, pl := range call.Args {
		for j, p := range pl.Parts {
			if p.Pad {
				continue
			}
			if p.Reg != "" {
				var n int
				fmt.Sscanf(p.Reg, "x%d", &n)
				c.X[n] = vals[i][j]
			} else if err := m.Store(sp+uint64(p.Stack), 8, vals[i][j]); err != nil {
				return err
			}
		}
	}
	for res.Steps = 0; c.PC != runRetAddr; res.Steps++ {
		if res.Steps >= maxSteps {
			return fmt.Errorf("no return after %d steps (pc %#x)", res.Steps, c.PC)
		}
		if _, err := c.Step(m); err != nil {
			return fmt.Errorf("step %d: %w", res.Steps, err)
		}
	}
	if c.SP != sp {
		return fmt.Errorf("returned with sp %#x, called with %#x", c.SP, sp)
	}
	for r := 19; r <= 28; r++ {
		if c.X[r] != 0x5a5a000000000000|uint64(r) {
			res.Clobbered = append(res.Clobbered, fmt.Sprintf("x%d = %#x", r, c.X[r]))
		}
	}
	if c.X[29] != runStack-0x100 {
		res.Clobbered = append(res.Clobbered, fmt.Sprintf("x29 = %#x", c.X[29]))
	}
	res.Ret = c.X[0]
	return nil
}

var amd64Regs = map[string]int{"rdi": 7, "rsi": 6, "rdx": 2, "rcx": 1, "r8": 8, "r9": 9}

func runAMD64(t *jit.Trampoline, call *abi.Call, vals [][]uint64, m *mem.Memory, write func(uint64, []byte) error, lastStack int, res *RunResult) error {
	ad := t.Request.Addrs
	stubs := map[uint64][]byte{
		ad.Enter:     {0xb8, 1, 0, 0, 0, 0xc3}, // mov eax, 1; ret
		ad.Exit:      {0xc3},
		ad.TrampEnt:  {0xc3},
		ad.TrampExit: {0xc3},
		runRetAddr:   {0x90},
	}
	if ad.ReturnThunk != 0 {
		stubs[ad.ReturnThunk] = []byte{0xc3}
	}
	rel := int32(int64(t.Image.Address) - int64(ad.Func+5))
	fn := []byte{0xe8, byte(rel), byte(rel >> 8), byte(rel >> 16), byte(rel >> 24)} // call trampoline
	if lastStack >= 0 {
		// mov rax, [rsp + 8 + off]; ret
		off := 8 + lastStack
		fn = append(fn, 0x48, 0x8b, 0x84, 0x24, byte(off), byte(off>>8), 0, 0, 0xc3)
	} else {
		fn = append(fn, 0xb8, 0x2a, 0, 0, 0, 0xc3) // mov eax, 0x2a; ret
	}
	stubs[ad.Func] = fn
	for a, code := range stubs {
		if err := write(a, code); err != nil {
			return err
		}
	}
	c := &amd64.CPU{RIP: ad.Func}
	// At the call the stack pointer is 16-byte aligned; the call pushes
	// the return address.
	sp := uint64(runStack - 0x1000)
	c.R[4] = sp - 8
	// The caller's callee-saved registers, checked after the call.
	calleeSaved := map[int]string{3: "rbx", 5: "rbp", 12: "r12", 13: "r13", 14: "r14", 15: "r15"}
	for r := range calleeSaved {
		c.R[r] = 0x5a5a000000000000 | uint64(r)
	}
	if err := m.Store(sp-8, 8, runRetAddr); err != nil {
		return err
	}
	for i, pl := range call.Args {
		for j, p := range pl.Parts {
			if p.Pad {
				continue
			}
			if p.Reg != "" {
				c.R[amd64Regs[p.Reg]] = vals[i][j]
			} else if err := m.Store(sp+uint64(p.Stack), 8, vals[i][j]); err != nil {
				return err
			}
		}
	}
	for res.Steps = 0; c.RIP != runRetAddr; res.Steps++ {
		if res.Steps >= maxSteps {
			return fmt.Errorf("no return after %d steps (rip %#x)", res.Steps, c.RIP)
		}
		if _, err := c.Step(m); err != nil {
			return fmt.Errorf("step %d: %w", res.Steps, err)
		}
	}
	if c.R[4] != sp {
		return fmt.Errorf("returned with rsp %#x, want %#x", c.R[4], sp)
	}
	for _, r := range []int{3, 5, 12, 13, 14, 15} {
		if c.R[r] != 0x5a5a000000000000|uint64(r) {
			res.Clobbered = append(res.Clobbered, fmt.Sprintf("%s = %#x", calleeSaved[r], c.R[r]))
		}
	}
	res.Ret = c.R[0]
	return nil
}
