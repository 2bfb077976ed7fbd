// SPDX-License-Identifier: MIT
//
// A guest's spans (SD_ANNOT_SPAN_BEGIN/END, docs/annotations.md) on the
// modelled clock: a span costs what its owner did between its begin and its
// end, on whichever pCPU ran it; spans of other owners and the exits that
// only carry an annotation cost it nothing. The totals are computed here from
// the table's constants, under two tables.

import { describe, expect, it } from "vitest";
import { COST_MODEL, type CostModel } from "../../../../emulator/machine/timing/cost-model.ts";
import { ModelledClock } from "../../../../emulator/machine/timing/modelled-clock.ts";
import type { TimelineEvent } from "../../../../emulator/machine/core/timeline.ts";

const OTHER: CostModel = { ...COST_MODEL, guestInstruction: 3, vmExit: 613, vmEntry: 389, hypercall: 97, hypervisorStep: 41 };

const span = (kind: "span-begin" | "span-end", cpu: number, owner: string, id: number, name: string): TimelineEvent =>
  ({ kind, cpu, owner, span: id, name });

function priced(model: CostModel, events: TimelineEvent[]) {
  const clock = new ModelledClock(model, { cpus: 2 });
  events.forEach((e, step) => clock.event(e, step));
  clock.finish();
  return clock.summary();
}

describe("guest spans on the modelled clock", () => {
  for (const [name, m] of [["the default table", COST_MODEL], ["another table", OTHER]] as const) {
    it(`bare, ${name}: a span is its CPU's work in between; the other CPU's work and work outside it are not counted`, () => {
      const got = priced(m, [
        { kind: "guest", cpu: 0, retired: 5 },
        span("span-begin", 0, "CPU 0", 1, "munmap"),
        { kind: "guest", cpu: 0, retired: 100 },
        { kind: "guest", cpu: 1, retired: 700 },
        span("span-begin", 0, "CPU 0", 2, "gup_fast"),
        { kind: "guest", cpu: 0, retired: 10 },
        span("span-end", 0, "CPU 0", 2, "gup_fast"),
        { kind: "guest", cpu: 0, retired: 20 },
        span("span-end", 0, "CPU 0", 1, "munmap"),
        { kind: "guest", cpu: 0, retired: 1000 },
        span("span-begin", 0, "CPU 0", 1, "munmap"),
        { kind: "guest", cpu: 0, retired: 50 },
        span("span-end", 0, "CPU 0", 1, "munmap"),
      ]);
      const g = m.guestInstruction;
      expect(got.spans).toEqual({
        gup_fast: { count: 1, cycles: 10 * g, cyclesPerSpan: 10 * g, maxCycles: 10 * g },
        munmap: { count: 2, cycles: 180 * g, cyclesPerSpan: 90 * g, maxCycles: 130 * g },
      });
    });

    it(`under a hypervisor, ${name}: a vCPU's span follows it to another pCPU; annotation exits are free, others are priced`, () => {
      const got = priced(m, [
        { kind: "vcpu-load", cpu: 0, vcpu: "d1v0" },
        span("span-begin", 0, "d1v0", 1, "munmap"),
        { kind: "vmentry", cpu: 0 },
        { kind: "guest", cpu: 0, retired: 100 },
        // An OUT to an annotation port: exit, one step, entry, none of it priced.
        { kind: "vmexit", cpu: 0, reason: "annotation" },
        { kind: "hv-step", cpu: 0, what: "OUT port 0x5d0", wait: false },
        { kind: "vmentry", cpu: 0 },
        // A real exit (HLT): priced; the vCPU blocks and leaves pCPU 0.
        { kind: "guest", cpu: 0, retired: 10 },
        { kind: "vmexit", cpu: 0, reason: "hlt" },
        { kind: "hv-step", cpu: 0, what: "hvm_hlt", wait: false },
        { kind: "vcpu-save", cpu: 0, vcpu: "d1v0" },
        // pCPU 0 runs another vCPU meanwhile: not d1v0's work.
        { kind: "vcpu-load", cpu: 0, vcpu: "d1v1" },
        { kind: "vmentry", cpu: 0 },
        { kind: "guest", cpu: 0, retired: 4000 },
        // d1v0 wakes on pCPU 1 and ends its span there.
        { kind: "vcpu-load", cpu: 1, vcpu: "d1v0" },
        { kind: "vmentry", cpu: 1 },
        { kind: "guest", cpu: 1, retired: 30 },
        span("span-end", 1, "d1v0", 1, "munmap"),
      ]);
      const want = m.vmEntry + 100 * m.guestInstruction + 10 * m.guestInstruction + m.vmExit + m.hypervisorStep + m.vmEntry + 30 * m.guestInstruction;
      expect(got.spans).toEqual({ munmap: { count: 1, cycles: want, cyclesPerSpan: want, maxCycles: want } });
      // The annotation's exit is not in pCPU 0's work either.
      const p0 = 100 + 10 + 4000;
      expect(got.pcpus[0]!.cycles).toBe(p0 * m.guestInstruction + 2 * m.vmEntry + m.vmExit + m.hypervisorStep);
    });
  }

  it("a span still open at the end, or ended by an owner that did not begin it, is not counted; no spans, no figures", () => {
    const got = priced(COST_MODEL, [
      span("span-begin", 0, "CPU 0", 1, "munmap"),
      { kind: "guest", cpu: 0, retired: 10 },
      span("span-end", 1, "CPU 1", 1, "munmap"),
    ]);
    expect(got.spans).toBeUndefined();
  });
});
