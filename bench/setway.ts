// SPDX-License-Identifier: MIT
//
// `shootdown bench setway` (`npm run bench -- setway`): what Xen's set/way
// emulation costs and what leaving it out costs (issue 15, mechanisms §4.4,
// §4.6), on guest/aarch64/setway.elf under --hv --cpus 2 --vcpus 2
// --migrate 0.05.
//
// For trap, trap-inline and trap-xen, from one run (seeded random
// interleaving, seed 0, --keep-going so that the run goes to its end
// whatever the sanitizer says, its violations counted), priced by the cost
// model (emulator/machine/timing/cost-model.ts):
//   - the modelled cycles of each p2m flush: what its pCPUs spent inside its
//     p2m_flush_vm spans, every stretch of a preempted flush added up (the
//     cleaning is cleanToPocPage a page and p2mEntrySkipped an entry skipped,
//     each TLBI VMALLS12E1IS after valid bits are cleared tlbiBroadcast;
//     the steps hypervisorStep each);
//   - pages cleaned, entries skipped because their valid bit is 0, the
//     TLBIs (one per chunk that cleaned a page under trap and trap-inline,
//     one per flush under trap-xen), the flushes' preemptions, the TVM
//     traps taken (the run's summary);
//   - the longest stretch in EL2 without a preemption point: the cycles a
//     pCPU spent from a VM exit (or the start of a resumed flush) to the
//     next softirq check of p2m_cache_flush_range, the VM entry, or the
//     flush giving the pCPU up, whichever came first.
// For passthrough, the runs in which the guest read stale data (its check
// failed, status 1) per 1,000 runs, under PCT depth 3 over seeds 0…N-1,
// with the system cache and without it.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { engineFor } from "../emulator/run.ts";
import { withDefaults } from "../emulator/run-guest.ts";
import { reportOf } from "../emulator/machine/core/report.ts";
import { packageRoot } from "../emulator/machine/core/wasm.ts";
import type { RecordedOptions } from "../emulator/machine/core/schedule-file.ts";
import type { TimelineEvent } from "../emulator/machine/core/timeline.ts";
import { COST_MODEL } from "../emulator/machine/timing/index.ts";
import { ModelledClock, type ClockObserver } from "../emulator/machine/timing/modelled-clock.ts";
import type { BenchOptions } from "./cli.ts";

type Policy = "trap" | "trap-inline" | "trap-xen" | "passthrough";

/** PCT's horizon for the passthrough runs, given rather than measured: about the decisions of a run (explore's --horizon). */
const HORIZON = 20_000;

function options(setWay: Policy, systemCache: boolean, pct: boolean): RecordedOptions {
  const o = withDefaults({
    cpus: 2, seed: 0n, mode: pct ? "pct" : "random", keepGoing: !pct,
    hv: { domains: 1, vcpus: 2, domMemBytes: 16n << 20n, migrate: 0.05, setWay },
  }, "aarch64");
  return { ...o, ...(pct ? { pct: { depth: 3, horizon: HORIZON } } : {}), ...(systemCache ? {} : { systemCache: false }) };
}

interface FlushFigures {
  /** Modelled cycles of each flush, in the order they finished. */
  flushes: number[];
  /** The longest stretch in EL2 without a preemption point, in cycles. */
  longestStretch: number;
}

/** Watches the priced timeline for the flushes' cycles and the stretches in EL2 (see the file's comment). */
class FlushWatcher implements ClockObserver {
  readonly figures: FlushFigures = { flushes: [], longestStretch: 0 };
  /** Per vCPU: the cycles of its flush so far, and whether it was preempted (its next span goes on with it). */
  private readonly open = new Map<string, { cycles: number; preempted: boolean }>();
  /** Per pCPU: the flush span it is in, and the EL2 stretch it is in (cycles, or undefined in the guest). */
  private readonly span: (string | undefined)[] = [];
  private readonly stretch: (number | undefined)[] = [];

  event(e: TimelineEvent, start: number, end: number): void {
    const cpu = e.cpu;
    const vcpu = (name: string) => /^p2m_flush_vm (\S+)/.exec(name)?.[1];
    const cost = end - start;
    const inSpan = this.span[cpu];
    if (inSpan !== undefined) this.open.get(inSpan)!.cycles += cost;
    if (this.stretch[cpu] !== undefined) {
      this.stretch[cpu]! += cost;
      this.figures.longestStretch = Math.max(this.figures.longestStretch, this.stretch[cpu]!);
    }
    switch (e.kind) {
      case "vmexit":
        this.stretch[cpu] = cost;
        break;
      case "vmentry":
      case "guest":
        this.stretch[cpu] = undefined;
        break;
      case "hv-step":
        // The step announced next is p2m_cache_flush_range's softirq check: a preemption point.
        if (/softirq check$/.test(e.what) && this.stretch[cpu] !== undefined) this.stretch[cpu] = 0;
        break;
      case "routine-begin": {
        const v = vcpu(e.name);
        if (v === undefined) break;
        const f = this.open.get(v);
        if (!f || !f.preempted) {
          if (f) this.figures.flushes.push(f.cycles);
          this.open.set(v, { cycles: 0, preempted: false });
        } else f.preempted = false;
        this.span[cpu] = v;
        this.stretch[cpu] ??= 0;
        break;
      }
      case "routine-end":
        if (vcpu(e.name) !== undefined) this.span[cpu] = undefined;
        break;
      case "mark": {
        const v = / preempted$/.test(e.name) ? vcpu(e.name) : undefined;
        if (v === undefined) break;
        this.open.get(v)!.preempted = true;
        this.stretch[cpu] = undefined;
        break;
      }
    }
  }

  finish(): FlushFigures {
    for (const f of this.open.values()) this.figures.flushes.push(f.cycles);
    this.open.clear();
    return this.figures;
  }

  counted(): void {}
  waited(): void {}
  charged(): void {}
  involved(): void {}
  flushClosed(): void {}
}

function oneRun(image: Uint8Array, setWay: Policy) {
  const o = options(setWay, true, false);
  const engine = engineFor({ ...o, image, console: () => {}, record: false });
  const platform = engine.platform;
  const watcher = new FlushWatcher();
  const clock = new ModelledClock(COST_MODEL, { counters: (i) => platform.counters(i), cpus: platform.cpuCount, observer: watcher });
  platform.timeline.sink = clock;
  engine.runToEnd();
  platform.timeline.sink = undefined;
  clock.finish();
  const r = reportOf(engine, image, false, "eager");
  platform.machine.release();
  const h = r.hypervisor as { trapOutcomes: Record<string, number>; violations: number };
  return { status: r.status, violations: h.violations, outcomes: h.trapOutcomes, ...watcher.finish() };
}

function staleRuns(image: Uint8Array, systemCache: boolean, runs: number): number {
  const o = options("passthrough", systemCache, true);
  let failed = 0;
  for (let seed = 0; seed < runs; seed++) {
    const engine = engineFor({ ...o, seed: BigInt(seed), image, console: () => {}, record: false });
    engine.runToEnd();
    const r = reportOf(engine, image, false, "eager");
    engine.platform.machine.release();
    if (r.status !== 0) failed++;
  }
  return failed;
}

const k = (cycles: number) => `${(cycles / 1000).toFixed(1)}k`;

export function setwaySuite({ scale, out }: BenchOptions): void {
  const image = readFileSync(join(packageRoot(), "guest", "aarch64", "setway.elf"));
  out(`setway: guest/aarch64/setway.elf --hv --cpus 2 --vcpus 2 --migrate 0.05 (rounds=4); cycles from the cost model ` +
    `(cleanToPocPage ${COST_MODEL.cleanToPocPage}, p2mEntrySkipped ${COST_MODEL.p2mEntrySkipped}, tlbiBroadcast ${COST_MODEL.tlbiBroadcast}, hypervisorStep ${COST_MODEL.hypervisorStep})`);
  out(`  one run each, seeded random interleaving, seed 0, --keep-going:`);
  out(`  ${"policy".padEnd(13)}${"flushes".padStart(8)}${"cycles/flush min–median–max".padStart(30)}${"total".padStart(9)}${"cleaned".padStart(9)}${"skipped".padStart(9)}` +
    `${"TLBIs".padStart(7)}${"preempt.".padStart(9)}${"longest EL2".padStart(12)}${"TVM traps".padStart(10)}${"violations".padStart(11)}`);
  for (const policy of ["trap", "trap-inline", "trap-xen"] as const) {
    const t = oneRun(image, policy);
    const sorted = [...t.flushes].sort((a, b) => a - b);
    const spread = sorted.length ? `${k(sorted[0]!)}–${k(sorted[sorted.length >> 1]!)}–${k(sorted.at(-1)!)}` : "–";
    const o = t.outcomes;
    out(`  ${policy.padEnd(13)}${String(t.flushes.length).padStart(8)}${spread.padStart(30)}${k(t.flushes.reduce((a, b) => a + b, 0)).padStart(9)}` +
      `${String(o["p2m flush: pages cleaned"] ?? 0).padStart(9)}${String(o["p2m flush: entries skipped"] ?? 0).padStart(9)}${String(o["p2m flush: TLB flushes"] ?? 0).padStart(7)}` +
      `${String(o["p2m flush: preemptions"] ?? 0).padStart(9)}${k(t.longestStretch).padStart(12)}${String(o["TVM trap"] ?? 0).padStart(10)}${String(t.violations).padStart(11)}`);
    out(`    each flush, in cycles: ${t.flushes.map((c) => Math.round(c)).join(" ")}${t.status === 0 ? "" : ` (the run ended with status ${t.status})`}`);
  }
  const runs = Math.max(20, Math.round(200 * scale));
  out(`  passthrough, PCT depth 3, horizon ${HORIZON}, seeds 0–${runs - 1}: runs whose guest read stale data, per 1,000 runs (resolution ${(1000 / runs).toFixed(1)})`);
  for (const systemCache of [true, false]) {
    const n = staleRuns(image, systemCache, runs);
    out(`    system cache ${systemCache ? "on " : "off"}: ${((1000 * n) / runs).toFixed(0)} (${n} of ${runs})`);
  }
}
