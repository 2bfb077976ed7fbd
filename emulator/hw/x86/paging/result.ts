// SPDX-License-Identifier: MIT
//
// How a translation ends: a status (0 for success) and, for a fault, a fault
// record in the CPU block (kind, error code, address, level). A page fault
// that is not a peek also writes CR2 and invalidates the TLB and
// paging-structure-cache entries for the faulting address, as the processor
// does (SDM Vol.3A 4.10.4.1), which is why a spurious fault after a lazy
// permission upgrade goes away on retry.

import { C, micro, microMask, microEnabled, count } from "../../cpu";
import {
  CPU_CR2, CPU_FAULT_KIND, CPU_FAULT_CODE, CPU_FAULT_ADDR, CPU_FAULT_LEVEL, CNT_PAGE_FAULT,
  CNT_FAULT_INVAL, CNT_BUS_ERROR, INFO_SIZE_SHIFT, STRUCT_TLB_4K, STRUCT_TLB_1G, STRUCT_PSC_PDE, STRUCT_PSC_PML5E,
} from "../../layout";
import { killVa } from "../../tlb/structure";
import { curAsid, curCtx, microEpoch } from "../../tlb/floors";

export const XLATE_OK: u32 = 0;
/** Page fault (#PF, vector 14). */
export const XLATE_PF: u32 = 1;
/** Non-canonical address: #GP(0) (or #SS for a stack access, which the CPU decides). */
export const XLATE_GP: u32 = 2;
/** A paging-structure load outside RAM: a modelled bus error. */
export const XLATE_BUS: u32 = 3;

/** No side effects at all: no A/D updates, fills, counters, CR2 or invalidation. */
export const MODE_PEEK: u32 = 1;
/** Ignore the TLB and paging-structure caches; walk memory. */
export const MODE_NO_CACHE: u32 = 2;

/** Bits 51:12 of a TLB output word. */
export const OUT_FRAME_MASK: u64 = 0x000F_FFFF_FFFF_F000;
/** Page-size bits 53:52 of a TLB output word. */
export const OUT_SIZE_MASK: u64 = <u64>3 << INFO_SIZE_SHIFT;

function recordFault(kind: u32, code: u32, addr: u64, level: u32): void {
  store<u32>(C + CPU_FAULT_KIND, kind);
  store<u32>(C + CPU_FAULT_CODE, code);
  store<u64>(C + CPU_FAULT_ADDR, addr);
  store<u32>(C + CPU_FAULT_LEVEL, level);
}

export function pageFault(va: u64, code: u32, level: u32, mode: u32): u32 {
  recordFault(XLATE_PF, code, va, level);
  if (mode & MODE_PEEK) return XLATE_PF;
  store<u64>(C + CPU_CR2, va);
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

/** Puts the 4 KiB fragment of a TLB entry that covers va into the micro-TLB. */
export function microFill(va: u64, out: u64, pageShift: u32): void {
  if (!microEnabled) return;
  const inPage = va & ((<u64>1 << pageShift) - 1) & ~<u64>0xFFF;
  const data = ((out & OUT_FRAME_MASK) + inPage) | (out & 0xFFF) | (out & OUT_SIZE_MASK);
  const slot = micro + ((<usize>(va >> 12) & microMask) << 4);
  store<u64>(slot, (va & ~<u64>0xFFF) | microEpoch());
  store<u64>(slot, data, 8);
}
