// SPDX-License-Identifier: MIT
//
// Synthetic hypervisor timelines for the cost model and trace tests: the
// events the hypervisor reports (core/timeline.ts) for the race of
// mechanisms §1.9, on the IPI path and on the assisted path, as a list of
// (event, decision) pairs to feed a sink.

import type { FlushPath, TimelineEvent } from "../../../../emulator/machine/core/timeline.ts";

export type Script = [TimelineEvent, number][];

/**
 * pCPU 0 walks a guest's tables with interrupts disabled
 * (spurious_page_fault) while pCPU 1 retypes a page-table frame and
 * flushes pCPUs 0, 1 and 2 on `path`; pCPU 2 takes the flush between two
 * guest runs. On the IPI path pCPU 0 takes the IPI only after its walk,
 * and pCPU 1 spins until it has; on the assisted path L0 flushes the
 * targets at once and pCPU 0's walk reads the retyped frame: a violation.
 * pCPU 2 ends the run inside a routine with interrupts disabled, which the
 * trace must close.
 */
export function raceScript(path: Exclude<FlushPath, "local">): Script {
  let step = 0;
  const s: Script = [];
  const at = (...events: TimelineEvent[]) => {
    for (const e of events) s.push([e, step]);
    step++;
  };
  at({ kind: "vcpu-load", cpu: 0, vcpu: "d1v0" }, { kind: "guest", cpu: 0, retired: 1000 });
  at({ kind: "vcpu-load", cpu: 1, vcpu: "d1v1" }, { kind: "guest", cpu: 1, retired: 1000 });
  at({ kind: "vcpu-load", cpu: 2, vcpu: "d1v2" }, { kind: "guest", cpu: 2, retired: 500 });
  at({ kind: "vmexit", cpu: 0, reason: "exception 14" }, { kind: "routine-begin", cpu: 0, name: "spurious_page_fault" },
    { kind: "irq-off", cpu: 0 }, { kind: "walk-begin", cpu: 0, va: 0x40_0000n },
    { kind: "walk-read", cpu: 0, level: 4, mfn: 0x201, entry: 0x202067n }, { kind: "walk-read", cpu: 0, level: 3, mfn: 0x202, entry: 0x203067n });
  at({ kind: "vmexit", cpu: 1, reason: "vmcall" }, { kind: "hypercall", cpu: 1, name: "mmu_update" },
    { kind: "routine-begin", cpu: 1, name: "_get_page_type" }, { kind: "routine-begin", cpu: 1, name: "flush_area_mask" },
    { kind: "flush", cpu: 1, path, targets: [0, 1, 2], what: "tlb", filtered: 0, reason: "_get_page_type" },
    { kind: "local-flush", cpu: 1, what: "tlb" });
  if (path === "ipi") {
    at({ kind: "ipi-send", cpu: 1, target: 0, vector: "INVALIDATE_TLB_VECTOR" }, { kind: "ipi-send", cpu: 1, target: 2, vector: "INVALIDATE_TLB_VECTOR" });
    for (let i = 0; i < 3; i++) at({ kind: "hv-step", cpu: 1, what: "flush_area_mask: wait for flush_cpumask", wait: true });
    at({ kind: "ipi-take", cpu: 2, from: 1, vector: "INVALIDATE_TLB_VECTOR" }, { kind: "routine-begin", cpu: 2, name: "invalidate_interrupt" },
      { kind: "local-flush", cpu: 2, what: "tlb" }, { kind: "routine-end", cpu: 2, name: "invalidate_interrupt" });
  } else {
    at({ kind: "l0-flush", cpu: 1 });
    at({ kind: "routine-end", cpu: 1, name: "flush_area_mask" }, { kind: "routine-end", cpu: 1, name: "_get_page_type" });
    at({ kind: "violation", cpu: 0, message: "pCPU 0 walks mfn 0x203, retyped by pCPU 1 (L1 → writable) after an assisted flush", pcpus: [0, 1] });
  }
  at({ kind: "walk-read", cpu: 0, level: 2, mfn: 0x203, entry: 0x204067n }, { kind: "walk-read", cpu: 0, level: 1, mfn: 0x204, entry: 0x5067n },
    { kind: "walk-end", cpu: 0, verdict: "spurious" });
  // The routine returns before interrupts are enabled again: the spans overlap, and the trace must still nest.
  at({ kind: "routine-end", cpu: 0, name: "spurious_page_fault" }, { kind: "irq-on", cpu: 0 });
  if (path === "ipi") {
    at({ kind: "ipi-take", cpu: 0, from: 1, vector: "INVALIDATE_TLB_VECTOR" }, { kind: "routine-begin", cpu: 0, name: "invalidate_interrupt" },
      { kind: "local-flush", cpu: 0, what: "tlb" }, { kind: "flush-ack", cpu: 0, from: 1 }, { kind: "routine-end", cpu: 0, name: "invalidate_interrupt" });
    at({ kind: "hv-step", cpu: 1, what: "flush_area_mask: every pCPU has acknowledged", wait: false }, { kind: "flush-done", cpu: 1 },
      { kind: "routine-end", cpu: 1, name: "flush_area_mask" }, { kind: "routine-end", cpu: 1, name: "_get_page_type" });
  }
  at({ kind: "vmentry", cpu: 0 }, { kind: "guest", cpu: 0, retired: 200 });
  at({ kind: "vmentry", cpu: 1 }, { kind: "guest", cpu: 1, retired: 100 });
  at({ kind: "vmexit", cpu: 2, reason: "vmcall" }, { kind: "routine-begin", cpu: 2, name: "do_mmuext_op" }, { kind: "irq-off", cpu: 2 });
  return s;
}
