// SPDX-License-Identifier: MIT
//
// Reset values of the A64 state (a64-contract.md; QEMU's for -cpu max).

/** EL1h (M = 0b0101), D, A, I and F masked. */
export const PSTATE_RESET: u64 = 0x3C5;
/** SCTLR_EL1: RES1 bits, SPAN, EIS, EOS, nTWE and nTWI clear: the MMU and caches off. */
export const SCTLR_EL1_RESET: u64 = 0x30D0_0800;
