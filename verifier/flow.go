// SPDX-License-Identifier: GPL-2.0-only

package verifier

import (
	"fmt"
)

// kind is what a register or stack slot holds, as far as the rewrites
// need to know.
type kind uint8

const (
	kUninit kind = iota
	kScalar
	kCtx
	kMap // a struct bpf_map * (ld_imm64 of a map)
	kFP  // a pointer into the stack
	kMixed
	kConst   // a scalar of known value (c)
	kZero    // stack bytes known to be zero (STACK_ZERO), size bytes
	kNonNull // a map value the verifier knows is not NULL
	kFunc    // a pointer to function c (BPF_PSEUDO_FUNC)
)

type val struct {
	k    kind
	m    string // kMap: the map
	off  int    // kFP: offset from r10
	c    int64  // kConst
	size int    // stack entries: bytes written
}

func merge(a, b val) val {
	switch {
	case a == b:
		return a
	case a.k == kUninit:
		return b
	case b.k == kUninit:
		return a
	}
	return val{k: kMixed}
}

type regState struct {
	regs  [11]val
	stack map[int]val // 8-byte spills by r10 offset
	seen  bool
}

func (s regState) clone() regState {
	c := s
	c.stack = make(map[int]val, len(s.stack))
	for k, v := range s.stack {
		c.stack[k] = v
	}
	return c
}

// join merges o into s and reports whether s changed.
func (s *regState) join(o regState) bool {
	if !s.seen {
		*s = o.clone()
		s.seen = true
		return true
	}
	changed := false
	for i := range s.regs {
		if m := merge(s.regs[i], o.regs[i]); m != s.regs[i] {
			s.regs[i] = m
			changed = true
		}
	}
	for k, v := range s.stack {
		ov, ok := o.stack[k]
		if !ok {
			ov = val{k: kMixed}
		}
		if m := merge(v, ov); m != v {
			s.stack[k] = m
			changed = true
		}
	}
	return changed
}

// analyse computes, before every original instruction, what each
// register holds: the context (r1 at the main program's entry), map
// pointers, stack pointers, through copies, 8-byte spills and the
// arguments of bpf-to-bpf calls.
func (r *rewriter) analyse() error {
	n := r.origLen
	r.types = make([]regState, n)
	funcOf := make([]int, n)
	for fi, fn := range r.funcs {
		end := n
		if fi+1 < len(r.funcs) {
			end = r.funcs[fi+1].Start
		}
		for i := fn.Start; i < end; i++ {
			funcOf[i] = fi
		}
	}
	entry := make([]regState, len(r.funcs))
	var main regState
	main.regs[1] = val{k: kCtx}
	main.regs[10] = val{k: kFP}
	main.stack = map[int]val{}
	entry[0].join(main)
	for round := 0; ; round++ {
		if round > 50 {
			return fmt.Errorf("register analysis does not settle")
		}
		changed := false
		for fi := range r.funcs {
			if !entry[fi].seen {
				continue
			}
			st := entry[fi].clone()
			st.regs[10] = val{k: kFP}
			if c, err := r.flowFunc(fi, st, entry, funcOf); err != nil {
				return err
			} else if c {
				changed = true
			}
		}
		if !changed {
			return nil
		}
	}
}

// flowFunc runs the forward pass over one function; calls merge their
// argument registers into the callee's entry state.
func (r *rewriter) flowFunc(fi int, in regState, entry []regState, funcOf []int) (bool, error) {
	start := r.funcs[fi].Start
	changed := false
	if r.types[start].join(in) {
		changed = true
	}
	work := []int{start}
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		st := r.types[i].clone()
		it := r.items[i]
		next, targets := r.step(&st, it, entry, &changed)
		succ := targets
		if next {
			succ = append(succ, i+1)
		}
		for _, t := range succ {
			if t < 0 || t >= r.origLen || funcOf[t] != fi {
				continue
			}
			if r.types[t].join(st) {
				changed = true
				work = append(work, t)
			}
		}
	}
	return changed, nil
}

// step applies one instruction to st; it returns whether execution can
// fall through and the branch targets.
func (r *rewriter) step(st *regState, it item, entry []regState, changed *bool) (bool, []int) {
	in := it.in
	cls := in.Code & 7
	set := func(reg uint8, v val) {
		if reg < 10 {
			st.regs[reg] = v
		}
	}
	switch cls {
	case clsALU, clsALU64:
		op := in.Code & 0xf0
		switch {
		case op == opMov && in.Code&srcX == 0 && in.Off == 0:
			c := int64(in.Imm)
			if cls == clsALU {
				c = int64(uint32(in.Imm))
			}
			set(in.Dst, val{k: kConst, c: c})
		case cls == clsALU64 && op == opMov && in.Code&srcX != 0 && in.Off == 0 && in.Src <= 10:
			set(in.Dst, st.regs[in.Src])
		case cls == clsALU64 && (op == opAdd || op == opSub) && in.Code&srcX == 0 && st.regs[in.Dst].k == kFP:
			v := st.regs[in.Dst]
			if op == opAdd {
				v.off += int(in.Imm)
			} else {
				v.off -= int(in.Imm)
			}
			set(in.Dst, v)
		default:
			set(in.Dst, val{k: kScalar})
		}
	case clsLD:
		if mode := in.Code & 0xe0; mode == 0x20 || mode == 0x40 {
			// LD_ABS/LD_IND: a helper call, r1-r5 clobbered.
			for reg := 0; reg <= 5; reg++ {
				st.regs[reg] = val{k: kScalar}
			}
			return true, nil
		}
		if it.ld64 && in.Src == 4 && it.callee >= 0 {
			// A callback: the helper calls it with scalars (as far as
			// the rewrites care) in r1-r5.
			set(in.Dst, val{k: kFunc, c: int64(it.callee)})
			var e regState
			for reg := 1; reg <= 5; reg++ {
				e.regs[reg] = val{k: kScalar}
			}
			e.stack = map[int]val{}
			if entry[it.callee].join(e) {
				*changed = true
			}
			return true, nil
		}
		if it.ld64 && in.Src == 1 {
			set(in.Dst, val{k: kMap, m: r.mapRef[it.orig]})
		} else {
			set(in.Dst, val{k: kScalar})
		}
	case clsLDX:
		v := val{k: kScalar}
		if b := st.regs[in.Src]; b.k == kFP && in.Code&0x18 == szDW {
			if s, ok := st.stack[b.off+int(in.Off)]; ok && s.size == 8 && s.k != kZero {
				v = s
				v.size = 0
			}
		}
		set(in.Dst, v)
	case clsST, clsSTX:
		if b := st.regs[in.Dst]; b.k == kFP && in.Code&0xe0 == modeMEM {
			at := b.off + int(in.Off)
			size := sizeBytes(in.Code & 0x18)
			// check_stack_write_fixed_off (6.18): a register spilled at an
			// 8-byte aligned slot, or a BPF_ST there, keeps its value;
			// elsewhere the bytes are STACK_ZERO when the value is a known
			// zero, else STACK_MISC.
			var src val
			if cls == clsSTX {
				src = st.regs[in.Src]
			} else {
				src = val{k: kConst, c: int64(in.Imm)}
			}
			v := val{k: kScalar, size: size}
			switch {
			case at%8 == 0 && (src.k == kConst || (cls == clsSTX && size == 8)):
				v = src
				v.size = size
			case src.k == kConst && src.c == 0:
				v = val{k: kZero, size: size}
			}
			for k, old := range st.stack {
				if k < at+size && k+max(old.size, 1) > at {
					delete(st.stack, k)
				}
			}
			st.stack[at] = v
		}
	case clsJMP, clsJMP32:
		op := in.Code & 0xf0
		switch {
		case op == jmpExit:
			return false, nil
		case op == jmpCall:
			if it.callee >= 0 {
				var e regState
				e.regs = st.regs
				for reg := 6; reg < 10; reg++ {
					e.regs[reg] = val{}
				}
				e.regs[0] = val{}
				e.stack = map[int]val{}
				if entry[it.callee].join(e) {
					*changed = true
				}
			}
			if it.callee < 0 && in.Src == 0 && in.Imm == fnLoop {
				// update_loop_inline_state: one callback and flags 0 on
				// every path (the state here is final when step last
				// runs on this instruction).
				cb := -1
				if f, fl := st.regs[2], st.regs[4]; f.k == kFunc && fl.k == kConst && fl.c == 0 {
					cb = int(f.c)
				}
				if r.loopFit == nil {
					r.loopFit = map[int]int{}
				}
				r.loopFit[it.orig] = cb
			}
			r0 := val{k: kScalar}
			if it.callee < 0 && in.Src == 0 && in.Imm == fnMapLookup {
				r0 = r.lookupResult(st)
			}
			for reg := 0; reg <= 5; reg++ {
				st.regs[reg] = val{k: kScalar}
			}
			st.regs[0] = r0
			return true, nil
		case op == jmpJA:
			return false, []int{it.target}
		default:
			// Unsigned comparisons with 0 that every value decides the
			// same way (x >= 0 always, x < 0 never, x & 0 never): the
			// verifier explores one edge.
			if in.Code&srcX == 0 {
				if taken, ok := decided(cls, op, in.Imm); ok {
					r.known[it.orig] = taken
					if taken {
						return false, []int{it.target}
					}
					return true, nil
				}
			}
			// A test of a map value the verifier knows is not NULL
			// against 0 has one outcome: only that edge is explored.
			if cls == clsJMP && in.Code&srcX == 0 && in.Imm == 0 && in.Dst < 10 && st.regs[in.Dst].k == kNonNull {
				switch op {
				case jmpJEQ:
					r.known[it.orig] = false
					return true, nil
				case jmpJNE:
					r.known[it.orig] = true
					return false, []int{it.target}
				}
			}
			delete(r.known, it.orig)
			return true, []int{it.target}
		}
	}
	return true, nil
}

// decided reports the comparisons with an immediate that every register
// value decides the same way, and which way: the verifier's range of an
// unknown scalar is the whole type, so it explores one edge only.
func decided(cls, op uint8, imm int32) (taken, ok bool) {
	const (
		jlt, jle, jset, jgt          = 0xa0, 0xb0, 0x40, 0x20
		jsgt, jsge, jslt, jsle uint8 = 0x60, 0x70, 0xc0, 0xd0
	)
	switch {
	case op == jmpJGE && imm == 0: // x >= 0
		return true, true
	case (op == jlt || op == jset) && imm == 0: // x < 0, x & 0
		return false, true
	case op == jle && imm == -1: // x <= U64_MAX (U32_MAX)
		return true, true
	case op == jgt && imm == -1:
		return false, true
	case cls == clsJMP32 && op == jsle && imm == 0x7fffffff, cls == clsJMP32 && op == jsge && imm == -0x80000000:
		return true, true
	case cls == clsJMP32 && op == jsgt && imm == 0x7fffffff, cls == clsJMP32 && op == jslt && imm == -0x80000000:
		return false, true
	}
	return false, false
}

// removeDead does what the verifier's opt_hard_wire_dead_code_branches,
// opt_remove_dead_code and opt_remove_nops do for a privileged loader: a
// branch with one explored outcome becomes a plain jump (always taken) or
// disappears (never taken), and instructions never reached go.
func (r *rewriter) removeDead() {
	if r.f.Unprivileged {
		return // sanitize_dead_code keeps them (as jumps) instead
	}
	var kept []item
	for _, it := range r.items {
		if !r.types[it.orig].seen {
			r.notes = append(r.notes, fmt.Sprintf("insn %d: never reached, removed", it.orig))
			continue
		}
		// opt_hard_wire_dead_code_branches looks at the instructions, not
		// the edges: a branch changes only when one of its two successors
		// was never reached at all.
		cls, op := it.in.Code&7, it.in.Code&0xf0
		if (cls == clsJMP || cls == clsJMP32) && op != jmpJA && op != jmpCall && op != jmpExit && it.target >= 0 {
			fall := it.orig+1 < r.origLen && r.types[it.orig+1].seen
			tgt := r.types[it.target].seen
			switch {
			case !fall:
				it.in = ja(0)
				r.notes = append(r.notes, fmt.Sprintf("insn %d: branch always taken, now a jump", it.orig))
			case !tgt:
				r.notes = append(r.notes, fmt.Sprintf("insn %d: branch never taken, removed", it.orig))
				continue
			}
		}
		kept = append(kept, it)
	}
	// opt_remove_nops: a jump to the next instruction (ja +0) goes.
	for changed := true; changed; {
		changed = false
		for k, it := range kept {
			if it.in.Code != clsJMP|jmpJA || it.target < 0 {
				continue
			}
			next := len(kept)
			for j, o := range kept {
				if o.orig >= it.target {
					next = j
					break
				}
			}
			if next == k+1 {
				kept = append(kept[:k], kept[k+1:]...)
				changed = true
				break
			}
		}
	}
	r.items = kept
	r.markZext()
}

// markZext finds the 32-bit cmpxchgs whose r0 is later read as 64 bits
// (the verifier's zext_dst, from is_reg64 on each later read).
func (r *rewriter) markZext() {
	r.zext = map[int]bool{}
	pos := map[int]int{}
	for k, it := range r.items {
		pos[it.orig] = k
	}
	for k, it := range r.items {
		if it.in.Code == clsSTX|szW|0xc0 && it.in.Imm == 0xf1 && r.read64(k+1, pos, map[int]bool{}) {
			r.zext[it.orig] = true
		}
	}
}

// read64 reports whether r0 is read as a 64-bit value on some path from
// item k before it is written.
func (r *rewriter) read64(k int, pos map[int]int, seen map[int]bool) bool {
	for ; k < len(r.items); k++ {
		if seen[k] {
			return false
		}
		seen[k] = true
		it := r.items[k]
		in := it.in
		cls, op := in.Code&7, in.Code&0xf0
		x := in.Code&srcX != 0
		switch cls {
		case clsALU64, clsALU:
			if x && in.Src == 0 {
				return cls == clsALU64
			}
			if in.Dst == 0 {
				if op == opMov || cls == clsALU {
					return false // redefined (a 32-bit op zero-extends)
				}
				return true
			}
		case clsLD:
			if it.ld64 && in.Dst == 0 {
				return false
			}
		case clsLDX:
			if in.Src == 0 {
				return true
			}
			if in.Dst == 0 {
				return false
			}
		case clsST:
			if in.Dst == 0 {
				return true
			}
		case clsSTX:
			if in.Dst == 0 {
				return true
			}
			if in.Code&0xe0 == 0xc0 && (in.Imm == 0xf1 || in.Src == 0) {
				// atomics read r0 as the comparand (cmpxchg) or value
				return in.Code&0x18 == szDW
			}
			if in.Src == 0 {
				return in.Code&0x18 == szDW
			}
		case clsJMP, clsJMP32:
			switch {
			case op == jmpExit:
				return true
			case op == jmpCall:
				return false
			case op == 0xe0: // may_goto reads no register
				if t, ok := pos[it.target]; ok && r.read64(t, pos, seen) {
					return true
				}
				continue
			}
			if in.Dst == 0 || (x && in.Src == 0) {
				return cls == clsJMP
			}
			if op == jmpJA {
				if t, ok := pos[it.target]; ok {
					return r.read64(t, pos, seen)
				}
				return false
			}
			if t, ok := pos[it.target]; ok && r.read64(t, pos, seen) {
				return true
			}
		}
	}
	return false
}

// lookupResult is r0 after bpf_map_lookup_elem: a value the verifier
// knows is not NULL when the map is an array (or per-CPU array) and the
// key on the stack is a constant below max_entries (can_elide_value_nullness,
// get_constant_map_key, 6.18).
func (r *rewriter) lookupResult(st *regState) val {
	mv, kv := st.regs[1], st.regs[2]
	// can_elide_value_nullness came with 6.13: 6.1 keeps every NULL test.
	if mv.k != kMap || kv.k != kFP || r.f.Unprivileged || r.f.version() == Version61 {
		return val{k: kScalar}
	}
	m := r.set.Map(mv.m)
	if m == nil || (m.Type != "array" && m.Type != "percpu_array") {
		return val{k: kScalar}
	}
	s, ok := st.stack[kv.off]
	key := int64(-1)
	switch {
	case ok && s.k == kZero && s.size >= int(m.KeySize):
		key = 0
	case ok && s.k == kConst && s.size == int(m.KeySize):
		key = s.c
	}
	if key < 0 || key >= int64(m.MaxEntries) {
		return val{k: kScalar}
	}
	return val{k: kNonNull}
}
