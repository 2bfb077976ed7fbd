// SPDX-License-Identifier: MIT
//
// The set-associative translation structures of one CPU: the TLBs for 4 KiB,
// 2 MiB and 1 GiB pages and the paging-structure caches (SDM Vol.3A 4.10.2,
// 4.10.3). All share one entry layout (layout.ts, ENTRY_SIZE); a structure is
// described by a descriptor in the CPU block: base, set mask, ways, and the lg
// of the region one entry maps (12/21/30 for the TLBs; 21/30/39/48 for the
// PDE/PDPTE/PML4E/PML5E caches, whose entries map the region their table
// covers).
//
// Replacement is round-robin per set; a fill reuses an entry with the same tag
// and context, then a dead one, before it evicts.

import { C, desc, count } from "../../cpu";
import {
  DESC_BASE, DESC_SET_MASK, DESC_WAYS, DESC_SHIFT, DESC_SRC, CPU_TLB_LAST_FILL, CPU_TLB_LAST_GLOBAL_FILL,
  CPU_PSC_LAST_FILL, ENTRY_SIZE, E_TAG, E_OUT, E_STAMP,
  E_PCID, E_ATTRS, E_FLAGS, E_VICTIM, EF_GLOBAL, SRC_SIZE, STRUCT_TLB_4K, STRUCT_PSC_PDE, CNT_EVICT,
} from "../../layout";
import { clockNow, curFloor, curPscFloor, curPcid, floorAll, tlbFloor, pscFloor, microDropPage, microFlush } from "./clock";

@inline export function isPsc(structure: u32): bool {
  return structure >= STRUCT_PSC_PDE;
}

@inline export function structShift(structure: u32): u32 {
  return load<u32>(desc(structure), DESC_SHIFT);
}

@inline function regionTag(va: u64, shift: u32): u64 {
  return va & (<u64>-1 << shift);
}

@inline function setBase(d: usize, va: u64, shift: u32): usize {
  const set = <usize>(<u32>(va >> shift) & load<u32>(d, DESC_SET_MASK));
  return <usize>load<u32>(d, DESC_BASE) + set * <usize>load<u32>(d, DESC_WAYS) * ENTRY_SIZE;
}

/**
 * Can any TLB hold a live entry for the current context? Not when nothing was
 * filled since the flushes that cover it: a cheap test that spares the probes
 * after a flush.
 */
@inline export function tlbMayHold(): bool {
  return load<u32>(C + CPU_TLB_LAST_FILL) >= curFloor() || load<u32>(C + CPU_TLB_LAST_GLOBAL_FILL) >= floorAll();
}

/** Can a paging-structure cache hold a live entry for the current PCID? */
@inline export function pscMayHold(): bool {
  return load<u32>(C + CPU_PSC_LAST_FILL) >= curPscFloor();
}

/** The live TLB entry that maps va in the current context, or 0. */
export function tlbProbe(structure: u32, va: u64): usize {
  const d = desc(structure);
  const shift = load<u32>(d, DESC_SHIFT);
  const tag = regionTag(va, shift);
  const ways = load<u32>(d, DESC_WAYS);
  let e = setBase(d, va, shift);
  for (let w: u32 = 0; w < ways; w++, e += ENTRY_SIZE) {
    if (load<u64>(e, E_TAG) != tag) continue;
    const stamp = load<u32>(e, E_STAMP);
    if (load<u8>(e, E_FLAGS) & EF_GLOBAL) {
      if (stamp >= floorAll()) return e;
    } else if (<u32>load<u16>(e, E_PCID) == curPcid() && stamp >= curFloor()) {
      return e;
    }
  }
  return 0;
}

/** The live paging-structure-cache entry for va in the current PCID, or 0. */
export function pscProbe(structure: u32, va: u64): usize {
  const d = desc(structure);
  const shift = load<u32>(d, DESC_SHIFT);
  const tag = regionTag(va, shift);
  const ways = load<u32>(d, DESC_WAYS);
  let e = setBase(d, va, shift);
  for (let w: u32 = 0; w < ways; w++, e += ENTRY_SIZE) {
    if (load<u64>(e, E_TAG) == tag && <u32>load<u16>(e, E_PCID) == curPcid() && load<u32>(e, E_STAMP) >= curPscFloor()) {
      return e;
    }
  }
  return 0;
}

/** Is the entry live in whatever context it belongs to? */
@inline export function entryLive(structure: u32, e: usize): bool {
  const stamp = load<u32>(e, E_STAMP);
  if (stamp < floorAll()) return false;
  if (load<u8>(e, E_FLAGS) & EF_GLOBAL) return true;
  const pcid = <u32>load<u16>(e, E_PCID);
  return stamp >= (isPsc(structure) ? pscFloor(pcid) : tlbFloor(pcid));
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
 * the set (after a flush every way is dead, so the ways are reused in turn
 * before anything live is evicted).
 */
@inline export function structFill(structure: u32, va: u64, out: u64, attrs: u32, flags: u32, pcid: u32): usize {
  return structFillShift(structure, load<u32>(desc(structure), DESC_SHIFT), va, out, attrs, flags, pcid);
}

/** structFill with the structure's region size given (a constant where the caller knows it). */
@inline export function structFillShift(structure: u32, shift: u32, va: u64, out: u64, attrs: u32, flags: u32, pcid: u32): usize {
  const d = desc(structure);
  const ways = load<u32>(d, DESC_WAYS);
  const first = setBase(d, va, shift);
  const victim = load<u32>(first, E_VICTIM);
  const chosen = first + <usize>victim * ENTRY_SIZE;
  store<u32>(first, victim + 1 == ways ? 0 : victim + 1, E_VICTIM);
  // Quick test first: anything older than the last full flush is dead.
  if (load<u32>(chosen, E_STAMP) >= floorAll() && entryLive(structure, chosen)) {
    count(CNT_EVICT);
    if (!isPsc(structure)) evictFromMicro(structure, chosen);
  }
  const now = clockNow();
  store<u64>(chosen, regionTag(va, shift), E_TAG);
  store<u64>(chosen, out, E_OUT);
  store<u64>(chosen, <u64>now | (<u64>(pcid & 0xFFFF) << 32) | (<u64>(attrs & 0xFF) << 48) | (<u64>(flags & 0xFF) << 56), E_STAMP);
  const last = isPsc(structure) ? CPU_PSC_LAST_FILL : flags & EF_GLOBAL ? CPU_TLB_LAST_GLOBAL_FILL : CPU_TLB_LAST_FILL;
  store<u32>(C + last, now);
  return chosen;
}

/** A live TLB entry is being replaced: the micro-TLB must forget it too. */
function evictFromMicro(structure: u32, e: usize): void {
  if (structure == STRUCT_TLB_4K) microDropPage(load<u64>(e, E_TAG));
  else microFlush();
}

/**
 * Kills the TLB entries of every page size that map va: non-global ones of
 * `pcid` when nonGlobal, global ones when global.
 */
export function tlbKillVa(va: u64, pcid: u32, nonGlobal: bool, global: bool): void {
  for (let s: u32 = STRUCT_TLB_4K; s < STRUCT_PSC_PDE; s++) {
    const d = desc(s);
    const shift = load<u32>(d, DESC_SHIFT);
    const tag = regionTag(va, shift);
    const ways = load<u32>(d, DESC_WAYS);
    let e = setBase(d, va, shift);
    for (let w: u32 = 0; w < ways; w++, e += ENTRY_SIZE) {
      if (load<u64>(e, E_TAG) != tag || !entryLive(s, e)) continue;
      const isGlobal = (load<u8>(e, E_FLAGS) & EF_GLOBAL) != 0;
      if (isGlobal ? global : nonGlobal && <u32>load<u16>(e, E_PCID) == pcid) killEntry(s, e);
    }
  }
}

/** Kills the paging-structure-cache entries of the current PCID that a walk of va would use. */
export function pscKillVa(va: u64): void {
  for (let s: u32 = STRUCT_PSC_PDE; s <= STRUCT_PSC_PDE + 3; s++) {
    const e = pscProbe(s, va);
    if (e) store<u32>(e, 0, E_STAMP);
  }
}

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
