// SPDX-License-Identifier: MIT
//
// `bench explore-setup`: what one run costs besides its instructions, since
// `shootdown explore` starts thousands of short runs. A run is
// `shootdown run`'s: build the machine, boot the image, run it to PSCI
// SYSTEM_OFF, report (the state hash on demand, as an explorer that compares
// end states only when it needs them would ask for it).

import { runArm } from "../emulator/run.ts";
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
