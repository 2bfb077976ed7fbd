/* SPDX-License-Identifier: MIT */
/*
 * The memory-sharing scenario guest (issue 19): what its files share.
 * README.md beside this file is the contract with the host: which domain
 * this is (Xen's CPUID leaves), the region every domain fills at the same
 * guest-physical address, what each word of it holds, what a read must
 * see, the XENMEM_sharing_op calls of the driver domain and the exit
 * statuses.
 */
#ifndef SHARING_H
#define SHARING_H

#include "kernel.h"

#define MAX_CPUS   64 /* start.S has a stack for each */
#define MAX_PAGES  64
#define PAGE_SIZE  4096ul
#define PAGE_SHIFT 12
#define WORDS      (PAGE_SIZE / 8) /* 512 words to a page */

/*
 * The region: the same guest-physical address in every domain, inside the
 * boot identity map (docs/boot.md), above the kernel's image and stacks
 * (1 MiB to about 5.3 MiB) and below 16 MiB, the default memory of a domain.
 * Page i is gfn REGION_GFN + i in every domain.
 */
#define REGION_BASE 0x800000ul
#define REGION_GFN  (REGION_BASE >> PAGE_SHIFT)
#define REGION_PAGE(i) ((volatile uint64_t *)(uintptr_t)(REGION_BASE + (uint64_t)(i) * PAGE_SIZE))

/*
 * A word of the region (README.md, "What a word holds"):
 *
 *   63        48 47    42 41      33 32             12 11       0
 *  ┌────────────┬────────┬──────────┬─────────────────┬──────────┐
 *  │    tag     │  page  │   word   │   generation    │  check   │
 *  └────────────┴────────┴──────────┴─────────────────┴──────────┘
 *
 * tag: TAG_IDENTICAL for an identical page, the domain id for a distinct
 * one; check: 12 bits hashed from the 52 above, so that a torn, zeroed or
 * foreign word fails.
 */
#define TAG_SHIFT      48
#define PAGE_FIELD_SHIFT 42
#define WORD_SHIFT     33
#define GEN_SHIFT      12
#define TAG_IDENTICAL  0xffffu
#define GEN_MASK       0x1ffffful /* 21 bits: rounds= is at most 100000 */
#define CHECK_MASK     0xffful
#define GEN_FIELD      (GEN_MASK << GEN_SHIFT)
/* Bits 63:12 of a word, and the check bits hashed from them (a Fibonacci hash, never 0 for an all-zero word). */
#define WORD_HI(tag, p, w, g) \
	(((uint64_t)(tag) << TAG_SHIFT) | ((uint64_t)(p) << PAGE_FIELD_SHIFT) | ((uint64_t)(w) << WORD_SHIFT) | \
	 ((uint64_t)(g) << GEN_SHIFT))
#define WORD_CHECK(hi) (((((hi) >> GEN_SHIFT) * 0x9E3779B97F4A7C15ull) >> 52) ^ 0x5A5ull)
/* A constant expression, so that region.c can give the image the identical pages' first content. */
#define REGION_WORD(tag, p, w, g) (WORD_HI(tag, p, w, g) | WORD_CHECK(WORD_HI(tag, p, w, g)))

/* Xen's domain ids: at most DOMID_FIRST_RESERVED - 1 (xen/include/public/xen.h). */
#define DOMID_FIRST_RESERVED 0x7ff0u

/* The guest's exit statuses (the debug-exit port). */
#define EXIT_OK           0
#define EXIT_CORRUPTION   1
#define EXIT_BAD_CMDLINE  2
#define EXIT_NO_INTERFACE 3
#define EXIT_OUT_OF_MEMORY 5

enum driver_mode { DRIVER_NONE, DRIVER_DOM0 };
enum share_targets { TARGETS_IDENTICAL, TARGETS_ANY };

struct config {
	unsigned pages, same, rounds, reads;
	enum driver_mode driver;
	enum share_targets targets;
	unsigned domains, shares;
	uint64_t seed;
	/* Found at boot. */
	unsigned ncpus;
	unsigned domid;
	int xen;             /* Xen's CPUID leaves are there */
	int domid_present;   /* ... and leaf base+4 gave the domain id */
};
extern struct config cfg;

/* Per-vCPU counters for the final lines. */
struct cpu_stats {
	unsigned rounds, reads, writes, changed;
	/* The driver's results, by op and kind (driver.c). */
	unsigned results[2][8];
};
extern struct cpu_stats stats[MAX_CPUS];

/* main.c */
unsigned this_cpu(void);
void lock_console(void);
void die(int status) __attribute__((noreturn));
/* Print a line under the console lock and end the domain's run with a status (EXIT_*). */
#define fatal(status, ...) \
	do { \
		lock_console(); \
		kprintf(__VA_ARGS__); \
		die(status); \
	} while (0)

static inline void cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

/* splitmix64: the seeded choices of the driver and of the readers. */
static inline uint64_t prng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ul);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
	return z ^ (z >> 31);
}
/* A number below n (n at most 2^32: the bias of the modulo is below 2^-32). */
static inline unsigned prng_below(uint64_t *state, unsigned n)
{
	return (unsigned)((prng_next(state) >> 32) % n);
}

/* smp.c: the IDT, wake-ups through the x2APIC, barriers that halt. */
void smp_init_cpu(unsigned cpu);
void wake_cpu(unsigned cpu);
void wait_until(volatile uint32_t *word, uint32_t want);
void barrier(volatile uint32_t *counter, uint32_t target, unsigned first, unsigned count);

/* workload.c: the region's pages, written and checked. */
void workload_init(unsigned cpu);
void run_workload(unsigned cpu);

/* driver.c: XENMEM_sharing_op from domain 0. */
int sharing_op_present(void);
void run_driver(unsigned cpu);
void driver_summary(void);

#endif
