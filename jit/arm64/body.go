package arm64

import (
	"fmt"
	"slices"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// body models build_body: ctx->offset[i] is where BPF slot i starts.
func (c *ctx) body() error {
	memo := c.emitting && c.memo != nil && c.plain != nil
	for i := 0; i < len(c.f.Insns); i++ {
		if memo && c.plain[i] {
			// The same words as on the sizing pass (without touching
			// the instructions: their slots were noted then), for the
			// whole run of plain instructions from i at once. Plain
			// instructions take one slot each, so the run's slots
			// follow each other.
			j := i + 1
			for j < len(c.plain) && c.plain[j] {
				j++
			}
			first, last := int(c.slotOf[i]), int(c.slotOf[j-1])
			if s, e := c.offset[first], c.offset[last+1]; e > s {
				c.addRegion(4*s, 4*e, jit.RegionBody)
			}
			c.appendWords(c.memo[c.offset[first]:c.offset[last+1]])
			i = j - 1
			continue
		}
		in := &c.f.Insns[i]
		slot := int(c.slotOf[i])
		if memo && in.Raw.Code == kernel.ClassLD|kernel.SizeDW {
			// An ld_imm64 is the same words on both passes (a mov of
			// its constant or address): copied, with the relocation
			// ldReloc records.
			at := c.idx()
			c.appendWords(c.memo[c.offset[slot]:c.offset[slot+1]])
			c.ldReloc(in, at)
			c.region(at, jit.RegionBody)
			continue
		}
		if !c.emitting {
			c.offset[slot] = c.idx()
			if in.Raw.Code == kernel.ClassLD|kernel.SizeDW {
				c.offset[slot+1] = c.idx() // filled after the insn below
			}
		}
		start := c.idx()
		c.sizeErr = false
		if err := c.insn(in, slot, i == len(c.f.Insns)-1); err != nil {
			return &jit.Error{Prog: c.l.Name, Func: c.f.Name, Insn: in.Index, Msg: err.Error()}
		}
		if !c.emitting && c.plain != nil {
			c.plain[i] = !c.sizeErr && plainInsn(in)
		}
		if !c.emitting && in.Raw.Code == kernel.ClassLD|kernel.SizeDW {
			c.offset[slot+1] = c.idx()
		}
		if in.Kind == kernel.TailCall {
			c.region(start, jit.RegionTailCall)
		} else {
			c.region(start, jit.RegionBody)
		}
	}
	if !c.emitting {
		c.offset[len(c.offset)-1] = c.idx()
	}
	return nil
}

// appendWords appends w (from another buffer). (Within capacity only the
// slice's length changes: appending a slice would store its pointer back,
// with a write barrier while the GC runs.)
func (c *ctx) appendWords(w []uint32) {
	m := len(c.code)
	if m+len(w) > cap(c.code) {
		c.code = slices.Grow(c.code, len(w))
	}
	c.code = c.code[:m+len(w)]
	copy(c.code[m:], w)
}

// regBits gives the bits of regsUsed for BPF registers r6-r10.
var regBits = [256]uint8{6: 1, 7: 2, 8: 4, 9: 8, 10: 16}

// scan walks the function's compact instructions once: it notes each
// one's slot and returns which of r6-r10 (bits 0-4) they name as dst or
// src.
func (c *ctx) scan() int {
	used := uint8(0)
	if len(c.f.Insns) == 0 {
		return 0
	}
	// The compact instructions (kernel.CompactInsn) hold all of this.
	cs := c.f.CompactInsns()
	base := cs[0].Index
	for i := range cs {
		ci := &cs[i]
		c.slotOf[i] = ci.Index - base
		used |= regBits[ci.Dst] | regBits[ci.Src]
		if ci.Kind != kernel.Plain {
			switch ci.Kind {
			case kernel.HelperCall, kernel.FuncCall:
				c.calls++
				c.refs++
			case kernel.MapPtr, kernel.MapValue, kernel.FuncPtr:
				c.refs++
			}
		}
	}
	return int(used)
}

// noMemo turns the copying of plain instructions off: the real pass emits
// every instruction again, as the kernel does (the tests compare the two).
var noMemo = false

// plainInsn reports whether in's code depends on nothing but the
// instruction and the function's configuration, and records nothing but its
// body region: ALU, loads and stores, atomics. Jumps, calls and exits
// depend on offsets and addresses; ld_imm64 records a relocation; the
// speculation barrier a note; ALU with a non-zero off reads the CPU
// configuration.
func plainInsn(in *kernel.Insn) bool {
	if in.Kind != kernel.Plain {
		return false
	}
	r := &in.Raw
	switch r.Class() {
	case kernel.ClassALU, kernel.ClassALU64:
		return r.Off == 0
	case kernel.ClassLDX, kernel.ClassSTX:
		return true
	case kernel.ClassST:
		return r.Code != kernel.CodeNOSPEC
	}
	return false
}

// immOffsets: 5.19+ use unsigned-offset loads and stores where they fit.
func (c *ctx) immOffsets() bool { return c.p.FPBottom || c.p.TCCPtr }

// fpAdjust rebases frame-pointer accesses so that their offsets become
// positive: on x27 (fp bottom, 5.19-6.10) or on sp (6.11+).
func (c *ctx) fpAdjust(r Reg, off int) (Reg, int) {
	switch {
	case c.privSP && r == bpf2a64[10]:
		// 6.17: ctx->priv_sp_used ? priv_sp : A64_SP.
		return privSP, off + c.stackSize
	case c.p.TCCPtr && r == bpf2a64[10]:
		return SP, off + c.stackSize
	case c.fpbOffset > 0 && r == bpf2a64[10]:
		return fpb, off + c.fpbOffset
	}
	return r, off
}

// branchTo returns the A64 word offset from the last instruction of BPF
// slot `slot` to the start of slot+1+off: bpf2a64_offset.
func (c *ctx) branchTo(slot, off int) (int, error) {
	t := slot + 1 + off
	if t < 0 || t >= len(c.offset) {
		return 0, fmt.Errorf("jump out of range (target insn %d)", t)
	}
	return c.offset[t] - (c.offset[slot+1] - 1), nil
}

// movImm models emit_a64_mov_i: a 32-bit immediate in one or two moves.
func (c *ctx) movImm(is64 bool, rd Reg, val int32) {
	hi := uint16(uint32(val) >> 16)
	lo := uint16(uint32(val))
	if hi&0x8000 != 0 {
		if hi == 0xffff {
			w, _ := a64MOVN(is64, rd, ^lo, 0)
			c.emit(w)
		} else {
			w, _ := a64MOVN(is64, rd, ^hi, 16)
			c.emit(w)
			if lo != 0xffff {
				w, _ = a64MOVK(is64, rd, lo, 0)
				c.emit(w)
			}
		}
		return
	}
	w, _ := a64MOVZ(is64, rd, lo, 0)
	c.emit(w)
	if hi != 0 {
		w, _ = a64MOVK(is64, rd, hi, 16)
		c.emit(w)
	}
}

func i16Blocks(v uint64, inverse bool) int {
	want := uint64(0)
	if inverse {
		want = 0xffff
	}
	n := 0
	for s := 0; s < 64; s += 16 {
		if (v>>s)&0xffff != want {
			n++
		}
	}
	return n
}

func fls64(v uint64) int {
	n := 0
	for v != 0 {
		n++
		v >>= 1
	}
	return n
}

// movImm64 models emit_a64_mov_i64: the shortest movz/movn + movk sequence,
// from the highest non-trivial halfword down.
func (c *ctx) movImm64(rd Reg, val uint64) {
	if val>>32 == 0 {
		c.movImm(false, rd, int32(uint32(val)))
		return
	}
	inverse := i16Blocks(val, true) < i16Blocks(val, false)
	var top int
	if inverse {
		top = fls64(^val) - 1
	} else {
		top = fls64(val) - 1
	}
	shift := max(top&^15, 0)
	if inverse {
		w, _ := a64MOVN(true, rd, uint16(^val>>shift), shift)
		c.emit(w)
	} else {
		w, _ := a64MOVZ(true, rd, uint16(val>>shift), shift)
		c.emit(w)
	}
	skip := uint64(0)
	if inverse {
		skip = 0xffff
	}
	for shift -= 16; shift >= 0; shift -= 16 {
		if (val>>shift)&0xffff != skip {
			w, _ := a64MOVK(true, rd, uint16(val>>shift), shift)
			c.emit(w)
		}
	}
}

// addrMov models emit_addr_mov_i64: a fixed movn/movk/movk sequence for
// kernel addresses (the top 16 bits are all ones), so that calls have the
// same length in every pass.
func (c *ctx) addrMov(rd Reg, val uint64) {
	w, _ := a64MOVN(true, rd, uint16(^val), 0)
	c.emit(w)
	for shift := 16; shift <= 32; shift += 16 {
		w, _ = a64MOVK(true, rd, uint16(val>>shift), shift)
		c.emit(w)
	}
}

func isAddSubImm(imm int32) bool {
	u := uint32(imm)
	return u&^0xfff == 0 || u&^0xfff000 == 0
}

// isLSIOffset models is_lsi_offset: fits the unsigned scaled 12-bit offset.
func isLSIOffset(off, scale int) bool {
	return off >= 0 && off <= 0xfff<<scale && off&(1<<scale-1) == 0
}

func lsSize(code uint8) (uint32, int) {
	switch code & 0x18 {
	case kernel.SizeB:
		return size8, 0
	case kernel.SizeH:
		return size16, 1
	case kernel.SizeW:
		return size32, 2
	}
	return size64, 3
}

// jmpConds maps BPF_OP(code) >> 4 of a conditional jump to its condition;
// jmpCondOK says which ops are conditional jumps.
var jmpConds, jmpCondOK = func() (c [16]Cond, ok [16]bool) {
	for op, cond := range map[uint8]Cond{
		kernel.JmpJEQ: CondEQ, kernel.JmpJGT: CondHI, kernel.JmpJLT: CondCC, kernel.JmpJGE: CondCS, kernel.JmpJLE: CondLS,
		kernel.JmpJSET: CondNE, kernel.JmpJNE: CondNE, kernel.JmpJSGT: CondGT, kernel.JmpJSLT: CondLT, kernel.JmpJSGE: CondGE, kernel.JmpJSLE: CondLE,
	} {
		c[op>>4], ok[op>>4] = cond, true
	}
	return c, ok
}()

// insn models build_insn for one BPF instruction.
func (c *ctx) insn(in *kernel.Insn, slot int, last bool) error {
	r := &in.Raw
	code := r.Code
	class := r.Class()
	if r.Dst > regAX || r.Src > regAX {
		return fmt.Errorf("invalid register r%d/r%d", r.Dst, r.Src)
	}
	dst, src := bpf2a64[r.Dst], bpf2a64[r.Src]
	off := int(r.Off)
	imm := r.Imm
	is64 := class == kernel.ClassALU64 || class == kernel.ClassJMP

	switch class {
	case kernel.ClassALU, kernel.ClassALU64:
		return c.alu(r, is64, dst, src)

	case kernel.ClassJMP, kernel.ClassJMP32:
		op := r.Op()
		switch {
		case op == kernel.JmpJA && (class == kernel.ClassJMP || c.p.CPUv4):
			if class == kernel.ClassJMP32 {
				off = int(imm) // gotol: the offset is in imm
			}
			j, err := c.branchTo(slot, off)
			if err != nil {
				return err
			}
			c.emitE(a64B(j))
			return nil
		case op == kernel.JmpCALL && class == kernel.ClassJMP:
			return c.call(in)
		case op == kernel.JmpEXIT && class == kernel.ClassJMP:
			// Optimization: when the last instruction is EXIT, fall through
			// to the epilogue.
			if last {
				return nil
			}
			c.emitE(a64B(c.epilogue - c.idx()))
			return nil
		case op == kernel.JmpJA || op == kernel.JmpCALL || op == kernel.JmpEXIT:
			return fmt.Errorf("unknown opcode %02x", code)
		}
		cond, ok := jmpConds[op>>4], jmpCondOK[op>>4]
		if !ok {
			return fmt.Errorf("unknown opcode %02x", code)
		}
		if r.SrcX() {
			if op == kernel.JmpJSET {
				c.emit(a64TST(is64, dst, src))
			} else {
				c.emit(a64CMP(is64, dst, src))
			}
		} else if op == kernel.JmpJSET {
			if w, err := a64TSTI(is64, dst, imm); err == nil {
				c.emit(w)
			} else {
				c.movImm(is64, tmp1, imm)
				c.emit(a64TST(is64, dst, tmp1))
			}
		} else {
			switch {
			case isAddSubImm(imm):
				w, _ := a64CMPI(is64, dst, uint32(imm))
				c.emit(w)
			case isAddSubImm(-imm):
				w, _ := a64CMNI(is64, dst, uint32(-imm))
				c.emit(w)
			default:
				c.movImm(is64, tmp1, imm)
				c.emit(a64CMP(is64, dst, tmp1))
			}
		}
		j, err := c.branchTo(slot, off)
		if err != nil {
			return err
		}
		c.emitE(a64BCond(cond, j))
		return nil

	case kernel.ClassLD:
		if code != kernel.ClassLD|kernel.SizeDW {
			return fmt.Errorf("unknown opcode %02x", code)
		}
		at := c.idx()
		if in.Kind == kernel.FuncPtr {
			c.addrMov(dst, r.Imm64)
		} else {
			c.movImm64(dst, r.Imm64)
		}
		c.ldReloc(in, at)
		return nil

	case kernel.ClassLDX:
		mode := r.Mode()
		signed := mode == kernel.ModeMemSX && c.p.CPUv4
		if mode != kernel.ModeMem && mode != kernel.ModeProbeMem && !signed {
			return fmt.Errorf("unknown opcode %02x", code)
		}
		size, scale := lsSize(code)
		if signed && size == size64 {
			return fmt.Errorf("unknown opcode %02x", code)
		}
		srcAdj, offAdj := c.fpAdjust(src, off)
		if c.immOffsets() && isLSIOffset(offAdj, scale) {
			var w uint32
			if signed {
				w, _ = a64LDRSI(size, dst, srcAdj, offAdj)
			} else {
				w, _ = a64LDRI(size, dst, srcAdj, offAdj)
			}
			c.emit(w)
		} else {
			c.movImm(true, tmp1, int32(off))
			if signed {
				c.emit(a64LDRS(size, dst, src, tmp1))
			} else {
				c.emit(a64LDR(size, dst, src, tmp1))
			}
		}
		return nil

	case kernel.ClassST:
		if code == kernel.CodeNOSPEC {
			if c.v.noNospec {
				return fmt.Errorf("unknown opcode %02x", code)
			}
			if !c.v.nospecBarrier {
				// Nothing: arm64 relies on the firmware's SSBD mitigation.
				return nil
			}
			// 6.17: a barrier against Spectre v1 and v4,
			// alternative_has_cap_likely(ARM64_HAS_SB) ? sb : dsb nsh; isb.
			at := c.idx()
			if c.l.Config["cpu:sb"] == "y" {
				c.emit(a64SB)
			} else {
				c.emit(a64DSBNSH)
				c.emit(a64ISB)
			}
			c.note(at, "speculation barrier (BPF_NOSPEC)")
			return nil
		}
		if r.Mode() != kernel.ModeMem {
			return fmt.Errorf("unknown opcode %02x", code)
		}
		size, scale := lsSize(code)
		if !c.immOffsets() {
			// 5.10: offset and value through the temporaries.
			c.movImm(true, tmp2, int32(off))
			c.movImm(true, tmp1, imm)
			c.emit(a64STR(size, tmp1, dst, tmp2))
			return nil
		}
		dstAdj, offAdj := c.fpAdjust(dst, off)
		c.movImm(true, tmp1, imm)
		if isLSIOffset(offAdj, scale) {
			w, _ := a64STRI(size, tmp1, dstAdj, offAdj)
			c.emit(w)
		} else {
			c.movImm(true, tmp2, int32(off))
			c.emit(a64STR(size, tmp1, dst, tmp2))
		}
		return nil

	case kernel.ClassSTX:
		switch r.Mode() {
		case kernel.ModeMem:
			size, scale := lsSize(code)
			dstAdj, offAdj := c.fpAdjust(dst, off)
			if c.immOffsets() && isLSIOffset(offAdj, scale) {
				w, _ := a64STRI(size, src, dstAdj, offAdj)
				c.emit(w)
			} else {
				c.movImm(true, tmp1, int32(off))
				c.emit(a64STR(size, src, dst, tmp1))
			}
			return nil
		case kernel.ModeAtomic:
			if c.v.loadAcqStoreRel && (r.Imm == kernel.AtomicLoadAcq || r.Imm == kernel.AtomicStoreRel) {
				return c.atomicLdSt(r)
			}
			if r.Size() != kernel.SizeW && r.Size() != kernel.SizeDW {
				return fmt.Errorf("unknown opcode %02x", code)
			}
			if !c.p.FPBottom && !c.p.TCCPtr && r.Imm != kernel.OpADD {
				// 5.10 knows only BPF_XADD.
				return fmt.Errorf("unknown atomic op code %02x", r.Imm)
			}
			if c.p.LSE {
				return c.lseAtomic(r, dst, src)
			}
			return c.llscAtomic(r, dst, src)
		}
	}
	return fmt.Errorf("unknown opcode %02x", code)
}

// alu translates the ALU and ALU64 classes.
func (c *ctx) alu(r *kernel.BPFInsn, is64 bool, dst, src Reg) error {
	imm := r.Imm
	signedDiv := false
	if r.Off != 0 {
		// sdiv/smod (off=1) and movsx (off=8/16/32) arrived in 6.6, the
		// per-CPU address move (off=-1, BPF_ADDR_PERCPU) in 6.10.
		switch op := r.Op(); {
		case !c.p.CPUv4:
			return fmt.Errorf("unknown opcode %02x", r.Code)
		case (op == kernel.OpDIV || op == kernel.OpMOD) && r.Off == 1:
			signedDiv = true
		case op == kernel.OpMOV && r.SrcX() && r.Off == 8:
			c.emit(a64SXTB(is64, dst, src))
			return nil
		case op == kernel.OpMOV && r.SrcX() && r.Off == 16:
			c.emit(a64SXTH(is64, dst, src))
			return nil
		case op == kernel.OpMOV && r.SrcX() && r.Off == 32 && is64:
			c.emit(a64SXTW(is64, dst, src))
			return nil
		case op == kernel.OpMOV && r.SrcX() && r.Off == -1 && is64:
			if dst != src {
				c.emit(a64MOV(true, dst, src))
			}
			if c.l.Config["cpu:vhe"] == "y" {
				c.emit(a64MRS(tmp1, sysregTPIDREL2))
			} else {
				c.emit(a64MRS(tmp1, sysregTPIDREL1))
			}
			c.emit(a64ADD(true, dst, dst, tmp1))
			return nil
		default:
			return fmt.Errorf("unknown opcode %02x (off %d)", r.Code, r.Off)
		}
	}
	div := a64UDIV
	if signedDiv {
		div = a64SDIV
	}
	emitOr := func(w uint32, err error) bool {
		if err != nil {
			return false
		}
		c.emit(w)
		return true
	}
	if r.SrcX() && r.Op() != kernel.OpEND {
		switch r.Op() {
		case kernel.OpMOV:
			c.emit(a64MOV(is64, dst, src))
		case kernel.OpADD:
			c.emit(a64ADD(is64, dst, dst, src))
		case kernel.OpSUB:
			c.emit(a64SUB(is64, dst, dst, src))
		case kernel.OpAND:
			c.emit(a64AND(is64, dst, dst, src))
		case kernel.OpOR:
			c.emit(a64ORR(is64, dst, dst, src))
		case kernel.OpXOR:
			c.emit(a64EOR(is64, dst, dst, src))
		case kernel.OpMUL:
			c.emit(a64MUL(is64, dst, dst, src))
		case kernel.OpDIV:
			c.emit(div(is64, dst, dst, src))
		case kernel.OpMOD:
			c.emit(div(is64, tmp1, dst, src))
			c.emit(a64MSUB(is64, dst, dst, tmp1, src))
		case kernel.OpLSH:
			c.emit(a64LSLV(is64, dst, dst, src))
		case kernel.OpRSH:
			c.emit(a64LSRV(is64, dst, dst, src))
		case kernel.OpARSH:
			c.emit(a64ASRV(is64, dst, dst, src))
		default:
			return fmt.Errorf("unknown opcode %02x", r.Code)
		}
		return nil
	}
	switch r.Op() {
	case kernel.OpNEG:
		c.emit(a64NEG(is64, dst, dst))
	case kernel.OpEND:
		bswap := r.Class() == kernel.ClassALU64
		if bswap && !c.p.CPUv4 {
			return fmt.Errorf("unknown opcode %02x", r.Code) // bswap: 6.6+
		}
		// Little-endian kernel: to_le only zero-extends, to_be (and the
		// unconditional bswap) reverses.
		if !r.SrcX() && !bswap {
			switch imm {
			case 16:
				c.emit(a64UXTH(is64, dst, dst))
			case 32:
				c.emit(a64UXTW(is64, dst, dst))
			case 64:
			default:
				return fmt.Errorf("invalid endianness width %d", imm)
			}
			return nil
		}
		switch imm {
		case 16:
			c.emit(a64REV16(is64, dst, dst))
			c.emit(a64UXTH(is64, dst, dst))
		case 32:
			// 6.6+ always reverses a 32-bit register (rev wN), which
			// also zero-extends; before, is64 was always false here.
			c.emit(a64REV32(false, dst, dst))
		case 64:
			c.emit(a64REV64(dst, dst))
		default:
			return fmt.Errorf("invalid endianness width %d", imm)
		}
	case kernel.OpMOV:
		c.movImm(is64, dst, imm)
	case kernel.OpADD, kernel.OpSUB:
		add, sub := a64ADDI, a64SUBI
		if r.Op() == kernel.OpSUB {
			add, sub = a64SUBI, a64ADDI
		}
		switch {
		case isAddSubImm(imm):
			w, _ := add(is64, dst, dst, uint32(imm))
			c.emit(w)
		case isAddSubImm(-imm):
			w, _ := sub(is64, dst, dst, uint32(-imm))
			c.emit(w)
		default:
			c.movImm(is64, tmp1, imm)
			if r.Op() == kernel.OpADD {
				c.emit(a64ADD(is64, dst, dst, tmp1))
			} else {
				c.emit(a64SUB(is64, dst, dst, tmp1))
			}
		}
	case kernel.OpAND, kernel.OpOR, kernel.OpXOR:
		enc, reg := a64ANDI, a64AND
		switch r.Op() {
		case kernel.OpOR:
			enc, reg = a64ORRI, a64ORR
		case kernel.OpXOR:
			enc, reg = a64EORI, a64EOR
		}
		if !emitOr(enc(is64, dst, dst, imm)) {
			c.movImm(is64, tmp1, imm)
			c.emit(reg(is64, dst, dst, tmp1))
		}
	case kernel.OpMUL:
		c.movImm(is64, tmp1, imm)
		c.emit(a64MUL(is64, dst, dst, tmp1))
	case kernel.OpDIV:
		c.movImm(is64, tmp1, imm)
		c.emit(div(is64, dst, dst, tmp1))
	case kernel.OpMOD:
		c.movImm(is64, tmp2, imm)
		c.emit(div(is64, tmp1, dst, tmp2))
		c.emit(a64MSUB(is64, dst, dst, tmp1, tmp2))
	case kernel.OpLSH:
		c.emitE(a64LSL(is64, dst, dst, imm))
	case kernel.OpRSH:
		c.emitE(a64LSR(is64, dst, dst, imm))
	case kernel.OpARSH:
		c.emitE(a64ASR(is64, dst, dst, imm))
	default:
		return fmt.Errorf("unknown opcode %02x", r.Code)
	}
	return nil
}

// call models BPF_JMP|BPF_CALL and BPF_JMP|BPF_TAIL_CALL.
func (c *ctx) call(in *kernel.Insn) error {
	if in.Kind == kernel.TailCall {
		return c.tailCall(in)
	}
	var target uint64
	what, name := "kernel", in.Ref
	switch in.Kind {
	case kernel.FuncCall:
		callee := c.l.Funcs[in.Callee]
		target = callee.Address
		what, name = "bpf function", callee.Name
	case kernel.HelperCall:
		target = c.l.CallBase + uint64(int64(in.Raw.Imm))
	default:
		return fmt.Errorf("call without a resolved target")
	}
	if in.Kind == kernel.HelperCall && c.p.InlineHelpers {
		// 6.12 bpf_jit_inlines_helper_call: these helpers become a read
		// of the current task (sp_el0) or of its thread_info.cpu.
		switch in.Ref {
		case "bpf_get_smp_processor_id":
			at := c.idx()
			c.emit(a64MRS(tmp1, sysregSPEL0))
			cpuOff := c.threadInfoCPU()
			if isLSIOffset(cpuOff, 2) {
				w, _ := a64LDRI(size32, bpf2a64[0], tmp1, cpuOff)
				c.emit(w)
			} else {
				c.movImm(true, tmp2, int32(cpuOff))
				c.emit(a64LDR(size32, bpf2a64[0], tmp1, tmp2))
			}
			c.note(at, "bpf_get_smp_processor_id() inlined: current->thread_info.cpu")
			return nil
		case "bpf_get_current_task", "bpf_get_current_task_btf":
			at := c.idx()
			c.emit(a64MRS(bpf2a64[0], sysregSPEL0))
			c.note(at, "%s() inlined: sp_el0 holds current", in.Ref)
			return nil
		}
	}
	at := c.idx()
	blr := c.idx()
	kind := "blr_imm64"
	if c.p.DirectCalls && c.inBLRange(target) {
		// 6.12 emit_call: a direct bl when the target is within +-128 MiB.
		w, err := a64BL(int((int64(target) - int64(c.pc(c.idx()))) / 4))
		c.emitE(w, err)
		kind = "bl"
	} else {
		c.addrMov(tmp1, target)
		blr = c.idx()
		c.emit(a64BLR(tmp1))
	}
	if c.v.timedMayGoto && in.Ref == "arch_bpf_timed_may_goto" {
		// 6.18: arch_bpf_timed_may_goto takes and returns its value in
		// BPF_REG_AX (x9), so the result is not moved to r0.
		c.note(blr, "timed may_goto: the count comes back in x9 (BPF_REG_AX)")
	} else {
		c.emit(a64MOV(true, bpf2a64[0], 0))
	}
	if c.emitting {
		size := 4 * (blr - at)
		if kind == "bl" {
			size = 4
		}
		c.relocs = append(c.relocs, jit.Reloc{Offset: 4 * blr, Field: 4 * at, Size: size, Kind: kind, Target: target, What: what, Name: name})
		if in.Kind == kernel.FuncCall {
			c.edges = append(c.edges, jit.Edge{From: 4 * blr, To: target, Kind: jit.EdgeCall, Target: name, Detail: "bpf2bpf call"})
			c.note(blr, "bpf2bpf call")
		} else if name != "" {
			c.noteText(blr, "call "+name)
		}
	}
	return nil
}

// pc is the address of the instruction at index i of this image.
func (c *ctx) pc(i int) uint64 { return c.f.Address + uint64(4*i) }

// inBLRange models should_emit_indirect_call: a known target within
// [-128 MiB, +128 MiB) of the call site.
func (c *ctx) inBLRange(target uint64) bool {
	if target == 0 {
		return false
	}
	off := int64(target) - int64(c.pc(c.idx()))
	return off >= -128<<20 && off < 128<<20
}

// threadInfoCPU is offsetof(struct thread_info, cpu): a placement may pin
// it ("thread_info.cpu"); the default is Debian's arm64 build (no
// CONFIG_ARM64_SW_TTBR0_PAN, no CONFIG_SHADOW_CALL_STACK: flags and
// preempt_count, then cpu at 0x10 — arm64-6.1 capture's kernel.config).
func (c *ctx) threadInfoCPU() int {
	if c.layout.ThreadInfoCPU != 0 {
		return c.layout.ThreadInfoCPU
	}
	return 0x10
}

// ldReloc records the address an ld_imm64 materialises.
func (c *ctx) ldReloc(in *kernel.Insn, at int) {
	if !c.emitting {
		return
	}
	var what string
	switch in.Kind {
	case kernel.MapPtr:
		what = "map"
	case kernel.MapValue:
		what = "map_value"
	case kernel.FuncPtr:
		what = "bpf function"
	default:
		return
	}
	c.relocs = append(c.relocs, jit.Reloc{Offset: 4 * at, Field: 4 * at, Size: 4 * (c.idx() - at), Kind: "imm64", Target: in.Raw.Imm64, What: what, Name: in.Ref})
}

// tailCall models emit_bpf_tail_call: bpf_tail_call(ctx, array, index).
func (c *ctx) tailCall(in *kernel.Insn) error {
	idx0 := c.idx()
	var br int
	if c.p.TCCPtr {
		br = c.tailCallTCCPtr(idx0)
	} else {
		var err error
		if br, err = c.tailCallX26(idx0); err != nil {
			return err
		}
	}
	skip := 4 * PrologueOffset(c.p)
	if c.emitting {
		for _, pa := range c.l.ProgArrays {
			if !in.Direct || pa.Name != in.Map {
				continue
			}
			if ref, ok := pa.Slots[in.Key]; ok {
				c.edges = append(c.edges, jit.Edge{From: 4 * br, To: ref.Address + uint64(skip), Kind: jit.EdgeTailCall, Target: ref.Name,
					Detail: fmt.Sprintf("%s[%d] = %s, landing %d bytes (%d insns) past its start", pa.Name, in.Key, ref.Name, skip, skip/4)})
			}
		}
	}
	return nil
}

// tailCallX26 is emit_bpf_tail_call up to 6.10: the count itself in x26.
func (c *ctx) tailCallX26(idx0 int) (int, error) {
	r2, r3 := bpf2a64[2], bpf2a64[3]
	prg := tmp2
	out := func() int { return c.outOffset - (c.idx() - idx0) }

	// if (index >= array->map.max_entries) goto out;
	c.movImm64(tmp1, uint64(c.layout.ArrayMaxEntries))
	c.emit(a64LDR(size32, tmp1, r2, tmp1))
	c.emit(a64MOV(false, r3, r3))
	c.emit(a64CMP(false, r3, tmp1))
	c.emitE(a64BCond(CondCS, out()))

	// if (tail_call_cnt >= MAX_TAIL_CALL_CNT) goto out; tail_call_cnt++;
	c.movImm64(tmp1, uint64(c.p.MaxTailCallCnt))
	cmp := c.idx()
	c.emit(a64CMP(true, tcc, tmp1))
	if c.p.TailCallCountGT {
		c.emitE(a64BCond(CondHI, out()))
		c.note(cmp, "TCC > MAX_TAIL_CALL_CNT (%d)?", c.p.MaxTailCallCnt)
	} else {
		c.emitE(a64BCond(CondCS, out()))
		c.note(cmp, "TCC >= MAX_TAIL_CALL_CNT (%d)?", c.p.MaxTailCallCnt)
	}
	inc := c.idx()
	w, _ := a64ADDI(true, tcc, tcc, 1)
	c.emit(w)
	c.note(inc, "TCC++")

	// prog = array->ptrs[index]; if (prog == NULL) goto out;
	c.movImm64(tmp1, uint64(c.layout.ArrayPtrs))
	c.emit(a64ADD(true, tmp1, r2, tmp1))
	w, _ = a64LSL(true, prg, r3, 3)
	c.emit(w)
	c.emit(a64LDR(size64, prg, tmp1, prg))
	c.emitE(a64CBZ(true, prg, out()))

	// goto *(prog->bpf_func + prologue_offset);
	c.movImm64(tmp1, uint64(c.layout.ProgBPFFunc))
	c.emit(a64LDR(size64, tmp1, prg, tmp1))
	skip := 4 * PrologueOffset(c.p)
	w, _ = a64ADDI(true, tmp1, tmp1, uint32(skip))
	c.emit(w)
	drop := c.idx()
	w, err := a64ADDI(true, SP, SP, uint32(c.stackSize))
	c.emitE(w, err)
	c.note(drop, "destroy just the current BPF stack frame")
	br := c.idx()
	c.emit(a64BR(tmp1))
	c.note(br, "tail call: skip %d prologue insns (+%d bytes)", PrologueOffset(c.p), skip)

	// out:
	if c.outOffset == -1 {
		c.outOffset = c.idx() - idx0
	}
	if cur := c.idx() - idx0; cur != c.outOffset {
		return 0, fmt.Errorf("tail_call out_offset = %d, expected %d!", cur, c.outOffset)
	}
	return br, nil
}

// lseAtomic models emit_lse_atomic (CPUs with ARMv8.1 LSE atomics).
func (c *ctx) lseAtomic(r *kernel.BPFInsn, dst, src Reg) error {
	isdw := r.Size() == kernel.SizeDW
	reg := c.atomicAddr(dst, r.Off)
	switch r.Imm {
	case kernel.OpADD:
		c.emit(a64STOP(isdw, atomicADD, reg, src))
	case kernel.OpAND:
		c.emit(a64MVN(isdw, tmp2, src))
		c.emit(a64STOP(isdw, atomicCLR, reg, tmp2))
	case kernel.OpOR:
		c.emit(a64STOP(isdw, atomicSET, reg, src))
	case kernel.OpXOR:
		c.emit(a64STOP(isdw, atomicEOR, reg, src))
	case kernel.OpADD | kernel.AtomicFetch:
		c.emit(a64LDOPAL(isdw, atomicADD, src, reg, src))
	case kernel.OpAND | kernel.AtomicFetch:
		c.emit(a64MVN(isdw, tmp2, src))
		c.emit(a64LDOPAL(isdw, atomicCLR, src, reg, tmp2))
	case kernel.OpOR | kernel.AtomicFetch:
		c.emit(a64LDOPAL(isdw, atomicSET, src, reg, src))
	case kernel.OpXOR | kernel.AtomicFetch:
		c.emit(a64LDOPAL(isdw, atomicEOR, src, reg, src))
	case kernel.AtomicXchg:
		c.emit(a64LDOPAL(isdw, atomicSWP, src, reg, src))
	case kernel.AtomicCmpXchg:
		c.emit(a64CASAL(isdw, src, reg, bpf2a64[0]))
	default:
		return fmt.Errorf("unknown atomic op code %02x", r.Imm)
	}
	return nil
}

// llscAtomic models emit_ll_sc_atomic (load-exclusive/store-exclusive loops).
func (c *ctx) llscAtomic(r *kernel.BPFInsn, dst, src Reg) error {
	isdw := r.Size() == kernel.SizeDW
	reg := c.atomicAddr(dst, r.Off)
	op := func(rd, rn, rm Reg) uint32 {
		switch r.Imm &^ kernel.AtomicFetch {
		case kernel.OpADD:
			return a64ADD(isdw, rd, rn, rm)
		case kernel.OpAND:
			return a64AND(isdw, rd, rn, rm)
		case kernel.OpOR:
			return a64ORR(isdw, rd, rn, rm)
		}
		return a64EOR(isdw, rd, rn, rm)
	}
	switch r.Imm {
	case kernel.OpADD, kernel.OpAND, kernel.OpOR, kernel.OpXOR:
		c.emit(a64LDXR(isdw, tmp2, reg))
		c.emit(op(tmp2, tmp2, src))
		c.emit(a64STXR(isdw, tmp2, reg, tmp3))
		c.emitE(a64CBNZ(false, tmp3, -3))
	case kernel.OpADD | kernel.AtomicFetch, kernel.OpAND | kernel.AtomicFetch, kernel.OpOR | kernel.AtomicFetch, kernel.OpXOR | kernel.AtomicFetch:
		c.emit(a64MOV(isdw, ax, src))
		c.emit(a64LDXR(isdw, src, reg))
		c.emit(op(tmp2, src, ax))
		c.emit(a64STLXR(isdw, tmp2, reg, tmp3))
		c.emitE(a64CBNZ(false, tmp3, -3))
		c.emit(dmbISH)
	case kernel.AtomicXchg:
		c.emit(a64MOV(isdw, tmp2, src))
		c.emit(a64LDXR(isdw, src, reg))
		c.emit(a64STLXR(isdw, tmp2, reg, tmp3))
		c.emitE(a64CBNZ(false, tmp3, -2))
		c.emit(dmbISH)
	case kernel.AtomicCmpXchg:
		r0 := bpf2a64[0]
		c.emit(a64MOV(isdw, tmp2, r0))
		c.emit(a64LDXR(isdw, r0, reg))
		c.emit(a64EOR(isdw, tmp3, r0, tmp2))
		c.emitE(a64CBNZ(isdw, tmp3, 4))
		c.emit(a64STLXR(isdw, src, reg, tmp3))
		c.emitE(a64CBNZ(false, tmp3, -4))
		c.emit(dmbISH)
	default:
		return fmt.Errorf("unknown atomic op code %02x", r.Imm)
	}
	return nil
}

// atomicAddr returns the register holding dst + off for an atomic
// instruction, emitting the addition into tmp1 when off is not zero.
func (c *ctx) atomicAddr(dst Reg, off int16) Reg {
	if off == 0 {
		return dst
	}
	if c.v.addImmAtomics {
		// 6.14+: emit_a64_add_i(1, tmp, reg, tmp, off, ctx).
		c.addImm(true, tmp1, dst, tmp1, int32(off))
		return tmp1
	}
	// Up to 6.13: emit_a64_mov_i(1, tmp, off); A64_ADD(1, tmp, tmp, dst).
	c.movImm(true, tmp1, int32(off))
	c.emit(a64ADD(true, tmp1, tmp1, dst))
	return tmp1
}

// addImm models emit_a64_add_i (6.14): Rd = Rn + imm with add/sub #imm12
// (optionally shifted) when imm or -imm fits, else through tmp.
func (c *ctx) addImm(is64 bool, rd, rn, tmp Reg, imm int32) {
	switch {
	case isAddSubImm(imm):
		w, _ := a64ADDI(is64, rd, rn, uint32(imm))
		c.emit(w)
	case isAddSubImm(int32(-uint32(imm))):
		w, _ := a64SUBI(is64, rd, rn, -uint32(imm))
		c.emit(w)
	default:
		c.movImm(is64, tmp, imm)
		c.emit(a64ADD(is64, rd, rn, tmp))
	}
}

// atomicLdSt models emit_atomic_ld_st (6.15): BPF_LOAD_ACQ is
// "ldar{b,h} dst, [src + off]", BPF_STORE_REL "stlr{b,h} src, [dst + off]",
// the offset added first with emit_a64_add_i.
func (c *ctx) atomicLdSt(r *kernel.BPFInsn) error {
	dst, src := bpf2a64[r.Dst], bpf2a64[r.Src]
	size, _ := lsSize(r.Code)
	if r.Imm == kernel.AtomicLoadAcq {
		c.emit(a64LDAR(size, dst, c.atomicAddr(src, r.Off)))
		return nil
	}
	c.emit(a64STLR(size, src, c.atomicAddr(dst, r.Off)))
	return nil
}
