// SPDX-License-Identifier: MIT
//
// Chaos eviction: with FEATURE_CHAOS on, every translation counts down a
// per-CPU timer drawn from the seeded generator, and when it expires one
// random live entry of the TLBs or paging-structure caches is dropped. The
// architecture allows a TLB to forget anything at any time; software that
// relied on an entry staying is caught by this.

import { C, count } from "../cpu";
import { CPU_CHAOS_COUNT, CNT_CHAOS_EVICT, STRUCT_COUNT, cfgBase, CFG_CHAOS_MEAN } from "../layout";
import { prngBelow } from "../common/prng";
import { structEntries, structEntry, entryLive, killEntry } from "./structure";

/** Draws the number of translations until the next eviction: uniform in [1, 2·mean]. */
export function chaosRearm(): void {
  const mean = load<u32>(cfgBase + CFG_CHAOS_MEAN);
  store<u32>(C + CPU_CHAOS_COUNT, 1 + prngBelow(mean < 1 ? 2 : mean * 2));
}

export function chaosTick(): void {
  const left = load<u32>(C + CPU_CHAOS_COUNT);
  if (left > 1) {
    store<u32>(C + CPU_CHAOS_COUNT, left - 1);
    return;
  }
  chaosRearm();
  let total: u32 = 0;
  for (let s: u32 = 0; s < STRUCT_COUNT; s++) total += structEntries(s);
  // From a random slot, the first live entry onwards (wrapping): a mostly
  // empty TLB still loses something, and an empty one loses nothing.
  let pick = prngBelow(total);
  for (let tried: u32 = 0; tried < total; tried++, pick = pick + 1 == total ? 0 : pick + 1) {
    let index = pick;
    let s: u32 = 0;
    while (index >= structEntries(s)) {
      index -= structEntries(s);
      s++;
    }
    const e = structEntry(s, index);
    if (!entryLive(s, e)) continue;
    killEntry(s, e);
    count(CNT_CHAOS_EVICT);
    return;
  }
}
