// SPDX-License-Identifier: MIT
//
// The AArch64 side of the debugger: walk (every stage-1 descriptor and the
// MMU's decision), tlb (a stale entry after a descriptor changes without
// TLBI, gone after the TLBI), cache (dirty lines by set/way, gone after DC
// CIVAC), the target description with the system registers, and a booted
// image run through the session: registers, memory as the CPU reads it
// (through the data caches), and exits carried out by shootdown run's port.

import { describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/core/machine.ts";
import { ArmPageTables, S1 } from "../../../emulator/machine/platform/arm/page-tables.ts";
import { ArmTarget, armTargetXml } from "../../../emulator/debug/arm-target.ts";
import { Session } from "../../../emulator/debug/session.ts";
import { Commands } from "../../../emulator/debug/commands.ts";
import { makeTarget } from "../../../emulator/debug/targets.ts";
import { image } from "../../helpers/run.ts";
import { STALE_GUEST_A64 } from "../../helpers/debug.ts";

const VA = 0x1000_0000n;
const OLD_PA = 0x4100_0000n;
const NEW_PA = 0x4200_0000n;
const OPTIONS = { cpus: 2, memBytes: 64n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000, maxSteps: undefined, tlbChaos: undefined } as const;

function machine() {
  const m = new Machine({ arch: "aarch64", cpus: 2, ram: [{ base: 0x4000_0000n, size: 64n << 20n }] });
  const pt = new ArmPageTables(m.memory, { base: 0x4010_0000n, limit: 0x4020_0000n }, 48);
  const pte = pt.map(VA, OLD_PA, 0x1000n, S1.attrIndx(0) | S1.sh(3) | S1.AF);
  for (const c of m.cpus) {
    c.setRegisters({ sctlr_el1: 0x30d0_1805n, tcr_el1: 0x15_b510_3510n, ttbr0_el1: pt.root, mair_el1: 0xffn });
  }
  return { m, pt, pte, target: new ArmTarget(m) };
}

describe("the AArch64 debug target", () => {
  it("walks from TTBR0_EL1 level by level and gives the MMU's decision", () => {
    const { target, pte } = machine();
    const w = target.walk(0, VA + 0x10n, "read", "kernel");
    expect(w.root).toBe(`TTBR0_EL1 ${"0x" + (0x4010_0000n).toString(16)} (ASID 0, T0SZ 16)`);
    expect(w.levels.map((l) => l.name)).toEqual(["L0", "L1", "L2", "L3"]);
    expect(w.levels[3]!.entryPa).toBe(pte);
    expect(w.levels[3]!.decoded).toBe("page AttrIndx=0 AP=0 SH=3 AF → 0x41000000");
    expect(w.levels[0]!.decoded).toMatch(/^table → table 0x401[0-9a-f]{5}$/);
    expect(w.ok).toBe(true);
    expect(w.decision).toBe("read at EL1: allowed → PA 0x41000010 (4K page, MAIR attr 0xff, SH 3, global)");
    const user = target.walk(0, VA, "read", "user");
    expect(user.decision).toBe("read at EL0: permission fault, level 3, FSC 0xf");
    const unmapped = target.walk(0, 0x2000_0000n, "read", "kernel");
    expect(unmapped.levels.at(-1)!.decoded).toBe("invalid");
    expect(unmapped.decision).toMatch(/^read at EL1: translation fault, level [0-3], FSC 0x[0-9a-f]+$/);
  });

  it("shows a TLB entry as stale once its descriptor changes without TLBI, and drops it after the TLBI", () => {
    const { m, target, pte } = machine();
    const c0 = m.cpu(0);
    expect(c0.translate(VA, { op: "read", priv: "kernel" })).toMatchObject({ ok: true, pa: OLD_PA });
    const page = () => target.tlb(0).find((e) => e.structure === "TLB 4K" && e.va === VA);
    expect(page()).toMatchObject({ pa: OLD_PA, size: "4K", tags: "global VMID 0", perms: "RW EL1", stale: "fresh" });
    m.memory.write64(pte, NEW_PA | S1.attrIndx(0) | S1.sh(3) | S1.AF | S1.VALID | S1.TABLE);
    expect(page()!.stale).toEqual({ why: `the L3 descriptor at 0x${pte.toString(16)} now maps 0x42000000` });
    // CPU 1 never used the address: nothing of it in its TLB.
    expect(target.tlb(1).find((e) => e.va === VA)).toBeUndefined();
    c0.tlbi("VAE1", VA >> 12n);
    expect(page()).toBeUndefined();
  });

  it("lists dirty data-cache lines by set and way, and none after a clean to the point of coherency", () => {
    const { m, target } = machine();
    m.cpu(1).store(VA, 8, 0x1234n);
    const lines = target.cache(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "L1", pa: OLD_PA, dirty: true });
    expect(lines[0]!.bytes.subarray(0, 8)).toEqual(Uint8Array.from([0x34, 0x12, 0, 0, 0, 0, 0, 0]));
    expect(target.cache(0)).toEqual([]);
    // The walker (and so `walk`) reads through the caches: dirty data wins over RAM.
    expect(target.coherentRead64(OLD_PA)).toBe(0x1234n);
    expect(m.memory.read64(OLD_PA)).toBe(0n);
    m.cpu(0).dc("CIVAC", VA);
    expect(target.cache(1)).toEqual([]);
  });

  it("lists every valid line with `all`, clean ones too, each where its PA's set puts it", () => {
    const { m, target } = machine();
    m.cpu(1).store(VA, 8, 0x1234n);
    m.cpu(1).dc("CVAC", VA);
    // Cleaned to the point of coherency: no longer dirty, still valid in the L1.
    expect(target.cache(1)).toEqual([]);
    const clean = target.cache(1, true).filter((l) => l.level === "L1");
    expect(clean).toHaveLength(1);
    expect(clean[0]).toMatchObject({ level: "L1", set: Number((OLD_PA >> 6n) & 63n), pa: OLD_PA, dirty: false, ramNewer: false });
    m.cpu(1).store(VA + 0x40n, 8, 0x5678n);
    const all = target.cache(1, true).filter((l) => l.level === "L1");
    expect(all.map((l) => [l.pa, l.dirty])).toEqual([[OLD_PA, false], [OLD_PA + 0x40n, true]]);
    expect(all[1]!.set).toBe(all[0]!.set + 1);
    expect(target.cache(0, true).filter((l) => l.level === "L1")).toEqual([]);
    const session = new Commands(new Session({ image: image("_start:\n  nop\n", { arch: "aarch64", base: 0x4008_0000n }), options: OPTIONS, makeTarget: () => target }));
    const out = session.execute("cache 1 all");
    expect(out[0]).toMatch(/^CPU 1: \d+ valid lines, \d+ dirty; L1 2 \(1 dirty\), system cache \d+ \(\d+ dirty\)$/);
    expect(out.filter((l) => l.startsWith("  L1"))).toEqual([
      `  L1     set   ${String(all[0]!.set).padStart(2)} way  0  PA 0x41000000     clean             34 12 00 00 00 00 00 00 00 00 00 00 00 00 00 00 …`,
      `  L1     set   ${String(all[1]!.set).padStart(2)} way  0  PA 0x41000040     dirty             78 56 00 00 00 00 00 00 00 00 00 00 00 00 00 00 …`,
    ]);
    expect(() => session.execute("cache 2")).toThrow("no CPU 2 (the machine has 2)");
  });

  it("describes the core and system registers for gdb", () => {
    const xml = armTargetXml();
    expect(xml).toContain("<architecture>aarch64</architecture>");
    expect(xml).toContain('<feature name="org.gnu.gdb.aarch64.core">');
    expect(xml).toContain('<reg name="x0" bitsize="64" type="int" regnum="0"/>');
    expect(xml).toContain('<reg name="pc" bitsize="64" type="code_ptr" regnum="32"/>');
    expect(xml).toContain('<reg name="cpsr" bitsize="32" type="int" regnum="33"/>');
    expect(xml).toContain('<reg name="ttbr0_el1" bitsize="64" type="int" regnum="36" group="system"/>');
    expect(xml).toContain('<reg name="hcr_el2" bitsize="64" type="int" regnum="40" group="system"/>');
  });

  it("runs the REPL's paging commands over a machine a test built", () => {
    const { target, m } = machine();
    const arm = image("_start:\n  nop\n", { arch: "aarch64", base: 0x4008_0000n });
    m.cpu(0).translate(VA, { op: "read", priv: "kernel" });
    const session = new Commands(new Session({ image: arm, options: OPTIONS, makeTarget: () => target }));
    expect(session.execute(`walk 0x${VA.toString(16)}`).at(-1)).toBe("  read at EL1: allowed → PA 0x41000000 (4K page, MAIR attr 0xff, SH 3, global)");
    expect(session.execute("tlb").join("\n")).toMatch(/TLB 4K +0x10000000 +→ 0x41000000 +global VMID 0 +RW EL1 +ok/);
    // The descriptor changes with no TLBI: the REPL shows the entry stale, and the walk the new page.
    const pte = target.walk(0, VA, "read", "kernel").levels[3]!.entryPa;
    m.memory.write64(pte, NEW_PA | S1.attrIndx(0) | S1.sh(3) | S1.AF | S1.VALID | S1.TABLE);
    expect(session.execute("tlb").join("\n")).toMatch(
      new RegExp(`TLB 4K +0x10000000 +→ 0x41000000 +global VMID 0 +RW EL1 +STALE: the L3 descriptor at 0x${pte.toString(16)} now maps 0x42000000`),
    );
    expect(session.execute(`walk 0x${VA.toString(16)}`).at(-1)).toBe("  read at EL1: allowed → PA 0x42000000 (4K page, MAIR attr 0xff, SH 3, global)");
    expect(session.execute("cache 1")).toEqual(["CPU 1: 0 dirty lines"]);
    const regs = session.execute("regs");
    expect(regs).toContain("ttbr0_el1  0x40100000         table 0x40100000 ASID 0");
    expect(regs).toContain("mair_el1   0xff               Attr0=0xff Normal WB");
  });

  it("boots an image as shootdown run does and runs it: registers, memory through the caches, PSCI at the end", () => {
    const elf = image(STALE_GUEST_A64, { arch: "aarch64", base: 0x4008_0000n });
    const session = new Session({ image: elf, options: { ...OPTIONS, memBytes: 128n << 20n }, makeTarget: (i, o, c) => makeTarget(i, o, c) });
    const t = session.target;
    expect(t.arch).toBe("aarch64");
    expect(t.pc(0)).toBe(0x4008_0000n);
    // CPU 0 at EL1h with x0 the boot-information block; CPU 1 off until PSCI CPU_ON.
    const names = t.registers().map((r) => r.name);
    const regs = t.readRegisters(0);
    expect(regs[names.indexOf("x0")]).toBe(0x4000_0000n + (128n << 20n) - 0x2000n);
    expect(regs[names.indexOf("cpsr")]! & 0xfn).toBe(5n);
    expect(t.live(1)).toBe(false);
    const remap = t.symbolTable.find((s) => s.name === "remap")!.value;
    session.setBreakpoint(remap);
    expect(session.resume()).toEqual({ kind: "breakpoint", cpu: 0, pc: remap });
    // The store of 0x1234 went to CPU 0's L1, not yet to RAM: x/ reads what the CPU would.
    expect(t.readVirtual(0, 0x8000_0000n, 8).bytes).toEqual(Uint8Array.from([0x34, 0x12, 0, 0, 0, 0, 0, 0]));
    expect(t.readPhysical(0x4020_0000n, 2)).toEqual(Uint8Array.from([0x34, 0x12]));
    expect(t.cache(0).map((l) => l.pa)).toContain(0x4020_0000n);
    // A debugger's write reaches every copy, so the CPU loads it.
    expect(t.writeVirtual(0, 0x8000_0000n, Uint8Array.from([0x99]))).toBe(true);
    expect(t.readPhysical(0x4020_0000n, 1)).toEqual(Uint8Array.from([0x99]));
    // Registers write back: SP is SP_EL1 at EL1h; a PSTATE with a mode the CPU lacks is refused.
    expect(t.writeRegister(0, names.indexOf("sp"), 0x4100_0000n)).toBe(true);
    expect(t.readRegisters(0)[names.indexOf("sp")]).toBe(0x4100_0000n);
    expect(t.writeRegister(0, names.indexOf("cpsr"), 0x3c9n)).toBe(false);
    expect(t.disassembleOne(0, remap)?.text).toBe("str x0, [x9, #8192]");
    // The descriptor changes without TLBI; the next load uses the stale entry and the detector says so.
    expect(session.step()).toEqual({ kind: "step", cpu: 0 });
    const stop = session.step();
    expect(stop.kind).toBe("violation");
    expect(stop.kind === "violation" && stop.messages).toEqual([
      "CPU 0 used a stale TLB entry for VA 0x80000000 (ASID 0): the L3 descriptor at 0x40102000 was 0x40200703 and is now 0x40201703, with no TLBI in between",
    ]);
    expect(t.readRegisters(0)[names.indexOf("x2")]).toBe(0x1299n);
    expect(session.resume()).toEqual({ kind: "end", cpu: 0, status: 0, message: "CPU 0 called PSCI SYSTEM_OFF: success" });
  });
});
