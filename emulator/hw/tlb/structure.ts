// SPDX-License-Identifier: MIT
//
// The set-associative translation structures of one CPU, the same for both
// architectures: TLBs for 4 KiB, 2 MiB and 1 GiB translations, and walk caches
// (x86 paging-structure caches, SDM Vol.3A 4.10.3; Arm walk caches) for
// entries that reference tables. All share one entry layout (layout.ts,
// ENTRY_SIZE); a structure is described by a descriptor in the CPU block:
// base, set mask, ways, the lg of the region one entry maps (12/21/30 for the
// TLBs; 21/30/39/48 for the walk caches, whose entries map the region their
// table covers), and where the detector keeps its sources.
//
// Every entry carries its context word (VPID/VMID, space, EPT slot) and an
// ASID (PCID on x86); stage-2 entries, like global ones, ignore the ASID.
// Replacement is round-robin per set.

import { C, desc, count } from "../cpu";
import {
  DESC_BASE, DESC_SET_MASK, DESC_WAYS, DESC_SHIFT, DESC_SRC, DESC_SET_BYTES, DESC_LAST_FILL, CPU_TLB_LAST_FILL, CPU_TLB_LAST_GLOBAL_FILL,
  CPU_PSC_LAST_FILL, ENTRY_SIZE, E_TAG, E_OUT, E_STAMP, E_PCID, E_FLAGS, E_VICTIM, E_CTX, EF_GLOBAL, SRC_SIZE,
  STRUCT_TLB_4K, STRUCT_PSC_PDE, CNT_EVICT,
} from "../layout";
import {
  clockNow, curFloor, curGlobalFloor, curPscFloor, curCtx, curAsid, floorAll, asidFloor, contextFloor,
  microDropPage, microFlush,
} from "./floors";

@inline export function isPsc(structure: u32): bool {
  return structure >= STRUCT_PSC_PDE;
}

@inline export function structShift(structure: u32): u32 {
  return load<u32>(desc(structure), DESC_SHIFT);
}

@inline export function regionTag(va: u64, shift: u32): u64 {
  return va & (<u64>-1 << shift);
}

@inline function setBase(d: usize, va: u64, shift: u32): usize {
  const set = <usize>(<u32>(va >> shift) & load<u32>(d, DESC_SET_MASK));
  return <usize>load<u32>(d, DESC_BASE) + set * <usize>load<u32>(d, DESC_SET_BYTES);
}

/**
 * Can any TLB hold a live entry for the current context? Not when nothing was
 * filled since the flushes that cover it: a cheap test that spares the probes
 * after a flush.
 */
@inline export function tlbMayHold(): bool {
  return load<u32>(C + CPU_TLB_LAST_FILL) >= curFloor() || load<u32>(C + CPU_TLB_LAST_GLOBAL_FILL) >= curGlobalFloor();
}

/**
 * Can any structure of the selected CPU hold a live entry, of any context?
 * Not when nothing was filled since the last flush of everything (every
 * entry is older than CPU_FLOOR_ALL, below which none is live).
 */
@inline export function anythingLive(): bool {
  const all = floorAll();
  return load<u32>(C + CPU_TLB_LAST_FILL) >= all || load<u32>(C + CPU_TLB_LAST_GLOBAL_FILL) >= all
    || load<u32>(C + CPU_PSC_LAST_FILL) >= all;
}

/** Can a walk cache hold a live entry for the current context? */
@inline export function pscMayHold(): bool {
  return load<u32>(C + CPU_PSC_LAST_FILL) >= curPscFloor();
}

/**
 * The live entry of a structure that maps va in context `ctx`: a global one, or
 * one of ASID `asid`. `floor` applies to non-global entries, `globalFloor` to
 * global ones (pass the same for structures without global entries).
 */
export function probe(structure: u32, va: u64, ctx: u32, asid: u32, floor: u32, globalFloor: u32): usize {
  const d = desc(structure);
  if (!filledSinceFlush(d)) return 0;
  const shift = load<u32>(d, DESC_SHIFT);
  const tag = regionTag(va, shift);
  const ways = load<u32>(d, DESC_WAYS);
  let e = setBase(d, va, shift);
  for (let w: u32 = 0; w < ways; w++, e += ENTRY_SIZE) {
    if (load<u64>(e, E_TAG) != tag || load<u32>(e, E_CTX) != ctx) continue;
    const stamp = load<u32>(e, E_STAMP);
    if (load<u8>(e, E_FLAGS) & EF_GLOBAL) {
      if (stamp >= globalFloor) return e;
    } else if (<u32>load<u16>(e, E_PCID) == asid && stamp >= floor) {
      return e;
    }
  }
  return 0;
}

/** The live TLB entry that maps va in the current context, or 0. */
@inline export function tlbProbe(structure: u32, va: u64): usize {
  return probe(structure, va, curCtx(), curAsid(), curFloor(), curGlobalFloor());
}

/** The live walk-cache entry for va in the current context, or 0. */
@inline export function pscProbe(structure: u32, va: u64): usize {
  return probe(structure, va, curCtx(), curAsid(), curPscFloor(), curPscFloor());
}

/**
 * Was the structure of descriptor d filled since the last flush of
 * everything? If not, it holds nothing live (a live entry's stamp is at
 * least CPU_FLOOR_ALL and at most its structure's last fill), and probes and
 * invalidations skip it: a 4 KiB-page guest never pays for the 2 MiB and
 * 1 GiB structures.
 */
@inline export function filledSinceFlush(d: usize): bool {
  return load<u32>(d, DESC_LAST_FILL) >= floorAll();
}

/** Is the entry live in whatever context it belongs to? */
@inline export function entryLive(structure: u32, e: usize): bool {
  const stamp = load<u32>(e, E_STAMP);
  if (stamp < floorAll()) return false;
  const ctx = load<u32>(e, E_CTX);
  if (load<u8>(e, E_FLAGS) & EF_GLOBAL) {
    return stamp >= (ctx == curCtx() ? curGlobalFloor() : contextFloor(ctx));
  }
  const asid = <u32>load<u16>(e, E_PCID);
  if (ctx == curCtx() && asid == curAsid()) return stamp >= (isPsc(structure) ? curPscFloor() : curFloor());
  return stamp >= asidFloor(ctx, asid, isPsc(structure));
}

/** Kills one entry, and whatever the micro-TLB holds of it. */
@inline export function killEntry(structure: u32, e: usize): void {
  store<u32>(e, 0, E_STAMP);
  if (structure == STRUCT_TLB_4K) microDropPage(load<u64>(e, E_TAG));
  else if (!isPsc(structure)) microFlush();
}

/**
 * Fills an entry for va and returns it. Callers fill only after a probe in the
 * same context missed, so no live entry with this tag and context exists and
 * the fill never leaves two copies behind. Replacement is round-robin within
 * the set, but a dead way is taken before a live one is evicted.
 */
@inline export function structFill(structure: u32, va: u64, out: u64, attrs: u32, flags: u32, ctx: u32, asid: u32): usize {
  return structFillShift(structure, load<u32>(desc(structure), DESC_SHIFT), va, out, attrs, flags, ctx, asid);
}

/** structFill with the structure's region size given (a constant where the caller knows it). */
@inline export function structFillShift(
  structure: u32, shift: u32, va: u64, out: u64, attrs: u32, flags: u32, ctx: u32, asid: u32,
): usize {
  const now = clockNow();
  const e = fillEntry(structure, shift, va, out, attrs, flags, ctx, asid, now, floorAll());
  noteFill(structure, flags, now);
  return e;
}

/**
 * The body of a fill, for callers that fill several structures in a row: the
 * clock (`now`) and floorAll (`oldest`) read once, and noteFill called once
 * per kind of structure afterwards.
 */
@inline export function fillEntry(
  structure: u32, shift: u32, va: u64, out: u64, attrs: u32, flags: u32, ctx: u32, asid: u32, now: u32, oldest: u32,
): usize {
  const d = desc(structure);
  store<u32>(d, now, DESC_LAST_FILL);
  const first = setBase(d, va, shift);
  const victim = load<u32>(first, E_VICTIM);
  let chosen = first + <usize>victim * ENTRY_SIZE;
  // Quick test first: anything older than the last full flush is dead, and
  // the round-robin pointer moves on. Otherwise choose out of line.
  if (load<u32>(chosen, E_STAMP) >= oldest) {
    chosen = chooseWay(structure, first, victim, load<u32>(d, DESC_WAYS));
  } else {
    store<u32>(first, victim + 1 == load<u32>(d, DESC_WAYS) ? 0 : victim + 1, E_VICTIM);
  }
  store<u64>(chosen, regionTag(va, shift), E_TAG);
  store<u64>(chosen, out, E_OUT);
  store<u64>(chosen, <u64>now | (<u64>(asid & 0xFFFF) << 32) | (<u64>(attrs & 0xFF) << 48) | (<u64>(flags & 0xFF) << 56), E_STAMP);
  store<u32>(chosen, ctx, E_CTX);
  return chosen;
}

/** Records that a structure of this kind was filled at `now` (what tlbMayHold and pscMayHold test). */
@inline export function noteFill(structure: u32, flags: u32, now: u32): void {
  const last = isPsc(structure) ? CPU_PSC_LAST_FILL : flags & EF_GLOBAL ? CPU_TLB_LAST_GLOBAL_FILL : CPU_TLB_LAST_FILL;
  store<u32>(C + last, now);
}

/**
 * The way a fill takes when the round-robin victim may be live: the victim if
 * it is dead after all, else a dead way if the set has one (hardware refills
 * invalid entries first), else the victim, evicted.
 */
function chooseWay(structure: u32, first: usize, victim: u32, ways: u32): usize {
  let chosen = first + <usize>victim * ENTRY_SIZE;
  if (entryLive(structure, chosen)) {
    const dead = deadWay(structure, first, ways);
    if (dead != 0) return dead;
    count(CNT_EVICT);
    if (!isPsc(structure)) evictFromMicro(structure, chosen);
  }
  store<u32>(first, victim + 1 == ways ? 0 : victim + 1, E_VICTIM);
  return chosen;
}

/** The first dead way of a set, or 0. */
function deadWay(structure: u32, first: usize, ways: u32): usize {
  let e = first;
  for (let w: u32 = 0; w < ways; w++, e += ENTRY_SIZE) {
    if (!entryLive(structure, e)) return e;
  }
  return 0;
}

/** A live TLB entry is being replaced: the micro-TLB must forget it too. */
function evictFromMicro(structure: u32, e: usize): void {
  if (structure == STRUCT_TLB_4K) microDropPage(load<u64>(e, E_TAG));
  else microFlush();
}

/**
 * Kills the entries of every page size that map va in context ctx:
 * non-global ones of `asid` when nonGlobal (every ASID when asid is
 * ANY_ASID), global ones when global. Structures from `first` to `last`.
 * Contexts match under ctxMask (CTX_ANY_EPT ignores the EPT slot).
 */
export function killVa(first: u32, last: u32, va: u64, ctx: u32, asid: u32, nonGlobal: bool, global: bool, ctxMask: u32 = 0xFFFF_FFFF): void {
  for (let s = first; s <= last; s++) {
    const d = desc(s);
    if (!filledSinceFlush(d)) continue;
    const shift = load<u32>(d, DESC_SHIFT);
    const tag = regionTag(va, shift);
    const ways = load<u32>(d, DESC_WAYS);
    let e = setBase(d, va, shift);
    for (let w: u32 = 0; w < ways; w++, e += ENTRY_SIZE) {
      if (load<u64>(e, E_TAG) != tag || (load<u32>(e, E_CTX) & ctxMask) != (ctx & ctxMask) || !entryLive(s, e)) continue;
      const isGlobal = (load<u8>(e, E_FLAGS) & EF_GLOBAL) != 0;
      const asidMatch = asid == ANY_ASID || <u32>load<u16>(e, E_PCID) == asid;
      if (isGlobal ? global : nonGlobal && asidMatch) killEntry(s, e);
    }
  }
}

export const ANY_ASID: u32 = 0xFFFF_FFFF;
/** A context mask that ignores the EPT slot. */
export const CTX_ANY_EPT: u32 = 0x00FF_FFFF;

/** The detector's source record of an entry. */
@inline export function entrySources(structure: u32, e: usize): usize {
  const d = desc(structure);
  const index = (e - <usize>load<u32>(d, DESC_BASE)) / ENTRY_SIZE;
  return <usize>load<u32>(d, DESC_SRC) + index * SRC_SIZE;
}

/** Total entries of a structure. */
@inline export function structEntries(structure: u32): u32 {
  const d = desc(structure);
  return (load<u32>(d, DESC_SET_MASK) + 1) * load<u32>(d, DESC_WAYS);
}

@inline export function structEntry(structure: u32, index: u32): usize {
  return <usize>load<u32>(desc(structure), DESC_BASE) + <usize>index * ENTRY_SIZE;
}
