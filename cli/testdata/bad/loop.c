// SPDX-License-Identifier: GPL-2.0-only
// A loop the verifier would refuse that runs for ever on the emulator: the
// run stops at the step limit.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int prog(struct __sk_buff *skb)
{
	volatile int i = 0;

	for (;;)
		i++;
	return 0;
}
