// SPDX-License-Identifier: MIT
//
// The AArch64 platform: a QEMU-virt-like machine booted as boot.ts says,
// with the exit chain of its CPUs: PSCI over HVC (psci.ts), the PL011 and
// the other MMIO (devices.ts), WFI sleeping until the timer's deadline (the
// hardware does that), then the crash describer. The GIC is in the hardware
// module. The run's result is PSCI SYSTEM_OFF (success) or SYSTEM_RESET (the
// guest reports a failure); a bus error, an exception loop, an SMC or an HVC
// outside PSCI (no EL2 or EL3 firmware is behind them) crashes the machine.
// The debugger drives this same platform.

import { Machine, type StaleReadEvent } from "../../core/machine.ts";
import { bootArm, planArmLoad, ARM_RAM_BASE } from "./boot.ts";
import type { LoadPlan } from "../../core/elf-load.ts";
import { MmioBus } from "./devices.ts";
import { annotationCall, type GuestAnnotations } from "../../core/annotations.ts";
import { psciCall, isPsciCall, PSCI_RET } from "./psci.ts";
import type { ArmCpu, ArmExit } from "../../cpu/arm-cpu.ts";
import { ArchPlatform, type CpuSnapshot } from "../../core/platform.ts";
import { ExitChain, DONE, type ExitHandler, type Handled, type MachineEvent } from "../../core/exits.ts";
import type { CrashReason, RunEnd } from "../../core/run-end.ts";
import { NO_DISASSEMBLER, type Disassembler } from "../../core/disassembler.ts";
import type { RecordedOptions } from "../../core/schedule-file.ts";
import { chaosInterval } from "../../core/report.ts";
import type { PlatformOptions } from "../x86/platform.ts";

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/**
 * The AArch64 machine a run's options ask for: its CPUs and RAM at 0x4000_0000
 * as on QEMU's virt board, the caches, TLB chaos, and the detectors (the
 * missing-invalidation detector, and the stale-read check only when asked).
 */
export function armMachine(options: RecordedOptions, p: PlatformOptions = {}): Machine<"aarch64"> {
  const chaos = options.tlbChaos === undefined ? undefined : { seed: options.seed ?? 0n, meanInterval: chaosInterval(options.tlbChaos) };
  return new Machine({
    arch: "aarch64", cpus: options.cpus, maxPhysAddr: 48, ram: [{ base: ARM_RAM_BASE, size: options.memBytes }], ...(chaos ? { chaos } : {}),
    ...armCacheOptions(options),
    ...(p.detector ? { detectMissingInvalidation: true } : {}),
    ...(options.checkStaleReads ? { checkStaleReads: true } : {}),
  });
}

/** Boots an AArch64 image as `shootdown run` does; throws LoadError when it cannot be booted. */
export function bootArmPlatform(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, p: PlatformOptions = {}): ArmPlatform {
  const plan = planArmLoad(image, options.memBytes);
  const m = armMachine(options, p);
  bootArm(m, plan, { cmdline: options.cmdline });
  return new ArmPlatform(m, plan, options.memBytes, console, p.disassembler ?? NO_DISASSEMBLER);
}

/** The machine's caches as --system-cache says: with it off, no system cache (0 ways), only the CPUs' L1s. */
export function armCacheOptions(options: RecordedOptions): { caches?: { system: { sets: number; ways: number } } } {
  return options.systemCache === false ? { caches: { system: { sets: 1, ways: 0 } } } : {};
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

export class ArmPlatform extends ArchPlatform<ArmCpu, ArmExit> {
  readonly arch = "aarch64" as const;
  readonly mmio: MmioBus;
  protected chain: ExitChain<ArmCpu, ArmExit>;
  readonly describer: ArmCrashDescriber;
  /**
   * Under a hypervisor, the guest-physical address (IPA) a machine address
   * belongs to, through the domain's p2m (hypervisor/arm/boot.ts), so that
   * a stale read names the address the guest knows; undefined bare.
   */
  ipaOf: ((pa: bigint) => bigint | undefined) | undefined;

  constructor(readonly m: Machine<"aarch64">, readonly plan: LoadPlan | undefined, memBytes: bigint, console: (byte: number) => void, disassembler: Disassembler) {
    super(m, m.cpus);
    this.mmio = new MmioBus(console);
    this.describer = new ArmCrashDescriber(m, memBytes, disassembler);
    this.chain = new ExitChain<ArmCpu, ArmExit>([new ArmFirmwareAndDevices(m, this.mmio, this.annotations), this.describer]);
  }

  /** Powered on and not stopped. */
  live(i: number): boolean {
    return this.m.cpus[i]!.running;
  }

  idle(i: number): boolean {
    return this.isParked(i) || this.m.cpus[i]!.waiting;
  }

  /** PC read straight from the CPU block: the engine asks before every run call. */
  pc(i: number): bigint {
    return this.m.cpus[i]!.pc;
  }

  snapshot(i: number): CpuSnapshot {
    const cpu = this.m.cpus[i]!;
    const p = cpu.progress;
    return { pc: cpu.state.pc, halted: p.waiting, stopped: p.off || p.stopped };
  }

  noneLive(): RunEnd {
    return { kind: "crash", reason: "off", message: "every CPU is off (or stopped) and none called PSCI SYSTEM_OFF" };
  }

  deadlock(live: readonly number[]): RunEnd {
    const cpus = live.map((i) => this.m.cpus[i]!);
    const waiting = cpus.every((cpu) => cpu.progress.waiting);
    const each = cpus.map((cpu) => {
      const s = cpu.state;
      if (!cpu.progress.waiting) return `CPU ${cpu.index} retiring nothing at ${this.describer.where(cpu, s.pc)}`;
      // PC is past the WFI; show the WFI itself.
      const daif = (s.pstate >> 6n) & 0xfn;
      return `CPU ${cpu.index} waiting with DAIF=${hex(daif)} at ${this.describer.where(cpu, s.pc - 4n)}`;
    });
    const what = waiting ? "all CPUs wait (WFI) with nothing pending: deadlock" : "no CPU makes progress: deadlock";
    return { kind: "crash", reason: "deadlock", message: `${what} (${each.join("; ")})`, cpu: cpus[0]!.index, pc: cpus[0]!.state.pc };
  }

  protected machineEvents(): MachineEvent[] {
    return this.m.takeEvents().map((e) => {
      if (e.kind === "stale-read") return staleReadViolation(e, this.ipaOf?.(e.pa));
      if (e.kind === "annotation") return this.annotations.eventOf(e);
      const stage2 = (e.level & 0x80) !== 0;
      const what = `the ${stage2 ? "stage-2 " : ""}L${e.level & 0x7f} descriptor at ${hex(e.sourcePa)}`;
      const kind = e.kind === "stale-tlb-entry" ? "TLB entry" : "walk-cache entry";
      return {
        kind: "stale-use",
        cpu: e.cpu,
        message: `CPU ${e.cpu} used a stale ${kind} for VA ${hex(e.va)} (ASID ${e.pcid}): ${what} was ${hex(e.cachedValue)} and is now ${hex(e.currentValue)}, with no TLBI in between`,
        detail: { ...e },
      };
    });
  }

  stateHash(): bigint {
    return BigInt.asUintN(64, this.m.hw.stateHash());
  }

  consoleBytes(): number {
    return this.mmio.uart.bytesOut;
  }

  unknownPorts() {
    return [];
  }
}

/**
 * Sanitizer event (a) of mechanisms §4.6: a non-cacheable read returned
 * RAM's value while a cache held the latest one. A violation (status 4), as
 * the hypervisor's sanitizer reports one; under a hypervisor the PA is a
 * machine address, which it can name by IPA through its p2m.
 */
export function staleReadViolation(e: StaleReadEvent, ipa?: bigint): MachineEvent {
  const where = e.holder === "system cache" ? "the system cache" : `CPU ${e.holder.l1}'s L1 (dirty)`;
  const address = ipa === undefined ? `PA ${hex(e.pa)}` : `IPA ${hex(ipa)}, machine address ${hex(e.pa)}`;
  return {
    kind: "violation",
    cpu: e.cpu,
    message: `CPU ${e.cpu} read ${e.size} bytes at VA ${hex(e.va)} (${address}) with a non-cacheable access and got ${hex(e.value)} from RAM; ` +
      `the latest value written there, ${hex(e.expected)}, is in ${where}`,
    detail: { rule: "stale-read", ...e, ...(ipa === undefined ? {} : { ipa }), holder: e.holder === "system cache" ? "system cache" : `L1 of CPU ${e.holder.l1}` },
  };
}

function setX0(cpu: ArmCpu, value: bigint): void {
  const x = cpu.state.x.slice();
  x[0] = value;
  cpu.setState({ x });
}

/** The platform's handler: WFI, PSCI over HVC, the PL011 and the other MMIO. */
class ArmFirmwareAndDevices implements ExitHandler<ArmCpu, ArmExit> {
  readonly name = "platform";

  constructor(private readonly m: Machine<"aarch64">, private readonly mmio: MmioBus, private readonly annotations: GuestAnnotations) {}

  handle(cpu: ArmCpu, exit: ArmExit): Handled | undefined {
    switch (exit.reason) {
      case "budget":
      case "parked":
      case "wfi":
      case "off":
        return DONE;
      case "hvc":
        return this.hvc(cpu);
      case "mmio": {
        const r = this.mmio.access(exit);
        if (!r.ok) return undefined;
        if (!exit.write) cpu.completeMmioRead(r.value);
        return DONE;
      }
      default:
        return undefined;
    }
  }

  /**
   * HVC (PC is past it): PSCI when the function ID is in its ranges, a guest
   * annotation when it is one of shootdown's (docs/annotations.md); anything
   * else goes on down the chain.
   */
  private hvc(cpu: ArmCpu): Handled | undefined {
    const s = cpu.state;
    const fn = Number(s.x[0]! & 0xffff_ffffn);
    const annotated = annotationCall(this.annotations, cpu.index, fn, s.x[1]!, (frame) => frame);
    if (annotated !== undefined) {
      setX0(cpu, annotated);
      return DONE;
    }
    if (!isPsciCall(fn)) return undefined;
    const cpus = this.m.cpus;
    const action = psciCall(fn, s.x[1]!, s.x[2]!, s.x[3]!, { cpus: cpus.length, isOn: (i) => !cpus[i]!.progress.off });
    switch (action.kind) {
      case "return":
        setX0(cpu, action.x0);
        return DONE;
      case "cpu-on":
        this.m.cpu(action.target).powerOn(action.entry, action.contextId);
        setX0(cpu, PSCI_RET.SUCCESS);
        return DONE;
      case "cpu-off":
        cpu.powerOff();
        return DONE;
      case "system-off":
        return { kind: "end", end: { kind: "power-off", reset: false, cpu: cpu.index } };
      case "system-reset":
        return { kind: "end", end: { kind: "power-off", reset: true, cpu: cpu.index } };
    }
  }
}

/** The last handler: every exit nothing else carried out crashes the machine, named by PC and instruction. */
export class ArmCrashDescriber implements ExitHandler<ArmCpu, ArmExit> {
  readonly name = "crash describer";

  constructor(private readonly m: Machine<"aarch64">, private readonly memBytes: bigint, private disassembler: Disassembler) {}

  /** Words crash lines with this disassembler from now on. */
  useDisassembler(d: Disassembler): void {
    this.disassembler = d;
  }

  handle(cpu: ArmCpu, exit: ArmExit): Handled {
    const end = (reason: CrashReason, pc: bigint, what: string): Handled =>
      ({ kind: "end", end: { kind: "crash", reason, cpu: cpu.index, pc, message: `CPU ${cpu.index}: ${what} at ${this.where(cpu, pc)}` } });
    const ram = `RAM [${hex(ARM_RAM_BASE)}, ${hex(ARM_RAM_BASE + this.memBytes)})`;
    switch (exit.reason) {
      case "stopped":
        return end("stopped", cpu.state.pc, "the CPU is stopped");
      case "hvc": {
        const fn = Number(cpu.state.x[0]! & 0xffff_ffffn);
        return end("hvc", exit.pc, `HVC with function ${hex(fn)} in w0: not a PSCI call, and there is no hypervisor to handle it`);
      }
      case "smc":
        return end("smc", exit.pc, `SMC #${hex(exit.imm)} with no EL3 firmware to handle it`);
      case "mmio":
        return end("bus-error", exit.pc, `bus error: ${exit.write ? "write to" : "read from"} physical address ${hex(exit.address)}, outside ${ram}, the GIC and the PL011 UART`);
      case "trap":
        return end("trap", exit.pc, `${describeEsr(exit.esr)} trapped to EL2, with no hypervisor to handle it`);
      case "bus-error":
        return end("bus-error", exit.pc, `bus error: access to physical address ${hex(exit.address)}, outside ${ram}`);
      case "exception-loop": {
        // ESR_EL1 and ELR_EL1 still describe the exception that led into the loop.
        const s = cpu.state;
        const why = s.vbar_el1 === 0n ? "; VBAR_EL1 is 0, no vector table is set" : "";
        const first = `${describeEsr(s.esr_el1)} at ${this.where(cpu, s.elr_el1)}`;
        return end("exception-loop", exit.pc, `exception loop: after ${first}, ${describeEsr(exit.esr)} is taken again and again (vector ${hex(exit.vector)}${why})`);
      }
      case "breakpoint":
        return end("breakpoint", exit.pc, "stopped at a breakpoint");
      default: {
        const e = exit as { reason: string; pc?: bigint };
        return end("trap", e.pc ?? cpu.state.pc, `a ${e.reason} exit with nothing to handle it`);
      }
    }
  }

  /** "PC 0x40080004 <_start+0x4> [d4000002: hvc #0x0]", read through the CPU's MMU without side effects. */
  where(cpu: ArmCpu, pc: bigint): string {
    const label = this.disassembler.label(pc);
    const name = label ? ` <${label}>` : "";
    const priv = ((cpu.state.pstate >> 2n) & 3n) === 0n ? "user" : "kernel";
    const t = cpu.peek(pc, { op: "fetch", priv });
    const word = t.ok ? this.m.memory.peek64(t.pa & ~7n) : undefined;
    if (word === undefined) return `PC ${hex(pc)}${name} [unreadable]`;
    const insn = Number((word >> (8n * (t.ok ? t.pa & 4n : 0n))) & 0xffff_ffffn);
    const bytes = new Uint8Array(new Uint32Array([insn]).buffer);
    const text = this.disassembler.decode(bytes, pc)?.text ?? "not an instruction shootdown knows";
    return `PC ${hex(pc)}${name} [${insn.toString(16).padStart(8, "0")}: ${text}]`;
  }
}
