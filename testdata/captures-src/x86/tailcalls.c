// SPDX-License-Identifier: GPL-2.0
/*
 * tailcalls: tail-call shapes of the x86-64 JIT (besides the ones of
 * groundtruth/src/tailcall_*.c).
 *
 *  tc_direct     constant key (direct, text-poked) with callee-saved
 *                registers in use and a >128-byte stack (the tail-call
 *                sequence pops them and releases the stack)
 *  tc_indirect   key = skb->mark (indirect), same register/stack use
 *  tc_from_sub   tail calls from two subprograms (indirect and direct),
 *                called from a main program that keeps values in r6..r9
 *  tc_r9         naked: r6..r9 all live, a direct and an indirect tail call
 *  classifier_0..2  targets (slot N)
 */
#include "insn.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jt SEC(".maps");

#define TAIL_FUNC(x)					\
	SEC("tc")					\
	int classifier_##x(struct __sk_buff *skb)	\
	{						\
		return x + 10;				\
	}
TAIL_FUNC(0)
TAIL_FUNC(1)
TAIL_FUNC(2)

SEC("tc")
int tc_direct(struct __sk_buff *skb)
{
	volatile __u64 buf[24];
	__u64 a = skb->len, b = skb->mark, c = skb->priority;
	int i;

	for (i = 0; i < 24; i++)
		buf[i] = a + i;
	bpf_tail_call_static(skb, &jt, 1);
	return buf[a & 15] + b + c;
}

SEC("tc")
int tc_indirect(struct __sk_buff *skb)
{
	volatile __u64 buf[20];
	__u64 a = skb->len, b = skb->priority;
	int i;

	for (i = 0; i < 20; i++)
		buf[i] = b + i;
	bpf_tail_call(skb, &jt, skb->mark);
	return buf[a & 15] + a + b;
}

static __noinline int sub_tc(struct __sk_buff *skb, __u32 k)
{
	bpf_tail_call(skb, &jt, k);
	return 7;
}

static __noinline int sub_tc_direct(struct __sk_buff *skb)
{
	volatile __u64 x[4] = {};

	bpf_tail_call_static(skb, &jt, 2);
	return 8 + x[1];
}

SEC("tc")
int tc_from_sub(struct __sk_buff *skb)
{
	__u64 a = skb->len, b = skb->mark, c = skb->priority, d = skb->hash;
	int r;

	r = sub_tc(skb, (skb->mark + 3) & 3);
	r += sub_tc_direct(skb);
	return r + a + b + c + d;
}

SEC("tc") NAKED int tc_r9(void)
{
	asm volatile(
	"r9 = r1;\n"
	"r6 = *(u32 *)(r9 + 0);\n r7 = *(u32 *)(r9 + 8);\n r8 = *(u32 *)(r9 + 32);\n"
	"r1 = r9;\n r2 = %[jt] ll;\n r3 = 0;\n call %[tail_call];\n"
	"r1 = r9;\n r2 = %[jt] ll;\n r3 = r7;\n r3 &= 3;\n call %[tail_call];\n"
	"r0 = r6;\n r0 += r7;\n r0 += r8;\n"
	"exit;\n"
	:: [jt] "i"(&jt), [tail_call] "i"(BPF_FUNC_tail_call) : "memory");
}

char __license[] SEC("license") = "GPL";
