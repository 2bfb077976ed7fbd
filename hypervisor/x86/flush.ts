// SPDX-License-Identifier: MIT
//
// flush_area_mask and flush_area_local as the rest of the hypervisor calls
// them. For now a flush is one step that hands the request to the flush hook
// (common/flush.ts) and counts it; the hook may return the flush's own steps.

import { flushKind, FLUSH_ORDER, FLUSH_TLB, type FlushRequest } from "../common/flush.ts";
import type { Routine, StepLabel } from "../common/routine.ts";
import type { Cpu } from "./hypervisor.ts";

const L_FLUSH: StepLabel = { what: "flush_area_mask: request a TLB flush" };

/** flush_area_mask(mask, va, flags): flush the pCPUs of mask (the local one included, if named). */
export function* flushMask(c: Cpu, mask: Iterable<number>, va: bigint | undefined, flags: number, reason: string): Routine<void> {
  const targets = [...new Set(mask)].sort((a, b) => a - b);
  if (!targets.length) return;
  yield L_FLUSH;
  const request: FlushRequest = { initiator: c.cpu, mask: targets, va, flags, reason };
  c.hv.stats.flush(flushKind(request), targets.length);
  const more = c.hv.callbacks.flush?.(request);
  if (more) yield* more;
}

/** flush_tlb_local / flush_tlb_one_local. */
export function flushLocal(c: Cpu, va: bigint | undefined, reason: string): Routine<void> {
  return flushMask(c, [c.cpu], va, va === undefined ? FLUSH_TLB : FLUSH_TLB | FLUSH_ORDER(0), reason);
}

/** flush_tlb_mask / flush_tlb_one_mask. */
export function flushTlbMask(c: Cpu, mask: Iterable<number>, va: bigint | undefined, reason: string): Routine<void> {
  return flushMask(c, mask, va, va === undefined ? FLUSH_TLB : FLUSH_TLB | FLUSH_ORDER(0), reason);
}
