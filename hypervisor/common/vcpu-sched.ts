// SPDX-License-Identifier: MIT
//
// vCPUs on pCPUs: the run queue, which vCPU each pCPU runs, time slices,
// and migrations, for every host (x86 PV, x86 HVM, AArch64): Xen's
// schedule.c reduced to one run queue and seeded choices. A host does the
// context switch itself (saving and loading registers is the
// architecture's); this piece decides who runs where, so that every host
// makes its decisions from its seed the same way and counts them alike.
//
//   decide(i)      the scheduling decision at the end of a time slice: go
//                  on, give the pCPU to a waiting vCPU (preempt), or
//                  migrate (the roll below)
//   take(i)        a parked pCPU takes a seeded random runnable vCPU, never
//                  one that has just migrated away from it
//   pickNext()     schedule() on a pCPU whose vCPU gives it up: the next
//                  vCPU at random among the queued ones and the current one
//
// The migration roll is the host's: --migrate's rate, rolled at every
// decision (AArch64 and --hvm), or, for the x86 PV host, which has no
// --migrate, one vCPU in four going back to the run queue at the end of a
// slice when nobody waits for a pCPU (its pCPU parks, so whichever pCPU
// looks first takes it). Each is one generator call where it always was, so
// moving a host onto this piece left every seed's run as it was.
//
// A vCPU that migrates is marked not to be taken back by the pCPU it left
// (notOn) until another pCPU has taken it, so a migration really moves it.

import type { Xoshiro128 } from "../../emulator/machine/core/scheduler.ts";

export interface SchedPcpu<V> {
  /** The vCPU it runs, or undefined when parked. */
  current: V | undefined;
  /** Its instruction count when the current vCPU's slice began. */
  sliceStart: bigint;
}

export type Decision = "stay" | "preempt" | "migrate";

/** How a slice's end rolls a migration: --migrate's chance per decision, or one in n when the run queue is empty (x86 PV). */
export type MigrationRoll = { rate: number } | { idleOneIn: number };

/** Guest instructions a vCPU runs before a scheduling decision is made for its pCPU (every host's). */
export const TIME_SLICE = 20_000n;

export class VcpuScheduler<V> {
  /** Runnable vCPUs waiting for a pCPU. */
  readonly runq: V[] = [];
  readonly pcpus: SchedPcpu<V>[];
  /** The pCPU each migrating vCPU left, which may not take it back at once. */
  private readonly notOn = new Map<V, number>();
  migrations = 0;
  preemptions = 0;

  constructor(
    nrPcpus: number,
    private readonly rng: Xoshiro128,
    readonly roll: MigrationRoll,
    /** Guest instructions a vCPU runs before a scheduling decision is made for its pCPU. */
    readonly timeSlice = TIME_SLICE,
  ) {
    this.pcpus = Array.from({ length: nrPcpus }, () => ({ current: undefined, sliceStart: 0n }));
  }

  /** The pCPU a vCPU runs on, or -1. */
  where(v: V): number {
    return this.pcpus.findIndex((p) => p.current === v);
  }

  /** --migrate's chance per decision (0 for a host that rolls otherwise). */
  get migrate(): number {
    return "rate" in this.roll ? this.roll.rate : 0;
  }

  /**
   * One seeded migration roll: --migrate's rate (false with one pCPU or a
   * rate of 0, and no generator call then), or one in n with an empty run
   * queue.
   */
  rollMigrate(): boolean {
    const r = this.roll;
    if ("idleOneIn" in r) return !this.runq.length && this.rng.below(r.idleOneIn) === 0;
    return this.pcpus.length > 1 && r.rate > 0 && this.rng.nextU32() / 2 ** 32 < r.rate;
  }

  /**
   * The decision Xen's timer makes once a vCPU has run its time slice on
   * pCPU i (`instructions` is the pCPU's count now): go on, give the pCPU
   * to a waiting vCPU, or, with probability --migrate, move to another.
   */
  decide(i: number, instructions: bigint): Decision {
    const p = this.pcpus[i]!;
    if (instructions - p.sliceStart < this.timeSlice) return "stay";
    const migrate = this.rollMigrate();
    if (!migrate && !this.runq.length) {
      p.sliceStart = instructions;
      return "stay";
    }
    this.preemptions++;
    return migrate ? "migrate" : "preempt";
  }

  /** Does the run queue hold a vCPU pCPU i may take (accept: it can make progress)? */
  hasWork(i: number, accept: (v: V) => boolean = () => true): boolean {
    return this.runq.some((v) => this.notOn.get(v) !== i && accept(v));
  }

  /**
   * A seeded random runnable vCPU for pCPU i, taken off the run queue;
   * undefined when none may go there. With i undefined, notOn is not
   * consulted (the AArch64 host's WFI yield picks among every vCPU that can
   * make progress).
   */
  take(i: number | undefined, accept: (v: V) => boolean = () => true): V | undefined {
    const candidates = this.runq.filter((v) => (i === undefined || this.notOn.get(v) !== i) && accept(v));
    if (!candidates.length) return undefined;
    const v = candidates[this.rng.below(candidates.length)]!;
    this.runq.splice(this.runq.indexOf(v), 1);
    return v;
  }

  /**
   * schedule() on a pCPU whose vCPU gives it up: one seeded pick among the
   * runnable vCPUs and the current one; undefined means the current one
   * goes on (nothing is switched, as in Xen).
   */
  pickNext(): V | undefined {
    const k = this.rng.below(this.runq.length + 1);
    if (k === this.runq.length) return undefined;
    return this.runq.splice(k, 1)[0]!;
  }

  /** v leaves pCPU i for the run queue; with `migrating`, i may not take it back until another pCPU has. */
  enqueue(v: V, from?: number, migrating = false): void {
    if (migrating && from !== undefined) this.migratingFrom(v, from);
    this.runq.push(v);
  }

  /** v is to leave pCPU `from` for another (a migration decided before it reaches the run queue). */
  migratingFrom(v: V, from: number): void {
    this.notOn.set(v, from);
  }

  /** v starts running on pCPU i (`instructions` its count now); `lastPcpu` counts a migration when it differs. */
  running(i: number, v: V, instructions: bigint, lastPcpu: number | undefined): void {
    if (lastPcpu !== undefined && lastPcpu !== i) this.migrations++;
    this.notOn.delete(v);
    const p = this.pcpus[i]!;
    p.current = v;
    p.sliceStart = instructions;
  }

  /** Pcpu i no longer runs anything. */
  stopped(i: number): void {
    this.pcpus[i]!.current = undefined;
  }

  /** A new slice for pCPU i's vCPU (it goes on after a decision that kept it). */
  restartSlice(i: number, instructions: bigint): void {
    this.pcpus[i]!.sliceStart = instructions;
  }

  /** Drops v from the run queue (its domain ended). */
  remove(v: V): void {
    const k = this.runq.indexOf(v);
    if (k >= 0) this.runq.splice(k, 1);
    this.notOn.delete(v);
  }
}
