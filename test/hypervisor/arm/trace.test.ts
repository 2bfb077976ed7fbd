// SPDX-License-Identifier: MIT
//
// `--trace` of an AArch64 run under `--hv` (issue 15): per pCPU, the vCPU
// it runs, VM exits by kind, each stretch of the deferred p2m flush as a
// span with its cleaning priced by the cost model and its preemptions
// marked, and vCPU migrations marked on the pCPU the vCPU arrives on; all
// of it agreeing with the run's summary.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { shootdown, stats, tmpFile } from "../../helpers/run.ts";
import { checkTrace } from "../../helpers/trace-format.ts";
import { COST_MODEL } from "../../../emulator/machine/timing/cost-model.ts";

type Ev = { ph: string; tid: number; ts: number; dur?: number; name: string; args?: Record<string, any> };

function traced(...policy: string[]) {
  const file = tmpFile(`arm-hv-trace-${policy.join("-") || "trap"}.json`);
  const r = shootdown("run", "guest/aarch64/setway.elf", "--hv", "--cpus", "2", "--vcpus", "2", "--migrate", "0.05", ...policy,
    "--trace", file, "--stats", "--", "rounds=2");
  expect(r.status, r.stderr).toBe(0);
  const check = checkTrace(readFileSync(file, "utf8"));
  expect(check.problems).toEqual([]);
  return { s: stats(r), events: check.events as unknown as Ev[] };
}

describe("a trace of an AArch64 --hv run", () => {
  it("trap: vCPUs per pCPU, exits by kind, the deferred flush as spans with its cleaning and preemptions, migrations", () => {
    const { s, events } = traced();
    const h = s.hypervisor;
    // Each pCPU's track (tid = pCPU + 1) runs guest spans named by the vCPU loaded there.
    const guest = events.filter((e) => e.ph === "B" && /^d1v\d$/.test(e.name));
    expect(new Set(guest.map((e) => e.tid))).toEqual(new Set([1, 2]));
    expect(new Set(guest.map((e) => e.name))).toEqual(new Set(["d1v0", "d1v1"]));
    // VM exits by kind, as many as the summary counts.
    for (const [reason, n] of Object.entries(h.exits as Record<string, number>)) {
      expect(events.filter((e) => e.ph === "B" && e.name === `VM exit: ${reason}`).length, reason).toBe(n);
    }
    expect(h.exits["trap set-way"]).toBeGreaterThan(0);
    expect(h.exits["trap sysreg"]).toBeGreaterThan(0);
    // Every page the flushes cleaned is in a "clean to PoC" slice inside a p2m_flush_vm span, priced by the cost model.
    const cleans = events.filter((e) => e.ph === "X" && e.name.startsWith("clean to PoC:"));
    const sum = (k: string) => cleans.reduce((n, e) => n + e.args![k], 0);
    expect(sum("pages")).toBe(h.trapOutcomes["p2m flush: pages cleaned"]);
    expect(sum("skipped")).toBe(h.trapOutcomes["p2m flush: entries skipped"]);
    expect(sum("tlbis")).toBe(h.trapOutcomes["p2m flush: TLB flushes"]);
    expect(sum("tlbis")).toBeGreaterThan(0);
    for (const e of cleans) {
      // The TLBI VMALLS12E1IS a chunk makes after clearing the valid bits of the pages it cleans is priced with them.
      const cycles = e.args!.pages * COST_MODEL.cleanToPocPage + e.args!.skipped * COST_MODEL.p2mEntrySkipped + e.args!.tlbis * COST_MODEL.tlbiBroadcast;
      // Timestamps are written to the nanosecond.
      expect(Math.abs(e.dur! - cycles / COST_MODEL.clockMHz)).toBeLessThanOrEqual(0.001);
      const open = events.filter((b) => b.tid === e.tid && b.ts <= e.ts && /^p2m_flush_vm d1v\d$/.test(b.name));
      expect(open.at(-1)?.ph, `${e.name} at ${e.ts} on tid ${e.tid}`).toBe("B");
    }
    // Preemptions: one mark per preemption, right where a stretch of the flush ends; migrations: one mark each.
    const preempted = events.filter((e) => e.ph === "i" && / preempted$/.test(e.name));
    expect(preempted.length).toBe(h.trapOutcomes["p2m flush: preemptions"]);
    expect(preempted.length).toBeGreaterThan(0);
    for (const p of preempted) {
      const ended = events.filter((e) => e.tid === p.tid && e.ph === "E" && e.ts <= p.ts && e.name.startsWith("p2m_flush_vm")).at(-1);
      expect(ended?.ts).toBe(p.ts);
    }
    const migrations = events.filter((e) => e.ph === "i" && /^migrate d1v\d from pCPU \d$/.test(e.name));
    expect(migrations.length).toBe(h.migrations);
    expect(migrations.length).toBeGreaterThan(0);
    for (const m of migrations) expect(m.tid).toBe(m.args!.to + 1);
  });

  it("trap-inline: the flush is one span inside the trap's exit, with no preemption", () => {
    const { s, events } = traced("--set-way", "trap-inline");
    const spans = events.filter((e) => e.ph === "B" && /^p2m_flush_vm d1v\d \(inline\)$/.test(e.name));
    expect(spans.length).toBe(s.hypervisor.trapOutcomes["p2m flush"]);
    expect(events.some((e) => / preempted$/.test(e.name))).toBe(false);
  });
});
