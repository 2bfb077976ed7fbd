// SPDX-License-Identifier: MIT
//
// Guest annotations for the sanitizer (docs/annotations.md, issue 18). The
// guest tells the machine what the hardware cannot know: a frame freed to or
// taken from its allocator, a lockless walker's section, a table unhooked.
// The host (emulator/machine/core/annotations.ts) validates each annotation
// and calls the exports below; the hardware then checks three events:
//
//   (a) a CPU inside a walker section loads from a frame freed after that
//       section began and not reallocated since (annotDataLoad);
//   (b) a walk uses a walk-cache (paging-structure-cache) entry that points
//       at a frame freed after the entry was filled, or any entry built
//       from a descriptor in such a frame (the detector's source record,
//       detector.ts, when it is on);
//   (c) an access is translated by a user-accessible TLB entry filled before
//       the frame it maps was freed. Entries that only the kernel may use
//       are left out: a kernel's map of all RAM (Linux's direct map)
//       legitimately outlives every free, and its allocator writes freed
//       frames (poison) through it.
//
// Cost while no annotation was ever made: one test of `annotOn` on the
// slow paths (a micro-TLB miss), nothing on the micro-TLB hit path. Once the
// guest annotates, a free marks the frame in its page-state byte
// (PAGE_FREED, phys/pages.ts), flags every entry of every CPU that depends
// on it (EF_ANNOT_TABLE, EF_ANNOT_FRAME) and empties the micro-TLBs, which
// then never hold a freed frame: every access that could be an event takes
// the slow path, where the flags and the page-state byte are checked.
//
// State (static, no allocation):
//
//   walkSince  MAX_CPUS × u32    the sequence number at the CPU's WALK_BEGIN, 0 outside
//   walkStep   MAX_CPUS × u32    the decision at which that section began (for reports)
//   freeRing   FREE_RING × 32 B  the latest frees, newest last:
//              0 frame PA u64   8 seq u32   12 CPU u32   16 step u32
//              24 CPUs already told of it by event (a), u64 mask
//
// A sequence number orders frees and section starts. A free older than the
// whole ring is no longer known by CPU; `annotLost` counts the checks that
// could not be decided for that reason.

import { select, selectedCpu, cpuCount, features, desc } from "../cpu";
import {
  MAX_CPUS, STRUCT_COUNT, ENTRY_SIZE, E_OUT, E_ATTRS, E_FLAGS, FEATURE_DETECT, pageState, EF_ANNOT_TABLE, EF_ANNOT_FRAME,
  EF_ANNOT_SOURCE, EVENT_ANNOT_LOAD, EVENT_ANNOT_TABLE, EVENT_ANNOT_FRAME,
} from "../layout";
import { isPsc, structEntries, structEntry, structShift, entrySources, filledSinceFlush } from "../tlb/structure";
import { microFlush } from "../tlb/floors";
import { physHost } from "../phys/ram";
import { PAGE_FREED } from "../phys/pages";
import { recordEvent } from "./detector";

/** The record's bytes after count, levels (detector.ts): where an entry keeps the PFN that flagged it through its sources. */
const SRC_ANNOT_PFN: usize = 28;

const FREE_RING: u32 = 1024;
const RING_SIZE: usize = 32;
const UNKNOWN_CPU: u32 = 0xFFFF_FFFF;

/** Has the guest made any annotation since init? */
export let annotOn: bool = false;
let seq: u32 = 0;
let frees: u64 = 0;
let lost: u64 = 0;
const walkSince: usize = memory.data(<i32>(MAX_CPUS * 4));
const walkStep: usize = memory.data(<i32>(MAX_CPUS * 4));
const freeRing: usize = memory.data(<i32>(FREE_RING * <u32>RING_SIZE));

export function annotReset(): void {
  annotOn = false;
  seq = 0;
  frees = 0;
  lost = 0;
  memory.fill(walkSince, 0, MAX_CPUS * 4);
}

/** Bits 51:12, as tlb/micro.ts OUT_FRAME_MASK (which imports this file). */
const FRAME_MASK: u64 = 0x000F_FFFF_FFFF_F000;

@inline function frameOf(pa: u64): u64 {
  return pa & FRAME_MASK;
}

@inline function pageStateAt(host: i64): usize {
  return pageState + (<usize>host >> 12);
}

/** Is the frame at pa one the guest declared free (and has not taken back)? */
@inline export function annotFreed(pa: u64): bool {
  const h = physHost(pa, 1);
  return h >= 0 && (load<u8>(pageStateAt(h)) & PAGE_FREED) != 0;
}

/** The ring slot of the newest free of the frame, or 0 when the ring no longer holds one. */
function latestFree(frame: u64): usize {
  const n: u64 = frees < <u64>FREE_RING ? frees : <u64>FREE_RING;
  for (let i: u64 = 1; i <= n; i++) {
    const r = freeRing + <usize>((frees - i) % FREE_RING) * RING_SIZE;
    if (load<u64>(r) == frame) return r;
  }
  return 0;
}

/** The oldest sequence number the ring still holds (older frees are not known by CPU). */
function oldestKnownSeq(): u32 {
  if (frees < <u64>FREE_RING) return 0;
  return load<u32>(freeRing + <usize>(frees % FREE_RING) * RING_SIZE, 8);
}

/**
 * Does an entry of this structure depend on the frame? Walk-cache entries
 * point at their next table (E_OUT); TLB entries map a page, of their size,
 * that holds the frame. Returns the flag to set, or 0.
 */
function dependsOn(s: u32, e: usize, frame: u64, detect: bool): u8 {
  const out = frameOf(load<u64>(e, E_OUT));
  if (isPsc(s)) {
    if (out == frame) return EF_ANNOT_TABLE;
  } else {
    const size: u64 = <u64>1 << structShift(s);
    // (c) looks at user-accessible entries only: bit 0 of the rights byte is
    // x86's U/S (ATTR_U) and Arm's AP[1] (ARM_ATTR_AP1) alike.
    if ((load<u8>(e, E_ATTRS) & 1) && frame - out < size) return EF_ANNOT_FRAME;
  }
  if (!detect) return 0;
  const rec = entrySources(s, e);
  const n = load<u32>(rec);
  for (let i: u32 = 0; i < n; i++) {
    if (frameOf(load<u64>(rec + 16 + (<usize>i << 4))) == frame) {
      store<u32>(rec, <u32>(frame >> 12), SRC_ANNOT_PFN);
      return EF_ANNOT_TABLE | EF_ANNOT_SOURCE;
    }
  }
  return 0;
}

/**
 * FREE: CPU `cpu` freed the frame at pa (a machine address inside RAM, as
 * the host checked) at decision `step`. Marks it, remembers who freed it,
 * flags every entry of every CPU that depends on it, and empties every
 * micro-TLB so that the next use of such an entry reaches the TLB lookup.
 */
export function annotFree(cpu: u32, pa: u64, step: u32): void {
  annotOn = true;
  const frame = frameOf(pa);
  const h = physHost(frame, 1);
  if (h >= 0) store<u8>(pageStateAt(h), load<u8>(pageStateAt(h)) | PAGE_FREED);
  seq++;
  const r = freeRing + <usize>(frees % FREE_RING) * RING_SIZE;
  store<u64>(r, frame);
  store<u32>(r, seq, 8);
  store<u32>(r, cpu, 12);
  store<u32>(r, step, 16);
  store<u64>(r, 0, 24);
  frees++;
  const detect = (features & FEATURE_DETECT) != 0;
  const was = selectedCpu;
  for (let c: u32 = 0; c < cpuCount; c++) {
    select(c);
    for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
      // A structure not filled since everything was flushed holds nothing live.
      if (!filledSinceFlush(desc(s))) continue;
      const n = structEntries(s);
      let e = structEntry(s, 0);
      for (let i: u32 = 0; i < n; i++, e += ENTRY_SIZE) {
        const flag = dependsOn(s, e, frame, detect);
        if (flag) store<u8>(e, load<u8>(e, E_FLAGS) | flag, E_FLAGS);
      }
    }
    microFlush();
  }
  select(was);
}

/** ALLOC: the guest took the frame back from its allocator. */
export function annotAlloc(pa: u64): void {
  annotOn = true;
  const h = physHost(frameOf(pa), 1);
  if (h >= 0) store<u8>(pageStateAt(h), load<u8>(pageStateAt(h)) & ~PAGE_FREED);
}

/** WALK_BEGIN on CPU cpu at decision `step` (the host has checked that it was outside a section). */
export function annotWalkBegin(cpu: u32, step: u32): void {
  annotOn = true;
  seq++;
  store<u32>(walkSince + (<usize>cpu << 2), seq);
  store<u32>(walkStep + (<usize>cpu << 2), step);
}

/** WALK_END on CPU cpu. */
export function annotWalkEnd(cpu: u32): void {
  annotOn = true;
  store<u32>(walkSince + (<usize>cpu << 2), 0);
}

/** Checks whose outcome the ring was too short to decide. */
export function annotLost(): u64 {
  return lost;
}

/** Records an annotation event: the frame, who freed it and at which decision, beside the usual fields. */
function annotEvent(kind: u32, va: u64, frame: u64, ring: usize, level: u32): void {
  const freer: u64 = ring ? <u64>load<u32>(ring, 12) : UNKNOWN_CPU;
  const step: u64 = ring ? <u64>load<u32>(ring, 16) : UNKNOWN_CPU;
  recordEvent(kind, va, frame, freer, step, level, 0);
}

/**
 * Event (a), for a data load at pa by the selected CPU (the caller has
 * tested annotOn): inside a walker section, from a frame still free whose
 * latest free came after the section began. Told once per CPU and free.
 */
export function annotDataLoad(va: u64, pa: u64): void {
  const since = load<u32>(walkSince + (<usize>selectedCpu << 2));
  if (since == 0 || !annotFreed(pa)) return;
  const frame = frameOf(pa);
  const r = latestFree(frame);
  if (r == 0) {
    if (oldestKnownSeq() > since) lost++;
    return;
  }
  if (load<u32>(r, 8) <= since) return;
  const told = load<u64>(r, 24);
  const me: u64 = <u64>1 << selectedCpu;
  if (told & me) return;
  store<u64>(r, told | me, 24);
  annotEvent(EVENT_ANNOT_LOAD, va, frame, r, load<u32>(walkStep + (<usize>selectedCpu << 2)));
}

/**
 * Events (b) and (c), for a use of entry e of structure s to translate va
 * (the caller has tested annotOn). Each flagged entry is told once: the
 * flag is cleared as the event is recorded. A large TLB entry was flagged
 * for any of its frames; its use is an event when the frame it translates
 * va to is one the guest has freed.
 */
export function annotEntryUsed(s: u32, e: usize, va: u64): void {
  const flags = load<u8>(e, E_FLAGS);
  if (!(flags & (EF_ANNOT_TABLE | EF_ANNOT_FRAME))) return;
  const out = frameOf(load<u64>(e, E_OUT));
  if (flags & EF_ANNOT_TABLE) {
    const frame = flags & EF_ANNOT_SOURCE ? <u64>load<u32>(entrySources(s, e), SRC_ANNOT_PFN) << 12 : out;
    store<u8>(e, flags & ~(EF_ANNOT_TABLE | EF_ANNOT_SOURCE), E_FLAGS);
    annotEvent(EVENT_ANNOT_TABLE, va, frame, latestFree(frame), s);
    return;
  }
  const shift = structShift(s);
  const frame = shift > 12 ? frameOf(out + (va & ((<u64>1 << shift) - 1))) : out;
  const r = latestFree(frame);
  if (shift > 12 && r == 0) return;
  store<u8>(e, flags & ~EF_ANNOT_FRAME, E_FLAGS);
  annotEvent(EVENT_ANNOT_FRAME, va, frame, r, s);
}

/**
 * May the micro-TLB hold a fragment of this frame? Not one the guest
 * declared free: every access to it must reach the checks.
 */
@inline export function annotMicroAllowed(frame: u64): bool {
  return !annotOn || !annotFreed(frame);
}

