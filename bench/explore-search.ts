// SPDX-License-Identifier: MIT
//
// `bench explore`: the throughput of `shootdown explore` as its summary
// reports it (runs per second per worker, instructions per run), through
// the worker pool the command uses. What one run costs besides its
// instructions is `bench explore-setup`'s (explore.ts).

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { calibratedOptions } from "../emulator/run.ts";
import { withDefaults } from "../emulator/run-guest.ts";
import { packageRoot } from "../emulator/machine/core/wasm.ts";
import { scheduleDescription } from "../emulator/machine/core/schedule-file.ts";
import { runPool } from "../emulator/explore/pool.ts";
import type { BenchOptions } from "./cli.ts";
import { benchImage } from "./cpu.ts";

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
