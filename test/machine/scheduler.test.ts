// SPDX-License-Identifier: MIT
//
// The scheduler: its generator is seeded and reproducible, round-robin and
// random interleaving decide as documented, a schedule packs and unpacks
// to the same decisions, and a replay refuses to follow a run that differs.

import { describe, expect, it } from "vitest";
import {
  Xoshiro128, RoundRobin, RandomInterleaving, Replay, ReplayDiverged, packSteps, unpackSteps, checkPacked, type Step,
} from "../../emulator/machine/core/scheduler.ts";
import { parseSchedule, scheduleToJson, type Schedule } from "../../emulator/machine/core/schedule-file.ts";

describe("Xoshiro128", () => {
  it("is a function of its seed", () => {
    const a = new Xoshiro128(42n);
    const b = new Xoshiro128(42n);
    const c = new Xoshiro128(43n);
    const xs = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(xs);
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it("mixes seed 0 and 64-bit seeds", () => {
    const z = new Xoshiro128(0n);
    expect(new Set(Array.from({ length: 16 }, () => z.nextU32())).size).toBe(16);
    const big = new Xoshiro128((1n << 64n) - 1n);
    expect(big.nextU32()).not.toBe(new Xoshiro128(0n).nextU32());
  });

  it("below(n) is in range and roughly uniform", () => {
    const r = new Xoshiro128(7n);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 50_000; i++) counts[r.below(5)]!++;
    for (const n of counts) expect(Math.abs(n - 10_000)).toBeLessThan(500);
    expect(r.below(1)).toBe(0);
  });
});

describe("round-robin", () => {
  it("runs the live CPUs in index order, each for a quantum", () => {
    const s = new RoundRobin(100);
    const picks = Array.from({ length: 6 }, () => s.next([0, 1, 2]));
    expect(picks.map((d) => d.cpu)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(picks.every((d) => d.budget === 100)).toBe(true);
  });

  it("skips CPUs that are no longer live", () => {
    const s = new RoundRobin(5);
    expect(s.next([0, 1, 2, 3]).cpu).toBe(0);
    expect(s.next([0, 2, 3]).cpu).toBe(2);
    expect(s.next([0, 3]).cpu).toBe(3);
    expect(s.next([0, 3]).cpu).toBe(0);
  });
});

describe("random interleaving", () => {
  it("picks a live CPU and a quantum from 1 to Q, the same for the same seed", () => {
    const run = (seed: bigint) => {
      const s = new RandomInterleaving(seed, 10);
      return Array.from({ length: 200 }, () => s.next([1, 3, 4]));
    };
    const a = run(5n);
    expect(run(5n)).toEqual(a);
    expect(run(6n)).not.toEqual(a);
    expect(new Set(a.map((d) => d.cpu))).toEqual(new Set([1, 3, 4]));
    expect(Math.min(...a.map((d) => d.budget))).toBe(1);
    expect(Math.max(...a.map((d) => d.budget))).toBe(10);
  });

  it("quantum 1 is instruction granularity", () => {
    const s = new RandomInterleaving(1n, 1);
    expect(Array.from({ length: 20 }, () => s.next([0, 1]).budget)).toEqual(new Array(20).fill(1));
  });
});

describe("schedules", () => {
  const steps: Step[] = [[0, 10, 10], [1, 10, 10], [1, 10, 10], [1, 10, 10], [2, 10, 3], [0, 7, 0], [0, 7, 0], [1, "hv"], [1, "hv"], [0, "hv"]];

  it("pack and unpack to the same decisions, continuation steps included (version 2)", () => {
    const packed = packSteps(steps);
    expect(packed).toEqual([[0, 10], [1, 10, 10, 3], [2, 10, 3], [0, 7, 0, 2], [1, "hv", 2], [0, "hv"]]);
    expect(unpackSteps(checkPacked(JSON.parse(JSON.stringify(packed)), 3))).toEqual(steps);
  });

  it("checking names the malformed entry", () => {
    expect(() => checkPacked([[0, 1], "x"], 2)).toThrow(/decisions\[1\] must be/);
    expect(() => checkPacked([[5, 1]], 2)).toThrow(/decisions\[0\] names CPU 5; the run has 2/);
    expect(() => checkPacked([[0, 1, 2]], 2)).toThrow(/decisions\[0\] is impossible/);
    expect(() => checkPacked([[0, 0]], 2)).toThrow(/impossible/);
    expect(() => checkPacked({}, 2)).toThrow(/must be an array/);
    expect(() => checkPacked([[0, "hv", 0]], 2)).toThrow(/decisions\[0\] must be \[cpu, "hv"\]/);
    expect(() => checkPacked([[0, "hv"]], 2, 1)).toThrow(/decisions\[0\] must be \[cpu, asked\]/);
  });

  it("a replay follows the steps without expanding a repeat count", () => {
    const r = new Replay(packSteps(steps));
    expect(r.next([0, 1, 2])).toEqual({ cpu: 0, budget: 10, expect: 10 });
    expect(r.next([0, 1, 2])).toEqual({ cpu: 1, budget: 10, expect: 10 });
    const huge = new Replay([[0, 5, 5, 1_000_000_000], [1, "hv"]]);
    for (let i = 0; i < 1000; i++) expect(huge.next([0, 1])).toEqual({ cpu: 0, budget: 5, expect: 5 });
    expect(huge.position).toBe(1000);
    const h = new Replay([[1, "hv"]]);
    expect(h.next([0, 1])).toEqual({ cpu: 1, hv: true });
    const s = new Replay([[2, 5, 5]]);
    expect(() => s.next([0, 1])).toThrow(/runs CPU 2, which is not live/);
    const t = new Replay([]);
    expect(() => t.next([0])).toThrow(/the schedule ended after 0 decisions but the run did not/);
  });

  it("the file round-trips and malformed files are refused with the field named", () => {
    const sched: Schedule = {
      imageSha256: "ab".repeat(32), imageName: "x.elf", decisions: packSteps(steps), status: 0, stateHash: 0xdead_beef_0000_0001n,
      options: { cpus: 3, memBytes: 64n << 20n, cmdline: "a b", mode: "random", seed: 99n, quantum: 10, maxSteps: 1000n, tlbChaos: 0.5 },
    };
    const text = scheduleToJson(sched);
    expect(parseSchedule(text)).toEqual(sched);
    const file = JSON.parse(text);
    expect(file.format).toBe("shootdown-schedule");
    expect(file.version).toBe(2);
    const broken = (f: (o: any) => void) => {
      const o = JSON.parse(text);
      f(o);
      return () => parseSchedule(JSON.stringify(o));
    };
    expect(() => parseSchedule("{")).toThrow(/not valid JSON/);
    expect(() => parseSchedule("[]")).toThrow(/not a JSON object/);
    expect(broken((o) => (o.format = "other"))).toThrow(/"format" must be "shootdown-schedule"/);
    expect(broken((o) => (o.version = 3))).toThrow(/"version" 3 is not supported/);
    expect(broken((o) => (o.version = 1))).toThrow(/decisions\[4\] must be \[cpu, asked\]/);
    expect(broken((o) => (o.options.mem = "4097"))).toThrow(/options.mem/);
    expect(broken((o) => (o.options.seed = (1n << 64n).toString()))).toThrow(/options.seed/);
    expect(broken((o) => (o.options.tlbChaos = 1e-300))).toThrow(/options.tlbChaos/);
    expect(broken((o) => (o.image.sha256 = "zz"))).toThrow(/image.sha256/);
    expect(broken((o) => (o.options.cpus = 0))).toThrow(/options.cpus/);
    expect(broken((o) => (o.options.mem = 5))).toThrow(/options.mem/);
    expect(broken((o) => (o.options.tlbChaos = 2))).toThrow(/options.tlbChaos/);
    expect(broken((o) => (o.decisions = [[7, 1]]))).toThrow(/decisions\[0\] names CPU 7/);
    expect(broken((o) => delete o.end)).toThrow(/"end" must be/);
    const hv = { domains: 1, vcpus: 2, domMem: String(16 << 20) };
    expect(broken((o) => (o.options.hv = { ...hv, l0Assist: false }))).toThrow(/"options.hv.l0Assist" must be true or false, and false only with "nested": true/);
    expect(broken((o) => (o.options.hv = { ...hv, nested: true, l0Assist: "no" }))).toThrow(/options.hv.l0Assist/);
    const noAssist: Schedule = { ...sched, options: { ...sched.options, hv: { domains: 1, vcpus: 2, domMemBytes: 16n << 20n, nested: true, l0Assist: false } } };
    expect(parseSchedule(scheduleToJson(noAssist))).toEqual(noAssist);
  });
});
