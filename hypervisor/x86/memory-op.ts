// SPDX-License-Identifier: MIT
//
// XENMEM_* (xen/common/memory.c do_memory_op, increase_reservation,
// populate_physmap, decrease_reservation, guest_remove_page). For a PV
// domain "GMFN" means MFN: decrease_reservation names machine frames, and
// populate_physmap and increase_reservation write back the MFNs they
// allocated. The reservation calls return how many extents they did; an
// argument they cannot use ends them early, as Xen's do.
//
// Deviation (the rule): an extent_order other than 0 is -EINVAL.

import type { Domain } from "../common/domain.ts";
import { EFAULT, EINVAL, ENOSYS, ENXIO, EPERM, ESRCH } from "../common/errno.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import { accessOk, copyFromGuest, readGuestU64, writeGuestUint } from "./guest-access.ts";
import type { Cpu } from "./hypervisor.ts";
import { allocDomheapPage, getPage, putPage, putPageAllocRef } from "./page-ref.ts";
import { MEMOP_CMD_MASK, MEMOP_EXTENT_SHIFT, XEN_MEMORY_RESERVATION, XENMEM } from "./public.ts";

const L_PHYSMAP: StepLabel = { what: "guest_physmap_add_page: write the M2P entry" };
const UINT_MAX = 0xffff_ffff;

/** do_memory_op(cmd, arg): a count, an errno, or (a reservation call that cannot start) start_extent, which may be wider than a double holds exactly. */
export function* doMemoryOp(c: Cpu, cmd: bigint, arg: bigint): Routine<number | bigint> {
  const op = Number(cmd & BigInt(MEMOP_CMD_MASK));
  const startExtent = cmd >> BigInt(MEMOP_EXTENT_SHIFT);
  switch (op) {
    case XENMEM.increase_reservation:
    case XENMEM.decrease_reservation:
    case XENMEM.populate_physmap:
      return yield* reservationOp(c, op, startExtent, arg);
    case XENMEM.maximum_ram_page:
      if (startExtent) return -EINVAL;
      return c.hv.frames.endMfn;
    case XENMEM.current_reservation:
    case XENMEM.maximum_reservation: {
      if (startExtent) return -EINVAL;
      const b = yield* copyFromGuest(c, arg, 2);
      if (!b) return -EFAULT;
      const d = c.hv.domainByAnyId(b[0]! | (b[1]! << 8), c.d);
      if (!d) return -ESRCH;
      // xsm_memory_stat_reservation (XSM_TARGET): only about itself.
      if (d !== c.d) return -EPERM;
      return op === XENMEM.current_reservation ? d.totPages : d.maxPages;
    }
    default:
      return -ENOSYS;
  }
}

/**
 * The three reservation calls; returns the number of extents done
 * (start_extent when nothing could start). Until start_extent is known to
 * be below nr_extents it is returned as the bigint it is: cmd >> 6 has 58
 * bits, and Xen returns it exactly.
 */
function* reservationOp(c: Cpu, op: number, startExtent: bigint, arg: bigint): Routine<number | bigint> {
  const b = yield* copyFromGuest(c, arg, XEN_MEMORY_RESERVATION.SIZE);
  if (!b) return startExtent;
  const v = new DataView(b.buffer);
  const list = v.getBigUint64(XEN_MEMORY_RESERVATION.EXTENT_START, true);
  const nrExtents = v.getBigUint64(XEN_MEMORY_RESERVATION.NR_EXTENTS, true);
  const order = v.getUint32(XEN_MEMORY_RESERVATION.EXTENT_ORDER, true);
  const memFlags = v.getUint32(XEN_MEMORY_RESERVATION.MEM_FLAGS, true);
  const domid = v.getUint16(XEN_MEMORY_RESERVATION.DOMID, true);
  // Too many to encode a continuation, or nothing left to do.
  if (nrExtents > BigInt(UINT_MAX >>> MEMOP_EXTENT_SHIFT) || startExtent >= nrExtents) return startExtent;
  // Below nr_extents, which is below 2^26: a number from here on.
  const start = Number(startExtent);
  const d = c.hv.domainByAnyId(domid, c.d);
  if (!d) return start;
  // construct_memop_from_reservation: address_bits of 1..12 cannot be met; an exact node is for privileged domains.
  const addressBits = memFlags & 0xff;
  if (addressBits !== 0 && addressBits <= 12) return start;
  if (((memFlags >>> 8) & 0xff) !== 0 && memFlags & (1 << 17)) return start;
  // xsm_memory_adjust_reservation (XSM_TARGET): only its own reservation.
  if (d !== c.d) return start;
  if (order !== 0) return -EINVAL;
  const nr = Number(nrExtents);
  // guest_handle_subrange_okay(extent_list, nr_done, nr_extents - 1).
  const listOk = accessOk(list + 8n * BigInt(start), 8n * BigInt(nr - start));
  let i = start;
  if (op === XENMEM.increase_reservation) {
    if (list !== 0n && !listOk) return start;
    for (; i < nr; i++) {
      const page = yield* allocDomheapPage(c, d);
      if (!page) break;
      if (list !== 0n && !(yield* writeGuestUint(c, list + 8n * BigInt(i), BigInt(page.mfn)))) break;
    }
  } else if (op === XENMEM.populate_physmap) {
    if (!listOk) return start;
    for (; i < nr; i++) {
      const gpfn = yield* readGuestU64(c, list + 8n * BigInt(i));
      if (gpfn === undefined) break;
      const page = yield* allocDomheapPage(c, d);
      if (!page) break;
      yield L_PHYSMAP;
      c.hv.setGpfnFromMfn(page.mfn, gpfn);
      if (!(yield* writeGuestUint(c, list + 8n * BigInt(i), BigInt(page.mfn)))) break;
    }
  } else {
    if (!listOk) return start;
    for (; i < nr; i++) {
      const gmfn = yield* readGuestU64(c, list + 8n * BigInt(i));
      if (gmfn === undefined) break;
      if ((yield* guestRemovePage(c, d, gmfn)) !== 0) break;
    }
  }
  return i;
}

/**
 * guest_remove_page for a PV domain: the frame gmfn (an MFN) loses its
 * allocation reference. It returns to the allocator when its last reference
 * goes, so a frame still pinned or mapped stays the domain's until then.
 * -EINVAL for an MFN outside the frame table, -ENXIO for a frame d does not own.
 */
export function* guestRemovePage(c: Cpu, d: Domain, gmfn: bigint): Routine<number> {
  const page = c.hv.frames.lookup(gmfn);
  if (!page) return -EINVAL;
  if (!(yield* getPage(c, page, d))) return -ENXIO;
  yield* putPageAllocRef(c, page);
  yield* putPage(c, page);
  return 0;
}
