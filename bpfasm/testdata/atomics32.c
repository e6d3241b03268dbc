// SPDX-License-Identifier: GPL-2.0-only
// Source of atomics32.objdump.txt: 32-bit atomics that llvm-objdump 14 prints
// as <unknown>.
typedef unsigned int u32;

#define SEC(s) __attribute__((section(s), used))

SEC("xdp")
int atomics32(u32 *p)
{
	u32 v = p[1];

	__sync_fetch_and_and(p, 6);
	__sync_fetch_and_or(p, v);
	__sync_fetch_and_xor(p, 7);
	v += __sync_lock_test_and_set(p + 2, v);
	v += __sync_val_compare_and_swap(p + 3, v, 9);
	return v;
}
