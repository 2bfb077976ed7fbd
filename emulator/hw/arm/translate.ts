// SPDX-License-Identifier: MIT
//
// VA → PA for the selected AArch64 CPU, EL1&0 regime: the shared fast path,
// the TLBs, then the walk; and the AT instructions, which walk without the
// TLB and report in PAR_EL1.

import { C, count, features } from "../cpu";
import {
  ARM_SCTLR_EL1, ARM_TCR_EL1, ARM_TTBR0_EL1, ARM_TTBR1_EL1, ARM_HCR_EL2, ARM_PAR_EL1, ARM_PSTATE, CPU_RES_PA,
  CPU_RES_INFO, CPU_AC_KIND, CPU_FAULT_CODE, CPU_FAULT_FLAGS, CPU_FAULT_LEVEL, FAULT_STAGE2, FAULT_S1PTW, SPACE_S1,
  STRUCT_TLB_4K, STRUCT_TLB_1G, E_OUT, E_ATTRS, CNT_TLB_HIT, CNT_TLB_MISS, CNT_DIRTY_REWALK, FEATURE_CHAOS,
  FEATURE_DETECT, EVENT_STALE_TLB, INFO_SIZE_SHIFT,
} from "../layout";
import {
  XLATE_FAILED, MODE_PEEK, MODE_NO_CACHE, MICRO_MISS, OUT_FRAME_MASK, OUT_META_MASK, microLookup, microFill,
  allowedFromTlb,
} from "../tlb/micro";
import { tlbProbe, tlbMayHold, killEntry } from "../tlb/structure";
import { setContext, ctxWord, curAsid } from "../tlb/floors";
import { chaosTick } from "../tlb/chaos";
import { entrySources } from "../tlb/structure";
import { checkSources } from "../common/detector";
import { annotOn, annotEntryUsed } from "../common/annotate";
import { armReg, setArmReg, bits, SCTLR_M, TCR_A1, TCR_AS, HCR_VM, PSTATE_PAN } from "./regs";
import { s1Params, s1Walk, pVa, MODE_S1_ONLY, ARM_LEAF_IGNORED, ARM_TABLE_IGNORED, ARM_INFO_SH_SHIFT, ARM_INFO_ATTR_SHIFT } from "./vmsa/walk";
import { s2Translate, currentVmid, S2_READ, S2_WRITE, S2_FETCH } from "./vmsa/stage2";
import {
  armPermission, rebuildArmAllowTable, ARM_ACC_WRITE, ARM_ACC_FETCH, ARM_ACC_EL0, ARM_ACC_PAN, ARM_PERM_S1_FAULT,
  ARM_PERM_NEEDS_WALK, ARM_PERM_OK,
} from "./vmsa/permissions";
import { ARM_FAULT_ADDRESS_SIZE, ARM_FAULT_PERMISSION, parFault, parSuccess } from "./vmsa/fault";
import { armFault } from "./vmsa/result";
import { maxPhysAddr } from "../phys/ram";


// ── Context ──────────────────────────────────────────────────────────────────

/** The ASID of the EL1&0 regime: TTBR1's with TCR.A1=1, else TTBR0's; 8 bits unless TCR.AS=1. */
export function armAsid(): u32 {
  const tcr = armReg(ARM_TCR_EL1);
  const ttbr = armReg(tcr & TCR_A1 ? ARM_TTBR1_EL1 : ARM_TTBR0_EL1);
  return <u32>(tcr & TCR_AS ? bits(ttbr, 63, 48) : bits(ttbr, 55, 48));
}

/** Entries of the EL1&0 regime are tagged with the VMID of VTTBR_EL2 (0 when nothing set it). */
export function armContext(): u32 {
  return ctxWord(currentVmid(), SPACE_S1, 0);
}

export function armSyncContext(): void {
  setContext(armContext(), armAsid());
}

/** Re-derives everything cached from the registers; after any register write. */
export function armSyncDerivedState(): void {
  armSyncContext();
  store<u32>(C + CPU_AC_KIND, armReg(ARM_PSTATE) & PSTATE_PAN ? ARM_ACC_PAN : 0);
  rebuildArmAllowTable();
}

// ── Translation ──────────────────────────────────────────────────────────────

/**
 * Translates va for an access of `kind` (ARM_ACC_*, with ARM_ACC_PAN folded in
 * by the caller when PSTATE.PAN=1). Returns the PA or XLATE_FAILED.
 */
@inline export function armTranslate(va: u64, kind: u32): u64 {
  const pa = microLookup(va, kind);
  return pa != MICRO_MISS ? pa : armTranslateSlow(va, kind, 0);
}

/** Which structure maps 4 KiB, 2 MiB, 1 GiB: the level of its leaf. */
@inline function leafLevelOf(structure: u32): u32 {
  return 3 - (structure - STRUCT_TLB_4K);
}

/** The full translation: MMU off, or the TLBs then the walk. Returns the PA or XLATE_FAILED. */
export function armTranslateSlow(va: u64, kind: u32, mode: u32): u64 {
  const peek = (mode & MODE_PEEK) != 0;
  if (!(armReg(ARM_SCTLR_EL1) & SCTLR_M)) return mmuOff(va, kind, mode);
  if (!peek && (features & FEATURE_CHAOS)) chaosTick();
  const params = s1Params(va, kind, mode);
  if (params & XLATE_FAILED) return params;
  const vn = pVa;
  let rewalk = false;
  if (!(mode & MODE_NO_CACHE) && tlbMayHold()) {
    for (let s = STRUCT_TLB_4K; s <= STRUCT_TLB_1G; s++) {
      const e = tlbProbe(s, vn);
      if (e == 0) continue;
      const rights = <u32>load<u8>(e, E_ATTRS);
      if (!peek && (features & FEATURE_DETECT)) {
        checkSources(entrySources(s, e), e, va, EVENT_STALE_TLB, curAsid(), ARM_LEAF_IGNORED, ARM_TABLE_IGNORED);
      }
      if (!peek && annotOn) annotEntryUsed(s, e, va);
      const out = load<u64>(e, E_OUT);
      const shift: u32 = 12 + 9 * (s - STRUCT_TLB_4K);
      if (allowedFromTlb(kind, rights) || peek) {
        const pa = (out & OUT_FRAME_MASK) | (va & ((<u64>1 << shift) - 1));
        store<u64>(C + CPU_RES_PA, pa);
        store<u64>(C + CPU_RES_INFO, out & OUT_META_MASK);
        if (!peek) {
          count(CNT_TLB_HIT);
          microFill(va, out, shift);
        }
        return pa;
      }
      const perm = armPermission(kind, rights, false);
      if ((perm == ARM_PERM_S1_FAULT || perm == ARM_PERM_OK) && !(armReg(ARM_HCR_EL2) & HCR_VM)) {
        // A stage-1 permission fault from the cached entry (PERM_OK here means
        // SCTLR_EL1.WXN forbade a fetch); the fault drops the entry. Under
        // stage 2 a combined entry may be smaller than the stage-1 leaf, so
        // the fault's level comes from walking again instead.
        if (!peek) killEntry(s, e);
        return armFault(ARM_FAULT_PERMISSION, leafLevelOf(s), va, 0, 0, mode);
      }
      // Stage-2 permission faults need the IPA, and DBM pages need their dirty
      // state set: both walk again.
      if (!peek) killEntry(s, e);
      if (perm == ARM_PERM_NEEDS_WALK && !peek) count(CNT_DIRTY_REWALK);
      rewalk = perm == ARM_PERM_NEEDS_WALK;
      break;
    }
  }
  if (!peek && !rewalk) count(CNT_TLB_MISS);
  return s1Walk(va, kind, mode);
}

/**
 * Stage 1 disabled (SCTLR_EL1.M=0): the IPA is the VA, which must fit the
 * physical address size; data is Device-nGnRnE, Outer Shareable. Stage 2
 * still applies when HCR_EL2.VM=1.
 */
function mmuOff(va: u64, kind: u32, mode: u32): u64 {
  if (va >> maxPhysAddr) return armFault(ARM_FAULT_ADDRESS_SIZE, 0, va, 0, 0, mode);
  let pa = va;
  if ((armReg(ARM_HCR_EL2) & HCR_VM) && !(mode & MODE_S1_ONLY)) {
    const access = kind & ARM_ACC_FETCH ? S2_FETCH : kind & ARM_ACC_WRITE ? S2_WRITE : S2_READ;
    pa = s2Translate(va, access, false, va, mode);
    if (pa & XLATE_FAILED) return pa;
  }
  store<u64>(C + CPU_RES_PA, pa);
  store<u64>(C + CPU_RES_INFO, (<u64>0b10 << ARM_INFO_SH_SHIFT));
  return pa;
}

// ── AT ───────────────────────────────────────────────────────────────────────

/** AT operations: EL0 or EL1 rights, read or write, stage 1 or stages 1+2. */
export const AT_WRITE: u32 = 1;
export const AT_EL0: u32 = 2;
export const AT_STAGE12: u32 = 4;

/**
 * AT S1E1R/W, S1E0R/W, S12E1R/W, S12E0R/W: translate without using or filling
 * the TLB (the walk still sets AF and dirty state), and return PAR_EL1.
 */
export function armAt(va: u64, op: u32): u64 {
  let kind: u32 = 0;
  if (op & AT_WRITE) kind |= ARM_ACC_WRITE;
  if (op & AT_EL0) kind |= ARM_ACC_EL0;
  const mode = MODE_NO_CACHE | (op & AT_STAGE12 ? 0 : MODE_S1_ONLY);
  let pa: u64;
  if (!(armReg(ARM_SCTLR_EL1) & SCTLR_M)) {
    pa = mmuOff(va, kind, mode);
  } else {
    pa = s1Params(va, kind, mode);
    if (!(pa & XLATE_FAILED)) pa = s1Walk(va, kind, mode);
  }
  let par: u64;
  if (pa & XLATE_FAILED) {
    const fsc = load<u32>(C + CPU_FAULT_CODE);
    const flags = load<u32>(C + CPU_FAULT_FLAGS);
    par = parFault(fsc >> 2, load<u32>(C + CPU_FAULT_LEVEL), (flags & FAULT_STAGE2) != 0, (flags & FAULT_S1PTW) != 0);
  } else {
    const info = load<u64>(C + CPU_RES_INFO);
    par = parSuccess(pa, <u32>(info >> ARM_INFO_ATTR_SHIFT) & 0xFF, <u32>(info >> ARM_INFO_SH_SHIFT) & 3);
  }
  setArmReg(ARM_PAR_EL1, par);
  return par;
}
