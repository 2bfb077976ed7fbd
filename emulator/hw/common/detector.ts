// SPDX-License-Identifier: MIT
//
// The missing-invalidation detector. When FEATURE_DETECT is on, every walk
// records the descriptors it read (physical address and value, after its own
// Accessed/Dirty updates), and every TLB or paging-structure-cache entry keeps
// the record of the walk that filled it. Each later use of the entry compares
// the record with memory; a descriptor that changed in a bit that matters,
// with no invalidation in between, is reported once per entry as an event.
//
// Source record (SRC_SIZE bytes), also the layout of the walk scratch:
//   0 count u32   4 level u8 × SRC_MAX   16 (PA u64, value u64) × SRC_MAX

import { C, selectedCpu, count } from "../cpu";
import {
  CPU_WALK_SRC, SRC_SIZE, SRC_MAX, eventRing, EVENT_CAPACITY, EVENT_SIZE, E_FLAGS, EF_REPORTED,
  CNT_STALE_USE,
} from "../layout";
import { physHost } from "../phys/ram";
import { cachesOn, coherentRead64 } from "../arm/cache";

let eventsWritten: u64 = 0;
let eventsRead: u64 = 0;
let eventsDropped: u64 = 0;

export function detectorReset(): void {
  eventsWritten = 0;
  eventsRead = 0;
  eventsDropped = 0;
}

@inline export function walkSrc(): usize {
  return C + CPU_WALK_SRC;
}

@inline export function walkSrcReset(): void {
  store<u32>(walkSrc(), 0);
}

export function walkSrcPush(pa: u64, value: u64, level: u32): void {
  const rec = walkSrc();
  const n = load<u32>(rec);
  if (n >= SRC_MAX) return;
  store<u8>(rec + 4 + n, <u8>level);
  store<u64>(rec + 16 + (<usize>n << 4), pa);
  store<u64>(rec + 24 + (<usize>n << 4), value);
  store<u32>(rec, n + 1);
}

/** Records the value the walk wrote back into its latest descriptor. */
export function walkSrcUpdateLast(value: u64): void {
  const rec = walkSrc();
  const n = load<u32>(rec);
  if (n > 0) store<u64>(rec + 24 + (<usize>(n - 1) << 4), value);
}

export function walkSrcLoad(from: usize): void {
  memory.copy(walkSrc(), from, SRC_SIZE);
}

export function walkSrcSave(to: usize): void {
  memory.copy(to, walkSrc(), SRC_SIZE);
}

/** Was the last peek64 inside RAM? */
let peekOk: bool = false;

/**
 * Reads a guest-physical u64 as the table walker reads it, without touching
 * counters: with the data caches modelled (AArch64) through them, since a
 * descriptor the guest wrote may still sit dirty in an L1 while RAM holds
 * an older value that no walk will ever see.
 */
function peek64(pa: u64): u64 {
  const h = physHost(pa, 8);
  peekOk = h >= 0;
  if (!peekOk) return 0;
  return cachesOn ? coherentRead64(pa) : load<u64>(<usize>h);
}

/**
 * Checks an entry's sources against memory. `lastIgnored` masks the bits of the
 * record's last descriptor that may change freely (a leaf's A/D), and
 * `tableIgnored` those of every other one. Reports at most once per entry.
 */
export function checkSources(rec: usize, e: usize, va: u64, eventKind: u32, pcid: u32, lastIgnored: u64, tableIgnored: u64): void {
  if (load<u8>(e, E_FLAGS) & EF_REPORTED) return;
  const n = load<u32>(rec);
  for (let i: u32 = 0; i < n; i++) {
    const pa = load<u64>(rec + 16 + (<usize>i << 4));
    const cached = load<u64>(rec + 24 + (<usize>i << 4));
    const now = peek64(pa);
    const ignored = i == n - 1 ? lastIgnored : tableIgnored;
    if (peekOk && ((now ^ cached) & ~ignored) == 0) continue;
    store<u8>(e, load<u8>(e, E_FLAGS) | EF_REPORTED, E_FLAGS);
    count(CNT_STALE_USE);
    recordEvent(eventKind, va, pa, cached, now, <u32>load<u8>(rec + 4 + i), pcid);
    return;
  }
}

export function recordEvent(kind: u32, va: u64, pa: u64, cached: u64, now: u64, level: u32, pcid: u32): void {
  if (eventsWritten - eventsRead >= EVENT_CAPACITY) {
    eventsDropped++;
    return;
  }
  const r = eventRing + <usize>(eventsWritten % EVENT_CAPACITY) * EVENT_SIZE;
  store<u32>(r, kind);
  store<u32>(r, selectedCpu, 4);
  store<u64>(r, va, 8);
  store<u64>(r, pa, 16);
  store<u64>(r, cached, 24);
  store<u64>(r, now, 32);
  store<u32>(r, level, 40);
  store<u32>(r, pcid, 44);
  store<u64>(r, eventsWritten, 48);
  eventsWritten++;
}

export function eventsPending(): u32 {
  return <u32>(eventsWritten - eventsRead);
}

export function eventsFirst(): u64 {
  return eventsRead;
}

export function eventsConsume(n: u32): void {
  const pending = eventsWritten - eventsRead;
  eventsRead += <u64>n > pending ? pending : <u64>n;
}

export function eventsDroppedCount(): u64 {
  return eventsDropped;
}

