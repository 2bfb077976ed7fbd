// SPDX-License-Identifier: MIT
//
// What a finished run reports: how it ended, each CPU's instructions,
// cycles, exits and counters, the state hash, and the schedule taken. The
// engine (engine.ts) makes the run; this file only reads it.

import { createHash } from "node:crypto";
import type { Arch } from "./machine.ts";
import type { Counters } from "./counters.ts";
import type { RecordedOptions } from "./schedule-file.ts";
import type { PackedStep, Step } from "./scheduler.ts";
import type { Engine } from "./engine.ts";
import type { MachineEvent } from "./exits.ts";
import type { UnknownPortUse } from "./platform.ts";
import { endStatus, type RunEnd } from "./run-end.ts";
import type { AnnotationSummary } from "./annotations.ts";

export { STATUS, endStatus, describeEnd, type RunEnd, type CrashReason } from "./run-end.ts";

export interface RunConfig extends RecordedOptions {
  image: Uint8Array;
  /** Follow these decisions instead of the mode's (--replay). */
  replay?: PackedStep[];
  /** Keep the decisions taken (--record). */
  record?: boolean;
  /** Console bytes, as the guest writes them. */
  console: (byte: number) => void;
  /**
   * "on-demand": reportOf computes the report's stateHash when it is first
   * read, for a caller that keeps the machine and runs it no further; "eager"
   * (the default) computes it with the report. runImage hands its machine's
   * instance back for reuse, so it always hashes: the hash reads only the RAM
   * pages the run wrote, which costs less than the run.
   */
  stateHash?: "eager" | "on-demand";
  /** --check-stale: report each use of a TLB entry whose source entry changed with no invalidation since (counted, never stopping the run). */
  checkStale?: boolean;
}

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
  /** Exits the engine saw from this CPU, by reason. */
  exits: Record<string, number>;
  counters: Counters;
}

export interface RunReport {
  arch: Arch;
  end: RunEnd;
  /** 0 success, 1 guest-reported failure, 2 crash, 3 step limit. */
  status: number;
  mode: "round-robin" | "random" | "pct" | "replay";
  cpus: CpuReport[];
  /** Instructions over all CPUs. */
  steps: bigint;
  /** Steps of hypervisor continuations over all CPUs. */
  hypervisorSteps: bigint;
  decisions: number;
  consoleBytes: number;
  unknownPorts: UnknownPortUse[];
  /** Events the machine reported (stale TLB uses, sanitizer violations). */
  events: readonly MachineEvent[];
  stateHash: bigint;
  imageSha256: string;
  /** The decisions taken, when recording. */
  schedule?: Step[];
  /** What the hypervisor counted, when the machine ran one. */
  hypervisor?: Record<string, unknown>;
  /** The guest's annotations for the sanitizer (docs/annotations.md), when it made any. */
  annotations?: AnnotationSummary;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** --tlb-chaos P: one random eviction every round(1/P) translations on average. */
export function chaosInterval(p: number): number {
  return Math.max(1, Math.round(1 / p));
}

/** The report of an engine whose run has ended. */
export function reportOf(engine: Engine, image: Uint8Array, record: boolean, stateHash: RunConfig["stateHash"] = "eager"): RunReport {
  const end = engine.end!;
  const p = engine.platform;
  const cpus = Array.from({ length: p.cpuCount }, (_, i): CpuReport => ({
    index: i, instructions: p.instructions(i), cycles: p.cycles(i), ...p.snapshot(i), exits: engine.exits[i]!, counters: p.counters(i),
  }));
  const report: RunReport = {
    arch: p.arch, end, status: endStatus(end), cpus, mode: engine.mode,
    steps: engine.instructionsSoFar, hypervisorSteps: engine.hypervisorSteps, decisions: engine.decisions,
    consoleBytes: p.consoleBytes(), unknownPorts: p.unknownPorts(), events: engine.reported,
    stateHash: 0n, imageSha256: sha256(image),
    ...(record ? { schedule: [...engine.schedule] } : {}),
    ...(p.hypervisorSummary() ? { hypervisor: p.hypervisorSummary()! } : {}),
  };
  const annotations = p.annotationSummary?.();
  if (annotations) report.annotations = annotations;
  if (stateHash !== "on-demand") {
    report.stateHash = p.stateHash();
    return report;
  }
  let hash: bigint | undefined;
  return Object.defineProperty(report, "stateHash", { enumerable: true, get: () => (hash ??= p.stateHash()) });
}
