// SPDX-License-Identifier: GPL-2.0-only
// A program in a section libbpf does not know: no program type.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("jitscope/unknown")
int prog(void *ctx)
{
	return 0;
}
