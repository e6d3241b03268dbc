// SPDX-License-Identifier: GPL-2.0-only

package kernel

// The implementation of Load before round 4 of issue 10 (one walk per
// concern, each instruction resolved into a value and appended), kept as
// the reference TestLoadMatchesReference holds the fast Load to.

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/cilium/ebpf/asm"
)

type refPlacement struct {
	funcs map[string]uint64 // "prog/func"
	maps  map[string]uint64
	vals  map[string]uint64
}

func (p *refPlacement) fn(prog, fn string) uint64 { return p.funcs[prog+"/"+fn] }

func refLoad(set *Set, name string, arch Arch, opt Options) (*Loaded, error) {
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
	addrs, err := refPlaceAll(set, arch, pl, opt.Layout)
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
	funcs, err := refFunctions(prog)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog.Name, err)
	}
	if err := refCheckSize(prog); err != nil {
		return nil, fmt.Errorf("%s: %w", prog.Name, err)
	}
	slot := 0
	slots := make([]int, len(prog.Insns))
	for i, ins := range prog.Insns {
		slots[i] = slot
		slot += int(ins.Size() / asm.InstructionSize)
	}
	for fi, f := range funcs {
		end := len(prog.Insns)
		if fi+1 < len(funcs) {
			end = funcs[fi+1].Start
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
			Insns:      make([]Insn, 0, end-f.Start),
		}
		for i := f.Start; i < end; i++ {
			in, err := refResolve(set, prog, funcs, addrs, pl, l, prog.Insns[i], slots[i])
			if err == nil {
				in.Raw, err = RawOf(in.Instruction)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: insn %d: %w", prog.Name, slots[i], err)
			}
			lf.Insns = append(lf.Insns, in)
		}
		if lf.StackDepth < 0 {
			lf.StackDepth = refStackDepth(lf.Insns, !opt.UnroundedStackDepth)
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
	if err := refCheckJumps(l, prog.Xlated); err != nil {
		return nil, fmt.Errorf("%s: %w", prog.Name, err)
	}
	refMarkTailCallReachable(l)
	for _, m := range set.Maps {
		if a, ok := addrs.maps[m.Name]; ok {
			l.Symbols[a] = m.Name
		}
		if !m.IsProgArray() {
			continue
		}
		pa := &LoadedProgArray{Name: m.Name, Address: addrs.maps[m.Name], MaxEntries: m.MaxEntries, Slots: map[uint32]ProgRef{}}
		// (Sorted here too: the reference ranged over the map, which
		// made the first "no program" error random.)
		for _, k := range slices.Sorted(maps.Keys(m.Progs)) {
			p := m.Progs[k]
			target := set.Program(p)
			var a uint64
			if target != nil {
				tf, err := refFunctions(target)
				if err != nil {
					return nil, err
				}
				a = addrs.fn(target.Name, tf[0].Name)
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
	refMarkDirectTailCalls(l)
	l.MapAddrs, l.ValueAddrs = addrs.maps, addrs.vals
	return l, nil
}

func refFunctions(prog *Program) ([]Func, error) {
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
	syms, err := prog.Insns.SymbolOffsets()
	if err != nil {
		return nil, err
	}
	// A function starts where a bpf-to-bpf call (or function pointer) lands.
	for i, ins := range prog.Insns {
		if !ins.IsFunctionReference() {
			continue
		}
		if ref := ins.Reference(); ref != "" {
			off, ok := syms[ref]
			if !ok {
				return nil, fmt.Errorf("insn %d: call to unknown function %q", i, ref)
			}
			starts[off] = true
			continue
		}
		idx, err := refSlotToIndex(prog.Insns, refSlotOf(prog.Insns, i)+1+int(int32(ins.Constant)))
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

func refSlotOf(insns asm.Instructions, i int) int {
	s := 0
	for j := 0; j < i; j++ {
		s += int(insns[j].Size() / asm.InstructionSize)
	}
	return s
}

func refSlotToIndex(insns asm.Instructions, slot int) (int, error) {
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

func refPlaceAll(set *Set, arch Arch, pl *Placement, layout Layout) (*refPlacement, error) {
	base, ok := defaultBases[arch]
	if !ok {
		return nil, fmt.Errorf("unknown architecture %q", arch)
	}
	p := &refPlacement{funcs: map[string]uint64{}, maps: map[string]uint64{}, vals: map[string]uint64{}}
	next := base.image
	for _, prog := range set.Programs {
		fs, err := refFunctions(prog)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", prog.Name, err)
		}
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

func refResolve(set *Set, prog *Program, funcs []Func, addrs *refPlacement, pl *Placement, l *Loaded, ins asm.Instruction, slot int) (Insn, error) {
	in := Insn{Instruction: ins, Index: slot}
	op := ins.OpCode
	switch {
	case op.JumpOp() == asm.Call && op.Class().IsJump():
		return refResolveCall(prog, funcs, addrs, pl, l, in)
	case op.IsDWordLoad():
		return refResolveLoad(set, prog, funcs, addrs, in)
	}
	return in, nil
}

func refResolveCall(prog *Program, funcs []Func, addrs *refPlacement, pl *Placement, l *Loaded, in Insn) (Insn, error) {
	ins := in.Instruction
	switch ins.Src {
	case asm.PseudoCall:
		idx := -1
		if ref := ins.Reference(); ref != "" && !prog.Xlated {
			for i, f := range funcs {
				if f.Name == ref {
					idx = i
				}
			}
			if idx < 0 {
				return in, fmt.Errorf("call to unknown function %q", ref)
			}
		} else if prog.Xlated {
			// xlated.bin: imm is the index of the called function.
			idx = int(ins.Constant)
		} else {
			target := in.Index + 1 + int(int32(ins.Constant))
			for i, f := range funcs {
				if refSlotOf(prog.Insns, f.Start) == target {
					idx = i
				}
			}
		}
		if idx < 0 || idx >= len(funcs) {
			return in, fmt.Errorf("bpf-to-bpf call to a target that is not a function start")
		}
		in.Kind = FuncCall
		in.Callee = idx
		in.Ref = funcs[idx].Name
		return in, nil
	case asm.PseudoKfuncCall:
		if !prog.Xlated {
			return in, fmt.Errorf("kfunc call %q: kfuncs need the kernel's BTF ids and addresses (load the program from a kernel capture)", ins.Reference())
		}
		// The verifier's fixup_kfunc_call made imm the kfunc's address
		// relative to __bpf_call_base: the JIT calls it like a helper.
		in.Kind = HelperCall
		in.Ref = l.Symbols[l.CallBase+uint64(int64(int32(ins.Constant)))]
		return in, nil
	case 0:
	default:
		return in, fmt.Errorf("call with unknown src_reg %d", ins.Src)
	}
	if prog.Xlated {
		// xlated.bin: tail calls show as "call 12"; other helper calls
		// carry imm = address - __bpf_call_base.
		if ins.Constant == int64(asm.FnTailCall) {
			in.Kind = TailCall
			in.Ref = "bpf_tail_call"
			return in, nil
		}
		in.Kind = HelperCall
		addr := l.CallBase + uint64(int64(int32(ins.Constant)))
		in.Ref = l.Symbols[addr]
		return in, nil
	}
	id := ins.Constant
	if id == int64(asm.FnTailCall) {
		in.Kind = TailCall
		in.Ref = "bpf_tail_call"
		return in, nil
	}
	name := HelperName(id)
	if name == "" {
		return in, fmt.Errorf("call of unknown helper %d", id)
	}
	addr, ok := pl.Symbols[name]
	if !ok {
		addr = defaultBases[l.Arch].helpers + uint64(id)*0x80
	}
	rel := int64(addr) - int64(l.CallBase)
	if rel != int64(int32(rel)) {
		return in, fmt.Errorf("helper %s at %#x is out of reach of __bpf_call_base %#x", name, addr, l.CallBase)
	}
	in.Kind = HelperCall
	in.Constant = rel
	in.Ref = name
	l.Symbols[addr] = name
	return in, nil
}

func refResolveLoad(set *Set, prog *Program, funcs []Func, addrs *refPlacement, in Insn) (Insn, error) {
	ins := in.Instruction
	switch ins.Src {
	case 0:
		return in, nil
	case asm.PseudoFunc:
		idx := -1
		if prog.Xlated {
			// bpf_insn_prepare_dump: imm of the second slot is the
			// subprogram index (the first keeps the relative offset).
			idx = int(int32(uint64(ins.Constant) >> 32))
		} else if ref := ins.Reference(); ref != "" {
			for i, f := range funcs {
				if f.Name == ref {
					idx = i
				}
			}
		}
		if idx < 0 || idx >= len(funcs) {
			return in, fmt.Errorf("function pointer to an unknown function")
		}
		in.Kind = FuncPtr
		in.Callee = idx
		in.Ref = funcs[idx].Name
		in.Constant = int64(addrs.fn(prog.Name, funcs[idx].Name))
		return in, nil
	case asm.PseudoMapFD, asm.PseudoMapValue:
	default:
		return in, fmt.Errorf("ld_imm64 with unsupported src_reg %d", ins.Src)
	}
	var m *Map
	off := uint64(0)
	if prog.Xlated {
		id := int(uint32(ins.Constant))
		for _, mm := range set.Maps {
			if mm.ID == id {
				m = mm
			}
		}
		if m == nil {
			return in, fmt.Errorf("reference to unknown map id %d", id)
		}
		if ins.Src == asm.PseudoMapValue {
			off = uint64(uint32(ins.Constant >> 32))
		}
	} else {
		ref := ins.Reference()
		m = set.Map(ref)
		if m == nil {
			return in, fmt.Errorf("reference to unknown map %q", ref)
		}
		if ins.Src == asm.PseudoMapValue {
			off = uint64(uint32(ins.Constant >> 32))
		}
	}
	in.Ref = m.Name
	if ins.Src == asm.PseudoMapFD {
		in.Kind = MapPtr
		in.Constant = int64(addrs.maps[m.Name])
	} else {
		in.Kind = MapValue
		in.Constant = int64(addrs.vals[m.Name] + off)
	}
	in.Map = m.Name
	return in, nil
}

func refStackDepth(insns []Insn, round bool) int {
	var fpOff [11]int
	var isFP [11]bool
	isFP[asm.R10] = true
	depth := 0
	note := func(reg asm.Register, off int16, size int) {
		if reg > asm.R10 || !isFP[reg] {
			return
		}
		d := -(fpOff[reg] + int(off))
		if d > depth {
			depth = d
		}
		_ = size
	}
	for k := range insns {
		in := &insns[k]
		op := in.OpCode
		switch op.Class() {
		case asm.LdXClass:
			note(in.Src, in.Offset, 0)
		case asm.StClass, asm.StXClass:
			note(in.Dst, in.Offset, 0)
		}
		// Track rX = r10 (+ imm) for pointers passed to helpers.
		if in.Dst <= asm.R10 && in.Dst != asm.R10 {
			switch {
			case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Mov && op.Source() == asm.RegSource && in.Src <= asm.R10 && isFP[in.Src]:
				isFP[in.Dst], fpOff[in.Dst] = true, fpOff[in.Src]
			case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Add && op.Source() == asm.ImmSource && isFP[in.Dst]:
				fpOff[in.Dst] += int(in.Constant)
			case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Sub && op.Source() == asm.ImmSource && isFP[in.Dst]:
				fpOff[in.Dst] -= int(in.Constant)
			case op.Class().IsALU() || op.Class() == asm.LdXClass || op.IsDWordLoad():
				isFP[in.Dst] = false
			}
		}
		if op.JumpOp() == asm.Call && op.Class().IsJump() {
			// A stack pointer passed to a helper is memory the helper
			// accesses (a map key, a buffer): it counts. Pointer
			// arithmetic alone does not (the verifier tracks each path;
			// this linear walk would otherwise count dead values).
			for r := asm.R1; r <= asm.R5; r++ {
				note(r, 0, 0)
			}
			for r := asm.R0; r <= asm.R5; r++ {
				isFP[r] = false
			}
		}
	}
	if !round {
		return depth
	}
	return (depth + 7) &^ 7
}

func refCheckSize(prog *Program) error {
	n := 0
	for _, ins := range prog.Insns {
		n += int(ins.Size() / asm.InstructionSize)
	}
	if n > MaxInsns {
		return fmt.Errorf("%d instructions: the kernel loads at most %d (BPF_COMPLEXITY_LIMIT_INSNS, -E2BIG)", n, MaxInsns)
	}
	return nil
}

func refCheckJumps(l *Loaded, xlated bool) error {
	for _, f := range l.Funcs {
		if !xlated {
			lastIns := f.Insns[len(f.Insns)-1]
			if op := lastIns.OpCode; !op.Class().IsJump() || (op.JumpOp() != asm.Exit && op.JumpOp() != asm.Ja) {
				return fmt.Errorf("insn %d: last insn of function %s is not an exit or jmp", lastIns.Index, f.Name)
			}
			for i := range f.Insns {
				if in := f.Insns[i]; in.Dst == asm.R10 && refWritesDst(in) {
					return fmt.Errorf("insn %d: frame pointer r10 is read only", in.Index)
				}
			}
		}
		first := f.Insns[0].Index
		last := f.Insns[len(f.Insns)-1].Index + int(f.Insns[len(f.Insns)-1].Size()/asm.InstructionSize)
		starts := make([]bool, last-first) // by slot - first
		for i := range f.Insns {
			starts[f.Insns[i].Index-first] = true
		}
		for i := range f.Insns {
			in := &f.Insns[i]
			op := in.OpCode
			if !op.Class().IsJump() {
				continue
			}
			jop := op.JumpOp()
			if jop == asm.Call || jop == asm.Exit {
				continue
			}
			off := int(in.Offset)
			if op.Class() == asm.Jump32Class && jop == asm.Ja {
				off = int(int32(in.Constant)) // gotol
			}
			t := in.Index + 1 + off
			if t < first || t >= last {
				return fmt.Errorf("insn %d: jump out of range to %d (function %s is insns %d..%d)", in.Index, t, f.Name, first, last-1)
			}
			if !starts[t-first] {
				return fmt.Errorf("insn %d: jump into the middle of an ld_imm64 at %d", in.Index, t)
			}
		}
	}
	return nil
}

func refMarkTailCallReachable(l *Loaded) {
	has := make([]bool, len(l.Funcs))
	for i, f := range l.Funcs {
		for k := range f.Insns {
			in := &f.Insns[k]
			if in.Kind == TailCall {
				has[i] = true
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for i, f := range l.Funcs {
			if has[i] {
				continue
			}
			for k := range f.Insns {
				in := &f.Insns[k]
				if in.Kind == FuncCall && has[in.Callee] {
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

func refMarkDirectTailCalls(l *Loaded) {
	type val struct {
		known bool
		isMap bool
		mapN  string
		k     int64
	}
	for _, f := range l.Funcs {
		// Jump targets, by slot - first (checkJumps kept them inside the
		// function).
		first := f.Insns[0].Index
		targets := make([]bool, f.Insns[len(f.Insns)-1].Index-first+2)
		for i := range f.Insns {
			in := &f.Insns[i]
			op := in.OpCode
			if op.Class().IsJump() && op.JumpOp() != asm.Call && op.JumpOp() != asm.Exit {
				off := int(in.Offset)
				if op.Class() == asm.Jump32Class && op.JumpOp() == asm.Ja {
					off = int(int32(in.Constant))
				}
				if t := in.Index + 1 + off - first; t >= 0 && t < len(targets) {
					targets[t] = true
				}
			}
		}
		var regs [11]val
		for i := range f.Insns {
			in := &f.Insns[i]
			if targets[in.Index-first] {
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
			case refWritesDst(*in):
				regs[in.Dst] = val{}
			}
		}
	}
}

func refWritesDst(in Insn) bool {
	op := in.OpCode
	switch op.Class() {
	case asm.ALUClass, asm.ALU64Class, asm.LdXClass:
		return true
	case asm.LdClass:
		return true
	}
	return false
}
