// SPDX-License-Identifier: MIT
//
// `shootdown bench sharing` (`npm run bench -- sharing`): what memory
// sharing saves and costs (issue 19, mechanisms §5), on the scenario guest
// guest/x86_64/sharing/kernel.elf under --hv --hvm --cpus 2 --vcpus 2
// --domains 2 --dom-mem 16M --sharing-daemon, from one run per
// configuration (seeded random interleaving, seed 0, --keep-going so that
// a run goes on past the sanitizer's reports, which are counted), priced by
// the cost model:
//
//   - frames saved: at the end and at the peak (nr_saved_mfns);
//   - shares and unshares per second of modelled time (the run's longest
//     pCPU clock at the cost model's clock rate);
//   - copy-on-write faults (EPT write violations on shared pages);
//   - page-lock and p2m-lock hold times, in modelled cycles from the step
//     that took the lock to the step that released it, mean and longest;
//   - spins: steps spent waiting for a page lock, for page_unlock in
//     _put_page_type, or for a p2m lock, and their cycles;
//   - the lock sanitizer's reports, and how the run ended.
//
// Beside them, the same guest with no sharing (no daemon), for the cost of
// the copy-on-write faults to the guest: its modelled time.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../emulator/machine/core/engine.ts";
import { bootHvmPlatform } from "../hypervisor/x86/hvm/boot.ts";
import type { HvmHost } from "../hypervisor/x86/hvm/hvm-host.ts";
import { withDefaults } from "../emulator/run-guest.ts";
import { reportOf } from "../emulator/machine/core/report.ts";
import { packageRoot } from "../emulator/machine/core/wasm.ts";
import type { RecordedOptions } from "../emulator/machine/core/schedule-file.ts";
import type { TimelineEvent } from "../emulator/machine/core/timeline.ts";
import { COST_MODEL } from "../emulator/machine/timing/index.ts";
import { ModelledClock, type ClockObserver } from "../emulator/machine/timing/modelled-clock.ts";
import type { LockSanitizer } from "../hypervisor/common/lock-sanitizer.ts";
import type { BenchOptions } from "./cli.ts";

type History = NonNullable<NonNullable<RecordedOptions["hv"]>["sharing"]>;

interface Configuration {
  name: string;
  daemon: boolean;
  sharing?: History;
  pageLockCheck?: boolean;
}

const TODAY: History = { sharingLock: "private", sharingOrder: "mfn", sharingRelease: "after-unlock" };
export const SHARING_CONFIGURATIONS: readonly Configuration[] = [
  { name: "no sharing", daemon: false },
  { name: "today's Xen", daemon: true },
  { name: "unordered", daemon: true, sharing: { ...TODAY, sharingOrder: "unordered" } },
  { name: "generic+check", daemon: true, sharing: { ...TODAY, sharingLock: "generic" }, pageLockCheck: true },
  { name: "before-unlock", daemon: true, sharing: { ...TODAY, sharingRelease: "before-unlock" } },
];

/** The guest's command line: rounds enough for several shares and unshares of its region. */
const CMDLINE = "rounds=60";

function options(c: Configuration): RecordedOptions {
  return withDefaults({
    cpus: 2, seed: 0n, mode: "random", keepGoing: true, cmdline: CMDLINE, memBytes: 16n << 20n,
    hv: {
      domains: 2, vcpus: 2, domMemBytes: 16n << 20n, hvm: true,
      ...(c.daemon ? { sharingDaemon: true } : {}), ...(c.sharing ? { sharing: c.sharing } : {}), ...(c.pageLockCheck ? { pageLockCheck: true } : {}),
    },
  }, "x86_64");
}

/** Hold times of one kind of lock, in modelled cycles. */
export class HoldTimes {
  readonly holds: number[] = [];
  get mean(): number {
    return this.holds.length ? this.holds.reduce((a, b) => a + b, 0) / this.holds.length : 0;
  }
  get longest(): number {
    return this.holds.reduce((a, b) => Math.max(a, b), 0);
  }
}

/**
 * Watches the priced timeline: at each event of a pCPU, which page locks
 * and p2m locks it holds now (the lock sanitizer's view after the step
 * before), so that a lock's hold runs from the event at which it is first
 * held to the one at which it no longer is; and the waiting steps.
 */
export class LockWatcher implements ClockObserver {
  readonly pageLocks = new HoldTimes();
  readonly p2mLocks = new HoldTimes();
  spins = 0;
  spinCycles = 0;
  peakSaved = 0;
  private readonly held: Map<string, number>[] = [];

  constructor(private readonly locks: () => LockSanitizer | undefined, private readonly saved: () => number) {}

  event(e: TimelineEvent, start: number, end: number): void {
    const locks = this.locks();
    if (!locks) return;
    const cpu = e.cpu;
    const now = new Set([...locks.pageLocksHeld(cpu).map((m) => `page ${m}`), ...locks.mmLocksHeld(cpu).filter((id) => / p2m$/.test(id)).map((id) => `p2m ${id}`)]);
    const held = (this.held[cpu] ??= new Map());
    for (const [lock, since] of held) {
      if (now.has(lock)) continue;
      (lock.startsWith("page") ? this.pageLocks : this.p2mLocks).holds.push(start - since);
      held.delete(lock);
    }
    for (const lock of now) if (!held.has(lock)) held.set(lock, start);
    if (e.kind === "hv-step" && e.wait && /page_lock|page_unlock|p2m lock/.test(e.what)) {
      this.spins++;
      this.spinCycles += end - start;
    }
    this.peakSaved = Math.max(this.peakSaved, this.saved());
  }

  counted(): void {}
  waited(): void {}
  charged(): void {}
  involved(): void {}
  flushClosed(): void {}
  finish(): void {}
}

interface Figures {
  status: number;
  end: string;
  seconds: number;
  saved: number;
  peakSaved: number;
  shares: number;
  unshares: number;
  cow: number;
  watcher: LockWatcher;
  violations: number;
}

function oneRun(image: Uint8Array, c: Configuration): Figures {
  let host: HvmHost | undefined;
  const engine = new Engine({
    options: options(c), log: false, console: () => {},
    build: (o, console) => bootHvmPlatform(image, o, console, {}, { host: (h) => (host = h) }),
  });
  const platform = engine.platform;
  const watcher = new LockWatcher(() => host?.hv.locks, () => host?.sharing.ms.nrSavedMfns ?? 0);
  const clock = new ModelledClock(COST_MODEL, { counters: (i) => platform.counters(i), cpus: platform.cpuCount, observer: watcher });
  platform.timeline.sink = clock;
  engine.runToEnd();
  platform.timeline.sink = undefined;
  clock.finish();
  const cycles = Math.max(...clock.summary().pcpus.map((p) => p.clock));
  const r = reportOf(engine, image, false, "eager");
  platform.machine.release();
  const h = r.hypervisor as { sharing?: { savedFrames: number; shared: number; unshared: number; cowFaults: number }; lockViolations: number };
  const s = h.sharing;
  const end = r.end.kind === "debug-exit" ? `exit ${r.end.code}` : r.end.kind === "crash" ? r.end.reason : r.end.kind;
  return {
    status: r.status, end, seconds: cycles / (COST_MODEL.clockMHz * 1e6),
    saved: s?.savedFrames ?? 0, peakSaved: watcher.peakSaved, shares: s?.shared ?? 0, unshares: s?.unshared ?? 0, cow: s?.cowFaults ?? 0,
    watcher, violations: h.lockViolations,
  };
}

const k = (cycles: number) => (cycles >= 10_000 ? `${(cycles / 1000).toFixed(0)}k` : cycles.toFixed(0));

export function sharingSuite({ out }: BenchOptions): void {
  const image = readFileSync(join(packageRoot(), "guest", "x86_64", "sharing", "kernel.elf"));
  out(`sharing: guest/x86_64/sharing/kernel.elf --hv --hvm --cpus 2 --vcpus 2 --domains 2 --dom-mem 16M -- ${CMDLINE}; one run each, seeded random interleaving, seed 0, --keep-going;`);
  out(`  cycles from the cost model (hypervisorStep ${COST_MODEL.hypervisorStep}, vmExit ${COST_MODEL.vmExit}, vmEntry ${COST_MODEL.vmEntry}), time at ${COST_MODEL.clockMHz} MHz`);
  out(`  ${"configuration".padEnd(15)}${"modelled".padStart(10)}${"saved".padStart(7)}${"peak".padStart(6)}${"shares/s".padStart(10)}${"unshares/s".padStart(11)}${"CoW".padStart(5)}` +
    `${"page lock mean/max".padStart(19)}${"p2m lock mean/max".padStart(18)}${"spins".padStart(7)}${"spin cyc".padStart(9)}${"reports".padStart(8)}  end`);
  for (const c of SHARING_CONFIGURATIONS) {
    const f = oneRun(image, c);
    const rate = (n: number) => (f.seconds > 0 ? (n / f.seconds).toFixed(0) : "–");
    const w = f.watcher;
    out(`  ${c.name.padEnd(15)}${`${(f.seconds * 1000).toFixed(2)}ms`.padStart(10)}${String(f.saved).padStart(7)}${String(f.peakSaved).padStart(6)}${rate(f.shares).padStart(10)}${rate(f.unshares).padStart(11)}${String(f.cow).padStart(5)}` +
      `${`${k(w.pageLocks.mean)}/${k(w.pageLocks.longest)}`.padStart(19)}${`${k(w.p2mLocks.mean)}/${k(w.p2mLocks.longest)}`.padStart(18)}${String(w.spins).padStart(7)}${k(w.spinCycles).padStart(9)}${String(f.violations).padStart(8)}  ${f.end}`);
  }
}
