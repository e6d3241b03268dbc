package kernel

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/cilium/ebpf/asm"
)

// Default placement for sets that pin nothing: plausible kernel addresses,
// chosen so that listings look like a real kernel's. Images get a slot each
// in the BPF JIT region; maps sit in the direct map.
var defaultBases = map[Arch]struct {
	image, maps, callBase, helpers uint64
}{
	// arm64 6.1: BPF images in the vmalloc area (e.g. 0xffff80000a095d04 in
	// the arm64-6.1 capture), struct bpf_map in the linear map.
	ARM64: {image: 0xffff800009000000, maps: 0xffff000008100000, callBase: 0xffff800008222f40, helpers: 0xffff800008230000},
	// x86-64: the module area (0xffffffffc0000000-) and the direct map.
	X86_64: {image: 0xffffffffc0200000, maps: 0xffff888100100000, callBase: 0xffffffff814ca4d0, helpers: 0xffffffff814d0000},
}

// Options adjust Load.
type Options struct {
	// Layout supplies struct offsets when the placement does not pin them;
	// value addresses of array maps depend on offsetof(struct bpf_array, value).
	Layout Layout
	// UnroundedStackDepth computes stack depths as 5.10's verifier did
	// (the deepest offset as is), not rounded up to 8 bytes.
	UnroundedStackDepth bool
}

// Load prepares program name of set for arch the way the verifier and
// jit_subprogs would: split into functions, resolve calls, maps and helpers
// to addresses, compute stack depths and tail-call reachability.
func Load(set *Set, name string, arch Arch, opt Options) (*Loaded, error) {
	prog := set.Program(name)
	if prog == nil {
		return nil, fmt.Errorf("%s: no program %q", set.Name, name)
	}
	if len(prog.Insns) == 0 {
		return nil, fmt.Errorf("%s: program %s has no instructions", set.Name, name)
	}
	pl := set.Placements[arch]
	if pl == nil {
		pl = &Placement{}
	}
	addrs, err := placeAll(set, arch, pl, opt.Layout)
	if err != nil {
		return nil, err
	}
	layout := opt.Layout
	for k, v := range pl.Layout {
		switch k {
		case "bpf_array.map.max_entries":
			layout.ArrayMaxEntries = v
		case "bpf_array.ptrs":
			layout.ArrayPtrs = v
		case "bpf_prog.bpf_func":
			layout.ProgBPFFunc = v
		case "thread_info.cpu":
			layout.ThreadInfoCPU = v
		}
	}
	l := &Loaded{
		Arch:     arch,
		Name:     prog.Name,
		Type:     prog.Type,
		CallBase: symbolOr(pl, "__bpf_call_base", defaultBases[arch].callBase),
		Symbols:  map[uint64]string{},
		Layout:   layout,
		Config:   pl.Config,
	}
	// Kernel symbols the placement pins (thunks, this_cpu_off, helpers)
	// name their addresses; functions and maps named below take precedence.
	for name, a := range pl.Symbols {
		if cur, ok := l.Symbols[a]; !ok || name < cur {
			l.Symbols[a] = name
		}
	}
	// placeAll found every program's functions (and refused the set if
	// any program's could not be found).
	funcs := addrs.progFuncs[prog]
	firstSlot, total := funcSlots(prog, funcs)
	if total > MaxInsns {
		return nil, fmt.Errorf("%s: %d instructions: the kernel loads at most %d (BPF_COMPLEXITY_LIMIT_INSNS, -E2BIG)", prog.Name, total, MaxInsns)
	}
	r := resolver{set: set, prog: prog, funcs: funcs, addrs: addrs, pl: pl, l: l, funcSlots: firstSlot}
	// One walk over the instructions, each written in place: resolved,
	// numbered by slot and encoded in the kernel's form, its stack use
	// counted; what checkJumps, markTailCallReachable and
	// markDirectTailCalls need is noted on the way.
	r.hasTail = make([]bool, len(funcs))
	r.callees = make([][]int32, len(funcs))
	checks := make([]funcCheck, len(funcs))
	l.Funcs = make([]*LoadedFunc, 0, len(funcs))
	slot := 0
	var sw stackWalk
	for fi, f := range funcs {
		end, endSlot := len(prog.Insns), total
		if fi+1 < len(funcs) {
			end, endSlot = funcs[fi+1].Start, firstSlot[fi+1]
		}
		lf := &LoadedFunc{
			Name:       f.Name,
			Ksym:       f.Ksym,
			Prototype:  f.Prototype,
			Index:      fi,
			Address:    addrs.fn(prog.Name, f.Name),
			StackDepth: f.StackDepth,
			Lines:      f.Lines,
			Start:      f.Start,
			Insns:      make([]Insn, end-f.Start),
			Compact:    make([]CompactInsn, end-f.Start),
		}
		first := slot
		ck := &checks[fi]
		ck.starts = make([]bool, endSlot-first)
		ck.r10 = -1
		depth := lf.StackDepth < 0
		sw.reset()
		src := prog.Insns[f.Start:end]
		for k := range lf.Insns {
			in := &lf.Insns[k]
			in.Instruction = src[k]
			in.Index = slot
			op := in.OpCode
			var err error
			if op.Class().IsJump() {
				switch op.JumpOp() {
				case asm.Call:
					if err = r.call(in); err == nil {
						switch in.Kind {
						case TailCall:
							r.hasTail[fi] = true
						case FuncCall:
							r.callees[fi] = append(r.callees[fi], int32(in.Callee))
						}
					}
				case asm.Exit:
				default:
					ck.jumps = append(ck.jumps, int32(k))
				}
			} else if op.IsDWordLoad() {
				err = r.load(in)
			}
			if err == nil {
				var ok bool
				if in.Raw, ok = rawDirect(&in.Instruction); !ok {
					in.Raw, err = rawOfMarshal(in.Instruction)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%s: insn %d: %w", prog.Name, slot, err)
			}
			lf.Compact[k] = CompactOf(in)
			if ck.r10 < 0 && in.Dst == asm.R10 && writesDst(in) {
				ck.r10 = k
			}
			if depth {
				sw.step(in)
			}
			ck.starts[slot-first] = true
			slot++
			if op.IsDWordLoad() {
				slot++
			}
		}
		if depth {
			lf.StackDepth = sw.result(!opt.UnroundedStackDepth)
		}
		if lf.StackDepth > 512 {
			return nil, fmt.Errorf("%s: function %s: combined stack size %d exceeds the kernel's 512 bytes", prog.Name, f.Name, lf.StackDepth)
		}
		l.Funcs = append(l.Funcs, lf)
		sym := f.Ksym
		if sym == "" {
			sym = f.Name
		}
		l.Symbols[lf.Address] = sym
	}
	// checkJumps also finds the jump targets markDirectTailCalls needs, in
	// the functions with tail calls (its marks on a program refused later
	// do not matter).
	targets, err := checkJumps(l, prog.Xlated, checks, r.hasTail)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog.Name, err)
	}
	markTailCallReachable(l, r.hasTail, r.callees)
	for _, m := range set.Maps {
		if a, ok := addrs.maps[m.Name]; ok {
			l.Symbols[a] = m.Name
		}
		if !m.IsProgArray() {
			continue
		}
		pa := &LoadedProgArray{Name: m.Name, Address: addrs.maps[m.Name], MaxEntries: m.MaxEntries, Slots: map[uint32]ProgRef{}}
		// In key order, so that a set with several unknown programs is
		// refused for the same one every time.
		for _, k := range slices.Sorted(maps.Keys(m.Progs)) {
			p := m.Progs[k]
			target := set.Program(p)
			var a uint64
			if target != nil {
				a = addrs.fn(target.Name, addrs.progFuncs[target][0].Name)
			} else if v, ok := pl.Funcs[p]; ok {
				a = v
			} else {
				return nil, fmt.Errorf("%s: prog array %s[%d]: no program %q", set.Name, m.Name, k, p)
			}
			pa.Slots[k] = ProgRef{Name: p, Address: a}
			if _, ok := l.Symbols[a]; !ok {
				l.Symbols[a] = p
			}
		}
		l.ProgArrays = append(l.ProgArrays, pa)
	}
	markDirectTailCalls(l, targets)
	l.MapAddrs, l.ValueAddrs = addrs.maps, addrs.vals
	return l, nil
}

func symbolOr(pl *Placement, name string, def uint64) uint64 {
	if v, ok := pl.Symbols[name]; ok {
		return v
	}
	return def
}

// functions returns the functions of prog, deriving them from bpf-to-bpf
// call targets when the program does not list them.
func functions(prog *Program) ([]Func, error) {
	if len(prog.Funcs) > 0 {
		fs := append([]Func(nil), prog.Funcs...)
		for i, f := range fs {
			if f.Start < 0 || f.Start >= len(prog.Insns) || (i > 0 && f.Start <= fs[i-1].Start) || (i == 0 && f.Start != 0) {
				return nil, fmt.Errorf("function %s: bad start %d", f.Name, f.Start)
			}
		}
		return fs, nil
	}
	starts := map[int]bool{0: true}
	// One walk for the symbols (as asm.Instructions.SymbolOffsets finds
	// them, duplicates refused first) and the function references.
	syms := map[string]int{}
	var dup error
	var refs []int
	for i := range prog.Insns {
		ins := &prog.Insns[i]
		if sym := ins.Symbol(); sym != "" && dup == nil {
			if _, ok := syms[sym]; ok {
				dup = fmt.Errorf("duplicate symbol %s", sym)
			}
			syms[sym] = i
		}
		if ins.IsFunctionReference() {
			refs = append(refs, i)
		}
	}
	if dup != nil {
		return nil, dup
	}
	// A function starts where a bpf-to-bpf call (or function pointer) lands.
	for _, i := range refs {
		ins := &prog.Insns[i]
		if ref := ins.Reference(); ref != "" {
			off, ok := syms[ref]
			if !ok {
				return nil, fmt.Errorf("insn %d: call to unknown function %q", i, ref)
			}
			starts[off] = true
			continue
		}
		idx, err := slotToIndex(prog.Insns, slotOf(prog.Insns, i)+1+int(int32(ins.Constant)))
		if err != nil {
			return nil, fmt.Errorf("insn %d: %w", i, err)
		}
		starts[idx] = true
	}
	var idx []int
	for s := range starts {
		idx = append(idx, s)
	}
	sort.Ints(idx)
	var fs []Func
	for _, s := range idx {
		name := prog.Insns[s].Symbol()
		if s == 0 && name == "" {
			name = prog.Name
		}
		if name == "" {
			name = fmt.Sprintf("%s_func%d", prog.Name, len(fs))
		}
		fs = append(fs, Func{Name: name, Start: s, StackDepth: -1})
	}
	return fs, nil
}

func slotOf(insns asm.Instructions, i int) int {
	s := 0
	for j := 0; j < i; j++ {
		s += int(insns[j].Size() / asm.InstructionSize)
	}
	return s
}

func slotToIndex(insns asm.Instructions, slot int) (int, error) {
	s := 0
	for j, ins := range insns {
		if s == slot {
			return j, nil
		}
		if s > slot {
			break
		}
		s += int(ins.Size() / asm.InstructionSize)
	}
	return 0, fmt.Errorf("target slot %d is not the start of an instruction", slot)
}

// placement is the address of everything in a set for one architecture.
type placement struct {
	funcs map[string]uint64 // "prog/func"
	maps  map[string]uint64
	vals  map[string]uint64
	// progFuncs holds every program's functions (functions()).
	progFuncs map[*Program][]Func
}

func (p *placement) fn(prog, fn string) uint64 { return p.funcs[prog+"/"+fn] }

// placeAll gives every function and map of the set an address: the pinned
// one where the placement has it, else the next free default slot.
func placeAll(set *Set, arch Arch, pl *Placement, layout Layout) (*placement, error) {
	base, ok := defaultBases[arch]
	if !ok {
		return nil, fmt.Errorf("unknown architecture %q", arch)
	}
	p := &placement{funcs: map[string]uint64{}, maps: map[string]uint64{}, vals: map[string]uint64{}, progFuncs: map[*Program][]Func{}}
	next := base.image
	for _, prog := range set.Programs {
		fs, err := functions(prog)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prog.Name, err)
		}
		p.progFuncs[prog] = fs
		for i, f := range fs {
			key := prog.Name + "/" + f.Name
			if a, ok := pl.Funcs[key]; ok {
				p.funcs[key] = a
				continue
			}
			if a, ok := pl.Funcs[f.Name]; ok {
				p.funcs[key] = a
				continue
			}
			if f.Ksym != "" {
				if a, ok := pl.Funcs[f.Ksym]; ok {
					p.funcs[key] = a
					continue
				}
			}
			end := len(prog.Insns)
			if i+1 < len(fs) {
				end = fs[i+1].Start
			}
			// Reserve generously: no backend emits more than 128 bytes per
			// BPF instruction. Images start a little into their page, as
			// bpf_jit_binary_alloc places them.
			size := uint64(end-f.Start)*128 + 0x1000
			p.funcs[key] = next + 0x5d4
			next += (size + 0xfff) &^ 0xfff
		}
	}
	nextMap := base.maps
	for _, m := range set.Maps {
		if a, ok := pl.Maps[m.Name]; ok {
			p.maps[m.Name] = a
		} else {
			p.maps[m.Name] = nextMap
			nextMap += 0x1000 + uint64(m.MaxEntries)*uint64(max(m.ValueSize, 8))
			nextMap = (nextMap + 0xfff) &^ 0xfff
		}
		if a, ok := pl.Values[m.Name]; ok {
			p.vals[m.Name] = a
		} else {
			// struct bpf_array keeps its values at offsetof(value) == offsetof(ptrs).
			off := uint64(0x110)
			if layout.ArrayPtrs != 0 {
				off = uint64(layout.ArrayPtrs)
			}
			if v, ok := pl.Layout["bpf_array.value"]; ok {
				off = uint64(v)
			} else if v, ok := pl.Layout["bpf_array.ptrs"]; ok {
				off = uint64(v)
			}
			p.vals[m.Name] = p.maps[m.Name] + off
		}
	}
	return p, nil
}

// resolver resolves the instructions of one program (see Load).
type resolver struct {
	set   *Set
	prog  *Program
	funcs []Func
	addrs *placement
	pl    *Placement
	l     *Loaded
	// funcSlots[i] is the slot of funcs[i]'s first instruction.
	funcSlots []int
	// hasTail[i]: function i contains a tail call; callees[i]: the
	// functions it calls, in instruction order.
	hasTail []bool
	callees [][]int32
}

// call resolves a call instruction in place.
func (r *resolver) call(in *Insn) error {
	prog, funcs, l := r.prog, r.funcs, r.l
	switch in.Src {
	case asm.PseudoCall:
		idx := -1
		if ref := in.Reference(); ref != "" && !prog.Xlated {
			for i, f := range funcs {
				if f.Name == ref {
					idx = i
				}
			}
			if idx < 0 {
				return fmt.Errorf("call to unknown function %q", ref)
			}
		} else if prog.Xlated {
			// xlated.bin: imm is the index of the called function.
			idx = int(in.Constant)
		} else {
			target := in.Index + 1 + int(int32(in.Constant))
			for i, s := range r.funcSlots {
				if s == target {
					idx = i
				}
			}
		}
		if idx < 0 || idx >= len(funcs) {
			return fmt.Errorf("bpf-to-bpf call to a target that is not a function start")
		}
		in.Kind = FuncCall
		in.Callee = idx
		in.Ref = funcs[idx].Name
		return nil
	case asm.PseudoKfuncCall:
		if !prog.Xlated {
			return fmt.Errorf("kfunc call %q: kfuncs need the kernel's BTF ids and addresses (load the program from a kernel capture)", in.Reference())
		}
		// The verifier's fixup_kfunc_call made imm the kfunc's address
		// relative to __bpf_call_base: the JIT calls it like a helper.
		in.Kind = HelperCall
		in.Ref = l.Symbols[l.CallBase+uint64(int64(int32(in.Constant)))]
		return nil
	case 0:
	default:
		return fmt.Errorf("call with unknown src_reg %d", in.Src)
	}
	if prog.Xlated {
		// xlated.bin: tail calls show as "call 12"; other helper calls
		// carry imm = address - __bpf_call_base.
		if in.Constant == int64(asm.FnTailCall) {
			in.Kind = TailCall
			in.Ref = "bpf_tail_call"
			return nil
		}
		in.Kind = HelperCall
		addr := l.CallBase + uint64(int64(int32(in.Constant)))
		in.Ref = l.Symbols[addr]
		return nil
	}
	id := in.Constant
	if id == int64(asm.FnTailCall) {
		in.Kind = TailCall
		in.Ref = "bpf_tail_call"
		return nil
	}
	name := HelperName(id)
	if name == "" {
		return fmt.Errorf("call of unknown helper %d", id)
	}
	addr, ok := r.pl.Symbols[name]
	if !ok {
		addr = defaultBases[l.Arch].helpers + uint64(id)*0x80
	}
	rel := int64(addr) - int64(l.CallBase)
	if rel != int64(int32(rel)) {
		return fmt.Errorf("helper %s at %#x is out of reach of __bpf_call_base %#x", name, addr, l.CallBase)
	}
	in.Kind = HelperCall
	in.Constant = rel
	in.Ref = name
	if cur, ok := l.Symbols[addr]; !ok || cur != name {
		l.Symbols[addr] = name
	}
	return nil
}

// load resolves an ld_imm64 in place.
func (r *resolver) load(in *Insn) error {
	set, prog, funcs := r.set, r.prog, r.funcs
	switch in.Src {
	case 0:
		return nil
	case asm.PseudoFunc:
		idx := -1
		if prog.Xlated {
			// bpf_insn_prepare_dump: imm of the second slot is the
			// subprogram index (the first keeps the relative offset).
			idx = int(int32(uint64(in.Constant) >> 32))
		} else if ref := in.Reference(); ref != "" {
			for i, f := range funcs {
				if f.Name == ref {
					idx = i
				}
			}
		}
		if idx < 0 || idx >= len(funcs) {
			return fmt.Errorf("function pointer to an unknown function")
		}
		in.Kind = FuncPtr
		in.Callee = idx
		in.Ref = funcs[idx].Name
		in.Constant = int64(r.addrs.fn(prog.Name, funcs[idx].Name))
		return nil
	case asm.PseudoMapFD, asm.PseudoMapValue:
	default:
		return fmt.Errorf("ld_imm64 with unsupported src_reg %d", in.Src)
	}
	var m *Map
	off := uint64(0)
	if prog.Xlated {
		id := int(uint32(in.Constant))
		for _, mm := range set.Maps {
			if mm.ID == id {
				m = mm
			}
		}
		if m == nil {
			return fmt.Errorf("reference to unknown map id %d", id)
		}
	} else {
		ref := in.Reference()
		m = set.Map(ref)
		if m == nil {
			return fmt.Errorf("reference to unknown map %q", ref)
		}
	}
	if in.Src == asm.PseudoMapValue {
		off = uint64(uint32(in.Constant >> 32))
	}
	in.Ref = m.Name
	if in.Src == asm.PseudoMapFD {
		in.Kind = MapPtr
		in.Constant = int64(r.addrs.maps[m.Name])
	} else {
		in.Kind = MapValue
		in.Constant = int64(r.addrs.vals[m.Name] + off)
	}
	in.Map = m.Name
	return nil
}

// stackWalk computes a function's stack use as the verifier reports it:
// the deepest frame-pointer-relative access, rounded up to 8 bytes. Pointers
// derived from r10 by constant adds are followed within straight-line code.
// Load steps it through a function's instructions.
type stackWalk struct {
	fpOff [11]int
	isFP  [11]bool
	depth int
}

func (s *stackWalk) reset() {
	*s = stackWalk{}
	s.isFP[asm.R10] = true
}

func (s *stackWalk) note(reg asm.Register, off int16) {
	if reg > asm.R10 || !s.isFP[reg] {
		return
	}
	if d := -(s.fpOff[reg] + int(off)); d > s.depth {
		s.depth = d
	}
}

func (s *stackWalk) step(in *Insn) {
	op := in.OpCode
	switch op.Class() {
	case asm.LdXClass:
		s.note(in.Src, in.Offset)
	case asm.StClass, asm.StXClass:
		s.note(in.Dst, in.Offset)
	}
	// Track rX = r10 (+ imm) for pointers passed to helpers.
	if in.Dst <= asm.R10 && in.Dst != asm.R10 {
		switch {
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Mov && op.Source() == asm.RegSource && in.Src <= asm.R10 && s.isFP[in.Src]:
			s.isFP[in.Dst], s.fpOff[in.Dst] = true, s.fpOff[in.Src]
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Add && op.Source() == asm.ImmSource && s.isFP[in.Dst]:
			s.fpOff[in.Dst] += int(in.Constant)
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Sub && op.Source() == asm.ImmSource && s.isFP[in.Dst]:
			s.fpOff[in.Dst] -= int(in.Constant)
		case op.Class().IsALU() || op.Class() == asm.LdXClass || op.IsDWordLoad():
			s.isFP[in.Dst] = false
		}
	}
	if op.JumpOp() == asm.Call && op.Class().IsJump() {
		// A stack pointer passed to a helper is memory the helper
		// accesses (a map key, a buffer): it counts. Pointer
		// arithmetic alone does not (the verifier tracks each path;
		// this linear walk would otherwise count dead values).
		for r := asm.R1; r <= asm.R5; r++ {
			s.note(r, 0)
		}
		for r := asm.R0; r <= asm.R5; r++ {
			s.isFP[r] = false
		}
	}
}

func (s *stackWalk) result(round bool) int {
	if !round {
		return s.depth
	}
	return (s.depth + 7) &^ 7
}

// checkJumps refuses jumps that leave their function or land inside an
// ld_imm64, as the verifier does.
// MaxInsns is BPF_COMPLEXITY_LIMIT_INSNS, the most instructions (8-byte
// slots) bpf_prog_load accepts from a privileged user since 5.2
// (kernel/bpf/syscall.c: insn_cnt > bpf_cap ? BPF_COMPLEXITY_LIMIT_INSNS :
// BPF_MAXINSNS gives -E2BIG; include/linux/bpf.h). Every profile is newer.
const MaxInsns = 1_000_000

// funcSlots returns the slot of each function's first instruction and
// the program's slot count (bpf_prog_load refuses more than MaxInsns).
func funcSlots(prog *Program, funcs []Func) ([]int, int) {
	first := make([]int, len(funcs))
	n, next := 0, 0
	for i := range prog.Insns {
		for next < len(funcs) && funcs[next].Start == i {
			first[next] = n
			next++
		}
		n++
		if prog.Insns[i].OpCode.IsDWordLoad() {
			n++
		}
	}
	return first, n
}

// funcCheck is what Load notes of a function for checkJumps.
type funcCheck struct {
	starts []bool  // by slot less the function's first: an instruction starts there
	jumps  []int32 // indexes into Insns of the jumps (not calls or exits)
	r10    int     // index of the first instruction that writes r10, or -1
}

// checkJumps is the verifier's check_subprogs (kernel/bpf/verifier.c) and
// check_reg_arg's "frame pointer is read only": jumps stay inside their
// function and land on an instruction, a function ends in exit or goto (no
// falling into the next one), and nothing writes r10. Translated programs
// (captures) were checked by their kernel. It returns the jump targets
// (by slot less the function's first) of the functions with a tail call.
func checkJumps(l *Loaded, xlated bool, checks []funcCheck, hasTail []bool) ([][]bool, error) {
	targets := make([][]bool, len(l.Funcs))
	for fi, f := range l.Funcs {
		ck := &checks[fi]
		lastIns := &f.Insns[len(f.Insns)-1]
		if !xlated {
			if op := lastIns.OpCode; !op.Class().IsJump() || (op.JumpOp() != asm.Exit && op.JumpOp() != asm.Ja) {
				return nil, fmt.Errorf("insn %d: last insn of function %s is not an exit or jmp", lastIns.Index, f.Name)
			}
			if ck.r10 >= 0 {
				return nil, fmt.Errorf("insn %d: frame pointer r10 is read only", f.Insns[ck.r10].Index)
			}
		}
		first := f.Insns[0].Index
		last := first + len(ck.starts)
		var tg []bool
		if hasTail[fi] {
			// One more slot than the function has, as markDirectTailCalls
			// always had.
			tg = make([]bool, len(ck.starts)+1)
		}
		for _, i := range ck.jumps {
			in := &f.Insns[i]
			op := in.OpCode
			off := int(in.Offset)
			if op.Class() == asm.Jump32Class && op.JumpOp() == asm.Ja {
				off = int(int32(in.Constant)) // gotol
			}
			t := in.Index + 1 + off
			if t < first || t >= last {
				return nil, fmt.Errorf("insn %d: jump out of range to %d (function %s is insns %d..%d)", in.Index, t, f.Name, first, last-1)
			}
			if !ck.starts[t-first] {
				return nil, fmt.Errorf("insn %d: jump into the middle of an ld_imm64 at %d", in.Index, t)
			}
			if tg != nil {
				tg[t-first] = true
			}
		}
		targets[fi] = tg
	}
	return targets, nil
}

// markTailCallReachable sets TailCallReachable on every function that
// contains a tail call or calls (transitively) one that does, as the
// verifier's check_max_stack_depth marks the frames on the call stack.
// hasTail and callees are what Load noted of each function's calls.
func markTailCallReachable(l *Loaded, hasTail []bool, callees [][]int32) {
	has := append([]bool(nil), hasTail...)
	for changed := true; changed; {
		changed = false
		for i := range l.Funcs {
			if has[i] {
				continue
			}
			for _, c := range callees[i] {
				if has[c] {
					has[i] = true
					changed = true
					break
				}
			}
		}
	}
	for i, f := range l.Funcs {
		f.TailCallReachable = has[i]
	}
	// The main program is marked when any function reaches a tail call
	// (prog->aux->tail_call_reachable).
	if len(l.Funcs) > 0 {
		for _, h := range has {
			if h {
				l.Funcs[0].TailCallReachable = true
			}
		}
	}
}

// markDirectTailCalls finds tail calls whose map and key are the same
// constants on every path into them, the case in which the verifier records
// a poke descriptor (x86 then emits a direct jump). Values are followed
// through register copies within a basic block; a block boundary (jump
// target) or a call forgets what is known, which is conservative: the
// verifier, tracking every path, can only find more direct calls.
// targets are checkJumps' jump targets (nil for functions without a tail
// call, where there is nothing to mark).
func markDirectTailCalls(l *Loaded, targets [][]bool) {
	type val struct {
		known bool
		isMap bool
		mapN  string
		k     int64
	}
	for fi, f := range l.Funcs {
		tg := targets[fi]
		if tg == nil {
			continue // no tail call to mark
		}
		first := f.Insns[0].Index
		var regs [11]val
		for i := range f.Insns {
			in := &f.Insns[i]
			if tg[in.Index-first] {
				regs = [11]val{}
			}
			op := in.OpCode
			switch {
			case in.Kind == TailCall:
				if r2, r3 := regs[asm.R2], regs[asm.R3]; r2.known && r2.isMap && r3.known && !r3.isMap && r3.k >= 0 && r3.k <= 0xffffffff {
					in.Direct, in.Map, in.Key = true, r2.mapN, uint32(r3.k)
				}
				for r := asm.R0; r <= asm.R5; r++ {
					regs[r] = val{}
				}
			case in.Kind == HelperCall || in.Kind == FuncCall:
				for r := asm.R0; r <= asm.R5; r++ {
					regs[r] = val{}
				}
			case in.Dst > asm.R10:
			case in.Kind == MapPtr:
				regs[in.Dst] = val{known: true, isMap: true, mapN: in.Map}
			case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Mov && op.Source() == asm.ImmSource:
				regs[in.Dst] = val{known: true, k: in.Constant}
			case op.Class() == asm.ALUClass && op.ALUOp() == asm.Mov && op.Source() == asm.ImmSource:
				regs[in.Dst] = val{known: true, k: int64(uint32(in.Constant))}
			case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Mov && op.Source() == asm.RegSource && in.Src <= asm.R10:
				regs[in.Dst] = regs[in.Src]
			case writesDst(in):
				regs[in.Dst] = val{}
			}
		}
	}
}

func writesDst(in *Insn) bool {
	op := in.OpCode
	switch op.Class() {
	case asm.ALUClass, asm.ALU64Class, asm.LdXClass:
		return true
	case asm.LdClass:
		return true
	}
	return false
}
