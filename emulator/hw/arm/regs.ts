// SPDX-License-Identifier: MIT
//
// AArch64 system-register fields the MMU depends on, spelled as in the Arm ARM
// (DDI0487, D19 "AArch64 System Register Descriptions").

import { C } from "../cpu";
import { CPU_ARM } from "../layout";

@inline export function armReg(index: u32): u64 {
  return load<u64>(C + CPU_ARM + (<usize>index << 3));
}

@inline export function setArmReg(index: u32, value: u64): void {
  store<u64>(C + CPU_ARM + (<usize>index << 3), value);
}

@inline export function bits(v: u64, hi: u32, lo: u32): u64 {
  return (v >> lo) & ((<u64>1 << (hi - lo + 1)) - 1);
}

// SCTLR_EL1
export const SCTLR_M: u64 = 1 << 0;
export const SCTLR_A: u64 = 1 << 1;
export const SCTLR_C: u64 = 1 << 2;
export const SCTLR_I: u64 = 1 << 12;
export const SCTLR_WXN: u64 = 1 << 19;
export const SCTLR_SPAN: u64 = 1 << 23;

// TCR_EL1
export const TCR_T0SZ_SHIFT: u32 = 0;
export const TCR_EPD0: u64 = 1 << 7;
export const TCR_IRGN0_SHIFT: u32 = 8;
export const TCR_TG0_SHIFT: u32 = 14;
export const TCR_T1SZ_SHIFT: u32 = 16;
export const TCR_A1: u64 = 1 << 22;
export const TCR_EPD1: u64 = 1 << 23;
export const TCR_TG1_SHIFT: u32 = 30;
export const TCR_IPS_SHIFT: u32 = 32;
export const TCR_AS: u64 = <u64>1 << 36;
export const TCR_TBI0: u64 = <u64>1 << 37;
export const TCR_TBI1: u64 = <u64>1 << 38;
export const TCR_HA: u64 = <u64>1 << 39;
export const TCR_HD: u64 = <u64>1 << 40;
export const TCR_HPD0: u64 = <u64>1 << 41;
export const TCR_HPD1: u64 = <u64>1 << 42;
export const TCR_E0PD0: u64 = <u64>1 << 55;
export const TCR_E0PD1: u64 = <u64>1 << 56;
export const TCR_DS: u64 = <u64>1 << 59;

// HCR_EL2
export const HCR_VM: u64 = 1 << 0;
export const HCR_SWIO: u64 = 1 << 1;
export const HCR_PTW: u64 = 1 << 2;
export const HCR_FMO: u64 = 1 << 3;
export const HCR_IMO: u64 = 1 << 4;
export const HCR_DC: u64 = 1 << 12;
export const HCR_TWI: u64 = 1 << 13;
export const HCR_TSW: u64 = <u64>1 << 22;
export const HCR_TVM: u64 = <u64>1 << 26;
export const HCR_TGE: u64 = <u64>1 << 27;

// VTCR_EL2
export const VTCR_T0SZ_SHIFT: u32 = 0;
export const VTCR_SL0_SHIFT: u32 = 6;
export const VTCR_PS_SHIFT: u32 = 16;
export const VTCR_VS: u64 = 1 << 19;
export const VTCR_HA: u64 = 1 << 21;
export const VTCR_HD: u64 = 1 << 22;

/** PSTATE.PAN, kept at its SPSR position. */
export const PSTATE_PAN: u64 = 1 << 22;

/** Output sizes of TCR.IPS / VTCR.PS / ID_AA64MMFR0.PARange encodings 0-6. */
@inline export function paSizeBits(encoding: u32): u32 {
  // 32, 36, 40, 42, 44, 48, 52 (encodings above 6 are reserved; treated as 52)
  return encoding >= 6 ? 52 : <u32>((<u64>0x30_2C_2A_28_24_20 >> (encoding * 8)) & 0xFF);
}
