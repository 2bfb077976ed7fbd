// SPDX-License-Identifier: MIT
//
// How a translation ends: a status (0 for success) and, for a fault, a fault
// record in the CPU block (kind, error code, address, level). A page fault
// that is not a peek also writes CR2 and invalidates the TLB and
// paging-structure-cache entries for the faulting address, as the processor
// does (SDM Vol.3A 4.10.4.1), which is why a spurious fault after a lazy
// permission upgrade goes away on retry.

import { C, count } from "../../cpu";
import { MODE_PEEK } from "../../tlb/micro";
import {
  CPU_CR2, CPU_FAULT_KIND, CPU_FAULT_CODE, CPU_FAULT_ADDR, CPU_FAULT_LEVEL, CNT_PAGE_FAULT,
  CNT_FAULT_INVAL, CNT_BUS_ERROR, STRUCT_TLB_4K, STRUCT_TLB_1G, STRUCT_PSC_PDE, STRUCT_PSC_PML5E,
} from "../../layout";
import { killVa } from "../../tlb/structure";
import { curAsid, curCtx } from "../../tlb/floors";
import { exceptionExits } from "../guest/controls";
import { VECTOR_PF } from "./pferr";

/** Page fault (#PF, vector 14). */
export const XLATE_PF: u32 = 1;
/** Non-canonical address: #GP(0) (or #SS for a stack access, which the CPU decides). */
export const XLATE_GP: u32 = 2;
/** A paging-structure load outside RAM: a modelled bus error. */
export const XLATE_BUS: u32 = 3;

function recordFault(kind: u32, code: u32, addr: u64, level: u32): void {
  store<u32>(C + CPU_FAULT_KIND, kind);
  store<u32>(C + CPU_FAULT_CODE, code);
  store<u64>(C + CPU_FAULT_ADDR, addr);
  store<u32>(C + CPU_FAULT_LEVEL, level);
}

export function pageFault(va: u64, code: u32, level: u32, mode: u32): u32 {
  recordFault(XLATE_PF, code, va, level);
  if (mode & MODE_PEEK) return XLATE_PF;
  // A #PF that exits to the hypervisor leaves CR2 as it was (SDM Vol.3C 28.1); the exit reports va.
  if (!exceptionExits(VECTOR_PF)) store<u64>(C + CPU_CR2, va);
  count(CNT_PAGE_FAULT);
  count(CNT_FAULT_INVAL);
  killVa(STRUCT_TLB_4K, STRUCT_TLB_1G, va, curCtx(), curAsid(), true, true);
  killVa(STRUCT_PSC_PDE, STRUCT_PSC_PML5E, va, curCtx(), curAsid(), true, false);
  return XLATE_PF;
}

export function generalProtection(va: u64): u32 {
  recordFault(XLATE_GP, 0, va, 0);
  return XLATE_GP;
}

export function busFault(pa: u64, level: u32, mode: u32): u32 {
  recordFault(XLATE_BUS, 0, pa, level);
  if (!(mode & MODE_PEEK)) count(CNT_BUS_ERROR);
  return XLATE_BUS;
}
