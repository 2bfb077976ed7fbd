// SPDX-License-Identifier: MIT
//
// Invalidation by generation, so that no flush costs time proportional to the
// size of a TLB.
//
// Each CPU has a clock. An entry is stamped with the clock when it is filled.
// A flush of some scope raises that scope's floor to a fresh clock value; an
// entry is live while its stamp is at least the floor of every scope it
// belongs to:
//
//   global TLB entry            floorAll
//   non-global TLB entry, PCID p max(floorAll, floorNonGlobal, floorPcid[p])
//   paging-structure-cache entry the same, and pscFloorPcid[p]
//
// (INVLPG must drop every paging-structure-cache entry of the current PCID but
// only one page of its TLB entries, hence the separate pscFloorPcid.) The
// floors of the current PCID are cached in the CPU block. Single entries are
// killed by zeroing their stamp; floors start at 1.

import { C, floorPcid, pscFloorPcid, micro, microMask } from "../../cpu";
import {
  CPU_CLOCK, CPU_FLOOR_ALL, CPU_FLOOR_NG, CPU_CUR_FLOOR, CPU_CUR_PSC_FLOOR, CPU_CUR_PCID,
  CPU_MICRO_EPOCH, MICRO_ENTRY_SIZE, PCID_COUNT, CPU_STRUCTS, STRUCT_COUNT, DESC_SIZE, DESC_BASE,
  DESC_SET_MASK, DESC_WAYS, ENTRY_SIZE, E_STAMP, CPU_TLB_LAST_FILL, CPU_TLB_LAST_GLOBAL_FILL, CPU_PSC_LAST_FILL,
} from "../../layout";

@inline export function clockNow(): u32 {
  return load<u32>(C + CPU_CLOCK);
}

/** Advances the clock and returns the new value, the floor for a flush made now. */
@inline export function clockTick(): u32 {
  let next = load<u32>(C + CPU_CLOCK) + 1;
  if (next == 0) next = clockWrap();
  store<u32>(C + CPU_CLOCK, next);
  return next;
}

function clockWrap(): u32 {
  wipeStamps();
  return 2;
}

/** Clock wrap-around (after 2^32 flushes): kill every entry and restart the floors. */
function wipeStamps(): void {
  for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
    const d = C + CPU_STRUCTS + <usize>s * DESC_SIZE;
    const base = <usize>load<u32>(d, DESC_BASE);
    const n = <usize>(load<u32>(d, DESC_SET_MASK) + 1) * load<u32>(d, DESC_WAYS);
    for (let i: usize = 0; i < n; i++) store<u32>(base + i * ENTRY_SIZE, 0, E_STAMP);
  }
  store<u32>(C + CPU_TLB_LAST_FILL, 0);
  store<u32>(C + CPU_TLB_LAST_GLOBAL_FILL, 0);
  store<u32>(C + CPU_PSC_LAST_FILL, 0);
  memory.fill(floorPcid, 0, PCID_COUNT * 4);
  memory.fill(pscFloorPcid, 0, PCID_COUNT * 4);
  store<u32>(C + CPU_FLOOR_ALL, 1);
  store<u32>(C + CPU_FLOOR_NG, 1);
  microFlush();
}

@inline export function floorAll(): u32 {
  return load<u32>(C + CPU_FLOOR_ALL);
}

@inline function max32(a: u32, b: u32): u32 {
  return a > b ? a : b;
}

/** Floor of a non-global TLB entry of PCID p. */
@inline export function tlbFloor(pcid: u32): u32 {
  const f = max32(load<u32>(C + CPU_FLOOR_ALL), load<u32>(C + CPU_FLOOR_NG));
  return max32(f, load<u32>(floorPcid + (<usize>pcid << 2)));
}

/** Floor of a paging-structure-cache entry of PCID p. */
@inline export function pscFloor(pcid: u32): u32 {
  return max32(tlbFloor(pcid), load<u32>(pscFloorPcid + (<usize>pcid << 2)));
}

@inline export function curPcid(): u32 {
  return load<u32>(C + CPU_CUR_PCID);
}

@inline export function curFloor(): u32 {
  return load<u32>(C + CPU_CUR_FLOOR);
}

@inline export function curPscFloor(): u32 {
  return load<u32>(C + CPU_CUR_PSC_FLOOR);
}

/** Recomputes the cached floors of the current PCID; call after any floor or PCID change. */
export function refreshCurrent(): void {
  const p = curPcid();
  store<u32>(C + CPU_CUR_FLOOR, tlbFloor(p));
  store<u32>(C + CPU_CUR_PSC_FLOOR, pscFloor(p));
}

export function setCurrentPcid(pcid: u32): void {
  store<u32>(C + CPU_CUR_PCID, pcid);
  refreshCurrent();
}

// ── Flushes by scope ─────────────────────────────────────────────────────────

/** Every TLB and paging-structure-cache entry, global ones included, of every PCID. */
@inline export function flushAll(): void {
  const now = clockTick();
  // The newest floor is the highest, so it is also the current PCID's.
  store<u32>(C + CPU_FLOOR_ALL, now);
  store<u32>(C + CPU_CUR_FLOOR, now);
  store<u32>(C + CPU_CUR_PSC_FLOOR, now);
  microFlush();
}

/** Every non-global entry of every PCID. */
export function flushNonGlobal(): void {
  store<u32>(C + CPU_FLOOR_NG, clockTick());
  refreshCurrent();
  microFlush();
}

/** The non-global TLB entries and paging-structure-cache entries of one PCID. */
export function flushPcid(pcid: u32): void {
  store<u32>(floorPcid + (<usize>pcid << 2), clockTick());
  refreshCurrent();
  microFlush();
}

/** The paging-structure-cache entries of one PCID only. */
export function flushPscOfPcid(pcid: u32): void {
  store<u32>(pscFloorPcid + (<usize>pcid << 2), clockTick());
  refreshCurrent();
}

// ── The micro-TLB ────────────────────────────────────────────────────────────
//
// A small direct-mapped cache, in front of the TLB, of 4 KiB fragments of live
// TLB entries of the current context. It is not architectural: it holds only
// what the TLB holds, and every operation that kills a TLB entry either clears
// the fragment's slot or starts a new micro epoch. Tags are the page's VA with
// the epoch in the low 12 bits, so a non-canonical address never matches.

@inline export function microEpoch(): u64 {
  return <u64>load<u32>(C + CPU_MICRO_EPOCH);
}

/** Forgets every micro-TLB entry in O(1); clears the array once per 4095 epochs. */
@inline export function microFlush(): void {
  let e = load<u32>(C + CPU_MICRO_EPOCH) + 1;
  if (e >= 4096) e = microWrap();
  store<u32>(C + CPU_MICRO_EPOCH, e);
}

function microWrap(): u32 {
  memory.fill(micro, 0, (microMask + 1) * MICRO_ENTRY_SIZE);
  return 1;
}

/** Forgets the micro-TLB slot of one 4 KiB page. */
@inline export function microDropPage(va: u64): void {
  const slot = micro + ((<usize>(va >> 12) & microMask) << 4);
  if ((load<u64>(slot) & ~<u64>0xFFF) == (va & ~<u64>0xFFF)) store<u64>(slot, 0);
}

