// SPDX-License-Identifier: MIT
//
// The x86-64 page walk: 4-level and 5-level paging (Intel SDM Vol.3A 4.5).
//
// A staged pipeline:
//   1. initial state: the root (CR3), or the deepest paging-structure-cache
//      hit (pscStart);
//   2. one level per iteration: entry address, descriptor fetch (fetch.ts,
//      the only place a walk reads or writes an entry, counts its reads and
//      records them for the detector), present and reserved-bit checks,
//      rights, leaf or table; each entry read is recorded in the walk trace;
//   3. commit (walkCommit): what the levels above the stop imply, from the
//      trace: Accessed flags on the entries that reference tables, fills of
//      the paging-structure caches, the detector's source record;
//   4. the leaf: permissions, Accessed/Dirty, the result, the TLB fill.
//
// The loop itself makes no calls, which keeps it fast; everything with side
// effects happens in stages 3 and 4. Deferring the Accessed updates is not
// observable: the walk is atomic with respect to every other CPU, and an entry
// read twice in one walk (a recursive mapping) ends with the same value.
//
// Accessed flags: an entry that references a table gets A=1 once the walk has
// used it, whether or not the walk later faults; the leaf gets A (and D for a
// write) only when the access is allowed (SDM Vol.3A 4.8).

import { C, count, features, cpuCount, select, selectedCpu } from "../../cpu";
import {
  CPU_RES_PA, CPU_RES_INFO, CPU_RSVD, CPU_WALK_TOP, FEATURE_DETECT, FEATURE_PAGE1GB,
  STRUCT_PSC_PDE, STRUCT_PSC_PDPTE, STRUCT_PSC_PML4E, STRUCT_PSC_PML5E, STRUCT_TLB_4K, STRUCT_TLB_2M, STRUCT_TLB_1G,
  EF_GLOBAL, CNT_PSC_HIT,
  INFO_PAT_SHIFT, INFO_GLOBAL, INFO_SIZE_SHIFT, EVENT_STALE_PSC, E_OUT, E_ATTRS,
} from "../../layout";
import { maxPhysAddr, rangeCacheBase, rangeCacheLimit8, rangeCacheDelta } from "../../phys/ram";
import { walkSrcReset, walkSrcLoad, walkSrcSave, checkSources } from "../../common/detector";
import { annotOn, annotEntryUsed } from "../../common/annotate";
import {
  tracePa, traceEntry, entryInCachedRange, fetchEntryCached, fetchEntryMiss, countCachedReads, recordTraced,
  writeTracedEntry,
} from "./fetch";
import { cr3, cr4, efer, CR4_LA57, CR4_PGE, EFER_NXE } from "../regs";
import {
  PTE_P, PTE_RW, PTE_US, PTE_A, PTE_D, PTE_PS, PTE_G, PTE_PK_SHIFT, PTE_XD, TABLE_IGNORED, rsvdAddrBits, addrMask,
} from "./pte";
import { PFERR_P, PFERR_RSVD } from "./pferr";
import {
  ATTR_U, ATTR_W, ATTR_XD, ATTR_D, ATTR_PKEY_SHIFT, ACC_WRITE, accessErrorBits, protectionFault,
} from "./permissions";
import { pscProbe, pscMayHold, structFill, structFillShift, fillEntry, noteFill, entrySources } from "../../tlb/structure";
import { curAsid, curCtx, clockNow, floorAll } from "../../tlb/floors";
import { pageFault, busFault } from "./result";
import { walkNested } from "./nested";
import { eptEnabled } from "../ept";
import { XLATE_OK, MODE_PEEK, MODE_NO_CACHE, microFill, allowedFromTlb } from "../../tlb/micro";

/** Bits 29:13 of a PDPTE that maps a 1 GiB page, reserved (SDM Vol.3A table 4-16). */
const RSVD_1G: u64 = 0x3FFF_E000;
/** Bits 20:13 of a PDE that maps a 2 MiB page, reserved (SDM Vol.3A table 4-18). */
const RSVD_2M: u64 = 0x001F_E000;

// ── Derived state: reserved-bit masks and the number of levels ──────────────

/**
 * The reserved bits of an entry at `level` (1 = PTE … 5 = PML5E) whose bit 7
 * is `ps` (SDM Vol.3A tables 4-14 to 4-20): bits 51:MAXPHYADDR everywhere, XD
 * without IA32_EFER.NXE, bit 7 in a PML5E or PML4E, bits 29:13 of a 1 GiB
 * page, bits 20:13 of a 2 MiB page, and PS in a PDPTE when 1 GiB pages are
 * not supported.
 */
export function reservedBits(level: u32, ps: bool): u64 {
  let rsvd = rsvdAddrBits(maxPhysAddr);
  if (!(efer() & EFER_NXE)) rsvd |= PTE_XD;
  if (level >= 4) rsvd |= PTE_PS;
  else if (level == 3 && ps) rsvd |= features & FEATURE_PAGE1GB ? RSVD_1G : PTE_PS;
  else if (level == 2 && ps) rsvd |= RSVD_2M;
  return rsvd;
}

/** Recomputes the selected CPU's reserved-bit masks and walk depth; after EFER, CR4 or MAXPHYADDR change. */
export function rebuildWalkParams(): void {
  for (let level: u32 = 0; level <= 5; level++) {
    store<u64>(C + CPU_RSVD + (<usize>level << 4), reservedBits(level, false));
    store<u64>(C + CPU_RSVD + (<usize>level << 4) + 8, reservedBits(level, true));
  }
  store<u32>(C + CPU_WALK_TOP, cr4() & CR4_LA57 ? 5 : 4);
}

/** rebuildWalkParams for every CPU (MAXPHYADDR is per machine). */
export function rebuildWalkParamsAll(): void {
  const was = selectedCpu;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    select(cpu);
    rebuildWalkParams();
  }
  select(was);
}

/** Rights of an entry in the attrs encoding: U/S → ATTR_U, R/W → ATTR_W, XD → ATTR_XD. */
@inline function entryRights(pte: u64): u32 {
  return (<u32>(pte >> 2) & ATTR_U) | (<u32>pte & ATTR_W) | (<u32>(pte >> 63) << 2);
}

/** Combines rights across levels: U/S and R/W by AND, XD by OR (SDM Vol.3A 4.6). */
@inline function combineRights(attrs: u32, pte: u64): u32 {
  const r = entryRights(pte);
  return (attrs & (r | ~(ATTR_U | ATTR_W))) | (r & ~(ATTR_U | ATTR_W));
}

/** Where a paging-structure-cache hit lets the walk start (set by pscStart). */
let startTable: u64 = 0;
let startAttrs: u32 = 0;

/**
 * Walks the paging structures for va with access kind `kind` (ACC_*, with
 * ACC_AC folded in). On success the result PA and info are in the CPU block
 * and, unless peeking, the TLB (and micro-TLB) hold the translation.
 */
@inline export function walk(va: u64, kind: u32, mode: u32): u32 {
  // A guest under EPT walks the slow, nested way.
  if (eptEnabled()) return walkNested(va, kind, mode);
  const peek = (mode & MODE_PEEK) != 0;

  // 1. Initial state.
  const top = load<u32>(C + CPU_WALK_TOP);
  const addrField = addrMask(maxPhysAddr);
  let level = top;
  let table = cr3() & addrField;
  let attrs: u32 = ATTR_U | ATTR_W;
  let fromCache = false;
  if (!(mode & MODE_NO_CACHE) && pscMayHold()) {
    const hit = pscStart(va, top, peek);
    if (hit) {
      level = hit;
      table = startTable;
      attrs = startAttrs;
      fromCache = true;
    }
  }
  const startAttrsHere = attrs;

  // 2. The levels.
  const first = level;
  walkNotAccessed = 0;
  const stop = walkLevels(va, table, level, attrs, addrField);
  level = walkLevel;
  attrs = walkAttrs;
  const pte = walkPte;

  // 3. Commit what the levels above the stop imply.
  // Walks are counted by the caller, as TLB misses and Dirty re-walks.
  countCachedReads(<u64>(first - level + 1), mode);
  if (!peek) {
    walkCommit(va, first, level, stop == STOP_LEAF && !(mode & MODE_NO_CACHE), fromCache, startAttrsHere, addrField);
  }
  if (stop == STOP_BUS) return busFault(tracePa(level), level, mode);
  if (stop == STOP_NOT_PRESENT) return pageFault(va, accessErrorBits(kind), level, mode);
  if (stop == STOP_RESERVED) return pageFault(va, PFERR_P | PFERR_RSVD | accessErrorBits(kind), level, mode);

  // 4. The leaf.
  return leaf(va, kind, mode, level, pte, attrs, addrField);
}

export const STOP_LEAF: u32 = 0;
export const STOP_BUS: u32 = 1;
export const STOP_NOT_PRESENT: u32 = 2;
export const STOP_RESERVED: u32 = 3;
/** Internal to walkLevels: the table is not in the cached RAM range. */
const STOP_RAM_MISS: u32 = 4;

// Where walkLevels stopped: the level, its table, the descriptor read there,
// and the rights combined down to it.
export let walkLevel: u32 = 0;
export let walkTable: u64 = 0;
export let walkPte: u64 = 0;
export let walkAttrs: u32 = 0;
/** Bit n set: the level-n entry read had A=0 (levels that passed the present and reserved checks). */
export let walkNotAccessed: u32 = 0;

/**
 * Stage 2: reads one descriptor per level from `level` down, recording each
 * in the walk trace, until a leaf or a fault; returns STOP_*. It makes no
 * calls and has no side effects beyond the trace, so it is also the whole of
 * the debugger's memory walk (walkTrace).
 */
@inline export function walkLevels(va: u64, tableIn: u64, levelIn: u32, attrsIn: u32, addrField: u64): u32 {
  let stop = walkLevelsFast(va, tableIn, levelIn, attrsIn, addrField);
  // A table outside the RAM range cached for fast lookups: look it up (which
  // caches its range) and resume where the walk stopped.
  while (stop == STOP_RAM_MISS) {
    if (!fetchEntryMiss(walkEntryPa, walkLevel)) return STOP_BUS;
    stop = walkLevelsFast(va, walkTable, walkLevel, walkAttrs, addrField);
  }
  return stop;
}

/** Address of the descriptor walkLevelsFast stopped at. */
export let walkEntryPa: u64 = 0;

/**
 * The loop of walkLevels. It makes no calls at all: a call inside the loop
 * would make the engine keep every loop variable in memory.
 */
function walkLevelsFast(va: u64, tableIn: u64, levelIn: u32, attrsIn: u32, addrField: u64): u32 {
  const rsvd = C + CPU_RSVD;
  let table = tableIn;
  let level = levelIn;
  // Rights are accumulated as raw bits (U/S and R/W by AND, XD by OR) and
  // turned into attrs once, after the loop.
  let allOf: u64 = ~(<u64>(PTE_US | PTE_RW)) | (attrsIn & ATTR_U ? PTE_US : 0) | (attrsIn & ATTR_W ? PTE_RW : 0);
  let anyOf: u64 = attrsIn & ATTR_XD ? PTE_XD : 0;
  let pte: u64 = 0;
  let entryPa: u64 = 0;
  let stop = STOP_LEAF;
  let notAccessed = walkNotAccessed;
  let shift: u64 = 12 + 9 * (<u64>level - 1);
  // physHostCached(entryPa, 8), with the cached range held in locals.
  const ramBase = rangeCacheBase();
  const ramLimit = rangeCacheLimit8();
  const ramDelta = rangeCacheDelta();
  for (;;) {
    entryPa = table + (((va >> shift) & 511) << 3);
    if (!entryInCachedRange(entryPa, ramBase, ramLimit)) {
      walkTable = table;
      walkEntryPa = entryPa;
      stop = STOP_RAM_MISS;
      break;
    }
    pte = fetchEntryCached(entryPa, level, ramDelta);
    if (!(pte & PTE_P)) {
      stop = STOP_NOT_PRESENT;
      break;
    }
    if (pte & load<u64>(rsvd + (<usize>level << 4) + (<usize>(pte >> 4) & 8))) {
      stop = STOP_RESERVED;
      break;
    }
    allOf &= pte;
    anyOf |= pte;
    notAccessed |= <u32>((~pte >> 5) & 1) << level;
    if (level == 1 || (pte & PTE_PS)) break;
    table = pte & addrField;
    level--;
    shift -= 9;
  }
  walkLevel = level;
  walkPte = pte;
  walkAttrs = (<u32>(allOf >> 2) & ATTR_U) | (<u32>allOf & ATTR_W) | (<u32>(anyOf >> 63) << 2);
  walkNotAccessed = notAccessed;
  return stop;
}

/**
 * The debugger's walk of memory: no TLB, no cache, no side effects. Leaves
 * the descriptors read in the walk trace (levels top down to walkLevel) and
 * returns STOP_*.
 */
export function walkTrace(va: u64): u32 {
  const addrField = addrMask(maxPhysAddr);
  return walkLevels(va, cr3() & addrField, load<u32>(C + CPU_WALK_TOP), ATTR_U | ATTR_W, addrField);
}

/**
 * Looks for the longest cached prefix of va (SDM Vol.3A 4.10.3.2): the PDE
 * cache first, then PDPTE, PML4E, PML5E. Returns the level the walk resumes
 * at (its table and rights in startTable/startAttrs), or 0.
 */
function pscStart(va: u64, top: u32, peek: bool): u32 {
  const detect = !peek && (features & FEATURE_DETECT) != 0;
  for (let cachedLevel: u32 = 2; cachedLevel <= top; cachedLevel++) {
    const s = STRUCT_PSC_PDE + cachedLevel - 2;
    const e = pscProbe(s, va);
    if (e == 0) continue;
    if (!peek) count(CNT_PSC_HIT);
    startTable = load<u64>(e, E_OUT);
    startAttrs = <u32>load<u8>(e, E_ATTRS);
    if (detect) checkSources(entrySources(s, e), e, va, EVENT_STALE_PSC, curAsid(), TABLE_IGNORED, TABLE_IGNORED);
    if (!peek && annotOn) annotEntryUsed(s, e, va);
    return cachedLevel - 1;
  }
  return 0;
}

/**
 * Stage 3: for each entry from `first` down to just above `last` (the ones
 * that referenced a table): set A, and when the walk reached a leaf and may
 * cache, fill the paging-structure cache of that level with the rights
 * combined so far. With the detector on, builds the source record: the
 * cache entry's own record when the walk started from one, then each
 * descriptor read, as last written.
 */
@inline function walkCommit(va: u64, first: u32, last: u32, fill: bool, fromCache: bool, attrsIn: u32, addrField: u64): void {
  if (features & FEATURE_DETECT) {
    walkCommitRecording(va, first, last, fill, fromCache, attrsIn, addrField);
    return;
  }
  // Accessed updates, rare once tables are warm, were gathered by the walk
  // into a mask; the stop level is the leaf or the faulting entry, not one
  // that referenced a table.
  const needA = walkNotAccessed & ~(<u32>1 << last);
  if (needA) setAccessedFlags(needA);
  if (!fill) return;
  // Unrolled, so that each fill knows its structure and region size. Levels 5
  // and 4 always reference tables; 3 and 2 do when the leaf is below them.
  let attrs = attrsIn;
  const pcid = curAsid();
  const ctx = curCtx();
  const now = clockNow();
  const oldest = floorAll();
  if (first >= 5) {
    attrs = combineRights(attrs, traceEntry(5));
    fillEntry(STRUCT_PSC_PML5E, 48, va, traceEntry(5) & addrField, attrs, 0, ctx, pcid, now, oldest);
  }
  if (first >= 4) {
    attrs = combineRights(attrs, traceEntry(4));
    fillEntry(STRUCT_PSC_PML4E, 39, va, traceEntry(4) & addrField, attrs, 0, ctx, pcid, now, oldest);
  }
  if (first >= 3 && last < 3) {
    attrs = combineRights(attrs, traceEntry(3));
    fillEntry(STRUCT_PSC_PDPTE, 30, va, traceEntry(3) & addrField, attrs, 0, ctx, pcid, now, oldest);
  }
  if (first >= 2 && last < 2) {
    attrs = combineRights(attrs, traceEntry(2));
    fillEntry(STRUCT_PSC_PDE, 21, va, traceEntry(2) & addrField, attrs, 0, ctx, pcid, now, oldest);
  }
  if (first > last) noteFill(STRUCT_PSC_PDE, 0, now);
}

/** Sets A in the traced entries of the levels in the mask. */
function setAccessedFlags(levels: u32): void {
  for (let level: u32 = 1; level <= 5; level++) {
    if (levels & (1 << level)) writeTracedEntry(level, traceEntry(level) | PTE_A, false);
  }
}

/** walkCommit with the detector on: the same, building the source record as it goes. */
function walkCommitRecording(va: u64, first: u32, last: u32, fill: bool, fromCache: bool, attrsIn: u32, addrField: u64): void {
  walkSrcReset();
  if (fromCache) {
    const e = pscProbe(STRUCT_PSC_PDE + first - 1, va);
    if (e) walkSrcLoad(entrySources(STRUCT_PSC_PDE + first - 1, e));
  }
  let attrs = attrsIn;
  for (let level = first; level > last; level--) {
    if (!(traceEntry(level) & PTE_A)) writeTracedEntry(level, traceEntry(level) | PTE_A, false);
    recordTraced(level);
    const pte = traceEntry(level);
    attrs = combineRights(attrs, pte);
    if (fill) {
      const s = STRUCT_PSC_PDE + level - 2;
      const e = structFill(s, va, pte & addrField, attrs, 0, curCtx(), curAsid());
      walkSrcSave(entrySources(s, e));
    }
  }
  recordTraced(last);
}

/**
 * Stage 4, the leaf: a 4 KiB page (level 1), a 2 MiB page (2) or a 1 GiB page
 * (3). Permissions, then Accessed/Dirty, the result and the TLB fill.
 */
@inline function leaf(va: u64, kind: u32, mode: u32, level: u32, pte: u64, attrsIn: u32, addrField: u64): u32 {
  const peek = (mode & MODE_PEEK) != 0;
  let attrs = attrsIn | (<u32>((pte >> PTE_PK_SHIFT) & 15) << ATTR_PKEY_SHIFT);
  // The allow table answers for the common case; the full rules only run
  // when it says no (it also says no for a write to a clean page).
  if (!allowedFromTlb(kind, attrs | ATTR_D)) {
    const fault = protectionFault(kind, attrs);
    if (fault) return pageFault(va, fault, level, mode);
  }
  const updated = pte | PTE_A | (kind & ACC_WRITE ? PTE_D : 0);
  if (!peek && updated != pte) writeTracedEntry(level, updated, true);
  if (updated & PTE_D) attrs |= ATTR_D;

  const shift: u32 = 12 + 9 * (level - 1);
  const pageMask: u64 = (<u64>1 << shift) - 1;
  const frame = pte & addrField & ~pageMask;
  // PAT index = PAT:PCD:PWT; PAT is bit 7 of a PTE, bit 12 of a large leaf.
  const patIndex = (<u32>(pte >> (level == 1 ? 7 : 12)) & 1) << 2 | (<u32>(pte >> 3) & 3);
  const global = (pte & PTE_G) != 0 && (cr4() & CR4_PGE) != 0;
  const info: u64 = <u64>attrs | (<u64>patIndex << INFO_PAT_SHIFT) | (global ? INFO_GLOBAL : 0)
    | (<u64>(level - 1) << INFO_SIZE_SHIFT);
  store<u64>(C + CPU_RES_PA, frame | (va & pageMask));
  store<u64>(C + CPU_RES_INFO, info);
  if (!peek && !(mode & MODE_NO_CACHE)) {
    const flags = global ? EF_GLOBAL : 0;
    const pcid = curAsid();
    const ctx = curCtx();
    const e = structFillShift(STRUCT_TLB_4K + level - 1, shift, va, frame | info, attrs, flags, ctx, pcid);
    if (features & FEATURE_DETECT) walkSrcSave(entrySources(STRUCT_TLB_4K + level - 1, e));
    microFill(va, frame | info, shift);
  }
  return XLATE_OK;
}
