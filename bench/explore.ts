// SPDX-License-Identifier: MIT
//
// `bench explore`: the throughput of `shootdown explore` (below).
//
// `bench explore-setup`: what one run costs besides its instructions, since
// `shootdown explore` starts thousands of short runs. A run is
// `shootdown run`'s: build the machine, boot the image, run it to PSCI
// SYSTEM_OFF, report (the state hash on demand, as an explorer that compares
// end states only when it needs them would ask for it).

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { calibratedOptions, runArm } from "../emulator/run.ts";
import { withDefaults } from "../emulator/run-guest.ts";
import { packageRoot } from "../emulator/machine/core/wasm.ts";
import { scheduleDescription } from "../emulator/machine/core/schedule-file.ts";
import { runPool } from "../emulator/explore/pool.ts";
import type { BenchOptions } from "./cli.ts";
import { benchImage } from "./cpu.ts";
import { a64LoopSource } from "./qemu.ts";

/** Whole runs of `image`: the best and the mean wall time of one, in milliseconds, over `runs` runs. */
function timeRuns(image: Uint8Array, runs: number): { best: number; mean: number } {
  let best = Infinity;
  let total = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = runArm({
      image, cpus: 1, memBytes: 128n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 100_000,
      maxSteps: undefined, tlbChaos: undefined, console: () => {}, stateHash: "on-demand",
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    best = Math.min(best, ms);
    total += ms;
    if (r.status !== 0) throw new Error(`the explore-setup image ended with status ${r.status}`);
  }
  return { best, mean: total / runs };
}

export function exploreSetupSuite({ scale, out }: BenchOptions): void {
  const runs = Math.max(5, Math.round(200 * scale));
  // One iteration (about 10 instructions in all): the run's fixed cost.
  const tiny = benchImage("aarch64", a64LoopSource(1));
  // 1,250 iterations of 8 instructions: a 10,000-instruction run.
  const short = benchImage("aarch64", a64LoopSource(1250));
  timeRuns(tiny, 5);
  const fixed = timeRuns(tiny, runs);
  const run10k = timeRuns(short, runs);
  const ms = (v: number) => `${v.toFixed(2).padStart(6)} ms`;
  out(`explore-setup: whole AArch64 runs (128 MiB of RAM, 1 CPU, the state hash on demand), ${runs} runs each`);
  out(`  fixed cost of one run (a one-iteration image)   best ${ms(fixed.best)}, mean ${ms(fixed.mean)}`);
  out(`  a 10,000-instruction run                        best ${ms(run10k.best)}, mean ${ms(run10k.mean)}   ${(1000 / run10k.mean).toFixed(0)} runs/s (from the mean)`);
}

/**
 * `bench explore`: `shootdown explore`'s throughput, as its summary reports
 * it (runs per second per worker, instructions per run), on the lost update
 * of guest/x86_64/lost-update.s with 4 CPUs under PCT, every seed counted
 * (--all), with one worker and with one per core. The goal (issue 13) is
 * 100 runs per second per worker on a 4-vCPU race scenario.
 */
export async function exploreSuite({ scale, out }: BenchOptions): Promise<void> {
  const image = benchImage("x86_64", readFileSync(join(packageRoot(), "guest", "x86_64", "lost-update.s"), "utf8"));
  const options = calibratedOptions(withDefaults({ cpus: 4, mode: "pct", pct: { depth: 3, horizon: 0 } }, "x86_64"), image);
  const runs = BigInt(Math.max(20, Math.round(400 * scale)));
  out(`explore: guest/x86_64/lost-update.s on 4 CPUs, ${scheduleDescription({ ...options, seed: undefined })}, ${runs} runs (--all)`);
  const cores = availableParallelism();
  for (const jobs of cores > 1 ? [1, cores] : [1]) {
    const t = await runPool({ image, options, first: 0n, end: runs, jobs, all: true });
    out(`  ${String(jobs).padStart(2)} worker${jobs === 1 ? " " : "s"}  ${t.runsPerSecondPerWorker.toFixed(1).padStart(7)} runs/s per worker  ` +
      `${Math.round(t.instructionsPerRun)} instructions per run  (${t.failureCount} failed; ${t.seconds.toFixed(2)} s)`);
  }
  out("  goal: 100 runs/s per worker on a 4-vCPU race scenario (issue 13)");
}
