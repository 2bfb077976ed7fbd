/* SPDX-License-Identifier: MIT */
/*
 * Guest annotations for shootdown's sanitizer (docs/annotations.md): what a
 * kernel tells the machine that the hardware cannot know. Every call is
 * harmless where shootdown is absent: on x86-64 an OUT to an unassigned port
 * is ignored, on AArch64 an unknown SMCCC call returns NOT_SUPPORTED (-1).
 *
 *   sd_annot_present()    is shootdown listening? (the query, version 1)
 *   sd_annot_free(pfn)    the frame went back to the page allocator
 *   sd_annot_alloc(pfn)   the frame was taken from it again
 *   sd_walk_begin()       this CPU enters a lockless walker section
 *   sd_walk_end()         ... and leaves it
 *   sd_table_unhook(pfn)  a page-table page was unhooked from its parent entry
 *   sd_span_begin(id)     this CPU begins an operation to be priced (SD_SPAN_*)
 *   sd_span_end(id)       ... and ends it: the cost model counts the cycles between
 *
 * A PFN is the guest's physical address >> 12. On AArch64 the calls use
 * HVC #0, which a kernel running at EL1 under a hypervisor (or on QEMU with
 * PSCI over HVC) may make; a kernel booted at EL2 must not use HVC.
 */
#ifndef SHOOTDOWN_ANNOTATE_H
#define SHOOTDOWN_ANNOTATE_H

#include <stdint.h>

#define SD_ANNOT_FREE         0u
#define SD_ANNOT_ALLOC        1u
#define SD_ANNOT_WALK_BEGIN   2u
#define SD_ANNOT_WALK_END     3u
#define SD_ANNOT_TABLE_UNHOOK 4u
#define SD_ANNOT_SPAN_BEGIN   5u
#define SD_ANNOT_SPAN_END     6u
/* Span IDs shootdown names (any other is "span N"); 16-31 are each one RCU batch slot's grace period. */
#define SD_SPAN_MUNMAP        1u
#define SD_SPAN_GUP_FAST      2u
#define SD_SPAN_GRACE_PERIOD(slot) (16u + ((slot) & 15u))
/* What the query returns under shootdown: "annotations present, version 1". */
#define SD_ANNOT_MAGIC        0x5D5D0001u

#if defined(__x86_64__)
/* OUT of EAX to port SD_ANNOT_PORT + op; IN of 32 bits from SD_ANNOT_PORT is the query. */
#define SD_ANNOT_PORT 0x5D0u

/* The argument is EAX: 32 bits, enough for a PFN of a 44-bit physical address. */
static inline void sd_annot_call(uint32_t op, uint64_t arg)
{
	__asm__ volatile("outl %0, %w1" : : "a"((uint32_t)arg), "Nd"((uint16_t)(SD_ANNOT_PORT + op)) : "memory");
}

static inline int sd_annot_present(void)
{
	uint32_t v;
	__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"((uint16_t)SD_ANNOT_PORT) : "memory");
	return v == SD_ANNOT_MAGIC;
}
#elif defined(__aarch64__)
/* HVC #0 with X0 = SD_ANNOT_SMCCC + op (SMC64 fast call, owner 6: vendor-specific hypervisor service), X1 = the argument. */
#define SD_ANNOT_SMCCC       0xC6000000u
#define SD_ANNOT_SMCCC_QUERY 0xC60000FFu

static inline uint64_t sd_annot_hvc(uint64_t fn, uint64_t arg)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = arg;
	/* SMCCC: X0-X17 may be changed by the call (DEN0028 2.6). */
	__asm__ volatile("hvc #0"
			 : "+r"(x0), "+r"(x1)
			 :
			 : "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
			   "x16", "x17", "memory");
	return x0;
}

static inline void sd_annot_call(uint32_t op, uint64_t arg)
{
	(void)sd_annot_hvc(SD_ANNOT_SMCCC + op, arg);
}

static inline int sd_annot_present(void)
{
	return sd_annot_hvc(SD_ANNOT_SMCCC_QUERY, 0) == SD_ANNOT_MAGIC;
}
#else
#error "shootdown-annotate.h: x86-64 or AArch64 only"
#endif

static inline void sd_annot_free(uint64_t pfn)
{
	sd_annot_call(SD_ANNOT_FREE, pfn);
}

static inline void sd_annot_alloc(uint64_t pfn)
{
	sd_annot_call(SD_ANNOT_ALLOC, pfn);
}

static inline void sd_walk_begin(void)
{
	sd_annot_call(SD_ANNOT_WALK_BEGIN, 0);
}

static inline void sd_walk_end(void)
{
	sd_annot_call(SD_ANNOT_WALK_END, 0);
}

static inline void sd_table_unhook(uint64_t pfn)
{
	sd_annot_call(SD_ANNOT_TABLE_UNHOOK, pfn);
}

static inline void sd_span_begin(uint32_t id)
{
	sd_annot_call(SD_ANNOT_SPAN_BEGIN, id);
}

static inline void sd_span_end(uint32_t id)
{
	sd_annot_call(SD_ANNOT_SPAN_END, id);
}

#endif
