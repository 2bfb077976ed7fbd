// SPDX-License-Identifier: MIT
//
// Exploration on worker threads. The seeds are handed out in order, in
// chunks sized to take about a fifth of a second, to `jobs` workers; each
// worker keeps the image and the options for its whole life and runs seed
// after seed through outcome.ts. Results are counted in seed order, chunk by
// chunk, so that what a search reports does not depend on how many workers
// ran it or how fast each was:
//
//   --all        every seed is counted;
//   otherwise    the search stops at its first failure: once a worker
//                reports a failure at seed s, no chunk beyond s is handed
//                out and workers busy beyond it are stopped, while chunks
//                below it finish (one of them may fail at a smaller seed).
//                The count ends at the smallest failing seed, so the search
//                reports exactly the runs a single worker would have made.
//
// The worker is the CLI bundle itself (dist/cli.js starts exploreWorker when
// it is not the main thread), so an installed package needs no other file.

import { Worker, parentPort, workerData } from "node:worker_threads";
import { join } from "node:path";
import { packageRoot } from "../machine/core/wasm.ts";
import { ShootdownError } from "../machine/core/errors.ts";
import type { RecordedOptions } from "../machine/core/schedule-file.ts";
import { exploreRun, type Failure, type RunOutcome } from "./outcome.ts";
import { Tally } from "./tally.ts";

/** What a worker is started with (workerData). */
interface WorkerSetup {
  shootdownExplore: true;
  image: Uint8Array;
  options: RecordedOptions;
}

/** A chunk of seeds to run, and what came of it. */
interface ChunkRequest {
  first: bigint;
  count: number;
}
type ChunkReply = { first: bigint; outcomes: (RunOutcome | Failure)[]; seconds: number } | { first: bigint; error: string };

/** Is this thread an exploration worker (started by runPool)? */
export function isExploreWorker(): boolean {
  return parentPort !== null && (workerData as Partial<WorkerSetup> | undefined)?.shootdownExplore === true;
}

/** A worker's life: run the chunks it is sent, one seed after another, and reply with the outcomes. */
export function exploreWorker(): void {
  const { image, options } = workerData as WorkerSetup;
  const port = parentPort!;
  port.on("message", (m: ChunkRequest) => {
    const t0 = performance.now();
    const outcomes: (RunOutcome | Failure)[] = [];
    try {
      for (let i = 0; i < m.count; i++) outcomes.push(exploreRun(image, options, m.first + BigInt(i)));
      port.postMessage({ first: m.first, outcomes, seconds: (performance.now() - t0) / 1000 } satisfies ChunkReply);
    } catch (e) {
      port.postMessage({ first: m.first, error: (e as Error).message ?? String(e) } satisfies ChunkReply);
    }
  });
}

export interface PoolProgress {
  /** Runs finished so far (counted or about to be). */
  done: number;
  /** Runs the search will make at most. */
  total: number;
  failures: number;
  seconds: number;
}

export interface PoolOptions {
  image: Uint8Array;
  options: RecordedOptions;
  /** Seeds [first, end). */
  first: bigint;
  end: bigint;
  jobs: number;
  /** Count every seed rather than stop at the first failure. */
  all: boolean;
  onProgress?: (p: PoolProgress) => void;
  /** The script a worker runs (default: the CLI bundle, dist/cli.js). */
  workerScript?: string;
}

/** Seconds a chunk should take: long enough that messages cost nothing, short enough for a live progress line. */
const CHUNK_SECONDS = 0.2;
const MAX_CHUNK = 4096;

/** Runs the seeds on worker threads and counts them (see the top of the file). */
export function runPool(o: PoolOptions): Promise<Tally> {
  const total = o.end - o.first;
  const jobs = total < BigInt(o.jobs) ? Math.max(1, Number(total)) : o.jobs;
  const tally = new Tally();
  tally.ranges.push({ first: o.first, end: o.end });
  const started = performance.now();
  const script = o.workerScript ?? join(packageRoot(), "dist", "cli.js");

  return new Promise((resolve, reject) => {
    let next = o.first;
    /** No chunk that starts beyond this seed is handed out (the smallest failing seed seen). */
    let bound: bigint | undefined;
    /** Counted in seed order: the next chunk to count, and chunks that came back before it. */
    let countFrom = o.first;
    const waiting = new Map<bigint, (RunOutcome | Failure)[]>();
    let stopAt: bigint | undefined;
    let received = 0;
    let busySeconds = 0;
    let busyRuns = 0;
    let failuresSeen = 0;
    let live = 0;
    let settled = false;
    const workers: PoolWorker[] = [];

    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const w of workers) void w.worker.terminate();
      if (error) return reject(error);
      tally.seconds = (performance.now() - started) / 1000;
      tally.workers = jobs;
      // The busy time of the runs counted, at the pace of all the runs made.
      tally.workerSeconds = busyRuns ? (busySeconds * tally.runs) / busyRuns : 0;
      if (stopAt !== undefined) tally.ranges[0] = { first: o.first, end: stopAt + 1n };
      resolve(tally);
    };

    const count = () => {
      for (let outcomes = waiting.get(countFrom); outcomes; outcomes = waiting.get(countFrom)) {
        waiting.delete(countFrom);
        countFrom += BigInt(outcomes.length);
        for (const r of outcomes) {
          if (stopAt !== undefined) break;
          tally.add(r);
          if ("kind" in r && !o.all) stopAt = r.seed;
        }
      }
    };

    const limit = () => (bound === undefined ? o.end : bound + 1n);
    const progress = () => o.onProgress?.({
      done: received, total: Number(limit() - o.first), failures: failuresSeen, seconds: (performance.now() - started) / 1000,
    });

    /** A worker with nothing left to do is ended; the search ends with the last. */
    const retire = (w: PoolWorker) => {
      if (w.retired) return;
      w.retired = true;
      w.chunk = undefined;
      void w.worker.terminate();
      if (--live === 0) {
        count();
        finish();
      }
    };

    const handOut = (w: PoolWorker) => {
      const end = limit();
      if (next >= end) return retire(w);
      // Enough runs for CHUNK_SECONDS at this worker's pace, and no more than a fair share of what is left.
      const left = end - next;
      const share = (left + BigInt(jobs) - 1n) / BigInt(jobs);
      let size = Math.max(1, Math.min(MAX_CHUNK, Math.round(CHUNK_SECONDS / Math.max(w.secondsPerRun, 1e-6))));
      if (BigInt(size) > share) size = Number(share);
      w.chunk = { first: next, count: size };
      next += BigInt(size);
      w.worker.postMessage(w.chunk);
    };

    const onReply = (w: PoolWorker, reply: ChunkReply) => {
      if (settled || w.retired) return;
      if ("error" in reply) return finish(new ShootdownError(`a worker failed on seeds from ${reply.first}: ${reply.error}`));
      received += reply.outcomes.length;
      busyRuns += reply.outcomes.length;
      busySeconds += reply.seconds;
      w.secondsPerRun = reply.seconds / Math.max(1, reply.outcomes.length);
      waiting.set(reply.first, reply.outcomes);
      // Count what is now contiguous, so that only chunks that came back early wait in memory.
      count();
      const failures = reply.outcomes.filter((r): r is Failure => "kind" in r);
      failuresSeen += failures.length;
      if (failures.length && !o.all && (bound === undefined || failures[0]!.seed < bound)) {
        bound = failures[0]!.seed;
        // Work beyond the failure is no longer wanted.
        for (const other of workers) if (other !== w && other.chunk && other.chunk.first > bound) retire(other);
      }
      progress();
      handOut(w);
    };

    for (let i = 0; i < jobs; i++) {
      const worker = new Worker(script, { workerData: { shootdownExplore: true, image: o.image, options: o.options } satisfies WorkerSetup });
      // A first chunk of one run measures the pace.
      const w: PoolWorker = { worker, secondsPerRun: CHUNK_SECONDS, retired: false };
      workers.push(w);
      live++;
      worker.on("message", (reply: ChunkReply) => onReply(w, reply));
      worker.on("error", (e) => finish(new ShootdownError(`a worker failed: ${e.message}`)));
      handOut(w);
    }
  });
}

interface PoolWorker {
  worker: Worker;
  /** The chunk it is running. */
  chunk?: ChunkRequest;
  secondsPerRun: number;
  retired: boolean;
}
