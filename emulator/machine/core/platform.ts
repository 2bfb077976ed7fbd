// SPDX-License-Identifier: MIT
//
// What the run engine needs of a booted machine of either architecture: its
// CPUs, whether each may run, the exit chain that carries out their exits,
// how to word a deadlock, and the events it reports. One class per
// architecture (platform/x86/, platform/arm/) builds it; `shootdown run`,
// the REPL and the gdb stub all drive the same one through the engine.

import type { Machine, Arch } from "./machine.ts";
import type { Counters } from "./counters.ts";
import type { RunEnd } from "./run-end.ts";
import type { Continuation, ExitChain, ExitHandler, Handled, MachineEvent } from "./exits.ts";
import { Timeline } from "./timeline.ts";
import { GuestAnnotations, type AnnotationSummary } from "./annotations.ts";

/** What the engine needs of a CPU of either architecture. */
export interface EngineCpu<E extends { reason: string }> {
  readonly index: number;
  run(budget: number): E;
  readonly progress: { instructions: bigint; cycles: bigint };
  /** progress.instructions read alone. */
  readonly instructions: bigint;
  /** The same as a double, exact to 2^53: the run loop reads it around every run call. */
  readonly instructionCount: number;
  counters(): Counters;
  setBreakpoints(addresses: readonly bigint[]): void;
}

/** A device port the guest touched that nothing serves (x86-64 I/O), for the summary. */
export interface UnknownPortUse {
  port: number;
  reads: number;
  writes: number;
}

/** One CPU's state for the run's report. */
export interface CpuSnapshot {
  pc: bigint;
  /** Halted (x86-64 HLT) or waiting (AArch64 WFI). */
  halted: boolean;
  /** Stopped for good (x86-64) or powered off (AArch64). */
  stopped: boolean;
}

export interface Platform {
  readonly arch: Arch;
  readonly machine: Machine<Arch>;
  readonly cpuCount: number;
  /** Runs CPU i for up to `budget` instructions; the exit comes back unhandled. */
  run(i: number, budget: number): { retired: number; exit: { reason: string } };
  /** The PC of a breakpoint exit, or undefined for any other exit. */
  breakpointPc(exit: { reason: string }): bigint | undefined;
  /** Carries the exit through the exit chain. */
  handleExit(i: number, exit: { reason: string }): Handled;
  /** May CPU i run (not stopped; on AArch64 also powered on)? */
  live(i: number): boolean;
  /** Is it halted (HLT) or waiting (WFI)? */
  idle(i: number): boolean;
  pc(i: number): bigint;
  instructions(i: number): bigint;
  cycles(i: number): bigint;
  counters(i: number): Counters;
  snapshot(i: number): CpuSnapshot;
  /** Why no live CPU made progress. */
  deadlock(live: readonly number[]): RunEnd;
  /** How the run ends when no CPU is live. */
  noneLive(): RunEnd;
  setBreakpoints(addresses: readonly bigint[]): void;
  /** Events reported since the last call (stale TLB uses, sanitizer violations). */
  takeEvents(): MachineEvent[];
  eventsPending(): boolean;
  /** A hash of architectural state and RAM: equal states, equal hashes. */
  stateHash(): bigint;
  consoleBytes(): number;
  unknownPorts(): UnknownPortUse[];
  /** Puts a handler in front of the chain (the hypervisor goes before the platform). */
  attach(handler: ExitHandler<never, never>): void;
  /** Has a handler been attached (then the chain also sees the end of every budget)? */
  readonly hasHypervisor: boolean;
  /** An interrupt the hypervisor must take on CPU i before it runs guest code again, as a routine (undefined: none). */
  interrupt(i: number): Continuation | undefined;
  /** Where the engine and the hypervisor report what each pCPU did (traces, the cost model). */
  readonly timeline: Timeline;
  /** What the attached hypervisor reports for the run's summary (hypercalls, page types, flushes …). */
  hypervisorSummary(): Record<string, unknown> | undefined;
  /** The guest's annotations for the sanitizer and what was wrong with them; undefined when it made none. */
  annotationSummary?(): AnnotationSummary | undefined;
  /** The debugger's hypervisor commands (frame, domain, hypercalls): lines, or undefined when there is no hypervisor. */
  inspectHypervisor(command: string, args: readonly string[]): string[] | undefined;
  /** The guests' vCPUs (the debugger's threads under a hypervisor), or undefined when there is no hypervisor. */
  vcpus(): VcpuAccess<unknown> | undefined;
}

/** A guest's virtual CPU as a hypervisor shows it to the debugger (a gdb thread, the REPL's `cpu N`). */
export interface VcpuInfo {
  /** "d1v0": vCPU 0 of domain 1 (Xen's %pv). */
  name: string;
  /** The pCPU it runs on now, or undefined when it is off every pCPU. */
  pcpu: number | undefined;
  /** Where it is when off every pCPU, in words: "runnable", "blocked", "down", "shut down". */
  state: string;
}

/**
 * The debugger's access to a hypervisor's vCPUs, numbered as list() orders
 * them. R is the architecture's register file (X86RegisterFile); the
 * debugger reads a vCPU that runs on a pCPU from that pCPU, and one that is
 * off every pCPU from what the hypervisor saved of it.
 */
export interface VcpuAccess<R> {
  list(): VcpuInfo[];
  /** vCPU k's saved registers while it is off every pCPU; undefined when it runs, or has never been given any (down before VCPUOP_initialise). */
  saved(k: number): R | undefined;
  /** Replaces vCPU k's saved registers; false when it has none, or keeps only some of them (not yet started) and others changed. */
  setSaved(k: number, registers: R): boolean;
}

/** What an attached hypervisor may offer besides handling exits. */
export interface HypervisorParts {
  summary?(): Record<string, unknown>;
  inspect?(command: string, args: readonly string[]): string[];
  /** Events the hypervisor reports (sanitizer violations), and whether it has any. */
  takeEvents?(): MachineEvent[];
  eventsPending?(): boolean;
  /**
   * An interrupt pending for CPU i that it must take before running guest
   * code, as a routine; asking has no effect (the routine does the work).
   */
  interrupt?(i: number): Continuation | undefined;
  /** The guests' vCPUs, for the debugger. */
  vcpus?(): VcpuAccess<unknown>;
}

/** The part of a platform every architecture shares: running a CPU and handing its exit to the chain. */
/** What running a parked CPU gives, every time (one object: a run has hundreds of such decisions). */
const PARKED: { readonly retired: 0; readonly exit: { readonly reason: "parked" } } = Object.freeze({ retired: 0, exit: Object.freeze({ reason: "parked" }) });

export abstract class ArchPlatform<C extends EngineCpu<E>, E extends { reason: string }, R = unknown> implements Platform {
  abstract readonly arch: Arch;
  protected abstract chain: ExitChain<C, E>;

  readonly timeline = new Timeline();
  /** The guest's annotations for the sanitizer (annotations.ts): the devices, PSCI's neighbour and the hypervisors call annotate. */
  readonly annotations: GuestAnnotations;

  constructor(readonly machine: Machine<Arch>, protected readonly cpus: readonly C[]) {
    this.annotations = new GuestAnnotations(
      machine.hw, (pfn) => machine.memory.peek64(pfn << 12n) !== undefined, () => this.timeline.step, machine.options.arch, this.timeline,
    );
  }

  /** What the guest annotated, with its bad annotations; undefined when it made none. */
  annotationSummary(): AnnotationSummary | undefined {
    return this.annotations.summary();
  }

  get cpuCount(): number {
    return this.cpus.length;
  }

  /**
   * CPUs the hypervisor has nothing to run on: a decision for one runs no
   * instruction and hands the chain a "parked" exit, where the hypervisor
   * may give it work. A parked CPU is live and idle.
   */
  private readonly parked = new Set<number>();

  park(i: number): void {
    this.parked.add(i);
  }

  unpark(i: number): void {
    this.parked.delete(i);
  }

  isParked(i: number): boolean {
    return this.parked.has(i);
  }

  run(i: number, budget: number): { retired: number; exit: E } {
    if (this.parked.has(i)) return PARKED as { retired: number; exit: E };
    const cpu = this.cpus[i]!;
    const before = cpu.instructionCount;
    const exit = cpu.run(budget);
    return { retired: cpu.instructionCount - before, exit };
  }

  breakpointPc(exit: { reason: string }): bigint | undefined {
    const e = exit as { reason: string; pc?: bigint; rip?: bigint };
    return e.reason === "breakpoint" ? (e.pc ?? e.rip) : undefined;
  }

  handleExit(i: number, exit: { reason: string }): Handled {
    return this.chain.handle(this.cpus[i]!, exit as E);
  }

  attach(handler: ExitHandler<never, never> & HypervisorParts): void {
    this.chain = this.chain.withFirst(handler as unknown as ExitHandler<C, E>);
    this.hasHypervisor = true;
    this.attached = handler;
  }

  private attached: HypervisorParts | undefined;

  interrupt(i: number): Continuation | undefined {
    return this.attached?.interrupt?.(i);
  }

  inspectHypervisor(command: string, args: readonly string[]): string[] | undefined {
    return this.attached?.inspect?.(command, args);
  }

  /** The attached hypervisor's vCPUs, their saved registers in this architecture's register file R. */
  vcpus(): VcpuAccess<R> | undefined {
    return this.attached?.vcpus?.() as VcpuAccess<R> | undefined;
  }

  hypervisorSummary(): Record<string, unknown> | undefined {
    return this.attached?.summary?.();
  }

  hasHypervisor = false;

  instructions(i: number): bigint {
    return this.cpus[i]!.instructions;
  }

  cycles(i: number): bigint {
    return this.cpus[i]!.progress.cycles;
  }

  counters(i: number): Counters {
    return this.cpus[i]!.counters();
  }

  setBreakpoints(addresses: readonly bigint[]): void {
    for (const cpu of this.cpus) cpu.setBreakpoints([...addresses]);
  }

  eventsPending(): boolean {
    return this.machine.hw.eventsPending() > 0 || this.attached?.eventsPending?.() === true;
  }

  /** The machine's own events (the missing-invalidation detector), then the hypervisor's (its sanitizer). */
  takeEvents(): MachineEvent[] {
    const own = this.machineEvents();
    const more = this.attached?.takeEvents?.();
    return more?.length ? [...own, ...more] : own;
  }

  protected abstract machineEvents(): MachineEvent[];

  abstract live(i: number): boolean;
  abstract idle(i: number): boolean;
  abstract pc(i: number): bigint;
  abstract snapshot(i: number): CpuSnapshot;
  abstract deadlock(live: readonly number[]): RunEnd;
  abstract noneLive(): RunEnd;
  abstract stateHash(): bigint;
  abstract consoleBytes(): number;
  abstract unknownPorts(): UnknownPortUse[];
}
