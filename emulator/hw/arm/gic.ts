// SPDX-License-Identifier: MIT
//
// STUB, to be replaced by the GIC+TIMER part of issue 6 (see a64-contract.md):
// the GICv3 distributor, redistributors and CPU interface with exactly the
// signatures the CPU calls. Nothing is ever pending, registers read as zero
// and writes are ignored; the address ranges are QEMU virt's, so that a guest
// programming the GIC reaches here rather than the MMIO exit.

import { cpuCount } from "../cpu";

/** GICD at 0x0800_0000 (64 KiB); redistributors at 0x080A_0000, 128 KiB per CPU. */
const GICD_BASE: u64 = 0x0800_0000;
const GICD_SIZE: u64 = 0x1_0000;
const GICR_BASE: u64 = 0x080A_0000;
const GICR_STRIDE: u64 = 0x2_0000;

export function gicOwns(pa: u64): bool {
  if (pa - GICD_BASE < GICD_SIZE) return true;
  return pa - GICR_BASE < GICR_STRIDE * <u64>cpuCount;
}

export function gicMmioRead(cpu: u32, pa: u64, size: u32): u64 {
  return 0;
}

export function gicMmioWrite(cpu: u32, pa: u64, size: u32, value: u64): void {}

/** The ICC_* registers: op0 = 3, op1 = 0, CRn = 12, CRm 8 to 15 (and ICC_PMR_EL1, CRn = 4, CRm = 6). */
export function gicIsSysreg(key: u32): bool {
  if (key == 0xC230) return true; // ICC_PMR_EL1
  return (key >> 11) == 0b11_000 && ((key >> 7) & 15) == 12 && ((key >> 3) & 15) >= 8;
}

export function gicSysregRead(cpu: u32, key: u32): u64 {
  return 0;
}

export function gicSysregWrite(cpu: u32, key: u32, v: u64): void {}

export function gicPendingIrq(cpu: u32, cycles: u64): bool {
  return false;
}

export function gicReset(): void {}

export function gicCpuReset(cpu: u32): void {}
