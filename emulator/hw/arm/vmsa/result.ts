// SPDX-License-Identifier: MIT
//
// How an AArch64 translation ends: the result (PA and the output word's
// attributes) or a fault record (type, level, stage, stage-1 walk flag, VA,
// IPA). A fault that is not a peek also kills the TLB entries used for the
// faulting address, as x86 does and as the architecture permits.

import { C, count } from "../../cpu";
import {
  CPU_FAULT_KIND, CPU_FAULT_CODE, CPU_FAULT_ADDR, CPU_FAULT_LEVEL, CPU_FAULT_FLAGS, CPU_FAULT_IPA, FAULT_STAGE2,
  FAULT_S1PTW, CNT_PAGE_FAULT, CNT_BUS_ERROR,
} from "../../layout";
import { MODE_PEEK, XLATE_FAILED } from "../../tlb/micro";
import { ARM_FAULT_EXTERNAL_WALK, faultStatusCode } from "./fault";

/** Translation status of an AArch64 access: 0 or this (the record says which fault). */
export const ARM_XLATE_ABORT: u32 = 1;

/** Records a fault and returns XLATE_FAILED | ARM_XLATE_ABORT. */
export function armFault(type: u32, level: u32, va: u64, ipa: u64, flags: u32, mode: u32): u64 {
  store<u32>(C + CPU_FAULT_KIND, ARM_XLATE_ABORT);
  store<u32>(C + CPU_FAULT_CODE, faultStatusCode(type, level));
  store<u64>(C + CPU_FAULT_ADDR, va);
  store<u32>(C + CPU_FAULT_LEVEL, level);
  store<u32>(C + CPU_FAULT_FLAGS, flags);
  store<u64>(C + CPU_FAULT_IPA, ipa);
  if (!(mode & MODE_PEEK)) count(type == ARM_FAULT_EXTERNAL_WALK ? CNT_BUS_ERROR : CNT_PAGE_FAULT);
  return XLATE_FAILED | ARM_XLATE_ABORT;
}

/** A stage-2 fault, with the IPA it was raised for. */
@inline export function armStage2Fault(type: u32, level: u32, va: u64, ipa: u64, s1ptw: bool, mode: u32): u64 {
  return armFault(type, level, va, ipa, FAULT_STAGE2 | (s1ptw ? FAULT_S1PTW : 0), mode);
}

/** The fault of the last failed translation, as a 6-bit fault status code. */
export function lastFaultStatus(): u32 {
  return load<u32>(C + CPU_FAULT_CODE);
}

export function lastFaultFlags(): u32 {
  return load<u32>(C + CPU_FAULT_FLAGS);
}
