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
)

type val struct {
	k   kind
	m   string // kMap: the map
	off int    // kFP: offset from r10
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
		if it.ld64 && in.Src == 1 {
			set(in.Dst, val{k: kMap, m: r.mapRef[it.orig]})
		} else {
			set(in.Dst, val{k: kScalar})
		}
	case clsLDX:
		v := val{k: kScalar}
		if b := st.regs[in.Src]; b.k == kFP && in.Code&0x18 == szDW {
			if s, ok := st.stack[b.off+int(in.Off)]; ok {
				v = s
			}
		}
		set(in.Dst, v)
	case clsST, clsSTX:
		if b := st.regs[in.Dst]; b.k == kFP {
			at := b.off + int(in.Off)
			v := val{k: kScalar}
			if cls == clsSTX && in.Code&0x18 == szDW && in.Code&0xe0 == modeMEM {
				v = st.regs[in.Src]
			}
			for k := range st.stack {
				if k > at-8 && k < at+8 {
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
			for reg := 0; reg <= 5; reg++ {
				st.regs[reg] = val{k: kScalar}
			}
			return true, nil
		case op == jmpJA:
			return false, []int{it.target}
		default:
			return true, []int{it.target}
		}
	}
	return true, nil
}
