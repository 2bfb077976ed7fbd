// SPDX-License-Identifier: MIT
//
// Resumable hypervisor routines (README.md explains the model): a routine is
// a generator that yields a StepLabel before each shared read, write, lock or
// wait, and does that step's shared-memory effects all at once when resumed.

import type { StepLabel } from "../../emulator/machine/core/exits.ts";

/**
 * One resumable point: what the routine is about to do or wait for, for
 * traces and the debugger; `wait` marks a step that only looked and must
 * wait (the engine's deadlock detection counts it as no progress). The
 * engine's own type: a hypervisor step is an engine step.
 */
export type { StepLabel };

/** A resumable hypervisor routine; the run engine advances it one step (one `next()`) per scheduler decision. */
export type Routine<R> = Generator<StepLabel, R, void>;

/** A routine that goes on past this many steps is a bug in the hypervisor (a wait that cannot end). */
export const MAX_ROUTINE_STEPS = 50_000_000;

/**
 * Drives a routine to its end on one CPU with nothing interleaved, and
 * returns its result and the number of steps it took. For tests, the domain
 * builder (which runs before any vCPU) and callers that want Xen's
 * behaviour without a scheduler.
 */
export function runRoutine<R>(routine: Routine<R>, maxSteps = MAX_ROUTINE_STEPS): { result: R; steps: number } {
  let steps = 0;
  for (;;) {
    const r = routine.next();
    if (r.done) return { result: r.value, steps };
    if (++steps > maxSteps) throw new Error(`hypervisor routine did not finish within ${maxSteps} steps; last step: ${r.value.what}`);
  }
}

/** runRoutine's result alone. */
export function finish<R>(routine: Routine<R>, maxSteps = MAX_ROUTINE_STEPS): R {
  return runRoutine(routine, maxSteps).result;
}

/**
 * Runs several routines interleaved, one step at a time, `pick(n)` choosing
 * which of the n unfinished routines takes the next step (a test's stand-in
 * for the scheduler). Returns the results in the order the routines were given.
 */
export function interleave<R>(routines: Routine<R>[], pick: (n: number) => number, maxSteps = MAX_ROUTINE_STEPS): R[] {
  const results: R[] = new Array(routines.length);
  const live = routines.map((r, i) => ({ r, i }));
  let steps = 0;
  while (live.length) {
    const k = pick(live.length);
    const { r, i } = live[k]!;
    const out = r.next();
    if (out.done) {
      results[i] = out.value;
      live.splice(k, 1);
    } else if (++steps > maxSteps) {
      throw new Error(`interleaved hypervisor routines did not finish within ${maxSteps} steps; last step: ${out.value.what}`);
    }
  }
  return results;
}
