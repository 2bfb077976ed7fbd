// SPDX-License-Identifier: MIT
//
// The Arm hypervisor's p2m (hypervisor/arm/p2m.ts) on a booted domain: the
// domain's RAM is mapped to machine frames that are neither its own numbers
// nor contiguous, the entries live in machine memory where the hardware's
// stage-2 walker reads them, and Xen's valid bit works as mechanisms §4.4
// says: cleared by p2m_invalidate_root, restored one level per stage-2
// fault by p2m_resolve_translation_fault.

import { describe, expect, it } from "vitest";
import { bootArmHvPlatform } from "../../../hypervisor/arm/boot.ts";
import type { ArmHost } from "../../../hypervisor/arm/arm-host.ts";
import { P2M_VTCR, PTE_VALID } from "../../../hypervisor/arm/p2m.ts";
import type { RecordedOptions } from "../../../emulator/machine/core/schedule-file.ts";
import { image } from "../../helpers/run.ts";

const RAM_GFN = 0x40000;
const DOM_PAGES = (16 << 20) / 4096;

function boot(seed = 1n) {
  const options: RecordedOptions = {
    cpus: 2, memBytes: 64n << 20n, cmdline: "", mode: "round-robin", seed, quantum: 1000, maxSteps: undefined, tlbChaos: undefined,
    hv: { domains: 1, vcpus: 2, domMemBytes: 16n << 20n },
  };
  const platform = bootArmHvPlatform(image("_start: b _start\n", { arch: "aarch64", base: 0x4008_0000n }), options, () => {});
  const host = (platform as unknown as { attached: ArmHost }).attached;
  return { platform, host, m: platform.m };
}

describe("the p2m maps the domain's RAM", () => {
  it("to machine frames that are never the GFN's own number and never the previous GFN's frame plus one", () => {
    const { host } = boot();
    let previous = -1;
    let adjacent = 0;
    const seen = new Set<number>();
    for (let gfn = RAM_GFN; gfn < RAM_GFN + DOM_PAGES; gfn++) {
      const e = host.p2m.lookup(gfn);
      expect(e, `GFN 0x${gfn.toString(16)}`).toBeDefined();
      expect(e!.mfn).not.toBe(gfn);
      if (e!.mfn === previous + 1) adjacent++;
      seen.add(e!.mfn);
      previous = e!.mfn;
    }
    expect(adjacent).toBe(0);
    expect(seen.size).toBe(DOM_PAGES);
    // Nothing outside RAM is mapped: the GIC and the UART are emulated, not mapped.
    expect(host.p2m.lookup(0x0900_0000 >> 12)).toBeUndefined();
    expect(host.p2m.lookup(0x0800_0000 >> 12)).toBeUndefined();
    expect(host.p2m.lookup(RAM_GFN + DOM_PAGES)).toBeUndefined();
  });

  it("differently for another seed", () => {
    expect(boot(2n).host.p2m.lookup(RAM_GFN)!.mfn).not.toBe(boot(1n).host.p2m.lookup(RAM_GFN)!.mfn);
  });

  it("in machine memory, with the domain's VMID in VTTBR_EL2", () => {
    const { host, m } = boot();
    for (const step of host.p2m.walk(RAM_GFN + 5)) expect(m.memory.read64(step.at)).toBe(step.pte);
    expect(host.p2m.vttbr >> 48n).toBe(1n);
  });
});

describe("Xen's valid bit (mechanisms §4.4)", () => {
  /** pCPU 0 with the domain's stage 2 and stage 1 off: a translation of an IPA is the stage-2 walk alone. */
  function stage2Cpu() {
    const b = boot();
    const cpu = b.m.cpu(0);
    cpu.setRegisters({ sctlr_el1: 0n, hcr_el2: 1n, vttbr_el2: b.host.p2m.vttbr, vtcr_el2: P2M_VTCR });
    cpu.tlbi("VMALLS12E1");
    return { ...b, cpu };
  }

  it("is cleared at domain creation on the root entries only, and the hardware's walk then faults at stage 2", () => {
    const { host, cpu } = stage2Cpu();
    const gfn = RAM_GFN + 0x123;
    const [root, l2, l3] = host.p2m.walk(gfn);
    expect(root!.pte & PTE_VALID).toBe(0n);
    expect(l2!.pte & PTE_VALID).toBe(PTE_VALID);
    expect(l3!.pte & PTE_VALID).toBe(PTE_VALID);
    const t = cpu.translate(BigInt(gfn) << 12n, { op: "read", priv: "kernel" });
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.fault).toMatchObject({ type: "translation", stage2: true, level: 1 });
  });

  it("is set again one level per stage-2 fault, each time clearing the table below, until the access succeeds", () => {
    const { host, cpu } = stage2Cpu();
    const gfn = RAM_GFN + 0x123;
    const mfn = host.p2m.lookup(gfn)!.mfn;
    const ipa = BigInt(gfn) << 12n;
    const levels: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t = cpu.translate(ipa, { op: "read", priv: "kernel" });
      if (t.ok) {
        expect(t.pa).toBe(BigInt(mfn) << 12n);
        break;
      }
      levels.push(t.fault.level);
      expect(host.p2m.resolveTranslationFault(gfn)).toBe(true);
    }
    // Root, then the level-2 entry whose valid bit the first fault cleared, then the leaf.
    expect(levels).toEqual([1, 2, 3]);
    expect(host.p2m.faultsResolved).toBe(3);
    // Another page of the same 2 MiB region was not touched: its leaf's valid bit is still 0.
    expect(host.p2m.lookup(gfn + 1)!.valid).toBe(false);
    // A fault another vCPU resolved already is resolved; a GFN outside RAM is not.
    expect(host.p2m.resolveTranslationFault(gfn)).toBe(true);
    expect(host.p2m.faultsResolved).toBe(3);
    expect(host.p2m.resolveTranslationFault(0x0900_0000 >> 12)).toBe(false);
  });

  it("p2m_invalidate_root clears the root again, and needFlush says the VMID's TLB entries must go", () => {
    const { host } = stage2Cpu();
    const gfn = RAM_GFN + 7;
    for (let i = 0; i < 3; i++) host.p2m.resolveTranslationFault(gfn);
    expect(host.p2m.walk(gfn).every((s) => (s.pte & PTE_VALID) !== 0n)).toBe(true);
    host.p2m.needFlush = false;
    host.p2m.invalidateRoot();
    expect(host.p2m.walk(gfn)[0]!.pte & PTE_VALID).toBe(0n);
    expect(host.p2m.needFlush).toBe(true);
    // Still mapped: the type says so, whatever the valid bit.
    expect(host.p2m.lookup(gfn)!.mfn).toBeGreaterThan(0);
  });

  it("invalidateLeaf clears one page's leaf only (the per-chunk clearing of the set/way flush), and needFlush says the TLBs must go", () => {
    const { host, cpu } = stage2Cpu();
    const gfn = RAM_GFN + 9;
    for (let i = 0; i < 3; i++) host.p2m.resolveTranslationFault(gfn);
    host.p2m.resolveTranslationFault(gfn + 1);
    host.p2m.needFlush = false;
    host.p2m.invalidateLeaf(gfn);
    expect(host.p2m.walk(gfn).map((s) => (s.pte & PTE_VALID) !== 0n)).toEqual([true, true, false]);
    expect(host.p2m.lookup(gfn + 1)!.valid).toBe(true);
    expect(host.p2m.needFlush).toBe(true);
    // The hardware's walk now faults at the leaf, and the fault makes it valid again.
    cpu.tlbi("VMALLS12E1");
    const t = cpu.translate(BigInt(gfn) << 12n, { op: "read", priv: "kernel" });
    expect(t.ok).toBe(false);
    if (!t.ok) expect(t.fault).toMatchObject({ type: "translation", stage2: true, level: 3 });
    expect(host.p2m.resolveTranslationFault(gfn)).toBe(true);
    expect(cpu.translate(BigInt(gfn) << 12n, { op: "read", priv: "kernel" }).ok).toBe(true);
    // A GFN outside RAM: nothing to clear.
    host.p2m.needFlush = false;
    host.p2m.invalidateLeaf(0x0900_0000 >> 12);
    expect(host.p2m.needFlush).toBe(false);
  });
});
