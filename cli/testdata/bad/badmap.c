// SPDX-License-Identifier: GPL-2.0-only
// A map whose type number no kernel has (99).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, 99);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} odd SEC(".maps");

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&odd, &key) != 0;
}
