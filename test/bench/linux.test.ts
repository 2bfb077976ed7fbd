// SPDX-License-Identifier: MIT
//
// `bench linux` (bench/linux.ts): the guest's console is read right, runs
// add up right, and the Linux-style guest with measure=on marks its munmaps,
// gup_fast sections and grace periods with span annotations that the cost
// model prices, bare and under --hv --hvm (where a vCPU's span follows it
// and its annotations' exits are not counted as the guest's).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIGS, CostTally, costCmdline, parseGuestConsole, searchCmdline, vmExitsOf } from "../../bench/linux.ts";
import { runImage } from "../../emulator/run.ts";
import { withDefaults } from "../../emulator/run-guest.ts";
import { attachTiming, COST_MODEL, type ModelledCycles } from "../../emulator/machine/timing/index.ts";
import { ROOT } from "../helpers/run.ts";

const KERNEL = readFileSync(join(ROOT, "guest", "x86_64", "linux", "kernel.elf"));

const CLEAN = [
  "linux: cpu0 mmap=3 munmap=3 dontneed=3 gup=12 pinned=40 missed=2 flush=6 ipi-sent=7 ipi-taken=5 hypercall=2 callback=0 lazy-flush=1 rcu-batch=3 tables-freed=6",
  "linux: cpu1 mmap=3 munmap=3 dontneed=3 gup=12 pinned=41 missed=1 flush=6 ipi-sent=4 ipi-taken=6 hypercall=1 callback=0 lazy-flush=0 rcu-batch=3 tables-freed=6",
  "linux: measure: tables-held-peak=6 tables-held-sum=20 tables-held-samples=6",
  "linux: flush=ipi tablefree=rcu async-safe=on workload=gup-race rounds=3 pages=4 dontneed=1 gups=2 cpus=2: no corruption (peak 6 tables waiting for a grace period)",
  "",
].join("\n");

const cycles = (spans: ModelledCycles["spans"]): ModelledCycles =>
  ({ clockMHz: 3000, pcpus: [], flushes: {} as ModelledCycles["flushes"], ...(spans ? { spans } : {}) });

describe("bench linux: reading and adding up runs", () => {
  it("reads each CPU's counters and the measure line of a clean run", () => {
    const g = parseGuestConsole(CLEAN)!;
    expect(g.cpus).toHaveLength(2);
    expect(g.cpus[1]).toMatchObject({ "ipi-sent": 4, hypercall: 1, "tables-freed": 6 });
    expect(g).toMatchObject({ tablesHeldPeak: 6, tablesHeldSum: 20, tablesHeldSamples: 6 });
  });

  it("a run the guest found corrupt, or one without measure=on, gives nothing", () => {
    expect(parseGuestConsole("linux: CPU 2: gup_fast read PTE entry 6b6b6b6b6b6b6b6b for 1000c0001000: no such page (a freed or reused table)\n")).toBeUndefined();
    expect(parseGuestConsole(CLEAN.replace(/^linux: measure:.*\n/m, ""))).toBeUndefined();
  });

  it("VM exits are the host's without the I/O ones (console and annotations); bare there are none", () => {
    expect(vmExitsOf({ exits: { io: 900, msr: 40, hlt: 12, vmcall: 7 }, outcomes: { annotations: 300 } })).toBe(59);
    expect(vmExitsOf(undefined)).toBeUndefined();
  });

  it("spans add up over runs by count; IPIs, hypercalls and exits per clean run; the held tables' peak is the highest, the mean over all samples", () => {
    const t = new CostTally();
    const g = parseGuestConsole(CLEAN)!;
    t.add(g, cycles({ munmap: { count: 6, cycles: 6000, cyclesPerSpan: 1000, maxCycles: 1500 }, gup_fast: { count: 24, cycles: 4800, cyclesPerSpan: 200, maxCycles: 300 } }), 100);
    t.add({ ...g, tablesHeldPeak: 9, tablesHeldSum: 4, tablesHeldSamples: 2 }, cycles({ munmap: { count: 2, cycles: 6000, cyclesPerSpan: 3000, maxCycles: 3000 } }), 50);
    t.add(undefined, cycles(undefined), 7);
    expect(t.runs).toBe(2);
    expect(t.unclean).toBe(1);
    expect(t.cyclesPer("munmap")).toBe(12000 / 8);
    expect(t.cyclesPer("gup_fast")).toBe(200);
    expect(t.cyclesPer("grace period")).toBeUndefined();
    expect(t.perRun()).toEqual({ ipis: 11, hypercalls: 3, exits: 75 });
    expect(t.tablesHeld()).toEqual({ peak: 9, mean: 24 / 8 });
  });

  it("covers ipi, async, hyperv, xen × direct, rcu, sync-ipi, the hypervisors' flushes under --hv --hvm, and ipi there too", () => {
    expect(CONFIGS).toHaveLength(15);
    for (const flush of ["ipi", "async", "hyperv", "xen"]) {
      expect(CONFIGS.filter((c) => c.flush === flush && !c.hvm).map((c) => c.tablefree)).toEqual(flush === "ipi" || flush === "async" ? ["direct", "rcu", "sync-ipi"] : []);
    }
    expect(CONFIGS.filter((c) => c.hvm).map((c) => `${c.flush} ${c.tablefree}`)).toEqual([
      "hyperv direct", "hyperv rcu", "hyperv sync-ipi", "xen direct", "xen rcu", "xen sync-ipi", "ipi direct", "ipi rcu", "ipi sync-ipi",
    ]);
    const async = CONFIGS.find((c) => c.flush === "async" && c.tablefree === "rcu")!;
    expect(costCmdline(async)).toBe("flush=async tablefree=rcu async-safe=off workload=gup-race rounds=3 measure=on");
    expect(searchCmdline(async)).toBe("flush=async async-safe=off tablefree=rcu workload=async-callback dontneed=0");
    expect(searchCmdline(CONFIGS.find((c) => c.flush === "xen" && c.tablefree === "direct")!)).toBe("flush=xen tablefree=direct workload=gup-race pages=32");
  });
});

/** One run of the guest on `cpus` CPUs, seeded random interleaving, priced: its console, report and modelled cycles. */
function priced(cmdline: string, cpus: number, hvm: boolean) {
  const bytes: number[] = [];
  let finish: (() => ModelledCycles) | undefined;
  const o = withDefaults({ cpus, cmdline, seed: 3n, ...(hvm ? { hv: { domains: 1, vcpus: cpus, domMemBytes: 0n, hvm: true } } : {}) }, "x86_64");
  const r = runImage({ ...o, image: KERNEL, console: (b) => bytes.push(b) }, (p) => {
    finish = attachTiming(p, COST_MODEL).finish;
  });
  return { console: Buffer.from(bytes).toString("latin1"), report: r, cycles: finish!() };
}

describe("the Linux-style guest's span annotations (measure=on)", () => {
  it("bare: one munmap span per munmap, one gup_fast span per walk, one grace period per RCU batch, each priced", () => {
    const { console, report, cycles } = priced("flush=ipi tablefree=rcu rounds=2 measure=on", 2, false);
    expect(report.status, console).toBe(0);
    const g = parseGuestConsole(console)!;
    const sum = (k: string) => g.cpus.reduce((n, c) => n + c[k]!, 0);
    expect(report.annotations!.spans).toEqual({ munmap: sum("munmap"), gup_fast: sum("gup"), "grace period": sum("rcu-batch") });
    expect(report.annotations!.warnings).toEqual([]);
    expect(Object.keys(cycles.spans!).sort()).toEqual(["grace period", "gup_fast", "munmap"]);
    expect(cycles.spans!.munmap!.count).toBe(4);
    // A munmap does at least its own work: zapping, unhooking, the flush (an INVLPG a page), the IPI to the other CPU.
    expect(cycles.spans!.munmap!.cyclesPerSpan).toBeGreaterThan(4 * COST_MODEL.invlpg + COST_MODEL.ipiSend);
    expect(cycles.spans!.gup_fast!.cyclesPerSpan).toBeGreaterThan(0);
    expect(g.tablesHeldSamples).toBe(4);
    expect(g.tablesHeldPeak).toBeGreaterThanOrEqual(2);
  });

  it("without measure=on the guest makes no span annotation and prints no measure line", () => {
    const { console, report, cycles } = priced("flush=ipi tablefree=rcu rounds=2", 2, false);
    expect(report.status).toBe(0);
    expect(report.annotations!.made.SPAN_BEGIN).toBeUndefined();
    expect(cycles.spans).toBeUndefined();
    expect(console).not.toMatch(/measure:/);
  });

  it("under --hv --hvm with Hyper-V's flush: the spans match by vCPU, with no warning, and the hypercalls are the guest's flushes", () => {
    const { console, report, cycles } = priced("flush=hyperv tablefree=rcu rounds=2 measure=on", 2, true);
    expect(report.status, console).toBe(0);
    expect(report.annotations!.warnings).toEqual([]);
    expect(cycles.spans!.munmap!.count).toBe(4);
    expect(cycles.spans!.gup_fast!.count).toBe(16);
    const g = parseGuestConsole(console)!;
    expect(g.cpus.reduce((n, c) => n + c.hypercall!, 0)).toBeGreaterThan(0);
    // One hypercall's exit and entry at least, and none of the annotations' (a munmap makes six: they would add 6,000 or more).
    const m = cycles.spans!.munmap!.cyclesPerSpan;
    expect(m).toBeGreaterThan(COST_MODEL.vmExit + COST_MODEL.vmEntry);
    expect(m).toBeLessThan(4 * (COST_MODEL.vmExit + COST_MODEL.vmEntry));
  });
});
