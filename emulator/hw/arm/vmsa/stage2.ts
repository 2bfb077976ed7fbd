// SPDX-License-Identifier: MIT
//
// AArch64 stage 2: IPA → PA for the EL1&0 regime when HCR_EL2.VM=1
// (Arm ARM D8, the stage-2 walk: VTTBR_EL2, VTCR_EL2 T0SZ/SL0/PS, S2AP, XN,
// MemAttr, hardware Access flag and dirty state with VTCR.HA/HD).
//
// Stage-2 translations are cached in the same TLBs and walk caches as stage 1,
// in the S2 space of the current VMID; they have no ASID. A fault here is a
// stage-2 fault, reported with the IPA and with S1PTW when the IPA was the
// address of a stage-1 table.

import { count } from "../../cpu";
import {
  ARM_VTTBR_EL2, ARM_VTCR_EL2, STRUCT_TLB_4K, STRUCT_TLB_1G, STRUCT_PSC_PDE, EF_GLOBAL, E_OUT, E_ATTRS,
  CNT_S2_TLB_HIT,
} from "../../layout";
import { maxPhysAddr } from "../../phys/ram";
import { MODE_PEEK, MODE_NO_CACHE, OUT_FRAME_MASK } from "../../tlb/micro";
import { probe, structFill } from "../../tlb/structure";
import { curS2Ctx, curS2Floor } from "../../tlb/floors";
import { fetchDescriptor, fetchAborted, writeDescriptor } from "./fetch";
import { armReg, bits, paSizeBits, VTCR_HA, VTCR_HD } from "../regs";
import {
  DESC_VALID, DESC_TABLE, DESC_AF, DESC_DBM, DESC_OA_MASK, S2_AP_R, S2_AP_W, S2_XN_SHIFT, S2_MEMATTR_SHIFT,
} from "./descriptor";
import {
  ARM_FAULT_ADDRESS_SIZE, ARM_FAULT_TRANSLATION, ARM_FAULT_ACCESS_FLAG, ARM_FAULT_PERMISSION, ARM_FAULT_EXTERNAL_WALK,
} from "./fault";
import { armStage2Fault } from "./result";

/** Stage-2 access kinds. */
export const S2_READ: u32 = 0;
export const S2_WRITE: u32 = 1;
export const S2_FETCH: u32 = 2;

// The stage-2 result: its rights (as ARM_ATTR_S2* bits), MemAttr[3:0], SH,
// and the lg of the block or page that mapped the IPA.
export let s2Rights: u32 = 0;
export let s2MemAttr: u32 = 0;
export let s2Sh: u32 = 0;
export let s2PageShift: u32 = 0;

/** ARM_ATTR_S2R, S2W, S2XN (permissions.ts) as stage-2 rights bits of an entry. */
const S2R: u32 = 32;
const S2W: u32 = 64;
const S2XN: u32 = 128;

/** The VMID of VTTBR_EL2: 16 bits with VTCR_EL2.VS=1, else 8. */
export function currentVmid(): u32 {
  const vttbr = armReg(ARM_VTTBR_EL2);
  return armReg(ARM_VTCR_EL2) & (1 << 19) ? <u32>bits(vttbr, 63, 48) : <u32>bits(vttbr, 55, 48);
}

@inline function s2Permits(rights: u32, access: u32): bool {
  if (access == S2_FETCH) return !(rights & S2XN);
  if (access == S2_WRITE) return (rights & S2W) != 0;
  return (rights & S2R) != 0;
}

/** Info kept in the output word of a stage-2 TLB entry: MemAttr in bits 59:56, SH in 61:60. */
@inline function s2Out(pa: u64, memAttr: u32, sh: u32, sizeClass: u32): u64 {
  return pa | (<u64>(memAttr & 15) << 56) | (<u64>(sh & 3) << 60) | (<u64>sizeClass << 52);
}

/**
 * Translates an IPA for an access (S2_READ/WRITE/FETCH). Returns the PA, or
 * XLATE_FAILED with a stage-2 fault recorded for va.
 */
export function s2Translate(ipa: u64, access: u32, s1ptw: bool, va: u64, mode: u32): u64 {
  const peek = (mode & MODE_PEEK) != 0;
  const ctx = curS2Ctx();
  const floor = curS2Floor();
  if (!(mode & MODE_NO_CACHE)) {
    for (let s = STRUCT_TLB_4K; s <= STRUCT_TLB_1G; s++) {
      const e = probe(s, ipa, ctx, 0, floor, floor);
      if (e == 0) continue;
      const rights = <u32>load<u8>(e, E_ATTRS);
      const out = load<u64>(e, E_OUT);
      const shift: u32 = 12 + 9 * (s - STRUCT_TLB_4K);
      if (!s2Permits(rights, access)) {
        return armStage2Fault(ARM_FAULT_PERMISSION, 3 - (s - STRUCT_TLB_4K), va, ipa, s1ptw, mode);
      }
      if (!peek) count(CNT_S2_TLB_HIT);
      s2Rights = rights;
      s2MemAttr = <u32>((out >> 56) & 15);
      s2Sh = <u32>((out >> 60) & 3);
      s2PageShift = shift;
      return (out & OUT_FRAME_MASK) | (ipa & ((<u64>1 << shift) - 1));
    }
  }
  return s2Walk(ipa, access, s1ptw, va, mode);
}

function s2Walk(ipa: u64, access: u32, s1ptw: bool, va: u64, mode: u32): u64 {
  const peek = (mode & MODE_PEEK) != 0;
  const cached = !peek && !(mode & MODE_NO_CACHE);
  const vtcr = armReg(ARM_VTCR_EL2);
  const t0sz = <u32>bits(vtcr, 5, 0);
  const sl0 = <u32>bits(vtcr, 7, 6);
  const inputSize: u32 = 64 - t0sz;
  // Start level for the 4 KiB granule: SL0 0 → 2, 1 → 1, 2 → 0, 3 → 3 (FEAT_TTST).
  const start: u32 = sl0 == 3 ? 3 : 2 - sl0;
  // AArch64.S2InconsistentSL: the input size must suit the start level (up to
  // 16 concatenated tables at the start level).
  const levels = 3 - start;
  const minIa: u32 = levels * 9 + 12 + 1;
  const maxIa: u32 = minIa + 8 + 4;
  if (t0sz > 64 || inputSize < minIa || inputSize > maxIa || inputSize > 48) {
    return armStage2Fault(ARM_FAULT_TRANSLATION, 0, va, ipa, s1ptw, mode);
  }
  if (ipa >> inputSize) return armStage2Fault(ARM_FAULT_TRANSLATION, 0, va, ipa, s1ptw, mode);
  let outputSize = paSizeBits(<u32>bits(vtcr, 18, 16));
  if (outputSize > maxPhysAddr) outputSize = maxPhysAddr;
  if (outputSize > 48) outputSize = 48;

  const vttbr = armReg(ARM_VTTBR_EL2);
  let table = bits(vttbr, 47, 0) & ~<u64>1;
  if (table >> outputSize) return armStage2Fault(ARM_FAULT_ADDRESS_SIZE, 0, va, ipa, s1ptw, mode);
  const topIndexBits: u32 = inputSize - 12 - 9 * (3 - start);
  table &= ~((<u64>1 << (topIndexBits + 3)) - 1);

  const ctx = curS2Ctx();
  let level = start;
  // Walk caches: the deepest cached table for this IPA.
  if (!(mode & MODE_NO_CACHE)) {
    for (let cachedLevel: i32 = 2; cachedLevel >= <i32>start; cachedLevel--) {
      const e = probe(STRUCT_PSC_PDE + 2 - <u32>cachedLevel, ipa, ctx, 0, curS2Floor(), curS2Floor());
      if (e == 0) continue;
      table = load<u64>(e, E_OUT);
      level = <u32>cachedLevel + 1;
      break;
    }
  }

  let descPa: u64 = 0;
  let desc: u64 = 0;
  // At most four levels; the bound only keeps the compiler's flow analysis simple.
  for (let step = 0; step < 5; step++) {
    const shift: u32 = 12 + 9 * (3 - level);
    const indexBits: u32 = level == start ? topIndexBits : 9;
    descPa = table + (((ipa >> shift) & ((<u64>1 << indexBits) - 1)) << 3);
    desc = fetchDescriptor(descPa, level, true, mode);
    if (!(desc & DESC_VALID) || (level == 3 && !(desc & DESC_TABLE))) {
      const fault = desc == 0 && fetchAborted() ? ARM_FAULT_EXTERNAL_WALK : ARM_FAULT_TRANSLATION;
      return armStage2Fault(fault, level, va, ipa, s1ptw, mode);
    }
    const address = desc & DESC_OA_MASK;
    if (address >> outputSize) return armStage2Fault(ARM_FAULT_ADDRESS_SIZE, level, va, ipa, s1ptw, mode);
    if ((desc & DESC_TABLE) && level < 3) {
      if (cached) structFill(STRUCT_PSC_PDE + 2 - level, ipa, address, 0, EF_GLOBAL, ctx, 0);
      table = address;
      level++;
      continue;
    }
    break;
  }
  if (level == 0) return armStage2Fault(ARM_FAULT_TRANSLATION, 0, va, ipa, s1ptw, mode);

  // The leaf. Access flag (VTCR_EL2.HA sets it), dirty state (VTCR_EL2.HD:
  // a write to a DBM page makes it writable by setting S2AP[1]).
  let updated = desc;
  if (!(desc & DESC_AF)) {
    if (!(vtcr & VTCR_HA)) return armStage2Fault(ARM_FAULT_ACCESS_FLAG, level, va, ipa, s1ptw, mode);
    updated |= DESC_AF;
  }
  const hd = (vtcr & VTCR_HA) != 0 && (vtcr & VTCR_HD) != 0;
  if (hd && (desc & DESC_DBM) && access == S2_WRITE) updated |= S2_AP_W;
  let rights: u32 = 0;
  if (updated & S2_AP_R) rights |= S2R;
  if (updated & S2_AP_W) rights |= S2W;
  // XN[1:0]: 0b00 executable; anything else treated as not executable (no TTS2UXN distinction).
  if (bits(updated, S2_XN_SHIFT + 1, S2_XN_SHIFT) != 0) rights |= S2XN;
  if (!s2Permits(rights, access)) return armStage2Fault(ARM_FAULT_PERMISSION, level, va, ipa, s1ptw, mode);
  if (!peek && updated != desc) writeDescriptor(descPa, updated, true);
  // A clean DBM page stays cached read-only, so that a later write walks again.
  const pageShift: u32 = 12 + 9 * (3 - level);
  const pa = (updated & DESC_OA_MASK & ~((<u64>1 << pageShift) - 1)) | (ipa & ((<u64>1 << pageShift) - 1));
  s2Rights = rights;
  s2MemAttr = <u32>bits(updated, 5, S2_MEMATTR_SHIFT);
  s2Sh = <u32>bits(updated, 9, 8);
  s2PageShift = pageShift;
  if (cached) {
    const out = s2Out(pa & ~((<u64>1 << pageShift) - 1), s2MemAttr, s2Sh, 3 - level);
    structFill(STRUCT_TLB_4K + 3 - level, ipa, out, rights, EF_GLOBAL, ctx, 0);
  }
  return pa;
}
