// SPDX-License-Identifier: MIT
//
// `shootdown run` on x86-64: builds the machine, boots the image
// (x86-boot.ts) and runs it with the runner of run-loop.ts, handing port I/O
// to the devices. The run's result is the value the guest writes to the
// debug-exit port 0xF4; a triple fault, a bus error or a VMCALL with no
// hypervisor crashes the machine.

import { Machine } from "./machine.ts";
import { bootX86, planLoad, LoadError, type LoadPlan } from "./x86-boot.ts";
import { programOf } from "./elf-load.ts";
import { IoBus, raxAfterIn } from "./devices.ts";
import type { X86Cpu, X86Exit } from "./x86-cpu.ts";
import { Runner, chaosInterval, type RunConfig, type RunReport, type RunEnd, type CrashReason, type ArchPort } from "./run-loop.ts";
import { backendFor, SymbolLookup } from "../../asm/index.ts";

export { LoadError };
export type { RunConfig, RunReport } from "./run-loop.ts";

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
  return new Runner<X86Cpu, X86Exit>(m, m.cpus, new X86Port(m, plan, config), config).run();
}

/** The x86-64 side of the runner: port I/O to the devices, crashes named by RIP and instruction. */
class X86Port implements ArchPort<X86Cpu, X86Exit> {
  readonly arch = "x86_64" as const;
  private readonly io: IoBus;
  private readonly symbols: SymbolLookup;

  constructor(
    private readonly m: Machine,
    plan: LoadPlan,
    private readonly config: RunConfig,
  ) {
    this.io = new IoBus(config.console);
    this.symbols = new SymbolLookup(programOf(plan));
  }

  live(cpu: X86Cpu): boolean {
    return !cpu.progress.stopped;
  }

  noneLive(): RunEnd {
    return { kind: "crash", reason: "stopped", message: "every CPU is stopped and none wrote the debug-exit port" };
  }

  snapshot(cpu: X86Cpu): { pc: bigint; halted: boolean; stopped: boolean } {
    const p = cpu.progress;
    return { pc: cpu.state.rip, halted: p.halted, stopped: p.stopped };
  }

  consoleBytes(): number {
    return this.io.uart.bytesOut;
  }

  unknownPorts() {
    return this.io.unknownPorts();
  }

  handle(cpu: X86Cpu, exit: X86Exit): RunEnd | undefined {
    // A guest-mode exit is a hypervisor's to handle; with none, it ends the run.
    if ("guest" in exit) return this.crash(cpu, "vm-exit", exit.rip, `VM exit (${exit.reason}) with no hypervisor to handle it`);
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
    return { kind: "crash", reason, cpu: cpu.index, pc: rip, message: `CPU ${cpu.index}: ${what} at ${this.where(cpu, rip)}` };
  }

  deadlock(live: readonly X86Cpu[]): RunEnd {
    const halted = live.every((cpu) => cpu.progress.halted);
    const each = live.map((cpu) => {
      const s = cpu.state;
      if (!cpu.progress.halted) return `CPU ${cpu.index} retiring nothing at ${this.where(cpu, s.rip)}`;
      // RIP is past the HLT; show the HLT itself when it is there.
      const hlt = instructionBytes(this.m, cpu, s.rip - 1n, 1)[0] === 0xf4 ? s.rip - 1n : s.rip;
      return `CPU ${cpu.index} halted with IF=${(s.rflags >> 9n) & 1n} at ${this.where(cpu, hlt)}`;
    });
    const what = halted ? "all CPUs halted with nothing pending: deadlock" : "no CPU makes progress: deadlock";
    return { kind: "crash", reason: "deadlock", message: `${what} (${each.join("; ")})`, cpu: live[0]!.index, pc: live[0]!.state.rip };
  }

  /** "RIP 0x100005 <_start+0x5> [0f 0b: ud2]", read through the CPU's MMU without side effects. */
  where(cpu: X86Cpu, rip: bigint): string {
    const bytes = instructionBytes(this.m, cpu, rip);
    const label = this.symbols.label(rip);
    const name = label ? ` <${label}>` : "";
    if (!bytes.length) return `RIP ${hex(rip)}${name} [unreadable]`;
    const names = { objdump: (a: bigint) => this.symbols.objdump(a), source: (a: bigint) => hex(a) };
    const d = backendFor("x86_64").decode(bytes, 0, rip, names);
    const used = bytes.subarray(0, Math.min(d.length, bytes.length));
    const text = d.unknown ? "not an instruction shootdown knows" : d.text.replace(/\s+/g, " ").trim();
    return `RIP ${hex(rip)}${name} [${[...used].map((b) => b.toString(16).padStart(2, "0")).join(" ")}: ${text}]`;
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
