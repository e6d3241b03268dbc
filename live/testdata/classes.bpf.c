// SPDX-License-Identifier: GPL-2.0-only
/* classes: every BPF instruction class (clang -mcpu=v3): ALU and ALU64
 * with immediates and registers (add sub mul div mod or and xor lsh rsh
 * arsh neg mov, byte swaps), LD (ld_imm64), LDX/ST/STX of 1, 2, 4 and 8
 * bytes, atomics (add, fetch add, or, and, xor, xchg, cmpxchg), JMP and
 * JMP32 with every condition, a bounded loop, exits in the middle. */
#include "common.h"

volatile __u64 seed64 = 0x0123456789abcdefULL;
volatile __u32 seed32 = 0x89abcdefu;
volatile __s64 neg = -12345;
volatile __u32 zero32;
__u64 out[8];
__u64 counter;

SEC_TC
int alu(struct __sk_buff *skb)
{
	__u64 a = seed64, b = seed32, r = 0;
	__u32 x = seed32, y = (__u32)seed64, z = zero32;
	__s64 n = neg;

	r += a + b;
	r ^= a - b;
	r |= a & 0xff00;
	r += a * 3;
	r += a / 7;
	r += a % 13;
	r += a << 5;
	r += a >> 9;
	r += (__u64)(n >> 3);
	r += -a;
	r += a / b;
	r += a % b;
	r += a * b;
	r += a / (b | z);	/* verifier keeps the div-by-zero guard */
	r += a << (b & 31);
	r += a >> (x & 15);
	r += (__u64)(n >> (y & 7));
	x += y;
	x -= 7;
	x *= y;
	x /= 3;
	x %= 1000;
	x <<= 2;
	x >>= 1;
	x ^= y;
	x |= 0x10;
	x &= ~0x4u;
	x += y / (z | 5);
	x -= y % (z | 7);
	r += x;
	r += (__u64)((__s32)x >> 3);
	r += __builtin_bswap64(a);
	r += __builtin_bswap32(x);
	r += __builtin_bswap16((__u16)x);
	r += 0x1122334455667788ULL;
	out[0] = r;
	return (__u32)(r ^ (r >> 32)) & 0xffff;
}

SEC_TC
int mem(struct __sk_buff *skb)
{
	volatile __u8 b1;
	volatile __u16 b2;
	volatile __u32 b4;
	volatile __u64 b8;
	__u64 r, old;

	b1 = (__u8)seed64;
	b2 = (__u16)seed64;
	b4 = (__u32)seed64;
	b8 = seed64;
	r = b1 + b2 + b4 + b8;
	out[1] = r;
	out[2] = (__u8)r;
	((__u32 *)out)[6] = (__u32)r;
	((__u16 *)out)[14] = (__u16)r;
	((__u8 *)out)[30] = (__u8)r;
	r += ((__u8 *)out)[30] + ((__u16 *)out)[14] + ((__u32 *)out)[6];

	__sync_fetch_and_add(&counter, 1);
	old = __sync_fetch_and_add(&out[3], 5);
	__sync_fetch_and_or(&out[4], 0x30);
	__sync_fetch_and_and(&out[4], 0x10);
	__sync_fetch_and_xor(&out[4], 0x3);
	old += __sync_lock_test_and_set(&out[5], 9);
	old += __sync_val_compare_and_swap(&out[5], 9, 11);
	old += out[5];
	old += __sync_fetch_and_add((__u32 *)&out[6], 2);
	return (__u32)(r + old) & 0xffff;
}

SEC_TC
int jumps(struct __sk_buff *skb)
{
	__u64 a = seed64;
	__u32 x = seed32;
	__s64 n = neg;
	__s32 sx = (__s32)seed32;
	int r = 0;

	if (a > 5)
		r |= 1;
	if (a >= 0x0123456789abcdefULL)
		r |= 2;
	if (a < 3)
		r |= 4;
	if (a <= 1)
		r |= 8;
	if (n < -5)
		r |= 16;
	if (n >= 0)
		r |= 32;
	if ((__s64)a > n)
		r |= 64;
	if (a == 7)
		r |= 128;
	if (a != 7)
		r |= 256;
	if (a & 0x100)
		r |= 512;
	if (x > 10u)
		r |= 1024;
	if (sx < 0)
		r |= 2048;
	if (sx <= -3)
		r |= 4096;
	if (x == 0x89abcdefu)
		r |= 8192;
	if (n > (__s64)x)
		return 1;
	for (int i = 0; i < 16; i++)
		if (a & (1ull << i))
			r += i;
	if (x < (__u32)a)
		r += 100000;
	return r;
}
