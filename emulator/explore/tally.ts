// SPDX-License-Identifier: MIT
//
// What an exploration found, counted: runs, failures by kind, the first
// failing seed, throughput and instructions per run. One search on one
// machine and the shards of a search spread over many (shard.ts) add up to
// the same Tally, and print as the same table or JSON.

import type { Failure, RunOutcome } from "./outcome.ts";

/** Failing seeds a tally lists (it counts them all). */
export const MAX_LISTED_SEEDS = 1000;

/** A range of seeds, first included, end excluded. */
export interface SeedRange {
  first: bigint;
  end: bigint;
}

export class Tally {
  runs = 0;
  instructions = 0;
  readonly failures = new Map<string, number>();
  /** The failing seeds, ascending, at most MAX_LISTED_SEEDS of the smallest. */
  failingSeeds: bigint[] = [];
  /** The failure with the smallest seed. */
  firstFailure: Failure | undefined;
  /** Wall-clock seconds of the search (the longest shard's, merged). */
  seconds = 0;
  /**
   * Seconds the workers spent running the counted runs, summed over workers
   * and shards: what runs per second per worker divides by. Starting a
   * worker (loading the CLI, compiling the hardware module) is not in it, so
   * the figure is a worker's steady pace, whatever the length of the search.
   */
  workerSeconds = 0;
  /** Workers, summed over shards. */
  workers = 0;
  readonly ranges: SeedRange[] = [];

  add(outcome: RunOutcome | Failure): void {
    this.runs++;
    this.instructions += outcome.instructions;
    if (!("kind" in outcome)) return;
    this.failures.set(outcome.kind, (this.failures.get(outcome.kind) ?? 0) + 1);
    this.listSeeds([outcome.seed]);
    if (!this.firstFailure || outcome.seed < this.firstFailure.seed) this.firstFailure = outcome;
  }

  /** Adds failing seeds to the list, keeping it sorted and short. */
  listSeeds(seeds: readonly bigint[]): void {
    const all = [...this.failingSeeds, ...seeds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    this.failingSeeds = all.slice(0, MAX_LISTED_SEEDS);
  }

  get failureCount(): number {
    let n = 0;
    for (const k of this.failures.values()) n += k;
    return n;
  }

  get runsPerSecondPerWorker(): number {
    return this.workerSeconds > 0 ? this.runs / this.workerSeconds : 0;
  }

  get instructionsPerRun(): number {
    return this.runs ? this.instructions / this.runs : 0;
  }
}

/** Seed ranges as "0–999, 2000–2999" (inclusive, as people say them), ranges that meet (shards of one search) joined. */
export function rangesText(ranges: readonly SeedRange[]): string {
  const joined: SeedRange[] = [];
  for (const r of [...ranges].sort((a, b) => (a.first < b.first ? -1 : 1))) {
    const last = joined.at(-1);
    if (last && last.end === r.first) joined[joined.length - 1] = { first: last.first, end: r.end };
    else joined.push(r);
  }
  return joined.map((r) => (r.end - r.first === 1n ? `${r.first}` : `${r.first}–${r.end - 1n}`)).join(", ");
}

/** What the table and --json say besides the counts. */
export interface SummaryContext {
  imageName: string;
  /** scheduleDescription of the options, without the seed. */
  strategy: string;
  /** Did the search stop at its first failure (rather than run every seed)? */
  stopped: boolean;
  /** Where the first failure's schedule was written, and the commands that replay it. */
  schedulePath?: string;
  replay?: string;
  rerun?: string;
}

/** The summary as --json prints it. */
export function summaryJson(t: Tally, c: SummaryContext): Record<string, unknown> {
  const f = t.firstFailure;
  return {
    image: c.imageName,
    strategy: c.strategy,
    seeds: t.ranges.map((r) => ({ first: r.first.toString(), end: r.end.toString() })),
    runs: t.runs,
    stoppedAtFirstFailure: c.stopped,
    failures: { total: t.failureCount, byKind: Object.fromEntries([...t.failures].sort(([a], [b]) => (a < b ? -1 : 1))) },
    failingSeeds: t.failingSeeds.map(String),
    firstFailingSeed: f ? f.seed.toString() : null,
    firstFailure: f ? {
      seed: f.seed.toString(), kind: f.kind, status: f.status, message: f.message, instructions: f.instructions, decisions: f.decisions,
      schedule: c.schedulePath ?? null, replay: c.replay ?? null, rerun: c.rerun ?? null,
    } : null,
    runsPerSecondPerWorker: round(t.runsPerSecondPerWorker, 1),
    instructionsPerRun: round(t.instructionsPerRun, 1),
    workers: t.workers,
    seconds: round(t.seconds, 3),
    workerSeconds: round(t.workerSeconds, 3),
  };
}

const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;

/** The summary table. */
export function summaryText(t: Tally, c: SummaryContext): string {
  const rows: [string, string][] = [
    ["image", c.imageName],
    ["schedule", c.strategy],
    ["seeds", rangesText(t.ranges) || "none"],
    ["runs", `${t.runs}${c.stopped && t.firstFailure ? " (stopped at the first failure)" : ""}`],
    ["failures", `${t.failureCount}`],
    ...[...t.failures].sort(([a], [b]) => (a < b ? -1 : 1)).map(([kind, n]): [string, string] => [`  ${kind}`, `${n}`]),
    ["first failing seed", t.firstFailure ? `${t.firstFailure.seed}` : "none"],
    ["runs per second per worker", `${t.runsPerSecondPerWorker.toFixed(1)} (${t.workers} worker${t.workers === 1 ? "" : "s"}, ${t.seconds.toFixed(2)} s in all)`],
    ["instructions per run", `${Math.round(t.instructionsPerRun)}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const lines = ["── shootdown explore summary ──", ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`)];
  const f = t.firstFailure;
  if (f) {
    lines.push("", `first failure: seed ${f.seed}: ${f.kind}: ${f.message} (after ${f.instructions} instructions, ${f.decisions} decisions)`);
    if (c.schedulePath) lines.push(`schedule written to ${c.schedulePath}; replay it with`, `  ${c.replay}`);
    if (c.rerun) lines.push(`${c.schedulePath ? "or run" : "run"} the seed again with`, `  ${c.rerun}`);
  }
  return lines.join("\n");
}
