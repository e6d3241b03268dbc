// SPDX-License-Identifier: GPL-2.0
// GT-MCPU: v1
/* bpf_trace_printk with its format string in .rodata (kept apart from
 * calls.c: kernels without CONFIG_BPF_EVENTS, such as the tinyconfig BTI
 * kernel, refuse it, and one refused program fails its whole object). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 seed = 0x1234567890abcdefULL;	/* .data */
const char fmt[] = "v=%llu\n";		/* .rodata */

SEC("tc")
int printk(struct __sk_buff *skb)
{
	seed ^= skb->len;
	bpf_trace_printk(fmt, sizeof(fmt), seed);
	return 0;
}

char __license[] SEC("license") = "GPL";
