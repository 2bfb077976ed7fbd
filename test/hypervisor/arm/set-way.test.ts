// SPDX-License-Identifier: MIT
//
// Xen's set/way emulation under `--hv` (mechanisms §4.4, hypervisor/arm/set-way.ts):
// each transition of the per-vCPU state machine (HCR_EL2.TVM,
// need_flush_to_ram), the flush finishing before the guest's next
// instruction, its preemption and resumption on another pCPU, the
// passthrough and trap-inline policies, and a page another vCPU dirties
// while a flush runs: lost under trap-xen (Xen's p2m_invalidate_root after
// the whole clean), kept under trap (valid bits cleared per chunk).

import { describe, expect, it } from "vitest";
import { engineFor } from "../../../emulator/run.ts";
import type { RecordedOptions } from "../../../emulator/machine/core/schedule-file.ts";
import type { ArmHost } from "../../../hypervisor/arm/arm-host.ts";
import { HCR_TSW, HCR_TVM } from "../../../hypervisor/arm/vcpu.ts";
import { PTE_VALID } from "../../../hypervisor/arm/p2m.ts";
import { p2mFlushVm, type SetWayContext } from "../../../hypervisor/arm/set-way.ts";
import { finish } from "../../../hypervisor/common/routine.ts";
import { maddr } from "../../../hypervisor/common/memory.ts";
import type { ArmCpu } from "../../../emulator/machine/cpu/arm-cpu.ts";
import type { ArmPlatform } from "../../../emulator/machine/platform/arm/platform.ts";
import { withDefaults } from "../../../emulator/run-guest.ts";
import { readElf } from "../../../asm/index.ts";
import { ROOT, image } from "../../helpers/run.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const psci = (fn: number) => `movz w0, #${fn & 0xffff}\n        movk w0, #${fn >>> 16}, lsl #16\n        hvc #0\n`;

/**
 * vCPU 0 touches `pages` pages, then: DC CSW (trap, TVM clear), DC CSW (TVM
 * set), its stage-1 registers (TVM writes, caches still off), SCTLR_EL1 M|C
 * (caches on), DC CSW (TVM clear again), SCTLR_EL1.C clear (caches off).
 * A label after each step is where the tests look.
 */
const SOURCE = (pages: number) => `
_start: adr x3, buffer
        mov x4, #${pages}
1:      str x4, [x3]
        add x3, x3, #4096
        subs x4, x4, #1
        b.ne 1b
        dc csw, xzr
sw1:    dc csw, xzr
sw2:    adr x0, l1
        movz x1, #0x4000, lsl #16
        mov x2, #0x401                  // a 1 GiB block: AF, AttrIndx 0
        orr x1, x1, x2
        str x1, [x0, #8]
        mov x0, #0xff
        msr mair_el1, x0
        movz x0, #25
        movk x0, #0x0080, lsl #16       // T0SZ 25, EPD1
        movk x0, #2, lsl #32            // IPS 40 bits
        msr tcr_el1, x0
        adr x0, l1
        msr ttbr0_el1, x0
tvm:    isb
        mrs x0, sctlr_el1
        orr x0, x0, #1                  // M
        orr x0, x0, #4                  // C
        msr sctlr_el1, x0
on:     isb
        dc csw, xzr
sw3:    mrs x0, sctlr_el1
        bic x0, x0, #4
        msr sctlr_el1, x0
off:    isb
        ${psci(0x8400_0008)}
        .balign 4096
l1:     .skip 4096
buffer: .skip 4096 * ${pages}
`;

function boot(pages: number, o: { cpus?: number; vcpus?: number; migrate?: number; setWay?: "trap" | "trap-inline" | "trap-xen" | "passthrough"; seed?: bigint } = {}) {
  const img = image(SOURCE(pages), { arch: "aarch64", base: 0x4008_0000n });
  const elf = readElf(img);
  const sym = (n: string) => elf.symbols.find((s) => s.name === n)!.value;
  const options: RecordedOptions = {
    cpus: o.cpus ?? 1, memBytes: 64n << 20n, cmdline: "", mode: o.seed === undefined ? "round-robin" : "random", seed: o.seed, quantum: 1000,
    maxSteps: 50_000_000n, tlbChaos: undefined,
    hv: { domains: 1, vcpus: o.vcpus ?? 1, domMemBytes: 16n << 20n, ...(o.migrate ? { migrate: o.migrate } : {}), ...(o.setWay ? { setWay: o.setWay } : {}) },
  };
  const engine = engineFor({ ...options, image: img, console: () => {}, record: false });
  const host = (engine.platform as unknown as { attached: ArmHost }).attached;
  return { engine, host, sym, v: host.vcpuList[0]! };
}

const outcomes = (host: ArmHost) => host.summary().trapOutcomes as Record<string, number>;

describe("the per-vCPU state machine (trap policy)", () => {
  it.each([["trap"], ["trap-xen"]] as const)("each transition, with the flush done before the guest's next instruction (--set-way %s)", (setWay) => {
    const { engine, host, sym, v } = boot(4, { setWay });
    const seen: Record<string, { need: boolean; tvm: boolean; flushes: number }> = {};
    for (const label of ["sw1", "sw2", "tvm", "on", "sw3", "off"]) engine.setBreakpoint(sym(label));
    for (;;) {
      const stop = engine.resume();
      if (stop.kind !== "breakpoint") {
        expect(stop).toMatchObject({ kind: "end", status: 0 });
        break;
      }
      const label = ["sw1", "sw2", "tvm", "on", "sw3", "off"].find((l) => sym(l) === stop.pc)!;
      seen[label] = { need: v.needFlushToRam, tvm: (v.hcr & HCR_TVM) !== 0n, flushes: outcomes(host)["p2m flush"] ?? 0 };
    }
    expect(seen).toEqual({
      // DC CSW with TVM clear: need_flush_to_ram and TVM set; the flush ran on the way back, before this instruction.
      sw1: { need: false, tvm: true, flushes: 1 },
      // DC CSW with TVM set: part of the same batch, nothing more.
      sw2: { need: false, tvm: true, flushes: 1 },
      // TVM register writes that leave the caches off: written, no flush.
      tvm: { need: false, tvm: true, flushes: 1 },
      // SCTLR_EL1 M|C: the caches turn on: a flush, and TVM goes.
      on: { need: false, tvm: false, flushes: 2 },
      // DC CSW with TVM clear again: a new batch.
      sw3: { need: false, tvm: true, flushes: 3 },
      // SCTLR_EL1.C clear: the caches turn off: a flush; TVM stays.
      off: { need: false, tvm: true, flushes: 4 },
    });
    // MAIR, TCR, TTBR0 and SCTLR while TVM was on for the first batch; SCTLR again in the second.
    expect(outcomes(host)).toMatchObject({ "set/way trap": 3, "TVM trap": 5 });
  });

  it("the emulated TVM writes reach the registers (the MMU came on with the guest's tables)", () => {
    const { engine, sym } = boot(1);
    engine.setBreakpoint(sym("on"));
    expect(engine.resume()).toMatchObject({ kind: "breakpoint" });
    const r = engine.platform.machine.cpus[0]! as unknown as { registers: { sctlr_el1: bigint; tcr_el1: bigint; mair_el1: bigint } };
    expect(r.registers.sctlr_el1 & 5n).toBe(5n);
    expect(r.registers.tcr_el1 & 0x3fn).toBe(25n);
    expect(r.registers.mair_el1).toBe(0xffn);
  });

  it("the flush cleans only the pages touched since the last one: the rest is skipped by the valid bit", () => {
    const { engine, host, sym } = boot(60);
    engine.setBreakpoint(sym("sw1"));
    engine.resume();
    const first = outcomes(host)["p2m flush: pages cleaned"]!;
    // The 60 buffer pages and the code's and table's pages; not the 4,096 pages of the domain.
    expect(first).toBeGreaterThanOrEqual(60);
    expect(first).toBeLessThan(80);
    expect(outcomes(host)["p2m flush: entries skipped"]).toBeGreaterThan(0);
  });
});

describe("preemption of the deferred flush", () => {
  it("gives the pCPU up at a softirq check and goes on from the same GFN on another pCPU; the guest waits for it", () => {
    const { engine, host, sym, v } = boot(120, { cpus: 2, migrate: 1, seed: 3n });
    engine.setBreakpoint(sym("sw1"));
    expect(engine.resume()).toMatchObject({ kind: "breakpoint" });
    expect(v.needFlushToRam).toBe(false);
    const o = outcomes(host);
    expect(o["p2m flush: preemptions"]).toBeGreaterThan(0);
    expect(o["p2m flush"]).toBe(1);
    // Every page was cleaned once, across the preemptions.
    expect(o["p2m flush: pages cleaned"]).toBeGreaterThanOrEqual(120);
    expect(o["p2m flush: pages cleaned"]).toBeLessThan(140);
    expect(host.summary().migrations).toBeGreaterThan(0);
  });
});

describe("the other policies", () => {
  it("trap-inline: the same transitions, the flush done inside the trap with no preemption", () => {
    const { engine, host } = boot(120, { cpus: 2, migrate: 1, seed: 3n, setWay: "trap-inline" });
    expect(engine.runToEnd()).toMatchObject({ kind: "power-off", reset: false });
    const o = outcomes(host);
    expect(o["p2m flush"]).toBe(4);
    expect(o["p2m flush: preemptions"]).toBeUndefined();
  });

  it("passthrough: TSW clear, no trap, no flush", () => {
    const { engine, host, v } = boot(4, { setWay: "passthrough" });
    expect(v.hcr & HCR_TSW).toBe(0n);
    expect(engine.runToEnd()).toMatchObject({ kind: "power-off", reset: false });
    expect(outcomes(host)["set/way trap"]).toBeUndefined();
    expect(outcomes(host)["p2m flush"]).toBeUndefined();
  });
});

describe("the sanitizer (mechanisms §4.6)", () => {
  it("(b) a vCPU that runs guest code with need_flush_to_ram set ends the run with status 4", () => {
    const { engine, sym, v } = boot(4);
    engine.setBreakpoint(sym("sw2"));
    expect(engine.resume()).toMatchObject({ kind: "breakpoint" });
    engine.removeBreakpoint(sym("sw2"));
    // A hypervisor bug stands in here: the vCPU goes back to the guest with its flush still owed.
    v.needFlushToRam = true;
    const end = engine.runToEnd();
    expect(end).toMatchObject({ kind: "violation" });
    expect(end.kind === "violation" && end.message).toMatch(/d1v0 executed guest instructions on pCPU 0 while its need_flush_to_ram was set/);
  });

  it("(c) a flush that skips a page whose valid bit is 0 while a cache holds dirty lines of it ends the run with status 4", () => {
    const { engine, host, sym } = boot(4);
    engine.setBreakpoint(sym("on"));
    expect(engine.resume()).toMatchObject({ kind: "breakpoint" });
    engine.removeBreakpoint(sym("on"));
    const cpu = engine.platform.machine.cpus[0]! as unknown as { store(va: bigint, size: 8, value: bigint): { ok: boolean; fault?: { stage2: boolean; ipa: bigint } } };
    // The caches are on: this store leaves a dirty line in pCPU 0's L1 (its stage-2 faults resolved as the hypervisor would) …
    let r = cpu.store(sym("buffer"), 8, 0x5a5an);
    for (let i = 0; i < 8 && !r.ok && r.fault?.stage2; i++) {
      host.p2m.resolveTranslationFault(Number(r.fault.ipa >> 12n));
      r = cpu.store(sym("buffer"), 8, 0x5a5an);
    }
    expect(r.ok, JSON.stringify(r, (_, x) => (typeof x === "bigint" ? x.toString(16) : x))).toBe(true);
    // … and a bug stands in for the rest: the valid bits cleared without the page being cleaned first.
    host.p2m.invalidateRoot();
    const end = engine.runToEnd();
    expect(end).toMatchObject({ kind: "violation" });
    expect(end.kind === "violation" && end.message).toMatch(
      new RegExp(`skipped IPA 0x${sym("buffer").toString(16)} \\(MFN 0x[0-9a-f]+\\) because its valid bit is 0, while 1 dirty line of it sit in a cache`));
  });

  it("finds nothing in a correct run, with migration and preemption", () => {
    const { engine, host } = boot(120, { cpus: 2, migrate: 0.5, seed: 5n });
    expect(engine.runToEnd()).toMatchObject({ kind: "power-off", reset: false });
    expect(host.summary().violations).toBe(0);
  });
});

/** The domain's pages: GFN and the machine address of its frame (the p2m never changes them, only their valid bits). */
function domainPages(host: ArmHost) {
  const pages: { gfn: number; pa: bigint }[] = [];
  for (let gfn = host.p2m.lowestMappedGfn!; gfn <= host.p2m.maxMappedGfn!; gfn++) {
    const e = host.p2m.lookup(gfn);
    if (e) pages.push({ gfn, pa: maddr(e.mfn) });
  }
  return pages;
}

const pathValid = (host: ArmHost, gfn: number) => host.p2m.walk(gfn).every((s) => (s.pte & PTE_VALID) !== 0n);

describe("a page another vCPU dirties while a flush runs (hypervisor/README.md, concurrent set/way)", () => {
  /**
   * vCPU 0 runs the guest with its caches on; vCPU 1's p2m_flush_vm runs on
   * the other pCPU, one step at a time. vCPU 0 writes the buffer page, the
   * flush cleans it, vCPU 0 writes it again before the flush has finished
   * (the old interleaving: between the clean and Xen's p2m_invalidate_root),
   * the flush finishes; then vCPU 0's own flush runs, as its set/way
   * operations ask.
   */
  function interleaving(setWay: "trap" | "trap-xen") {
    const { engine, host, sym } = boot(4, { cpus: 2, vcpus: 2, setWay });
    engine.setBreakpoint(sym("on"));
    const stop = engine.resume();
    expect(stop).toMatchObject({ kind: "breakpoint" });
    const platform = engine.platform as unknown as ArmPlatform;
    const writer = platform.m.cpu(stop.cpu) as unknown as ArmCpu;
    const flusher = platform.m.cpu(1 - stop.cpu) as unknown as ArmCpu;
    // The flush runs with the domain's VMID loaded, as on the vCPU's own pCPU (its TLBI VMALLS12E1IS is for that VMID).
    flusher.setRegisters({ vttbr_el2: host.p2m.vttbr });
    const ctx = (host as unknown as { setWay: SetWayContext }).setWay;
    const gfn = Number(sym("buffer") >> 12n);
    const pa = maddr(host.p2m.lookup(gfn)!.mfn);
    const dirty = () => platform.m.hw.armPageDirtyLines(pa);
    /** vCPU 0's store, its stage-2 faults resolved as the hypervisor does; how many it took. */
    const store = (value: bigint) => {
      let faults = 0;
      let r = writer.store(sym("buffer"), 8, value);
      for (; !r.ok && r.fault.stage2 && faults < 8; faults++) {
        host.p2m.resolveTranslationFault(Number(r.fault.ipa >> 12n));
        r = writer.store(sym("buffer"), 8, value);
      }
      expect(r.ok).toBe(true);
      return faults;
    };
    store(0x1111n);
    expect(dirty()).toBeGreaterThan(0);
    expect(pathValid(host, gfn)).toBe(true);
    const flush = p2mFlushVm(ctx, flusher, host.vcpuList[1]!, false);
    flush.next();
    let steps = 0;
    while (dirty() > 0) {
      expect(flush.next().done, "the flush ended without cleaning the buffer page").toBe(false);
      steps++;
    }
    expect(steps).toBeGreaterThan(0);
    // The clean is done; the flush may have more steps (under trap-xen, p2m_invalidate_root at least).
    const faults = store(0x2222n);
    while (!flush.next().done);
    const after = { dirty: dirty(), valid: pathValid(host, gfn), faults };
    // vCPU 0's own flush, then what RAM holds: what a read with the caches off would see.
    finish(p2mFlushVm(ctx, writer, host.vcpuList[0]!, false));
    const events = host.takeEvents();
    return { after, events, ram: platform.m.memory.read64(pa), dirtyAtEnd: dirty(), ipa: sym("buffer") };
  }

  it("trap-xen: the page is left dirty with its valid bit 0; the writer's own flush skips it (event (c)) and RAM keeps the old value", () => {
    const r = interleaving("trap-xen");
    // The second store went through the still-valid entry: no fault, and p2m_invalidate_root then hid the page.
    expect(r.after).toEqual({ dirty: expect.any(Number), valid: false, faults: 0 });
    expect(r.after.dirty).toBeGreaterThan(0);
    expect(r.events.map((e) => e.message)).toEqual([expect.stringMatching(new RegExp(`skipped IPA 0x${r.ipa.toString(16)} .* because its valid bit is 0, while 1 dirty line of it sit`))]);
    expect(r.ram).toBe(0x1111n);
    expect(r.dirtyAtEnd).toBeGreaterThan(0);
  });

  it("trap: the store after the clean faults at stage 2 and makes the page valid again; the writer's own flush cleans it, with no event (c)", () => {
    const r = interleaving("trap");
    expect(r.after.faults).toBeGreaterThan(0);
    expect(r.after.valid).toBe(true);
    expect(r.after.dirty).toBeGreaterThan(0);
    expect(r.events).toEqual([]);
    expect(r.ram).toBe(0x2222n);
    expect(r.dirtyAtEnd).toBe(0);
  });
});

describe("the invariant of the per-chunk clearing (hypervisor/arm/set-way.ts)", () => {
  /**
   * guest/aarch64/setway.elf, every vCPU in its power-down sequence at once,
   * checked at every step boundary (after each hypervisor step and each
   * stretch of guest code): a page some cache holds a dirty line of has a
   * valid stage-2 path. Returns the first breach, if any, and the run's end.
   */
  function checked(setWay: "trap" | "trap-xen", seed: bigint) {
    const img = readFileSync(join(ROOT, "guest", "aarch64", "setway.elf"));
    const o = withDefaults({ cpus: 2, seed, mode: "random", hv: { domains: 1, vcpus: 2, domMemBytes: 16n << 20n, migrate: 0.05, setWay } }, "aarch64");
    const engine = engineFor({ ...o, image: img, console: () => {}, record: false });
    const platform = engine.platform as unknown as ArmPlatform;
    const host = (engine.platform as unknown as { attached: ArmHost }).attached;
    const pages = domainPages(host);
    let breach: string | undefined;
    let checks = 0;
    platform.timeline.sink = {
      event(e) {
        if (breach || (e.kind !== "hv-step" && e.kind !== "guest")) return;
        checks++;
        for (const p of pages) {
          const n = platform.m.hw.armPageDirtyLines(p.pa);
          if (n && !pathValid(host, p.gfn)) breach = `GFN 0x${p.gfn.toString(16)}: ${n} dirty lines, a valid bit 0 on its path, at step ${platform.timeline.step}`;
        }
      },
    };
    const end = engine.runToEnd();
    platform.machine.release();
    return { breach, checks, end };
  }

  it.each([[0n], [1n], [2n], [3n]])("holds under trap at every step boundary of a run whose vCPUs flush at once (and the run passes), seed %s", (seed) => {
    const r = checked("trap", seed);
    expect(r.breach).toBeUndefined();
    expect(r.checks).toBeGreaterThan(1000);
    expect(r.end).toMatchObject({ kind: "power-off", reset: false });
  });

  it("is broken under trap-xen by the same seed, before the sanitizer's event (c) ends the run", () => {
    const r = checked("trap-xen", 0n);
    expect(r.breach).toMatch(/^GFN 0x400c4: \d+ dirty lines/);
    expect(r.end).toMatchObject({ kind: "violation" });
  });
});
