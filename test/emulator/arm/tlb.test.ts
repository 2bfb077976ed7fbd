// SPDX-License-Identifier: MIT
//
// What the AArch64 TLBs keep and what each TLBI removes, on one CPU and
// across CPUs; ASID, VMID and global entries; the Access flag and dirty
// state; PAN and WXN; TBI.

import { describe, expect, it } from "vitest";
import {
  armRig, out, read, write, fetch, userRead, userWrite, S1, NORMAL, PAGE, BLOCK_2M, asid, vmid, tlbiVa, tcr, TCR_HA,
  TCR_HD, TCR_A1, TCR_TBI0, TCR_HPD0, TCR_E0PD0, SCTLR, SCTLR_WXN,
} from "../../helpers/arm.ts";

const VA = 0x0000_7f00_1234_5000n;
const A = 0x10_0000n;
const B = 0x20_0000n;

describe("stale entries and TLBI on one CPU", () => {
  it("keeps a changed page until TLBI VAE1, and sees it after", () => {
    const { m, pt, cpu } = armRig();
    const d = pt.map(VA, A, PAGE, NORMAL());
    expect(out(cpu.translate(VA + 8n, read))).toBe(A + 8n);
    m.memory.write64(d, B | NORMAL() | S1.VALID | S1.TABLE);
    expect(out(cpu.translate(VA + 8n, read))).toBe(A + 8n);
    cpu.tlbi("VAE1", tlbiVa(VA, 0));
    expect(out(cpu.translate(VA + 8n, read))).toBe(B + 8n);
  });

  it("TLBI VAE1 with another ASID leaves the entry; VAAE1 takes it for every ASID", () => {
    const { m, pt, cpu } = armRig();
    cpu.setRegisters({ ttbr0_el1: pt.root | asid(5) });
    const d = pt.map(VA, A, PAGE, NORMAL(S1.NG));
    cpu.translate(VA, read);
    m.memory.write64(d, B | NORMAL(S1.NG) | S1.VALID | S1.TABLE);
    cpu.tlbi("VAE1", tlbiVa(VA, 6));
    expect(out(cpu.translate(VA, read))).toBe(A);
    cpu.tlbi("VAAE1", tlbiVa(VA));
    expect(out(cpu.translate(VA, read))).toBe(B);
  });

  it("TLBI VALE1 drops the leaf but not the walk caches; VAE1 drops both", () => {
    const { m, pt, cpu } = armRig();
    pt.map(VA, A, PAGE, NORMAL());
    pt.map(VA + PAGE, A + PAGE, PAGE, NORMAL());
    cpu.translate(VA, read);
    // Re-point the level 2 table descriptor at a new table that maps the neighbour at B.
    const l2 = pt.entryAddress(VA, 2);
    const table = 0x30_0000n;
    m.memory.write(table, new Uint8Array(4096));
    m.memory.write64(table + (((VA + PAGE) >> 12n) & 511n) * 8n, B | NORMAL() | S1.VALID | S1.TABLE);
    m.memory.write64(l2, table | S1.VALID | S1.TABLE);
    cpu.tlbi("VALE1", tlbiVa(VA + PAGE));
    expect(out(cpu.translate(VA + PAGE, read))).toBe(A + PAGE);
    cpu.tlbi("VAE1", tlbiVa(VA + PAGE));
    expect(out(cpu.translate(VA + PAGE, read))).toBe(B);
  });

  it("TLBI ASIDE1 drops one ASID's non-global entries; VMALLE1 drops everything", () => {
    const { m, pt, cpu } = armRig();
    cpu.setRegisters({ ttbr0_el1: pt.root | asid(3) });
    const ng = pt.map(VA, A, PAGE, NORMAL(S1.NG));
    const g = pt.map(VA + PAGE, A + PAGE, PAGE, NORMAL());
    cpu.translate(VA, read);
    cpu.translate(VA + PAGE, read);
    m.memory.write64(ng, B | NORMAL(S1.NG) | S1.VALID | S1.TABLE);
    m.memory.write64(g, B + PAGE | NORMAL() | S1.VALID | S1.TABLE);
    cpu.tlbi("ASIDE1", asid(3));
    expect(out(cpu.translate(VA, read))).toBe(B);
    expect(out(cpu.translate(VA + PAGE, read))).toBe(A + PAGE);
    cpu.tlbi("VMALLE1");
    expect(out(cpu.translate(VA + PAGE, read))).toBe(B + PAGE);
  });

  it("keeps an entry for a 2 MiB block and reports the block size", () => {
    const { m, pt, cpu } = armRig();
    const va = 0x0000_7f00_0040_0000n;
    const d = pt.map(va, 0x40_0000n, BLOCK_2M, NORMAL());
    expect(cpu.translate(va + 0x1234n, read)).toMatchObject({ ok: true, pa: 0x40_1234n, pageSize: 2 << 20 });
    m.memory.write64(d, 0x60_0000n | NORMAL() | S1.VALID);
    expect(out(cpu.translate(va + 0x5000n, read))).toBe(0x40_5000n);
    cpu.tlbi("VAE1", tlbiVa(va + 0x1f_f000n));
    expect(out(cpu.translate(va + 0x5000n, read))).toBe(0x60_5000n);
  });
});

describe("ASIDs and global entries", () => {
  it("keeps each ASID's translations apart and shares global ones", () => {
    const { m, pt, cpu } = armRig();
    pt.map(VA, A, PAGE, NORMAL(S1.NG));
    pt.map(VA + PAGE, A + PAGE, PAGE, NORMAL());
    cpu.setRegisters({ ttbr0_el1: pt.root | asid(1) });
    cpu.translate(VA, read);
    cpu.translate(VA + PAGE, read);
    // Another address space for ASID 2, with its own table for VA.
    const other = new (pt.constructor as typeof import("../../helpers/arm.ts").ArmPageTables)(m.memory, { base: 0x80_0080_0000n, limit: 0x80_00c0_0000n }, 48);
    other.map(VA, B, PAGE, NORMAL(S1.NG));
    other.map(VA + PAGE, B + PAGE, PAGE, NORMAL());
    cpu.setRegisters({ ttbr0_el1: other.root | asid(2) });
    expect(out(cpu.translate(VA, read))).toBe(B);
    // The global entry filled under ASID 1 still answers.
    expect(out(cpu.translate(VA + PAGE, read))).toBe(A + PAGE);
    cpu.setRegisters({ ttbr0_el1: pt.root | asid(1) });
    expect(out(cpu.translate(VA, read))).toBe(A);
  });

  it("takes the ASID from TTBR1 with TCR.A1, and only 8 bits of it without TCR.AS", () => {
    const { m, pt, cpu } = armRig();
    const d = pt.map(VA, A, PAGE, NORMAL(S1.NG));
    cpu.setRegisters({ tcr_el1: tcr(TCR_A1), ttbr0_el1: pt.root, ttbr1_el1: pt.root | asid(9) });
    cpu.translate(VA, read);
    m.memory.write64(d, B | NORMAL(S1.NG) | S1.VALID | S1.TABLE);
    cpu.tlbi("ASIDE1", asid(9));
    expect(out(cpu.translate(VA, read))).toBe(B);
    // 8-bit ASIDs: 0x109 and 0x09 are the same ASID.
    cpu.setRegisters({ tcr_el1: tcr(TCR_A1) & ~(1n << 36n), ttbr1_el1: pt.root | asid(0x109) });
    cpu.translate(VA, read);
    m.memory.write64(d, A | NORMAL(S1.NG) | S1.VALID | S1.TABLE);
    cpu.tlbi("ASIDE1", asid(0x09));
    expect(out(cpu.translate(VA, read))).toBe(A);
  });
});

describe("broadcast TLBI across CPUs", () => {
  it("a local TLBI leaves other CPUs' entries; the IS form reaches every CPU", () => {
    const { m, pt } = armRig({ cpus: 2 });
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    const d = pt.map(VA, A, PAGE, NORMAL());
    c0.translate(VA, read);
    c1.translate(VA, read);
    m.memory.write64(d, B | NORMAL() | S1.VALID | S1.TABLE);
    c0.tlbi("VAE1", tlbiVa(VA));
    expect(out(c0.translate(VA, read))).toBe(B);
    expect(out(c1.translate(VA, read))).toBe(A);
    c0.tlbi("VAE1IS", tlbiVa(VA));
    expect(out(c1.translate(VA, read))).toBe(B);
    expect(c0.counters().tlbi).toBe(2n);
    expect(c1.counters().tlbiReceived).toBe(1n);
  });

  it("VMALLE1IS reaches every CPU but only for the issuer's VMID", () => {
    const { m, pt } = armRig({ cpus: 2 });
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    const d = pt.map(VA, A, PAGE, NORMAL());
    c0.setRegisters({ vttbr_el2: vmid(1) });
    c1.setRegisters({ vttbr_el2: vmid(2) });
    c0.translate(VA, read);
    c1.translate(VA, read);
    m.memory.write64(d, B | NORMAL() | S1.VALID | S1.TABLE);
    c0.tlbi("VMALLE1IS");
    expect(out(c0.translate(VA, read))).toBe(B);
    expect(out(c1.translate(VA, read))).toBe(A);
    // CPU 1 switching to VMID 1 sees no VMID 1 entry of its own: it walks.
    c1.setRegisters({ vttbr_el2: vmid(1) });
    expect(out(c1.translate(VA, read))).toBe(B);
    c1.setRegisters({ vttbr_el2: vmid(2) });
    expect(out(c1.translate(VA, read))).toBe(A);
  });

  it("TLBI ALLE1IS drops every VMID on every CPU", () => {
    const { m, pt } = armRig({ cpus: 2 });
    const [c0, c1] = [m.cpu(0), m.cpu(1)];
    const d = pt.map(VA, A, PAGE, NORMAL());
    c1.setRegisters({ vttbr_el2: vmid(7) });
    c1.translate(VA, read);
    m.memory.write64(d, B | NORMAL() | S1.VALID | S1.TABLE);
    c0.tlbi("ALLE1IS");
    expect(out(c1.translate(VA, read))).toBe(B);
  });
});

describe("Access flag and dirty state", () => {
  it("faults on AF=0 without TCR.HA and sets AF with it", () => {
    const { m, pt, cpu } = armRig();
    const d = pt.map(VA, A, PAGE, S1.attrIndx(0));
    expect(out(cpu.translate(VA, read))).toBe("access_flag@3");
    cpu.setRegisters({ tcr_el1: tcr(TCR_HA) });
    expect(out(cpu.translate(VA, read))).toBe(A);
    expect(m.memory.read64(d) & S1.AF).toBe(S1.AF);
  });

  it("with TCR.HD, a write to a clean DBM page walks again and makes it writable", () => {
    const { m, pt, cpu } = armRig({ tcr: tcr(TCR_HA | TCR_HD) });
    const d = pt.map(VA, A, PAGE, NORMAL(S1.AP2 | S1.DBM));
    expect(out(cpu.translate(VA, read))).toBe(A);
    expect(out(cpu.translate(VA, write))).toBe(A);
    expect(m.memory.read64(d) & S1.AP2).toBe(0n);
    expect(cpu.counters().dirtyRewalks).toBe(1n);
    // Without HA, HD does nothing: the page stays read-only.
    const r = armRig({ tcr: tcr(TCR_HD) });
    r.pt.map(VA, A, PAGE, NORMAL(S1.AP2 | S1.DBM));
    expect(out(r.cpu.translate(VA, write))).toBe("permission@3");
  });

  it("APTable[1] keeps a DBM page read-only", () => {
    const { pt, cpu } = armRig({ tcr: tcr(TCR_HA | TCR_HD) });
    pt.map(VA, A, PAGE, NORMAL(S1.AP2 | S1.DBM), S1.APTABLE1);
    expect(out(cpu.translate(VA, write))).toBe("permission@3");
    const r = armRig({ tcr: tcr(TCR_HA | TCR_HD | TCR_HPD0) });
    r.pt.map(VA, A, PAGE, NORMAL(S1.AP2 | S1.DBM), S1.APTABLE1);
    expect(out(r.cpu.translate(VA, write))).toBe(A);
  });
});

describe("permissions", () => {
  it("AP[2:1] for EL0 and EL1 data", () => {
    const { pt, cpu } = armRig();
    pt.map(VA, A, PAGE, NORMAL());
    pt.map(VA + PAGE, A, PAGE, NORMAL(S1.AP1));
    pt.map(VA + 2n * PAGE, A, PAGE, NORMAL(S1.AP2));
    pt.map(VA + 3n * PAGE, A, PAGE, NORMAL(S1.AP1 | S1.AP2));
    expect([userRead, userWrite, read, write].map((a) => out(cpu.translate(VA, a)))).toEqual(["permission@3", "permission@3", A, A]);
    expect([userRead, userWrite, write].map((a) => out(cpu.translate(VA + PAGE, a)))).toEqual([A, A, A]);
    expect([userRead, read, write].map((a) => out(cpu.translate(VA + 2n * PAGE, a)))).toEqual(["permission@3", A, "permission@3"]);
    expect([userRead, userWrite].map((a) => out(cpu.translate(VA + 3n * PAGE, a)))).toEqual([A, "permission@3"]);
  });

  it("PAN forbids privileged data accesses to EL0-accessible pages", () => {
    const { pt, cpu } = armRig();
    pt.map(VA, A, PAGE, NORMAL(S1.AP1));
    expect(out(cpu.translate(VA, read))).toBe(A);
    cpu.setRegisters({ pstate: 1n << 22n });
    expect(out(cpu.translate(VA, read))).toBe("permission@3");
    expect(out(cpu.translate(VA, userRead))).toBe(A);
  });

  it("execute-never: PXN, UXN, EL0-writable memory, and SCTLR_EL1.WXN", () => {
    const { pt, cpu } = armRig();
    pt.map(VA, A, PAGE, NORMAL(S1.PXN));
    pt.map(VA + PAGE, A, PAGE, NORMAL(S1.AP1));
    pt.map(VA + 2n * PAGE, A, PAGE, NORMAL(S1.AP2));
    pt.map(VA + 3n * PAGE, A, PAGE, NORMAL());
    expect(out(cpu.translate(VA, fetch))).toBe("permission@3");
    expect(out(cpu.translate(VA + PAGE, fetch))).toBe("permission@3");
    expect(out(cpu.translate(VA + 2n * PAGE, fetch))).toBe(A);
    expect(out(cpu.translate(VA + 3n * PAGE, fetch))).toBe(A);
    cpu.setRegisters({ sctlr_el1: SCTLR | SCTLR_WXN });
    expect(out(cpu.translate(VA + 3n * PAGE, fetch))).toBe("permission@3");
    expect(out(cpu.translate(VA + 2n * PAGE, fetch))).toBe(A);
  });

  it("E0PD makes EL0 accesses to its half a level 0 translation fault", () => {
    const { pt, cpu } = armRig({ tcr: tcr(TCR_E0PD0) });
    pt.map(VA, A, PAGE, NORMAL(S1.AP1));
    expect(out(cpu.translate(VA, userRead))).toBe("translation@0");
    expect(out(cpu.translate(VA, read))).toBe(A);
  });
});

describe("addresses", () => {
  it("TBI ignores the top byte: a tagged pointer uses the same translation", () => {
    const { pt, cpu } = armRig({ tcr: tcr(TCR_TBI0) });
    pt.map(VA, A, PAGE, NORMAL());
    expect(out(cpu.translate(VA | (0x5an << 56n), read))).toBe(A);
    expect(out(cpu.translate(VA | (0xa5n << 56n), read))).toBe(A);
    expect(cpu.counters().walks).toBe(1n);
    const r = armRig();
    r.pt.map(VA, A, PAGE, NORMAL());
    expect(out(r.cpu.translate(VA | (0x5an << 56n), read))).toBe("translation@0");
  });

  it("uses TTBR1 for addresses with bit 55 set", () => {
    const { m, pt, cpu } = armRig();
    const other = new (pt.constructor as typeof import("../../helpers/arm.ts").ArmPageTables)(m.memory, { base: 0x80_0080_0000n, limit: 0x80_00c0_0000n }, 48);
    const kva = 0xffff_8000_0010_0000n;
    other.map(kva, B, PAGE, NORMAL());
    cpu.setRegisters({ ttbr1_el1: other.root });
    expect(out(cpu.translate(kva, read))).toBe(B);
  });

  it("with the MMU off, the PA is the VA and a VA beyond the PA size is an address-size fault", () => {
    const { cpu } = armRig({ sctlr: 0x30d0_1804n });
    expect(out(cpu.translate(0x1234n, read))).toBe(0x1234n);
    expect(out(cpu.translate(1n << 50n, read))).toBe("address_size@0");
  });
});

describe("AT", () => {
  it("returns PAR_EL1 with the PA and attributes, or the fault status, and does not fill the TLB", () => {
    const { m, pt, cpu } = armRig();
    const d = pt.map(VA, A, PAGE, NORMAL());
    const ok = cpu.at("S1E1R", VA + 0x10n);
    expect(ok.par).toBe((0xffn << 56n) | A | (1n << 11n) | (1n << 9n) | (3n << 7n));
    expect(cpu.registers.par_el1).toBe(ok.par);
    expect(cpu.counters().walks).toBe(0n);
    const fail = cpu.at("S1E0R", VA);
    expect(fail.par).toBe((1n << 11n) | (0x0fn << 1n) | 1n);
    m.memory.write64(d, 0n);
    expect(out(cpu.translate(VA, read))).toBe("translation@3");
  });
});
