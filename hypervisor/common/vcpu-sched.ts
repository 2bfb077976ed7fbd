// SPDX-License-Identifier: MIT
//
// vCPUs on pCPUs: the run queue, which vCPU each pCPU runs, time slices,
// and --migrate, for a host whose vCPUs outnumber its pCPUs (Xen's
// schedule.c reduced to one run queue and seeded choices). The host does
// the context switch itself (saving and loading registers is the
// architecture's); this piece decides who runs where, so that every host
// makes the same decisions from the same seed and counts them alike.
//
//   decide(i)      the scheduling decision at the end of a time slice: go
//                  on, give the pCPU to a waiting vCPU (preempt), or, with
//                  probability --migrate, leave for another pCPU (migrate)
//   take(i)        a parked pCPU takes a seeded random runnable vCPU, never
//                  one that has just migrated away from it
//   pickNext()     schedule() on a pCPU whose vCPU gives it up: the next
//                  vCPU at random among the queued ones and the current one
//
// A vCPU that migrates is marked not to be taken back by the pCPU it left
// (notOn) until another pCPU has taken it, so a migration really moves it.
// Not yet shared: hypervisor/arm/arm-host.ts has this logic inline (its
// decide, schedule, reschedule and migrateAway make the same generator
// calls in the same order, so it can move onto this piece with every
// seed's run unchanged; its yieldAsleep picks among the vCPUs that can
// run, ignoring notOn, and its softirq check rolls --migrate itself). The
// x86 PV host's preemption differs (at a slice's end with nobody waiting,
// one vCPU in four goes back to the queue), so moving it would change its
// seeds' runs. Both were left as they are while other branches edit them.

import type { Xoshiro128 } from "../../emulator/machine/core/scheduler.ts";

export interface SchedPcpu<V> {
  /** The vCPU it runs, or undefined when parked. */
  current: V | undefined;
  /** Its instruction count when the current vCPU's slice began. */
  sliceStart: bigint;
}

export type Decision = "stay" | "preempt" | "migrate";

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
    /** --migrate: the chance per scheduling decision that a vCPU moves to another pCPU. */
    readonly migrate: number,
    /** Guest instructions a vCPU runs before a scheduling decision is made for its pCPU. */
    readonly timeSlice: bigint,
  ) {
    this.pcpus = Array.from({ length: nrPcpus }, () => ({ current: undefined, sliceStart: 0n }));
  }

  /** The pCPU a vCPU runs on, or -1. */
  where(v: V): number {
    return this.pcpus.findIndex((p) => p.current === v);
  }

  /** One seeded roll of --migrate (false with one pCPU or a rate of 0). */
  rollMigrate(): boolean {
    return this.pcpus.length > 1 && this.migrate > 0 && this.rng.nextU32() / 2 ** 32 < this.migrate;
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

  /** A seeded random runnable vCPU for pCPU i, taken off the run queue; undefined when none may go there. */
  take(i: number, accept: (v: V) => boolean = () => true): V | undefined {
    const candidates = this.runq.filter((v) => this.notOn.get(v) !== i && accept(v));
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
    if (migrating && from !== undefined) this.notOn.set(v, from);
    this.runq.push(v);
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
