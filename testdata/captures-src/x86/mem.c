// SPDX-License-Identifier: GPL-2.0
/*
 * mem: loads and stores of the x86-64 JIT.
 *
 *  mem_stack  st imm / stx / ldx of u8/u16/u32/u64 relative to r10 (rbp),
 *             disp8 and disp32 (stack depth 512), byte stores from registers
 *             that need a REX prefix (sil/dil/r8b/r15b) and ones that do not
 *             (al/bl/cl/dl), ldsx s8/s16/s32 (cpuv4, raw words)
 *  mem_map    the same through map-value pointers held in rax/rbx/r13/r15/r8
 *             (r13 base needs a disp8 even for offset 0), offsets 0..1016,
 *             plus __sk_buff context reads and writes (rewritten by the
 *             verifier) and an inlined array-map lookup
 */
#include "insn.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(value_size, 1024);
} vals SEC(".maps");

SEC("tc") NAKED int mem_stack(void)
{
	asm volatile(
	INIT_MISC
	/* st imm, disp8 */
	I(0x72, 10, 0, -16, 0x12) I(0x6a, 10, 0, -18, 0x1234) I(0x62, 10, 0, -24, 0x12345678)  /* *(u8 *)(r10 - 16) = 0x12; *(u16 *)(r10 - 18) = 0x1234; *(u32 *)(r10 - 24) = 0x12345678; */
	I(0x7a, 10, 0, -32, -1) I(0x7a, 10, 0, -40, 0x7fffffff) I(0x62, 10, 0, -44, -5) I(0x72, 10, 0, -128, -1)  /* *(u64 *)(r10 - 32) = -1; *(u64 *)(r10 - 40) = 0x7fffffff; *(u32 *)(r10 - 44) = -5; *(u8 *)(r10 - 128) = -1; */
	/* st imm, disp32 */
	I(0x72, 10, 0, -129, 1) I(0x6a, 10, 0, -132, 2) I(0x62, 10, 0, -136, 3) I(0x7a, 10, 0, -144, 4)  /* *(u8 *)(r10 - 129) = 1; *(u16 *)(r10 - 132) = 2; *(u32 *)(r10 - 136) = 3; *(u64 *)(r10 - 144) = 4; */
	I(0x7a, 10, 0, -512, 5) I(0x62, 10, 0, -504, 6) I(0x6a, 10, 0, -498, -7)  /* *(u64 *)(r10 - 512) = 5; *(u32 *)(r10 - 504) = 6; *(u16 *)(r10 - 498) = -7; */
	/* stx u8 from every register (dil/sil/r8b.. need REX, al/bl/cl/dl do not) */
	"*(u8 *)(r10 - 45) = r0;\n *(u8 *)(r10 - 46) = r1;\n *(u8 *)(r10 - 47) = r2;\n *(u8 *)(r10 - 48) = r3;\n"
	"*(u8 *)(r10 - 49) = r4;\n *(u8 *)(r10 - 50) = r5;\n *(u8 *)(r10 - 51) = r6;\n *(u8 *)(r10 - 52) = r7;\n"
	"*(u8 *)(r10 - 53) = r8;\n *(u8 *)(r10 - 54) = r9;\n"
	/* stx u16/u32/u64, disp8 */
	"*(u16 *)(r10 - 56) = r1;\n *(u16 *)(r10 - 58) = r9;\n *(u16 *)(r10 - 60) = r0;\n"
	"*(u32 *)(r10 - 64) = r0;\n *(u32 *)(r10 - 68) = r8;\n *(u32 *)(r10 - 72) = r2;\n"
	"*(u64 *)(r10 - 80) = r1;\n *(u64 *)(r10 - 88) = r9;\n *(u64 *)(r10 - 96) = r0;\n *(u64 *)(r10 - 104) = r5;\n *(u64 *)(r10 - 112) = r6;\n"
	/* stx, disp32 */
	"*(u64 *)(r10 - 200) = r1;\n *(u32 *)(r10 - 204) = r9;\n *(u16 *)(r10 - 206) = r2;\n *(u8 *)(r10 - 207) = r1;\n"
	"*(u8 *)(r10 - 208) = r0;\n *(u64 *)(r10 - 400) = r0;\n *(u64 *)(r10 - 408) = r7;\n"
	/* ldx, disp8 */
	"r1 = *(u8 *)(r10 - 16);\n r9 = *(u8 *)(r10 - 45);\n r0 = *(u16 *)(r10 - 18);\n r5 = *(u16 *)(r10 - 56);\n"
	"r2 = *(u32 *)(r10 - 24);\n r8 = *(u32 *)(r10 - 64);\n r3 = *(u64 *)(r10 - 32);\n r9 = *(u64 *)(r10 - 88);\n r0 = *(u64 *)(r10 - 80);\n"
	/* ldx, disp32 */
	"r1 = *(u64 *)(r10 - 200);\n r9 = *(u32 *)(r10 - 204);\n r0 = *(u16 *)(r10 - 206);\n r2 = *(u8 *)(r10 - 207);\n"
	"r7 = *(u64 *)(r10 - 512);\n r6 = *(u64 *)(r10 - 400);\n"
	/* ldsx (cpuv4, BPF_LDX|BPF_MEMSX: 0x91 s8, 0x89 s16, 0x81 s32) */
	I(0x91, 1, 10, -16, 0) I(0x91, 9, 10, -129, 0)
	I(0x89, 0, 10, -18, 0) I(0x89, 5, 10, -498, 0)
	I(0x81, 2, 10, -24, 0) I(0x81, 8, 10, -136, 0)
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM : "memory");
}

SEC("tc") NAKED int mem_map(void)
{
	asm volatile(
	"r6 = r1;\n"
	/* __sk_buff reads (rewritten into sk_buff loads) */
	"r7 = *(u32 *)(r6 + 0);\n"		/* len */
	"r8 = *(u32 *)(r6 + 8);\n"		/* mark */
	"r9 = *(u32 *)(r6 + 32);\n"		/* priority */
	"r2 = *(u32 *)(r6 + 4);\n"		/* pkt_type */
	"r3 = *(u32 *)(r6 + 16);\n"		/* protocol */
	"r4 = *(u32 *)(r6 + 40);\n"		/* ifindex */
	"r5 = *(u32 *)(r6 + 48);\n"		/* cb[0] */
	"r2 = *(u32 *)(r6 + 44);\n"		/* tc_index */
	/* __sk_buff writes */
	"*(u32 *)(r6 + 8) = r7;\n"		/* mark = len */
	"*(u32 *)(r6 + 52) = r8;\n"		/* cb[1] */
	"*(u32 *)(r6 + 32) = r9;\n"		/* priority */
	I(0x62, 6, 0, 56, 7)  /* *(u32 *)(r6 + 56) = 7; */
	""		/* cb[2] (st imm) */
	/* array lookup (inlined by the verifier) */
	I(0x62, 10, 0, -4, 0)  /* *(u32 *)(r10 - 4) = 0; */
	"r2 = r10;\n r2 += -4;\n"
	"r1 = %[vals] ll;\n"
	"call %[lookup];\n"
	"if r0 != 0 goto l1_%=;\n"
	"r0 = 1;\n exit;\n"
	"l1_%=:\n"
	"r1 = r0;\n r5 = r0;\n r9 = r0;\n r6 = r0;\n r5 += 512;\n"
	/* st imm through the pointers */
	I(0x7a, 0, 0, 0, 1) I(0x62, 0, 0, 128, 2) I(0x6a, 9, 0, 1000, 3) I(0x72, 5, 0, 7, 4)  /* *(u64 *)(r0 + 0) = 1; *(u32 *)(r0 + 128) = 2; *(u16 *)(r9 + 1000) = 3; *(u8 *)(r5 + 7) = 4; */
	I(0x7a, 1, 0, 8, -1) I(0x72, 6, 0, 0, 9) I(0x62, 9, 0, 0, 0x7fffffff) I(0x7a, 9, 0, 1016, 0x1000)  /* *(u64 *)(r1 + 8) = -1; *(u8 *)(r6 + 0) = 9; *(u32 *)(r9 + 0) = 0x7fffffff; *(u64 *)(r9 + 1016) = 0x1000; */
	/* stx */
	"*(u64 *)(r0 + 16) = r7;\n *(u32 *)(r9 + 20) = r8;\n *(u16 *)(r1 + 24) = r7;\n *(u8 *)(r5 + 26) = r8;\n"
	"*(u8 *)(r6 + 27) = r7;\n *(u64 *)(r6 + 200) = r8;\n *(u32 *)(r0 + 300) = r7;\n *(u8 *)(r9 + 511) = r1;\n"
	/* ldx */
	"r2 = *(u64 *)(r0 + 0);\n r3 = *(u32 *)(r9 + 128);\n r4 = *(u16 *)(r5 + 0);\n r7 = *(u8 *)(r6 + 7);\n"
	"r8 = *(u64 *)(r1 + 1016);\n r2 = *(u32 *)(r6 + 300);\n r3 = *(u8 *)(r9 + 511);\n r4 = *(u64 *)(r5 + 504);\n"
	"r0 = *(u16 *)(r0 + 126);\n"
	/* ld_imm64 of the map value address (BPF_PSEUDO_MAP_VALUE via a direct value): */
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM, [vals] "i"(&vals), [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}

char __license[] SEC("license") = "GPL";
