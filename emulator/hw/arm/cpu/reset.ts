// SPDX-License-Identifier: MIT
//
// Reset values of the A64 state: what QEMU 7.2's virt machine with -cpu max
// hands an ELF kernel at EL1 (measured on it, so that images behave the same).

import { C } from "../../cpu";
import {
  CPU_A64, A64_END, A64_MPIDR, A64_EXCL_PA, A64_EXCL_NONE, A64_LAST_FAULT_PC, A64_NO_FAULT, CPU_ARM, ARM_SCTLR_EL1,
} from "../../layout";
import { setPstate } from "./state";

/**
 * EL1h (M = 0b0101), D, A, I and F masked, and Z set: QEMU keeps Z inverted,
 * so its zeroed reset state reads as Z = 1 (the architecture leaves NZCV
 * UNKNOWN).
 */
export const PSTATE_RESET: u64 = 0x4000_03C5;
/**
 * SCTLR_EL1: the MMU and caches off; SA and SA0 (SP alignment checks),
 * CP15BEN, EOS, nTWI and nTWE (WFI and WFE from EL0 not trapped), EIS, SPAN.
 */
export const SCTLR_EL1_RESET: u64 = 0x00C5_0838;

/**
 * The A64 execution state after reset (docs/boot.md, "Boot protocol (AArch64)"): EL1h, DAIF masked,
 * SCTLR_EL1 at QEMU's reset value (MMU and caches off), registers zero,
 * MPIDR_EL1 = 0x8000_0000 | index, the CPU on.
 */
export function a64ExecReset(cpu: u32): void {
  memory.fill(C + CPU_A64, 0, A64_END - CPU_A64);
  store<u64>(C + A64_MPIDR, 0x8000_0000 | <u64>cpu);
  store<u64>(C + A64_EXCL_PA, A64_EXCL_NONE);
  store<u64>(C + A64_LAST_FAULT_PC, A64_NO_FAULT);
  store<u64>(C + CPU_ARM + (<usize>ARM_SCTLR_EL1 << 3), SCTLR_EL1_RESET);
  setPstate(PSTATE_RESET);
}
