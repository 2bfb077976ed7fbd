// SPDX-License-Identifier: MIT
//
// The GICv3 and the generic timers of an AArch64 Machine, driven from
// TypeScript: MMIO to the distributor and redistributors, the ICC_* and timer
// system registers by name, and the questions the run loop asks (is an IRQ
// pending, when does a timer fire next). The A64 CPU reaches the same state
// from inside the hardware module (emulator/hw/arm/gic.ts, timer.ts).

import { ShootdownError } from "../core/errors.ts";
import type { HwExports } from "../core/wasm.ts";

/** op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2, as MRS/MSR encode it in bits 20:5. */
export function sysregKey(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

/** The CPU-interface registers, by their Arm ARM names. */
export const ICC_REGISTERS = {
  ICC_PMR_EL1: sysregKey(3, 0, 4, 6, 0),
  ICC_IAR0_EL1: sysregKey(3, 0, 12, 8, 0),
  ICC_EOIR0_EL1: sysregKey(3, 0, 12, 8, 1),
  ICC_HPPIR0_EL1: sysregKey(3, 0, 12, 8, 2),
  ICC_BPR0_EL1: sysregKey(3, 0, 12, 8, 3),
  ICC_AP0R0_EL1: sysregKey(3, 0, 12, 8, 4),
  ICC_AP1R0_EL1: sysregKey(3, 0, 12, 9, 0),
  ICC_DIR_EL1: sysregKey(3, 0, 12, 11, 1),
  ICC_RPR_EL1: sysregKey(3, 0, 12, 11, 3),
  ICC_SGI1R_EL1: sysregKey(3, 0, 12, 11, 5),
  ICC_ASGI1R_EL1: sysregKey(3, 0, 12, 11, 6),
  ICC_SGI0R_EL1: sysregKey(3, 0, 12, 11, 7),
  ICC_IAR1_EL1: sysregKey(3, 0, 12, 12, 0),
  ICC_EOIR1_EL1: sysregKey(3, 0, 12, 12, 1),
  ICC_HPPIR1_EL1: sysregKey(3, 0, 12, 12, 2),
  ICC_BPR1_EL1: sysregKey(3, 0, 12, 12, 3),
  ICC_CTLR_EL1: sysregKey(3, 0, 12, 12, 4),
  ICC_SRE_EL1: sysregKey(3, 0, 12, 12, 5),
  ICC_IGRPEN0_EL1: sysregKey(3, 0, 12, 12, 6),
  ICC_IGRPEN1_EL1: sysregKey(3, 0, 12, 12, 7),
} as const;
export type IccRegister = keyof typeof ICC_REGISTERS;

/** The generic-timer registers, by name. */
export const TIMER_REGISTERS = {
  CNTFRQ_EL0: sysregKey(3, 3, 14, 0, 0),
  CNTPCT_EL0: sysregKey(3, 3, 14, 0, 1),
  CNTVCT_EL0: sysregKey(3, 3, 14, 0, 2),
  CNTP_TVAL_EL0: sysregKey(3, 3, 14, 2, 0),
  CNTP_CTL_EL0: sysregKey(3, 3, 14, 2, 1),
  CNTP_CVAL_EL0: sysregKey(3, 3, 14, 2, 2),
  CNTV_TVAL_EL0: sysregKey(3, 3, 14, 3, 0),
  CNTV_CTL_EL0: sysregKey(3, 3, 14, 3, 1),
  CNTV_CVAL_EL0: sysregKey(3, 3, 14, 3, 2),
  CNTKCTL_EL1: sysregKey(3, 0, 14, 1, 0),
} as const;
export type TimerRegister = keyof typeof TIMER_REGISTERS;

/** QEMU virt's GIC addresses. */
export const GICD_BASE = 0x0800_0000n;
export const GICR_BASE = 0x080a_0000n;
/** Each CPU's redistributor: RD_base, then SGI_base at +64 KiB. */
export const GICR_STRIDE = 0x2_0000n;
export const GICR_SGI_BASE = 0x1_0000n;

const U64_MAX = (1n << 64n) - 1n;

function u64(name: string, v: bigint): bigint {
  if (typeof v !== "bigint" || v < 0n || v > U64_MAX) throw new ShootdownError(`${name} must be a 64-bit unsigned bigint`);
  return v;
}

export class ArmGic {
  constructor(
    private readonly hw: HwExports,
    /** Number of CPUs (and redistributors) of the machine. */
    readonly cpus: number,
  ) {}

  private cpu(cpu: number): number {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) throw new ShootdownError(`no CPU ${cpu} (the machine has ${this.cpus})`);
    return cpu;
  }

  /** The redistributor RD_base of a CPU. */
  redistributor(cpu: number): bigint {
    return GICR_BASE + BigInt(this.cpu(cpu)) * GICR_STRIDE;
  }

  /** The redistributor SGI_base of a CPU. */
  sgiBase(cpu: number): bigint {
    return this.redistributor(cpu) + GICR_SGI_BASE;
  }

  /** Is this physical address a GIC register? */
  owns(pa: bigint): boolean {
    return this.hw.gicOwns(u64("pa", pa)) !== 0;
  }

  private checkAccess(pa: bigint, size: number): void {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new ShootdownError(`access size must be 1, 2, 4 or 8, not ${size}`);
    if (!this.owns(pa)) throw new ShootdownError(`0x${pa.toString(16)} is not a GIC register`);
    if (pa % BigInt(size) !== 0n) throw new ShootdownError(`a ${size}-byte GIC access must be aligned (0x${pa.toString(16)})`);
  }

  /** A load from a GIC register, as CPU `cpu` makes it. */
  read(cpu: number, pa: bigint, size: 1 | 2 | 4 | 8 = 4): bigint {
    this.checkAccess(pa, size);
    return BigInt.asUintN(64, this.hw.gicMmioRead(this.cpu(cpu), pa, size));
  }

  /** A store to a GIC register, as CPU `cpu` makes it. */
  write(cpu: number, pa: bigint, value: bigint, size: 1 | 2 | 4 | 8 = 4): void {
    this.checkAccess(pa, size);
    this.hw.gicMmioWrite(this.cpu(cpu), pa, size, u64("value", value));
  }

  private iccKey(name: IccRegister): number {
    const key = ICC_REGISTERS[name];
    if (key === undefined) throw new ShootdownError(`unknown GIC CPU-interface register '${String(name)}'`);
    return key;
  }

  /** MRS of an ICC_* register on CPU `cpu` (reading ICC_IAR1_EL1 acknowledges). */
  readSysreg(cpu: number, name: IccRegister): bigint {
    return BigInt.asUintN(64, this.hw.gicSysregRead(this.cpu(cpu), this.iccKey(name)));
  }

  /** MSR to an ICC_* register on CPU `cpu`. */
  writeSysreg(cpu: number, name: IccRegister, value: bigint): void {
    this.hw.gicSysregWrite(this.cpu(cpu), this.iccKey(name), u64("value", value));
  }

  private timerKey(name: TimerRegister): number {
    const key = TIMER_REGISTERS[name];
    if (key === undefined) throw new ShootdownError(`unknown generic-timer register '${String(name)}'`);
    return key;
  }

  /** MRS of a timer register on CPU `cpu` whose count is `cycles`. */
  readTimer(cpu: number, name: TimerRegister, cycles: bigint): bigint {
    return BigInt.asUintN(64, this.hw.timerSysregRead(this.cpu(cpu), this.timerKey(name), u64("cycles", cycles)));
  }

  /** MSR to a timer register on CPU `cpu` whose count is `cycles`. */
  writeTimer(cpu: number, name: TimerRegister, value: bigint, cycles: bigint): void {
    this.hw.timerSysregWrite(this.cpu(cpu), this.timerKey(name), u64("value", value), u64("cycles", cycles));
  }

  /** Would CPU `cpu` take an IRQ at `cycles` (with PSTATE.I clear), or leave WFI? */
  pendingIrq(cpu: number, cycles: bigint): boolean {
    return this.hw.gicPendingIrq(this.cpu(cpu), u64("cycles", cycles)) !== 0;
  }

  /** The count at which CPU `cpu`'s next enabled, unmasked timer fires; null if none. */
  nextDeadline(cpu: number): bigint | null {
    const d = BigInt.asUintN(64, this.hw.timerNextDeadline(this.cpu(cpu)));
    return d === U64_MAX ? null : d;
  }

  /** Resets the whole GIC and every timer. */
  reset(): void {
    this.hw.gicReset();
  }

  /** Resets a CPU's interface and timer (PSCI CPU_ON); its redistributor keeps its state. */
  resetCpu(cpu: number): void {
    this.hw.gicCpuReset(this.cpu(cpu));
  }
}
