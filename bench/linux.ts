// SPDX-License-Identifier: MIT
//
// `shootdown bench linux` (`npm run bench -- linux`, issue 18): what each way
// of flushing remote TLBs and of freeing page tables costs the Linux-style
// guest (guest/x86_64/linux), and what it risks, from one run of the bench.
//
// Configurations: flush= ipi, async (bare) and hyperv, xen (under --hv
// --hvm, where the interface exists; bare the guest stops with status 3),
// each with tablefree= direct, rcu and sync-ipi; and ipi again under --hv
// --hvm, the native flush on the same virtual machine as the paravirtual
// ones. flush=async is the RFC without its condition 1 (async-safe=off):
// with it on, a munmap's flush frees tables and stays synchronous, as ipi.
//
// Costs: seeded random interleavings (seeds 0…N-1, the pCPUs progressing
// evenly as real ones do) of workload=gup-race measure=on, priced by the
// cost model (emulator/machine/timing/cost-model.ts) as `run --stats` prices
// them. measure=on makes the guest mark each munmap, each gup_fast's
// interrupts-off section and each RCU batch's wait for its grace period
// with span annotations (docs/annotations.md), and print the tables it held
// waiting for a grace period (peak, and a sum over a sample taken as each
// munmap hands its tables over, whose mean the bench takes). A span's cycles
// are what its CPU (vCPU) did between its begin and its end; a CPU asleep in
// HLT waiting for another's IPI costs nothing on the modelled clock, so the
// wait of a synchronous IPI flush for its targets is not in munmap's
// figure (README says what that leaves out). IPIs and hypercalls are the
// guest's own counts; VM exits are the host's, without I/O exits: those
// carry the console's output (most of them, the summary's lines) and the
// annotations (shootdown's instruments, not the guest's work).
//
// Violations: `shootdown explore`'s PCT search (depth 3, the measured
// horizon, every seed counted) over the workload that makes each hazard
// possible, measure=off: gup-race for ipi, with pages=32 and --quantum 50
// under --hv --hvm so that a decision can end inside a walk; the
// earlier-queued callbacks (workload=async-callback dontneed=0) for async.
// A run fails when the sanitizer stops it (status 4) or the guest finds its
// own data corrupt (status 1).
//
// Then munmap's cycles against the vCPU count, for the three flushes under
// --hv --hvm with tablefree=rcu: an IPI flush exits once per target for its
// ICR writes, a hypercall once.

import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { calibratedOptions, runImage } from "../emulator/run.ts";
import { withDefaults } from "../emulator/run-guest.ts";
import { packageRoot } from "../emulator/machine/core/wasm.ts";
import type { RecordedOptions } from "../emulator/machine/core/schedule-file.ts";
import { attachTiming, COST_MODEL, type ModelledCycles } from "../emulator/machine/timing/index.ts";
import { runPool } from "../emulator/explore/pool.ts";
import type { BenchOptions } from "./cli.ts";

export type Flush = "ipi" | "hyperv" | "xen" | "async";
export type TableFree = "direct" | "rcu" | "sync-ipi";

export interface Config {
  flush: Flush;
  tablefree: TableFree;
  /** Under --hv --hvm (else bare). */
  hvm: boolean;
}

/** The rows, in the order printed: each flush × tablefree where its interface exists, and ipi under --hv --hvm too. */
export const CONFIGS: readonly Config[] = (["ipi", "async", "hyperv", "xen", "ipi-hvm"] as const).flatMap((f) =>
  (["direct", "rcu", "sync-ipi"] as const).map((tablefree) => ({
    flush: f === "ipi-hvm" ? "ipi" : f, tablefree, hvm: f === "hyperv" || f === "xen" || f === "ipi-hvm",
  })));

/** The guest's command line for the cost runs (measure=on) and for the search (measure off, the guest's default). */
export function costCmdline(c: Config): string {
  return `flush=${c.flush} tablefree=${c.tablefree}${c.flush === "async" ? " async-safe=off" : ""} workload=gup-race rounds=3 measure=on`;
}

export function searchCmdline(c: Config): string {
  if (c.flush === "async") return `flush=async async-safe=off tablefree=${c.tablefree} workload=async-callback dontneed=0`;
  return `flush=${c.flush} tablefree=${c.tablefree} workload=gup-race${c.hvm ? " pages=32" : ""}`;
}

/** What one clean cost run's console says: the guest's counters and its measure line. */
export interface GuestFigures {
  /** Per CPU: the summary's counters (mmap=, ipi-sent=, …). */
  cpus: Record<string, number>[];
  tablesHeldPeak: number;
  tablesHeldSum: number;
  tablesHeldSamples: number;
}

/** The figures of a clean run's console, or undefined when the guest did not end cleanly with measure=on. */
export function parseGuestConsole(text: string): GuestFigures | undefined {
  if (!/: no corruption \(peak \d+ tables waiting for a grace period\)\n$/.test(text)) return undefined;
  const measure = /^linux: measure: tables-held-peak=(\d+) tables-held-sum=(\d+) tables-held-samples=(\d+)$/m.exec(text);
  if (!measure) return undefined;
  const cpus: Record<string, number>[] = [];
  for (const m of text.matchAll(/^linux: cpu(\d+) (.*)$/gm)) {
    cpus[Number(m[1])] = Object.fromEntries(m[2]!.split(" ").map((kv) => kv.split("=")).map(([k, v]) => [k!, Number(v)]));
  }
  return { cpus, tablesHeldPeak: Number(measure[1]), tablesHeldSum: Number(measure[2]), tablesHeldSamples: Number(measure[3]) };
}

/** What the host said of one run: its VM exits but the I/O ones (the console's and the annotations'); undefined bare. */
export function vmExitsOf(hypervisor: Record<string, unknown> | undefined): number | undefined {
  if (!hypervisor) return undefined;
  const exits = (hypervisor.exits ?? {}) as Record<string, number>;
  return Object.entries(exits).reduce((n, [reason, k]) => (reason === "io" ? n : n + k), 0);
}

/** A configuration's cost runs, added up. */
export class CostTally {
  runs = 0;
  /** Runs that did not end cleanly (not priced). */
  unclean = 0;
  private readonly spans = new Map<string, { count: number; cycles: number }>();
  private ipis = 0;
  private hypercalls = 0;
  private exits: number | undefined;
  private heldPeak = 0;
  private heldSum = 0;
  private heldSamples = 0;

  add(guest: GuestFigures | undefined, cycles: ModelledCycles | undefined, vmExits: number | undefined): void {
    if (!guest || !cycles) {
      this.unclean++;
      return;
    }
    this.runs++;
    for (const [name, s] of Object.entries(cycles.spans ?? {})) {
      const t = this.spans.get(name) ?? { count: 0, cycles: 0 };
      t.count += s.count;
      t.cycles += s.cycles;
      this.spans.set(name, t);
    }
    for (const c of guest.cpus) {
      this.ipis += c["ipi-sent"] ?? 0;
      this.hypercalls += c.hypercall ?? 0;
    }
    if (vmExits !== undefined) this.exits = (this.exits ?? 0) + vmExits;
    this.heldPeak = Math.max(this.heldPeak, guest.tablesHeldPeak);
    this.heldSum += guest.tablesHeldSum;
    this.heldSamples += guest.tablesHeldSamples;
  }

  /** Modelled cycles per span of this name, or undefined when none ended. */
  cyclesPer(name: string): number | undefined {
    const t = this.spans.get(name);
    return t && t.count ? t.cycles / t.count : undefined;
  }

  /** Per clean run: IPIs the guest sent, hypercalls it made, VM exits (undefined bare). */
  perRun(): { ipis: number; hypercalls: number; exits: number | undefined } {
    const n = Math.max(1, this.runs);
    return { ipis: this.ipis / n, hypercalls: this.hypercalls / n, exits: this.exits === undefined ? undefined : this.exits / n };
  }

  /** Tables waiting for a grace period: the highest any run saw, and the mean over every sample. */
  tablesHeld(): { peak: number; mean: number } {
    return { peak: this.heldPeak, mean: this.heldSamples ? this.heldSum / this.heldSamples : 0 };
  }
}

function options(c: Config, cmdline: string, vcpus: number, seed: number, pct: boolean): RecordedOptions {
  const o = withDefaults({
    cpus: vcpus, cmdline, seed: BigInt(seed), mode: pct ? "pct" : "random",
    ...(c.hvm ? { hv: { domains: 1, vcpus, domMemBytes: 0n, hvm: true } } : {}),
    ...(c.hvm && pct ? { quantum: 50 } : {}),
  }, "x86_64");
  return pct ? { ...o, pct: { depth: 3, horizon: 0 } } : o;
}

/** The cost runs of one configuration on `vcpus` CPUs: seeds 0…runs-1. */
function costRuns(image: Uint8Array, c: Config, vcpus: number, runs: number): CostTally {
  const tally = new CostTally();
  for (let seed = 0; seed < runs; seed++) {
    const bytes: number[] = [];
    let finish: (() => ModelledCycles) | undefined;
    const r = runImage({ ...options(c, costCmdline(c), vcpus, seed, false), image, console: (b) => bytes.push(b) }, (p) => {
      finish = attachTiming(p, COST_MODEL).finish;
    });
    const cycles = finish?.();
    const guest = r.status === 0 ? parseGuestConsole(Buffer.from(bytes).toString("latin1")) : undefined;
    tally.add(guest, cycles, vmExitsOf(r.hypervisor));
  }
  return tally;
}

const fixed = (v: number | undefined, digits = 0) => (v === undefined ? "–" : v.toFixed(digits));

export async function linuxSuite({ scale, out }: BenchOptions): Promise<void> {
  const image = readFileSync(join(packageRoot(), "guest", "x86_64", "linux", "kernel.elf"));
  // The costs settle within a few runs; --scale raises them up to 8, the searches without limit.
  const costSeeds = Math.min(8, Math.max(2, Math.round(4 * scale)));
  // Explore's runs under --hv --hvm are some ten times slower than bare ones: fewer of them by default.
  const bareRuns = Math.max(50, Math.round(200 * scale));
  const hvmRuns = Math.max(20, Math.round(100 * scale));
  const jobs = Math.max(1, availableParallelism());
  const vcpus = 4;
  out(`linux: guest/x86_64/linux/kernel.elf on ${vcpus} CPUs (vCPUs under --hv --hvm, one per pCPU); cycles from the cost model ` +
    `(ipiSend ${COST_MODEL.ipiSend}, interruptEntry ${COST_MODEL.interruptEntry}, invlpg ${COST_MODEL.invlpg}, vmExit ${COST_MODEL.vmExit}, vmEntry ${COST_MODEL.vmEntry}, hypervisorStep ${COST_MODEL.hypervisorStep})`);
  out(`  costs: workload=gup-race rounds=3 measure=on, seeds 0–${costSeeds - 1}, seeded random interleaving; figures per clean run ` +
    `(${vcpus} CPUs × 3 rounds: 12 munmaps, 48 gup_fast); async is async-safe=off`);
  out(`  violations: explore (PCT depth 3, measured horizon, --all) per 1,000 runs, over ${bareRuns} runs bare ` +
    `(async: workload=async-callback dontneed=0; ipi: workload=gup-race) and ${hvmRuns} under --hv --hvm ` +
    `(workload=gup-race pages=32 --quantum 50)`);
  out(`  ${"flush".padEnd(12)}${"tablefree".padEnd(10)}${"munmap".padStart(8)}${"gup_fast".padStart(9)}${"IPIs".padStart(6)}${"exits".padStart(7)}` +
    `${"hcalls".padStart(7)}${"held peak".padStart(10)}${"held mean".padStart(10)}${"grace period".padStart(13)}${"viol./1000".padStart(11)}${"runs".padStart(6)}`);
  for (const c of CONFIGS) {
    const t = costRuns(image, c, vcpus, costSeeds);
    const search = calibratedOptions(options(c, searchCmdline(c), vcpus, 0, true), image);
    const runs = c.hvm ? hvmRuns : bareRuns;
    const found = await runPool({ image, options: search, first: 0n, end: BigInt(runs), jobs, all: true });
    const per = t.perRun();
    const held = t.tablesHeld();
    const name = `${c.flush}${c.hvm && c.flush === "ipi" ? " (hvm)" : ""}`;
    out(`  ${name.padEnd(12)}${c.tablefree.padEnd(10)}${fixed(t.cyclesPer("munmap")).padStart(8)}${fixed(t.cyclesPer("gup_fast")).padStart(9)}` +
      `${fixed(per.ipis).padStart(6)}${fixed(per.exits).padStart(7)}${fixed(per.hypercalls).padStart(7)}${String(held.peak).padStart(10)}` +
      `${fixed(held.mean, 2).padStart(10)}${fixed(t.cyclesPer("grace period")).padStart(13)}` +
      `${String(Math.round((1000 * found.failureCount) / runs)).padStart(11)}${String(runs).padStart(6)}` +
      (t.unclean ? `  (${t.unclean} of ${costSeeds} cost runs not clean, left out)` : ""));
  }
  out(`  munmap against the vCPU count, --hv --hvm, tablefree=rcu, seeds 0–${costSeeds - 1}: modelled cycles per munmap (VM exits per run)`);
  for (const flush of ["ipi", "hyperv", "xen"] as const) {
    const cells: string[] = [];
    for (const n of [2, 4, 8]) {
      const t = costRuns(image, { flush, tablefree: "rcu", hvm: true }, n, costSeeds);
      cells.push(`${n} vCPUs ${fixed(t.cyclesPer("munmap")).padStart(6)} (${fixed(t.perRun().exits)})`);
    }
    out(`    ${flush.padEnd(8)}${cells.join("   ")}`);
  }
}
