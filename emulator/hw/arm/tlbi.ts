// SPDX-License-Identifier: MIT
//
// TLBI: decoded into a record (operation, VMID, ASID, address, last-level
// only) and applied by one function to one CPU; the Inner Shareable forms are
// broadcast by applying the same record to every CPU of the machine (all in
// one inner-shareable domain), whatever those CPUs are doing: hardware needs
// no cooperation from the target, which is why IRQ masking cannot hold off
// an Arm TLB shootdown.
//
// The VMID is always the issuing CPU's (VTTBR_EL2), so a broadcast hits the
// issuer's guest on every CPU, not whatever guest each CPU runs.
//
// What it costs: a CPU whose TLBs and walk caches hold nothing live (off, or
// flushed since its last fill) is only counted; by address, only the entries
// that map the address are killed (killEntry drops their micro-TLB slots),
// so the micro-TLB keeps every other page, and the fetch window survives
// unless the address is its page.

import { C, select, selectedCpu, cpuCount, count } from "../cpu";
import {
  ARM_TCR_EL1, STRUCT_TLB_4K, STRUCT_TLB_1G, STRUCT_PSC_PDE, STRUCT_PSC_PML4E, SPACE_S1, SPACE_S2, SPACE_EL2,
  CPU_FLOOR_SPACE, CNT_TLBI, CNT_TLBI_RECEIVED,
} from "../layout";
import { killVa, ANY_ASID, anythingLive } from "../tlb/structure";
import { ctxWord, raiseScope, raiseFloorAt, microFlush, windowPage, SCOPE_CTX_ALL, SCOPE_ASID } from "../tlb/floors";
import { armReg, bits, TCR_AS } from "./regs";
import { currentVmid } from "./vmsa/stage2";

// Operations.
export const TLBI_VAE1: u32 = 0;
export const TLBI_VALE1: u32 = 1;
export const TLBI_VAAE1: u32 = 2;
export const TLBI_VAALE1: u32 = 3;
export const TLBI_ASIDE1: u32 = 4;
export const TLBI_VMALLE1: u32 = 5;
export const TLBI_VMALLS12E1: u32 = 6;
export const TLBI_IPAS2E1: u32 = 7;
export const TLBI_IPAS2LE1: u32 = 8;
export const TLBI_ALLE1: u32 = 9;
export const TLBI_ALLE2: u32 = 10;
export const TLBI_OP_COUNT: u32 = 11;
/** Inner Shareable: broadcast to every CPU. */
export const TLBI_IS: u32 = 0x100;

// The decoded record.
let rOp: u32 = 0;
let rVmid: u32 = 0;
let rAsid: u32 = 0;
let rAddr: u64 = 0;

/**
 * Decodes Xt as the operation defines it: VA[55:12] in bits 43:0 (sign-
 * extended from VA bit 55) and the ASID in bits 63:48 (8 bits unless
 * TCR_EL1.AS=1); IPA[51:12] in bits 39:0.
 */
function decode(op: u32, xt: u64): void {
  rOp = op & 0xFF;
  rVmid = currentVmid();
  const wideAsid = (armReg(ARM_TCR_EL1) & TCR_AS) != 0;
  rAsid = <u32>(wideAsid ? bits(xt, 63, 48) : bits(xt, 55, 48));
  if (rOp == TLBI_IPAS2E1 || rOp == TLBI_IPAS2LE1) {
    rAddr = bits(xt, 39, 0) << 12;
  } else {
    rAddr = <u64>((<i64>(bits(xt, 43, 0) << 20)) >> 8);
  }
}

/** Applies the decoded record to the selected CPU. */
function apply(): void {
  const ctx = ctxWord(rVmid, SPACE_S1, 0);
  const s2ctx = ctxWord(rVmid, SPACE_S2, 0);
  switch (rOp) {
    case TLBI_VAE1:
    case TLBI_VALE1:
    case TLBI_VAAE1:
    case TLBI_VAALE1: {
      // The VA's entries of the ASID, or of every ASID for the VAA forms, and
      // global ones; the walk caches too unless last level only (VALE1, VAALE1).
      const asid = rOp == TLBI_VAE1 || rOp == TLBI_VALE1 ? rAsid : ANY_ASID;
      killVa(STRUCT_TLB_4K, STRUCT_TLB_1G, rAddr, ctx, asid, true, true);
      if (rOp == TLBI_VAE1 || rOp == TLBI_VAAE1) killVa(STRUCT_PSC_PDE, STRUCT_PSC_PML4E, rAddr, ctx, asid, true, false);
      // The run loop's fetch window holds a translation without the micro-TLB: a new epoch drops it.
      if (((rAddr ^ windowPage()) & ~<u64>0xFFF) == 0) microFlush();
      break;
    }
    case TLBI_ASIDE1:
      raiseScope(SCOPE_ASID, ctx, rAsid);
      break;
    case TLBI_VMALLE1:
      raiseScope(SCOPE_CTX_ALL, ctx, 0);
      break;
    case TLBI_VMALLS12E1:
      raiseScope(SCOPE_CTX_ALL, ctx, 0);
      raiseScope(SCOPE_CTX_ALL, s2ctx, 0);
      break;
    case TLBI_IPAS2E1:
    case TLBI_IPAS2LE1:
      // Stage-2 entries only: combined entries stay until a stage-1 TLBI
      // (the architecture asks for IPAS2E1IS; DSB; VMALLE1IS).
      killVa(STRUCT_TLB_4K, STRUCT_TLB_1G, rAddr, s2ctx, 0, false, true);
      if (rOp == TLBI_IPAS2E1) killVa(STRUCT_PSC_PDE, STRUCT_PSC_PML4E, rAddr, s2ctx, 0, false, true);
      break;
    case TLBI_ALLE1:
      raiseFloorAt(CPU_FLOOR_SPACE + SPACE_S1 * 4);
      raiseFloorAt(CPU_FLOOR_SPACE + SPACE_S2 * 4);
      break;
    case TLBI_ALLE2:
      raiseFloorAt(CPU_FLOOR_SPACE + SPACE_EL2 * 4);
      break;
    default:
      break;
  }
}

/** TLBI <op>[IS], Xt on the selected CPU. Returns false for an unknown operation. */
export function armTlbi(op: u32, xt: u64): bool {
  if ((op & 0xFF) >= TLBI_OP_COUNT) return false;
  decode(op, xt);
  count(CNT_TLBI);
  if (!(op & TLBI_IS)) {
    apply();
    return true;
  }
  const issuer = selectedCpu;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    select(cpu);
    if (cpu != issuer) count(CNT_TLBI_RECEIVED);
    if (cpu == issuer || anythingLive()) apply();
  }
  select(issuer);
  return true;
}

