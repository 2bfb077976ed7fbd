// SPDX-License-Identifier: MIT
//
// A debugging session: one target (target.ts), the schedule that drives its
// CPUs, breakpoints and watchpoints. The REPL's commands (commands.ts) and
// the gdb stub (gdb-stub.ts) both drive it.
//
// Determinism. The machine changes only through `run` calls on its CPUs, and
// every call is logged as a decision [cpu, asked, retired], the format of
// `shootdown run --record`. `continue` takes its decisions from the same
// scheduler `shootdown run` uses (round-robin, or seeded random), or from a
// recorded schedule after `replay F`; a decision cut short by a breakpoint or
// a watchpoint is finished first when the machine resumes, so the CPUs
// interleave exactly as they would have without the stop. The same commands
// on the same image and options therefore always reach the same states.

import { readFileSync } from "node:fs";
import { ShootdownError } from "../machine/errors.ts";
import { RoundRobin, RandomInterleaving, type Scheduler, type Step } from "../machine/scheduler.ts";
import { parseSchedule, type RecordedOptions } from "../machine/schedule-file.ts";
import { sha256 } from "../machine/run-loop.ts";
import { leValue, type CpuRun, type DebugTarget } from "./target.ts";

/** Why the machine stopped, as the gdb stub reports it. */
export type StopReason =
  | { kind: "breakpoint"; cpu: number; pc: bigint }
  /** `va` when the watchpoint was set by virtual address (gdb's Z2). */
  | { kind: "watchpoint"; cpu: number; pa: bigint; old: bigint; now: bigint; va?: bigint }
  | { kind: "violation"; cpu: number; messages: string[] }
  | { kind: "step"; cpu: number }
  | { kind: "reached"; cpu: number }
  | { kind: "idle"; cpu: number }
  | { kind: "end"; cpu: number; status: number; message: string }
  | { kind: "interrupted"; cpu: number }
  /** A chunk of a continue is done (the gdb stub looks at its socket between chunks). */
  | { kind: "paused"; cpu: number };

export interface SessionConfig {
  image: Uint8Array;
  options: RecordedOptions;
  /** Follow these decisions (a replay) instead of the scheduler's. */
  replay?: Step[];
  /** How the replayed run ended when it was recorded. */
  recorded?: { status: number; stateHash: bigint };
  /** Builds a target for an image (x86-64 or AArch64, targets.ts). */
  makeTarget(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void): DebugTarget;
  /** Guest console output, as it is written. */
  console?: (text: string) => void;
}

interface Pending {
  cpu: number;
  left: number;
  retired: number;
  /** What a replayed decision must retire in all. */
  expect?: number;
}

/** Where the decisions come from. */
interface DecisionSource {
  readonly name: string;
  next(live: readonly number[]): { cpu: number; budget: number; expect?: number } | undefined;
}

/** Instructions `continue` runs at most before it gives up and reports (a guard against an endless loop in a guest). */
export const CONTINUE_LIMIT = 50_000_000n;

export class Session {
  target: DebugTarget;
  current = 0;
  private options: RecordedOptions;
  private replaySteps: Step[] | undefined;
  private recorded: { status: number; stateHash: bigint } | undefined;
  private source: DecisionSource;
  private pending: Pending | undefined;
  private readonly breakpoints: bigint[] = [];
  /** Watched physical bytes: their value when last looked at, their length, and the VA they were set by. */
  private readonly watchpoints = new Map<bigint, { value: bigint; length: number; va?: bigint }>();
  /** CPUs that stopped at a breakpoint and resume past it. */
  private readonly resumeAt = new Map<number, bigint>();
  private taken: Step[] = [];
  /** How each logged run call ended (a rewind replays them). */
  private takenStops: CpuRun["stop"]["kind"][] = [];
  /** Console bytes the user has seen, and bytes the current machine has produced: a rewind does not repeat them. */
  private consoleSeen = 0;
  private consoleAt = 0;
  private steps = 0n;
  private ended: { status: number; message: string; cpu: number } | undefined;
  private idle = new Set<number>();
  private consoleLine = "";
  private lastStopCpu = 0;
  /**
   * After a goto backwards: the run calls that had been made past that
   * point, and the decision that was in progress, to be made again before
   * the schedule is asked for more. So going back and forth in time retraces
   * exactly the same run, manual steps and all.
   */
  private redo: ({ cpu: number; budget: number; expect: number } | { pending: Pending })[] = [];
  /** Run one instruction per call until this step, while looking for the instruction that used a stale entry. */
  private preciseUntil = 0n;
  /** Set by a gdb interrupt (Ctrl-C) to end a continue early. */
  interruptRequested = false;

  constructor(private readonly config: SessionConfig) {
    this.options = config.options;
    this.replaySteps = config.replay;
    this.recorded = config.recorded;
    this.target = this.build();
    this.source = this.makeSource();
  }

  private build(): DebugTarget {
    return this.config.makeTarget(this.config.image, this.options, (b) => this.consoleByte(b));
  }

  private consoleByte(byte: number): void {
    if (++this.consoleAt <= this.consoleSeen) return;
    this.consoleSeen++;
    if (byte === 10) {
      this.config.console?.(`${this.consoleLine}\n`);
      this.consoleLine = "";
    } else if (byte !== 13) {
      this.consoleLine += String.fromCharCode(byte);
    }
  }

  /** A partial console line is shown when a command ends. */
  flushConsole(): void {
    if (this.consoleLine) this.config.console?.(`${this.consoleLine}\n`);
    this.consoleLine = "";
  }

  private makeSource(): DecisionSource {
    const replay = this.replaySteps;
    if (replay) {
      let at = 0;
      return {
        name: `replay of ${replay.length} recorded decisions`,
        next: () => {
          const s = replay[at];
          if (!s) return undefined;
          at++;
          return { cpu: s[0], budget: s[1], expect: s[2] };
        },
      };
    }
    const o = this.options;
    const scheduler: Scheduler = o.mode === "random" ? new RandomInterleaving(o.seed ?? 0n, o.quantum) : new RoundRobin(o.quantum);
    const name = o.mode === "random" ? `random interleaving, seed ${o.seed}, quantum 1–${o.quantum}` : `round-robin, quantum ${o.quantum}`;
    return { name, next: (live) => scheduler.next(live) };
  }

  /** Back to the machine as booted, with no decision taken. */
  private restart(): void {
    this.target = this.build();
    this.target.setBreakpoints(this.breakpoints);
    this.source = this.makeSource();
    this.pending = undefined;
    this.redo = [];
    this.preciseUntil = 0n;
    this.taken = [];
    this.takenStops = [];
    this.consoleAt = 0;
    this.steps = 0n;
    this.ended = undefined;
    this.idle = new Set();
    this.resumeAt.clear();
    this.consoleLine = "";
    for (const [pa, w] of this.watchpoints) w.value = this.watchValue(pa, w.length);
  }

  get instructionsSoFar(): bigint {
    return this.steps;
  }

  get schedule(): readonly Step[] {
    return this.taken;
  }

  // ── Running ────────────────────────────────────────────────────────────────

  /**
   * One run call on a CPU, logged; a CPU that stopped at a breakpoint where
   * it now is first runs the instruction there with breakpoints off.
   */
  private runPiece(cpu: number, budget: number, honourBreakpoints: boolean): CpuRun {
    const pc = this.target.pc(cpu);
    const skip = !honourBreakpoints || this.resumeAt.get(cpu) === pc;
    this.resumeAt.delete(cpu);
    let r: CpuRun;
    if (skip && this.breakpoints.length) {
      this.target.setBreakpoints([]);
      r = this.target.run(cpu, honourBreakpoints ? 1 : budget);
      this.target.setBreakpoints(this.breakpoints);
      this.log(cpu, honourBreakpoints ? 1 : budget, r);
      this.steps += BigInt(r.retired);
      if (honourBreakpoints && budget > 1 && r.stop.kind === "budget") {
        const rest = this.runPiece(cpu, budget - 1, true);
        return { retired: r.retired + rest.retired, stop: rest.stop };
      }
      return r;
    }
    r = this.target.run(cpu, budget);
    this.log(cpu, budget, r);
    this.steps += BigInt(r.retired);
    return r;
  }

  private log(cpu: number, asked: number, r: CpuRun): void {
    this.taken.push([cpu, asked, r.retired]);
    this.takenStops.push(r.stop.kind);
  }

  /**
   * Back to the state after the first `calls` logged run calls: a fresh
   * machine, and those calls again, each for what it retired (an exit ends a
   * call on the instruction that caused it, so it ends there again), with
   * breakpoints off. The schedule's own state is not touched: the decisions
   * after the rewind are the ones that would have come anyway.
   */
  private rewind(calls: number): void {
    const log = this.taken.slice(0, calls);
    const stops = this.takenStops.slice(0, calls);
    this.target = this.build();
    this.consoleAt = 0;
    this.taken = [];
    this.takenStops = [];
    this.steps = 0n;
    log.forEach(([cpu, asked, retired], i) => {
      // A breakpoint stop that retired nothing changed nothing; a halted CPU's call may still move its clock.
      if (retired === 0 && stops[i] === "breakpoint") return;
      const r = this.target.run(cpu, retired > 0 ? retired : asked);
      this.log(cpu, asked, r);
      this.steps += BigInt(r.retired);
    });
    this.target.takeViolations();
    this.target.setBreakpoints(this.breakpoints);
    for (const [pa, w] of this.watchpoints) w.value = this.watchValue(pa, w.length);
  }

  private watchValue(pa: bigint, length: number): bigint {
    const b = this.target.readPhysical(pa, length);
    return b ? leValue(b) : -1n;
  }

  /** The first watchpoint whose bytes changed, updating the remembered values. */
  private watchHit(cpu: number): StopReason | undefined {
    let hit: StopReason | undefined;
    for (const [pa, w] of this.watchpoints) {
      const now = this.watchValue(pa, w.length);
      if (now !== w.value) {
        hit ??= { kind: "watchpoint", cpu, pa, old: w.value, now, ...(w.va !== undefined ? { va: w.va } : {}) };
        w.value = now;
      }
    }
    return hit;
  }

  /**
   * Runs under the schedule until something stops it, or until `until`
   * instructions have been retired over all CPUs (goto).
   */
  resume(until?: bigint, chunk?: bigint): StopReason {
    const honour = until === undefined;
    const limit = until ?? this.steps + (chunk ?? CONTINUE_LIMIT);
    if (chunk === undefined) this.interruptRequested = false;
    for (;;) {
      if (this.ended) return { kind: "end", ...this.ended };
      if (this.steps >= limit) return { kind: honour ? "paused" : "reached", cpu: this.lastStopCpu };
      if (this.interruptRequested) return { kind: "interrupted", cpu: this.lastStopCpu };
      if (!this.pending && this.redo.length) {
        const item = this.redo.shift()!;
        this.pending = "pending" in item ? item.pending : { cpu: item.cpu, left: item.budget, retired: 0, expect: item.expect };
      }
      if (!this.pending) {
        const cpus = Array.from({ length: this.target.cpuCount }, (_, i) => i);
        const live = cpus.filter((c) => this.target.live(c));
        if (!live.length) return this.end(0, 2, "every CPU is stopped");
        if (this.options.maxSteps !== undefined && this.steps >= this.options.maxSteps) return this.end(0, 3, `--max-steps: ${this.steps} instructions retired`);
        if (live.every((c) => this.idle.has(c))) return this.end(live[0]!, 2, "deadlock: no CPU makes progress (all halted with nothing pending)");
        const d = this.source.next(live);
        if (!d) return this.end(0, 2, `the replayed schedule ended after ${this.steps} instructions`);
        let budget = d.budget;
        if (this.options.maxSteps !== undefined && BigInt(budget) > this.options.maxSteps - this.steps) budget = Number(this.options.maxSteps - this.steps);
        this.pending = { cpu: d.cpu, left: budget, retired: 0, ...(d.expect !== undefined ? { expect: d.expect } : {}) };
      }
      const p = this.pending;
      let piece = p.left;
      if ((this.watchpoints.size || this.steps < this.preciseUntil) && honour) piece = 1;
      if (BigInt(piece) > limit - this.steps) piece = Number(limit - this.steps);
      const logged = this.taken.length;
      const resumeFrom = this.resumeAt.get(p.cpu);
      const r = this.runPiece(p.cpu, piece, honour);
      if (honour && piece > 1 && this.target.violationsPending()) {
        // A stale entry was used somewhere in this call: go back to before
        // it and take the same instructions one at a time, to stop on the
        // very instruction that used it.
        this.rewind(logged);
        if (resumeFrom !== undefined) this.resumeAt.set(p.cpu, resumeFrom);
        // One at a time for as many instructions as that call ran, no longer.
        this.preciseUntil = this.steps + BigInt(r.retired);
        continue;
      }
      p.left -= r.retired;
      p.retired += r.retired;
      this.lastStopCpu = p.cpu;
      const decisionOver = r.stop.kind === "exit" || r.stop.kind === "end" || p.left <= 0;
      if (decisionOver) {
        this.pending = undefined;
        if (p.expect !== undefined && p.retired !== p.expect) {
          return this.end(p.cpu, 2, `replay diverged: CPU ${p.cpu} retired ${p.retired} instructions in a decision, the schedule says ${p.expect}`);
        }
        if (p.retired > 0) this.idle.clear();
        else this.idle.add(p.cpu);
      }
      const violations = this.target.takeViolations();
      if (violations.length) this.preciseUntil = 0n;
      if (r.stop.kind === "end") {
        const end = this.end(p.cpu, r.stop.status, r.stop.message);
        if (!violations.length || !honour) return end;
      }
      if (violations.length && honour) return { kind: "violation", cpu: violations[0]!.cpu, messages: violations.map((v) => v.message) };
      if (honour) {
        const w = this.watchHit(p.cpu);
        if (w) return w;
      }
      if (r.stop.kind === "breakpoint") {
        this.resumeAt.set(p.cpu, r.stop.pc);
        this.current = p.cpu;
        return { kind: "breakpoint", cpu: p.cpu, pc: r.stop.pc };
      }
    }
  }

  private end(cpu: number, status: number, message: string): StopReason {
    this.ended = { cpu, status, message };
    return { kind: "end", cpu, status, message };
  }

  /** N instructions on one CPU, each a decision of its own. */
  step(n = 1, cpu = this.current): StopReason {
    if (this.ended) return { kind: "end", ...this.ended };
    if (!this.target.live(cpu)) {
      // An AArch64 CPU that does not run is off until PSCI CPU_ON (a stopped one has ended the run).
      throw new ShootdownError(this.target.arch === "aarch64" ? `CPU ${cpu} is off (PSCI CPU_ON starts it)` : `CPU ${cpu} is stopped`);
    }
    this.resumeAt.set(cpu, this.target.pc(cpu));
    for (let i = 0; i < n; i++) {
      const r = this.runPiece(cpu, 1, true);
      if (r.stop.kind === "end") return this.end(cpu, r.stop.status, r.stop.message);
      const violations = this.target.takeViolations();
      if (violations.length) return { kind: "violation", cpu, messages: violations.map((v) => v.message) };
      const w = this.watchHit(cpu);
      if (w) return w;
      if (r.stop.kind === "breakpoint") {
        this.resumeAt.set(cpu, r.stop.pc);
        return { kind: "breakpoint", cpu, pc: r.stop.pc };
      }
      if (r.retired === 0) return { kind: "idle", cpu };
    }
    // Landing on a breakpoint by stepping is not hitting it: continue goes on from here.
    this.resumeAt.set(cpu, this.target.pc(cpu));
    return { kind: "step", cpu };
  }

  setBreakpoint(address: bigint): void {
    if (!this.breakpoints.includes(address)) {
      this.breakpoints.push(address);
      this.target.setBreakpoints(this.breakpoints);
    }
  }

  removeBreakpoint(address?: bigint): boolean {
    const before = this.breakpoints.length;
    if (address === undefined) this.breakpoints.length = 0;
    else {
      const i = this.breakpoints.indexOf(address);
      if (i >= 0) this.breakpoints.splice(i, 1);
    }
    this.target.setBreakpoints(this.breakpoints);
    return this.breakpoints.length !== before;
  }

  get endedWith(): { status: number; message: string; cpu: number } | undefined {
    return this.ended;
  }

  /** After a replayed run ended: did it end as the recording says? */
  replayVerdict(): string | undefined {
    if (!this.recorded || !this.ended) return undefined;
    const hash = this.target.stateHash();
    const r = this.recorded;
    if (r.status === this.ended.status && r.stateHash === hash) return `the replay reproduced the recorded run (state hash 0x${hash.toString(16)})`;
    return `the recorded run ended with status ${r.status} and state hash 0x${r.stateHash.toString(16)}, this one with status ${this.ended.status} and 0x${hash.toString(16)}` +
      (r.status === this.ended.status ? " (the missing-invalidation detector changes the hash: --no-detector compares it)" : "");
  }

  /** The CPU the last run call ran. */
  get lastCpu(): number {
    return this.lastStopCpu;
  }

  /** How the decisions are made: "round-robin, quantum 1000", "replay of N recorded decisions" … */
  get scheduleName(): string {
    return this.source.name;
  }

  /** The decision a stop interrupted, still to be finished. */
  get unfinished(): { cpu: number; left: number } | undefined {
    return this.pending && { cpu: this.pending.cpu, left: this.pending.left };
  }

  /**
   * Watches `length` bytes at physical pa for a change by any CPU (`va`:
   * the virtual address it was asked for, which a stop reports); returns
   * their value now.
   */
  watch(pa: bigint, length = 8, va?: bigint): bigint {
    if (!this.target.readPhysical(pa, length)) throw new ShootdownError(`physical address 0x${pa.toString(16)} is not RAM`);
    const value = this.watchValue(pa, length);
    this.watchpoints.set(pa, { value, length, ...(va !== undefined ? { va } : {}) });
    return value;
  }

  unwatch(pa: bigint): boolean {
    return this.watchpoints.delete(pa);
  }

  /** Loads a recorded schedule (`replay F`) and goes back to step 0 under it. */
  loadReplay(path: string): { decisions: number; instructions: number } {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new ShootdownError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const s = parseSchedule(text);
    if (s.imageSha256 !== sha256(this.config.image)) throw new ShootdownError(`${path} was recorded with another image`);
    this.options = s.options;
    this.replaySteps = s.steps;
    this.recorded = { status: s.status, stateHash: s.stateHash };
    this.restart();
    return { decisions: s.steps.length, instructions: s.steps.reduce((n, d) => n + d[2], 0) };
  }

  /** Back to an earlier step: the machine as it was at the last run call that ended at or before it, the rest to redo. */
  private travelBack(target: bigint): void {
    let calls = 0;
    let at = 0n;
    while (calls < this.taken.length && at + BigInt(this.taken[calls]![2]) <= target) at += BigInt(this.taken[calls++]![2]);
    const tail = this.taken.slice(calls).map((step, i) => ({ step, stop: this.takenStops[calls + i]! }));
    const pending = this.pending;
    this.rewind(calls);
    this.preciseUntil = 0n;
    this.ended = undefined;
    this.idle = new Set();
    this.resumeAt.clear();
    this.pending = undefined;
    this.redo = [
      // A call cut short by a breakpoint ran what it retired; one that retired nothing there changed nothing.
      ...tail.filter(({ step, stop }) => step[2] > 0 || stop !== "breakpoint")
        .map(({ step: [cpu, asked, retired] }) => ({ cpu, budget: retired > 0 ? retired : asked, expect: retired })),
      ...(pending ? [{ pending: { ...pending } }] : []),
      ...this.redo,
    ];
  }

  /** Runs, or goes back and runs, until `target` instructions over all CPUs (or the run ends). */
  goto(target: bigint): StopReason {
    if (target < this.steps) this.travelBack(target);
    const stop = this.resume(target);
    if (stop.kind !== "end") this.current = this.lastStopCpu;
    return stop;
  }
}
