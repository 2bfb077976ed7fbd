// SPDX-License-Identifier: MIT
//
// The runner of `shootdown run`, for either architecture: asks the scheduler
// for decisions and carries them out, handing each CPU's exits to the
// architecture's port (x86-run.ts, arm-run.ts), until the run ends:
//
//   guest result   the guest wrote the debug-exit port (x86-64) or called
//                  PSCI SYSTEM_OFF / SYSTEM_RESET (AArch64)
//   crash          a CPU stopped on a fault the machine cannot go on from,
//                  or every live CPU made no progress since the last one
//                  that did (all waiting with nothing pending)
//   step limit     --max-steps instructions were retired over all CPUs
//
// Everything here is a function of the configuration: no clock, no
// Math.random, no iteration over anything unordered.

import { createHash } from "node:crypto";
import type { Machine, Arch } from "./machine.ts";
import { RoundRobin, RandomInterleaving, Replay, ReplayDiverged, type Scheduler, type Step } from "./scheduler.ts";
import type { Counters } from "./counters.ts";
import type { RecordedOptions } from "./schedule-file.ts";
import type { UnknownPort } from "./devices.ts";

export interface RunConfig extends RecordedOptions {
  image: Uint8Array;
  /** Follow these decisions instead of the mode's (--replay). */
  replay?: Step[];
  /** Keep the decisions taken (--record). */
  record?: boolean;
  /** Console bytes, as the guest writes them. */
  console: (byte: number) => void;
  /**
   * "on-demand": the report's stateHash is computed when first read (hashing
   * all of RAM costs more than a short run), for a caller that runs the
   * machine no further; "eager" (the default) computes it with the report.
   */
  stateHash?: "eager" | "on-demand";
}

export type CrashReason =
  | "triple-fault" | "bus-error" | "deadlock" | "vmcall" | "breakpoint" | "stopped" | "emulator-error" | "replay-diverged"
  | "exception-loop" | "hvc" | "smc" | "trap" | "off";

export type RunEnd =
  | { kind: "debug-exit"; code: bigint; cpu: number }
  | { kind: "power-off"; reset: boolean; cpu: number }
  | { kind: "crash"; reason: CrashReason; message: string; cpu?: number; pc?: bigint }
  | { kind: "step-limit"; steps: bigint };

export interface CpuReport {
  index: number;
  instructions: bigint;
  cycles: bigint;
  /** RIP or PC. */
  pc: bigint;
  /** Halted (x86-64 HLT) or waiting (AArch64 WFI). */
  halted: boolean;
  /** Stopped for good (x86-64) or powered off (AArch64). */
  stopped: boolean;
  /** Exits the runner saw from this CPU, by reason. */
  exits: Record<string, number>;
  counters: Counters;
}

export interface RunReport {
  arch: Arch;
  end: RunEnd;
  /** 0 success, 1 guest-reported failure, 2 crash, 3 step limit. */
  status: number;
  mode: Scheduler["mode"];
  cpus: CpuReport[];
  /** Instructions over all CPUs. */
  steps: bigint;
  decisions: number;
  consoleBytes: number;
  unknownPorts: UnknownPort[];
  stateHash: bigint;
  imageSha256: string;
  /** The decisions taken, when recording. */
  schedule?: Step[];
}

export const STATUS = { SUCCESS: 0, GUEST_FAILURE: 1, CRASH: 2, STEP_LIMIT: 3 } as const;

/** The exit status of a run that ended so. */
export function endStatus(end: RunEnd): number {
  return end.kind === "debug-exit" ? (end.code === 0n ? STATUS.SUCCESS : STATUS.GUEST_FAILURE)
    : end.kind === "power-off" ? (end.reset ? STATUS.GUEST_FAILURE : STATUS.SUCCESS)
    : end.kind === "step-limit" ? STATUS.STEP_LIMIT
    : STATUS.CRASH;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** --tlb-chaos P: one random eviction every round(1/P) translations on average. */
export function chaosInterval(p: number): number {
  return Math.max(1, Math.round(1 / p));
}

/** What the runner needs of a CPU of either architecture. */
export interface RunnableCpu<E extends { reason: string }> {
  readonly index: number;
  run(budget: number): E;
  readonly progress: { instructions: bigint; cycles: bigint };
  counters(): Counters;
}

/** What an architecture adds to the runner. */
export interface ArchPort<C extends RunnableCpu<E>, E extends { reason: string }> {
  readonly arch: Arch;
  /** The CPU may run (x86-64: not stopped; AArch64: powered on and not stopped). */
  live(cpu: C): boolean;
  /** Carries out an exit; returns how the run ends, if it does. */
  handle(cpu: C, exit: E): RunEnd | undefined;
  /** Why no live CPU made progress. */
  deadlock(live: readonly C[]): RunEnd;
  /** How the run ends when no CPU is live. */
  noneLive(): RunEnd;
  /** The report's per-CPU state. */
  snapshot(cpu: C): { pc: bigint; halted: boolean; stopped: boolean };
  consoleBytes(): number;
  unknownPorts(): UnknownPort[];
}

export class Runner<C extends RunnableCpu<E>, E extends { reason: string }> {
  private readonly scheduler: Scheduler;
  private readonly exits: Record<string, number>[];
  private readonly schedule: Step[] | undefined;
  private steps = 0n;
  private decisions = 0;

  constructor(
    private readonly m: Machine<Arch>,
    private readonly cpus: readonly C[],
    private readonly port: ArchPort<C, E>,
    private readonly config: RunConfig,
  ) {
    this.scheduler = config.replay ? new Replay(config.replay)
      : config.mode === "random" ? new RandomInterleaving(config.seed ?? 0n, config.quantum)
      : new RoundRobin(config.quantum);
    this.exits = cpus.map(() => ({}));
    this.schedule = config.record ? [] : undefined;
  }

  run(): RunReport {
    let end: RunEnd;
    try {
      end = this.loop();
    } catch (e) {
      if (e instanceof ReplayDiverged) end = { kind: "crash", reason: "replay-diverged", message: `replay diverged: ${e.message}` };
      // A WebAssembly trap or a bug on the host side: still one line for the user, never a stack.
      else end = { kind: "crash", reason: "emulator-error", message: `emulator error (a bug in shootdown): ${(e as Error).message ?? String(e)}` };
    }
    return this.report(end);
  }

  private loop(): RunEnd {
    const maxSteps = this.config.maxSteps;
    // CPUs whose last decision retired nothing, since the last decision that retired anything.
    const idle = new Set<number>();
    for (;;) {
      const live = this.cpus.filter((c) => this.port.live(c)).map((c) => c.index);
      if (!live.length) return this.port.noneLive();
      if (maxSteps !== undefined && this.steps >= maxSteps) return { kind: "step-limit", steps: this.steps };
      if (live.every((c) => idle.has(c))) return this.port.deadlock(live.map((i) => this.cpus[i]!));

      const d = this.scheduler.next(live);
      let budget = d.budget;
      if (maxSteps !== undefined && BigInt(budget) > maxSteps - this.steps) budget = Number(maxSteps - this.steps);
      const cpu = this.cpus[d.cpu]!;
      const before = cpu.progress.instructions;
      const exit = cpu.run(budget);
      const retired = Number(cpu.progress.instructions - before);
      this.steps += BigInt(retired);
      this.decisions++;
      this.schedule?.push([d.cpu, budget, retired]);
      if (this.scheduler instanceof Replay) this.scheduler.check(retired);
      const counts = this.exits[d.cpu]!;
      counts[exit.reason] = (counts[exit.reason] ?? 0) + 1;
      if (retired > 0) idle.clear();
      else idle.add(d.cpu);

      const end = this.port.handle(cpu, exit);
      if (end) return end;
    }
  }

  private report(end: RunEnd): RunReport {
    const status = endStatus(end);
    const cpus = this.cpus.map((cpu, i): CpuReport => {
      const p = cpu.progress;
      return { index: i, instructions: p.instructions, cycles: p.cycles, ...this.port.snapshot(cpu), exits: this.exits[i]!, counters: cpu.counters() };
    });
    const hw = this.m.hw;
    const report: RunReport = {
      arch: this.port.arch, end, status, cpus, mode: this.scheduler.mode,
      steps: this.steps, decisions: this.decisions, consoleBytes: this.port.consoleBytes(), unknownPorts: this.port.unknownPorts(),
      stateHash: 0n, imageSha256: sha256(this.config.image),
      ...(this.schedule ? { schedule: this.schedule } : {}),
    };
    if (this.config.stateHash !== "on-demand") {
      report.stateHash = BigInt.asUintN(64, hw.stateHash());
      return report;
    }
    let hash: bigint | undefined;
    return Object.defineProperty(report, "stateHash", {
      enumerable: true,
      get: () => (hash ??= BigInt.asUintN(64, hw.stateHash())),
    });
  }
}
