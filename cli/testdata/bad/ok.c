// SPDX-License-Identifier: GPL-2.0-only
// A valid object the bad-input tests corrupt (truncate, overwrite headers).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
