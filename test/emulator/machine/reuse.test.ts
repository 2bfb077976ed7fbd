// SPDX-License-Identifier: MIT
//
// A run on a reused hardware instance (machine/core/wasm.ts: runImage hands
// its instance back, the next Machine resets and reuses it) reports exactly
// what the same run on a fresh instance reports: console, end, instructions,
// counters, exits, state hash. Each case runs its image fresh, then runs
// something that leaves a lot behind (another image, more CPUs, its own page
// tables with the MMU and caches on, dirty lines, the hypervisor), then runs
// the image again on that same instance.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runImage, engineFor, type RunConfig, type RunReport } from "../../../emulator/run.ts";
import { clearSpareInstances, instanceCounts } from "../../../emulator/machine/core/wasm.ts";
import { ROOT } from "../../helpers/run.ts";
import { benchImage } from "../../../bench/cpu.ts";
import { a64MmuOnSource, finiteA64, A64_MMU_LOOP_BODY, A64_TLBI_LOOP_BODY } from "../../../bench/guests.ts";

const guest = (path: string) => new Uint8Array(readFileSync(join(ROOT, "guest", path)));
const A64_HELLO = guest("aarch64/hello.elf");
const A64_SELFTEST = guest("aarch64/selftest.elf");
const X86_HELLO = guest("x86_64/hello.elf");
const PV_KERNEL = guest("x86_64/pv/kernel.elf");
const A64_MMU_LOOP = benchImage("aarch64", finiteA64(a64MmuOnSource(A64_MMU_LOOP_BODY), 3000));
const A64_TLBI_LOOP = benchImage("aarch64", finiteA64(a64MmuOnSource(A64_TLBI_LOOP_BODY), 500));

/**
 * Stores far from the image (8 MiB and 8 MiB + 4 KiB into RAM) with the MMU
 * off, through the data path's quick store, then ends: pages that only a
 * CPU's store made non-zero.
 */
const A64_FAR_STORES = benchImage("aarch64", `
        .text
        .globl _start
_start: movz    x1, #0x4080, lsl #16
        movz    x2, #0x1234
        str     x2, [x1]
        add     x3, x1, #1, lsl #12
        strb    w2, [x3]
        movz    w0, #0x0008
        movk    w0, #0x8400, lsl #16
        hvc     #0
`);
const X86_FAR_STORES = benchImage("x86_64", `
        .text
        .globl _start
_start: movabs  $0x800000, %rax
        movq    $0x1234, (%rax)
        movb    $0x56, 0x1000(%rax)
        xor     %eax, %eax
        out     %al, $0xf4
        hlt
`);

type Run = Partial<Omit<RunConfig, "console">> & { image: Uint8Array };

/** A run's report with its console, as `shootdown run` would make it. */
function run(r: Run): RunReport & { console: string } {
  const bytes: number[] = [];
  const report = runImage({
    cpus: 1, memBytes: 32n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000,
    maxSteps: 50_000_000n, tlbChaos: undefined, ...r, console: (b) => bytes.push(b),
  });
  return { ...report, console: Buffer.from(bytes).toString("latin1") };
}

/** The image run fresh, then after `dirtier` on the same instance: both reports. */
function freshThenReused(target: Run, ...dirtiers: Run[]) {
  clearSpareInstances();
  const before = instanceCounts();
  const fresh = run(target);
  for (const d of dirtiers) run(d);
  const reused = run(target);
  const after = instanceCounts();
  // One instance made, for the first run; every later run reused it.
  expect(after.instantiated - before.instantiated).toBe(1);
  expect(after.reused - before.reused).toBe(dirtiers.length + 1);
  return { fresh, reused };
}

describe("a run on a reused hardware instance", () => {
  it("AArch64: hello after the selftest (MMU and caches on) and a 16-CPU TLBI loop reports what it reports fresh", () => {
    const { fresh, reused } = freshThenReused(
      { image: A64_HELLO, cpus: 2 },
      { image: A64_SELFTEST, cpus: 4, memBytes: 128n << 20n },
      { image: A64_TLBI_LOOP, cpus: 16, memBytes: 64n << 20n },
      { image: A64_FAR_STORES, cpus: 1 },
    );
    expect(fresh.status).toBe(0);
    expect(fresh.console).toContain("hello");
    expect(reused).toEqual(fresh);
  });

  it("AArch64: the MMU-on loop (caches dirty at its end) after itself with more RAM and the selftest", () => {
    const { fresh, reused } = freshThenReused(
      { image: A64_MMU_LOOP, cpus: 1, memBytes: 16n << 20n },
      { image: A64_MMU_LOOP, cpus: 8, memBytes: 96n << 20n, mode: "random", seed: 7n },
      { image: A64_SELFTEST, cpus: 1, memBytes: 8n << 20n },
    );
    expect(fresh.status).toBe(0);
    expect(fresh.cpus[0]!.counters.cacheHits).toBeGreaterThan(1000n);
    expect(reused).toEqual(fresh);
  });

  it("x86-64: hello after the PV kernel under the hypervisor on 4 CPUs and an AArch64 selftest", () => {
    const { fresh, reused } = freshThenReused(
      { image: X86_HELLO, cpus: 2, memBytes: 64n << 20n },
      {
        image: PV_KERNEL, cpus: 4, memBytes: 64n << 20n, cmdline: "workload=churn iterations=2",
        hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n },
      },
      { image: A64_SELFTEST, cpus: 2, memBytes: 128n << 20n },
    );
    expect(fresh.status).toBe(0);
    expect(fresh.console).toContain("hello");
    expect(reused).toEqual(fresh);
  });

  it("x86-64: the PV kernel under the hypervisor after hello with less RAM and more CPUs", () => {
    const pv: Run = {
      image: PV_KERNEL, cpus: 2, memBytes: 64n << 20n, cmdline: "workload=churn iterations=2",
      hv: { domains: 1, vcpus: 2, domMemBytes: 16n << 20n },
    };
    const { fresh, reused } = freshThenReused(pv, { image: X86_HELLO, cpus: 8, memBytes: 8n << 20n }, pv, { image: X86_FAR_STORES });
    expect(fresh.status).toBe(0);
    expect(fresh.console).toContain("all checks passed");
    expect(reused).toEqual(fresh);
  });

  it("every RAM page the page states call zero is zero after each of these runs", () => {
    // A store that did not mark its page would leave it out of the next run's zeroing and of the state hash.
    const runs: Run[] = [
      { image: A64_FAR_STORES },
      { image: X86_FAR_STORES },
      { image: A64_SELFTEST, cpus: 2, memBytes: 32n << 20n },
      { image: A64_TLBI_LOOP, cpus: 4 },
      { image: X86_HELLO, cpus: 2 },
      { image: PV_KERNEL, cpus: 2, cmdline: "workload=churn iterations=1", hv: { domains: 1, vcpus: 2, domMemBytes: 16n << 20n } },
    ];
    for (const r of runs) {
      const engine = engineFor({
        cpus: 1, memBytes: 32n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000,
        maxSteps: 50_000_000n, tlbChaos: undefined, ...r, console: () => {},
      });
      engine.runToEnd();
      expect(engine.end?.kind).toMatch(/power-off|debug-exit|shutdown/);
      expect(engine.platform.machine.hw.ramCheckZeroPages()).toBe(0);
      engine.platform.machine.release();
    }
  });
});
