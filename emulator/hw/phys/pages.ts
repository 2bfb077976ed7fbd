// SPDX-License-Identifier: MIT
//
// The state of each 4 KiB page of linear memory, one byte at
// pageState + (host address >> 12), for the pages that back guest RAM:
//
//   PAGE_WRITTEN  may hold a byte that is not zero. Clear means the page is
//                 all zeros: fresh from memory.grow, or zeroed by ramAdd.
//   PAGE_CODE     the decoded-instruction cache holds instructions from it,
//                 so a CPU store to it must make them stale (x86/cpu/code.ts).
//   PAGE_FREED    the guest declared the frame free (SD_ANNOT_FREE) and has
//                 not taken it back (common/annotate.ts); a store to it takes
//                 pageWrite's slow path, which keeps the bit.
//
// Every store to RAM marks its page written, whoever makes it: a CPU's store
// (x86/cpu/code.ts checkCodeWrite, arm/cpu/mem.ts), the walkers' Access and
// dirty write-backs (physWrite64, arm/cache.ts coherentWrite64), a line the
// data caches write back, and the host (hostWrote). What that buys:
//
//   - Cheap runs on a reused module (`shootdown explore` starts thousands):
//     setting RAM up zeroes only the pages written since they were last
//     zeroed, not all of RAM, and the state hash skips the pages that are all
//     zeros, since hashing n zero words is one multiplication by FNV's prime
//     to the power n.
//   - The CPU store's check for decoded code is the same load as before (a
//     page that is written and holds no code is the common case, and takes
//     no branch).
//
// Pages that hold the machine's own structures (CPU blocks, TLBs, caches)
// are not tracked: init() marks them written, zeroes them when the next
// init() lays structures over them again, and zeroes what was written of the
// RAM pages it lays structures over. ramZeroWritten's test
// (pagesCheckZero) finds any RAM page that is not zero and not marked.

import { pageState } from "../layout";

export const PAGE_WRITTEN: u8 = 1;
export const PAGE_CODE: u8 = 2;
export const PAGE_FREED: u8 = 4;

@inline export function pageStateOf(host: usize): usize {
  return pageState + (host >> 12);
}

/**
 * Marks the page at host written, before a CPU store to it; true when it held
 * decoded code (the caller makes that code stale). One load and no branch
 * taken for a page already written that holds no code.
 */
@inline export function pageWrite(host: usize): bool {
  const p = pageStateOf(host);
  const s = load<u8>(p);
  if (s == PAGE_WRITTEN) return false;
  return pageWriteSlow(p, s);
}

function pageWriteSlow(p: usize, s: u8): bool {
  store<u8>(p, s | PAGE_WRITTEN);
  return (s & PAGE_CODE) != 0;
}

/** May the page at host hold a byte that is not zero? */
@inline export function pageWritten(host: usize): bool {
  return (load<u8>(pageStateOf(host)) & PAGE_WRITTEN) != 0;
}

/** Marks the page at host written (a store that is not a CPU's, which never makes decoded code stale). */
@inline export function pageMarkWritten(host: usize): void {
  const p = pageStateOf(host);
  store<u8>(p, load<u8>(p) | PAGE_WRITTEN);
}

/** Notes that the page at host now holds decoded code. */
@inline export function pageMarkCode(host: usize): void {
  const p = pageStateOf(host);
  store<u8>(p, load<u8>(p) | PAGE_CODE);
}

/** Is the page at host all zeros (never written since it was zeroed)? */
@inline export function pageIsZero(host: usize): bool {
  return (load<u8>(pageStateOf(host)) & PAGE_WRITTEN) == 0;
}

/** Are the eight pages from host on all zeros? */
@inline export function pagesAllZero8(host: usize): bool {
  return (load<u64>(pageStateOf(host)) & 0x0101_0101_0101_0101) == 0;
}

/** Forgets which pages of [start, end) hold code (page-aligned); their decoded instructions are stale. */
export function pagesClearCode(start: usize, end: usize): void {
  const mask: u64 = ~(<u64>0x0202_0202_0202_0202);
  let p = pageStateOf(start);
  const last = pageStateOf(end);
  for (; p + 8 <= last; p += 8) store<u64>(p, load<u64>(p) & mask);
  for (; p < last; p++) store<u8>(p, load<u8>(p) & ~PAGE_CODE);
}

/** Marks every page of [start, end) written and holding no code (page-aligned): the machine's own structures. */
export function pagesSetWritten(start: usize, end: usize): void {
  if (end > start) memory.fill(pageStateOf(start), PAGE_WRITTEN, (end - start) >> 12);
}

/** Zeroes the pages of [start, end) (page-aligned) that were written, and marks them zero. */
export function pagesZeroWritten(start: usize, end: usize): void {
  let p = pageStateOf(start);
  const last = pageStateOf(end);
  while (p < last) {
    // Eight pages at a time while none of them was written.
    if (p + 8 <= last && pagesAllZero8((p - pageState) << 12)) {
      store<u64>(p, 0);
      p += 8;
      continue;
    }
    if (load<u8>(p) & PAGE_WRITTEN) memory.fill((p - pageState) << 12, 0, 4096);
    store<u8>(p, 0);
    p++;
  }
}

/**
 * For tests: the host address of the first page of [start, end) that is
 * marked zero but holds a byte that is not, or 0 when there is none (a store
 * that did not mark its page).
 */
export function pagesCheckZero(start: usize, end: usize): usize {
  for (let host = start; host < end; host += 4096) {
    if (!pageIsZero(host)) continue;
    for (let i: usize = 0; i < 4096; i += 8) {
      if (load<u64>(host + i) != 0) return host;
    }
  }
  return 0;
}
