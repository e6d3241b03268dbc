// SPDX-License-Identifier: GPL-2.0
/*
 * calls: helper calls, bpf-to-bpf calls and global data.
 *
 *  helpers   array + hash map lookup/update/delete (the verifier inlines the
 *            array and hash lookups), ktime_get_ns, get_prandom_u32,
 *            get_smp_processor_id (inlined: per-CPU load), jiffies64
 *            (inlined), trace_printk (bpf_printk with a .rodata format),
 *            .bss/.data/.rodata accesses (map-value ld_imm64)
 *  bpf2bpf   calls to naked subprograms with 1..5 arguments, each using a
 *            different set of callee-saved registers (r6..r9 -> rbx, r13,
 *            r14, r15: the JIT pushes/pops only the used ones), a
 *            subprogram with a >128-byte stack that calls another one
 */
#include "insn.h"

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

__u64 bss_cnt;
__u64 data_val = 7;
const volatile __u64 ro_val = 42;

SEC("tc")
int helpers(struct __sk_buff *skb)
{
	__u32 k = 1, hk = skb->mark;
	__u64 one = 1, *v, *hv, t, j;
	__u32 r, cpu;

	v = bpf_map_lookup_elem(&arr, &k);
	if (v)
		*v += skb->len;
	hv = bpf_map_lookup_elem(&hmap, &hk);
	if (hv)
		__sync_fetch_and_add(hv, 1);
	else
		bpf_map_update_elem(&hmap, &hk, &one, BPF_ANY);
	if (skb->len > 1000)
		bpf_map_delete_elem(&hmap, &hk);
	t = bpf_ktime_get_ns();
	r = bpf_get_prandom_u32();
	cpu = bpf_get_smp_processor_id();
	j = bpf_jiffies64();
	bss_cnt += t & 1;
	data_val += r;
	bpf_printk("cpu %d ro %llu", cpu, ro_val);
	return (j + ro_val + bss_cnt) & 1;
}

/* no callee-saved register */
SUBPROG int sub_a1(void)
{
	asm volatile("r0 = r1;\n r0 += 1;\n exit;\n" ::: "memory");
}

/* r6 (rbx) */
SUBPROG int sub_a2(void)
{
	asm volatile("r6 = r1;\n r6 += r2;\n r0 = r6;\n exit;\n" ::: "memory");
}

/* r6, r7 (rbx, r13) */
SUBPROG int sub_a3(void)
{
	asm volatile("r6 = r1;\n r7 = r2;\n r7 ^= r3;\n r6 += r7;\n r0 = r6;\n exit;\n" ::: "memory");
}

/* r6, r7, r8 (rbx, r13, r14) */
SUBPROG int sub_a4(void)
{
	asm volatile("r6 = r1;\n r7 = r2;\n r8 = r3;\n r6 += r4;\n r7 += r8;\n r0 = r6;\n r0 += r7;\n exit;\n" ::: "memory");
}

/* r6..r9 and a stack slot */
SUBPROG int sub_a5(void)
{
	asm volatile(
	"*(u64 *)(r10 - 8) = r5;\n r6 = r1;\n r7 = r2;\n r8 = r3;\n r9 = r4;\n"
	"r9 += r6;\n r9 += r7;\n r9 += r8;\n r0 = *(u64 *)(r10 - 8);\n r0 += r9;\n exit;\n" ::: "memory");
}

/* r9 only (r15) */
SUBPROG int sub_r9(void)
{
	asm volatile("r9 = r1;\n r9 *= 3;\n r0 = r9;\n exit;\n" ::: "memory");
}

/* r7 and r9 (r13, r15) */
SUBPROG int sub_r7r9(void)
{
	asm volatile("r7 = r1;\n r9 = r2;\n r7 += r9;\n r0 = r7;\n exit;\n" ::: "memory");
}

/* r8 only (r14) */
SUBPROG int sub_r8(void)
{
	asm volatile("r8 = r1;\n r8 -= 5;\n r0 = r8;\n exit;\n" ::: "memory");
}

/* stack depth > 128, calls sub_a1 (nested call) */
SUBPROG int sub_nested(void)
{
	asm volatile(
	"*(u64 *)(r10 - 16) = r1;\n *(u64 *)(r10 - 200) = r1;\n"
	"call sub_a1;\n"
	"r1 = *(u64 *)(r10 - 200);\n r0 += r1;\n r1 = *(u64 *)(r10 - 16);\n r0 += r1;\n exit;\n" ::: "memory");
}

SEC("tc") NAKED int bpf2bpf(void)
{
	asm volatile(
	INIT_MISC
	"r1 = r6;\n call sub_a1;\n r6 += r0;\n"
	"r1 = r7;\n r2 = r8;\n call sub_a2;\n r6 += r0;\n"
	"r1 = r7;\n r2 = r8;\n r3 = r9;\n call sub_a3;\n r7 += r0;\n"
	"r1 = r7;\n r2 = r8;\n r3 = r9;\n r4 = r6;\n call sub_a4;\n r8 += r0;\n"
	"r1 = r7;\n r2 = r8;\n r3 = r9;\n r4 = r6;\n r5 = r7;\n call sub_a5;\n r9 += r0;\n"
	"r1 = r9;\n call sub_r9;\n r6 ^= r0;\n"
	"r1 = r9;\n r2 = r6;\n call sub_r7r9;\n r7 ^= r0;\n"
	"r1 = r8;\n call sub_r8;\n r8 ^= r0;\n"
	"r1 = r7;\n call sub_nested;\n r9 ^= r0;\n"
	"r0 = r6;\n r0 += r7;\n r0 += r8;\n r0 += r9;\n r0 &= 1;\n"
	"exit;\n"
	:: PRANDOM : "memory");
}

char __license[] SEC("license") = "GPL";
