/* SPDX-License-Identifier: MIT */
/*
 * The libgcc routines GCC calls for kernel code, in general registers only.
 * Debian's x86-64 libgcc divides 128-bit numbers with SSE and its AArch64
 * libgcc counts bits with SIMD (CNT), neither of which shootdown's CPUs
 * model; linking these instead of -lgcc keeps a kernel to the general
 * registers. Names and contracts are libgcc's ("The GCC low-level runtime
 * library", Integer library routines).
 */
#include <stdint.h>

typedef unsigned __int128 u128;
typedef __int128 s128;

/* Shift-and-subtract division: one quotient bit per step. */
static u128 udivmod128(u128 n, u128 d, u128 *rem)
{
	u128 q = 0, r = 0;
	if (d == 0) {
		/* Division by zero is undefined in C; trap as the hardware divide would. */
		__builtin_trap();
	}
	for (int i = 127; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= (u128)1 << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

u128 __udivti3(u128 n, u128 d)
{
	return udivmod128(n, d, 0);
}

u128 __umodti3(u128 n, u128 d)
{
	u128 r;
	udivmod128(n, d, &r);
	return r;
}

u128 __udivmodti4(u128 n, u128 d, u128 *rem)
{
	return udivmod128(n, d, rem);
}

s128 __divti3(s128 n, s128 d)
{
	int neg = (n < 0) != (d < 0);
	u128 q = udivmod128(n < 0 ? -(u128)n : (u128)n, d < 0 ? -(u128)d : (u128)d, 0);
	return neg ? -(s128)q : (s128)q;
}

s128 __modti3(s128 n, s128 d)
{
	u128 r;
	udivmod128(n < 0 ? -(u128)n : (u128)n, d < 0 ? -(u128)d : (u128)d, &r);
	return n < 0 ? -(s128)r : (s128)r;
}

int __popcountdi2(int64_t a)
{
	uint64_t x = (uint64_t)a;
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (int)((x * 0x0101010101010101ull) >> 56);
}

int __popcountsi2(int32_t a)
{
	return __popcountdi2((int64_t)(uint32_t)a);
}

int __popcountti2(s128 a)
{
	return __popcountdi2((int64_t)(uint64_t)a) + __popcountdi2((int64_t)(uint64_t)((u128)a >> 64));
}

int __paritydi2(int64_t a)
{
	return __popcountdi2(a) & 1;
}

int __paritysi2(int32_t a)
{
	return __popcountsi2(a) & 1;
}
