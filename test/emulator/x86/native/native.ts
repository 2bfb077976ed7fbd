// SPDX-License-Identifier: MIT
//
// The host side of the differential test: builds harness.c with the
// machine's gcc and runs a batch of cases through it in one process (the
// format is described at the top of harness.c).

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CODE_BASE, SCRATCH_BASE, SCRATCH_SIZE } from "./generate.ts";

/** A case as both sides start it. */
export interface CaseInput {
  /** RAX..R15 in register-number order. */
  gpr: bigint[];
  rflags: bigint;
  rip: bigint;
  scratchSeed: number;
}

/** How a case ended, on either side. */
export interface CaseOutcome {
  gpr: bigint[];
  rflags: bigint;
  /** After the HLT, or of the instruction that faulted. */
  rip: bigint;
  /** The exception vector that ended the case, or undefined when it reached HLT. */
  vector: number | undefined;
  /** The 8-byte words of scratch memory that changed: offset → value. */
  changed: Map<number, bigint>;
}

const HARNESS_SOURCE = fileURLToPath(new URL("./harness.c", import.meta.url));

/** Can this machine run the harness: an x86-64 Linux host with gcc? */
export function hostCanRunHarness(): boolean {
  if (process.arch !== "x64" || process.platform !== "linux") return false;
  return spawnSync("gcc", ["--version"], { stdio: "ignore" }).status === 0;
}

export interface Harness {
  run(code: Uint8Array, cases: CaseInput[]): CaseOutcome[];
  dispose(): void;
}

/** Compiles harness.c into a temporary directory. */
export function buildHarness(): Harness {
  const dir = mkdtempSync(join(tmpdir(), "shootdown-x86-native-"));
  const binary = join(dir, "harness");
  const cc = spawnSync("gcc", ["-O2", "-Wall", "-o", binary, HARNESS_SOURCE], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`gcc failed to build the harness:\n${cc.stderr}`);
  return {
    run: (code, cases) => runHarness(binary, code, cases),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const HEADER_BYTES = 40;
const CASE_IN_BYTES = 8 * 18 + 8;
const CASE_OUT_BYTES = 8 * 18 + 16;

function runHarness(binary: string, code: Uint8Array, cases: CaseInput[]): CaseOutcome[] {
  const input = new Uint8Array(HEADER_BYTES + code.length + cases.length * CASE_IN_BYTES);
  const w = new DataView(input.buffer);
  w.setUint32(0, 0x31584453, true);
  w.setUint32(4, cases.length, true);
  w.setBigUint64(8, CODE_BASE, true);
  w.setBigUint64(16, BigInt(code.length), true);
  w.setBigUint64(24, SCRATCH_BASE, true);
  w.setBigUint64(32, BigInt(SCRATCH_SIZE), true);
  input.set(code, HEADER_BYTES);
  let at = HEADER_BYTES + code.length;
  for (const c of cases) {
    c.gpr.forEach((v, i) => w.setBigUint64(at + 8 * i, v, true));
    w.setBigUint64(at + 128, c.rflags, true);
    w.setBigUint64(at + 136, c.rip, true);
    w.setUint32(at + 144, c.scratchSeed, true);
    at += CASE_IN_BYTES;
  }
  const r = spawnSync(binary, [], { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`the harness failed (status ${r.status}, signal ${r.signal}): ${r.stderr.toString()}`);
  const out = r.stdout;
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const outcomes: CaseOutcome[] = [];
  at = 0;
  for (let i = 0; i < cases.length; i++) {
    const gpr = Array.from({ length: 16 }, (_, k) => v.getBigUint64(at + 8 * k, true));
    const rflags = v.getBigUint64(at + 128, true);
    const rip = v.getBigUint64(at + 136, true);
    const signal = v.getUint32(at + 144, true);
    const vector = v.getUint32(at + 148, true);
    const n = v.getUint32(at + 152, true);
    at += CASE_OUT_BYTES;
    const changed = new Map<number, bigint>();
    for (let k = 0; k < n; k++, at += 16) changed.set(Number(v.getBigUint64(at, true)), v.getBigUint64(at + 8, true));
    outcomes.push({ gpr, rflags, rip, vector: signal === 0 ? undefined : vector, changed });
  }
  if (at !== out.length) throw new Error(`the harness wrote ${out.length} bytes, expected ${at}`);
  return outcomes;
}
