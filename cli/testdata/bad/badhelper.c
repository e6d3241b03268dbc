// SPDX-License-Identifier: GPL-2.0-only
// A call of helper 9999, which no kernel has.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static long (*no_such_helper)(void) = (void *)9999;

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	return no_such_helper();
}
