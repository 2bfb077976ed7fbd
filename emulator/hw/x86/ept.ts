// SPDX-License-Identifier: MIT
//
// EPT: guest-physical → host-physical translation (Intel SDM Vol.3C 29.3),
// and the EPT slots entries are tagged with.
//
// Slots. Entries built through EPT are tagged with the EP4TA (the EPT PML4
// address) of the EPTP they were built with (SDM Vol.3C 29.4.1). Rather than
// 40 bits in every entry, each CPU keeps a small table of EP4TAs and entries
// carry the slot index; reusing a slot first invalidates whatever is tagged
// with it, which the architecture permits at any time.
//
// The walk: EPTP bits 51:12 locate the PML4 (bits 5:3 give the page-walk
// length less one, 3 for 4 levels, 4 for 5; bit 6 enables accessed and dirty
// flags). An entry whose bits 2:0 are all 0 is not present (an EPT
// violation); a write-only entry, reserved bits, or a reserved memory type is
// an EPT misconfiguration. Guest-physical mappings are cached in the S2 space
// of the current context, which carries the EPT slot. Entries are read,
// counted and written back through paging/fetch.ts, as every x86-64 walk's.

import { C, count } from "../cpu";
import {
  CPU_EPTP, CPU_EPT_SLOTS, CPU_EPT_NEXT, CPU_EPT_FLOORS, EPT_SLOTS, CPU_FAULT_KIND, CPU_FAULT_CODE, CPU_FAULT_ADDR,
  CPU_FAULT_LEVEL, CPU_FAULT_IPA, STRUCT_TLB_4K, STRUCT_TLB_1G, STRUCT_PSC_PDE, EF_GLOBAL, E_OUT, E_ATTRS,
  CNT_S2_TLB_HIT,
} from "../layout";
import { maxPhysAddr } from "../phys/ram";
import { fetchEntry, fetchAborted, writeEntry } from "./paging/fetch";
import { MODE_PEEK, MODE_NO_CACHE, XLATE_FAILED, OUT_FRAME_MASK } from "../tlb/micro";
import { probe, structFill, killEntry } from "../tlb/structure";
import { raiseFloorAt, curS2Ctx, curS2Floor } from "../tlb/floors";

/** EPTP bits 51:12, the EP4TA. */
export const EPTP_ADDR_MASK: u64 = 0x000F_FFFF_FFFF_F000;
/** EPTP bit 6: accessed and dirty flags for EPT. */
export const EPTP_AD: u64 = 1 << 6;

export const EPT_R: u64 = 1 << 0;
export const EPT_W: u64 = 1 << 1;
export const EPT_X: u64 = 1 << 2;
export const EPT_PS: u64 = 1 << 7;
export const EPT_A: u64 = 1 << 8;
export const EPT_D: u64 = 1 << 9;

/** Translation statuses of a guest access, after the x86 XLATE_* ones. */
export const XLATE_EPT_VIOLATION: u32 = 4;
export const XLATE_EPT_MISCONFIG: u32 = 5;

/** EPT violation exit qualification bits (SDM Vol.3C 28.2.1, table 28-7). */
export const EPTQ_READ: u32 = 1 << 0;
export const EPTQ_WRITE: u32 = 1 << 1;
export const EPTQ_FETCH: u32 = 1 << 2;
export const EPTQ_READABLE: u32 = 1 << 3;
export const EPTQ_WRITABLE: u32 = 1 << 4;
export const EPTQ_EXECUTABLE: u32 = 1 << 5;
export const EPTQ_LINEAR_VALID: u32 = 1 << 7;
/** With EPTQ_LINEAR_VALID: the access was to the final translation, not to a guest paging-structure entry. */
export const EPTQ_FINAL: u32 = 1 << 8;

/** EPT access kinds. */
export const EPT_READ: u32 = 0;
export const EPT_WRITE: u32 = 1;
export const EPT_FETCH: u32 = 2;

// ── Slots ────────────────────────────────────────────────────────────────────

/** A slot holds the EP4TA with bit 0 set, so that an empty (zero) slot matches nothing. */
const SLOT_VALID: u64 = 1;

/** The slot of the EP4TA already in a slot, or 0. */
export function findEptSlot(ep4ta: u64): u32 {
  for (let slot: u32 = 1; slot < EPT_SLOTS; slot++) {
    if (load<u64>(C + CPU_EPT_SLOTS + (slot << 3)) == (ep4ta | SLOT_VALID)) return slot;
  }
  return 0;
}

/** The slot of an EP4TA, allocating one (and flushing its previous tenant) when absent. */
export function eptSlotOf(ep4ta: u64): u32 {
  const found = findEptSlot(ep4ta);
  if (found) return found;
  let next = load<u32>(C + CPU_EPT_NEXT);
  if (next < 1 || next >= EPT_SLOTS) next = 1;
  store<u32>(C + CPU_EPT_NEXT, next + 1);
  store<u64>(C + CPU_EPT_SLOTS + (next << 3), ep4ta | SLOT_VALID);
  raiseFloorAt(CPU_EPT_FLOORS + (next << 2));
  return next;
}

/** The EPT slot of the CPU's EPTP, or 0 when EPT is off (EPTP = 0). */
export function currentEptSlot(): u32 {
  const eptp = load<u64>(C + CPU_EPTP);
  return eptp == 0 ? 0 : eptSlotOf(eptp & EPTP_ADDR_MASK);
}

@inline export function eptEnabled(): bool {
  return load<u64>(C + CPU_EPTP) != 0;
}

// ── Results ──────────────────────────────────────────────────────────────────

/** The rights of the last successful EPT translation: EPT_R/W/X as the AND over its levels. */
export let eptRights: u32 = 0;
/** lg of the EPT page that mapped it. */
export let eptPageShift: u32 = 0;

function eptViolation(gpa: u64, va: u64, qualification: u32, level: u32, mode: u32): u64 {
  store<u32>(C + CPU_FAULT_KIND, XLATE_EPT_VIOLATION);
  store<u32>(C + CPU_FAULT_CODE, qualification);
  store<u64>(C + CPU_FAULT_ADDR, va);
  store<u32>(C + CPU_FAULT_LEVEL, level);
  store<u64>(C + CPU_FAULT_IPA, gpa);
  return XLATE_FAILED | XLATE_EPT_VIOLATION;
}

function eptMisconfig(gpa: u64, va: u64, level: u32): u64 {
  store<u32>(C + CPU_FAULT_KIND, XLATE_EPT_MISCONFIG);
  store<u32>(C + CPU_FAULT_CODE, 0);
  store<u64>(C + CPU_FAULT_ADDR, va);
  store<u32>(C + CPU_FAULT_LEVEL, level);
  store<u64>(C + CPU_FAULT_IPA, gpa);
  return XLATE_FAILED | XLATE_EPT_MISCONFIG;
}

/** The access bits of an exit qualification, and the guest-linear bits. */
@inline function accessBits(access: u32, paging: bool): u32 {
  const a: u32 = access == EPT_FETCH ? EPTQ_FETCH : access == EPT_WRITE ? EPTQ_WRITE : EPTQ_READ;
  return a | EPTQ_LINEAR_VALID | (paging ? 0 : EPTQ_FINAL);
}

@inline function rightsBits(rights: u32): u32 {
  return (rights & 7) << 3;
}

@inline function permits(rights: u32, access: u32): bool {
  return access == EPT_FETCH ? (rights & <u32>EPT_X) != 0 : access == EPT_WRITE ? (rights & <u32>EPT_W) != 0 : (rights & <u32>EPT_R) != 0;
}

// ── Translation ──────────────────────────────────────────────────────────────

/**
 * Translates a guest-physical address for an access (EPT_READ/WRITE/FETCH) on
 * behalf of guest linear address va; `paging` says the access is to a guest
 * paging-structure entry. Returns the host PA, or XLATE_FAILED with an EPT
 * violation or misconfiguration recorded.
 */
export function eptTranslate(gpa: u64, access: u32, paging: bool, va: u64, mode: u32): u64 {
  const peek = (mode & MODE_PEEK) != 0;
  const eptp = load<u64>(C + CPU_EPTP);
  const ad = (eptp & EPTP_AD) != 0;
  if (!(mode & MODE_NO_CACHE)) {
    const ctx = curS2Ctx();
    const floor = curS2Floor();
    for (let s = STRUCT_TLB_4K; s <= STRUCT_TLB_1G; s++) {
      const e = probe(s, gpa, ctx, 0, floor, floor);
      if (e == 0) continue;
      const rights = <u32>load<u8>(e, E_ATTRS);
      if (!permits(rights, access)) {
        return eptViolation(gpa, va, accessBits(access, paging) | rightsBits(rights), 1 + s - STRUCT_TLB_4K, mode);
      }
      // A write through an entry whose EPT dirty flag is clear walks again to set it.
      if (ad && access == EPT_WRITE && !(rights & 8)) {
        if (!peek) killEntry(s, e);
        break;
      }
      if (!peek) count(CNT_S2_TLB_HIT);
      const shift: u32 = 12 + 9 * (s - STRUCT_TLB_4K);
      eptRights = rights & 7;
      eptPageShift = shift;
      return (load<u64>(e, E_OUT) & OUT_FRAME_MASK) | (gpa & ((<u64>1 << shift) - 1));
    }
  }
  return eptWalk(gpa, access, paging, va, mode);
}

/** Reserved bits of a present EPT entry at a level (1 = PT … 4 = PML4), other than the address bits. */
@inline function eptReserved(level: u32, entry: u64): u64 {
  let rsvd: u64 = 0x000F_FFFF_FFFF_F000 & ~((<u64>1 << maxPhysAddr) - 1);
  if (level >= 4) rsvd |= EPT_PS | (<u64>0xF << 3);
  else if (level > 1 && !(entry & EPT_PS)) rsvd |= <u64>0xF << 3;
  else if (level == 3) rsvd |= 0x3FFF_F000;
  else if (level == 2) rsvd |= 0x001F_F000;
  return entry & rsvd;
}

function eptWalk(gpa: u64, access: u32, paging: bool, va: u64, mode: u32): u64 {
  const peek = (mode & MODE_PEEK) != 0;
  const eptp = load<u64>(C + CPU_EPTP);
  const ad = (eptp & EPTP_AD) != 0;
  const levels: u32 = <u32>((eptp >> 3) & 7) + 1;
  if (levels != 4 && levels != 5) return eptMisconfig(gpa, va, 0);
  if (gpa >> maxPhysAddr) return eptViolation(gpa, va, accessBits(access, paging), levels, mode);
  const addrField: u64 = ((<u64>1 << maxPhysAddr) - 1) & ~<u64>0xFFF;
  let table = eptp & addrField;
  let level = levels;
  let rights: u32 = 7;
  let entryPa: u64 = 0;
  let entry: u64 = 0;
  const ctx = curS2Ctx();
  // Walk caches: the deepest cached table for this address.
  if (!(mode & MODE_NO_CACHE)) {
    for (let cached: u32 = 2; cached <= levels; cached++) {
      const e = probe(STRUCT_PSC_PDE + cached - 2, gpa, ctx, 0, curS2Floor(), curS2Floor());
      if (e == 0) continue;
      table = load<u64>(e, E_OUT);
      rights = <u32>load<u8>(e, E_ATTRS);
      level = cached - 1;
      break;
    }
  }
  for (let step = 0; step < 6; step++) {
    entryPa = table + (((gpa >> (12 + 9 * (level - 1))) & 511) << 3);
    entry = fetchEntry(entryPa, true, mode);
    if (!(entry & 7)) {
      // An EPT entry outside RAM: the EPTP or an entry points at nothing.
      if (entry == 0 && fetchAborted()) return eptMisconfig(gpa, va, level);
      return eptViolation(gpa, va, accessBits(access, paging), level, mode);
    }
    // Write-only is a misconfiguration; execute-only is supported.
    if ((entry & EPT_W) && !(entry & EPT_R)) return eptMisconfig(gpa, va, level);
    if (eptReserved(level, entry)) return eptMisconfig(gpa, va, level);
    rights &= <u32>(entry & 7);
    if (level == 1 || (entry & EPT_PS)) break;
    if (ad && !peek && !(entry & EPT_A)) {
      entry |= EPT_A;
      writeEntry(entryPa, entry, false);
    }
    table = entry & addrField;
    if (!peek && !(mode & MODE_NO_CACHE)) structFill(STRUCT_PSC_PDE + level - 2, gpa, table, rights, EF_GLOBAL, ctx, 0);
    level--;
  }
  // The leaf: memory types 2, 3 and 7 are reserved.
  const memType = <u32>((entry >> 3) & 7);
  if (memType == 2 || memType == 3 || memType == 7) return eptMisconfig(gpa, va, level);
  if (!permits(rights, access)) {
    return eptViolation(gpa, va, accessBits(access, paging) | rightsBits(rights), level, mode);
  }
  if (ad && !peek) {
    const updated = entry | EPT_A | (access == EPT_WRITE ? EPT_D : 0);
    if (updated != entry) {
      writeEntry(entryPa, updated, false);
      entry = updated;
    }
  }
  const shift: u32 = 12 + 9 * (level - 1);
  const frame = entry & addrField & ~((<u64>1 << shift) - 1);
  eptRights = rights;
  eptPageShift = shift;
  if (!peek && !(mode & MODE_NO_CACHE)) {
    // Bit 3 of the cached rights: dirty (or no EPT A/D at all), so writes need no walk.
    const cachedRights = rights | (!ad || (entry & EPT_D) ? 8 : 0);
    structFill(STRUCT_TLB_4K + level - 1, gpa, frame | (<u64>(level - 1) << 52), cachedRights, EF_GLOBAL, ctx, 0);
  }
  return frame | (gpa & ((<u64>1 << shift) - 1));
}
