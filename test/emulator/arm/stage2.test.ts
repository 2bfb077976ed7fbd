// SPDX-License-Identifier: MIT
//
// AArch64 stage 2 under stage 1 (HCR_EL2.VM=1): every stage-1 table address
// and the output IPA go through stage 2; faults say which stage and whether
// they happened on the stage-1 walk; TLBI IPAS2E1 and VMALLS12E1 scope.

import { describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/index.ts";
import {
  ArmPageTables, S1, S2, PAGE, MAIR, SCTLR, tcr, VTCR, HCR_VM, vmid, tlbiVa, out, read, write, TCR_HA,
} from "../../helpers/arm.ts";

const VA = 0x0000_4000_0020_3000n;

/**
 * A guest: stage-1 tables at IPAs in the guest's first 16 MiB, stage 2
 * mapping that IPA range to PA 0x4000_0000 + IPA, page by page.
 */
function guest(opts: { cpus?: number; s2Bits?: bigint; tcrExtra?: bigint } = {}) {
  const m = new Machine({
    arch: "aarch64",
    cpus: opts.cpus ?? 1,
    maxPhysAddr: 48,
    ram: [{ base: 0x4000_0000n, size: 16n << 20n }, { base: 0x8000_0000n, size: 8n << 20n }],
  });
  const GUEST_PA = 0x4000_0000n;
  const s2 = new ArmPageTables(m.memory, { base: 0x8000_0000n, limit: 0x8080_0000n }, 48, 0);
  const s2Bits = opts.s2Bits ?? (S2.R | S2.W | S2.AF | S2.memAttr(0b1111) | S2.sh(3));
  for (let ipa = 0n; ipa < 16n << 20n; ipa += PAGE) s2.map(ipa, GUEST_PA + ipa, PAGE, s2Bits);
  // Stage-1 tables, written at the PAs of their IPAs (allocated from IPA 0x10_0000 up).
  let nextTable = 0x10_0000n;
  const tables = new Map<bigint, bigint>();
  const tableAt = (ipa: bigint) => {
    if (!tables.has(ipa)) {
      m.memory.write(GUEST_PA + ipa, new Uint8Array(4096));
      tables.set(ipa, ipa);
    }
    return ipa;
  };
  const root = tableAt(nextTable);
  /** Maps va to ipa (a 4 KiB page) in the guest's stage 1, returning the leaf's IPA. */
  const map = (va: bigint, ipa: bigint, bits: bigint) => {
    let table = root;
    for (let level = 0; level < 3; level++) {
      const slot = table + ((va >> BigInt(12 + 9 * (3 - level))) & 511n) * 8n;
      let d = m.memory.read64(GUEST_PA + slot);
      if (!(d & 1n)) {
        nextTable += PAGE;
        d = tableAt(nextTable) | 3n;
        m.memory.write64(GUEST_PA + slot, d);
      }
      table = d & 0x0000_ffff_ffff_f000n;
    }
    const leaf = table + ((va >> 12n) & 511n) * 8n;
    m.memory.write64(GUEST_PA + leaf, ipa | bits | 3n);
    return leaf;
  };
  for (const cpu of m.cpus) {
    cpu.setRegisters({
      sctlr_el1: SCTLR,
      tcr_el1: tcr(opts.tcrExtra ?? 0n),
      ttbr0_el1: root,
      mair_el1: MAIR,
      hcr_el2: HCR_VM,
      vttbr_el2: s2.root | vmid(1),
      vtcr_el2: VTCR,
    });
  }
  return { m, s2, map, cpu: m.cpu(0), GUEST_PA, root };
}

const NORMAL = S1.attrIndx(0) | S1.sh(3) | S1.AF;

describe("stage 2 under stage 1", () => {
  it("translates the output IPA through stage 2", () => {
    const { cpu, map, GUEST_PA } = guest();
    map(VA, 0x50_0000n, NORMAL);
    expect(out(cpu.translate(VA + 0x10n, read))).toBe(GUEST_PA + 0x50_0010n);
  });

  it("reports a stage-2 fault on a stage-1 table read, with the descriptor's IPA", () => {
    const { m, cpu, map, s2, root } = guest();
    map(VA, 0x50_0000n, NORMAL);
    // Unmap the page holding the level 1 table in stage 2.
    const l0 = 0x4000_0000n + root + ((VA >> 39n) & 511n) * 8n;
    const l1Ipa = m.memory.read64(l0) & 0x0000_ffff_ffff_f000n;
    m.memory.write64(s2.entryAddress(l1Ipa, 3), 0n);
    const t = cpu.translate(VA, read);
    expect(out(t)).toBe("translation@3 s2 ptw");
    if (!t.ok) expect(t.fault.ipa).toBe(l1Ipa + ((VA >> 30n) & 511n) * 8n);
  });

  it("reports a stage-2 permission fault on the output, with the IPA, not on the walk", () => {
    const { m, cpu, map, s2 } = guest();
    map(VA, 0x50_0000n, NORMAL);
    m.memory.write64(s2.entryAddress(0x50_0000n, 3), 0x4050_0000n | S2.R | S2.AF | S2.memAttr(15) | 3n);
    expect(out(cpu.translate(VA, read))).toBe(0x4050_0000n);
    const t = cpu.translate(VA + 8n, write);
    expect(out(t)).toBe("permission@3 s2");
    if (!t.ok) expect(t.fault.ipa).toBe(0x50_0008n);
  });

  it("needs stage-2 write permission on a stage-1 table to set its Access flag", () => {
    const { m, cpu, map, s2 } = guest({ tcrExtra: TCR_HA });
    const leaf = map(VA, 0x50_0000n, S1.attrIndx(0) | S1.sh(3));
    m.memory.write64(s2.entryAddress(leaf & ~0xfffn, 3), (0x4000_0000n + (leaf & ~0xfffn)) | S2.R | S2.AF | S2.memAttr(15) | 3n);
    expect(out(cpu.translate(VA, read))).toBe("permission@3 s2 ptw");
  });

  it("caches a translation whose AF the hardware set after a walk-cache hit", () => {
    const { cpu, map } = guest({ tcrExtra: TCR_HA });
    map(VA, 0x50_0000n, NORMAL);
    map(VA + PAGE, 0x50_1000n, S1.attrIndx(0) | S1.sh(3));
    cpu.translate(VA, read);
    expect(out(cpu.translate(VA + PAGE, read))).toBe(0x4050_1000n);
    const walks = cpu.counters().walks;
    cpu.translate(VA + PAGE, read);
    expect(cpu.counters().walks).toBe(walks);
  });

  it("reads 24 descriptors for a cold 4+4-level walk with every table in its own stage-2 region", () => {
    // Stage-1 tables and the output page in five different 512 GiB IPA regions.
    const regions = [0n, 1n, 2n, 3n, 4n].map((i) => i << 39n);
    const m = new Machine({
      arch: "aarch64",
      maxPhysAddr: 48,
      ram: [...regions.map((base) => ({ base, size: 1n << 20n })), { base: 0x7f00_0000_0000n, size: 4n << 20n }],
    });
    const s2 = new ArmPageTables(m.memory, { base: 0x7f00_0000_0000n, limit: 0x7f00_0040_0000n }, 48, 0);
    for (const base of regions) s2.map(base, base, PAGE, S2.R | S2.W | S2.AF | S2.memAttr(15));
    // Identity stage 2, so stage-1 descriptors hold IPAs that are also PAs.
    const va = 0x0000_0000_0000_0000n;
    for (let level = 0; level < 3; level++) m.memory.write64(regions[level]!, regions[level + 1]! | 3n);
    m.memory.write64(regions[3]!, regions[4]! | NORMAL | 3n);
    const cpu = m.cpu(0);
    cpu.setRegisters({
      sctlr_el1: SCTLR, tcr_el1: tcr(), ttbr0_el1: regions[0]!, mair_el1: MAIR, hcr_el2: HCR_VM,
      vttbr_el2: s2.root | vmid(3), vtcr_el2: VTCR,
    });
    expect(out(cpu.translate(va, read))).toBe(regions[4]!);
    expect(cpu.counters()).toMatchObject({ walkReads: 24n, stage2WalkReads: 20n });
  });

  it("TLBI IPAS2E1 drops stage-2 entries only; VMALLE1 then drops the combined one", () => {
    const { m, cpu, map, s2 } = guest();
    map(VA, 0x50_0000n, NORMAL);
    map(VA + PAGE, 0x50_1000n, NORMAL);
    cpu.translate(VA, read);
    cpu.translate(VA + PAGE, read);
    // Move IPA 0x50_0000 to another PA.
    m.memory.write64(s2.entryAddress(0x50_0000n, 3), 0x40a0_0000n | S2.R | S2.W | S2.AF | S2.memAttr(15) | 3n);
    cpu.tlbi("IPAS2E1", 0x50_0000n >> 12n);
    // The combined VA → PA entry is still there…
    expect(out(cpu.translate(VA, read))).toBe(0x4050_0000n);
    cpu.tlbi("VMALLE1");
    // …until a stage-1 invalidation; the walk then uses the new stage 2.
    expect(out(cpu.translate(VA, read))).toBe(0x40a0_0000n);
  });

  it("VMALLS12E1 drops the current VMID's stage-1 and stage-2 entries, not another VMID's", () => {
    const { m, cpu, map, s2 } = guest();
    map(VA, 0x50_0000n, NORMAL);
    cpu.translate(VA, read);
    const vttbr = cpu.registers.vttbr_el2;
    cpu.setRegisters({ vttbr_el2: (vttbr & 0x0000_ffff_ffff_ffffn) | vmid(2) });
    cpu.translate(VA, read);
    m.memory.write64(s2.entryAddress(0x50_0000n, 3), 0x40a0_0000n | S2.R | S2.W | S2.AF | S2.memAttr(15) | 3n);
    cpu.tlbi("VMALLS12E1");
    expect(out(cpu.translate(VA, read))).toBe(0x40a0_0000n);
    cpu.setRegisters({ vttbr_el2: vttbr });
    expect(out(cpu.translate(VA, read))).toBe(0x4050_0000n);
  });

  it("AT S1E1R returns the IPA; AT S12E1R the PA with combined attributes", () => {
    const { cpu, map } = guest({ s2Bits: S2.R | S2.W | S2.AF | S2.memAttr(0b0101) | S2.sh(3) });
    map(VA, 0x50_0000n, NORMAL);
    const s1 = cpu.at("S1E1R", VA);
    expect(s1.par & 0x0000_ffff_ffff_f000n).toBe(0x50_0000n);
    expect(s1.par >> 56n).toBe(0xffn);
    const s12 = cpu.at("S12E1R", VA);
    expect(s12.par & 0x0000_ffff_ffff_f000n).toBe(0x4050_0000n);
    // Stage 2 says Non-cacheable: the combination is Normal NC, Outer Shareable.
    expect(s12.par >> 56n).toBe(0x44n);
    expect((s12.par >> 7n) & 3n).toBe(2n);
  });

  it("counts stage-2 TLB hits for stage-1 table reads once warm", () => {
    const { cpu, map } = guest();
    map(VA, 0x50_0000n, NORMAL);
    map(VA + PAGE, 0x50_1000n, NORMAL);
    cpu.translate(VA, read);
    // Stage-1 entries and walk caches go; stage-2 entries stay and serve the walk.
    cpu.tlbi("VMALLE1");
    cpu.translate(VA + PAGE, read);
    expect(cpu.counters().stage2TlbHits).toBeGreaterThan(0n);
  });
});
