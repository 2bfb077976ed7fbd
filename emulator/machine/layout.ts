// SPDX-License-Identifier: MIT
//
// The hardware module's memory map, read from its exports (emulator/hw/layout.ts
// defines it once; nothing here repeats an offset as a literal).

import { constant, type HwExports } from "./wasm.ts";

const NAMES = [
  "CFG_CPUS", "CFG_ARCH", "CFG_MAXPHYADDR", "CFG_FEATURES", "CFG_SETS", "CFG_WAYS", "CFG_MICRO_ENTRIES",
  "CFG_CHAOS_MEAN", "CFG_CHAOS_SEED", "CFG_SIZE",
  "ARCH_X86_64", "ARCH_AARCH64", "FEATURE_PAGE1GB", "FEATURE_DETECT", "FEATURE_CHAOS",
  "STRUCT_TLB_4K", "STRUCT_TLB_2M", "STRUCT_TLB_1G", "STRUCT_PSC_PDE", "STRUCT_PSC_PDPTE", "STRUCT_PSC_PML4E",
  "STRUCT_PSC_PML5E", "STRUCT_COUNT",
  "MAX_CPUS", "MAX_RAM_RANGES", "RANGE_SIZE", "EVENT_CAPACITY", "EVENT_SIZE", "PCID_COUNT",
  "CPU_CR0", "CPU_CR2", "CPU_CR3", "CPU_CR4", "CPU_EFER", "CPU_RFLAGS", "CPU_PAT", "CPU_PKRU",
  "CPU_RES_PA", "CPU_RES_INFO", "CPU_FAULT_KIND", "CPU_FAULT_CODE", "CPU_FAULT_ADDR", "CPU_FAULT_LEVEL",
  "CPU_COUNTERS", "CPU_SIZE", "COUNTER_COUNT", "CPU_WALK_TRACE", "CPU_WALK_TOP",
  "CNT_TLB_HIT", "CNT_TLB_MISS", "CNT_WALK_READ", "CNT_PSC_HIT", "CNT_PAGE_FAULT", "CNT_INVLPG",
  "CNT_INVPCID_ADDR", "CNT_INVPCID_SINGLE", "CNT_INVPCID_ALL_GLOBAL", "CNT_INVPCID_ALL", "CNT_CR3_FLUSH",
  "CNT_CR3_NOFLUSH", "CNT_FLUSH_ALL", "CNT_FLUSH_PCID", "CNT_FAULT_INVAL", "CNT_EVICT", "CNT_CHAOS_EVICT",
  "CNT_AD_WRITE", "CNT_STALE_USE", "CNT_BUS_ERROR", "CNT_DIRTY_REWALK",
  "INFO_PAT_SHIFT", "INFO_SIZE_SHIFT", "EVENT_STALE_TLB", "EVENT_STALE_PSC",
  "INIT_OK", "INIT_ERR_CPUS", "INIT_ERR_MAXPHYADDR", "INIT_ERR_GEOMETRY", "INIT_ERR_MICRO", "INIT_ERR_MEMORY",
  "INIT_ERR_ARCH",
] as const;

export type LayoutName = (typeof NAMES)[number];
export type Layout = Readonly<Record<LayoutName, number>>;

let cached: Layout | undefined;

/** The memory map; identical for every instance of the module. */
export function layoutOf(hw: HwExports): Layout {
  if (cached) return cached;
  const out: Partial<Record<LayoutName, number>> = {};
  for (const name of NAMES) out[name] = constant(hw, name);
  cached = out as Layout;
  return cached;
}
