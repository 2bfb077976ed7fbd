// SPDX-License-Identifier: MIT
//
// `shootdown explore IMAGE [run options] [--runs N] [--seed S] [--jobs J]
// [--strategy pct|random] [--depth D] [--all] [--json] [-- ARGS]`: runs an
// image under N schedules, seeds S, S+1, …, on worker threads, and reports
// the runs that failed (ended with any status but 0). It stops at the first
// failure unless --all, writes that run's schedule to a file that
// `shootdown run IMAGE --replay F` follows to the same end, and ends with a
// table (or --json). `--seed-range A:B --out F` runs exactly seeds A..B-1
// and writes a shard file; `shootdown explore merge F...` adds shards up
// (emulator/explore/shard.ts).

import { writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename } from "node:path";
import cliProgress from "cli-progress";
import { ShootdownError } from "../machine/core/errors.ts";
import { LoadError } from "../machine/core/elf-load.ts";
import { sha256, STATUS } from "../machine/core/report.ts";
import { optionsToJson, scheduleDescription, scheduleToJson, type RecordedOptions, type Schedule } from "../machine/core/schedule-file.ts";
import { calibratedOptions, engineFor, imageArch } from "../run.ts";
import { withDefaults } from "../run-guest.ts";
import { recordFailure } from "../explore/outcome.ts";
import { runPool, type PoolProgress } from "../explore/pool.ts";
import { summaryJson, summaryText, type SummaryContext, type Tally } from "../explore/tally.ts";
import { mergeShards, parseShard, shardToJson, type ShardHeader } from "../explore/shard.ts";
import { readBoundedText } from "./input-file.ts";
import { MACHINE_OPTIONS, machineOptions, readImage, imageWarnings } from "./run.ts";
import { UsageError, parseCommandLine, integerOption, exclusive, shown, type OptionSpecs } from "./options.ts";

export const EXPLORE_USAGE = `usage: shootdown explore IMAGE [run options] [--runs N] [--seed S] [--jobs J]
                         [--strategy pct|random] [--depth D] [--all] [--json] [-- ARGS]
       shootdown explore IMAGE [run options] --seed-range A:B --out SHARD.json
       shootdown explore merge SHARD.json... [--json] [--out-schedule F]

Runs IMAGE under N schedules, seeds S, S+1, …, on J worker threads, looking
for a run that fails: one that ends with any status but 0 (a guest-reported
failure, a crash, a deadlock, --max-steps, a sanitizer violation). Every
option of shootdown run applies (--cpus, --hv, --domains, --vcpus,
--quantum, --tlb-chaos, --max-steps, …; see shootdown run --help).

  --runs N          schedules to run (default 1000)
  --seed S          the first seed (default 0)
  --jobs J          worker threads (default: the number of cores)
  --strategy pct|random
                    PCT (the default): random CPU priorities changed at D-1
                    random decisions, built to find ordering bugs of depth D;
                    random: shootdown run's seeded random interleaving
  --depth D         PCT's bug depth (default 3)
  --horizon K       PCT's change points fall in the first K decisions
                    (default: measured by one run before the search; a
                    hypervisor step that reads N table entries counts N)
  --all             run every seed rather than stop at the first failure
  --out-schedule F  where the first failure's schedule goes (default
                    explore-IMAGE-seed-S.json in the current directory; with
                    --out, only into the shard file unless this is given)
  --json            print the summary as one JSON object on stdout
  --seed-range A:B  run exactly seeds A to B-1 (every one, as --all does)
  --out F           write the results to F as a shard file
  --help            this text

The first failure is printed with the command that replays its schedule
(shootdown run IMAGE --replay F: the same end at the same instruction) and
the one that runs its seed again. Progress goes to stderr: a bar on a
terminal, a line every few seconds otherwise.

explore merge adds up shard files written by --seed-range A:B --out F (of
the same image and options, over seed ranges that do not overlap) and
prints the same summary; it writes the first failure's schedule as above.

Exit status: 0 no run failed, 1 a run failed, 2 the image cannot be loaded
(or the shard file cannot be written, or a failure did not replay: a bug),
64 bad options or shard files.`;

const { record: _record, replay: _replay, ...RUN_MACHINE_OPTIONS } = MACHINE_OPTIONS;

const EXPLORE_OPTIONS = {
  ...RUN_MACHINE_OPTIONS,
  runs: { type: "string" },
  jobs: { type: "string" },
  all: { type: "boolean" },
  json: { type: "boolean" },
  "seed-range": { type: "string" },
  out: { type: "string" },
  "out-schedule": { type: "string" },
} as const satisfies OptionSpecs;

const MERGE_OPTIONS = {
  json: { type: "boolean" },
  "out-schedule": { type: "string" },
  help: { type: "boolean" },
} as const satisfies OptionSpecs;

const DEFAULT_RUNS = 1000n;
const MAX_SEED = (1n << 64n) - 1n;

export async function exploreCommand(args: string[], out: (line: string) => void): Promise<number> {
  if (args[0] === "merge") return mergeCommand(args.slice(1), out);
  const parsed = parseCommandLine(args, EXPLORE_OPTIONS, { command: "explore", afterDashDash: "rest" });
  // Exploration's strategy is PCT unless another is asked for.
  parsed.values.strategy ??= "pct";
  const p = machineOptions("explore", parsed);
  if (p === "help") {
    out(EXPLORE_USAGE);
    return 0;
  }
  const v = parsed.values;
  const seeds = seedsOf(v);
  const jobs = v.jobs === undefined ? availableParallelism() : Number(integerOption("--jobs", v.jobs, 1n, 1024n));
  const given = p.given;
  const err = (line: string) => process.stderr.write(`shootdown explore: ${line}\n`);

  let image: Uint8Array;
  let options: RecordedOptions;
  try {
    image = readImage(p.imagePath, given, undefined);
    for (const w of imageWarnings(image)) err(`warning: ${p.imagePath}: ${w}`);
    const defaults = withDefaults(given, imageArch(image));
    // A PCT horizon is measured once, for every seed. Otherwise the image is booted once here, so that one that cannot boot fails here and not in every worker.
    options = calibratedOptions(defaults, image);
    if (options === defaults) engineFor({ ...options, image, console: () => {} });
  } catch (e) {
    if (!(e instanceof ShootdownError)) throw e;
    err(`cannot load ${p.imagePath}: ${e instanceof LoadError ? e.message : e.message.replace(`cannot read ${p.imagePath}: `, "cannot read it: ")}`);
    return STATUS.CRASH;
  }
  if (v.out !== undefined) writable(v.out);

  const progress = new Progress(process.stderr);
  // Ctrl-C ends the search as a shell expects (status 130), with the terminal's cursor given back.
  const interrupted = () => {
    progress.stop();
    err("interrupted");
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  let tally: Tally;
  try {
    tally = await runPool({ image, options, first: seeds.first, end: seeds.end, jobs, all: seeds.all, onProgress: (q) => progress.update(q) });
  } finally {
    progress.stop();
    process.off("SIGINT", interrupted);
  }

  const header: ShardHeader = {
    imageSha256: sha256(image), imageName: basename(p.imagePath), imagePath: p.imagePath,
    options: optionsToJson({ ...options, seed: undefined }), strategy: scheduleDescription({ ...options, seed: undefined }),
  };
  const context: SummaryContext = { imageName: p.imagePath, strategy: header.strategy, stopped: !seeds.all };
  let schedule: Schedule | undefined;
  let status = tally.firstFailure ? 1 : 0;
  if (tally.firstFailure) {
    const recorded = recordFailure(image, header.imageSha256, header.imageName, options, tally.firstFailure);
    for (const problem of recorded.problems) err(`the failure does not reproduce: ${problem} (a bug in shootdown; please report it)`);
    if (recorded.problems.length) status = STATUS.CRASH;
    schedule = recorded.schedule;
    // A shard carries the schedule (explore merge writes it); otherwise it goes to a file of its own.
    if (v.out === undefined || v["out-schedule"] !== undefined) Object.assign(context, writeSchedule(schedule, p.imagePath, v["out-schedule"], err));
    context.rerun = rerunCommand(p.imagePath, schedule.options);
  }
  if (v.out !== undefined) {
    try {
      writeFileSync(v.out, shardToJson(header, tally, schedule));
      if (!v.json) err(`results written to ${v.out}`);
    } catch (e) {
      err(`cannot write ${v.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      status = STATUS.CRASH;
    }
  }
  out(v.json ? JSON.stringify(summaryJson(tally, context)) : summaryText(tally, context));
  return status;
}

/** The seeds to run, from --runs and --seed or from --seed-range, and whether every one is counted. */
function seedsOf(v: { runs?: string; seed?: string; "seed-range"?: string; all?: boolean; out?: string }): { first: bigint; end: bigint; all: boolean } {
  const range = v["seed-range"];
  if (range === undefined) {
    const runs = v.runs === undefined ? DEFAULT_RUNS : integerOption("--runs", v.runs, 1n, 1n << 53n);
    const first = v.seed === undefined ? 0n : integerOption("--seed", v.seed, 0n, MAX_SEED);
    if (first + runs - 1n > MAX_SEED) throw new UsageError(`--seed ${first} with --runs ${runs} goes past the last seed, 2^64-1`);
    return { first, end: first + runs, all: v.all ?? false };
  }
  exclusive(v, "seed-range", "runs");
  exclusive(v, "seed-range", "seed");
  const m = /^([^:]+):([^:]+)$/.exec(range);
  if (!m) throw new UsageError(`--seed-range must be A:B (seeds A to B-1), not '${shown(range)}'`);
  const first = integerOption("--seed-range's A", m[1]!, 0n, MAX_SEED);
  const end = integerOption("--seed-range's B", m[2]!, 0n, MAX_SEED + 1n);
  if (first >= end) throw new UsageError(`--seed-range ${shown(range)} is empty: A must be below B`);
  return { first, end, all: true };
}

/** Fails before a long search rather than after it. */
function writable(path: string): void {
  try {
    writeFileSync(path, "", { flag: "a" });
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}


/** Writes the first failure's schedule; the path and the replay command, for the summary. */
function writeSchedule(schedule: Schedule, imagePath: string, given: string | undefined, err: (line: string) => void): Pick<SummaryContext, "schedulePath" | "replay"> {
  const path = given ?? `explore-${basename(imagePath).replace(/\.[^.]*$/, "")}-seed-${schedule.options.seed}.json`;
  try {
    writeFileSync(path, scheduleToJson(schedule));
  } catch (e) {
    err(`cannot write the schedule to ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return {};
  }
  return { schedulePath: path, replay: `shootdown run ${quoted(imagePath)} --replay ${quoted(path)}` };
}

/** A word as a POSIX shell reads it back. */
function quoted(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `shootdown run` with the options that make exactly this run again (seed included). */
export function rerunCommand(imagePath: string, o: RecordedOptions): string {
  const args = ["shootdown", "run", quoted(imagePath), "--cpus", `${o.cpus}`, "--mem", `${o.memBytes}`];
  if (o.hv) {
    const domains = o.hv.dom0 ? Array.from({ length: o.hv.domains }, (_, k) => k).join(",") : `${o.hv.domains}`;
    args.push("--hv", "--domains", domains, "--vcpus", `${o.hv.vcpus}`, "--dom-mem", `${o.hv.domMemBytes}`);
  }
  if (o.hv?.hvm) args.push("--hvm");
  if (o.hv?.nested) args.push("--nested");
  if (o.hv?.forceIpi === false) args.push("--no-force-ipi");
  if (o.hv?.l0Assist === false) args.push("--no-l0-assist");
  if (o.hv?.migrate) args.push("--migrate", `${o.hv.migrate}`);
  if (o.hv?.setWay && o.hv.setWay !== "trap") args.push("--set-way", o.hv.setWay);
  if (o.hv?.sharing) {
    args.push("--sharing-lock", o.hv.sharing.sharingLock, "--sharing-order", o.hv.sharing.sharingOrder, "--sharing-release", o.hv.sharing.sharingRelease);
    if (o.hv.sharing.sharingUnshare) args.push("--sharing-unshare", o.hv.sharing.sharingUnshare);
  }
  if (o.hv?.sharingDaemon) args.push("--sharing-daemon");
  if (o.hv?.pageLockCheck) args.push("--page-lock-check");
  if (o.keepGoing) args.push("--keep-going");
  if (o.systemCache === false) args.push("--system-cache", "off");
  if (o.checkStaleReads) args.push("--check-stale-reads");
  args.push("--quantum", `${o.quantum}`);
  if (o.mode !== "round-robin") args.push("--strategy", o.mode);
  if (o.mode === "pct" && o.pct) args.push("--depth", `${o.pct.depth}`, "--horizon", `${o.pct.horizon}`);
  if (o.seed !== undefined) args.push("--seed", `${o.seed}`);
  if (o.tlbChaos !== undefined) args.push("--tlb-chaos", `${o.tlbChaos}`);
  if (o.maxSteps !== undefined) args.push("--max-steps", `${o.maxSteps}`);
  // The command line is one word: the guest sees the words joined by spaces, so one word gives the same text.
  if (o.cmdline !== "") args.push("--", quoted(o.cmdline));
  return args.join(" ");
}

// ── Progress ─────────────────────────────────────────────────────────────────

/** Seconds between two progress lines when stderr is not a terminal. */
const PLAIN_EVERY_SECONDS = 5;

/** The progress of a search on stderr: a bar (cli-progress) on a terminal, a plain line now and then elsewhere. */
export class Progress {
  private bar: cliProgress.SingleBar | undefined;
  private lastLine = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(q: PoolProgress): void {
    const rate = q.seconds > 0 ? q.done / q.seconds : 0;
    if (this.stream.isTTY) {
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar({
          stream: this.stream, hideCursor: true, clearOnComplete: true, etaBuffer: 50,
          format: "explore [{bar}] {value}/{total} runs | {rate} runs/s | {failures} failed | ETA {eta_formatted}",
        }, cliProgress.Presets.shades_classic);
        this.bar.start(q.total, 0, { rate: "0", failures: 0 });
      }
      this.bar.setTotal(q.total);
      this.bar.update(Math.min(q.done, q.total), { rate: rate.toFixed(0), failures: q.failures });
      return;
    }
    if (q.seconds - this.lastLine < PLAIN_EVERY_SECONDS) return;
    this.lastLine = q.seconds;
    const eta = rate > 0 ? `${Math.max(0, (q.total - q.done) / rate).toFixed(0)} s` : "unknown";
    this.stream.write(`explore: ${Math.min(q.done, q.total)}/${q.total} runs, ${rate.toFixed(1)} runs/s, ${q.failures} failed, ETA ${eta}\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}

// ── explore merge ────────────────────────────────────────────────────────────

function mergeCommand(args: string[], out: (line: string) => void): number {
  const { values, positionals } = parseCommandLine(args, MERGE_OPTIONS, { command: "explore", afterDashDash: "operands" });
  if (values.help) {
    out(EXPLORE_USAGE);
    return 0;
  }
  if (!positionals.length) throw new UsageError("explore merge needs at least one shard file");
  const shards = positionals.map((path) => {
    let text: string;
    try {
      text = readBoundedText(path, "a shard file", 64 << 20);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    try {
      return parseShard(text, path);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  let merged;
  try {
    merged = mergeShards(shards, positionals);
  } catch (e) {
    if (!(e instanceof ShootdownError)) throw e;
    throw new UsageError(e.message);
  }
  const err = (line: string) => process.stderr.write(`shootdown explore merge: ${line}\n`);
  const context: SummaryContext = { imageName: merged.imagePath, strategy: merged.strategy, stopped: false };
  if (merged.schedule) {
    Object.assign(context, writeSchedule(merged.schedule, merged.imagePath, values["out-schedule"], err),
      { rerun: rerunCommand(merged.imagePath, merged.schedule.options) });
  }
  out(values.json ? JSON.stringify(summaryJson(merged.tally, context)) : summaryText(merged.tally, context));
  return merged.tally.firstFailure ? 1 : 0;
}
