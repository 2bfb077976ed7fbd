// SPDX-License-Identifier: MIT
//
// The allow table (hw/x86/paging/permissions.ts) caches the access rules for
// TLB hits and is rebuilt only when what it depends on changes: CR0.WP,
// CR4.SMEP, CR4.SMAP, CR4.PKE, EFER.NXE and PKRU. Registers loaded raw
// (setRegisters, as a hypervisor loads a vCPU) keep the TLB, so each access
// here is taken twice, the second a TLB hit that only the table decides; one
// input left out of the table's key would leave a stale answer there.

import { describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/index.ts";
import type { Access } from "../../../emulator/machine/cpu/x86-cpu.ts";

const BASE = 0x10_0000n;
const VA = 0x1000n;
const PKEY1 = 1n << 59n;
const CR0 = 0x8000_0011n;
const WP = 1n << 16n;
const PAE = 1n << 5n;
const SMEP = 1n << 20n;
const SMAP = 1n << 21n;
const PKE = 1n << 22n;
const EFER = 0xd00n; // LME, LMA, NXE
const AD_KEY1 = 1n << 2n;

describe("x86-64 allow table", () => {
  const machine = new Machine({ cpus: 1, ram: [{ base: BASE, size: 0x10_000n }] });
  const cpu = machine.cpu(0);
  // L4, L3, L2 and L1 at BASE + 0 .. 0x3000; VA 0x1000 maps BASE + 0x4000:
  // a user page, read-only, accessed and dirty, protection key 1.
  for (let level = 0n; level < 3n; level++) machine.memory.write64(BASE + level * 0x1000n, BASE + (level + 1n) * 0x1000n + 7n);
  machine.memory.write64(BASE + 0x3000n + 8n, BASE + 0x4000n + 0x65n + PKEY1);
  cpu.reset();

  const outcome = (access: Access) => {
    const t = cpu.translate(VA, access);
    return t.ok ? "ok" : t.fault.kind === "page-fault" ? `#PF 0x${t.fault.errorCode.toString(16)}` : t.fault.kind;
  };

  it("answers TLB hits by the registers loaded last, whatever was loaded before", () => {
    const steps: { cr0?: bigint; cr4?: bigint; pkru?: bigint; access: Access; expect: string }[] = [
      { access: { op: "write", priv: "kernel" }, expect: "ok" },
      { cr0: CR0 | WP, access: { op: "write", priv: "kernel" }, expect: "#PF 0x3" },
      { cr0: CR0, access: { op: "write", priv: "kernel" }, expect: "ok" },
      { access: { op: "fetch", priv: "kernel" }, expect: "ok" },
      { cr4: PAE | SMEP, access: { op: "fetch", priv: "kernel" }, expect: "#PF 0x11" },
      { cr4: PAE, access: { op: "fetch", priv: "kernel" }, expect: "ok" },
      { access: { op: "read", priv: "kernel" }, expect: "ok" },
      { cr4: PAE | SMAP, access: { op: "read", priv: "kernel" }, expect: "#PF 0x1" },
      { cr4: PAE, access: { op: "read", priv: "kernel" }, expect: "ok" },
      { cr4: PAE | PKE, pkru: 0n, access: { op: "read", priv: "user" }, expect: "ok" },
      { pkru: AD_KEY1, access: { op: "read", priv: "user" }, expect: "#PF 0x25" },
      { cr4: PAE, access: { op: "read", priv: "user" }, expect: "ok" },
      { cr4: PAE | PKE, access: { op: "read", priv: "user" }, expect: "#PF 0x25" },
      { pkru: 0n, access: { op: "read", priv: "user" }, expect: "ok" },
    ];
    cpu.setRegisters({ cr0: CR0, cr3: BASE, cr4: PAE, efer: EFER, pkru: 0n });
    const got = steps.map((s) => {
      cpu.setRegisters({ ...(s.cr0 !== undefined ? { cr0: s.cr0 } : {}), ...(s.cr4 !== undefined ? { cr4: s.cr4 } : {}), ...(s.pkru !== undefined ? { pkru: s.pkru } : {}) });
      return [outcome(s.access), outcome(s.access)];
    });
    expect(got).toEqual(steps.map((s) => [s.expect, s.expect]));
  });

  it("a table another CPU built for the same registers is the same table (the hardware module keeps the last one built and copies it)", () => {
    const two = new Machine({ cpus: 2, ram: [{ base: BASE, size: 0x10_000n }] });
    try {
      for (let level = 0n; level < 3n; level++) two.memory.write64(BASE + level * 0x1000n, BASE + (level + 1n) * 0x1000n + 7n);
      two.memory.write64(BASE + 0x3000n + 8n, BASE + 0x4000n + 0x65n + PKEY1);
      const write = { op: "write", priv: "kernel" } as const;
      const on = (i: number) => {
        const c = two.cpu(i);
        const t = c.translate(VA, write);
        const again = c.translate(VA, write);
        expect(again.ok).toBe(t.ok);
        return t.ok ? "ok" : "#PF";
      };
      const load = (i: number, cr0: bigint) => two.cpu(i).setRegisters({ cr0 });
      for (const i of [0, 1]) {
        two.cpu(i).reset();
        two.cpu(i).setRegisters({ cr0: CR0, cr3: BASE, cr4: PAE, efer: EFER, pkru: 0n });
      }
      // CPU 0 builds the WP table, CPU 1 the table without WP; each then takes the other's.
      load(0, CR0 | WP);
      load(1, CR0);
      expect([on(0), on(1)]).toEqual(["#PF", "ok"]);
      load(0, CR0);
      load(1, CR0 | WP);
      expect([on(0), on(1)]).toEqual(["ok", "#PF"]);
      load(0, CR0 | WP);
      expect([on(0), on(1)]).toEqual(["#PF", "#PF"]);
      load(1, CR0);
      expect([on(0), on(1)]).toEqual(["#PF", "ok"]);
    } finally {
      two.release();
    }
  });
});
