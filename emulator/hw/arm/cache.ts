// SPDX-License-Identifier: MIT
//
// The data-cache model (FEATURE_CACHES): a write-back L1 per CPU, indexed by
// set and way, a shared system cache beyond it, then RAM.
//
//   CPU 0 L1   CPU 1 L1  …        per CPU, sets × ways × 64-byte lines
//        \       |      /
//          system cache           shared; set/way maintenance never reaches it
//               |                 (a machine may have none: 0 ways)
//               |
//              RAM                the Point of Coherency
//
// Cacheable accesses are coherent among the L1s (a read miss takes a dirty
// copy from another L1 by having it written back to the system cache; a
// write invalidates every other copy first). Non-cacheable accesses go to RAM
// and see none of this: that is the hazard the model exists to show.
//
// Maintenance (Arm ARM D7, "Cache maintenance instructions"):
//   by set/way (DC ISW, CSW, CISW): this CPU's L1 only; a clean writes the
//     line back to the system cache, not to RAM;
//   by address (DC IVAC, CVAC, CIVAC): every L1 and the system cache, to RAM;
//   DC ZVA: a cacheable write of zeros to a 64-byte block.
//
// Line record (LINE_REC bytes): tag u64 (line PA | LINE_VALID | LINE_DIRTY |
// LINE_NC_NEWER), victim u64 (way 0 only: the set's next victim), data 64
// bytes.
//
// The stale-read check (FEATURE_STALE_READS, mechanisms §4.6 event (a)): the
// latest value of a byte is the newest copy among a dirty L1 line (a write
// invalidates every other L1 copy, so there is at most one), the system
// cache's line, and RAM, in that order, unless a non-cacheable write has
// reached RAM since that copy was filled: such a write marks every cached
// copy of its line LINE_NC_NEWER ("RAM may be newer than this copy"), and a
// marked copy is never taken as the latest (a missed report, never a false
// one). A non-cacheable read that returns something other than the latest
// value records EVENT_STALE_READ with the holder of that value.
//
// What lets the fast paths skip the model (kept by setTag, the one function
// that writes a tag, so nothing else can let it drift):
//   per 4 KiB page of RAM, the count of its lines held dirty in an L1 or
//     present in the system cache: the only copies a coherent observer (the
//     table walker, an instruction fetch) reads instead of RAM. At 0 such an
//     observer reads RAM itself; cacheEpoch moves on whenever a count leaves
//     0, so whatever kept a host pointer for such a page knows to look again;
//   per CPU, the count of valid lines in its L1: an L1 that holds nothing is
//     skipped by snoops and by-address maintenance, so CPUs that are off or
//     idle cost nothing.

import { cpuCount, count, selectedCpu } from "../cpu";
import {
  cpuArrays, cpuArraysSize, systemCache, cachePages, ramHostBase, MAX_CPUS, CNT_CACHE_HIT, CNT_CACHE_MISS, CNT_CACHE_WRITEBACK, CNT_DC_SETWAY,
  CNT_DC_VA, CNT_UNCACHED, EVENT_STALE_READ,
} from "../layout";
import { physHost } from "../phys/ram";
import { ramWritten } from "./code-write";
import { recordEvent } from "../common/detector";

export const LINE_SIZE: u32 = 64;
export const LINE_SHIFT: u32 = 6;
export const LINE_REC: u32 = 80;
const LINE_VALID: u64 = 1;
const LINE_DIRTY: u64 = 2;
/** A non-cacheable write reached RAM after this copy was filled: RAM may be newer (the stale-read check). */
const LINE_NC_NEWER: u64 = 4;
const LINE_ADDR: u64 = ~<u64>63;
/** setTag's owner of a system-cache record. */
const IN_SC: u32 = 0xFFFF_FFFF;

/** Geometry, set by init() from the config. */
let l1Sets: u32 = 0;
let l1Ways: u32 = 0;
let scSets: u32 = 0;
let scWays: u32 = 0;
/** Offset of the L1 inside each CPU's array region. */
let l1Offset: usize = 0;
export let cachesOn: bool = false;
/** FEATURE_STALE_READS: non-cacheable accesses take the full path, where reads are checked. */
export let staleReadCheck: bool = false;

/** Moves on whenever some page's count of lines that may differ from RAM leaves 0. */
export let cacheEpoch: u32 = 0;
/** Per CPU, u32: valid lines in its L1. */
const l1Held: usize = memory.data(<i32>(4 * MAX_CPUS));

export function setCacheGeometry(on: bool, offset: usize, sets: u32, ways: u32, systemSets: u32, systemWays: u32, checkReads: bool): void {
  cachesOn = on;
  staleReadCheck = on && checkReads;
  memory.fill(l1Held, 0, 4 * MAX_CPUS);
  cacheEpoch++;
  l1Offset = offset;
  l1Sets = sets;
  l1Ways = ways;
  scSets = systemSets;
  scWays = systemWays;
}

/** Bytes of one CPU's L1, and of the system cache. */
export function l1Bytes(sets: u32, ways: u32): usize {
  return <usize>sets * ways * LINE_REC;
}

@inline function l1Set(cpu: u32, set: u32): usize {
  return cpuArrays + <usize>cpu * cpuArraysSize + l1Offset + <usize>set * l1Ways * LINE_REC;
}

@inline function scSet(set: u32): usize {
  return systemCache + <usize>set * scWays * LINE_REC;
}

@inline function l1SetOf(line: u64): u32 {
  return <u32>(line >> LINE_SHIFT) & (l1Sets - 1);
}

@inline function scSetOf(line: u64): u32 {
  return <u32>(line >> LINE_SHIFT) & (scSets - 1);
}

/** The line record for `line` in a set of `ways`, or 0. */
function findIn(set: usize, ways: u32, line: u64): usize {
  let r = set;
  for (let w: u32 = 0; w < ways; w++, r += LINE_REC) {
    const tag = load<u64>(r);
    if ((tag & LINE_VALID) && (tag & LINE_ADDR) == line) return r;
  }
  return 0;
}

@inline function l1Find(cpu: u32, line: u64): usize {
  return findIn(l1Set(cpu, l1SetOf(line)), l1Ways, line);
}

@inline function scFind(line: u64): usize {
  return findIn(scSet(scSetOf(line)), scWays, line);
}

// ── Tags, and what they let the fast paths know ──────────────────────────────

/** The u16 count of a host address's page: its lines held dirty in an L1 or present in the system cache. */
@inline function pageCountAt(host: usize): usize {
  return cachePages + (((host - ramHostBase) >> 12) << 1);
}

/** Does the page at this host address (in RAM) have no line that may differ from RAM? */
@inline export function pageMatchesRam(host: usize): bool {
  return load<u16>(pageCountAt(host)) == 0;
}

function notePage(line: u64, delta: i32): void {
  const h = physHost(line, LINE_SIZE);
  // Only RAM is ever cached (accesses outside it fault or exit first).
  if (h < 0) return;
  const p = pageCountAt(<usize>h);
  const n = <i32>load<u16>(p) + delta;
  if (n == 1 && delta > 0) cacheEpoch++;
  store<u16>(p, <u16>n);
}

/** Does a record of this owner, with this tag, hold a line that may differ from RAM? */
@inline function differs(tag: u64, owner: u32): bool {
  return (tag & LINE_VALID) != 0 && (owner == IN_SC || (tag & LINE_DIRTY) != 0);
}

/** Writes the tag of record r of `owner` (a CPU's L1, or IN_SC), keeping the counts above. */
function setTag(r: usize, tag: u64, owner: u32): void {
  const old = load<u64>(r);
  store<u64>(r, tag);
  if (old == tag) return;
  if (owner != IN_SC && ((old ^ tag) & LINE_VALID)) {
    const held = l1Held + (<usize>owner << 2);
    const n = load<u32>(held);
    store<u32>(held, tag & LINE_VALID ? n + 1 : n - 1);
  }
  const was = differs(old, owner);
  const now = differs(tag, owner);
  const moved = ((old ^ tag) & LINE_ADDR) != 0;
  if (was && (!now || moved)) notePage(old & LINE_ADDR, -1);
  if (now && (!was || moved)) notePage(tag & LINE_ADDR, 1);
}

/** Does CPU cpu's L1 hold any line? */
@inline function l1Holds(cpu: u32): bool {
  return load<u32>(l1Held + (<usize>cpu << 2)) != 0;
}

// ── RAM ──────────────────────────────────────────────────────────────────────

/** Copies a line from RAM; lines outside RAM read as zero (the access itself faulted earlier). */
function ramReadLine(line: u64, dst: usize): void {
  const h = physHost(line, LINE_SIZE);
  if (h < 0) memory.fill(dst, 0, LINE_SIZE);
  else memory.copy(dst, <usize>h, LINE_SIZE);
}

function ramWriteLine(line: u64, src: usize): void {
  const h = physHost(line, LINE_SIZE);
  if (h < 0) return;
  ramWritten(<usize>h, line, LINE_SIZE);
  memory.copy(<usize>h, src, LINE_SIZE);
}

// ── Allocation ───────────────────────────────────────────────────────────────

/** Picks the way to fill in a set: an invalid one, else the round-robin victim (returned still holding it). */
function victimIn(set: usize, ways: u32): usize {
  let r = set;
  for (let w: u32 = 0; w < ways; w++, r += LINE_REC) {
    if (!(load<u64>(r) & LINE_VALID)) return r;
  }
  const v = <u32>load<u64>(set, 8);
  store<u64>(set, <u64>(v + 1 == ways ? 0 : v + 1), 8);
  return set + <usize>v * LINE_REC;
}

/**
 * Puts a line into the system cache (a write-back or a clean by set/way); a
 * dirty SC victim goes to RAM. A machine without a system cache (0 ways)
 * writes a dirty line straight to RAM, the point of coherency.
 */
function scInsert(line: u64, data: usize, dirty: bool, ncNewer: u64): void {
  if (scWays == 0) {
    if (dirty) ramWriteLine(line, data);
    return;
  }
  let r = scFind(line);
  if (r == 0) {
    r = victimIn(scSet(scSetOf(line)), scWays);
    const old = load<u64>(r);
    if ((old & LINE_VALID) && (old & LINE_DIRTY)) {
      ramWriteLine(old & LINE_ADDR, r + 16);
      count(CNT_CACHE_WRITEBACK);
    }
    setTag(r, line | LINE_VALID, IN_SC);
  }
  memory.copy(r + 16, data, LINE_SIZE);
  // The copy now holds the data just put in, so it is as old as that data.
  let tag = (load<u64>(r) & ~LINE_NC_NEWER) | ncNewer;
  if (dirty) tag |= LINE_DIRTY;
  setTag(r, tag, IN_SC);
}

/** An L1 line is leaving (eviction or invalidation with write-back): dirty data goes to the system cache. */
function l1WriteBack(r: usize, cpu: u32): void {
  const tag = load<u64>(r);
  if ((tag & LINE_VALID) && (tag & LINE_DIRTY)) {
    scInsert(tag & LINE_ADDR, r + 16, true, tag & LINE_NC_NEWER);
    setTag(r, tag & ~LINE_DIRTY, cpu);
    count(CNT_CACHE_WRITEBACK);
  }
}

/**
 * Makes another CPU's dirty copy visible: it is written back to the system
 * cache and stays clean in its L1 (invalidated too, for a write).
 */
function snoop(cpu: u32, line: u64, forWrite: bool): void {
  for (let other: u32 = 0; other < cpuCount; other++) {
    if (other == cpu || !l1Holds(other)) continue;
    const r = l1Find(other, line);
    if (r == 0) continue;
    l1WriteBack(r, other);
    if (forWrite) setTag(r, 0, other);
  }
}

/** The line in this CPU's L1, filled from the system cache or RAM when absent. */
function l1Line(cpu: u32, line: u64, forWrite: bool): usize {
  let r = l1Find(cpu, line);
  if (r != 0) {
    count(CNT_CACHE_HIT);
    if (forWrite) snoop(cpu, line, true);
    return r;
  }
  count(CNT_CACHE_MISS);
  snoop(cpu, line, forWrite);
  r = victimIn(l1Set(cpu, l1SetOf(line)), l1Ways);
  l1WriteBack(r, cpu);
  const sc = scFind(line);
  let ncNewer: u64 = 0;
  if (sc != 0) {
    memory.copy(r + 16, sc + 16, LINE_SIZE);
    ncNewer = load<u64>(sc) & LINE_NC_NEWER;
  } else {
    ramReadLine(line, r + 16);
  }
  setTag(r, line | LINE_VALID | ncNewer, cpu);
  return r;
}

// ── Data accesses (size 1, 2, 4 or 8; within one line) ─────────────────────

/** A cacheable read by the selected CPU. */
export function cacheRead(pa: u64, size: u32): u64 {
  const r = l1Line(selectedCpu, pa & LINE_ADDR, false);
  return loadSized(r + 16 + <usize>(pa & 63), size);
}

/** A cacheable write by the selected CPU. */
export function cacheWrite(pa: u64, size: u32, value: u64): void {
  const r = l1Line(selectedCpu, pa & LINE_ADDR, true);
  storeSized(r + 16 + <usize>(pa & 63), size, value);
  setTag(r, load<u64>(r) | LINE_DIRTY, selectedCpu);
}

/**
 * The fast path of a cacheable access by the selected CPU: the host address
 * of the bytes at pa in its L1 when the line is there (for a write, only when
 * the line is already dirty, and so held by no other CPU: a write
 * invalidates every other copy and a read by another CPU cleans it), with
 * the hit counted as cacheRead/cacheWrite count it; 0 when the access needs
 * the full model. Nothing about the line changes, so nothing else must know.
 */
@inline export function l1QuickHit(pa: u64, write: bool): usize {
  const line = pa & LINE_ADDR;
  let r = l1Set(selectedCpu, l1SetOf(line));
  const want = line | LINE_VALID | (write ? LINE_DIRTY : 0);
  for (let w: u32 = 0; w < l1Ways; w++, r += LINE_REC) {
    if ((load<u64>(r) & (LINE_ADDR | want)) == want) {
      count(CNT_CACHE_HIT);
      return r + 16 + <usize>(pa & 63);
    }
  }
  return 0;
}

/** A non-cacheable read: RAM itself, whatever the caches hold. */
export function uncachedRead(pa: u64, size: u32): u64 {
  count(CNT_UNCACHED);
  const h = physHost(pa, size);
  return h < 0 ? 0 : loadSized(<usize>h, size);
}

export function uncachedWrite(pa: u64, size: u32, value: u64): void {
  count(CNT_UNCACHED);
  const h = physHost(pa, size);
  if (h < 0) return;
  if (staleReadCheck) markNcNewer(pa & LINE_ADDR);
  ramWritten(<usize>h, pa, size);
  storeSized(<usize>h, size, value);
}

// ── The stale-read check (FEATURE_STALE_READS) ──────────────────────────────

/** A non-cacheable write to `line` is reaching RAM: every cached copy of it may now be older than RAM. */
function markNcNewer(line: u64): void {
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    if (!l1Holds(cpu)) continue;
    const r = l1Find(cpu, line);
    if (r != 0) setTag(r, load<u64>(r) | LINE_NC_NEWER, cpu);
  }
  const sc = scFind(line);
  if (sc != 0) setTag(sc, load<u64>(sc) | LINE_NC_NEWER, IN_SC);
}

/**
 * After a non-cacheable read by the selected CPU of `size` bytes at pa (VA
 * va) returned `value` from RAM: records EVENT_STALE_READ when a cache holds
 * a newer value of those bytes (mechanisms §4.6 (a)), naming the holder: the
 * dirty L1 line's CPU, else the system cache. Cold: only with the check on.
 */
export function checkUncachedRead(va: u64, pa: u64, size: u32, value: u64): void {
  const h = physHost(pa, size);
  if (h < 0 || pageMatchesRam(<usize>h)) return;
  const line = pa & LINE_ADDR;
  let holder: u32 = IN_SC;
  let r: usize = 0;
  for (let cpu: u32 = 0; cpu < cpuCount && r == 0; cpu++) {
    if (!l1Holds(cpu)) continue;
    const l1 = l1Find(cpu, line);
    if (l1 != 0 && (load<u64>(l1) & LINE_DIRTY)) {
      r = l1;
      holder = cpu;
    }
  }
  if (r == 0) r = scFind(line);
  if (r == 0 || (load<u64>(r) & LINE_NC_NEWER)) return;
  const latest = loadSized(r + 16 + <usize>(pa & 63), size);
  if (latest != value) recordEvent(EVENT_STALE_READ, va, pa, latest, value, holder, size);
}

/**
 * What a coherent observer outside the CPUs (the table walker) sees: a dirty
 * L1 copy, else the system cache's copy, else RAM.
 */
export function coherentRead64(pa: u64): u64 {
  const h = physHost(pa, 8);
  if (h >= 0 && pageMatchesRam(<usize>h)) return load<u64>(<usize>h);
  const line = pa & LINE_ADDR;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    if (!l1Holds(cpu)) continue;
    const r = l1Find(cpu, line);
    if (r != 0 && (load<u64>(r) & LINE_DIRTY)) return load<u64>(r + 16 + <usize>(pa & 63));
  }
  const sc = scFind(line);
  if (sc != 0) return load<u64>(sc + 16 + <usize>(pa & 63));
  return h < 0 ? 0 : load<u64>(<usize>h);
}

/** A coherent write (the walker's Access flag or dirty-state update): to the freshest copy; others are dropped. */
export function coherentWrite64(pa: u64, value: u64): void {
  const line = pa & LINE_ADDR;
  let written = false;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    if (!l1Holds(cpu)) continue;
    const r = l1Find(cpu, line);
    if (r == 0) continue;
    if (load<u64>(r) & LINE_DIRTY) {
      store<u64>(r + 16 + <usize>(pa & 63), value);
      written = true;
    } else {
      setTag(r, 0, cpu);
    }
  }
  if (written) return;
  const sc = scFind(line);
  if (sc != 0) {
    store<u64>(sc + 16 + <usize>(pa & 63), value);
    setTag(sc, load<u64>(sc) | LINE_DIRTY, IN_SC);
    return;
  }
  const h = physHost(pa, 8);
  if (h < 0) return;
  ramWritten(<usize>h, pa, 8);
  store<u64>(<usize>h, value);
}

@inline function loadSized(p: usize, size: u32): u64 {
  if (size == 8) return load<u64>(p);
  if (size == 4) return <u64>load<u32>(p);
  if (size == 2) return <u64>load<u16>(p);
  return <u64>load<u8>(p);
}

@inline function storeSized(p: usize, size: u32, value: u64): void {
  if (size == 8) store<u64>(p, value);
  else if (size == 4) store<u32>(p, <u32>value);
  else if (size == 2) store<u16>(p, <u16>value);
  else store<u8>(p, <u8>value);
}

// ── Maintenance ──────────────────────────────────────────────────────────────

export const DC_CLEAN: u32 = 1;
export const DC_INVALIDATE: u32 = 2;

/**
 * DC IVAC / CVAC / CIVAC on the line of pa: to the Point of Coherency, in
 * every cache. The system cache is handled first, so that a newer dirty L1
 * copy is the last to reach RAM.
 */
export function dcByAddress(pa: u64, op: u32): void {
  count(CNT_DC_VA);
  const line = pa & LINE_ADDR;
  const sc = scFind(line);
  if (sc != 0) {
    if ((op & DC_CLEAN) && (load<u64>(sc) & LINE_DIRTY)) {
      ramWriteLine(line, sc + 16);
      setTag(sc, load<u64>(sc) & ~LINE_DIRTY, IN_SC);
    }
    if (op & DC_INVALIDATE) setTag(sc, 0, IN_SC);
  }
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    if (!l1Holds(cpu)) continue;
    const r = l1Find(cpu, line);
    if (r == 0) continue;
    if ((op & DC_CLEAN) && (load<u64>(r) & LINE_DIRTY)) {
      ramWriteLine(line, r + 16);
      setTag(r, load<u64>(r) & ~LINE_DIRTY, cpu);
      // The system cache, if it kept a copy, must not hold older data now.
      const stale = scFind(line);
      if (stale != 0) setTag(stale, 0, IN_SC);
    }
    if (op & DC_INVALIDATE) setTag(r, 0, cpu);
  }
}

/** Is the line dirty in some CPU's L1 or in the system cache (a query: nothing changes)? */
export function lineDirtyAnywhere(line: u64): bool {
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    if (!l1Holds(cpu)) continue;
    const r = l1Find(cpu, line);
    if (r != 0 && (load<u64>(r) & LINE_DIRTY)) return true;
  }
  const sc = scFind(line);
  return sc != 0 && (load<u64>(sc) & LINE_DIRTY) != 0;
}

/** Decodes a DC ISW/CSW/CISW operand: way in the top bits, set above the line offset, level in 3:1. */
export function dcBySetWay(operand: u64, op: u32): void {
  count(CNT_DC_SETWAY);
  const level = <u32>(operand >> 1) & 7;
  // Only level 1 (field value 0) exists; set/way operations never reach the system cache.
  if (level != 0) return;
  const a: u32 = l1Ways <= 1 ? 0 : 32 - clz<u32>(l1Ways - 1);
  const way: u32 = a == 0 ? 0 : <u32>(operand >> (32 - a)) & ((1 << a) - 1);
  const set: u32 = <u32>(operand >> LINE_SHIFT) & (l1Sets - 1);
  if (way >= l1Ways) return;
  const r = l1Set(selectedCpu, set) + <usize>way * LINE_REC;
  if (op & DC_CLEAN) l1WriteBack(r, selectedCpu);
  if (op & DC_INVALIDATE) setTag(r, 0, selectedCpu);
}

/** CCSIDR_EL1 of the L1 (without FEAT_CCIDX): LineSize, Associativity-1, NumSets-1. */
export function ccsidr(): u64 {
  return <u64>(LINE_SHIFT - 4) | (<u64>(l1Ways - 1) << 3) | (<u64>(l1Sets - 1) << 13);
}

/** CLIDR_EL1: one unified level (Ctype1 = 0b100), LoUIS = LoC = LoUU = 1. */
export function clidr(): u64 {
  return 0b100 | (<u64>1 << 21) | (<u64>1 << 24) | (<u64>1 << 27);
}

/** The record of line (set, way) of CPU `cpu`'s L1 (cpu 0xFFFFFFFF: the system cache), or 0; for the debugger. */
export function cacheLineRecord(cpu: u32, set: u32, way: u32): usize {
  if (!cachesOn) return 0;
  if (cpu == 0xFFFF_FFFF) return set < scSets && way < scWays ? scSet(set) + <usize>way * LINE_REC : 0;
  if (cpu >= cpuCount || set >= l1Sets || way >= l1Ways) return 0;
  return l1Set(cpu, set) + <usize>way * LINE_REC;
}
