// SPDX-License-Identifier: GPL-2.0-only

package x86

import (
	"fmt"

	"github.com/jitscope/jitscope/jit"
	"github.com/jitscope/jitscope/kernel"
)

// ldImm64 translates BPF_LD | BPF_IMM | BPF_DW and records the address it
// loads.
func (c *ctx) ldImm64(in *kernel.Insn) {
	at := c.pos()
	movabs := c.emitMovImm64(int(in.Raw.Dst), in.Raw.Imm64)
	c.ldImm64Reloc(in, at, movabs)
}

// ldImm64Reloc records the address an ld_imm64 at at loads, when it is one
// and the mov carries all 64 bits (movabs).
func (c *ctx) ldImm64Reloc(in *kernel.Insn, at int, movabs bool) {
	if !movabs || !c.emitting {
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
	c.reloc(jit.Reloc{Offset: at, Field: at + 2, Size: 8, Kind: "imm64", Target: in.Raw.Imm64, What: what, Name: in.Ref})
}

// ldx translates BPF_LDX: plain and sign-extending loads, and
// BPF_PROBE_MEM loads with the address check of the version.
func (c *ctx) ldx(in *kernel.Insn) error {
	r := &in.Raw
	dst, src := int(r.Dst), int(r.Src)
	mode, size := r.Mode(), r.Size()
	switch mode {
	case kernel.ModeMem, kernel.ModeProbeMem:
	case kernel.ModeMemSX, kernel.ModeProbeMemSX:
		if !c.v.cpuv4 {
			return c.unknown(in, "sign-extending loads are cpuv4, Linux 6.6+")
		}
		if size == kernel.SizeDW {
			return c.unknown(in, "")
		}
	case kernel.ModeProbeMem32:
		if c.v.cpuv4 {
			return c.errorf(in, "BPF_PROBE_MEM32: arena accesses (r12 = kern_vm_start) are not modelled")
		}
		return c.unknown(in, "")
	default:
		return c.unknown(in, "")
	}
	ldxStart := -1
	if mode == kernel.ModeProbeMem || mode == kernel.ModeProbeMemSX {
		ldxStart = c.probeMemCheck(in, dst, src)
	}
	if mode == kernel.ModeMemSX || mode == kernel.ModeProbeMemSX {
		c.emitLdsx(size, dst, src, int32(r.Off))
	} else {
		c.emitLdx(size, dst, src, int32(r.Off))
	}
	if ldxStart >= 0 {
		// populate the jump over the load the check emitted
		c.code[ldxStart-1-c.skip] = byte(c.pos() - ldxStart)
	}
	return nil
}

// probeMemCheck emits the check in front of a BPF_PROBE_MEM load that
// src + off is a kernel address (the load itself is covered by an
// exception table entry, which is not part of the image). It returns where
// the load starts (-1 without a check): the byte before it is the offset of
// "jmp byte_after_ldx", patched once the load is emitted.
func (c *ctx) probeMemCheck(in *kernel.Insn, dst, src int) int {
	off := int64(in.Raw.Off)
	switch c.v.probeMem {
	case 1:
		// 5.15-6.1: src + off >= TASK_SIZE_MAX + PAGE_SIZE, and no carry.
		abs := off
		if abs < 0 {
			abs = -abs
		}
		limit := c.taskSizeMax() + pageSize + uint64(abs)
		c.emit2(add1mod(0x48, auxReg), add1reg(0xB8, auxReg)) // movabsq r11, limit
		c.emit32(int32(uint32(limit)))
		c.emit32(int32(uint32(limit >> 32)))
		c.maybeEmitMod(src, auxReg, true)
		c.emit2(0x39, add2reg(0xC0, src, auxReg)) // cmp src_reg, r11
		c.emit2(jB, 0)                            // if unsigned '<' goto end_of_jmp2
		endOfJmp1 := c.pos()
		c.emitMovReg(true, auxReg, src) // mov r11, src_reg
		c.maybeEmit1Mod(auxReg, true)
		c.emit2(0x81, add1reg(0xC0, auxReg)) // add r11, insn->off
		c.emit32(int32(off))
		c.emit2(0x73, 0) // jnc start_of_ldx
		endOfJmp2 := c.pos()
		c.emitMovImm32(false, dst, 0) // xor dst_reg, dst_reg
		c.emit2(0xEB, 0)              // jmp byte_after_ldx
		c.code[endOfJmp1-1-c.skip] = byte(endOfJmp2 - endOfJmp1)
		c.code[endOfJmp2-1-c.skip] = byte(c.pos() - endOfJmp2)
		return c.pos()
	case 2:
		// 6.8+: TASK_SIZE_MAX + PAGE_SIZE < src + off < VSYSCALL_ADDR.
		limit := c.taskSizeMax() + pageSize - vsyscallAddr
		c.emitMovImm64(regAX, vsyscallAddr) // movabsq r10, VSYSCALL_ADDR
		c.emitMov(auxReg, src)              // mov r11, src_reg
		if off != 0 {
			c.maybeEmit1Mod(auxReg, true)
			c.emit2(0x81, add1reg(0xC0, auxReg)) // add r11, insn->off
			c.emit32(int32(off))
		}
		c.maybeEmitMod(auxReg, regAX, true)
		c.emit2(0x29, add2reg(0xC0, auxReg, regAX)) // sub r11, r10
		c.emitMovImm64(regAX, limit)                // movabsq r10, limit
		c.maybeEmitMod(auxReg, regAX, true)
		c.emit2(0x39, add2reg(0xC0, auxReg, regAX)) // cmp r10, r11
		c.emit2(jA, 0)                              // if unsigned '>', goto load
		endOfJmp := c.pos()
		c.emitMovImm32(false, dst, 0) // xor dst_reg, dst_reg
		c.emit2(0xEB, 0)              // jmp byte_after_ldx
		c.code[endOfJmp-1-c.skip] = byte(c.pos() - endOfJmp)
		return c.pos()
	}
	return -1
}

const (
	pageSize     = 0x1000
	vsyscallAddr = 0xffffffffff600000 // VSYSCALL_ADDR
)

// taskSizeMax is TASK_SIZE_MAX: (1 << __VIRTUAL_MASK_SHIFT) - PAGE_SIZE,
// the shift 56 with 5-level paging, else 47.
func (c *ctx) taskSizeMax() uint64 {
	if c.cfg.LA57 {
		return 1<<56 - pageSize
	}
	return 1<<47 - pageSize
}

// st translates BPF_ST: stores of an immediate, and the speculation
// barrier.
func (c *ctx) st(in *kernel.Insn) error {
	r := &in.Raw
	dst := int(r.Dst)
	if r.Code == kernel.CodeNOSPEC {
		if !c.v.nospec {
			return c.unknown(in, "BPF_NOSPEC is not in this kernel's JIT")
		}
		c.emit3(0x0F, 0xAE, 0xE8) // lfence
		return nil
	}
	switch r.Mode() {
	case kernel.ModeMem:
	case kernel.ModeProbeMem32:
		if c.v.cpuv4 {
			return c.errorf(in, "BPF_PROBE_MEM32: arena accesses (r12 = kern_vm_start) are not modelled")
		}
		return c.unknown(in, "")
	default:
		return c.unknown(in, "")
	}
	var immBytes int
	switch r.Size() {
	case kernel.SizeB:
		if isEreg(dst) {
			c.emit2(0x41, 0xC6)
		} else {
			c.emit1(0xC6)
		}
		immBytes = 1
	case kernel.SizeH:
		if isEreg(dst) {
			c.emit3(0x66, 0x41, 0xC7)
		} else {
			c.emit2(0x66, 0xC7)
		}
		immBytes = 2
	case kernel.SizeW:
		if isEreg(dst) {
			c.emit2(0x41, 0xC7)
		} else {
			c.emit1(0xC7)
		}
		immBytes = 4
	case kernel.SizeDW:
		c.emit2(add1mod(0x48, dst), 0xC7)
		immBytes = 4 // imm32, sign-extended
	}
	// mov size ptr [dst + off], imm
	if isImm8(int64(r.Off)) {
		c.emit2(add1reg(0x40, dst), byte(r.Off))
	} else {
		c.emit1(add1reg(0x80, dst))
		c.emit32(int32(r.Off))
	}
	u := uint32(r.Imm)
	for k := 0; k < immBytes; k++ {
		c.emit1(byte(u >> (8 * k)))
	}
	return nil
}

// stx translates BPF_STX: stores of a register and the atomics.
func (c *ctx) stx(in *kernel.Insn) error {
	r := &in.Raw
	dst, src := int(r.Dst), int(r.Src)
	switch r.Mode() {
	case kernel.ModeMem:
		c.emitStx(r.Size(), dst, src, int32(r.Off))
		return nil
	case kernel.ModeAtomic:
		return c.atomic(in)
	case kernel.ModeProbeMem32, kernel.ModeProbeAtomic:
		if c.v.cpuv4 {
			return c.errorf(in, "arena access (r12 = kern_vm_start) is not modelled")
		}
	}
	return c.unknown(in, "")
}

// atomic translates BPF_STX | BPF_ATOMIC: 5.10's BPF_XADD; the 5.12+
// read-modify-write atomics (a cmpxchg loop for and/or/xor with fetch);
// 6.15's load-acquire and store-release.
func (c *ctx) atomic(in *kernel.Insn) error {
	r := &in.Raw
	dst, src := int(r.Dst), int(r.Src)
	size := r.Size()
	off := int32(r.Off)
	op := r.Imm
	loadStore := c.v.loadAcqStoreRel && (op == kernel.AtomicLoadAcq || op == kernel.AtomicStoreRel)
	if size == kernel.SizeB || size == kernel.SizeH {
		if !c.v.loadAcqStoreRel {
			return c.unknown(in, "")
		}
		if !loadStore {
			return c.errorf(in, "1- and 2-byte RMW atomics are not supported")
		}
	}
	if !c.v.atomics {
		// 5.10: BPF_STX | BPF_XADD; the verifier rejects any other imm.
		if op != kernel.OpADD {
			return c.unknown(in, fmt.Sprintf("atomic op %#x: 5.10 only has BPF_XADD", op))
		}
		return c.emitAtomic(in, kernel.OpADD, dst, src, off, size)
	}
	switch {
	case op == kernel.OpAND|kernel.AtomicFetch, op == kernel.OpOR|kernel.AtomicFetch, op == kernel.OpXOR|kernel.AtomicFetch:
		// Can't be one x86 instruction: a cmpxchg loop.
		is64 := size == kernel.SizeDW
		realSrc, realDst := src, dst
		c.emitMovReg(true, regAX, r0) // mov r10, rax: cmpxchg needs rax
		if src == r0 {
			realSrc = regAX
		}
		if dst == r0 {
			realDst = regAX
		}
		branchTarget := c.pos()
		c.emitLdx(size, r0, realDst, off) // load the old value
		c.emitMovReg(is64, auxReg, r0)    // the operation, in r11
		c.maybeEmitMod(auxReg, realSrc, is64)
		c.emit2(aluOpcode(uint8(op&0xf0)), add2reg(0xC0, auxReg, realSrc))
		if err := c.emitAtomic(in, kernel.AtomicCmpXchg, realDst, auxReg, off, size); err != nil {
			return err
		}
		c.emit2(jNE, byte(-(c.pos()-branchTarget)-2)) // jne: lost the race, retry
		c.emitMovReg(is64, realSrc, r0)               // the pre-modification value
		c.emitMovReg(true, r0, regAX)                 // restore R0
		return nil
	case loadStore:
		if op == kernel.AtomicLoadAcq {
			c.emitLdx(size, dst, src, off) // dst = smp_load_acquire(src + off)
		} else {
			c.emitStx(size, dst, src, off) // smp_store_release(dst + off, src)
		}
		return nil
	}
	return c.emitAtomic(in, op, dst, src, off, size)
}

// emitAtomic models emit_atomic (emit_atomic_rmw): lock-prefixed
// read-modify-write of *(dst + off).
func (c *ctx) emitAtomic(in *kernel.Insn, op int32, dst, src int, off int32, size uint8) error {
	c.emit1(0xF0) // lock prefix
	c.maybeEmitMod(dst, src, size == kernel.SizeDW)
	switch op {
	case kernel.OpADD, kernel.OpAND, kernel.OpOR, kernel.OpXOR:
		c.emit1(aluOpcode(uint8(op))) // lock *(u32/u64*)(dst_reg + off) <op>= src_reg
	case kernel.OpADD | kernel.AtomicFetch:
		c.emit2(0x0F, 0xC1) // src_reg = atomic_fetch_add(dst_reg + off, src_reg)
	case kernel.AtomicXchg:
		c.emit1(0x87) // src_reg = atomic_xchg(dst_reg + off, src_reg)
	case kernel.AtomicCmpXchg:
		c.emit2(0x0F, 0xB1) // r0 = atomic_cmpxchg(dst_reg + off, r0, src_reg)
	default:
		return c.errorf(in, "unknown atomic opcode %02x", op)
	}
	c.emitInsnSuffix(dst, src, off)
	return nil
}
