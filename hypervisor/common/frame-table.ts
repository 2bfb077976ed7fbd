// SPDX-License-Identifier: MIT
//
// The frame table: what the hypervisor knows about each machine frame it
// manages (Xen's struct page_info, xen/arch/x86/include/asm/mm.h). Xen packs
// the type, its count and four flags into one word (type_info) and the
// general count with its flags into another (count_info); here each fact is
// a field of its own, answering one question.
//
// Two counts guard every frame (the essay at the top of Xen's mm.c):
//   - `count` counts every use of the frame: each mapping by a page-table
//     entry, each reference held by a pinned table or a vCPU's CR3, each
//     transient reference a hypercall holds, and the owner's allocation
//     reference (`allocated`). The frame goes back to the allocator only when
//     it reaches 0, so no domain can free a frame anything still uses.
//   - `typeCount` counts the uses of the frame in its current type (a page
//     table of some level, or a writable data page). The type may change only
//     while it is 0, so a frame can never be a page table and writable at once.

import type { Domain } from "./domain.ts";
import { COPY, type CopyOf } from "./copy.ts";

/** The frame's current use (Xen's PGT_* type values, in their order). */
export const PGT = {
  none: 0,
  l1: 1,
  l2: 2,
  l3: 3,
  l4: 4,
  shared: 6,
  writable: 7,
} as const;
export type PageType = (typeof PGT)[keyof typeof PGT];

export const PAGE_TYPE_NAMES: Record<PageType, string> = { 0: "none", 1: "L1", 2: "L2", 3: "L3", 4: "L4", 6: "shared", 7: "writable" };

/** Is this type a page-table type (L1..L4)? */
export const isPageTableType = (t: PageType): t is 1 | 2 | 3 | 4 => t >= PGT.l1 && t <= PGT.l4;

/** The largest type count (Xen's PGT_count_mask); one more is an overflow that get_page_type refuses. */
export const PGT_COUNT_MAX = 2 ** 53 - 1;
/** The largest general count Xen hands out (page_get_owner_and_reference keeps the last two for itself). */
export const PGC_COUNT_MAX = 2 ** 53 - 3;

export class PageInfo {
  /** Which domain owns this frame (page_get_owner)? null while it is free. */
  owner: Domain | null = null;
  /** How many references does the frame have (PGC_count), the allocation reference included? */
  count = 0;
  /** Does the owner still hold its allocation reference (PGC_allocated)? */
  allocated = false;
  /** What is the frame used as (PGT_type_mask)? */
  type: PageType = PGT.none;
  /** How many references of that type does it have (PGT_count_mask)? */
  typeCount = 0;
  /** Has the frame's content been validated for its current type (PGT_validated)? */
  validated = false;
  /** Has the guest pinned the frame's type (PGT_pinned)? A pin holds one general and one type reference. */
  pinned = false;
  /** Does some pCPU hold the frame's page_lock (PGT_locked)? The lock holds one type reference. */
  locked = false;
  /** Which pCPU holds the page_lock (for the debugger and checks); -1 when unlocked. */
  lockedBy = -1;
  /** How is the frame used in linear page tables (linear_pt_count)? > 0: it holds that many linear entries; < 0: that many entries elsewhere use it linearly. */
  linearPtCount = 0;
  /** When (on the TLB-flush clock) did the frame last lose a use that could leave TLB entries behind (tlbflush_timestamp)? */
  tlbflushTimestamp = 0;
  /** Is the frame on the allocator's free list? */
  free = true;
  /** Does a freed frame need a TLB flush before it is handed out again (u.free.need_tlbflush)? */
  needTlbflush = false;
  /** Does a freed frame still hold its last owner's data, to be zeroed before it is handed out (PGC_need_scrub)? */
  needScrub = false;

  constructor(
    /** The machine frame number this entry describes. */
    readonly mfn: number,
  ) {}
}

/**
 * The frame table over the machine frames [firstMfn, firstMfn + nrFrames).
 * An entry is made the first time it is asked for, as a free frame with no
 * owner (what every entry starts as): a run touches a small part of a large
 * machine, and `shootdown explore` builds the table thousands of times.
 */
export class FrameTable {
  private readonly pages: (PageInfo | undefined)[];
  /**
   * A copy's original (deepCopy): its entries, never changed again, each
   * copied here the first time this table is asked for it, with its owner
   * made the copy's. A run asks for a few hundred of a build's thousands.
   */
  private base: { pages: readonly (PageInfo | undefined)[]; copyOf: CopyOf } | undefined;

  constructor(
    readonly firstMfn: number,
    readonly nrFrames: number,
  ) {
    this.pages = new Array<PageInfo | undefined>(nrFrames);
  }

  /** deepCopy: a table whose entries are this one's, copied when first asked for; this one must not change after. */
  [COPY](copyOf: CopyOf): FrameTable {
    const t = new FrameTable(this.firstMfn, this.nrFrames);
    // A copy of a copy takes the entries it has not copied yet from the original.
    if (this.base) this.all();
    t.base = { pages: this.pages, copyOf };
    return t;
  }

  private entry(i: number): PageInfo {
    const from = this.base?.pages[i];
    if (!from) return (this.pages[i] = new PageInfo(this.firstMfn + i));
    const page = Object.assign(new PageInfo(from.mfn), from);
    page.owner = this.base!.copyOf(from.owner);
    return (this.pages[i] = page);
  }

  /** One past the highest MFN (Xen's max_page). */
  get endMfn(): number {
    return this.firstMfn + this.nrFrames;
  }

  /** Is there a frame-table entry for this MFN (mfn_valid)? */
  valid(mfn: number | bigint): boolean {
    const m = Number(mfn);
    return Number.isSafeInteger(m) && m >= this.firstMfn && m < this.endMfn;
  }

  /** The frame's entry; callers check valid() first. */
  page(mfn: number): PageInfo {
    const i = mfn - this.firstMfn;
    if (!(i >= 0 && i < this.nrFrames)) throw new Error(`MFN 0x${mfn.toString(16)} is outside the frame table`);
    return this.pages[i] ?? this.entry(i);
  }

  /** The entry, or undefined for an MFN the table does not cover. */
  lookup(mfn: number | bigint): PageInfo | undefined {
    return this.valid(mfn) ? this.page(Number(mfn)) : undefined;
  }

  /** Every entry (made now where not yet asked for), for checks and the debugger. */
  all(): readonly PageInfo[] {
    for (let i = 0; i < this.nrFrames; i++) if (!this.pages[i]) this.entry(i);
    return this.pages as PageInfo[];
  }
}
