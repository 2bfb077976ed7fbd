// SPDX-License-Identifier: MIT
//
// Traces (--trace) against the Trace Event Format's rules (the checker in
// test/helpers/trace-format.ts): a bare multi-CPU image run by the engine,
// and synthetic hypervisor timelines on both flush paths. Each track is a
// pCPU; an IPI is never taken before it was sent; a violation is marked.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { engineFor } from "../../../../emulator/run.ts";
import { withDefaults } from "../../../../emulator/run-guest.ts";
import { attachTiming, ChromeTrace, COST_MODEL, ModelledClock } from "../../../../emulator/machine/timing/index.ts";
import { checkTrace } from "../../../helpers/trace-format.ts";
import { ROOT } from "../../../helpers/run.ts";
import { raceScript } from "./scenario.ts";

type Ev = Record<string, any>;

function scriptTrace(path: "ipi" | "assisted"): { text: string; events: Ev[]; problems: string[] } {
  let text = "";
  const trace = new ChromeTrace({ clockMHz: COST_MODEL.clockMHz, cpus: 3, processName: "synthetic" }, (t) => (text += t));
  const clock = new ModelledClock(COST_MODEL, { cpus: 3, observer: trace });
  for (const [e, step] of raceScript(path)) clock.event(e, step);
  clock.finish();
  const { problems, events } = checkTrace(text);
  return { text, events: events as Ev[], problems };
}

const onTrack = (events: Ev[], cpu: number) => events.filter((e) => e.tid === cpu + 1 && e.ph !== "M");

describe("the trace checker finds broken traces", () => {
  const meta = '{"ph":"M","pid":1,"name":"process_name","args":{"name":"p"}},{"ph":"M","pid":1,"tid":1,"name":"thread_name","args":{"name":"t"}}';
  const cases: [string, string, RegExp][] = [
    ["an unknown phase", '{"ph":"Q","pid":1,"tid":1,"ts":0}', /unknown phase/],
    ["a B never ended", '{"ph":"B","pid":1,"tid":1,"ts":0,"name":"a"}', /never ends/],
    ["an E of another span", '{"ph":"B","pid":1,"tid":1,"ts":0,"name":"a"},{"ph":"B","pid":1,"tid":1,"ts":1,"name":"b"},{"ph":"E","pid":1,"tid":1,"ts":2,"name":"a"},{"ph":"E","pid":1,"tid":1,"ts":3,"name":"b"}', /the open span is "b"/],
    ["time going back", '{"ph":"X","pid":1,"tid":1,"ts":5,"dur":1,"name":"a"},{"ph":"X","pid":1,"tid":1,"ts":4,"dur":0,"name":"b"}', /goes back/],
    ["slices overlapping in part", '{"ph":"B","pid":1,"tid":1,"ts":0,"name":"a"},{"ph":"X","pid":1,"tid":1,"ts":1,"dur":5,"name":"b"},{"ph":"E","pid":1,"tid":1,"ts":3,"name":"a"}', /overlaps/],
    ["a track with no name", '{"ph":"X","pid":1,"tid":2,"ts":0,"dur":1,"name":"a"}', /track 1\/2 has no thread_name/],
    ["a flow taken before it was sent", '{"ph":"X","pid":1,"tid":1,"ts":5,"dur":1,"name":"s","bind_id":1,"flow_out":true},{"ph":"X","pid":1,"tid":1,"ts":7,"dur":1,"name":"t"},{"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"u"}},{"ph":"X","pid":1,"tid":2,"ts":2,"dur":1,"name":"f","bind_id":1,"flow_in":true}', /before it starts/],
    ["a bad instant scope", '{"ph":"i","s":"x","pid":1,"tid":1,"ts":0,"name":"a"}', /scope/],
  ];
  for (const [what, events, problem] of cases) {
    it(what, () => {
      expect(checkTrace(`{"traceEvents":[${meta},${events}]}`).problems.join("\n")).toMatch(problem);
    });
  }
  it("a file that is not JSON", () => {
    expect(checkTrace('{"traceEvents":[').problems[0]).toMatch(/^not JSON/);
  });
});

describe("traces of synthetic hypervisor timelines", () => {
  for (const path of ["ipi", "assisted"] as const) {
    it(`${path} path: follows the format, one named track per pCPU, every span closed`, () => {
      const { events, problems } = scriptTrace(path);
      expect(problems).toEqual([]);
      const names = events.filter((e) => e.name === "thread_name").map((e) => [e.tid, e.args.name]);
      expect(names).toEqual([[1, "pCPU 0"], [2, "pCPU 1"], [3, "pCPU 2"]]);
      expect(events.find((e) => e.name === "process_name")?.args.name).toBe("synthetic");
      // pCPU 2 ended in a VM exit, inside do_mmuext_op with interrupts off: all closed at its last timestamp.
      const last = onTrack(events, 2).slice(-3);
      expect(last.map((e) => [e.ph, e.name])).toEqual([["E", "interrupts disabled"], ["E", "do_mmuext_op"], ["E", "VM exit: vmcall"]]);
      expect(new Set(last.map((e) => e.ts)).size).toBe(1);
    });
  }

  it("guest execution is named by the vCPU loaded on the pCPU", () => {
    const { events } = scriptTrace("ipi");
    const guest = events.filter((e) => e.ph === "B" && e.cat === "guest").map((e) => [e.tid, e.name]);
    expect(guest).toEqual([[1, "d1v0"], [2, "d1v1"], [3, "d1v2"], [1, "d1v0"], [2, "d1v1"]]);
  });

  it("IPI path: each IPI is a flow from its send to its take, taken no earlier than sent plus the delivery latency", () => {
    const { events } = scriptTrace("ipi");
    const sends = events.filter((e) => e.cat === "ipi" && e.flow_out);
    const takes = events.filter((e) => e.cat === "ipi" && e.flow_in);
    expect(sends.map((e) => e.args.target)).toEqual([0, 2]);
    const delivery = COST_MODEL.ipiDelivery / COST_MODEL.clockMHz;
    for (const t of takes) {
      const s = sends.find((e) => e.bind_id === t.bind_id)!;
      expect(t.tid).toBe(s.args.target + 1);
      expect(t.ts).toBeGreaterThanOrEqual(s.ts + s.dur + delivery - 1e-3);
    }
    expect(takes).toHaveLength(2);
  });

  it("IPI path: the flush span names its path and targets and ends after the last acknowledgement", () => {
    const { events } = scriptTrace("ipi");
    const flush = events.find((e) => e.ph === "B" && e.cat === "flush")!;
    expect(flush).toMatchObject({ name: "flush (ipi)", tid: 2, args: { path: "ipi", targets: [0, 1, 2], what: "tlb", filtered: 0, reason: "_get_page_type" } });
    const end = onTrack(events, 1).find((e) => e.ph === "E" && e.name === "flush (ipi)")!;
    const acks = events.filter((e) => e.name === "flush_area_local (tlb)" && e.tid !== 2).map((e) => e.ts + e.dur);
    expect(acks).toHaveLength(2);
    for (const ack of acks) expect(end.ts).toBeGreaterThanOrEqual(ack - 1e-3);
    // The initiator's clock jumped to the last acknowledgement: a wait slice says so.
    expect(onTrack(events, 1).some((e) => e.ph === "X" && e.name === "wait: flush acknowledgements")).toBe(true);
  });

  it("an IPI still pending at the end (its target has interrupts off) ends its flow on a mark at the end of the target's track", () => {
    let text = "";
    const trace = new ChromeTrace({ clockMHz: COST_MODEL.clockMHz, cpus: 2, processName: "pending" }, (t) => (text += t));
    const clock = new ModelledClock(COST_MODEL, { cpus: 2, observer: trace });
    clock.event({ kind: "irq-off", cpu: 0 }, 0);
    clock.event({ kind: "guest", cpu: 1, retired: 5000 }, 1);
    clock.event({ kind: "ipi-send", cpu: 1, target: 0, vector: "INVALIDATE_TLB_VECTOR" }, 2);
    clock.finish();
    const { problems, events } = checkTrace(text);
    expect(problems).toEqual([]);
    const send = (events as Ev[]).find((e) => e.flow_out)!;
    const mark = (events as Ev[]).find((e) => e.flow_in)!;
    expect(mark).toMatchObject({ tid: 1, name: "IPI from pCPU 1 not taken by the end", bind_id: send.bind_id });
    expect(mark.ts).toBe(send.ts + send.dur);
  });

  it("a hypervisor step's slice is named by the label the routine yielded before it (what the step does)", () => {
    const { events } = scriptTrace("ipi");
    const steps = onTrack(events, 1).filter((e) => e.ph === "X" && e.cat === "hypervisor" && e.name !== "hypercall mmu_update");
    const wait = "flush_area_mask: wait for flush_cpumask";
    expect(steps.map((e) => [e.name, e.args.wait ?? false])).toEqual([["hypervisor: enter the routine", false], [wait, true], [wait, true], [wait, true]]);
  });

  it("interrupts-disabled spans, walks and their reads are on the walking pCPU's track", () => {
    const { events } = scriptTrace("ipi");
    const t0 = onTrack(events, 0);
    expect(t0.filter((e) => e.ph === "B").map((e) => e.name)).toEqual(expect.arrayContaining(["interrupts disabled", "walk 0x400000", "spurious_page_fault"]));
    expect(t0.filter((e) => e.cat === "walk" && e.ph === "X").map((e) => e.name)).toEqual(["read L4", "read L3", "read L2", "read L1"]);
    expect(t0.find((e) => e.ph === "E" && e.name === "walk 0x400000")?.args).toEqual({ verdict: "spurious" });
  });

  it("assisted path: the violation is an instant event with a scope on the walker's track, and the targets show L0's forced exits", () => {
    const { events } = scriptTrace("assisted");
    const v = events.filter((e) => e.cat === "sanitizer");
    expect(v.map((e) => [e.ph, e.s, e.tid, e.name])).toEqual([["i", "t", 1, "violation"], ["i", "t", 2, "violation (reported on pCPU 0)"]]);
    expect(v[0]!.args.message).toMatch(/retyped by pCPU 1/);
    // The walker saw the writer's change: its mark is no earlier than the writer's.
    expect(v[0]!.ts).toBeGreaterThanOrEqual(v[1]!.ts);
    const forced = events.filter((e) => e.name === "L0 flush: forced VM exit and entry").map((e) => e.tid);
    expect(forced).toEqual([1, 3]);
    const l0 = events.find((e) => e.name === "HVMOP_flush_tlbs")!;
    for (const e of events.filter((x) => x.name === "L0 flush: forced VM exit and entry")) expect(e.ts).toBeGreaterThanOrEqual(l0.ts + l0.dur - 1e-3);
  });
});

describe("a trace of a bare multi-CPU image", () => {
  it("hello.elf on 4 CPUs: valid, one guest track per pCPU, timestamps from the modelled clock", () => {
    const image = readFileSync(join(ROOT, "guest", "x86_64", "hello.elf"));
    const engine = engineFor({ ...withDefaults({ cpus: 4 }, "x86_64"), image, console: () => {} });
    let text = "";
    const timing = attachTiming(engine.platform, COST_MODEL, { write: (t) => (text += t), processName: "hello" });
    const end = engine.runToEnd();
    const modelled = timing.finish();
    expect(end.kind).toBe("debug-exit");
    const { problems, events } = checkTrace(text);
    expect(problems).toEqual([]);
    const tracks = new Set(events.filter((e) => e.ph !== "M").map((e) => e.tid));
    expect([...tracks].sort()).toEqual([1, 2, 3, 4]);
    for (let cpu = 0; cpu < 4; cpu++) {
      // What the guest's counters say it did (hello.elf's IPIs) is marked where it was priced.
      const counted = onTrack(events as Ev[], cpu).filter((e) => e.ph === "i" && e.cat === "guest");
      expect(BigInt(counted.reduce((n, e) => n + (e.args.ipisSent ?? 0), 0))).toBe(engine.platform.counters(cpu).ipisSent);
      expect(BigInt(counted.reduce((n, e) => n + (e.args.invlpg ?? 0), 0))).toBe(engine.platform.counters(cpu).invlpg);
      const spans = onTrack(events as Ev[], cpu).filter((e) => e.ph === "E" && e.name === "guest");
      const retired = spans.reduce((n, e) => n + e.args.instructions, 0);
      expect(BigInt(retired)).toBe(engine.platform.instructions(cpu));
      // The track ends at the pCPU's modelled clock, in microseconds to the nanosecond.
      const last = onTrack(events as Ev[], cpu).at(-1)!;
      expect(last.ts).toBe(Math.floor((modelled.pcpus[cpu]!.clock * 1000) / COST_MODEL.clockMHz) / 1000);
    }
  });
});
