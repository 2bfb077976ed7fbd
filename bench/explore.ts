// SPDX-License-Identifier: MIT
//
// `bench explore-setup`: what one run costs besides its instructions, since
// `shootdown explore` starts thousands of short runs. A run is
// \`shootdown run\`'s: build the machine, boot the image, run it to PSCI
// SYSTEM_OFF, report (with the state hash).

import { runArm } from "../emulator/machine/arm-run.ts";
import type { BenchOptions } from "./cli.ts";
import { benchImage } from "./cpu.ts";
import { a64LoopSource } from "./qemu.ts";

/** Whole runs of `image`: the best wall time of one, in milliseconds, over `runs` runs. */
function bestRun(image: Uint8Array, runs: number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = runArm({
      image, cpus: 1, memBytes: 128n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 100_000,
      maxSteps: undefined, tlbChaos: undefined, console: () => {},
    });
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`the explore-setup image ended with status ${r.status}`);
  }
  return best;
}

export function exploreSetupSuite({ scale, out }: BenchOptions): void {
  const runs = Math.max(5, Math.round(50 * scale));
  // One iteration (about 10 instructions in all): the run's fixed cost.
  const tiny = benchImage("aarch64", a64LoopSource(1));
  // 1,250 iterations of 8 instructions: a 10,000-instruction run.
  const short = benchImage("aarch64", a64LoopSource(1250));
  bestRun(tiny, 5);
  const fixed = bestRun(tiny, runs);
  const run10k = bestRun(short, runs);
  out(`explore-setup: whole AArch64 runs (128 MiB of RAM, 1 CPU), best of ${runs}`);
  out(`  fixed cost of one run (a one-iteration image)   ${fixed.toFixed(2).padStart(8)} ms`);
  out(`  a 10,000-instruction run                        ${run10k.toFixed(2).padStart(8)} ms   ${(1000 / run10k).toFixed(0)} runs/s`);
}
