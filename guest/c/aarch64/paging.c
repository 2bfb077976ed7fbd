/* SPDX-License-Identifier: MIT */
/*
 * Translation tables built in C (DDI0487 D8, 4 KiB granule, 39-bit VA:
 * levels 1 to 3), and the three things a kernel does with a mapping, each
 * with the maintenance it needs (DDI0487 D8.13, D8.16):
 *
 *   map    an invalid descriptor becomes valid: DSB so the walker sees it,
 *          ISB; no TLBI, since invalid entries are not cached;
 *   remap  a valid descriptor points elsewhere: break-before-make (write
 *          it invalid, DSB, TLBI VAE1IS, DSB, then the new one);
 *   unmap  a valid descriptor becomes invalid: DSB, TLBI VAE1IS, DSB, ISB;
 *          AT S1E1R then reports a translation fault in PAR_EL1.
 *
 * The window is a page at 2 GiB, under the level-1 table start.S built.
 * It prints the same on QEMU's virt board.
 */
#include "kernel.h"

#define DESC_TABLE 0x3ul
#define DESC_PAGE 0x3ul
#define DESC_AF (1ul << 10)
#define DESC_SH_INNER (3ul << 8)
#define DESC_NORMAL (DESC_AF | DESC_SH_INNER) /* AttrIndx 0: Normal write-back (MAIR in start.S) */

#define WINDOW 0x80000000ul
#define IDX(va, level) (((va) >> (12 + 9 * (3 - (level)))) & 511)

extern uint64_t l1_table[512];
static uint64_t l2_win[512] __attribute__((aligned(4096)));
static uint64_t l3_win[512] __attribute__((aligned(4096)));
static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));

static void set_pte(uint64_t v)
{
	__atomic_store_n(&l3_win[IDX(WINDOW, 3)], v, __ATOMIC_RELAXED);
	__asm__ volatile("dsb ishst" ::: "memory");
}

static void tlbi_window(void)
{
	__asm__ volatile("tlbi vae1is, %0\n\tdsb ish\n\tisb" : : "r"(WINDOW >> 12) : "memory");
}

static uint64_t at_s1e1r(uint64_t va)
{
	uint64_t par;
	__asm__ volatile("at s1e1r, %1\n\tisb\n\tmrs %0, par_el1" : "=r"(par) : "r"(va) : "memory");
	return par;
}

static int check(const char *what, uint64_t got, uint64_t want)
{
	kprintf("%s: %lx (%s)\n", what, got, got == want ? "ok" : "WRONG");
	return got == want;
}

int kmain(unsigned cpu, const void *info)
{
	(void)cpu;
	(void)info;
	int ok = 1;
	page_a[0] = 0xaaaa;
	page_b[0] = 0xbbbb;
	volatile uint64_t *window = (volatile uint64_t *)WINDOW;
	/* The window's path: a level-1 entry (2 GiB) → level 2 → level 3, whose entry is still invalid. */
	l2_win[IDX(WINDOW, 2)] = (uint64_t)(uintptr_t)l3_win | DESC_TABLE;
	l1_table[IDX(WINDOW, 1)] = (uint64_t)(uintptr_t)l2_win | DESC_TABLE;
	__asm__ volatile("dsb ishst\n\tisb" ::: "memory");

	/* map: invalid → valid; no TLBI. */
	set_pte((uint64_t)(uintptr_t)page_a | DESC_NORMAL | DESC_PAGE);
	__asm__ volatile("isb");
	ok &= check("map: the window reads page A", *window, 0xaaaa);
	*window = 0xa1;
	ok &= check("map: a write through the window lands in page A", page_a[0], 0xa1);

	/* remap: break-before-make. */
	set_pte(0);
	tlbi_window();
	set_pte((uint64_t)(uintptr_t)page_b | DESC_NORMAL | DESC_PAGE);
	__asm__ volatile("isb");
	ok &= check("remap: after break-before-make the window reads page B", *window, 0xbbbb);

	/* unmap: valid → invalid, TLBI; the translation now faults. */
	set_pte(0);
	tlbi_window();
	uint64_t par = at_s1e1r(WINDOW);
	ok &= check("unmap: AT S1E1R reports a fault (PAR_EL1.F)", par & 1, 1);
	ok &= check("unmap: a level-3 translation fault (PAR_EL1.FST)", (par >> 1) & 0x3f, 0x07);
	kprintf(ok ? "paging: all checks passed\n" : "paging: FAILED\n");
	return ok ? 0 : 1;
}
