// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"fmt"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// jmpConds maps BPF conditions to x86 Jcc opcodes (emit_cond_jmp).
var jmpConds = [256]byte{
	kernel.JmpJEQ:  jE,
	kernel.JmpJSET: jNE,
	kernel.JmpJNE:  jNE,
	kernel.JmpJGT:  jA,  // GT is unsigned '>', JA in x86
	kernel.JmpJLT:  jB,  // LT is unsigned '<', JB in x86
	kernel.JmpJGE:  jAE, // GE is unsigned '>=', JAE in x86
	kernel.JmpJLE:  jBE, // LE is unsigned '<=', JBE in x86
	kernel.JmpJSGT: jG,  // Signed '>', GT in x86
	kernel.JmpJSLT: jL,  // Signed '<', LT in x86
	kernel.JmpJSGE: jGE, // Signed '>=', GE in x86
	kernel.JmpJSLE: jLE, // Signed '<=', LE in x86
}

// isImm8Jmp is is_imm8_jmp_offset (6.1+: positive offsets up to 123, so
// that the passes converge) or 5.10's is_imm8.
func (c *ctx) isImm8Jmp(off int64) bool { return off <= int64(c.v.imm8Limit) && off >= -128 }

// insnSzDiff is INSN_SZ_DIFF: how much the instruction at slot i was
// longer on the previous pass than what is emitted of it so far.
func (c *ctx) insnSzDiff(i, start int) int {
	return (c.addrs[i] - c.addrs[i-1]) - (c.pos() - start)
}

// emitNops models emit_nops: padding of up to ASM_NOP_MAX (8) bytes per NOP.
func (c *ctx) emitNops(n int) {
	for n > 0 {
		k := min(n, 8)
		c.emit(nops[k]...)
		n -= k
	}
}

// target returns addrs[i + off]: where the code of the jump's target starts.
func (c *ctx) target(in *kernel.Insn, i, off int) (int, error) {
	t := i + off
	if t < 0 || t >= len(c.addrs) {
		return 0, c.errorf(in, "jump out of range (to slot %d of %d)", t, len(c.addrs)-1)
	}
	return c.addrs[t], nil
}

// jmp translates the JMP and JMP32 classes.
func (c *ctx) jmp(in *kernel.Insn, i, start int, seenExit *bool) error {
	r := &in.Raw
	op := r.Op()
	jmp64 := r.Class() == kernel.ClassJMP
	dst, src := int(r.Dst), int(r.Src)
	switch {
	case op == kernel.JmpCALL && jmp64:
		if in.Kind == kernel.TailCall {
			return c.tailCall(in)
		}
		return c.call(in)
	case op == kernel.JmpEXIT && jmp64:
		if *seenExit {
			if c.memo == nil {
				c.jumps[i] = jumpInfo{kind: jumpExit}
			}
			off := int64(c.cleanupAddr - c.addrs[i])
			at := c.pos()
			if err := c.emitJmp(in, i, start, off); err != nil {
				return err
			}
			c.note(at, "jmp to the epilogue (cleanup_addr)")
			return nil
		}
		*seenExit = true
		c.epilogue()
		if c.memo == nil {
			c.jumps[i] = jumpInfo{kind: jumpExit} // later exits are jumps: sizing passes compute them
		}
		return nil
	case op == kernel.JmpJA:
		if c.memo == nil && (jmp64 || c.v.gotol) {
			switch {
			case jmp64 && r.Off == -1, !jmp64 && r.Imm == -1:
				c.jumps[i] = jumpInfo{kind: jumpBack2}
			case jmp64 && i+int(r.Off) >= 0 && i+int(r.Off) < len(c.addrs):
				c.jumps[i] = jumpInfo{kind: jumpJA, target: int32(i + int(r.Off))}
			case !jmp64 && i+int(r.Imm) >= 0 && i+int(r.Imm) < len(c.addrs):
				c.jumps[i] = jumpInfo{kind: jumpJA, target: int32(i + int(r.Imm))}
			}
		}
		var off int64
		switch {
		case jmp64 && r.Off == -1, !jmp64 && r.Imm == -1:
			// -1 jumps always go back two bytes: explicit, so that long
			// runs of replaced dead code do not cost passes.
			off = -2
		case jmp64:
			t, err := c.target(in, i, int(r.Off))
			if err != nil {
				return err
			}
			off = int64(t - c.addrs[i])
		default:
			if !c.v.gotol {
				return c.unknown(in, "gotol (BPF_JMP32 | BPF_JA) is cpuv4, Linux 6.6+")
			}
			t, err := c.target(in, i, int(r.Imm))
			if err != nil {
				return err
			}
			off = int64(t - c.addrs[i])
		}
		if off == 0 {
			// Nop jumps are optimized out; with padding, the bytes they
			// took on the previous pass become NOPs.
			if c.padding {
				n := c.insnSzDiff(i, start)
				if n != 0 && n != 2 && n != 5 {
					return c.errorf(in, "unexpected nop jump padding: %d bytes", n)
				}
				c.emitNops(n)
			}
			return nil
		}
		return c.emitJmp(in, i, start, off)
	case op == kernel.JmpCALL, op == kernel.JmpEXIT:
		return c.unknown(in, "")
	}
	cond := jmpConds[op]
	if cond == 0 {
		return c.unknown(in, "")
	}
	switch {
	case r.SrcX() && op == kernel.JmpJSET:
		c.maybeEmitMod(dst, src, jmp64)
		c.emit2(0x85, add2reg(0xC0, dst, src)) // test dst_reg, src_reg
	case r.SrcX():
		c.maybeEmitMod(dst, src, jmp64)
		c.emit2(0x39, add2reg(0xC0, dst, src)) // cmp dst_reg, src_reg
	case op == kernel.JmpJSET:
		c.maybeEmit1Mod(dst, jmp64)
		c.emit2(0xF7, add1reg(0xC0, dst)) // test dst_reg, imm32
		c.emit32(r.Imm)
	case r.Imm == 0:
		c.maybeEmitMod(dst, dst, jmp64)
		c.emit2(0x85, add2reg(0xC0, dst, dst)) // test dst_reg, dst_reg: one byte less
	default:
		c.maybeEmit1Mod(dst, jmp64)
		if isImm8(int64(r.Imm)) {
			c.emit3(0x83, add1reg(0xF8, dst), byte(r.Imm)) // cmp dst_reg, imm8
		} else {
			c.emit2(0x81, add1reg(0xF8, dst)) // cmp dst_reg, imm32
			c.emit32(r.Imm)
		}
	}
	if t := i + int(r.Off); c.memo == nil && t >= 0 && t < len(c.addrs) {
		c.jumps[i] = jumpInfo{kind: jumpCond, pre: int8(c.pos() - start), cc: cond, target: int32(t)} // the cmp or test: the same on every pass
	}
	t, err := c.target(in, i, int(r.Off))
	if err != nil {
		return err
	}
	off := int64(t - c.addrs[i])
	switch {
	case c.isImm8Jmp(off):
		if c.padding {
			// The padding goes in front of the jump, so that its offset
			// stays valid: 4 bytes when it was a near jcc last pass.
			n := c.insnSzDiff(i, start) - 2
			if n != 0 && n != 4 {
				return c.errorf(in, "unexpected jmp_cond padding: %d bytes", n)
			}
			c.emitNops(n)
		}
		c.emit2(cond, byte(off)) // jcc rel8
	case isSimm32(off):
		c.emit2(0x0F, cond+0x10) // jcc rel32
		c.emit32(int32(off))
	default:
		return c.errorf(in, "cond_jmp gen bug %x", off)
	}
	return nil
}

// emitJmp emits an unconditional jump of off bytes from the end of the
// instruction (the kernel's emit_jmp label), padded like the previous pass
// once jmp_padding is on.
func (c *ctx) emitJmp(in *kernel.Insn, i, start int, off int64) error {
	switch {
	case c.isImm8Jmp(off):
		if c.padding {
			n := c.insnSzDiff(i, start) - 2
			if n != 0 && n != 3 {
				return c.errorf(in, "unexpected jump padding: %d bytes", n)
			}
			c.emitNops(n)
		}
		c.emit2(0xEB, byte(off)) // jmp rel8
	case isSimm32(off):
		c.emit1(0xE9) // jmp rel32
		c.emit32(int32(off))
	default:
		return c.errorf(in, "jmp gen bug %x", off)
	}
	return nil
}

// call translates BPF_JMP | BPF_CALL: helper, kfunc and bpf-to-bpf calls.
// A tail-call-reachable function first reloads the tail call count (5.10,
// 6.1: RESTORE_TAIL_CALL_CNT, before every call) or its pointer (6.11+:
// LOAD_TAIL_CALL_CNT_PTR; 6.15+ only before bpf-to-bpf calls) into rax,
// where the callee expects it.
func (c *ctx) call(in *kernel.Insn) error {
	var target uint64
	what, name := "kernel", in.Ref
	switch in.Kind {
	case kernel.FuncCall:
		if in.Callee < 0 || in.Callee >= len(c.l.Funcs) {
			return c.errorf(in, "bpf-to-bpf call to function %d of %d", in.Callee, len(c.l.Funcs))
		}
		callee := c.l.Funcs[in.Callee]
		target = callee.Address
		what, name = "bpf function", callee.Name
	case kernel.HelperCall:
		if in.Raw.Imm == 0 {
			return c.errorf(in, "call with imm 0 (the kernel's -EINVAL)")
		}
		target = c.l.CallBase + uint64(int64(in.Raw.Imm))
		if name == "" {
			name = c.l.Symbols[target]
		}
	default:
		return c.errorf(in, "call without a resolved target")
	}
	if c.tailCallReachable && (c.v.tccAllCalls || in.Kind == kernel.FuncCall) {
		at := c.pos()
		sd := c.f.StackDepth
		var off int32
		switch {
		case c.v.tccPtr:
			off = int32(-16 - roundUp8(sd)) // BPF_TAIL_CALL_CNT_PTR_STACK_OFF
			c.note(at, "LOAD_TAIL_CALL_CNT_PTR: rax = tcc_ptr for the callee")
		case c.v.tccRoundedReload:
			off = int32(-roundUp8(sd) - 8)
			c.note(at, "RESTORE_TAIL_CALL_CNT: rax = the TCC slot, for the callee")
		default:
			off = int32(-(sd + 8)) // 5.10: -(stack_depth + 8), not rounded
			c.note(at, "rax = the TCC slot [rbp - (stack_depth + 8)], for the callee")
		}
		c.emit3(0x48, 0x8B, 0x85) // mov rax, qword ptr [rbp - off]
		c.emit32(off)
	}
	at := c.pos()
	c.jumpTo(target, "call_rel32", what, name) // call func
	if !c.emitting {
		return nil // nothing to note (and no arguments to box on every pass)
	}
	switch {
	case in.Kind == kernel.FuncCall:
		c.note(at, "bpf2bpf call")
		if c.emitting {
			c.edges = append(c.edges, jit.Edge{From: at, To: target, Kind: jit.EdgeCall, Target: name, Detail: "bpf2bpf call"})
		}
	case name != "":
		c.noteText(at, "call "+name)
	default:
		c.note(at, "call %s", fmt.Sprintf("__bpf_call_base%+#x", in.Raw.Imm))
	}
	return nil
}
