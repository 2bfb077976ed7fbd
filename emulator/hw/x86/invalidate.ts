// SPDX-License-Identifier: MIT
//
// Everything that invalidates x86-64 TLBs and paging-structure caches, and
// the control-register writes that do so as a side effect (Intel SDM Vol.3A
// 4.10.4.1, "Operations that Invalidate TLBs and Paging-Structure Caches").
// Each returns 0, or X86_GP when the instruction would raise #GP(0).

import { C, count } from "../cpu";
import {
  CPU_CR0, CPU_CR3, CPU_CR4, CPU_EFER, CPU_PKRU, CPU_RFLAGS, CPU_AC_KIND, CNT_INVLPG, CNT_INVPCID_ADDR,
  CNT_INVPCID_SINGLE, CNT_INVPCID_ALL_GLOBAL, CNT_INVPCID_ALL, CNT_CR3_FLUSH, CNT_CR3_NOFLUSH,
  CNT_FLUSH_ALL, CNT_FLUSH_PCID, PCID_COUNT, CPU_VPID, SPACE_S1, STRUCT_TLB_4K, STRUCT_TLB_1G, X86_FETCH_VA,
} from "../layout";
import { currentEptSlot } from "./ept";
import { maxPhysAddr } from "../phys/ram";
import {
  cr0, cr3, cr4, efer, CR0_PG, CR0_WP, CR3_PCID_MASK, CR3_NOFLUSH, CR4_PAE, CR4_PGE, CR4_PCIDE, CR4_SMEP,
  CR4_LA57, EFER_LMA, RFLAGS_AC,
} from "./regs";
import { rebuildAllowTable, ACC_AC } from "./paging/permissions";
import { isCanonical } from "./translate";
import { rebuildWalkParams } from "./paging/walk";
import { killVa, ANY_ASID } from "../tlb/structure";
import {
  setContext, curCtx, curAsid, ctxWord, raiseScope, raisePscScope, microFlush, SCOPE_CTX_ALL, SCOPE_CTX_NG, SCOPE_ASID,
} from "../tlb/floors";

export const X86_OK: u32 = 0;
export const X86_GP: u32 = 1;

/** INVPCID types (SDM Vol.2A INVPCID). */
export const INVPCID_ADDRESS: u32 = 0;
export const INVPCID_SINGLE_CONTEXT: u32 = 1;
export const INVPCID_ALL_INCLUDING_GLOBAL: u32 = 2;
export const INVPCID_ALL_EXCLUDING_GLOBAL: u32 = 3;

/** The PCID that tags new entries: CR3[11:0] with CR4.PCIDE=1, else 0. */
export function pcidFromRegisters(): u32 {
  return cr4() & CR4_PCIDE ? <u32>(cr3() & CR3_PCID_MASK) : 0;
}

/**
 * The context word of the CPU's linear translations: its VPID (0 outside a
 * guest) and EPT slot (0 without EPT), space S1.
 */
export function x86Context(): u32 {
  return ctxWord(load<u32>(C + CPU_VPID), SPACE_S1, currentEptSlot());
}

/** Makes the registers' PCID, VPID and EPT the current translation context. */
export function syncContext(): void {
  setContext(x86Context(), pcidFromRegisters());
}

/** Re-derives everything cached from the registers; after a raw register load. */
export function syncDerivedState(): void {
  syncContext();
  store<u32>(C + CPU_AC_KIND, load<u64>(C + CPU_RFLAGS) & RFLAGS_AC ? ACC_AC : 0);
  rebuildAllowTable();
  rebuildWalkParams();
}

/**
 * INVLPG: the TLB entries for va's page in the current PCID and global ones
 * for it, and every paging-structure-cache entry of the current PCID. A
 * non-canonical address invalidates nothing and does not fault.
 */
export function invlpg(va: u64): void {
  count(CNT_INVLPG);
  if (!isCanonical(va)) return;
  killVa(STRUCT_TLB_4K, STRUCT_TLB_1G, va, curCtx(), curAsid(), true, true);
  raisePscScope(curCtx(), curAsid());
  dropWindowOf(va);
}

/**
 * The fetch window (cpu/fetch.ts) holds its page's translation without the
 * micro-TLB, whose other pages an invalidation by address keeps (killEntry
 * drops the killed ones): a new micro epoch drops the window when va is its page.
 */
function dropWindowOf(va: u64): void {
  if (((va ^ load<u64>(C + X86_FETCH_VA)) & ~<u64>0xFFF) == 0) microFlush();
}

/** INVPCID with a descriptor (pcid, va). */
export function invpcid(type: u32, pcid: u64, va: u64): u32 {
  if (type > 3 || pcid >= PCID_COUNT) return X86_GP;
  const p = <u32>pcid;
  if (type == INVPCID_ADDRESS) {
    if (!isCanonical(va)) return X86_GP;
    count(CNT_INVPCID_ADDR);
    // That page in that PCID, global translations excepted, and the PCID's
    // paging-structure caches.
    killVa(STRUCT_TLB_4K, STRUCT_TLB_1G, va, curCtx(), p, true, false);
    raisePscScope(curCtx(), p);
    dropWindowOf(va);
  } else if (type == INVPCID_SINGLE_CONTEXT) {
    count(CNT_INVPCID_SINGLE);
    raiseScope(SCOPE_ASID, curCtx(), p);
  } else if (type == INVPCID_ALL_INCLUDING_GLOBAL) {
    count(CNT_INVPCID_ALL_GLOBAL);
    raiseScope(SCOPE_CTX_ALL, curCtx(), 0);
  } else {
    count(CNT_INVPCID_ALL);
    raiseScope(SCOPE_CTX_NG, curCtx(), 0);
  }
  return X86_OK;
}

/**
 * MOV to CR3. With CR4.PCIDE=0 it flushes PCID 0's non-global entries; with
 * PCIDE=1 those of the new PCID, unless source bit 63 is set, which is not
 * stored. Bits 62:MAXPHYADDR (and 63 without PCIDE) are reserved.
 */
export function movToCr3(value: u64): u32 {
  const pcide = (cr4() & CR4_PCIDE) != 0;
  const noFlush = pcide && (value & CR3_NOFLUSH) != 0;
  const stored = pcide ? value & ~CR3_NOFLUSH : value;
  if (stored >> maxPhysAddr) return X86_GP;
  store<u64>(C + CPU_CR3, stored);
  const pcid = pcidFromRegisters();
  setContext(curCtx(), pcid);
  if (noFlush) {
    count(CNT_CR3_NOFLUSH);
    microFlush();
  } else {
    count(CNT_CR3_FLUSH);
    raiseScope(SCOPE_ASID, curCtx(), pcid);
  }
  return X86_OK;
}

/** CR4 bits 24:16 and 14:0 exist (SDM Vol.3A 2.5); bit 15 and bits 63:25 are reserved. */
const CR4_KNOWN: u64 = 0x01FF_7FFF;

/**
 * MOV to CR4. Changing PGE, or clearing PCIDE, flushes everything including
 * global entries; setting SMEP, or changing PAE, flushes the current PCID.
 * Setting PCIDE needs CR3[11:0]=0 and IA-32e mode; LA57 cannot change in
 * IA-32e mode; PAE cannot be cleared in it.
 */
export function movToCr4(value: u64): u32 {
  const old = cr4();
  if (value & ~CR4_KNOWN) return X86_GP;
  const longMode = (efer() & EFER_LMA) != 0;
  const changed = old ^ value;
  if (longMode && (changed & CR4_LA57)) return X86_GP;
  if (longMode && !(value & CR4_PAE)) return X86_GP;
  if ((value & CR4_PCIDE) && !(old & CR4_PCIDE) && ((cr3() & CR3_PCID_MASK) != 0 || !longMode)) return X86_GP;
  store<u64>(C + CPU_CR4, value);
  setContext(curCtx(), pcidFromRegisters());
  if ((changed & CR4_PGE) || ((old & CR4_PCIDE) && !(value & CR4_PCIDE)) || (changed & CR4_LA57)) {
    count(CNT_FLUSH_ALL);
    raiseScope(SCOPE_CTX_ALL, curCtx(), 0);
  } else if ((changed & CR4_PAE) || ((value & CR4_SMEP) && !(old & CR4_SMEP))) {
    count(CNT_FLUSH_PCID);
    raiseScope(SCOPE_ASID, curCtx(), curAsid());
  }
  rebuildAllowTable();
  rebuildWalkParams();
  return X86_OK;
}

/** MOV to CR0. Clearing PG flushes everything; WP only changes the rights. */
export function movToCr0(value: u64): u32 {
  if (value >> 32) return X86_GP;
  const old = cr0();
  store<u64>(C + CPU_CR0, value);
  if ((old & CR0_PG) && !(value & CR0_PG)) {
    count(CNT_FLUSH_ALL);
    raiseScope(SCOPE_CTX_ALL, curCtx(), 0);
  }
  if ((old ^ value) & CR0_WP) rebuildAllowTable();
  return X86_OK;
}

/** WRMSR IA32_EFER: NXE changes what XD means, so the rights are rebuilt. */
export function writeEfer(value: u64): u32 {
  store<u64>(C + CPU_EFER, value);
  rebuildAllowTable();
  rebuildWalkParams();
  return X86_OK;
}

/** WRPKRU. */
export function writePkru(value: u32): void {
  store<u32>(C + CPU_PKRU, value);
  rebuildAllowTable();
}

/** A write of RFLAGS (POPF, STAC, CLAC, IRET …): only AC matters to paging. */
export function writeRflags(value: u64): void {
  store<u64>(C + CPU_RFLAGS, value);
  store<u32>(C + CPU_AC_KIND, value & RFLAGS_AC ? ACC_AC : 0);
}
