// SPDX-License-Identifier: GPL-2.0
// GT-MCPU: v3
/* Plain C compiled with -mcpu=v3: clang's own choice of ALU32 / JMP32
 * instructions, direct packet access (data/data_end), a bounded loop, a
 * switch, bpf-to-bpf calls with 32-bit arguments. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* scalar globals only (the capture records them as numbers) */
__u32 st0, st1, st2, st3, st4, st5, st6, st7;
__u64 wide0, wide1, wide2;
volatile __s32 sv0, sv1, sv2, sv3;

static __noinline __u32 mix(__u32 a, __u32 b, __s32 c)
{
	a ^= b >> 3;
	a += b << 7;
	a = (a * 2654435761u) ^ (a >> 16);
	if (c < -5)
		a |= 0x80000000u;
	else if (c > 1000)
		a &= 0x7ffff;
	if ((__s32)a >= c)
		a -= c;
	return a / (b | 1) + a % 13;
}

SEC("tc")
int parse(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	unsigned char *p = data;
	__u32 h = 0, i;

	if (data + 34 > data_end)
		return 1;
	/* ethertype, ip header fields */
	__u16 proto = (p[12] << 8) | p[13];
	switch (proto) {
	case 0x0800: st0++; break;
	case 0x86dd: st1++; break;
	case 0x0806: st2++; break;
	default: st3++; break;
	}
	for (i = 0; i < 20; i++)
		h = h * 31 + p[14 + i];
	h = mix(h, skb->len, sv0);
	if (h > 1000000 && (__s32)h < sv1)
		st4 = h;
	wide0 = (__u64)h << 32 | skb->mark;
	wide1 = (__s64)sv2 >> 3;
	wide2 = ((__u64)(__s64)sv3 * 1000) / 7;
	return h & 3;
}

SEC("tc")
int arith32(struct __sk_buff *skb)
{
	__u32 a = skb->len, b = skb->mark, c = skb->priority;
	__s32 s = sv0;

	a = a * b + c;
	b = (b << (c & 31)) | (b >> (32 - (c & 31)));
	c = s >> (a & 31);
	if (a == b || (__s32)c <= s)
		a = ~a;
	if (b & 0x10)
		b = -b;
	st5 = a;
	st6 = b;
	st7 = c / (a | 1);
	return (a ^ b ^ c) & 0xff;
}

char __license[] SEC("license") = "GPL";
