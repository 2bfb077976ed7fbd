// SPDX-License-Identifier: MIT
//
// The fuzz harness (issue 17): every input surface of `shootdown` gets
// seeded, bounded cases, each run as a user would run it (the bundled CLI in
// a child process, with a time and a heap bound), and each outcome is
// classified. A failure is one of:
//
//   exit-status   an exit status outside the command's documented set
//   stack-trace   "internal error" or a JavaScript stack in the output
//   time          the case ran past its time bound (a hang, or a loop)
//   memory        V8 ran out of its heap bound (or the process was killed)
//
// A case is a pure function of (surface, seed, index), so any failure can be
// rerun alone: `npm run fuzz -- --surface S --seed N --from I --cases 1`.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";

export const ROOT = packageRoot();
export const CLI = join(ROOT, "dist", "cli.js");
/** The heap each case may use; V8 aborts past it, which counts as a memory failure. */
export const HEAP_MB = 1024;
/** Captured output beyond this is dropped (a guest may print a lot before --max-steps). */
const OUTPUT_LIMIT = 1 << 20;

export type FailureKind = "exit-status" | "stack-trace" | "time" | "memory";

export interface Outcome {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** What a surface's case asks for: a command line, stdin, the statuses it may end with, and a time bound. */
export interface CliCase {
  args: string[];
  input?: string;
  allowed: readonly number[];
  timeoutMs: number;
  /** Where "internal error" would show: stderr for most commands, stdout for the REPL. */
  errorsOn?: "stderr" | "stdout";
  /** A one-line description for the report. */
  what: string;
}

export interface CaseResult {
  failure?: FailureKind;
  detail?: string;
}

/** A source of cases: `make(random, index)` builds one; `run` executes it (the default spawns the CLI). */
export interface Surface {
  name: string;
  /** Runs case `index` drawn from `random`. */
  run(random: Random, index: number, scratch: string): Promise<CaseResult>;
}

// ── Randomness ───────────────────────────────────────────────────────────────

/** mulberry32 with helpers; one per case, seeded from (seed, surface, index). */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  static forCase(seed: number, surface: string, index: number): Random {
    let h = seed >>> 0;
    for (const c of `${surface}:${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x9e3779b1) >>> 0;
    return new Random(h);
  }

  next(): number {
    const a = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t = (t + Math.imul(t ^ (t >>> 7), t | 61)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }

  /** A number a boundary check might get wrong. */
  interesting(): bigint {
    return this.pick([0n, 1n, 0x7fn, 0x80n, 0xffn, 0xffffn, 0x7fff_ffffn, 0xffff_ffffn, 1n << 32n, 1n << 40n, 1n << 53n, (1n << 63n) - 1n, 1n << 63n, (1n << 64n) - 1n, BigInt(this.int(4096))]);
  }
}

/** Byte-level mutations of a valid file: flips, interesting values at random or chosen offsets, cuts, splices. */
export function mutateBytes(r: Random, base: Uint8Array, hotOffsets: readonly number[] = []): Uint8Array {
  let out = new Uint8Array(base);
  const rounds = 1 + r.int(6);
  for (let i = 0; i < rounds; i++) {
    const at = hotOffsets.length && r.chance(0.5) ? r.pick(hotOffsets) : r.int(Math.max(1, out.length));
    switch (r.int(5)) {
      case 0:
        if (at < out.length) out[at]! ^= 1 << r.int(8);
        break;
      case 1: {
        const width = r.pick([1, 2, 4, 8]);
        const v = r.interesting();
        for (let b = 0; b < width && at + b < out.length; b++) out[at + b] = Number((v >> BigInt(8 * b)) & 0xffn);
        break;
      }
      case 2:
        out = out.subarray(0, r.int(out.length + 1));
        break;
      case 3:
        if (at < out.length) out.set(r.bytes(Math.min(16, out.length - at)), at);
        break;
      default: {
        const copy = new Uint8Array(out.length + 64);
        copy.set(out);
        copy.set(r.bytes(64), out.length);
        out = r.chance(0.5) ? copy : out;
      }
    }
  }
  return out;
}

// ── Running a case ───────────────────────────────────────────────────────────

/** Runs the CLI with a heap bound and a time bound; never throws. */
export function runCli(c: CliCase): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, CLI, ...c.args], { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, c.timeoutMs);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (stdout.length < OUTPUT_LIMIT) stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < OUTPUT_LIMIT) stderr += d;
    });
    child.stdin.on("error", () => {});
    child.stdin.end(c.input ?? "");
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** The failure an outcome shows, if any. */
export function classify(o: Outcome, c: Pick<CliCase, "allowed" | "errorsOn">): CaseResult {
  const text = c.errorsOn === "stdout" ? o.stdout + o.stderr : o.stderr;
  if (o.timedOut) return { failure: "time", detail: `killed after ${o.ms} ms` };
  if (/heap out of memory|Allocation failed|std::bad_alloc|Invalid array length|Invalid string length/.test(o.stderr + o.stdout) || o.status === 134 || o.signal) {
    return { failure: "memory", detail: `status ${o.status}, signal ${o.signal}: ${lastLine(o.stderr)}` };
  }
  if (/internal error/.test(text) || /\n\s+at .+:\d+:\d+\)?\n/.test(o.stderr)) return { failure: "stack-trace", detail: firstMatch(text, /internal error.*|.*Error.*/) };
  if (o.status === null || !c.allowed.includes(o.status)) return { failure: "exit-status", detail: `status ${o.status}: ${lastLine(o.stderr)}` };
  return {};
}

const lastLine = (s: string) => s.trimEnd().split("\n").at(-1)?.slice(0, 200) ?? "";
const firstMatch = (s: string, re: RegExp) => (re.exec(s)?.[0] ?? s).slice(0, 200);

/** Runs a CLI case and classifies it. */
export async function cliCase(c: CliCase): Promise<CaseResult> {
  const r = classify(await runCli(c), c);
  return r.failure ? { ...r, detail: `${r.detail} [shootdown ${c.args.join(" ")}] [${c.what.slice(0, 600)}]` } : r;
}

let scratchDir: string | undefined;
/** A fresh file in a temporary directory for this run. */
export function scratchFile(name: string, contents: string | Uint8Array): string {
  scratchDir ??= mkdtempSync(join(tmpdir(), "shootdown-fuzz-"));
  const path = join(scratchDir, name);
  writeFileSync(path, contents);
  return path;
}

// ── The campaign ─────────────────────────────────────────────────────────────

export interface SurfaceReport {
  name: string;
  cases: number;
  failures: Record<FailureKind, number>;
  examples: string[];
}

export interface Campaign {
  seed: number;
  /** Stop starting cases after this long. */
  budgetMs: number;
  surfaces: Surface[];
  /** Cases in flight at once. */
  parallel?: number;
  /** At most this many cases per surface (all of them, round-robin, until the budget ends). */
  maxCasesPerSurface?: number;
  /** First case index (to rerun one). */
  from?: number;
  onFailure?: (surface: string, index: number, r: CaseResult) => void;
}

/** Runs surfaces round-robin until the time budget or the case limit ends; returns a report per surface. */
export async function campaign(c: Campaign): Promise<SurfaceReport[]> {
  const reports = c.surfaces.map((s) => ({ name: s.name, cases: 0, failures: { "exit-status": 0, "stack-trace": 0, time: 0, memory: 0 }, examples: [] as string[] }));
  const deadline = Date.now() + c.budgetMs;
  const next = c.surfaces.map(() => c.from ?? 0);
  let turn = 0;
  const take = (): { i: number; index: number } | undefined => {
    if (Date.now() >= deadline) return undefined;
    for (let k = 0; k < c.surfaces.length; k++) {
      const i = (turn + k) % c.surfaces.length;
      if (c.maxCasesPerSurface !== undefined && next[i]! - (c.from ?? 0) >= c.maxCasesPerSurface) continue;
      turn = i + 1;
      return { i, index: next[i]!++ };
    }
    return undefined;
  };
  const worker = async () => {
    for (let job = take(); job; job = take()) {
      const surface = c.surfaces[job.i]!;
      let r: CaseResult;
      try {
        r = await surface.run(Random.forCase(c.seed, surface.name, job.index), job.index, `${surface.name}-${job.index}`);
      } catch (e) {
        r = { failure: "stack-trace", detail: `the harness itself: ${(e as Error).stack?.split("\n").slice(0, 3).join(" | ")}` };
      }
      const rep = reports[job.i]!;
      rep.cases++;
      if (r.failure) {
        rep.failures[r.failure]++;
        if (rep.examples.length < 5) rep.examples.push(`case ${job.index} (seed ${c.seed}): ${r.failure}: ${r.detail ?? ""}`);
        c.onFailure?.(surface.name, job.index, r);
      }
    }
  };
  await Promise.all(Array.from({ length: c.parallel ?? 2 }, worker));
  return reports;
}

/** The report as a table: cases and failures by kind per surface. */
export function formatCampaign(reports: SurfaceReport[], seed: number, ms: number): string[] {
  const kinds: FailureKind[] = ["exit-status", "stack-trace", "time", "memory"];
  const lines = [`shootdown fuzz: seed ${seed}, ${(ms / 60000).toFixed(1)} minutes`, `${"surface".padEnd(14)}${"cases".padStart(8)}  ${kinds.map((k) => k.padStart(12)).join("")}`];
  for (const r of reports) lines.push(`${r.name.padEnd(14)}${String(r.cases).padStart(8)}  ${kinds.map((k) => String(r.failures[k]).padStart(12)).join("")}`);
  const total = reports.reduce((n, r) => n + r.cases, 0);
  const failed = reports.reduce((n, r) => n + kinds.reduce((m, k) => m + r.failures[k], 0), 0);
  lines.push(`${"total".padEnd(14)}${String(total).padStart(8)}  ${failed} failures`);
  for (const r of reports) for (const e of r.examples) lines.push(`  ${r.name}: ${e}`);
  return lines;
}
