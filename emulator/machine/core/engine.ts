// SPDX-License-Identifier: MIT
//
// The run engine: the one loop that steps a machine, for `shootdown run`,
// the REPL, the gdb stub, and the hypervisor's continuations.
//
// A decision is one of two kinds:
//
//   run          CPU c runs guest instructions, up to a budget, until an exit
//   hv step      CPU c's pending continuation (exits.ts) takes one step
//
// The scheduler (scheduler.ts) picks the CPU; a CPU with a pending
// continuation takes a step of it instead of running, so hypervisor routines
// interleave with guest instructions on the other CPUs under the same seed.
// Every exit goes through the platform's exit chain. The engine owns what
// every way of running needs: deadlock detection (every live CPU made no
// progress since the last decision that did: it retired nothing, or its
// continuation only waited), --max-steps (guest instructions over all
// CPUs), record and replay (schedule files of version 2 hold both kinds of
// decision), breakpoints, watchpoints, and the events the machine reports.
//
// Determinism. The machine changes only through decisions, and each is
// logged. A decision cut short by a breakpoint or a watchpoint is finished
// first when the machine resumes, so the CPUs interleave exactly as they
// would have without the stop; going back in time (goto) rebuilds the
// machine and makes the logged decisions again. The same image, options and
// commands therefore always reach the same states.

import { CpuSet, type CpuSetView } from "./cpu-set.ts";
import { ShootdownError } from "./errors.ts";
import { RoundRobin, RandomInterleaving, PriorityChangePoints, Replay, ReplayDiverged, type Scheduler, type Step, type PackedStep } from "./scheduler.ts";
import { scheduleDescription, type RecordedOptions } from "./schedule-file.ts";
import { describeEnd, endStatus, type RunEnd } from "./run-end.ts";
import type { Continuation, Handled, MachineEvent, StepLabel } from "./exits.ts";
import type { Platform } from "./platform.ts";

/** Why the engine stopped. */
export type StopReason =
  | { kind: "breakpoint"; cpu: number; pc: bigint }
  /** `va` when the watchpoint was set by virtual address (gdb's Z2). */
  | { kind: "watchpoint"; cpu: number; pa: bigint; old: bigint; now: bigint; va?: bigint }
  | { kind: "violation"; cpu: number; messages: string[] }
  | { kind: "step"; cpu: number }
  /** A step of a hypervisor continuation (the CPU runs no guest code until it ends). */
  | { kind: "hv-step"; cpu: number; what: string }
  | { kind: "reached"; cpu: number }
  | { kind: "idle"; cpu: number }
  | { kind: "end"; cpu: number; status: number; message: string }
  | { kind: "interrupted"; cpu: number }
  /** A chunk of a continue is done (the gdb stub looks at its socket between chunks). */
  | { kind: "paused"; cpu: number };

export interface EngineConfig {
  options: RecordedOptions;
  /** Boots a fresh machine with these options; the engine rebuilds it to go back in time. */
  build(options: RecordedOptions, console: (byte: number) => void): Platform;
  /** Follow these decisions instead of the scheduler's. */
  replay?: PackedStep[];
  /** How the replayed run ended when it was recorded. */
  recorded?: { status: number; stateHash: bigint };
  /** Guest console bytes, each once even when the engine goes back in time. */
  console?: (byte: number) => void;
  /** Keep the log of decisions (record, and the debugger's time travel). Default true. */
  log?: boolean;
}

/** How one decision went. */
interface Piece {
  retired: number;
  /** "budget", "exit" (the chain carried it out), "breakpoint", "end", "hv" (a continuation step). */
  stop: "budget" | "exit" | "breakpoint" | "end" | "hv";
  pc?: bigint;
  label?: StepLabel;
}

interface Pending {
  cpu: number;
  left: number;
  retired: number;
  /** What a replayed decision must retire in all. */
  expect?: number;
  /** A redone piece of a decision that went on after it: its budget exit is not the decision's end (runOnce). */
  split?: boolean;
}

type RedoItem = { cpu: number; budget: number; expect: number; split?: boolean } | { pending: Pending } | { hv: number };

const NO_CPUS: CpuSetView = new CpuSet();

/** Instructions `continue` runs at most before it gives up and reports (a guard against an endless loop in a guest). */
export const CONTINUE_LIMIT = 50_000_000n;

export class Engine {
  platform: Platform;
  /** The CPU the user looks at (the debugger's `cpu N`). */
  current = 0;
  protected options!: RecordedOptions;
  private replayPacked: PackedStep[] | undefined;
  private recorded: { status: number; stateHash: bigint } | undefined;
  private scheduler!: Scheduler | Replay;
  private pending: Pending | undefined;
  private readonly continuations: (Continuation | undefined)[] = [];
  /** A continuation's first step, taken already by the handler that started it (Handled "continue", first). */
  private readonly firstSteps: (StepLabel | undefined)[] = [];
  private readonly breakpoints: bigint[] = [];
  /** Watched physical bytes: their value when last looked at, their length, and the VA they were set by. */
  private readonly watchpoints = new Map<bigint, { value: bigint; length: number; va?: bigint }>();
  /** CPUs that stopped at a breakpoint and resume past it. */
  private readonly resumeAt = new Map<number, bigint>();
  private taken: Step[] = [];
  /** How each logged decision ended (going back in time makes them again). */
  private takenStops: Piece["stop"][] = [];
  /** The logged run calls whose budget was not the rest of their decision's (runOnce's decisionEnd false). */
  private pieceSplits = new Set<number>();
  private consoleSeen = 0;
  private consoleAt = 0;
  /**
   * Instructions retired over all CPUs, as a double (exact to 2^53, far
   * beyond any run): a bigint would be a new object at every piece.
   */
  private steps = 0;
  /** Continuation steps taken (a number: a bigint would be a new object at every step). */
  private hvSteps = 0;
  private decisionCount = 0;
  private ended: RunEnd | undefined;
  private idleCpus = new CpuSet();
  /** waiting()'s answer, one set for the whole run. */
  private readonly waitingCpus = new CpuSet();
  private lastStopCpu = 0;
  /** Exits each CPU took, by reason (Maps: an object keyed by a reason in a variable is a megamorphic lookup at every decision). */
  private exitCounts: Map<string, number>[] = [];
  private events: MachineEvent[] = [];
  /**
   * After a goto backwards: the decisions that had been made past that
   * point, and the one in progress, to be made again before the schedule is
   * asked for more.
   */
  private redo: RedoItem[] = [];
  /** Run one instruction per decision piece until this step, while looking for the instruction that used a stale entry. */
  private preciseUntil = 0;
  /** What the last continuation step did (the debugger's `step` says it). */
  private lastStep: StepLabel | undefined;
  /** Each CPU's continuation's last announced step (a wait is only no progress when announced twice in a row). */
  private announcedSteps: (StepLabel | undefined)[] = [];
  /** CPUs whose guest yielded since another CPU last made progress (StepLabel.yields). */
  private yieldingCpus = new CpuSet();
  /**
   * CPUs whose last guest piece ended in a yield exit (Handled.yields), until
   * they run guest code again: what they do meanwhile is no progress.
   */
  private yieldPath = new CpuSet();
  /** The last guest piece's exit was carried out by hypervisor work with no step (Handled.worked). */
  private exitWorked = false;
  /** Stop at events (the debugger); a run only collects them. */
  stopOnEvents = false;
  /** Set by a gdb interrupt (Ctrl-C) to end a continue early. */
  interruptRequested = false;

  /** options.maxSteps as a number (Infinity without one): decide() compares it at every decision, and a bigint would be converted each time. */
  private maxSteps = Infinity;

  private useOptions(o: RecordedOptions): void {
    this.options = o;
    this.maxSteps = o.maxSteps === undefined ? Infinity : Number(o.maxSteps);
  }

  constructor(private readonly config: EngineConfig) {
    this.useOptions(config.options);
    this.replayPacked = config.replay;
    this.recorded = config.recorded;
    this.platform = this.boot();
    this.scheduler = this.makeScheduler();
  }

  private boot(): Platform {
    const p = this.config.build(this.options, (b) => this.consoleByte(b));
    this.continuations.length = 0;
    this.firstSteps.length = 0;
    this.exitCounts = Array.from({ length: p.cpuCount }, () => new Map<string, number>());
    return p;
  }

  private consoleByte(byte: number): void {
    if (++this.consoleAt <= this.consoleSeen) return;
    this.consoleSeen++;
    this.config.console?.(byte);
  }

  private makeScheduler(): Scheduler | Replay {
    if (this.replayPacked) return new Replay(this.replayPacked);
    const o = this.options;
    if (o.mode === "pct") {
      if (!o.pct) throw new ShootdownError("a PCT run needs its depth and horizon");
      return new PriorityChangePoints(o.seed ?? 0n, o.quantum, o.cpus, o.pct);
    }
    return o.mode === "random" ? new RandomInterleaving(o.seed ?? 0n, o.quantum) : new RoundRobin(o.quantum);
  }

  /** Back to the machine as booted, with no decision taken. */
  private restart(): void {
    this.platform = this.boot();
    this.platform.setBreakpoints(this.breakpoints);
    this.scheduler = this.makeScheduler();
    this.pending = undefined;
    this.redo = [];
    this.preciseUntil = 0;
    this.taken = [];
    this.takenStops = [];
    this.pieceSplits = new Set();
    this.consoleAt = 0;
    this.steps = 0;
    this.hvSteps = 0;
    this.decisionCount = 0;
    this.extraWork = 0;
    this.ended = undefined;
    this.idleCpus = new CpuSet();
    this.announcedSteps = [];
    this.yieldingCpus = new CpuSet();
    this.yieldPath = new CpuSet();
    this.events = [];
    this.resumeAt.clear();
    for (const [pa, w] of this.watchpoints) w.value = this.watchValue(pa, w.length);
  }

  get instructionsSoFar(): bigint {
    return BigInt(this.steps);
  }

  get hypervisorSteps(): bigint {
    return BigInt(this.hvSteps);
  }

  get decisions(): number {
    return this.decisionCount;
  }

  /** What PCT's change points are drawn over: the decisions, each counted with its step's weight (StepLabel.weight). */
  get work(): number {
    return this.decisionCount + this.extraWork;
  }

  /** The weights of the steps taken, beyond one per decision. */
  private extraWork = 0;

  /** The decisions taken so far (a schedule file's). */
  get schedule(): readonly Step[] {
    return this.taken;
  }

  get mode(): "round-robin" | "random" | "pct" | "replay" {
    return this.scheduler.mode;
  }

  /** Exits each CPU took, by reason. */
  get exits(): readonly Record<string, number>[] {
    return this.exitCounts.map((counts) => Object.fromEntries(counts));
  }

  /** Everything reported so far (stale TLB uses, sanitizer violations). */
  get reported(): readonly MachineEvent[] {
    return this.events;
  }

  /** Has CPU i a continuation in progress? */
  inHypervisor(i: number): boolean {
    return this.continuations[i] !== undefined;
  }

  // ── One decision ──────────────────────────────────────────────────────────

  /**
   * Runs CPU `cpu` for up to `budget` instructions and carries out its exit;
   * a CPU that stopped at a breakpoint where it now is first runs the
   * instruction there with breakpoints off.
   */
  private runPiece(cpu: number, budget: number, honourBreakpoints: boolean, decisionEnd = true): Piece {
    // Without breakpoints (every explored run) there is nothing to step over: no PC to read.
    if (!this.breakpoints.length) {
      if (this.resumeAt.size) this.resumeAt.delete(cpu);
      return this.runOnce(cpu, budget, decisionEnd);
    }
    const pc = this.platform.pc(cpu);
    const skip = !honourBreakpoints || this.resumeAt.get(cpu) === pc;
    this.resumeAt.delete(cpu);
    if (skip && this.breakpoints.length) {
      this.platform.setBreakpoints([]);
      const first = honourBreakpoints ? this.runOnce(cpu, 1, decisionEnd && budget === 1) : this.runOnce(cpu, budget, decisionEnd);
      this.platform.setBreakpoints(this.breakpoints);
      if (honourBreakpoints && budget > 1 && first.stop === "budget") {
        const rest = this.runPiece(cpu, budget - 1, true, decisionEnd);
        return { ...rest, retired: first.retired + rest.retired };
      }
      return first;
    }
    return this.runOnce(cpu, budget, decisionEnd);
  }

  /**
   * One run call, logged, with its exit handled. `decisionEnd` says whether
   * its budget is the rest of the decision's: only then does a budget exit
   * reach a hypervisor (its time slices and timers are decided at the ends
   * of decisions), so that a decision split into pieces (watchpoints, goto,
   * breakpoints) runs as it does whole and a recorded schedule replays.
   */
  private runOnce(cpu: number, budget: number, decisionEnd = true): Piece {
    this.yieldPath.delete(cpu);
    this.exitWorked = false;
    const timeline = this.platform.timeline;
    timeline.step = this.decisionCount;
    const { retired, exit } = this.platform.run(cpu, budget);
    this.steps += retired;
    if (timeline.on && retired) timeline.emit({ kind: "guest", cpu, retired });
    const counts = this.exitCounts[cpu]!;
    counts.set(exit.reason, (counts.get(exit.reason) ?? 0) + 1);
    let piece: Piece;
    const bp = this.platform.breakpointPc(exit);
    if (bp !== undefined && this.breakpoints.length) piece = { retired, stop: "breakpoint", pc: bp };
    else if (exit.reason === "budget") {
      // The chain sees the end of every budget too (a hypervisor preempts its vCPUs there); the platform passes it.
      const h = this.platform.hasHypervisor && decisionEnd ? this.handleExit(cpu, exit) : undefined;
      piece = { retired, stop: h && h.kind !== "done" ? this.settle(cpu, h) : "budget" };
    } else piece = { retired, stop: this.settle(cpu, this.handleExit(cpu, exit)) };
    this.decisionCount++;
    if (this.config.log !== false) this.log([cpu, budget, retired], piece.stop, decisionEnd);
    return piece;
  }

  /**
   * A CPU that runs guest code (or nothing) and has an interrupt the
   * hypervisor must take (a flush IPI) takes it before anything else: the
   * handler becomes its continuation, as a VM exit for an external interrupt
   * would start it. A CPU already in the hypervisor takes interrupts between
   * the steps of its routine, when its own interrupt flag allows.
   */
  private takeInterrupt(cpu: number): void {
    if (this.continuations[cpu]) return;
    const routine = this.platform.interrupt(cpu);
    if (routine) this.continuations[cpu] = routine;
  }

  /** One step of CPU `cpu`'s continuation, logged. */
  private hvStep(cpu: number): Piece {
    const routine = this.continuations[cpu]!;
    this.hvSteps++;
    const timeline = this.platform.timeline;
    timeline.step = this.decisionCount;
    let piece: Piece;
    let r: Handled | undefined;
    try {
      const first = this.firstSteps[cpu];
      if (first) this.firstSteps[cpu] = undefined;
      const n: IteratorResult<StepLabel, Handled | undefined> = first ? { done: false, value: first } : routine.next();
      if (!n.done) {
        piece = { retired: 0, stop: "hv", label: n.value };
        if (timeline.on) timeline.emit({ kind: "hv-step", cpu, what: n.value.what, wait: n.value.wait === true });
      } else {
        this.continuations[cpu] = undefined;
        r = n.value ?? { kind: "done" };
      }
    } catch (e) {
      r = this.crashed(cpu, e);
    }
    if (r !== undefined) piece = { retired: 0, stop: this.settle(cpu, r), label: { what: "return to the guest" } };
    this.decisionCount++;
    if (this.config.log !== false) this.log([cpu, "hv"], piece!.stop);
    return piece!;
  }

  /** Hands an exit to the platform; a bug in its handler (an exception) ends the run with one line, never a stack. */
  private handleExit(cpu: number, exit: { reason: string }): Handled | undefined {
    try {
      return this.platform.handleExit(cpu, exit);
    } catch (e) {
      return this.crashed(cpu, e);
    }
  }

  /** The end of a run whose handler or continuation threw. */
  private crashed(cpu: number, e: unknown): Handled {
    if (e instanceof ShootdownError) return { kind: "end", end: { kind: "crash", reason: "emulator-error", cpu, message: e.message } };
    const message = `emulator error (a bug in shootdown): ${(e as Error).message ?? String(e)}`;
    return { kind: "end", end: { kind: "crash", reason: "emulator-error", cpu, message } };
  }

  /** Acts on a handler's answer. */
  private settle(cpu: number, h: Handled | undefined): Piece["stop"] {
    if (!h) return "exit";
    if (h.kind === "done") {
      if (h.worked) this.exitWorked = true;
      if (h.yields) {
        this.yieldPath.add(cpu);
        this.yieldingCpus.add(cpu);
      }
      return "exit";
    }
    if (h.kind === "continue") {
      this.continuations[cpu] = h.routine;
      this.firstSteps[cpu] = h.first;
      if (h.yields) this.yieldPath.add(cpu);
      return "exit";
    }
    this.finish(h.end);
    return "end";
  }

  /** Keeps a decision (the caller counted it, and made the step only when the run keeps them). */
  private log(step: Step, stop: Piece["stop"], decisionEnd = true): void {
    this.taken.push(step);
    this.takenStops.push(stop);
    if (!decisionEnd) this.pieceSplits.add(this.taken.length - 1);
  }

  private finish(end: RunEnd): void {
    this.ended ??= end;
  }

  // ── Running under the schedule ────────────────────────────────────────────

  /** The live CPUs, in index order; the array is reused by the next call. */
  private live(): number[] {
    // Written in place, the length set only when it changes: the set of live CPUs rarely does, and this runs at every decision.
    const out = this.liveCpus;
    let k = 0;
    for (let i = 0; i < this.platform.cpuCount; i++) {
      if (!this.platform.live(i)) continue;
      if (out[k] !== i) out[k] = i;
      k++;
    }
    if (out.length !== k) out.length = k;
    return out;
  }

  private readonly liveCpus: number[] = [];

  /** Is every live CPU idle, with no interrupt to take (a parked pCPU a flush IPI woke has work)? */
  private allIdle(live: readonly number[]): boolean {
    if (this.idleCpus.size < live.length) return false;
    for (const c of live) if (!this.idleCpus.has(c) || this.platform.interrupt(c)) return false;
    return true;
  }

  /** The next decision: a redo item, a replayed one, or the scheduler's. Ends the run when there is none. */
  private decide(): Pending | { hv: number } | undefined {
    const item = this.redo.length ? this.redo.shift() : undefined;
    if (item) return "pending" in item ? item.pending : "hv" in item ? item : { cpu: item.cpu, left: item.budget, retired: 0, expect: item.expect, ...(item.split ? { split: true } : {}) };
    const live = this.live();
    if (!live.length) return void this.finish(this.platform.noneLive());
    const max = this.maxSteps;
    if (this.steps >= max) return void this.finish({ kind: "step-limit", steps: BigInt(this.steps) });
    if (this.allIdle(live)) return void this.finish(this.platform.deadlock([...live]));
    try {
      const d = this.scheduler.next(live, this.waiting());
      this.takeInterrupt(d.cpu);
      if ("hv" in d) {
        if (!this.continuations[d.cpu]) throw new ReplayDiverged(`decision ${this.decisionCount} steps CPU ${d.cpu}'s continuation, and it has none`);
        return { hv: d.cpu };
      }
      if (this.continuations[d.cpu]) {
        if ("expect" in d) throw new ReplayDiverged(`decision ${this.decisionCount} runs CPU ${d.cpu}, which is in the hypervisor`);
        return { hv: d.cpu };
      }
      let budget = d.budget;
      if (budget > max - this.steps) budget = max - this.steps;
      return "expect" in d ? { cpu: d.cpu, left: budget, retired: 0, expect: d.expect as number } : { cpu: d.cpu, left: budget, retired: 0 };
    } catch (e) {
      if (!(e instanceof ReplayDiverged)) throw e;
      return void this.finish({ kind: "crash", reason: "replay-diverged", message: `replay diverged: ${e.message}` });
    }
  }

  /**
   * CPU c made progress: no CPU is idle any more, and the CPUs that yielded
   * to let another run may be chosen again (c's own yield stands until
   * another CPU moves). A CPU on its way to giving itself up (yieldPath)
   * releases nobody: otherwise two CPUs spinning on yields would release
   * each other at every turn, and the CPU they wait for would not run until
   * a PCT change point.
   */
  private progressBy(c: number): void {
    if (this.yieldPath.has(c)) {
      this.idleCpus.delete(c);
      return;
    }
    this.idleCpus.clear();
    if (!this.yieldingCpus.size) return;
    const mine = this.yieldingCpus.has(c);
    this.yieldingCpus.clear();
    if (mine) this.yieldingCpus.add(c);
  }

  /**
   * The CPUs that made no progress since the last decision that did and
   * have no interrupt to take, and those whose guest yielded since (the
   * scheduler may pass them over).
   */
  private waiting(): CpuSetView {
    if (!this.idleCpus.size && !this.yieldingCpus.size) return NO_CPUS;
    const out = this.waitingCpus;
    out.clear();
    for (let c = 0; c < this.platform.cpuCount; c++) {
      if ((this.idleCpus.has(c) || this.yieldingCpus.has(c)) && !this.platform.interrupt(c)) out.add(c);
    }
    return out;
  }

  /**
   * Runs under the schedule until something stops it, or until `until`
   * instructions have been retired over all CPUs (goto: breakpoints,
   * watchpoints and events do not stop it then).
   */
  resume(until?: bigint, chunk?: bigint): StopReason {
    const honour = until === undefined;
    const limit = until !== undefined ? Number(until) : chunk === undefined ? undefined : this.steps + Number(chunk);
    if (chunk === undefined) this.interruptRequested = false;
    for (;;) {
      if (this.ended) return this.endStop();
      if (limit !== undefined && this.steps >= limit) return { kind: honour ? "paused" : "reached", cpu: this.lastStopCpu };
      if (this.interruptRequested) return { kind: "interrupted", cpu: this.lastStopCpu };
      if (!this.pending) {
        const d = this.decide();
        if (!d) continue;
        if ("hv" in d) {
          const stop = this.afterHvStep(d.hv, honour);
          if (stop) return stop;
          continue;
        }
        this.pending = d;
      }
      const p = this.pending;
      let piece = p.left;
      if ((this.watchpoints.size || this.steps < this.preciseUntil) && honour) piece = 1;
      if (limit !== undefined && piece > limit - this.steps) piece = limit - this.steps;
      const logged = this.taken.length;
      const resumeFrom = this.resumeAt.size ? this.resumeAt.get(p.cpu) : undefined;
      const r = this.runPiece(p.cpu, piece, honour, piece >= p.left && !p.split);
      if (this.stopOnEvents && honour && piece > 1 && this.platform.eventsPending()) {
        // A stale entry was used somewhere in this call: go back to before
        // it and take the same instructions one at a time, to stop on the
        // very instruction that used it.
        this.rewind(logged);
        if (resumeFrom !== undefined) this.resumeAt.set(p.cpu, resumeFrom);
        this.preciseUntil = this.steps + r.retired;
        continue;
      }
      p.left -= r.retired;
      p.retired += r.retired;
      this.lastStopCpu = p.cpu;
      // A piece can end its budget with fewer instructions retired than it
      // was given (an exception's delivery takes a step); the recording logs
      // it, and the rest of the decision, as pieces of their own, so a replay
      // ends its decision there too and checks that piece alone.
      const spent = p.expect !== undefined && r.stop === "budget" && r.retired < piece;
      const decisionOver = r.stop === "exit" || r.stop === "end" || p.left <= 0 || spent;
      if (decisionOver) {
        this.pending = undefined;
        if (p.expect !== undefined && p.retired !== p.expect) {
          this.finish({ kind: "crash", reason: "replay-diverged", cpu: p.cpu,
            message: `replay diverged: decision ${this.decisionCount - 1}: CPU ${p.cpu} retired ${p.retired} instructions, the schedule says ${p.expect}` });
          return this.endStop();
        }
        if (p.retired > 0 || this.exitWorked) this.progressBy(p.cpu);
        // A CPU whose exit started a continuation has work to do: its steps say whether they make progress.
        else if (this.continuations[p.cpu]) this.idleCpus.delete(p.cpu);
        else this.idleCpus.add(p.cpu);
      }
      const stop = this.afterPiece(p.cpu, r, honour);
      if (stop) return stop;
    }
  }

  /** What stops the engine after a piece: events, a watchpoint, a breakpoint, the end. */
  private afterPiece(cpu: number, r: Piece, honour: boolean): StopReason | undefined {
    if (!this.platform.eventsPending()) {
      // The common case, at every decision: what follows with no events.
      if (r.stop === "end") return this.endStop();
      return this.afterQuietPiece(cpu, r, honour);
    }
    const events = this.platform.takeEvents();
    if (events.length) this.events.push(...events);
    // A sanitizer violation ends the run (status 4) unless --keep-going counts them.
    const violation = events.find((e) => e.kind === "violation");
    if (violation && !this.options.keepGoing) {
      const step = typeof violation.detail?.step === "number" ? violation.detail.step : this.decisionCount - 1;
      // The violation happened inside the piece, before the exit that ended
      // the run in it (a debug-exit write right after a stale access): it is
      // the run's end.
      if (r.stop === "end" && this.ended?.kind !== "violation") this.ended = undefined;
      this.finish({ kind: "violation", cpu: violation.cpu, message: violation.message, step });
      if (!(honour && this.stopOnEvents)) return this.endStop();
    }
    if (events.length) this.preciseUntil = 0;
    const stopForEvents = events.length && honour && this.stopOnEvents;
    if (r.stop === "end" && !stopForEvents) return this.endStop();
    if (stopForEvents) return { kind: "violation", cpu: events[0]!.cpu, messages: events.map((v) => v.message) };
    return this.afterQuietPiece(cpu, r, honour);
  }

  /** After a piece that reported nothing: a watchpoint hit, a breakpoint. */
  private afterQuietPiece(cpu: number, r: Piece, honour: boolean): StopReason | undefined {
    if (honour && this.watchpoints.size) {
      const w = this.watchHit(cpu);
      if (w) return w;
    }
    if (r.stop === "breakpoint") {
      this.resumeAt.set(cpu, r.pc!);
      this.current = cpu;
      return { kind: "breakpoint", cpu, pc: r.pc! };
    }
    return undefined;
  }

  /** One continuation step as a decision of its own. */
  private afterHvStep(cpu: number, honour: boolean): StopReason | undefined {
    const r = this.hvStep(cpu);
    // The step just taken is the one the routine announced last time. It
    // only waited when that was a wait and the routine announces the very
    // same wait again (its condition still holds): a step that ends in a
    // new wait, or leaves one, did something.
    const announced = this.announcedSteps[cpu];
    const extra = (announced?.weight ?? 1) - 1;
    if (extra > 0) {
      this.extraWork += extra;
      if ("elapse" in this.scheduler) this.scheduler.elapse?.(extra);
    }
    if (announced?.wait && r.label?.wait && r.label.what === announced.what) this.idleCpus.add(cpu);
    else this.progressBy(cpu);
    if (r.label?.yields) this.yieldingCpus.add(cpu);
    this.announcedSteps[cpu] = r.stop === "hv" ? r.label : undefined;
    this.lastStep = r.label;
    this.lastStopCpu = cpu;
    return this.afterPiece(cpu, r, honour);
  }

  private endStop(): StopReason {
    const e = this.ended!;
    const cpu = "cpu" in e && e.cpu !== undefined ? e.cpu : 0;
    return { kind: "end", cpu, status: endStatus(e), message: describeEnd(e) };
  }

  /** Runs to the end of the run (`shootdown run`): no breakpoints, nothing stops it but the end. */
  runToEnd(): RunEnd {
    try {
      while (!this.ended) this.resume();
    } catch (e) {
      // A WebAssembly trap or a bug on the host side: still one line for the user, never a stack.
      this.finish({ kind: "crash", reason: "emulator-error", message: `emulator error (a bug in shootdown): ${(e as Error).message ?? String(e)}` });
    }
    return this.ended!;
  }

  /** N instructions on one CPU, each a decision of its own (a CPU in the hypervisor takes N hypervisor steps). */
  step(n = 1, cpu = this.current): StopReason {
    if (this.ended) return this.endStop();
    if (!this.platform.live(cpu)) {
      // An AArch64 CPU that does not run is off until PSCI CPU_ON (a stopped one has ended the run).
      throw new ShootdownError(this.platform.arch === "aarch64" ? `CPU ${cpu} is off (PSCI CPU_ON starts it)` : `CPU ${cpu} is stopped`);
    }
    this.resumeAt.set(cpu, this.platform.pc(cpu));
    for (let i = 0; i < n; i++) {
      this.takeInterrupt(cpu);
      if (this.continuations[cpu]) {
        const stop = this.afterHvStep(cpu, true);
        if (stop) return stop;
        if (i === n - 1) return { kind: "hv-step", cpu, what: this.lastStep?.what ?? "return to the guest" };
        continue;
      }
      const r = this.runPiece(cpu, 1, true);
      const stop = this.afterPiece(cpu, r, true);
      if (stop) return stop;
      if (r.retired === 0 && !this.continuations[cpu]) return { kind: "idle", cpu };
    }
    // Landing on a breakpoint by stepping is not hitting it: continue goes on from here.
    this.resumeAt.set(cpu, this.platform.pc(cpu));
    return { kind: "step", cpu };
  }


  // ── Breakpoints and watchpoints ───────────────────────────────────────────

  setBreakpoint(address: bigint): void {
    if (!this.breakpoints.includes(address)) {
      this.breakpoints.push(address);
      this.platform.setBreakpoints(this.breakpoints);
    }
  }

  removeBreakpoint(address?: bigint): boolean {
    const before = this.breakpoints.length;
    if (address === undefined) this.breakpoints.length = 0;
    else {
      const i = this.breakpoints.indexOf(address);
      if (i >= 0) this.breakpoints.splice(i, 1);
    }
    this.platform.setBreakpoints(this.breakpoints);
    return this.breakpoints.length !== before;
  }

  /** Physical bytes as a debugger reads them; undefined outside RAM. The debugger reads through the data caches. */
  protected peekPhysical(pa: bigint, length: number): Uint8Array | undefined {
    const m = this.platform.machine.memory;
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const at = pa + BigInt(i);
      const word = m.peek64(at & ~7n);
      if (word === undefined) return undefined;
      out[i] = Number((word >> (8n * (at & 7n))) & 0xffn);
    }
    return out;
  }

  private watchValue(pa: bigint, length: number): bigint {
    const b = this.peekPhysical(pa, length);
    if (!b) return -1n;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
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
   * Watches `length` bytes at physical pa for a change by any CPU (`va`:
   * the virtual address it was asked for, which a stop reports); returns
   * their value now.
   */
  watch(pa: bigint, length = 8, va?: bigint): bigint {
    const value = this.watchValue(pa, length);
    if (value < 0n) throw new ShootdownError(`physical address 0x${pa.toString(16)} is not RAM`);
    this.watchpoints.set(pa, { value, length, ...(va !== undefined ? { va } : {}) });
    return value;
  }

  unwatch(pa: bigint): boolean {
    return this.watchpoints.delete(pa);
  }

  // ── The end, and replays ──────────────────────────────────────────────────

  get endedWith(): { status: number; message: string; cpu: number } | undefined {
    if (!this.ended) return undefined;
    const s = this.endStop() as { cpu: number; status: number; message: string };
    return { status: s.status, message: s.message, cpu: s.cpu };
  }

  /** How the run ended, as a record. */
  get end(): RunEnd | undefined {
    return this.ended;
  }

  /** After a replayed run ended: did it end as the recording says? */
  replayVerdict(): string | undefined {
    if (!this.recorded || !this.ended) return undefined;
    const hash = this.platform.stateHash();
    const r = this.recorded;
    const status = endStatus(this.ended);
    if (r.status === status && r.stateHash === hash) return `the replay reproduced the recorded run (state hash 0x${hash.toString(16)})`;
    return `the recorded run ended with status ${r.status} and state hash 0x${r.stateHash.toString(16)}, this one with status ${status} and 0x${hash.toString(16)}`;
  }

  /** The CPU the last decision ran. */
  get lastCpu(): number {
    return this.lastStopCpu;
  }

  /** How the decisions are made: "round-robin, quantum 1000", "replay of N recorded decisions" … */
  get scheduleName(): string {
    const o = this.options;
    if (this.replayPacked) return `replay of ${this.replayPacked.length} recorded decisions`;
    return scheduleDescription(o);
  }

  /** The decision a stop interrupted, still to be finished. */
  get unfinished(): { cpu: number; left: number } | undefined {
    return this.pending && { cpu: this.pending.cpu, left: this.pending.left };
  }

  /** Follows a recorded schedule from step 0 (the debugger's `replay F`). */
  replayFrom(options: RecordedOptions, decisions: PackedStep[], recorded: { status: number; stateHash: bigint }): void {
    this.useOptions(options);
    this.replayPacked = decisions;
    this.recorded = recorded;
    this.restart();
  }

  // ── Going back in time ────────────────────────────────────────────────────

  /**
   * Back to the state after the first `calls` logged decisions: a fresh
   * machine, and those decisions again, each for what it retired (an exit
   * ends a call on the instruction that caused it, so it ends there again),
   * with breakpoints off. The scheduler's own state is not touched: the
   * decisions after the rewind are the ones that would have come anyway.
   */
  private rewind(calls: number): void {
    const log = this.taken.slice(0, calls);
    const stops = this.takenStops.slice(0, calls);
    const splits = this.pieceSplits;
    this.platform = this.boot();
    this.consoleAt = 0;
    this.taken = [];
    this.takenStops = [];
    this.pieceSplits = new Set();
    this.steps = 0;
    this.hvSteps = 0;
    this.decisionCount = 0;
    this.ended = undefined;
    this.events = [];
    log.forEach((step, i) => {
      if (step[1] === "hv") return void this.hvStep(step[0]);
      const [cpu, asked, retired] = step;
      // A breakpoint stop that retired nothing changed nothing; a halted CPU's call may still move its clock.
      if (retired === 0 && stops[i] === "breakpoint") return;
      this.runOnce(cpu, retired > 0 ? retired : asked, !splits.has(i));
    });
    this.platform.takeEvents();
    this.platform.setBreakpoints(this.breakpoints);
    for (const [pa, w] of this.watchpoints) w.value = this.watchValue(pa, w.length);
  }

  /** Back to an earlier step: the machine as it was at the last decision that ended at or before it, the rest to redo. */
  private travelBack(target: bigint): void {
    let calls = 0;
    let at = 0n;
    const retiredOf = (s: Step) => (s[1] === "hv" ? 0 : s[2]);
    while (calls < this.taken.length && at + BigInt(retiredOf(this.taken[calls]!)) <= target) at += BigInt(retiredOf(this.taken[calls++]!));
    const tail = this.taken.slice(calls).map((step, i) => ({ step, stop: this.takenStops[calls + i]!, split: this.pieceSplits.has(calls + i) }));
    const pending = this.pending;
    this.rewind(calls);
    this.preciseUntil = 0;
    this.idleCpus = new CpuSet();
    this.announcedSteps = [];
    this.yieldingCpus = new CpuSet();
    this.yieldPath = new CpuSet();
    this.resumeAt.clear();
    this.pending = undefined;
    const again: RedoItem[] = [];
    for (const { step, stop, split } of tail) {
      if (step[1] === "hv") again.push({ hv: step[0] });
      // A call cut short by a breakpoint ran what it retired; one that retired nothing there changed nothing.
      else if (step[2] > 0 || stop !== "breakpoint") again.push({ cpu: step[0], budget: step[2] > 0 ? step[2] : step[1], expect: step[2], ...(split ? { split: true } : {}) });
    }
    this.redo = [...again, ...(pending ? [{ pending: { ...pending } }] : []), ...this.redo];
  }

  /** Runs, or goes back and runs, until `target` instructions over all CPUs (or the run ends). */
  goto(target: bigint): StopReason {
    if (Number(target) < this.steps) this.travelBack(target);
    const stop = this.resume(target);
    if (stop.kind !== "end") this.current = this.lastStopCpu;
    return stop;
  }
}
