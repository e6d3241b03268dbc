// SPDX-License-Identifier: GPL-2.0-only
/* maps: helper calls, map lookups the verifier inlines (array:
 * array_map_gen_lookup; hash: the __htab_map_lookup_elem call), updates
 * and deletes, global data in .bss, .data and .rodata (map-value
 * ld_imm64), an inlined bpf_get_smp_processor_id, and bpf-to-bpf calls
 * with arguments and their own stack. */
#include "common.h"

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
} hmap SEC(".maps");

__u64 bss_hits;
__u32 last_cpu;
__u64 data_val = 7;
const volatile __u64 ro_val = 42;
volatile __u32 key_seed = 2;

static __attribute__((noinline)) __u64 mix(__u64 a, __u64 b, __u64 c)
{
	volatile __u64 buf[4] = {a, b, c, a ^ c};

	return buf[0] * 3 + buf[1] + (buf[2] << 1) + buf[3];
}

static __attribute__((noinline)) __u64 twice(__u64 v)
{
	return mix(v, v + 1, v + 2) + 1;
}

SEC_TC
int helpers(struct __sk_buff *skb)
{
	__u32 k = key_seed, hk = 5, cpu;
	__u64 one = 1, *v, *hv, r = 0;

	v = bpf_map_lookup_elem(&arr, &k);
	if (v) {
		*v += 3;
		r += *v;
	}
	bpf_map_update_elem(&hmap, &hk, &one, BPF_ANY);
	hv = bpf_map_lookup_elem(&hmap, &hk);
	if (hv)
		r += *hv * 10;
	bpf_map_delete_elem(&hmap, &hk);
	hv = bpf_map_lookup_elem(&hmap, &hk);
	if (!hv)
		r += 1000;
	cpu = bpf_get_smp_processor_id();
	/* Kept out of the result (the CPU differs), and not compared: the
	 * verifier knows cpu < nr_cpu_ids and would delete a test of it. */
	last_cpu = cpu;
	bss_hits += 1;
	data_val += 1;
	r += data_val + ro_val + bss_hits;
	r += twice(r & 0xff);
	return (__u32)r & 0xffff;
}
