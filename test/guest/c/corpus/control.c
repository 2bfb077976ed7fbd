/* SPDX-License-Identifier: MIT */
/* Control flow: deep recursion with frames, switch jump tables, function pointers, varargs, setcc and conditional moves. */
#include <stdarg.h>
#include "kernel.h"

static uint64_t hash = 0xcbf29ce484222325ull;

static void mix(uint64_t v)
{
	hash = (hash ^ v) * 0x100000001b3ull;
}

__attribute__((noinline)) static uint64_t fib(unsigned n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static uint64_t ackermann(uint64_t m, uint64_t n)
{
	if (m == 0)
		return n + 1;
	if (n == 0)
		return ackermann(m - 1, 1);
	return ackermann(m - 1, ackermann(m, n - 1));
}

__attribute__((noinline)) static int classify(unsigned op, int a, int b)
{
	switch (op) {
	case 0: return a + b;
	case 1: return a - b;
	case 2: return a * b;
	case 3: return b ? a / b : -1;
	case 4: return a & b;
	case 5: return a | b;
	case 6: return a ^ b;
	case 7: return a << (b & 15);
	case 8: return a >> (b & 15);
	case 9: return a < b;
	case 10: return a == b;
	case 11: return a > b ? a : b;
	default: return -op;
	}
}

static int add(int a, int b) { return a + b; }
static int sub(int a, int b) { return a - b; }
static int mul(int a, int b) { return a * b; }
static int (*const ops[])(int, int) = { add, sub, mul };

__attribute__((noinline)) static int64_t sum_varargs(int n, ...)
{
	va_list ap;
	va_start(ap, n);
	int64_t s = 0;
	for (int i = 0; i < n; i++)
		s += (i & 1) ? va_arg(ap, int64_t) : va_arg(ap, int);
	va_end(ap);
	return s;
}

__attribute__((noinline)) static unsigned compare_all(int64_t a, int64_t b)
{
	unsigned r = 0;
	r |= (a < b) << 0;
	r |= (a <= b) << 1;
	r |= (a == b) << 2;
	r |= ((uint64_t)a < (uint64_t)b) << 3;
	r |= ((uint64_t)a >= (uint64_t)b) << 4;
	r |= ((int32_t)a > (int32_t)b) << 5;
	r |= ((uint8_t)a == (uint8_t)b) << 6;
	r |= (a != 0 && b != 0) << 7;
	return r;
}

int kmain(unsigned cpu, const void *info)
{
	(void)info;
	if (cpu)
		return 0;
	kprintf("control: fib(24) = %lu, ackermann(2, 300) = %lu\n", fib(24), ackermann(2, 300));
	for (unsigned op = 0; op < 14; op++)
		for (int a = -3; a < 40; a += 7)
			for (int b = -2; b < 9; b += 3)
				mix((uint64_t)(int64_t)classify(op, a, b));
	kprintf("control: switch %016lx\n", hash);
	for (int i = 0; i < 300; i++)
		mix((uint64_t)(int64_t)ops[i % 3](i, 1000 - i));
	kprintf("control: pointers %016lx\n", hash);
	kprintf("control: varargs %ld\n", sum_varargs(7, 1, (int64_t)-2, 3, (int64_t)1 << 40, -5, (int64_t)6, 7));
	static const int64_t v[] = { -1, 0, 1, 0x7fffffff, -0x80000000ll, 0x100000000ll, -0x7fffffffffffffffll - 1 };
	for (unsigned i = 0; i < 7; i++)
		for (unsigned j = 0; j < 7; j++)
			mix(compare_all(v[i], v[j]));
	kprintf("control: compares %016lx\n", hash);
	return 0;
}
