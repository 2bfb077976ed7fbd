// SPDX-License-Identifier: MIT
//
// A debugging session: one target (target.ts), the schedule that drives its
// CPUs, breakpoints, watchpoints, and the REPL's commands. The gdb stub
// drives the same object (step, resume) and runs these commands for
// `monitor`.
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
import { RoundRobin, RandomInterleaving, packSteps, type Scheduler, type Step } from "../machine/scheduler.ts";
import { parseSchedule, type RecordedOptions } from "../machine/schedule-file.ts";
import { sha256 } from "../machine/x86-run.ts";
import { hex, leValue, symbolize, type CpuRun, type DebugTarget, type WalkOp, type WalkPriv } from "./target.ts";

/** ANSI styling for a terminal; identity functions when output is not one. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

export const PLAIN: Style = { bold: (s) => s, dim: (s) => s, red: (s) => s, green: (s) => s, yellow: (s) => s, cyan: (s) => s };
const sgr = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
export const ANSI: Style = { bold: sgr(1), dim: sgr(2), red: sgr(31), green: sgr(32), yellow: sgr(33), cyan: sgr(36) };

/** Why the machine stopped, as the gdb stub reports it. */
export type StopReason =
  | { kind: "breakpoint"; cpu: number; pc: bigint }
  | { kind: "watchpoint"; cpu: number; pa: bigint; old: bigint; now: bigint }
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
  /** Builds a target for an image (x86-64 or AArch64, target-factory.ts). */
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

const COMMANDS = [
  "step", "stepi", "cpu", "continue", "break", "delete", "watch", "regs", "x", "disasm", "walk", "tlb", "cache", "sched",
  "replay", "goto", "help", "quit",
];

export const HELP = `commands (addresses are numbers, symbols, symbol+offset or $register):
  step [N] | stepi [N]     run N instructions (default 1) on the current CPU
  cpu K                    make CPU K the current one
  continue                 run every CPU under the schedule until a breakpoint,
                           watchpoint, missing invalidation, or the end
  break ADDR|SYMBOL        stop any CPU when it reaches ADDR (linear address)
  delete [ADDR]            remove a breakpoint (all without ADDR)
  watch PADDR              stop when the 8 bytes at physical PADDR change
  regs                     registers of the current CPU, with the paging ones
  x/N[bhwg][p] ADDR        N units at virtual ADDR through the current CPU's
                           MMU (p: ADDR is physical)
  disasm [ADDR] [N]        N instructions (default 8) from ADDR (default PC)
  walk VA [op] [priv]      the page walk for VA from the tables in memory:
                           every level and the permission decision
                           (op read|write|fetch, priv kernel|user)
  tlb [CPU]                live TLB and walk-cache entries, stale ones marked
  cache [CPU]              dirty data-cache lines by set/way (AArch64)
  sched                    the schedule so far
  replay F                 load the schedule recorded in F (run --record)
  goto STEP                run (or rerun) until STEP instructions in all
  quit`;

/** Instructions `continue` runs at most before it gives up and reports (a guard against an endless loop in a guest). */
const CONTINUE_LIMIT = 50_000_000n;

export class Session {
  target: DebugTarget;
  current = 0;
  private options: RecordedOptions;
  private replaySteps: Step[] | undefined;
  private source: DecisionSource;
  private pending: Pending | undefined;
  private readonly breakpoints: bigint[] = [];
  private readonly watchpoints = new Map<bigint, bigint>();
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
  /** Run one instruction per call until the violation a rewind looks for shows. */
  private precise = false;
  /** Set by a gdb interrupt (Ctrl-C) to end a continue early. */
  interruptRequested = false;

  constructor(private readonly config: SessionConfig, public style: Style = PLAIN) {
    this.options = config.options;
    this.replaySteps = config.replay;
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
    this.taken = [];
    this.takenStops = [];
    this.consoleAt = 0;
    this.steps = 0n;
    this.ended = undefined;
    this.idle = new Set();
    this.resumeAt.clear();
    this.consoleLine = "";
    for (const pa of this.watchpoints.keys()) this.watchpoints.set(pa, this.watchValue(pa));
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
    for (const pa of this.watchpoints.keys()) this.watchpoints.set(pa, this.watchValue(pa));
  }

  private watchValue(pa: bigint): bigint {
    const b = this.target.readPhysical(pa, 8);
    return b ? leValue(b) : -1n;
  }

  /** The first watchpoint whose bytes changed, updating the remembered values. */
  private watchHit(cpu: number): StopReason | undefined {
    let hit: StopReason | undefined;
    for (const [pa, old] of this.watchpoints) {
      const now = this.watchValue(pa);
      if (now !== old) {
        this.watchpoints.set(pa, now);
        hit ??= { kind: "watchpoint", cpu, pa, old, now };
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
      if ((this.watchpoints.size || this.precise) && honour) piece = 1;
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
        this.precise = true;
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
      if (violations.length) this.precise = false;
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
    if (!this.target.live(cpu)) throw new ShootdownError(`CPU ${cpu} is stopped`);
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

  // ── The REPL's commands ────────────────────────────────────────────────────

  /** Command names and symbols, for completion. */
  completions(): string[] {
    return [...COMMANDS, ...this.target.symbolTable.map((s) => s.name)];
  }

  /** Runs one command line; returns its output lines. Throws ShootdownError for a bad command. */
  execute(line: string): string[] {
    const text = line.trim();
    if (!text || text.startsWith("#")) return [];
    const xm = /^x\/(\S*)\s+(.+)$/.exec(text);
    if (xm) return this.examine(xm[1]!, xm[2]!);
    const [cmd, ...args] = text.split(/\s+/);
    switch (cmd) {
      case "step": case "stepi": case "s": case "si": {
        const n = args[0] === undefined ? 1 : this.count(args[0]);
        return this.describe(this.step(n));
      }
      case "cpu": {
        if (args.length !== 1) throw new ShootdownError("usage: cpu K");
        const k = this.count(args[0]!, 0);
        if (k >= this.target.cpuCount) throw new ShootdownError(`no CPU ${k} (the machine has ${this.target.cpuCount})`);
        this.current = k;
        return [`current CPU ${k}`, ...this.here(k)];
      }
      case "continue": case "c": case "cont":
        return this.describe(this.resume());
      case "break": case "b": {
        if (args.length !== 1) throw new ShootdownError("usage: break ADDR|SYMBOL");
        const a = this.address(args[0]!);
        this.setBreakpoint(a);
        const s = symbolize(this.target.symbols, a);
        return [`breakpoint at ${hex(a)}${s ? ` <${s}>` : ""}`];
      }
      case "delete": {
        const a = args[0] === undefined ? undefined : this.address(args[0]);
        if (!this.removeBreakpoint(a)) throw new ShootdownError(a === undefined ? "no breakpoints" : `no breakpoint at ${hex(a)}`);
        return [a === undefined ? "all breakpoints deleted" : `breakpoint at ${hex(a)} deleted`];
      }
      case "watch": {
        if (args.length !== 1) throw new ShootdownError("usage: watch PADDR");
        const pa = this.number(args[0]!);
        if (!this.target.readPhysical(pa, 8)) throw new ShootdownError(`physical address ${hex(pa)} is not RAM`);
        this.watchpoints.set(pa, this.watchValue(pa));
        return [`watchpoint on physical ${hex(pa)} (8 bytes, now ${hex(this.watchValue(pa))})`];
      }
      case "regs": case "registers":
        return this.regs(args[0] === undefined ? this.current : this.cpuArg(args[0]));
      case "disasm": case "dis":
        return this.disasm(args[0] === undefined ? undefined : this.address(args[0]), args[1] === undefined ? 8 : this.count(args[1]));
      case "walk":
        return this.walkCommand(args);
      case "tlb":
        return this.tlbCommand(args[0] === undefined ? this.current : this.cpuArg(args[0]));
      case "cache":
        return this.cacheCommand(args[0] === undefined ? this.current : this.cpuArg(args[0]));
      case "sched":
        return this.sched();
      case "replay":
        if (args.length !== 1) throw new ShootdownError("usage: replay FILE");
        return this.replay(args[0]!);
      case "goto":
        if (args.length !== 1) throw new ShootdownError("usage: goto STEP");
        return this.goto(this.number(args[0]!));
      case "help": case ".help":
        return HELP.split("\n");
      default:
        throw new ShootdownError(`unknown command '${cmd}' (help lists them)`);
    }
  }

  private count(text: string, min = 1): number {
    if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new ShootdownError(`'${text}' is not a number`);
    const n = Number(BigInt(text));
    if (n < min || n > 1e9) throw new ShootdownError(`${text} is out of range`);
    return n;
  }

  private cpuArg(text: string): number {
    const k = this.count(text, 0);
    if (k >= this.target.cpuCount) throw new ShootdownError(`no CPU ${k} (the machine has ${this.target.cpuCount})`);
    return k;
  }

  private number(text: string): bigint {
    if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) throw new ShootdownError(`'${text}' is not an address`);
    return BigInt(text);
  }

  /** A number, a symbol, symbol±offset, or $register of the current CPU. */
  address(text: string): bigint {
    const m = /^([^+-]+)(?:([+-])(.+))?$/.exec(text);
    if (!m) throw new ShootdownError(`'${text}' is not an address`);
    let base: bigint;
    const head = m[1]!;
    if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(head)) base = BigInt(head);
    else if (head.startsWith("$")) {
      const name = head.slice(1) === "pc" ? this.target.registers().find((r) => r.type === "code_ptr")?.name : head.slice(1);
      const i = this.target.registers().findIndex((r) => r.name === name);
      if (i < 0) throw new ShootdownError(`no register '${head}'`);
      base = this.target.readRegisters(this.current)[i]!;
    } else {
      const s = this.target.symbolTable.find((x) => x.name === head);
      if (!s) throw new ShootdownError(`unknown symbol '${head}'`);
      base = s.value;
    }
    if (m[2]) base = m[2] === "+" ? base + this.number(m[3]!) : base - this.number(m[3]!);
    return BigInt.asUintN(64, base);
  }

  private where(a: bigint): string {
    const s = symbolize(this.target.symbols, a);
    return `${hex(a)}${s ? ` <${s}>` : ""}`;
  }

  /** The instruction a CPU is at. */
  private here(cpu: number): string[] {
    return this.disasmLines(cpu, this.target.pc(cpu), 1);
  }

  /** Lines that say why the machine stopped. */
  describe(stop: StopReason): string[] {
    const st = this.style;
    const out: string[] = [];
    switch (stop.kind) {
      case "breakpoint":
        out.push(st.yellow(`CPU ${stop.cpu} stopped at breakpoint ${this.where(stop.pc)}`));
        break;
      case "watchpoint":
        this.current = stop.cpu;
        out.push(st.yellow(`CPU ${stop.cpu} wrote physical ${hex(stop.pa)}: ${hex(stop.old)} → ${hex(stop.now)} (watchpoint)`));
        break;
      case "violation":
        this.current = stop.cpu;
        out.push(...stop.messages.map((m) => st.red(`violation: ${m}`)));
        break;
      case "idle":
        out.push(`CPU ${stop.cpu} is halted, waiting for an interrupt (continue lets the other CPUs run)`);
        break;
      case "end":
        this.flushConsole();
        return [st.bold(`the run ended: ${stop.message} (status ${stop.status})`)];
      case "interrupted":
        out.push(`interrupted on CPU ${stop.cpu}`);
        break;
      case "reached":
        out.push(`at step ${this.steps}`);
        break;
      case "paused":
        out.push(`still running after ${CONTINUE_LIMIT} instructions (continue again to go on)`);
        break;
      case "step":
        break;
    }
    this.flushConsole();
    return [...out, ...this.here(stop.kind === "reached" ? this.current : stop.cpu)];
  }

  private regs(cpu: number): string[] {
    const st = this.style;
    const regs = this.target.registers();
    const out = [st.bold(`CPU ${cpu}`)];
    let values: bigint[] | undefined;
    try {
      values = this.target.readRegisters(cpu);
    } catch (e) {
      // The system registers may be there when the general ones are not (AArch64 before its CPU).
      if (!(e instanceof ShootdownError)) throw e;
      out.push(`general registers: ${e.message}`);
    }
    if (values) {
      const v = values;
      const cells = regs.map((r, i) => ({ r, v: v[i]! })).filter(({ r }) => r.group === "general")
        .map(({ r, v }) => `${st.cyan(r.name.padEnd(7))} ${hex(v).padEnd(18)}`);
      for (let i = 0; i < cells.length; i += 3) out.push(cells.slice(i, i + 3).join("  ").trimEnd());
    }
    out.push(...this.target.systemRegisterLines(cpu));
    return out;
  }

  private examine(format: string, addrText: string): string[] {
    const m = /^([0-9]*)([bhwgxp]*)$/.exec(format);
    if (!m) throw new ShootdownError(`bad format '/${format}' (x/N[bhwg][p] ADDR)`);
    const n = m[1] ? this.count(m[1]) : 1;
    const letters = m[2]!;
    const size = letters.includes("b") ? 1 : letters.includes("h") ? 2 : letters.includes("w") ? 4 : 8;
    const physical = letters.includes("p");
    const addr = physical ? this.number(addrText) : this.address(addrText);
    const length = n * size;
    let bytes: Uint8Array;
    let faultAt: bigint | undefined;
    if (physical) {
      const b = this.target.readPhysical(addr, length);
      if (!b) throw new ShootdownError(`physical ${hex(addr)}: not RAM`);
      bytes = b;
    } else {
      ({ bytes, faultAt } = this.target.readVirtual(this.current, addr, length));
      if (!bytes.length) throw new ShootdownError(`cannot read ${hex(addr)}: not mapped on CPU ${this.current}`);
    }
    const perLine = Math.max(1, 16 / size);
    const out: string[] = [];
    for (let i = 0; i * size < bytes.length; i += perLine) {
      const at = addr + BigInt(i * size);
      const words: string[] = [];
      for (let j = i; j < Math.min(i + perLine, Math.floor(bytes.length / size)); j++) {
        words.push(`0x${leValue(bytes.subarray(j * size, (j + 1) * size)).toString(16).padStart(2 * size, "0")}`);
      }
      if (!words.length) break;
      out.push(`${physical ? `phys ${hex(at)}` : this.where(at)}:  ${words.join(" ")}`);
    }
    if (faultAt !== undefined) out.push(this.style.red(`cannot read ${hex(faultAt)}: not mapped on CPU ${this.current}`));
    return out;
  }

  private disasmLines(cpu: number, from: bigint, n: number): string[] {
    const pc = this.target.pc(cpu);
    const out: string[] = [];
    let a = from;
    for (let i = 0; i < n; i++) {
      const d = this.target.disassembleOne(cpu, a);
      const mark = a === pc ? "=>" : "  ";
      if (!d) {
        out.push(`${mark} ${this.where(a)}: ${this.style.red("cannot fetch (not mapped)")}`);
        break;
      }
      const bytes = [...d.bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      out.push(`${mark} ${this.where(a)}:  ${bytes.padEnd(24)} ${d.text}`);
      a += BigInt(d.length);
    }
    return out;
  }

  private disasm(addr: bigint | undefined, n: number): string[] {
    return this.disasmLines(this.current, addr ?? this.target.pc(this.current), n);
  }

  private walkCommand(args: string[]): string[] {
    if (!args.length || args.length > 3) throw new ShootdownError("usage: walk VA [read|write|fetch] [kernel|user]");
    const va = this.address(args[0]!);
    const op = (args[1] ?? "read") as WalkOp;
    if (!["read", "write", "fetch"].includes(op)) throw new ShootdownError(`op must be read, write or fetch, not '${op}'`);
    const priv = (args[2] ?? "kernel") as WalkPriv;
    if (!["kernel", "user"].includes(priv)) throw new ShootdownError(`priv must be kernel or user, not '${priv}'`);
    return this.walkLines(this.current, va, op, priv);
  }

  walkLines(cpu: number, va: bigint, op: WalkOp, priv: WalkPriv): string[] {
    const st = this.style;
    const w = this.target.walk(cpu, va, op, priv);
    const out = [st.bold(`walk ${this.where(va)} on CPU ${cpu} from ${w.root}`)];
    for (const l of w.levels) {
      out.push(`  ${l.name.padEnd(6)} at ${hex(l.entryPa).padEnd(14)} = 0x${l.value.toString(16).padStart(16, "0")}  ${l.decoded}`);
    }
    if (w.stop) out.push(`  stop: ${w.stop}`);
    out.push(`  ${w.ok ? st.green(w.decision) : st.red(w.decision)}`);
    return out;
  }

  tlbLines(cpu: number): string[] {
    const st = this.style;
    const entries = this.target.tlb(cpu);
    const out = [st.bold(`CPU ${cpu}: ${entries.length} live entries`)];
    const rows = entries.map((e) => [
      e.structure, hex(e.va), `→ ${hex(e.pa)}`, e.tags, e.perms,
      e.stale === "fresh" ? "ok" : e.stale === "unknown" ? "? (another address space)" : `STALE: ${e.stale.why}`,
    ]);
    const widths = [0, 1, 2, 3, 4].map((c) => Math.max(0, ...rows.map((r) => r[c]!.length)));
    for (const r of rows) {
      const cells = r.slice(0, 5).map((c, i) => c.padEnd(widths[i]!));
      const last = r[5]!;
      out.push(`  ${cells.join("  ")}  ${last.startsWith("STALE") ? st.red(last) : last === "ok" ? st.green(last) : st.dim(last)}`);
    }
    return out;
  }

  private tlbCommand(cpu: number): string[] {
    return this.tlbLines(cpu);
  }

  private cacheCommand(cpu: number): string[] {
    const lines = this.target.cache(cpu);
    const out = [this.style.bold(`CPU ${cpu}: ${lines.length} dirty lines`)];
    for (const l of lines) {
      const bytes = [...l.bytes.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
      out.push(`  ${l.level.padEnd(6)} set ${String(l.set).padStart(4)} way ${String(l.way).padStart(2)}  PA ${hex(l.pa).padEnd(14)} ${bytes} …`);
    }
    return out;
  }

  private sched(): string[] {
    const p = this.pending;
    const out = [
      `schedule: ${this.source.name}; ${this.taken.length} decisions taken, ${this.steps} instructions`,
      ...(p ? [`unfinished decision: CPU ${p.cpu}, ${p.left} instructions left`] : []),
      ...(this.ended ? [`the run ended: ${this.ended.message} (status ${this.ended.status})`] : []),
    ];
    const packed = packSteps(this.taken);
    const tail = packed.slice(-12);
    if (packed.length > tail.length) out.push(`  … ${packed.length - tail.length} earlier`);
    for (const s of tail) out.push(`  ${JSON.stringify(s)}`);
    out.push(`state hash ${hex(this.target.stateHash())}`);
    return out;
  }

  private replay(path: string): string[] {
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
    this.restart();
    const total = s.steps.reduce((n, d) => n + d[2], 0);
    return [`loaded ${s.steps.length} decisions (${total} instructions) from ${path}; the machine is back at step 0 (goto STEP runs to a step)`];
  }

  /** Back to an earlier step: the machine as it was at the last run call that ended at or before it, the rest to redo. */
  private travelBack(target: bigint): void {
    let calls = 0;
    let at = 0n;
    while (calls < this.taken.length && at + BigInt(this.taken[calls]![2]) <= target) at += BigInt(this.taken[calls++]![2]);
    const tail = this.taken.slice(calls).map((step, i) => ({ step, stop: this.takenStops[calls + i]! }));
    const pending = this.pending;
    this.rewind(calls);
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

  private goto(target: bigint): string[] {
    if (target < this.steps) this.travelBack(target);
    const stop = this.resume(target);
    if (stop.kind === "end") return this.describe(stop);
    this.current = this.lastStopCpu;
    this.flushConsole();
    return [`at step ${this.steps}, CPU ${this.current}`, ...this.here(this.current)];
  }
}
