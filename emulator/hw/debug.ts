// SPDX-License-Identifier: MIT
//
// What the step debugger (emulator/debug/) reads of the translation
// structures and caches. Neither export is a hot path, and neither
// allocates: the records they describe already sit in the module's memory
// (a TLB entry is ENTRY_SIZE bytes at DESC_BASE + index · ENTRY_SIZE, laid
// out as layout.ts draws it; a cache line is LINE_REC bytes), so the host
// reads them in place. What the host cannot work out by itself, because it
// depends on the generation floors and the scoped-floor map, is whether an
// entry is still live: tlbEntriesLive answers that for 32 entries per call.

import { select, desc } from "./cpu";
import { DESC_WAYS, DESC_SET_MASK, STRUCT_COUNT } from "./layout";
import { entryLive, structEntry } from "./tlb/structure";
import { cacheLineRecord } from "./arm/cache";

/**
 * Liveness of entries first … first+31 of a structure of CPU `cpu`, one bit
 * each (bit i for entry first+i), under the floors as they are now: the
 * entries a probe in the entry's own context would still hit. Entries past
 * the end of the structure read as 0.
 */
export function tlbEntriesLive(cpu: u32, structure: u32, first: u32): u32 {
  if (structure >= STRUCT_COUNT) return 0;
  select(cpu);
  const d = desc(structure);
  const total = (load<u32>(d, DESC_SET_MASK) + 1) * load<u32>(d, DESC_WAYS);
  let bits: u32 = 0;
  for (let i: u32 = 0; i < 32; i++) {
    const index = first + i;
    if (index >= total) break;
    if (entryLive(structure, structEntry(structure, index))) bits |= <u32>1 << i;
  }
  return bits;
}

/**
 * The address in linear memory of a data-cache line record (tag u64 with
 * the line PA | valid 1 | dirty 2, victim u64, data 64 bytes): CPU `cpu`'s
 * L1, or the system cache when cpu is 0xFFFFFFFF; 0 when caches are off or
 * the set or way is out of range.
 */
export function cacheLine(cpu: u32, set: u32, way: u32): usize {
  return cacheLineRecord(cpu, set, way);
}
