// SPDX-License-Identifier: MIT
//
// AArch64 access permissions (Arm ARM D8.4) as pure functions of the access
// kind and the rights a TLB entry caches, and the allow table built from them
// (the same table x86 uses; see x86/paging/permissions.ts for how it is read).
//
// The rights byte of an AArch64 TLB entry, after hierarchical attributes have
// been applied (APTable, XNTable, PXNTable, unless TCR.HPD disables them):

import { C } from "../../cpu";
import { CPU_ALLOW } from "../../layout";
import { armReg, SCTLR_WXN } from "../regs";
import { ARM_SCTLR_EL1 } from "../../layout";

/** AP[1]: EL0 has data access. */
export const ARM_ATTR_AP1: u32 = 1;
/** AP[2]: read-only. */
export const ARM_ATTR_AP2: u32 = 2;
export const ARM_ATTR_UXN: u32 = 4;
export const ARM_ATTR_PXN: u32 = 8;
/** Dirty-bit modifier with TCR.HD: a write to this read-only page makes it writable (a walk). */
export const ARM_ATTR_DBM: u32 = 16;
/** Stage-2 rights of a combined entry (all set for a stage-1-only entry). */
export const ARM_ATTR_S2R: u32 = 32;
export const ARM_ATTR_S2W: u32 = 64;
export const ARM_ATTR_S2XN: u32 = 128;

// Access kinds, as on x86: bit 0 write, bit 1 fetch, bit 2 EL0; bit 4 is
// PSTATE.PAN, folded in by translate.
export const ARM_ACC_WRITE: u32 = 1;
export const ARM_ACC_FETCH: u32 = 2;
export const ARM_ACC_EL0: u32 = 4;
export const ARM_ACC_PAN: u32 = 16;

/** Permission check results. */
export const ARM_PERM_OK: u32 = 0;
export const ARM_PERM_S1_FAULT: u32 = 1;
export const ARM_PERM_S2_FAULT: u32 = 2;
/** Permitted, but only after a walk sets the dirty state (DBM). */
export const ARM_PERM_NEEDS_WALK: u32 = 3;

/**
 * Stage 1 then stage 2 permissions for an access of `kind` to memory with
 * `attrs`. Stage 1: AP[2:1] for data (PAN forbids privileged data accesses to
 * EL0-accessible memory); UXN for EL0 fetches; PXN, or EL0 write access, for
 * privileged fetches; SCTLR_EL1.WXN forbids fetches from writable memory.
 * Stage 2: S2AP read/write, XN for fetches.
 */
export function armPermission(kind: u32, attrs: u32, wxn: bool): u32 {
  const el0 = (kind & ARM_ACC_EL0) != 0;
  const write = (kind & ARM_ACC_WRITE) != 0;
  const el0Access = (attrs & ARM_ATTR_AP1) != 0;
  const readOnly = (attrs & ARM_ATTR_AP2) != 0;
  const dbm = (attrs & ARM_ATTR_DBM) != 0;
  let needsWalk = false;
  if (kind & ARM_ACC_FETCH) {
    const writable = el0 ? el0Access && !readOnly : !readOnly;
    const xn = el0 ? (attrs & ARM_ATTR_UXN) != 0 : (attrs & ARM_ATTR_PXN) != 0 || (el0Access && !readOnly);
    if (xn || (wxn && writable)) return ARM_PERM_S1_FAULT;
    if (attrs & ARM_ATTR_S2XN) return ARM_PERM_S2_FAULT;
    return ARM_PERM_OK;
  }
  if (el0 && !el0Access) return ARM_PERM_S1_FAULT;
  if (!el0 && (kind & ARM_ACC_PAN) && el0Access) return ARM_PERM_S1_FAULT;
  if (write && readOnly) {
    if (!dbm) return ARM_PERM_S1_FAULT;
    needsWalk = true;
  }
  if (!(attrs & ARM_ATTR_S2R) && !write) return ARM_PERM_S2_FAULT;
  if (write && !(attrs & ARM_ATTR_S2W)) return ARM_PERM_S2_FAULT;
  return needsWalk ? ARM_PERM_NEEDS_WALK : ARM_PERM_OK;
}

/** Rebuilds the selected CPU's allow table for AArch64 from SCTLR_EL1. */
export function rebuildArmAllowTable(): void {
  const wxn = (armReg(ARM_SCTLR_EL1) & SCTLR_WXN) != 0;
  for (let kind: u32 = 0; kind < 32; kind++) {
    const row = C + CPU_ALLOW + (<usize>kind << 5);
    const valid = (kind & 3) != 3 && !(kind & 8);
    for (let word: u32 = 0; word < 4; word++) {
      let bits: u64 = 0;
      if (valid) {
        for (let bit: u32 = 0; bit < 64; bit++) {
          if (armPermission(kind, word * 64 + bit, wxn) == ARM_PERM_OK) bits |= <u64>1 << bit;
        }
      }
      store<u64>(row + (<usize>word << 3), bits);
    }
  }
}
