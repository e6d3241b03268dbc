package arm64

import (
	"fmt"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// The 6.11+ design ("bpf, arm64: Fix tailcall hierarchy", then
// find_used_callee_regs in 6.12): x26 holds a pointer to the tail call
// counter, which lives in the main program's frame; only the callee-saved
// registers a function uses are saved, after the landing pad, so a tail call
// pops them before it branches. Modelled on arch/arm64/net/bpf_jit_comp.c
// of 6.12 (Debian linux-source-6.12); the prologue, epilogue and tail call
// are the same in the 6.16 file (search index file id 17771758) and in the
// context of later patches (Leon Hwang's January 2026 "bpf, arm64:
// tailcall: Eliminate max_entries and bpf_func access at runtime" still
// patches this emit_bpf_tail_call). 6.17 adds the private stack (x27).

// findUsedCalleeRegs models find_used_callee_regs: used is scan's mask of
// the callee-saved registers the instructions name.
func (c *ctx) findUsedCalleeRegs(used int) {
	c.fpUsed = used&16 != 0
	c.usedCallee = c.usedCallee[:0]
	for i, r := range []Reg{bpf2a64[6], bpf2a64[7], bpf2a64[8], bpf2a64[9], bpf2a64[10]} {
		if used&(1<<i) != 0 {
			c.usedCallee = append(c.usedCallee, r)
		}
	}
	if used&16 != 0 && c.privSP {
		// 6.17: the private stack pointer is saved right after fp.
		c.usedCallee = append(c.usedCallee, privSP)
	}
}

// privStackGuardSz is PRIV_STACK_GUARD_SZ (6.17): 16 bytes of guard
// below and above each CPU's private stack.
const privStackGuardSz = 16

// defaultPrivStackPtr stands in for prog->aux->priv_stack_ptr, the per-CPU
// pointer __alloc_percpu_gfp returns when bpf_int_jit_compile runs: a
// first-chunk per-CPU address in the kernel image's range. The real value
// differs per load; a placement can pin it with a symbol named
// "priv_stack_ptr" (every function) or "priv_stack_ptr:<function>".
const defaultPrivStackPtr uint64 = 0xffff800083000000

// privStackPtr returns the per-CPU private stack pointer of function f.
func privStackPtr(l *kernel.Loaded, f *kernel.LoadedFunc) uint64 {
	ptr, found := defaultPrivStackPtr, false
	for a, name := range l.Symbols {
		switch name {
		case "priv_stack_ptr:" + f.Name:
			return a
		case "priv_stack_ptr":
			if !found || a < ptr {
				ptr, found = a, true
			}
		}
	}
	return ptr
}

// percpuPtr models emit_percpu_ptr (6.17): dst = this CPU's copy of the
// per-CPU pointer ptr, through TPIDR_EL2 on VHE hosts, else TPIDR_EL1.
func (c *ctx) percpuPtr(dst Reg, ptr uint64) {
	at := c.idx()
	c.movImm64(dst, ptr)
	if c.emitting {
		c.relocs = append(c.relocs, jit.Reloc{Offset: 4 * at, Field: 4 * at, Size: 4 * (c.idx() - at), Kind: "imm64",
			Target: ptr, What: "percpu", Name: "priv_stack_ptr"})
	}
	if c.l.Config["cpu:vhe"] == "y" {
		c.emit(a64MRS(tmp1, sysregTPIDREL2))
	} else {
		c.emit(a64MRS(tmp1, sysregTPIDREL1))
	}
	c.emit(a64ADD(true, dst, dst, tmp1))
	c.note(at, "private stack: x27 = this CPU's prog->aux->priv_stack_ptr + %d (per-CPU address %#x, allocated at load time)", privStackGuardSz, ptr)
}

// pushCalleeRegs models push_callee_regs: pairs, the odd one with xzr to
// keep sp 16-byte aligned.
func (c *ctx) pushCalleeRegs() {
	n := len(c.usedCallee)
	i := 0
	for ; i+1 < n; i += 2 {
		c.emit(a64PUSH(c.usedCallee[i], c.usedCallee[i+1], SP))
	}
	if i < n {
		c.emit(a64PUSH(c.usedCallee[i], ZR, SP))
	}
}

// popCalleeRegs models pop_callee_regs: the reverse of pushCalleeRegs.
func (c *ctx) popCalleeRegs() {
	i := len(c.usedCallee) - 1
	if len(c.usedCallee)%2 != 0 {
		c.emit(a64POP(c.usedCallee[i], ZR, SP))
		i--
	}
	for ; i > 0; i -= 2 {
		c.emit(a64POP(c.usedCallee[i-1], c.usedCallee[i], SP))
	}
}

// prologueTCCPtr models build_prologue and prepare_bpf_tail_call_cnt (6.12).
func (c *ctx) prologueTCCPtr() error {
	p := c.p
	isMain := c.f.Index == 0
	start := c.idx()
	if p.BTI {
		c.emit(a64BTIJC)
	}
	site := c.idx()
	c.emit(a64MOV(true, 9, LR))
	c.emit(a64NOP)
	c.region(site, jit.RegionPatchSite)
	c.note(site+1, "fentry patch site (POKE_OFFSET)")
	if p.PAC {
		c.emit(a64PACIASP)
	}
	c.emit(a64PUSH(FP, LR, SP))
	c.emit(a64MOV(true, FP, SP))
	c.region(start, jit.RegionPrologue)
	at := c.idx()
	if isMain {
		// Initialise the counter in this frame; x26 points at it.
		c.emit(a64PUSH(ZR, tcc, SP))
		c.emit(a64MOV(true, tcc, SP))
		c.region(at, jit.RegionTCCInit)
		c.note(at, "init TCC = 0 in this frame (main program only)")
		c.note(at+1, "x26 = &TCC: the tail call counter pointer")
		if cur := c.idx() - start; cur != PrologueOffset(p) {
			return &jit.Error{Prog: c.l.Name, Func: c.f.Name, Insn: -1,
				Msg: fmt.Sprintf("PROLOGUE_OFFSET = %d, expected %d!", cur, PrologueOffset(p))}
		}
		c.entry = 4 * c.idx()
		land := c.idx()
		if p.BTI {
			c.emit(a64BTIJ)
			c.region(land, jit.RegionLandingPad)
		}
		c.note(land, "tail call landing pad: PROLOGUE_OFFSET = %d insns (+%d bytes)", PrologueOffset(p), 4*PrologueOffset(p))
	} else {
		// A subprogram keeps its caller's counter pointer.
		c.emit(a64PUSH(tcc, tcc, SP))
		c.region(at, jit.RegionTCCInit)
		c.note(at, "keep the caller's TCC pointer (x26)")
	}
	setup := c.idx()
	c.pushCalleeRegs()
	c.stackSize = (c.f.StackDepth + 15) &^ 15
	if c.fpUsed {
		if c.privSP {
			// 6.17: fp is the top of the private stack; sp is left
			// alone.
			c.percpuPtr(privSP, c.privStackPtr+privStackGuardSz)
			w, err := a64ADDI(true, bpf2a64[10], privSP, uint32(c.stackSize))
			c.emitE(w, err)
		} else {
			c.emit(a64MOV(true, bpf2a64[10], SP))
		}
	}
	if c.stackSize != 0 && !c.privSP {
		w, err := a64SUBI(true, SP, SP, uint32(c.stackSize))
		c.emitE(w, err)
	}
	c.region(setup, jit.RegionStackSetup)
	return nil
}

// epilogueTCCPtr models build_epilogue (6.12).
func (c *ctx) epilogueTCCPtr() {
	start := c.idx()
	if c.stackSize != 0 && !c.privSP {
		w, err := a64ADDI(true, SP, SP, uint32(c.stackSize))
		c.emitE(w, err)
	}
	c.popCalleeRegs()
	c.emit(a64POP(ZR, tcc, SP))
	c.emit(a64POP(FP, LR, SP))
	c.emit(a64MOV(true, 0, bpf2a64[0]))
	if c.p.PAC {
		c.emit(a64AUTIASP)
	}
	c.emit(a64RET(LR))
	c.region(start, jit.RegionEpilogue)
}

// tailCallTCCPtr models emit_bpf_tail_call (6.12): the count is read and
// written through the pointer, stored back only when the slot is filled,
// and the callee-saved registers are popped before the branch.
func (c *ctx) tailCallTCCPtr(idx0 int) (br int) {
	r2, r3 := bpf2a64[2], bpf2a64[3]
	prg, cnt := tmp2, tmp3
	var outs []int // branches to patch to "out"

	c.movImm64(tmp1, uint64(c.layout.ArrayMaxEntries))
	c.emit(a64LDR(size32, tmp1, r2, tmp1))
	c.emit(a64MOV(false, r3, r3))
	c.emit(a64CMP(false, r3, tmp1))
	outs = append(outs, c.idx())
	c.emit(a64NOP)

	c.movImm64(tmp1, uint64(c.p.MaxTailCallCnt))
	ld := c.idx()
	w, _ := a64LDRI(size64, cnt, tcc, 0)
	c.emit(w)
	c.note(ld, "TCC = *x26")
	cmp := c.idx()
	c.emit(a64CMP(true, cnt, tmp1))
	c.note(cmp, "TCC >= MAX_TAIL_CALL_CNT (%d)?", c.p.MaxTailCallCnt)
	outs = append(outs, c.idx())
	c.emit(a64NOP)
	inc := c.idx()
	w, _ = a64ADDI(true, cnt, cnt, 1)
	c.emit(w)
	c.note(inc, "TCC++")

	c.movImm64(tmp1, uint64(c.layout.ArrayPtrs))
	c.emit(a64ADD(true, tmp1, r2, tmp1))
	w, _ = a64LSL(true, prg, r3, 3)
	c.emit(w)
	c.emit(a64LDR(size64, prg, tmp1, prg))
	cbz := c.idx()
	c.emit(a64NOP)

	st := c.idx()
	w, _ = a64STRI(size64, cnt, tcc, 0)
	c.emit(w)
	c.note(st, "*x26 = TCC (only when the slot is filled)")
	if c.stackSize != 0 && !c.privSP {
		drop := c.idx()
		w, err := a64ADDI(true, SP, SP, uint32(c.stackSize))
		c.emitE(w, err)
		c.note(drop, "destroy the current BPF stack frame")
	}
	c.popCalleeRegs()
	c.movImm64(tmp1, uint64(c.layout.ProgBPFFunc))
	c.emit(a64LDR(size64, tmp1, prg, tmp1))
	skip := 4 * PrologueOffset(c.p)
	w, _ = a64ADDI(true, tmp1, tmp1, uint32(skip))
	c.emit(w)
	br = c.idx()
	c.emit(a64BR(tmp1))
	c.note(br, "tail call: skip %d prologue insns (+%d bytes)", PrologueOffset(c.p), skip)

	// The kernel patches the placeholders once the "out" label is known.
	out := c.idx()
	for _, b := range outs {
		c.code[b], _ = a64BCond(CondCS, out-b)
	}
	c.code[cbz], _ = a64CBZ(true, prg, out-cbz)
	return br
}
