// SPDX-License-Identifier: MIT
//
// PvHost carries out a SCHEDOP_yield that finds nothing else runnable at
// the exit, without a routine (pv-host.ts, yieldInPlace), except in a
// traced run, whose timeline must see the routine's events. So a run with a
// timeline sink takes the routine's way at every yield and a run without
// one takes the short way: both must end with the same machine, the same
// hypervisor summary and the same schedule.

import { describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { calibratedOptions, engineFor } from "../../emulator/run.ts";
import { withDefaults } from "../../emulator/run-guest.ts";
import { PvHost } from "../../hypervisor/x86/pv-host.ts";
import type { RecordedOptions } from "../../emulator/machine/core/schedule-file.ts";
import { ROOT } from "../helpers/run.ts";

const kernel = readFileSync(join(ROOT, "guest", "x86_64", "pv", "kernel.elf"));

function optionsFor(hv: { nested?: boolean; forceIpi?: boolean }): RecordedOptions {
  const o = withDefaults({ cpus: 4, cmdline: "workload=spurious-race", seed: 0n, hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n, ...hv } }, "x86_64");
  return calibratedOptions({ ...o, mode: "pct", pct: { depth: 3, horizon: 0 } }, kernel);
}

function run(options: RecordedOptions, seed: number, traced: boolean) {
  const e = engineFor({ ...options, seed: BigInt(seed), image: kernel, console: () => {}, record: true });
  let events = 0;
  if (traced) e.platform.timeline.sink = { event: () => void events++ };
  const end = e.runToEnd();
  const out = {
    end, decisions: e.decisions, instructions: e.instructionsSoFar, stateHash: e.platform.stateHash(),
    summary: e.platform.hypervisorSummary(), schedule: [...e.schedule], hypercalls: e.platform.inspectHypervisor("hypercalls", ["300"]),
  };
  e.platform.machine.release();
  return { ...out, events };
}

describe("a yield with nothing else to run, carried out at the exit", () => {
  it.each([
    ["--nested --no-force-ipi", { nested: true, forceIpi: false }, 1],
    ["--nested", { nested: true }, 4],
    ["plain IPIs", {}, 6],
  ])("ends %s runs as the routine's way does", (_name, hv, seed) => {
    // (PCT's horizon is calibrated by runs of its own, before the spy.)
    const options = optionsFor(hv);
    const spy = vi.spyOn(PvHost.prototype as unknown as { yieldInPlace(...a: unknown[]): unknown }, "yieldInPlace");
    const short = run(options, seed, false);
    const taken = spy.mock.results.filter((r) => r.value !== undefined).length;
    spy.mockClear();
    const routine = run(options, seed, true);
    const takenTraced = spy.mock.results.filter((r) => r.value !== undefined).length;
    spy.mockRestore();
    // The short way was taken hundreds of times without a trace, never with one.
    expect(taken).toBeGreaterThan(100);
    expect(takenTraced).toBe(0);
    expect(routine.events).toBeGreaterThan(0);
    const { events: _e, ...traced } = routine;
    const { events: _s, ...untraced } = short;
    expect(untraced).toEqual(traced);
  });
});
