// SPDX-License-Identifier: MIT
//
// `shootdown bench [SUITE]` and `npm run bench`: emulator speed in wall-clock
// time, always quoted against a baseline measured in the same run.

import { existsSync } from "node:fs";
import { UsageError, parseCommandLine, positiveOption, shown } from "../emulator/cli/options.ts";
import { tlbSuite } from "./tlb.ts";
import { i64Suite } from "./i64.ts";
import { asmSuite } from "./asm.ts";
import { cpuSuite } from "./cpu.ts";
import { qemuSuite } from "./qemu.ts";
import { exploreSetupSuite } from "./explore.ts";
import { exploreSuite } from "./explore-search.ts";
import { hvSuite } from "./hv.ts";
import { flushSuite } from "./flush.ts";
import { setwaySuite } from "./setway.ts";
import { sharingSuite } from "./sharing.ts";
import { linuxSuite } from "./linux.ts";

export interface BenchOptions {
  /** Scale the iteration counts (1 = the default run). */
  scale: number;
  /** Another build of the hardware module to measure beside this one, in the same run (suites that support it). */
  against?: string;
  out: (line: string) => void;
}

/** A suite prints its lines through `out`; one that runs worker threads (explore) is asynchronous. */
const SUITES: Record<string, (o: BenchOptions) => void | Promise<void>> = {
  tlb: tlbSuite,
  i64: i64Suite,
  asm: asmSuite,
  cpu: cpuSuite,
  qemu: qemuSuite,
  "explore-setup": exploreSetupSuite,
  explore: exploreSuite,
  hv: hvSuite,
  flush: flushSuite,
  setway: setwaySuite,
  sharing: sharingSuite,
  linux: linuxSuite,
};

/** The suites, in the order `shootdown bench` runs them. */
export const BENCH_SUITES = Object.keys(SUITES);

export const BENCH_USAGE = `usage: shootdown bench [SUITE...] [--scale X] [--against F.wasm]

suites: ${Object.keys(SUITES).join(", ")} (default: all)
  --scale X         multiply iteration counts by X (e.g. 0.1 for a quick look)
  --against F.wasm  tlb: also measure another build of the hardware module
                    (e.g. main's dist/shootdown.wasm), chunk for chunk with this one`;

const BENCH_OPTIONS = { scale: { type: "string" }, against: { type: "string" }, help: { type: "boolean" } } as const;

export async function benchCommand(args: string[], out: (line: string) => void): Promise<number> {
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
  const against = values.against;
  if (against !== undefined && !existsSync(against)) throw new UsageError(`--against: no hardware module at '${shown(against)}'`);
  for (const name of names) await SUITES[name]!({ scale, out, ...(against === undefined ? {} : { against }) });
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
