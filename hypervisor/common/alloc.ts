// SPDX-License-Identifier: MIT
//
// The frame allocator's free list (Xen's heap, xen/common/page_alloc.c,
// reduced to order-0 frames). Frames are handed out in a seeded random
// order, so a domain's MFNs are neither its PFNs nor contiguous and a guest
// that confuses the two fails visibly; the same seed gives the same MFNs.
// The steps around it (scrubbing, the flush a reused frame needs, the M2P)
// are in x86/page-alloc.ts.

import { Xoshiro128 } from "../../emulator/machine/core/scheduler.ts";
import type { FrameTable, PageInfo } from "./frame-table.ts";
import type { Domain } from "./domain.ts";

export class FrameAllocator {
  /**
   * The free frames, the first `free` of them: a typed array, so that the
   * copy each explored run takes of a built hypervisor is one memory copy,
   * and a frame given back needs no array to grow.
   */
  private readonly freeList: Uint32Array;
  private free = 0;
  private rng: Xoshiro128;

  constructor(
    private readonly frames: FrameTable,
    seed: bigint,
  ) {
    this.rng = new Xoshiro128(seed);
    if (frames.endMfn > 2 ** 32) throw new Error(`the frame allocator holds frame numbers below 2^32, not up to 0x${frames.endMfn.toString(16)}`);
    this.freeList = new Uint32Array(frames.nrFrames);
    // Every frame starts free (frame-table.ts); the entries are made when first asked for.
    for (let mfn = frames.firstMfn; mfn < frames.endMfn; mfn++) this.freeList[this.free++] = mfn;
  }

  /** From now on, frames are chosen by a generator seeded with `seed` (pv-build.ts: a run's seed after a shared build). */
  reseed(seed: bigint): void {
    this.rng = new Xoshiro128(seed);
  }

  /** How many frames are free. */
  get nrFree(): number {
    return this.free;
  }

  /**
   * Takes a free frame chosen by the seeded generator, or undefined when none
   * is left. `accept` may refuse candidates (the builder refuses an MFN equal
   * to the PFN it will back, or next to the previous one): after a few
   * random refusals the free list is searched from a random place, and when
   * no frame is acceptable the random one is taken.
   */
  take(accept?: (mfn: number) => boolean): PageInfo | undefined {
    const n = this.free;
    if (!n) return undefined;
    let i = this.rng.below(n);
    if (accept && !accept(this.freeList[i]!)) {
      let tries = 0;
      for (; tries < 16 && !accept(this.freeList[i]!); tries++) i = this.rng.below(n);
      for (let k = 0; k < n && !accept(this.freeList[i]!); k++) i = (i + 1) % n;
      if (!accept(this.freeList[i]!)) i = this.rng.below(n);
    }
    const mfn = this.freeList[i]!;
    this.freeList[i] = this.freeList[n - 1]!;
    this.free--;
    const page = this.frames.page(mfn);
    page.free = false;
    return page;
  }

  /** Puts a frame back on the free list; the caller has scrubbed it and cleared its owner. */
  give(page: PageInfo): void {
    if (page.free) throw new Error(`MFN 0x${page.mfn.toString(16)} freed twice`);
    page.free = true;
    this.freeList[this.free++] = page.mfn;
  }

  /**
   * A frame for a table of the hypervisor's own (a p2m or EPT table): taken,
   * and zeroed through `zero`, its machine frame returned.
   */
  takeTable(zero: (mfn: number) => void): number {
    const page = this.take();
    if (!page) throw new Error("no free machine frame left for a p2m table");
    zero(page.mfn);
    return page.mfn;
  }

  /**
   * A domain's RAM, one frame per GFN in [firstGfn, firstGfn + d.maxPages):
   * never the GFN's own number, never the frame after the previous GFN's, so
   * that the guest-physical to machine map is neither identity nor
   * contiguous (a translation the hypervisor forgets shows). Each frame is
   * the domain's, with its allocation reference; `map` enters it in the p2m.
   */
  populateRam(d: Domain, firstGfn: number, map: (gfn: number, mfn: number) => void): void {
    let previous = -2;
    for (let gfn = firstGfn; gfn < firstGfn + d.maxPages; gfn++) {
      const page = this.take((mfn) => mfn !== gfn && mfn !== previous + 1);
      if (!page) throw new Error(`no free machine frame left for d${d.domid}'s GFN 0x${gfn.toString(16)}`);
      page.owner = d;
      page.count = 1;
      page.allocated = true;
      d.pageList.add(page.mfn);
      d.totPages++;
      map(gfn, page.mfn);
      previous = page.mfn;
    }
  }
}
