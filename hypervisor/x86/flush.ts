// SPDX-License-Identifier: MIT
//
// TLB flushes (xen/arch/x86/smp.c flush_area_mask, invalidate_interrupt;
// xen/arch/x86/flushtlb.c flush_area_local; mechanisms §1.2–1.4).
//
// flush_area_mask flushes the initiator first if it is in the mask, then the
// other pCPUs by one of two paths:
//
//   assisted  the machine runs nested (--nested: this hypervisor is a guest
//             of an L0) and the flags ask for nothing but TLB flushing: one
//             L0 hypercall (HVMOP_flush_tlbs) flushes every pCPU at once and
//             returns without waiting for anyone. A pCPU walking page tables
//             with interrupts disabled is flushed under its feet.
//   IPI       take flush_lock, publish the request (flush_cpumask, flush_va,
//             flush_flags), send INVALIDATE_TLB_VECTOR to each target and
//             spin until every target has taken it, flushed and cleared its
//             bit. A target takes it only with interrupts enabled, so the
//             spin also waits for every IRQ-disabled walk to end.
//
// Nested under an L0 that offers no flush hypercall (--no-l0-assist: Xen on
// a Hyper-V without HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED, whose flush_tlb op
// returns -EOPNOTSUPP), every remote flush takes the IPI path.
//
// FLUSH_NO_ASSIST (Xen 4.14's FLUSH_FORCE_IPI, renamed in 2022) is outside the
// assisted path's whitelist, so a flush carrying it takes the IPI path even
// when nested. `--no-force-ipi` drops the flag from every request: the
// behaviour before commit 5b718d24e8, which lets the race of §1.9 happen.

import { FLUSH_NO_ASSIST, FLUSH_ORDER, FLUSH_ORDER_MASK, FLUSH_TLB, FLUSH_TLB_GLOBAL, FLUSH_VA_VALID, flushKind, type FlushRequest } from "../common/flush.ts";
import { finish, type Routine, type StepLabel } from "../common/routine.ts";
import { interruptDeliverable } from "../common/smp.ts";
import type { FlushPath } from "../../emulator/machine/core/timeline.ts";
import type { Cpu, Hypervisor } from "./hypervisor.ts";

const L_FLUSH: StepLabel = { what: "flush_area_mask: flush the local TLB and decide the path" };
const L_L0: StepLabel = { what: "hypervisor_flush_tlb: HVMOP_flush_tlbs to L0 (assisted flush)" };
const L_LOCK: StepLabel = { what: "flush_area_mask: take flush_lock" };
const L_WAIT_LOCK: StepLabel = { what: "flush_area_mask: wait for flush_lock", wait: true };
const L_SEND: StepLabel = { what: "flush_area_mask: send INVALIDATE_TLB_VECTOR to the targets" };
const L_WAIT_ACKS: StepLabel = { what: "flush_area_mask: wait until flush_cpumask is empty", wait: true };
const L_UNLOCK: StepLabel = { what: "flush_area_mask: release flush_lock" };
const L_INTERRUPT: StepLabel = { what: "invalidate_interrupt: take the flush IPI" };
const L_ACK: StepLabel = { what: "invalidate_interrupt: flush and clear this pCPU's bit in flush_cpumask" };

/** The flags the assisted path accepts (flush_area_mask's whitelist): anything else needs IPIs. */
const ASSISTABLE = FLUSH_TLB | FLUSH_TLB_GLOBAL | FLUSH_VA_VALID | FLUSH_ORDER_MASK;

/** The request an IPI flush publishes to its targets (flush_cpumask, flush_va, flush_flags), guarded by flush_lock. */
export interface IpiFlushState {
  /** The pCPU holding flush_lock, or undefined. */
  lock: number | undefined;
  /** flush_cpumask: targets that have not acknowledged yet. */
  readonly cpumask: Set<number>;
  va: bigint | undefined;
  flags: number;
}

export const emptyIpiFlushState = (): IpiFlushState => ({ lock: undefined, cpumask: new Set(), va: undefined, flags: 0 });

const what = (va: bigint | undefined, flags: number) =>
  flags & FLUSH_ORDER_MASK && va !== undefined ? "invlpg" : flags & FLUSH_TLB_GLOBAL ? "tlb-global" : "tlb";

/**
 * flush_area_local on pCPU `cpu`: INVLPG of one page, or a whole flush that
 * ticks the TLB-flush clock around it (pre_flush, flush, post_flush). The
 * hardware part is the machine's (callbacks.flushLocal).
 */
export function flushAreaLocal(hv: Hypervisor, cpu: number, va: bigint | undefined, flags: number): void {
  const w = what(va, flags);
  if (w === "invlpg") {
    hv.callbacks.flushLocal?.(cpu, va, flags);
  } else {
    const t = hv.clock.preFlush();
    hv.callbacks.flushLocal?.(cpu, undefined, flags);
    hv.clock.postFlush(cpu, t);
  }
  if (hv.timeline?.on) hv.timeline.emit({ kind: "local-flush", cpu, what: w });
}

/**
 * flush_area_mask(mask, va, flags): flushes the pCPUs of mask, the local one
 * included if named, and returns when they are all flushed (or, on the
 * assisted path, when L0 says so).
 */
/** A mask's pCPUs, each once, in ascending order (a loop: a Set and a sort per flush showed in profiles). */
function sortedCpus(mask: Iterable<number>): number[] {
  const out: number[] = [];
  for (const cpu of mask) {
    let i = out.length;
    while (i > 0 && out[i - 1]! > cpu) i--;
    if (out[i - 1] !== cpu) out.splice(i, 0, cpu);
  }
  return out;
}

export function* flushMask(c: Cpu, mask: Iterable<number>, va: bigint | undefined, flags: number, reason: string, filtered = 0): Routine<void> {
  const hv = c.hv;
  if (!hv.forceIpi) flags &= ~FLUSH_NO_ASSIST;
  const targets = sortedCpus(mask);
  if (!targets.length) return;
  yield L_FLUSH;
  const request: FlushRequest = { initiator: c.cpu, mask: targets, va, flags, reason };
  hv.callbacks.flush?.(request);
  if (targets.includes(c.cpu)) flushAreaLocal(hv, c.cpu, va, flags);
  const others = targets.filter((t) => t !== c.cpu);
  const path: FlushPath = !others.length ? "local" : hv.l0Assist && !(flags & ~ASSISTABLE) ? "assisted" : "ipi";
  hv.stats.flush(flushKind(request), targets.length, path);
  if (hv.timeline?.on) hv.timeline.emit({ kind: "flush", cpu: c.cpu, path, targets, what: what(va, flags), filtered, reason });
  if (path === "local") return;
  // Two pCPUs spinning with interrupts off, each for the other's
  // acknowledgement, would never finish: Xen ASSERTs that a remote flush
  // runs with interrupts enabled.
  if (!hv.pcpus[c.cpu]!.irqEnabled) throw new Error(`flush_area_mask: a remote flush from pCPU ${c.cpu} with interrupts disabled`);
  hv.lastFlushPath[c.cpu] = path;
  if (path === "assisted") {
    yield L_L0;
    // L0 gives every vCPU of this L1 a new VPID and kicks the pCPUs running
    // them out of guest mode; no L1 code runs there, whatever its IF.
    hv.callbacks.l0FlushTlbs?.(c.cpu);
    if (hv.timeline?.on) {
      hv.timeline.emit({ kind: "l0-flush", cpu: c.cpu });
      hv.timeline.emit({ kind: "flush-done", cpu: c.cpu });
    }
    return;
  }
  const s = hv.ipiFlush;
  for (let waiting = false; ; waiting = true) {
    yield waiting ? L_WAIT_LOCK : L_LOCK;
    if (s.lock === undefined) break;
  }
  s.lock = c.cpu;
  yield L_SEND;
  for (const t of others) s.cpumask.add(t);
  s.va = va;
  s.flags = flags;
  for (const t of others) {
    hv.pcpus[t]!.ipiFrom = c.cpu;
    hv.stats.ipisSent++;
    if (hv.timeline?.on) hv.timeline.emit({ kind: "ipi-send", cpu: c.cpu, target: t, vector: "INVALIDATE_TLB_VECTOR" });
  }
  for (;;) {
    // With no engine driving the pCPUs (tests, scripts), the others take a
    // pending interrupt at once whenever their interrupts are on.
    if (!hv.engineDriven) for (const t of others) if (interruptDeliverable(hv.pcpus[t]!)) finish(invalidateInterrupt(hv, t));
    if (!s.cpumask.size) break;
    yield L_WAIT_ACKS;
  }
  yield L_UNLOCK;
  s.lock = undefined;
  if (hv.timeline?.on) hv.timeline.emit({ kind: "flush-done", cpu: c.cpu });
}

/**
 * invalidate_interrupt on pCPU `cpu`: the target side of an IPI flush. It
 * flushes what flush_va and flush_flags say and clears its bit in
 * flush_cpumask, which is the initiator's signal.
 */
export function* invalidateInterrupt(hv: Hypervisor, cpu: number): Routine<void> {
  const p = hv.pcpus[cpu]!;
  yield L_INTERRUPT;
  const from = p.ipiFrom;
  p.ipiFrom = undefined;
  if (hv.timeline?.on) hv.timeline.emit({ kind: "ipi-take", cpu, from: from ?? -1, vector: "INVALIDATE_TLB_VECTOR" });
  yield L_ACK;
  const s = hv.ipiFlush;
  if (s.cpumask.has(cpu)) {
    flushAreaLocal(hv, cpu, s.va, s.flags);
    s.cpumask.delete(cpu);
    if (hv.timeline?.on) hv.timeline.emit({ kind: "flush-ack", cpu, from: s.lock ?? -1 });
  }
}

/** flush_tlb_local / flush_tlb_one_local. */
export function flushLocal(c: Cpu, va: bigint | undefined, reason: string): Routine<void> {
  return flushMask(c, [c.cpu], va, va === undefined ? FLUSH_TLB : FLUSH_TLB | FLUSH_ORDER(0), reason);
}

/** flush_tlb_mask / flush_tlb_one_mask. */
export function flushTlbMask(c: Cpu, mask: Iterable<number>, va: bigint | undefined, reason: string): Routine<void> {
  return flushMask(c, mask, va, va === undefined ? FLUSH_TLB : FLUSH_TLB | FLUSH_ORDER(0), reason);
}

/**
 * tlbflush_filter then flush_mask: flush the pCPUs of mask that may still
 * hold entries from a frame stamped `stamp` (_get_page_type,
 * filtered_flush_tlb_mask), counting those the clock spares.
 */
export function* filteredFlush(c: Cpu, mask: Iterable<number>, stamp: number, flags: number, reason: string): Routine<void> {
  const all = [...mask];
  const need = c.hv.clock.filter(all, stamp);
  c.hv.stats.pcpusSpared += all.length - need.length;
  if (need.length) yield* flushMask(c, need, undefined, flags, reason, all.length - need.length);
}
