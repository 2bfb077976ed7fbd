// SPDX-License-Identifier: MIT
//
// Linear → physical translation for the selected x86-64 CPU.
//
// The fast path is one micro-TLB probe: a load, a masked compare, and one bit
// of the allow table. Everything else (the set-associative TLBs, the
// Dirty-flag re-walk, protection faults on cached entries, the walk itself,
// chaos and the detector) is out of line in translateSlow.

import { C, count, features } from "../cpu";
import {
  CPU_RES_PA, CPU_RES_INFO, CNT_TLB_HIT, CNT_TLB_MISS, CNT_DIRTY_REWALK, FEATURE_CHAOS,
  FEATURE_DETECT, STRUCT_TLB_4K, STRUCT_TLB_1G, E_OUT, E_ATTRS, E_CTX, EVENT_STALE_TLB,
} from "../layout";
import { cr0, cr4, CR0_PG, CR4_LA57 } from "./regs";
import { protectionFault } from "./paging/permissions";
import { walk } from "./paging/walk";
import { LEAF_IGNORED, TABLE_IGNORED } from "./paging/pte";
import { pageFault, generalProtection } from "./paging/result";
import {
  XLATE_OK, XLATE_FAILED, MODE_PEEK, MODE_NO_CACHE, OUT_FRAME_MASK, OUT_META_MASK, MICRO_MISS, microFill, microLookup,
  allowedFromTlb,
} from "../tlb/micro";
import { tlbProbe, tlbMayHold, killEntry, structShift, entrySources } from "../tlb/structure";
import { curAsid, ctxEpt } from "../tlb/floors";
import { INFO_EPT_SHIFT } from "./paging/nested";
import { ACC_WRITE, ACC_FETCH } from "./paging/permissions";
import { chaosTick } from "../tlb/chaos";
import { checkSources } from "../common/detector";
import { annotOn, annotEntryUsed } from "../common/annotate";

/**
 * Translates va for an access of `kind` (ACC_*, with ACC_AC folded in by the
 * caller when RFLAGS.AC=1). Returns the physical address, or XLATE_FAILED
 * with the status; the fault record is in the CPU block.
 */
@inline export function translate(va: u64, kind: u32): u64 {
  const pa = microLookup(va, kind);
  return pa != MICRO_MISS ? pa : translateMiss(va, kind);
}

function translateMiss(va: u64, kind: u32): u64 {
  const status = translateSlow(va, kind, 0);
  return status == XLATE_OK ? load<u64>(C + CPU_RES_PA) : XLATE_FAILED | status;
}

/** Is va canonical for the current paging mode (bits 63:47, or 63:56 with LA57, all equal)? */
@inline export function isCanonical(va: u64): bool {
  const sh: u64 = cr4() & CR4_LA57 ? 7 : 16;
  return (<i64>(va << sh) >> sh) == <i64>va;
}

/** The full translation: TLBs, then a walk. `kind` already has ACC_AC folded in. */
@inline export function translateSlow(va: u64, kind: u32, mode: u32): u32 {
  const peek = (mode & MODE_PEEK) != 0;
  if (!(cr0() & CR0_PG)) {
    // Paging off: linear addresses are physical (SDM Vol.3A 4.1.1).
    store<u64>(C + CPU_RES_PA, va);
    store<u64>(C + CPU_RES_INFO, 0);
    return XLATE_OK;
  }
  if (!peek && (features & FEATURE_CHAOS)) chaosTick();
  if (!isCanonical(va)) return generalProtection(va);
  let counter = CNT_TLB_MISS;
  if (!(mode & MODE_NO_CACHE) && tlbMayHold()) {
    const found = tlbLookup(va, kind, mode);
    if (found != TLB_MISS) return found;
    if (dirtyRewalk) counter = CNT_DIRTY_REWALK;
  }
  // Every walk is a TLB miss or a Dirty re-walk; the host adds the two up.
  if (!peek) count(counter);
  return walk(va, kind, mode);
}

/** Do the EPT rights a combined entry was filled with allow an access of this kind? */
@inline function eptAllows(out: u64, kind: u32): bool {
  const ept = <u32>(out >> INFO_EPT_SHIFT) & 7;
  return kind & ACC_FETCH ? (ept & 4) != 0 : kind & ACC_WRITE ? (ept & 2) != 0 : (ept & 1) != 0;
}

/** tlbLookup's answer when the walk must run. */
const TLB_MISS: u32 = 0xFFFF_FFFF;
/** Did the last tlbLookup drop a clean entry for a write (so the walk is a Dirty re-walk)? */
let dirtyRewalk = false;

/** Looks va up in the TLBs: XLATE_OK or a fault when an entry decides, else TLB_MISS. */
function tlbLookup(va: u64, kind: u32, mode: u32): u32 {
  const peek = (mode & MODE_PEEK) != 0;
  dirtyRewalk = false;
  for (let s = STRUCT_TLB_4K; s <= STRUCT_TLB_1G; s++) {
    const e = tlbProbe(s, va);
    if (e == 0) continue;
    const attrs = <u32>load<u8>(e, E_ATTRS);
    // A combined entry (built through EPT) must also allow the access for EPT;
    // when it does not, the walk reports the EPT violation in full.
    if (ctxEpt(load<u32>(e, E_CTX)) && !eptAllows(load<u64>(e, E_OUT), kind)) {
      if (!peek) killEntry(s, e);
      return TLB_MISS;
    }
    if (!peek && (features & FEATURE_DETECT)) {
      checkSources(entrySources(s, e), e, va, EVENT_STALE_TLB, curAsid(), LEAF_IGNORED, TABLE_IGNORED);
    }
    if (!peek && annotOn) annotEntryUsed(s, e, va);
    if (!allowedFromTlb(kind, attrs)) {
      // A cached entry that forbids the access faults without a walk; the
      // fault then invalidates it (SDM Vol.3A 4.10.4.1).
      const fault = protectionFault(kind, attrs);
      if (fault) return pageFault(va, fault, 0, mode);
    }
    if (allowedFromTlb(kind, attrs) || peek) {
      const shift = structShift(s);
      const out = load<u64>(e, E_OUT);
      store<u64>(C + CPU_RES_PA, (out & OUT_FRAME_MASK) | (va & ((<u64>1 << shift) - 1)));
      store<u64>(C + CPU_RES_INFO, out & OUT_META_MASK);
      if (!peek) {
        count(CNT_TLB_HIT);
        // A combined entry EPT restricts stays out of the micro-TLB, as the
        // walk keeps it out (paging/nested.ts): the micro-TLB checks only the
        // guest's rights, so a read that hit here would let a later write or
        // fetch through without the EPT check.
        if (!ctxEpt(load<u32>(e, E_CTX)) || (<u32>(out >> INFO_EPT_SHIFT) & 7) == 7) microFill(va, out, shift);
      }
      return XLATE_OK;
    }
    // A write through an entry whose Dirty flag was clear: the processor
    // walks again to set D in memory (SDM Vol.3A 4.8).
    killEntry(s, e);
    dirtyRewalk = true;
    return TLB_MISS;
  }
  return TLB_MISS;
}
