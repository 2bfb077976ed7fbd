// SPDX-License-Identifier: MIT
//
// A guest's linear-address translation under EPT (Intel SDM Vol.3C 29.3.2):
// the guest's paging structures live at guest-physical addresses, so every
// entry the guest walk reads is itself translated through EPT, and so is the
// final guest-physical address. The result is a combined mapping (linear →
// host physical), tagged with the VPID, the PCID and the EPT slot.
//
// The guest walk's own faults are page faults for the guest; EPT's are EPT
// violations or misconfigurations for the hypervisor, with an exit
// qualification. With EPT accessed/dirty flags on (EPTP bit 6), every access
// to a guest paging-structure entry counts as a write (SDM Vol.3C 29.3.3.2).
//
// This is the slow path of guest translation; the walk without EPT
// (walk.ts) stays free of it. Every entry access, with its EPT translation,
// goes through fetch.ts.

import { C, count } from "../../cpu";
import {
  CPU_RES_PA, CPU_RES_INFO, STRUCT_TLB_4K, STRUCT_PSC_PDE, EF_GLOBAL, E_OUT, E_ATTRS, CNT_PSC_HIT, INFO_PAT_SHIFT,
  INFO_GLOBAL, INFO_SIZE_SHIFT,
} from "../../layout";
import { maxPhysAddr } from "../../phys/ram";
import { XLATE_OK, XLATE_FAILED, MODE_PEEK, MODE_NO_CACHE, MODE_FROM_ROOT, microFill } from "../../tlb/micro";
import { pscProbe, pscMayHold, structFill } from "../../tlb/structure";
import { annotOn, annotEntryUsed } from "../../common/annotate";
import { curCtx, curAsid } from "../../tlb/floors";
import { cr3, cr4, CR4_LA57, CR4_PGE } from "../regs";
import { PTE_P, PTE_PS, PTE_A, PTE_D, PTE_G, PTE_PK_SHIFT, addrMask } from "./pte";
import { PFERR_P, PFERR_RSVD } from "./pferr";
import { ATTR_U, ATTR_W, ATTR_D, ATTR_PKEY_SHIFT, ACC_WRITE, ACC_FETCH, accessErrorBits, protectionFault } from "./permissions";
import { pageFault, busFault } from "./result";
import { reservedBits } from "./walk";
import { eptTranslate, eptRights, eptPageShift, EPT_READ, EPT_WRITE, EPT_FETCH, EPT_R, EPT_W, EPT_X } from "../ept";
import { fetchEntry, fetchAborted, guestEntryAddress, writeGuestEntry } from "./fetch";

/** Bits 56:54 of a combined entry's output word: the EPT rights R, W, X it was filled with. */
export const INFO_EPT_SHIFT: u32 = 54;

/** Rights of a guest entry in the attrs encoding (U/S → ATTR_U, R/W → ATTR_W, XD → ATTR_XD). */
@inline function entryRights(pte: u64): u32 {
  return (<u32>(pte >> 2) & ATTR_U) | (<u32>pte & ATTR_W) | (<u32>(pte >> 63) << 2);
}

@inline function combine(attrs: u32, pte: u64): u32 {
  const r = entryRights(pte);
  return (attrs & (r | ~(ATTR_U | ATTR_W))) | (r & ~(ATTR_U | ATTR_W));
}

/** Status of an EPT failure (XLATE_EPT_*), from eptTranslate's result. */
@inline function eptStatus(result: u64): u32 {
  return <u32>result;
}

/**
 * The guest walk for va through EPT. Returns 0 (result in the CPU block), a
 * guest #PF/#GP status, or XLATE_EPT_VIOLATION / XLATE_EPT_MISCONFIG.
 */
export function walkNested(va: u64, kind: u32, mode: u32): u32 {
  const peek = (mode & MODE_PEEK) != 0;
  const cached = !peek && !(mode & MODE_NO_CACHE);
  const top: u32 = cr4() & CR4_LA57 ? 5 : 4;
  const addrField = addrMask(maxPhysAddr);
  const ctx = curCtx();
  const asid = curAsid();

  let level = top;
  let tableGpa = cr3() & addrField;
  let table: u64 = 0;
  let attrs: u32 = ATTR_U | ATTR_W;
  let known = true;
  // Combined walk caches hold host addresses of guest tables.
  if (!(mode & (MODE_NO_CACHE | MODE_FROM_ROOT)) && pscMayHold()) {
    for (let cl: u32 = 2; cl <= top; cl++) {
      const e = pscProbe(STRUCT_PSC_PDE + cl - 2, va);
      if (e == 0) continue;
      if (!peek) count(CNT_PSC_HIT);
      if (!peek && annotOn) annotEntryUsed(STRUCT_PSC_PDE + cl - 2, e, va);
      table = load<u64>(e, E_OUT);
      attrs = <u32>load<u8>(e, E_ATTRS);
      level = cl - 1;
      known = false;
      break;
    }
  }

  let entryGpa: u64 = 0;
  let entryPa: u64 = 0;
  let pte: u64 = 0;
  for (let step = 0; step < 6; step++) {
    const index = ((va >> (12 + 9 * (level - 1))) & 511) << 3;
    if (known) {
      entryGpa = tableGpa + index;
      const hpa = guestEntryAddress(entryGpa, va, mode);
      if (hpa & XLATE_FAILED) return eptStatus(hpa);
      entryPa = hpa;
    } else {
      entryGpa = u64.MAX_VALUE;
      entryPa = table + index;
    }
    pte = fetchEntry(entryPa, false, mode);
    if (!(pte & PTE_P)) {
      if (pte == 0 && fetchAborted()) return busFault(entryPa, level, mode);
      return pageFault(va, accessErrorBits(kind), level, mode);
    }
    if (pte & reservedBits(level, (pte & PTE_PS) != 0)) {
      return pageFault(va, PFERR_P | PFERR_RSVD | accessErrorBits(kind), level, mode);
    }
    attrs = combine(attrs, pte);
    if (level == 1 || (pte & PTE_PS)) break;
    // The walk used this entry: A=1, a write through EPT, which needs the
    // entry's guest-physical address: after a walk-cache hit, walk again
    // from CR3 without the caches to learn it.
    if (!peek && !(pte & PTE_A)) {
      if (!known) return walkNested(va, kind, mode | MODE_FROM_ROOT);
      const w = writeGuestEntry(entryGpa, entryPa, pte | PTE_A, va, mode);
      if (w & XLATE_FAILED) return eptStatus(w);
    }
    tableGpa = pte & addrField;
    known = true;
    if (cached) {
      // Cache the host address of the next table (its page is translated now).
      const nextIndex = ((va >> (12 + 9 * (level - 2))) & 511) << 3;
      const hpa = guestEntryAddress(tableGpa + nextIndex, va, mode);
      if (hpa & XLATE_FAILED) return eptStatus(hpa);
      structFill(STRUCT_PSC_PDE + level - 2, va, hpa - nextIndex, attrs, 0, ctx, asid);
    }
    level--;
  }

  // The guest leaf.
  attrs |= <u32>((pte >> PTE_PK_SHIFT) & 15) << ATTR_PKEY_SHIFT;
  const fault = protectionFault(kind, attrs);
  if (fault) return pageFault(va, fault, level, mode);
  const updated = pte | PTE_A | (kind & ACC_WRITE ? PTE_D : 0);
  if (!peek && updated != pte) {
    if (!known) return walkNested(va, kind, mode | MODE_FROM_ROOT);
    const w = writeGuestEntry(entryGpa, entryPa, updated, va, mode);
    if (w & XLATE_FAILED) return eptStatus(w);
  }
  if (updated & PTE_D) attrs |= ATTR_D;
  const guestShift: u32 = 12 + 9 * (level - 1);
  const gpa = (pte & addrField & ~((<u64>1 << guestShift) - 1)) | (va & ((<u64>1 << guestShift) - 1));

  // The final guest-physical address, through EPT with the access's own kind.
  const access = kind & ACC_FETCH ? EPT_FETCH : kind & ACC_WRITE ? EPT_WRITE : EPT_READ;
  const hpa = eptTranslate(gpa, access, false, va, mode);
  if (hpa & XLATE_FAILED) return eptStatus(hpa);
  // A combined mapping covers no more than either stage maps.
  const shift = eptPageShift < guestShift ? eptPageShift : guestShift;
  const pageMask: u64 = (<u64>1 << shift) - 1;
  const patIndex = (<u32>(pte >> (level == 1 ? 7 : 12)) & 1) << 2 | (<u32>(pte >> 3) & 3);
  const global = (pte & PTE_G) != 0 && (cr4() & CR4_PGE) != 0;
  const ept = eptRights;
  const info: u64 = <u64>attrs | (<u64>patIndex << INFO_PAT_SHIFT) | (global ? INFO_GLOBAL : 0)
    | (<u64>((shift - 12) / 9) << INFO_SIZE_SHIFT) | (<u64>ept << INFO_EPT_SHIFT);
  store<u64>(C + CPU_RES_PA, hpa);
  store<u64>(C + CPU_RES_INFO, info);
  if (cached) {
    // Accesses that EPT forbids must come back here: such entries stay out
    // of the micro-TLB, and the TLB-hit path checks the EPT bits.
    const cachedAttrs = ept & <u32>EPT_W ? attrs : attrs & ~ATTR_D;
    structFill(STRUCT_TLB_4K + (shift - 12) / 9, va, (hpa & ~pageMask) | info, cachedAttrs, global ? EF_GLOBAL : 0, ctx, asid);
    if (ept == <u32>(EPT_R | EPT_W | EPT_X)) microFill(va, (hpa & ~pageMask) | info, shift);
  }
  return XLATE_OK;
}
