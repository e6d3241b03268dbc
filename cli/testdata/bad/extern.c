// SPDX-License-Identifier: GPL-2.0-only
// A call of a function defined in no object (unknown function).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int elsewhere(int x);

SEC("tc")
int prog(struct __sk_buff *skb)
{
	return elsewhere(skb->len);
}
