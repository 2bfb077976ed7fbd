// SPDX-License-Identifier: MIT
//
// The runner of `shootdown run` on x86-64: builds the machine, boots the
// image (x86-boot.ts), then asks the scheduler for decisions and carries
// them out, handing each CPU's exits to the devices, until the run ends:
//
//   debug exit     the guest wrote port 0xF4: its value is the result
//   crash          a CPU triple-faulted or hit a bus error, a VMCALL found
//                  no hypervisor, or every live CPU made no progress since
//                  the last one that did (all halted with nothing pending)
//   step limit     --max-steps instructions were retired over all CPUs
//
// Everything here is a function of the configuration: no clock, no
// Math.random, no iteration over anything unordered.

import { createHash } from "node:crypto";
import { Machine } from "./machine.ts";
import { bootX86, planLoad, LoadError, type LoadPlan } from "./x86-boot.ts";
import { IoBus, raxAfterIn, type UnknownPort } from "./devices.ts";
import { RoundRobin, RandomInterleaving, Replay, ReplayDiverged, type Scheduler, type Step } from "./scheduler.ts";
import type { Counters } from "./counters.ts";
import type { X86Cpu, X86Exit } from "./x86-cpu.ts";
import type { RecordedOptions } from "./schedule-file.ts";
import { backendFor, SymbolLookup, type Program } from "../../asm/index.ts";

export { LoadError };

export interface RunConfig extends RecordedOptions {
  image: Uint8Array;
  /** Follow these decisions instead of the mode's (--replay). */
  replay?: Step[];
  /** Keep the decisions taken (--record). */
  record?: boolean;
  /** Console bytes, as the guest writes them. */
  console: (byte: number) => void;
}

export type ExitReason = X86Exit["reason"];

export type CrashReason = "triple-fault" | "bus-error" | "deadlock" | "vmcall" | "breakpoint" | "stopped" | "emulator-error" | "replay-diverged";

export type RunEnd =
  | { kind: "debug-exit"; code: bigint; cpu: number }
  | { kind: "crash"; reason: CrashReason; message: string; cpu?: number; rip?: bigint }
  | { kind: "step-limit"; steps: bigint };

export interface CpuReport {
  index: number;
  instructions: bigint;
  cycles: bigint;
  rip: bigint;
  halted: boolean;
  stopped: boolean;
  /** Exits the runner saw from this CPU, by reason. */
  exits: Partial<Record<ExitReason, number>>;
  counters: Counters;
}

export interface RunReport {
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

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Exception mnemonics (SDM Vol.3A table 6-1). */
const VECTOR_NAMES = ["#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(9)", "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"];
const vectorName = (v: number) => VECTOR_NAMES[v] ?? `vector ${v}`;
const VEC_DF = 8;

/**
 * The exceptions whose delivery was attempted, in order: the report holds
 * the first few, and a triple fault ends with the attempt to deliver #DF,
 * so whatever follows the first #DF is padding.
 */
export function deliveryChain(vectors: number[]): string {
  const df = vectors.indexOf(VEC_DF, 1);
  const chain = df < 0 ? vectors : vectors.slice(0, df + 1);
  return chain.map(vectorName).join(" → ") + (df < 0 ? " → …" : "");
}

/** Builds, boots and runs; throws LoadError when the image cannot be booted. */
export function runX86(config: RunConfig): RunReport {
  const plan: LoadPlan = planLoad(config.image, config.memBytes);
  const chaos = config.tlbChaos === undefined ? undefined : { seed: config.seed ?? 0n, meanInterval: chaosInterval(config.tlbChaos) };
  const m = new Machine({ cpus: config.cpus, maxPhysAddr: 46, ram: [{ base: 0n, size: config.memBytes }], ...(chaos ? { chaos } : {}) });
  bootX86(m, plan, { cmdline: config.cmdline });
  return new Runner(m, plan, config).run();
}

/** --tlb-chaos P: one random eviction every round(1/P) translations on average. */
export function chaosInterval(p: number): number {
  return Math.max(1, Math.round(1 / p));
}

class Runner {
  private readonly io: IoBus;
  private readonly scheduler: Scheduler;
  private readonly exits: Partial<Record<ExitReason, number>>[];
  private readonly schedule: Step[] | undefined;
  private readonly symbols: SymbolLookup;
  private steps = 0n;
  private decisions = 0;

  constructor(
    private readonly m: Machine,
    private readonly plan: LoadPlan,
    private readonly config: RunConfig,
  ) {
    this.io = new IoBus(config.console);
    this.scheduler = config.replay ? new Replay(config.replay)
      : config.mode === "random" ? new RandomInterleaving(config.seed ?? 0n, config.quantum)
      : new RoundRobin(config.quantum);
    this.exits = m.cpus.map(() => ({}));
    this.schedule = config.record ? [] : undefined;
    const e = plan.elf;
    const program: Program = { arch: e.arch, entry: e.entry, sections: e.sections, symbols: e.symbols };
    this.symbols = new SymbolLookup(program);
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
    const { cpus } = this.m;
    const maxSteps = this.config.maxSteps;
    // CPUs whose last decision retired nothing, since the last decision that retired anything.
    const idle = new Set<number>();
    for (;;) {
      const live = cpus.filter((c) => !c.progress.stopped).map((c) => c.index);
      if (!live.length) return { kind: "crash", reason: "stopped", message: "every CPU is stopped and none wrote the debug-exit port" };
      if (maxSteps !== undefined && this.steps >= maxSteps) return { kind: "step-limit", steps: this.steps };
      if (live.every((c) => idle.has(c))) return this.deadlock(live);

      const d = this.scheduler.next(live);
      let budget = d.budget;
      if (maxSteps !== undefined && BigInt(budget) > maxSteps - this.steps) budget = Number(maxSteps - this.steps);
      const cpu = this.m.cpu(d.cpu);
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

      const end = this.handle(cpu, exit);
      if (end) return end;
    }
  }

  /** Carries out an exit; returns how the run ends, if it does. */
  private handle(cpu: X86Cpu, exit: X86Exit): RunEnd | undefined {
    switch (exit.reason) {
      case "budget":
      case "hlt":
        return undefined;
      case "io": {
        const r = this.io.access(exit);
        if (r.exit) return { kind: "debug-exit", code: r.exit.code, cpu: cpu.index };
        if (!exit.write) cpu.setState({ rax: raxAfterIn(cpu.state.rax, exit.size, r.value) });
        return undefined;
      }
      case "triple-fault": {
        const noIdt = cpu.state.idtrLimit === 0 ? "; no IDT is loaded" : "";
        return this.crash(cpu, "triple-fault", exit.rip, `triple fault (could not deliver ${deliveryChain(exit.vectors)}${noIdt})`);
      }
      case "bus-error":
        return this.crash(cpu, "bus-error", exit.rip, `bus error: access to physical address ${hex(exit.address)}, outside RAM [0, ${hex(this.config.memBytes)})`);
      case "vmcall":
        return this.crash(cpu, "vmcall", exit.rip, "VMCALL with no hypervisor to handle it");
      case "breakpoint":
        return this.crash(cpu, "breakpoint", exit.rip, "stopped at a breakpoint");
      case "stopped":
        return this.crash(cpu, "stopped", cpu.state.rip, "the CPU is stopped");
    }
  }

  private crash(cpu: X86Cpu, reason: CrashReason, rip: bigint, what: string): RunEnd {
    return { kind: "crash", reason, cpu: cpu.index, rip, message: `CPU ${cpu.index}: ${what} at ${this.where(cpu, rip)}` };
  }

  private deadlock(live: number[]): RunEnd {
    const halted = live.every((i) => this.m.cpu(i).progress.halted);
    const each = live.map((i) => {
      const cpu = this.m.cpu(i);
      const s = cpu.state;
      if (!cpu.progress.halted) return `CPU ${i} retiring nothing at ${this.where(cpu, s.rip)}`;
      // RIP is past the HLT; show the HLT itself when it is there.
      const hlt = instructionBytes(this.m, cpu, s.rip - 1n, 1)[0] === 0xf4 ? s.rip - 1n : s.rip;
      return `CPU ${i} halted with IF=${(s.rflags >> 9n) & 1n} at ${this.where(cpu, hlt)}`;
    });
    const what = halted ? "all CPUs halted with nothing pending: deadlock" : "no CPU makes progress: deadlock";
    return { kind: "crash", reason: "deadlock", message: `${what} (${each.join("; ")})`, cpu: live[0]!, rip: this.m.cpu(live[0]!).state.rip };
  }

  /** "RIP 0x100005 <_start+0x5> [0f 0b: ud2]", read through the CPU's MMU without side effects. */
  where(cpu: X86Cpu, rip: bigint): string {
    const bytes = instructionBytes(this.m, cpu, rip);
    const sym = this.symbols.nearest(rip);
    const name = sym ? ` <${sym.name}${sym.value === rip ? "" : `+${hex(rip - sym.value)}`}>` : "";
    if (!bytes.length) return `RIP ${hex(rip)}${name} [unreadable]`;
    const names = { objdump: (a: bigint) => this.symbols.objdump(a), source: (a: bigint) => hex(a) };
    const d = backendFor("x86_64").decode(bytes, 0, rip, names);
    const used = bytes.subarray(0, Math.min(d.length, bytes.length));
    const text = d.unknown ? "not an instruction shootdown knows" : d.text.replace(/\s+/g, " ").trim();
    return `RIP ${hex(rip)}${name} [${[...used].map((b) => b.toString(16).padStart(2, "0")).join(" ")}: ${text}]`;
  }

  private report(end: RunEnd): RunReport {
    const status = end.kind === "debug-exit" ? (end.code === 0n ? STATUS.SUCCESS : STATUS.GUEST_FAILURE)
      : end.kind === "step-limit" ? STATUS.STEP_LIMIT
      : STATUS.CRASH;
    const cpus = this.m.cpus.map((cpu, i): CpuReport => {
      const p = cpu.progress;
      return {
        index: i, instructions: p.instructions, cycles: p.cycles, rip: cpu.state.rip, halted: p.halted, stopped: p.stopped,
        exits: this.exits[i]!, counters: cpu.counters(),
      };
    });
    return {
      end, status, cpus, mode: this.scheduler.mode,
      steps: this.steps, decisions: this.decisions, consoleBytes: this.io.uart.bytesOut, unknownPorts: this.io.unknownPorts(),
      stateHash: BigInt.asUintN(64, this.m.hw.stateHash()), imageSha256: sha256(this.config.image),
      ...(this.schedule ? { schedule: this.schedule } : {}),
    };
  }
}

/**
 * Up to 15 bytes at rip as the CPU would fetch them (peek: no A/D update, no
 * TLB fill), stopping at the first byte that cannot be fetched.
 */
export function instructionBytes(m: Machine, cpu: X86Cpu, rip: bigint, max = 15): Uint8Array {
  const out: number[] = [];
  let page = -1n;
  let pa = 0n;
  for (let i = 0; i < max; i++) {
    const va = BigInt.asUintN(64, rip + BigInt(i));
    if (va >> 12n !== page) {
      const t = cpu.peek(va, { op: "fetch", priv: cpu.state.cpl === 3 ? "user" : "kernel" });
      if (!t.ok) break;
      page = va >> 12n;
      pa = t.pa - (va & 0xfffn);
    }
    const at = pa + (va & 0xfffn);
    const word = m.memory.peek64(at & ~7n);
    if (word === undefined) break;
    out.push(Number((word >> (8n * (at & 7n))) & 0xffn));
  }
  return new Uint8Array(out);
}
