// SPDX-License-Identifier: MIT
//
// Access rights (SDM Vol.3A 4.6) and the #PF error code (4.7), one rule per
// test, each checked on the walk and again on the TLB hit that follows.

import { describe, expect, it } from "vitest";
import {
  rig, paOf, pf, read, write, fetch, userRead, userWrite, userFetch, PTE, PAGE_4K, CR4_SMEP, CR4_SMAP, CR4_PKE,
  RFLAGS_AC, EFER_LME, EFER_LMA, EFER_NXE,
} from "../../helpers/x86.ts";
import { pkeyBits } from "../../../emulator/machine/platform/x86/page-tables.ts";
import type { Access } from "../../../emulator/machine/index.ts";

const VA = 0x0000_5555_0000_0000n;
const FRAME = 0x30_0000n;
const implicitRead = { op: "read", priv: "implicit" } as const;

/** Translates twice (walk, then TLB hit) and insists both agree. */
function both(cpu: ReturnType<typeof rig>["cpu"], access: Access) {
  const first = paOf(cpu.translate(VA, access));
  const second = paOf(cpu.translate(VA, access));
  expect(second, "the TLB hit agrees with the walk").toBe(first);
  return first;
}

describe("user and supervisor", () => {
  it("a user access to a supervisor page faults with P|U", () => {
    const { pt, cpu } = rig();
    pt.map(VA, FRAME, PAGE_4K, PTE.RW);
    expect(both(cpu, userRead)).toBe(pf(0x5));
    expect(both(cpu, userWrite)).toBe(pf(0x7));
  });

  it("U/S=0 in any level makes the page supervisor-only", () => {
    const { m, pt, cpu } = rig();
    pt.map(VA, FRAME, PAGE_4K, PTE.RW | PTE.US);
    const pde = pt.entryAddress(VA, 2);
    m.memory.write64(pde, m.memory.read64(pde) & ~PTE.US);
    expect(both(cpu, userRead)).toBe(pf(0x5));
    expect(both(cpu, read)).toBe(FRAME);
  });

  it("R/W=0 in any level makes a user page read-only for user writes", () => {
    const { m, pt, cpu } = rig();
    pt.map(VA, FRAME, PAGE_4K, PTE.RW | PTE.US);
    const pdpte = pt.entryAddress(VA, 3);
    m.memory.write64(pdpte, m.memory.read64(pdpte) & ~PTE.RW);
    expect(both(cpu, userRead)).toBe(FRAME);
    expect(both(cpu, userWrite)).toBe(pf(0x7));
  });
});

describe("execute disable", () => {
  it("XD forbids fetches with EFER.NXE=1 and sets I/D in the error code", () => {
    const { pt, cpu } = rig();
    pt.map(VA, FRAME, PAGE_4K, PTE.US | PTE.XD);
    expect(both(cpu, userFetch)).toBe(pf(0x15));
    expect(both(cpu, fetch)).toBe(pf(0x11));
    expect(both(cpu, read)).toBe(FRAME);
  });

  it("XD is a reserved bit with EFER.NXE=0, and I/D stays clear without NXE or SMEP", () => {
    const { pt, cpu } = rig();
    cpu.setRegisters({ efer: EFER_LME | EFER_LMA });
    pt.map(VA, FRAME, PAGE_4K, PTE.US | PTE.XD);
    expect(both(cpu, read)).toBe(pf(0x9));
    expect(both(cpu, userFetch)).toBe(pf(0xd));
  });
});

describe("SMEP", () => {
  it("forbids supervisor fetches from user pages", () => {
    const { pt, cpu } = rig({ cr4: CR4_SMEP });
    pt.map(VA, FRAME, PAGE_4K, PTE.US);
    expect(both(cpu, fetch)).toBe(pf(0x11));
    expect(both(cpu, userFetch)).toBe(FRAME);
  });

  it("sets I/D for a fetch fault even without NXE", () => {
    const { cpu } = rig({ cr4: CR4_SMEP });
    cpu.setRegisters({ efer: EFER_LME | EFER_LMA });
    expect(paOf(cpu.translate(VA, fetch))).toBe(pf(0x10));
  });
});

describe("SMAP", () => {
  it("forbids supervisor data accesses to user pages unless RFLAGS.AC=1", () => {
    const { pt, cpu } = rig({ cr4: CR4_SMAP });
    pt.map(VA, FRAME, PAGE_4K, PTE.US | PTE.RW);
    expect(both(cpu, read)).toBe(pf(0x1));
    expect(both(cpu, write)).toBe(pf(0x3));
    cpu.writeRflags(RFLAGS_AC | 2n);
    expect(both(cpu, read)).toBe(FRAME);
    expect(both(cpu, write)).toBe(FRAME);
    cpu.writeRflags(2n);
    expect(both(cpu, read)).toBe(pf(0x1));
  });

  it("ignores RFLAGS.AC for implicit supervisor-mode accesses", () => {
    const { pt, cpu } = rig({ cr4: CR4_SMAP });
    pt.map(VA, FRAME, PAGE_4K, PTE.US);
    cpu.writeRflags(RFLAGS_AC | 2n);
    expect(both(cpu, implicitRead)).toBe(pf(0x1));
  });

  it("does not apply to instruction fetches", () => {
    const { pt, cpu } = rig({ cr4: CR4_SMAP });
    pt.map(VA, FRAME, PAGE_4K, PTE.US);
    expect(both(cpu, fetch)).toBe(FRAME);
  });
});

describe("protection keys", () => {
  it("PKRU.AD forbids every data access to the key's user pages, and sets PK", () => {
    const { pt, cpu } = rig({ cr4: CR4_PKE });
    pt.map(VA, FRAME, PAGE_4K, PTE.US | PTE.RW | pkeyBits(5));
    cpu.writePkru(1n << 10n);
    expect(both(cpu, userRead)).toBe(pf(0x25));
    expect(both(cpu, read)).toBe(pf(0x21));
    expect(both(cpu, userFetch)).toBe(FRAME);
  });

  it("PKRU.WD forbids user writes, and supervisor writes only with CR0.WP=1", () => {
    const { pt, cpu } = rig({ cr4: CR4_PKE });
    pt.map(VA, FRAME, PAGE_4K, PTE.US | PTE.RW | pkeyBits(3));
    cpu.writePkru(2n << 6n);
    expect(both(cpu, userRead)).toBe(FRAME);
    expect(both(cpu, userWrite)).toBe(pf(0x27));
    expect(both(cpu, write)).toBe(pf(0x23));
    cpu.movToCr0(cpu.registers.cr0 & ~(1n << 16n));
    expect(both(cpu, write)).toBe(FRAME);
  });

  it("keys do not apply to supervisor pages or without CR4.PKE", () => {
    const { pt, cpu } = rig();
    pt.map(VA, FRAME, PAGE_4K, PTE.US | PTE.RW | pkeyBits(1));
    cpu.writePkru(0xffff_ffffn);
    expect(both(cpu, userRead)).toBe(FRAME);
    const r = rig({ cr4: CR4_PKE });
    r.pt.map(VA, FRAME, PAGE_4K, PTE.RW | pkeyBits(1));
    r.cpu.writePkru(0xffff_ffffn);
    expect(both(r.cpu, read)).toBe(FRAME);
  });

  it("sets PK alongside another violation: a user write to a read-only page whose key forbids writes", () => {
    const { pt, cpu } = rig({ cr4: CR4_PKE });
    pt.map(VA, FRAME, PAGE_4K, PTE.US | pkeyBits(2));
    cpu.writePkru(2n << 4n);
    expect(both(cpu, userWrite)).toBe(pf(0x27));
  });
});

describe("memory types", () => {
  it("come from IA32_PAT indexed by PAT, PCD and PWT", () => {
    const { pt, cpu } = rig();
    pt.map(VA, FRAME, PAGE_4K, PTE.PCD | PTE.PWT);
    expect(cpu.translate(VA, read)).toMatchObject({ patIndex: 3, memoryType: "UC" });
    pt.map(VA + PAGE_4K, FRAME, PAGE_4K, PTE.PWT);
    expect(cpu.translate(VA + PAGE_4K, read)).toMatchObject({ patIndex: 1, memoryType: "WT" });
    pt.map(VA + 2n * PAGE_4K, FRAME, PAGE_4K, 0n);
    expect(cpu.translate(VA + 2n * PAGE_4K, read)).toMatchObject({ patIndex: 0, memoryType: "WB" });
  });
});

describe("the access kinds", () => {
  it("rejects an unknown op or privilege with a clear error", () => {
    const { cpu } = rig();
    expect(() => cpu.translate(VA, { op: "execute" as "fetch", priv: "user" })).toThrow(/unknown access op 'execute'/);
    expect(() => cpu.translate(VA, { op: "read", priv: "root" as "user" })).toThrow(/unknown privilege 'root'/);
  });

  it("NXE toggling through WRMSR changes what XD means at once", () => {
    const { pt, cpu } = rig();
    pt.map(VA, FRAME, PAGE_4K, PTE.US);
    expect(cpu.writeEfer(EFER_LME | EFER_LMA | EFER_NXE)).toBe("ok");
    expect(both(cpu, userFetch)).toBe(FRAME);
  });
});
