// SPDX-License-Identifier: MIT
//
// The PV build kept for many runs (hypervisor/x86/pv-build.ts): every run
// gets a copy of the same build, whatever its seed, in a memory that holds
// exactly what building there would have left; the run's seed takes the
// allocator over after; and a run never depends on what its process ran
// before.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ArrayMemory } from "../../hypervisor/index.ts";
import { builtPvDomains, type PvBuildOptions } from "../../hypervisor/x86/pv-build.ts";
import { runImage, type RunReport } from "../../emulator/run.ts";
import type { RecordedOptions } from "../../emulator/machine/core/schedule-file.ts";
import { ROOT } from "../helpers/run.ts";

const kernel = readFileSync(join(ROOT, "guest", "x86_64", "pv", "kernel.elf"));
const MEM = 32 << 20;

const options = (cmdline: string): PvBuildOptions => ({
  image: kernel, cmdline, domains: 1, vcpus: 2, domMemBytes: 16n << 20n,
  firstMfn: 0x100, nrFrames: MEM / 4096 - 0x100, nrPcpus: 2, nested: false, forceIpi: true, l0Assist: true,
});

describe("the PV build kept for many runs", () => {
  it("leaves in a fresh memory, byte for byte, what building in it leaves", () => {
    const o = options("workload=churn built-in-a-fresh-memory");
    const first = new ArrayMemory(0n, MEM);
    builtPvDomains(o, first, {}, 1n);
    const second = new ArrayMemory(0n, MEM);
    builtPvDomains(o, second, {}, 2n);
    expect(Buffer.compare(first.read(0n, MEM), second.read(0n, MEM))).toBe(0);
    expect(first.read(0n, MEM).some((b) => b !== 0)).toBe(true);
  });

  it("is built again when the image's bytes changed in place since", () => {
    const image = new Uint8Array(kernel);
    const o = { ...options("workload=churn image-changed"), image };
    const before = new ArrayMemory(0n, MEM);
    builtPvDomains(o, before, {}, 1n);
    // The last byte of the first loaded segment's file data.
    const v = new DataView(image.buffer, image.byteOffset);
    const phoff = Number(v.getBigUint64(0x20, true));
    const phentsize = v.getUint16(0x36, true);
    let at = -1;
    for (let i = 0; at < 0; i++) {
      const ph = phoff + i * phentsize;
      if (v.getUint32(ph, true) === 1 && v.getBigUint64(ph + 32, true) > 0n) at = Number(v.getBigUint64(ph + 8, true) + v.getBigUint64(ph + 32, true)) - 1;
    }
    image[at] = image[at]! ^ 0xff;
    const after = new ArrayMemory(0n, MEM);
    builtPvDomains(o, after, {}, 1n);
    expect(Buffer.compare(before.read(0n, MEM), after.read(0n, MEM))).not.toBe(0);
  });

  it("is the same build for every seed; the seed chooses the frames handed out after", () => {
    const o = options("workload=churn seeds");
    const a = builtPvDomains(o, new ArrayMemory(0n, MEM), {}, 1n);
    const b = builtPvDomains(o, new ArrayMemory(0n, MEM), {}, 2n);
    expect(a.domains.get(1)!.p2m!.mfns).toEqual(b.domains.get(1)!.p2m!.mfns);
    expect(a.domains.get(1)!.vcpus[0]!.guestTable).toBe(b.domains.get(1)!.vcpus[0]!.guestTable);
    const next = (hv: typeof a) => Array.from({ length: 4 }, () => hv.allocator.take()!.mfn);
    expect(next(a)).not.toEqual(next(b));
  });

  it("gives each run a state of its own: what one run changes, the next copy does not see", () => {
    const o = options("workload=churn own-state");
    const a = builtPvDomains(o, new ArrayMemory(0n, MEM), {}, 1n);
    const d = a.domains.get(1)!;
    const l4 = a.frames.page(d.vcpus[0]!.guestTable);
    const before = { count: l4.count, typeCount: l4.typeCount, pages: d.totPages, free: a.allocator.nrFree };
    l4.count += 5;
    l4.typeCount = 0;
    d.totPages = 0;
    d.pageList.clear();
    a.allocator.take();
    a.stats.pins += 10;
    const b = builtPvDomains(o, new ArrayMemory(0n, MEM), {}, 1n);
    const e = b.domains.get(1)!;
    const l4b = b.frames.page(e.vcpus[0]!.guestTable);
    expect({ count: l4b.count, typeCount: l4b.typeCount, pages: e.totPages, free: b.allocator.nrFree }).toEqual(before);
    expect(e.pageList.size).toBe(before.pages);
    expect(b.stats.pins).toBe(1);
    expect(l4b.owner).toBe(e);
  });
});

describe("runs of a PV image in one process", () => {
  const run = (seed: bigint, o: Partial<RecordedOptions> = {}): RunReport =>
    runImage({
      cpus: 4, memBytes: 64n << 20n, cmdline: "workload=spurious-race", mode: "pct", pct: { depth: 3, horizon: 16000 },
      seed, quantum: 1000, maxSteps: 200_000_000n, tlbChaos: undefined,
      hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n, nested: true }, ...o,
      image: kernel, console: () => {}, record: false,
    });
  const summary = (r: RunReport) => JSON.stringify({ end: r.end, steps: r.steps, decisions: r.decisions, hash: r.stateHash, hv: r.hypervisor },
    (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

  it("end the same whatever ran before them", () => {
    const first = summary(run(3n));
    run(4n);
    run(3n, { hv: { domains: 2, vcpus: 2, domMemBytes: 16n << 20n }, cmdline: "workload=churn iterations=2" });
    expect(summary(run(3n))).toBe(first);
  });
});
