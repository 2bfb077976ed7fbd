// SPDX-License-Identifier: MIT
//
// Shard files: the results of `shootdown explore --seed-range A:B --out F`,
// so that a search can be spread over machines by any batch system (a
// Kubernetes indexed Job, a Slurm array, a CI matrix) and added up by
// `shootdown explore merge`. A shard holds the image's SHA-256 and the
// options (a schedule file's "options", with no seed), the seed ranges it
// covers, the counts, the failing seeds (the first MAX_LISTED_SEEDS), and
// its first failure with the whole schedule file that replays it, since
// the machine that found it may be gone when the shards are merged.
//
// Shards merge only when they explored the same image with the same options
// over seed ranges that do not overlap; anything else is an error that names
// the file.

import { z } from "zod";
import { ShootdownError } from "../machine/core/errors.ts";
import { parseSchedule, scheduleToJson, type Schedule } from "../machine/core/schedule-file.ts";
import { MAX_LISTED_SEEDS, Tally, type SeedRange } from "./tally.ts";
import type { Failure } from "./outcome.ts";

export const SHARD_FORMAT = "shootdown-explore-shard";
export const SHARD_VERSION = 1;

/** What a shard file holds besides its counts. */
export interface ShardHeader {
  imageSha256: string;
  imageName: string;
  /** The image as the command line named it (the replay command names it so). */
  imagePath: string;
  /** A schedule file's "options" with seed null (schedule-file.ts optionsToJson). */
  options: Record<string, unknown>;
  /** scheduleDescription of the options, without a seed. */
  strategy: string;
}

export interface Shard extends ShardHeader {
  tally: Tally;
  /** The schedule file of the first failure. */
  schedule?: Schedule;
}

const seedText = z.string().regex(/^[0-9]{1,20}$/, "must be a decimal string").transform((s) => BigInt(s))
  .refine((v) => v < 1n << 64n, "must be below 2^64");
const count = z.number().int().min(0);

const SCHEMA = z.strictObject({
  format: z.literal(SHARD_FORMAT),
  version: z.literal(SHARD_VERSION),
  image: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits"), name: z.string(), path: z.string() }),
  options: z.record(z.string(), z.unknown()),
  strategy: z.string(),
  seeds: z.array(z.strictObject({ first: seedText, end: seedText }).refine((r) => r.first < r.end, "first must be below end")).min(1),
  runs: count,
  instructions: count,
  failures: z.record(z.string(), count.min(1)),
  failingSeeds: z.array(seedText).max(MAX_LISTED_SEEDS),
  firstFailure: z.strictObject({
    seed: seedText, kind: z.string(), status: z.number().int(), message: z.string(), instructions: count, decisions: count,
    schedule: z.record(z.string(), z.unknown()),
  }).nullable(),
  seconds: z.number().min(0),
  workerSeconds: z.number().min(0),
  workers: z.number().int().min(1),
});

/** A shard as JSON text. */
export function shardToJson(header: ShardHeader, t: Tally, schedule: Schedule | undefined): string {
  const f = t.firstFailure;
  const file = {
    format: SHARD_FORMAT,
    version: SHARD_VERSION,
    image: { sha256: header.imageSha256, name: header.imageName, path: header.imagePath },
    options: header.options,
    strategy: header.strategy,
    seeds: t.ranges.map((r) => ({ first: r.first.toString(), end: r.end.toString() })),
    runs: t.runs,
    instructions: t.instructions,
    failures: Object.fromEntries(t.failures),
    failingSeeds: t.failingSeeds.map(String),
    firstFailure: f ? {
      seed: f.seed.toString(), kind: f.kind, status: f.status, message: f.message, instructions: f.instructions, decisions: f.decisions,
      schedule: schedule ? JSON.parse(scheduleToJson(schedule)) as unknown : {},
    } : null,
    seconds: t.seconds,
    workerSeconds: t.workerSeconds,
    workers: t.workers,
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** The first problem zod found, as "field: what is wrong". */
function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.length ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") : "the file";
  return `${where}: ${issue.message}`;
}

const rangeSize = (r: SeedRange) => r.end - r.first;

/** Reads a shard file's text; every problem is a ShootdownError that names `path`. */
export function parseShard(text: string, path: string): Shard {
  const fail = (why: string): never => {
    throw new ShootdownError(`${path} is not a shard file of shootdown explore: ${why}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  const checked = SCHEMA.safeParse(raw);
  if (!checked.success) return fail(describe(checked.error));
  const s = checked.data;
  const t = new Tally();
  t.runs = s.runs;
  t.instructions = s.instructions;
  for (const [kind, n] of Object.entries(s.failures)) t.failures.set(kind, n);
  t.listSeeds(s.failingSeeds);
  t.seconds = s.seconds;
  t.workers = s.workers;
  t.workerSeconds = s.workerSeconds;
  t.ranges.push(...s.seeds);
  // The counts must add up, or a merge would report what no search found.
  const seeds = s.seeds.reduce((n, r) => n + rangeSize(r), 0n);
  if (BigInt(s.runs) !== seeds) fail(`"runs" is ${s.runs} but "seeds" covers ${seeds}`);
  if (t.failureCount > s.runs) fail(`${t.failureCount} failures in ${s.runs} runs`);
  const listed = s.failingSeeds.length;
  if (listed !== Math.min(t.failureCount, MAX_LISTED_SEEDS)) fail(`"failingSeeds" lists ${listed} seeds but "failures" counts ${t.failureCount}`);
  if (s.failingSeeds.some((seed, i) => i > 0 && seed <= s.failingSeeds[i - 1]!)) fail(`"failingSeeds" must be ascending, each seed once`);
  for (const seed of s.failingSeeds) {
    if (!s.seeds.some((r) => seed >= r.first && seed < r.end)) fail(`failing seed ${seed} is outside "seeds"`);
  }
  let schedule: Schedule | undefined;
  const f = s.firstFailure;
  if ((f === null) !== (t.failureCount === 0)) fail(`"firstFailure" must be given exactly when there are failures`);
  if (f) {
    if (f.seed !== t.failingSeeds[0]) fail(`"firstFailure.seed" ${f.seed} is not the smallest failing seed ${t.failingSeeds[0]}`);
    if (!s.failures[f.kind]) fail(`"firstFailure.kind" "${f.kind}" is not among "failures"`);
    try {
      schedule = parseSchedule(JSON.stringify(f.schedule));
    } catch (e) {
      fail(`"firstFailure.schedule": ${(e as Error).message}`);
    }
    if (schedule!.imageSha256 !== s.image.sha256) fail(`"firstFailure.schedule" was recorded with another image`);
    if (schedule!.options.seed !== f.seed) fail(`"firstFailure.schedule" is the schedule of seed ${schedule!.options.seed}, not ${f.seed}`);
    const failure: Failure = { seed: f.seed, kind: f.kind, status: f.status, message: f.message, instructions: f.instructions, decisions: f.decisions };
    t.firstFailure = failure;
  }
  return {
    imageSha256: s.image.sha256, imageName: s.image.name, imagePath: s.image.path, options: s.options, strategy: s.strategy, tally: t,
    ...(schedule ? { schedule } : {}),
  };
}

/** JSON with its keys sorted, to compare two objects whatever order their files wrote them in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Shards of one search added up; `paths` name them in errors. */
export function mergeShards(shards: readonly Shard[], paths: readonly string[]): Shard {
  const first = shards[0]!;
  const merged = new Tally();
  let schedule: Schedule | undefined;
  const owner: { range: SeedRange; path: string }[] = [];
  shards.forEach((s, i) => {
    const path = paths[i]!;
    if (s.imageSha256 !== first.imageSha256) {
      throw new ShootdownError(`${path} explored another image (${s.imageName}, SHA-256 ${s.imageSha256}) than ${paths[0]} (${first.imageName}, ${first.imageSha256})`);
    }
    if (canonical(s.options) !== canonical(first.options)) {
      throw new ShootdownError(`${path} explored with other options (${s.strategy}; ${canonical(s.options)}) than ${paths[0]} (${first.strategy}; ${canonical(first.options)})`);
    }
    for (const range of s.tally.ranges) {
      const clash = owner.find((o) => range.first < o.range.end && o.range.first < range.end);
      if (clash) throw new ShootdownError(`${path} and ${clash.path} both ran seeds ${maxOf(range.first, clash.range.first)}–${minOf(range.end, clash.range.end) - 1n}`);
      owner.push({ range, path });
      merged.ranges.push(range);
    }
    const t = s.tally;
    merged.runs += t.runs;
    merged.instructions += t.instructions;
    for (const [kind, n] of t.failures) merged.failures.set(kind, (merged.failures.get(kind) ?? 0) + n);
    merged.listSeeds(t.failingSeeds);
    merged.seconds = Math.max(merged.seconds, t.seconds);
    merged.workerSeconds += t.workerSeconds;
    merged.workers += t.workers;
    if (t.firstFailure && (!merged.firstFailure || t.firstFailure.seed < merged.firstFailure.seed)) {
      merged.firstFailure = t.firstFailure;
      schedule = s.schedule;
    }
  });
  return { ...first, tally: merged, ...(schedule ? { schedule } : {}) };
}

const maxOf = (a: bigint, b: bigint) => (a > b ? a : b);
const minOf = (a: bigint, b: bigint) => (a < b ? a : b);
