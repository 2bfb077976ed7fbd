// SPDX-License-Identifier: MIT
//
// `shootdown run --trace F`, `--cost-model F` and the modelled cycles of
// --stats, --json and the text summary, as a user runs them (dist/cli.js):
// the trace file follows the Trace Event Format (test/helpers/trace-format.ts)
// for a bare image, a replay and a PV guest under the hypervisor; a replay
// writes the same trace as the recorded run; a cost-model file changes the
// cycles as its constants say; bad files and unwritable traces are errors
// that name them.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, shootdown, stats, tmpFile } from "../helpers/run.ts";
import { checkTrace } from "../helpers/trace-format.ts";
import { COST_MODEL } from "../../emulator/machine/timing/cost-model.ts";

const HELLO = join(ROOT, "guest", "x86_64", "hello.elf");
const PV = join(ROOT, "guest", "x86_64", "pv", "kernel.elf");

function costFile(json: string): string {
  const path = tmpFile("costs.json");
  writeFileSync(path, json);
  return path;
}

describe("run --trace", () => {
  it("a bare 4-CPU image: a valid trace with a track per pCPU, and a replay writes the same trace", () => {
    const trace = tmpFile("trace.json");
    const schedule = tmpFile("schedule.json");
    const r = shootdown("run", HELLO, "--cpus", "4", "--seed", "3", "--record", schedule, "--trace", trace);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`trace written to ${trace}`);
    const text = readFileSync(trace, "utf8");
    const { problems, events } = checkTrace(text);
    expect(problems).toEqual([]);
    expect(events.filter((e) => e.name === "thread_name").map((e) => (e.args as { name: string }).name)).toEqual(["pCPU 0", "pCPU 1", "pCPU 2", "pCPU 3"]);

    const again = tmpFile("replayed.json");
    const replay = shootdown("run", HELLO, "--replay", schedule, "--trace", again);
    expect(replay.status).toBe(0);
    expect(replay.stderr).toMatch(/replay reproduced the recorded run/);
    expect(readFileSync(again, "utf8")).toBe(text);
  });

  it("a PV guest under the hypervisor: hypervisor steps on the pCPU tracks, still valid", () => {
    const trace = tmpFile("pv.json");
    const r = shootdown("run", PV, "--hv", "--cpus", "2", "--trace", trace, "--", "iterations=1");
    expect(r.status).toBe(0);
    const { problems, events } = checkTrace(readFileSync(trace, "utf8"));
    expect(problems).toEqual([]);
    const steps = events.filter((e) => e.cat === "hypervisor" && e.ph === "X");
    expect(new Set(steps.map((e) => e.tid))).toEqual(new Set([1, 2]));
  });

  it("--nested: the hypervisor's assisted flushes are marked (L0's hypercall, the targets' forced exits) and priced by path", () => {
    const trace = tmpFile("nested.json");
    const r = shootdown("run", PV, "--hv", "--cpus", "4", "--nested", "--stats", "--trace", trace, "--", "iterations=1");
    expect(r.status).toBe(0);
    const { problems, events } = checkTrace(readFileSync(trace, "utf8"));
    expect(problems).toEqual([]);
    expect(events.some((e) => e.name === "HVMOP_flush_tlbs")).toBe(true);
    expect(events.some((e) => e.name === "L0 flush: forced VM exit and entry")).toBe(true);
    const f = stats(r).modelledCycles.flushes;
    expect(f.assisted.remoteFlushes).toBeGreaterThan(0);
    // Each assisted flush costs at least its hypercall and one forced exit and entry per target.
    expect(f.assisted.cyclesPerRemoteFlush).toBeGreaterThanOrEqual(COST_MODEL.l0FlushHypercall + COST_MODEL.vmExit + COST_MODEL.vmEntry);
    expect(f.local.initiatorCycles).toBeGreaterThanOrEqual(f.local.flushes * COST_MODEL.invlpg);
  });

  it("a trace that cannot be created is an error before the run (status 64); one that cannot be written, after it (status 2)", () => {
    const r = shootdown("run", HELLO, "--trace", join(ROOT, "no-such-directory", "t.json"));
    expect(r.status).toBe(64);
    expect(r.stderr).toBe(`shootdown run: cannot write ${join(ROOT, "no-such-directory", "t.json")}: ENOENT\n`);
    if (!existsSync("/dev/full")) return console.log("skipped the write error: no /dev/full here");
    const full = shootdown("run", HELLO, "--cpus", "2", "--trace", "/dev/full");
    expect(full.stderr).toMatch(/^shootdown run: cannot write \/dev\/full: ENOSPC$/m);
    expect(full.status).toBe(2);
  });
});

describe("the modelled cycles in the summary", () => {
  it("--stats: modelled cycles per pCPU (by kind) and per flush path, with the table used", () => {
    const s = stats(shootdown("run", HELLO, "--cpus", "4", "--stats"));
    expect(s.costModel).toEqual(COST_MODEL);
    const m = s.modelledCycles;
    expect(m.clockMHz).toBe(COST_MODEL.clockMHz);
    expect(m.pcpus).toHaveLength(4);
    for (const c of m.pcpus) {
      const cpu = s.cpus[c.index];
      expect(c.byKind.guest).toBe(cpu.instructions * COST_MODEL.guestInstruction);
      expect(c.byKind.walks).toBe(cpu.counters.walkReads * COST_MODEL.walkLevel);
      expect(c.byKind.interrupts).toBe(cpu.counters.ipisSent * COST_MODEL.ipiSend + (cpu.counters.interrupts + cpu.counters.exceptions) * COST_MODEL.interruptEntry);
      expect(c.cycles).toBe(Object.values(c.byKind as Record<string, number>).reduce((a, b) => a + b, 0) - c.byKind.wait);
    }
    expect(Object.keys(m.flushes)).toEqual(["local", "ipi", "assisted"]);
  });

  it("--json has them too; the text summary shows them when the model ran (--cost-model, --trace)", () => {
    const json = shootdown("run", HELLO, "--cpus", "2", "--json");
    expect(JSON.parse(json.stdout).modelledCycles.pcpus).toHaveLength(2);
    const text = shootdown("run", HELLO, "--cpus", "2", "--cost-model", costFile("{}"));
    expect(text.stderr).toMatch(/^modelled cycles \(cost model, 3000 MHz\): /m);
    expect(text.stderr).toMatch(/^ {2}pCPU 1: \d+ cycles, clock \d+ \(guest \d+/m);
    expect(text.stderr).toMatch(/^flush cycles by path: local none; ipi none; assisted none$/m);
    expect(shootdown("run", HELLO, "--cpus", "2").stderr).not.toMatch(/modelled cycles/);
  });
});

describe("run --cost-model", () => {
  it("overrides the constants it names", () => {
    const base = stats(shootdown("run", HELLO, "--cpus", "2", "--stats"));
    const file = costFile(JSON.stringify({ guestInstruction: 3, walkLevel: 0, clockMHz: 1000 }));
    const s = stats(shootdown("run", HELLO, "--cpus", "2", "--stats", "--cost-model", file));
    expect(s.costModel).toEqual({ ...COST_MODEL, guestInstruction: 3, walkLevel: 0, clockMHz: 1000 });
    s.modelledCycles.pcpus.forEach((c: any, i: number) => {
      const b = base.modelledCycles.pcpus[i];
      expect(c.byKind.guest).toBe(3 * b.byKind.guest / COST_MODEL.guestInstruction);
      expect(c.byKind.walks).toBe(0);
      expect(c.byKind.tlb).toBe(b.byKind.tlb);
    });
    expect(s.modelledCycles.clockMHz).toBe(1000);
  });

  it("refuses a bad file with status 64 and the key it gets wrong", () => {
    const unknown = costFile('{"ipiLatency": 3000}');
    let r = shootdown("run", HELLO, "--cost-model", unknown);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(new RegExp(`^shootdown run: ${unknown}: "ipiLatency" is not a constant of the cost model \\(the constants: clockMHz, `));
    const text = costFile('{"vmExit": "500"}');
    r = shootdown("run", HELLO, "--cost-model", text);
    expect(r.status).toBe(64);
    expect(r.stderr).toBe(`shootdown run: ${text}: "vmExit" must be a number of cycles, not "500"\n`);
    r = shootdown("run", HELLO, "--cost-model", join(ROOT, "no-such-costs.json"));
    expect(r.status).toBe(64);
    expect(r.stderr).toBe(`shootdown run: cannot read ${join(ROOT, "no-such-costs.json")}: ENOENT\n`);
  });
});
