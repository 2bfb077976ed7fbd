/* SPDX-License-Identifier: MIT */
/*
 * The region's content when the domain boots: every page holds the
 * identical-page content of generation 0 (tag TAG_IDENTICAL), so the loader
 * puts the same bytes at the same gfns of every domain before any vCPU
 * runs. The driver (driver=dom0) shares identical pages without looking at
 * them, as XENMEM_sharing_op lets a privileged domain do; were the pages
 * filled by the vCPUs at boot, it could share a domain's still-zero page
 * into one that had already filled it. The Makefile places the section at
 * REGION_BASE (-Wl,--section-start); distinct pages (page >= same=) are
 * rewritten with this domain's content at boot, before any vCPU reads.
 */
#include "sharing.h"

#define E(p, w)    REGION_WORD(TAG_IDENTICAL, p, w, 0)
#define W2(p, w)   E(p, w), E(p, (w) + 1)
#define W4(p, w)   W2(p, w), W2(p, (w) + 2)
#define W8(p, w)   W4(p, w), W4(p, (w) + 4)
#define W16(p, w)  W8(p, w), W8(p, (w) + 8)
#define W32(p, w)  W16(p, w), W16(p, (w) + 16)
#define W64(p, w)  W32(p, w), W32(p, (w) + 32)
#define W128(p, w) W64(p, w), W64(p, (w) + 64)
#define W256(p, w) W128(p, w), W128(p, (w) + 128)
#define PAGE(p)    { W256(p, 0), W256(p, 256) }
#define P2(p)      PAGE(p), PAGE((p) + 1)
#define P4(p)      P2(p), P2((p) + 2)
#define P8(p)      P4(p), P4((p) + 4)
#define P16(p)     P8(p), P8((p) + 8)
#define P32(p)     P16(p), P16((p) + 16)

_Static_assert(MAX_PAGES == 64 && WORDS == 512, "the initializer below spells out 64 pages of 512 words");

uint64_t region_init[MAX_PAGES][WORDS] __attribute__((section(".region"), aligned(4096), used)) = { P32(0), P32(32) };
