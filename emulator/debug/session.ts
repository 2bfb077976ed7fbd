// SPDX-License-Identifier: MIT
//
// A debugging session: the run engine (machine/core/engine.ts) over one
// target (target.ts), which the REPL's commands (commands.ts) and the gdb
// stub (gdb-stub.ts) both drive. The engine steps the machine, exactly as
// `shootdown run` does, with breakpoints, watchpoints, a stop at every use
// of a stale TLB entry, and going back in time; the session adds what a
// person looks at (the target) and the console in whole lines.

import { readFileSync } from "node:fs";
import { ShootdownError } from "../machine/core/errors.ts";
import { Engine, CONTINUE_LIMIT, type StopReason } from "../machine/core/engine.ts";
import type { PackedStep } from "../machine/core/scheduler.ts";
import { parseSchedule, scheduleTotals, type RecordedOptions } from "../machine/core/schedule-file.ts";
import { sha256 } from "../machine/core/report.ts";
import type { DebugTarget } from "./target.ts";

export { CONTINUE_LIMIT, type StopReason };

/**
 * What the debugger calls a thread (a gdb thread, the REPL's `cpu N`): a
 * CPU of the machine, or, when a hypervisor runs guests (--hv), a guest's
 * vCPU, numbered as the hypervisor lists them (Platform.vcpus). Under a
 * hypervisor the pCPUs follow the vCPUs in the list, so that the REPL can
 * also look at a pCPU itself (`cpu p0`: the hypervisor's own steps, a TLB);
 * gdb sees the vCPUs only.
 */
export interface DebugThread {
  index: number;
  /** "CPU 2", or the vCPU's name, "d1v0". */
  name: string;
  /** The CPU it runs on now; undefined for a vCPU off every pCPU. */
  cpu: number | undefined;
  /** A vCPU off every pCPU: where it is ("runnable", "down" …). */
  state?: string;
  vcpu: boolean;
}

export interface SessionConfig {
  image: Uint8Array;
  options: RecordedOptions;
  /** Follow these decisions (a replay) instead of the scheduler's. */
  replay?: PackedStep[];
  /** How the replayed run ended when it was recorded. */
  recorded?: { status: number; stateHash: bigint };
  /** Builds a target for an image (x86-64 or AArch64, targets.ts), over a freshly booted platform. */
  makeTarget(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void): DebugTarget;
  /** Guest console output, line by line as it is written. */
  console?: (text: string) => void;
}

export class Session extends Engine {
  private readonly view: { target?: DebugTarget; line: string };

  constructor(private readonly session: SessionConfig) {
    const view: { target?: DebugTarget; line: string } = { line: "" };
    super({
      options: session.options,
      ...(session.replay ? { replay: session.replay } : {}),
      ...(session.recorded ? { recorded: session.recorded } : {}),
      console: (byte) => {
        if (byte === 10) {
          session.console?.(`${view.line}\n`);
          view.line = "";
        } else if (byte !== 13) {
          view.line += String.fromCharCode(byte);
        }
      },
      build: (options, console) => {
        view.target = session.makeTarget(session.image, options, console);
        return view.target.platform;
      },
    });
    this.view = view;
    this.stopOnEvents = true;
  }

  /** What the user looks at: registers, memory, walks, TLBs of the machine as it is now. */
  get target(): DebugTarget {
    return this.view.target!;
  }

  /** The vCPU the user looks at when threads are vCPUs; undefined: the pCPU `current` itself (the start: pCPU 0). */
  private selectedVcpu: number | undefined;

  /** Are the debugger's threads a hypervisor's vCPUs (--hv) rather than the machine's CPUs? */
  get threadsAreVcpus(): boolean {
    return this.platform.vcpus() !== undefined;
  }

  threads(): DebugThread[] {
    const vcpus = this.platform.vcpus()?.list();
    if (!vcpus) return Array.from({ length: this.target.cpuCount }, (_, i) => ({ index: i, name: `CPU ${i}`, cpu: i, vcpu: false }));
    const pcpus = Array.from({ length: this.target.cpuCount }, (_, i) => ({ index: vcpus.length + i, name: `pCPU ${i}`, cpu: i, vcpu: false }));
    return [...vcpus.map((v, i) => ({ index: i, name: v.name, cpu: v.pcpu, state: v.state, vcpu: true })), ...pcpus];
  }

  /** How many of the threads are vCPUs (0 without a hypervisor). */
  get vcpuCount(): number {
    return this.platform.vcpus()?.list().length ?? 0;
  }

  /** The thread the user looks at: the current CPU, or the selected vCPU. */
  get thread(): number {
    if (!this.threadsAreVcpus) return this.current;
    return this.selectedVcpu ?? this.vcpuCount + this.current;
  }

  /** Selects a thread; a vCPU on a pCPU makes that pCPU the engine's current one. */
  set thread(k: number) {
    if (!this.threadsAreVcpus) {
      this.current = k;
      return;
    }
    const t = this.threads()[k];
    if (!t) return;
    this.selectedVcpu = t.vcpu ? k : undefined;
    if (t.cpu !== undefined) this.current = t.cpu;
  }

  /** The thread that runs on a CPU: the CPU itself, or the vCPU on it (undefined when none is). */
  threadOn(cpu: number): number | undefined {
    if (!this.threadsAreVcpus) return cpu;
    const at = this.threads().findIndex((t) => t.vcpu && t.cpu === cpu);
    return at < 0 ? undefined : at;
  }

  /** After a stop on a CPU: the thread on it becomes the current one (under a hypervisor, the pCPU itself when it runs no vCPU). */
  followStop(cpu: number): number {
    const k = this.threadOn(cpu);
    if (k !== undefined) this.thread = k;
    else {
      this.selectedVcpu = undefined;
      this.current = cpu;
    }
    return this.thread;
  }

  /** A partial console line is shown when a command ends. */
  flushConsole(): void {
    if (this.view.line) this.session.console?.(`${this.view.line}\n`);
    this.view.line = "";
  }

  protected override peekPhysical(pa: bigint, length: number): Uint8Array | undefined {
    return this.target.readPhysical(pa, length);
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
    if (s.imageSha256 !== sha256(this.session.image)) throw new ShootdownError(`${path} was recorded with another image`);
    this.replayFrom(s.options, s.decisions, { status: s.status, stateHash: s.stateHash });
    return scheduleTotals(s.decisions);
  }
}
