// SPDX-License-Identifier: MIT
//
// The AArch64 stage-1 walk for the EL1&0 regime, 4 KiB granule (Arm ARM D8,
// the AArch64.S1Walk family), with stage 2 under it when HCR_EL2.VM=1.
//
// Stages, as the pseudocode names them:
//   1. parameters (GetS1TTWParams): TTBR0 or TTBR1 by VA bit 55, TxSZ, TBI,
//      EPD/E0PD, HPD, HA/HD, the output size; the region check;
//   2. initial state: the TTBR base, or the deepest walk-cache hit;
//   3. per level: descriptor address, fetch (fetch.ts: through stage 2 when
//      nested, every table address being an IPA), decode (invalid, table, block, page),
//      output-address size check, hierarchical attributes;
//   4. the leaf: Access flag, dirty state, permissions, write-back, output
//      address (through stage 2 when nested), attributes, TLB fill.
//
// Faults are checked in the order QEMU's model (and the conformance vectors)
// use: a descriptor's validity, then its output size; at the leaf the Access
// flag before permissions; hardware updates happen only for an allowed access.

import { C, count, features } from "../../cpu";
import {
  ARM_SCTLR_EL1, ARM_TCR_EL1, ARM_TTBR0_EL1, ARM_TTBR1_EL1, ARM_MAIR_EL1, ARM_HCR_EL2, CPU_RES_PA, CPU_RES_INFO, EF_GLOBAL,
  STRUCT_TLB_4K, STRUCT_PSC_PDE, E_OUT, E_ATTRS, CNT_PSC_HIT, FEATURE_DETECT,
  EVENT_STALE_PSC, INFO_SIZE_SHIFT,
} from "../../layout";
import { maxPhysAddr } from "../../phys/ram";
import { MODE_PEEK, MODE_NO_CACHE, MODE_FROM_ROOT, XLATE_FAILED, microFill } from "../../tlb/micro";

/** Walk stage 1 only (AT S1E*): with stage 2 enabled, tables are still read through it, but the result is the IPA. */
export const MODE_S1_ONLY: u32 = 4;
import { pscProbe, pscMayHold, structFill, entrySources } from "../../tlb/structure";
import { curCtx, curAsid } from "../../tlb/floors";
import { walkSrcReset, walkSrcLoad, walkSrcSave, checkSources } from "../../common/detector";
import { annotOn, annotEntryUsed } from "../../common/annotate";
import {
  armReg, bits, paSizeBits, TCR_EPD0, TCR_EPD1, TCR_TBI0, TCR_TBI1, TCR_HA, TCR_HD, TCR_HPD0, TCR_HPD1, TCR_E0PD0,
  TCR_E0PD1, HCR_VM, SCTLR_WXN,
} from "../regs";
import {
  DESC_VALID, DESC_TABLE, DESC_AF, DESC_NG, DESC_DBM, DESC_AP1, DESC_AP2, DESC_PXN, DESC_UXN, DESC_OA_MASK,
} from "./descriptor";
import {
  ARM_FAULT_ADDRESS_SIZE, ARM_FAULT_TRANSLATION, ARM_FAULT_ACCESS_FLAG, ARM_FAULT_PERMISSION, ARM_FAULT_EXTERNAL_WALK,
} from "./fault";
import { armFault } from "./result";
import {
  ARM_ATTR_AP1, ARM_ATTR_AP2, ARM_ATTR_UXN, ARM_ATTR_PXN, ARM_ATTR_DBM, ARM_ATTR_S2R, ARM_ATTR_S2W, ARM_ATTR_S2XN,
  ARM_ACC_WRITE, ARM_ACC_FETCH, ARM_ACC_EL0, ARM_PERM_S1_FAULT, armPermission,
} from "./permissions";
import { fetchDescriptor, fetchAborted, s1TableAddress, writeDescriptor, writeS1DescriptorNested } from "./fetch";
import { s2Translate, s2Rights, s2MemAttr, s2Sh, s2PageShift, S2_READ, S2_WRITE, S2_FETCH } from "./stage2";
import { combineS1S2, combinedSh } from "./attrs";

/** Bits of a table descriptor that may change freely: ignored and software bits. */
export const ARM_TABLE_IGNORED: u64 = 0x07F8_0000_0000_0FFC;
/** Bits of a leaf that may change freely: AF, software bits 58:55. */
export const ARM_LEAF_IGNORED: u64 = DESC_AF | (<u64>0xF << 55);

// ── Output word of an AArch64 TLB entry (see tlb/micro.ts) ──────────────────
//   7:0 rights byte (ARM_ATTR_*)   11 global   53:52 size
//   55:54 SH   63:56 memory attribute (MAIR encoding, combined with stage 2)
export const ARM_INFO_GLOBAL: u64 = 1 << 11;
export const ARM_INFO_SH_SHIFT: u32 = 54;
export const ARM_INFO_ATTR_SHIFT: u32 = 56;

// ── Stage 1: parameters ──────────────────────────────────────────────────────
let pInputSize: u32 = 0;
let pStart: u32 = 0;
let pTopIndexBits: u32 = 0;
let pOutputSize: u32 = 0;
let pHpd: bool = false;
let pHa: bool = false;
let pHd: bool = false;
let pBase: u64 = 0;
/** The VA with its top byte replaced by copies of bit 55 when TBI ignores it. */
export let pVa: u64 = 0;

const PARAMS_OK: u64 = 0;

/**
 * GetS1TTWParams and the checks before a walk. Returns PARAMS_OK or a fault.
 * Modelled processor: TxSZ 16 to 48 (FEAT_TTST; outside, a level 0
 * Translation fault), PARange = the machine's MAXPHYADDR.
 */
export function s1Params(va: u64, kind: u32, mode: u32): u64 {
  const tcr = armReg(ARM_TCR_EL1);
  const upper = (va >> 55) & 1;
  const tsz = <u32>(upper ? bits(tcr, 21, 16) : bits(tcr, 5, 0));
  const tbi = (tcr & (upper ? TCR_TBI1 : TCR_TBI0)) != 0;
  const epd = (tcr & (upper ? TCR_EPD1 : TCR_EPD0)) != 0;
  const e0pd = (tcr & (upper ? TCR_E0PD1 : TCR_E0PD0)) != 0;
  pHpd = (tcr & (upper ? TCR_HPD1 : TCR_HPD0)) != 0;
  pHa = (tcr & TCR_HA) != 0;
  // TCR.HD has no effect unless TCR.HA is set.
  pHd = pHa && (tcr & TCR_HD) != 0;
  pVa = tbi ? <u64>((<i64>(va << 8)) >> 8) : va;
  if (tsz < 16 || tsz > 48) return armFault(ARM_FAULT_TRANSLATION, 0, va, 0, 0, mode);
  pInputSize = 64 - tsz;
  // Every bit from the input size up to the top (or to the tag) must equal bit 55.
  const addrSize: u32 = tbi ? 56 : 64;
  if (pInputSize < addrSize) {
    const top = (va << (64 - addrSize)) >> (64 - addrSize + pInputSize);
    const ones = (<u64>1 << (addrSize - pInputSize)) - 1;
    if (top != (upper ? ones : 0)) return armFault(ARM_FAULT_TRANSLATION, 0, va, 0, 0, mode);
  }
  if (epd || (e0pd && (kind & ARM_ACC_EL0))) return armFault(ARM_FAULT_TRANSLATION, 0, va, 0, 0, mode);
  // TCR.IPS, bounded by the implemented PA size (PARange, the machine's
  // MAXPHYADDR) and by 48 bits for the 4 KiB granule without TCR.DS.
  pOutputSize = paSizeBits(<u32>bits(tcr, 34, 32));
  if (pOutputSize > maxPhysAddr) pOutputSize = maxPhysAddr;
  if (pOutputSize > 48) pOutputSize = 48;
  pStart = 4 - (pInputSize - 4) / 9;
  pTopIndexBits = pInputSize - 12 - 9 * (3 - pStart);
  const ttbr = armReg(upper ? ARM_TTBR1_EL1 : ARM_TTBR0_EL1);
  pBase = bits(ttbr, 47, 0);
  if (pBase >> pOutputSize) return armFault(ARM_FAULT_ADDRESS_SIZE, 0, va, 0, 0, mode);
  // The table is aligned to its size; the low bits (and CnP) are ignored.
  pBase &= ~((<u64>1 << (pTopIndexBits + 3)) - 1);
  return PARAMS_OK;
}

/** The stage-2 access for a stage-1 access kind. */
@inline function s2AccessOf(kind: u32): u32 {
  return kind & ARM_ACC_FETCH ? S2_FETCH : kind & ARM_ACC_WRITE ? S2_WRITE : S2_READ;
}

/** The walk-cache structure for table descriptors at a level (0-2): level 2 ↔ PDE cache. */
@inline function walkCacheOf(level: u32): u32 {
  return STRUCT_PSC_PDE + 2 - level;
}

// Table attributes gathered down the walk, in the rights-byte encoding.
@inline function tableRights(desc: u64): u32 {
  // APTable[0] (bit 61) removes EL0 access, APTable[1] (62) makes read-only,
  // XNTable (60) UXN, PXNTable (59) PXN: the same bit positions as ARM_ATTR_*.
  return <u32>((desc >> 61) & 1) | <u32>((desc >> 61) & 2) | <u32>((desc >> 58) & 4) | <u32>((desc >> 56) & 8);
}

/**
 * The stage-1 walk (and stage 2 under it) for va, whose parameters s1Params
 * has set. On success the PA and info word are in the CPU block and, unless
 * peeking or MODE_NO_CACHE, the TLB holds the translation. Returns the PA or
 * XLATE_FAILED.
 */
export function s1Walk(va: u64, kind: u32, mode: u32): u64 {
  const peek = (mode & MODE_PEEK) != 0;
  const cached = !peek && !(mode & MODE_NO_CACHE);
  const detect = !peek && (features & FEATURE_DETECT) != 0;
  const nested = (armReg(ARM_HCR_EL2) & HCR_VM) != 0;
  const vn = pVa;
  const ctx = curCtx();
  const asid = curAsid();
  if (detect) walkSrcReset();

  // 2. Initial state.
  let level = pStart;
  let table = pBase;
  let hier: u32 = 0;
  let fromCache = false;
  if (!(mode & (MODE_NO_CACHE | MODE_FROM_ROOT)) && pscMayHold()) {
    for (let cl: i32 = 2; cl >= <i32>pStart; cl--) {
      const s = walkCacheOf(<u32>cl);
      const e = pscProbe(s, vn);
      if (e == 0) continue;
      if (!peek) count(CNT_PSC_HIT);
      table = load<u64>(e, E_OUT);
      hier = <u32>load<u8>(e, E_ATTRS);
      level = <u32>cl + 1;
      fromCache = true;
      if (!peek && annotOn) annotEntryUsed(s, e, va);
      if (detect) {
        const rec = entrySources(s, e);
        checkSources(rec, e, va, EVENT_STALE_PSC, asid, ARM_TABLE_IGNORED, ARM_TABLE_IGNORED);
        walkSrcLoad(rec);
      }
      break;
    }
  }
  // With stage 2, the TTBR holds an IPA: translate the first descriptor's
  // address (walk-cache entries already hold PAs). The start-level table may
  // span several pages only for stage 2, never here.
  if (nested && !fromCache) {
    const first = table + (((vn >> (12 + 9 * (3 - level))) & ((<u64>1 << pTopIndexBits) - 1)) << 3);
    const pa = s1TableAddress(first, va, mode);
    if (pa & XLATE_FAILED) return pa;
    table = pa - (first - table);
  }

  // 3. The levels. With stage 2, tableIpa follows the walk in IPA space
  // (unknown after a walk-cache hit, whose entries hold PAs).
  let tableIpa: u64 = fromCache ? u64.MAX_VALUE : pBase;
  let descIpa: u64 = u64.MAX_VALUE;
  let descPa: u64 = 0;
  let desc: u64 = 0;
  // At most four levels; the bound only keeps the compiler's flow analysis simple.
  for (let step = 0; step < 5; step++) {
    const shift: u32 = 12 + 9 * (3 - level);
    const indexBits: u32 = level == pStart ? pTopIndexBits : 9;
    const offset = ((vn >> shift) & ((<u64>1 << indexBits) - 1)) << 3;
    descPa = table + offset;
    descIpa = tableIpa == u64.MAX_VALUE ? u64.MAX_VALUE : tableIpa + offset;
    desc = fetchDescriptor(descPa, level, false, mode);
    if (!(desc & DESC_VALID) || (level == 3 && !(desc & DESC_TABLE))) {
      const fault = desc == 0 && fetchAborted() ? ARM_FAULT_EXTERNAL_WALK : ARM_FAULT_TRANSLATION;
      return armFault(fault, level, va, 0, 0, mode);
    }
    let address = desc & DESC_OA_MASK;
    if (address >> pOutputSize) return armFault(ARM_FAULT_ADDRESS_SIZE, level, va, 0, 0, mode);
    if (!((desc & DESC_TABLE) && level < 3)) break;
    if (!pHpd) hier |= tableRights(desc);
    if (nested) {
      // Translate the address of the descriptor the next level reads, so a
      // stage-2 fault reports exactly that IPA; the table is in one page.
      const nextIndex = (vn >> (12 + 9 * (2 - level))) & 511;
      const pa = s1TableAddress(address + (nextIndex << 3), va, mode);
      if (pa & XLATE_FAILED) return pa;
      tableIpa = address;
      address = pa - (nextIndex << 3);
    }
    if (cached) {
      const e = structFill(walkCacheOf(level), vn, address, hier, 0, ctx, asid);
      if (detect) walkSrcSave(entrySources(walkCacheOf(level), e));
    }
    table = address;
    level++;
  }
  // Level 0 holds no blocks with the 4 KiB granule and TCR.DS=0.
  if (level == 0) return armFault(ARM_FAULT_TRANSLATION, 0, va, 0, 0, mode);

  // 4. The leaf.
  let updated = desc;
  if (!(desc & DESC_AF)) {
    if (!pHa) return armFault(ARM_FAULT_ACCESS_FLAG, level, va, 0, 0, mode);
    updated |= DESC_AF;
  }
  if (pHd && (desc & DESC_DBM) && (kind & ARM_ACC_WRITE)) updated &= ~DESC_AP2;
  let rights: u32 = 0;
  if (updated & DESC_AP1) rights |= ARM_ATTR_AP1;
  if (updated & DESC_AP2) rights |= ARM_ATTR_AP2;
  if (updated & DESC_UXN) rights |= ARM_ATTR_UXN;
  if (updated & DESC_PXN) rights |= ARM_ATTR_PXN;
  // Hierarchical attributes: APTable[0] clears AP[1], the rest set theirs.
  rights = (rights & ~(hier & ARM_ATTR_AP1)) | (hier & (ARM_ATTR_AP2 | ARM_ATTR_UXN | ARM_ATTR_PXN));
  rights |= ARM_ATTR_S2R | ARM_ATTR_S2W;
  // The walk has already made a DBM page writable for this write; what stays
  // read-only (APTable[1]) faults.
  if (armPermission(kind, rights, false) == ARM_PERM_S1_FAULT || wxnForbids(kind, rights)) {
    return armFault(ARM_FAULT_PERMISSION, level, va, 0, 0, mode);
  }
  if (!peek && updated != desc) {
    if (nested) {
      // The hardware update is a write to the stage-1 table through stage 2,
      // which needs the descriptor's IPA: after a walk-cache hit, walk again
      // from the TTBR without the caches to learn it.
      if (descIpa == u64.MAX_VALUE) return s1Walk(va, kind, mode | MODE_FROM_ROOT);
      const failed = writeS1DescriptorNested(descPa, descIpa, updated, va, mode);
      if (failed) return failed;
    } else {
      writeDescriptor(descPa, updated, false);
    }
  }

  // A clean DBM page is cached read-only but marked, so that a write walks
  // again to make it writable; not when a table makes it read-only anyway.
  if (pHd && (desc & DESC_DBM) && !(hier & ARM_ATTR_AP2) && (rights & ARM_ATTR_AP2)) rights |= ARM_ATTR_DBM;

  // The output address, through stage 2 when nested.
  let pageShift: u32 = 12 + 9 * (3 - level);
  let pa = (updated & DESC_OA_MASK & ~((<u64>1 << pageShift) - 1)) | (va & ((<u64>1 << pageShift) - 1));
  const attrIndex = <u32>bits(updated, 4, 2);
  let attr = <u32>((armReg(ARM_MAIR_EL1) >> (attrIndex * 8)) & 0xFF);
  let sh = <u32>bits(updated, 9, 8);
  // AT S1E* stops at the IPA.
  if (nested && !(mode & MODE_S1_ONLY)) {
    const out = s2Translate(pa, s2AccessOf(kind), false, va, mode);
    if (out & XLATE_FAILED) return out;
    pa = out;
    rights = (rights & ~(ARM_ATTR_S2R | ARM_ATTR_S2W)) | s2Rights;
    attr = combineS1S2(attr, sh, s2MemAttr, s2Sh);
    sh = combinedSh;
    // A combined entry can only map what both stages map.
    if (s2PageShift < pageShift) pageShift = s2PageShift;
  }
  const global = !(updated & DESC_NG);
  const info: u64 = <u64>rights | (global ? ARM_INFO_GLOBAL : 0) | (<u64>((pageShift - 12) / 9) << INFO_SIZE_SHIFT)
    | (<u64>sh << ARM_INFO_SH_SHIFT) | (<u64>attr << ARM_INFO_ATTR_SHIFT);
  const pageMask: u64 = (<u64>1 << pageShift) - 1;
  store<u64>(C + CPU_RES_PA, pa);
  store<u64>(C + CPU_RES_INFO, info);
  if (cached) {
    const s = STRUCT_TLB_4K + (pageShift - 12) / 9;
    const e = structFill(s, vn, (pa & ~pageMask) | info, rights, global ? EF_GLOBAL : 0, ctx, asid);
    if (detect) walkSrcSave(entrySources(s, e));
    microFill(va, (pa & ~pageMask) | info, pageShift);
  }
  return pa;
}

/** SCTLR_EL1.WXN is applied by the allow table; the walk checks it here for fetches. */
function wxnForbids(kind: u32, rights: u32): bool {
  if (!(kind & ARM_ACC_FETCH)) return false;
  if (!(armReg(ARM_SCTLR_EL1) & SCTLR_WXN)) return false;
  const writable = kind & ARM_ACC_EL0 ? (rights & ARM_ATTR_AP1) != 0 && !(rights & ARM_ATTR_AP2) : !(rights & ARM_ATTR_AP2);
  return writable;
}
