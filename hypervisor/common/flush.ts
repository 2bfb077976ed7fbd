// SPDX-License-Identifier: MIT
//
// TLB-flush requests and the TLB-flush clock (mechanisms §1.2, Xen's
// asm/flushtlb.h and arch/x86/flushtlb.c). The flush paths that carry a
// request out (local, IPI, L0-assisted) are in x86/flush.ts; a FlushHook
// sees every request, for statistics and tests.

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
 * time of its last full flush, and a flush ticks the clock before it
 * flushes (pre_flush) and stores it after (post_flush). When the
 * hypervisor uses the L0-assisted flush the clock is off (tlb_clk_enabled
 * false): `now` reads 0, so every pCPU needs a flush and the filter removes
 * nothing, since L0 cannot say which CPUs it flushed.
 */
export class TlbFlushClock {
  /** tlbflush_clock: starts at 1. Tests may set it. */
  private time = 1;
  /** tlb_clk_enabled. */
  enabled = true;
  /** tlbflush_time[cpu]: the clock when that pCPU last flushed its whole TLB. */
  readonly cpuTime: number[];

  constructor(nrPcpus: number) {
    this.cpuTime = new Array<number>(nrPcpus).fill(0);
  }

  /** tlbflush_current_time(): 0 when the clock is off. */
  get now(): number {
    return this.enabled ? this.time : 0;
  }

  set now(t: number) {
    this.time = t >>> 0;
  }

  /**
   * pre_flush: ticks the clock before a full flush and returns the new time
   * (0 when off). Ticking first matters: an entry another pCPU changes
   * during the flush gets a stamp no older than the flush. Xen lets one pCPU
   * lead a wrap of the 32-bit clock; this model's runs are far too short to
   * wrap it, so a wrap is an error here rather than a path never tested.
   */
  preFlush(): number {
    if (!this.enabled) return 0;
    if (this.time === 0xffff_ffff) throw new Error("the TLB-flush clock would wrap (more than 4 billion flushes)");
    return ++this.time;
  }

  /** post_flush: the pCPU flushed at time t. */
  postFlush(cpu: number, t: number): void {
    if (this.enabled) this.cpuTime[cpu] = t;
  }

  /** NEED_FLUSH: may a pCPU that flushed at cpuStamp still hold entries from pageStamp? */
  needFlush(cpuStamp: number, pageStamp: number): boolean {
    const now = this.now;
    // The clock reads 0 while it wraps or when it is off: everyone must flush.
    // Otherwise a CPU needs a flush unless it flushed after the page's stamp;
    // a stamp above `now` is from before a wrap, and every CPU flushed at the wrap.
    return now === 0 || (cpuStamp <= pageStamp && pageStamp <= now);
  }

  /** tlbflush_filter: the pCPUs of mask that may still hold entries from pageStamp. */
  filter(mask: Iterable<number>, pageStamp: number): number[] {
    const out: number[] = [];
    for (const cpu of mask) if (this.needFlush(this.cpuTime[cpu] ?? 0, pageStamp)) out.push(cpu);
    return out.sort((a, b) => a - b);
  }
}
