// SPDX-License-Identifier: MIT
//
// What the debugger shows about a frame (the REPL's `frame MFN`): its
// frame-table entry, its PFN in the M2P, and which validated page-table
// entries reference it. Reads only; no step, no reference taken.

import { isPageTableType, PAGE_TYPE_NAMES, type PageInfo } from "../common/frame-table.ts";
import { maddr, PAGE_SIZE } from "../common/memory.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { isGuestL4Slot, isPresent, pteMfn } from "./pte.ts";
import { INVALID_M2P_ENTRY } from "./public.ts";

/** One page-table entry that references a frame. */
export interface Mapper {
  /** The table's MFN, its level, and the slot. */
  tableMfn: number;
  level: 1 | 2 | 3 | 4;
  slot: number;
  /** The entry itself. */
  entry: bigint;
}

export interface FrameInfo {
  mfn: number;
  owner: number | undefined;
  /** The frame's PFN in its owner (the M2P entry), or undefined for ~0. */
  pfn: bigint | undefined;
  type: string;
  count: number;
  typeCount: number;
  allocated: boolean;
  validated: boolean;
  pinned: boolean;
  locked: boolean;
  free: boolean;
  tlbflushTimestamp: number;
  mappers: Mapper[];
}

/** The frame's state and the entries that reference it, or undefined for an MFN outside the frame table. */
export function frameInfo(hv: Hypervisor, mfn: number): FrameInfo | undefined {
  const p = hv.frames.lookup(mfn);
  if (!p) return undefined;
  const m2p = hv.getGpfnFromMfn(mfn);
  return {
    mfn,
    owner: p.owner?.domid,
    pfn: m2p === INVALID_M2P_ENTRY ? undefined : m2p,
    type: PAGE_TYPE_NAMES[p.type],
    count: p.count,
    typeCount: p.typeCount,
    allocated: p.allocated,
    validated: p.validated,
    pinned: p.pinned,
    locked: p.locked,
    free: p.free,
    tlbflushTimestamp: p.tlbflushTimestamp,
    mappers: mappersOf(hv, mfn),
  };
}

/** Every entry of a validated guest page table that points at mfn. */
export function mappersOf(hv: Hypervisor, mfn: number): Mapper[] {
  const out: Mapper[] = [];
  const tables: PageInfo[] = hv.frames.all().filter((t) => !t.free && t.owner !== hv.domXen && isPageTableType(t.type) && t.validated);
  for (const t of tables) {
    const level = t.type as 1 | 2 | 3 | 4;
    const words = new DataView(hv.mem.read(maddr(t.mfn), PAGE_SIZE).buffer);
    for (let slot = 0; slot < 512; slot++) {
      if (level === 4 && !isGuestL4Slot(slot)) continue;
      const entry = words.getBigUint64(slot * 8, true);
      if (isPresent(entry) && pteMfn(entry) === mfn) out.push({ tableMfn: t.mfn, level, slot, entry });
    }
  }
  return out;
}
