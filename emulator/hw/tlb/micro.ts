// SPDX-License-Identifier: MIT
//
// The fast path shared by both architectures: one probe of the micro-TLB
// (see floors.ts for what it holds and how it is invalidated) and one bit of
// the allow table.
//
// A TLB entry's output word, which the micro-TLB and the result share:
//   bits 51:12  frame PA          bits 11:0   ATTR_* rights byte and arch info
//   bits 53:52  page size (0 4 KiB, 1 2 MiB, 2 1 GiB)   bits 63:54 arch info

import { C, micro, microMask, microEnabled, count } from "../cpu";
import { CPU_RES_INFO, CPU_ALLOW, CNT_TLB_HIT, INFO_SIZE_SHIFT } from "../layout";
import { microEpoch } from "./floors";
import { annotMicroAllowed } from "../common/annotate";

/** Translation status: 0, or a fault of the architecture (its XLATE_* values). */
export const XLATE_OK: u32 = 0;
/** A translation's result, as a physical address or this flag with the status. */
export const XLATE_FAILED: u64 = <u64>1 << 63;

/** No side effects at all: no A/D updates, fills, counters, CR2 or invalidation. */
export const MODE_PEEK: u32 = 1;
/** Ignore the TLBs and walk caches and fill nothing (the walk still updates A/D/AF). */
export const MODE_NO_CACHE: u32 = 2;
/**
 * Start the walk from the root, not from a walk-cache hit (but fill as usual):
 * a nested walk that must write a descriptor needs its guest-physical
 * address, which walk caches (holding host addresses) do not keep.
 */
export const MODE_FROM_ROOT: u32 = 8;

/** Bits 51:12 of a TLB output word. */
export const OUT_FRAME_MASK: u64 = 0x000F_FFFF_FFFF_F000;
/** Everything but the frame. */
export const OUT_META_MASK: u64 = ~OUT_FRAME_MASK;
export const OUT_SIZE_MASK: u64 = <u64>3 << INFO_SIZE_SHIFT;

/** A micro-TLB miss (or an access the cached rights do not allow from the TLB). */
export const MICRO_MISS: u64 = u64.MAX_VALUE;

/** May an access of this kind complete from a TLB entry with these rights? */
@inline export function allowedFromTlb(kind: u32, attrs: u32): bool {
  const word = load<u64>(C + CPU_ALLOW + (<usize>kind << 5) + (<usize>(attrs >> 6) << 3));
  return ((word >> (attrs & 63)) & 1) != 0;
}

/** The physical address from the micro-TLB, or MICRO_MISS. */
@inline export function microLookup(va: u64, kind: u32): u64 {
  const slot = micro + ((<usize>(va >> 12) & microMask) << 4);
  if (load<u64>(slot) == ((va & ~<u64>0xFFF) | microEpoch())) {
    const data = load<u64>(slot, 8);
    if (allowedFromTlb(kind, <u32>data & 0xFF)) {
      store<u64>(C + CPU_RES_INFO, data);
      count(CNT_TLB_HIT);
      return (data & OUT_FRAME_MASK) | (va & 0xFFF);
    }
  }
  return MICRO_MISS;
}

/** Puts the 4 KiB fragment of a TLB entry that covers va into the micro-TLB. */
export function microFill(va: u64, out: u64, pageShift: u32): void {
  if (!microEnabled) return;
  const inPage = va & ((<u64>1 << pageShift) - 1) & ~<u64>0xFFF;
  const data = ((out & OUT_FRAME_MASK) + inPage) | (out & OUT_META_MASK);
  // A frame the guest declared free is never held here (common/annotate.ts).
  if (!annotMicroAllowed(data & OUT_FRAME_MASK)) return;
  const slot = micro + ((<usize>(va >> 12) & microMask) << 4);
  store<u64>(slot, (va & ~<u64>0xFFF) | microEpoch());
  store<u64>(slot, data, 8);
}
