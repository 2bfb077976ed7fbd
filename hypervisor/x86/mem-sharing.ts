// SPDX-License-Identifier: MIT
//
// Memory sharing between HVM domains (Xen's xen/arch/x86/mm/mem_sharing.c,
// mechanisms §5): identical pages of several domains are merged into one
// read-only frame owned by dom_cow, and a write to it is an EPT violation
// that copies it back to a private frame (unshare). Sharing two pages locks
// both; that is where the history this issue reproduces happened:
//
//   2018 cf4b30dca0  a debug check: a CPU holds at most one page lock and
//                    never put_page_type on a page it holds locked; the
//                    generic page_lock used by mem_sharing trips it
//   2019 c2c6f8b68c  share_pages and page_make_private drop type references
//                    only after unlocking (before, the last drop could spin
//                    on the lock its own CPU held: XSA-242's rule)
//   2019 eb6ad54731  mem_sharing gets a private copy of page_lock
//
// and the options that bring each back (MemSharingOptions). Every routine
// follows Xen's order of checks and locks: the gfns' p2m locks first
// (get_two_gfns: lower domain id first, then lower gfn), then the page
// locks lower MFN first, then the rmap and p2m updates, unlock, and only
// then the references dropped. Every read and write of shared state is a
// step, so the lock sanitizer (common/lock-sanitizer.ts) and `explore` see
// the interleavings Xen's CPUs could produce.
//
// What this file needs from the HVM host is SharingP2m: the domain's p2m
// (EPT) entries, with a shared entry mapped read-only. HVM RAM pages hold
// their allocation reference only (EPT entries take no reference), as in
// Xen, which is what page_make_sharable's count check expects.

import type { Routine, StepLabel } from "../common/routine.ts";
import { Domain } from "../common/domain.ts";
import { PGT, type PageInfo } from "../common/frame-table.ts";
import { E2BIG, EEXIST, EINVAL, ENOMEM, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from "../common/errno.ts";
import type { PageLockKind } from "../common/lock-sanitizer.ts";
import type { Cpu } from "./hypervisor.ts";
import { allocDomheapPage, getPage, putPage, putPageAllocRef, putPageAndType } from "./page-ref.ts";
import { getPageType, pageLock, pageUnlock } from "./page-type.ts";
import { DOMID_COW, SHARED_M2P_ENTRY } from "./public.ts";
import { maddr } from "../common/memory.ts";

/** XENMEM_sharing_op (memory_op 22) sub-ops, public/memory.h. */
export const SHARING_OP = {
  nominate_gfn: 0,
  nominate_gref: 1,
  share: 2,
  debug_gfn: 3,
  debug_mfn: 4,
  debug_gref: 5,
  add_physmap: 6,
  audit: 7,
  range_share: 8,
  fork: 9,
  fork_reset: 10,
} as const;

/** share_pages' handle errors (public/memory.h). */
export const XENMEM_SHARING_OP_S_HANDLE_INVALID = -10;
export const XENMEM_SHARING_OP_C_HANDLE_INVALID = -9;
/** A gfn field naming a grant reference instead (not modelled: no grant tables). */
export const XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG = 1n << 62n;

/** The p2m types sharing cares about (Xen's p2m_type_t, by meaning). */
export type P2mType = "ram_rw" | "ram_ro" | "ram_shared" | "mmio_dm" | "invalid";
/** INVALID_MFN. */
export const INVALID_MFN = -1;

export interface P2mEntry {
  /** The machine frame, or INVALID_MFN for a hole. */
  mfn: number;
  type: P2mType;
}

/** What mem_sharing needs of an HVM domain's p2m (the host's EPT). */
export interface SharingP2m {
  /** p2m_get_gfn_type_access: what gfn maps to now (the caller holds d's p2m lock). */
  get(d: Domain, gfn: number): P2mEntry;
  /**
   * p2m_set_entry / set_shared_p2m_entry / p2m_change_type_one: gfn maps mfn
   * with this type from now on; a ram_shared entry is read-only. The host
   * invalidates the domain's cached translations of gfn on every pCPU before
   * it returns (the EPT flush Xen's p2m code does on a changed entry).
   */
  set(d: Domain, gfn: number, mfn: number, type: P2mType): void;
  /** domain_get_maximum_gpfn. */
  maxGpfn(d: Domain): number;
}

/** p2m_is_sharable: private RAM. */
const isSharable = (t: P2mType) => t === "ram_rw";
/** p2m_is_hole: what add_physmap may plug (p2m_mmio_dm, p2m_invalid). */
const isHole = (t: P2mType) => t === "mmio_dm" || t === "invalid";

export interface MemSharingOptions {
  /** generic: mem_sharing uses the generic, checked page_lock (before eb6ad54731); private: its own copy (default). */
  sharingLock: "generic" | "private";
  /** mfn: the second page is locked lower MFN first (default); unordered: source first, whatever the MFNs. */
  sharingOrder: "mfn" | "unordered";
  /** after-unlock: references dropped after the page locks (c2c6f8b68c, default); before-unlock: the order before it. */
  sharingRelease: "before-unlock" | "after-unlock";
}

export const DEFAULT_SHARING: MemSharingOptions = { sharingLock: "private", sharingOrder: "mfn", sharingRelease: "after-unlock" };

/** One (domain, gfn) a shared frame backs (gfn_info_t). */
export interface GfnInfo {
  domid: number;
  gfn: number;
}

/** page->sharing: the handle and the reverse map of a shared frame. */
export interface PageSharingInfo {
  handle: bigint;
  rmap: GfnInfo[];
}

/** A domain's p2m lock (the recursive per-p2m lock that gfn_lock takes), for the sharing paths. */
interface P2mLockState {
  holder: number;
  depth: number;
}

const L_P2M_LOCK: StepLabel = { what: "get_gfn: take the p2m lock" };
const L_P2M_WAIT: StepLabel = { what: "get_gfn: wait for the p2m lock", wait: true };
const L_P2M_UNLOCK: StepLabel = { what: "put_gfn: release the p2m lock" };
const L_GET_ENTRY: StepLabel = { what: "p2m_get_gfn_type_access: read the entry" };
const L_SHARABLE: StepLabel = { what: "page_make_sharable: check the counts, give the frame to dom_cow" };
const L_NOMINATE: StepLabel = { what: "nominate_page: make the frame shared (handle, rmap, p2m type, M2P)" };
const L_LOOKUP: StepLabel = { what: "mem_sharing_lookup: is the locked frame shared?" };
const L_HANDLES: StepLabel = { what: "share_pages: check the handles" };
const L_MOVE_GFN: StepLabel = { what: "share_pages: move a gfn from the client page to the source page" };
const L_DISPOSE: StepLabel = { what: "page_sharing_dispose: the client page is no longer shared" };
const L_ADD_GFN: StepLabel = { what: "add_to_physmap: add the client gfn to the source page" };
const L_UNSHARE_ACCOUNT: StepLabel = { what: "__mem_sharing_unshare_page: take the gfn off the rmap" };
const L_COPY: StepLabel = { what: "copy_domain_page: copy the shared frame" };
const L_REMAP: StepLabel = { what: "set_shared_p2m_entry: map the private copy" };
const L_PRIVATE_TYPE: StepLabel = { what: "p2m_change_type_one: ram_shared → ram_rw, M2P entry" };
const L_MAKE_PRIVATE: StepLabel = { what: "page_make_private: check the type, give the frame back" };
const L_AUDIT: StepLabel = { what: "audit: check one shared frame" };

const hex = (v: number | bigint) => `0x${v.toString(16)}`;

/** The mem_sharing state of one hypervisor: dom_cow, the handles, the shared frames and the counters. */
export class MemSharing {
  /** dom_cow: the owner of every shared frame. */
  readonly domCow = new Domain(DOMID_COW, Number.MAX_SAFE_INTEGER, 0);
  /** MFN → page->sharing, for every shared frame (the audit list). */
  readonly shared = new Map<number, PageSharingInfo>();
  /** Domains with sharing enabled (mem_sharing_enabled). */
  readonly enabled = new Set<Domain>();
  /** nr_shared_mfns and nr_saved_mfns. */
  nrSharedMfns = 0;
  nrSavedMfns = 0;
  /** Counters for the summary and the bench. */
  readonly stats = { nominated: 0, shared: 0, unshared: 0, madePrivate: 0, cowCopies: 0 };
  private nextHandle = 1n;
  private readonly p2mLocks = new Map<Domain, P2mLockState>();

  constructor(
    readonly p2m: SharingP2m,
    readonly options: MemSharingOptions = DEFAULT_SHARING,
  ) {}

  /** Which pCPU holds d's p2m lock (-1: none), for the debugger. */
  p2mLockHolder(d: Domain): number {
    return this.p2mLocks.get(d)?.holder ?? -1;
  }

  /** The lock kind mem_sharing_page_lock uses under the configured history. */
  get lockKind(): PageLockKind {
    return this.options.sharingLock === "generic" ? "checked" : "private";
  }

  /** p2m lock: recursive per domain; taken before any page lock (mm-locks level 16). */
  *p2mLock(c: Cpu, d: Domain): Routine<void> {
    const id = `d${d.domid} p2m`;
    for (let waiting = false; ; waiting = true) {
      yield waiting ? L_P2M_WAIT : L_P2M_LOCK;
      if (!waiting) c.hv.locks.mmCheckOrder(c.cpu, "p2m", id);
      const l = this.p2mLocks.get(d);
      if (l && l.holder !== c.cpu) {
        c.hv.locks.spinOnLock(c.cpu, `d${d.domid}'s p2m lock`, () => this.p2mLockHolder(d));
        continue;
      }
      if (waiting) c.hv.locks.stopSpinning(c.cpu);
      if (l) l.depth++;
      else this.p2mLocks.set(d, { holder: c.cpu, depth: 1 });
      c.hv.locks.mmLocked(c.cpu, "p2m", id, true);
      return;
    }
  }

  *p2mUnlock(c: Cpu, d: Domain): Routine<void> {
    yield L_P2M_UNLOCK;
    const l = this.p2mLocks.get(d);
    if (!l || l.holder !== c.cpu) throw new Error(`put_gfn: pCPU ${c.cpu} does not hold d${d.domid}'s p2m lock`);
    if (--l.depth === 0) this.p2mLocks.delete(d);
    c.hv.locks.mmUnlocked(c.cpu, "p2m", `d${d.domid} p2m`);
  }

  /** get_gfn: the p2m lock, then the entry. */
  *getGfn(c: Cpu, d: Domain, gfn: number): Routine<P2mEntry> {
    yield* this.p2mLock(c, d);
    yield L_GET_ENTRY;
    return this.p2m.get(d, gfn);
  }

  /** mem_sharing_page_lock: the page lock of the configured kind, then the sharing mm-lock level. */
  *pageLock(c: Cpu, page: PageInfo): Routine<boolean> {
    const ok = yield* pageLock(c, page, this.lockKind);
    if (ok) c.hv.locks.mmLocked(c.cpu, "per_page_sharing");
    return ok;
  }

  *pageUnlock(c: Cpu, page: PageInfo): Routine<void> {
    c.hv.locks.mmUnlocked(c.cpu, "per_page_sharing");
    yield* pageUnlock(c, page);
  }

  /** __grab_shared_page: the frame locked if it is a shared one, else null (unlocked). */
  *grabSharedPage(c: Cpu, mfn: number): Routine<PageInfo | null> {
    const page = c.hv.frames.lookup(mfn);
    if (!page) return null;
    // If the page is not validated it cannot be locked, and then it is obviously not shared.
    if (!(yield* this.pageLock(c, page))) return null;
    yield L_LOOKUP;
    if (page.owner !== this.domCow || !this.shared.has(mfn)) {
      yield* this.pageUnlock(c, page);
      return null;
    }
    return page;
  }

  /** The sharing info of a frame this pCPU holds locked (it must be shared). */
  private info(page: PageInfo): PageSharingInfo {
    const s = this.shared.get(page.mfn);
    if (!s) throw new Error(`MFN ${hex(page.mfn)} is locked as shared but has no sharing info`);
    return s;
  }

  /**
   * page_make_sharable: a general and a shared-type reference, refused
   * (-EEXIST) when the frame has type references already and (-E2BIG) when
   * anything but its allocation holds a reference; then dom_cow owns it.
   */
  *pageMakeSharable(c: Cpu, d: Domain, page: PageInfo, expectedRefcnt: number): Routine<number> {
    if (!(yield* getPage(c, page, d))) return -EINVAL;
    if ((yield* getPageType(c, page, PGT.shared)) !== 0) {
      yield* putPage(c, page);
      return -EINVAL;
    }
    yield L_SHARABLE;
    if (page.typeCount !== 1) {
      yield* putPageAndType(c, page);
      return -EEXIST;
    }
    if (!page.allocated || page.count !== 2 + expectedRefcnt) {
      yield* putPageAndType(c, page);
      return -E2BIG;
    }
    page.owner = this.domCow;
    d.pageList.delete(page.mfn);
    d.totPages--;
    return 0;
  }

  /**
   * page_make_private: the last sharer keeps the frame. The caller holds
   * its page lock; the frame must be exactly "shared, validated, locked,
   * count 2" (the lock's reference and the sharer's). Xen unlocks first and
   * then drops the final type reference; with --sharing-release
   * before-unlock the drop comes first, and _put_page_type spins on the
   * lock this pCPU holds (the self-deadlock c2c6f8b68c removed).
   */
  *pageMakePrivate(c: Cpu, d: Domain, page: PageInfo): Routine<number> {
    if (!(yield* getPage(c, page, this.domCow))) return -EINVAL;
    yield L_MAKE_PRIVATE;
    if (page.type !== PGT.shared || !page.validated || !page.locked || page.typeCount !== 2) {
      yield* putPage(c, page);
      return -EEXIST;
    }
    if (this.options.sharingRelease === "before-unlock") {
      yield* putPageAndType(c, page);
      yield* this.pageUnlock(c, page);
    } else {
      yield* this.pageUnlock(c, page);
      yield* putPageAndType(c, page);
    }
    yield L_MAKE_PRIVATE;
    page.owner = d;
    d.pageList.add(page.mfn);
    d.totPages++;
    yield* putPage(c, page);
    this.stats.madePrivate++;
    return 0;
  }

  /**
   * nominate_page: make d's gfn sharable and return its handle (the existing
   * one if it is shared already). -EINVAL for a gfn that is not private RAM.
   */
  *nominatePage(c: Cpu, d: Domain, gfn: number, expectedRefcnt = 0): Routine<{ rc: number; handle: bigint }> {
    const e = yield* this.getGfn(c, d, gfn);
    try {
      const page = e.mfn === INVALID_MFN ? undefined : c.hv.frames.lookup(e.mfn);
      if (!page) return { rc: -EINVAL, handle: 0n };
      if (e.type === "ram_shared") {
        const pg = yield* this.grabSharedPage(c, e.mfn);
        if (!pg) throw new Error(`nominate_page: d${d.domid} gfn ${hex(gfn)} is ram_shared but MFN ${hex(e.mfn)} is not a shared frame`);
        const handle = this.info(pg).handle;
        yield* this.pageUnlock(c, pg);
        return { rc: 0, handle };
      }
      if (!isSharable(e.type)) return { rc: -EINVAL, handle: 0n };
      const rc = yield* this.pageMakeSharable(c, d, page, expectedRefcnt);
      if (rc) return { rc, handle: 0n };
      // Holding the p2m entry, nobody else can nominate this gfn: no page lock needed.
      yield L_NOMINATE;
      const handle = this.nextHandle++; // get_next_handle
      this.shared.set(page.mfn, { handle, rmap: [{ domid: d.domid, gfn }] });
      this.p2m.set(d, gfn, page.mfn, "ram_shared");
      this.nrSharedMfns++;
      c.hv.setGpfnFromMfn(page.mfn, SHARED_M2P_ENTRY);
      this.stats.nominated++;
      return { rc: 0, handle };
    } finally {
      yield* this.p2mUnlock(c, d);
    }
  }

  /** get_two_gfns: both p2m locks, lower domain id first (same domain: lower gfn first), and both entries. */
  private *getTwoGfns(c: Cpu, sd: Domain, sgfn: number, cd: Domain, cgfn: number): Routine<[P2mEntry, P2mEntry]> {
    const sourceFirst = sd.domid < cd.domid || (sd === cd && sgfn <= cgfn);
    const [first, second] = sourceFirst ? [[sd, sgfn], [cd, cgfn]] as const : [[cd, cgfn], [sd, sgfn]] as const;
    const e1 = yield* this.getGfn(c, first[0], first[1]);
    const e2 = yield* this.getGfn(c, second[0], second[1]);
    return sourceFirst ? [e1, e2] : [e2, e1];
  }

  private *putTwoGfns(c: Cpu, sd: Domain, cd: Domain): Routine<void> {
    yield* this.p2mUnlock(c, cd);
    yield* this.p2mUnlock(c, sd);
  }

  /**
   * share_pages: the client page's gfns move to the source page and the
   * client frame is freed. Handles must match (S/C_HANDLE_INVALID).
   */
  *sharePages(c: Cpu, sd: Domain, sgfn: number, sh: bigint, cd: Domain, cgfn: number, ch: bigint): Routine<number> {
    const [s, cl] = yield* this.getTwoGfns(c, sd, sgfn, cd, cgfn);
    try {
      if (s.mfn === cl.mfn && s.mfn !== INVALID_MFN) return 0;
      // The lower MFN first, so that two callers grabbing in opposite order cannot deadlock (--sharing-order unordered: source first).
      const sourceFirst = this.options.sharingOrder === "unordered" || s.mfn < cl.mfn;
      const grabbed = sourceFirst
        ? yield* this.grabTwo(c, s.mfn, XENMEM_SHARING_OP_S_HANDLE_INVALID, cl.mfn, XENMEM_SHARING_OP_C_HANDLE_INVALID)
        : yield* this.grabTwo(c, cl.mfn, XENMEM_SHARING_OP_C_HANDLE_INVALID, s.mfn, XENMEM_SHARING_OP_S_HANDLE_INVALID);
      if (typeof grabbed === "number") return grabbed;
      const [firstpg, secondpg] = grabbed;
      const [spage, cpage] = sourceFirst ? [firstpg, secondpg] : [secondpg, firstpg];
      yield L_HANDLES;
      const sinfo = this.info(spage);
      const cinfo = this.info(cpage);
      if (sinfo.handle !== sh || cinfo.handle !== ch) {
        yield* this.pageUnlock(c, secondpg);
        yield* this.pageUnlock(c, firstpg);
        return sinfo.handle !== sh ? XENMEM_SHARING_OP_S_HANDLE_INVALID : XENMEM_SHARING_OP_C_HANDLE_INVALID;
      }
      // Merge the client's rmap into the source's: a shared-type reference on the source for each gfn moved.
      let putCount = 0;
      while (cinfo.rmap.length) {
        if (!(yield* getPage(c, spage, this.domCow)) || (yield* getPageType(c, spage, PGT.shared)) !== 0) {
          throw new Error(`share_pages: cannot take a reference of the locked source MFN ${hex(spage.mfn)}`);
        }
        yield L_MOVE_GFN;
        const g = cinfo.rmap.shift()!;
        sinfo.rmap.push(g);
        putCount++;
        const d = c.hv.domains.get(g.domid);
        if (!d) throw new Error(`share_pages: the rmap names d${g.domid}, which does not exist`);
        yield* this.setSharedP2mEntry(c, d, g.gfn, spage.mfn);
      }
      yield L_DISPOSE;
      this.shared.delete(cpage.mfn);
      if (this.options.sharingRelease === "before-unlock") {
        // Before c2c6f8b68c: the client's references went while its lock was still held.
        yield* this.releaseClient(c, cpage, putCount);
        yield* this.pageUnlock(c, secondpg);
        yield* this.pageUnlock(c, firstpg);
      } else {
        yield* this.pageUnlock(c, secondpg);
        yield* this.pageUnlock(c, firstpg);
        yield* this.releaseClient(c, cpage, putCount);
      }
      this.nrSharedMfns--;
      this.nrSavedMfns++;
      this.stats.shared++;
      return 0;
    } finally {
      yield* this.putTwoGfns(c, sd, cd);
    }
  }

  /**
   * set_shared_p2m_entry: gfn_lock of d's p2m (recursive: a no-op for the
   * two domains get_two_gfns locked), the entry, gfn_unlock. For a domain
   * of the client's rmap that share_pages did not lock, this takes a p2m
   * lock while page locks are held: against mm-locks.h's levels (p2m 16,
   * per_page_sharing 24), which Xen's debug builds catch and the lock
   * sanitizer reports.
   */
  private *setSharedP2mEntry(c: Cpu, d: Domain, gfn: number, mfn: number): Routine<void> {
    yield* this.p2mLock(c, d);
    this.p2m.set(d, gfn, mfn, "ram_shared");
    yield* this.p2mUnlock(c, d);
  }

  /** __grab_shared_page of two frames in the order given, each failure with its handle error; the first is unlocked again if the second fails. */
  private *grabTwo(c: Cpu, first: number, firstErr: number, second: number, secondErr: number): Routine<[PageInfo, PageInfo] | number> {
    const a = yield* this.grabSharedPage(c, first);
    if (!a) return firstErr;
    const b = yield* this.grabSharedPage(c, second);
    if (!b) {
      yield* this.pageUnlock(c, a);
      return secondErr;
    }
    return [a, b];
  }

  /** The client frame's allocation reference and one general and type reference per gfn it backed. */
  private *releaseClient(c: Cpu, cpage: PageInfo, putCount: number): Routine<void> {
    yield* putPageAllocRef(c, cpage);
    for (let i = 0; i < putCount; i++) yield* putPageAndType(c, cpage);
  }

  /** add_to_physmap: plug a hole at cd's cgfn with the shared source page. */
  *addToPhysmap(c: Cpu, sd: Domain, sgfn: number, sh: bigint, cd: Domain, cgfn: number): Routine<number> {
    const [s, cl] = yield* this.getTwoGfns(c, sd, sgfn, cd, cgfn);
    try {
      const spage = yield* this.grabSharedPage(c, s.mfn);
      if (!spage) return XENMEM_SHARING_OP_S_HANDLE_INVALID;
      try {
        yield L_HANDLES;
        const sinfo = this.info(spage);
        if (sinfo.handle !== sh) return XENMEM_SHARING_OP_S_HANDLE_INVALID;
        if (!isHole(cl.type)) return XENMEM_SHARING_OP_C_HANDLE_INVALID;
        // The p2m reaches only [0, domain_get_maximum_gpfn]: p2m_set_entry refuses a gfn past it (ept_set_entry's -EINVAL), and add_to_physmap undoes its work and returns that.
        if (cgfn > this.p2m.maxGpfn(cd)) return -EINVAL;
        if (!(yield* getPage(c, spage, this.domCow)) || (yield* getPageType(c, spage, PGT.shared)) !== 0) {
          throw new Error(`add_to_physmap: cannot take a reference of the locked source MFN ${hex(spage.mfn)}`);
        }
        yield L_ADD_GFN;
        sinfo.rmap.push({ domid: cd.domid, gfn: cgfn });
        this.p2m.set(cd, cgfn, spage.mfn, "ram_shared");
        this.nrSavedMfns++;
        return 0;
      } finally {
        yield* this.pageUnlock(c, spage);
      }
    } finally {
      yield* this.putTwoGfns(c, sd, cd);
    }
  }

  /**
   * __mem_sharing_unshare_page: d's gfn gets a private frame again (the
   * copy-on-write a guest write to a shared page triggers), or, with
   * `destroy`, just stops backing it. The last sharer keeps the frame
   * itself (page_make_private). -ENOMEM when no frame is free.
   */
  *unsharePage(c: Cpu, d: Domain, gfn: number, destroy = false): Routine<number> {
    const e = yield* this.getGfn(c, d, gfn);
    try {
      // Has someone already unshared it?
      if (e.type !== "ram_shared") return 0;
      const page = yield* this.grabSharedPage(c, e.mfn);
      if (!page) throw new Error(`d${d.domid}'s p2m says gfn ${hex(gfn)} is shared, but MFN ${hex(e.mfn)} is not`);
      yield L_UNSHARE_ACCOUNT;
      const info = this.info(page);
      const k = info.rmap.findIndex((g) => g.domid === d.domid && g.gfn === gfn);
      if (k < 0) throw new Error(`no rmap entry for d${d.domid} gfn ${hex(gfn)} on shared MFN ${hex(page.mfn)}`);
      const lastGfn = info.rmap.length === 1;
      if (lastGfn) {
        info.rmap.splice(k, 1);
        this.shared.delete(page.mfn);
        this.nrSharedMfns--;
      } else {
        this.nrSavedMfns--;
      }
      if (destroy) {
        if (!lastGfn) info.rmap.splice(k, 1);
        yield* this.pageUnlock(c, page);
        if (lastGfn) yield* putPageAllocRef(c, page);
        yield* putPageAndType(c, page);
        return 0;
      }
      let priv: PageInfo;
      if (lastGfn) {
        // Making a page private unlocks it.
        const rc = yield* this.pageMakePrivate(c, d, page);
        if (rc) throw new Error(`page_make_private of MFN ${hex(page.mfn)} failed (${rc})`);
        priv = page;
      } else {
        const fresh = yield* allocDomheapPage(c, d);
        if (!fresh) {
          this.nrSavedMfns++;
          yield* this.pageUnlock(c, page);
          return -ENOMEM;
        }
        yield L_COPY;
        c.hv.mem.write(maddr(fresh.mfn), c.hv.mem.read(maddr(page.mfn), 4096));
        this.stats.cowCopies++;
        yield L_REMAP;
        this.p2m.set(d, gfn, fresh.mfn, "ram_shared");
        info.rmap.splice(info.rmap.findIndex((g) => g.domid === d.domid && g.gfn === gfn), 1);
        // Not Xen's order, which unlocks first: a last sharer that locks the
        // frame in between finds this gfn's type reference still there and
        // page_make_private's "count 2" check fails (BUG_ON in Xen). Dropping
        // it under the lock is safe from XSA-242's spin: another gfn and the
        // lock still hold references, so the count never falls to "locked, 1".
        yield* putPageAndType(c, page);
        yield* this.pageUnlock(c, page);
        priv = fresh;
      }
      yield L_PRIVATE_TYPE;
      this.p2m.set(d, gfn, priv.mfn, "ram_rw");
      c.hv.setGpfnFromMfn(priv.mfn, BigInt(gfn));
      this.stats.unshared++;
      return 0;
    } finally {
      yield* this.p2mUnlock(c, d);
    }
  }

  /**
   * range_share: nominate and share every gfn of [first, last] of d into cd
   * at the same gfn; pages that cannot be shared are skipped. Returns 0 or
   * -ENOMEM (no continuation: the range is done in one call, as steps).
   */
  *rangeShare(c: Cpu, d: Domain, cd: Domain, first: number, last: number): Routine<number> {
    let rc = 0;
    for (let gfn = first; gfn <= last; gfn++) {
      const s = yield* this.nominatePage(c, d, gfn);
      rc = s.rc;
      if (rc === -ENOMEM) break;
      if (rc) continue;
      const cl = yield* this.nominatePage(c, cd, gfn);
      rc = cl.rc;
      if (rc === -ENOMEM) break;
      if (!rc) rc = yield* this.sharePages(c, d, gfn, s.handle, cd, gfn, cl.handle);
    }
    // The last page may fail with -EINVAL, and for range sharing that does not matter.
    return rc === -EINVAL ? 0 : rc;
  }

  /**
   * audit (MEM_SHARING_AUDIT): every shared frame locked in turn and checked
   * (type, owner, M2P, a non-empty rmap whose gfns all map it as
   * ram_shared, type count = gfns + the lock's), and the count of shared
   * frames. Returns the number of errors; `errors` lists them.
   */
  *audit(c: Cpu, errors: string[] = []): Routine<number> {
    let found = 0;
    for (const mfn of [...this.shared.keys()]) {
      const pg = c.hv.frames.page(mfn);
      if (!(yield* this.pageLock(c, pg))) {
        errors.push(`MFN ${hex(mfn)} is in the audit list but cannot be locked`);
        continue;
      }
      yield L_AUDIT;
      const info = this.shared.get(mfn);
      if (pg.type !== PGT.shared) errors.push(`MFN ${hex(mfn)} is in the audit list but not PGT_shared_page`);
      if (pg.owner !== this.domCow) errors.push(`MFN ${hex(mfn)} is shared but owned by ${pg.owner ? `d${pg.owner.domid}` : "nobody"}`);
      if (c.hv.getGpfnFromMfn(mfn) !== SHARED_M2P_ENTRY) errors.push(`MFN ${hex(mfn)} is shared but its M2P entry is ${hex(c.hv.getGpfnFromMfn(mfn))}`);
      if (!info || !info.rmap.length) {
        errors.push(`MFN ${hex(mfn)} is shared but backs no gfn`);
      } else {
        found++;
        for (const g of info.rmap) {
          const d = c.hv.domains.get(g.domid);
          if (!d) {
            errors.push(`MFN ${hex(mfn)}'s rmap names d${g.domid}, which does not exist`);
            continue;
          }
          const e = this.p2m.get(d, g.gfn);
          if (e.mfn !== mfn) errors.push(`d${g.domid} gfn ${hex(g.gfn)} maps MFN ${hex(e.mfn)}, not the shared MFN ${hex(mfn)}`);
          if (e.type !== "ram_shared") errors.push(`d${g.domid} gfn ${hex(g.gfn)} has p2m type ${e.type}, not ram_shared`);
        }
        if (info.rmap.length + 1 !== pg.typeCount) {
          errors.push(`MFN ${hex(mfn)} backs ${info.rmap.length} gfns but has ${pg.typeCount} type references (the lock's included)`);
        }
      }
      yield* this.pageUnlock(c, pg);
    }
    if (found !== this.nrSharedMfns) errors.push(`expected ${this.nrSharedMfns} shared frames, found ${found}`);
    return errors.length;
  }

  /** debug_mfn: the number of gfns a shared frame backs (its type references less the lock's), or -EINVAL. */
  *debugMfn(c: Cpu, mfn: number): Routine<number> {
    const page = yield* this.grabSharedPage(c, mfn);
    if (!page) return -EINVAL;
    const refs = page.typeCount - 1;
    yield* this.pageUnlock(c, page);
    return refs;
  }

  /** debug_gfn: debug_mfn of what d's gfn maps. */
  *debugGfn(c: Cpu, d: Domain, gfn: number): Routine<number> {
    const e = yield* this.getGfn(c, d, gfn);
    try {
      return yield* this.debugMfn(c, e.mfn);
    } finally {
      yield* this.p2mUnlock(c, d);
    }
  }
}

/** struct xen_mem_sharing_op, decoded (public/memory.h; 48 bytes). */
export interface MemSharingOpArg {
  op: number;
  domain: number;
  /** nominate: gfn; share/add_physmap: source_gfn; range: first_gfn; debug: gfn or mfn. */
  u0: bigint;
  /** nominate: handle (out); share: source_handle; range: last_gfn. */
  u1: bigint;
  /** share: client_gfn; range: opaque. */
  u2: bigint;
  /** share: client_handle; range: client_domain (low 16 bits) and _pad[3]. */
  u3: bigint;
  /** share: client_domain. */
  u4: number;
}

export const MEM_SHARING_OP_SIZE = 48;

export function decodeMemSharingOp(b: Uint8Array): MemSharingOpArg {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    op: v.getUint8(0), domain: v.getUint16(2, true),
    u0: v.getBigUint64(8, true), u1: v.getBigUint64(16, true), u2: v.getBigUint64(24, true), u3: v.getBigUint64(32, true),
    u4: v.getUint16(40, true),
  };
}

export function encodeMemSharingOp(a: MemSharingOpArg): Uint8Array {
  const b = new Uint8Array(MEM_SHARING_OP_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, a.op);
  v.setUint16(2, a.domain, true);
  v.setBigUint64(8, a.u0, true);
  v.setBigUint64(16, a.u1, true);
  v.setBigUint64(24, a.u2, true);
  v.setBigUint64(32, a.u3, true);
  v.setUint16(40, a.u4, true);
  return b;
}

/** Who is calling: a domain (its privilege decides, as XSM_DM_PRIV does), or the hypervisor's own sharing daemon. */
export type SharingCaller = { domain: Domain; privileged: boolean } | { daemon: true };

/**
 * mem_sharing_memop: XENMEM_sharing_op with its argument already copied in.
 * Returns the result and the argument to copy back (nominate's handle).
 * Errors as Xen gives them: -ESRCH for a domain that does not exist, -EPERM
 * for an unprivileged caller or a domain naming itself, -EINVAL for a
 * client without sharing enabled, gref fields or bad range fields, and
 * -ENOSYS for ops this model leaves out (grant refs, fork).
 */
export function* memSharingMemop(c: Cpu, ms: MemSharing, caller: SharingCaller, a: MemSharingOpArg): Routine<{ rc: number; out: MemSharingOpArg }> {
  const out = { ...a };
  if (a.op === SHARING_OP.audit) {
    const rc = yield* ms.audit(c);
    return { rc, out };
  }
  const lookup = (domid: number): Domain | number => {
    const d = c.hv.domains.get(domid);
    if (!d) return -ESRCH;
    if ("domain" in caller && caller.domain === d) return -EPERM;
    return d;
  };
  const d = lookup(a.domain);
  if (typeof d === "number") return { rc: d, out };
  if ("domain" in caller && !caller.privileged) return { rc: -EPERM, out };
  ms.enabled.add(d);
  const client = (domid: number): Domain | number => {
    const cd = lookup(domid);
    if (typeof cd === "number") return cd;
    return ms.enabled.has(cd) ? cd : -EINVAL;
  };
  const gfnOf = (field: bigint): number | undefined => (field & XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG ? undefined : Number(field));
  switch (a.op) {
    case SHARING_OP.nominate_gfn: {
      const gfn = gfnOf(a.u0);
      if (gfn === undefined || a.u0 > BigInt(ms.p2m.maxGpfn(d))) return { rc: -EINVAL, out };
      const r = yield* ms.nominatePage(c, d, gfn);
      out.u1 = r.handle;
      return { rc: r.rc, out };
    }
    case SHARING_OP.share:
    case SHARING_OP.add_physmap: {
      const cd = client(a.u4);
      if (typeof cd === "number") return { rc: cd, out };
      const sgfn = gfnOf(a.u0);
      const cgfn = gfnOf(a.u2);
      // Grant references are not modelled: a gref field is refused as add_physmap refuses one.
      if (sgfn === undefined || cgfn === undefined) return { rc: -EINVAL, out };
      const rc = a.op === SHARING_OP.share
        ? yield* ms.sharePages(c, d, sgfn, a.u1, cd, cgfn, a.u3)
        : yield* ms.addToPhysmap(c, d, sgfn, a.u1, cd, cgfn);
      return { rc, out };
    }
    case SHARING_OP.range_share: {
      const first = a.u0, last = a.u1, opaque = a.u2;
      const clientDomain = Number(a.u3 & 0xffffn);
      if (a.u3 >> 16n) return { rc: -EINVAL, out };
      if (opaque && (opaque < first || opaque > last)) return { rc: -EINVAL, out };
      const cd = client(clientDomain);
      if (typeof cd === "number") return { rc: cd, out };
      const maxS = BigInt(ms.p2m.maxGpfn(d)), maxC = BigInt(ms.p2m.maxGpfn(cd));
      if (maxS < first || maxS < last || maxC < first || maxC < last) return { rc: -EINVAL, out };
      const rc = yield* ms.rangeShare(c, d, cd, Number(opaque || first), Number(last));
      out.u2 = 0n;
      return { rc, out };
    }
    case SHARING_OP.debug_gfn:
      return { rc: yield* ms.debugGfn(c, d, Number(a.u0 & 0xffff_ffff_ffffn)), out };
    case SHARING_OP.debug_mfn:
      return { rc: yield* ms.debugMfn(c, Number(a.u0 & 0xffff_ffff_ffffn)), out };
    default:
      // nominate_gref, debug_gref (no grant tables), fork and fork_reset are not modelled.
      return { rc: a.op <= SHARING_OP.fork_reset ? -EOPNOTSUPP : -ENOSYS, out };
  }
}
