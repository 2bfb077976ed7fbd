// SPDX-License-Identifier: MIT
//
// An AArch64 data access as a CPU makes it: translate, decide from the memory
// attributes whether it is cacheable, then go through the data caches or
// straight to RAM; and the cache-maintenance instructions that act on the
// caches by address, by set/way, or by block (DC ZVA).
//
// Cacheable means: stage 1 on (SCTLR_EL1.M), data caches on (SCTLR_EL1.C),
// and a Normal memory type with a cacheable inner attribute (after stage 2's
// attributes are combined in). Without FEATURE_CACHES every access goes to RAM.

import { C, count } from "../cpu";
import { ARM_SCTLR_EL1, ARM_HCR_EL2, CPU_RES_INFO, CNT_IC_INVAL } from "../layout";
import { XLATE_FAILED } from "../tlb/micro";
import { physHost } from "../phys/ram";
import { ramWritten } from "./code-write";
import { armReg, SCTLR_M, SCTLR_C, HCR_SWIO } from "./regs";
import { armTranslate } from "./translate";
import { annotOn, annotDataLoad } from "../common/annotate";
import { ARM_ACC_WRITE, ARM_ACC_EL0 } from "./vmsa/permissions";
import { ARM_INFO_ATTR_SHIFT } from "./vmsa/walk";
import { mairIsCacheable } from "./vmsa/attrs";
import {
  cachesOn, cacheRead, cacheWrite, uncachedRead, uncachedWrite, dcByAddress, dcBySetWay, l1QuickHit, DC_CLEAN,
  DC_INVALIDATE, LINE_SIZE, staleReadCheck, checkUncachedRead,
} from "./cache";
import { CNT_UNCACHED } from "../layout";
import { physHostCached } from "../phys/ram";

/** The value of the last load. */
export let loadedValue: u64 = 0;
/** The VA of the data access being made on the full path, for the stale-read check's report. */
let accessVa: u64 = 0;

/** Notes the VA of a data access about to take the full path (mem.ts translateData, armDataAccess). */
@inline export function noteAccessVa(va: u64): void {
  accessVa = va;
}

/** Is the last translation's memory cacheable for data? */
@inline function cacheable(): bool {
  if (!cachesOn) return false;
  const sctlr = armReg(ARM_SCTLR_EL1);
  if (!(sctlr & SCTLR_M) || !(sctlr & SCTLR_C)) return false;
  return mairIsCacheable(<u32>(load<u64>(C + CPU_RES_INFO) >> ARM_INFO_ATTR_SHIFT) & 0xFF);
}

/**
 * With the data caches modelled, the host address of an aligned access of
 * `size` bytes at pa, right after the translation that produced pa, when it
 * completes without the full model: a hit in this CPU's L1 (cache.ts's
 * l1QuickHit) for cacheable memory, RAM itself (in the last range used) for
 * Non-cacheable and Device memory (its page then marked written for a store,
 * phys/pages.ts); -1 otherwise. Counted as the full path counts it.
 */
@inline export function cachedQuickHost(pa: u64, size: u32, write: bool): i64 {
  if (cacheable()) {
    const r = l1QuickHit(pa, write);
    return r == 0 ? -1 : <i64>r;
  }
  // The stale-read check watches every non-cacheable access on the full path.
  if (staleReadCheck) return -1;
  const h = physHostCached(pa, size);
  if (h >= 0) {
    count(CNT_UNCACHED);
    if (write) ramWritten(<usize>h, pa, size);
  }
  return h;
}

/**
 * A load or store of 1, 2, 4 or 8 bytes at va (naturally aligned, so within a
 * line) by the selected CPU; `kind` is an ARM_ACC_* access kind. Returns 0 or
 * the translation's failure status (the fault record says which).
 */
export function armDataAccess(va: u64, size: u32, kind: u32, value: u64): u32 {
  const pa = armTranslate(va, kind);
  if (pa & XLATE_FAILED) return <u32>pa;
  accessVa = va;
  if (annotOn && !(kind & ARM_ACC_WRITE)) annotDataLoad(va, pa);
  if (kind & ARM_ACC_WRITE) armPhysWrite(pa, size, value);
  else loadedValue = armPhysRead(pa, size);
  return 0;
}

/**
 * The memory side of a load of 1, 2, 4 or 8 bytes within one 64-byte line at
 * pa, right after the translation that produced pa (its attributes decide
 * whether the caches are used). Outside RAM it reads zero.
 */
export function armPhysRead(pa: u64, size: u32): u64 {
  if (cacheable()) return cacheRead(pa, size);
  if (cachesOn) {
    const v = uncachedRead(pa, size);
    if (staleReadCheck) checkUncachedRead(accessVa, pa, size, v);
    return v;
  }
  const h = physHost(pa, size);
  return h < 0 ? 0 : loadSized(<usize>h, size);
}

/** The store twin of armPhysRead. */
export function armPhysWrite(pa: u64, size: u32, value: u64): void {
  if (cacheable()) cacheWrite(pa, size, value);
  else if (cachesOn) uncachedWrite(pa, size, value);
  else {
    const h = physHost(pa, size);
    if (h < 0) return;
    ramWritten(<usize>h, pa, size);
    storeSized(<usize>h, size, value);
  }
}

@inline export function loadSized(p: usize, size: u32): u64 {
  if (size == 8) return load<u64>(p);
  if (size == 4) return <u64>load<u32>(p);
  if (size == 2) return <u64>load<u16>(p);
  return <u64>load<u8>(p);
}

@inline export function storeSized(p: usize, size: u32, value: u64): void {
  if (size == 8) store<u64>(p, value);
  else if (size == 4) store<u32>(p, <u32>value);
  else if (size == 2) store<u16>(p, <u16>value);
  else store<u8>(p, <u8>value);
}

// ── Cache maintenance instructions ──────────────────────────────────────────

export const DC_IVAC: u32 = 0;
export const DC_CVAC: u32 = 1;
export const DC_CIVAC: u32 = 2;
export const DC_ISW: u32 = 3;
export const DC_CSW: u32 = 4;
export const DC_CISW: u32 = 5;
export const DC_ZVA: u32 = 6;

/**
 * DC <op>, Xt on the selected CPU. By address: Xt is a VA, translated with
 * the rights the operation needs (IVAC and ZVA write, the cleans read); by
 * set/way: Xt is the set/way/level operand, and HCR_EL2.SWIO upgrades ISW to
 * CISW. Returns 0, a translation failure status, or 1 for an unknown op.
 */
export function armDc(op: u32, xt: u64, el0: bool): u32 {
  if (op == DC_ISW || op == DC_CSW || op == DC_CISW) {
    if (!cachesOn) return 0;
    let what: u32 = op == DC_ISW ? DC_INVALIDATE : op == DC_CSW ? DC_CLEAN : DC_CLEAN | DC_INVALIDATE;
    if (op == DC_ISW && (armReg(ARM_HCR_EL2) & HCR_SWIO)) what = DC_CLEAN | DC_INVALIDATE;
    dcBySetWay(xt, what);
    return 0;
  }
  if (op > DC_ZVA) return 1;
  const kind = (op == DC_IVAC || op == DC_ZVA ? ARM_ACC_WRITE : 0) | (el0 ? ARM_ACC_EL0 : 0);
  if (op == DC_ZVA) {
    // DCZID_EL0.BS = 4: 16 words, 64 bytes.
    const block = xt & ~<u64>(LINE_SIZE - 1);
    for (let i: u64 = 0; i < LINE_SIZE; i += 8) {
      const status = armDataAccess(block + i, 8, kind, 0);
      if (status) return status;
    }
    return 0;
  }
  const pa = armTranslate(xt, kind);
  if (pa & XLATE_FAILED) return <u32>pa;
  if (cachesOn) dcByAddress(pa, op == DC_IVAC ? DC_INVALIDATE : op == DC_CVAC ? DC_CLEAN : DC_CLEAN | DC_INVALIDATE);
  return 0;
}

/** IC IALLU / IALLUIS: instruction caches are not modelled (fetches are coherent), so it is counted only. */
export function armIcInvalidateAll(): void {
  count(CNT_IC_INVAL);
}
