// SPDX-License-Identifier: GPL-2.0-only
// A helper the emulated kernel does not model (bpf_skb_store_bytes): the
// program JITs, but cannot run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int prog(struct __sk_buff *skb)
{
	char b = 1;

	return bpf_skb_store_bytes(skb, 0, &b, 1, 0);
}
