// SPDX-License-Identifier: GPL-2.0-only

// Package x86 is the x86-64 eBPF JIT, modelled on the Linux kernel's
// arch/x86/net/bpf_jit_comp.c as of 5.10, 6.1 and 6.18. The helpers in this file mirror the kernel's
// register table and REX/ModRM helpers (reg2hex, is_ereg, add_1mod,
// add_2mod, add_1reg, add_2reg); the emitters in insn.go keep the kernel's
// Intel-syntax comment on each sequence they produce.
package x86

import "github.com/jitscope/jitscope/kernel"

// Registers beyond the BPF ones, numbered as the kernel numbers them
// (include/linux/filter.h: BPF_REG_AX = MAX_BPF_REG, MAX_BPF_JIT_REG =
// MAX_BPF_REG + 1; arch/x86/net/bpf_jit_comp.c: AUX_REG, X86_REG_R9,
// X86_REG_R12).
const (
	r0     = 0
	r1     = 1
	r2     = 2
	r3     = 3
	r4     = 4
	r6     = 6
	r7     = 7
	r8     = 8
	r9     = 9
	fp     = 10
	regAX  = 11 // BPF_REG_AX: r10, constant blinding and the atomics' scratch
	auxReg = 13 // AUX_REG: r11
	regR9  = 14 // X86_REG_R9
	regR12 = 15 // X86_REG_R12
)

// reg2hex maps BPF registers to the low three bits of x86-64 registers
// (reg2hex[] of bpf_jit_comp.c); is_ereg adds the REX extension bit.
var reg2hex = [16]byte{
	r0:     0, // rax
	r1:     7, // rdi
	r2:     6, // rsi
	r3:     2, // rdx
	r4:     1, // rcx
	5:      0, // r8
	r6:     3, // rbx, callee saved
	r7:     5, // r13, callee saved
	r8:     6, // r14, callee saved
	r9:     7, // r15, callee saved
	fp:     5, // rbp, read only
	regAX:  2, // r10
	auxReg: 3, // r11
	regR9:  1, // r9
	regR12: 4, // r12
}

// RegNames gives the x86-64 name of each BPF register, for annotations.
var RegNames = map[int]string{
	0: "rax", 1: "rdi", 2: "rsi", 3: "rdx", 4: "rcx", 5: "r8",
	6: "rbx", 7: "r13", 8: "r14", 9: "r15", 10: "rbp",
}

// isEreg reports whether BPF register r maps to r8..r15, which need a REX
// extension bit (is_ereg).
func isEreg(r int) bool { return eregBit[uint8(r)] != 0 }

// eregBit is 1 for the registers is_ereg picks out (a table: which
// register an instruction names is data, and a branch on it mispredicts).
var eregBit = [256]uint8{5: 1, r7: 1, r8: 1, r9: 1, auxReg: 1, regR9: 1, regR12: 1, regAX: 1}

// isEreg8l reports whether the low byte of r needs a REX prefix
// (dil, sil, bpl, r8b..r15b): is_ereg_8l.
func isEreg8l(r int) bool {
	return isEreg(r) || r == r1 || r == r2 || r == fp
}

// add1mod sets REX.B for r (add_1mod).
func add1mod(b byte, r int) byte { return b | eregBit[uint8(r)] }

// add2mod sets REX.B for r1 and REX.R for r2 (add_2mod).
func add2mod(b byte, r1, r2 int) byte { return b | eregBit[uint8(r1)] | eregBit[uint8(r2)]<<2 }

// add3mod sets REX.B for r1, REX.X for index and REX.R for r2 (add_3mod).
func add3mod(b byte, r1, r2, index int) byte {
	if isEreg(r1) {
		b |= 1
	}
	if isEreg(index) {
		b |= 2
	}
	if isEreg(r2) {
		b |= 4
	}
	return b
}

// add1reg encodes dst in the low bits of an opcode or ModRM byte (add_1reg).
func add1reg(b byte, dst int) byte { return b + reg2hex[dst] }

// add2reg encodes dst in ModRM.rm and src in ModRM.reg (add_2reg).
func add2reg(b byte, dst, src int) byte { return b + reg2hex[dst] + reg2hex[src]<<3 }

// isImm8 reports whether v fits a signed byte (is_imm8).
func isImm8(v int64) bool { return v <= 127 && v >= -128 }

// isSimm32 reports whether v fits a sign-extended 32-bit field (is_simm32).
func isSimm32(v int64) bool { return v == int64(int32(v)) }

// isUimm32 reports whether v fits a zero-extended 32-bit field (is_uimm32).
func isUimm32(v uint64) bool { return v == uint64(uint32(v)) }

// simpleALU holds the one-byte opcodes of binary ALU operations and the
// ModRM.reg extensions of the shifts (simple_alu_opcodes[]).
// Indexed by BPF_OP >> 4.
var simpleALU = [16]byte{
	kernel.OpADD >> 4: 0x01, kernel.OpSUB >> 4: 0x29, kernel.OpAND >> 4: 0x21, kernel.OpOR >> 4: 0x09, kernel.OpXOR >> 4: 0x31,
	kernel.OpLSH >> 4: 0xE0, kernel.OpRSH >> 4: 0xE8, kernel.OpARSH >> 4: 0xF8,
}

func aluOpcode(op uint8) byte { return simpleALU[op>>4] }

// nops are the x86-64 long NOPs the kernel pads with (x86_nops[],
// arch/x86/include/asm/nops.h BYTES_NOP1..8; 5.10's ideal_nops on a
// modern CPU are the same P6 NOPs).
var nops = [9][]byte{
	1: {0x90},
	2: {0x66, 0x90},
	3: {0x0f, 0x1f, 0x00},
	4: {0x0f, 0x1f, 0x40, 0x00},
	5: {0x0f, 0x1f, 0x44, 0x00, 0x00},
	6: {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
	7: {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
	8: {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
}

// nop5 is x86_nops[5], the patch-site NOP (X86_PATCH_SIZE bytes).
var nop5 = nops[5]

// endbr64 is gen_endbr(): f3 0f 1e fa.
var endbr64 = []byte{0xf3, 0x0f, 0x1e, 0xfa}

// x86 condition codes of the short Jcc (opcode; +0x10 and a 0x0f prefix for
// the near form).
const (
	jB  = 0x72
	jAE = 0x73
	jE  = 0x74
	jNE = 0x75
	jBE = 0x76
	jA  = 0x77
	jL  = 0x7C
	jGE = 0x7D
	jLE = 0x7E
	jG  = 0x7F
)

// jmpRel32 returns "e9 rel32": a jump from the 5-byte instruction at from
// to to (emit_jump), and whether the displacement fits.
func jmpRel32(from, to uint64) ([5]byte, bool) {
	return rel32(0xE9, from, to)
}

// rel32 encodes opcode + rel32 for the 5-byte instruction at from reaching
// to (emit_patch).
func rel32(op byte, from, to uint64) ([5]byte, bool) {
	off := int64(to - (from + 5))
	var b [5]byte
	b[0] = op
	u := uint32(int32(off))
	b[1], b[2], b[3], b[4] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	return b, isSimm32(off)
}
