/* SPDX-License-Identifier: MIT */
/* Struct copies, zeroing, memset/memcpy/memmove, string loops and arrays: what compiles to REP STOS / REP MOVS or the library calls. */
#include "kernel.h"

struct record {
	uint64_t id;
	char name[40];
	uint32_t flags[13];
	uint16_t small;
	uint8_t tail[7];
};

static uint64_t hash = 0xcbf29ce484222325ull;

static void mix_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		hash = (hash ^ b[i]) * 0x100000001b3ull;
}

__attribute__((noinline)) static struct record make(uint64_t id)
{
	struct record r = { 0 };
	r.id = id;
	for (int i = 0; i < 39; i++)
		r.name[i] = (char)('a' + (id + (uint64_t)i) % 26);
	for (int i = 0; i < 13; i++)
		r.flags[i] = (uint32_t)(id * 2654435761u) >> i;
	r.small = (uint16_t)id;
	return r;
}

static struct record table[16];
static uint8_t big[4096 + 64];

__attribute__((noinline)) static void copy_around(unsigned k)
{
	struct record tmp = table[k % 16];
	tmp.id ^= 0x5555;
	table[(k + 5) % 16] = tmp;
	memset(big + (k % 61), (int)k, 1000 + k);
	memcpy(big + 2000, big + (k % 37), 700);
	memmove(big + (k % 23) + 1, big + (k % 23), 1500);
	memmove(big + 100, big + 150 + (k % 9), 900);
}

__attribute__((noinline)) static size_t count_char(const char *s, char c)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}

int kmain(unsigned cpu, const void *info)
{
	(void)info;
	if (cpu)
		return 0;
	for (unsigned i = 0; i < 16; i++)
		table[i] = make(i * 77 + 3);
	for (unsigned k = 0; k < 40; k++) {
		copy_around(k);
		if (k % 8 == 7) {
			mix_bytes(table, sizeof(table));
			mix_bytes(big, sizeof(big));
			kprintf("memory %u: %016lx\n", k / 8, hash);
		}
	}
	uint64_t zero[100] = { 0 };
	uint64_t sum = 0;
	for (int i = 0; i < 100; i++)
		sum += zero[i];
	char text[200];
	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	text[7] = 'y';
	text[100] = 'y';
	kprintf("memory: zero sum %lu, length %lu, y's %lu, compare %d %d\n", sum, strlen(text), count_char(text, 'y'),
		memcmp(table[0].name, table[1].name, 10) < 0, memcmp(big, big, 100));
	return 0;
}
