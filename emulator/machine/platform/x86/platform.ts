// SPDX-License-Identifier: MIT
//
// The x86-64 platform: the machine `shootdown run` builds for an x86-64
// image, booted by the boot protocol (boot.ts), with the exit chain of its
// CPUs: the devices behind port I/O (devices.ts: COM1 and the debug-exit
// port; the guest annotations' ports 0x5D0–0x5D6, docs/annotations.md), then the crash describer, which names the instruction a crash
// happened at. The run's result is the value the guest writes to port 0xF4;
// a triple fault, a bus error or a VMCALL with no hypervisor crashes it.
// The debugger drives this same platform.

import { Machine } from "../../core/machine.ts";
import { bootX86, planLoad, type LoadPlan } from "./boot.ts";
import { IoBus, raxAfterIn } from "./devices.ts";
import type { X86Cpu, X86Exit, X86RegisterFile } from "../../cpu/x86-cpu.ts";
import { ArchPlatform, type CpuSnapshot } from "../../core/platform.ts";
import { ExitChain, DONE, type ExitHandler, type Handled, type MachineEvent } from "../../core/exits.ts";
import type { CrashReason, RunEnd } from "../../core/run-end.ts";
import { NO_DISASSEMBLER, type Disassembler } from "../../core/disassembler.ts";
import type { RecordedOptions } from "../../core/schedule-file.ts";
import { chaosInterval } from "../../core/report.ts";
import { isAnnotationPort, annotationPortIo, type GuestAnnotations } from "../../core/annotations.ts";

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Exception mnemonics (SDM Vol.3A table 6-1). */
const VECTOR_NAMES = ["#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#MF(9)", "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"];
export const vectorName = (v: number) => VECTOR_NAMES[v] ?? `vector ${v}`;
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

/** Paging levels by the name of their entries. */
const LEVEL_NAMES: Record<number, string> = { 5: "PML5E", 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE" };

export interface PlatformOptions {
  /** The missing-invalidation detector (the debugger's default). */
  detector?: boolean;
  /** Words crash lines; without it they name addresses and bytes only. */
  disassembler?: Disassembler;
}

/** The x86-64 machine of a run: its CPUs, `ramBytes` of RAM at 0, TLB chaos and the detector as asked (bare, and under a hypervisor). */
export function x86Machine(options: RecordedOptions, ramBytes: bigint, p: PlatformOptions = {}): Machine {
  const chaos = options.tlbChaos === undefined ? undefined : { seed: options.seed ?? 0n, meanInterval: chaosInterval(options.tlbChaos) };
  return new Machine({
    cpus: options.cpus, maxPhysAddr: 46, ram: [{ base: 0n, size: ramBytes }], ...(chaos ? { chaos } : {}),
    ...(p.detector ? { detectMissingInvalidation: true } : {}),
  });
}

/** Boots an x86-64 image as `shootdown run` does; throws LoadError when it cannot be booted. */
export function bootX86Platform(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, p: PlatformOptions = {}): X86Platform {
  const plan: LoadPlan = planLoad(image, options.memBytes);
  const m = x86Machine(options, options.memBytes, p);
  bootX86(m, plan, { cmdline: options.cmdline });
  return new X86Platform(m, plan, options.memBytes, console, p.disassembler ?? NO_DISASSEMBLER);
}

export class X86Platform extends ArchPlatform<X86Cpu, X86Exit, X86RegisterFile> {
  readonly arch = "x86_64" as const;
  readonly io: IoBus;
  protected chain: ExitChain<X86Cpu, X86Exit>;
  readonly describer: X86CrashDescriber;

  constructor(readonly m: Machine, readonly plan: LoadPlan, memBytes: bigint, console: (byte: number) => void, disassembler: Disassembler) {
    super(m, m.cpus);
    this.io = new IoBus(console);
    this.describer = new X86CrashDescriber(m, memBytes, disassembler);
    this.chain = new ExitChain<X86Cpu, X86Exit>([new X86Devices(this.io, this.annotations), this.describer]);
  }

  live(i: number): boolean {
    return !this.m.cpus[i]!.stopped;
  }

  idle(i: number): boolean {
    return this.isParked(i) || this.m.cpus[i]!.halted;
  }

  /** RIP read straight from the CPU block: cpu.state would materialise the lazy flags, which the state hash sees. */
  pc(i: number): bigint {
    return this.m.cpus[i]!.rip;
  }

  snapshot(i: number): CpuSnapshot {
    const cpu = this.m.cpus[i]!;
    const p = cpu.progress;
    return { pc: cpu.state.rip, halted: p.halted, stopped: p.stopped };
  }

  noneLive(): RunEnd {
    return { kind: "crash", reason: "stopped", message: "every CPU is stopped and none wrote the debug-exit port" };
  }

  deadlock(live: readonly number[]): RunEnd {
    const cpus = live.map((i) => this.m.cpus[i]!);
    const halted = cpus.every((cpu) => cpu.progress.halted);
    const where = (cpu: X86Cpu, rip: bigint) => this.describer.where(cpu, rip);
    const each = cpus.map((cpu) => {
      const s = cpu.state;
      if (!cpu.progress.halted) return `CPU ${cpu.index} retiring nothing at ${where(cpu, s.rip)}`;
      // RIP is past the HLT; show the HLT itself when it is there.
      const hlt = instructionBytes(this.m, cpu, s.rip - 1n, 1)[0] === 0xf4 ? s.rip - 1n : s.rip;
      return `CPU ${cpu.index} halted with IF=${(s.rflags >> 9n) & 1n} at ${where(cpu, hlt)}`;
    });
    const what = halted ? "all CPUs halted with nothing pending: deadlock" : "no CPU makes progress: deadlock";
    return { kind: "crash", reason: "deadlock", message: `${what} (${each.join("; ")})`, cpu: cpus[0]!.index, pc: cpus[0]!.state.rip };
  }

  protected machineEvents(): MachineEvent[] {
    // Only the missing-invalidation detector reports here: x86-64 models no data caches, so no stale reads.
    return this.m.takeEvents().flatMap((e) => e.kind === "stale-read" ? [] : e.kind === "annotation" ? [this.annotations.eventOf(e)] : [{
      kind: "stale-use",
      cpu: e.cpu,
      message: `CPU ${e.cpu} used a stale ${e.kind === "stale-tlb-entry" ? "TLB entry" : "paging-structure-cache entry"} for VA ${hex(e.va)}` +
        ` (PCID ${e.pcid}): the ${LEVEL_NAMES[e.level] ?? `level-${e.level} entry`} at ${hex(e.sourcePa)} was ${hex(e.cachedValue)} and is now ${hex(e.currentValue)}, with no invalidation in between`,
      detail: { ...e },
    }]);
  }

  /** After reading every CPU's state, which works out the lazy flags. */
  stateHash(): bigint {
    for (const cpu of this.m.cpus) void cpu.state;
    return BigInt.asUintN(64, this.m.hw.stateHash());
  }

  consoleBytes(): number {
    return this.io.uart.bytesOut;
  }

  unknownPorts() {
    return this.io.unknownPorts();
  }
}

/** The platform's handler: HLT and port I/O (COM1, the debug-exit port, unknown ports). */
class X86Devices implements ExitHandler<X86Cpu, X86Exit> {
  readonly name = "platform";

  constructor(private readonly io: IoBus, private readonly annotations: GuestAnnotations) {}

  handle(cpu: X86Cpu, exit: X86Exit): Handled | undefined {
    // A guest-mode exit is a hypervisor's; with none, the crash describer says so.
    if ("guest" in exit) return undefined;
    switch (exit.reason) {
      case "budget":
      case "parked":
      case "hlt":
        return DONE;
      case "io": {
        if (isAnnotationPort(exit.port)) {
          // Bare, the guest's frames are machine frames (docs/annotations.md).
          const value = annotationPortIo(this.annotations, cpu.index, exit, (frame) => frame);
          if (value !== undefined) cpu.setState({ rax: raxAfterIn(cpu.state.rax, exit.size, value) });
          return DONE;
        }
        const r = this.io.access(exit);
        if (r.exit) return { kind: "end", end: { kind: "debug-exit", code: r.exit.code, cpu: cpu.index } };
        if (!exit.write) cpu.setState({ rax: raxAfterIn(cpu.state.rax, exit.size, r.value) });
        return DONE;
      }
      default:
        return undefined;
    }
  }
}

/** The last handler: every exit nothing else carried out crashes the machine, named by RIP and instruction. */
export class X86CrashDescriber implements ExitHandler<X86Cpu, X86Exit> {
  readonly name = "crash describer";

  constructor(private readonly m: Machine, private readonly memBytes: bigint, private disassembler: Disassembler) {}

  /** Words crash lines with this disassembler from now on. */
  useDisassembler(d: Disassembler): void {
    this.disassembler = d;
  }

  handle(cpu: X86Cpu, exit: X86Exit): Handled {
    const end = (reason: CrashReason, rip: bigint, what: string): Handled =>
      ({ kind: "end", end: { kind: "crash", reason, cpu: cpu.index, pc: rip, message: `CPU ${cpu.index}: ${what} at ${this.where(cpu, rip)}` } });
    if ("guest" in exit) return end("vm-exit", exit.rip, `VM exit (${exit.reason}) with no hypervisor to handle it`);
    switch (exit.reason) {
      case "triple-fault": {
        const noIdt = cpu.state.idtrLimit === 0 ? "; no IDT is loaded" : "";
        return end("triple-fault", exit.rip, `triple fault (could not deliver ${deliveryChain(exit.vectors)}${noIdt})`);
      }
      case "bus-error":
        return end("bus-error", exit.rip, `bus error: access to physical address ${hex(exit.address)}, outside RAM [0, ${hex(this.memBytes)})`);
      case "vmcall":
        return end("vmcall", exit.rip, "VMCALL with no hypervisor to handle it");
      case "breakpoint":
        return end("breakpoint", exit.rip, "stopped at a breakpoint");
      case "stopped":
        return end("stopped", cpu.state.rip, "the CPU is stopped");
      default: {
        const e = exit as { reason: string; rip?: bigint };
        return end("trap", e.rip ?? cpu.state.rip, `a ${e.reason} exit with nothing to handle it`);
      }
    }
  }

  /** "RIP 0x100005 <_start+0x5> [0f 0b: ud2]", read through the CPU's MMU without side effects. */
  where(cpu: X86Cpu, rip: bigint): string {
    const bytes = instructionBytes(this.m, cpu, rip);
    const label = this.disassembler.label(rip);
    const name = label ? ` <${label}>` : "";
    if (!bytes.length) return `RIP ${hex(rip)}${name} [unreadable]`;
    const d = this.disassembler.decode(bytes, rip);
    const used = bytes.subarray(0, Math.min(d?.length ?? bytes.length, bytes.length));
    const text = d?.text ?? "not an instruction shootdown knows";
    return `RIP ${hex(rip)}${name} [${[...used].map((b) => b.toString(16).padStart(2, "0")).join(" ")}: ${text}]`;
  }
}

/**
 * Up to 15 bytes at rip as the CPU would fetch them (peek: no A/D update, no
 * TLB fill), stopping at the first byte that cannot be fetched.
 */
export function instructionBytes(m: Machine, cpu: Pick<X86Cpu, "peek" | "state">, rip: bigint, max = 15): Uint8Array {
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
