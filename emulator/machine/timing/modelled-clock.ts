// SPDX-License-Identifier: MIT
//
// The modelled clock: a timeline sink (core/timeline.ts) that prices each
// event with the cost model (cost-model.ts) and keeps one clock per pCPU.
//
// Each pCPU's clock advances by what it does: guest instructions, and what
// its counters say those instructions cost besides (walk reads,
// invalidations, IPIs sent, interrupts and exceptions taken), read at each
// "guest" event; VM exits and entries, hypercalls, hypervisor steps, page
// walk reads, local flushes and L0 flush hypercalls. The engine interleaves
// pCPUs in decision order, which says nothing about time, so the clocks
// drift apart; they are pulled together only where one pCPU reacts to
// another, so that no pCPU's clock runs behind an event it reacts to:
//
//   ipi-take          the target's clock is at least the send + ipiDelivery
//   flush closed      an IPI-path initiator's clock is at least the last
//                     target's acknowledgement (it spins in flush_area_mask
//                     until flush_cpumask is empty, mechanisms §1.3), priced
//                     from the send: the delivery latency, or the work the
//                     target did after the send before it could take the
//                     IPI (its interrupts were off) if that is longer, then
//                     the target's handling up to its acknowledgement. The
//                     target's own clock, which may have drifted ahead in
//                     decision order, says nothing about when it acknowledged.
//   l0-flush          each target's clock is at least the hypercall's end
//                     (L0's IPI forces its VM exit, mechanisms §1.4)
//   violation         the reporting pCPU's clock is at least that of every
//                     other pCPU the violation involves (it saw their change)
//
// The time a clock skips is counted as "wait". A flush is followed from its
// "flush" event on the initiator to its end: a "flush-done" event, or else
// where flush_area_mask returns (mechanisms §1.3) — a local flush at the
// initiator's next event but its own local flush, an assisted one right
// after its L0 hypercall, an IPI one at the initiator's first event after
// every target has acknowledged — or failing those the end of the routine
// that was running when it began, a VM entry, the initiator's next flush or
// guest code. A target of an IPI-path flush handles it from its "ipi-take"
// to its acknowledgement: a "flush-ack" event, or else its first local
// flush after the take, the end of the routine that began with it, or its
// return to guest code.
//
// A guest's spans (core/annotations.ts: SPAN_BEGIN and SPAN_END, e.g. around
// munmap) are priced by what their owner — a guest CPU, bare, or a vCPU on
// whichever pCPU runs it — does between the begin and the end: the cost of
// every event on its pCPU while it is loaded there, waits included. Time a
// vCPU spends off every pCPU (blocked in HLT) is not work and not counted,
// and a CPU asleep in HLT waiting for another's IPI costs nothing here:
// guest IPIs have no timeline events, so no clock is pulled after them. An
// exit that only carries an annotation (vmexit reason "annotation"), the
// steps handling it and its VM entry are not priced at all: annotations are
// shootdown's instruments, not the guest's work.

import type { FlushPath, TimelineEvent, TimelineSink } from "../core/timeline.ts";
import type { Counters } from "../core/counters.ts";
import type { CostModel } from "./cost-model.ts";

/** What a pCPU's cycles went to. */
export const COST_KINDS = ["guest", "walks", "tlb", "interrupts", "vm", "hypervisor", "l0", "wait"] as const;
export type CostKind = (typeof COST_KINDS)[number];

export interface PcpuCycles {
  index: number;
  /** Cycles of work (every kind but "wait"). */
  cycles: number;
  /** The pCPU's clock at the end: its work and the time it skipped waiting. */
  clock: number;
  byKind: Record<CostKind, number>;
}

export interface FlushPathCycles {
  /** Flushes asked for on this path, those with a target besides the initiator, and those targets. */
  flushes: number;
  remoteFlushes: number;
  remoteTargets: number;
  /** pCPUs the TLB-flush clock filtered out. */
  filtered: number;
  /** The initiators' cycles from each flush to its end (waiting for acknowledgements included). */
  initiatorCycles: number;
  /** The targets' cycles handling the flushes (interrupt entry to acknowledgement, or L0's forced exit). */
  targetCycles: number;
  /** Both, over the flushes with remote targets, per such flush; null when there was none. */
  cyclesPerRemoteFlush: number | null;
}

/** The cycles of a guest's spans of one name (span-begin to span-end). */
export interface SpanCycles {
  /** Spans ended. */
  count: number;
  cycles: number;
  cyclesPerSpan: number;
  maxCycles: number;
}

export interface ModelledCycles {
  clockMHz: number;
  pcpus: PcpuCycles[];
  flushes: Record<FlushPath, FlushPathCycles>;
  /** The guest's spans by name; present when it ended one. */
  spans?: Record<string, SpanCycles>;
}

/** What a trace writer sees of the clock (chrome-trace.ts). */
export interface ClockObserver {
  /** An event on e.cpu, its cost spanning [start, end] of that pCPU's clock. */
  event(e: TimelineEvent, start: number, end: number, step: number): void;
  /** What a guest run's counters say it did besides instructions (counter name → how many), priced within [start, end]. */
  counted(cpu: number, start: number, end: number, counts: Record<string, number>): void;
  /** `cpu`'s clock skipped from `from` to `to` to stay after what it reacts to. */
  waited(cpu: number, from: number, to: number, why: string): void;
  /** Cycles another pCPU's action cost `cpu` (an assisted flush's forced exit). */
  charged(cpu: number, start: number, end: number, what: string, from: number): void;
  /** A violation reported on another pCPU involves `cpu`, whose clock reads `at`. */
  involved(cpu: number, at: number, e: Extract<TimelineEvent, { kind: "violation" }>): void;
  /** The flush `cpu` began last has ended, at `at`. */
  flushClosed(cpu: number, at: number): void;
  /** The run has ended; `clocks` are the pCPUs' final clocks. */
  finish(clocks: readonly number[]): void;
}

export interface ClockOptions {
  /** Reads a pCPU's counters (platform.counters); without it only the events are priced (synthetic timelines). */
  counters?: (cpu: number) => Counters;
  /** The pCPUs there are (more are added as events name them). */
  cpus?: number;
  /** Receives the priced events (the trace). */
  observer?: ClockObserver;
  /**
   * The hypervisor runs nested (--nested), as an L1 guest of an L0: each IPI
   * it sends is a write to the ICR that exits to L0 (cost-model.ts, ipiSend).
   */
  nested?: boolean;
}

interface OpenFlush {
  cpu: number;
  path: FlushPath;
  remote: readonly number[];
  start: number;
  /** The initiator's routine depth at the flush: the flush ends when the routine it ran in ends. */
  depth: number;
  pending: Set<number>;
  lastAck: number;
  targetCycles: number;
  closed: boolean;
}

interface Handling {
  flush: OpenFlush;
  start: number;
  depth: number;
  /** When, on the initiator's clock, the handling began (the send plus the delay before the take). */
  from: number;
}

/** An IPI sent and not yet taken: the sender's clock after the send, and the target's then. */
interface InFlight {
  sent: number;
  targetAt: number;
}

interface PcpuState {
  clock: number;
  byKind: Record<CostKind, number>;
  routines: string[];
  flush: OpenFlush | undefined;
  handling: Handling | undefined;
  /** The IPI being taken: when its handling begins on the sender's clock. */
  taking: number | undefined;
  /** The priced counters when last read. */
  seen: number[];
  /** When the pCPU's last event was its own local flush: where that began, and in which decision. */
  localFlush: { start: number; step: number } | undefined;
  /** The vCPU loaded on the pCPU (vcpu-load), which owns the spans its work is added to; undefined bare or when none is. */
  vcpu: string | undefined;
  /** Inside an exit that only carries a guest annotation: nothing is priced until its VM entry. */
  instrument: boolean;
}

/** Counters priced at each "guest" event, and the constant and kind of each. */
const PRICED: { counter: keyof Counters; cost: keyof CostModel; kind: CostKind }[] = [
  { counter: "walkReads", cost: "walkLevel", kind: "walks" },
  { counter: "invlpg", cost: "invlpg", kind: "tlb" },
  { counter: "invpcidAddress", cost: "invlpg", kind: "tlb" },
  { counter: "tlbi", cost: "invlpg", kind: "tlb" },
  { counter: "cr3Flush", cost: "fullFlush", kind: "tlb" },
  { counter: "flushAll", cost: "fullFlush", kind: "tlb" },
  { counter: "flushPcid", cost: "fullFlush", kind: "tlb" },
  { counter: "invpcidSingleContext", cost: "fullFlush", kind: "tlb" },
  { counter: "invpcidAllIncludingGlobal", cost: "fullFlush", kind: "tlb" },
  { counter: "invpcidAllExcludingGlobal", cost: "fullFlush", kind: "tlb" },
  { counter: "ipisSent", cost: "ipiSend", kind: "interrupts" },
  // Every interrupt (IPIs taken included) and exception goes through the IDT.
  { counter: "interrupts", cost: "interruptEntry", kind: "interrupts" },
  { counter: "exceptions", cost: "interruptEntry", kind: "interrupts" },
];

/** Where the `tlbi` counter sits in PRICED. */
const PRICED_TLBI = PRICED.findIndex((p) => p.counter === "tlbi");

const PATHS: readonly FlushPath[] = ["local", "ipi", "assisted"];

const zeroKinds = () => Object.fromEntries(COST_KINDS.map((k) => [k, 0])) as Record<CostKind, number>;

export class ModelledClock implements TimelineSink {
  private readonly pcpus: PcpuState[] = [];
  /** IPIs sent and not yet taken, by (from, to). */
  private readonly inFlight = new Map<number, InFlight[]>();
  private readonly paths: Record<FlushPath, FlushPathCycles & { remoteCycles: number }>;
  /** Spans open, by owner: span ID → its name and the cycles so far. */
  private readonly openSpans = new Map<string, Map<number, { name: string; cycles: number }>>();
  private readonly spans = new Map<string, SpanCycles>();

  private readonly counters: ((cpu: number) => Counters) | undefined;
  private readonly observer: ClockObserver | undefined;
  private readonly nested: boolean;

  constructor(readonly model: CostModel, options: ClockOptions = {}) {
    this.counters = options.counters;
    this.observer = options.observer;
    this.nested = options.nested ?? false;
    const cpus = options.cpus ?? 0;
    this.paths = Object.fromEntries(PATHS.map((p) => [p, {
      flushes: 0, remoteFlushes: 0, remoteTargets: 0, filtered: 0, initiatorCycles: 0, targetCycles: 0, remoteCycles: 0, cyclesPerRemoteFlush: null,
    }])) as unknown as ModelledClock["paths"];
    for (let i = 0; i < cpus; i++) this.pcpu(i);
  }

  private pcpu(i: number): PcpuState {
    while (this.pcpus.length <= i) {
      const index = this.pcpus.length;
      const seen = this.counters ? this.read(index) : PRICED.map(() => 0);
      this.pcpus.push({
        clock: 0, byKind: zeroKinds(), routines: [], flush: undefined, handling: undefined, taking: undefined, seen, localFlush: undefined,
        vcpu: undefined, instrument: false,
      });
    }
    return this.pcpus[i]!;
  }

  private read(cpu: number): number[] {
    const c = this.counters!(cpu);
    return PRICED.map((p) => Number(c[p.counter] ?? 0n));
  }

  private spend(c: PcpuState, kind: CostKind, cycles: number): void {
    c.clock += cycles;
    c.byKind[kind] += cycles;
  }

  private waitUntil(cpu: number, c: PcpuState, t: number, why: string): void {
    if (t <= c.clock) return;
    this.observer?.waited(cpu, c.clock, t, why);
    c.byKind.wait += t - c.clock;
    c.clock = t;
  }

  /**
   * Prices what the pCPU's counters gained since they were last read; the
   * function it returns tells the observer, after the event they belong to.
   */
  private priceCounters(cpu: number, c: PcpuState): () => void {
    if (!this.counters) return () => {};
    const now = this.read(cpu);
    const start = c.clock;
    let counts: Record<string, number> | undefined;
    PRICED.forEach((p, i) => {
      const delta = now[i]! - c.seen[i]!;
      if (delta <= 0) return;
      this.spend(c, p.kind, delta * this.model[p.cost]);
      (counts ??= {})[p.counter] = delta;
    });
    c.seen = now;
    const end = c.clock;
    return () => counts && this.observer?.counted(cpu, start, end, counts);
  }

  event(e: TimelineEvent, step: number): void {
    const c = this.pcpu(e.cpu);
    const before = c.clock;
    this.settle(e, c);
    const start = c.clock;
    if (e.kind === "flush") this.openFlush(e, c, step);
    const counted = this.price(e, c, start);
    this.observer?.event(e, start, c.clock, step);
    c.localFlush = e.kind === "local-flush" ? { start, step } : undefined;
    counted?.();
    this.follow(e, c);
    this.spanWork(e, c, c.clock - before);
  }

  /** Adds an event's cycles to the open spans of its pCPU's owner, then follows the owner and its spans. */
  private spanWork(e: TimelineEvent, c: PcpuState, cycles: number): void {
    const owner = c.vcpu ?? `CPU ${e.cpu}`;
    if (cycles > 0) for (const s of this.openSpans.get(owner)?.values() ?? []) s.cycles += cycles;
    switch (e.kind) {
      case "vcpu-load":
        c.vcpu = e.vcpu;
        break;
      case "vcpu-save":
        c.vcpu = undefined;
        break;
      case "span-begin": {
        let open = this.openSpans.get(e.owner);
        if (!open) this.openSpans.set(e.owner, (open = new Map()));
        open.set(e.span, { name: e.name, cycles: 0 });
        break;
      }
      case "span-end": {
        const s = this.openSpans.get(e.owner)?.get(e.span);
        if (!s) break;
        this.openSpans.get(e.owner)!.delete(e.span);
        const t = this.spans.get(s.name) ?? { count: 0, cycles: 0, cyclesPerSpan: 0, maxCycles: 0 };
        t.count++;
        t.cycles += s.cycles;
        t.maxCycles = Math.max(t.maxCycles, s.cycles);
        this.spans.set(s.name, t);
        break;
      }
    }
  }

  /** Before the event: what it ends (a flush, the handling of one), and what its pCPU must wait for. */
  private settle(e: TimelineEvent, c: PcpuState): void {
    const m = this.model;
    const f = c.flush;
    // A local flush is over once the initiator does something else; an IPI one once every target has acknowledged.
    if (f && (f.path === "local" ? e.kind !== "local-flush" : f.path === "ipi" && f.pending.size === 0)) this.closeFlush(e.cpu, c);
    switch (e.kind) {
      case "guest":
      case "vmentry":
        // Back to guest code: a flush this pCPU began or was handling is over.
        this.acknowledge(e.cpu, c);
        if (c.flush) this.closeFlush(e.cpu, c);
        break;
      case "ipi-take": {
        const ipi = this.inFlight.get(e.from * 4096 + e.cpu)?.shift();
        c.taking = undefined;
        if (ipi === undefined) break;
        c.taking = ipi.sent + Math.max(m.ipiDelivery, c.clock - ipi.targetAt);
        this.waitUntil(e.cpu, c, ipi.sent + m.ipiDelivery, `IPI from pCPU ${e.from}`);
        break;
      }
      case "flush":
      case "flush-done":
        if (c.flush) this.closeFlush(e.cpu, c);
        break;
      case "violation":
        for (const p of e.pcpus ?? []) if (p !== e.cpu) this.waitUntil(e.cpu, c, this.pcpu(p).clock, `violation involving pCPU ${p}`);
        break;
      case "routine-end": {
        // The routine's end ends what began in it: the handling of a flush IPI, a flush.
        const at = c.routines.lastIndexOf(e.name);
        if (at >= 0) c.routines.length = at;
        if (c.handling && c.routines.length <= c.handling.depth) this.acknowledge(e.cpu, c);
        if (c.flush && c.routines.length < c.flush.depth) this.closeFlush(e.cpu, c);
        break;
      }
    }
  }

  /** The event's own cost (and, for guest code, its counters'), from `start`. */
  private price(e: TimelineEvent, c: PcpuState, start: number): (() => void) | undefined {
    const m = this.model;
    switch (e.kind) {
      case "guest":
        this.spend(c, "guest", e.retired * m.guestInstruction);
        return this.priceCounters(e.cpu, c);
      case "hv-step":
        if (!c.instrument) this.spend(c, "hypervisor", m.hypervisorStep);
        break;
      case "vmexit":
        c.instrument = e.reason === "annotation";
        if (!c.instrument) this.spend(c, "vm", m.vmExit);
        break;
      case "vmentry":
        if (!c.instrument) this.spend(c, "vm", m.vmEntry);
        c.instrument = false;
        break;
      case "hypercall":
        this.spend(c, "vm", m.hypercall);
        break;
      case "routine-begin":
        c.routines.push(e.name);
        break;
      case "ipi-send": {
        this.spend(c, "interrupts", m.ipiSend);
        if (this.nested) this.spend(c, "vm", m.vmExit + m.vmEntry);
        const key = e.cpu * 4096 + e.target;
        const ipi = { sent: c.clock, targetAt: this.pcpu(e.target).clock };
        const queue = this.inFlight.get(key);
        if (queue) queue.push(ipi);
        else this.inFlight.set(key, [ipi]);
        break;
      }
      case "ipi-take": {
        this.spend(c, "interrupts", m.interruptEntry);
        const f = this.pcpus[e.from]?.flush;
        if (f && f.pending.has(e.cpu)) c.handling = { flush: f, start, depth: c.routines.length, from: c.taking ?? start };
        break;
      }
      case "local-flush":
        this.spend(c, "tlb", e.what === "invlpg" ? m.invlpg : m.fullFlush);
        break;
      case "l0-flush":
        this.spend(c, "l0", m.l0FlushHypercall);
        break;
      case "walk-read":
        this.spend(c, "walks", m.walkLevel);
        break;
      case "cache-clean":
        this.spend(c, "hypervisor", e.pages * m.cleanToPocPage + e.skipped * m.p2mEntrySkipped);
        if (e.tlbis) {
          this.spend(c, "tlb", e.tlbis * m.tlbiBroadcast);
          // The issuer's `tlbi` counter counted these too: taken as seen, so that they are not priced again as invlpg.
          if (this.counters) c.seen[PRICED_TLBI] = c.seen[PRICED_TLBI]! + e.tlbis;
        }
        break;
    }
    return undefined;
  }

  /** After the event: what it acknowledges, and what it costs other pCPUs or tells their tracks. */
  private follow(e: TimelineEvent, c: PcpuState): void {
    switch (e.kind) {
      case "local-flush":
      case "flush-ack":
        this.acknowledge(e.cpu, c);
        break;
      case "l0-flush":
        // flush_area_mask returns as soon as the hypercall has (mechanisms §1.3).
        this.forcedExits(e.cpu, c);
        if (c.flush?.path === "assisted") this.closeFlush(e.cpu, c);
        break;
      case "violation":
        for (const p of new Set(e.pcpus)) if (p !== e.cpu) this.observer?.involved(p, this.pcpu(p).clock, e);
        break;
    }
  }

  /**
   * A flush begins. flush_area_mask flushes the initiator first when it is a
   * target (mechanisms §1.3): a local flush of the same decision just before
   * the "flush" event is the flush's own, and the flush began with it.
   */
  private openFlush(e: Extract<TimelineEvent, { kind: "flush" }>, c: PcpuState, step: number): void {
    const remote = e.targets.filter((t) => t !== e.cpu);
    const stats = this.paths[e.path];
    stats.flushes++;
    stats.filtered += e.filtered;
    if (remote.length) {
      stats.remoteFlushes++;
      stats.remoteTargets += remote.length;
    }
    c.flush = {
      cpu: e.cpu, path: e.path, remote, depth: c.routines.length,
      start: c.localFlush?.step === step && e.targets.includes(e.cpu) ? c.localFlush.start : c.clock,
      pending: new Set(e.path === "ipi" ? remote : []), lastAck: 0, targetCycles: 0, closed: false,
    };
  }

  /** The target has done what the flush IPI asked (flush_cpumask's bit cleared). */
  private acknowledge(cpu: number, c: PcpuState): void {
    const h = c.handling;
    if (!h) return;
    c.handling = undefined;
    const cycles = c.clock - h.start;
    h.flush.pending.delete(cpu);
    h.flush.lastAck = Math.max(h.flush.lastAck, h.from + cycles);
    if (h.flush.closed) this.paths[h.flush.path].targetCycles += cycles;
    else h.flush.targetCycles += cycles;
  }

  /** L0's IPI forces each target of an assisted flush out to L0 and back in (mechanisms §1.4). */
  private forcedExits(cpu: number, c: PcpuState): void {
    const f = c.flush;
    if (!f || f.path !== "assisted") return;
    const cost = this.model.vmExit + this.model.vmEntry;
    for (const t of f.remote) {
      const tc = this.pcpu(t);
      this.waitUntil(t, tc, c.clock, `L0 flush from pCPU ${cpu}`);
      const start = tc.clock;
      this.spend(tc, "l0", cost);
      this.observer?.charged(t, start, tc.clock, "L0 flush: forced VM exit and entry", cpu);
      f.targetCycles += cost;
    }
  }

  private closeFlush(cpu: number, c: PcpuState): void {
    const f = c.flush!;
    c.flush = undefined;
    f.closed = true;
    // flush_area_mask spins until every target has acknowledged.
    if (f.path === "ipi") this.waitUntil(cpu, c, f.lastAck, "flush acknowledgements");
    const stats = this.paths[f.path];
    const initiator = c.clock - f.start;
    stats.initiatorCycles += initiator;
    stats.targetCycles += f.targetCycles;
    if (f.remote.length) stats.remoteCycles += initiator + f.targetCycles;
    this.observer?.flushClosed(cpu, c.clock);
  }

  /** The run has ended: counters not yet priced, flushes still open. */
  finish(): void {
    this.pcpus.forEach((c, i) => {
      this.priceCounters(i, c)();
      this.acknowledge(i, c);
    });
    this.pcpus.forEach((c, i) => c.flush && this.closeFlush(i, c));
    this.observer?.finish(this.pcpus.map((c) => c.clock));
  }

  /** Modelled cycles per pCPU and per flush path (whole cycles). */
  summary(): ModelledCycles {
    const round = (o: Record<CostKind, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)])) as Record<CostKind, number>;
    const pcpus = this.pcpus.map((c, index) => ({
      index, cycles: Math.round(c.clock - c.byKind.wait), clock: Math.round(c.clock), byKind: round(c.byKind),
    }));
    const flushes = Object.fromEntries(PATHS.map((p) => {
      const { remoteCycles, ...s } = this.paths[p];
      return [p, {
        ...s, initiatorCycles: Math.round(s.initiatorCycles), targetCycles: Math.round(s.targetCycles),
        cyclesPerRemoteFlush: s.remoteFlushes ? Math.round(remoteCycles / s.remoteFlushes) : null,
      }];
    })) as Record<FlushPath, FlushPathCycles>;
    const spans = Object.fromEntries([...this.spans].map(([name, t]) => [name, {
      count: t.count, cycles: Math.round(t.cycles), cyclesPerSpan: Math.round(t.cycles / t.count), maxCycles: Math.round(t.maxCycles),
    }]));
    return { clockMHz: this.model.clockMHz, pcpus, flushes, ...(this.spans.size ? { spans } : {}) };
  }
}
