/* SPDX-License-Identifier: GPL-2.0 */
/*
 * insn.h: helpers for the jitscope x86 capture sources.
 *
 * clang 14's BPF assembler does not parse cpuv4 instructions (sdiv/smod,
 * movsx, ldsx, bswap, gotol, may_goto, load-acquire/store-release), the
 * fetch forms of the atomics or JSET, so those are emitted as raw 8-byte
 * instruction words: I(code, dst, src, off, imm) -> ".quad ...".
 */
#ifndef JITSCOPE_INSN_H
#define JITSCOPE_INSN_H
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define I(code, dst, src, off, imm) I_(code, dst, src, off, imm)	/* expands macro arguments */
#define I_(code, dst, src, off, imm) \
	".quad ((" #code ") | ((" #dst ") << 8) | ((" #src ") << 12) | " \
	"(((" #off ") & 0xffff) << 16) | (((" #imm ") & 0xffffffff) << 32));\n"

#define NAKED __attribute__((naked))
#define SUBPROG __attribute__((naked, noinline, used)) static

/* r6..r9 = unknown scalars (bpf_get_prandom_u32), r0..r5 derived from them,
 * so the verifier can neither fold branches nor drop code */
#define INIT_UNKNOWN \
	"call %[prandom];\n r6 = r0;\n" \
	"call %[prandom];\n r7 = r0;\n" \
	"call %[prandom];\n r8 = r0;\n" \
	"call %[prandom];\n r9 = r0;\n" \
	"r0 = r6;\n r1 = r7;\n r2 = r8;\n r3 = r9;\n r4 = r6;\n r4 ^= r7;\n r5 = r8;\n r5 += r9;\n"
/* fp-8 = 8 bytes of STACK_MISC (two 4-byte stores of random values): every
 * "rX = *(u64 *)(r10 - 8)" gives a fresh full-range unknown scalar, so the
 * verifier cannot decide branches and its states merge after each test.
 * r0..r9 start as such values. */
#define INIT_MISC \
	"call %[prandom];\n *(u32 *)(r10 - 8) = w0;\n" \
	"call %[prandom];\n *(u32 *)(r10 - 4) = w0;\n" \
	"r0 = *(u64 *)(r10 - 8);\n r1 = *(u64 *)(r10 - 8);\n r2 = *(u64 *)(r10 - 8);\n" \
	"r3 = *(u64 *)(r10 - 8);\n r4 = *(u64 *)(r10 - 8);\n r5 = *(u64 *)(r10 - 8);\n" \
	"r6 = *(u64 *)(r10 - 8);\n r7 = *(u64 *)(r10 - 8);\n r8 = *(u64 *)(r10 - 8);\n" \
	"r9 = *(u64 *)(r10 - 8);\n"
#define PRANDOM [prandom] "i"(BPF_FUNC_get_prandom_u32)

#endif
