// SPDX-License-Identifier: MIT
//
// Per-CPU counters, as the hardware module keeps them (CNT_* in
// emulator/hw/layout.ts), under readable names.

import type { Layout } from "./layout.ts";

export interface Counters {
  tlbHits: bigint;
  tlbMisses: bigint;
  /** TLB misses plus Dirty (or DBM) re-walks. */
  walks: bigint;
  /** Descriptor reads of every walk, stage 2 included. */
  walkReads: bigint;
  /** Descriptor reads of stage-2 walks (EPT or Arm stage 2). */
  stage2WalkReads: bigint;
  stage2TlbHits: bigint;
  pagingStructureCacheHits: bigint;
  pageFaults: bigint;
  invlpg: bigint;
  invpcidAddress: bigint;
  invpcidSingleContext: bigint;
  invpcidAllIncludingGlobal: bigint;
  invpcidAllExcludingGlobal: bigint;
  cr3Flush: bigint;
  cr3NoFlush: bigint;
  flushAll: bigint;
  flushPcid: bigint;
  invept: bigint;
  invvpid: bigint;
  tlbi: bigint;
  tlbiReceived: bigint;
  faultInvalidations: bigint;
  evictions: bigint;
  chaosEvictions: bigint;
  accessedDirtyWrites: bigint;
  staleUses: bigint;
  busErrors: bigint;
  dirtyRewalks: bigint;
  floorMapOverflows: bigint;
  cacheHits: bigint;
  cacheMisses: bigint;
  cacheWritebacks: bigint;
  dcSetWay: bigint;
  dcByAddress: bigint;
  uncachedAccesses: bigint;
  icInvalidations: bigint;
  /** x86 CPU: exceptions and interrupts delivered, IPIs sent and taken, exits to the host. */
  exceptions: bigint;
  interrupts: bigint;
  ipisSent: bigint;
  ipisTaken: bigint;
  ioExits: bigint;
  hltExits: bigint;
  vmcallExits: bigint;
  /** Decoded-instruction cache misses, and flushes after writes to code. */
  decodes: bigint;
  codeWriteFlushes: bigint;
}

const NAMES: [Exclude<keyof Counters, "walks">, keyof Layout][] = [
  ["tlbHits", "CNT_TLB_HIT"],
  ["tlbMisses", "CNT_TLB_MISS"],
  ["walkReads", "CNT_WALK_READ"],
  ["stage2WalkReads", "CNT_S2_WALK_READ"],
  ["stage2TlbHits", "CNT_S2_TLB_HIT"],
  ["pagingStructureCacheHits", "CNT_PSC_HIT"],
  ["pageFaults", "CNT_PAGE_FAULT"],
  ["invlpg", "CNT_INVLPG"],
  ["invpcidAddress", "CNT_INVPCID_ADDR"],
  ["invpcidSingleContext", "CNT_INVPCID_SINGLE"],
  ["invpcidAllIncludingGlobal", "CNT_INVPCID_ALL_GLOBAL"],
  ["invpcidAllExcludingGlobal", "CNT_INVPCID_ALL"],
  ["cr3Flush", "CNT_CR3_FLUSH"],
  ["cr3NoFlush", "CNT_CR3_NOFLUSH"],
  ["flushAll", "CNT_FLUSH_ALL"],
  ["flushPcid", "CNT_FLUSH_PCID"],
  ["invept", "CNT_INVEPT"],
  ["invvpid", "CNT_INVVPID"],
  ["tlbi", "CNT_TLBI"],
  ["tlbiReceived", "CNT_TLBI_RECEIVED"],
  ["faultInvalidations", "CNT_FAULT_INVAL"],
  ["evictions", "CNT_EVICT"],
  ["chaosEvictions", "CNT_CHAOS_EVICT"],
  ["accessedDirtyWrites", "CNT_AD_WRITE"],
  ["staleUses", "CNT_STALE_USE"],
  ["busErrors", "CNT_BUS_ERROR"],
  ["dirtyRewalks", "CNT_DIRTY_REWALK"],
  ["floorMapOverflows", "CNT_FLOOR_MAP_OVERFLOW"],
  ["cacheHits", "CNT_CACHE_HIT"],
  ["cacheMisses", "CNT_CACHE_MISS"],
  ["cacheWritebacks", "CNT_CACHE_WRITEBACK"],
  ["dcSetWay", "CNT_DC_SETWAY"],
  ["dcByAddress", "CNT_DC_VA"],
  ["uncachedAccesses", "CNT_UNCACHED"],
  ["icInvalidations", "CNT_IC_INVAL"],
  ["exceptions", "CNT_EXCEPTION"],
  ["interrupts", "CNT_INTERRUPT"],
  ["ipisSent", "CNT_IPI_SENT"],
  ["ipisTaken", "CNT_IPI_TAKEN"],
  ["ioExits", "CNT_EXIT_IO"],
  ["hltExits", "CNT_EXIT_HLT"],
  ["vmcallExits", "CNT_EXIT_VMCALL"],
  ["decodes", "CNT_DECODE"],
  ["codeWriteFlushes", "CNT_SMC_FLUSH"],
];

/** Every counter of a CPU, from a view of its CPU block. */
export function readCounters(cpuBlock: DataView, layout: Layout): Counters {
  const out = {} as Counters;
  for (const [name, constant] of NAMES) {
    out[name] = cpuBlock.getBigUint64(layout.CPU_COUNTERS + 8 * layout[constant], true);
  }
  // Every walk is either a TLB miss or a Dirty/DBM re-walk.
  out.walks = out.tlbMisses + out.dirtyRewalks;
  return out;
}
