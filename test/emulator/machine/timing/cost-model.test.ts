// SPDX-License-Identifier: MIT
//
// The cycle cost model: a known timeline costs what the table's constants
// add up to (computed here from the constants, under two different tables,
// so that no total is written down), counters are priced by what they
// gained, and a --cost-model file overrides constants or is refused with
// the key it gets wrong.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { COST_MODEL, COST_MODEL_MEANING, type CostModel } from "../../../../emulator/machine/timing/cost-model.ts";
import { parseCostModel } from "../../../../emulator/machine/timing/cost-model-file.ts";
import { ModelledClock } from "../../../../emulator/machine/timing/modelled-clock.ts";
import type { Counters } from "../../../../emulator/machine/core/counters.ts";
import { ROOT } from "../../../helpers/run.ts";
import { raceScript } from "./scenario.ts";

/** A table whose constants all differ from the defaults and from each other. */
const OTHER: CostModel = {
  clockMHz: 2000, guestInstruction: 3, walkLevel: 17, invlpg: 131, fullFlush: 701, ipiSend: 257, ipiDelivery: 2311,
  interruptEntry: 419, vmExit: 613, vmEntry: 389, hypercall: 97, l0FlushHypercall: 4001, hypervisorStep: 41,
  cleanToPocPage: 1103, p2mEntrySkipped: 23, tlbiBroadcast: 1709,
};

function run(model: CostModel, path: "ipi" | "assisted", nested = false) {
  const clock = new ModelledClock(model, { cpus: 3, nested });
  for (const [e, step] of raceScript(path)) clock.event(e, step);
  clock.finish();
  return clock.summary();
}

describe("the modelled clock prices a timeline with the table's constants", () => {
  for (const [name, m] of [["the default table", COST_MODEL], ["another table", OTHER]] as const) {
    for (const nested of [false, true]) it(`IPI path${nested ? " under an L0" : ""}, ${name}: targets run no earlier than send + delivery, the initiator waits for the last acknowledgement`, () => {
      const got = run(m, "ipi", nested);
      // pCPU 1 exits, makes the hypercall, flushes itself and sends two IPIs (each an exit to L0 when nested).
      const flushStart = 1000 * m.guestInstruction + m.vmExit + m.hypercall;
      const send = m.ipiSend + (nested ? m.vmExit + m.vmEntry : 0);
      const sent0 = flushStart + m.fullFlush + send;
      const sent2 = sent0 + send;
      // pCPU 2 takes its IPI between guest runs, pCPU 0 after its walk (interrupts were off).
      const take2 = Math.max(500 * m.guestInstruction, sent2 + m.ipiDelivery);
      const ack2 = take2 + m.interruptEntry + m.fullFlush;
      const walked0 = 1000 * m.guestInstruction + m.vmExit + 4 * m.walkLevel;
      const take0 = Math.max(walked0, sent0 + m.ipiDelivery);
      const ack0 = take0 + m.interruptEntry + m.fullFlush;
      // pCPU 1 spun three steps; its next event, after both acknowledgements, ends the flush. It prices
      // each acknowledgement from its send (the targets' clocks drift in decision order): the delivery,
      // or pCPU 0's two walk reads after the send with interrupts off if longer, then the handling.
      const spun = sent2 + 3 * m.hypervisorStep;
      const acked2 = sent2 + m.ipiDelivery + m.interruptEntry + m.fullFlush;
      const acked0 = sent0 + Math.max(m.ipiDelivery, 2 * m.walkLevel) + m.interruptEntry + m.fullFlush;
      const done1 = Math.max(spun, acked0, acked2);
      const clock = [ack0 + m.vmEntry + 200 * m.guestInstruction, done1 + m.hypervisorStep + m.vmEntry + 100 * m.guestInstruction, ack2 + m.vmExit];
      expect(got.pcpus.map((c) => c.clock)).toEqual(clock);
      const waits = [take0 - walked0, done1 - spun, take2 - 500 * m.guestInstruction];
      expect(got.pcpus.map((c) => c.byKind.wait)).toEqual(waits);
      expect(got.pcpus.map((c) => c.cycles)).toEqual(clock.map((c, i) => c - waits[i]!));
      expect(got.pcpus[1]!.byKind).toMatchObject({
        hypervisor: 4 * m.hypervisorStep, vm: m.vmExit + m.hypercall + m.vmEntry + (nested ? 2 * (m.vmExit + m.vmEntry) : 0), tlb: m.fullFlush, interrupts: 2 * m.ipiSend,
      });
      expect(got.pcpus[0]!.byKind.walks).toBe(4 * m.walkLevel);
      const targets = 2 * (m.interruptEntry + m.fullFlush);
      expect(got.flushes.ipi).toEqual({
        flushes: 1, remoteFlushes: 1, remoteTargets: 2, filtered: 0, initiatorCycles: done1 - flushStart, targetCycles: targets,
        cyclesPerRemoteFlush: done1 - flushStart + targets,
      });
      expect(got.flushes.assisted.flushes).toBe(0);
      expect(got.flushes.local.cyclesPerRemoteFlush).toBeNull();
    });

    it(`assisted path, ${name}: the L0 hypercall and one forced exit and entry per target`, () => {
      const got = run(m, "assisted");
      const flushStart = 1000 * m.guestInstruction + m.vmExit + m.hypercall;
      const l0Done = flushStart + m.fullFlush + m.l0FlushHypercall;
      const forced = m.vmExit + m.vmEntry;
      const c0 = Math.max(1000 * m.guestInstruction + m.vmExit + 2 * m.walkLevel, l0Done) + forced + 2 * m.walkLevel + m.vmEntry + 200 * m.guestInstruction;
      const c2 = Math.max(500 * m.guestInstruction, l0Done) + forced + m.vmExit;
      expect(got.pcpus.map((c) => c.clock)).toEqual([c0, l0Done + m.vmEntry + 100 * m.guestInstruction, c2]);
      expect(got.pcpus.map((c) => c.byKind.l0)).toEqual([forced, m.l0FlushHypercall, forced]);
      expect(got.flushes.assisted).toEqual({
        flushes: 1, remoteFlushes: 1, remoteTargets: 2, filtered: 0, initiatorCycles: m.fullFlush + m.l0FlushHypercall, targetCycles: 2 * forced,
        cyclesPerRemoteFlush: m.fullFlush + m.l0FlushHypercall + 2 * forced,
      });
      expect(got.flushes.ipi.flushes).toBe(0);
    });
  }

  it("local path: a flush ends at the initiator's first event after its own local flushes, and costs them", () => {
    const clock = new ModelledClock(OTHER, { cpus: 1 });
    const events = [
      { kind: "vmexit", cpu: 0, reason: "vmcall" }, { kind: "flush", cpu: 0, path: "local", targets: [0], what: "invlpg", filtered: 2, reason: "MMUEXT_INVLPG_LOCAL" },
      { kind: "local-flush", cpu: 0, what: "invlpg" }, { kind: "hv-step", cpu: 0, what: "next", wait: false }, { kind: "vmentry", cpu: 0 },
    ] as const;
    events.forEach((e, i) => clock.event(e, i));
    expect(clock.summary().flushes.local).toEqual({
      flushes: 1, remoteFlushes: 0, remoteTargets: 0, filtered: 2, initiatorCycles: OTHER.invlpg, targetCycles: 0, cyclesPerRemoteFlush: null,
    });
  });

  it("local path: a local flush of the same decision just before the flush event is the flush's own", () => {
    const clock = new ModelledClock(OTHER, { cpus: 1 });
    clock.event({ kind: "local-flush", cpu: 0, what: "tlb" }, 7);
    clock.event({ kind: "local-flush", cpu: 0, what: "invlpg" }, 8);
    clock.event({ kind: "flush", cpu: 0, path: "local", targets: [0], what: "invlpg", filtered: 0, reason: "r" }, 8);
    clock.event({ kind: "hv-step", cpu: 0, what: "next", wait: false }, 8);
    clock.event({ kind: "local-flush", cpu: 0, what: "tlb" }, 9);
    clock.event({ kind: "flush", cpu: 0, path: "local", targets: [0], what: "tlb", filtered: 0, reason: "r" }, 10);
    clock.event({ kind: "hv-step", cpu: 0, what: "next", wait: false }, 10);
    // The first flush is its INVLPG; the second's local flush was another decision's, so it is not counted.
    expect(clock.summary().flushes.local).toMatchObject({ flushes: 2, initiatorCycles: OTHER.invlpg });
  });

  it("IPI path: a target whose clock ran ahead in decision order acknowledges on the initiator's clock from the send, not from its own clock", () => {
    const m = OTHER;
    const clock = new ModelledClock(m, { cpus: 2 });
    // pCPU 1 ran far ahead before pCPU 0 ran at all: the clocks drift apart in decision order.
    clock.event({ kind: "guest", cpu: 1, retired: 100_000 }, 0);
    clock.event({ kind: "flush", cpu: 0, path: "ipi", targets: [1], what: "tlb", filtered: 0, reason: "r" }, 1);
    clock.event({ kind: "ipi-send", cpu: 0, target: 1, vector: "INVALIDATE_TLB_VECTOR" }, 1);
    clock.event({ kind: "ipi-take", cpu: 1, from: 0, vector: "INVALIDATE_TLB_VECTOR" }, 2);
    clock.event({ kind: "local-flush", cpu: 1, what: "tlb" }, 2);
    clock.event({ kind: "flush-ack", cpu: 1, from: 0 }, 2);
    clock.event({ kind: "flush-done", cpu: 0 }, 3);
    const got = clock.summary();
    const handling = m.interruptEntry + m.fullFlush;
    expect(got.pcpus[0]!.clock).toBe(m.ipiSend + m.ipiDelivery + handling);
    expect(got.flushes.ipi).toMatchObject({ initiatorCycles: m.ipiSend + m.ipiDelivery + handling, targetCycles: handling });
    // The target's own clock still never runs behind the send plus the delivery.
    expect(got.pcpus[1]!.clock).toBe(100_000 * m.guestInstruction + handling);
  });

  it("IPI path: a target busy with interrupts off after the send delays the acknowledgement by that work", () => {
    /** pCPU 0 flushes pCPU 1, which reads 100 walk levels with interrupts off before it takes the IPI: pCPU 0's clock at the end. */
    const initiatorClock = (m: CostModel) => {
      const clock = new ModelledClock(m, { cpus: 2 });
      clock.event({ kind: "flush", cpu: 0, path: "ipi", targets: [1], what: "tlb", filtered: 0, reason: "r" }, 0);
      clock.event({ kind: "ipi-send", cpu: 0, target: 1, vector: "INVALIDATE_TLB_VECTOR" }, 0);
      for (let i = 0; i < 100; i++) clock.event({ kind: "walk-read", cpu: 1, level: 1, mfn: 1, entry: 0n }, 1 + i);
      clock.event({ kind: "ipi-take", cpu: 1, from: 0, vector: "INVALIDATE_TLB_VECTOR" }, 101);
      clock.event({ kind: "flush-ack", cpu: 1, from: 0 }, 101);
      clock.event({ kind: "flush-done", cpu: 0 }, 102);
      return clock.summary().pcpus[0]!.clock;
    };
    // Shorter than the delivery: the delivery is what counts; longer: the walk.
    expect(100 * OTHER.walkLevel).toBeLessThan(OTHER.ipiDelivery);
    expect(initiatorClock(OTHER)).toBe(OTHER.ipiSend + OTHER.ipiDelivery + OTHER.interruptEntry);
    expect(initiatorClock({ ...OTHER, walkLevel: 100 })).toBe(OTHER.ipiSend + 100 * 100 + OTHER.interruptEntry);
  });

  it("a violation's reporter runs no earlier than the other pCPUs it involves", () => {
    const clock = new ModelledClock(OTHER, { cpus: 2 });
    clock.event({ kind: "guest", cpu: 1, retired: 900 }, 0);
    clock.event({ kind: "guest", cpu: 0, retired: 100 }, 1);
    clock.event({ kind: "violation", cpu: 0, message: "m", pcpus: [0, 1] }, 2);
    const got = clock.summary().pcpus;
    expect(got[0]).toMatchObject({ clock: 900 * OTHER.guestInstruction, byKind: { wait: 800 * OTHER.guestInstruction } });
  });

  it("prices what a CPU's counters gained at each guest run: walk reads per level, invalidations, IPIs, interrupts", () => {
    const counts: Partial<Record<keyof Counters, bigint>> = { walkReads: 5n, invlpg: 1n, cr3Flush: 2n, ipisSent: 0n, interrupts: 0n };
    const clock = new ModelledClock(OTHER, { counters: () => counts as Counters, cpus: 1 });
    // What the counters held before the run is not the run's.
    clock.event({ kind: "guest", cpu: 0, retired: 10 }, 0);
    expect(clock.summary().pcpus[0]!.clock).toBe(10 * OTHER.guestInstruction);
    Object.assign(counts, { walkReads: 9n, invlpg: 2n, invpcidAddress: 1n, cr3Flush: 3n, ipisSent: 2n, interrupts: 1n, exceptions: 1n });
    clock.event({ kind: "guest", cpu: 0, retired: 20 }, 1);
    const m = OTHER;
    const expected = 30 * m.guestInstruction + 4 * m.walkLevel + 2 * m.invlpg + m.fullFlush + 2 * m.ipiSend + 2 * m.interruptEntry;
    expect(clock.summary().pcpus[0]).toMatchObject({
      clock: expected, cycles: expected,
      byKind: { guest: 30 * m.guestInstruction, walks: 4 * m.walkLevel, tlb: 2 * m.invlpg + m.fullFlush, interrupts: 2 * m.ipiSend + 2 * m.interruptEntry },
    });
    // Counted after the last guest run (by the hypervisor's work on the CPU): priced at the end.
    counts.walkReads = 10n;
    clock.finish();
    expect(clock.summary().pcpus[0]!.byKind.walks).toBe(5 * m.walkLevel);
  });

  it("prices the Arm p2m flush's broadcast TLBIs once, at tlbiBroadcast, though the issuer's tlbi counter counts them too", () => {
    const counts: Partial<Record<keyof Counters, bigint>> = { tlbi: 3n };
    const clock = new ModelledClock(OTHER, { counters: () => counts as Counters, cpus: 1 });
    const m = OTHER;
    clock.event({ kind: "guest", cpu: 0, retired: 10 }, 0);
    // The flush's step: two pages cleaned, five entries skipped, one TLBI VMALLS12E1IS (the counter goes from 3 to 4).
    counts.tlbi = 4n;
    clock.event({ kind: "cache-clean", cpu: 0, pages: 2, skipped: 5, tlbis: 1 }, 1);
    // Back in the guest, which makes one TLBI of its own: priced as the counter says, at invlpg.
    counts.tlbi = 5n;
    clock.event({ kind: "guest", cpu: 0, retired: 10 }, 2);
    expect(clock.summary().pcpus[0]!.byKind).toMatchObject({
      hypervisor: 2 * m.cleanToPocPage + 5 * m.p2mEntrySkipped,
      tlb: m.tlbiBroadcast + m.invlpg,
    });
  });
});

describe("--cost-model files", () => {
  it("a file overrides the constants it names and keeps the rest", () => {
    const m = parseCostModel('{"ipiDelivery": 3000, "clockMHz": 2400, "guestInstruction": 0.5}', "costs.json");
    expect(m).toEqual({ ...COST_MODEL, ipiDelivery: 3000, clockMHz: 2400, guestInstruction: 0.5 });
    expect(parseCostModel("{}", "costs.json")).toEqual(COST_MODEL);
  });

  it("every constant has its meaning written down", () => {
    expect(Object.keys(COST_MODEL_MEANING).sort()).toEqual(Object.keys(COST_MODEL).sort());
  });

  const refused: [string, string][] = [
    ['{"ipiDelivery": 3000, "ipiLatency": 5}', 'costs.json: "ipiLatency" is not a constant of the cost model (the constants: clockMHz, guestInstruction,'],
    ['{"invlpg": "fast"}', 'costs.json: "invlpg" must be a number of cycles, not "fast"'],
    ['{"invlpg": null}', 'costs.json: "invlpg" must be a number of cycles, not null'],
    ['{"vmExit": -1}', 'costs.json: "vmExit" must be a non-negative number of cycles, not -1'],
    ['{"clockMHz": 0}', 'costs.json: "clockMHz" must be a clock rate from 1 to 1000000 MHz, not 0'],
    ['{"l0FlushHypercall": 1e300}', 'costs.json: "l0FlushHypercall" must be at most 1000000000 cycles, not 1e+300'],
    ['[1, 2]', "costs.json: must be a JSON object of cost-model constants, not [1,2]"],
    ['{"invlpg": 200,}', "costs.json: not JSON ("],
  ];
  for (const [text, message] of refused) {
    it(`refuses ${text}`, () => {
      expect(() => parseCostModel(text, "costs.json")).toThrow(message);
    });
  }
});

describe("README's table", () => {
  it("gives every constant of the model with its value", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8").split("\n## Traces and the cycle cost model\n")[1]!.split("\n## ")[0]!;
    const rows = [...readme.matchAll(/^\| `(\w+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual({ ...COST_MODEL });
  });
});
