// SPDX-License-Identifier: MIT
//
// Entry access of the x86-64 walks: the one place the walk without EPT
// (walk.ts), a guest's walk under EPT (nested.ts) and the EPT walk (ept.ts)
// read a paging-structure or EPT entry, or write one back (after QEMU's
// arm_ldq_ptw, the model for every walker here).
//
// Here and nowhere else:
//   - the read: for the walk without EPT, from the RAM range cached for fast
//     lookups (fetchEntryCached, inlined into its loop, which makes no calls)
//     with fetchEntryMiss for an address outside it, the entries read going
//     into the walk trace; for the others through physHost (fetchEntry);
//   - the EPT translation of the guest-physical address of a guest's
//     paging-structure entry (guestEntryAddress): such an access is a read
//     for EPT, or a write when EPT accessed and dirty flags are on
//     (SDM Vol.3C 29.3.3.2);
//   - the Accessed and Dirty write-back (writeEntry), which for a guest's
//     entry must also be allowed as a write by EPT (writeGuestEntry);
//   - the counters of entry reads (CNT_WALK_READ, and CNT_S2_WALK_READ for
//     EPT) and of A/D write-backs (CNT_AD_WRITE);
//   - the walk trace of the walk without EPT, and the detector's record made
//     from it.
//
// A read counts whether or not there is RAM behind it; nothing is counted
// when peeking. The walk without EPT counts its reads once per walk
// (countCachedReads), not in its loop.

import { C, count, addCount, features } from "../../cpu";
import { CPU_WALK_TRACE, CPU_EPTP, CNT_WALK_READ, CNT_S2_WALK_READ, CNT_AD_WRITE, FEATURE_DETECT } from "../../layout";
import { physHost, physHostSlow, physWrite64 } from "../../phys/ram";
import { MODE_PEEK, XLATE_FAILED } from "../../tlb/micro";
import { walkSrcPush, walkSrcUpdateLast } from "../../common/detector";
import { fetchAbort } from "../../common/fetch-abort";
import { eptTranslate, EPTP_AD, EPT_READ, EPT_WRITE } from "../ept";

export { fetchAborted } from "../../common/fetch-abort";

// ── The walk trace: what each level of the walk without EPT read ─────────────

@inline export function tracePa(level: u32): u64 {
  return load<u64>(C + CPU_WALK_TRACE + (<usize>level << 4));
}

@inline export function traceEntry(level: u32): u64 {
  return load<u64>(C + CPU_WALK_TRACE + (<usize>level << 4) + 8);
}

/**
 * Is entryPa in the cached RAM range (ramBase, and ramLimit = its size less
 * 8, as the walk's loop holds them in locals)? When it is not,
 * fetchEntryMiss looks it up.
 */
@inline export function entryInCachedRange(entryPa: u64, ramBase: u64, ramLimit: u64): bool {
  return entryPa - ramBase <= ramLimit;
}

/**
 * Reads the entry at entryPa, which is in the cached RAM range (ramDelta =
 * host less guest-physical), into the walk trace at `level`, and returns it.
 */
@inline export function fetchEntryCached(entryPa: u64, level: u32, ramDelta: u64): u64 {
  const pte = load<u64>(<usize>(entryPa + ramDelta));
  const trace = C + CPU_WALK_TRACE + (<usize>level << 4);
  store<u64>(trace, entryPa);
  store<u64>(trace, pte, 8);
  return pte;
}

/**
 * An entry address outside the cached RAM range: looks it up, which makes its
 * range the cached one, so that fetchEntryCached can read it. False when no
 * RAM is there (a bus error), with the address in the trace at `level`.
 */
export function fetchEntryMiss(entryPa: u64, level: u32): bool {
  if (physHostSlow(entryPa, 8) >= 0) return true;
  store<u64>(C + CPU_WALK_TRACE + (<usize>level << 4), entryPa);
  return false;
}

/** Counts the `reads` entries the walk without EPT read (its levels, down to where it stopped). */
@inline export function countCachedReads(reads: u64, mode: u32): void {
  if (!(mode & MODE_PEEK)) addCount(CNT_WALK_READ, reads);
}

/** Records the traced entry at `level` as a source of what the walk fills (the detector). */
@inline export function recordTraced(level: u32): void {
  walkSrcPush(tracePa(level), traceEntry(level), level);
}

// ── Reads through physHost: a guest's walk under EPT, and the EPT walk ───────

/**
 * Reads the entry at host-physical entryPa: of a guest's paging structures,
 * or (ept) of the EPT paging structures. When no RAM is there it returns 0,
 * a not-present entry, and the walker, on its not-present path, learns from
 * fetchAborted() that there was nothing to read instead.
 */
@inline export function fetchEntry(entryPa: u64, ept: bool, mode: u32): u64 {
  if (!(mode & MODE_PEEK)) {
    count(CNT_WALK_READ);
    if (ept) count(CNT_S2_WALK_READ);
  }
  const host = physHost(entryPa, 8);
  if (host < 0) return fetchAbort();
  return load<u64>(<usize>host);
}


/** Are EPT accessed and dirty flags on (EPTP bit 6)? */
@inline export function eptAccessedDirty(): bool {
  return (load<u64>(C + CPU_EPTP) & EPTP_AD) != 0;
}

/**
 * The host-physical address of the guest paging-structure entry at entryGpa,
 * through EPT on behalf of the walk of va: a read, or a write with EPT
 * accessed and dirty flags on. The address, or XLATE_FAILED with the EPT
 * violation or misconfiguration recorded.
 */
@inline export function guestEntryAddress(entryGpa: u64, va: u64, mode: u32): u64 {
  return eptTranslate(entryGpa, eptAccessedDirty() ? EPT_WRITE : EPT_READ, true, va, mode);
}

// ── Write-back ───────────────────────────────────────────────────────────────

/**
 * Writes back an entry whose Accessed or Dirty flag the walk set. `recorded`:
 * the entry is the last source the detector recorded for the walk (its leaf),
 * whose record then keeps the value written.
 */
export function writeEntry(entryPa: u64, value: u64, recorded: bool): void {
  physWrite64(entryPa, value);
  count(CNT_AD_WRITE);
  if (recorded && (features & FEATURE_DETECT)) walkSrcUpdateLast(value);
}

/**
 * writeEntry for the traced entry at `level` of the walk without EPT; the
 * trace then holds the value written.
 */
@inline export function writeTracedEntry(level: u32, value: u64, recorded: bool): void {
  writeEntry(tracePa(level), value, recorded);
  store<u64>(C + CPU_WALK_TRACE + (<usize>level << 4), value, 8);
}

/**
 * writeEntry for a guest's paging-structure entry at entryGpa (host-physical
 * entryPa): the write must be allowed by EPT, which a read with EPT accessed
 * and dirty flags on has already checked. 0, or XLATE_FAILED with the EPT
 * violation or misconfiguration recorded and nothing written.
 */
export function writeGuestEntry(entryGpa: u64, entryPa: u64, value: u64, va: u64, mode: u32): u64 {
  if (!eptAccessedDirty()) {
    const w = eptTranslate(entryGpa, EPT_WRITE, true, va, mode);
    if (w & XLATE_FAILED) return w;
  }
  writeEntry(entryPa, value, false);
  return 0;
}
