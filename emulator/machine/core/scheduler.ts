// SPDX-License-Identifier: MIT
//
// The scheduler decides which CPU runs next and for how many instructions.
// It is the only source of nondeterminism a multi-CPU run has, so a run is a
// pure function of the image, the options, the command line and the seed:
// every decision is drawn from a seeded generator of our own (never
// Math.random), and a run can record the decisions it took and a later run
// can follow them exactly.
//
//   round-robin   CPUs in index order, each for `quantum` instructions
//   random        each decision picks a live CPU uniformly and a quantum
//                 uniformly from 1 to `quantum` (seeded by --seed)
//   pct           probabilistic concurrency testing (Burckhardt et al.,
//                 ASPLOS 2010): random priorities and depth-1 priority
//                 change points, the highest-priority CPU that can make
//                 progress runs (seeded by --seed; `shootdown explore`)
//   replay        the decisions of a recorded run, in order
//
// A decision is asked of the scheduler with the CPUs that are still live
// (not stopped); a halted CPU is live and is simply run: with nothing
// pending it returns at once having retired nothing, which is how the
// runner notices a deadlock. The engine also says which live CPUs are
// waiting: they made no progress at their last decision and nothing has
// happened since that could let them (a halted CPU with no interrupt, a
// hypervisor routine that only waited). Round-robin and random run them
// anyway; PCT passes them over, since under strict priorities a waiting CPU
// would otherwise be chosen again and again.

import type { CpuSetView } from "./cpu-set.ts";
import { ShootdownError } from "./errors.ts";

export interface Decision {
  cpu: number;
  /** Instructions to ask for (at least 1); the runner may lower it to the step budget left. */
  budget: number;
}

export interface Scheduler {
  readonly mode: "round-robin" | "random" | "pct" | "replay";
  /**
   * The next decision; `live` lists the CPUs that may run, in index order,
   * never empty; `waiting` holds the live CPUs that are known to be unable
   * to make progress now.
   */
  next(live: readonly number[], waiting?: CpuSetView): Decision;
  /**
   * The decision just made stood for `n` more steps than one (a step whose
   * label has a weight, exits.ts): time-driven schedulers (PCT) move on as
   * if those steps had been decisions.
   */
  elapse?(n: number): void;
}

// ── A seeded generator ───────────────────────────────────────────────────────

/**
 * xoshiro128** (Blackman and Vigna), seeded through splitmix64 so that any
 * 64-bit seed, 0 included, gives a well-mixed state.
 */
export class Xoshiro128 {
  private limitOf = 0;
  private limit = 0;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: bigint) {
    let x = BigInt.asUintN(64, seed);
    const next64 = () => {
      x = BigInt.asUintN(64, x + 0x9e37_79b9_7f4a_7c15n);
      let z = x;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58_476d_1ce4_e5b9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d0_49bb_1331_11ebn);
      return z ^ (z >> 31n);
    };
    const a = next64();
    const b = next64();
    this.s0 = Number(a & 0xffff_ffffn) | 0;
    this.s1 = Number(a >> 32n) | 0;
    this.s2 = Number(b & 0xffff_ffffn) | 0;
    this.s3 = Number(b >> 32n) | 0;
  }

  /**
   * The next 32-bit output. The state words are kept as signed 32-bit
   * integers (the same bits), which the engine computes on without turning
   * them into doubles; only the output is made unsigned.
   */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** An integer in [0, n), n at most 2^32, without modulo bias (Lemire's method would do; rejection is simpler). */
  below(n: number): number {
    if (n <= 1) return 0;
    // The rejection limit of the last n asked for: a scheduler asks for the same quantum at every decision.
    if (n !== this.limitOf) {
      this.limitOf = n;
      this.limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    }
    const limit = this.limit;
    for (;;) {
      const r = this.nextU32();
      // r % n, without the floating-point remainder a value above 2^31 would
      // take: below 2^32 the quotient's floor is exact.
      if (r < limit) return r - Math.floor(r / n) * n;
    }
  }
}

/** A 32-bit rotate left, as a signed 32-bit integer. */
const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

// ── Schedulers ───────────────────────────────────────────────────────────────

export class RoundRobin implements Scheduler {
  readonly mode = "round-robin";
  private last = -1;

  constructor(private readonly quantum: number) {}

  next(live: readonly number[]): Decision {
    const cpu = live.find((c) => c > this.last) ?? live[0]!;
    this.last = cpu;
    return { cpu, budget: this.quantum };
  }
}

export class RandomInterleaving implements Scheduler {
  readonly mode = "random";
  private readonly rng: Xoshiro128;

  constructor(seed: bigint, private readonly quantum: number) {
    this.rng = new Xoshiro128(seed);
  }

  next(live: readonly number[]): Decision {
    const cpu = live[this.rng.below(live.length)]!;
    return { cpu, budget: 1 + this.rng.below(this.quantum) };
  }
}

/** What PCT is given besides its seed and quantum. */
export interface PctParameters {
  /** The bug depth d it aims at: d - 1 priority change points (at least 1). */
  depth: number;
  /** k, the decisions a run is expected to take: change points fall in [0, k). */
  horizon: number;
}

/**
 * PCT, the randomized scheduler of Burckhardt, Kothari, Musuvathi and
 * Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of
 * Finding Bugs" (ASPLOS 2010), over the engine's decisions:
 *
 *   1. The n CPUs get the distinct priorities d, d+1, …, d+n-1 in a random
 *      order.
 *   2. d-1 change points k_1 … k_{d-1} are drawn, distinct, from the
 *      decisions 0 … k-1 (k the horizon).
 *   3. Each decision runs the highest-priority CPU that is not waiting; at
 *      decision k_i, the CPU that would run drops to priority d-i first, and
 *      the decision goes to the new highest.
 *
 * A bug that needs d ordering constraints between n CPUs is found by one run
 * with probability at least 1/(n·k^(d-1)). A decision still runs a random
 * 1 to `quantum` instructions, so that a change point can land between any
 * two instructions of the CPU it preempts.
 *
 * Strict priorities starve a CPU that spins on a flag another CPU must set
 * (a waiting CPU that retires instructions looks busy). Past the horizon
 * every change point has been taken, so PCT then picks uniformly among the
 * CPUs that are not waiting, as random interleaving does, and such a run
 * still ends.
 */
export class PriorityChangePoints implements Scheduler {
  readonly mode = "pct";
  private readonly rng: Xoshiro128;
  private readonly priority: number[];
  /** The change points: at time k the running CPU drops to priority `to`; in the order they are drawn. */
  private readonly points: { k: number; to: number }[] = [];
  /** The same, by time, and how many of them have been passed. */
  private readonly byTime: { k: number; to: number }[];
  private passed = 0;
  /** Decisions so far, each counted with the weight of its step (elapse). */
  private time = 0;

  constructor(seed: bigint, private readonly quantum: number, cpus: number, private readonly p: PctParameters) {
    if (!Number.isSafeInteger(p.depth) || p.depth < 1) throw new ShootdownError(`PCT depth must be a positive integer, not ${p.depth}`);
    if (!Number.isSafeInteger(p.horizon) || p.horizon < 1) throw new ShootdownError(`PCT horizon must be a positive integer, not ${p.horizon}`);
    this.rng = new Xoshiro128(seed);
    // Fisher–Yates: a uniformly random assignment of d … d+n-1 to the CPUs.
    this.priority = Array.from({ length: cpus }, (_, i) => p.depth + i);
    for (let i = cpus - 1; i > 0; i--) {
      const j = this.rng.below(i + 1);
      [this.priority[i], this.priority[j]] = [this.priority[j]!, this.priority[i]!];
    }
    const points = Math.min(p.depth - 1, p.horizon);
    const taken = new Set<number>();
    for (let i = 1; i <= points; i++) {
      let k: number;
      do k = this.rng.below(p.horizon);
      while (taken.has(k));
      taken.add(k);
      this.points.push({ k, to: p.depth - i });
    }
    this.byTime = [...this.points].sort((a, b) => a.k - b.k);
  }

  /** The change points, in the order the paper numbers them (k_1 first), for tests and the summary. */
  get changePoints(): number[] {
    return this.points.map((c) => c.k);
  }

  next(live: readonly number[], waiting?: CpuSetView): Decision {
    const at = this.time++;
    // The ready CPUs are the live ones that do not wait. The engine ends a
    // run whose live CPUs all wait; a caller that says so anyway gets all of
    // them. (Asked at every decision: the ready list is only made when a
    // random pick needs it.)
    let skip = waiting?.size ? waiting : undefined;
    if (skip && !anyReady(live, skip)) skip = undefined;
    let cpu: number;
    if (at >= this.p.horizon) cpu = this.pick(live, skip);
    else {
      cpu = this.highest(live, skip);
      // The change points up to now: with steps of weight 1 that is the one
      // at this decision, if any; a heavier step before may have passed
      // several, and each lowers the CPU that would run then, in turn.
      while (this.passed < this.byTime.length && this.byTime[this.passed]!.k <= at) {
        this.priority[cpu] = this.byTime[this.passed++]!.to;
        cpu = this.highest(live, skip);
      }
    }
    return { cpu, budget: 1 + this.rng.below(this.quantum) };
  }

  elapse(n: number): void {
    this.time += n;
  }

  /** The ready CPU of the highest priority (the first of equals, in index order). */
  private highest(cpus: readonly number[], skip: CpuSetView | undefined): number {
    let best = -1;
    for (const c of cpus) {
      if (skip?.has(c)) continue;
      if (best < 0 || (this.priority[c] ?? 0) > (this.priority[best] ?? 0)) best = c;
    }
    return best;
  }

  /** A ready CPU drawn uniformly, as the ready list's element rng.below(its length). */
  private pick(cpus: readonly number[], skip: CpuSetView | undefined): number {
    if (!skip) return cpus[this.rng.below(cpus.length)]!;
    let n = 0;
    for (const c of cpus) if (!skip.has(c)) n++;
    let k = this.rng.below(n);
    for (const c of cpus) if (!skip.has(c) && k-- === 0) return c;
    return cpus[0]!;
  }
}

function anyReady(live: readonly number[], waiting: CpuSetView): boolean {
  for (const c of live) if (!waiting.has(c)) return true;
  return false;
}

/**
 * One recorded decision: CPU c ran guest instructions (asked, retired), or
 * CPU c's continuation (a hypervisor routine, exits.ts) took one step.
 */
export type Step = RunStep | HvStep;
export type RunStep = [cpu: number, asked: number, retired: number];
export type HvStep = [cpu: number, kind: "hv"];

export const isHvStep = (s: Step | PackedStep): s is HvStep => s[1] === "hv";

/** The run could not follow its schedule: the machine did something else than when it was recorded. */
export class ReplayDiverged extends ShootdownError {
  override name = "ReplayDiverged";
}

/** What a replay asks the engine to do next. */
export type ReplayDecision = { cpu: number; budget: number; expect: number } | { cpu: number; hv: true };

/**
 * A recorded schedule, followed one decision at a time. It walks the packed
 * form and never expands it, so a step repeated a billion times costs no
 * more memory than once.
 */
export class Replay {
  readonly mode = "replay";
  private entry = 0;
  /** Repetitions of the current entry already taken. */
  private taken = 0;
  private decisions = 0;

  constructor(private readonly packed: readonly PackedStep[]) {}

  /** Decisions taken so far. */
  get position(): number {
    return this.decisions;
  }

  get done(): boolean {
    return this.entry >= this.packed.length;
  }

  next(live: readonly number[]): ReplayDecision {
    const p = this.packed[this.entry];
    if (!p) throw new ReplayDiverged(`the schedule ended after ${this.decisions} decisions but the run did not`);
    const at = this.decisions;
    if (++this.taken >= repeatCount(p)) {
      this.entry++;
      this.taken = 0;
    }
    this.decisions++;
    if (!live.includes(p[0])) throw new ReplayDiverged(`decision ${at} runs CPU ${p[0]}, which is not live`);
    if (isHvStep(p)) return { cpu: p[0], hv: true };
    const [cpu, asked, retired] = p as number[];
    return { cpu: cpu!, budget: asked!, expect: retired ?? asked! };
  }
}

/** How many equal decisions a packed entry stands for. */
export function repeatCount(p: PackedStep): number {
  return isHvStep(p) ? ((p as unknown[])[2] as number | undefined) ?? 1 : (p as number[])[3] ?? 1;
}

// ── Compressing a schedule ───────────────────────────────────────────────────

/**
 * A step in the file: [cpu, asked] when it retired all it was asked for,
 * [cpu, asked, retired] otherwise, and [cpu, asked, retired, n] for n equal
 * steps in a row; [cpu, "hv"] for a step of CPU cpu's continuation, and
 * [cpu, "hv", n] for n of them in a row.
 */
export type PackedStep =
  | [number, number] | [number, number, number] | [number, number, number, number]
  | [number, "hv"] | [number, "hv", number];

const sameStep = (a: Step, b: Step) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

export function packSteps(steps: readonly Step[]): PackedStep[] {
  const out: PackedStep[] = [];
  for (let i = 0; i < steps.length; ) {
    const s = steps[i]!;
    let n = 1;
    while (i + n < steps.length && sameStep(steps[i + n]!, s)) n++;
    if (isHvStep(s)) out.push(n > 1 ? [s[0], "hv", n] : [s[0], "hv"]);
    else {
      const [cpu, asked, retired] = s;
      out.push(n > 1 ? [cpu, asked, retired, n] : retired === asked ? [cpu, asked] : [cpu, asked, retired]);
    }
    i += n;
  }
  return out;
}

const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 1;

/**
 * Checks a packed schedule without expanding it; throws ShootdownError naming
 * the first malformed entry. `version` 1 files have no continuation steps.
 */
export function checkPacked(packed: unknown, cpus: number, version = 2): PackedStep[] {
  if (!Array.isArray(packed)) throw new ShootdownError("\"decisions\" must be an array");
  packed.forEach((p: unknown, i) => {
    const cpuOk = Array.isArray(p) && Number.isSafeInteger(p[0]) && p[0] >= 0;
    if (cpuOk && p[1] === "hv" && version >= 2) {
      if (p.length > 3 || (p.length === 3 && !count(p[2]))) throw new ShootdownError(`decisions[${i}] must be [cpu, "hv"] or [cpu, "hv", count] with a positive count`);
    } else {
      const ok = cpuOk && p.length >= 2 && p.length <= 4 && p.every((x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0);
      if (!ok) {
        const hv = version >= 2 ? ` or [cpu, "hv"] or [cpu, "hv", count]` : "";
        throw new ShootdownError(`decisions[${i}] must be [cpu, asked] or [cpu, asked, retired] or [cpu, asked, retired, count] of non-negative integers${hv}`);
      }
      const [, asked, retired = asked, n = 1] = p as number[];
      if (asked! < 1 || retired! > asked! || n < 1) throw new ShootdownError(`decisions[${i}] is impossible (asked ${asked}, retired ${retired}, count ${n})`);
    }
    if ((p as number[])[0]! >= cpus) throw new ShootdownError(`decisions[${i}] names CPU ${(p as number[])[0]}; the run has ${cpus}`);
  });
  return packed as PackedStep[];
}

/** The steps of a packed schedule, expanded (for tests and small schedules only: a count can be huge). */
export function unpackSteps(packed: readonly PackedStep[]): Step[] {
  const out: Step[] = [];
  for (const p of packed) {
    const n = repeatCount(p);
    const step: Step = isHvStep(p) ? [p[0], "hv"] : [p[0], p[1] as number, (p as number[])[2] ?? (p[1] as number)];
    for (let k = 0; k < n; k++) out.push(step);
  }
  return out;
}
