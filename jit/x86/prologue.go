// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"github.com/jitscope/jitscope/jit"
)

// roundUp8 is round_up(v, 8).
func roundUp8(v int) int { return (v + 7) &^ 7 }

// prologue models emit_prologue followed by push_callee_regs:
//
//	5.10:  nop5; xor eax,eax | nop2; push rbp; mov rbp,rsp; [sub rsp,N]; [push rax]
//	6.1:   [endbr64]; nop5; xor eax,eax | nop2; push rbp; mov rbp,rsp; [endbr64]; [sub rsp,N]; [push rax]
//	6.11+: [endbr64]; nop5; xor rax,rax | nop3; push rbp; mov rbp,rsp; [endbr64]; [sub rsp,N];
//	       [emit_prologue_tail_call]
//
// then push rbx / r13 / r14 / r15 for the callee-saved registers used.
// X86_TAIL_CALL_OFFSET is where "mov rbp, rsp" ends.
func (c *ctx) prologue() error {
	v := c.v
	start := c.pos()
	if c.cfg.IBT {
		c.emit(endbr64...) // endbr64 (EMIT_ENDBR, emit_cfi)
		c.note(start, "endbr64: the image is an indirect branch target (IBT)")
		c.region(start, jit.RegionPrologue)
	}
	site := c.pos()
	c.emit(nop5...) // nop5: BPF trampoline patch site
	c.region(site, jit.RegionPatchSite)
	c.note(site, "fentry/trampoline patch site (X86_PATCH_SIZE nop5, poked by bpf_arch_text_poke)")

	at := c.pos()
	mainTCC := c.tailCallReachable && !c.isSubprog
	switch {
	case mainTCC && v.tccPtr:
		c.emit3(0x48, 0x31, 0xC0) // xor rax, rax
		c.region(at, jit.RegionTCCInit)
		c.note(at, "init TCC (main program): rax = 0, the entry of the whole tail call context")
	case mainTCC:
		c.emit2(0x31, 0xC0) // xor eax, eax
		c.region(at, jit.RegionTCCInit)
		c.note(at, "init TCC (main program): eax = 0")
	case v.tccPtr:
		c.emit(nops[3]...) // nop3: keep the same instruction layout
		c.region(at, jit.RegionPrologue)
		if c.isSubprog && c.tailCallReachable {
			c.note(at, "nop3: no TCC init in a subprogram, rax brings the caller's tcc_ptr")
		} else {
			c.note(at, "nop3: keeps the layout X86_TAIL_CALL_OFFSET counts on")
		}
	default:
		c.emit2(0x66, 0x90) // nop2
		c.region(at, jit.RegionPrologue)
		if c.isSubprog && c.tailCallReachable {
			c.note(at, "nop2: no TCC init in a subprogram, eax brings the caller's TCC")
		} else {
			c.note(at, "nop2: keeps the layout X86_TAIL_CALL_OFFSET counts on")
		}
	}
	at = c.pos()
	c.emit1(0x55)             // push rbp
	c.emit3(0x48, 0x89, 0xE5) // mov rbp, rsp
	c.region(at, jit.RegionPrologue)

	// X86_TAIL_CALL_OFFSET is here.
	land := c.pos()
	if land != c.tcOffset {
		return c.errorf(nil, "X86_TAIL_CALL_OFFSET = %d, but the prologue's head is %d bytes", c.tcOffset, land)
	}
	if c.cfg.IBT {
		c.emit(endbr64...) // endbr64: the tail call's landing pad
		c.region(land, jit.RegionLandingPad)
	}
	if !c.isSubprog {
		c.entry = land
		c.note(land, "X86_TAIL_CALL_OFFSET lands here (+%d): tail calls skip the %d bytes above", land, land)
	}

	at = c.pos()
	if sd := c.f.StackDepth; sd != 0 || c.v.stackAlways {
		c.emit3(0x48, 0x81, 0xEC) // sub rsp, rounded_stack_depth
		c.emit32(int32(roundUp8(sd)))
		c.note(at, "BPF stack: %d bytes (round_up(%d, 8))", roundUp8(sd), sd)
	}
	c.region(at, jit.RegionStackSetup)

	if c.tailCallReachable {
		at = c.pos()
		if v.tccPtr {
			c.prologueTailCall()
		} else {
			c.emit1(0x50) // push rax
			c.note(at, "push rax: tail call counter slot (the count is its upper half, [rbp - %d])", roundUp8(c.f.StackDepth)+4)
		}
		c.region(at, jit.RegionTCCInit)
	}
	at = c.pos()
	c.pushCalleeRegs()
	c.region(at, jit.RegionStackSetup)
	return nil
}

// prologueTailCall models emit_prologue_tail_call (6.11+): the main
// program turns a count in rax into a counter on its own stack and a
// pointer to it; a subprogram keeps the pointer its caller passes.
func (c *ctx) prologueTailCall() {
	maxCnt := byte(c.p.MaxTailCallCnt)
	if c.isSubprog {
		at := c.pos()
		c.emit1(0x50) // push rax
		c.emit1(0x50) // push rax
		c.note(at, "push rax twice: rax is the caller's tcc_ptr, kept at [rbp - %d]", roundUp8(c.f.StackDepth)+16)
		return
	}
	at := c.pos()
	c.emit4(0x48, 0x83, 0xF8, maxCnt) // cmp rax, MAX_TAIL_CALL_CNT
	c.emit2(jA, 6)                    // ja 6
	c.note(at, "rax > MAX_TAIL_CALL_CNT (%d)? then it is a tcc_ptr (tail callee of a subprogram)", c.p.MaxTailCallCnt)
	at = c.pos()
	c.emit1(0x50) // push rax
	c.note(at, "push rax: tail_call_cnt, on the main program's stack")
	at = c.pos()
	c.emit3(0x48, 0x89, 0xE0) // mov rax, rsp
	c.note(at, "rax = tcc_ptr, the counter's address")
	c.emit2(0xEB, 1) // jmp 1
	at = c.pos()
	c.emit1(0x50) // push rax
	c.note(at, "push rax: the tcc_ptr a subprogram's tail call brought")
	at = c.pos()
	c.emit1(0x50) // push rax
	c.note(at, "push rax: tcc_ptr slot [rbp - %d]", roundUp8(c.f.StackDepth)+16)
}

// pushCalleeRegs models push_callee_regs.
func (c *ctx) pushCalleeRegs() {
	if c.calleeRegs[0] {
		c.emit1(0x53) // push rbx
	}
	if c.calleeRegs[1] {
		c.emit2(0x41, 0x55) // push r13
	}
	if c.calleeRegs[2] {
		c.emit2(0x41, 0x56) // push r14
	}
	if c.calleeRegs[3] {
		c.emit2(0x41, 0x57) // push r15
	}
}

// popCalleeRegs models pop_callee_regs.
func (c *ctx) popCalleeRegs() {
	if c.calleeRegs[3] {
		c.emit2(0x41, 0x5F) // pop r15
	}
	if c.calleeRegs[2] {
		c.emit2(0x41, 0x5E) // pop r14
	}
	if c.calleeRegs[1] {
		c.emit2(0x41, 0x5D) // pop r13
	}
	if c.calleeRegs[0] {
		c.emit1(0x5B) // pop rbx
	}
}

// popBytes is get_pop_bytes (5.10): the size of popCalleeRegs.
func (c *ctx) popBytes() int {
	n := 0
	for k, used := range c.calleeRegs {
		if used {
			n += 2
			if k == 0 {
				n-- // pop rbx has no REX prefix
			}
		}
	}
	return n
}

// epilogue is the code of the first BPF_EXIT: pop_callee_regs, leave,
// emit_return. Later exits jump to it (ctx->cleanup_addr).
func (c *ctx) epilogue() {
	at := c.pos()
	c.cleanupAddr = at
	c.popCalleeRegs()
	c.emit1(0xC9) // leave
	c.note(at, "epilogue (cleanup_addr): other exits jump here")
	c.emitReturn()
	c.region(at, jit.RegionEpilogue)
}

// emitReturn models emit_return (6.1+): "jmp x86_return_thunk" when the
// kernel returns through a thunk, else ret [+ int3 with SLS]; 5.10 emits a
// bare ret.
func (c *ctx) emitReturn() {
	at := c.pos()
	if c.cfg.ReturnThunk != "" {
		c.jumpTo(c.returnThunk, "jmp_rel32", "kernel", c.cfg.ReturnThunk) // jmp x86_return_thunk
		c.note(at, "return through %s", c.cfg.ReturnThunk)
		return
	}
	c.emit1(0xC3) // ret
	if c.cfg.SLS {
		c.emit1(0xCC) // int3
	}
}

// jumpTo emits a rel32 jmp (or call, for kind call_rel32) to target and
// records the relocation.
func (c *ctx) jumpTo(target uint64, kind, what, name string) {
	at := c.pos()
	op := byte(0xE9)
	if kind == "call_rel32" {
		op = 0xE8
	}
	b, ok := rel32(op, c.addr(at), target)
	if !ok && c.emitting && c.err == nil {
		c.err = c.errorf(nil, "Target %s %#x is out of range of %#x", name, target, c.addr(at))
	}
	c.emit(b[:]...)
	c.reloc(jit.Reloc{Offset: at, Field: at + 1, Size: 4, Kind: kind, Target: target, What: what, Name: name})
}
