// SPDX-License-Identifier: MIT
//
// `bench sharing`'s lock accounting (bench/sharing.ts LockWatcher): a lock's
// hold runs from the first event at which its pCPU holds it to the first at
// which it no longer does, in that pCPU's modelled cycles; waiting steps on
// locks are spins; the peak of frames saved is the largest seen.

import { describe, expect, it } from "vitest";
import { LockWatcher } from "../../bench/sharing.ts";
import type { LockSanitizer } from "../../hypervisor/common/lock-sanitizer.ts";
import type { TimelineEvent } from "../../emulator/machine/core/timeline.ts";

describe("bench sharing: the lock watcher", () => {
  it("times page-lock and p2m-lock holds per pCPU, counts lock spins, and keeps the peak of frames saved", () => {
    const pages: number[][] = [[], []];
    const mm: string[][] = [[], []];
    let saved = 0;
    const locks = { pageLocksHeld: (c: number) => pages[c]!, mmLocksHeld: (c: number) => mm[c]! } as unknown as LockSanitizer;
    const w = new LockWatcher(() => locks, () => saved);
    const step = (cpu: number, what: string, wait = false): TimelineEvent => ({ kind: "hv-step", cpu, what, wait });
    w.event(step(0, "get_gfn: take the p2m lock"), 0, 50);
    mm[0] = ["d1 p2m"];
    w.event(step(0, "page_lock: take the lock"), 50, 100);
    pages[0] = [0x123];
    saved = 3;
    w.event(step(1, "page_lock: wait for the lock", true), 10, 60);
    w.event(step(0, "page_unlock: release the lock"), 100, 150);
    pages[0] = [];
    saved = 2;
    w.event(step(0, "put_gfn: release the p2m lock"), 150, 200);
    mm[0] = ["per_page_sharing"];
    w.event(step(0, "done"), 200, 250);
    expect(w.pageLocks.holds).toEqual([150 - 100]);
    expect(w.p2mLocks.holds).toEqual([200 - 50]);
    expect(w.spins).toBe(1);
    expect(w.spinCycles).toBe(50);
    expect(w.peakSaved).toBe(3);
    expect(w.pageLocks.mean).toBe(50);
    expect(w.p2mLocks.longest).toBe(150);
  });
});
