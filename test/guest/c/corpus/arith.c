/* SPDX-License-Identifier: MIT */
/* Integer arithmetic in every width: multiply, divide and remainder, signed and unsigned, 128-bit values, shifts, rotates and the bit builtins. */
#include "kernel.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

static uint64_t hash;

static void mix(uint64_t v)
{
	hash = (hash ^ v) * 0x100000001b3ull;
}

static volatile uint64_t seeds[] = {
	0, 1, 2, 3, 7, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000u, 0xffffffffu,
	0x123456789abcdefull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull, 0xdeadbeefcafef00dull,
};
#define N (sizeof(seeds) / sizeof(seeds[0]))

__attribute__((noinline)) static void narrow(uint64_t a, uint64_t b)
{
	uint8_t a8 = (uint8_t)a, b8 = (uint8_t)b;
	uint16_t a16 = (uint16_t)a, b16 = (uint16_t)b;
	uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
	int8_t s8 = (int8_t)a, t8 = (int8_t)b;
	int16_t s16 = (int16_t)a, t16 = (int16_t)b;
	int32_t s32 = (int32_t)a, t32 = (int32_t)b;
	mix((uint8_t)(a8 * b8));
	mix((uint16_t)(a16 * b16));
	mix(a32 * b32);
	mix((uint64_t)(int64_t)(s8 * t8));
	mix((uint64_t)(int64_t)(s16 * t16));
	mix((uint64_t)(int64_t)s32 * (uint64_t)(int64_t)t32);
	if (b8) {
		mix(a8 / b8);
		mix(a8 % b8);
	}
	if (b16) {
		mix(a16 / b16);
		mix(a16 % b16);
	}
	if (b32) {
		mix(a32 / b32);
		mix(a32 % b32);
	}
	if (t8 && !(s8 == -128 && t8 == -1)) {
		mix((uint64_t)(int64_t)(s8 / t8));
		mix((uint64_t)(int64_t)(s8 % t8));
	}
	if (t16 && !(s16 == -32768 && t16 == -1)) {
		mix((uint64_t)(int64_t)(s16 / t16));
		mix((uint64_t)(int64_t)(s16 % t16));
	}
	if (t32 && !(s32 == INT32_MIN && t32 == -1)) {
		mix((uint64_t)(int64_t)(s32 / t32));
		mix((uint64_t)(int64_t)(s32 % t32));
	}
}

__attribute__((noinline)) static void wide(uint64_t a, uint64_t b)
{
	int64_t s = (int64_t)a, t = (int64_t)b;
	mix(a * b);
	mix((uint64_t)(((u128)a * b) >> 64));
	mix((uint64_t)(((s128)s * t) >> 64));
	if (b) {
		mix(a / b);
		mix(a % b);
	}
	if (t && !(s == INT64_MIN && t == -1)) {
		mix((uint64_t)(s / t));
		mix((uint64_t)(s % t));
	}
	u128 x = ((u128)a << 64) | b;
	unsigned n = (unsigned)(b & 127);
	mix((uint64_t)(x << n));
	mix((uint64_t)((x << n) >> 64));
	mix((uint64_t)(x >> n));
	mix((uint64_t)((s128)x >> n));
	mix((uint64_t)((s128)x >> n >> 64));
	if (b)
		mix((uint64_t)(x / b));
	if (b | 1)
		mix((uint64_t)(x % (b | 1)));
	mix((uint64_t)(((s128)x) / (s128)(t | 1)));
	mix(a >> (b & 63));
	mix(a << (b & 63));
	mix((uint64_t)(s >> (b & 63)));
	mix((a << (b & 63)) | (a >> ((64 - (b & 63)) & 63)));
	mix(((uint32_t)a >> (b & 31)) | ((uint32_t)a << ((32 - (b & 31)) & 31)));
}

__attribute__((noinline)) static void bits(uint64_t a)
{
	mix(__builtin_popcountll(a));
	mix(__builtin_popcount((uint32_t)a));
	mix(__builtin_parityll(a));
	if (a) {
		mix(__builtin_ctzll(a));
		mix(__builtin_clzll(a));
	}
	if ((uint32_t)a) {
		mix(__builtin_ctz((uint32_t)a));
		mix(__builtin_clz((uint32_t)a));
	}
	mix(__builtin_bswap64(a));
	mix(__builtin_bswap32((uint32_t)a));
	mix(__builtin_bswap16((uint16_t)a));
	mix(__builtin_ffsll((long long)a));
	mix((uint64_t)__builtin_clrsbll((long long)a));
	int64_t s = (int64_t)a;
	mix((uint64_t)(s < 0 ? -s : s));
	mix(a > 0x1000 ? a : 0x1000);
	mix((uint64_t)(s < -5 ? -5 : s));
	mix(a & -a);
	mix(a & (a - 1));
}

int kmain(unsigned cpu, const void *info)
{
	(void)info;
	if (cpu)
		return 0;
	hash = 0xcbf29ce484222325ull;
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = 0; j < N; j++) {
			narrow(seeds[i], seeds[j]);
			wide(seeds[i], seeds[j]);
		}
		bits(seeds[i]);
		kprintf("arith %u: %016lx\n", i, hash);
	}
	kprintf("arith: done\n");
	return 0;
}
