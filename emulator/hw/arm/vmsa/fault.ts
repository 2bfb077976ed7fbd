// SPDX-License-Identifier: MIT
//
// Translation faults as the architecture reports them: a type and a level
// (the fault status code of ESR_ELx.DFSC/IFSC and PAR_EL1.FST, Arm ARM
// D19 ESR_ELx ISS encoding for Data Aborts), whether stage 2 raised it, and
// whether it happened on a stage-1 table walk.

/** Fault types, numbered as the FSC groups them (FSC = type << 2 | level). */
export const ARM_FAULT_ADDRESS_SIZE: u32 = 0;
export const ARM_FAULT_TRANSLATION: u32 = 1;
export const ARM_FAULT_ACCESS_FLAG: u32 = 2;
export const ARM_FAULT_PERMISSION: u32 = 3;
/** Synchronous External abort on a translation table walk (FSC 0b0101LL). */
export const ARM_FAULT_EXTERNAL_WALK: u32 = 5;

/** The 6-bit fault status code. */
@inline export function faultStatusCode(type: u32, level: u32): u32 {
  return (type << 2) | (level & 3);
}

/** PAR_EL1 bit 11 is RES1 in both formats; bit 9 is NS (success) or S (fault). */
export const PAR_F: u64 = 1;
export const PAR_RES1: u64 = 1 << 11;
export const PAR_NS: u64 = 1 << 9;
export const PAR_S: u64 = 1 << 9;
export const PAR_PTW: u64 = 1 << 8;

/** PAR_EL1 for a failed AT: F=1, FST, PTW, S. */
export function parFault(type: u32, level: u32, stage2: bool, s1ptw: bool): u64 {
  return PAR_RES1 | PAR_F | (<u64>faultStatusCode(type, level) << 1) | (stage2 ? PAR_S : 0) | (s1ptw ? PAR_PTW : 0);
}

/** PAR_EL1 for a successful AT: PA[51:12], ATTR (MAIR encoding), SH, NS=1 (non-secure). */
export function parSuccess(pa: u64, attr: u32, sh: u32): u64 {
  return (<u64>(attr & 0xFF) << 56) | (pa & 0x000F_FFFF_FFFF_F000) | PAR_RES1 | PAR_NS | (<u64>(sh & 3) << 7);
}
