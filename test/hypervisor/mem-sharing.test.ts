// SPDX-License-Identifier: MIT
//
// mem_sharing (hypervisor/x86/mem-sharing.ts, mechanisms §5) on domains
// whose p2m is a plain map: nominate, share, add_physmap, unshare with its
// copy, page_make_private, range_share, audit and debug, each bad input's
// errno, and the three lock histories (generic lock under the 2018 check,
// unordered locking, references dropped before unlocking) each shown on the
// interleaving that trips the lock sanitizer.

import { describe, expect, it } from "vitest";
import { ArrayMemory, finish, Hypervisor, type Routine } from "../../hypervisor/index.ts";
import type { Cpu } from "../../hypervisor/x86/hypervisor.ts";
import type { Domain } from "../../hypervisor/common/domain.ts";
import { maddr } from "../../hypervisor/common/memory.ts";
import { E2BIG, EINVAL, EPERM, ESRCH } from "../../hypervisor/common/errno.ts";
import type { LockViolation } from "../../hypervisor/common/lock-sanitizer.ts";
import { allocDomheapPage, getPage } from "../../hypervisor/x86/page-ref.ts";
import { SHARED_M2P_ENTRY } from "../../hypervisor/x86/public.ts";
import {
  DEFAULT_SHARING, INVALID_MFN, MemSharing, memSharingMemop, SHARING_OP, XENMEM_SHARING_OP_C_HANDLE_INVALID, XENMEM_SHARING_OP_S_HANDLE_INVALID,
  type MemSharingOpArg, type MemSharingOptions, type P2mEntry, type P2mType, type SharingP2m,
} from "../../hypervisor/x86/mem-sharing.ts";

const GFNS = 8;

/** A p2m as a map per domain; every change is recorded. */
class MapP2m implements SharingP2m {
  readonly entries = new Map<Domain, Map<number, P2mEntry>>();
  readonly changes: string[] = [];
  get(d: Domain, gfn: number): P2mEntry {
    return this.entries.get(d)?.get(gfn) ?? { mfn: INVALID_MFN, type: "invalid" };
  }
  set(d: Domain, gfn: number, mfn: number, type: P2mType): void {
    this.changes.push(`d${d.domid} ${gfn} ${type}`);
    let m = this.entries.get(d);
    if (!m) this.entries.set(d, (m = new Map()));
    m.set(gfn, { mfn, type });
  }
  maxGpfn(): number {
    return GFNS + 4;
  }
}

/**
 * `n` HVM-like domains d1..dn with GFNS private RAM pages each (the
 * allocation reference only, as HVM RAM has), page gfn of every domain
 * filled with the byte 0x40 + gfn: so gfn k is identical across domains.
 */
function setup(n = 2, options: Partial<MemSharingOptions> = {}, pageLockCheck = false) {
  const found: LockViolation[] = [];
  const mem = new ArrayMemory(0n, (0x100 + 256) * 4096);
  const hv = new Hypervisor({ memory: mem, firstMfn: 0x100, nrFrames: 256, nrPcpus: 4, seed: 3n, pageLockCheck,
    callbacks: { lockViolation: (v) => void found.push(v) } });
  const p2m = new MapP2m();
  const ms = new MemSharing(p2m, { ...DEFAULT_SHARING, ...options });
  const doms: Domain[] = [];
  for (let id = 1; id <= n; id++) {
    const d = hv.createDomain(id, 64, 1);
    const c = hv.on(d.vcpus[0]!);
    for (let gfn = 0; gfn < GFNS; gfn++) {
      const page = finish(allocDomheapPage(c, d))!;
      mem.write(maddr(page.mfn), new Uint8Array(4096).fill(0x40 + gfn));
      p2m.set(d, gfn, page.mfn, "ram_rw");
      hv.setGpfnFromMfn(page.mfn, BigInt(gfn));
    }
    doms.push(d);
  }
  p2m.changes.length = 0;
  const cpu = (k: number, d = doms[0]!): Cpu => ({ hv, cpu: k, vcpu: d.vcpus[0]!, d });
  const byte = (d: Domain, gfn: number) => mem.read(maddr(p2m.get(d, gfn).mfn), 1)[0];
  const audit = () => {
    const errors: string[] = [];
    finish(ms.audit(cpu(0), errors));
    return errors;
  };
  return { hv, mem, p2m, ms, doms, found, cpu, byte, audit };
}

/** Nominates gfn of d, expecting success. */
function nominate(t: ReturnType<typeof setup>, d: Domain, gfn: number): bigint {
  const r = finish(t.ms.nominatePage(t.cpu(0), d, gfn));
  expect(r.rc).toBe(0);
  return r.handle;
}

/** Steps a routine until a step's label matches. */
function stepUntil(r: Routine<unknown>, what: RegExp): void {
  for (;;) {
    const s = r.next();
    if (s.done) throw new Error(`routine ended before a step matching ${what}`);
    if (what.test(s.value.what)) return;
  }
}

describe("mem_sharing: nominate, share, unshare", () => {
  it("nominate_page gives dom_cow the frame, a handle, the p2m type ram_shared and the shared M2P entry; again, the same handle", () => {
    const t = setup();
    const [d1] = t.doms;
    const mfn = t.p2m.get(d1!, 3).mfn;
    const h = nominate(t, d1!, 3);
    expect(h).toBeGreaterThan(0n);
    const page = t.hv.frames.page(mfn);
    expect(page.owner).toBe(t.ms.domCow);
    expect(d1!.totPages).toBe(GFNS - 1);
    expect(t.p2m.get(d1!, 3)).toEqual({ mfn, type: "ram_shared" });
    expect(t.hv.getGpfnFromMfn(mfn)).toBe(SHARED_M2P_ENTRY);
    expect(nominate(t, d1!, 3)).toBe(h);
    expect(t.audit()).toEqual([]);
    expect(t.ms.nrSharedMfns).toBe(1);
  });

  it("share_pages merges the client into the source: both gfns map one frame read-only (ram_shared), the client frame is freed, one frame saved", () => {
    const t = setup();
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 5);
    const ch = nominate(t, d2!, 5);
    const client = t.p2m.get(d2!, 5).mfn;
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 5, sh, d2!, 5, ch))).toBe(0);
    expect(t.p2m.get(d2!, 5)).toEqual(t.p2m.get(d1!, 5));
    expect(t.hv.frames.page(client).free).toBe(true);
    expect(t.hv.frames.page(client).owner).toBe(null);
    expect(t.ms.nrSavedMfns).toBe(1);
    expect(t.ms.shared.get(t.p2m.get(d1!, 5).mfn)!.rmap).toEqual([{ domid: 1, gfn: 5 }, { domid: 2, gfn: 5 }]);
    expect(t.byte(d2!, 5)).toBe(0x45);
    expect(t.audit()).toEqual([]);
  });

  it("unshare copies the frame for the writer (copy on write) and leaves the other sharer on it; the last sharer gets the frame back (page_make_private)", () => {
    const t = setup();
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 2);
    const ch = nominate(t, d2!, 2);
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 2, sh, d2!, 2, ch))).toBe(0);
    const shared = t.p2m.get(d1!, 2).mfn;
    expect(finish(t.ms.unsharePage(t.cpu(1, d2!), d2!, 2))).toBe(0);
    const copy = t.p2m.get(d2!, 2);
    expect(copy.type).toBe("ram_rw");
    expect(copy.mfn).not.toBe(shared);
    expect(t.byte(d2!, 2)).toBe(0x42);
    expect(t.hv.frames.page(copy.mfn).owner).toBe(d2);
    expect(t.hv.getGpfnFromMfn(copy.mfn)).toBe(2n);
    expect(t.ms.stats.cowCopies).toBe(1);
    expect(t.audit()).toEqual([]);
    // The last sharer: no copy, the frame itself becomes d1's again.
    expect(finish(t.ms.unsharePage(t.cpu(0), d1!, 2))).toBe(0);
    expect(t.p2m.get(d1!, 2)).toEqual({ mfn: shared, type: "ram_rw" });
    const page = t.hv.frames.page(shared);
    expect(page.owner).toBe(d1);
    expect(page.typeCount).toBe(0);
    expect(page.locked).toBe(false);
    expect(d1!.totPages).toBe(GFNS);
    expect(d2!.totPages).toBe(GFNS);
    expect(t.ms.nrSharedMfns).toBe(0);
    expect(t.ms.stats.cowCopies).toBe(1);
    expect(t.audit()).toEqual([]);
    // Unsharing a private gfn again does nothing.
    expect(finish(t.ms.unsharePage(t.cpu(0), d1!, 2))).toBe(0);
  });

  it("add_to_physmap plugs a hole in the client with the shared page; range_share shares every identical gfn of a range", () => {
    const t = setup();
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 1);
    expect(finish(t.ms.addToPhysmap(t.cpu(0), d1!, 1, sh, d2!, GFNS + 2))).toBe(0);
    expect(t.p2m.get(d2!, GFNS + 2)).toEqual(t.p2m.get(d1!, 1));
    expect(t.byte(d2!, GFNS + 2)).toBe(0x41);
    expect(finish(t.ms.rangeShare(t.cpu(0), d1!, d2!, 3, 6))).toBe(0);
    for (let g = 3; g <= 6; g++) expect(t.p2m.get(d2!, g)).toEqual(t.p2m.get(d1!, g));
    expect(t.ms.nrSavedMfns).toBe(5);
    expect(t.audit()).toEqual([]);
  });

  it("debug_gfn and debug_mfn count the gfns a shared frame backs; a private frame is -EINVAL", () => {
    const t = setup(3);
    const [d1, d2, d3] = t.doms;
    const sh = nominate(t, d1!, 4);
    for (const d of [d2!, d3!]) expect(finish(t.ms.sharePages(t.cpu(0), d1!, 4, sh, d, 4, nominate(t, d, 4)))).toBe(0);
    expect(finish(t.ms.debugGfn(t.cpu(0), d2!, 4))).toBe(3);
    expect(finish(t.ms.debugMfn(t.cpu(0), t.p2m.get(d1!, 4).mfn))).toBe(3);
    expect(finish(t.ms.debugGfn(t.cpu(0), d2!, 0))).toBe(-EINVAL);
  });
});

describe("mem_sharing: bad input gets Xen's errors", () => {
  const op = (o: Partial<MemSharingOpArg>): MemSharingOpArg => ({ op: SHARING_OP.share, domain: 1, u0: 0n, u1: 0n, u2: 0n, u3: 0n, u4: 2, ...o });
  const daemon = { daemon: true } as const;

  it("share with a stale source handle is S_HANDLE_INVALID, with a wrong client handle C_HANDLE_INVALID, and nothing changes", () => {
    const t = setup();
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 5);
    const ch = nominate(t, d2!, 5);
    t.p2m.changes.length = 0;
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 5, sh + 100n, d2!, 5, ch))).toBe(XENMEM_SHARING_OP_S_HANDLE_INVALID);
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 5, sh, d2!, 5, ch + 100n))).toBe(XENMEM_SHARING_OP_C_HANDLE_INVALID);
    expect(t.p2m.changes).toEqual([]);
    expect(t.audit()).toEqual([]);
  });

  it("sharing a gfn that was never nominated is a handle error on that side (S or C)", () => {
    const t = setup();
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 5);
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 5, sh, d2!, 5, 1n))).toBe(XENMEM_SHARING_OP_C_HANDLE_INVALID);
    const ch = nominate(t, d2!, 6);
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 6, 1n, d2!, 6, ch))).toBe(XENMEM_SHARING_OP_S_HANDLE_INVALID);
  });

  it("a handle that was valid before its page was unshared is stale afterwards", () => {
    const t = setup();
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 5);
    expect(finish(t.ms.unsharePage(t.cpu(0), d1!, 5))).toBe(0);
    const ch = nominate(t, d2!, 5);
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 5, sh, d2!, 5, ch))).toBe(XENMEM_SHARING_OP_S_HANDLE_INVALID);
  });

  it("nominating a hole is -EINVAL; a page with a reference besides its allocation is -E2BIG", () => {
    const t = setup();
    const [d1] = t.doms;
    expect(finish(t.ms.nominatePage(t.cpu(0), d1!, GFNS + 1)).rc).toBe(-EINVAL);
    const page = t.hv.frames.page(t.p2m.get(d1!, 0).mfn);
    expect(finish(getPage(t.cpu(0), page, d1!))).toBe(true);
    expect(finish(t.ms.nominatePage(t.cpu(0), d1!, 0)).rc).toBe(-E2BIG);
    expect(page.owner).toBe(d1);
    expect(page.typeCount).toBe(0);
  });

  it("add_physmap onto a gfn that is not a hole is C_HANDLE_INVALID", () => {
    const t = setup();
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 1);
    expect(finish(t.ms.addToPhysmap(t.cpu(0), d1!, 1, sh, d2!, 1))).toBe(XENMEM_SHARING_OP_C_HANDLE_INVALID);
  });

  it("memop: a domain that does not exist is -ESRCH; an unprivileged caller or one naming itself -EPERM; a client without sharing -EINVAL", () => {
    const t = setup(3);
    const [d1, d2, d3] = t.doms;
    const run = (caller: Parameters<typeof memSharingMemop>[2], a: MemSharingOpArg) => finish(memSharingMemop(t.cpu(0), t.ms, caller, a)).rc;
    expect(run(daemon, op({ op: SHARING_OP.nominate_gfn, domain: 9 }))).toBe(-ESRCH);
    expect(run({ domain: d3!, privileged: false }, op({ op: SHARING_OP.nominate_gfn, domain: 1 }))).toBe(-EPERM);
    expect(run({ domain: d1!, privileged: true }, op({ op: SHARING_OP.nominate_gfn, domain: 1 }))).toBe(-EPERM);
    // d2 never took part in sharing: as a client it is refused.
    expect(run(daemon, op({ op: SHARING_OP.share, domain: 1, u4: d2!.domid }))).toBe(-EINVAL);
    expect(run(daemon, op({ op: SHARING_OP.share, domain: 1, u4: 77 }))).toBe(-ESRCH);
  });

  it("memop: nominate returns the handle in the argument; range_share refuses non-zero padding, an opaque outside the range and a range past the p2m", () => {
    const t = setup();
    const run = (a: MemSharingOpArg) => finish(memSharingMemop(t.cpu(0), t.ms, daemon, a));
    const r = run(op({ op: SHARING_OP.nominate_gfn, domain: 2, u0: 1n }));
    expect(r.rc).toBe(0);
    expect(r.out.u1).toBeGreaterThan(0n);
    const range = (u0: bigint, u1: bigint, u2: bigint, u3: bigint) => run(op({ op: SHARING_OP.range_share, domain: 1, u0, u1, u2, u3 })).rc;
    expect(range(1n, 3n, 0n, 2n | (1n << 16n))).toBe(-EINVAL);
    expect(range(1n, 3n, 7n, 2n)).toBe(-EINVAL);
    expect(range(1n, 300n, 0n, 2n)).toBe(-EINVAL);
    expect(range(1n, 3n, 0n, 2n)).toBe(0);
    expect(run(op({ op: SHARING_OP.audit })).rc).toBe(0);
    expect(run(op({ op: 99 })).rc).toBeLessThan(0);
  });
});

describe("mem_sharing: the lock histories", () => {
  it("--sharing-lock generic with --page-lock-check: the first share trips the 2018 check (two page locks on one pCPU); the private lock does not", () => {
    for (const sharingLock of ["generic", "private"] as const) {
      const t = setup(2, { sharingLock }, true);
      const [d1, d2] = t.doms;
      const sh = nominate(t, d1!, 5);
      const ch = nominate(t, d2!, 5);
      finish(t.ms.sharePages(t.cpu(0), d1!, 5, sh, d2!, 5, ch));
      expect(t.found.map((v) => v.rule)).toEqual(sharingLock === "generic" ? ["page-lock-check"] : []);
    }
  });

  it("--sharing-release before-unlock: share_pages drops the client's type reference while it holds its lock and spins forever (self-deadlock)", () => {
    const t = setup(2, { sharingRelease: "before-unlock" });
    const [d1, d2] = t.doms;
    const sh = nominate(t, d1!, 5);
    const ch = nominate(t, d2!, 5);
    const r = t.ms.sharePages(t.cpu(0), d1!, 5, sh, d2!, 5, ch);
    for (let i = 0; i < 60; i++) expect(r.next().done).toBe(false);
    expect(t.found.map((v) => v.rule)).toEqual(["self-deadlock"]);
    expect(t.found[0]!.message).toMatch(/pCPU 0 holds that lock itself/);
  });

  it("--sharing-release before-unlock: the last sharer's unshare (page_make_private) self-deadlocks too; after-unlock it completes", () => {
    for (const sharingRelease of ["before-unlock", "after-unlock"] as const) {
      const t = setup(2, { sharingRelease });
      const [d1] = t.doms;
      nominate(t, d1!, 5);
      const r = t.ms.unsharePage(t.cpu(0), d1!, 5);
      let done = false;
      for (let i = 0; i < 60 && !done; i++) done = r.next().done === true;
      expect(done).toBe(sharingRelease === "after-unlock");
      expect(t.found.map((v) => v.rule)).toEqual(sharingRelease === "after-unlock" ? [] : ["self-deadlock"]);
    }
  });

  /**
   * Four domains: frame X shared by d1 and d2 at gfn 0, frame Y by d3 and d4.
   * pCPU 0 shares d1's gfn 0 (X) into d3's (Y); pCPU 1 shares d4's (Y) into
   * d2's (X). Their p2m locks are disjoint (d1, d3 and d2, d4), so only the
   * page locks order them.
   */
  function crossShares(sharingOrder: "mfn" | "unordered") {
    const t = setup(4, { sharingOrder });
    const [d1, d2, d3, d4] = t.doms;
    const x = nominate(t, d1!, 0);
    expect(finish(t.ms.sharePages(t.cpu(0), d1!, 0, x, d2!, 0, nominate(t, d2!, 0)))).toBe(0);
    const y = nominate(t, d3!, 0);
    expect(finish(t.ms.sharePages(t.cpu(0), d3!, 0, y, d4!, 0, nominate(t, d4!, 0)))).toBe(0);
    const a = t.ms.sharePages(t.cpu(0), d1!, 0, x, d3!, 0, y);
    const b = t.ms.sharePages(t.cpu(1), d4!, 0, y, d2!, 0, x);
    return { t, a, b };
  }

  it("--sharing-order unordered: two shares in opposite directions each lock one page and spin on the other's (ABBA deadlock)", () => {
    const { t, a, b } = crossShares("unordered");
    stepUntil(a, /mem_sharing_lookup/); // a holds its source page's lock
    stepUntil(b, /mem_sharing_lookup/); // b holds its own source page's lock
    for (let i = 0; i < 5; i++) {
      a.next();
      b.next();
    }
    const dl = t.found.filter((v) => v.rule === "abba-deadlock");
    expect(dl).toHaveLength(1);
    expect(dl[0]!.pcpus.sort()).toEqual([0, 1]);
  });

  it("--sharing-order mfn (Xen's): the two shares cannot deadlock on the page locks; the second to lock waits, then the first merges a rmap domain whose p2m lock the second holds (mm-locks order, and a p2m/page-lock deadlock)", () => {
    const { t, a, b } = crossShares("mfn");
    for (let i = 0; i < 400; i++) {
      a.next();
      b.next();
    }
    expect(t.found.map((v) => v.rule).sort()).toEqual(["abba-deadlock", "mm-lock-order"]);
    expect(t.found.find((v) => v.rule === "mm-lock-order")!.message).toMatch(/takes the d\d p2m lock \(level 16\) while it holds the per_page_sharing lock \(level 24\)/);
    expect(t.found.find((v) => v.rule === "abba-deadlock")!.message).toMatch(/p2m lock/);
  });

  it("two domains sharing both ways at once (A's page into B, B's into A): the p2m locks order the two shares, both complete, audit clean; unordered, the out-of-order pair is reported", () => {
    for (const sharingOrder of ["mfn", "unordered"] as const) {
      const t = setup(2, { sharingOrder });
      const [d1, d2] = t.doms;
      const a = t.ms.sharePages(t.cpu(0), d1!, 3, nominate(t, d1!, 3), d2!, 3, nominate(t, d2!, 3));
      const b = t.ms.sharePages(t.cpu(1, d2!), d2!, 4, nominate(t, d2!, 4), d1!, 4, nominate(t, d1!, 4));
      // Source first: a share whose source frame has the higher MFN takes its second lock out of order.
      const inversions = [[d1!, 3, d2!, 3], [d2!, 4, d1!, 4]]
        .filter(([sd, sg, cd, cg]) => t.p2m.get(sd as Domain, sg as number).mfn > t.p2m.get(cd as Domain, cg as number).mfn).length;
      let ra: IteratorResult<unknown, number> | undefined, rb: IteratorResult<unknown, number> | undefined;
      for (let i = 0; i < 500 && !(ra?.done && rb?.done); i++) {
        if (!ra?.done) ra = a.next() as IteratorResult<unknown, number>;
        if (!rb?.done) rb = b.next() as IteratorResult<unknown, number>;
      }
      expect([ra?.value, rb?.value]).toEqual([0, 0]);
      // Unordered, each inversion is reported (lockdep's kind of report), and still nothing deadlocks.
      expect(t.found.map((v) => v.rule)).toEqual(sharingOrder === "mfn" ? [] : new Array(inversions).fill("mfn-order"));
      expect(t.audit()).toEqual([]);
      expect(t.ms.nrSavedMfns).toBe(2);
    }
  });
});
