// SPDX-License-Identifier: GPL-2.0
/*
 * alu: ALU64/ALU32 forms of the x86-64 JIT, written in BPF assembly
 * (naked functions) so that every operand shape is exactly what is listed.
 *
 *  alu_mov     mov imm (0 -> xor, small, negative -> sign-extending mov,
 *              u32 -> mov r32), ld_imm64 of many shapes (movabs vs mov r32 vs
 *              sign-extended mov), mov reg,reg 64/32 incl. 32-bit self moves
 *  alu_arith   add/sub/and/or/xor imm8/imm32 (rax short forms), reg,reg, 64/32
 *  alu_muldiv  mul imm/reg, div/mod imm/reg 64/32 (rax/rdx save dance),
 *              sdiv/smod (cpuv4, raw words)
 *  alu_shift   lsh/rsh/arsh by imm (1 and n) and by reg (BMI2 shlx/shrx/sarx
 *              vs rcx), neg, 64/32
 *  alu_end     be16/32/64, le16/32/64, bswap16/32/64 (cpuv4), movsx 8/16/32
 */
#include "insn.h"

SEC("tc") NAKED int alu_mov(void)
{
	asm volatile(
	INIT_UNKNOWN
	/* mov imm, 64-bit */
	"r0 = 0;\n r1 = 1;\n r2 = -1;\n r3 = 0x7fffffff;\n r4 = -2147483648;\n"
	"r5 = 127;\n r6 = -128;\n r7 = 0;\n r8 = 0x12345678;\n r9 = -2;\n"
	/* mov imm, 32-bit */
	"w0 = 0;\n w1 = 1;\n w2 = -1;\n w3 = 0x7fffffff;\n w5 = -2147483648;\n"
	"w7 = 0;\n w8 = 255;\n w9 = 0x7fffffff;\n"
	/* ld_imm64 */
	"r0 = 0 ll;\n r1 = 1 ll;\n r2 = -1 ll;\n r3 = 0xffffffff ll;\n"
	"r4 = 0x80000000 ll;\n r5 = 0xffffffff80000000 ll;\n r6 = 0x100000000 ll;\n"
	"r7 = 0x123456789abcdef0 ll;\n r8 = 0x7fffffffffffffff ll;\n r9 = 0x8000000000000000 ll;\n"
	"r0 = 0xfffffffe00000000 ll;\n r5 = 0x7fffffff ll;\n r9 = -129 ll;\n r1 = 0x00000000deadbeef ll;\n"
	/* mov reg, reg 64 */
	"r0 = r1;\n r1 = r0;\n r5 = r9;\n r9 = r5;\n r6 = r6;\n r3 = r8;\n r8 = r3;\n r2 = r7;\n"
	/* mov reg, reg 32 (zero-extending; self moves are kept) */
	"w0 = w1;\n w1 = w1;\n w9 = w5;\n w5 = w5;\n w7 = w2;\n w2 = w9;\n w0 = w0;\n w6 = w6;\n"
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM : "memory");
}

SEC("tc") NAKED int alu_arith(void)
{
	asm volatile(
	INIT_UNKNOWN
	/* 64-bit, imm8 / imm32, rax and others */
	"r0 += 5;\n r0 += 0x1000;\n r1 += -3;\n r1 += 0x12345;\n r9 += 127;\n r9 += 128;\n r5 += -128;\n r5 += -129;\n"
	"r0 -= 5;\n r0 -= 0x1000;\n r2 -= 1;\n r2 -= 0x7fffffff;\n r8 -= 100;\n r8 -= -100000;\n"
	"r0 &= 0xff;\n r0 &= 0x7f;\n r3 &= -16;\n r3 &= 0xffff;\n r7 &= 1;\n r7 &= 0x80000;\n"
	"r0 |= 1;\n r0 |= 0x10000;\n r4 |= 8;\n r4 |= 0x40000000;\n r6 |= -1;\n r6 |= 0x1234;\n"
	"r0 ^= 3;\n r0 ^= 0x55555;\n r1 ^= -1;\n r1 ^= 0x100;\n r9 ^= 12;\n r9 ^= 0xabcdef;\n"
	/* 32-bit */
	"w0 += 5;\n w0 += 0x1000;\n w1 += -3;\n w1 += 0x12345;\n w9 += 127;\n w9 += 128;\n"
	"w0 -= 7;\n w0 -= 0x2000;\n w2 -= 1;\n w2 -= 0x7fffffff;\n w8 -= 9;\n"
	"w0 &= 0xff;\n w0 &= 0x7f;\n w3 &= -16;\n w3 &= 0xffff;\n w7 &= 0x80000;\n"
	"w0 |= 1;\n w0 |= 0x10000;\n w4 |= 8;\n w4 |= 0x40000000;\n w6 |= 0x1234;\n"
	"w0 ^= 3;\n w0 ^= 0x55555;\n w1 ^= -1;\n w5 ^= 0x100;\n w9 ^= 0xabcdef;\n"
	/* reg, reg */
	"r0 += r1;\n r1 += r0;\n r5 += r9;\n r9 += r6;\n r2 += r2;\n"
	"r0 -= r1;\n r3 -= r8;\n r8 -= r3;\n r6 -= r6;\n"
	"r0 &= r2;\n r4 &= r7;\n r7 &= r5;\n"
	"r0 |= r3;\n r2 |= r9;\n r9 |= r2;\n"
	"r0 ^= r4;\n r1 ^= r5;\n r5 ^= r1;\n r7 ^= r7;\n"
	"w0 += w1;\n w1 += w0;\n w5 += w9;\n w9 += w6;\n"
	"w0 -= w1;\n w3 -= w8;\n w8 -= w3;\n"
	"w0 &= w2;\n w4 &= w7;\n w7 &= w5;\n"
	"w0 |= w3;\n w2 |= w9;\n w9 |= w2;\n"
	"w0 ^= w4;\n w1 ^= w5;\n w5 ^= w1;\n w6 ^= w6;\n"
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM : "memory");
}

SEC("tc") NAKED int alu_muldiv(void)
{
	asm volatile(
	INIT_UNKNOWN
	/* mul imm / reg */
	"r0 *= 3;\n r1 *= 1000;\n r9 *= -5;\n r3 *= 0x10001;\n r5 *= 127;\n"
	"w0 *= 3;\n w1 *= 1000;\n w9 *= -5;\n w3 *= 0x10001;\n"
	"r0 *= r1;\n r1 *= r0;\n r3 *= r9;\n r9 *= r3;\n r5 *= r5;\n r2 *= r8;\n"
	"w0 *= w1;\n w1 *= w0;\n w3 *= w9;\n w9 *= w3;\n w7 *= w8;\n"
	/* div / mod by imm */
	"r0 /= 3;\n r1 /= 10;\n r3 /= 7;\n r9 /= 0x10000;\n"
	I(0x97, 0, 0, 0, 3) I(0x97, 1, 0, 0, 10) I(0x97, 3, 0, 0, 7) I(0x97, 9, 0, 0, 0x10000)  /* r0 %= 3; r1 %= 10; r3 %= 7; r9 %= 0x10000; */
	"w0 /= 3;\n w1 /= 10;\n w3 /= 7;\n w9 /= 0x10000;\n"
	I(0x94, 0, 0, 0, 3) I(0x94, 1, 0, 0, 10) I(0x94, 3, 0, 0, 7) I(0x94, 9, 0, 0, 0x10000)  /* w0 %= 3; w1 %= 10; w3 %= 7; w9 %= 0x10000; */
	/* div / mod by reg (verifier adds the zero-divisor guard) */
	"r0 /= r1;\n r1 /= r0;\n r3 /= r2;\n r2 /= r3;\n r9 /= r8;\n r0 /= r3;\n r3 /= r0;\n r1 /= r1;\n"
	I(0x9f, 0, 1, 0, 0) I(0x9f, 1, 0, 0, 0) I(0x9f, 3, 2, 0, 0) I(0x9f, 2, 3, 0, 0) I(0x9f, 9, 8, 0, 0) I(0x9f, 5, 9, 0, 0)  /* r0 %= r1; r1 %= r0; r3 %= r2; r2 %= r3; r9 %= r8; r5 %= r9; */
	"w0 /= w1;\n w1 /= w0;\n w3 /= w2;\n w2 /= w3;\n w9 /= w8;\n"
	I(0x9c, 0, 1, 0, 0) I(0x9c, 1, 0, 0, 0) I(0x9c, 3, 2, 0, 0) I(0x9c, 2, 3, 0, 0) I(0x9c, 9, 8, 0, 0)  /* w0 %= w1; w1 %= w0; w3 %= w2; w2 %= w3; w9 %= w8; */
	/* cpuv4 sdiv / smod: ALU64 DIV/MOD with off = 1 */
	I(0x37, 1, 0, 1, 7)       /* r1 s/= 7 */
	I(0x37, 0, 0, 1, -3)      /* r0 s/= -3 */
	I(0x3f, 2, 3, 1, 0)       /* r2 s/= r3 */
	I(0x3f, 0, 9, 1, 0)       /* r0 s/= r9 */
	I(0x97, 3, 0, 1, 5)       /* r3 s%= 5 */
	I(0x9f, 9, 1, 1, 0)       /* r9 s%= r1 */
	I(0x9f, 3, 0, 1, 0)       /* r3 s%= r0 */
	I(0x34, 1, 0, 1, 7)       /* w1 s/= 7 */
	I(0x3c, 2, 3, 1, 0)       /* w2 s/= w3 */
	I(0x94, 3, 0, 1, -5)      /* w3 s%= -5 */
	I(0x9c, 0, 1, 1, 0)       /* w0 s%= w1 */
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM : "memory");
}

SEC("tc") NAKED int alu_shift(void)
{
	asm volatile(
	INIT_UNKNOWN
	"r0 <<= 1;\n r0 <<= 5;\n r1 <<= 63;\n r4 <<= 2;\n r9 <<= 1;\n r9 <<= 17;\n"
	"r0 >>= 1;\n r0 >>= 5;\n r1 >>= 63;\n r4 >>= 2;\n r9 >>= 1;\n r9 >>= 17;\n"
	"r0 s>>= 1;\n r0 s>>= 5;\n r1 s>>= 63;\n r4 s>>= 2;\n r9 s>>= 1;\n r9 s>>= 17;\n"
	"w0 <<= 1;\n w0 <<= 5;\n w1 <<= 31;\n w4 <<= 2;\n w9 <<= 1;\n"
	"w0 >>= 1;\n w0 >>= 5;\n w1 >>= 31;\n w4 >>= 2;\n w9 >>= 1;\n"
	"w0 s>>= 1;\n w0 s>>= 5;\n w1 s>>= 31;\n w4 s>>= 2;\n w9 s>>= 1;\n"
	/* by register: src != r4 (rcx) -> BMI2, src == r4 or dst == r4 -> cl dance */
	"r1 <<= r2;\n r1 <<= r4;\n r4 <<= r1;\n r4 <<= r4;\n r0 <<= r9;\n r9 <<= r4;\n r5 <<= r0;\n"
	"r1 >>= r2;\n r1 >>= r4;\n r4 >>= r1;\n r4 >>= r4;\n r0 >>= r9;\n r9 >>= r4;\n r5 >>= r0;\n"
	"r1 s>>= r2;\n r1 s>>= r4;\n r4 s>>= r1;\n r4 s>>= r4;\n r0 s>>= r9;\n r9 s>>= r4;\n r5 s>>= r0;\n"
	"w1 <<= w2;\n w1 <<= w4;\n w4 <<= w1;\n w4 <<= w4;\n w0 <<= w9;\n w9 <<= w4;\n"
	"w1 >>= w2;\n w1 >>= w4;\n w4 >>= w1;\n w4 >>= w4;\n w0 >>= w9;\n w9 >>= w4;\n"
	"w1 s>>= w2;\n w1 s>>= w4;\n w4 s>>= w1;\n w4 s>>= w4;\n w0 s>>= w9;\n w9 s>>= w4;\n"
	/* neg */
	"r0 = -r0;\n r1 = -r1;\n r9 = -r9;\n w0 = -w0;\n w5 = -w5;\n w9 = -w9;\n"
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM : "memory");
}

SEC("tc") NAKED int alu_end(void)
{
	asm volatile(
	INIT_UNKNOWN
	"r0 = be16 r0;\n r1 = be16 r1;\n r5 = be16 r5;\n r9 = be16 r9;\n"
	"r0 = be32 r0;\n r1 = be32 r1;\n r5 = be32 r5;\n r9 = be32 r9;\n"
	"r0 = be64 r0;\n r1 = be64 r1;\n r5 = be64 r5;\n r9 = be64 r9;\n"
	"r0 = le16 r0;\n r1 = le16 r1;\n r5 = le16 r5;\n r9 = le16 r9;\n"
	"r0 = le32 r0;\n r1 = le32 r1;\n r5 = le32 r5;\n r9 = le32 r9;\n"
	"r0 = le64 r0;\n r1 = le64 r1;\n r5 = le64 r5;\n r9 = le64 r9;\n"
	/* cpuv4 bswap16/32/64: ALU64 | END | TO_LE */
	I(0xd7, 0, 0, 0, 16) I(0xd7, 1, 0, 0, 16) I(0xd7, 9, 0, 0, 16)
	I(0xd7, 0, 0, 0, 32) I(0xd7, 2, 0, 0, 32) I(0xd7, 8, 0, 0, 32)
	I(0xd7, 0, 0, 0, 64) I(0xd7, 3, 0, 0, 64) I(0xd7, 7, 0, 0, 64)
	/* cpuv4 movsx: r = (s8/s16/s32) r, w = (s8/s16) w */
	I(0xbf, 1, 2, 8, 0) I(0xbf, 0, 9, 8, 0) I(0xbf, 9, 0, 8, 0) I(0xbf, 3, 3, 8, 0)
	I(0xbf, 1, 2, 16, 0) I(0xbf, 0, 9, 16, 0) I(0xbf, 5, 5, 16, 0)
	I(0xbf, 1, 2, 32, 0) I(0xbf, 0, 9, 32, 0) I(0xbf, 7, 7, 32, 0)
	I(0xbc, 1, 2, 8, 0) I(0xbc, 0, 9, 8, 0) I(0xbc, 6, 6, 8, 0)
	I(0xbc, 1, 2, 16, 0) I(0xbc, 9, 0, 16, 0) I(0xbc, 4, 4, 16, 0)
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM : "memory");
}

char __license[] SEC("license") = "GPL";
