// SPDX-License-Identifier: GPL-2.0-only
/* tailcalls: a prog array filled from the object (.values), direct tail
 * calls (constant keys: the verifier records poke descriptors, x86 emits
 * patched jumps), an indirect one (key from data), a tail call from a
 * subprogram, a tail call to an empty slot, and callee programs that
 * count in .bss. */
#include "common.h"

__u32 hits[4];
volatile __u32 which = 1;

SEC_TC
int tail_0(struct __sk_buff *skb)
{
	hits[0]++;
	return 10;
}

SEC_TC
int tail_1(struct __sk_buff *skb)
{
	hits[1]++;
	return 11;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_0,
		[1] = (void *)&tail_1,
	},
};

static __attribute__((noinline)) int from_sub(struct __sk_buff *skb)
{
	volatile __u32 pad = skb->len;

	bpf_tail_call(skb, &jmp_table, which);
	return pad + 1;
}

SEC_TC
int direct(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, 3);	/* empty slot: falls through */
	bpf_tail_call(skb, &jmp_table, 0);
	return 1;
}

SEC_TC
int indirect(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &jmp_table, which);
	return 2;
}

SEC_TC
int sub_tail(struct __sk_buff *skb)
{
	int r = from_sub(skb);

	return r + 100;
}
