// SPDX-License-Identifier: MIT
//
// What a PV page-table entry may reference, and the references it holds
// (xen/arch/x86/mm.c get_page_from_l1e..l4e, put_page_from_l1e..l4e,
// get_lN_linear_pagetable, promote_lN_table, demote_lN_table).
//
// A present entry of a validated table holds a general reference on the frame
// it points at and, for L2..L4, a type reference of the level below; an L1
// entry holds a writable type reference when it maps the frame writable.
// Linear page tables (an entry pointing at a table of its own level) are
// allowed read-only, as Xen allows them: a table may map itself without any
// reference, and another already-validated table of its level with one, as
// long as a table never both holds linear entries and is used by them.
//
// Differences from Xen: the guest kernel runs at CPL 0, so entries are not
// adjusted for a ring-3 kernel (adjust_guest_l1e and friends); there is no
// MMIO or grant mapping, so a frame outside the frame table is refused as
// I/O memory the domain may not access.

import type { Domain } from "../common/domain.ts";
import { EBUSY, EINVAL, EPERM } from "../common/errno.ts";
import { PGT, PGT_COUNT_MAX, type PageInfo } from "../common/frame-table.ts";
import { maddr, PAGE_SIZE } from "../common/memory.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import type { Cpu } from "./hypervisor.ts";
import { getPageFromMfn, getPageOwnerAndReference, putPage, putPageAndType } from "./page-ref.ts";
import { getPageAndTypeFromMfn, getPageType, putPageType } from "./page-type.ts";
import {
  DISALLOW_MASK,
  INVALID_PTE_MFN,
  isGuestL4Slot,
  isPresent,
  L1_PAGETABLE_ENTRIES,
  pteFlags,
  pteMfn,
  ROOT_PAGETABLE_FIRST_XEN_SLOT,
  _PAGE_PRESENT,
  _PAGE_RW,
} from "./pte.ts";

const L_READ_ENTRY: StepLabel = { what: "read a page-table entry" };
const L_XEN_SLOTS: StepLabel = { what: "init_xen_l4_slots: write the hypervisor's L4 slots" };
const L_LINEAR_ENTRIES: StepLabel = { what: "inc_linear_entries" };
const L_LINEAR_USES: StepLabel = { what: "inc_linear_uses" };
const L_LINEAR_TYPE: StepLabel = { what: "get_lN_linear_pagetable: take a type reference" };

export type Level = 1 | 2 | 3 | 4;

/** A present entry a scan found: its slot and its value. */
interface FoundEntry {
  index: number;
  e: bigint;
}

/**
 * The next present entry of a table being promoted or demoted, scanning
 * from slot `from` by `dir` (+1 or -1) over the slots validation looks at;
 * undefined at the end of the table. One step reads the run of empty
 * entries before it together with it.
 *
 * Why one step may read many entries: while promote_lN_table or
 * demote_lN_table runs, the frame's type is held as a page table that is
 * not (or no longer) validated, so no writable mapping of it can exist
 * (_get_page_type refuses one) and no mod_lN_entry can reach it (it needs
 * the validated type). Nothing else can change these entries, so reading
 * the empty ones one per decision would only add decisions that no other
 * pCPU can tell apart. The step still counts every entry it reads (its
 * label's weight), so that PCT pauses a pCPU in a long scan as often as it
 * would if each read were a decision: Xen's loop takes that long on
 * hardware. Each present entry still ends the step, before the references
 * it needs are taken, since those touch frames other pCPUs share.
 */
function* nextPresentEntry(c: Cpu, page: PageInfo, level: Level, from: number, dir: 1 | -1): Routine<FoundEntry | undefined> {
  // The entries cannot change (above), so the step's weight may be counted before it is announced.
  let reads = 0;
  let found: FoundEntry | undefined;
  // Each entry's present bit from its low half (a number): a bigint is made only for the entry found.
  const words = c.hv.mem.words();
  const base = c.hv.mem.frameWord(page.mfn * PAGE_SIZE);
  for (let i = from; i >= 0 && i < L1_PAGETABLE_ENTRIES && !found; i += dir) {
    if (!isGuestSlot(level, i)) continue;
    reads++;
    if (words[base + 2 * i]! & _PAGE_PRESENT) found = { index: i, e: c.hv.mem.read64(maddr(page.mfn, i * 8)) };
  }
  // Only slots validation skips were left: nothing to read, so no step.
  if (!reads) return undefined;
  yield reads > 1 ? { what: L_READ_ENTRY.what, weight: reads } : L_READ_ENTRY;
  return found;
}

/**
 * get_page_from_l1e: the references a present L1 entry needs. 0 on success,
 * else -EINVAL (disallowed flags or INVALID_MFN), -EPERM (a frame outside
 * the domains' RAM, which Xen treats as I/O memory the domain may not map),
 * -EBUSY (a frame of another owner or a free one, or a writable mapping of a
 * frame that cannot become writable: Xen's could_not_pin).
 */
export function* getPageFromL1e(c: Cpu, l1e: bigint, l1eOwner: Domain, pgOwner: Domain): Routine<number> {
  const flags = pteFlags(l1e);
  if (flags & DISALLOW_MASK[1]) return -EINVAL;
  const mfn = pteMfn(l1e);
  const page = c.hv.frames.lookup(mfn);
  if (!page) return mfn === INVALID_PTE_MFN ? -EINVAL : -EPERM;
  const realOwner = yield* getPageOwnerAndReference(c, page);
  // Unprivileged domains map only their own frames (no privileged mappings of others' pages).
  if (realOwner !== pgOwner || pgOwner !== l1eOwner) {
    if (realOwner) yield* putPage(c, page);
    return -EBUSY;
  }
  if (flags & _PAGE_RW && (yield* getPageType(c, page, PGT.writable)) !== 0) {
    yield* putPage(c, page);
    return -EBUSY;
  }
  return 0;
}

/** put_page_from_l1e: drops what a present L1 entry held. */
export function* putPageFromL1e(c: Cpu, l1e: bigint): Routine<void> {
  if (!isPresent(l1e)) return;
  const page = c.hv.frames.lookup(pteMfn(l1e));
  if (!page) return;
  // A writable entry held a writable type reference (PV domains are never paging-external).
  if (pteFlags(l1e) & _PAGE_RW) yield* putPageAndType(c, page);
  else yield* putPage(c, page);
}

/**
 * get_page_from_l2e / l3e / l4e: a present entry of `level` references a
 * table of level - 1, or, read-only, a validated table of its own level
 * (a linear page table). 0 or a negative errno.
 */
export function* getPageFromUpperEntry(c: Cpu, level: 2 | 3 | 4, e: bigint, tableMfn: number, d: Domain): Routine<number> {
  if (pteFlags(e) & DISALLOW_MASK[level]) return -EINVAL;
  let rc = yield* getPageAndTypeFromMfn(c, pteMfn(e), (level - 1) as Level, d);
  if (rc === -EINVAL && (yield* getLinearPagetable(c, level, e, tableMfn, d))) rc = 0;
  return rc;
}

/** get_lN_linear_pagetable: may this read-only entry point at a table of its own level? */
function* getLinearPagetable(c: Cpu, level: 2 | 3 | 4, pde: bigint, pdeMfn: number, d: Domain): Routine<boolean> {
  if (pteFlags(pde) & _PAGE_RW) return false;
  const mfn = pteMfn(pde);
  // A table mapping itself needs no reference: it cannot go away under its own entry.
  if (mfn === pdeMfn) return true;
  const ptpg = c.hv.frames.page(pdeMfn);
  if (ptpg.owner !== d) return false;
  const page = yield* getPageFromMfn(c, mfn, d);
  if (!page) return false;
  yield L_LINEAR_ENTRIES;
  if (ptpg.linearPtCount < 0) {
    yield* putPage(c, page);
    return false;
  }
  ptpg.linearPtCount++;
  yield L_LINEAR_USES;
  if (page.linearPtCount > 0) {
    ptpg.linearPtCount--;
    yield* putPage(c, page);
    return false;
  }
  page.linearPtCount--;
  yield L_LINEAR_TYPE;
  if (page.typeCount >= PGT_COUNT_MAX || page.type !== level || !page.validated) {
    page.linearPtCount++;
    ptpg.linearPtCount--;
    yield* putPage(c, page);
    return false;
  }
  page.typeCount++;
  return true;
}

/** put_page_from_l2e / l3e / l4e: drops what a present upper entry held (nothing for a self-map). */
export function* putPageFromUpperEntry(c: Cpu, e: bigint, tableMfn: number): Routine<void> {
  if (!isPresent(e)) return;
  const mfn = pteMfn(e);
  if (mfn === tableMfn) return;
  const page = c.hv.frames.page(mfn);
  yield* putPageType(c, page, c.hv.frames.page(tableMfn));
  yield* putPage(c, page);
}

/** Does validation look at this slot of a table of this level? */
const isGuestSlot = (level: Level, i: number) => level !== 4 || isGuestL4Slot(i);

/**
 * promote_l1_table .. promote_l4_table: take the references every present
 * entry needs; on failure, drop the ones taken and return the errno. A
 * validated L4 gets the hypervisor's slots written over whatever the guest
 * left in them.
 */
export function* promoteTable(c: Cpu, page: PageInfo, level: Level): Routine<number> {
  const d = page.owner!;
  let rc = 0;
  let found: FoundEntry | undefined;
  for (let from = 0; (found = yield* nextPresentEntry(c, page, level, from, 1)); from = found.index + 1) {
    rc = level === 1 ? yield* getPageFromL1e(c, found.e, d, d) : yield* getPageFromUpperEntry(c, level, found.e, page.mfn, d);
    if (rc !== 0) break;
  }
  if (found) {
    // Undo the entries before the one that failed, last first.
    for (let from = found.index - 1; (found = yield* nextPresentEntry(c, page, level, from, -1)); from = found.index - 1) {
      if (level === 1) yield* putPageFromL1e(c, found.e);
      else yield* putPageFromUpperEntry(c, found.e, page.mfn);
    }
    return rc;
  }
  if (level === 4) {
    yield L_XEN_SLOTS;
    c.hv.xenArea.l4Slots.forEach((e, k) => c.hv.mem.write64(maddr(page.mfn, (ROOT_PAGETABLE_FIRST_XEN_SLOT + k) * 8), e));
  }
  return 0;
}

/** demote_l1_table .. demote_l4_table: drop every reference the entries hold, last slot first for the upper levels. */
export function* demoteTable(c: Cpu, page: PageInfo, level: Level): Routine<void> {
  const dir = level === 1 ? 1 : -1;
  let found: FoundEntry | undefined;
  for (let from = dir === 1 ? 0 : L1_PAGETABLE_ENTRIES - 1; (found = yield* nextPresentEntry(c, page, level, from, dir)); from = found.index + dir) {
    if (level === 1) yield* putPageFromL1e(c, found.e);
    else yield* putPageFromUpperEntry(c, found.e, page.mfn);
  }
}
