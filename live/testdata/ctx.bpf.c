// SPDX-License-Identifier: GPL-2.0-only
/* ctx: the __sk_buff fields the verifier's convert_ctx_access rewrites
 * into struct sk_buff loads and stores (len, protocol, mark, priority,
 * queue_mapping, tc_index, cb[], ifindex, pkt_type, vlan_present, hash,
 * data, data_end), direct packet access with bounds checks. */
#include "common.h"

__u64 seen[4];

SEC_TC
int skb_fields(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *p = data;
	__u32 r = 0;

	r += skb->len;
	r += skb->protocol;
	skb->mark = 0x55;
	r += skb->mark;
	skb->priority = 3;
	r += skb->priority;
	skb->cb[0] = 7;
	skb->cb[4] = skb->cb[0] + 1;
	r += skb->cb[4];
	skb->tc_index = 9;
	r += skb->tc_index;
	/* Values that differ between the kernel and the emulator's model are
	 * read (the rewrite is what matters) but kept out of the result. */
	seen[0] = skb->ifindex;
	seen[1] = skb->pkt_type;
	seen[2] = skb->queue_mapping;
	seen[3] = skb->hash + skb->vlan_present;
	if (p + 24 > (__u8 *)data_end)
		return 1;
	r += p[12] * 256 + p[13];	/* ethertype */
	r += p[23];			/* IP protocol */
	r += *(__u16 *)(p + 16);
	r += *(__u32 *)(p + 12) & 0xff;
	return r;
}
