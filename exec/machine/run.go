package machine

import (
	"errors"
	"fmt"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/exec/mem"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// CPU is what the run loop needs from an emulator; exec/a64 and exec/amd64
// are adapted to it in cpu_arch.go.
type CPU interface {
	PC() uint64
	SetPC(uint64)
	// Step executes one instruction.
	Step(m *mem.Memory) (Step, error)
	// Call prepares a call of fn with args from the kernel: arguments in
	// the ABI's registers, the return address ret, the stack at sp.
	Call(m *mem.Memory, fn, ret, sp uint64, args [5]uint64) error
	// Args returns the helper arguments (r1..r5 in the ABI's registers).
	Args() [5]uint64
	// ReturnFromHelper sets the result register and returns to the caller
	// as the helper's ret instruction would (arm64: pc = x30; x86: pop).
	ReturnFromHelper(m *mem.Memory, ret uint64) error
	// Result is the return value register (x0 / rax).
	Result() uint64
	// Reg reads a register by name ("x26", "rbp", "rax").
	Reg(name string) uint64
}

// Step is one executed instruction, as the run loop sees it.
type Step struct {
	PC         uint64
	Len        int
	Regs       []RegChange
	Writes     []mem.WriteRecord
	BranchKind string // "call", "return", "jump", "cond-taken", "cond-not-taken", "indirect", ""
	Target     uint64
}

// RegChange is one register's old and new value.
type RegChange struct {
	Reg      string
	Old, New uint64
}

// Profile facts the run loop needs to find the tail call counter.
type Profile struct {
	*jit.Profile
}

// RunOptions bound a run.
type RunOptions struct {
	StepLimit int // default 1,000,000
	// DiscardSteps keeps only the count of executed instructions (Run.N),
	// not each Step: a run's memory then stays bounded by its events,
	// whatever the step limit. The CPU then stops recording each step's
	// register and memory changes (SetTrace(false)), which nothing reads.
	DiscardSteps bool
	// Thunks maps addresses of x86 retpoline thunks to the register they
	// jump through ("rcx") and return thunks to "ret".
	Thunks map[uint64]string
}

// Run is the record of one execution.
type Run struct {
	Retval    uint64
	Steps     []Step
	N         int // instructions executed: len(Steps) unless discarded
	Events    []trace.Event
	TailCalls int
	Err       error // set when the run stopped on a fault (the steps so far are kept)
}

// ErrStepLimit ends runs that do not finish.
var ErrStepLimit = errors.New("step limit reached")

// funcInfo describes one function image for the run loop.
type funcInfo struct {
	prog   string
	img    *jit.FuncImage
	loaded *kernel.LoadedFunc
	misses map[uint64]string // branch address -> tail call miss reason
}

// Runner runs programs of a Kernel on a CPU.
type Runner struct {
	K       *Kernel
	Profile *jit.Profile
	funcs   []*funcInfo
}

// NewRunner prepares to run the kernel's images.
func NewRunner(k *Kernel, p *jit.Profile) (*Runner, error) {
	return NewRunnerListed(k, p, nil)
}

// NewRunnerListed is NewRunner for a caller that has the functions'
// listings already (a viewer does): lists gives a function image's listing
// (any syntax: only branch kinds, addresses and regions are read); images
// it lacks are listed here. Listing a 1M-instruction program again took
// seconds.
func NewRunnerListed(k *Kernel, p *jit.Profile, lists map[*jit.FuncImage]*disasm.Func) (*Runner, error) {
	if k.Images == nil {
		return nil, errors.New("the kernel has no machine code images (built for the interpreter)")
	}
	r := &Runner{K: k, Profile: p}
	for name, img := range k.Images {
		l := k.Loaded[name]
		for i, f := range img.Funcs {
			fi := &funcInfo{prog: name, img: f, loaded: l.Funcs[i], misses: map[uint64]string{}}
			lf := lists[f]
			if lf == nil {
				var err error
				if lf, err = disasm.ListFunc(img.Arch, f); err != nil {
					return nil, err
				}
			}
			// The conditional branches (and x86's bypass jump) of each
			// tail call sequence, in order: index check, counter limit,
			// empty slot — the kernel's order in every version.
			var inTC []disasm.Line
			bypass := map[int]bool{}
			for _, pk := range f.Pokes {
				bypass[pk.Bypass] = true
			}
			flush := func() {
				reasons := []string{"index", "limit", "empty"}
				var branches []uint64
				direct := false
				for _, ln := range inTC {
					if ln.Kind == disasm.CondJump {
						branches = append(branches, ln.Addr)
					}
					if bypass[ln.Offset] {
						// A direct tail call checks only the limit; its
						// bypass jump is the empty slot.
						direct = true
						fi.misses[ln.Addr] = "empty"
					}
				}
				if direct {
					reasons = []string{"limit"}
				}
				for i, b := range branches {
					if i < len(reasons) {
						fi.misses[b] = reasons[i]
					}
				}
				inTC = nil
			}
			for li := range lf.Len() {
				if rg := lf.Region(li); rg == jit.RegionTailCall || rg == jit.RegionPokeBypass || rg == jit.RegionPokeTarget {
					// (Decoded here: the listing may be indexed.)
					inTC = append(inTC, lf.Line(li))
				} else if inTC != nil {
					flush()
				}
			}
			if inTC != nil {
				flush()
			}
			r.funcs = append(r.funcs, fi)
		}
	}
	return r, nil
}

func (r *Runner) funcAt(pc uint64) *funcInfo {
	for _, f := range r.funcs {
		if pc >= f.img.Address && pc < f.img.Address+uint64(len(f.img.Code)) {
			return f
		}
	}
	return nil
}

func (r *Runner) name(f *funcInfo) string {
	if f == nil {
		return "kernel"
	}
	if f.img.Name == f.prog {
		return f.prog
	}
	return f.prog + "/" + f.img.Name
}

// tcc reads the tail call counter of the frame the CPU is in and says where
// it lives, following each design:
//
//	arm64 up to 6.10: the count in x26
//	arm64 6.11+:      x26 points at the count in the main program's frame
//	x86 up to 6.10:   a u32 at [rbp - round_up(stack_depth, 8) - 4]
//	x86 6.11+:        a pointer at [rbp - round_up(stack_depth, 8) - 16]
func (r *Runner) tcc(cpu CPU, f *funcInfo) (int64, string, bool) {
	m := r.K.Mem
	if r.K.Arch == kernel.ARM64 {
		if !r.Profile.TCCPtr {
			return int64(cpu.Reg("x26")), "x26", true
		}
		v, err := m.Load(cpu.Reg("x26"), 8)
		return int64(v), "[x26]", err == nil
	}
	if !f.loaded.TailCallReachable {
		// The x86 prologue keeps a counter (or its pointer) only in
		// functions that can reach a tail call.
		return 0, "", false
	}
	sd := int64((f.loaded.StackDepth + 7) &^ 7)
	rbp := cpu.Reg("rbp")
	if !r.Profile.TCCPtr {
		off := -sd - 4
		v, err := m.Load(uint64(int64(rbp)+off), 4)
		return int64(v), fmt.Sprintf("[rbp-%#x]", -off), err == nil
	}
	off := -sd - 16
	ptr, err := m.Load(uint64(int64(rbp)+off), 8)
	if err != nil {
		return 0, "", false
	}
	v, err := m.Load(ptr, 8)
	return int64(v), fmt.Sprintf("[[rbp-%#x]]", -off), err == nil
}

// Run calls program prog's main function with the context and runs until
// it returns to the kernel, faults, or reaches the step limit.
func (r *Runner) Run(cpu CPU, prog string, opt RunOptions) *Run {
	k := r.K
	limit := opt.StepLimit
	if limit <= 0 {
		limit = 1_000_000
	}
	p := k.Progs[prog]
	run := &Run{}
	if p == nil {
		run.Err = fmt.Errorf("no program %q", prog)
		return run
	}
	if err := cpu.Call(k.Mem, p.BPFFunc, k.ExitAddr, k.StackTop, [5]uint64{k.CtxAddr}); err != nil {
		run.Err = err
		return run
	}
	if t, ok := cpu.(interface{ SetTrace(bool) }); ok && opt.DiscardSteps {
		t.SetTrace(false)
	}
	emit := func(e trace.Event) {
		e.Step = run.N
		run.Events = append(run.Events, e)
	}
	var lastTCC int64 = -1
	var lastFrom *funcInfo
	clocked := 0 // instructions the clock has counted (Kernel.StepNs)
	for {
		pc := cpu.PC()
		h := k.HelperAt(pc)
		if h != nil && k.StepNs != 0 && run.N != clocked {
			k.Clock += uint64(run.N-clocked) * k.StepNs
			clocked = run.N
		}
		if pc == k.ExitAddr {
			run.Retval = cpu.Result()
			from := prog
			if lastFrom != nil {
				from = r.name(lastFrom)
			}
			emit(trace.Event{Kind: trace.Return, From: from, To: "kernel", Value: trace.V(int64(run.Retval))})
			return run
		}
		if run.N >= limit {
			run.Err = fmt.Errorf("%s: %w after %d instructions", prog, ErrStepLimit, limit)
			return run
		}
		if h != nil && h.Raw != nil {
			ret, err := h.Raw(k, cpu)
			if err != nil {
				run.Err = fmt.Errorf("%s: step %d: call of %s: %w", r.name(lastFrom), run.N, h.Name, err)
				return run
			}
			emit(trace.Event{Kind: trace.Helper, To: h.Name, Value: trace.V(int64(ret)), Addr: pc})
			continue
		}
		if h != nil {
			ret, err := h.Fn(k, cpu.Args())
			if err != nil {
				caller := prog
				if lastFrom != nil {
					caller = r.name(lastFrom)
				}
				run.Err = fmt.Errorf("%s: step %d: call of %s: %w", caller, run.N, h.Name, err)
				return run
			}
			if err := cpu.ReturnFromHelper(k.Mem, ret); err != nil {
				run.Err = err
				return run
			}
			emit(trace.Event{Kind: trace.Helper, To: h.Name, Value: trace.V(int64(ret)), Addr: pc})
			continue
		}
		if t, ok := opt.Thunks[pc]; ok {
			// Kernel text the images jump to: a retpoline thunk behaves
			// as "jmp *%reg", a return thunk as "ret".
			if t == "ret" {
				if err := cpu.ReturnFromHelper(k.Mem, cpu.Result()); err != nil {
					run.Err = err
					return run
				}
				if to := r.funcAt(cpu.PC()); to != nil && lastFrom != nil {
					emit(trace.Event{Kind: trace.Return, From: r.name(lastFrom), To: r.name(to), Addr: pc})
				}
			} else {
				cpu.SetPC(cpu.Reg(t))
				if to := r.funcAt(cpu.PC()); to != nil && lastFrom != nil {
					r.tailCallEvent(run, emit, lastFrom, to, cpu.PC(), pc)
				}
			}
			continue
		}
		from := r.funcAt(pc)
		lastFrom = from
		st, err := cpu.Step(k.Mem)
		if err != nil {
			run.Err = fmt.Errorf("%s: %w", r.name(from), err)
			return run
		}
		run.N++
		if !opt.DiscardSteps {
			run.Steps = append(run.Steps, st)
		}
		to := r.funcAt(cpu.PC())
		if rp := k.Replaced[st.PC]; rp != nil && to != nil {
			emit(trace.Event{Kind: trace.Freplace, From: r.name(from), To: r.name(to), Addr: st.PC,
				Detail: fmt.Sprintf("%s is replaced by %s: its patched entry jumps to %s", rp.TargetFuncName, rp.Ext, r.name(to))})
		}
		if from != nil {
			if reason, ok := from.misses[st.PC]; ok && cpu.PC() != st.PC+uint64(st.Len) {
				emit(trace.Event{Kind: trace.TailCallMiss, From: r.name(from), Detail: reason, Addr: st.PC})
			}
		}
		switch {
		case st.BranchKind == "call" && to != nil && cpu.PC() == to.img.Address:
			emit(trace.Event{Kind: trace.Call, From: r.name(from), To: r.name(to), Addr: st.PC})
		case st.BranchKind == "return" && from != nil && to != nil && to.img.Index == 0 && to.img.TailCallEntry >= 0 &&
			cpu.PC() == to.img.Address+uint64(to.img.TailCallEntry):
			// 5.10's inline retpoline tail-calls with "mov %rcx,(%rsp);
			// ret": a ret into a landing pad is a tail call, not a return.
			r.tailCallEvent(run, emit, from, to, cpu.PC(), st.PC)
		case st.BranchKind == "return" && from != nil && to != nil:
			emit(trace.Event{Kind: trace.Return, From: r.name(from), To: r.name(to), Addr: st.PC})
		case (st.BranchKind == "indirect" || st.BranchKind == "jump") && from != nil && to != nil:
			// Into a main function's landing pad, possibly its own (a
			// program tail-calling itself).
			r.tailCallEvent(run, emit, from, to, cpu.PC(), st.PC)
		}
		// The counter, checked in the function's body (past its prologue).
		if to != nil {
			off := int(cpu.PC() - to.img.Address)
			// x86 exits are "leave; ret" inside the body: after the
			// leave, rbp is the caller's and the slot not this frame's.
			left := false
			if k.Arch == kernel.X86_64 && st.Len == 1 {
				b, err := k.Mem.Load(st.PC, 1)
				left = err == nil && b == 0xc9
			}
			if !left && off >= to.img.BPFOffsets[0] && off < to.img.BPFOffsets[len(to.img.BPFOffsets)-1] {
				if v, where, ok := r.tcc(cpu, to); ok && v != lastTCC {
					lastTCC = v
					emit(trace.Event{Kind: trace.TCC, Value: trace.V(v), Where: where, From: r.name(to)})
				}
			}
		}
	}
}

// tailCallEvent records a tail call when pc is a main function's landing pad.
func (r *Runner) tailCallEvent(run *Run, emit func(trace.Event), from, to *funcInfo, pc, at uint64) {
	if to.img.Index != 0 || to.img.TailCallEntry < 0 || pc != to.img.Address+uint64(to.img.TailCallEntry) {
		return
	}
	run.TailCalls++
	landing := to.img.TailCallEntry
	lines, unit := landing, "bytes"
	if r.K.Arch == kernel.ARM64 {
		lines, unit = landing/4, "instructions"
	} else if lf, err := disasm.ListFunc(r.K.Arch, to.img); err == nil {
		lines = 0
		for li := range lf.Len() {
			if lf.Offset(li) < landing {
				lines++
			}
		}
		unit = "instructions"
	}
	emit(trace.Event{Kind: trace.TailCall, From: r.name(from), To: to.prog, Landing: landing, Skipped: lines, Addr: at,
		Detail: fmt.Sprintf("tail call: %s -> %s, skipped %d prologue %s (+%d bytes)", r.name(from), to.prog, lines, unit, landing)})
}
