// SPDX-License-Identifier: MIT
//
// The lock sanitizer (hypervisor/common/lock-sanitizer.ts, mechanisms §5.4)
// on the hypervisor's own page_lock, page_unlock and _put_page_type run step
// by step on several pCPUs: each rule is shown firing on the interleaving
// it describes and staying quiet on the one Xen's fix allows.

import { describe, expect, it } from "vitest";
import { finish, type Routine } from "../../hypervisor/index.ts";
import { pageLock, pageUnlock, putPageType } from "../../hypervisor/x86/page-type.ts";
import { getPageType } from "../../hypervisor/x86/page-type.ts";
import { getPage, putPage } from "../../hypervisor/x86/page-ref.ts";
import { LockSanitizer, type LockViolation } from "../../hypervisor/common/lock-sanitizer.ts";
import { PGT } from "../../hypervisor/common/frame-table.ts";
import { expectConsistent, makeHv, pin, spareMfns } from "./helpers.ts";

/** A hypervisor whose lock violations are collected, two pinned L1 frames (lower MFN first) and a Cpu per pCPU 0..3. */
function setup(pageLockCheck = false) {
  const found: LockViolation[] = [];
  const t = makeHv({ domains: 1, pageLockCheck, callbacks: { lockViolation: (v) => void found.push(v) } });
  const dom = t.doms[0]!;
  const [x, y] = spareMfns(dom).slice(0, 2).sort((a, b) => a - b);
  expect(pin(t, dom, 1, x!)).toBe(0);
  expect(pin(t, dom, 1, y!)).toBe(0);
  const low = t.hv.frames.page(x!);
  const high = t.hv.frames.page(y!);
  const cpus = [0, 1, 2, 3].map((p) => ({ ...t.hv.on(dom.d.vcpus[p % 2]!), cpu: p }));
  return { t, found, low, high, cpus };
}

/** Steps a routine n times, expecting it not to finish. */
function steps(r: Routine<unknown>, n: number): void {
  for (let i = 0; i < n; i++) expect(r.next().done).toBe(false);
}

describe("lock sanitizer: deadlocks", () => {
  it("two pCPUs each holding one page lock and spinning on the other's is an ABBA deadlock, reported once with both pCPUs and frames", () => {
    const { found, low, high, cpus } = setup();
    expect(finish(pageLock(cpus[0]!, low))).toBe(true);
    expect(finish(pageLock(cpus[1]!, high))).toBe(true);
    const a = pageLock(cpus[0]!, high);
    const b = pageLock(cpus[1]!, low);
    steps(a, 3);
    expect(found.filter((v) => v.rule === "abba-deadlock")).toEqual([]);
    steps(b, 3);
    const dl = found.filter((v) => v.rule === "abba-deadlock");
    expect(dl).toHaveLength(1);
    expect(dl[0]!.pcpus.sort()).toEqual([0, 1]);
    expect(dl[0]!.mfns.sort()).toEqual([low.mfn, high.mfn].sort());
    expect(dl[0]!.message).toMatch(/deadlock: pCPU 1 spins in page_lock on MFN 0x[0-9a-f]+ \(held by pCPU 0\); pCPU 0 spins in page_lock/);
    // pCPU 1 tried the lower MFN while holding the higher, but never got it: no out-of-order acquisition took place.
    expect(found.filter((v) => v.rule === "mfn-order").map((v) => v.cpu)).toEqual([]);
    steps(b, 5);
    expect(found.filter((v) => v.rule === "abba-deadlock")).toHaveLength(1);
  });

  it("a pCPU that waits for a lock whose holder is merely busy is no deadlock; one that takes locks lower MFN first never forms a cycle", () => {
    const { t, found, low, high, cpus } = setup();
    expect(finish(pageLock(cpus[0]!, low))).toBe(true);
    const b = pageLock(cpus[1]!, low);
    steps(b, 4);
    expect(finish(pageLock(cpus[0]!, high))).toBe(true);
    finish(pageUnlock(cpus[0]!, high));
    finish(pageUnlock(cpus[0]!, low));
    expect(finish(b)).toBe(true);
    finish(pageUnlock(cpus[1]!, low));
    expect(found).toEqual([]);
    expectConsistent(t.hv);
  });

  it("a pCPU spinning in _put_page_type on a page it holds locked is a self-deadlock (the order before Xen c2c6f8b68c)", () => {
    const { found, low, cpus } = setup();
    const c = cpus[0]!;
    expect(finish(pageLock(c, low))).toBe(true);
    low.pinned = false; // MMUEXT_UNPIN_TABLE's first half: the pin's type reference is the one dropped next
    expect(low.typeCount).toBe(2);
    const put = putPageType(c, low);
    steps(put, 4);
    const self = found.filter((v) => v.rule === "self-deadlock");
    expect(self).toHaveLength(1);
    expect(self[0]!.message).toMatch(/pCPU 0 spins in _put_page_type on MFN .* pCPU 0 holds that lock itself/);
  });

  it("another pCPU's spin in _put_page_type ends when the holder unlocks: no report", () => {
    const { found, low, cpus } = setup();
    expect(finish(pageLock(cpus[0]!, low))).toBe(true);
    low.pinned = false;
    const put = putPageType(cpus[1]!, low);
    steps(put, 4);
    finish(pageUnlock(cpus[0]!, low));
    expect(finish(put)).toBe(0);
    expect(found).toEqual([]);
  });

  it("a cycle through put_page_type: pCPU 0 spins to drop a reference of a page pCPU 1 holds, pCPU 1 spins on a lock pCPU 0 holds", () => {
    const { found, low, high, cpus } = setup();
    expect(finish(pageLock(cpus[0]!, low))).toBe(true);
    expect(finish(pageLock(cpus[1]!, high))).toBe(true);
    high.pinned = false;
    const put = putPageType(cpus[0]!, high);
    steps(put, 2);
    const b = pageLock(cpus[1]!, low);
    steps(b, 2);
    const dl = found.filter((v) => v.rule === "abba-deadlock");
    expect(dl).toHaveLength(1);
    expect(dl[0]!.message).toMatch(/spins in put_page_type/);
  });
});

describe("lock sanitizer: order and the 2018 debug check", () => {
  it("taking a page lock of a lower MFN while holding a higher one is out of MFN order, with or without --page-lock-check; the other way round is not", () => {
    for (const check of [true, false]) {
    const { found, low, high, cpus } = setup(check);
    const c = cpus[0]!;
    expect(finish(pageLock(c, low, "private"))).toBe(true);
    expect(finish(pageLock(c, high, "private"))).toBe(true);
    expect(found).toEqual([]);
    finish(pageUnlock(c, high));
    finish(pageUnlock(c, low));
    expect(finish(pageLock(c, high, "private"))).toBe(true);
    expect(finish(pageLock(c, low, "private"))).toBe(true);
    expect(found.map((v) => v.rule)).toEqual(["mfn-order"]);
    expect(found[0]!.mfns).toEqual([high.mfn, low.mfn]);
    expect(found[0]!.message).toMatch(/out of MFN order, an ABBA deadlock with any CPU that locks the two the other way round/);
    }
  });

  it("--page-lock-check: a second checked page lock trips the check; mem_sharing's private lock does not; off, nothing", () => {
    for (const check of [true, false]) {
      const { found, low, high, cpus } = setup(check);
      const c = cpus[0]!;
      expect(finish(pageLock(c, low))).toBe(true);
      expect(finish(pageLock(c, high, "private"))).toBe(true);
      finish(pageUnlock(c, high));
      expect(found).toEqual([]);
      expect(finish(pageLock(c, high))).toBe(true);
      expect(found.map((v) => v.rule)).toEqual(check ? ["page-lock-check"] : []);
      if (check) expect(found[0]!.message).toMatch(/cf4b30dca0/);
    }
  });

  it("--page-lock-check: put_page_type on a page the pCPU holds with the checked lock trips the check, even when it would not spin", () => {
    const { found, low, cpus } = setup(true);
    const c = cpus[0]!;
    expect(finish(getPage(c, low, c.d))).toBe(true);
    expect(finish(getPageType(c, low, PGT.l1))).toBe(0);
    expect(finish(pageLock(c, low))).toBe(true);
    expect(finish(putPageType(c, low))).toBe(0);
    expect(found.map((v) => v.rule)).toEqual(["page-lock-check"]);
    finish(pageUnlock(c, low));
    finish(putPage(c, low));
  });

  it("mm locks: the p2m lock (16) taken while holding a page-sharing lock (24) is out of order; the other order and recursion are not", () => {
    const found: LockViolation[] = [];
    const s = new LockSanitizer(2, false, () => 7, (v) => void found.push(v));
    s.mmLocked(0, "p2m");
    s.mmLocked(0, "per_page_sharing");
    s.mmLocked(0, "per_page_sharing");
    s.mmLocked(0, "p2m");
    expect(found).toEqual([]);
    s.mmUnlocked(0, "p2m");
    s.mmUnlocked(0, "p2m");
    s.mmLocked(0, "p2m");
    expect(found.map((v) => v.rule)).toEqual(["mm-lock-order"]);
    expect(found[0]!.step).toBe(7);
    expect(found[0]!.message).toMatch(/p2m lock \(level 16\) while it holds the per_page_sharing lock \(level 24\)/);
  });
});
