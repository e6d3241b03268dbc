// SPDX-License-Identifier: GPL-2.0
// GT-MCPU: v3
/* BPF_ATOMIC in every form the arm64 JIT knows (add/and/or/xor with and
 * without BPF_FETCH, xchg, cmpxchg; 32 and 64 bit; offset 0 and not), on a
 * map value, on .bss globals and on the stack.  -mcpu=v3. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val {
	__u64 a;	/* 0 */
	__u32 b;	/* 8 */
	__u32 c;	/* 12 */
	__u64 d;	/* 16 */
	__u32 e;	/* 24 */
	__u32 f;	/* 28 */
	__u64 pad[500];
	__u64 far;	/* 4032 */
	__u32 far32;	/* 4040 */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct val);
} vals SEC(".maps");

__u64 g64;
__u32 g32;
__u64 r0, r1, r2, r3;	/* .bss scalars */

SEC("tc")
int atomic_map(struct __sk_buff *skb)
{
	__u32 k = 0;
	struct val *v = bpf_map_lookup_elem(&vals, &k);
	__u64 x = skb->len;
	__u32 y = skb->mark;

	if (!v)
		return 0;
	/* no fetch: results unused */
	__sync_fetch_and_add(&v->a, x);
	__sync_fetch_and_and(&v->d, x);
	__sync_fetch_and_or(&v->far, x);
	__sync_fetch_and_xor(&v->d, x);
	__sync_fetch_and_add(&v->b, y);
	__sync_fetch_and_and(&v->c, y);
	__sync_fetch_and_or(&v->e, y);
	__sync_fetch_and_xor(&v->far32, y);
	/* fetch */
	v->pad[0] = __sync_fetch_and_add(&v->d, x);
	v->pad[1] = __sync_fetch_and_and(&v->a, x + 1);
	v->pad[2] = __sync_fetch_and_or(&v->far, x + 2);
	v->pad[3] = __sync_fetch_and_xor(&v->d, x + 3);
	v->pad[4] = __sync_fetch_and_add(&v->c, y);
	v->pad[5] = __sync_fetch_and_and(&v->b, y + 1);
	v->pad[6] = __sync_fetch_and_or(&v->f, y + 2);
	v->pad[7] = __sync_fetch_and_xor(&v->far32, y + 3);
	v->pad[8] = __sync_fetch_and_sub(&v->d, x);
	/* xchg / cmpxchg */
	v->pad[9] = __sync_lock_test_and_set(&v->a, x);
	v->pad[10] = __sync_lock_test_and_set(&v->e, y);
	v->pad[11] = __sync_val_compare_and_swap(&v->d, x, x + 5);
	v->pad[12] = __sync_val_compare_and_swap(&v->f, y, y + 5);
	v->pad[13] = __sync_val_compare_and_swap(&v->far, 0, x);
	return 0;
}

SEC("tc")
int atomic_global(struct __sk_buff *skb)
{
	__u64 x = skb->len;
	__u32 y = skb->mark;

	__sync_fetch_and_add(&g64, x);
	__sync_fetch_and_or(&g32, y);
	r0 = __sync_fetch_and_add(&g64, 1);
	r1 = __sync_fetch_and_xor(&g32, y);
	r2 = __sync_lock_test_and_set(&g64, x);
	r3 = __sync_val_compare_and_swap(&g32, y, 7);
	return 0;
}

/* atomics whose base register is r10 itself (the JIT adds the offset to x25) */
SEC("tc")
int atomic_stack(struct __sk_buff *skb)
{
	__u64 ret;

	asm volatile(
	"r1 = %[x]\n"
	"*(u64 *)(r10 - 8) = r1\n"
	"*(u64 *)(r10 - 16) = r1\n"
	"lock *(u64 *)(r10 - 8) += r1\n"
	"lock *(u32 *)(r10 - 16) += w1\n"
	"lock *(u64 *)(r10 - 8) |= r1\n"
	"r2 = *(u64 *)(r10 - 16)\n"
	"r0 = r2\n"
	"%[ret] = r0\n"
	: [ret]"=r"(ret) : [x]"r"((__u64)skb->len)
	: "r0", "r1", "r2", "memory");
	return ret;
}

char __license[] SEC("license") = "GPL";
