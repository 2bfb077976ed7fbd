// SPDX-License-Identifier: MIT
//
// guest/x86_64/pv/kernel's `workload=spurious-race` (race.inc, issue 13's
// scenario) under the hypervisor and on the test mock: on any schedule it
// churns every table it should, its page-fault handler copes with faults
// the hypervisor injects (spurious ones included: today's hypervisor injects
// them all) and with faults it resolves itself, every check passes, and a
// default run stays cheap enough for the explorer to repeat by thousands.
// The image itself is held to GNU as + ld by pv-kernel.test.ts.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runImage, type RunReport } from "../../emulator/run.ts";
import { ROOT } from "../helpers/run.ts";
import { runPvMock } from "./pv-mock.ts";

const kernel = readFileSync(join(ROOT, "guest", "x86_64", "pv", "kernel.elf"));

interface RaceRun {
  report: RunReport;
  console: string;
}

function run(o: { cpus: number; seed?: number; domains?: number; vcpus?: number; tlbChaos?: number; cmdline?: string }): RaceRun {
  const bytes: number[] = [];
  const report = runImage({
    cpus: o.cpus, memBytes: 64n << 20n, cmdline: o.cmdline ?? "workload=spurious-race",
    mode: o.seed === undefined ? "round-robin" : "random", seed: o.seed === undefined ? undefined : BigInt(o.seed),
    quantum: 1000, maxSteps: 50_000_000n, tlbChaos: o.tlbChaos, record: false,
    hv: { domains: o.domains ?? 1, vcpus: o.vcpus ?? o.cpus, domMemBytes: 16n << 20n },
    image: kernel, console: (b) => bytes.push(b),
  });
  return { report, console: Buffer.from(bytes).toString("latin1") };
}

/** The numbers of the last two lines, or undefined when they are not there (the first domain's, with several). */
function counts(console: string) {
  const d = console.match(/^(?:\[d\d+\] )?spurious-race: (\d+) waits for the walkers cut short, (\d+) walker accesses outlived their table$/m);
  const m = console.match(
    /^(?:\[d\d+\] )?spurious-race: (\d+) churners x (\d+) iterations, (\d+) walkers: (\d+) faults taken, (\d+) real faults handled, (\d+) gone when retried, (\d+) tables churned, (\d+) failed checks$/m,
  );
  if (!m || !d) return undefined;
  const [churners, iterations, walkers, taken, real, gone, tables, failed] = m.slice(1).map(Number) as number[];
  const [late, outlived] = d.slice(1).map(Number) as number[];
  return {
    churners: churners!, iterations: iterations!, walkers: walkers!, taken: taken!, real: real!, gone: gone!, tables: tables!, failed: failed!,
    late: late!, outlived: outlived!,
  };
}

/** What every good run shows, whatever the schedule and whichever hypervisor resolves spurious faults. */
function expectGoodRun(r: RaceRun, churners: number, walkers: number, iterations: number) {
  expect(r.console).not.toMatch(/FAIL|unexpected/);
  const c = counts(r.console);
  expect(c).toBeDefined();
  expect(c).toMatchObject({ churners, walkers, iterations, tables: churners * iterations, failed: 0 });
  expect(c!.taken).toBe(c!.real + c!.gone);
  // Each churner reads the hole of its hooked table once per iteration: a real fault, always injected.
  expect(c!.real).toBeGreaterThanOrEqual(churners * iterations);
  expect(r.console).toMatch(/spurious-race: \d+ churners.*\npv kernel: all checks passed, powering off\n$/);
  expect(r.report.end).toMatchObject({ kind: "shutdown", status: 0 });
  expect(r.report.status).toBe(0);
}

describe("workload=spurious-race under the hypervisor", () => {
  it("on 4 pCPUs, round-robin: 2 churners and 2 walkers, every table churned, the walkers' faults handled", () => {
    const r = run({ cpus: 4 });
    expectGoodRun(r, 2, 2, 3);
    for (const v of [0, 2]) expect(r.console).toContain(`vcpu ${v}: up, churning 3 tables at 0x${(0x80000000 + v * 0x200000).toString(16)}\n`);
    for (const v of [1, 3]) expect(r.console).toContain(`vcpu ${v}: up, walking the churned tables\n`);
    for (const v of [0, 1, 2, 3]) expect(r.console).toContain(`vcpu ${v}: done, 0 failed checks\n`);
    // The walkers fault too: more real faults than the churners' own hole reads.
    expect(counts(r.console)!.real).toBeGreaterThan(2 * 3);
    const hv = r.report.hypervisor as { typeTransitions: Record<string, number>; pins: number; frames: { freed: number } };
    // Tables pinned and hooked, retyped to writable after the unhook, and given back.
    expect(hv.typeTransitions["writable → L1"]).toBeGreaterThanOrEqual(6);
    expect(hv.typeTransitions["L1 → writable"]).toBeGreaterThanOrEqual(4);
    expect(hv.frames.freed).toBeGreaterThanOrEqual(6);
  });

  it("costs the explorer under 60,000 guest instructions a run with the default iterations on 4 vCPUs", () => {
    expect(run({ cpus: 4 }).report.steps).toBeLessThan(60_000n);
  });

  it.each([1, 2, 3, 4, 5])("on 4 pCPUs with seed %i", (seed) => {
    expectGoodRun(run({ cpus: 4, seed }), 2, 2, 3);
  });

  it("with TLB chaos", () => {
    const r = run({ cpus: 4, seed: 6, tlbChaos: 0.01 });
    expectGoodRun(r, 2, 2, 3);
    expect(r.report.cpus.reduce((n, c) => n + c.counters.chaosEvictions, 0n)).toBeGreaterThan(0n);
  });

  it("two domains of 4 vCPUs on 4 pCPUs: both race and power off", () => {
    const r = run({ cpus: 4, seed: 7, domains: 2 });
    expect(r.console).not.toMatch(/FAIL|unexpected/);
    for (const d of [1, 2]) {
      const mine = r.console.split("\n").filter((l) => l.startsWith(`[d${d}] `)).map((l) => l.slice(5)).join("\n");
      expect(counts(mine)).toMatchObject({ churners: 2, walkers: 2, tables: 6, failed: 0 });
    }
    expect(r.report.end).toMatchObject({ kind: "shutdown", status: 0, reason: "d1 poweroff, d2 poweroff" });
  });

  it("iterations=N churns N tables per churner; 3 vCPUs make 2 churners and 1 walker", () => {
    expectGoodRun(run({ cpus: 3, seed: 8, cmdline: "workload=spurious-race iterations=5" }), 2, 1, 5);
  });

  it("on 1 vCPU the churner alone runs (and still faults on its own hole), waiting for no walker", () => {
    const r = run({ cpus: 1 });
    expectGoodRun(r, 1, 0, 3);
    expect(counts(r.console)).toMatchObject({ late: 0, outlived: 0 });
  });
});

describe("workload=spurious-race on the mock", () => {
  it.each([
    [1, 2000],
    [2, 50],
  ])("4 vCPUs, seed %i, turns of 1 to %i instructions: powers off with every check passed", (seed, maxSlice) => {
    const m = runPvMock(kernel, { vcpus: 4, seed, maxSlice, cmdline: "workload=spurious-race", maxSteps: 20_000_000 });
    const c = counts(m.console);
    expect(c).toMatchObject({ churners: 2, walkers: 2, tables: 6, failed: 0 });
    expect(m.console).toMatch(/pv kernel: all checks passed, powering off\n$/);
    expect(m.shutdown).toBe(0);
  });
});
