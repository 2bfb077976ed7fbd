// SPDX-License-Identifier: MIT
//
// The generic timer of each CPU (DDI0487 D11, "The Generic Timer in
// AArch64 state"): the system counter is the CPU's modelled cycle count, read
// through CNTPCT_EL0 and CNTVCT_EL0 (CNTVOFF is 0, so they agree), at the
// frequency QEMU 7.2 reports in CNTFRQ_EL0. The EL1 physical timer (CNTP_*)
// and the virtual timer (CNTV_*) each compare the count with their CVAL; a
// timer whose condition holds, enabled and not masked, asserts its PPI
// (virtual 27, physical 30) as a level in the CPU's redistributor.
//
// The count is not kept here: the CPU passes it to every call that needs it,
// and each such call samples the timer lines into the GIC.

import { gicBlocks, GIC_CPU_SIZE, TIMER_CNTV_CTL, TIMER_CNTP_CTL, TIMER_CNTKCTL, TIMER_CNTFRQ, TIMER_CNTV_CVAL, TIMER_CNTP_CVAL } from "../layout";
import { gicSetPpiLevel, gicPpiLevel } from "./gic";

/** CNTFRQ_EL0 on QEMU 7.2 (62.5 MHz). */
export const CNTFRQ_RESET: u32 = 62_500_000;
export const PPI_CNTV: u32 = 27;
export const PPI_CNTP: u32 = 30;

/** CNTx_CTL_EL0: ENABLE, IMASK, and ISTATUS (read-only, the condition while enabled). */
export const CNT_CTL_ENABLE: u32 = 1 << 0;
export const CNT_CTL_IMASK: u32 = 1 << 1;
export const CNT_CTL_ISTATUS: u32 = 1 << 2;
/** CNTKCTL_EL1: EL0PCTEN, EL0VCTEN, EVNTEN, EVNTDIR, EVNTI (7:4), EL0VTEN, EL0PTEN, EVNTIS (17). */
const CNTKCTL_MASK: u32 = 0x3FF | (1 << 17);

// System register keys: op0<<14 | op1<<11 | CRn<<7 | CRm<<3 | op2.
export const CNTFRQ_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (0 << 3) | 0;
export const CNTPCT_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (0 << 3) | 1;
export const CNTVCT_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (0 << 3) | 2;
export const CNTP_TVAL_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (2 << 3) | 0;
export const CNTP_CTL_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (2 << 3) | 1;
export const CNTP_CVAL_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (2 << 3) | 2;
export const CNTV_TVAL_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (3 << 3) | 0;
export const CNTV_CTL_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (3 << 3) | 1;
export const CNTV_CVAL_EL0: u32 = (3 << 14) | (3 << 11) | (14 << 7) | (3 << 3) | 2;
export const CNTKCTL_EL1: u32 = (3 << 14) | (0 << 11) | (14 << 7) | (1 << 3) | 0;

export const NO_DEADLINE: u64 = u64.MAX_VALUE;

@inline function block(cpu: u32): usize {
  return gicBlocks + <usize>cpu * GIC_CPU_SIZE;
}

/** Registers to their reset values (QEMU resets CTL, CVAL and CNTKCTL to 0). */
export function timerCpuReset(cpu: u32): void {
  const b = block(cpu);
  store<u32>(b + TIMER_CNTV_CTL, 0);
  store<u32>(b + TIMER_CNTP_CTL, 0);
  store<u32>(b + TIMER_CNTKCTL, 0);
  store<u32>(b + TIMER_CNTFRQ, CNTFRQ_RESET);
  store<u64>(b + TIMER_CNTV_CVAL, 0);
  store<u64>(b + TIMER_CNTP_CVAL, 0);
  gicSetPpiLevel(cpu, PPI_CNTV, false);
  gicSetPpiLevel(cpu, PPI_CNTP, false);
}

/** The timer condition (DDI0487 D11.2.4): enabled and CVAL reached; ISTATUS shows it. */
@inline function condition(ctl: u32, cval: u64, cycles: u64): bool {
  return (ctl & CNT_CTL_ENABLE) != 0 && cycles >= cval;
}

/** Drives both PPIs from the timers' state at `cycles`. */
export function timerSample(cpu: u32, cycles: u64): void {
  const b = block(cpu);
  const v = load<u32>(b + TIMER_CNTV_CTL);
  const p = load<u32>(b + TIMER_CNTP_CTL);
  gicSetPpiLevel(cpu, PPI_CNTV, condition(v, load<u64>(b + TIMER_CNTV_CVAL), cycles) && (v & CNT_CTL_IMASK) == 0);
  gicSetPpiLevel(cpu, PPI_CNTP, condition(p, load<u64>(b + TIMER_CNTP_CVAL), cycles) && (p & CNT_CTL_IMASK) == 0);
}

export function timerIsSysreg(key: u32): bool {
  switch (key) {
    case CNTFRQ_EL0:
    case CNTPCT_EL0:
    case CNTVCT_EL0:
    case CNTP_TVAL_EL0:
    case CNTP_CTL_EL0:
    case CNTP_CVAL_EL0:
    case CNTV_TVAL_EL0:
    case CNTV_CTL_EL0:
    case CNTV_CVAL_EL0:
    case CNTKCTL_EL1: return true;
  }
  return false;
}

/** MRS of a timer register at `cycles` (the CPU's count now). */
export function timerSysregRead(cpu: u32, key: u32, cycles: u64): u64 {
  const b = block(cpu);
  timerSample(cpu, cycles);
  switch (key) {
    case CNTFRQ_EL0: return load<u32>(b + TIMER_CNTFRQ);
    case CNTPCT_EL0:
    case CNTVCT_EL0: return cycles;
    case CNTKCTL_EL1: return load<u32>(b + TIMER_CNTKCTL);
    case CNTV_CTL_EL0: return controlValue(load<u32>(b + TIMER_CNTV_CTL), load<u64>(b + TIMER_CNTV_CVAL), cycles);
    case CNTP_CTL_EL0: return controlValue(load<u32>(b + TIMER_CNTP_CTL), load<u64>(b + TIMER_CNTP_CVAL), cycles);
    case CNTV_CVAL_EL0: return load<u64>(b + TIMER_CNTV_CVAL);
    case CNTP_CVAL_EL0: return load<u64>(b + TIMER_CNTP_CVAL);
    // TimerValue is CVAL - count truncated to 32 bits; bits 63:32 read 0 (RES0).
    case CNTV_TVAL_EL0: return <u64><u32>(load<u64>(b + TIMER_CNTV_CVAL) - cycles);
    case CNTP_TVAL_EL0: return <u64><u32>(load<u64>(b + TIMER_CNTP_CVAL) - cycles);
  }
  return 0;
}

@inline function controlValue(ctl: u32, cval: u64, cycles: u64): u64 {
  return <u64>(ctl | (condition(ctl, cval, cycles) ? CNT_CTL_ISTATUS : 0));
}

/** MSR to a timer register at `cycles`. The counters are read-only. */
export function timerSysregWrite(cpu: u32, key: u32, v: u64, cycles: u64): void {
  const b = block(cpu);
  switch (key) {
    case CNTFRQ_EL0: store<u32>(b + TIMER_CNTFRQ, <u32>v); break;
    case CNTKCTL_EL1: store<u32>(b + TIMER_CNTKCTL, <u32>v & CNTKCTL_MASK); break;
    case CNTV_CTL_EL0: store<u32>(b + TIMER_CNTV_CTL, <u32>v & (CNT_CTL_ENABLE | CNT_CTL_IMASK)); break;
    case CNTP_CTL_EL0: store<u32>(b + TIMER_CNTP_CTL, <u32>v & (CNT_CTL_ENABLE | CNT_CTL_IMASK)); break;
    case CNTV_CVAL_EL0: store<u64>(b + TIMER_CNTV_CVAL, v); break;
    case CNTP_CVAL_EL0: store<u64>(b + TIMER_CNTP_CVAL, v); break;
    // CVAL = count + SignExtend(TimerValue<31:0>) (DDI0487 D11.2.4).
    case CNTV_TVAL_EL0: store<u64>(b + TIMER_CNTV_CVAL, cycles + <u64><i64><i32><u32>v); break;
    case CNTP_TVAL_EL0: store<u64>(b + TIMER_CNTP_CVAL, cycles + <u64><i64><i32><u32>v); break;
  }
  timerSample(cpu, cycles);
}

/**
 * The count at which the next enabled, unmasked timer condition becomes
 * true, among timers whose line was not asserted when last sampled;
 * NO_DEADLINE if none. It may lie in the past (the count passed CVAL since
 * the last sample): the run loop then stops at once and samples.
 */
export function timerNextDeadline(cpu: u32): u64 {
  const b = block(cpu);
  let next = NO_DEADLINE;
  const v = load<u32>(b + TIMER_CNTV_CTL);
  if ((v & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) == CNT_CTL_ENABLE && !gicPpiLevel(cpu, PPI_CNTV)) next = load<u64>(b + TIMER_CNTV_CVAL);
  const p = load<u32>(b + TIMER_CNTP_CTL);
  if ((p & (CNT_CTL_ENABLE | CNT_CTL_IMASK)) == CNT_CTL_ENABLE && !gicPpiLevel(cpu, PPI_CNTP)) {
    const c = load<u64>(b + TIMER_CNTP_CVAL);
    if (c < next) next = c;
  }
  return next;
}
