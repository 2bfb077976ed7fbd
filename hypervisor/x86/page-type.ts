// SPDX-License-Identifier: MIT
//
// Page typing (xen/arch/x86/mm.c _get_page_type, _put_page_type,
// validate_page, devalidate_page, page_lock; mechanisms §1.6).
//
// A frame's type may change only while its type count is 0. Taking the first
// reference of a page-table type validates the frame: every present entry
// must reference a frame of the same domain with the right type for its
// level, so a page table never maps a page table writable. Until validation
// ends the frame sits in the "validate-locked" state (type set, count 1, not
// validated): other takers wait, and the page lock cannot be taken. Dropping
// the last reference of a validated page table devalidates it, dropping the
// references its entries held.
//
// Each Xen cmpxchg loop here is one step: the step reads the frame's fields,
// decides and writes them at once, which is what the cmpxchg guarantees.

import { isPageTableType, PAGE_TYPE_NAMES, PGT, PGT_COUNT_MAX, type PageInfo, type PageType } from "../common/frame-table.ts";
import { FLUSH_NO_ASSIST, FLUSH_TLB } from "../common/flush.ts";
import type { Domain } from "../common/domain.ts";
import { EINVAL } from "../common/errno.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import type { PageLockKind } from "../common/lock-sanitizer.ts";
import { filteredFlush } from "./flush.ts";
import type { Cpu } from "./hypervisor.ts";
import { getPageFromMfn, putPage } from "./page-ref.ts";
import { demoteTable, promoteTable } from "./page-table.ts";

const L_GET_TYPE: StepLabel = { what: "_get_page_type: take a type reference" };
const L_WAIT_VALIDATE: StepLabel = { what: "_get_page_type: wait for another pCPU's validation", wait: true };
const L_VALIDATED: StepLabel = { what: "_get_page_type: mark the frame validated" };
const L_PUT_TYPE: StepLabel = { what: "_put_page_type: drop a type reference" };
const L_WAIT_UNLOCK: StepLabel = { what: "_put_page_type: wait for page_unlock", wait: true };
const L_PUT_FINAL: StepLabel = { what: "_put_final_page_type: drop the last type reference" };
const L_VALIDATE_DONE: StepLabel = { what: "validate_page: record the result" };
const L_LOCK: StepLabel = { what: "page_lock: take the lock" };
const L_WAIT_LOCK: StepLabel = { what: "page_lock: wait for the lock", wait: true };
const L_UNLOCK: StepLabel = { what: "page_unlock: release the lock" };
const L_LINEAR: StepLabel = { what: "dec_linear_uses/entries" };

const typeName = (t: PageType) => PAGE_TYPE_NAMES[t];

/**
 * _get_page_type(page, type): 0, or a negative errno with no reference
 * taken. Callers hold a general reference on the frame.
 */
export function* getPageType(c: Cpu, page: PageInfo, type: PageType): Routine<number> {
  let oldType: PageType;
  for (;;) {
    yield L_GET_TYPE;
    if (page.typeCount + 1 > PGT_COUNT_MAX) return -EINVAL;
    if (page.typeCount === 0) {
      // Typeref 0 -> 1: the type may change, and a new type needs validating.
      oldType = page.type;
      if (page.type !== type) {
        page.type = type;
        page.validated = false;
      }
      page.typeCount = 1;
      break;
    }
    // A reference of another type is refused before anything else (so a
    // table that maps itself as something else fails instead of waiting on
    // its own validation). Xen stays quiet for what looks like a recursive
    // mapping, which the linear page-table check may still allow.
    if (page.type !== type) return -EINVAL;
    if (page.validated) {
      page.typeCount++;
      return 0;
    }
    // Another pCPU holds the frame validate-locked: wait until its state moves on, then retry.
    const seenCount = page.typeCount;
    while (page.type === type && page.typeCount === seenCount && !page.validated) yield L_WAIT_VALIDATE;
  }
  if (page.validated) return 0;

  // The frame is validate-locked and ours alone until validated is set.
  if (oldType !== type) {
    c.hv.stats.typeTransition(typeName(oldType), typeName(type));
    c.hv.callbacks.frameEvent?.({ kind: "retype", cpu: c.cpu, mfn: page.mfn, from: typeName(oldType), to: typeName(type) });
    // No pCPU may keep a writable mapping of a frame about to become a page
    // table, nor be walking a frame that stops being one: flush the owner's
    // dirty pCPUs that have not flushed since the frame's stamp, by IPI when
    // the old type was a page table (the FLUSH_FORCE_IPI fix).
    const owner = page.owner;
    if (owner) yield* filteredFlush(c, owner.dirtyCpumask, page.tlbflushTimestamp, isPageTableType(oldType) ? FLUSH_TLB | FLUSH_NO_ASSIST : FLUSH_TLB, "_get_page_type");
  }
  if (!isPageTableType(type)) {
    yield L_VALIDATED;
    c.hv.sanitizer.retyped(c.cpu, page, typeName(oldType), typeName(type));
    page.validated = true;
    return 0;
  }
  page.linearPtCount = 0;
  return yield* validatePage(c, page, type, oldType);
}

/** validate_page: audit a validate-locked frame's entries for its page-table type. */
function* validatePage(c: Cpu, page: PageInfo, type: 1 | 2 | 3 | 4, oldType: PageType): Routine<number> {
  const rc = yield* promoteTable(c, page, type);
  yield L_VALIDATE_DONE;
  if (rc === 0) {
    c.hv.sanitizer.retyped(c.cpu, page, typeName(oldType), typeName(type));
    page.validated = true;
  } else {
    // The failed validation dropped what it took; the frame has no type now (type_info = 0).
    c.hv.stats.typeTransition(typeName(type), typeName(PGT.none));
    page.type = PGT.none;
    page.typeCount = 0;
    page.validated = false;
  }
  return rc;
}

/**
 * _put_page_type(page, ptpg): drops a type reference. ptpg is the page table
 * whose entry held it, when that entry may be a linear one (an entry
 * pointing at a table of its own level). Never fails in this model (no
 * preemption), but returns 0 to keep Xen's shape.
 */
export function* putPageType(c: Cpu, page: PageInfo, ptpg?: PageInfo): Routine<number> {
  c.hv.locks.putPageType(c.cpu, page.mfn);
  for (let waiting = false; ; ) {
    yield waiting ? L_WAIT_UNLOCK : L_PUT_TYPE;
    if (page.typeCount <= 0) throw new Error(`_put_page_type on MFN 0x${page.mfn.toString(16)} with no type references`);
    if (!page.validated) throw new Error(`_put_page_type on MFN 0x${page.mfn.toString(16)}, which is not validated`);
    const next = page.typeCount - 1;
    if (next === 0) {
      if (page.locked) throw new Error(`the last type reference of locked MFN 0x${page.mfn.toString(16)} dropped`);
      if (waiting) c.hv.locks.stopSpinning(c.cpu);
      if (isPageTableType(page.type)) {
        // Clearing validated makes every other user spin or fail while this pCPU devalidates.
        page.validated = false;
        return yield* putFinalPageType(c, page, page.type, ptpg);
      }
      if (!ptpg || ptpg.type !== page.type) page.tlbflushTimestamp = c.hv.clock.now;
      page.typeCount = 0;
      if (ptpg && ptpg.type === page.type) yield* decLinear(page, ptpg);
      return 0;
    }
    if (next === 1 && page.locked) {
      // Only page_unlock may drop the reference before the lock's own (XSA-242): retry after it.
      waiting = true;
      c.hv.locks.spinInPutPageType(c.cpu, page.mfn, page.lockedBy);
      continue;
    }
    if (waiting) c.hv.locks.stopSpinning(c.cpu);
    page.typeCount = next;
    if (ptpg && ptpg.type === page.type) yield* decLinear(page, ptpg);
    return 0;
  }
}

function* putFinalPageType(c: Cpu, page: PageInfo, type: 1 | 2 | 3 | 4, ptpg: PageInfo | undefined): Routine<number> {
  yield* demoteTable(c, page, type);
  if (ptpg && ptpg.type === type) yield* decLinear(page, ptpg);
  yield L_PUT_FINAL;
  page.tlbflushTimestamp = c.hv.clock.now;
  page.typeCount--;
  return 0;
}

/** dec_linear_uses(page) and dec_linear_entries(ptpg). */
function* decLinear(page: PageInfo, ptpg: PageInfo): Routine<void> {
  yield L_LINEAR;
  page.linearPtCount++;
  ptpg.linearPtCount--;
}

/** get_page_type as most callers use it: true on success. */
export function* getPageTypeOk(c: Cpu, page: PageInfo, type: PageType): Routine<boolean> {
  return (yield* getPageType(c, page, type)) === 0;
}

/** get_page_and_type_from_mfn: a general and a type reference, or -EINVAL (no such frame of d's) or get_page_type's errno. */
export function* getPageAndTypeFromMfn(c: Cpu, mfn: number, type: PageType, d: Domain): Routine<number> {
  const page = yield* getPageFromMfn(c, mfn, d);
  if (!page) return -EINVAL;
  const rc = yield* getPageType(c, page, type);
  if (rc !== 0) yield* putPage(c, page);
  return rc;
}

/**
 * page_lock: takes the frame's lock with one type reference; fails when the
 * frame is not validated or has no type references. Spins while another
 * pCPU holds it. `kind` says which copy of the function: the generic one,
 * which the 2018 debug check tracks ("checked"), or mem_sharing's private
 * one (eb6ad54731); they share the PGT_locked bit.
 */
export function* pageLock(c: Cpu, page: PageInfo, kind: PageLockKind = "checked"): Routine<boolean> {
  for (let waiting = false; ; waiting = true) {
    yield waiting ? L_WAIT_LOCK : L_LOCK;
    if (page.locked) {
      c.hv.locks.spinOnPageLock(c.cpu, page.mfn, page.lockedBy);
      continue;
    }
    if (waiting) c.hv.locks.stopSpinning(c.cpu);
    if (!page.validated || page.typeCount === 0 || page.typeCount + 1 > PGT_COUNT_MAX) return false;
    c.hv.locks.pageLocked(c.cpu, page.mfn, kind);
    page.locked = true;
    page.lockedBy = c.cpu;
    page.typeCount++;
    return true;
  }
}

/** page_unlock: releases the lock and its type reference, which is never the last. */
export function* pageUnlock(c: Cpu, page: PageInfo): Routine<void> {
  yield L_UNLOCK;
  if (!page.locked || page.lockedBy !== c.cpu) throw new Error(`page_unlock of MFN 0x${page.mfn.toString(16)}, which pCPU ${c.cpu} does not hold`);
  if (page.typeCount < 2) throw new Error(`page_unlock would drop the last type reference of MFN 0x${page.mfn.toString(16)}`);
  page.locked = false;
  page.lockedBy = -1;
  page.typeCount--;
  c.hv.locks.pageUnlocked(c.cpu, page.mfn);
}
