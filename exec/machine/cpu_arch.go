package machine

import (
	"fmt"

	"github.com/jitscope/jitscope/exec/a64"
	"github.com/jitscope/jitscope/exec/amd64"
	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/kernel"
)

// NewCPU returns the emulator for the kernel's architecture, configured as
// the profile's kernel runs BPF code (BTI landing pads enforced when BTI is
// on; IBT on x86 when the kernel has it).
func NewCPU(k *Kernel, bti, pac, ibt bool) (CPU, error) {
	switch k.Arch {
	case kernel.ARM64:
		c := &a64.CPU{BTI: bti, PAC: pac, Trace: true}
		c.SPEL0 = k.currentTask()
		return &arm64CPU{c: c}, nil
	case kernel.X86_64:
		return &x86CPU{c: &amd64.CPU{IBT: ibt, Trace: true, GSBase: k.PerCPUOffset}}, nil
	}
	return nil, fmt.Errorf("no emulator for %s", k.Arch)
}

// arm64CPU adapts exec/a64 to the run loop.
type arm64CPU struct{ c *a64.CPU }

// A64 exposes the emulator (for the UI's register pane).
func (a *arm64CPU) A64() *a64.CPU { return a.c }

// SetTrace turns the per-step record of register and memory changes on
// or off (Runner.Run turns it off for runs that discard their steps).
func (a *arm64CPU) SetTrace(on bool) { a.c.Trace = on }

func (a *arm64CPU) PC() uint64     { return a.c.PC }
func (a *arm64CPU) SetPC(v uint64) { a.c.PC = v }
func (a *arm64CPU) Result() uint64 { return a.c.X[0] }

func (a *arm64CPU) Args() [5]uint64 {
	return [5]uint64{a.c.X[0], a.c.X[1], a.c.X[2], a.c.X[3], a.c.X[4]}
}

func (a *arm64CPU) Call(m *mem.Memory, fn, ret, sp uint64, args [5]uint64) error {
	for i, v := range args {
		a.c.X[i] = v
	}
	a.c.X[30] = ret
	a.c.SP = sp
	a.c.PC = fn
	// The kernel reaches BPF programs through an indirect call
	// (bpf_dispatcher / __bpf_prog_run): blr sets BTYPE so that the entry
	// landing pad is checked too.
	a.c.BType = 2
	return nil
}

// ReturnFromHelper models the helper's "ret": x0 = result, pc = x30. The
// AAPCS64 caller-saved registers a helper may clobber are left alone (the
// BPF ABI lets the JIT assume nothing about r1-r5 after a call).
func (a *arm64CPU) ReturnFromHelper(_ *mem.Memory, ret uint64) error {
	a.c.X[0] = ret
	a.c.PC = a.c.X[30]
	a.c.BType = 0
	return nil
}

func (a *arm64CPU) Reg(name string) uint64 {
	switch name {
	case "sp":
		return a.c.SP
	case "pc":
		return a.c.PC
	}
	var n int
	if _, err := fmt.Sscanf(name, "x%d", &n); err == nil && n >= 0 && n < 31 {
		return a.c.X[n]
	}
	return 0
}

func (a *arm64CPU) Step(m *mem.Memory) (Step, error) {
	e, err := a.c.Step(m)
	if err != nil {
		return Step{}, err
	}
	st := Step{PC: e.PC, Len: 4, Writes: e.Writes, BranchKind: e.Branch.Kind, Target: e.Branch.Target}
	for _, r := range e.Regs {
		st.Regs = append(st.Regs, RegChange{Reg: r.Reg, Old: r.Old, New: r.New})
	}
	return st, nil
}

// x86CPU adapts exec/amd64 to the run loop.
type x86CPU struct{ c *amd64.CPU }

// AMD64 exposes the emulator (for the UI's register pane).
func (x *x86CPU) AMD64() *amd64.CPU { return x.c }

// SetTrace is arm64CPU.SetTrace.
func (x *x86CPU) SetTrace(on bool) { x.c.Trace = on }

func (x *x86CPU) PC() uint64     { return x.c.RIP }
func (x *x86CPU) SetPC(v uint64) { x.c.RIP = v }
func (x *x86CPU) Result() uint64 { return x.c.R[0] }

// System V argument registers: rdi, rsi, rdx, rcx, r8.
var x86Args = [5]int{7, 6, 2, 1, 8}

func (x *x86CPU) Args() [5]uint64 {
	var a [5]uint64
	for i, r := range x86Args {
		a[i] = x.c.R[r]
	}
	return a
}

func (x *x86CPU) Call(m *mem.Memory, fn, ret, sp uint64, args [5]uint64) error {
	for i, r := range x86Args {
		x.c.R[r] = args[i]
	}
	sp -= 8
	if err := m.Store(sp, 8, ret); err != nil {
		return err
	}
	x.c.R[4] = sp
	x.c.RIP = fn
	return nil
}

// ReturnFromHelper models "ret": rax = result, pop rip.
func (x *x86CPU) ReturnFromHelper(m *mem.Memory, ret uint64) error {
	x.c.R[0] = ret
	v, err := m.Load(x.c.R[4], 8)
	if err != nil {
		return err
	}
	x.c.R[4] += 8
	x.c.RIP = v
	return nil
}

func (x *x86CPU) Reg(name string) uint64 {
	if name == "rip" {
		return x.c.RIP
	}
	if i := amd64.RegIndex(name); i >= 0 {
		return x.c.R[i]
	}
	return 0
}

func (x *x86CPU) Step(m *mem.Memory) (Step, error) {
	e, err := x.c.Step(m)
	if err != nil {
		return Step{}, err
	}
	st := Step{PC: e.PC, Len: e.Len, Writes: e.Writes, BranchKind: e.Branch.Kind, Target: e.Branch.Target}
	if e.Branch.Kind == "call" && e.Branch.Indirect {
		st.BranchKind = "call"
	}
	for _, r := range e.Regs {
		st.Regs = append(st.Regs, RegChange{Reg: r.Reg, Old: r.Old, New: r.New})
	}
	return st, nil
}
