// SPDX-License-Identifier: MIT
//
// One explored run: the image under the given options with one seed, driven
// by the run engine to its end (emulator/run.ts's runImage, so whatever
// makes a run cheaper to start makes exploration faster), and what the
// exploration keeps of it. A run fails when it ends with any status but 0;
// its failure kind names how it ended, so that a search can count failures
// by kind and say which it found first.

import { engineFor, runImage } from "../run.ts";
import { describeEnd, endStatus, type RunEnd } from "../machine/core/run-end.ts";
import { packSteps } from "../machine/core/scheduler.ts";
import type { RecordedOptions, Schedule } from "../machine/core/schedule-file.ts";

/** What exploration keeps of a run. */
export interface RunOutcome {
  seed: bigint;
  /** The run's exit status (run-end.ts): 0 passed, anything else failed. */
  status: number;
  /** Instructions over all CPUs. */
  instructions: number;
  decisions: number;
}

/** A failed run, as exploration reports it. */
export interface Failure extends RunOutcome {
  /** "deadlock", "crash: triple-fault", "step-limit", "debug-exit 0x1", "shutdown status 1", "violation" … */
  kind: string;
  /** The end in one line (run-end.ts describeEnd). */
  message: string;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/**
 * How a failed run ended, in a word or two: the RunEnd's kind, with its
 * reason where it has one. A kind this file does not know (one a later
 * engine adds, as the sanitizer's) is named by its own kind and reason.
 */
export function failureKind(end: RunEnd): string {
  switch (end.kind) {
    case "crash":
      return end.reason === "deadlock" ? "deadlock" : `crash: ${end.reason}`;
    case "debug-exit":
      return `debug-exit ${hex(end.code)}`;
    case "power-off":
      return end.reset ? "system-reset" : "system-off";
    case "shutdown":
      return `shutdown status ${end.status}`;
    case "step-limit":
      return "step-limit";
    default: {
      const other = end as { kind: string; reason?: unknown };
      return typeof other.reason === "string" ? `${other.kind}: ${other.reason}` : other.kind;
    }
  }
}

/** The options of seed `seed`'s run. */
export const withSeed = (options: RecordedOptions, seed: bigint): RecordedOptions => ({ ...options, seed });

/**
 * Runs seed `seed` to its end without keeping its decisions (the cheap way,
 * for the many runs that pass); a failure is run again by recordFailure.
 * Only the end, the instructions and the decisions are kept, so no report
 * is made (runImage's takes the state hash, hashes the image and gathers
 * every CPU's counters: 8% of a spurious-race run), and the machine is
 * handed back for the next run to reuse, as runImage does.
 */
export function exploreRun(image: Uint8Array, options: RecordedOptions, seed: bigint): RunOutcome | Failure {
  const config = { ...withSeed(options, seed), image, console: () => {}, record: false };
  const engine = engineFor(config);
  engine.runToEnd();
  const end = engine.end!;
  const outcome: RunOutcome = { seed, status: endStatus(end), instructions: Number(engine.instructionsSoFar), decisions: engine.decisions };
  engine.platform.machine.release();
  return outcome.status === 0 ? outcome : { ...outcome, kind: failureKind(end), message: describeEnd(end) };
}

/** A failing run again, recorded and then replayed: its schedule file, and whether the replay ended as it did. */
export interface RecordedFailure {
  schedule: Schedule;
  /** Empty when the recording ended as the explored run and its replay as the recording; else what differed. */
  problems: string[];
}

/**
 * Runs a failed seed again with its decisions kept, and replays them, so
 * that the schedule file it returns is known to reproduce the failure: the
 * same end, at the same instruction, with the same state hash.
 */
export function recordFailure(image: Uint8Array, imageSha256: string, imageName: string, options: RecordedOptions, failure: Failure): RecordedFailure {
  const runOptions = withSeed(options, failure.seed);
  const recorded = runImage({ ...runOptions, image, console: () => {}, record: true });
  const schedule: Schedule = {
    imageSha256, imageName, options: runOptions, decisions: packSteps(recorded.schedule ?? []),
    status: recorded.status, stateHash: recorded.stateHash,
  };
  const problems: string[] = [];
  const recordedKind = failureKind(recorded.end);
  if (recordedKind !== failure.kind || Number(recorded.steps) !== failure.instructions) {
    problems.push(`recording seed ${failure.seed} again ended with ${recordedKind} after ${recorded.steps} instructions, not ${failure.kind} after ${failure.instructions}`);
  }
  const replay = runImage({ ...runOptions, image, console: () => {}, replay: schedule.decisions });
  if (replay.status !== recorded.status || replay.steps !== recorded.steps || replay.stateHash !== recorded.stateHash) {
    problems.push(`its replay ended with status ${replay.status} after ${replay.steps} instructions (state hash ${hex(replay.stateHash)}), ` +
      `the recording with status ${recorded.status} after ${recorded.steps} (${hex(recorded.stateHash)})`);
  }
  return { schedule, problems };
}
