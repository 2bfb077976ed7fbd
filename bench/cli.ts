// SPDX-License-Identifier: MIT
//
// `shootdown bench [SUITE]` and `npm run bench`: emulator speed in wall-clock
// time, always quoted against a baseline measured in the same run.

import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { ShootdownError } from "../emulator/machine/core/errors.ts";
import { tlbSuite } from "./tlb.ts";
import { i64Suite } from "./i64.ts";
import { asmSuite } from "./asm.ts";
import { cpuSuite } from "./cpu.ts";
import { qemuSuite } from "./qemu.ts";

export interface BenchOptions {
  /** Scale the iteration counts (1 = the default run). */
  scale: number;
  /** Another build of the hardware module to measure beside this one, in the same run (suites that support it). */
  against?: string;
  out: (line: string) => void;
}

const SUITES: Record<string, (o: BenchOptions) => void> = {
  tlb: tlbSuite,
  i64: i64Suite,
  asm: asmSuite,
  cpu: cpuSuite,
  qemu: qemuSuite,
};

export const BENCH_USAGE = `usage: shootdown bench [SUITE...] [--scale X]

suites: ${Object.keys(SUITES).join(", ")} (default: all)
  --scale X         multiply iteration counts by X (e.g. 0.1 for a quick look)
  --against F.wasm  tlb: also measure another build of the hardware module
                    (e.g. main's dist/shootdown.wasm), round for round with this one`;

export function benchCommand(args: string[], out: (line: string) => void): number {
  const { values, positionals } = parseArgs({
    args,
    options: {
      scale: { type: "string", default: "1" },
      against: { type: "string" },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    out(BENCH_USAGE);
    return 0;
  }
  const scale = Number(values.scale);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new ShootdownError(`--scale must be a positive number, not '${values.scale}'`);
  const names = positionals.length ? positionals : Object.keys(SUITES);
  for (const name of names) {
    if (!SUITES[name]) throw new ShootdownError(`unknown suite '${name}' (suites: ${Object.keys(SUITES).join(", ")})`);
  }
  const against = values.against;
  if (against !== undefined && !existsSync(against)) throw new ShootdownError(`--against: no hardware module at '${against}'`);
  for (const name of names) SUITES[name]!({ scale, out, ...(against === undefined ? {} : { against }) });
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
