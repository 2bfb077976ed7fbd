/* SPDX-License-Identifier: MIT */
/*
 * Guest annotations for shootdown's sanitizer (/work/notes/annotation-abi.md,
 * docs/ once the machine side lands): OUT to port 0x5D0 + op with EAX = the
 * argument. Where shootdown is absent the port is unassigned and the OUT is
 * ignored, so an annotated kernel runs the same everywhere.
 */
#ifndef LINUX_ANNOTATE_H
#define LINUX_ANNOTATE_H

#include <stdint.h>

#define SD_ANNOT_PORT        0x5D0
#define SD_ANNOT_FREE        0 /* a frame freed to the page allocator */
#define SD_ANNOT_ALLOC       1 /* a frame taken from it */
#define SD_ANNOT_WALK_BEGIN  2 /* this CPU enters a lockless walker section */
#define SD_ANNOT_WALK_END    3 /* and leaves it */
#define SD_ANNOT_TABLE_UNHOOK 4 /* a page-table page unhooked from its parent entry */

static inline void sd_annotate(unsigned op, uint32_t arg)
{
	__asm__ volatile("outl %0, %1" : : "a"(arg), "d"((uint16_t)(SD_ANNOT_PORT + op)) : "memory");
}

static inline void sd_annotate_free(uint64_t pfn) { sd_annotate(SD_ANNOT_FREE, (uint32_t)pfn); }
static inline void sd_annotate_alloc(uint64_t pfn) { sd_annotate(SD_ANNOT_ALLOC, (uint32_t)pfn); }
static inline void sd_annotate_walk_begin(void) { sd_annotate(SD_ANNOT_WALK_BEGIN, 0); }
static inline void sd_annotate_walk_end(void) { sd_annotate(SD_ANNOT_WALK_END, 0); }
static inline void sd_annotate_table_unhook(uint64_t pfn) { sd_annotate(SD_ANNOT_TABLE_UNHOOK, (uint32_t)pfn); }

#endif
