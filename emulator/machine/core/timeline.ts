// SPDX-License-Identifier: MIT
//
// The timeline: what each pCPU did, in the order the engine did it, for the
// trace file (--trace) and the cycle cost model (--stats). The engine reports
// guest execution and continuation steps; the hypervisor reports what its
// steps mean (VM exits and entries, routines, interrupt-disabled spans, IPIs,
// flushes with their path, page walks, violations). Nothing is reported when
// no sink listens, so a plain run pays one test per decision.

/** How a flush reached its targets (issue 13): none remote, interrupts, or the L0 hypercall. */
export type FlushPath = "local" | "ipi" | "assisted";

export type TimelineEvent =
  /** The engine ran guest code on a pCPU: `retired` instructions. */
  | { kind: "guest"; cpu: number; retired: number }
  /** The engine stepped a pCPU's continuation once. */
  | { kind: "hv-step"; cpu: number; what: string; wait: boolean }
  /** A vCPU was put on (load) or taken off (save) a pCPU. */
  | { kind: "vcpu-load" | "vcpu-save"; cpu: number; vcpu: string }
  /**
   * A VM exit (reason as the summary counts it, or "annotation" for an I/O
   * exit that carried a guest annotation) and the VM entry that ends its
   * handling.
   */
  | { kind: "vmexit"; cpu: number; reason: string }
  | { kind: "vmentry"; cpu: number }
  /** A hypervisor routine (a Xen function) begins or ends on a pCPU; they nest. */
  | { kind: "routine-begin" | "routine-end"; cpu: number; name: string }
  /** The pCPU's hypervisor interrupt flag goes off or on. */
  | { kind: "irq-off" | "irq-on"; cpu: number }
  /** A physical IPI sent to `target`, and taken there (interrupt entry). */
  | { kind: "ipi-send"; cpu: number; target: number; vector: string }
  | { kind: "ipi-take"; cpu: number; from: number; vector: string }
  /**
   * A flush the hypervisor asked for: its path, the pCPUs it reaches (the
   * initiator included when it flushes locally), what it flushes, the pCPUs
   * the TLB-flush clock filtered out, and the Xen function that asked.
   */
  | { kind: "flush"; cpu: number; path: FlushPath; targets: readonly number[]; what: "tlb" | "tlb-global" | "invlpg"; filtered: number; reason: string }
  /**
   * The flush this pCPU began last is over (flush_area_mask returns). Optional:
   * without it the end is inferred from the events that follow
   * (emulator/machine/timing/modelled-clock.ts).
   */
  | { kind: "flush-done"; cpu: number }
  /**
   * A target of an IPI-path flush has done its work and cleared its bit in
   * flush_cpumask (invalidate_interrupt), for the flush `from` began. Optional:
   * without it the target's first local flush after the IPI acknowledges.
   */
  | { kind: "flush-ack"; cpu: number; from: number }
  /** A pCPU's own TLB flush (flush_area_local): INVLPG of one page or the whole TLB. */
  | { kind: "local-flush"; cpu: number; what: "tlb" | "tlb-global" | "invlpg" }
  /** The L0 flush hypercall (HVMOP_flush_tlbs) an L1 hypervisor makes on the assisted path. */
  | { kind: "l0-flush"; cpu: number }
  /** A hypercall a guest made (its name). */
  | { kind: "hypercall"; cpu: number; name: string }
  /** A hypervisor page walk: begins at a CR3, reads one entry per level, ends with a verdict. */
  | { kind: "walk-begin"; cpu: number; va: bigint }
  | { kind: "walk-read"; cpu: number; level: number; mfn: number; entry: bigint }
  | { kind: "walk-end"; cpu: number; verdict: string }
  /**
   * Cache maintenance by a hypervisor routine (Arm's p2m_cache_flush_range):
   * `pages` pages cleaned and invalidated to the point of coherency by VA,
   * `skipped` p2m entries passed over because their valid bit is 0, and
   * `tlbis` TLBI VMALLS12E1IS it broadcast after clearing valid bits.
   */
  | { kind: "cache-clean"; cpu: number; pages: number; skipped: number; tlbis: number }
  /**
   * A guest's span annotation (core/annotations.ts): span `span` (its name,
   * e.g. "munmap") begins or ends for `owner`, the guest CPU that made it
   * ("CPU n" bare, the vCPU's name under a hypervisor), on pCPU `cpu`. The
   * cost model prices what the owner does in between.
   */
  | { kind: "span-begin" | "span-end"; cpu: number; owner: string; span: number; name: string }
  /** Something worth seeing on a pCPU's track that costs nothing (a vCPU's migration, a flush's preemption). */
  | { kind: "mark"; cpu: number; name: string; args?: Record<string, unknown> }
  /**
   * The sanitizer found a race (the message says what). `pcpus`, optional:
   * the pCPUs involved (the walker and the one that changed the frame); the
   * trace marks the violation on each of their tracks.
   */
  | { kind: "violation"; cpu: number; message: string; pcpus?: readonly number[] };

/** Receives the timeline; `step` is the engine's decision count when the event happened. */
export interface TimelineSink {
  event(e: TimelineEvent, step: number): void;
}

/**
 * Where the engine and the hypervisor send events. `sink` is undefined
 * unless --trace or --stats asked for one; callers test `on` first so that
 * building an event costs nothing otherwise.
 */
export class Timeline {
  sink: TimelineSink | undefined;
  /** The engine's decision count (set by the engine before each decision). */
  step = 0;

  get on(): boolean {
    return this.sink !== undefined;
  }

  emit(e: TimelineEvent): void {
    this.sink?.event(e, this.step);
  }
}
