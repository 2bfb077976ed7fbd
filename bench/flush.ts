// SPDX-License-Identifier: MIT
//
// `bench flush` (issue 13): what each flush configuration costs and what it
// risks, on the PV kernel's spurious-race and churn workloads under the
// hypervisor, from one run of the bench:
//
//   IPI                       no L0: every remote flush interrupts its targets
//   IPI, nested               --nested --no-l0-assist: the same under an L0
//                             that offers no flush hypercall, so every IPI
//                             sent is an exit to L0 (what the assist saves)
//   assisted, no force-IPI    --nested --no-force-ipi: every remote flush goes
//                             through L0's hypercall (Xen before its fix)
//   assisted + force-IPI      --nested: TLB-only flushes through L0, retypes
//                             and reused frames (FLUSH_NO_ASSIST) by IPI
//
// For each: modelled cycles per remote flush (the cost model of
// emulator/machine/timing, initiator and targets together), IPIs sent and
// pCPUs the TLB-flush clock spared (flushes the filter avoided), from seeded
// random interleavings, where the pCPUs progress evenly as real ones do (under
// PCT one pCPU runs far ahead of the others, and each pCPU's modelled clock
// with it, so an initiator waiting for a target would wait for that skew);
// and runs ending in a sanitizer violation per 1,000 runs, over the PCT seeds
// `shootdown explore` runs. Then explore's throughput on the race scenario.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { calibratedOptions, engineFor, runImage } from "../emulator/run.ts";
import { withDefaults } from "../emulator/run-guest.ts";
import { packageRoot } from "../emulator/machine/core/wasm.ts";
import type { HvOptions, RecordedOptions } from "../emulator/machine/core/schedule-file.ts";
import { attachTiming, COST_MODEL, type ModelledCycles } from "../emulator/machine/timing/index.ts";
import { runPool } from "../emulator/explore/pool.ts";
import type { BenchOptions } from "./cli.ts";

const CONFIGS: { name: string; hv: Partial<HvOptions> }[] = [
  { name: "IPI", hv: {} },
  { name: "IPI, nested", hv: { nested: true, l0Assist: false } },
  { name: "assisted, no force-IPI", hv: { nested: true, forceIpi: false } },
  { name: "assisted + force-IPI", hv: { nested: true } },
];

const WORKLOADS = ["workload=spurious-race", "workload=churn iterations=3"];

interface Tally {
  runs: number;
  violations: number;
  remoteFlushes: number;
  remoteCycles: number;
  ipis: number;
  spared: number;
  cycles: number;
  seconds: number;
}

function options(cmdline: string, hv: Partial<HvOptions>, pct: boolean): RecordedOptions {
  const o = withDefaults({ cpus: 4, cmdline, seed: 0n, hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n, ...hv } }, "x86_64");
  return pct ? { ...o, mode: "pct", pct: { depth: 3, horizon: 0 } } : o;
}

function measure(image: Uint8Array, base: RecordedOptions, runs: number): Tally {
  const o = calibratedOptions(base, image);
  const t: Tally = { runs, violations: 0, remoteFlushes: 0, remoteCycles: 0, ipis: 0, spared: 0, cycles: 0, seconds: 0 };
  const start = performance.now();
  for (let seed = 0; seed < runs; seed++) {
    let timing: ModelledCycles | undefined;
    let finish: (() => ModelledCycles) | undefined;
    const r = runImage({ ...o, seed: BigInt(seed), image, console: () => {} }, (p) => {
      finish = attachTiming(p, COST_MODEL, undefined, { nested: o.hv?.nested === true }).finish;
    });
    timing = finish?.();
    if (r.status === 4) t.violations++;
    const h = r.hypervisor as { ipisSent: number; pcpusSparedByClock: number } | undefined;
    t.ipis += h?.ipisSent ?? 0;
    t.spared += h?.pcpusSparedByClock ?? 0;
    if (timing) {
      for (const path of ["ipi", "assisted"] as const) {
        const f = timing.flushes[path];
        t.remoteFlushes += f.remoteFlushes;
        t.remoteCycles += (f.cyclesPerRemoteFlush ?? 0) * f.remoteFlushes;
      }
      t.cycles += timing.pcpus.reduce((n, c) => n + c.clock, 0);
    }
  }
  t.seconds = (performance.now() - start) / 1000;
  return t;
}

export async function flushSuite({ scale, out }: BenchOptions): Promise<void> {
  const image = readFileSync(join(packageRoot(), "guest", "x86_64", "pv", "kernel.elf"));
  const runs = Math.max(10, Math.round(60 * scale));
  // The race shows in a fraction of the PCT runs (README has today's figure): the violation column needs many more runs than the costs.
  const pctRuns = Math.max(100, Math.round(1000 * scale));
  out(`flush: guest/x86_64/pv/kernel.elf --hv --cpus 4: costs over seeds 0–${runs - 1} under seeded random interleaving, ` +
    `violations over seeds 0–${pctRuns - 1} under PCT depth 3 (per 1,000 runs, resolution ${Math.round(1000 / pctRuns)})`);
  out(`  ${"workload".padEnd(28)}${"configuration".padEnd(25)}${"cycles/remote flush".padStart(20)}${"IPIs/run".padStart(10)}${"spared/run".padStart(11)}${"viol./1000".padStart(11)}${"runs/s".padStart(8)}`);
  for (const cmdline of WORKLOADS) {
    for (const c of CONFIGS) {
      const t = measure(image, options(cmdline, c.hv, false), runs);
      const v = measure(image, options(cmdline, c.hv, true), pctRuns);
      t.violations = v.violations;
      t.seconds += v.seconds;
      t.runs += v.runs;
      const per = t.remoteFlushes ? Math.round(t.remoteCycles / t.remoteFlushes) : 0;
      out(`  ${cmdline.padEnd(28)}${c.name.padEnd(25)}${String(per).padStart(20)}${(t.ipis / runs).toFixed(0).padStart(10)}` +
        `${(t.spared / runs).toFixed(0).padStart(11)}${String(Math.round((1000 * t.violations) / pctRuns)).padStart(11)}${(t.runs / t.seconds).toFixed(1).padStart(8)}`);
    }
  }
  // Explore's throughput on the race scenario, through its own worker pool, the fix on (no violation expected).
  const race = calibratedOptions(options(WORKLOADS[0]!, { nested: true }, true), image);
  // Enough runs that starting the workers (counted out) and the first runs' compilation weigh little:
  // with 200 a worker spent about a third of its time before V8 had compiled the hot paths.
  const n = BigInt(Math.max(8, Math.round(1000 * scale)));
  const cores = availableParallelism();
  for (const jobs of cores > 1 ? [1, cores] : [1]) {
    const t = await runPool({ image, options: race, first: 0n, end: n, jobs, all: true });
    out(`  explore, spurious-race --nested, ${jobs} worker${jobs === 1 ? " " : "s"}: ${t.runsPerSecondPerWorker.toFixed(1)} runs/s per worker, ` +
      `${Math.round(t.instructionsPerRun)} guest instructions per run (${t.failureCount} failed; goal 100 runs/s per worker)`);
  }
  // Where such a run's time goes, in this thread: building the machine and the domain, then the run.
  const split = buildThenRun(image, race, Math.max(10, Math.round(100 * scale)));
  out(`  a run of it: ${split.build.toFixed(1)} ms to build the machine and the domain, ${split.run.toFixed(1)} ms to run, ` +
    `${Math.round(split.decisions)} decisions (mean of ${split.runs} runs, after ${WARM_UP} to warm up)`);
}

const WARM_UP = 10;

/** Mean milliseconds to build (machine, hypervisor, domain) and to run, as explore's workers do (seeds 0, 1, …; instances reused). */
function buildThenRun(image: Uint8Array, options: RecordedOptions, runs: number): { build: number; run: number; decisions: number; runs: number } {
  let build = 0, run = 0, decisions = 0;
  for (let seed = 0; seed < WARM_UP + runs; seed++) {
    const t0 = performance.now();
    const engine = engineFor({ ...options, seed: BigInt(seed), image, console: () => {}, record: false });
    const t1 = performance.now();
    engine.runToEnd();
    const t2 = performance.now();
    engine.platform.machine.release();
    if (seed < WARM_UP) continue;
    build += t1 - t0;
    run += t2 - t1;
    decisions += engine.decisions;
  }
  return { build: build / runs, run: run / runs, decisions: decisions / runs, runs };
}
