// SPDX-License-Identifier: MIT
//
// Invalidation by generation, so that no flush costs time in the size of a TLB.
//
// Each CPU has a clock. An entry is stamped with the clock when it is filled.
// A flush of some scope raises that scope's floor to a fresh clock value; an
// entry is live while its stamp is at least the floor of every scope it
// belongs to. The scopes, from the widest:
//
//   everything                         floorAll
//   a translation space (S1, S2, EL2)  floorSpace[space]    Arm ALLE1, ALLE2
//   every EPT-built entry              floorEptAll          INVEPT all-context
//   one EPT (EP4TA) slot               eptFloor[slot]       INVEPT single-context
//   every guest's stage-1 entries      floorGuests          INVVPID all-context
//   a context (VPID/VMID and space)    map[CTX_ALL]         INVPCID 2 in a VPID, VMALLE1
//   its non-global entries             map[CTX_NG]          INVPCID 3, INVVPID 3
//   its entries of one PCID/ASID       map[ASID]            MOV CR3, INVPCID 1, ASIDE1
//   its walk caches of one PCID/ASID   map[PSC]             INVLPG
//
// Global entries ignore the last three. The per-context floors live in a small
// open-addressed map per CPU; should it fill up, everything is flushed and the
// map starts again (over-invalidation, which the architecture permits, and
// counted). The floors of the current context are cached in the CPU block, so
// the hit path never consults the map. Single entries are killed by zeroing
// their stamp; floors start at 1.

import { C, A, micro, microMask, count } from "../cpu";
import {
  CPU_CLOCK, CPU_FLOOR_ALL, CPU_FLOOR_EPT_ALL, CPU_FLOOR_GUESTS, CPU_FLOOR_SPACE, CPU_CUR_CTX, CPU_CUR_ASID,
  CPU_CUR_FLOOR, CPU_CUR_GLOBAL_FLOOR, CPU_CUR_PSC_FLOOR, CPU_CUR_S2_FLOOR, CPU_MICRO_EPOCH, CPU_EPT_FLOORS,
  CPU_FLOOR_MAP_COUNT, CPU_STRUCTS, CPU_TLB_LAST_FILL, CPU_TLB_LAST_GLOBAL_FILL, CPU_PSC_LAST_FILL,
  STRUCT_COUNT, DESC_SIZE, DESC_BASE, DESC_SET_MASK, DESC_WAYS, ENTRY_SIZE, E_STAMP, MICRO_ENTRY_SIZE,
  FLOOR_MAP_SLOTS, FLOOR_MAP_SLOT_SIZE, SPACE_S1, SPACE_S2, EPT_SLOTS, CNT_FLOOR_MAP_OVERFLOW,
} from "../layout";

// ── Context words ────────────────────────────────────────────────────────────
//
// A context word names whose translations an entry holds: the VPID or VMID
// (bits 15:0, 0 for the host or a machine without virtualisation), the space
// (bits 23:16, SPACE_*) and the EPT slot (bits 31:24, 0 without EPT).

@inline export function ctxWord(vtag: u32, space: u32, eptSlot: u32): u32 {
  return (vtag & 0xFFFF) | (space << 16) | (eptSlot << 24);
}

@inline export function ctxVtag(ctx: u32): u32 {
  return ctx & 0xFFFF;
}

@inline export function ctxSpace(ctx: u32): u32 {
  return (ctx >> 16) & 0xFF;
}

@inline export function ctxEpt(ctx: u32): u32 {
  return ctx >> 24;
}

// ── The clock ────────────────────────────────────────────────────────────────

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

/** Clock wrap-around (after 2^32 flushes): kill every entry and restart every floor. */
function clockWrap(): u32 {
  for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
    const d = C + CPU_STRUCTS + <usize>s * DESC_SIZE;
    const base = <usize>load<u32>(d, DESC_BASE);
    const n = <usize>(load<u32>(d, DESC_SET_MASK) + 1) * load<u32>(d, DESC_WAYS);
    for (let i: usize = 0; i < n; i++) store<u32>(base + i * ENTRY_SIZE, 0, E_STAMP);
  }
  store<u32>(C + CPU_TLB_LAST_FILL, 0);
  store<u32>(C + CPU_TLB_LAST_GLOBAL_FILL, 0);
  store<u32>(C + CPU_PSC_LAST_FILL, 0);
  memory.fill(C + CPU_FLOOR_ALL, 0, CPU_CUR_CTX - CPU_FLOOR_ALL);
  memory.fill(C + CPU_EPT_FLOORS, 0, EPT_SLOTS * 4);
  mapClear();
  store<u32>(C + CPU_FLOOR_ALL, 1);
  microFlush();
  return 2;
}

// ── The scoped-floor map ─────────────────────────────────────────────────────

export const SCOPE_CTX_ALL: u64 = <u64>1 << 56;
export const SCOPE_CTX_NG: u64 = <u64>2 << 56;
export const SCOPE_ASID: u64 = <u64>3 << 56;
export const SCOPE_PSC: u64 = <u64>4 << 56;

/** The key of a per-context scope: kind, VPID/VMID and space (not the EPT slot), ASID. */
@inline export function scopeKey(kind: u64, ctx: u32, asid: u32): u64 {
  return kind | (<u64>(ctx & 0xFF_FFFF) << 16) | <u64>(asid & 0xFFFF);
}

@inline function mapSlot(i: u32): usize {
  return A + <usize>i * FLOOR_MAP_SLOT_SIZE;
}

@inline function mapHash(key: u64): u32 {
  return <u32>((key * 0x9E3779B97F4A7C15) >> 52) & (FLOOR_MAP_SLOTS - 1);
}

/** The floor of a scope, 0 when it was never flushed. */
export function mapGet(key: u64): u32 {
  let i = mapHash(key);
  // The map is never more than 3/4 full, so a probe always reaches an empty slot.
  for (let n: u32 = 0; n < FLOOR_MAP_SLOTS; n++) {
    const k = load<u64>(mapSlot(i));
    if (k == key) return load<u32>(mapSlot(i), 8);
    if (k == 0) break;
    i = (i + 1) & (FLOOR_MAP_SLOTS - 1);
  }
  return 0;
}

function mapSet(key: u64, floor: u32): void {
  let i = mapHash(key);
  for (let n: u32 = 0; n < FLOOR_MAP_SLOTS; n++) {
    const k = load<u64>(mapSlot(i));
    if (k == key) {
      store<u32>(mapSlot(i), floor, 8);
      return;
    }
    if (k == 0) break;
    i = (i + 1) & (FLOOR_MAP_SLOTS - 1);
  }
  const n = load<u32>(C + CPU_FLOOR_MAP_COUNT);
  if (n >= FLOOR_MAP_SLOTS * 3 / 4) {
    // Full: flush everything (every key's floor is then below floorAll) and start again.
    count(CNT_FLOOR_MAP_OVERFLOW);
    mapClear();
    store<u32>(C + CPU_FLOOR_ALL, floor);
    return;
  }
  store<u64>(mapSlot(i), key);
  store<u32>(mapSlot(i), floor, 8);
  store<u32>(C + CPU_FLOOR_MAP_COUNT, n + 1);
}

export function mapClear(): void {
  memory.fill(A, 0, FLOOR_MAP_SLOTS * FLOOR_MAP_SLOT_SIZE);
  store<u32>(C + CPU_FLOOR_MAP_COUNT, 0);
}

// ── Floors of an entry, and of the current context ──────────────────────────

@inline function max32(a: u32, b: u32): u32 {
  return a > b ? a : b;
}

@inline export function floorAll(): u32 {
  return load<u32>(C + CPU_FLOOR_ALL);
}

/** The floor every entry of this context word obeys, global or not. */
export function contextFloor(ctx: u32): u32 {
  const space = ctxSpace(ctx);
  let f = max32(load<u32>(C + CPU_FLOOR_ALL), load<u32>(C + CPU_FLOOR_SPACE + (space << 2)));
  const ept = ctxEpt(ctx);
  if (ept) f = max32(f, max32(load<u32>(C + CPU_FLOOR_EPT_ALL), load<u32>(C + CPU_EPT_FLOORS + (ept << 2))));
  if (ctxVtag(ctx) && space == SPACE_S1) f = max32(f, load<u32>(C + CPU_FLOOR_GUESTS));
  return max32(f, mapGet(scopeKey(SCOPE_CTX_ALL, ctx, 0)));
}

/** The floor of a non-global entry of this context and ASID (TLB entry, or walk-cache entry when psc). */
export function asidFloor(ctx: u32, asid: u32, psc: bool): u32 {
  let f = max32(contextFloor(ctx), mapGet(scopeKey(SCOPE_CTX_NG, ctx, 0)));
  f = max32(f, mapGet(scopeKey(SCOPE_ASID, ctx, asid)));
  return psc ? max32(f, mapGet(scopeKey(SCOPE_PSC, ctx, asid))) : f;
}

@inline export function curCtx(): u32 {
  return load<u32>(C + CPU_CUR_CTX);
}

@inline export function curAsid(): u32 {
  return load<u32>(C + CPU_CUR_ASID);
}

@inline export function curFloor(): u32 {
  return load<u32>(C + CPU_CUR_FLOOR);
}

@inline export function curGlobalFloor(): u32 {
  return load<u32>(C + CPU_CUR_GLOBAL_FLOOR);
}

@inline export function curPscFloor(): u32 {
  return load<u32>(C + CPU_CUR_PSC_FLOOR);
}

@inline export function curS2Floor(): u32 {
  return load<u32>(C + CPU_CUR_S2_FLOOR);
}

/**
 * Are stage-2 entries tagged with the VMID (AArch64) rather than only with the
 * EPT slot (x86: guest-physical mappings belong to an EP4TA, not to a VPID,
 * SDM Vol.3C 29.4.1)?
 */
export let stage2ByVtag: bool = true;

export function setStage2ByVtag(byVtag: bool): void {
  stage2ByVtag = byVtag;
}

/** The context word of the current context's stage-2 entries. */
@inline export function curS2Ctx(): u32 {
  const ctx = curCtx();
  return stage2ByVtag ? (ctx & ~(<u32>0xFF << 16)) | (SPACE_S2 << 16) : ctxWord(0, SPACE_S2, ctxEpt(ctx));
}

/** Recomputes the cached floors of the current context; after any floor or context change. */
export function refreshCurrent(): void {
  const ctx = curCtx();
  const asid = curAsid();
  store<u32>(C + CPU_CUR_GLOBAL_FLOOR, contextFloor(ctx));
  store<u32>(C + CPU_CUR_FLOOR, asidFloor(ctx, asid, false));
  store<u32>(C + CPU_CUR_PSC_FLOOR, asidFloor(ctx, asid, true));
  store<u32>(C + CPU_CUR_S2_FLOOR, contextFloor(curS2Ctx()));
}

/** Makes (ctx, asid) the context new entries are filled for and probes look up. */
export function setContext(ctx: u32, asid: u32): void {
  if (ctx == curCtx() && asid == curAsid()) return;
  store<u32>(C + CPU_CUR_CTX, ctx);
  store<u32>(C + CPU_CUR_ASID, asid);
  refreshCurrent();
  microFlush();
}

// ── Flushes by scope ─────────────────────────────────────────────────────────

/** Every entry of every context. */
@inline export function flushAll(): void {
  const now = clockTick();
  // The newest floor is the highest, so it is also every current floor.
  store<u32>(C + CPU_FLOOR_ALL, now);
  store<u32>(C + CPU_CUR_FLOOR, now);
  store<u32>(C + CPU_CUR_GLOBAL_FLOOR, now);
  store<u32>(C + CPU_CUR_PSC_FLOOR, now);
  store<u32>(C + CPU_CUR_S2_FLOOR, now);
  microFlush();
}

/** A per-CPU floor at a CPU-block offset (FLOOR_SPACE + 4·space, FLOOR_EPT_ALL, FLOOR_GUESTS, EPT_FLOORS + 4·slot). */
export function raiseFloorAt(offset: u32): void {
  store<u32>(C + offset, clockTick());
  refreshCurrent();
  microFlush();
}

/** A per-context scope: SCOPE_* of (ctx, asid). */
export function raiseScope(kind: u64, ctx: u32, asid: u32): void {
  mapSet(scopeKey(kind, ctx, asid), clockTick());
  refreshCurrent();
  microFlush();
}

/**
 * SCOPE_PSC of (ctx, asid): the walk caches only. The micro-TLB holds leaf
 * translations from the TLBs, which this does not touch, so it keeps them.
 */
export function raisePscScope(ctx: u32, asid: u32): void {
  mapSet(scopeKey(SCOPE_PSC, ctx, asid), clockTick());
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

/**
 * The page the running CPU's fetch window holds (the A64 run loop keeps it
 * without the micro-TLB), or a value with low bits set that no page matches:
 * an invalidation by address of that page must start a new micro epoch.
 */
let fetchWindowPage: u64 = 0xFFF;

@inline export function windowPage(): u64 {
  return fetchWindowPage;
}

@inline export function setWindowPage(page: u64): void {
  fetchWindowPage = page;
}

/** Forgets the micro-TLB slot of one 4 KiB page. */
@inline export function microDropPage(va: u64): void {
  const slot = micro + ((<usize>(va >> 12) & microMask) << 4);
  if ((load<u64>(slot) & ~<u64>0xFFF) == (va & ~<u64>0xFFF)) store<u64>(slot, 0);
}
