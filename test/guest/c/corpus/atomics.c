/* SPDX-License-Identifier: MIT */
/* Atomics of 1, 2, 4, 8 and 16 bytes: exchange, compare-and-swap, fetch-and-op, on one CPU (the results are deterministic). */
#include "kernel.h"

typedef unsigned __int128 u128;

static uint64_t hash = 0xcbf29ce484222325ull;

static void mix(uint64_t v)
{
	hash = (hash ^ v) * 0x100000001b3ull;
}

static uint8_t a8;
static uint16_t a16;
static uint32_t a32;
static uint64_t a64;
static u128 a128 __attribute__((aligned(16)));
/* Zero, read at run time: GCC 12 cannot compile a 16-byte CASP with a constant operand (an internal compiler error). */
static volatile uint64_t zero;

#define EXERCISE(var, type)                                                                 \
	do {                                                                                \
		type old = __atomic_fetch_add(&var, (type)k, __ATOMIC_SEQ_CST);             \
		mix((uint64_t)old);                                                         \
		mix((uint64_t)__atomic_fetch_or(&var, (type)(k << 3), __ATOMIC_ACQUIRE));   \
		mix((uint64_t)__atomic_fetch_and(&var, (type)~k, __ATOMIC_RELEASE));        \
		mix((uint64_t)__atomic_fetch_xor(&var, (type)0x5a, __ATOMIC_RELAXED));      \
		mix((uint64_t)__atomic_exchange_n(&var, (type)(old * 3), __ATOMIC_ACQ_REL)); \
		type expected = (type)(old * 3);                                            \
		mix(__atomic_compare_exchange_n(&var, &expected, (type)(k + 1), 0,          \
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));       \
		expected = 0x77;                                                            \
		mix(__atomic_compare_exchange_n(&var, &expected, (type)9, 0,                \
						__ATOMIC_SEQ_CST, __ATOMIC_RELAXED));       \
		mix((uint64_t)expected);                                                    \
		mix((uint64_t)__atomic_add_fetch(&var, (type)1, __ATOMIC_SEQ_CST));         \
		mix((uint64_t)__atomic_load_n(&var, __ATOMIC_ACQUIRE));                     \
	} while (0)

int kmain(unsigned cpu, const void *info)
{
	(void)info;
	if (cpu)
		return 0;
	for (uint64_t k = 0; k < 50; k++) {
		EXERCISE(a8, uint8_t);
		EXERCISE(a16, uint16_t);
		EXERCISE(a32, uint32_t);
		EXERCISE(a64, uint64_t);
		/* 16-byte atomics: GCC inlines the __sync builtins (CMPXCHG16B with -mcx16; LDXP/STXP, or CASP with LSE),
		 * while the __atomic ones call libatomic, which a kernel does not have. */
		u128 expected = a128;
		u128 desired = ((u128)(k * 0x9e3779b97f4a7c15ull) << 64) | (expected + k);
		mix(__sync_bool_compare_and_swap(&a128, expected, desired));
		u128 seen = __sync_val_compare_and_swap(&a128, (u128)(12345 + zero), (u128)zero);
		mix((uint64_t)seen);
		mix((uint64_t)(seen >> 64));
		seen = __sync_val_compare_and_swap(&a128, seen, seen ^ ((u128)k << 100));
		mix((uint64_t)(seen >> 64));
		if (k % 10 == 9)
			kprintf("atomics %lu: %016lx\n", k / 10, hash);
	}
	return 0;
}
