// SPDX-License-Identifier: MIT
//
// The one memory map of the hardware module. Every region's offset is computed
// here from the one before it and exported; the TypeScript side builds its
// views from these exports and never from literals.
//
//   ┌────────────────────────────────────────┐ 0
//   │ AssemblyScript static data             │
//   ├────────────────────────────────────────┤ __heap_base, rounded up to 64
//   │ config block         CFG_SIZE          │ written by the host before init()
//   ├────────────────────────────────────────┤ ramTable
//   │ RAM ranges   MAX_RAM_RANGES × RANGE_SIZE│ sorted by guest-physical base
//   ├────────────────────────────────────────┤ eventRing
//   │ events       EVENT_CAPACITY × EVENT_SIZE│ missing-invalidation reports
//   ├────────────────────────────────────────┤ cpuBlocks
//   │ CPU blocks   cpus × CPU_SIZE           │ registers, result, counters …
//   ├────────────────────────────────────────┤ cpuArrays
//   │ per-CPU arrays cpus × cpuArraysSize    │ PCID floors, micro-TLB, TLBs,
//   │                                        │ paging-structure caches, sources
//   ├────────────────────────────────────────┤ ramHostBase
//   │ guest RAM, bump-allocated per range    │ grows with memory.grow
//   └────────────────────────────────────────┘
//
// Nothing here allocates through the AssemblyScript runtime: the module is
// built with the stub runtime and a test checks that no allocation function
// survives in the compiled code.

// ── Config block (host writes, init() reads) ─────────────────────────────────
export const CFG_CPUS: u32 = 0;
export const CFG_ARCH: u32 = 4;
export const CFG_MAXPHYADDR: u32 = 8;
export const CFG_FEATURES: u32 = 12;
/** u32 sets per structure, indexed by STRUCT_* (power of two). */
export const CFG_SETS: u32 = 16;
/** u32 ways per structure, indexed by STRUCT_*. */
export const CFG_WAYS: u32 = 48;
export const CFG_MICRO_ENTRIES: u32 = 80;
export const CFG_CHAOS_MEAN: u32 = 84;
export const CFG_CHAOS_SEED: u32 = 88;
export const CFG_SIZE: u32 = 128;

export const ARCH_X86_64: u32 = 1;
export const ARCH_AARCH64: u32 = 2;

/** Does the CPU support 1 GiB pages (CPUID.80000001H:EDX.Page1GB)? */
export const FEATURE_PAGE1GB: u32 = 1 << 0;
/** Does every TLB entry remember its source descriptors (missing-invalidation detector)? */
export const FEATURE_DETECT: u32 = 1 << 1;
/** Does the TLB drop entries at random (seeded chaos eviction)? */
export const FEATURE_CHAOS: u32 = 1 << 2;

// ── Translation structures, each a set-associative array of ENTRY_SIZE entries ─
export const STRUCT_TLB_4K: u32 = 0;
export const STRUCT_TLB_2M: u32 = 1;
export const STRUCT_TLB_1G: u32 = 2;
/** Paging-structure caches, named by the level of the entry they hold (SDM Vol.3 4.10.3). */
export const STRUCT_PSC_PDE: u32 = 3;
export const STRUCT_PSC_PDPTE: u32 = 4;
export const STRUCT_PSC_PML4E: u32 = 5;
export const STRUCT_PSC_PML5E: u32 = 6;
export const STRUCT_COUNT: u32 = 7;

// ── Fixed capacities ─────────────────────────────────────────────────────────
export const MAX_CPUS: u32 = 64;
export const MAX_RAM_RANGES: u32 = 1024;
/** RAM range record: base u64, size u64, host offset u64. */
export const RANGE_SIZE: u32 = 24;
export const EVENT_CAPACITY: u32 = 1024;
export const EVENT_SIZE: u32 = 64;
export const PCID_COUNT: u32 = 4096;

// ── CPU block ────────────────────────────────────────────────────────────────
//
//   0 CR0  8 CR2  16 CR3  24 CR4  32 EFER  40 RFLAGS  48 IA32_PAT  56 PKRU(u32)
//  64 result: PA u64, 72 info u64 (same packing as a micro-TLB data word)
//  80 fault: kind u32, 84 error code u32, 88 address u64, 96 level u32
// 100 TLB clock u32, 104 floorAll, 108 floorNonGlobal, 112 curFloor,
// 116 curPscFloor, 120 curPcid, 124 microEpoch (all u32)
// 128 chaos countdown u32, 132 AC kind bit u32, 136 PRNG state u64
// 144 latest fills: TLB u32, global TLB u32, paging-structure cache u32
// 160 structure descriptors STRUCT_COUNT × DESC_SIZE
// 384 counters COUNTER_COUNT × u64
// 640 walk scratch: source count u32 + 5 × (PA u64, value u64)
// 736 allow table: 32 access kinds × 256 bits
// 1760 reserved-bit masks: u64 × (level 0..5) × (PS 0, 1)
// 1856 walk trace: (PA u64, descriptor u64) × level 0..5, what the walk read
// 1952 paging mode: levels of the walk (4 or 5) u32
export const CPU_CR0: u32 = 0;
export const CPU_CR2: u32 = 8;
export const CPU_CR3: u32 = 16;
export const CPU_CR4: u32 = 24;
export const CPU_EFER: u32 = 32;
export const CPU_RFLAGS: u32 = 40;
export const CPU_PAT: u32 = 48;
export const CPU_PKRU: u32 = 56;
export const CPU_RES_PA: u32 = 64;
export const CPU_RES_INFO: u32 = 72;
export const CPU_FAULT_KIND: u32 = 80;
export const CPU_FAULT_CODE: u32 = 84;
export const CPU_FAULT_ADDR: u32 = 88;
export const CPU_FAULT_LEVEL: u32 = 96;
export const CPU_CLOCK: u32 = 100;
export const CPU_FLOOR_ALL: u32 = 104;
export const CPU_FLOOR_NG: u32 = 108;
export const CPU_CUR_FLOOR: u32 = 112;
export const CPU_CUR_PSC_FLOOR: u32 = 116;
export const CPU_CUR_PCID: u32 = 120;
export const CPU_MICRO_EPOCH: u32 = 124;
export const CPU_CHAOS_COUNT: u32 = 128;
/**
 * Clock of the latest fill of a non-global TLB entry, of a global one, and of a
 * paging-structure-cache entry: a probe skips structures that a flush has
 * emptied since.
 */
export const CPU_TLB_LAST_FILL: u32 = 144;
export const CPU_TLB_LAST_GLOBAL_FILL: u32 = 148;
export const CPU_PSC_LAST_FILL: u32 = 152;
export const CPU_AC_KIND: u32 = 132;
export const CPU_PRNG: u32 = 136;
export const CPU_STRUCTS: u32 = 160;
export const CPU_COUNTERS: u32 = 384;
export const CPU_WALK_SRC: u32 = 640;
export const CPU_ALLOW: u32 = 736;
export const CPU_RSVD: u32 = 1760;
export const CPU_WALK_TRACE: u32 = 1856;
export const CPU_WALK_TOP: u32 = 1952;
export const CPU_SIZE: u32 = 1984;

/** Structure descriptor: base, set mask, ways, lg of the region an entry maps, sources base (u32 each). */
export const DESC_BASE: u32 = 0;
export const DESC_SET_MASK: u32 = 4;
export const DESC_WAYS: u32 = 8;
export const DESC_SHIFT: u32 = 12;
export const DESC_SRC: u32 = 16;
export const DESC_SIZE: u32 = 32;

// ── Counters (u64 each, per CPU) ─────────────────────────────────────────────
export const CNT_TLB_HIT: u32 = 0;
export const CNT_TLB_MISS: u32 = 1;
export const CNT_WALK_READ: u32 = 2;
export const CNT_PSC_HIT: u32 = 3;
export const CNT_PAGE_FAULT: u32 = 4;
export const CNT_INVLPG: u32 = 5;
export const CNT_INVPCID_ADDR: u32 = 6;
export const CNT_INVPCID_SINGLE: u32 = 7;
export const CNT_INVPCID_ALL_GLOBAL: u32 = 8;
export const CNT_INVPCID_ALL: u32 = 9;
export const CNT_CR3_FLUSH: u32 = 10;
export const CNT_CR3_NOFLUSH: u32 = 11;
export const CNT_FLUSH_ALL: u32 = 12;
export const CNT_FLUSH_PCID: u32 = 13;
export const CNT_FAULT_INVAL: u32 = 14;
export const CNT_EVICT: u32 = 15;
export const CNT_CHAOS_EVICT: u32 = 16;
export const CNT_AD_WRITE: u32 = 17;
export const CNT_STALE_USE: u32 = 18;
export const CNT_BUS_ERROR: u32 = 19;
export const CNT_DIRTY_REWALK: u32 = 20;
export const COUNTER_COUNT: u32 = 32;

// ── Entry of every translation structure (TLB and paging-structure cache) ─────
//
//   0 tag u64    VA of the region's base (canonical; low `shift` bits clear)
//   8 out u64    TLB: frame PA | info bits (as the micro-TLB data word);
//                PSC: next table's PA
//  16 stamp u32  TLB clock at fill; the entry is live while stamp >= its floor
//  20 pcid u16   22 attrs u8 (ATTR_*)   23 flags u8 (EF_*)
//                (bytes 16..23 are written by a fill as one u64)
//  24 victim u32 (way 0 only: the set's next victim)   28 spare
export const ENTRY_SIZE: u32 = 32;
export const E_TAG: u32 = 0;
export const E_OUT: u32 = 8;
export const E_STAMP: u32 = 16;
export const E_PCID: u32 = 20;
export const E_ATTRS: u32 = 22;
export const E_FLAGS: u32 = 23;
export const E_VICTIM: u32 = 24;

/** Is this TLB entry global (G=1 with CR4.PGE=1 when filled)? */
export const EF_GLOBAL: u8 = 1;
/** Has the detector already reported this entry as stale? */
export const EF_REPORTED: u8 = 2;

/** Detector sources per entry: count u32 (+pad), then 5 × (PA u64, value u64). */
export const SRC_SIZE: u32 = 96;
export const SRC_MAX: u32 = 5;

// ── Micro-TLB entry (16 bytes): tag = VA page | epoch (12 bits); data word ─────
//
//  data: bits 51:12 frame PA of this 4 KiB fragment, 7:0 ATTR_*,
//        10:8 PAT index, 11 global, 53:52 page size (0 4K, 1 2M, 2 1G)
export const MICRO_ENTRY_SIZE: u32 = 16;
export const INFO_PAT_SHIFT: u32 = 8;
export const INFO_GLOBAL: u64 = 1 << 11;
export const INFO_SIZE_SHIFT: u32 = 52;

// ── Event record ─────────────────────────────────────────────────────────────
//   0 kind u32  4 cpu u32  8 va u64  16 source PA u64  24 cached value u64
//  32 current value u64  40 level u32  44 pcid u32  48 sequence u64
export const EVENT_STALE_TLB: u32 = 1;
export const EVENT_STALE_PSC: u32 = 2;

// ── Region bases, set by init() ──────────────────────────────────────────────
export let cfgBase: usize = 0;
export let ramTable: usize = 0;
export let eventRing: usize = 0;
export let cpuBlocks: usize = 0;
export let cpuArrays: usize = 0;
export let cpuArraysSize: usize = 0;
export let ramHostBase: usize = 0;

@inline export function align(x: usize, a: usize): usize {
  return (x + a - 1) & ~(a - 1);
}

/** Places the config block; called once when the module starts. */
export function layoutConfig(): void {
  cfgBase = align(__heap_base, 64);
  ramTable = cfgBase + CFG_SIZE;
  eventRing = ramTable + MAX_RAM_RANGES * RANGE_SIZE;
  cpuBlocks = eventRing + EVENT_CAPACITY * EVENT_SIZE;
}

/** Makes sure linear memory reaches `end`; false when it cannot grow. */
export function ensureMemory(end: usize): bool {
  const have = <usize>memory.size() << 16;
  if (end <= have) return true;
  const pages = <i32>((end - have + 0xFFFF) >> 16);
  return memory.grow(pages) >= 0;
}
