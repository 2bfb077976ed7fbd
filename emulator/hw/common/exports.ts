// SPDX-License-Identifier: MIT
//
// The hardware module's exports that every architecture shares: the machine's
// shape (config block, init, reset), guest RAM, the detector's events, the
// state hash, the debugger's reads, and the benchmark and interop probes that
// do not depend on an architecture. emulator/hw/index.ts gathers these with
// the per-architecture exports (x86/exports.ts, arm/exports.ts).

import {
  cfgBase, cpuBlocks, cpuArrays, cpuArraysSize, ramHostBase, ramTable, eventRing, layoutConfig, ensureMemory, align,
  CFG_CPUS, CFG_ARCH, CFG_MAXPHYADDR, CFG_FEATURES, CFG_SETS, CFG_WAYS, CFG_MICRO_ENTRIES, CFG_CHAOS_SEED,
  CFG_L1_SETS, CFG_L1_WAYS, CFG_SC_SETS, CFG_SC_WAYS, FEATURE_CACHES, FEATURE_STALE_READS, systemCache,
  decodeCache, DECODE_ENTRIES, DECODE_ENTRY_SIZE, cachePages, CACHE_PAGES_BYTES, usageRecord, pageState, USAGE_STRUCT_END,
  CPU_SIZE, CPU_STRUCTS, DESC_SIZE, DESC_BASE, DESC_SET_MASK, DESC_WAYS, DESC_SHIFT, DESC_SRC, DESC_SET_BYTES, ENTRY_SIZE,
  SRC_SIZE, STRUCT_COUNT, MAX_CPUS, MICRO_ENTRY_SIZE, CPU_CLOCK, CPU_MICRO_EPOCH,
  CPU_PAT, CPU_COUNTERS, COUNTER_COUNT, FEATURE_DETECT, FEATURE_CHAOS, ARCH_X86_64, ARCH_AARCH64,
  CPU_CR0, X86_EVENTS, X86_GPR, X86_LAZY_RES, X86_CPL, X86_EXIT_REASON, X86_APIC_ID, CPU_ARM, ARM_REG_COUNT, CPU_A64,
  A64_EXIT_REASON,
} from "../layout";
import { select, setMachineShape, A, C, ARR_MICRO, disableMicro, cpuCount } from "../cpu";
import { ramReset, ramAdd, physHostSlow, ramSetMaxPhysAddr, ramRangeCount, hashRam, ramHostEnd } from "../phys/ram";
import { pagesSetWritten, pagesZeroWritten, pagesCheckZero, pageWritten } from "../phys/pages";
import { codeReset, checkCodeWrite } from "../x86/cpu/code";
import { x86ExecReset } from "../x86/cpu/reset";
import { prngSeed } from "./prng";
import { detectorReset, eventsPending, eventsFirst, eventsConsume, eventsDroppedCount } from "./detector";
import { benchOffset } from "./bench";
import { annotReset } from "./annotate";
import { chaosRearm } from "../tlb/chaos";
import { flushAll, mapClear, setStage2ByVtag } from "../tlb/floors";
import { PAT_RESET } from "../x86/regs";
import { armSyncDerivedState } from "../arm/translate";
import { a64ExecReset } from "../arm/cpu/reset";
import { setCacheGeometry } from "../arm/cache";
import { gicReset } from "../arm/gic";
import { rebuildWalkParamsAll } from "../x86/paging/walk";
import { syncDerivedState } from "../x86/invalidate";

export { ramReset, ramAdd, ramRangeCount, eventsPending, eventsFirst, eventsConsume, eventsDroppedCount };
export { tlbEntriesLive, cacheLine } from "../debug";
export { annotFree, annotAlloc, annotWalkBegin, annotWalkEnd, annotLost } from "./annotate";

/** The lg of each TLB structure's region: 4 KiB, 2 MiB, 1 GiB pages; PDE, PDPTE, PML4E, PML5E caches. */
const STRUCT_SHIFTS: u64 = 0x30_27_1E_15_1E_15_0C; // 12, 21, 30, 21, 30, 39, 48 in bytes

export const INIT_OK: u32 = 0;
export const INIT_ERR_CPUS: u32 = 1;
export const INIT_ERR_MAXPHYADDR: u32 = 2;
export const INIT_ERR_GEOMETRY: u32 = 3;
export const INIT_ERR_MICRO: u32 = 4;
export const INIT_ERR_MEMORY: u32 = 5;
export const INIT_ERR_ARCH: u32 = 6;

layoutConfig();
ensureMemory(cpuBlocks);

/** ARCH_X86_64 or ARCH_AARCH64, from the config. */
let arch: u32 = ARCH_X86_64;

export function configBlock(): usize {
  return cfgBase;
}

function isPow2(x: u32): bool {
  return x != 0 && (x & (x - 1)) == 0;
}

/** Lays out and resets the machine described by the config block. */
export function init(): u32 {
  const cpus = load<u32>(cfgBase + CFG_CPUS);
  const maxPhys = load<u32>(cfgBase + CFG_MAXPHYADDR);
  const feat = load<u32>(cfgBase + CFG_FEATURES);
  const microEntries = load<u32>(cfgBase + CFG_MICRO_ENTRIES);
  const archCfg = load<u32>(cfgBase + CFG_ARCH);
  if (archCfg != ARCH_X86_64 && archCfg != ARCH_AARCH64) return INIT_ERR_ARCH;
  arch = archCfg;
  setStage2ByVtag(arch == ARCH_AARCH64);
  if (cpus == 0 || cpus > MAX_CPUS) return INIT_ERR_CPUS;
  if (maxPhys < 32 || maxPhys > 52) return INIT_ERR_MAXPHYADDR;
  if (microEntries != 0 && (!isPow2(microEntries) || microEntries > 65536)) return INIT_ERR_MICRO;

  // Offsets inside one CPU's array region, in 64 bits until they are known to fit.
  let off: u64 = <u64>ARR_MICRO + <u64>(microEntries == 0 ? 1 : microEntries) * MICRO_ENTRY_SIZE;
  const bases = memory.data(4 * 7);
  const srcs = memory.data(4 * 7);
  for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
    const sets = load<u32>(cfgBase + CFG_SETS + (s << 2));
    const ways = load<u32>(cfgBase + CFG_WAYS + (s << 2));
    if (!isPow2(sets) || ways == 0 || ways > 64 || <u64>sets * ways > (1 << 20)) return INIT_ERR_GEOMETRY;
    store<u32>(bases + (s << 2), <u32>off);
    off += <u64>sets * ways * ENTRY_SIZE;
  }
  for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
    store<u32>(srcs + (s << 2), <u32>off);
    if (feat & FEATURE_DETECT) {
      off += <u64>load<u32>(cfgBase + CFG_SETS + (s << 2)) * load<u32>(cfgBase + CFG_WAYS + (s << 2)) * SRC_SIZE;
    }
  }
  // The data caches: an L1 per CPU in its array region, the system cache after all of them.
  const caches = (feat & FEATURE_CACHES) != 0;
  const l1Sets = load<u32>(cfgBase + CFG_L1_SETS);
  const l1Ways = load<u32>(cfgBase + CFG_L1_WAYS);
  const scSets = load<u32>(cfgBase + CFG_SC_SETS);
  const scWays = load<u32>(cfgBase + CFG_SC_WAYS);
  // A system cache of 0 ways is none at all (--system-cache off): set/way cleans then reach RAM.
  if (caches && (!isPow2(l1Sets) || !isPow2(scSets) || l1Ways == 0 || l1Ways > 64 || scWays > 64)) {
    return INIT_ERR_GEOMETRY;
  }
  const l1Offset = off;
  if (caches) off += <u64>l1Sets * <u64>l1Ways * 80;
  // Sizes are checked in 64 bits before anything is placed, so nothing wraps.
  const arraysSize64: u64 = (<u64>off + 63) & ~<u64>63;
  const scBytes: u64 = caches ? <u64>scSets * <u64>scWays * 80 : 0;
  const codeBytes: u64 = <u64>DECODE_ENTRIES * DECODE_ENTRY_SIZE + (caches ? CACHE_PAGES_BYTES : 0);
  const end64 = <u64>align(cpuBlocks + <usize>cpus * CPU_SIZE, 64) + <u64>cpus * arraysSize64 + scBytes + codeBytes;
  if (off > 0xC000_0000 || end64 > 0xC000_0000) return INIT_ERR_MEMORY;
  cpuArraysSize = <usize>arraysSize64;
  cpuArrays = align(cpuBlocks + <usize>cpus * CPU_SIZE, 64);
  systemCache = cpuArrays + <usize>cpus * cpuArraysSize;
  decodeCache = align(systemCache + <usize>scBytes, 64);
  cachePages = decodeCache + <usize>DECODE_ENTRIES * DECODE_ENTRY_SIZE;
  ramHostBase = align(<usize>end64, 4096);
  if (!ensureMemory(ramHostBase)) return INIT_ERR_MEMORY;
  clearWhatWasUsed();
  codeReset();

  setMachineShape(cpus, microEntries, feat);
  setCacheGeometry(caches, <usize>l1Offset, l1Sets, l1Ways, scSets, scWays, (feat & FEATURE_STALE_READS) != 0);
  if (feat & (FEATURE_DETECT | FEATURE_CHAOS)) disableMicro();
  ramSetMaxPhysAddr(maxPhys);
  ramReset();
  detectorReset();
  annotReset();
  for (let cpu: u32 = 0; cpu < cpus; cpu++) {
    select(cpu);
    for (let s: u32 = 0; s < STRUCT_COUNT; s++) {
      const d = C + CPU_STRUCTS + <usize>s * DESC_SIZE;
      store<u32>(d, <u32>(A + <usize>load<u32>(bases + (s << 2))), DESC_BASE);
      store<u32>(d, load<u32>(cfgBase + CFG_SETS + (s << 2)) - 1, DESC_SET_MASK);
      store<u32>(d, load<u32>(cfgBase + CFG_WAYS + (s << 2)), DESC_WAYS);
      store<u32>(d, <u32>((STRUCT_SHIFTS >> (s * 8)) & 0xFF), DESC_SHIFT);
      store<u32>(d, <u32>(A + <usize>load<u32>(srcs + (s << 2))), DESC_SRC);
      store<u32>(d, load<u32>(cfgBase + CFG_WAYS + (s << 2)) * ENTRY_SIZE, DESC_SET_BYTES);
    }
    resetCpuState(cpu);
  }
  gicReset();
  return INIT_OK;
}

/**
 * Makes the memory below ramHostBase as a fresh module has it, on a module
 * that may have run a machine before (the host reuses modules: cheap runs).
 * Memory.grow hands out zeroed pages, so a fresh module has nothing to do.
 * The structures the last init() laid out (to the usage record's end) are
 * zeroed whole; RAM pages the new structures cover are zeroed where they were
 * written (phys/pages.ts); RAM above ramHostBase is ramAdd's to zero.
 */
function clearWhatWasUsed(): void {
  const endBefore = <usize>load<u32>(usageRecord, USAGE_STRUCT_END);
  if (endBefore != 0) {
    // The RAM table, the event ring and the GIC.
    memory.fill(ramTable, 0, pageState - ramTable);
    const whole = endBefore < ramHostBase ? endBefore : ramHostBase;
    memory.fill(cpuBlocks, 0, whole - cpuBlocks);
    pagesZeroWritten(whole, ramHostBase);
  }
  // Structures are not tracked page by page: they count as written, so that
  // RAM laid over them later is zeroed.
  pagesSetWritten(cpuBlocks, ramHostBase);
  store<u32>(usageRecord, <u32>ramHostBase, USAGE_STRUCT_END);
}

/**
 * Registers to their reset values, counters zero, TLBs empty. The TLBs are
 * emptied as a flush empties them, by raising every floor past every stamp,
 * so a reset costs no time in the size of the TLBs.
 */
function resetCpuState(cpu: u32): void {
  select(cpu);
  const clock = load<u32>(C + CPU_CLOCK);
  const epoch = load<u32>(C + CPU_MICRO_EPOCH);
  memory.fill(C, 0, CPU_STRUCTS);
  memory.fill(C + CPU_COUNTERS, 0, COUNTER_COUNT * 8);
  store<u64>(C + CPU_PAT, PAT_RESET);
  store<u32>(C + CPU_CLOCK, clock);
  store<u32>(C + CPU_MICRO_EPOCH, epoch);
  mapClear();
  flushAll();
  prngSeed(load<u64>(cfgBase + CFG_CHAOS_SEED), cpu);
  chaosRearm();
  if (arch == ARCH_AARCH64) {
    a64ExecReset(cpu);
    armSyncDerivedState();
  } else {
    syncDerivedState();
    x86ExecReset(cpu);
  }
}

export function cpuReset(cpu: u32): void {
  resetCpuState(cpu);
}

export function cpuBlock(cpu: u32): usize {
  return cpuBlocks + <usize>cpu * CPU_SIZE;
}

export function regionRamTable(): usize {
  return ramTable;
}

export function regionEvents(): usize {
  return eventRing;
}

/** Changes MAXPHYADDR; forgets all RAM. */
export function setMaxPhysAddr(bits: u32): u32 {
  if (bits < 32 || bits > 52) return INIT_ERR_MAXPHYADDR;
  ramSetMaxPhysAddr(bits);
  ramReset();
  if (arch == ARCH_X86_64) rebuildWalkParamsAll();
  return INIT_OK;
}

/** Host offset of guest-physical [pa, pa+len) for the host's own views, or -1. */
export function ramHost(pa: u64, len: u32): i64 {
  return physHostSlow(pa, len);
}

/** The host wrote [host, host+len) of linear memory (guest RAM): decoded instructions from there are stale. */
export function hostWrote(host: usize, len: u32): void {
  if (len == 0 || host < ramHostBase) return;
  for (let page = host & ~<usize>0xFFF; page < host + len; page += 4096) checkCodeWrite(page, 1);
}

/**
 * The host zeroes [host, host+len) of guest RAM (a hypervisor clearing or
 * scrubbing frames): the same as writing zeros and calling hostWrote, except
 * that a page still marked all zeros (phys/pages.ts) is left alone, so a
 * domain builder clearing the fresh frames of a new domain touches nothing.
 */
export function hostZero(host: usize, len: u32): void {
  if (len == 0) return;
  const end = host + len;
  if (host < ramHostBase) {
    memory.fill(host, 0, len);
    return;
  }
  for (let page = host & ~<usize>0xFFF; page < end; page += 4096) {
    if (!pageWritten(page)) continue;
    const from = page > host ? page : host;
    const to = page + 4096 < end ? page + 4096 : end;
    memory.fill(from, 0, to - from);
    checkCodeWrite(page, 1);
  }
}

/**
 * For tests of the page states (phys/pages.ts): the host address of the first
 * RAM page marked all zeros that is not, or 0 when every such page is zero.
 */
export function ramCheckZeroPages(): usize {
  return pagesCheckZero(ramHostBase, ramHostEnd());
}

/**
 * A 64-bit FNV-1a hash of the machine's architectural state: every CPU's
 * registers and counters of instructions and cycles, and all of RAM. Two
 * runs that did the same thing have the same hash.
 */
export function stateHash(): u64 {
  let h: u64 = 0xCBF29CE484222325;
  for (let cpu: u32 = 0; cpu < cpuCount; cpu++) {
    select(cpu);
    if (arch == ARCH_AARCH64) {
      // The MMU's registers, then the A64 registers up to (not including) the exit record.
      h = hashBytes(h, C + CPU_ARM, ARM_REG_COUNT * 8);
      h = hashBytes(h, C + CPU_A64, A64_EXIT_REASON - CPU_A64);
      continue;
    }
    // Architectural state only: the registers, the instruction and cycle
    // counts and the local APIC. Not the lazy-flags record (the caller has
    // worked the flags out into RFLAGS), the last exit's record, an event
    // in delivery, or the fetch window, which is the emulator's own cache
    // (the missing-invalidation detector changes when it is refilled).
    h = hashBytes(h, C + CPU_CR0, 64);
    h = hashBytes(h, C + X86_GPR, X86_LAZY_RES - X86_GPR);
    h = hashBytes(h, C + X86_CPL, X86_EXIT_REASON - X86_CPL);
    h = hashBytes(h, C + X86_APIC_ID, X86_EVENTS - X86_APIC_ID);
  }
  return hashRam(h);
}

@inline function hashBytes(hIn: u64, at: usize, n: usize): u64 {
  let h = hIn;
  for (let i: usize = 0; i + 8 <= n; i += 8) {
    h = (h ^ load<u64>(at + i)) * 0x100000001B3;
  }
  for (let i: usize = n & ~<usize>7; i < n; i++) h = (h ^ <u64>load<u8>(at + i)) * 0x100000001B3;
  return h;
}

// ── Benchmark loops (run by bench/, never by tests for timing) ──────────────

/** The baseline: `count` plain loads over the same pattern of offsets from a host address. */
export function benchLoad(host: usize, lgPages: u32, count: u32): u64 {
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) sum += load<u64>(host + <usize>benchOffset(i, lgPages));
  return sum;
}

// ── 64-bit interop probes (bench/ measures bigint against the `long` package) ─

let echoHigh: u32 = 0;

/** An i64 crossing the boundary as a JavaScript bigint, both ways. */
export function i64Echo(x: u64): u64 {
  return x + 1;
}

/** The same value as two u32 halves, as the `long` package would pass it. */
export function i64EchoParts(lo: u32, hi: u32): u32 {
  const x = ((<u64>hi << 32) | lo) + 1;
  echoHigh = <u32>(x >> 32);
  return <u32>x;
}

export function i64EchoHigh(): u32 {
  return echoHigh;
}
