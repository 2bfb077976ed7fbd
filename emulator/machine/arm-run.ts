// SPDX-License-Identifier: MIT
//
// `shootdown run` on AArch64: builds a QEMU-virt-like machine, boots the
// image (arm-boot.ts) and runs it with the runner of run-loop.ts. HVC calls
// go to PSCI (psci.ts), MMIO to the devices (arm-devices.ts); the GIC is in
// the hardware module. The run's result is PSCI SYSTEM_OFF (success) or
// SYSTEM_RESET (the guest reports a failure); a bus error, an exception
// loop, an SMC or an HVC outside PSCI (there is no EL2 or EL3 firmware
// behind them) crashes the machine.

import { Machine } from "./machine.ts";
import { bootArm, planArmLoad, ARM_RAM_BASE } from "./arm-boot.ts";
import { programOf, type LoadPlan } from "./elf-load.ts";
import { MmioBus } from "./arm-devices.ts";
import { psciCall, isPsciCall, PSCI_RET } from "./psci.ts";
import type { ArmCpu, ArmExit } from "./arm-cpu.ts";
import { Runner, chaosInterval, type RunConfig, type RunReport, type RunEnd, type CrashReason, type ArchPort } from "./run-loop.ts";
import { backendFor, SymbolLookup } from "../../asm/index.ts";

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/**
 * The machine `shootdown run` builds for an AArch64 image, booted, with the
 * port that carries out its CPUs' exits; throws LoadError when the image
 * cannot be booted. The debugger (debug/arm-target.ts) builds its machine
 * here too, with the missing-invalidation detector on.
 */
export function bootArmMachine(config: RunConfig, debug: { detectMissingInvalidation?: boolean } = {}): { m: Machine<"aarch64">; plan: LoadPlan; port: ArmPort } {
  const plan = planArmLoad(config.image, config.memBytes);
  const chaos = config.tlbChaos === undefined ? undefined : { seed: config.seed ?? 0n, meanInterval: chaosInterval(config.tlbChaos) };
  const m = new Machine({
    arch: "aarch64", cpus: config.cpus, maxPhysAddr: 48, ram: [{ base: ARM_RAM_BASE, size: config.memBytes }], ...(chaos ? { chaos } : {}),
    ...(debug.detectMissingInvalidation ? { detectMissingInvalidation: true } : {}),
  });
  bootArm(m, plan, { cmdline: config.cmdline });
  return { m, plan, port: new ArmPort(m, plan, config) };
}

/** Builds, boots and runs; throws LoadError when the image cannot be booted. */
export function runArm(config: RunConfig): RunReport {
  const { m, port } = bootArmMachine(config);
  return new Runner<ArmCpu, ArmExit>(m, m.cpus, port, config).run();
}

/** ESR_ELx.EC values worth naming in a crash report. */
const EC_NAMES: Record<number, string> = {
  0x00: "an undefined instruction", 0x01: "a trapped WFI/WFE", 0x0e: "an illegal execution state", 0x15: "an SVC",
  0x16: "an HVC", 0x17: "an SMC", 0x18: "a trapped system-register access", 0x20: "an instruction abort from EL0",
  0x21: "an instruction abort", 0x22: "a PC alignment fault", 0x24: "a data abort from EL0", 0x25: "a data abort",
  0x26: "an SP alignment fault", 0x3c: "a BRK",
};

export function describeEsr(esr: bigint): string {
  const ec = Number((esr >> 26n) & 0x3fn);
  return `${EC_NAMES[ec] ?? `exception class ${hex(ec)}`} (ESR ${hex(esr)})`;
}

function setX0(cpu: ArmCpu, value: bigint): void {
  const x = cpu.state.x.slice();
  x[0] = value;
  cpu.setState({ x });
}

/**
 * The AArch64 side of the runner: PSCI over HVC, the PL011 and the other
 * MMIO, WFI sleeping until the timer's deadline, and crashes named by PC and
 * instruction. The debugger's target hands its CPUs' exits here too, so a
 * session and `shootdown run` carry them out the same way.
 */
export class ArmPort implements ArchPort<ArmCpu, ArmExit> {
  readonly arch = "aarch64" as const;
  private readonly mmio: MmioBus;
  private readonly symbols: SymbolLookup;

  constructor(
    private readonly m: Machine<"aarch64">,
    plan: LoadPlan,
    private readonly config: RunConfig,
  ) {
    this.mmio = new MmioBus(config.console);
    this.symbols = new SymbolLookup(programOf(plan));
  }

  live(cpu: ArmCpu): boolean {
    const p = cpu.progress;
    return !p.off && !p.stopped;
  }

  noneLive(): RunEnd {
    return { kind: "crash", reason: "off", message: "every CPU is off (or stopped) and none called PSCI SYSTEM_OFF" };
  }

  snapshot(cpu: ArmCpu): { pc: bigint; halted: boolean; stopped: boolean } {
    const p = cpu.progress;
    return { pc: cpu.state.pc, halted: p.waiting, stopped: p.off || p.stopped };
  }

  consoleBytes(): number {
    return this.mmio.uart.bytesOut;
  }

  unknownPorts() {
    return [];
  }

  handle(cpu: ArmCpu, exit: ArmExit): RunEnd | undefined {
    switch (exit.reason) {
      case "budget":
      case "wfi":
      case "off":
        return undefined;
      case "stopped":
        return this.crash(cpu, "stopped", cpu.state.pc, "the CPU is stopped");
      case "hvc":
        return this.hvc(cpu, exit.pc);
      case "smc":
        return this.crash(cpu, "smc", exit.pc, `SMC #${hex(exit.imm)} with no EL3 firmware to handle it`);
      case "mmio": {
        const r = this.mmio.access(exit);
        if (!r.ok) {
          const ram = `RAM [${hex(ARM_RAM_BASE)}, ${hex(ARM_RAM_BASE + this.config.memBytes)})`;
          return this.crash(cpu, "bus-error", exit.pc, `bus error: ${exit.write ? "write to" : "read from"} physical address ${hex(exit.address)}, outside ${ram}, the GIC and the PL011 UART`);
        }
        if (!exit.write) cpu.completeMmioRead(r.value);
        return undefined;
      }
      case "trap":
        return this.crash(cpu, "trap", exit.pc, `${describeEsr(exit.esr)} trapped to EL2, with no hypervisor to handle it`);
      case "bus-error":
        return this.crash(cpu, "bus-error", exit.pc, `bus error: access to physical address ${hex(exit.address)}, outside RAM [${hex(ARM_RAM_BASE)}, ${hex(ARM_RAM_BASE + this.config.memBytes)})`);
      case "exception-loop": {
        // ESR_EL1 and ELR_EL1 still describe the exception that led into the loop.
        const s = cpu.state;
        const why = s.vbar_el1 === 0n ? "; VBAR_EL1 is 0, no vector table is set" : "";
        const first = `${describeEsr(s.esr_el1)} at ${this.where(cpu, s.elr_el1)}`;
        return this.crash(cpu, "exception-loop", exit.pc,
          `exception loop: after ${first}, ${describeEsr(exit.esr)} is taken again and again (vector ${hex(exit.vector)}${why})`);
      }
      case "breakpoint":
        return this.crash(cpu, "breakpoint", exit.pc, "stopped at a breakpoint");
    }
  }

  /** HVC at `pc` (PC is past it): PSCI when the function ID is in its ranges; anything else has nobody to answer it. */
  private hvc(cpu: ArmCpu, pc: bigint): RunEnd | undefined {
    const s = cpu.state;
    const fn = Number(s.x[0]! & 0xffff_ffffn);
    if (!isPsciCall(fn)) {
      return this.crash(cpu, "hvc", pc, `HVC with function ${hex(fn)} in w0: not a PSCI call, and there is no hypervisor to handle it`);
    }
    const cpus = this.m.cpus;
    const action = psciCall(fn, s.x[1]!, s.x[2]!, s.x[3]!, { cpus: cpus.length, isOn: (i) => !cpus[i]!.progress.off });
    switch (action.kind) {
      case "return":
        setX0(cpu, action.x0);
        return undefined;
      case "cpu-on":
        this.m.cpu(action.target).powerOn(action.entry, action.contextId);
        setX0(cpu, PSCI_RET.SUCCESS);
        return undefined;
      case "cpu-off":
        cpu.powerOff();
        return undefined;
      case "system-off":
        return { kind: "power-off", reset: false, cpu: cpu.index };
      case "system-reset":
        return { kind: "power-off", reset: true, cpu: cpu.index };
    }
  }

  private crash(cpu: ArmCpu, reason: CrashReason, pc: bigint, what: string): RunEnd {
    return { kind: "crash", reason, cpu: cpu.index, pc, message: `CPU ${cpu.index}: ${what} at ${this.where(cpu, pc)}` };
  }

  deadlock(live: readonly ArmCpu[]): RunEnd {
    const waiting = live.every((cpu) => cpu.progress.waiting);
    const each = live.map((cpu) => {
      const s = cpu.state;
      if (!cpu.progress.waiting) return `CPU ${cpu.index} retiring nothing at ${this.where(cpu, s.pc)}`;
      // PC is past the WFI; show the WFI itself.
      const daif = (s.pstate >> 6n) & 0xfn;
      return `CPU ${cpu.index} waiting with DAIF=${hex(daif)} at ${this.where(cpu, s.pc - 4n)}`;
    });
    const what = waiting ? "all CPUs wait (WFI) with nothing pending: deadlock" : "no CPU makes progress: deadlock";
    return { kind: "crash", reason: "deadlock", message: `${what} (${each.join("; ")})`, cpu: live[0]!.index, pc: live[0]!.state.pc };
  }

  /** "PC 0x40080004 <_start+0x4> [d4000002: hvc #0x0]", read through the CPU's MMU without side effects. */
  where(cpu: ArmCpu, pc: bigint): string {
    const label = this.symbols.label(pc);
    const name = label ? ` <${label}>` : "";
    const priv = ((cpu.state.pstate >> 2n) & 3n) === 0n ? "user" : "kernel";
    const t = cpu.peek(pc, { op: "fetch", priv });
    const word = t.ok ? this.m.memory.peek64(t.pa & ~7n) : undefined;
    if (word === undefined) return `PC ${hex(pc)}${name} [unreadable]`;
    const insn = Number((word >> (8n * (t.ok ? t.pa & 4n : 0n))) & 0xffff_ffffn);
    const bytes = new Uint8Array(new Uint32Array([insn]).buffer);
    const names = { objdump: (a: bigint) => this.symbols.objdump(a), source: (a: bigint) => hex(a) };
    const d = backendFor("aarch64").decode(bytes, 0, pc, names);
    const text = d.unknown ? "not an instruction shootdown knows" : d.text.replace(/\s+/g, " ").trim();
    return `PC ${hex(pc)}${name} [${insn.toString(16).padStart(8, "0")}: ${text}]`;
  }
}
