// SPDX-License-Identifier: MIT
//
// The race sanitizer (issue 13, mechanisms §1.9 "observable event").
//
// Hypervisor walkers that rely on a flush barrier (spurious_page_fault's walk
// with interrupts disabled) register each frame they read or will read (a
// table is registered as soon as the entry pointing at it has been read),
// with the type they read it as. While such a walk runs, a frame it read must not change
// under it: become usable with another type (after a retype away from the
// page-table type it was read as, the guest may write it), or be scrubbed or
// handed to an owner by the allocator. Either is a violation: the flush that
// should have waited for the walk did not. A frame merely freed is not one;
// Xen flushes when it allocates.

import type { PageInfo } from "./frame-table.ts";

export interface Violation {
  /** The pCPU whose walk read the frame. */
  walker: number;
  /** The pCPU that changed it. */
  actor: number;
  mfn: number;
  /** The type the walk read it as. */
  readAs: string;
  /** What happened to it ("retyped L1 → writable", "scrubbed", "handed to d2"). */
  change: string;
  /** The path of the last remote flush the actor made ("ipi", "assisted", "none"). */
  flushPath: string;
  /** The engine's decision number when the walk began and when the frame changed. */
  walkStep: number;
  step: number;
  /** The walk's virtual address. */
  va: bigint;
  message: string;
}

interface Walk {
  va: bigint;
  step: number;
  /** MFN → the type it was read as. */
  readonly frames: Map<number, string>;
}

const hex = (v: number | bigint) => `0x${v.toString(16)}`;

export class Sanitizer {
  private readonly walks = new Map<number, Walk>();
  /** Every violation found, in order. */
  readonly violations: Violation[] = [];

  constructor(
    /** The engine's decision number now. */
    private readonly step: () => number,
    /** The path of the last remote flush a pCPU made. */
    private readonly flushPath: (cpu: number) => string,
    /** Told of each violation as it is found. */
    private readonly report: (v: Violation) => void,
  ) {}

  /** A walk that relies on the flush barrier begins on pCPU cpu. */
  beginWalk(cpu: number, va: bigint): void {
    this.walks.set(cpu, { va, step: this.step(), frames: new Map() });
  }

  /** The walk on pCPU cpu read an entry of this frame, or learned it as its next table, of type `as`. */
  read(cpu: number, page: PageInfo, as: string): void {
    this.walks.get(cpu)?.frames.set(page.mfn, as);
  }

  endWalk(cpu: number): void {
    this.walks.delete(cpu);
  }

  /** No walk running and nothing found: what a new one knows. */
  idle(): boolean {
    return !this.walks.size && !this.violations.length;
  }

  /** Is a walk running on pCPU cpu? */
  walking(cpu: number): boolean {
    return this.walks.has(cpu);
  }

  /**
   * pCPU `actor` is about to change the frame as `change` says (it becomes
   * usable with another type, is scrubbed, or is handed out): a violation
   * for every other pCPU's running walk that read it. `change` may be a
   * function that says it, called only when there is a violation to report.
   */
  frameChanged(actor: number, page: PageInfo, change: string | (() => string)): void {
    if (!this.walks.size) return;
    for (const [walker, walk] of this.walks) {
      if (walker === actor) continue;
      const readAs = walk.frames.get(page.mfn);
      if (readAs === undefined) continue;
      const step = this.step();
      const flushPath = this.flushPath(actor);
      if (typeof change === "function") change = change();
      const message =
        `pCPU ${walker}'s page walk for VA ${hex(walk.va)} (interrupts off since step ${walk.step}) read MFN ${hex(page.mfn)} as ${readAs}; ` +
        `pCPU ${actor} ${change} while the walk still runs (its last remote flush went by ${flushPath})`;
      const v: Violation = { walker, actor, mfn: page.mfn, readAs, change, flushPath, walkStep: walk.step, step, va: walk.va, message };
      this.violations.push(v);
      this.report(v);
    }
  }

  /** A frame becomes usable as `to` after a retype from `from`: a change for walks that read it as anything else. */
  retyped(actor: number, page: PageInfo, from: string, to: string): void {
    if (!this.walks.size) return;
    for (const walk of this.walks.values()) {
      const readAs = walk.frames.get(page.mfn);
      if (readAs !== undefined && readAs !== to) {
        this.frameChanged(actor, page, `retyped it ${from} → ${to}`);
        return;
      }
    }
  }
}
