// SPDX-License-Identifier: MIT
//
// The x86-64 page walk: 4-level and 5-level paging (Intel SDM Vol.3A 4.5).
//
// A staged pipeline: parameters (CR3, CR4.LA57) → initial state (the deepest
// paging-structure-cache hit, or the root) → per level { entry address, fetch,
// decode: present, reserved bits, rights, leaf or table } → permissions on the
// leaf → Accessed/Dirty → TLB fill. Every descriptor load and store goes
// through fetchDescriptor/writeDescriptor, which is where walk-read counting
// and the missing-invalidation detector's bookkeeping live.
//
// Accessed flags: an entry that references a table gets A=1 as soon as the
// walk has used it, whether or not the walk later faults; the leaf gets A (and
// D for a write) only when the access is allowed (SDM Vol.3A 4.8).

import { C, count, features } from "../../cpu";
import {
  CPU_RES_PA, CPU_RES_INFO, FEATURE_DETECT, FEATURE_PAGE1GB, STRUCT_PSC_PDE, STRUCT_TLB_4K, EF_GLOBAL,
  CNT_WALK, CNT_WALK_READ, CNT_PSC_HIT, CNT_AD_WRITE, INFO_PAT_SHIFT, INFO_GLOBAL, INFO_SIZE_SHIFT,
  EVENT_STALE_PSC, E_OUT, E_ATTRS,
} from "../../layout";
import { physRead64, physWrite64, busError, maxPhysAddr } from "../../phys/ram";
import { walkSrcReset, walkSrcPush, walkSrcUpdateLast, walkSrcLoad, walkSrcSave, checkSources } from "../../common/detector";
import { cr3, cr4, efer, CR4_LA57, CR4_PGE, EFER_NXE } from "../regs";
import {
  PTE_P, PTE_RW, PTE_US, PTE_PWT, PTE_PCD, PTE_A, PTE_D, PTE_PS, PTE_PAT_4K, PTE_PAT_LARGE, PTE_G,
  PTE_XD, PTE_PK_SHIFT, TABLE_IGNORED, rsvdAddrBits, addrMask,
} from "./pte";
import { PFERR_P, PFERR_RSVD } from "./pferr";
import { ATTR_U, ATTR_W, ATTR_XD, ATTR_D, ATTR_PKEY_SHIFT, ACC_WRITE, accessErrorBits, protectionFault } from "./permissions";
import { pscProbe, structFill, entrySources } from "../tlb/structure";
import { curPcid } from "../tlb/clock";
import { XLATE_OK, MODE_PEEK, MODE_NO_CACHE, pageFault, busFault, microFill } from "./result";

/** Bits 29:13 of a PDPTE that maps a 1 GiB page, reserved (SDM Vol.3A table 4-16). */
const RSVD_1G: u64 = 0x3FFF_E000;
/** Bits 20:13 of a PDE that maps a 2 MiB page, reserved (SDM Vol.3A table 4-18). */
const RSVD_2M: u64 = 0x001F_E000;

/** The reserved bits that are set in a present entry at `level` (1 = PTE … 5 = PML5E). */
export function reservedBitsSet(level: u32, pte: u64): u64 {
  let rsvd = rsvdAddrBits(maxPhysAddr);
  if (!(efer() & EFER_NXE)) rsvd |= PTE_XD;
  if (level >= 4) {
    rsvd |= PTE_PS;
  } else if (level >= 2 && (pte & PTE_PS)) {
    if (level == 2) rsvd |= RSVD_2M;
    else if (features & FEATURE_PAGE1GB) rsvd |= RSVD_1G;
    else rsvd |= PTE_PS;
  }
  return pte & rsvd;
}

/** Loads one paging-structure entry for the walk. */
function fetchDescriptor(pa: u64, level: u32, mode: u32): u64 {
  const value = physRead64(pa);
  if (mode & MODE_PEEK) return value;
  count(CNT_WALK_READ);
  if (!busError && (features & FEATURE_DETECT)) walkSrcPush(pa, value, level);
  return value;
}

/** Writes back an entry whose Accessed or Dirty flag the walk set. */
function writeDescriptor(pa: u64, value: u64): void {
  physWrite64(pa, value);
  count(CNT_AD_WRITE);
  if (features & FEATURE_DETECT) walkSrcUpdateLast(value);
}

/**
 * Walks the paging structures for va with access kind `kind` (ACC_*, with
 * ACC_AC folded in). On success the result PA and info are in the CPU block
 * and, unless peeking, the TLB (and micro-TLB) hold the translation.
 */
export function walk(va: u64, kind: u32, mode: u32): u32 {
  const peek = (mode & MODE_PEEK) != 0;
  const cached = !peek && !(mode & MODE_NO_CACHE);
  const detect = !peek && (features & FEATURE_DETECT) != 0;
  if (!peek) count(CNT_WALK);
  if (detect) walkSrcReset();

  // Initial state: the root, or the deepest paging-structure-cache hit
  // (SDM Vol.3A 4.10.3.2: the longest cached prefix is used).
  const top: u32 = cr4() & CR4_LA57 ? 5 : 4;
  let level = top;
  let table = cr3() & addrMask(maxPhysAddr);
  let attrs: u32 = ATTR_U | ATTR_W;
  if (!(mode & MODE_NO_CACHE)) {
    for (let cachedLevel: u32 = 2; cachedLevel <= top; cachedLevel++) {
      const s = STRUCT_PSC_PDE + cachedLevel - 2;
      const e = pscProbe(s, va);
      if (e == 0) continue;
      if (!peek) count(CNT_PSC_HIT);
      table = load<u64>(e, E_OUT);
      attrs = <u32>load<u8>(e, E_ATTRS);
      level = cachedLevel - 1;
      if (detect) {
        const rec = entrySources(s, e);
        checkSources(rec, e, va, EVENT_STALE_PSC, curPcid(), TABLE_IGNORED, TABLE_IGNORED);
        walkSrcLoad(rec);
      }
      break;
    }
  }

  for (;;) {
    const shift: u32 = 12 + 9 * (level - 1);
    const entryPa = table + (((va >> shift) & 511) << 3);
    let pte = fetchDescriptor(entryPa, level, mode);
    if (busError) return busFault(entryPa, level, mode);
    if (!(pte & PTE_P)) return pageFault(va, accessErrorBits(kind), level, mode);
    if (reservedBitsSet(level, pte)) return pageFault(va, PFERR_P | PFERR_RSVD | accessErrorBits(kind), level, mode);

    if (!(pte & PTE_US)) attrs &= ~ATTR_U;
    if (!(pte & PTE_RW)) attrs &= ~ATTR_W;
    if (pte & PTE_XD) attrs |= ATTR_XD;

    if (level > 1 && !(pte & PTE_PS)) {
      // An entry that references the next table.
      if (!peek && !(pte & PTE_A)) {
        pte |= PTE_A;
        writeDescriptor(entryPa, pte);
      }
      table = pte & addrMask(maxPhysAddr);
      if (cached) {
        const e = structFill(STRUCT_PSC_PDE + level - 2, va, table, attrs, 0, curPcid());
        if (detect) walkSrcSave(entrySources(STRUCT_PSC_PDE + level - 2, e));
      }
      level--;
      continue;
    }

    // The leaf: a 4 KiB page (level 1), a 2 MiB page (2) or a 1 GiB page (3).
    attrs |= <u32>((pte >> PTE_PK_SHIFT) & 15) << ATTR_PKEY_SHIFT;
    const fault = protectionFault(kind, attrs);
    if (fault) return pageFault(va, fault, level, mode);
    const updated = pte | PTE_A | (kind & ACC_WRITE ? PTE_D : 0);
    if (!peek && updated != pte) writeDescriptor(entryPa, updated);
    if (updated & PTE_D) attrs |= ATTR_D;

    const pageMask: u64 = (<u64>1 << shift) - 1;
    const frame = pte & addrMask(maxPhysAddr) & ~pageMask;
    const patBit = level == 1 ? (pte & PTE_PAT_4K) != 0 : (pte & PTE_PAT_LARGE) != 0;
    const patIndex = (patBit ? 4 : 0) | (pte & PTE_PCD ? 2 : 0) | (pte & PTE_PWT ? 1 : 0);
    const global = (pte & PTE_G) != 0 && (cr4() & CR4_PGE) != 0;
    const info: u64 = <u64>attrs | (<u64>patIndex << INFO_PAT_SHIFT) | (global ? INFO_GLOBAL : 0)
      | (<u64>(level - 1) << INFO_SIZE_SHIFT);
    store<u64>(C + CPU_RES_PA, frame | (va & pageMask));
    store<u64>(C + CPU_RES_INFO, info);
    if (cached) {
      const s = STRUCT_TLB_4K + level - 1;
      const e = structFill(s, va, frame | info, attrs, global ? EF_GLOBAL : 0, curPcid());
      if (detect) walkSrcSave(entrySources(s, e));
      microFill(va, frame | info, shift);
    }
    return XLATE_OK;
  }
}

