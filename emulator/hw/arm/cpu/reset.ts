// SPDX-License-Identifier: MIT
//
// Reset values of the A64 state: what QEMU 7.2's virt machine with -cpu max
// hands an ELF kernel at EL1 (measured on it, so that images behave the same).

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
