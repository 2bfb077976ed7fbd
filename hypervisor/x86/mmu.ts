// SPDX-License-Identifier: MIT
//
// The PV memory-management hypercalls (xen/arch/x86/mm.c do_mmu_update,
// do_mmuext_op, do_update_va_mapping, new_guest_cr3, vcpumask_to_pcpumask;
// pv/mm.c map_guest_l1e). Every table update goes through mod_lN_entry with
// the table's page_lock held, so the frame table's counts always describe
// what the tables say. Xen's preemption and continuations are absent: every
// routine here runs to its end as steps interleaved with other pCPUs, and
// the references Xen defers (old_guest_table) are dropped at once.

import { Domain } from "../common/domain.ts";
import { EFAULT, EINVAL, ENOSYS, EOPNOTSUPP, EPERM, ESRCH, EACCES } from "../common/errno.ts";
import { PGT, type PageType } from "../common/frame-table.ts";
import { maddr, PAGE_SIZE } from "../common/memory.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import { flushLocal, flushTlbMask } from "./flush.ts";
import { accessOk, copyFromGuest, readGuestU64, writeGuestUint } from "./guest-access.ts";
import type { Cpu } from "./hypervisor.ts";
import { modL1Entry, modUpperEntry } from "./mod-entry.ts";
import { getPageFromMfn, putPage, putPageAndType } from "./page-ref.ts";
import { getPageAndTypeFromMfn, getPageType, getPageTypeOk, pageLock, pageUnlock, putPageType } from "./page-type.ts";
import { addrOk, isPresent, pteFlags, pteMfn, tableOffset, _PAGE_PRESENT, _PAGE_PSE } from "./pte.ts";
import {
  DOMID_IO,
  DOMID_XEN,
  MMU_MACHPHYS_UPDATE,
  MMU_NORMAL_PT_UPDATE,
  MMU_PT_UPDATE_NO_TRANSLATE,
  MMU_PT_UPDATE_PRESERVE_AD,
  MMU_UPDATE_PREEMPTED,
  MMU_UPDATE_SIZE,
  MMUEXT,
  MMUEXT_OP,
  UVMF_ALL,
  UVMF_FLUSHTYPE_MASK,
  UVMF_INVLPG,
  UVMF_LOCAL,
  UVMF_TLB_FLUSH,
} from "./public.ts";

const L_WRITE_WRITABLE: StepLabel = { what: "mmu_update: write an entry of a writable frame" };
const L_M2P: StepLabel = { what: "set_gpfn_from_mfn: write an M2P entry" };
const L_PIN: StepLabel = { what: "mmuext_op: test and set PGT_pinned" };
const L_UNPIN: StepLabel = { what: "mmuext_op: test and clear PGT_pinned" };
const L_CLEAR: StepLabel = { what: "clear_domain_page" };
const L_COPY: StepLabel = { what: "copy_domain_page" };
const L_BASEPTR: StepLabel = { what: "new_guest_cr3: switch the vCPU's L4" };

/** A domain that owns no frame: DOMID_IO, which mmu_update accepts as the owner of I/O mappings. */
const domIo = new Domain(DOMID_IO, 0, 0);

/**
 * get_pg_owner: the domain whose frames a call names. DOMID_SELF is the
 * caller; the caller's own id, or an unknown one, gives undefined (-ESRCH).
 * Another domain or DOMID_XEN is returned, to be refused by the caller's
 * permission check (XSM_TARGET: an unprivileged domain acts only on itself).
 */
function getPgOwner(c: Cpu, domid: number): Domain | undefined {
  if (domid === c.d.domid) return undefined;
  if (domid === DOMID_IO) return domIo;
  if (domid === DOMID_XEN) return c.hv.domXen;
  return c.hv.domainByAnyId(domid, c.d);
}

/** do_mmu_update(ureqs, count, pdone, foreigndom). */
export function* doMmuUpdate(c: Cpu, ureqs: bigint, countArg: number, pdone: bigint, foreigndom: number): Routine<number> {
  const d = c.d;
  let count = countArg;
  let done = 0;
  if (count === MMU_UPDATE_PREEMPTED && ureqs === 0n) return foreigndom | 0;
  if (count & MMU_UPDATE_PREEMPTED) {
    count = (count & ~MMU_UPDATE_PREEMPTED) >>> 0;
    if (pdone !== 0n) {
      const b = yield* copyFromGuest(c, pdone, 4);
      if (b) done = new DataView(b.buffer).getUint32(0, true);
    }
  }
  if (!accessOk(ureqs, BigInt(count) * BigInt(MMU_UPDATE_SIZE))) return -EFAULT;

  let rc = 0;
  let i = 0;
  let ptOwner: Domain = d;
  const ptDom = foreigndom >>> 16;
  if (ptDom !== 0) {
    // An unknown page-table owner returns at once, before the `out` path that writes pdone.
    const owner = c.hv.domains.get(ptDom - 1);
    if (!owner) return -ESRCH;
    ptOwner = owner;
  }
  out: {
    const pgOwner = getPgOwner(c, foreigndom & 0xffff);
    if (!pgOwner) {
      rc = -ESRCH;
      break out;
    }
    let flushLinearPt = false;
    for (; i < count; i++) {
      const req = yield* copyFromGuest(c, ureqs + BigInt(i * MMU_UPDATE_SIZE), MMU_UPDATE_SIZE);
      if (!req) {
        rc = -EFAULT;
        break;
      }
      const view = new DataView(req.buffer);
      const ptr = view.getBigUint64(0, true);
      const val = view.getBigUint64(8, true);
      const cmd = Number(ptr & 7n);
      switch (cmd) {
        case MMU_NORMAL_PT_UPDATE:
        case MMU_PT_UPDATE_PRESERVE_AD:
        case MMU_PT_UPDATE_NO_TRANSLATE:
          // xsm_mmu_update: an unprivileged domain updates only its own tables, mapping its own frames (or DOMID_IO's).
          if (ptOwner !== d || (pgOwner !== d && pgOwner !== domIo)) rc = -EPERM;
          else rc = yield* normalPtUpdate(c, ptr - BigInt(cmd), val, cmd === MMU_PT_UPDATE_PRESERVE_AD, ptOwner, pgOwner, () => (flushLinearPt = true));
          break;
        case MMU_MACHPHYS_UPDATE:
          if (d !== ptOwner || (pgOwner !== d && pgOwner !== domIo)) {
            rc = -EPERM;
            break;
          }
          rc = yield* machphysUpdate(c, ptr, val, pgOwner);
          break;
        default:
          rc = -ENOSYS;
      }
      if (rc) break;
    }
    // A changed L2..L4 entry may be cached as a paging-structure entry on any pCPU the owner ran on.
    if (flushLinearPt) {
      const others = [...ptOwner.dirtyCpumask].filter((cpu) => cpu !== c.cpu);
      if (ptOwner.dirtyCpumask.has(c.cpu)) yield* flushLocal(c, undefined, "do_mmu_update");
      yield* flushTlbMask(c, others, undefined, "do_mmu_update");
    }
  }
  if (pdone !== 0n) yield* writeGuestUint(c, pdone, BigInt(done + i), 4);
  return rc;
}

/** One MMU_NORMAL_PT_UPDATE / MMU_PT_UPDATE_PRESERVE_AD: the entry at machine address pa becomes val. */
function* normalPtUpdate(c: Cpu, pa: bigint, val: bigint, preserveAd: boolean, ptOwner: Domain, pgOwner: Domain, linearChanged: () => void): Routine<number> {
  const page = yield* getPageFromMfn(c, pa >> 12n, ptOwner);
  if (!page) return -EINVAL;
  let rc = -EINVAL;
  if (yield* pageLock(c, page)) {
    const type = page.type;
    if (type === PGT.l1) {
      rc = yield* modL1Entry(c, pa, val, preserveAd, ptOwner, pgOwner);
    } else if (type === PGT.l2 || type === PGT.l3 || type === PGT.l4) {
      if (pgOwner === ptOwner) {
        rc = yield* modUpperEntry(c, type, pa, val, page.mfn, preserveAd, ptOwner);
        if (!rc) linearChanged();
      }
    } else if (type === PGT.writable) {
      yield L_WRITE_WRITABLE;
      c.hv.mem.write64(pa, val);
      rc = 0;
    }
    yield* pageUnlock(c, page);
  } else if (yield* getPageTypeOk(c, page, PGT.writable)) {
    // A frame with no validated type: make it writable for the one write.
    yield L_WRITE_WRITABLE;
    c.hv.mem.write64(pa, val);
    yield* putPageType(c, page);
    rc = 0;
  }
  yield* putPage(c, page);
  return rc;
}

/** MMU_MACHPHYS_UPDATE: the M2P entry of the frame at ptr becomes val (a PFN). */
function* machphysUpdate(c: Cpu, ptr: bigint, val: bigint, pgOwner: Domain): Routine<number> {
  const page = yield* getPageFromMfn(c, ptr >> 12n, pgOwner);
  if (!page) return -EINVAL;
  yield L_M2P;
  c.hv.setGpfnFromMfn(page.mfn, val);
  yield* putPage(c, page);
  return 0;
}

/** new_guest_cr3: the vCPU's L4 becomes mfn, which must be the domain's and validate as an L4. */
export function* newGuestCr3(c: Cpu, mfn: number): Routine<number> {
  const old = c.vcpu.guestTable;
  if (old === mfn) {
    c.hv.callbacks.baseptrChanged?.(c.vcpu);
    return 0;
  }
  const rc = yield* getPageAndTypeFromMfn(c, mfn, PGT.l4, c.d);
  if (rc) return rc;
  yield L_BASEPTR;
  c.vcpu.guestTable = mfn;
  c.hv.callbacks.baseptrChanged?.(c.vcpu);
  if (old) yield* putPageAndType(c, c.hv.frames.page(old));
  return 0;
}

/** vcpumask_to_pcpumask: the pCPUs that may hold TLB entries of the vCPUs in the guest's bitmap; -EFAULT on a bad pointer. */
function* vcpumaskToPcpumask(c: Cpu, bmap: bigint): Routine<number[] | number> {
  const d = c.d;
  const mask = new Set<number>();
  for (let offs = 0; ; offs++) {
    const bias = offs * 64;
    if (bias >= d.vcpus.length) return [...mask];
    const word = yield* readGuestU64(c, bmap + BigInt(offs * 8));
    if (word === undefined) return -EFAULT;
    for (let bit = 0; bit < 64; bit++) {
      if (!((word >> BigInt(bit)) & 1n)) continue;
      const id = bias + bit;
      if (id >= d.vcpus.length) return [...mask];
      const cpu = d.vcpus[id]!.dirtyCpu;
      if (cpu !== undefined) mask.add(cpu);
    }
  }
}

/** do_mmuext_op(uops, count, pdone, foreigndom). */
export function* doMmuextOp(c: Cpu, uops: bigint, countArg: number, pdone: bigint, foreigndom: number): Routine<number> {
  let count = countArg;
  let done = 0;
  if (count === MMU_UPDATE_PREEMPTED && uops === 0n) return foreigndom | 0;
  if (count & MMU_UPDATE_PREEMPTED) {
    count = (count & ~MMU_UPDATE_PREEMPTED) >>> 0;
    if (pdone !== 0n) {
      const b = yield* copyFromGuest(c, pdone, 4);
      if (b) done = new DataView(b.buffer).getUint32(0, true);
    }
  }
  if (!accessOk(uops, BigInt(count) * BigInt(MMUEXT_OP.SIZE))) return -EFAULT;
  const pgOwner = getPgOwner(c, foreigndom & 0xffff);
  if (!pgOwner) return -ESRCH;
  // xsm_mmuext_op (XSM_TARGET): an unprivileged domain acts only on itself.
  if (pgOwner !== c.d) return -EPERM;

  let rc = 0;
  let i = 0;
  for (; i < count; i++) {
    const op = yield* copyFromGuest(c, uops + BigInt(i * MMUEXT_OP.SIZE), MMUEXT_OP.SIZE);
    if (!op) {
      rc = -EFAULT;
      break;
    }
    const v = new DataView(op.buffer);
    rc = yield* mmuextOne(c, v.getUint32(MMUEXT_OP.CMD, true), v.getBigUint64(MMUEXT_OP.ARG1, true), v.getBigUint64(MMUEXT_OP.ARG2, true), pgOwner);
    if (rc) break;
  }
  if (pdone !== 0n) yield* writeGuestUint(c, pdone, BigInt(done + i), 4);
  return rc;
}

function* mmuextOne(c: Cpu, cmd: number, arg1: bigint, arg2: bigint, pgOwner: Domain): Routine<number> {
  switch (cmd) {
    case MMUEXT.PIN_L1_TABLE:
    case MMUEXT.PIN_L2_TABLE:
    case MMUEXT.PIN_L3_TABLE:
    case MMUEXT.PIN_L4_TABLE:
      return yield* pinTable(c, arg1, (cmd - MMUEXT.PIN_L1_TABLE + 1) as PageType, pgOwner);
    case MMUEXT.UNPIN_TABLE: {
      const page = yield* getPageFromMfn(c, arg1, pgOwner);
      if (!page) return -EINVAL;
      yield L_UNPIN;
      if (!page.pinned) {
        yield* putPage(c, page);
        return -EINVAL;
      }
      page.pinned = false;
      c.hv.stats.unpins++;
      yield* putPageAndType(c, page);
      yield* putPage(c, page);
      return 0;
    }
    case MMUEXT.NEW_BASEPTR:
      return yield* newGuestCr3(c, Number(arg1));
    case MMUEXT.TLB_FLUSH_LOCAL:
      yield* flushLocal(c, undefined, "MMUEXT_TLB_FLUSH_LOCAL");
      return 0;
    case MMUEXT.INVLPG_LOCAL:
      // paging_invlpg ignores a non-canonical address.
      if (arg1 < 1n << 47n || arg1 >= 0xffff_8000_0000_0000n) yield* flushLocal(c, arg1, "MMUEXT_INVLPG_LOCAL");
      return 0;
    case MMUEXT.TLB_FLUSH_MULTI:
    case MMUEXT.INVLPG_MULTI: {
      const mask = yield* vcpumaskToPcpumask(c, arg2);
      if (!Array.isArray(mask)) return -EINVAL;
      if (cmd === MMUEXT.TLB_FLUSH_MULTI) yield* flushTlbMask(c, mask, undefined, "MMUEXT_TLB_FLUSH_MULTI");
      else if (addrOk(arg1)) yield* flushTlbMask(c, mask, arg1, "MMUEXT_INVLPG_MULTI");
      return 0;
    }
    case MMUEXT.TLB_FLUSH_ALL:
      yield* flushTlbMask(c, c.d.dirtyCpumask, undefined, "MMUEXT_TLB_FLUSH_ALL");
      return 0;
    case MMUEXT.INVLPG_ALL:
      if (addrOk(arg1)) yield* flushTlbMask(c, c.d.dirtyCpumask, arg1, "MMUEXT_INVLPG_ALL");
      return 0;
    case MMUEXT.CLEAR_PAGE: {
      const page = yield* getPageFromMfn(c, arg1, pgOwner);
      if (!page) return -EINVAL;
      if (!(yield* getPageTypeOk(c, page, PGT.writable))) {
        yield* putPage(c, page);
        return -EINVAL;
      }
      yield L_CLEAR;
      c.hv.mem.zero(maddr(page.mfn), PAGE_SIZE);
      yield* putPageAndType(c, page);
      return 0;
    }
    case MMUEXT.COPY_PAGE: {
      const src = yield* getPageFromMfn(c, arg2, pgOwner);
      if (!src) return -EINVAL;
      const dst = yield* getPageFromMfn(c, arg1, pgOwner);
      if (!dst || !(yield* getPageTypeOk(c, dst, PGT.writable))) {
        yield* putPage(c, src);
        if (dst) yield* putPage(c, dst);
        return -EINVAL;
      }
      yield L_COPY;
      c.hv.mem.write(maddr(dst.mfn), c.hv.mem.read(maddr(src.mfn), PAGE_SIZE));
      yield* putPageAndType(c, dst);
      yield* putPage(c, src);
      return 0;
    }
    case MMUEXT.FLUSH_CACHE:
    case MMUEXT.FLUSH_CACHE_GLOBAL:
      // cache_flush_permitted: an unprivileged domain with no I/O memory may not.
      return -EACCES;
    case MMUEXT.MARK_SUPER:
    case MMUEXT.UNMARK_SUPER:
      return -EOPNOTSUPP;
    default:
      // MMUEXT_SET_LDT and MMUEXT_NEW_USER_BASEPTR have no meaning for a guest kernel at CPL 0 (README: deviations).
      return -ENOSYS;
  }
}

/** MMUEXT_PIN_Lx_TABLE: a general and a type reference the frame keeps until unpinned; pinning twice is -EINVAL. */
function* pinTable(c: Cpu, mfn: bigint, type: PageType, pgOwner: Domain): Routine<number> {
  const page = yield* getPageFromMfn(c, mfn, pgOwner);
  if (!page) return -EINVAL;
  const rc = yield* getPageType(c, page, type);
  if (rc) {
    yield* putPage(c, page);
    return rc;
  }
  yield L_PIN;
  if (page.pinned) {
    yield* putPageAndType(c, page);
    return -EINVAL;
  }
  page.pinned = true;
  c.hv.stats.pins++;
  return 0;
}

/** map_guest_l1e: the L1 frame that maps va in the vCPU's tables, or undefined. */
function* mapGuestL1e(c: Cpu, va: bigint): Routine<number | undefined> {
  if (!addrOk(va)) return undefined;
  let mfn = c.vcpu.guestTable;
  if (!mfn) return undefined;
  for (let level = 4; level >= 2; level--) {
    yield L_READ_GUEST_TABLE;
    const e = c.hv.mem.read64(maddr(mfn, tableOffset(va, level) * 8));
    const flags = pteFlags(e);
    if (!isPresent(e) || (level === 2 && (flags & (_PAGE_PRESENT | _PAGE_PSE)) !== _PAGE_PRESENT)) return undefined;
    mfn = pteMfn(e);
    if (!c.hv.frames.valid(mfn)) return undefined;
  }
  return mfn;
}
const L_READ_GUEST_TABLE: StepLabel = { what: "map_guest_l1e: read a guest page-table entry" };

/** do_update_va_mapping(va, val, flags): the L1 entry that maps va becomes val, then the flush the flags ask for. */
export function* doUpdateVaMapping(c: Cpu, va: bigint, val: bigint, flags: bigint): Routine<number> {
  const d = c.d;
  const gl1mfn = yield* mapGuestL1e(c, va);
  if (gl1mfn === undefined) return -EINVAL;
  const gl1pg = yield* getPageFromMfn(c, gl1mfn, d);
  if (!gl1pg) return -EINVAL;
  if (!(yield* pageLock(c, gl1pg))) {
    yield* putPage(c, gl1pg);
    return -EINVAL;
  }
  let rc = -EINVAL;
  if (gl1pg.type === PGT.l1) rc = yield* modL1Entry(c, maddr(gl1mfn, tableOffset(va, 1) * 8), val, false, d, d);
  yield* pageUnlock(c, gl1pg);
  yield* putPage(c, gl1pg);
  if (rc) return rc;

  const kind = flags & UVMF_FLUSHTYPE_MASK;
  if (kind !== UVMF_TLB_FLUSH && kind !== UVMF_INVLPG) return 0;
  const flushVa = kind === UVMF_INVLPG ? va : undefined;
  const bmap = flags & ~UVMF_FLUSHTYPE_MASK;
  if (bmap === UVMF_LOCAL) {
    yield* flushLocal(c, flushVa, "do_update_va_mapping");
    return 0;
  }
  let mask: number[] = [];
  if (bmap === UVMF_ALL) mask = [...d.dirtyCpumask];
  else {
    const m = yield* vcpumaskToPcpumask(c, bmap);
    if (Array.isArray(m)) mask = m;
    else rc = m;
  }
  yield* flushTlbMask(c, mask, flushVa, "do_update_va_mapping");
  return rc;
}

