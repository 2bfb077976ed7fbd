// SPDX-License-Identifier: MIT
//
// The x86-64 debugger over an HVM domain (`shootdown repl|gdb IMAGE --hv
// --hvm`): its threads are the domain's vCPUs, then the pCPUs.
// guest/x86_64/hello.elf runs 2 vCPUs on 1 pCPU, so one is always off it:
// that one is read from the guest state the HVM host keeps of it, and its
// memory through its own page tables and the domain's EPT (whose machine
// frames are not the identity). `walk`, `tlb` and `p2m` show the guest's
// tables and EPT's at their machine addresses, and looking changes nothing:
// a debugged run ends with the state hash of `shootdown run`.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readElf } from "../../../asm/index.ts";
import { Commands } from "../../../emulator/debug/commands.ts";
import { Session } from "../../../emulator/debug/session.ts";
import { makeTarget } from "../../../emulator/debug/targets.ts";
import { runImage } from "../../../emulator/run.ts";
import { eptWalk } from "../../../emulator/debug/ept-walk.ts";
import type { RecordedOptions } from "../../../emulator/machine/core/schedule-file.ts";
import type { HvmHost } from "../../../hypervisor/x86/hvm/hvm-host.ts";
import { ROOT } from "../../helpers/run.ts";

const HELLO = readFileSync(join(ROOT, "guest", "x86_64", "hello.elf"));
const ELF = readElf(HELLO);
const sym = (name: string) => ELF.symbols.find((s) => s.name === name)!.value;
/** hello.s: vCPU k's alias page, at ALIAS_VA + k * 4096, maps page_a or page_b; the last remap leaves page_b ("BBBB"). */
const ALIAS_VA = 0x4000_0000n;
const MAGIC_B = Uint8Array.from([0x42, 0x42, 0x42, 0x42, 0, 0, 0, 0]);
const ADDR_MASK = 0x000f_ffff_ffff_f000n;

const options = (hv: Partial<NonNullable<RecordedOptions["hv"]>> = {}, cpus = 1): RecordedOptions => ({
  cpus, memBytes: 64n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000, maxSteps: undefined, tlbChaos: undefined,
  hv: { domains: 1, vcpus: 2, domMemBytes: 64n << 20n, hvm: true, ...hv },
});

function boot(o = options(), detector = true) {
  const session = new Session({ image: HELLO, options: o, makeTarget: (i, opts, c) => makeTarget(i, opts, c, { detector }) });
  const host = (session.platform as unknown as { attached: HvmHost }).attached;
  const commands = new Commands(session);
  const names = session.target.registers().map((r) => r.name);
  const reg = (k: number, name: string) => session.target.readRegisters(k)[names.indexOf(name)]!;
  /** The machine address the EPT gives a GPA. */
  const machine = (gpa: bigint) => (BigInt(host.ept.lookup(Number(gpa >> 12n))!) << 12n) | (gpa & 0xfffn);
  return { session, host, commands, names, reg, machine, t: session.target };
}

describe("the x86-64 debugger's threads under --hv --hvm", () => {
  it("lists the vCPUs, then the pCPUs, and reads a vCPU that has not run from the boot protocol's registers, its memory through the EPT", () => {
    const { session, host, reg, t, machine } = boot();
    expect(session.threads().map((x) => x.name)).toEqual(["d1v0", "d1v1", "pCPU 0"]);
    expect(session.threads().slice(0, 2).map((x) => x.state)).toEqual(["runnable", "runnable"]);
    // d1v1 waits for the pCPU at e_entry with RDI = its number, in 64-bit mode on the loader's tables (bare boot protocol).
    expect(t.pc(1)).toBe(ELF.entry);
    expect(reg(1, "rdi")).toBe(1n);
    expect(reg(1, "cr3")).toBe(host.vcpuList[1]!.saved!.registers.cr3);
    expect(reg(1, "efer") & 0x500n).toBe(0x500n);
    // What load() will give its pCPU besides: its VPID and the domain's EPTP.
    expect(t.systemRegisterLines(1).at(-1)).toBe(`vpid 2  eptp 0x${host.ept.eptp.toString(16)}  EPT PML4 0x${(BigInt(host.ept.root) << 12n).toString(16)}, 4-level`);
    expect(t.systemRegisterLines(2).at(-1)).toMatch(/^cpl /);
    // The entry's GPA is its VA (the loader's identity map); EPT puts it elsewhere, and the bytes there are the image's.
    const pa = t.physicalAddress(1, ELF.entry)!;
    expect(pa).toBe(machine(ELF.entry));
    expect(pa).not.toBe(ELF.entry);
    const seg = ELF.segments.find((s) => s.vaddr <= ELF.entry && ELF.entry < s.vaddr + BigInt(s.filesz))!;
    const offset = seg.offset + Number(ELF.entry - seg.vaddr);
    expect(t.readVirtual(1, ELF.entry, 8).bytes).toEqual(Uint8Array.from(HELLO.subarray(offset, offset + 8)));
    expect(t.disassembleOne(1, ELF.entry)?.text).toBe("mov %edi,%r12d");
  });

  it("stops at a breakpoint on a guest-virtual address and reads the off-pCPU vCPU through its own tables and the EPT, changing nothing", () => {
    const { session, host, reg, t, machine } = boot();
    session.setBreakpoint(sym("report"));
    const stop = session.resume();
    expect(stop).toMatchObject({ kind: "breakpoint", cpu: 0, pc: sym("report") });
    // d1v0 reports; d1v1 has finished and sleeps in `park`'s HLT, off the pCPU, its RIP past the HLT.
    expect(session.threads().slice(0, 2).map((x) => [x.name, x.cpu, x.state])).toEqual([["d1v0", 0, "running"], ["d1v1", undefined, "blocked in HLT"]]);
    expect(t.pc(1)).toBe(sym("park") + 1n);
    expect(reg(1, "rip")).toBe(host.vcpuList[1]!.saved!.state.rip);
    expect(reg(1, "r12")).toBe(1n);
    const hash = t.stateHash();
    const pcpu0 = t.readRegisters(2);
    // Its alias page: a guest-virtual address its own tables map to page_b's GPA, which EPT maps to a machine frame.
    const alias = ALIAS_VA + 0x1000n;
    expect(t.readVirtual(1, alias, 8).bytes).toEqual(MAGIC_B);
    expect(t.physicalAddress(1, alias)).toBe(machine(sym("page_b")));
    const walk = t.walk(1, alias, "read", "kernel");
    expect(walk.root).toBe(`CR3 0x${reg(1, "cr3").toString(16)} PCID 1 (VPID 2, EPTP 0x${host.ept.eptp.toString(16)}: table addresses are GPAs, each entry shown at its machine address)`);
    expect(walk.levels.map((l) => l.name)).toEqual(["PML4E", "PDPTE", "PDE", "PTE"]);
    // Each entry is read at the machine address of its GPA: the PTE is pt_alias's slot 1.
    const pte = walk.levels.at(-1)!;
    expect(pte.entryPa).toBe(machine(sym("pt_alias") + 8n));
    expect(pte.value & ADDR_MASK).toBe(sym("page_b"));
    expect(pte.decoded).toBe(`P RW A → frame GPA 0x${sym("page_b").toString(16)}; GPA 0x${sym("page_b").toString(16)} → PA 0x${machine(sym("page_b")).toString(16)}`);
    for (const [i, l] of walk.levels.slice(0, -1).entries()) expect(walk.levels[i + 1]!.entryPa & ADDR_MASK).toBe(machine(l.value & ADDR_MASK));
    expect(walk).toMatchObject({ ok: true, pa: machine(sym("page_b")) });
    // The vCPU on the pCPU reads its own alias (page_b too) through the same EPT.
    expect(t.readVirtual(0, ALIAS_VA, 8).bytes).toEqual(MAGIC_B);
    // Looking changed nothing: the borrowed pCPU's registers and the state hash are as they were.
    expect(t.readRegisters(2)).toEqual(pcpu0);
    expect(t.stateHash()).toBe(hash);
  });

  it("writes an off-pCPU vCPU's registers into its saved guest state, which it runs with, and refuses its VPID and EPTP", () => {
    const { session, host, names, reg, t, machine } = boot();
    // hello never touches R10; d1v1 waits for the pCPU with it 0.
    expect(t.writeRegister(1, names.indexOf("r10"), 0x1234_5678n)).toBe(true);
    expect(reg(1, "r10")).toBe(0x1234_5678n);
    // Its own CR3, not the pCPU's: with one outside the domain's RAM its code no longer translates; put back, it does.
    const cr3 = reg(1, "cr3");
    expect(t.writeRegister(1, names.indexOf("cr3"), 0x1_0000_0000n)).toBe(true);
    expect(t.readVirtual(1, ELF.entry, 4)).toEqual({ bytes: new Uint8Array(), faultAt: ELF.entry });
    expect(t.writeRegister(1, names.indexOf("cr3"), cr3)).toBe(true);
    expect(t.readVirtual(1, ELF.entry, 4).bytes).toEqual(t.readVirtual(0, ELF.entry, 4).bytes);
    // With CR0.PG clear the walk has no guest tables to read: the linear address is the GPA, which EPT still maps.
    const cr0 = reg(1, "cr0");
    expect(t.writeRegister(1, names.indexOf("cr0"), cr0 & ~(1n << 31n))).toBe(true);
    expect(t.walk(1, ELF.entry, "read", "kernel")).toMatchObject({ levels: [], stop: `CR0.PG is 0: the GPA is the linear address; GPA 0x${ELF.entry.toString(16)} → PA 0x${machine(ELF.entry).toString(16)}` });
    expect(t.writeRegister(1, names.indexOf("cr0"), cr0)).toBe(true);
    // A debugger's write lands in the vCPU's frame through its tables and EPT; not where EPT keeps the guest from
    // writing (a shared page, until the copy on write), as Xen's debugger refuses (dbg_hvm_va2mfn).
    const stack = sym("stacks") + 0x1000n;
    expect(t.writeVirtual(1, stack, Uint8Array.from([1, 2, 3, 4]))).toBe(true);
    expect(t.readPhysical(machine(stack), 4)).toEqual(Uint8Array.from([1, 2, 3, 4]));
    const leaf = eptWalk((pa) => session.platform.machine.memory.peek64(pa), host.ept.eptp, stack).steps.at(-1)!;
    session.platform.machine.memory.write64(leaf.entryPa, leaf.value & ~2n);
    expect(t.writeVirtual(1, stack, Uint8Array.from([5, 6, 7, 8]))).toBe(false);
    expect(t.readVirtual(1, stack, 4).bytes).toEqual(Uint8Array.from([1, 2, 3, 4]));
    session.platform.machine.memory.write64(leaf.entryPa, leaf.value);
    // The VPID and the EPTP are the hypervisor's (load() sets them): a file that changes them is refused whole.
    const view = host.vcpus();
    const file = view.saved(1)!;
    expect(file.vmx).toEqual({ vpid: 2, eptp: host.ept.eptp });
    expect(view.setSaved(1, { ...file, state: { ...file.state, r11: 7n }, vmx: { vpid: 1, eptp: host.ept.eptp } })).toBe(false);
    expect(view.setSaved(1, { ...file, state: { ...file.state, r11: 7n }, vmx: { vpid: 2, eptp: 0n } })).toBe(false);
    expect(reg(1, "r11")).toBe(0n);
    // Once the scheduler puts d1v1 on the pCPU it runs with what was written.
    for (let i = 0; i < 200_000 && session.threads()[1]!.cpu === undefined; i += 1000) session.step(1000, 0);
    expect(session.threads()[1]!.cpu).toBe(0);
    expect(reg(1, "r10")).toBe(0x1234_5678n);
    expect(t.readRegisters(1)).toEqual(t.readRegisters(2));
  });
});

describe("several HVM domains (--domains 2)", () => {
  it("numbers the vCPUs domain by domain and reads each through its own domain's EPT", () => {
    const { session, host, t } = boot(options({ domains: 2, domMemBytes: 16n << 20n }, 2));
    expect(session.threads().map((x) => x.name)).toEqual(["d1v0", "d1v1", "d2v0", "d2v1", "pCPU 0", "pCPU 1"]);
    const [d1, d2] = host.domains;
    const inDomain = (d: typeof d1, gpa: bigint) => (BigInt(d!.ept.lookup(Number(gpa >> 12n))!) << 12n) | (gpa & 0xfffn);
    // The same guest-virtual address, the same GPA in both domains: each vCPU's reads land in its own domain's frame.
    expect(t.physicalAddress(1, ELF.entry)).toBe(inDomain(d1, ELF.entry));
    expect(t.physicalAddress(3, ELF.entry)).toBe(inDomain(d2, ELF.entry));
    expect(inDomain(d1, ELF.entry)).not.toBe(inDomain(d2, ELF.entry));
    expect(t.walk(3, ELF.entry, "fetch", "kernel").root).toContain(`(VPID 4, EPTP 0x${d2!.ept.eptp.toString(16)}:`);
    expect(t.readVirtual(3, ELF.entry, 8).bytes).toEqual(t.readVirtual(1, ELF.entry, 8).bytes);
  });

  it("says a vCPU whose domain is over (wrote its debug-exit port) is over, while the other domain runs on", () => {
    const { session, host } = boot(options({ domains: 2, domMemBytes: 16n << 20n }, 2));
    session.setBreakpoint(sym("report"));
    const stop = session.resume() as { kind: string; cpu: number };
    expect(stop.kind).toBe("breakpoint");
    session.removeBreakpoint();
    const over = () => host.domains.find((d) => d.exitCode !== undefined);
    for (let i = 0; i < 200 && !over(); i++) session.step(100, stop.cpu);
    const d = over()!;
    expect(d.exitCode).toBe(0n);
    // Its vCPUs leave the pCPUs at their next decision; the other domain's keep running.
    const ofOver = () => session.threads().filter((x) => x.name.startsWith(`d${d.domain.domid}v`));
    for (let i = 0; i < 50 && ofOver().some((x) => x.cpu !== undefined); i++) {
      for (const pcpu of [0, 1]) session.step(100, pcpu);
    }
    const mine = ofOver();
    expect(mine.map((x) => [x.name, x.cpu, x.state])).toEqual(
      mine.map((x) => [x.name, undefined, "over (its domain wrote 0 to its debug-exit port)"]),
    );
    expect(session.threads().filter((x) => x.vcpu && !x.name.startsWith(`d${d.domain.domid}v`)).every((x) => !x.state?.startsWith("over"))).toBe(true);
  });
});

describe("tlb and walk under --hv --hvm", () => {
  /** The first INVLPG in hello after wait_ipis: the alias is remapped to page_b, its old entry not yet invalidated. */
  function invlpgAddress(t: ReturnType<typeof boot>["t"]): bigint {
    let at = sym("wait_ipis");
    for (let i = 0; i < 100; i++) {
      const d = t.disassembleOne(0, at)!;
      if (d.text.startsWith("invlpg")) return at;
      at += BigInt(d.length);
    }
    throw new Error("no INVLPG after wait_ipis");
  }

  it("judges combined entries through the guest's tables and EPT, guest-physical ones through EPT, and shows the remapped alias stale before its INVLPG", () => {
    const { session, host, t, machine } = boot();
    session.setBreakpoint(invlpgAddress(t));
    const stop = session.resume() as { kind: string; cpu: number };
    expect(stop.kind).toBe("breakpoint");
    const k = session.threads().find((x) => x.vcpu && x.cpu === stop.cpu)!.index;
    const r12 = t.readRegisters(k)[session.target.registers().findIndex((r) => r.name === "r12")]!;
    const alias = ALIAS_VA + 0x1000n * r12;
    const entries = t.tlb(k);
    // The pCPU holds EPT's own guest-physical entries and combined ones, tagged with the VPID.
    const gp = entries.filter((e) => e.tags === "guest-physical EPT");
    expect(gp.length).toBeGreaterThan(0);
    expect(gp.every((e) => e.stale === "fresh")).toBe(true);
    const code = gp.find((e) => e.structure === "TLB 4K" && e.va === (t.pc(k) & ~0xfffn))!;
    expect(code).toMatchObject({ pa: machine(code.va), perms: expect.stringMatching(/^R W X/) });
    // The alias's combined entry still maps page_a's machine frame; the guest's PTE and EPT now give page_b's.
    const stale = entries.find((e) => e.structure === "TLB 4K" && e.va === alias && e.tags.includes(`VPID ${k + 1}`))!;
    expect(stale.pa).toBe(machine(sym("page_a")));
    expect(stale.stale).toEqual({ why: `the guest's PTE at 0x${machine(sym("pt_alias") + 8n * r12).toString(16)} and EPT now map it to 0x${machine(sym("page_b")).toString(16)}` });
    // Every other combined entry of the vCPU's context is as a fresh walk under EPT finds it.
    const own = entries.filter((e) => e !== stale && e.tags.includes(`VPID ${k + 1}`) && e.stale !== "unknown");
    expect(own.length).toBeGreaterThan(0);
    expect(own.filter((e) => e.stale !== "fresh")).toEqual([]);
    // One step: the INVLPG drops it.
    session.step(1, stop.cpu);
    expect(t.tlb(k).filter((e) => e.va === alias && e.tags.includes(`VPID ${k + 1}`) && e.stale !== "unknown")).toEqual([]);
    // EPT maps the code page's GFN elsewhere, with no INVEPT: its guest-physical entry and the combined one are stale.
    const read64 = (pa: bigint) => session.platform.machine.memory.peek64(pa);
    const ept = eptWalk(read64, host.ept.eptp, code.va);
    const leaf = ept.steps.at(-1)!;
    session.platform.machine.memory.write64(leaf.entryPa, leaf.value + 0x1000n);
    const now = t.tlb(k);
    expect(now.find((e) => e.tags === "guest-physical EPT" && e.structure === "TLB 4K" && e.va === code.va)!.stale)
      .toEqual({ why: `the EPT entry at 0x${leaf.entryPa.toString(16)} now maps 0x${(code.pa + 0x1000n).toString(16)}` });
    const combined = now.find((e) => e.structure === "TLB 4K" && e.va === code.va && e.tags.includes(`VPID ${k + 1}`) && e.stale !== "unknown")!;
    expect(combined.stale).toMatchObject({ why: expect.stringMatching(new RegExp(`and EPT now map it to 0x${(code.pa + 0x1000n).toString(16)}$`)) });
  });
});

describe("the REPL's p2m under --hv --hvm", () => {
  it("p2m walks the EPT of a GPA as the Arm p2m walks its stage 2, with the leaf's p2m type; bad input gets a clear error", () => {
    const { commands, host, machine } = boot();
    const entry = `0x${ELF.entry.toString(16)}`;
    const lines = commands.execute(`p2m ${entry}`);
    expect(lines[0]).toBe(`p2m: GPA ${entry} of d1 through the EPT (EPTP 0x${host.ept.eptp.toString(16)}, EPT PML4 MFN 0x${host.ept.root.toString(16)})`);
    expect(lines.slice(1, 5).map((l) => l.slice(0, 12))).toEqual(["  EPT PML4E ", "  EPT PDPTE ", "  EPT PDE   ", "  EPT PTE   "]);
    expect(lines[1]).toMatch(new RegExp(`^ {2}EPT PML4E at 0x${host.ept.root.toString(16)}000 += 0x[0-9a-f]{16} {2}RWX → table 0x[0-9a-f]+$`));
    // Each level's entry is in the table the level above points to.
    for (let i = 1; i < 4; i++) expect(BigInt(/ at (0x[0-9a-f]+)/.exec(lines[i + 1]!)![1]!) & ~0xfffn).toBe(BigInt(/→ table (0x[0-9a-f]+)$/.exec(lines[i]!)![1]!));
    expect(lines[4]).toMatch(new RegExp(`RWX WB → frame 0x${(machine(ELF.entry) & ADDR_MASK).toString(16)}$`));
    expect(lines[5]).toBe(`  → MFN 0x${(machine(ELF.entry) >> 12n).toString(16)}, machine address 0x${machine(ELF.entry).toString(16)} (RWX)`);
    expect(lines[6]).toBe("  p2m type ram_rw");
    expect(commands.execute(`p2m ${entry} 1`)).toEqual(lines);
    // Past the domain's RAM nothing is mapped: the walk stops at the first entry with R, W and X clear.
    expect(commands.execute("p2m 0x100000000").at(-1)).toMatch(/^ {2}→ not mapped: the EPT (PML4E|PDPTE|PDE|PTE) at 0x[0-9a-f]+ is not present \(R, W and X clear\): an EPT violation$/);
    expect(() => commands.execute("p2m")).toThrow("p2m: the GPA must be a number, not '' (usage: p2m GPA [DOMAIN])");
    expect(() => commands.execute("p2m _start")).toThrow("p2m: the GPA must be a number, not '_start' (usage: p2m GPA [DOMAIN])");
    expect(() => commands.execute("p2m 0x1000 d1")).toThrow("p2m: the domain id must be a number, not 'd1' (usage: p2m GPA [DOMAIN])");
    expect(() => commands.execute("p2m 0x1000 2")).toThrow("p2m: no domain 2 (the HVM host runs d1)");
    expect(() => commands.execute("p2m 0x1000000000000")).toThrow("p2m: GPA 0x1000000000000 is beyond the 48-bit guest-physical space of a 4-level EPT");
    expect(commands.execute("vcpu")).toEqual(commands.execute("domain"));
    expect(() => commands.execute("hypercalls 3")).toThrow("hypercalls takes no argument under --hvm: the HVM host counts hypercalls by call and result, it keeps no log of each");
  });
});

describe("a debugged HVM run is the run", () => {
  it("ends with `shootdown run`'s state hash under migration, after looking at off-pCPU vCPUs at every stop", () => {
    const o = options({ vcpus: 3, migrate: 0.3 }, 2);
    const run = runImage({ ...o, seed: 5n, image: HELLO, console: () => {} });
    // Without the detector, as `shootdown run` runs (docs/debugger.md: the detector changes a CPU's fetch window).
    const { session, t } = boot({ ...o, seed: 5n }, false);
    session.setBreakpoint(sym("wait_ipis"));
    session.setBreakpoint(sym("report"));
    let looked = 0;
    for (let i = 0; i < 100; i++) {
      const stop = session.resume();
      if (stop.kind === "end") {
        expect(stop.status).toBe(0);
        break;
      }
      expect(stop.kind === "breakpoint" || stop.kind === "paused").toBe(true);
      for (const x of session.threads().filter((y) => y.vcpu && y.cpu === undefined)) {
        t.readVirtual(x.index, t.pc(x.index), 16);
        t.walk(x.index, t.pc(x.index), "fetch", "kernel");
        looked++;
      }
    }
    expect(looked).toBeGreaterThan(0);
    expect(t.stateHash()).toBe(run.stateHash);
  });
});
