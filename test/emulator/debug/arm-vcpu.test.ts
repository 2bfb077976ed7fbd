// SPDX-License-Identifier: MIT
//
// The AArch64 debugger under the hypervisor (`shootdown repl|gdb IMAGE --hv`):
// its threads are the domain's vCPUs, then the pCPUs. guest/aarch64/hello.elf
// runs 4 vCPUs on 2 pCPUs, so some are always off every pCPU: those are read
// from the context the hypervisor keeps of them, and their memory through
// their own stage 1 and the domain's stage 2 (whose p2m is not the
// identity), also where Xen has cleared a stage-2 valid bit. `cache` lists
// the lines of the L1 of the pCPU a vCPU runs on with their state.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readElf } from "../../../asm/index.ts";
import { Commands } from "../../../emulator/debug/commands.ts";
import { Session } from "../../../emulator/debug/session.ts";
import { makeTarget } from "../../../emulator/debug/targets.ts";
import type { RecordedOptions } from "../../../emulator/machine/core/schedule-file.ts";
import type { ArmHost } from "../../../hypervisor/arm/arm-host.ts";
import { ShootdownError } from "../../../emulator/machine/core/errors.ts";
import { ROOT } from "../../helpers/run.ts";

const HELLO = readFileSync(join(ROOT, "guest", "aarch64", "hello.elf"));
const ELF = readElf(HELLO);
const sym = (name: string) => ELF.symbols.find((s) => s.name === name)!.value;
/** hello.s: the alias page every vCPU maps at ALIAS_VA (page_a, "AAAA", before any remap). */
const ALIAS_VA = 0x8000_0000n;

const OPTIONS: RecordedOptions = {
  cpus: 2, memBytes: 256n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000, maxSteps: undefined, tlbChaos: undefined,
  hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n },
};

function boot() {
  const session = new Session({ image: HELLO, options: OPTIONS, makeTarget: (i, o, c) => makeTarget(i, o, c) });
  const host = (session.platform as unknown as { attached: ArmHost }).attached;
  const commands = new Commands(session);
  const names = session.target.registers().map((r) => r.name);
  const reg = (k: number, name: string) => session.target.readRegisters(k)[names.indexOf(name)]!;
  /** The machine address the p2m gives an IPA. */
  const machine = (ipa: bigint) => (BigInt(host.p2m.lookup(Number(ipa >> 12n))!.mfn) << 12n) | (ipa & 0xfffn);
  return { session, host, commands, names, reg, machine, t: session.target };
}

describe("the AArch64 debugger's threads under --hv", () => {
  it("lists the vCPUs, then the pCPUs, and reads a vCPU that has not run from the context the hypervisor gave it", () => {
    const { session, host, reg, t, machine } = boot();
    expect(session.threads().map((x) => x.name)).toEqual(["d1v0", "d1v1", "d1v2", "d1v3", "pCPU 0", "pCPU 1"]);
    expect(session.threads().slice(0, 4).map((x) => x.state)).toEqual(["runnable", "down", "down", "down"]);
    // d1v0 waits for a pCPU: at the image's entry, X0 the boot-information block, EL1h.
    expect(t.pc(0)).toBe(ELF.entry);
    expect(reg(0, "x0")).toBe(host.vcpuList[0]!.saved!.state.x[0]);
    expect(reg(0, "cpsr") & 0xfn).toBe(5n);
    // Its HCR_EL2 and VTTBR_EL2 are those load() gives it, not what a pCPU holds now.
    expect(reg(0, "hcr_el2")).toBe(host.vcpuList[0]!.hcr);
    expect(reg(0, "vttbr_el2")).toBe(host.p2m.vttbr);
    expect(t.live(0)).toBe(true);
    expect(t.instructions(0)).toBe(0n);
    // With its MMU off the IPA is the VA, and the stage 2 moves it: the bytes at the entry are the image's, read at the
    // machine address the p2m gives, through the root entry whose valid bit the domain's creation cleared.
    const pa = t.physicalAddress(0, ELF.entry)!;
    expect(pa).toBe(machine(ELF.entry));
    expect(pa).not.toBe(ELF.entry);
    expect(host.p2m.walk(Number(ELF.entry >> 12n))[0]!.pte & 1n).toBe(0n);
    const seg = ELF.segments.find((s) => s.vaddr <= ELF.entry && ELF.entry < s.vaddr + BigInt(s.filesz))!;
    const offset = seg.offset + Number(ELF.entry - seg.vaddr);
    expect(t.readVirtual(0, ELF.entry, 8).bytes).toEqual(Uint8Array.from(HELLO.subarray(offset, offset + 8)));
    expect(t.disassembleOne(0, ELF.entry)?.text).toBe("mov x19, #0x0 // #0");
  });

  it("looks at an off-pCPU vCPU through its own stage 1 and the stage 2 without changing the machine", () => {
    const { session, t, reg, machine, names } = boot();
    session.setBreakpoint(sym("round"));
    const stop = session.resume();
    expect(stop.kind).toBe("breakpoint");
    // Every vCPU has turned its MMU on by now; find one off every pCPU.
    const off = session.threads().filter((x) => x.vcpu && x.cpu === undefined && (reg(x.index, "sctlr_el1") & 1n) === 1n);
    expect(off.length).toBeGreaterThan(0);
    const k = off[0]!.index;
    const hash = t.stateHash();
    const pcpu0 = t.readRegisters(4);
    // Its saved PC disassembles from its own memory; the alias page reads through its own stage-1 tables.
    const pc = t.pc(k);
    expect(t.disassembleOne(k, pc)?.text).not.toBe("(bad)");
    expect(t.readVirtual(k, ALIAS_VA, 8).bytes).toEqual(Uint8Array.from([0x41, 0x41, 0x41, 0x41, 0, 0, 0, 0]));
    const va = t.physicalAddress(k, ALIAS_VA)!;
    const walk = t.walk(k, ALIAS_VA, "read", "kernel");
    // The walk reads each table at the machine address of its IPA, and its leaf names the IPA and where it lands.
    const leaf = walk.levels.at(-1)!;
    const ipa = BigInt(/→ IPA (0x[0-9a-f]+)/.exec(leaf.decoded)![1]!);
    expect(va).toBe(machine(ipa | (ALIAS_VA & 0xfffn)));
    expect(leaf.entryPa).toBe(machine(walk.levels.at(-2)!.value & 0x0000_ffff_ffff_f000n) + 8n * ((ALIAS_VA >> 12n) & 511n));
    // The guest's set/way operations made the hypervisor clear the page's stage-2 valid bit: the MMU faults
    // (to EL2, which sets it again), and the debugger reads where the access will land.
    expect(leaf.decoded).toContain(`→ PA 0x${va.toString(16)} (stage-2 valid bit clear at level 3: the access faults to the hypervisor first)`);
    expect(walk.ok).toBe(false);
    expect(walk.decision).toBe("read at EL1: translation fault, level 3 (stage 2), FSC 0x7");
    // The vCPU that stopped runs on its pCPU, whose MMU allows its fetch: the walk's PA is the one the debugger reads.
    const here = session.threads().find((x) => x.vcpu && x.cpu === (stop as { cpu: number }).cpu)!.index;
    const fetch = t.walk(here, t.pc(here), "fetch", "kernel");
    expect(fetch.ok).toBe(true);
    expect(fetch.pa).toBe(t.physicalAddress(here, t.pc(here)));
    expect(fetch.levels.at(-1)!.decoded).toContain(`→ PA 0x${fetch.pa!.toString(16)}`);
    expect(t.readPhysical(va, 8)).toEqual(Uint8Array.from([0x41, 0x41, 0x41, 0x41, 0, 0, 0, 0]));
    // Its own TTBR0_EL1, not the pCPU's (the vCPUs of hello share their tables): with one outside the domain's
    // RAM in its context, its alias page no longer translates, while the vCPU on the pCPU still reads it.
    const ttbr = reg(k, "ttbr0_el1");
    expect(t.writeRegister(k, names.indexOf("ttbr0_el1"), 0x4400_0000n)).toBe(true);
    expect(t.readVirtual(k, ALIAS_VA, 8)).toEqual({ bytes: new Uint8Array(), faultAt: ALIAS_VA });
    expect(t.readVirtual(here, ALIAS_VA, 4).bytes).toEqual(Uint8Array.from([0x41, 0x41, 0x41, 0x41]));
    // The code every vCPU runs, which the pCPUs' MMUs translate without a fault, too.
    const code = t.pc(here);
    expect(t.readVirtual(k, code, 4)).toEqual({ bytes: new Uint8Array(), faultAt: code });
    expect(t.writeRegister(k, names.indexOf("ttbr0_el1"), ttbr)).toBe(true);
    expect(t.readVirtual(k, code, 4).bytes).toEqual(t.readVirtual(here, code, 4).bytes);
    // Looking changed nothing: the borrowed pCPU's registers and the state hash are as they were.
    expect(t.readRegisters(4)).toEqual(pcpu0);
    expect(t.stateHash()).toBe(hash);
    // What belongs to a pCPU is refused for it, and shown for the pCPU.
    expect(() => t.tlb(k)).toThrow(ShootdownError);
    expect(() => t.cache(k)).toThrow(/is off every pCPU \(\w+\): an L1 data cache belongs to a pCPU \(cache pN shows pCPU N's\)/);
  });

  it("writes an off-pCPU vCPU's registers into its saved context, which it runs with, and refuses the hypervisor's", () => {
    const { session, names, reg, t } = boot();
    // d1v0 has not run: X1 is 0 in its context; its first instructions do not touch X5.
    expect(t.writeRegister(0, names.indexOf("x5"), 0x1234_5678n)).toBe(true);
    expect(reg(0, "x5")).toBe(0x1234_5678n);
    // HCR_EL2 is the hypervisor's (load() sets it): a change could not be kept.
    expect(t.writeRegister(0, names.indexOf("hcr_el2"), 0n)).toBe(false);
    // A PSTATE with a mode the CPU lacks (EL2h) is refused.
    expect(t.writeRegister(0, names.indexOf("cpsr"), 0x3c9n)).toBe(false);
    expect(reg(0, "cpsr") & 0xfn).toBe(5n);
    const stop = session.step(3, 0);
    expect(stop.kind === "step" || stop.kind === "hv-step").toBe(true);
    for (let i = 0; i < 20 && session.threads()[0]!.cpu === undefined; i++) session.step(1, 0);
    expect(session.threads()[0]!.cpu).toBe(0);
    expect(reg(0, "x5")).toBe(0x1234_5678n);
    expect(t.readRegisters(0)).toEqual(t.readRegisters(4));
  });
});

describe("tlb under --hv", () => {
  it("checks stage-1 entries against both stages and stage-2 entries against the stage 2, and shows one stale when its p2m entry changes without TLBI", () => {
    const { session, host, t } = boot();
    session.setBreakpoint(sym("round"));
    const stop = session.resume() as { kind: string; cpu: number };
    expect(stop.kind).toBe("breakpoint");
    const k = session.threads().find((x) => x.vcpu && x.cpu === stop.cpu)!.index;
    const entries = t.tlb(k);
    // The pCPU holds the domain's stage-2 entries and combined stage-1 ones, every one as a fresh walk finds it.
    expect(entries.some((e) => e.tags.endsWith("stage 2"))).toBe(true);
    expect(entries.some((e) => !e.tags.endsWith("stage 2") && e.structure === "TLB 4K")).toBe(true);
    expect(entries.filter((e) => e.stale !== "fresh")).toEqual([]);
    // The p2m maps the code page elsewhere, with no TLBI: the stage-2 entry and the combined one are stale.
    const code = entries.find((e) => e.structure === "TLB 4K" && e.tags.endsWith("stage 2") && e.va === (t.pc(k) & ~0xfffn))!;
    const leaf = host.p2m.walk(Number(code.va >> 12n)).at(-1)!;
    session.platform.machine.memory.write64(leaf.at, leaf.pte + 0x1000n);
    const now = t.tlb(k);
    const s2 = now.find((e) => e.structure === "TLB 4K" && e.tags.endsWith("stage 2") && e.va === code.va)!;
    expect(s2.stale).toEqual({ why: `the stage-2 level 3 entry at 0x${leaf.at.toString(16)} now maps 0x${(code.pa + 0x1000n).toString(16)}` });
    const s1 = now.find((e) => e.structure === "TLB 4K" && !e.tags.endsWith("stage 2") && e.va === code.va)!;
    expect(s1.stale).toMatchObject({ why: expect.stringMatching(new RegExp(`^the walk now ends at 0x${(code.pa + 0x1000n).toString(16)} `)) });
  });
});

describe("the REPL's cache, p2m and vcpu under --hv", () => {
  it("cache shows the L1 of the pCPU a vCPU runs on, every valid line with `all`, and refuses one off every pCPU", () => {
    const { session, commands } = boot();
    session.setBreakpoint(sym("round"));
    const stop = session.resume();
    expect(stop.kind).toBe("breakpoint");
    const on = session.threads().find((x) => x.vcpu && x.cpu !== undefined)!;
    const dirty = commands.execute(`cache ${on.name}`);
    expect(dirty[0]).toMatch(new RegExp(`^${on.name} on pCPU ${on.cpu}: (\\d+) dirty lines$`));
    const all = commands.execute(`cache ${on.name} all`);
    const head = /^d1v\d on pCPU \d: (\d+) valid lines, (\d+) dirty; L1 (\d+) \((\d+) dirty\), system cache (\d+) \((\d+) dirty\)$/.exec(all[0]!)!;
    expect(head).not.toBeNull();
    const [valid, dirtyCount, l1, l1Dirty, sc, scDirty] = head.slice(1).map(Number) as [number, number, number, number, number, number];
    expect(valid).toBe(all.length - 1);
    expect(l1 + sc).toBe(valid);
    expect(l1Dirty + scDirty).toBe(dirtyCount);
    expect(Number(/: (\d+) dirty lines$/.exec(dirty[0]!)![1])).toBe(dirtyCount);
    const rows = all.slice(1).map((r) => /^ {2}(L1|system) +set +(\d+) way +(\d+) {2}PA (0x[0-9a-f]+) +(dirty|clean)(, RAM newer)? +((?:[0-9a-f]{2} ){16})…$/.exec(r));
    expect(rows.every(Boolean)).toBe(true);
    expect(rows.filter((r) => r![1] === "L1").length).toBe(l1);
    expect(rows.filter((r) => r![5] === "clean").length).toBe(valid - dirtyCount);
    // A line's set is its PA's set: 64 sets of 64-byte lines in an L1.
    for (const r of rows.filter((x) => x![1] === "L1")) expect(Number((BigInt(r![4]!) >> 6n) & 63n)).toBe(Number(r![2]));
    // The pCPU itself: the same L1.
    expect(commands.execute(`cache p${on.cpu} all`).slice(1)).toEqual(all.slice(1));
    const off = session.threads().find((x) => x.vcpu && x.cpu === undefined)!;
    expect(() => commands.execute(`cache ${off.name}`)).toThrow(`${off.name} is off every pCPU (${off.state}): an L1 data cache belongs to a pCPU (cache pN shows pCPU N's)`);
    expect(() => commands.execute("cache p0 all x")).toThrow("usage: cache [CPU] [all]");
  });

  it("p2m walks the stage 2 with its valid bits, and vcpu says where each vCPU is with its set/way state", () => {
    const { commands, host, machine } = boot();
    const lines = commands.execute(`p2m 0x${ELF.entry.toString(16)}`);
    expect(lines[0]).toBe(`p2m: IPA 0x${ELF.entry.toString(16)} (VMID ${host.p2m.vmid}, root MFN 0x${host.p2m.root.toString(16)})`);
    // The root's entries had their valid bit cleared when the domain was made (p2m_invalidate_root); the levels below keep theirs.
    expect(lines[1]).toMatch(/^ {2}L1 entry at 0x[0-9a-f]+: 0x[0-9a-f]+ valid bit 0 \(the next access faults; p2m_resolve_translation_fault sets it\)$/);
    expect(lines[2]).toMatch(/^ {2}L2 entry at 0x[0-9a-f]+: 0x[0-9a-f]+ valid$/);
    expect(lines[3]).toMatch(/^ {2}L3 entry at 0x[0-9a-f]+: 0x[0-9a-f]+ valid$/);
    expect(lines[4]).toBe(`  → MFN 0x${(machine(ELF.entry) >> 12n).toString(16)}, machine address 0x${machine(ELF.entry).toString(16)}`);
    expect(commands.execute("p2m 0x1000").at(-1)).toBe("  → not mapped (not the domain's RAM)");
    expect(() => commands.execute("p2m")).toThrow("p2m: the IPA must be a number, not '' (usage: p2m IPA)");
    expect(() => commands.execute("p2m 0x10000000000000000000")).toThrow("outside the domain's 512 GiB IPA space");
    expect(commands.execute("vcpu")).toEqual([
      `d1: ${host.domain.totPages} pages, VMID ${host.p2m.vmid}; --set-way trap`,
      "  d1v0: runnable; need_flush_to_ram false; TVM false; TSW true",
      "  d1v1: down; need_flush_to_ram false; TVM false; TSW true",
      "  d1v2: down; need_flush_to_ram false; TVM false; TSW true",
      "  d1v3: down; need_flush_to_ram false; TVM false; TSW true",
    ]);
    // The state the set/way emulation keeps shows as it changes.
    host.vcpuList[2]!.needFlushToRam = true;
    expect(commands.execute("vcpu")[3]).toBe("  d1v2: down; need_flush_to_ram true; TVM false; TSW true");
    expect(() => commands.execute("frame 1")).toThrow("frame: the Arm hypervisor keeps no frame table types; see p2m IPA and vcpu");
  });
});
