// SPDX-License-Identifier: MIT
//
// PCT (scheduler.ts PriorityChangePoints): its decisions are a function of
// its seed; it runs the highest-priority CPU that is not waiting and
// changes priorities exactly at its depth-1 change points; past its horizon
// it is fair. On a whole machine: the same seed makes the same run, the
// horizon does not depend on the seed, schedule files record PCT's
// parameters, and PCT finds the lost update of guest/x86_64/lost-update.s,
// an ordering bug of depth 2, which no run without a change point shows.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PriorityChangePoints, type Decision } from "../../emulator/machine/core/scheduler.ts";
import { parseSchedule, scheduleToJson, type Schedule } from "../../emulator/machine/core/schedule-file.ts";
import { calibratedOptions, runImage } from "../../emulator/run.ts";
import { withDefaults } from "../../emulator/run-guest.ts";
import { exploreRun, recordFailure, type Failure } from "../../emulator/explore/outcome.ts";
import { sha256 } from "../../emulator/machine/core/report.ts";
import { ROOT, image } from "../helpers/run.ts";

const LOST_UPDATE = image(readFileSync(join(ROOT, "guest", "x86_64", "lost-update.s"), "utf8"));

/** `n` decisions of a PCT scheduler over `live`, with `waiting(i)` the waiting set of decision i. */
function decisions(s: PriorityChangePoints, live: number[], n: number, waiting: (i: number) => number[] = () => []): Decision[] {
  return Array.from({ length: n }, (_, i) => s.next(live, new Set(waiting(i))));
}

describe("PCT decisions", () => {
  it("are a function of the seed", () => {
    const run = (seed: bigint) => decisions(new PriorityChangePoints(seed, 50, 4, { depth: 3, horizon: 100 }), [0, 1, 2, 3], 300, (i) => (i % 7 === 3 ? [i % 4] : []));
    const a = run(11n);
    expect(run(11n)).toEqual(a);
    expect(run(12n)).not.toEqual(a);
    expect(a.every((d) => d.budget >= 1 && d.budget <= 50)).toBe(true);
  });

  it("keep to the highest-priority CPU when there is no change point (depth 1)", () => {
    for (let seed = 0n; seed < 20n; seed++) {
      const picks = decisions(new PriorityChangePoints(seed, 10, 3, { depth: 1, horizon: 1000 }), [0, 1, 2], 200).map((d) => d.cpu);
      expect(new Set(picks).size).toBe(1);
    }
    // Over seeds, each CPU is the highest sometimes: the priorities are a random permutation.
    const firsts = new Set(Array.from({ length: 40 }, (_, s) => new PriorityChangePoints(BigInt(s), 10, 3, { depth: 1, horizon: 9 }).next([0, 1, 2]).cpu));
    expect(firsts).toEqual(new Set([0, 1, 2]));
  });

  it("preempt the running CPU at each of the depth-1 change points and nowhere else", () => {
    for (let seed = 0n; seed < 30n; seed++) {
      const s = new PriorityChangePoints(seed, 10, 2, { depth: 2, horizon: 60 });
      const points = s.changePoints;
      expect(points).toHaveLength(1);
      expect(points[0]).toBeGreaterThanOrEqual(0);
      expect(points[0]).toBeLessThan(60);
      const picks = decisions(s, [0, 1], 60).map((d) => d.cpu);
      const switches = picks.flatMap((c, i) => (i > 0 && c !== picks[i - 1] ? [i] : []));
      // Two CPUs, one change point: the one that ran drops below the other at that decision (none at decision 0).
      expect(switches).toEqual(points[0] === 0 ? [] : [points[0]]);
    }
    const deep = new PriorityChangePoints(3n, 10, 4, { depth: 5, horizon: 100 });
    expect(new Set(deep.changePoints).size).toBe(4);
    expect(new PriorityChangePoints(3n, 10, 4, { depth: 5, horizon: 2 }).changePoints.sort()).toEqual([0, 1]);
  });

  it("count a heavy step's weight (elapse): a change point it passes over takes effect at the next decision", () => {
    let checked = 0;
    for (let seed = 0n; seed < 40n; seed++) {
      const s = new PriorityChangePoints(seed, 10, 2, { depth: 2, horizon: 60 });
      const k = s.changePoints[0]!;
      if (k < 10 || k > 50) continue;
      // Decision 5 stands for 10 (time 5..14), so time runs 9 ahead of decisions after it; the horizon (60) is decision 51.
      const picks: number[] = [];
      for (let d = 0; d < 51; d++) {
        picks.push(s.next([0, 1]).cpu);
        if (d === 5) s.elapse(9);
      }
      const switches = picks.flatMap((c, i) => (i > 0 && c !== picks[i - 1] ? [i] : []));
      // Time k falls at decision k (k ≤ 5), inside the heavy step (it acts at decision 6), or at decision k - 9 after it.
      const expected = k <= 5 ? k : k <= 14 ? 6 : k - 9;
      expect(switches).toEqual([expected]);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it("pass over a waiting CPU, and fall back to the live ones when the caller says all wait", () => {
    const s = new PriorityChangePoints(5n, 10, 3, { depth: 1, horizon: 1000 });
    const top = s.next([0, 1, 2]).cpu;
    const others = [0, 1, 2].filter((c) => c !== top);
    const second = s.next([0, 1, 2], new Set([top])).cpu;
    expect(others).toContain(second);
    expect(s.next([0, 1, 2], new Set([top, second])).cpu).toBe(others.find((c) => c !== second));
    expect([0, 1, 2]).toContain(s.next([0, 1, 2], new Set([0, 1, 2])).cpu);
    expect(s.next([0, 1, 2]).cpu).toBe(top);
  });

  it("are fair past the horizon, so that a CPU spinning on another cannot starve it", () => {
    const s = new PriorityChangePoints(9n, 10, 3, { depth: 2, horizon: 20 });
    decisions(s, [0, 1, 2], 20);
    const after = decisions(s, [0, 1, 2], 300).map((d) => d.cpu);
    for (const c of [0, 1, 2]) expect(after.filter((x) => x === c).length).toBeGreaterThan(60);
  });

  it("refuse impossible parameters", () => {
    expect(() => new PriorityChangePoints(0n, 10, 2, { depth: 0, horizon: 10 })).toThrow(/depth must be a positive integer/);
    expect(() => new PriorityChangePoints(0n, 10, 2, { depth: 2, horizon: 0 })).toThrow(/horizon must be a positive integer/);
  });
});

describe("PCT runs", () => {
  const options = (given: Parameters<typeof withDefaults>[0]) => calibratedOptions(withDefaults(given, "x86_64"), LOST_UPDATE);
  const pct = (depth: number) => options({ cpus: 2, quantum: 8, mode: "pct", pct: { depth, horizon: 0 } });

  it("the same seed makes the same run, decision for decision; the horizon is measured once, whatever the seed", () => {
    const o = pct(2);
    expect(o.pct!.horizon).toBeGreaterThan(10);
    expect(options({ cpus: 2, quantum: 8, seed: 77n, mode: "pct", pct: { depth: 2, horizon: 0 } }).pct).toEqual(o.pct);
    const run = (seed: bigint) => runImage({ ...o, seed, image: LOST_UPDATE, console: () => {}, record: true });
    const a = run(3n);
    const b = run(3n);
    expect(b.schedule).toEqual(a.schedule);
    expect(b.stateHash).toBe(a.stateHash);
    expect(a.mode).toBe("pct");
    expect(run(4n).schedule).not.toEqual(a.schedule);
  });

  it("measures a finite horizon for a guest whose CPUs spin on flags (no run under strict priorities alone would end)", () => {
    // guest/aarch64/hello.elf: CPU 0 waits in a loop for the CPUs it started.
    const hello = readFileSync(join(ROOT, "guest", "aarch64", "hello.elf"));
    const o = calibratedOptions(withDefaults({ cpus: 4, mode: "pct", pct: { depth: 3, horizon: 0 } }, "aarch64"), hello);
    expect(o.pct!.horizon).toBeGreaterThan(10);
    expect(o.pct!.horizon).toBeLessThan(1_000_000);
    expect(exploreRun(hello, o, 5n).status).toBe(0);
  });

  it("finds the lost update (a depth-2 ordering bug) that round-robin and PCT without change points never show", () => {
    expect(runImage({ ...options({ cpus: 2 }), image: LOST_UPDATE, console: () => {} }).status).toBe(0);
    // Seeds known to hold failures for this image and calibration (about 2% of seeds do at depth 2).
    const seeds = Array.from({ length: 30 }, (_, i) => 120n + BigInt(i));
    const depth2 = pct(2);
    const found = seeds.map((s) => exploreRun(LOST_UPDATE, depth2, s)).filter((r): r is Failure => r.status !== 0);
    expect(found.length).toBeGreaterThan(0);
    expect(new Set(found.map((f) => f.kind))).toEqual(new Set(["debug-exit 0x1"]));
    const depth1 = pct(1);
    expect(seeds.filter((s) => exploreRun(LOST_UPDATE, depth1, s).status !== 0)).toEqual([]);

    // Its schedule replays to the same end at the same instruction.
    const f = found[0]!;
    const recorded = recordFailure(LOST_UPDATE, sha256(LOST_UPDATE), "lost-update.elf", depth2, f);
    expect(recorded.problems).toEqual([]);
    const replay = runImage({ ...recorded.schedule.options, image: LOST_UPDATE, console: () => {}, replay: recorded.schedule.decisions });
    expect({ status: replay.status, steps: Number(replay.steps), hash: replay.stateHash })
      .toEqual({ status: 1, steps: f.instructions, hash: recorded.schedule.stateHash });
  });
});

describe("schedule files of PCT runs", () => {
  const sched: Schedule = {
    imageSha256: "cd".repeat(32), imageName: "x.elf", decisions: [[0, 5], [1, "hv"]], status: 1, stateHash: 0x1234n,
    options: { cpus: 2, memBytes: 64n << 20n, cmdline: "", mode: "pct", seed: 7n, pct: { depth: 2, horizon: 40 }, quantum: 8, maxSteps: undefined, tlbChaos: undefined },
  };

  it("record the depth and the horizon, and round-trip", () => {
    const text = scheduleToJson(sched);
    expect(JSON.parse(text).options).toMatchObject({ mode: "pct", seed: "7", pct: { depth: 2, horizon: 40 } });
    expect(parseSchedule(text)).toEqual(sched);
  });

  it("refuse a PCT file without its parameters, and PCT parameters in another mode", () => {
    const broken = (f: (o: any) => void) => {
      const o = JSON.parse(scheduleToJson(sched));
      f(o);
      return () => parseSchedule(JSON.stringify(o));
    };
    expect(broken((o) => delete o.options.pct)).toThrow(/"options.pct" must be \{ "depth": D, "horizon": K \}/);
    expect(broken((o) => (o.options.pct.depth = 0))).toThrow(/"options.pct" must be/);
    expect(broken((o) => (o.options.mode = "random"))).toThrow(/"options.pct" is only for "mode": "pct"/);
    expect(broken((o) => (o.options.mode = "fair"))).toThrow(/"options.mode" must be "round-robin", "random" or "pct"/);
  });
});
