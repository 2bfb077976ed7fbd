// SPDX-License-Identifier: MIT
//
// Changing one entry of a validated page table (xen/arch/x86/mm.c
// mod_l1_entry .. mod_l4_entry). The caller holds the table's page_lock, so
// no other hypervisor path changes the entry meanwhile; the hardware may
// still set A and D, which MMU_PT_UPDATE_PRESERVE_AD keeps. The new entry's
// references are taken before it is written and the old entry's dropped
// after, so the frame the old entry mapped stays referenced until no entry
// maps it.

import type { Domain } from "../common/domain.ts";
import { EINVAL } from "../common/errno.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import type { Cpu } from "./hypervisor.ts";
import { getPageFromL1e, getPageFromUpperEntry, putPageFromL1e, putPageFromUpperEntry } from "./page-table.ts";
import { DISALLOW_MASK, FASTPATH_FLAG_WHITELIST, hasChanged, isGuestL4Slot, isPresent, pteFlags, _PAGE_ACCESSED, _PAGE_DIRTY } from "./pte.ts";

const L_READ_OLD: StepLabel = { what: "mod_lN_entry: read the old entry" };
const L_UPDATE: StepLabel = { what: "UPDATE_ENTRY: write the new entry" };
const AD = BigInt(_PAGE_ACCESSED | _PAGE_DIRTY);

/** UPDATE_ENTRY: writes the entry, keeping the A and D bits the hardware set if asked; returns what it replaced. */
function* updateEntry(c: Cpu, pa: bigint, value: bigint, preserveAd: boolean): Routine<bigint> {
  yield L_UPDATE;
  const current = c.hv.mem.read64(pa);
  c.hv.mem.write64(pa, preserveAd ? value | (current & AD) : value);
  return current;
}

/**
 * mod_l1_entry: the L1 entry at machine address pa (in frame gl1mfn) becomes
 * nl1e. ptDom owns the table, pgDom the frame mapped. 0 or a negative errno,
 * the entry unchanged on failure.
 */
export function* modL1Entry(c: Cpu, pa: bigint, nl1e: bigint, preserveAd: boolean, ptDom: Domain, pgDom: Domain): Routine<number> {
  yield L_READ_OLD;
  const ol1e = c.hv.mem.read64(pa);
  if (isPresent(nl1e)) {
    if (pteFlags(nl1e) & DISALLOW_MASK[1]) return -EINVAL;
    // Only flags that need no revalidation changed: write it as it is.
    if (!hasChanged(ol1e, nl1e, FASTPATH_FLAG_WHITELIST)) {
      yield* updateEntry(c, pa, nl1e, preserveAd);
      return 0;
    }
    const rc = yield* getPageFromL1e(c, nl1e, ptDom, pgDom);
    if (rc !== 0) return rc;
  }
  const old = yield* updateEntry(c, pa, nl1e, preserveAd);
  yield* putPageFromL1e(c, old);
  return 0;
}

/**
 * mod_l2_entry, mod_l3_entry, mod_l4_entry: the entry at pa, in table frame
 * `mfn` of `level`, becomes ne. An L4's hypervisor slots are refused
 * (-EINVAL, as mod_l4_entry returns for "L4 update in Xen-private area").
 */
export function* modUpperEntry(c: Cpu, level: 2 | 3 | 4, pa: bigint, ne: bigint, mfn: number, preserveAd: boolean, d: Domain): Routine<number> {
  const slot = Number((pa & 0xfffn) >> 3n);
  if (level === 4 && !isGuestL4Slot(slot)) return -EINVAL;
  yield L_READ_OLD;
  const oe = c.hv.mem.read64(pa);
  if (isPresent(ne)) {
    if (pteFlags(ne) & DISALLOW_MASK[level]) return -EINVAL;
    if (!hasChanged(oe, ne, FASTPATH_FLAG_WHITELIST)) {
      yield* updateEntry(c, pa, ne, preserveAd);
      return 0;
    }
    const rc = yield* getPageFromUpperEntry(c, level, ne, mfn, d);
    if (rc < 0) return rc;
  }
  const old = yield* updateEntry(c, pa, ne, preserveAd);
  yield* putPageFromUpperEntry(c, old, mfn);
  return 0;
}
