// SPDX-License-Identifier: MIT
//
// General references, allocation and freeing (xen/arch/x86/mm.c get_page,
// put_page, page_get_owner_and_reference; xen/common/page_alloc.c
// alloc_domheap_pages, assign_pages, free_domheap_pages). A frame returns to
// the allocator only when its last general reference goes; it is scrubbed
// on the way and its M2P entry reset to ~0.

import type { Domain } from "../common/domain.ts";
import { PAGE_TYPE_NAMES, PGC_COUNT_MAX, PGT, type PageInfo } from "../common/frame-table.ts";
import { FLUSH_NO_ASSIST, FLUSH_TLB } from "../common/flush.ts";
import { maddr, PAGE_SIZE } from "../common/memory.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import { filteredFlush } from "./flush.ts";
import type { Cpu } from "./hypervisor.ts";
import { putPageType } from "./page-type.ts";
import { INVALID_M2P_ENTRY } from "./public.ts";

const L_GET_REF: StepLabel = { what: "page_get_owner_and_reference: take a general reference" };
const L_PUT_REF: StepLabel = { what: "put_page: drop a general reference" };
const L_ALLOC: StepLabel = { what: "alloc_heap_pages: take a free frame" };
const L_ASSIGN: StepLabel = { what: "assign_pages: give the frame to its domain" };
const L_FREE: StepLabel = { what: "free_domheap_pages: take the frame from its owner" };
const L_SCRUB: StepLabel = { what: "scrub_one_page: zero the frame" };
const L_FREE_LIST: StepLabel = { what: "free_heap_pages: put the frame on the free list" };
const L_ALLOC_REF: StepLabel = { what: "put_page_alloc_ref: drop the allocation reference" };

/** page_get_owner_and_reference: a general reference and the owner, or null for a free frame (or a count about to overflow). */
export function* getPageOwnerAndReference(_c: Cpu, page: PageInfo): Routine<Domain | null> {
  yield L_GET_REF;
  if (page.count === 0 || page.count >= PGC_COUNT_MAX) return null;
  page.count++;
  return page.owner;
}

/** get_page: a general reference if d owns the frame. */
export function* getPage(c: Cpu, page: PageInfo, d: Domain): Routine<boolean> {
  const owner = yield* getPageOwnerAndReference(c, page);
  if (owner === d) return true;
  if (owner) yield* putPage(c, page);
  return false;
}

/** get_page_from_mfn: the frame with a general reference, if it exists and d owns it. */
export function* getPageFromMfn(c: Cpu, mfn: number | bigint, d: Domain): Routine<PageInfo | null> {
  const page = c.hv.frames.lookup(mfn);
  if (!page) return null;
  return (yield* getPage(c, page, d)) ? page : null;
}

/** put_page: drops a general reference; the last one frees the frame. */
export function* putPage(c: Cpu, page: PageInfo): Routine<void> {
  yield L_PUT_REF;
  if (page.count <= 0) throw new Error(`put_page on MFN 0x${page.mfn.toString(16)} with no references`);
  page.count--;
  if (page.count > 0) return;
  // cleanup_page_mappings: with no references left, no writable mapping remains either.
  if (page.type === PGT.writable || page.type === PGT.shared) {
    if (page.typeCount !== 0) throw new Error(`MFN 0x${page.mfn.toString(16)} freed with ${page.typeCount} ${PAGE_TYPE_NAMES[page.type]} references`);
    page.type = PGT.none;
    page.validated = false;
  }
  yield* freeDomheapPage(c, page);
}

/** put_page_and_type. */
export function* putPageAndType(c: Cpu, page: PageInfo): Routine<void> {
  yield* putPageType(c, page);
  yield* putPage(c, page);
}

/** put_page_alloc_ref: drops the owner's allocation reference if it still holds it; the caller holds another. */
export function* putPageAllocRef(c: Cpu, page: PageInfo): Routine<void> {
  yield L_ALLOC_REF;
  if (!page.allocated) return;
  page.allocated = false;
  yield* putPage(c, page);
}

/**
 * alloc_domheap_pages(d, 0) with assign_pages: a free frame for d, or null
 * when d is at its max_pages or no frame is free (`accept` may refuse
 * candidates, for the builder). A frame that had an owner before may still
 * sit in some pCPU's TLB, or under some pCPU's page walk: the pCPUs that
 * have not flushed since it was freed are flushed first, always by IPI
 * (filtered_flush_tlb_mask uses FLUSH_TLB | FLUSH_NO_ASSIST), and only then
 * is it scrubbed and handed out.
 *
 * Xen's alloc_heap_pages scrubs a dirty frame before that flush. Zeroes are
 * harmless to a walk still reading the frame, but the sanitizer reports any
 * change under a walk, so this model scrubs after the flush: then only an
 * unsafe flush path lets a walk see the frame change.
 */
export function* allocDomheapPage(c: Cpu, d: Domain, accept?: (mfn: number) => boolean): Routine<PageInfo | null> {
  yield L_ALLOC;
  // assign_pages refuses to go over max_pages; checking first spares a flush for nothing.
  if (d.totPages + 1 > d.maxPages) return null;
  const page = c.hv.allocator.take(accept);
  if (!page) return null;
  const needFlush = page.needTlbflush;
  page.needTlbflush = false;
  c.hv.callbacks.frameEvent?.({ kind: "alloc", cpu: c.cpu, mfn: page.mfn, owner: d.domid });
  if (needFlush) yield* filteredFlush(c, allCpus(c), page.tlbflushTimestamp, FLUSH_TLB | FLUSH_NO_ASSIST, "filtered_flush_tlb_mask");
  if (page.needScrub) {
    yield L_SCRUB;
    c.hv.sanitizer.frameChanged(c.cpu, page, "scrubbed");
    c.hv.mem.zero(maddr(page.mfn), PAGE_SIZE);
    page.needScrub = false;
    c.hv.stats.framesScrubbed++;
    c.hv.callbacks.frameEvent?.({ kind: "scrub", cpu: c.cpu, mfn: page.mfn });
  }
  yield L_ASSIGN;
  c.hv.sanitizer.frameChanged(c.cpu, page, () => `handed to d${d.domid}`);
  page.owner = d;
  page.count = 1;
  page.allocated = true;
  page.type = PGT.none;
  page.typeCount = 0;
  page.validated = false;
  page.pinned = false;
  page.linearPtCount = 0;
  d.pageList.add(page.mfn);
  d.totPages++;
  c.hv.stats.framesAllocated++;
  return page;
}

function allCpus(c: Cpu): number[] {
  return Array.from({ length: c.hv.nrPcpus }, (_, i) => i);
}

/**
 * free_domheap_pages for a frame whose last reference went: off its owner's
 * list and back on the free list, marked to be scrubbed before its next
 * owner gets it (free_heap_pages with need_scrub).
 */
function* freeDomheapPage(c: Cpu, page: PageInfo): Routine<void> {
  yield L_FREE;
  const owner = page.owner;
  // dom_cow's shared frames are on no page list and count in no tot_pages (page_make_sharable took them off).
  if (owner?.pageList.delete(page.mfn)) owner.totPages--;
  // mark_page_free: a frame that had an owner may be in TLBs; remember when it was freed.
  page.needTlbflush = owner !== null;
  if (page.needTlbflush) page.tlbflushTimestamp = c.hv.clock.now;
  page.needScrub = owner !== null;
  page.owner = null;
  page.allocated = false;
  c.hv.setGpfnFromMfn(page.mfn, INVALID_M2P_ENTRY);
  c.hv.callbacks.frameEvent?.({ kind: "free", cpu: c.cpu, mfn: page.mfn, owner: owner?.domid ?? -1 });
  yield L_FREE_LIST;
  c.hv.allocator.give(page);
  c.hv.stats.framesFreed++;
}
