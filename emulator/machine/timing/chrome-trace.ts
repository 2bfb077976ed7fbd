// SPDX-License-Identifier: MIT
//
// `shootdown run --trace F`: the run's timeline as Chrome Trace Event Format
// JSON (the "JSON Object Format" of Google's "Trace Event Format" document),
// which Perfetto (ui.perfetto.dev) and chrome://tracing open as a timeline.
//
//   process 1            the machine (process_name metadata)
//   thread cpu+1         one track per pCPU, named "pCPU N" (thread_name);
//                        tid 0 is left out, as some importers treat it apart
//   ts                   microseconds of that pCPU's modelled clock
//                        (cycles / clockMHz, modelled-clock.ts), to the ns
//
// On a track: guest execution as B/E spans named by the vCPU loaded there
// (vcpu-load), else "guest"; VM exits (B at the exit, E at the entry that
// ends its handling), hypervisor routines, interrupts-disabled spans, flushes
// (path, targets, what, filtered pCPUs and reason in args) and page walks as
// nested B/E spans; hypervisor steps, IPIs sent and taken, local flushes, L0
// flush hypercalls, hypercalls, walk reads and an Arm p2m flush's cleaning
// ("clean to PoC: P pages, S entries skipped") as complete (X) slices (a step's
// slice ends its decision, after what its work reported, and is named by the
// label the routine announced for it: hypervisor/README.md); an IPI's
// send and take linked by a flow (bind_id, flow_out / flow_in); violations as
// thread-scoped instant events, on the track of every pCPU involved; marks
// (a vCPU's migration, a flush's preemption) as instant events; what a
// guest run's counters say it did (IPIs, invalidations, interrupts) as an
// instant at its end. Spans nest on each track: when a span ends while
// others opened after it are still open (interrupts re-enabled after the
// routine that disabled them returned), those end with it and begin again
// at once. Every span still open when the run ends is closed there, and an
// IPI not taken by then ends its flow on a mark at the end of its target's track.

import type { TimelineEvent } from "../core/timeline.ts";
import type { ClockObserver } from "./modelled-clock.ts";

type SpanKind = "guest" | "exit" | "routine" | "irq" | "walk" | "flush";

interface Span {
  kind: SpanKind;
  name: string;
  cat: string;
  args?: Record<string, unknown>;
}

interface Track {
  stack: Span[];
  vcpu: string | undefined;
  /** Guest instructions in the open guest span. */
  retired: number;
  /**
   * The label the routine yielded last: a routine yields what its next step
   * will do (hypervisor/README.md), so the step a decision takes is the one
   * the previous decision's label announced.
   */
  announced: { what: string; wait: boolean } | undefined;
}

export interface TraceHeader {
  clockMHz: number;
  cpus: number;
  /** The process's name in the viewer ("shootdown: hello.elf"). */
  processName: string;
  /** Put in the file's otherData (the cost model's constants, the image, the options). */
  otherData?: Record<string, unknown>;
}

const PID = 1;
const hex = (v: bigint | number) => `0x${v.toString(16)}`;

export class ChromeTrace implements ClockObserver {
  private readonly tracks: Track[] = [];
  private first = true;
  /** IPIs sent and not yet taken, by (from, to): their flow id and when the send ended. */
  private readonly flows = new Map<number, { id: number; sent: number }[]>();
  private nextFlow = 1;

  /** `write` receives the file's text in order, in pieces. */
  constructor(private readonly header: TraceHeader, private readonly write: (text: string) => void) {
    write(`{"displayTimeUnit":"ns","otherData":${JSON.stringify({ clockMHz: header.clockMHz, ...header.otherData })},"traceEvents":[\n`);
    this.emit({ ph: "M", pid: PID, name: "process_name", args: { name: header.processName } });
    for (let i = 0; i < header.cpus; i++) this.track(i);
  }

  private track(cpu: number): Track {
    while (this.tracks.length <= cpu) {
      const i = this.tracks.length;
      this.tracks.push({ stack: [], vcpu: undefined, retired: 0, announced: undefined });
      this.emit({ ph: "M", pid: PID, tid: i + 1, name: "thread_name", args: { name: `pCPU ${i}` } });
      this.emit({ ph: "M", pid: PID, tid: i + 1, name: "thread_sort_index", args: { sort_index: i } });
    }
    return this.tracks[cpu]!;
  }

  private emit(event: Record<string, unknown>): void {
    this.write(`${this.first ? "" : ",\n"}${JSON.stringify(event)}`);
    this.first = false;
  }

  /** Microseconds, to the nanosecond (floored, so that order is kept). */
  private us(cycles: number): number {
    return Math.floor((cycles * 1000) / this.header.clockMHz) / 1000;
  }

  private slice(cpu: number, start: number, end: number, name: string, cat: string, args?: Record<string, unknown>, flow?: Record<string, unknown>): void {
    const ts = this.us(start);
    const dur = Math.round((this.us(end) - ts) * 1000) / 1000;
    this.emit({ ph: "X", pid: PID, tid: cpu + 1, ts, dur, name, cat, ...(args ? { args } : {}), ...flow });
  }

  private instant(cpu: number, at: number, name: string, cat: string, args?: Record<string, unknown>): void {
    this.emit({ ph: "i", s: "t", pid: PID, tid: cpu + 1, ts: this.us(at), name, cat, ...(args ? { args } : {}) });
  }

  private open(cpu: number, at: number, span: Span): void {
    this.track(cpu).stack.push(span);
    this.emit({ ph: "B", pid: PID, tid: cpu + 1, ts: this.us(at), name: span.name, cat: span.cat, ...(span.args ? { args: span.args } : {}) });
  }

  private end(cpu: number, at: number, span: Span, args?: Record<string, unknown>): void {
    // The name says which span ends (viewers match it); its category is the B's.
    this.emit({ ph: "E", pid: PID, tid: cpu + 1, ts: this.us(at), name: span.name, ...(args ? { args } : {}) });
  }

  /**
   * Ends the innermost open span that `match` picks, and with it the spans
   * opened after it, which begin again at once (except guest execution).
   */
  private close(cpu: number, at: number, match: (s: Span) => boolean, args?: Record<string, unknown>): void {
    const t = this.track(cpu);
    let i = t.stack.length - 1;
    while (i >= 0 && !match(t.stack[i]!)) i--;
    if (i < 0) return;
    const above = t.stack.splice(i + 1);
    for (const s of [...above].reverse()) this.end(cpu, at, s, this.guestArgs(t, s));
    const span = t.stack.pop()!;
    this.end(cpu, at, span, args ?? this.guestArgs(t, span));
    for (const s of above) if (s.kind !== "guest") this.open(cpu, at, s);
  }

  private guestArgs(t: Track, s: Span): Record<string, unknown> | undefined {
    if (s.kind !== "guest") return undefined;
    const args = { instructions: t.retired };
    t.retired = 0;
    return args;
  }

  private closeGuest(cpu: number, at: number): void {
    if (this.track(cpu).stack.some((s) => s.kind === "guest")) this.close(cpu, at, (s) => s.kind === "guest");
  }

  event(e: TimelineEvent, start: number, end: number, step: number): void {
    const cpu = e.cpu;
    const t = this.track(cpu);
    if (e.kind !== "guest") this.closeGuest(cpu, start);
    switch (e.kind) {
      case "guest": {
        const name = t.vcpu ?? "guest";
        const top = t.stack.at(-1);
        if (top?.kind !== "guest" || top.name !== name) {
          this.closeGuest(cpu, start);
          this.open(cpu, start, { kind: "guest", name, cat: "guest" });
        }
        t.retired += e.retired;
        t.announced = undefined;
        break;
      }
      case "hv-step": {
        const did = t.announced;
        this.slice(cpu, start, end, did?.what ?? "hypervisor: enter the routine", "hypervisor", did?.wait ? { step, wait: true } : { step });
        t.announced = { what: e.what, wait: e.wait };
        break;
      }
      case "vcpu-load":
        t.vcpu = e.vcpu;
        this.instant(cpu, start, `load ${e.vcpu}`, "vcpu", { vcpu: e.vcpu });
        break;
      case "vcpu-save":
        this.instant(cpu, start, `save ${e.vcpu}`, "vcpu", { vcpu: e.vcpu });
        if (t.vcpu === e.vcpu) t.vcpu = undefined;
        break;
      case "vmexit":
        this.open(cpu, start, { kind: "exit", name: `VM exit: ${e.reason}`, cat: "hypervisor", args: { reason: e.reason, step } });
        break;
      case "vmentry":
        t.announced = undefined;
        this.close(cpu, end, (s) => s.kind === "exit");
        break;
      case "routine-begin":
        this.open(cpu, start, { kind: "routine", name: e.name, cat: "hypervisor" });
        break;
      case "routine-end":
        this.close(cpu, end, (s) => s.kind === "routine" && s.name === e.name);
        break;
      case "irq-off":
        this.open(cpu, start, { kind: "irq", name: "interrupts disabled", cat: "irq" });
        break;
      case "irq-on":
        this.close(cpu, end, (s) => s.kind === "irq");
        break;
      case "ipi-send": {
        const id = this.nextFlow++;
        const key = cpu * 4096 + e.target;
        const queue = this.flows.get(key);
        if (queue) queue.push({ id, sent: end });
        else this.flows.set(key, [{ id, sent: end }]);
        this.slice(cpu, start, end, `IPI → pCPU ${e.target}`, "ipi", { target: e.target, vector: e.vector, step }, { bind_id: id, flow_out: true });
        break;
      }
      case "ipi-take": {
        const id = this.flows.get(e.from * 4096 + cpu)?.shift()?.id;
        this.slice(cpu, start, end, `IPI from pCPU ${e.from}`, "ipi", { from: e.from, vector: e.vector, step },
          id === undefined ? undefined : { bind_id: id, flow_in: true });
        break;
      }
      case "flush":
        this.open(cpu, start, {
          kind: "flush", name: `flush (${e.path})`, cat: "flush",
          args: { path: e.path, targets: e.targets, what: e.what, filtered: e.filtered, reason: e.reason, step },
        });
        break;
      case "flush-ack":
        this.instant(cpu, end, "flush acknowledged", "flush", { from: e.from, step });
        break;
      case "local-flush":
        this.slice(cpu, start, end, `flush_area_local (${e.what})`, "flush", { what: e.what, step });
        break;
      case "l0-flush":
        this.slice(cpu, start, end, "HVMOP_flush_tlbs", "flush", { step });
        break;
      case "hypercall":
        this.slice(cpu, start, end, `hypercall ${e.name}`, "hypervisor", { name: e.name, step });
        break;
      case "walk-begin":
        this.open(cpu, start, { kind: "walk", name: `walk ${hex(e.va)}`, cat: "walk", args: { va: hex(e.va), step } });
        break;
      case "walk-read":
        this.slice(cpu, start, end, `read L${e.level}`, "walk", { level: e.level, mfn: hex(e.mfn), entry: hex(e.entry), step });
        break;
      case "walk-end":
        this.close(cpu, end, (s) => s.kind === "walk", { verdict: e.verdict });
        break;
      case "violation":
        this.instant(cpu, start, "violation", "sanitizer", { message: e.message, step, ...(e.pcpus ? { pcpus: e.pcpus } : {}) });
        break;
      case "cache-clean":
        this.slice(cpu, start, end, `clean to PoC: ${e.pages} page${e.pages === 1 ? "" : "s"}, ${e.skipped} entr${e.skipped === 1 ? "y" : "ies"} skipped` +
          (e.tlbis ? `, ${e.tlbis} TLBI VMALLS12E1IS` : ""), "hypervisor", { pages: e.pages, skipped: e.skipped, tlbis: e.tlbis, step });
        break;
      case "mark":
        this.instant(cpu, start, e.name, "hypervisor", { ...e.args, step });
        break;
      case "span-begin":
      case "span-end":
        // Instants, not B/E: a guest's spans overlap the exits and routines on the same track.
        this.instant(cpu, start, `${e.name} ${e.kind === "span-begin" ? "begins" : "ends"}`, "guest", { owner: e.owner, span: e.span, step });
        break;
      case "flush-done":
        break;
    }
  }

  counted(cpu: number, start: number, end: number, counts: Record<string, number>): void {
    const what = Object.entries(counts).filter(([k]) => k !== "walkReads").map(([k, n]) => `${k} ×${n}`);
    if (what.length) this.instant(cpu, end, what.join(", "), "guest", { ...counts, cycles: end - start });
  }

  involved(cpu: number, at: number, e: Extract<TimelineEvent, { kind: "violation" }>): void {
    this.instant(cpu, at, `violation (reported on pCPU ${e.cpu})`, "sanitizer", { message: e.message, pcpus: e.pcpus });
  }

  waited(cpu: number, from: number, to: number, why: string): void {
    this.closeGuest(cpu, from);
    this.slice(cpu, from, to, `wait: ${why}`, "wait");
  }

  charged(cpu: number, start: number, end: number, what: string, from: number): void {
    this.slice(cpu, start, end, what, "flush", { from });
  }

  flushClosed(cpu: number, at: number): void {
    this.close(cpu, at, (s) => s.kind === "flush");
  }

  finish(clocks: readonly number[]): void {
    this.tracks.forEach((t, cpu) => {
      const at = clocks[cpu] ?? 0;
      while (t.stack.length) this.close(cpu, at, () => true);
    });
    // An IPI still pending when the run ended (its target had interrupts off,
    // as a walker does in the race): its flow ends on a mark at the end of the target's track.
    const last = [...clocks];
    for (const [key, pending] of this.flows) {
      const target = key % 4096;
      for (const { id, sent } of pending) {
        last[target] = Math.max(last[target] ?? 0, sent);
        this.slice(target, last[target]!, last[target]!, `IPI from pCPU ${Math.floor(key / 4096)} not taken by the end`, "ipi", undefined, { bind_id: id, flow_in: true });
      }
    }
    this.write("\n]}\n");
  }
}
