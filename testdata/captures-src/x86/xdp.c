// SPDX-License-Identifier: GPL-2.0
/*
 * xdp: two XDP programs: direct packet access (pkt pointer bounds checks,
 * u8/u16/u32/u64 loads and stores through packet pointers), per-CPU array
 * counters, bpf_xdp_adjust_head.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_cnt SEC(".maps");

__u64 xdp_seen;

SEC("xdp")
int xdp_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 key;
	__u64 *c;

	__sync_fetch_and_add(&xdp_seen, 1);
	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		key = eth->h_dest[0] ^ eth->h_source[5];
		c = bpf_map_lookup_elem(&proto_cnt, &key);
		if (c)
			*c += 1;
		return XDP_PASS;
	}
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	key = ip->protocol;
	c = bpf_map_lookup_elem(&proto_cnt, &key);
	if (c)
		*c += bpf_ntohs(ip->tot_len);
	if (ip->ttl <= 1)
		return XDP_DROP;
	ip->ttl--;
	ip->check += bpf_htons(0x0100);
	return ip->saddr == ip->daddr ? XDP_TX : XDP_PASS;
}

SEC("xdp")
int xdp_rewrite(struct xdp_md *ctx)
{
	void *data, *end;
	__u64 *p64;

	if (bpf_xdp_adjust_head(ctx, -16))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 48 > end)
		return XDP_DROP;
	p64 = data;
	p64[0] = 0x1122334455667788ULL;
	((__u32 *)data)[2] = ctx->ingress_ifindex;
	((__u16 *)data)[6] = 0xabcd;
	((__u8 *)data)[14] = ((__u8 *)data)[40] + 1;
	p64[3] = p64[4] ^ p64[5];
	if (bpf_xdp_adjust_head(ctx, 16))
		return XDP_ABORTED;
	return XDP_PASS;
}

char __license[] SEC("license") = "GPL";
