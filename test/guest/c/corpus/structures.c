/* SPDX-License-Identifier: MIT */
/* Data structures: sorting, a hash table, a linked list, bit fields and a CRC table. */
#include "kernel.h"

static uint32_t rng = 12345;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

__attribute__((noinline)) static void sort(int32_t *v, int n)
{
	for (int gap = n / 2; gap > 0; gap /= 2)
		for (int i = gap; i < n; i++)
			for (int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				int32_t t = v[j];
				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

struct node {
	struct node *next;
	uint32_t key;
	uint16_t count;
	unsigned colour : 3;
	unsigned marked : 1;
	signed delta : 12;
};

static struct node pool[256];
static struct node *buckets[31];

__attribute__((noinline)) static struct node *insert(uint32_t key, int *used)
{
	struct node **p = &buckets[key % 31];
	for (; *p; p = &(*p)->next)
		if ((*p)->key == key) {
			(*p)->count++;
			(*p)->delta -= 3;
			return *p;
		}
	struct node *n = &pool[(*used)++];
	n->key = key;
	n->count = 1;
	n->colour = key & 7;
	n->marked = (key >> 3) & 1;
	n->delta = (int)(key & 0x7ff) - 1024;
	n->next = 0;
	*p = n;
	return n;
}

static uint32_t crc_table[256];

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

int kmain(unsigned cpu, const void *info)
{
	(void)info;
	if (cpu)
		return 0;
	int32_t v[300];
	for (int i = 0; i < 300; i++)
		v[i] = (int32_t)next() >> (i & 7);
	sort(v, 300);
	int sorted = 1;
	for (int i = 1; i < 300; i++)
		sorted &= v[i - 1] <= v[i];
	kprintf("structures: sorted %d, min %d, median %d, max %d\n", sorted, v[0], v[150], v[299]);
	int used = 0;
	for (int i = 0; i < 600 && used < 256; i++)
		insert(next() % 200, &used);
	uint64_t h = 0;
	for (int b = 0; b < 31; b++)
		for (struct node *n = buckets[b]; n; n = n->next)
			h = h * 31 + n->key * 7 + n->count + n->colour + n->marked * 2 + (uint64_t)(int64_t)n->delta;
	kprintf("structures: %d keys, hash %016lx\n", used, h);
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	kprintf("structures: crc32 %08x\n", crc32((const uint8_t *)"The quick brown fox jumps over the lazy dog", 43));
	return 0;
}
