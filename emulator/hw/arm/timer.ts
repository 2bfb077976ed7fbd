// SPDX-License-Identifier: MIT
//
// STUB, to be replaced by the GIC+TIMER part of issue 6 (see a64-contract.md):
// the generic timer's system registers with exactly the signatures the CPU
// calls. Counters read the CPU's cycle count, everything else reads zero, and
// no timer condition ever becomes true.

/** CNTFRQ_EL0 as QEMU 7.2 reports it. */
const CNTFRQ: u64 = 62_500_000;

const KEY_CNTKCTL_EL1: u32 = 0xC708;
const KEY_CNTFRQ_EL0: u32 = 0xDF00;
const KEY_CNTPCT_EL0: u32 = 0xDF01;
const KEY_CNTVCT_EL0: u32 = 0xDF02;

/** CNT*_EL0 (op0 3, op1 3, CRn 14) and CNTKCTL_EL1. */
export function timerIsSysreg(key: u32): bool {
  return (key >> 7) == ((3 << 7) | (3 << 4) | 14) || key == KEY_CNTKCTL_EL1;
}

export function timerSysregRead(cpu: u32, key: u32, cycles: u64): u64 {
  if (key == KEY_CNTFRQ_EL0) return CNTFRQ;
  if (key == KEY_CNTPCT_EL0 || key == KEY_CNTVCT_EL0) return cycles;
  return 0;
}

export function timerSysregWrite(cpu: u32, key: u32, v: u64, cycles: u64): void {}

export function timerNextDeadline(cpu: u32): u64 {
  return u64.MAX_VALUE;
}
