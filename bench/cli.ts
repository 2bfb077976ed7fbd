// SPDX-License-Identifier: MIT
//
// `shootdown bench [SUITE]` and `npm run bench`: emulator speed in wall-clock
// time, always quoted against a baseline measured in the same run.

import { UsageError, parseCommandLine, positiveOption, shown } from "../emulator/cli/options.ts";
import { tlbSuite } from "./tlb.ts";
import { i64Suite } from "./i64.ts";
import { asmSuite } from "./asm.ts";
import { cpuSuite } from "./cpu.ts";
import { qemuSuite } from "./qemu.ts";

export interface BenchOptions {
  /** Scale the iteration counts (1 = the default run). */
  scale: number;
  out: (line: string) => void;
}

const SUITES: Record<string, (o: BenchOptions) => void> = {
  tlb: tlbSuite,
  i64: i64Suite,
  asm: asmSuite,
  cpu: cpuSuite,
  qemu: qemuSuite,
};

/** The suites, in the order `shootdown bench` runs them. */
export const BENCH_SUITES = Object.keys(SUITES);

export const BENCH_USAGE = `usage: shootdown bench [SUITE...] [--scale X]

suites: ${Object.keys(SUITES).join(", ")} (default: all)
  --scale X   multiply iteration counts by X (e.g. 0.1 for a quick look)`;

const BENCH_OPTIONS = { scale: { type: "string" }, help: { type: "boolean" } } as const;

export function benchCommand(args: string[], out: (line: string) => void): number {
  const { values, positionals } = parseCommandLine(args, BENCH_OPTIONS, { command: "bench", afterDashDash: "operands" });
  if (values.help) {
    out(BENCH_USAGE);
    return 0;
  }
  const scale = values.scale === undefined ? 1 : positiveOption("--scale", values.scale);
  const names = positionals.length ? positionals : Object.keys(SUITES);
  for (const name of names) {
    if (!SUITES[name]) throw new UsageError(`unknown suite '${shown(name)}' (suites: ${Object.keys(SUITES).join(", ")})`);
  }
  for (const name of names) SUITES[name]!({ scale, out });
  return 0;
}

/** Best-of-rounds timing in nanoseconds per operation. */
export function timeBest(rounds: number, ops: number, fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0);
    if (dt < best) best = dt;
  }
  return best / ops;
}

export const perSecond = (nsPerOp: number) => `${(1e3 / nsPerOp).toFixed(1)} M/s`;
