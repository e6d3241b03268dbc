// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"fmt"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// slot is a tail call's prog array and key, when the verifier knows them.
type slot struct {
	pa  *kernel.LoadedProgArray // nil when the map is not among l.ProgArrays
	key uint32
}

// filled returns the program in the slot, if any.
func (s slot) filled() (kernel.ProgRef, bool) {
	if s.pa == nil {
		return kernel.ProgRef{}, false
	}
	ref, ok := s.pa.Slots[s.key]
	return ref, ok
}

// tailSlot finds the slot of a tail call whose map and key are constants
// (Insn.Direct), and whether the verifier gives it a poke descriptor, so
// that the JIT emits a direct jump: record_func_key poisons the key unless
// it is below max_entries.
func (c *ctx) tailSlot(in *kernel.Insn) (slot, bool) {
	if !in.Direct {
		return slot{}, false
	}
	for _, pa := range c.l.ProgArrays {
		if pa.Name == in.Map {
			return slot{pa, in.Key}, in.Key < pa.MaxEntries
		}
	}
	return slot{key: in.Key}, true
}

// tailCall translates BPF_JMP | BPF_TAIL_CALL (the verifier's rewrite of
// bpf_tail_call): a direct jump through poke sites when the verifier
// recorded a poke descriptor, else the indirect sequence.
func (c *ctx) tailCall(in *kernel.Insn) error {
	s, direct := c.tailSlot(in)
	if direct {
		c.tailCallDirect(in, s)
		return nil
	}
	c.tailCallIndirect(in, s)
	return nil
}

// tccOff is the offset from rbp of the tail call count: before 6.11 the
// upper half of the push rax slot (-4 - round_up(stack_depth, 8)), from
// 6.11 the tcc_ptr slot (BPF_TAIL_CALL_CNT_PTR_STACK_OFF).
func (c *ctx) tccOff() int32 {
	if c.v.tccPtr {
		return int32(-16 - roundUp8(c.f.StackDepth))
	}
	return int32(-4 - roundUp8(c.f.StackDepth))
}

// tccCheck emits "if (tail_call_cnt++ >= MAX_TAIL_CALL_CNT) goto out" up to
// its conditional jump, whose rel8 it takes from outRel (given the offset
// of the byte after the jump).
//
//	5.10, 6.1: mov eax, [rbp - tcc_off]; cmp eax, MAX; ja/jae out
//	6.11+:     mov rax, [rbp - tcc_ptr_off]; cmp qword [rax], MAX; jae out
func (c *ctx) tccCheck(outRel func(after int) int) {
	maxCnt := byte(c.p.MaxTailCallCnt)
	at := c.pos()
	if c.v.tccPtr {
		c.emit3(0x48, 0x8B, 0x85) // mov rax, qword ptr [rbp - tcc_ptr_off]
		c.emit32(c.tccOff())
		c.note(at, "rax = tcc_ptr")
		at = c.pos()
		c.emit4(0x48, 0x83, 0x38, maxCnt) // cmp qword ptr [rax], MAX_TAIL_CALL_CNT
	} else {
		c.emit2(0x8B, 0x85) // mov eax, dword ptr [rbp - tcc_off]
		c.emit32(c.tccOff())
		c.note(at, "eax = TCC")
		at = c.pos()
		c.emit3(0x83, 0xF8, maxCnt) // cmp eax, MAX_TAIL_CALL_CNT
	}
	if c.p.TailCallCountGT {
		c.note(at, "TCC > MAX_TAIL_CALL_CNT (%d)?", c.p.MaxTailCallCnt)
		c.emit2(jA, byte(outRel(c.pos()+2))) // ja out
	} else {
		c.note(at, "TCC >= MAX_TAIL_CALL_CNT (%d)?", c.p.MaxTailCallCnt)
		c.emit2(jAE, byte(outRel(c.pos()+2))) // jae out
	}
	if !c.v.tccPtr {
		at = c.pos()
		c.emit3(0x83, 0xC0, 0x01) // add eax, 1
		c.note(at, "TCC++")
		c.emit2(0x89, 0x85) // mov dword ptr [rbp - tcc_off], eax
		c.emit32(c.tccOff())
	}
}

// tccInc is 6.11+'s increment through the pointer, done once the target is
// known to be there.
func (c *ctx) tccInc() {
	if c.v.tccPtr {
		at := c.pos()
		c.emit4(0x48, 0x83, 0x00, 0x01) // add qword ptr [rax], 1
		c.note(at, "TCC++ (the slot is populated)")
	}
}

// unwind pops what the prologue pushed so that the target program reuses
// the frame: callee-saved registers, the TCC (5.10, 6.1; it travels in
// rax) or tcc_ptr and counter (6.11+), and the BPF stack.
func (c *ctx) unwind() {
	c.popCalleeRegs()
	at := c.pos()
	if c.v.tccPtr {
		c.emit1(0x58) // pop rax: tail_call_cnt_ptr
		c.emit1(0x58) // pop rax: tail_call_cnt (main) or tail_call_cnt_ptr (subprog)
		c.note(at, "pop rax twice: rax = what the prologue saw, the count or the tcc_ptr")
	} else {
		c.emit1(0x58) // pop rax
		c.note(at, "pop rax: the TCC goes to the target in rax")
	}
	if sd := c.f.StackDepth; sd != 0 || c.v.stackAlways {
		at = c.pos()
		c.emit3(0x48, 0x81, 0xC4) // add rsp, sd
		c.emit32(int32(roundUp8(sd)))
		c.note(at, "drop this program's BPF stack")
	}
}

// tailCallDirect models emit_bpf_tail_call_direct. The image is emitted in
// the state of an empty slot ("skip, unwind, nop": the bypass jumps over
// the unwind and the nop5 target); fixupTailCalls then patches the filled
// slots as bpf_tail_call_direct_fixup does ("nop, unwind, tail").
func (c *ctx) tailCallDirect(in *kernel.Insn, s slot) {
	if c.v.pushAfterTarget {
		c.tailCallDirectPushAfter(in, s)
		return
	}
	start := c.pos()
	pops := c.popBytes()
	var outRel func(after int) int
	if c.v.labels {
		outRel = func(after int) int { return c.tcDirectLabel - (after - start) }
	} else {
		// 5.10: off1 = 20 + pop_bytes (+ 7 with a stack), the bytes from
		// the ja to out.
		off1 := 20 + pops
		if c.f.StackDepth != 0 || c.v.stackAlways {
			off1 += 7
		}
		outRel = func(int) int { return off1 }
	}
	c.tccCheck(outRel)

	bypass := c.pos()
	var target int
	if c.v.labels {
		// poke->tailcall_target = ip + ctx->tail_call_direct_label - X86_PATCH_SIZE
		target = start + c.tcDirectLabel - x86PatchSize
	} else {
		// poke_off = X86_PATCH_SIZE + pop_bytes + 1 (+ 7 with a stack):
		// the target is poke_off bytes after the bypass.
		pokeOff := x86PatchSize + pops + 1
		if c.f.StackDepth != 0 || c.v.stackAlways {
			pokeOff += 7
		}
		target = bypass + pokeOff
	}
	c.region(start, jit.RegionTailCall)
	// jmp out: the bypass while the slot is empty (emit_jump to
	// poke->bypass_addr = tailcall_target + X86_PATCH_SIZE)
	b, _ := jmpRel32(c.addr(bypass), c.addr(target+x86PatchSize))
	c.emit(b[:]...)
	c.region(bypass, jit.RegionPokeBypass)
	c.note(bypass, "poke site: tailcall_bypass (jmp over the unwind while the slot is empty, nop5 once filled)")

	at := c.pos()
	c.tccInc()
	c.unwind()
	c.region(at, jit.RegionTailCall)
	tgt := c.pos()
	c.emit(nop5...) // nop5: poke->tailcall_target
	c.region(tgt, jit.RegionPokeTarget)
	c.note(tgt, "poke site: tailcall_target (nop5 while the slot is empty)")
	// out:
	if c.v.labels {
		c.tcDirectLabel = c.pos() - start
	}
	if c.emitting {
		if tgt != target {
			// The kernel's label (or 5.10's byte count) disagrees with the code.
			c.err = c.errorf(in, "tail call poke target at %#x, but the nop5 is at %#x", target, tgt)
		}
		c.pokes = append(c.pokes, pokeSite{bypass: bypass, target: tgt, in: in})
		if s.pa != nil {
			c.note(tgt, "%s[%d]", s.pa.Name, s.key)
		}
	}
}

// tailCallIndirect models emit_bpf_tail_call_indirect:
//
//	if (index >= array->map.max_entries) goto out;
//	if (tail_call_cnt++ >= MAX_TAIL_CALL_CNT) goto out;
//	prog = array->ptrs[index]; if (prog == NULL) goto out;
//	goto *(prog->bpf_func + X86_TAIL_CALL_OFFSET);
//
// with rdi = ctx, rsi = the bpf_array, rdx = the index.
func (c *ctx) tailCallIndirect(in *kernel.Insn, s slot) {
	start := c.pos()
	var outRel func(after int) int
	if c.v.labels {
		outRel = func(after int) int { return c.tcIndirectLabel - (after - start) }
	} else {
		// 5.10 counts the bytes from each jump to out: off1 = 42, off2 =
		// 31, off3 = 9, plus the pops, add rsp and the retpoline.
		pops := c.popBytes()
		extra := pops + c.retpolineSize()
		if c.f.StackDepth != 0 || c.v.stackAlways {
			extra += 7
		}
		jumps := 0
		offs := [3]int{42 + extra, 31 + extra, 9 + extra}
		outRel = func(int) int { jumps++; return offs[jumps-1] }
	}
	at := c.pos()
	c.emit2(0x89, 0xD2)                                 // mov edx, edx
	c.emit3(0x39, 0x56, byte(c.layout.ArrayMaxEntries)) // cmp dword ptr [rsi + 16], edx
	c.note(at, "index >= array->map.max_entries?")
	c.emit2(jBE, byte(outRel(c.pos()+2))) // jbe out

	c.tccCheck(outRel)

	at = c.pos()
	c.emit4(0x48, 0x8B, 0x8C, 0xD6) // mov rcx, [rsi + rdx * 8 + offsetof(ptrs)]
	c.emit32(int32(c.layout.ArrayPtrs))
	c.note(at, "rcx = array->ptrs[index]")
	at = c.pos()
	c.emit3(0x48, 0x85, 0xC9) // test rcx, rcx
	c.note(at, "prog == NULL?")
	c.emit2(jE, byte(outRel(c.pos()+2))) // je out

	c.tccInc()
	c.unwind()
	at = c.pos()
	c.emit4(0x48, 0x8B, 0x49, byte(c.layout.ProgBPFFunc)) // mov rcx, qword ptr [rcx + bpf_func]
	c.emit4(0x48, 0x83, 0xC1, byte(c.tcOffset))           // add rcx, X86_TAIL_CALL_OFFSET
	c.note(at, "rcx = prog->bpf_func + X86_TAIL_CALL_OFFSET (%d)", c.tcOffset)
	jmpAt := c.pos()
	c.emitIndirectJump()
	c.note(jmpAt, "tail call: jump to bpf_func + %d", c.tcOffset)
	// out:
	if c.v.labels {
		c.tcIndirectLabel = c.pos() - start
	}
	if ref, ok := s.filled(); ok && c.emitting {
		c.edges = append(c.edges, jit.Edge{From: jmpAt, To: ref.Address + uint64(c.tcOffset), Kind: jit.EdgeTailCall, Target: ref.Name,
			Detail: fmt.Sprintf("%s[%d] = %s, landing %d bytes past its start (X86_TAIL_CALL_OFFSET)", s.pa.Name, s.key, ref.Name, c.tcOffset)})
	}
}

// retpolineSize is RETPOLINE_RCX_BPF_JIT_SIZE (5.10).
func (c *ctx) retpolineSize() int {
	if c.cfg.IndirectThunk == inlineRetpoline {
		return 17
	}
	return 2
}

// emitIndirectJump models emit_indirect_jump for rcx (6.1+), and 5.10's
// RETPOLINE_RCX_BPF_JIT.
func (c *ctx) emitIndirectJump() {
	switch c.cfg.IndirectThunk {
	case inlineRetpoline:
		c.emit(0xE8, 7, 0, 0, 0)        // call do_rop
		c.emit2(0xF3, 0x90)             // spec_trap: pause
		c.emit3(0x0F, 0xAE, 0xE8)       // lfence
		c.emit2(0xEB, 0xF9)             // jmp spec_trap
		c.emit4(0x48, 0x89, 0x0C, 0x24) // do_rop: mov %rcx, (%rsp)
		c.emit1(0xC3)                   // retq
	case lfenceJump:
		c.emit3(0x0F, 0xAE, 0xE8) // lfence
		c.emit2(0xFF, 0xE1)       // jmp *%rcx
	case "":
		c.emit2(0xFF, 0xE1) // jmp *%rcx
		if c.v.emitReturn && (c.cfg.Retpoline || c.cfg.SLS) {
			c.emit1(0xCC) // int3
		}
	default:
		c.jumpTo(c.indirectThunk, "jmp_rel32", "kernel", c.cfg.IndirectThunk) // jmp __x86_indirect_thunk_rcx
	}
}

// fixupTailCalls models bpf_tail_call_direct_fixup: for each direct tail
// call whose slot is filled, the target nop5 becomes "jmp bpf_func +
// X86_TAIL_CALL_OFFSET" and the bypass becomes a nop5.
func (c *ctx) fixupTailCalls() {
	for _, p := range c.pokes {
		s, _ := c.tailSlot(p.in)
		ref, ok := s.filled()
		if !ok {
			continue
		}
		dest := ref.Address + uint64(c.tcOffset)
		b, fits := jmpRel32(c.addr(p.target), dest)
		if !fits {
			// __bpf_arch_text_poke fails with -ERANGE: BUG_ON in the kernel.
			continue
		}
		copy(c.code[p.target:], b[:])
		copy(c.code[p.bypass:], nop5)
		c.relocs = append(c.relocs, jit.Reloc{Offset: p.target, Field: p.target + 1, Size: 4, Kind: "jmp_rel32", Target: dest, What: "bpf program", Name: ref.Name})
		c.notes = append(c.notes, jit.Note{Offset: p.target, Text: fmt.Sprintf("tail call: jump to %s + %d (X86_TAIL_CALL_OFFSET)", ref.Name, c.tcOffset)})
		c.edges = append(c.edges, jit.Edge{From: p.target, To: dest, Kind: jit.EdgeTailCall, Target: ref.Name,
			Detail: fmt.Sprintf("%s[%d] = %s, landing %d bytes past its start (X86_TAIL_CALL_OFFSET)", s.pa.Name, s.key, ref.Name, c.tcOffset)})
	}
}

// tailCallDirectPushAfter emits seed 001's rejected alternative: the unwind
// always runs, the target nop5 follows, and an empty slot falls through to
// "sub rsp; push rax; push <callee-saved>" — which pushes the values the
// pops just restored (the caller's), not this program's: after it, rbx no
// longer holds the context the program kept there.
func (c *ctx) tailCallDirectPushAfter(in *kernel.Insn, s slot) {
	start := c.pos()
	c.tccCheck(func(after int) int { return c.tcDirectLabel - (after - start) })
	at := c.pos()
	c.tccInc()
	c.unwind()
	c.region(at, jit.RegionTailCall)
	tgt := c.pos()
	c.emit(nop5...) // nop5: the tail call target, patched to a jmp when the slot is filled
	c.region(tgt, jit.RegionPokeTarget)
	c.note(tgt, "poke site: tailcall_target (no bypass in this layout)")
	re := c.pos()
	c.emit3(0x48, 0x81, 0xEC) // sub rsp, rounded_stack_depth
	c.emit32(int32(roundUp8(c.f.StackDepth)))
	c.emit1(0x50) // push rax
	c.pushCalleeRegs()
	c.region(re, jit.RegionTailCall)
	c.note(re, "BROKEN: rebuilds the frame with the registers the pops above restored to the caller's values")
	// out:
	c.tcDirectLabel = c.pos() - start
	if c.emitting {
		if s.pa != nil {
			c.note(tgt, "%s[%d]", s.pa.Name, s.key)
		}
		if ref, ok := s.filled(); ok {
			dest := ref.Address + uint64(c.tcOffset)
			if b, fits := jmpRel32(c.addr(tgt), dest); fits {
				copy(c.code[tgt-c.skip:], b[:])
				c.edges = append(c.edges, jit.Edge{From: tgt, To: dest, Kind: jit.EdgeTailCall, Target: ref.Name,
					Detail: fmt.Sprintf("%s[%d] = %s", s.pa.Name, s.key, ref.Name)})
			}
		}
	}
}
