// SPDX-License-Identifier: GPL-2.0
/*
 * atomics: BPF_ATOMIC forms of the x86-64 JIT (raw instruction words: clang
 * 14 cannot assemble the fetch forms).
 *
 *  atomic_rmw  lock add/and/or/xor (non-fetch: lock op; fetch add: lock
 *              xadd; fetch and/or/xor: cmpxchg loop through rax/r10),
 *              xchg, cmpxchg; 64 and 32 bit; on the stack (disp8/disp32) and
 *              on a map value (disp8/disp32); src/dst = r0 special cases
 *  atomic_acqrel  load-acquire / store-release (6.15+) of u8/u16/u32/u64
 */
#include "insn.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, 1024);
} avals SEC(".maps");

#define A_ADD 0x00
#define A_OR 0x40
#define A_AND 0x50
#define A_XOR 0xa0
#define A_FETCH 0x01
#define A_XCHG 0xe1
#define A_CMPXCHG 0xf1
#define DW 0xdb
#define W 0xc3
#define H 0xcb
#define B 0xd3

#define LOOKUP \
	I(0x62, 10, 0, -16, 0) /* *(u32 *)(r10 - 16) = 0 */ \
	" r2 = r10;\n r2 += -16;\n r1 = %[avals] ll;\n call %[lookup];\n" \
	"if r0 != 0 goto l1_%=;\n r0 = 1;\n exit;\n l1_%=:\n r7 = r0;\n"

SEC("tc") NAKED int atomic_rmw(void)
{
	asm volatile(
	INIT_MISC
	LOOKUP
	"r1 = *(u64 *)(r10 - 8);\n r2 = *(u64 *)(r10 - 8);\n r9 = *(u64 *)(r10 - 8);\n r0 = *(u64 *)(r10 - 8);\n"
	I(0x7a, 10, 0, -24, 0) I(0x62, 10, 0, -28, 0) I(0x7a, 10, 0, -200, 0) I(0x62, 10, 0, -204, 0)  /* *(u64 *)(r10 - 24) = 0; *(u32 *)(r10 - 28) = 0; *(u64 *)(r10 - 200) = 0; *(u32 *)(r10 - 204) = 0; */
#define OPS(op) \
	I(DW, 10, 1, -24, op) I(DW, 7, 9, 8, op) I(DW, 10, 2, -200, op) I(DW, 7, 0, 512, op) \
	I(W, 10, 1, -28, op) I(W, 7, 0, 132, op) I(W, 10, 9, -204, op) \
	I(DW, 10, 1, -24, op | A_FETCH) I(DW, 7, 0, 16, op | A_FETCH) I(DW, 7, 9, 600, op | A_FETCH) \
	I(W, 7, 2, 136, op | A_FETCH) I(W, 10, 9, -204, op | A_FETCH) I(W, 7, 0, 140, op | A_FETCH) \
	"r0 = *(u64 *)(r10 - 8);\n r1 = *(u64 *)(r10 - 8);\n r2 = *(u64 *)(r10 - 8);\n r9 = *(u64 *)(r10 - 8);\n"
	OPS(A_ADD)
	OPS(A_OR)
	OPS(A_AND)
	OPS(A_XOR)
	/* pointer in r0 (rax): the fetch and/or/xor loop has to move it to r10 */
	"r0 = r7;\n"
	I(DW, 0, 1, 40, A_AND | A_FETCH) I(W, 0, 2, 44, A_OR | A_FETCH) I(DW, 0, 9, 48, A_XOR | A_FETCH)
	I(DW, 0, 1, 56, A_ADD | A_FETCH) I(DW, 0, 2, 64, A_ADD)
	"r1 = *(u64 *)(r10 - 8);\n r2 = *(u64 *)(r10 - 8);\n r9 = *(u64 *)(r10 - 8);\n"
	/* xchg */
	I(DW, 7, 1, 24, A_XCHG) I(DW, 10, 9, -24, A_XCHG) I(W, 7, 2, 144, A_XCHG) I(W, 10, 1, -204, A_XCHG) I(DW, 7, 9, 800, A_XCHG)
	/* cmpxchg (compares with r0, result in r0) */
	"r0 = *(u64 *)(r10 - 8);\n"
	I(DW, 7, 1, 32, A_CMPXCHG) I(DW, 10, 2, -200, A_CMPXCHG) I(W, 7, 9, 148, A_CMPXCHG)
	I(W, 10, 1, -28, A_CMPXCHG) I(DW, 7, 2, 1000, A_CMPXCHG)
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM, [avals] "i"(&avals), [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}

#define LOAD_ACQ 0x100
#define STORE_REL 0x110

SEC("tc") NAKED int atomic_acqrel(void)
{
	asm volatile(
	INIT_MISC
	LOOKUP
	I(0x7a, 10, 0, -24, 0) I(0x7a, 10, 0, -200, 0)  /* *(u64 *)(r10 - 24) = 0; *(u64 *)(r10 - 200) = 0; */
	/* load-acquire: dst = *(src + off) */
	I(B, 1, 7, 0, LOAD_ACQ) I(H, 2, 7, 2, LOAD_ACQ) I(W, 3, 7, 4, LOAD_ACQ) I(DW, 4, 7, 8, LOAD_ACQ)
	I(DW, 9, 7, 512, LOAD_ACQ) I(B, 0, 10, -24, LOAD_ACQ) I(W, 5, 10, -200, LOAD_ACQ) I(DW, 8, 10, -200, LOAD_ACQ)
	/* store-release: *(dst + off) = src */
	I(B, 7, 1, 0, STORE_REL) I(H, 7, 2, 2, STORE_REL) I(W, 7, 3, 4, STORE_REL) I(DW, 7, 4, 8, STORE_REL)
	I(DW, 7, 9, 512, STORE_REL) I(B, 10, 0, -24, STORE_REL) I(W, 10, 5, -200, STORE_REL) I(DW, 10, 8, -200, STORE_REL)
	"r0 = 0;\n"
	"exit;\n"
	:: PRANDOM, [avals] "i"(&avals), [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}

char __license[] SEC("license") = "GPL";
