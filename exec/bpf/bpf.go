// Package bpf is jitscope's reference interpreter: it runs a loaded BPF
// program one instruction at a time with the semantics of the kernel's own
// interpreter (kernel/bpf/core.c ___bpf_prog_run, Linux 6.12), against the
// same emulated kernel (exec/machine) the arm64 and x86-64 emulators run the
// JITed code on, so that the three runs can be compared event by event.
//
// Where the JITs differ from the kernel interpreter — the tail call counter
// (where it lives, whether bpf-to-bpf callees share it, when it is
// incremented) — the interpreter models the JIT selected by Config rather
// than ___bpf_prog_run, whose counter is a local of each invocation.
package bpf

import (
	"errors"
	"fmt"

	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// Defaults for a zero Config.
const (
	// DefaultStepLimit bounds a run (as machine.RunOptions does).
	DefaultStepLimit = 1_000_000
	// DefaultMaxTailCallCnt is MAX_TAIL_CALL_CNT since Linux 5.17
	// (include/linux/bpf.h).
	DefaultMaxTailCallCnt = 33
	// FrameOverhead is what separates two BPF frames on the kernel stack
	// besides the caller's BPF stack: the return address and the saved
	// frame pointer every JIT prologue pushes (x86 "push rbp", arm64
	// "stp x29, x30"). Frames themselves are round_up(stack_depth, 8)
	// bytes, as the x86 JIT's "sub rsp, round_up(stack_depth, 8)".
	FrameOverhead = 16
	// Where is the location tcc events name for the interpreter's counter.
	Where = "interpreter"
)

// Config selects the tail call counter model of one JIT.
type Config struct {
	// MaxTailCallCnt is the kernel's MAX_TAIL_CALL_CNT (32 before 5.17,
	// 33 after); 0 means DefaultMaxTailCallCnt.
	MaxTailCallCnt int
	// CountGT: the limit check is "count > MAX" (5.10 x86 "cmp eax, 32;
	// ja out", arm64 "b.hi"), not "count >= MAX".
	CountGT bool
	// TCCPtr: one counter for the whole run, incremented only once the
	// prog array slot proved non-empty (6.11+: x86 and arm64 pass a
	// pointer to the main program's counter). False: the count is per
	// frame (JITs before 6.11 pass it by value: x86 in rax, pushed in each
	// prologue; arm64 in x26, saved and restored with the callee-saved
	// registers), a bpf-to-bpf callee starts with its caller's count, what
	// its tail calls add is lost when it returns, and the count is
	// incremented before the slot is tested for NULL.
	TCCPtr bool
	// StepLimit bounds the number of instructions; 0 means DefaultStepLimit.
	StepLimit int
}

// ConfigFor returns the Config that models profile p's JIT.
func ConfigFor(p *jit.Profile) Config {
	return Config{MaxTailCallCnt: p.MaxTailCallCnt, CountGT: p.TailCallCountGT, TCCPtr: p.TCCPtr}
}

// Result is the record of one run.
type Result struct {
	Retval    uint64 // R0 at the final exit
	Steps     int    // instructions executed (ld_imm64 counts once)
	TailCalls int    // tail calls taken
	Events    []trace.Event
}

// Error is a run that stopped on an instruction: a memory fault, an
// instruction the kernel interpreter does not know, a failing helper, the
// step limit. Err is the cause (a *mem.Fault, machine.ErrStepLimit...).
type Error struct {
	Prog string // the program the instruction belongs to
	Func string // its function
	Insn int    // program-wide slot index, as bpftool numbers xlated code
	Err  error
}

func (e *Error) Error() string {
	name := e.Prog
	if e.Func != "" && e.Func != e.Prog {
		name += "/" + e.Func
	}
	return fmt.Sprintf("%s: insn %d: %v", name, e.Insn, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// function is one function of a loaded program, with its slot → instruction
// map (jump offsets count slots; ld_imm64 takes two).
type function struct {
	l     *kernel.Loaded
	f     *kernel.LoadedFunc
	first int   // slot of f.Insns[0]
	pos   []int // slot-first → index into f.Insns; -1 inside an ld_imm64
}

func (fn *function) name() string { return funcName(fn.l.Name, fn.f.Name) }

// funcName names a function as machine.Runner's events do.
func funcName(prog, fn string) string {
	if fn == prog || fn == "" {
		return prog
	}
	return prog + "/" + fn
}

func newFunction(l *kernel.Loaded, f *kernel.LoadedFunc) *function {
	fn := &function{l: l, f: f}
	if len(f.Insns) == 0 {
		return fn
	}
	fn.first = f.Insns[0].Index
	last := f.Insns[len(f.Insns)-1]
	end := last.Index + slots(last.Raw)
	if end <= fn.first || end-fn.first > 1<<24 {
		return fn
	}
	fn.pos = make([]int, end-fn.first)
	for i := range fn.pos {
		fn.pos[i] = -1
	}
	for i, in := range f.Insns {
		if s := in.Index - fn.first; s >= 0 && s < len(fn.pos) {
			fn.pos[s] = i
		}
	}
	return fn
}

// at returns the index of the instruction starting at slot.
func (fn *function) at(slot int) (int, error) {
	s := slot - fn.first
	if s < 0 || s >= len(fn.pos) {
		return 0, fmt.Errorf("jump to slot %d, outside function %s", slot, fn.f.Name)
	}
	if fn.pos[s] < 0 {
		return 0, fmt.Errorf("jump to slot %d, the middle of an ld_imm64", slot)
	}
	return fn.pos[s], nil
}

func slots(b kernel.BPFInsn) int {
	if b.Code == opLdImm64 {
		return 2
	}
	return 1
}

// frame is one function activation.
type frame struct {
	fn  *function
	pc  int    // index into fn.f.Insns
	fp  uint64 // R10: the top of the frame's round_up(stack_depth, 8) bytes
	tcc int    // the frame's count (Config.TCCPtr false)
	// saved holds the caller's R6-R9 and R10, restored when this frame
	// returns (the JITs keep R6-R9 in callee-saved registers).
	saved [5]uint64
}

// vm is one run.
type vm struct {
	k        *machine.Kernel
	cfg      Config
	r        [16]uint64 // R0-R10, AX (11); 12-15 are never valid
	frames   []frame
	tcc      int // the shared count (Config.TCCPtr)
	funcs    map[*kernel.Loaded][]*function
	res      *Result
	step     int // index of the executing instruction
	stackLow uint64
}

// Run runs program prog of k: its main function is called with R1 =
// k.CtxAddr and R10 = k.StackTop, R0 and R2-R9 zero, until
// it exits back to the kernel. On error (never a panic) the Result holds
// what happened up to the failing instruction, and the error is an *Error
// naming the program, function and instruction.
func Run(k *machine.Kernel, prog string, cfg Config) (*Result, error) {
	res := &Result{}
	if k == nil {
		return res, errors.New("bpf: no kernel")
	}
	l := k.Loaded[prog]
	if l == nil {
		return res, fmt.Errorf("no program %q", prog)
	}
	if cfg.MaxTailCallCnt == 0 {
		cfg.MaxTailCallCnt = DefaultMaxTailCallCnt
	}
	if cfg.StepLimit <= 0 {
		cfg.StepLimit = DefaultStepLimit
	}
	v := &vm{k: k, cfg: cfg, funcs: map[*kernel.Loaded][]*function{}, res: res}
	stack, ok := k.Mem.RegionAt(k.StackTop - 1)
	if !ok {
		return res, fmt.Errorf("%s: no kernel stack below %#x", prog, k.StackTop)
	}
	v.stackLow = stack.Start
	main, err := v.function(l, 0)
	if err != nil {
		return res, err
	}
	if err := v.push(main, 0); err != nil {
		return res, &Error{Prog: l.Name, Func: main.f.Name, Err: err}
	}
	v.r[1] = k.CtxAddr
	// The main program's prologue initialises the counter (x86 "xor eax,
	// eax", arm64 "mov x26, #0"; 6.11+ the count behind the pointer).
	v.tccEvent(main, 0, "")
	err = v.loop()
	res.Steps = v.step
	return res, err
}

// function returns function idx of l.
func (v *vm) function(l *kernel.Loaded, idx int) (*function, error) {
	fs, ok := v.funcs[l]
	if !ok {
		for _, f := range l.Funcs {
			fs = append(fs, newFunction(l, f))
		}
		v.funcs[l] = fs
	}
	if idx < 0 || idx >= len(fs) {
		return nil, fmt.Errorf("%s: no function %d (the program has %d)", l.Name, idx, len(fs))
	}
	return fs[idx], nil
}

// frameSize is the BPF stack of fn: round_up(stack_depth, 8).
func frameSize(fn *function) uint64 {
	return uint64((max(fn.f.StackDepth, 0) + 7) &^ 7)
}

// fits checks that fn's frame at fp stays within the kernel stack.
func (v *vm) fits(fn *function, fp uint64) error {
	if fp > v.k.StackTop || fp < v.stackLow || fp-v.stackLow < frameSize(fn) {
		return fmt.Errorf("kernel stack exhausted: %d nested frames", len(v.frames)+1)
	}
	return nil
}

// push starts a frame for fn below the current ones.
func (v *vm) push(fn *function, tcc int) error {
	fp := v.k.StackTop
	if len(v.frames) > 0 {
		caller := v.top()
		below := frameSize(caller.fn) + FrameOverhead
		if caller.fp-v.stackLow < below {
			return fmt.Errorf("kernel stack exhausted: %d nested frames", len(v.frames)+1)
		}
		fp = caller.fp - below
	}
	if err := v.fits(fn, fp); err != nil {
		return err
	}
	var saved [5]uint64
	copy(saved[:], v.r[6:11])
	v.frames = append(v.frames, frame{fn: fn, fp: fp, tcc: tcc, saved: saved})
	v.r[10] = fp
	return nil
}

func (v *vm) top() *frame { return &v.frames[len(v.frames)-1] }

func (v *vm) emit(e trace.Event) {
	e.Step = v.step
	v.res.Events = append(v.res.Events, e)
}

func (v *vm) tccEvent(fn *function, n int, detail string) {
	v.emit(trace.Event{Kind: trace.TCC, From: fn.name(), Value: trace.V(int64(n)), Where: Where, Detail: detail})
}

// loop executes instructions until the outermost frame exits.
func (v *vm) loop() error {
	for {
		fr := v.top()
		fn := fr.fn
		if fr.pc < 0 || fr.pc >= len(fn.f.Insns) {
			idx := fn.first
			if n := len(fn.f.Insns); n > 0 {
				idx = fn.f.Insns[n-1].Index
			}
			return &Error{Prog: fn.l.Name, Func: fn.f.Name, Insn: idx, Err: errors.New("execution ran off the end of the function")}
		}
		in := &fn.f.Insns[fr.pc]
		if v.step >= v.cfg.StepLimit {
			return &Error{Prog: fn.l.Name, Func: fn.f.Name, Insn: in.Index,
				Err: fmt.Errorf("%w after %d instructions", machine.ErrStepLimit, v.cfg.StepLimit)}
		}
		done, err := v.exec(fr, in)
		v.step++
		if err != nil {
			return &Error{Prog: fn.l.Name, Func: fn.f.Name, Insn: in.Index, Err: err}
		}
		if done {
			return nil
		}
	}
}

// jump continues at the instruction off slots after in.
func (v *vm) jump(fr *frame, in *kernel.Insn, off int) error {
	pc, err := fr.fn.at(in.Index + 1 + off)
	if err != nil {
		return err
	}
	fr.pc = pc
	return nil
}

// call runs a bpf-to-bpf call: the callee inherits R0-R9 (the JITs pass
// R1-R5 in place and keep R6-R9 in callee-saved registers) and gets its own
// frame; before 6.11 it starts with a copy of the caller's count.
func (v *vm) call(fr *frame, in *kernel.Insn) error {
	callee, err := v.function(fr.fn.l, in.Callee)
	if err != nil {
		return err
	}
	fr.pc++ // where the callee returns to
	v.emit(trace.Event{Kind: trace.Call, From: fr.fn.name(), To: callee.name()})
	if err := v.push(callee, fr.tcc); err != nil {
		fr.pc--
		return err
	}
	return nil
}

// exit returns from the current frame; it reports whether the run is over.
func (v *vm) exit() bool {
	done := v.top()
	if len(v.frames) == 1 {
		v.res.Retval = v.r[0]
		v.emit(trace.Event{Kind: trace.Return, From: done.fn.name(), To: "kernel", Value: trace.V(int64(v.r[0]))})
		return true
	}
	v.frames = v.frames[:len(v.frames)-1]
	copy(v.r[6:11], done.saved[:])
	caller := v.top()
	v.emit(trace.Event{Kind: trace.Return, From: done.fn.name(), To: caller.fn.name()})
	if !v.cfg.TCCPtr && caller.tcc != done.tcc {
		// x86 before 6.11 reads the caller's own slot again, arm64
		// restores x26 with the callee-saved registers: what the
		// callee's tail calls added is gone.
		v.tccEvent(caller.fn, caller.tcc, "restored")
	}
	return false
}

// count returns the counter the current frame sees.
func (v *vm) count(fr *frame) int {
	if v.cfg.TCCPtr {
		return v.tcc
	}
	return fr.tcc
}

func (v *vm) setCount(fr *frame, n int) {
	if v.cfg.TCCPtr {
		v.tcc = n
	} else {
		fr.tcc = n
	}
	v.tccEvent(fr.fn, n, "")
}

// tailCall runs bpf_tail_call(ctx = R1, array = R2, index = R3) as the JITs
// emit it (checks in the kernel's order, every version):
//
//	if (index >= array->map.max_entries) goto out;        // u32 compare
//	if (count >= MAX_TAIL_CALL_CNT) goto out;             // ">" on 5.10
//	before 6.11: count++;                                 // even if the slot is empty
//	prog = array->ptrs[index]; if (!prog) goto out;
//	6.11+: (*tcc_ptr)++;                                  // only for a populated slot
//	goto *(prog->bpf_func + prologue skip);
//
// (arch/x86/net/bpf_jit_comp.c emit_bpf_tail_call_indirect: 6.1 "add eax,
// 1; mov [rbp - tcc_off], eax" before "test rcx, rcx", 6.12 "add qword ptr
// [rax], 1" after it; arch/arm64/net/bpf_jit_comp.c emit_bpf_tail_call: 6.1
// "add x26, x26, #1" before the cbz, 6.12 "str tcc, [x26]" after it.)
//
// A taken tail call replaces the current frame: the target's main function
// runs with the same ctx in a fresh frame at the same place and returns to
// the replaced frame's caller.
func (v *vm) tailCall(fr *frame) error {
	k := v.k
	array, index := v.r[2], uint32(v.r[3])
	miss := func(why string) error {
		v.emit(trace.Event{Kind: trace.TailCallMiss, From: fr.fn.name(), Detail: why, Addr: array})
		// bpf_tail_call returns (void) only when it fails; the verifier
		// treats it as a helper call: R0-R5 are not readable afterwards.
		for r := 0; r <= 5; r++ {
			v.r[r] = 0
		}
		fr.pc++
		return nil
	}
	maxEntries, err := k.Mem.Load(array+uint64(k.Layout.ArrayMaxEntries), 4)
	if err != nil {
		return fmt.Errorf("tail call: reading max_entries: %w", err)
	}
	if uint64(index) >= maxEntries {
		return miss("index")
	}
	n := v.count(fr)
	limit := n >= v.cfg.MaxTailCallCnt
	if v.cfg.CountGT {
		limit = n > v.cfg.MaxTailCallCnt
	}
	if limit {
		return miss("limit")
	}
	if !v.cfg.TCCPtr {
		n++
		v.setCount(fr, n)
	}
	ptr, err := k.Mem.Load(array+uint64(k.Layout.ArrayPtrs)+8*uint64(index), 8)
	if err != nil {
		return fmt.Errorf("tail call: reading ptrs[%d]: %w", index, err)
	}
	if ptr == 0 {
		return miss("empty")
	}
	if v.cfg.TCCPtr {
		n++
		v.setCount(fr, n)
	}
	bpfFunc, err := k.Mem.Load(ptr+uint64(k.Layout.ProgBPFFunc), 8)
	if err != nil {
		return fmt.Errorf("tail call: reading bpf_func of struct bpf_prog at %#x: %w", ptr, err)
	}
	var target *kernel.Loaded
	for _, p := range k.Progs {
		if p.BPFFunc == bpfFunc && p.Addr == ptr {
			target = k.Loaded[p.Name]
			if target == nil {
				target = p.Loaded
			}
			break
		}
	}
	if target == nil {
		return fmt.Errorf("tail call: ptrs[%d] = %#x (bpf_func %#x) is no program of this kernel", index, ptr, bpfFunc)
	}
	main, err := v.function(target, 0)
	if err != nil {
		return err
	}
	if err := v.fits(main, fr.fp); err != nil {
		return err
	}
	v.res.TailCalls++
	v.emit(trace.Event{Kind: trace.TailCall, From: fr.fn.name(), To: target.Name,
		Detail: fmt.Sprintf("tail call: %s -> %s", fr.fn.name(), target.Name), Addr: ptr})
	// The target starts as a program does: ctx in R1, its own frame; R6-R9
	// of the replaced frame's caller stay saved for the return.
	ctx := v.r[1]
	for r := range v.r {
		v.r[r] = 0
	}
	v.r[1] = ctx
	v.r[10] = fr.fp
	*fr = frame{fn: main, fp: fr.fp, tcc: n, saved: fr.saved}
	return nil
}

// helper calls the kernel helper at CallBase + imm: R0 = its result, R1-R5
// clobbered (zeroed: the JIT leaves whatever the helper left there).
func (v *vm) helper(fr *frame, in *kernel.Insn) (err error) {
	addr := fr.fn.l.CallBase + uint64(int64(in.Raw.Imm))
	h := v.k.HelperAt(addr)
	if h == nil {
		name := in.Ref
		if name == "" {
			name = "helper"
		}
		return fmt.Errorf("call of %s at %#x: no such helper in this kernel", name, addr)
	}
	args := [5]uint64{v.r[1], v.r[2], v.r[3], v.r[4], v.r[5]}
	ret, err := callHelper(v.k, h, args)
	if err != nil {
		return fmt.Errorf("helper %s: %w", h.Name, err)
	}
	v.r[0] = ret
	for r := 1; r <= 5; r++ {
		v.r[r] = 0
	}
	v.emit(trace.Event{Kind: trace.Helper, To: h.Name, Value: trace.V(int64(ret)), Addr: addr})
	fr.pc++
	return nil
}

// callHelper runs a helper's Go model, turning a panic in it into an error
// so that a run never takes the caller down.
func callHelper(k *machine.Kernel, h *machine.Helper, args [5]uint64) (ret uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			ret, err = 0, fmt.Errorf("the helper's model failed on arguments %#x: %v", args, p)
		}
	}()
	return h.Fn(k, args)
}
