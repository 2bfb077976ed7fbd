// SPDX-License-Identifier: MIT
//
// `bench explore-setup`: what one run costs besides its instructions, since
// `shootdown explore` starts thousands of short runs. A run is
// `shootdown run`'s: build the machine, boot the image, run it to PSCI
// SYSTEM_OFF, report with the state hash. Runs after the first reuse the
// hardware instance the one before handed back (emulator/machine/core/wasm.ts),
// as the runs of an explorer's worker do.

import { runArm } from "../emulator/run.ts";
import { instanceCounts } from "../emulator/machine/core/wasm.ts";
import type { BenchOptions } from "./cli.ts";
import { benchImage } from "./cpu.ts";
import { a64LoopSource } from "./qemu.ts";

interface RunTimes {
  best: number;
  median: number;
  mean: number;
  /** The process's CPU time (user and system) per run: on a shared machine, wall time also counts the time other processes had the core. */
  cpu: number;
}

/** Whole runs of `image`: wall times of one in milliseconds (best, median, mean) over `runs` runs, and CPU time per run. */
function timeRuns(image: Uint8Array, runs: number): RunTimes {
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = runArm({
      image, cpus: 1, memBytes: 128n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 100_000,
      maxSteps: undefined, tlbChaos: undefined, console: () => {}, stateHash: "on-demand",
    });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`the explore-setup image ended with status ${r.status}`);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return {
    best: times[0]!, median: times[times.length >> 1]!, mean: times.reduce((a, b) => a + b, 0) / runs,
    cpu: (cpu.user + cpu.system) / 1000 / runs,
  };
}

export function exploreSetupSuite({ scale, out }: BenchOptions): void {
  const runs = Math.max(5, Math.round(200 * scale));
  // One iteration (about 10 instructions in all): the run's fixed cost.
  const tiny = benchImage("aarch64", a64LoopSource(1));
  // 1,250 iterations of 8 instructions: a 10,000-instruction run.
  const short = benchImage("aarch64", a64LoopSource(1250));
  timeRuns(tiny, 5);
  const before = instanceCounts();
  const fixed = timeRuns(tiny, runs);
  const run10k = timeRuns(short, runs);
  const after = instanceCounts();
  const ms = (v: number) => `${v.toFixed(2).padStart(6)} ms`;
  const each = (t: RunTimes) => `best ${ms(t.best)}, median ${ms(t.median)}, mean ${ms(t.mean)}, CPU ${ms(t.cpu)}`;
  out(`explore-setup: whole AArch64 runs (128 MiB of RAM, 1 CPU, with the state hash), ${runs} runs each`);
  out(`  fixed cost of one run (a one-iteration image)   ${each(fixed)}`);
  out(`  a 10,000-instruction run                        ${each(run10k)}   ${(1000 / run10k.mean).toFixed(0)} runs/s (from the mean wall time)`);
  out(`  hardware instances: ${after.instantiated - before.instantiated} made, ${after.reused - before.reused} reused`);
}
