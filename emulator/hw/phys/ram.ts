// SPDX-License-Identifier: MIT
//
// Guest-physical memory: a sorted set of RAM ranges at arbitrary bases below
// 2^MAXPHYADDR, each backed by a slice of linear memory. An access that falls
// outside every range is a bus error that the caller reports as a fault; it is
// never a WebAssembly trap.

import { ramTable, ramHostBase, RANGE_SIZE, MAX_RAM_RANGES, ensureMemory, align } from "../layout";
import { pageIsZero, pagesAllZero8, pageMarkWritten, pagesZeroWritten } from "./pages";

/** FNV-1a's 64-bit prime. */
const FNV_PRIME: u64 = 0x100000001B3;

export const RAM_OK: u32 = 0;
export const RAM_ERR_ALIGN: u32 = 1;
export const RAM_ERR_OVERLAP: u32 = 2;
export const RAM_ERR_TOO_MANY: u32 = 3;
export const RAM_ERR_NO_HOST_MEMORY: u32 = 4;
export const RAM_ERR_BEYOND_MAXPHYADDR: u32 = 5;

let rangeCount: u32 = 0;
let hostBump: usize = 0;
/** A base no physical address (below 2^52) can reach with an offset below 2^52. */
const NO_RANGE: u64 = 0xFFF0_0000_0000_0000;

/**
 * Range of the last successful lookup (most accesses hit the same one): its
 * base, its host offset, and its size less 8, the largest offset at which an
 * 8-byte access still fits. With no range cached, nothing matches.
 */
let lastBase: u64 = NO_RANGE;
let lastLimit8: u64 = 0;
let lastHost: u64 = 0;
/** lastHost - lastBase: host = pa + lastDelta, one addition on the walk's critical path. */
let lastDelta: u64 = 0;

export let maxPhysAddr: u32 = 52;

@inline function rangeAt(i: u32): usize {
  return ramTable + <usize>i * RANGE_SIZE;
}

export function ramSetMaxPhysAddr(bits: u32): void {
  maxPhysAddr = bits;
}

/** Forgets every range; host memory is reused from the start. */
export function ramReset(): void {
  rangeCount = 0;
  hostBump = ramHostBase;
  lastBase = NO_RANGE;
  lastLimit8 = 0;
  lastHost = 0;
  lastDelta = 0;
}

/** The end of the linear memory that backs RAM ranges. */
export function ramHostEnd(): usize {
  return hostBump;
}

export function ramRangeCount(): u32 {
  return rangeCount;
}

/**
 * Continues a 64-bit FNV-1a hash over every RAM range's base, size and
 * contents, u64 by u64. A page known to be all zeros (phys/pages.ts) is not
 * read: one step over a zero word is h * FNV_PRIME, so a run of n such pages
 * is one multiplication by FNV_PRIME^(512 n), and the hash is the same as if
 * every word had been read.
 */
export function hashRam(hIn: u64): u64 {
  let h = hIn;
  for (let i: u32 = 0; i < rangeCount; i++) {
    const r = rangeAt(i);
    const base = load<u64>(r);
    const size = load<u64>(r, 8);
    const host = <usize>load<u64>(r, 16);
    h = (h ^ base) * FNV_PRIME;
    h = (h ^ size) * FNV_PRIME;
    let zeroPages: u64 = 0;
    const end = host + <usize>size;
    for (let page = host; page < end; page += 4096) {
      // Eight pages at a time while none of them was written.
      if (page + 8 * 4096 <= end && pagesAllZero8(page)) {
        zeroPages += 8;
        page += 7 * 4096;
        continue;
      }
      if (pageIsZero(page)) {
        zeroPages++;
        continue;
      }
      if (zeroPages) h *= pow64(FNV_PRIME, zeroPages << 9);
      zeroPages = 0;
      for (let off: usize = 0; off < 4096; off += 8) h = (h ^ load<u64>(page + off)) * FNV_PRIME;
    }
    if (zeroPages) h *= pow64(FNV_PRIME, zeroPages << 9);
  }
  return h;
}

/** b^e modulo 2^64, by squaring. */
function pow64(b: u64, e: u64): u64 {
  let result: u64 = 1;
  let base = b;
  for (let n = e; n != 0; n >>= 1) {
    if (n & 1) result *= base;
    base *= base;
  }
  return result;
}

/** Adds RAM at [base, base+size), zero-filled; both must be 4 KiB aligned. */
export function ramAdd(base: u64, size: u64): u32 {
  if ((base | size) & 0xFFF || size == 0) return RAM_ERR_ALIGN;
  const limit: u64 = maxPhysAddr >= 64 ? u64.MAX_VALUE : (<u64>1 << maxPhysAddr);
  if (base >= limit || size > limit - base) return RAM_ERR_BEYOND_MAXPHYADDR;
  if (rangeCount >= MAX_RAM_RANGES) return RAM_ERR_TOO_MANY;
  // Find the insertion point and refuse overlaps with either neighbour.
  let at: u32 = 0;
  while (at < rangeCount && load<u64>(rangeAt(at)) < base) at++;
  if (at > 0) {
    const p = rangeAt(at - 1);
    if (load<u64>(p) + load<u64>(p, 8) > base) return RAM_ERR_OVERLAP;
  }
  if (at < rangeCount && base + size > load<u64>(rangeAt(at))) return RAM_ERR_OVERLAP;
  if (size > 0xFFFF_0000) return RAM_ERR_NO_HOST_MEMORY;
  const host = align(hostBump, 4096);
  const end = host + <usize>size;
  if (end < host || !ensureMemory(end)) return RAM_ERR_NO_HOST_MEMORY;
  // Memory.grow hands out zeroed pages, and phys/pages.ts knows which pages
  // were written since: only those need zeroing (a reused module's RAM).
  pagesZeroWritten(host, end);
  hostBump = end;
  memory.copy(rangeAt(at + 1), rangeAt(at), (rangeCount - at) * RANGE_SIZE);
  const r = rangeAt(at);
  store<u64>(r, base);
  store<u64>(r, size, 8);
  store<u64>(r, <u64>host, 16);
  rangeCount++;
  return RAM_OK;
}

/**
 * Host offset of guest-physical [pa, pa+len), or -1 when the bytes are not all
 * inside one RAM range (a bus error).
 */
@inline export function physHost(pa: u64, len: u32): i64 {
  const h = len <= 8 ? physHostCached(pa, len) : -1;
  return h >= 0 ? h : physHostSlow(pa, len);
}

/**
 * physHost against the last range looked up only, for pa below 2^52 and len
 * at most 8: -1 when it is not there.
 */
@inline export function physHostCached(pa: u64, len: u32): i64 {
  // Ranges are at least 4 KiB, so lastLimit8 + 8 - len cannot wrap.
  if (pa - lastBase > lastLimit8 + 8 - len) return -1;
  return <i64>(pa + lastDelta);
}

/**
 * The cached range as a loop can keep it in locals: physHostCached(pa, 8) is
 * pa - rangeCacheBase() > rangeCacheLimit8() ? -1 : pa + rangeCacheDelta().
 * Valid until the next physHostSlow.
 */
@inline export function rangeCacheBase(): u64 {
  return lastBase;
}

@inline export function rangeCacheLimit8(): u64 {
  return lastLimit8;
}

@inline export function rangeCacheDelta(): u64 {
  return lastDelta;
}

/** Looks up the range holding [pa, pa+len) and caches it for physHostCached; -1 when none does. */
export function physHostSlow(pa: u64, len: u32): i64 {
  let lo: u32 = 0;
  let hi: u32 = rangeCount;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (load<u64>(rangeAt(mid)) <= pa) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return -1;
  const r = rangeAt(lo - 1);
  const base = load<u64>(r);
  const size = load<u64>(r, 8);
  if (size < len || pa - base > size - len) return -1;
  lastBase = base;
  lastLimit8 = size - 8;
  lastHost = load<u64>(r, 16);
  lastDelta = lastHost - base;
  return <i64>(lastHost + (pa - base));
}

/** Bus error flag of the last physRead64/physWrite64 (cleared by each call). */
export let busError: bool = false;

@inline export function physRead64(pa: u64): u64 {
  const h = physHost(pa, 8);
  if (h < 0) {
    busError = true;
    return 0;
  }
  busError = false;
  return load<u64>(<usize>h);
}

export function physWrite64(pa: u64, value: u64): void {
  const h = physHost(pa, 8);
  if (h < 0) {
    busError = true;
    return;
  }
  busError = false;
  pageMarkWritten(<usize>h);
  store<u64>(<usize>h, value);
}
