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

import { desc, count } from "../../cpu";
import {
  DESC_BASE, DESC_SET_MASK, DESC_WAYS, DESC_SHIFT, DESC_SRC, ENTRY_SIZE, E_TAG, E_OUT, E_STAMP,
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
export function entryLive(structure: u32, e: usize): bool {
  const stamp = load<u32>(e, E_STAMP);
  if (stamp == 0) return false;
  if (load<u8>(e, E_FLAGS) & EF_GLOBAL) return stamp >= floorAll();
  const pcid = <u32>load<u16>(e, E_PCID);
  return stamp >= (isPsc(structure) ? pscFloor(pcid) : tlbFloor(pcid));
}

/** Kills one entry, and whatever the micro-TLB holds of it. */
export function killEntry(structure: u32, e: usize): void {
  store<u32>(e, 0, E_STAMP);
  if (structure == STRUCT_TLB_4K) microDropPage(load<u64>(e, E_TAG));
  else if (!isPsc(structure)) microFlush();
}

/**
 * Fills an entry for va and returns it. An entry with the same tag in the same
 * context is replaced, so a refill never leaves two copies behind.
 */
export function structFill(structure: u32, va: u64, out: u64, attrs: u32, flags: u32, pcid: u32): usize {
  const d = desc(structure);
  const shift = load<u32>(d, DESC_SHIFT);
  const tag = regionTag(va, shift);
  const ways = load<u32>(d, DESC_WAYS);
  const first = setBase(d, va, shift);
  const global = (flags & EF_GLOBAL) != 0;
  let chosen: usize = 0;
  let dead: usize = 0;
  let e = first;
  for (let w: u32 = 0; w < ways; w++, e += ENTRY_SIZE) {
    const live = entryLive(structure, e);
    if (!live) {
      if (dead == 0) dead = e;
      continue;
    }
    const sameContext = global ? (load<u8>(e, E_FLAGS) & EF_GLOBAL) != 0
      : <u32>load<u16>(e, E_PCID) == pcid && !(load<u8>(e, E_FLAGS) & EF_GLOBAL);
    if (load<u64>(e, E_TAG) == tag && sameContext) {
      chosen = e;
      break;
    }
  }
  if (chosen == 0) chosen = dead;
  if (chosen == 0) {
    const victim = load<u32>(first, E_VICTIM);
    chosen = first + <usize>victim * ENTRY_SIZE;
    store<u32>(first, victim + 1 == ways ? 0 : victim + 1, E_VICTIM);
    count(CNT_EVICT);
    killEntry(structure, chosen);
  }
  store<u64>(chosen, tag, E_TAG);
  store<u64>(chosen, out, E_OUT);
  store<u32>(chosen, clockNow(), E_STAMP);
  store<u16>(chosen, <u16>pcid, E_PCID);
  store<u8>(chosen, <u8>attrs, E_ATTRS);
  store<u8>(chosen, <u8>flags, E_FLAGS);
  return chosen;
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
