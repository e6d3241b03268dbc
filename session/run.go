// SPDX-License-Identifier: GPL-2.0-only

package session

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/jitscope/jitscope/disasm"
	"github.com/jitscope/jitscope/exec/a64"
	"github.com/jitscope/jitscope/exec/amd64"
	"github.com/jitscope/jitscope/exec/machine"
	"github.com/jitscope/jitscope/exec/trace"
	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
	"github.com/jitscope/jitscope/verifier"
)

// RunStepLimit bounds the runs a session makes: they are kept whole (every
// step's register changes and writes), for a viewer.
const RunStepLimit = 250_000

// checkpointEvery is the distance between register snapshots: Regs(i)
// copies the snapshot at or before i and applies at most this many steps'
// changes, so random access costs O(checkpointEvery), not O(i).
const checkpointEvery = 64

// Run is one execution of a listing's entry program (the target's first
// program) on the CPU emulator of its architecture, recorded whole so a
// viewer can step through it in both directions. It implements Trace.
type Run struct {
	Arch    kernel.Arch
	Profile string
	Entry   string
	// Ran is false when the program could not be started at all (the
	// listing failed to compile, a kernel capture, no emulator): Err says
	// why and the run has no steps.
	Ran bool
	// Err is why the run stopped before returning to the kernel (a fault,
	// a BTI or IBT violation, the step limit), or why it did not start.
	Err       error
	Retval    uint64
	TailCalls int
	Steps     []machine.Step
	endPC     uint64
	// Packet names the packet the run used ("" for the default).
	Packet string
	// Setup says which prog array rules set the run up (scenarios with
	// extensions: the setup events at step 0 are their answers).
	Setup string

	events []trace.Event
	// evFrames[k] is the call stack after events[k].
	evFrames [][]string
	entry    []string // the call stack at position 0

	regs   []regInfo
	regIdx map[string]int
	// Register changes on the way into position p (the changes of step
	// p-1 and of the helper or thunk it reached) are dReg/dVal[dOff[p-1]:dOff[p]].
	dOff  []int32
	dReg  []uint8
	dVal  []uint64
	ckpt  [][]uint64 // ckpt[k]: the registers at position k*checkpointEvery
	loc   []posLoc   // per position
	funcs []runFunc

	occOnce sync.Once
	occ     []int32           // per position: Occurrence's count
	entries map[int32][]int32 // BPF id -> positions entering it
}

type regInfo struct {
	name, bpf string
	role      bool
}

// posLoc is where a position's PC is.
type posLoc struct {
	fn   int32 // index into Run.funcs, -1 outside
	line int32 // line of the function's listing, -1 outside
	id   int32 // BPF id (BPFIDs), -1 outside
}

type runFunc struct {
	prog string
	f    *disasm.Func
}

// ShortName is the function part of a run's "prog/func" name.
func ShortName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

type runKey struct {
	arch    kernel.Arch
	profile string
	cfg     string // RunConfig.key
}

// Run executes listing l's entry program and records the run; runs are
// cached per architecture and profile (a listing printed in another syntax
// runs the same code). It never returns nil: a run that cannot start has
// Ran false and Err set.
func (s *Session) Run(l *Listing) *Run {
	if l.Err != nil || l.Profile == nil || len(l.Programs) == 0 {
		r := &Run{Arch: l.Arch, Err: fmt.Errorf("no listing to run")}
		if l.Err != nil {
			r.Err = l.Err
		}
		return r
	}
	s.runMu.Lock()
	defer s.runMu.Unlock()
	k := s.runKey(l)
	if r := s.runs[k]; r != nil {
		return r
	}
	r := s.newRun(l)
	if s.runs == nil {
		s.runs = map[runKey]*Run{}
	}
	s.runs[k] = r
	return r
}

// runKey is what a run of l depends on; s.runMu is held.
func (s *Session) runKey(l *Listing) runKey {
	cfg := s.cfg.key()
	if l.Rewrites != nil {
		// The image of the rewritten programs, on the kernel memory model.
		cfg += "|verifier"
	}
	return runKey{l.Arch, l.Profile.Name, cfg}
}

// CachedRun is Run when the run is computed already, else nil: it never
// runs anything.
func (s *Session) CachedRun(l *Listing) *Run {
	if l.Err != nil || l.Profile == nil || len(l.Programs) == 0 {
		return nil
	}
	s.runMu.Lock()
	defer s.runMu.Unlock()
	return s.runs[s.runKey(l)]
}

func (s *Session) newRun(l *Listing) *Run {
	t := s.Target
	r := &Run{Arch: l.Arch, Profile: l.Profile.Name, Packet: s.cfg.Packet}
	if len(t.Set.Programs) == 0 {
		r.Err = fmt.Errorf("%s: no programs", t.Name)
		return r
	}
	r.Entry = t.Set.Programs[0].Name
	if s.cfg.Entry != "" {
		r.Entry = s.cfg.Entry
	}
	var facts *verifier.Facts
	if t.Capture != nil {
		// The kernel's translated programs read the kernel's structs.
		f, err := t.CaptureFacts(l.Arch, l.Profile)
		if err != nil {
			r.Err = err
			return r
		}
		facts = &f
	}
	if l.Rewrites != nil {
		// The listing shows the image of the programs as the verifier
		// model rewrote them with the profile's facts: the run executes
		// that image on the kernel memory model (struct sk_buff, kernel
		// functions by address...). The facts' stand-in addresses are
		// handed out in the same order as when the listing was made.
		f, err := t.ProfileFacts(l.Arch, l.Profile)
		if err != nil {
			r.Err = err
			return r
		}
		if t, err = t.Verified(l.Arch, f, nil); err != nil {
			r.Err = err
			return r
		}
		facts = &f
	}
	p := l.Profile
	if pl := t.Set.Placements[l.Arch]; pl != nil {
		p = p.WithConfig(pl.Config)
	}
	imgs := map[string]*jit.Image{}
	var list []*jit.Image
	lists := map[*jit.FuncImage]*disasm.Func{}
	for _, lp := range l.Programs {
		imgs[lp.Image.Program] = lp.Image
		list = append(list, lp.Image)
		for _, f := range lp.Funcs {
			r.funcs = append(r.funcs, runFunc{prog: lp.Image.Program, f: f})
			lists[f.Image] = f
		}
	}
	pkt, err := t.Packet(s.cfg.Packet)
	if err != nil {
		r.Err = err
		return r
	}
	mo := machine.Options{Packet: pkt, Verified: facts}
	if l.loadOpts == (kernel.Options{Layout: p.Layout}) {
		// The programs the images were compiled from, loaded as New
		// would load them.
		mo.Loaded = l.loaded
	}
	su, err := t.NewMachine(l.Arch, p, imgs, mo)
	if err != nil {
		r.Err = err
		return r
	}
	k := su.Kernel
	r.Setup = su.Compat
	runner, err := machine.NewRunnerListed(k, p, lists)
	if err != nil {
		r.Err = err
		return r
	}
	cpu, err := machine.NewCPU(k, p.BTI, p.PAC, false)
	if err != nil {
		r.Err = err
		return r
	}
	prog := k.Progs[r.Entry]
	if prog == nil {
		r.Err = fmt.Errorf("no program %q", r.Entry)
		return r
	}
	// The registers at the entry: Runner.Run makes this same call first
	// (the context in r1, the kernel's return address, its stack), and
	// repeating it leaves the same state.
	if err := cpu.Call(k.Mem, prog.BPFFunc, k.ExitAddr, k.StackTop, [5]uint64{k.CtxAddr}); err != nil {
		r.Err = err
		return r
	}
	r.regs = registerTable(l.Arch, l.Profile)
	r.regIdx = map[string]int{}
	for i, ri := range r.regs {
		r.regIdx[ri.name] = i
	}
	init := make([]uint64, len(r.regs))
	for i, ri := range r.regs {
		init[i] = readReg(cpu, ri.name)
	}
	thunks := Thunks(list)
	run := runner.Run(cpu, r.Entry, machine.RunOptions{StepLimit: RunStepLimit, Thunks: thunks})
	r.Ran = true
	r.Err, r.Retval, r.TailCalls, r.Steps = run.Err, run.Retval, run.TailCalls, run.Steps
	r.endPC = cpu.PC()
	r.events = append(su.Events, r.withThunkReturns(run.Events, thunks)...)
	r.locate(l)
	r.frames()
	r.record(init)
	return r
}

// Thunks finds the kernel thunks the x86 images jump to: retpolines
// (__x86_indirect_thunk_<reg>: "jmp *%reg") and return thunks ("ret"),
// as machine.RunOptions.Thunks wants them.
func Thunks(imgs []*jit.Image) map[uint64]string {
	t := map[uint64]string{}
	for _, img := range imgs {
		for _, f := range img.Funcs {
			for _, r := range f.Relocs {
				switch {
				case strings.HasPrefix(r.Name, "__x86_indirect_thunk_"):
					t[r.Target] = strings.TrimPrefix(r.Name, "__x86_indirect_thunk_")
				case strings.HasPrefix(r.Name, "__x86_indirect_its_thunk_"):
					t[r.Target] = strings.TrimPrefix(r.Name, "__x86_indirect_its_thunk_")
				case strings.Contains(r.Name, "return_thunk"):
					t[r.Target] = "ret"
				}
			}
		}
	}
	return t
}

// registerTable lists the registers a state view shows, in order: the BPF
// registers r0-r10, the JIT's own (tail call counter, ax, temporaries),
// then the machine's frame registers and flags. Registers outside the
// table that a run changes are added after them (record).
func registerTable(arch kernel.Arch, p *jit.Profile) []regInfo {
	reg := func(name, bpf string) regInfo { return regInfo{name: name, bpf: bpf} }
	role := func(name, r string) regInfo { return regInfo{name: name, bpf: r, role: true} }
	if arch == kernel.ARM64 {
		tcc := "tcc"
		if p.TCCPtr {
			tcc = "tccptr"
		}
		// jit/arm64 RegNames.
		return []regInfo{
			reg("x7", "r0"), reg("x0", "r1"), reg("x1", "r2"), reg("x2", "r3"), reg("x3", "r4"), reg("x4", "r5"),
			reg("x19", "r6"), reg("x20", "r7"), reg("x21", "r8"), reg("x22", "r9"), reg("x25", "r10"),
			reg("x26", tcc), reg("x27", "fp_bot"), reg("x9", "ax"), reg("x10", "tmp"), reg("x11", "tmp2"), reg("x12", "tmp3"),
			role("x29", "fp"), role("x30", "lr"), role("sp", ""), role("nzcv", ""),
		}
	}
	// jit/x86: the kernel's reg2hex table.
	return []regInfo{
		reg("rax", "r0"), reg("rdi", "r1"), reg("rsi", "r2"), reg("rdx", "r3"), reg("rcx", "r4"), reg("r8", "r5"),
		reg("rbx", "r6"), reg("r13", "r7"), reg("r14", "r8"), reg("r15", "r9"), reg("rbp", "r10"),
		reg("r10", "ax"), reg("r11", "aux"),
		role("rsp", ""), role("rflags", ""),
	}
}

// otherRegs are the machine registers outside registerTable, shown when a
// run changes them.
var otherRegs = map[kernel.Arch][]string{
	kernel.ARM64:  {"x5", "x6", "x8", "x13", "x14", "x15", "x16", "x17", "x18", "x23", "x24", "x28"},
	kernel.X86_64: {"r9", "r12"},
}

// readReg reads a register of the CPU by name, flags included.
func readReg(cpu machine.CPU, name string) uint64 {
	switch name {
	case "nzcv":
		if a, ok := cpu.(interface{ A64() *a64.CPU }); ok {
			return a.A64().NZCV()
		}
	case "rflags":
		if x, ok := cpu.(interface{ AMD64() *amd64.CPU }); ok {
			return x.AMD64().Flags
		}
	}
	return cpu.Reg(name)
}

// withThunkReturns adds the return events of x86 returns made through a
// return thunk: the run loop sees a jmp to the thunk and then the caller,
// and records no event for it (but does for the final return to the kernel).
func (r *Run) withThunkReturns(evs []trace.Event, thunks map[uint64]string) []trace.Event {
	if r.Arch != kernel.X86_64 {
		return evs
	}
	has := map[int]bool{}
	for _, e := range evs {
		if e.Kind == trace.Return {
			has[e.Step] = true
		}
	}
	var add []trace.Event
	for j := 1; j < len(r.Steps); j++ {
		prev := r.Steps[j-1]
		if thunks[prev.Target] != "ret" || has[j] || (prev.BranchKind != "jump" && prev.BranchKind != "indirect") {
			continue
		}
		from, to := r.funcAt(prev.PC), r.funcAt(r.Steps[j].PC)
		if from < 0 || to < 0 {
			continue
		}
		add = append(add, trace.Event{Step: j, Kind: trace.Return, From: r.name(from), To: r.name(to), Addr: prev.PC})
	}
	if len(add) == 0 {
		return evs
	}
	out := append(append([]trace.Event(nil), evs...), add...)
	sort.SliceStable(out, func(a, b int) bool { return out[a].Step < out[b].Step })
	return out
}

// name is the run loop's name of function fi: "prog" or "prog/func".
func (r *Run) name(fi int) string {
	f := r.funcs[fi]
	if f.f.Image.Name == f.prog {
		return f.prog
	}
	return f.prog + "/" + f.f.Image.Name
}

// funcAt returns the function containing pc, or -1.
func (r *Run) funcAt(pc uint64) int {
	for i, f := range r.funcs {
		img := f.f.Image
		if pc >= img.Address && pc < img.Address+uint64(len(img.Code)) {
			return i
		}
	}
	return -1
}

// locate finds each position's function, listing line and BPF id.
func (r *Run) locate(l *Listing) {
	r.loc = make([]posLoc, len(r.Steps)+1)
	ids := make([][]int32, len(r.funcs)) // per function and line, -2 until known
	last := -1
	for i := range r.loc {
		pc := r.pc(i)
		fi := -1
		if last >= 0 {
			img := r.funcs[last].f.Image
			if pc >= img.Address && pc < img.Address+uint64(len(img.Code)) {
				fi = last
			}
		}
		if fi < 0 {
			fi = r.funcAt(pc)
		}
		last = fi
		loc := posLoc{fn: -1, line: -1, id: -1}
		if fi >= 0 {
			f := r.funcs[fi].f
			li := f.LineContaining(int(pc - f.Image.Address))
			loc.fn, loc.line = int32(fi), int32(li)
			if li >= 0 {
				if ids[fi] == nil {
					ids[fi] = make([]int32, f.Len())
					for k := range ids[fi] {
						ids[fi][k] = -2
					}
				}
				if ids[fi][li] == -2 {
					key := BPFKey{Prog: r.funcs[fi].prog, Func: f.Image.Name, Index: -1}
					if b := f.BPF(li); b >= 0 {
						key.Index = f.Image.Insns[b].Index
					} else {
						key.Region = f.Region(li)
					}
					ids[fi][li] = l.ids.ID(key)
				}
				loc.id = ids[fi][li]
			}
		}
		r.loc[i] = loc
	}
}

// frames computes the call stack after each event.
func (r *Run) frames() {
	var cur []string
	if len(r.funcs) > 0 {
		cur = []string{r.funcs[0].f.Image.Name}
		for _, f := range r.funcs {
			if f.prog == r.Entry && f.f.Image.Index == 0 {
				cur = []string{f.f.Image.Name}
				break
			}
		}
	}
	r.entry = cur
	r.evFrames = make([][]string, len(r.events))
	for k, e := range r.events {
		switch e.Kind {
		case trace.Call:
			cur = append(cur[:len(cur):len(cur)], ShortName(e.To))
		case trace.Return:
			if e.To == "kernel" {
				cur = nil
			} else if len(cur) > 0 {
				cur = cur[: len(cur)-1 : len(cur)-1]
			}
		case trace.TailCall, trace.Freplace:
			n := append([]string(nil), cur...)
			if len(n) == 0 {
				n = append(n, "")
			}
			n[len(n)-1] = ShortName(e.To)
			cur = n
		}
		r.evFrames[k] = cur
	}
}

// record turns the steps' register changes into the per-position deltas
// and the checkpoints. Changes the steps do not show — a helper's result,
// the return address a helper's or thunk's ret pops — are found where a
// step's old value differs from the state so far, and attributed to the
// last discontinuity (helper or thunk return) since the register's last
// change.
func (r *Run) record(init []uint64) {
	n := len(r.Steps)
	state := append([]uint64(nil), init...)
	idx := func(name string) int {
		if name == "pc" || name == "rip" {
			return -1
		}
		i, ok := r.regIdx[name]
		if !ok {
			i = len(r.regs)
			r.regs = append(r.regs, regInfo{name: name})
			r.regIdx[name] = i
			state = append(state, 0)
			init = append(init, 0)
		}
		return i
	}
	// Extra registers first, so the table is stable before recording.
	for _, name := range otherRegs[r.Arch] {
		for _, st := range r.Steps {
			if changes(st, name) {
				idx(name)
				break
			}
		}
	}
	type hidden struct {
		pos, reg int
		val      uint64
	}
	var hid []hidden
	lastChange := make([]int, len(r.regs))
	// Helper results, as the events report them.
	helperAt := map[int][]int64{}
	for _, e := range r.events {
		if e.Kind == trace.Helper && e.Value != nil {
			helperAt[e.Step] = append(helperAt[e.Step], *e.Value)
		}
	}
	result := "x0"
	if r.Arch == kernel.X86_64 {
		result = "rax"
	}
	var disc []int // positions where the flow did not follow the last step
	for j := 0; j <= n; j++ {
		if j > 0 && r.pc(j) != nextPC(r.Steps[j-1]) {
			disc = append(disc, j)
		}
		if vs := helperAt[j]; len(vs) > 0 {
			ri := idx(result)
			for len(lastChange) < len(r.regs) {
				lastChange = append(lastChange, 0)
			}
			v := uint64(vs[len(vs)-1])
			if state[ri] != v {
				hid = append(hid, hidden{j, ri, v})
				state[ri] = v
				lastChange[ri] = j
			}
		}
		if j == n {
			break
		}
		for _, c := range r.Steps[j].Regs {
			ri := idx(c.Reg)
			if ri < 0 {
				continue
			}
			for len(lastChange) < len(r.regs) {
				lastChange = append(lastChange, 0)
			}
			if state[ri] != c.Old {
				// Changed out of sight since its last change.
				at := j
				if k := sort.SearchInts(disc, j+1) - 1; k >= 0 && disc[k] > lastChange[ri] {
					at = disc[k]
				}
				hid = append(hid, hidden{at, ri, c.Old})
			}
			state[ri] = c.New
			lastChange[ri] = j + 1
		}
	}
	sort.SliceStable(hid, func(a, b int) bool { return hid[a].pos < hid[b].pos })
	// Deltas in position order: into position p, the hidden changes at p
	// come after step p-1's own changes, except that a change found on a
	// step's old value precedes that step.
	r.dOff = make([]int32, n+1)
	hi := 0
	for p := 1; p <= n; p++ {
		for _, c := range r.Steps[p-1].Regs {
			if ri := r.regIdx[c.Reg]; c.Reg != "pc" && c.Reg != "rip" {
				r.dReg = append(r.dReg, uint8(ri))
				r.dVal = append(r.dVal, c.New)
			}
		}
		for hi < len(hid) && hid[hi].pos <= p {
			if hid[hi].pos == p {
				r.dReg = append(r.dReg, uint8(hid[hi].reg))
				r.dVal = append(r.dVal, hid[hi].val)
			}
			hi++
		}
		r.dOff[p] = int32(len(r.dReg))
	}
	// Hidden changes at position 0 (before any step) belong to the entry
	// state.
	state = append([]uint64(nil), init...)
	for _, h := range hid {
		if h.pos == 0 {
			state[h.reg] = h.val
		}
	}
	for p := 0; p <= n; p++ {
		if p > 0 {
			for k := r.dOff[p-1]; k < r.dOff[p]; k++ {
				state[r.dReg[k]] = r.dVal[k]
			}
		}
		if p%checkpointEvery == 0 {
			r.ckpt = append(r.ckpt, append([]uint64(nil), state...))
		}
	}
}

func changes(st machine.Step, name string) bool {
	for _, c := range st.Regs {
		if c.Reg == name {
			return true
		}
	}
	return false
}

// nextPC is where a step's instruction sends the PC.
func nextPC(st machine.Step) uint64 {
	switch st.BranchKind {
	case "call", "return", "jump", "cond-taken", "indirect":
		return st.Target
	}
	return st.PC + uint64(st.Len)
}

// pc is the PC at position i.
func (r *Run) pc(i int) uint64 {
	if i < len(r.Steps) {
		return r.Steps[i].PC
	}
	return r.endPC
}

// Len is the number of executed instructions.
func (r *Run) Len() int { return len(r.Steps) }

// Events lists the run's events in order, including the returns through
// x86 return thunks that the run loop does not report.
func (r *Run) Events() []trace.Event { return r.events }

// clamp keeps i among the positions.
func (r *Run) clamp(i int) int { return max(0, min(i, len(r.Steps))) }

// lastEvent is the index of the last event at or before position i, or -1.
func (r *Run) lastEvent(i int) int {
	return sort.Search(len(r.events), func(k int) bool { return r.events[k].Step > i }) - 1
}

// Frames is the call stack at position i.
func (r *Run) Frames(i int) []string {
	if k := r.lastEvent(i); k >= 0 {
		return r.evFrames[k]
	}
	return r.entry
}

// Depth is the number of BPF frames at position i.
func (r *Run) Depth(i int) int { return len(r.Frames(i)) }

// Step describes position i.
func (r *Run) Step(i int) StepView {
	i = r.clamp(i)
	v := StepView{Pos: i, Arch: r.Arch, PC: r.pc(i), Done: i == len(r.Steps), BPFIndex: -1}
	if !r.Ran {
		return v
	}
	if loc := r.loc[i]; loc.fn >= 0 {
		f := r.funcs[loc.fn].f
		v.Func = f.Image.Name
		v.Offset = int(v.PC - f.Image.Address)
		if loc.line >= 0 {
			li := int(loc.line)
			v.Region = f.Region(li)
			if b := f.BPF(li); b >= 0 {
				in := f.Image.Insns[b]
				v.BPFIndex = in.Index
				v.BPF = fmt.Sprintf("%d: %s", in.Index, disasm.BPFText(in))
			}
		}
	}
	k := r.lastEvent(i)
	v.Frames = r.entry
	if k >= 0 {
		v.Frames = r.evFrames[k]
		v.Recent = r.events[max(0, k+1-RecentEvents) : k+1]
	}
	for j := k; j >= 0; j-- {
		e := &r.events[j]
		if e.Kind == trace.TCC && e.Value != nil {
			v.TCC, v.TCCWhere, v.TCCKnown = *e.Value, e.Where, true
			break
		}
	}
	for j := k; j >= 0 && r.events[j].Step == i; j-- {
		if r.events[j].Kind == trace.TailCall {
			v.Landed = &r.events[j]
		}
	}
	if i > 0 && v.PC != r.Steps[i-1].PC+uint64(r.Steps[i-1].Len) {
		v.Jumped, v.From = true, r.Steps[i-1].PC
	}
	return v
}

// Regs lists the registers at position i, changed ones marked.
func (r *Run) Regs(i int) []RegView {
	if !r.Ran {
		return nil
	}
	i = r.clamp(i)
	c := i / checkpointEvery
	state := append([]uint64(nil), r.ckpt[c]...)
	for p := c*checkpointEvery + 1; p <= i; p++ {
		for k := r.dOff[p-1]; k < r.dOff[p]; k++ {
			state[r.dReg[k]] = r.dVal[k]
		}
	}
	out := make([]RegView, len(r.regs))
	for ri, info := range r.regs {
		out[ri] = RegView{Name: info.name, BPF: info.bpf, Role: info.role, Value: state[ri]}
	}
	if i > 0 {
		for k := r.dOff[i-1]; k < r.dOff[i]; k++ {
			out[r.dReg[k]].Changed = true
		}
	}
	return out
}

// ID is the BPF id (see BPFIDs) of the instruction at position i, -1
// outside the listed functions.
func (r *Run) ID(i int) int32 {
	if !r.Ran {
		return -1
	}
	return r.loc[r.clamp(i)].id
}

// Over steps over one BPF instruction from position i: forward (dir > 0)
// to the first position of the next BPF instruction in this frame or an
// outer one, so a bpf-to-bpf call runs whole; back (dir < 0) to the first
// position of the current instruction, or of the previous one when i is
// already there.
func (r *Run) Over(i, dir int) int {
	n := len(r.Steps)
	i = r.clamp(i)
	if !r.Ran {
		return i
	}
	d := r.Depth(i)
	id := r.loc[i].id
	if dir > 0 {
		for j := i + 1; j <= n; j++ {
			dj := r.Depth(j)
			if dj < d || (dj == d && r.loc[j].id != id) || j == n {
				return j
			}
		}
		return n
	}
	if i == n && i > 0 {
		// Back from the end: the last instruction the run executed.
		return r.insnStart(i - 1)
	}
	start := r.insnStart(i)
	if start < i {
		return start
	}
	j := i - 1
	for j > 0 && r.Depth(j) > d {
		j--
	}
	if j < 0 {
		return 0
	}
	return r.insnStart(j)
}

// insnStart is the first position of the BPF instruction executing at i:
// back over positions of the same instruction and frame depth, and over
// the deeper frames of the calls it made.
func (r *Run) insnStart(i int) int {
	d, id := r.Depth(i), r.loc[i].id
	j := i
	for j > 0 {
		dp := r.Depth(j - 1)
		if dp > d || (dp == d && r.loc[j-1].id == id) {
			j--
			continue
		}
		break
	}
	return j
}

// Kinds of positions NextEvent looks for.
var (
	KindsTCC      = []trace.Kind{trace.TCC}
	KindsTailCall = []trace.Kind{trace.TailCall}
	KindsCall     = []trace.Kind{trace.Call, trace.Return}
)

// NextEvent returns the position of the next (dir > 0) or previous event
// of one of kinds after or before position i, and the event; ok is false
// when there is none.
func (r *Run) NextEvent(i, dir int, kinds []trace.Kind) (int, *trace.Event, bool) {
	match := func(e *trace.Event) bool {
		for _, k := range kinds {
			if e.Kind == k {
				return true
			}
		}
		return false
	}
	if dir > 0 {
		for k := range r.events {
			if e := &r.events[k]; e.Step > i && match(e) {
				return e.Step, e, true
			}
		}
		return i, nil, false
	}
	for k := len(r.events) - 1; k >= 0; k-- {
		if e := &r.events[k]; e.Step < i && match(e) {
			return e.Step, e, true
		}
	}
	return i, nil, false
}

// Occurrence says which execution of its BPF instruction position i is
// part of: the instruction's id and how many times execution entered it
// up to i (1 for the first). Entering means arriving from another
// instruction or frame depth.
func (r *Run) Occurrence(i int) (int32, int) {
	if !r.Ran {
		return -1, 0
	}
	r.occOnce.Do(r.buildOcc)
	i = r.clamp(i)
	return r.loc[i].id, int(r.occ[i])
}

// Find returns the first position of the n-th execution of BPF
// instruction id, as Occurrence counts, or -1.
func (r *Run) Find(id int32, n int) int {
	if !r.Ran || id < 0 || n < 1 {
		return -1
	}
	r.occOnce.Do(r.buildOcc)
	if e := r.entries[id]; n <= len(e) {
		return int(e[n-1])
	}
	return -1
}

func (r *Run) buildOcc() {
	r.occ = make([]int32, len(r.loc))
	r.entries = map[int32][]int32{}
	prevDepth := -1
	for j := range r.loc {
		id := r.loc[j].id
		d := r.Depth(j)
		if j == 0 || r.loc[j-1].id != id || prevDepth != d {
			r.entries[id] = append(r.entries[id], int32(j))
		}
		r.occ[j] = int32(len(r.entries[id]))
		prevDepth = d
	}
}

// Match finds the position of other that executes the BPF instruction r
// executes at position i, the same time round (for stepping two
// architectures in lockstep): the first position of that execution. Where
// other never gets there (code only one JIT emits, such as a landing pad
// region), it is the position right after other's execution of the latest
// instruction both executed; position 0 before any. -1 when either run
// did not start.
func (r *Run) Match(i int, other *Run) int {
	if !r.Ran || !other.Ran {
		return -1
	}
	i = r.clamp(i)
	if i == len(r.Steps) {
		return len(other.Steps)
	}
	for j := i; j >= 0; j = r.insnStart(j) - 1 {
		id, n := r.Occurrence(j)
		if p := other.Find(id, n); p >= 0 {
			if j == i || r.insnStart(j) == r.insnStart(i) {
				return p
			}
			return other.Over(p, 1)
		}
		if r.insnStart(j) == 0 {
			break
		}
	}
	return 0
}

// EventText describes an event in words, with functions by their short
// names: "tail call: subprog_tail → classifier_0, skipped 9 prologue
// instructions".
func EventText(e trace.Event) string {
	val := func() string {
		if e.Value == nil {
			return "?"
		}
		return fmt.Sprint(*e.Value)
	}
	switch e.Kind {
	case trace.TCC:
		return fmt.Sprintf("TCC = %s in %s (%s)", val(), e.Where, ShortName(e.From))
	case trace.Call:
		return fmt.Sprintf("call: %s → %s", ShortName(e.From), ShortName(e.To))
	case trace.Return:
		s := fmt.Sprintf("return: %s → %s", ShortName(e.From), ShortName(e.To))
		if e.Value != nil {
			s += fmt.Sprintf(" (r0 = %d)", *e.Value)
		}
		return s
	case trace.TailCall:
		return fmt.Sprintf("tail call: %s → %s, skipped %d prologue instructions", ShortName(e.From), ShortName(e.To), e.Skipped)
	case trace.TailCallMiss:
		why := map[string]string{"index": "index out of range", "limit": "count limit reached", "empty": "empty slot"}[e.Detail]
		if why == "" {
			why = e.Detail
		}
		return fmt.Sprintf("tail call not taken in %s: %s", ShortName(e.From), why)
	case trace.Helper:
		return fmt.Sprintf("helper %s() = %s", e.To, val())
	}
	if e.Detail != "" {
		return string(e.Kind) + ": " + e.Detail
	}
	return string(e.Kind)
}
