// SPDX-License-Identifier: MIT
//
// common/vcpu-sched.ts: the decisions a host makes about vCPUs on pCPUs —
// a slice's end, --migrate, the run queue and a migrating vCPU not taken
// back by the pCPU it left — each from the seed.

import { describe, expect, it } from "vitest";
import { Xoshiro128 } from "../../../emulator/machine/core/scheduler.ts";
import { VcpuScheduler } from "../../../hypervisor/common/vcpu-sched.ts";

const SLICE = 100n;
const make = (pcpus: number, migrate: number, seed = 1n) => new VcpuScheduler<string>(pcpus, new Xoshiro128(seed), { rate: migrate }, SLICE);

describe("VcpuScheduler", () => {
  it("keeps a vCPU on its pCPU until its slice is over, and then only when another waits or --migrate says so", () => {
    const s = make(2, 0);
    s.running(0, "a", 0n, undefined);
    expect(s.decide(0, SLICE - 1n)).toBe("stay");
    expect(s.decide(0, SLICE)).toBe("stay");
    s.enqueue("b");
    expect(s.decide(0, SLICE + 1n)).toBe("stay"); // a new slice began at SLICE
    expect(s.decide(0, 2n * SLICE)).toBe("preempt");
    expect(s.preemptions).toBe(1);
  });

  it("--migrate 1 moves at every decision; the pCPU left does not take the vCPU back, another does", () => {
    const s = make(2, 1);
    s.running(0, "a", 0n, undefined);
    expect(s.decide(0, SLICE)).toBe("migrate");
    s.stopped(0);
    s.enqueue("a", 0, true);
    expect(s.hasWork(0)).toBe(false);
    expect(s.take(0)).toBeUndefined();
    expect(s.take(1)).toBe("a");
    s.running(1, "a", 0n, 0);
    expect(s.migrations).toBe(1);
    expect(s.where("a")).toBe(1);
  });

  it("--migrate 0 or one pCPU never migrates", () => {
    for (const s of [make(2, 0), make(1, 1)]) {
      s.running(0, "a", 0n, undefined);
      for (let k = 1n; k < 50n; k++) expect(s.decide(0, k * SLICE)).toBe("stay");
    }
  });

  it("--migrate 0.05 migrates at about one decision in twenty, the same for the same seed", () => {
    const count = (seed: bigint) => {
      const s = make(2, 0.05, seed);
      s.running(0, "a", 0n, undefined);
      let n = 0;
      for (let k = 1n; k <= 4000n; k++) if (s.decide(0, k * SLICE) === "migrate") n++;
      return n;
    };
    expect(count(3n)).toBe(count(3n));
    expect(count(3n)).toBeGreaterThan(120);
    expect(count(3n)).toBeLessThan(280);
  });

  it("pickNext chooses among the queue and the current vCPU (undefined: the current one goes on), and remove drops a vCPU", () => {
    const s = make(1, 0, 5n);
    s.enqueue("b");
    s.enqueue("c");
    const seen = new Set<string | undefined>();
    for (let k = 0; k < 60; k++) {
      const next = s.pickNext();
      seen.add(next);
      if (next) s.enqueue(next);
    }
    expect(seen).toEqual(new Set(["b", "c", undefined]));
    s.remove("b");
    expect(s.runq).toEqual(expect.not.arrayContaining(["b"]));
  });

  it("the x86 PV roll: with nobody waiting, about one slice end in four sends the vCPU back to the queue; with someone waiting, a plain preemption", () => {
    const s = new VcpuScheduler<string>(1, new Xoshiro128(7n), { idleOneIn: 4 }, SLICE);
    expect(s.migrate).toBe(0);
    s.running(0, "a", 0n, undefined);
    let migrated = 0;
    for (let k = 1n; k <= 4000n; k++) if (s.decide(0, k * SLICE) === "migrate") migrated++;
    expect(migrated).toBeGreaterThan(800);
    expect(migrated).toBeLessThan(1200);
    s.enqueue("b");
    const before = s.preemptions;
    for (let k = 4001n; k <= 4100n; k++) expect(s.decide(0, k * SLICE)).toBe("preempt");
    expect(s.preemptions - before).toBe(100);
  });

  it("take with no pCPU named ignores which pCPU a vCPU migrated from; with a pCPU it honours it", () => {
    const s = make(2, 0);
    s.enqueue("a", 0, true);
    expect(s.take(0, () => true)).toBeUndefined();
    expect(s.take(undefined, (v) => v === "a")).toBe("a");
    s.enqueue("b");
    expect(s.take(undefined, () => false)).toBeUndefined();
    expect(s.runq).toEqual(["b"]);
  });
});
