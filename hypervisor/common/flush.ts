// SPDX-License-Identifier: MIT
//
// TLB-flush requests and the TLB-flush clock (mechanisms §1.2, Xen's
// asm/flushtlb.h). This issue only records the requests: a FlushHook
// receives each one with the pCPUs it names; the flush paths themselves (IPI
// and assisted delivery, waiting for acknowledgements) plug in through the
// same hook later, returning a Routine whose steps the initiator runs.

import type { Routine } from "./routine.ts";

/** Area to flush: 2^order pages at va (FLUSH_ORDER(x) is x + 1); 0 means the whole address space. */
export const FLUSH_ORDER_MASK = 0xff;
export const FLUSH_ORDER = (order: number): number => order + 1;
/** Flush TLBs (or parts thereof). */
export const FLUSH_TLB = 0x100;
/** Flush TLBs including global mappings. */
export const FLUSH_TLB_GLOBAL = 0x200;
/** The va of the flush has a valid mapping. */
export const FLUSH_VA_VALID = 0x800;
/** Flush the per-CPU root page table. */
export const FLUSH_ROOT_PGTBL = 0x2000;
/** Never use the assisted flush: interrupt every target (today's name; the fix called it FLUSH_FORCE_IPI). */
export const FLUSH_NO_ASSIST = 0x8000;
export const FLUSH_FORCE_IPI = FLUSH_NO_ASSIST;

/** One flush the hypervisor asks for (flush_area_mask's arguments, with who asked and why). */
export interface FlushRequest {
  /** The pCPU that asks. */
  readonly initiator: number;
  /** The pCPUs to flush, sorted; the initiator may be among them (its part is the local flush). */
  readonly mask: readonly number[];
  /** The page to flush when the flags name one (FLUSH_ORDER(0)); undefined for the whole TLB. */
  readonly va: bigint | undefined;
  /** FLUSH_* flags. */
  readonly flags: number;
  /** The Xen function that asked, for statistics and traces. */
  readonly reason: string;
}

/** Receives each flush request; may return a routine the initiator then runs (the flush's own steps). */
export type FlushHook = (request: FlushRequest) => Routine<void> | void;

/** The kind of a flush for statistics: "local"/"remote" plus what it flushes. */
export function flushKind(r: FlushRequest): string {
  const what = r.flags & FLUSH_ORDER_MASK ? "invlpg" : r.flags & FLUSH_TLB_GLOBAL ? "tlb-global" : "tlb";
  const remote = r.mask.some((c) => c !== r.initiator);
  return `${what}${remote ? "" : "-local"}${r.flags & FLUSH_NO_ASSIST ? "+no-assist" : ""}`;
}

/**
 * The TLB-flush clock (xen/arch/x86/flushtlb.c). Frames record `now` when
 * they lose a use that may leave TLB entries behind; each pCPU records the
 * time of its last full flush. The flush paths tick it (later work); until
 * then no pCPU has flushed since any stamp and the filter removes nothing.
 */
export class TlbFlushClock {
  /** tlbflush_clock: starts at 1. */
  now = 1;
  /** tlbflush_time[cpu]: the clock when that pCPU last flushed its whole TLB. */
  readonly cpuTime: number[];

  constructor(nrPcpus: number) {
    this.cpuTime = new Array<number>(nrPcpus).fill(0);
  }

  /** NEED_FLUSH: may a pCPU that flushed at cpuStamp still hold entries from pageStamp? */
  needFlush(cpuStamp: number, pageStamp: number): boolean {
    const now = this.now;
    // The clock reads 0 while it wraps: everyone must flush. Otherwise a CPU
    // needs a flush unless it flushed after the page's stamp; a stamp above
    // `now` is from before a wrap, and every CPU flushed at the wrap.
    return now === 0 || (cpuStamp <= pageStamp && pageStamp <= now);
  }

  /** tlbflush_filter: the pCPUs of mask that may still hold entries from pageStamp. */
  filter(mask: Iterable<number>, pageStamp: number): number[] {
    const out: number[] = [];
    for (const cpu of mask) if (this.needFlush(this.cpuTime[cpu] ?? 0, pageStamp)) out.push(cpu);
    return out.sort((a, b) => a - b);
  }
}
