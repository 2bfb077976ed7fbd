// SPDX-License-Identifier: MIT
//
// Per-CPU counters, as the hardware module keeps them (CNT_* in
// emulator/hw/layout.ts), under the names their @counter tags give them.

import type { Layout } from "./layout.ts";
import { COUNTER_INDEX, type HwCounters } from "../../generated/hw-exports.ts";

/**
 * A CPU's counters: each CNT_* counter of the hardware module under the name
 * its @counter tag in emulator/hw/layout.ts gives it (HwCounters, generated at
 * build time), and what follows from them.
 */
export interface Counters extends HwCounters {
  /** TLB misses plus Dirty (or DBM) re-walks. */
  walks: bigint;
}

/** Every counter of a CPU, from a view of its CPU block. */
export function readCounters(cpuBlock: DataView, layout: Layout): Counters {
  const out = {} as Counters;
  for (const [name, constant] of Object.entries(COUNTER_INDEX) as [keyof HwCounters, keyof Layout][]) {
    out[name] = cpuBlock.getBigUint64(layout.CPU_COUNTERS + 8 * layout[constant], true);
  }
  // Every walk is either a TLB miss or a Dirty/DBM re-walk.
  out.walks = out.tlbMisses + out.dirtyRewalks;
  return out;
}
