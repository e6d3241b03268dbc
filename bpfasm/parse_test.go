// SPDX-License-Identifier: GPL-2.0-only

package bpfasm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// same reports whether two instructions agree in every field Parse sets.
func same(a, b asm.Instruction) bool {
	return sameFields(a, b) && a.Reference() == b.Reference() && a.Symbol() == b.Symbol()
}

func show(ins asm.Instruction) string {
	return fmt.Sprintf("{%v op=%#x dst=%d src=%d off=%d imm=%d ref=%q sym=%q}",
		ins, uint32(ins.OpCode), ins.Dst, ins.Src, ins.Offset, ins.Constant, ins.Reference(), ins.Symbol())
}

func showAll(insns asm.Instructions) string {
	s := "["
	for i, ins := range insns {
		if i > 0 {
			s += " "
		}
		s += show(ins)
	}
	return s + "]"
}

func jmp(op asm.JumpOp, w bool, dst asm.Register, src any, off int16) asm.Instruction {
	cls := asm.JumpClass
	if w {
		cls = asm.Jump32Class
	}
	ins := asm.Instruction{Dst: dst, Offset: off}
	switch v := src.(type) {
	case asm.Register:
		ins.OpCode = asm.OpCode(cls).SetJumpOp(op).SetSource(asm.RegSource)
		ins.Src = v
	case int:
		ins.OpCode = asm.OpCode(cls).SetJumpOp(op).SetSource(asm.ImmSource)
		ins.Constant = int64(v)
	}
	return ins
}

func ja(off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource), Offset: off}
}

func gotol(imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.Jump32Class).SetJumpOp(asm.Ja), Constant: imm}
}

func mayGoto(off int16) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.JCOND), Src: asm.PseudoMayGoto, Offset: off}
}

func neg(dst asm.Register, w bool) asm.Instruction {
	op := asm.Neg.Op(asm.ImmSource)
	if w {
		op = asm.Neg.Op32(asm.ImmSource)
	}
	return asm.Instruction{OpCode: op, Dst: dst}
}

func pseudoCall(imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoCall, Constant: imm}
}

func kfuncCall(imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Src: asm.PseudoKfuncCall, Constant: imm}
}

func storeImm(dst asm.Register, off int16, imm int64, size asm.Size) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(size), Dst: dst, Offset: off, Constant: imm}
}

type parseCase struct {
	src  string
	want asm.Instruction
}

var parseCases = []parseCase{
	// ALU64.
	{"r1 = r2", asm.Mov.Reg(asm.R1, asm.R2)},
	{"r1 = 5", asm.Mov.Imm(asm.R1, 5)},
	{"r1 = -1", asm.Mov.Imm(asm.R1, -1)},
	{"r1 = 0x7fffffff", asm.Mov.Imm(asm.R1, 0x7fffffff)},
	{"r1 = -2147483648", asm.Mov.Imm(asm.R1, -2147483648)},
	{"r1 += r2", asm.Add.Reg(asm.R1, asm.R2)},
	{"r1 -= 3", asm.Sub.Imm(asm.R1, 3)},
	{"r1 *= r2", asm.Mul.Reg(asm.R1, asm.R2)},
	{"r1 /= 2", asm.Div.Imm(asm.R1, 2)},
	{"r1 %= r3", asm.Mod.Reg(asm.R1, asm.R3)},
	{"r1 &= 0xff", asm.And.Imm(asm.R1, 0xff)},
	{"r1 |= r2", asm.Or.Reg(asm.R1, asm.R2)},
	{"r1 ^= -1", asm.Xor.Imm(asm.R1, -1)},
	{"r1 <<= 13", asm.LSh.Imm(asm.R1, 13)},
	{"r1 >>= r2", asm.RSh.Reg(asm.R1, asm.R2)},
	{"r3 s>>= 63", asm.ArSh.Imm(asm.R3, 63)},
	{"r1 s>>= r2", asm.ArSh.Reg(asm.R1, asm.R2)},
	{"r1 += 0x10", asm.Add.Imm(asm.R1, 16)},
	{"r2 += -4", asm.Add.Imm(asm.R2, -4)},
	{"r1 = -r1", neg(asm.R1, false)},
	{"r10 = r1", asm.Mov.Reg(asm.R10, asm.R1)},
	{"r1=r2", asm.Mov.Reg(asm.R1, asm.R2)},
	// ALU32.
	{"w2 = 0", asm.Mov.Imm32(asm.R2, 0)},
	{"w1 += 1", asm.Add.Imm32(asm.R1, 1)},
	{"w1 = w2", asm.Mov.Reg32(asm.R1, asm.R2)},
	{"w1 = -w1", neg(asm.R1, true)},
	{"w1 -= w3", asm.Sub.Reg32(asm.R1, asm.R3)},
	{"w1 s>>= 2", asm.ArSh.Imm32(asm.R1, 2)},
	{"w3 *= 1103515245", asm.Mul.Imm32(asm.R3, 1103515245)},
	{"w1 = 0xffffffff", asm.Mov.Imm32(asm.R1, -1)},
	{"w1 &= 0x80000000", asm.And.Imm32(asm.R1, -2147483648)},
	// cpuv4 signed division, sign-extending moves, byte swaps.
	{"r1 s/= r2", asm.SDiv.Reg(asm.R1, asm.R2)},
	{"r1 s%= 5", asm.SMod.Imm(asm.R1, 5)},
	{"w1 s/= w2", asm.SDiv.Reg32(asm.R1, asm.R2)},
	{"w1 s%= 3", asm.SMod.Imm32(asm.R1, 3)},
	{"r1 = (s8)r2", asm.MovSX8.Reg(asm.R1, asm.R2)},
	{"r1 = (s16)r2", asm.MovSX16.Reg(asm.R1, asm.R2)},
	{"r1 = (s32)r2", asm.MovSX32.Reg(asm.R1, asm.R2)},
	{"r1 = (s32) r2", asm.MovSX32.Reg(asm.R1, asm.R2)},
	{"w1 = (s8)w2", asm.MovSX8.Reg32(asm.R1, asm.R2)},
	{"w1 = (s16)w2", asm.MovSX16.Reg32(asm.R1, asm.R2)},
	{"r1 = be16 r1", asm.HostTo(asm.BE, asm.R1, asm.Half)},
	{"r1 = be32 r1", asm.HostTo(asm.BE, asm.R1, asm.Word)},
	{"r2 = be64 r2", asm.HostTo(asm.BE, asm.R2, asm.DWord)},
	{"r1 = le16 r1", asm.HostTo(asm.LE, asm.R1, asm.Half)},
	{"r1 = le32 r1", asm.HostTo(asm.LE, asm.R1, asm.Word)},
	{"r1 = le64 r1", asm.HostTo(asm.LE, asm.R1, asm.DWord)},
	{"w1 = be16 w1", asm.HostTo(asm.BE, asm.R1, asm.Half)},
	{"r1 = bswap16 r1", asm.BSwap(asm.R1, asm.Half)},
	{"r1 = bswap32 r1", asm.BSwap(asm.R1, asm.Word)},
	{"r1 = bswap64 r1", asm.BSwap(asm.R1, asm.DWord)},
	// 64-bit immediates.
	{"r1 = 0x123456789 ll", asm.LoadImm(asm.R1, 0x123456789, asm.DWord)},
	{"r1 = 0x123456789", asm.LoadImm(asm.R1, 0x123456789, asm.DWord)},
	{"r2 = 4886718345 ll", asm.LoadImm(asm.R2, 4886718345, asm.DWord)},
	{"r3 = -7046029254386353131 ll", asm.LoadImm(asm.R3, -7046029254386353131, asm.DWord)},
	{"r1 = 5 ll", asm.LoadImm(asm.R1, 5, asm.DWord)},
	{"r1 = 0 ll", asm.LoadImm(asm.R1, 0, asm.DWord)},
	{"r1 = 0xffffffffffffffff ll", asm.LoadImm(asm.R1, -1, asm.DWord)},
	{"r1 = 18446744073709551615 ll", asm.LoadImm(asm.R1, -1, asm.DWord)},
	{"r1 = -9223372036854775808 ll", asm.LoadImm(asm.R1, -1<<63, asm.DWord)},
	{"r1 = 0x80000000", asm.LoadImm(asm.R1, 0x80000000, asm.DWord)},
	{"r1 = 0xffffffff", asm.LoadImm(asm.R1, 0xffffffff, asm.DWord)},
	{"r1 = -2147483649", asm.LoadImm(asm.R1, -2147483649, asm.DWord)},
	// Map loads.
	{"r2 = map[jmp_table]", asm.LoadMapPtr(asm.R2, 0).WithReference("jmp_table")},
	{"r7 = map[jmp_table] ll", asm.LoadMapPtr(asm.R7, 0).WithReference("jmp_table")},
	{"r1 = map[id:5]", asm.LoadMapPtr(asm.R1, 0).WithReference("id:5")},
	{"r1 = map[.bss] + 4", asm.LoadMapValue(asm.R1, 0, 4).WithReference(".bss")},
	{"r1 = map[.bss][0]+4", asm.LoadMapValue(asm.R1, 0, 4).WithReference(".bss")},
	{"r1 = map[.bss][0]", asm.LoadMapValue(asm.R1, 0, 0).WithReference(".bss")},
	{"r1 = map[id:5][0]+4", asm.LoadMapValue(asm.R1, 0, 4).WithReference("id:5")},
	{"r1 = map_value(.bss) + 4", asm.LoadMapValue(asm.R1, 0, 4).WithReference(".bss")},
	{"r1 = map_value(.rodata)", asm.LoadMapValue(asm.R1, 0, 0).WithReference(".rodata")},
	{"r1 = map_value(.data) + 0x10 ll", asm.LoadMapValue(asm.R1, 0, 16).WithReference(".data")},
	{"r1 = map[fd:3]", asm.LoadMapPtr(asm.R1, 3)},
	{"r1 = map[fd:3][0]+8", asm.LoadMapValue(asm.R1, 3, 8)},
	{"r1 = map[.bss] + 4294967295", asm.LoadMapValue(asm.R1, 0, 4294967295).WithReference(".bss")},
	// Memory.
	{"r0 = *(u32 *)(r10 - 4)", asm.LoadMem(asm.R0, asm.R10, -4, asm.Word)},
	{"r6 = *(u64 *)(r7 + 0)", asm.LoadMem(asm.R6, asm.R7, 0, asm.DWord)},
	{"r8 = *(u16 *)(r6 + 10)", asm.LoadMem(asm.R8, asm.R6, 10, asm.Half)},
	{"r1 = *(u8 *)(r6 + 3)", asm.LoadMem(asm.R1, asm.R6, 3, asm.Byte)},
	{"r1 = *(u64 *)(r2 +8)", asm.LoadMem(asm.R1, asm.R2, 8, asm.DWord)},
	{"r1 = *(u16 *)(r2 -2)", asm.LoadMem(asm.R1, asm.R2, -2, asm.Half)},
	{"r1 = *(u16 *)(r2 + 0x10)", asm.LoadMem(asm.R1, asm.R2, 16, asm.Half)},
	{"r1 = *(u16 *)(r2 - 32768)", asm.LoadMem(asm.R1, asm.R2, -32768, asm.Half)},
	{"r1 = *(u16 *)(r2 + 32767)", asm.LoadMem(asm.R1, asm.R2, 32767, asm.Half)},
	{"r0 = *(u32 *)(r1)", asm.LoadMem(asm.R0, asm.R1, 0, asm.Word)},
	{"r1 = *(u32*)(r2+4)", asm.LoadMem(asm.R1, asm.R2, 4, asm.Word)},
	{"w1 = *(u8 *)(r2 + 3)", asm.LoadMem(asm.R1, asm.R2, 3, asm.Byte)},
	{"r1 = *(s8 *)(r2 + 0)", asm.LoadMemSX(asm.R1, asm.R2, 0, asm.Byte)},
	{"r1 = *(s16 *)(r2 - 6)", asm.LoadMemSX(asm.R1, asm.R2, -6, asm.Half)},
	{"r1 = *(s32 *)(r2 +0)", asm.LoadMemSX(asm.R1, asm.R2, 0, asm.Word)},
	{"*(u8 *)(r10 - 1) = r2", asm.StoreMem(asm.R10, -1, asm.R2, asm.Byte)},
	{"*(u16 *)(r1 + 0x10) = r3", asm.StoreMem(asm.R1, 16, asm.R3, asm.Half)},
	{"*(u32 *)(r10 - 4) = w1", asm.StoreMem(asm.R10, -4, asm.R1, asm.Word)},
	{"*(u64 *)(r10 -16) = r0", asm.StoreMem(asm.R10, -16, asm.R0, asm.DWord)},
	{"*(u32 *)(r1 + 0) = 5", storeImm(asm.R1, 0, 5, asm.Word)},
	{"*(u8 *)(r1 + 1) = -1", storeImm(asm.R1, 1, -1, asm.Byte)},
	{"*(u16 *)(r1 +2) = 0xffff", storeImm(asm.R1, 2, 0xffff, asm.Half)},
	{"*(u32 *)(r1 +2) = 0xffffffff", storeImm(asm.R1, 2, -1, asm.Word)},
	{"*(u64 *)(r10 - 8) = -1", storeImm(asm.R10, -8, -1, asm.DWord)},
	{"r0 = *(u8 *)skb[12]", asm.LoadAbs(12, asm.Byte)},
	{"r0 = *(u32 *)skb[0x10]", asm.LoadAbs(16, asm.Word)},
	{"r0 = *(u16 *)skb[r1 + 4]", asm.LoadInd(asm.R0, asm.R1, 4, asm.Half)},
	{"r0 = *(u16 *)skb[r1 - 4]", asm.LoadInd(asm.R0, asm.R1, -4, asm.Half)},
	{"r0 = *(u8 *)skb[r3]", asm.LoadInd(asm.R0, asm.R3, 0, asm.Byte)},
	// Atomics.
	{"lock *(u32 *)(r1 + 0) += r2", asm.AddAtomic.Mem(asm.R1, asm.R2, asm.Word, 0)},
	{"lock *(u64 *)(r1 + 8) &= r2", asm.AndAtomic.Mem(asm.R1, asm.R2, asm.DWord, 8)},
	{"lock *(u64 *)(r1 - 8) |= r2", asm.OrAtomic.Mem(asm.R1, asm.R2, asm.DWord, -8)},
	{"lock *(u32 *)(r1 +4) ^= r2", asm.XorAtomic.Mem(asm.R1, asm.R2, asm.Word, 4)},
	{"lock *(u32 *)(r2 + 0) += w5", asm.AddAtomic.Mem(asm.R2, asm.R5, asm.Word, 0)},
	{"r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)", asm.FetchAdd.Mem(asm.R1, asm.R2, asm.DWord, 0)},
	{"w2 = atomic_fetch_and((u32 *)(r1 + 4), w2)", asm.FetchAnd.Mem(asm.R1, asm.R2, asm.Word, 4)},
	{"r1 = atomic_fetch_or((u64 *)(r2 + 0), r1)", asm.FetchOr.Mem(asm.R2, asm.R1, asm.DWord, 0)},
	{"r3 = atomic_fetch_xor((u32 *)(r1 -8), r3)", asm.FetchXor.Mem(asm.R1, asm.R3, asm.Word, -8)},
	{"r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)", asm.FetchAdd.Mem(asm.R1, asm.R2, asm.DWord, 0)},
	{"r2 = xchg_64(r1 + 0, r2)", asm.Xchg.Mem(asm.R1, asm.R2, asm.DWord, 0)},
	{"r3 = xchg_64(r0 + 16, r3)", asm.Xchg.Mem(asm.R0, asm.R3, asm.DWord, 16)},
	{"w2 = xchg32_32(r1 + 0, w2)", asm.Xchg.Mem(asm.R1, asm.R2, asm.Word, 0)},
	{"r2 = atomic64_xchg((u64 *)(r1 +0), r2)", asm.Xchg.Mem(asm.R1, asm.R2, asm.DWord, 0)},
	{"r2 = atomic_xchg((u32 *)(r1 -4), r2)", asm.Xchg.Mem(asm.R1, asm.R2, asm.Word, -4)},
	{"r0 = cmpxchg_64(r1 + 0, r0, r2)", asm.CmpXchg.Mem(asm.R1, asm.R2, asm.DWord, 0)},
	{"w0 = cmpxchg32_32(r1 + 0, w0, w2)", asm.CmpXchg.Mem(asm.R1, asm.R2, asm.Word, 0)},
	{"r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2)", asm.CmpXchg.Mem(asm.R1, asm.R2, asm.DWord, 0)},
	{"r0 = atomic_cmpxchg((u32 *)(r1 +8), r0, r2)", asm.CmpXchg.Mem(asm.R1, asm.R2, asm.Word, 8)},
	{"w0 = load_acquire((u8 *)(r1 + 0))", asm.LoadAcquire(asm.R0, asm.R1, asm.Byte, 0)},
	{"r0 = load_acquire((u64 *)(r1 + 8))", asm.LoadAcquire(asm.R0, asm.R1, asm.DWord, 8)},
	{"store_release((u16 *)(r1 + 0), w2)", asm.StoreRelease(asm.R1, asm.R2, asm.Half, 0)},
	{"store_release((u64 *)(r1 - 8), r2)", asm.StoreRelease(asm.R1, asm.R2, asm.DWord, -8)},
	// Jumps.
	{"goto +3", ja(3)},
	{"goto -2", ja(-2)},
	{"goto +0", ja(0)},
	{"goto pc+3", ja(3)},
	{"goto pc-1", ja(-1)},
	{"goto 7", ja(7)},
	{"goto -14 <LBB0_1>", ja(-14).WithReference("LBB0_1")},
	{"if r1 == r2 goto +5", jmp(asm.JEq, false, asm.R1, asm.R2, 5)},
	{"if r1 != 3 goto -1", jmp(asm.JNE, false, asm.R1, 3, -1)},
	{"if r1 > r2 goto +1", jmp(asm.JGT, false, asm.R1, asm.R2, 1)},
	{"if r2 >= r3 goto +5", jmp(asm.JGE, false, asm.R2, asm.R3, 5)},
	{"if r1 < 10 goto +1", jmp(asm.JLT, false, asm.R1, 10, 1)},
	{"if r1 <= r9 goto +1", jmp(asm.JLE, false, asm.R1, asm.R9, 1)},
	{"if r1 s> -5 goto +1", jmp(asm.JSGT, false, asm.R1, -5, 1)},
	{"if r1 s>= r2 goto +1", jmp(asm.JSGE, false, asm.R1, asm.R2, 1)},
	{"if r1 s< 0 goto +1", jmp(asm.JSLT, false, asm.R1, 0, 1)},
	{"if r1 s<= r2 goto +1", jmp(asm.JSLE, false, asm.R1, asm.R2, 1)},
	{"if r1 & 0x4 goto +1", jmp(asm.JSet, false, asm.R1, 4, 1)},
	{"if r1 & r2 goto +1", jmp(asm.JSet, false, asm.R1, asm.R2, 1)},
	{"if w1 == 0 goto +1", jmp(asm.JEq, true, asm.R1, 0, 1)},
	{"if w1 != w2 goto +2", jmp(asm.JNE, true, asm.R1, asm.R2, 2)},
	{"if w1 s< -1 goto -3", jmp(asm.JSLT, true, asm.R1, -1, -3)},
	{"if w9 s> 7 goto +1 <LBB1_6>", jmp(asm.JSGT, true, asm.R9, 7, 1).WithReference("LBB1_6")},
	{"if r0 == 0 goto +45 <LBB1_6>", jmp(asm.JEq, false, asm.R0, 0, 45).WithReference("LBB1_6")},
	{"if r1 == 0x5 goto pc+3", jmp(asm.JEq, false, asm.R1, 5, 3)},
	{"if r1 == 0xffffffff goto pc+1", jmp(asm.JEq, false, asm.R1, -1, 1)},
	{"if w1 > 0x80000000 goto pc-4", jmp(asm.JGT, true, asm.R1, -2147483648, -4)},
	{"if r1 != r2 goto pc-32768", jmp(asm.JNE, false, asm.R1, asm.R2, -32768)},
	{"gotol +70000", gotol(70000)},
	{"gotol -1", gotol(-1)},
	{"gotol pc+5", gotol(5)},
	{"may_goto +5", mayGoto(5)},
	{"may_goto pc-2", mayGoto(-2)},
	// Calls and exit.
	{"call 1", asm.FnMapLookupElem.Call()},
	{"call bpf_map_lookup_elem", asm.FnMapLookupElem.Call()},
	{"call bpf_tail_call", asm.FnTailCall.Call()},
	{"call bpf_ktime_get_ns", asm.FnKtimeGetNs.Call()},
	{"call bpf_get_prandom_u32", asm.FnGetPrandomU32.Call()},
	{"call bpf_l3_csum_replace", asm.FnL3CsumReplace.Call()},
	{"call bpf_tail_call#12", asm.FnTailCall.Call()},
	{"call bpf_redirect#23", asm.FnRedirect.Call()},
	{"call unknown#250", asm.BuiltinFunc(250).Call()},
	{"call bpf_future_helper#300", asm.BuiltinFunc(300).Call()},
	{"call 300", asm.BuiltinFunc(300).Call()},
	{"call -1", asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Call), Constant: -1}},
	{"call pc+2", pseudoCall(2)},
	{"call pc-5", pseudoCall(-5)},
	{"call pc+2 <subprog>", pseudoCall(2).WithReference("subprog")},
	{"call pc+2 (subprog 1)", pseudoCall(2)},
	{"call pc+2#bpf_prog_0123456789abcdef_sub", pseudoCall(2)},
	{"call kernel-function#1234", kfuncCall(1234)},
	{"call kernel-function#-1 <bpf_obj_new_impl>", kfuncCall(-1).WithReference("bpf_obj_new_impl")},
	{"exit", asm.Return()},
	// Pasted prefixes and comments.
	{"      3:\tb7 02 00 00 00 00 00 00\tr2 = 0", asm.Mov.Imm(asm.R2, 0)},
	{"       7:\t18 03 00 00 15 7c 4a 7f 00 00 00 00 b9 79 37 9e\tr3 = -7046029254386353131 ll", asm.LoadImm(asm.R3, -7046029254386353131, asm.DWord)},
	{"      3:\tr2 = 0", asm.Mov.Imm(asm.R2, 0)},
	{"   3: (b7) r2 = 0", asm.Mov.Imm(asm.R2, 0)},
	{"   4: (61) r0 = *(u32 *)(r10 -4)", asm.LoadMem(asm.R0, asm.R10, -4, asm.Word)},
	{"   5: (18) r1 = map[id:5][0]+4", asm.LoadMapValue(asm.R1, 0, 4).WithReference("id:5")},
	{"   6: (85) call bpf_tail_call#12", asm.FnTailCall.Call()},
	{"   7: (85) call pc+2", pseudoCall(2)},
	{"   8: (05) goto pc-3", ja(-3)},
	{"   9: (18) r1 = 0x5", asm.LoadImm(asm.R1, 5, asm.DWord)},
	{"   9: (18) r1 = 0xffff8881234d6000", asm.LoadImm(asm.R1, -0x777edcb2a000, asm.DWord)},
	{"  10: (b7) r1 = 5", asm.Mov.Imm(asm.R1, 5)},
	{"  82:\t85 10 00 00 ff ff ff ff\tcall -1", pseudoCall(-1)},
	{"  82:\t85 20 00 00 07 00 00 00\tcall 7", kfuncCall(7)},
	{"  82:\t85 00 00 00 07 00 00 00\tcall 7", asm.FnGetPrandomU32.Call()},
	{"  2:\tc3 21 00 00 50 00 00 00\t<unknown>", asm.AndAtomic.Mem(asm.R1, asm.R2, asm.Word, 0)},
	{"  8:\tc3 21 08 00 e1 00 00 00\t<unknown>", asm.Xchg.Mem(asm.R1, asm.R2, asm.Word, 8)},
	{"  9:\tbf 21 08 00 00 00 00 00\t<unknown>", asm.MovSX8.Reg(asm.R1, asm.R2)},
	{"r2 = 0 ; comment", asm.Mov.Imm(asm.R2, 0)},
	{"r2 = 0 // comment", asm.Mov.Imm(asm.R2, 0)},
	{"r2 = 0 # comment", asm.Mov.Imm(asm.R2, 0)},
	{"\t\tr2 = 0\t\r", asm.Mov.Imm(asm.R2, 0)},
	{"; header\n# another\n// and another\n\nr2 = 0\n\n", asm.Mov.Imm(asm.R2, 0)},
	{"l1: r0 = 0", asm.Mov.Imm(asm.R0, 0).WithSymbol("l1")},
	{"<func>:\nr0 = 0", asm.Mov.Imm(asm.R0, 0).WithSymbol("func")},
	{"0000000000000000 <func>:\nr0 = 0", asm.Mov.Imm(asm.R0, 0).WithSymbol("func")},
	{"int xdp_prog(struct xdp_md * ctx):\n; return XDP_PASS;\n   0: (b7) r0 = 2", asm.Mov.Imm(asm.R0, 2).WithSymbol("xdp_prog")},
	{"prog.o:\tfile format elf64-bpf\n\nDisassembly of section xdp:\n\n0000000000000000 <entry>:\n       0:\tbf 16 00 00 00 00 00 00\tr6 = r1\n...", asm.Mov.Reg(asm.R6, asm.R1).WithSymbol("entry")},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		got, err := Parse("test.s", 1, tc.src)
		if err != nil {
			t.Errorf("Parse(%q) = %v, want %v", tc.src, err, show(tc.want))
			continue
		}
		if len(got) != 1 || !same(got[0], tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.src, showAll(got), show(tc.want))
		}
	}
}

type errCase struct {
	src  string
	want string // Error() with file "scen.txt" and firstLine 10
}

var errCases = []errCase{
	{"r11 = 0", `scen.txt:10: invalid register "r11"`},
	{"   5: (b7) r12 = 0", `scen.txt:10: invalid register "r12"`},
	{"r01 = 0", `scen.txt:10: invalid register "r01"`},
	{"w10 = r1", `scen.txt:10: expected w register, found "r1"`},
	{"r1 = w2", `scen.txt:10: expected r register, found "w2"`},
	{"r1 += w2", `scen.txt:10: expected r register, found "w2"`},
	{"if r1 == w2 goto +1", `scen.txt:10: expected r register, found "w2"`},
	{"r1 = *(u32 *)(w2 + 0)", `scen.txt:10: expected r register, found "w2"`},
	{"frob r1", `scen.txt:10: unknown instruction "frob"`},
	{"r1 frob r2", `scen.txt:10: expected assignment operator, found "frob"`},
	{"r1 == r2", `scen.txt:10: expected assignment operator, found "=="`},
	{"w1 = 0x100000000", `scen.txt:10: immediate 0x100000000 out of 32-bit range`},
	{"r1 += 2147483648", `scen.txt:10: immediate 2147483648 out of 32-bit range`},
	{"r1 += -2147483649", `scen.txt:10: immediate -2147483649 out of 32-bit range`},
	{"r1 &= 0xffffffff", `scen.txt:10: immediate 0xffffffff out of 32-bit range`},
	{"*(u64 *)(r1 + 0) = 0xffffffff", `scen.txt:10: immediate 0xffffffff out of 32-bit range`},
	{"if r1 == 4294967296 goto +1", `scen.txt:10: immediate 4294967296 out of 32-bit range`},
	{"call 2147483648", `scen.txt:10: immediate 2147483648 out of 32-bit range`},
	{"r1 = 99999999999999999999 ll", `scen.txt:10: immediate 99999999999999999999 out of 64-bit range`},
	{"r1 = -9223372036854775809 ll", `scen.txt:10: immediate -9223372036854775809 out of 64-bit range`},
	{"*(u32 *)(r1 + 32768) = r2", `scen.txt:10: offset 32768 out of 16-bit range`},
	{"r1 = *(u32 *)(r1 - 32769)", `scen.txt:10: offset -32769 out of 16-bit range`},
	{"goto +40000", `scen.txt:10: offset 40000 out of 16-bit range`},
	{"r1 = map[.bss] + 4294967296", `scen.txt:10: map value offset 4294967296 out of range`},
	{"r1 = 08x", `scen.txt:10: invalid number "08x"`},
	{"r1 = 1 2", `scen.txt:10: unexpected "2"`},
	{"exit now", `scen.txt:10: unexpected "now"`},
	{"r1 @ 2", `scen.txt:10: unexpected character '@'`},
	{"goto", `scen.txt:10: expected jump target, found end of line`},
	{"if r1 = r2 goto +1", `scen.txt:10: expected comparison operator, found "="`},
	{"if r1 == r2 +1", `scen.txt:10: expected "goto", found "+"`},
	{"call", `scen.txt:10: expected helper, function or offset, found end of line`},
	{"r1 = be16 r2", `scen.txt:10: be16 source "r2" must be the destination register`},
	{"r1 = -r2", `scen.txt:10: negation source "r2" must be the destination register`},
	{"w1 = (s32)w2", `scen.txt:10: (s32) sign extension needs r registers`},
	{"r1 = (u8)r2", `scen.txt:10: expected s8, s16 or s32, found "u8"`},
	{"w1 = 1 ll", `scen.txt:10: 64-bit immediate load needs an r register`},
	{"w1 = map[m]", `scen.txt:10: 64-bit immediate load needs an r register`},
	{"r1 = map[m", `scen.txt:10: missing "]"`},
	{"r1 = map[m][1]", `scen.txt:10: map value key must be 0`},
	{"r1 = map[fd:x]", `scen.txt:10: invalid map fd "x"`},
	{"r1 = *(u128 *)(r2 + 0)", `scen.txt:10: expected size (u8, u16, u32, u64), found "u128"`},
	{"*(s8 *)(r2 + 0) = r1", `scen.txt:10: expected size (u8, u16, u32, u64), found "s8"`},
	{"r1 = *(s64 *)(r2 + 0)", `scen.txt:10: expected size (u8, u16, u32, u64), found "s64"`},
	{"lock *(u8 *)(r1 + 0) += r2", `scen.txt:10: atomic operation needs size u32 or u64`},
	{"lock *(u32 *)(r1 + 0) -= r2", `scen.txt:10: expected +=, &=, |= or ^=, found "-="`},
	{"r2 = atomic_fetch_add((u64 *)(r1 + 0), r3)", `scen.txt:10: atomic_fetch_add result "r2" must be the source register`},
	{"r2 = atomic_fetch_sub((u64 *)(r1 + 0), r2)", `scen.txt:10: unknown operand "atomic_fetch_sub"`},
	{"r1 = cmpxchg_64(r1 + 0, r0, r2)", `scen.txt:10: cmpxchg compares and returns r0`},
	{"r1 = foo r1", `scen.txt:10: unknown operand "foo"`},
	{"r0 = *(s8 *)skb[0]", `scen.txt:10: packet loads cannot sign-extend`},
	{"  2:\t8f 11 00 00 00 00 00 00\t<unknown>", `scen.txt:10: cannot decode raw bytes of <unknown> instruction: unsupported encoding of "r1 = -r1"`},
	{"goto nowhere", `scen.txt:10: unknown label "nowhere"`},
	{"goto <nowhere>", `scen.txt:10: unknown label "nowhere"`},
	{"r0 = 0\nexit\ncall not_a_function", `scen.txt:12: unknown label "not_a_function"`},
	{"a:\nexit\na:\nexit", `scen.txt:12: duplicate label "a" (previous definition at line 10)`},
	{"a:\nb:\na:\nexit", `scen.txt:12: duplicate label "a" (previous definition at line 10)`},
	{"exit\nend:", `scen.txt:11: label "end" is not followed by an instruction`},
	{"r1:\nexit", `scen.txt:10: invalid label name "r1"`},
	{"exit\n\t\t0000000000000000:  R_BPF_64_64\tm[0]", `scen.txt:11: invalid relocation symbol "m[0]"`},
	{"\t\t0000000000000000:  R_BPF_64_64\tm", `scen.txt:10: relocation R_BPF_64_64 m does not follow an instruction`},
	{"Disassembly of section .text:\nexit\ncall 5\n\t\t0000000000000008:  R_BPF_64_32\t.text", `scen.txt:12: call target .text+48 has no label`},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range errCases {
		got, err := Parse("scen.txt", 10, tc.src)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error %q", tc.src, showAll(got), tc.want)
			continue
		}
		var perr *Error
		if !errors.As(err, &perr) {
			t.Errorf("Parse(%q) error %T is not *Error", tc.src, err)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%q) = %q, want %q", tc.src, err.Error(), tc.want)
		}
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Parse("dir/scenario.txt", 41, "r0 = 0\n\tr1 += r11\nexit")
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("Parse() error = %v, want *Error", err)
	}
	want := Error{File: "dir/scenario.txt", Line: 42, Col: 8, Msg: `invalid register "r11"`}
	if *perr != want {
		t.Errorf("Parse() error = %+v, want %+v", *perr, want)
	}
	if got := (&Error{Line: 3, Msg: "m"}).Error(); got != "3: m" {
		t.Errorf("Error{Line: 3}.Error() = %q, want %q", got, "3: m")
	}
}
