// SPDX-License-Identifier: MIT
//
// The VMX state the MMU needs, and the instructions that invalidate what EPT
// and VPIDs tag (Intel SDM Vol.3C 29.4.3, Vol.2A INVEPT and INVVPID).
//
// A CPU translating for a guest has a VPID (its linear and combined mappings
// are tagged with it) and, with EPT, an EPTP (guest-physical and combined
// mappings are tagged with its EP4TA). VPID 0 is the host's.

import { C, count } from "../cpu";
import {
  CPU_VPID, CPU_EPTP, CPU_EPT_FLOORS, CPU_FLOOR_EPT_ALL, CPU_FLOOR_GUESTS, SPACE_S1, STRUCT_TLB_4K, STRUCT_TLB_1G,
  STRUCT_PSC_PDE, STRUCT_PSC_PML5E, CNT_INVEPT, CNT_INVVPID,
} from "../layout";
import { killVa, ANY_ASID, CTX_ANY_EPT } from "../tlb/structure";
import { ctxWord, raiseScope, raiseFloorAt, microFlush, SCOPE_CTX_ALL, SCOPE_CTX_NG } from "../tlb/floors";
import { findEptSlot, EPTP_ADDR_MASK } from "./ept";
import { syncContext } from "./invalidate";
import { isCanonical } from "./translate";

export const VMX_OK: u32 = 0;
/** VMfailValid: an invalid operand (type, VPID 0, non-canonical address). */
export const VMX_FAIL: u32 = 1;

export const INVEPT_SINGLE_CONTEXT: u32 = 1;
export const INVEPT_ALL_CONTEXT: u32 = 2;
export const INVVPID_ADDRESS: u32 = 0;
export const INVVPID_SINGLE_CONTEXT: u32 = 1;
export const INVVPID_ALL_CONTEXT: u32 = 2;
export const INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS: u32 = 3;

/** Makes the CPU translate for a guest with this VPID and EPTP (EPTP 0: no EPT); VPID 0 and EPTP 0 is the host. */
export function setVmxContext(vpid: u32, eptp: u64): void {
  store<u32>(C + CPU_VPID, vpid & 0xFFFF);
  store<u64>(C + CPU_EPTP, eptp);
  syncContext();
}

/**
 * INVEPT. Single-context: guest-physical and combined mappings tagged with
 * the EPTP's EP4TA; all-context: those of every EP4TA.
 */
export function invept(type: u32, eptp: u64): u32 {
  if (type == INVEPT_SINGLE_CONTEXT) {
    count(CNT_INVEPT);
    const slot = findEptSlot(eptp & EPTP_ADDR_MASK);
    // Nothing is cached for an EP4TA without a slot.
    if (slot) raiseFloorAt(CPU_EPT_FLOORS + (slot << 2));
    return VMX_OK;
  }
  if (type == INVEPT_ALL_CONTEXT) {
    count(CNT_INVEPT);
    raiseFloorAt(CPU_FLOOR_EPT_ALL);
    return VMX_OK;
  }
  return VMX_FAIL;
}

/**
 * INVVPID: linear and combined mappings of a VPID (whatever their EP4TA).
 * Individual-address: one address, every PCID, global ones too (and the
 * walk caches for it); single-context: everything of the VPID;
 * all-context: every VPID but 0; single-context-retaining-globals: the
 * VPID's non-global mappings.
 */
export function invvpid(type: u32, vpid: u32, la: u64): u32 {
  if (type > 3) return VMX_FAIL;
  if (type != INVVPID_ALL_CONTEXT && (vpid & 0xFFFF) == 0) return VMX_FAIL;
  const ctx = ctxWord(vpid, SPACE_S1, 0);
  if (type == INVVPID_ADDRESS) {
    if (!isCanonical(la)) return VMX_FAIL;
    count(CNT_INVVPID);
    killVa(STRUCT_TLB_4K, STRUCT_TLB_1G, la, ctx, ANY_ASID, true, true, CTX_ANY_EPT);
    killVa(STRUCT_PSC_PDE, STRUCT_PSC_PML5E, la, ctx, ANY_ASID, true, false, CTX_ANY_EPT);
    microFlush();
  } else if (type == INVVPID_SINGLE_CONTEXT) {
    count(CNT_INVVPID);
    raiseScope(SCOPE_CTX_ALL, ctx, 0);
  } else if (type == INVVPID_ALL_CONTEXT) {
    count(CNT_INVVPID);
    raiseFloorAt(CPU_FLOOR_GUESTS);
  } else {
    count(CNT_INVVPID);
    raiseScope(SCOPE_CTX_NG, ctx, 0);
  }
  return VMX_OK;
}
