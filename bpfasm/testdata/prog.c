// SPDX-License-Identifier: GPL-2.0-only
// Source of prog.objdump.txt; see the header of that file for how it was built.
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef long long s64;

#define SEC(s) __attribute__((section(s), used))

struct {
	int (*type)[3];		/* BPF_MAP_TYPE_PROG_ARRAY */
	int (*max_entries)[4];
} jmp_table SEC(".maps");

struct {
	int (*type)[2];		/* BPF_MAP_TYPE_ARRAY */
	int (*max_entries)[8];
	u32 *key;
	u64 *value;
} counters SEC(".maps");

static long (*bpf_tail_call)(void *ctx, void *map, u32 idx) = (void *)12;
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static u64 (*bpf_ktime_get_ns)(void) = (void *)5;

static u64 hits;
static u32 seed = 7;

static __attribute__((noinline)) int subprog_tail(void *ctx)
{
	volatile u32 ret = 1;

	bpf_tail_call(ctx, &jmp_table, 0);
	return ret;
}

__attribute__((noinline)) u64 mix(u64 a, u32 b)
{
	u64 x = a;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x += (u64)b * 0x9e3779b97f4a7c15ULL;
		if ((s64)x < 0)
			x = -x;
	}
	return x % 1000003 + (b >> 3) / 5;
}

SEC("xdp")
int entry(u64 *ctx)
{
	u32 key = ((u32 *)ctx)[1] & 7;
	u64 *val;
	u64 v = ctx[0];
	u16 port = ((u16 *)ctx)[5];

	val = bpf_map_lookup_elem(&counters, &key);
	if (!val)
		return 0;
	__sync_fetch_and_add(val, 1);
	v += __sync_fetch_and_or(&hits, v);
	v ^= __sync_lock_test_and_set(val, v);
	v += __sync_val_compare_and_swap(&hits, v, 3);
	seed = seed * 1103515245 + 12345;
	if (port == __builtin_bswap16(80))
		v += bpf_ktime_get_ns();
	if (((u8 *)ctx)[3] & 0x40)
		((u8 *)ctx)[4] = 0xff;
	*(u32 *)&ctx[2] = seed >> 16;
	v += mix(v, key);
	return subprog_tail(ctx) + (int)v;
}

char _license[] SEC("license") = "GPL";
