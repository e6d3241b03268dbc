// SPDX-License-Identifier: GPL-2.0-only
/* xdp: the xdp_md fields (data, data_end, data_meta, ingress_ifindex,
 * rx_queue_index) the verifier rewrites into struct xdp_buff loads,
 * packet reads and writes of every size, a per-CPU array lookup. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

__u64 xdp_seen[2];

SEC("xdp")
int xdp_fields(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	__u32 k = 1, r;
	__u64 *v;

	xdp_seen[0] = ctx->rx_queue_index;
	xdp_seen[1] = ctx->data_meta;
	if (p + 32 > (__u8 *)data_end)
		return XDP_PASS;
	r = p[23] + *(__u16 *)(p + 12) + *(__u32 *)(p + 14) + (__u32)*(__u64 *)(p + 16);
	p[30] = 0xaa;
	*(__u16 *)(p + 26) = 0xbbcc;
	*(__u32 *)(p + 20) = r;
	*(__u64 *)(p + 24) = 0;
	v = bpf_map_lookup_elem(&pcpu, &k);
	if (v)
		*v += 1;
	r += ctx->ingress_ifindex;
	return (r & 3) == 3 ? XDP_PASS : XDP_DROP;
}
