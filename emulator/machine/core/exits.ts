// SPDX-License-Identifier: MIT
//
// The exit path. Whatever a CPU hands out of the hot path (an I/O access, a
// hypercall, a trapped instruction, a fault it cannot deliver, a halt) is an
// exit, and every exit of either architecture goes through one chain of
// handlers, in this order:
//
//   1. the hypervisor, when the machine runs one (hypervisor/);
//   2. the platform: devices, firmware (PSCI), the debug-exit port;
//   3. the crash describer, which words the crash line for anything left.
//
// A handler finishes the exit ("done"), ends the run ("end"), starts a
// continuation ("continue"), or passes it on (undefined). The crash describer
// never passes, so the chain always answers.
//
// A continuation is a resumable routine: a generator that yields one
// StepLabel at each point where another CPU may act in between (a shared
// read or write, a lock, a wait). While a CPU has one, it runs no guest
// instructions; the engine (engine.ts) advances it by one step per scheduler
// decision for that CPU, so hypervisor steps interleave with guest
// instructions on the other CPUs under the same seed, and a recorded schedule
// replays them exactly. When the generator returns, its value says how the
// exit ended, as a handler's answer would.

import type { RunEnd } from "./run-end.ts";

/** One resumable point of a continuation: what it is about to do, or wait for. */
export interface StepLabel {
  readonly what: string;
  /**
   * The step only looked and found it must wait (a spin on a lock or an
   * acknowledgement): it is no progress, so a machine whose every CPU waits
   * is deadlocked.
   */
  readonly wait?: boolean;
  /**
   * The guest on this CPU gave it up of its own accord (a vCPU's yield,
   * block or HLT): a scheduler may pass the CPU over until another CPU has
   * made progress, so that a guest spinning on yields does not starve the
   * one it waits for (PCT's rule for yields). It is progress all the same.
   */
  readonly yields?: boolean;
  /**
   * How many of the finest steps this one stands for (default 1): a step
   * that reads a run of entries no other CPU can change (hypervisor/README.md)
   * counts each read, so that PCT's change points, drawn over decisions,
   * fall in it as often as they would if every read were a decision of its
   * own, and the schedule is explored as finely with fewer decisions.
   */
  readonly weight?: number;
}

/** A resumable routine; its return value ends the exit it was started for (undefined: done). */
export type Continuation = Generator<StepLabel, Handled | undefined, void>;

/** How a handler answered an exit. */
export type Handled =
  /**
   * The exit is carried out; the CPU goes on with guest instructions.
   * `worked`: the hypervisor did something for it (a routine ran to its end
   * at the exit, with no step), which is progress as a step would be, even
   * when the guest retired nothing before the exit. `yields`: that work was
   * the guest giving its CPU up (a yield hypercall that found nothing else
   * to run), as StepLabel.yields for an exit with no step.
   */
  | { kind: "done"; worked?: true; yields?: true }
  /** The run is over. */
  | { kind: "end"; end: RunEnd }
  /**
   * The exit goes on as a continuation, stepped by the engine. `yields`: the
   * exit is the guest giving its CPU up (a yield hypercall), so that neither
   * the guest instructions that led to it nor its steps count as progress
   * for the CPUs that yielded before: two CPUs spinning on yields must not
   * release each other (Engine.progressBy). `first`: the routine has
   * already been run up to its first step, whose label this is; the
   * engine's first step of it takes that label without resuming it (a
   * wrapper yielding it would be one more generator to resume at every
   * later step).
   */
  | { kind: "continue"; routine: Continuation; yields?: true; first?: StepLabel };

export const DONE: Handled = { kind: "done" };

export interface ExitHandler<C, E> {
  /** For traces and error messages: "hypervisor", "platform", "crash describer". */
  readonly name: string;
  /** Carries out the exit, or returns undefined to pass it to the next handler. */
  handle(cpu: C, exit: E): Handled | undefined;
}

/** The chain: the first handler that answers wins; the last one always answers. */
export class ExitChain<C, E extends { reason: string }> {
  constructor(private readonly handlers: readonly ExitHandler<C, E>[]) {}

  /** A chain with `first` in front (the hypervisor goes before the platform). */
  withFirst(first: ExitHandler<C, E>): ExitChain<C, E> {
    return new ExitChain([first, ...this.handlers]);
  }

  handle(cpu: C, exit: E): Handled {
    for (const h of this.handlers) {
      const r = h.handle(cpu, exit);
      if (r) return r;
    }
    throw new Error(`no handler took a ${exit.reason} exit (the crash describer must take every exit)`);
  }
}

/**
 * Something the machine reports rather than handles, from either
 * architecture: a stale TLB entry used (the missing-invalidation detector),
 * and the hypervisor sanitizer's violations.
 */
export interface MachineEvent {
  kind: "stale-use" | "violation";
  cpu: number;
  /** One line for people. */
  message: string;
  /** What made it, for tools: the detector's record, the sanitizer's rule … */
  detail?: Record<string, unknown>;
}
