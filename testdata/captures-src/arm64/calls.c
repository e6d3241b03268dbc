// SPDX-License-Identifier: GPL-2.0
// GT-MCPU: v1
/* Helper calls (bpf_trace_printk is in printk.c: tinyconfig kernels lack it),
 * inlined map lookups, bpf-to-bpf calls with arguments, global data
 * (.bss/.data/.rodata), array and hash maps, callbacks (ld_imm64 of a
 * function: BPF_PSEUDO_FUNC), LD_ABS/LD_IND, and a tail call from a program
 * with a stack frame (classifier_0 goes into slot 0). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jmp_table SEC(".maps");

__u64 counter;			/* .bss */
__u64 seed = 0x1234567890abcdefULL;	/* .data */
const volatile __u64 factor = 3;	/* .rodata */

static __noinline __u64 add5(__u64 a, __u64 b, __u64 c, __u64 d, __u64 e)
{
	return a * factor + b - c + (d ^ e);
}

static __noinline __u64 leaf(__u64 a)
{
	volatile __u64 buf[4];

	buf[0] = a;
	buf[3] = a + 1;
	return buf[0] + buf[3];
}

static __noinline __u64 middle(__u64 a, __u64 b)
{
	return leaf(a) + leaf(b) + add5(a, b, 1, 2, 3);
}

__noinline int global_fn(int x)
{
	return x * 7 + 1;
}

SEC("tc")
int helpers(struct __sk_buff *skb)
{
	__u32 k = skb->len & 3, k2 = 5;
	__u64 *v, nv = 1;

	v = bpf_map_lookup_elem(&arr, &k);
	if (v)
		*v += bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&hash, &k2);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&hash, &k2, &nv, BPF_ANY);
	counter += bpf_get_prandom_u32() & 1;
	seed ^= counter;
	return 0;
}

SEC("tc")
int bpf2bpf(struct __sk_buff *skb)
{
	__u64 x = skb->len, y = skb->mark;

	counter = middle(x, y) + add5(y, x, 3, 4, 5);
	return global_fn(skb->priority) & 1;
}

static int loop_cb(__u32 idx, void *ctx)
{
	*(__u64 *)ctx += idx;
	return 0;
}

struct bpf_map;
static __u64 each_cb(struct bpf_map *map, __u32 *key, __u64 *val, void *ctx)
{
	*(__u64 *)ctx += *val;
	return 0;
}

SEC("tc")
int callbacks(struct __sk_buff *skb)
{
	__u64 sum = 0;

	bpf_loop(4, loop_cb, &sum, 0);
	bpf_for_each_map_elem(&arr, each_cb, &sum, 0);
	counter = sum;
	return 0;
}

SEC("tc")
int ld_abs(struct __sk_buff *skb)
{
	__u64 ret;

	asm volatile(
	"r6 = %[skb]\n"
	"r0 = *(u8 *)skb[12]\n"
	"r7 = r0\n"
	"r0 = *(u16 *)skb[12]\n"
	"r7 += r0\n"
	"r0 = *(u32 *)skb[14]\n"
	"r7 += r0\n"
	"r2 = 2\n"
	".long 0x00002048, 10 /* r0 = *(u16 *)skb[r2 + 10] (LD_IND) */\n"
	"r7 += r0\n"
	"%[ret] = r7\n"
	: [ret]"=r"(ret) : [skb]"r"(skb)
	: "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "memory");
	return ret & 0xff;
}

SEC("tc")
int classifier_0(struct __sk_buff *skb)
{
	counter = 100;
	return 5;
}

SEC("tc")
int tail_stack(struct __sk_buff *skb)
{
	volatile __u64 buf[6];

	buf[0] = skb->len;
	buf[5] = skb->mark;
	bpf_tail_call(skb, &jmp_table, buf[0] & 1 ? 0 : buf[5] & 1);
	return buf[0] + buf[5];
}

char __license[] SEC("license") = "GPL";
