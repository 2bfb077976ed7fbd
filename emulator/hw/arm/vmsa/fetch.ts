// SPDX-License-Identifier: MIT
//
// Descriptor access of the AArch64 walks, stage 1 and stage 2: the one place
// a walk reads a translation table descriptor or writes one back (the Arm
// ARM's AArch64.FetchDescriptor and the hardware update of
// AArch64.MemSwapTableDesc; QEMU's arm_ldq_ptw and arm_casq_ptw).
//
// Here and nowhere else:
//   - the stage-2 translation of a stage-1 table address when HCR_EL2.VM=1
//     (every table address of a stage-1 walk is then an IPA, and a fault on
//     it is a stage-2 fault with S1PTW set);
//   - the read itself, through the data caches when they are modelled (the
//     walk sees what the caches hold, as the model's walks always have);
//   - the hardware Access flag and dirty-state write-back, which for a
//     stage-1 descriptor under stage 2 is a stage-2 write to its IPA;
//   - the counters of descriptor reads (CNT_WALK_READ, CNT_S2_WALK_READ) and
//     hardware updates (CNT_AD_WRITE), and the missing-invalidation
//     detector's record of the descriptors a walk used.
//
// A stage-1 walk learns the PA of the next table before it reads from it:
// its walk caches hold that PA (the table's address through stage 2), filled
// between the two. So the stage-2 translation of a table address is a step of
// its own (s1TableAddress), which the walk takes for each table it enters and
// then reads from the result.
//
// A read counts whether or not there is RAM behind it (a read that finds
// none is the external abort on the walk); nothing is counted or recorded
// when peeking.

import { count, features } from "../../cpu";
import { CNT_WALK_READ, CNT_S2_WALK_READ, CNT_AD_WRITE, FEATURE_DETECT, SRC_STAGE2 } from "../../layout";
import { physHost, physWrite64 } from "../../phys/ram";
import { ramWritten } from "../code-write";
import { cachesOn, coherentRead64, coherentWrite64 } from "../cache";
import { MODE_PEEK, XLATE_FAILED } from "../../tlb/micro";
import { walkSrcPush, walkSrcUpdateLast } from "../../common/detector";
import { fetchAbort } from "../../common/fetch-abort";
import { s2Translate, S2_READ, S2_WRITE } from "./stage2";

export { fetchAborted } from "../../common/fetch-abort";

/**
 * Reads the descriptor at PA descPa, of a stage-1 walk or (stage2) a stage-2
 * walk, at `level`. When no RAM is there it returns 0, an invalid
 * descriptor, and the walker, on its path for invalid descriptors, learns
 * from fetchAborted() that this is an external abort on the walk instead.
 */
@inline export function fetchDescriptor(descPa: u64, level: u32, stage2: bool, mode: u32): u64 {
  const peek = (mode & MODE_PEEK) != 0;
  if (!peek) {
    count(CNT_WALK_READ);
    if (stage2) count(CNT_S2_WALK_READ);
  }
  const host = physHost(descPa, 8);
  if (host < 0) return fetchAbort();
  const desc = cachesOn ? coherentRead64(descPa) : load<u64>(<usize>host);
  if (!peek && (features & FEATURE_DETECT)) walkSrcPush(descPa, desc, stage2 ? level | SRC_STAGE2 : level);
  return desc;
}


/**
 * The PA of a stage-1 descriptor at IPA descIpa (HCR_EL2.VM=1): a stage-2
 * read on behalf of va's walk (S1PTW). The PA, or XLATE_FAILED with the
 * stage-2 fault recorded.
 */
@inline export function s1TableAddress(descIpa: u64, va: u64, mode: u32): u64 {
  return s2Translate(descIpa, S2_READ, true, va, mode);
}

/**
 * Writes back a stage-2 descriptor, or a stage-1 descriptor without stage 2,
 * whose Access flag or dirty state the walk set.
 */
export function writeDescriptor(descPa: u64, value: u64, stage2: bool): void {
  if (cachesOn) coherentWrite64(descPa, value);
  else {
    const h = physHost(descPa, 8);
    if (h >= 0) ramWritten(<usize>h, descPa, 8);
    physWrite64(descPa, value);
  }
  count(CNT_AD_WRITE);
  // A stage-1 walk records its leaf last; the detector keeps the value the
  // walk left there. (A stage-2 leaf's record keeps the value it read.)
  if (!stage2 && (features & FEATURE_DETECT)) walkSrcUpdateLast(value);
}

/**
 * writeDescriptor for a stage-1 descriptor at IPA descIpa under stage 2: the
 * hardware update is a stage-2 write to that IPA (S1PTW), which may fault.
 * 0, or XLATE_FAILED with the stage-2 fault recorded and nothing written.
 */
export function writeS1DescriptorNested(descPa: u64, descIpa: u64, value: u64, va: u64, mode: u32): u64 {
  const check = s2Translate(descIpa, S2_WRITE, true, va, mode);
  if (check & XLATE_FAILED) return check;
  writeDescriptor(descPa, value, false);
  return 0;
}
