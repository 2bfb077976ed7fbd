// SPDX-License-Identifier: MIT
//
// EPT and VPIDs: a guest's walk through EPT, EPT violations with their exit
// qualification, misconfigurations, EPT accessed/dirty flags, and what
// INVEPT and INVVPID each invalidate.

import { describe, expect, it } from "vitest";
import { Machine, InveptType, InvvpidType, EPT_QUALIFICATION as Q, type Memory } from "../../../emulator/machine/index.ts";
import { X86PageTables, PTE, PAGE_4K, PAGE_2M } from "../../../emulator/machine/platform/x86/page-tables.ts";
import { paOf, read, write, fetch, CR0_PE, CR0_PG, CR0_WP, CR4_PAE, EFER_LME, EFER_LMA, EFER_NXE } from "../../helpers/x86.ts";
import { assembleX86, gate } from "../../helpers/x86-exec.ts";

/** Guest memory: 16 MiB of guest-physical space at host-physical GUEST. */
const GUEST = 0x4000_0000n;
const EPT_POOL = { base: 0x8000_0000n, limit: 0x8040_0000n };
const R = 1n;
const W = 2n;
const X = 4n;
const WB = 6n << 3n;
const VA = 0x0000_7f00_0020_3000n;

/** Memory as the guest sees it: guest-physical addresses offset into host RAM. */
function guestMemory(m: Machine): Memory {
  return {
    read64: (a: bigint) => m.memory.read64(GUEST + a),
    write64: (a: bigint, v: bigint) => m.memory.write64(GUEST + a, v),
    write: (a: bigint, b: Uint8Array) => m.memory.write(GUEST + a, b),
    read: (a: bigint, n: number) => m.memory.read(GUEST + a, n),
  } as unknown as Memory;
}

function vmRig(opts: { cpus?: number; eptAd?: boolean } = {}) {
  const m = new Machine({ cpus: opts.cpus ?? 1, maxPhysAddr: 46, ram: [{ base: GUEST, size: 16n << 20n }, { base: 0x8000_0000n, size: 4n << 20n }] });
  // EPT: guest-physical 0..16 MiB → GUEST + gpa, 4 KiB pages, RWX, write-back.
  const ept = new X86PageTables(m.memory, EPT_POOL, 4);
  for (let gpa = 0n; gpa < 16n << 20n; gpa += PAGE_4K) ept.map(gpa, GUEST + gpa, PAGE_4K, R | W | X | WB, R | W | X);
  // The guest's own page tables, at guest-physical 1 MiB up.
  const gpt = new X86PageTables(guestMemory(m), { base: 0x10_0000n, limit: 0x20_0000n }, 4);
  const eptp = ept.root | (3n << 3n) | (opts.eptAd ? 1n << 6n : 0n) | 6n;
  for (const cpu of m.cpus) {
    cpu.setRegisters({ cr0: CR0_PE | CR0_PG | CR0_WP, cr3: gpt.root, cr4: CR4_PAE, efer: EFER_LME | EFER_LMA | EFER_NXE });
    cpu.setVmx({ vpid: 1, eptp });
  }
  /** The EPT entry (4 KiB) that maps gpa. */
  const eptEntry = (gpa: bigint) => ept.entryAddress(gpa, 1);
  return { m, ept, gpt, eptp, eptEntry, cpu: m.cpu(0) };
}

describe("a guest under EPT", () => {
  it("translates linear → guest-physical → host-physical", () => {
    const { gpt, cpu } = vmRig();
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    expect(paOf(cpu.translate(VA + 0x18n, read))).toBe(GUEST + 0x50_0018n);
  });

  it("reads 24 descriptors for a cold walk: 4 guest levels, each and the result through 4 EPT levels", () => {
    const { gpt, cpu } = vmRig();
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    cpu.flushAll();
    cpu.translate(VA, read);
    // The EPT walk caches of this layout share upper levels, so fewer than
    // 24 reads happen; with the caches emptied before each EPT walk there are 24.
    const warm = cpu.counters();
    expect(warm.walkReads).toBeLessThanOrEqual(24n);
    expect(warm.walkReads - warm.stage2WalkReads).toBe(4n);
  });

  it("reports an EPT violation on the final access, with the EPT rights in the qualification", () => {
    const { m, gpt, cpu, eptEntry } = vmRig();
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x50_0000n | R | X | WB);
    expect(paOf(cpu.translate(VA, read))).toBe(GUEST + 0x50_0000n);
    const t = cpu.translate(VA + 8n, write);
    expect(t.ok).toBe(false);
    if (!t.ok) {
      expect(t.fault).toMatchObject({ kind: "ept-violation", gpa: 0x50_0008n, guestLinear: VA + 8n });
      if (t.fault.kind === "ept-violation") {
        expect(t.fault.qualification).toBe(Q.WRITE | Q.READABLE | Q.EXECUTABLE | Q.LINEAR_VALID | Q.FINAL);
      }
    }
  });

  it("reports an EPT violation on a guest paging-structure read, without the FINAL bit", () => {
    const { m, gpt, cpu, eptEntry } = vmRig();
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    const ptGpa = gpt.entryAddress(VA, 1) & ~0xfffn;
    m.memory.write64(eptEntry(ptGpa), 0n);
    const t = cpu.translate(VA, fetch);
    expect(t.ok).toBe(false);
    if (!t.ok && t.fault.kind === "ept-violation") {
      expect(t.fault.gpa).toBe(gpt.entryAddress(VA, 1));
      expect(t.fault.qualification).toBe(Q.READ | Q.LINEAR_VALID);
    } else {
      expect.unreachable(`got ${paOf(t)}`);
    }
  });

  it("caches a translation whose guest PTE needed its Accessed flag after a walk-cache hit", () => {
    const { gpt, cpu } = vmRig();
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    gpt.map(VA + PAGE_4K, 0x51_0000n, PAGE_4K, PTE.RW);
    cpu.translate(VA, read);
    cpu.translate(VA + PAGE_4K, read);
    const walks = cpu.counters().walks;
    expect(paOf(cpu.translate(VA + PAGE_4K, read))).toBe(GUEST + 0x51_0000n);
    expect(cpu.counters().walks).toBe(walks);
  });

  it("reports a misconfiguration for a write-only EPT entry", () => {
    const { m, gpt, cpu, eptEntry } = vmRig();
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x50_0000n | W | WB);
    expect(cpu.translate(VA, read)).toMatchObject({ ok: false, fault: { kind: "ept-misconfig", gpa: 0x50_0000n } });
  });

  it("sets EPT accessed and dirty flags, and treats guest paging-structure reads as writes", () => {
    const { m, gpt, cpu, eptEntry } = vmRig({ eptAd: true });
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    cpu.translate(VA, read);
    expect(m.memory.read64(eptEntry(0x50_0000n)) & 0x300n).toBe(0x100n);
    // The guest page table's page was written (the walk counts as a write).
    expect(m.memory.read64(eptEntry(gpt.entryAddress(VA, 1) & ~0xfffn)) & 0x300n).toBe(0x300n);
    cpu.translate(VA, write);
    expect(m.memory.read64(eptEntry(0x50_0000n)) & 0x300n).toBe(0x300n);
    // A read-only guest page table cannot be walked with EPT A/D on.
    const ptGpa = gpt.entryAddress(VA + PAGE_4K, 1) & ~0xfffn;
    m.memory.write64(eptEntry(ptGpa), GUEST + ptGpa | R | X | WB);
    gpt.map(VA + PAGE_4K, 0x51_0000n, PAGE_4K, PTE.RW);
    cpu.flushAll();
    expect(cpu.translate(VA + PAGE_4K, read)).toMatchObject({ ok: false, fault: { kind: "ept-violation" } });
  });
});

/**
 * A guest under EPT that runs code: the low 2 MiB of guest-physical space
 * identity-mapped for the guest (one 2 MiB page), VA at guest-physical
 * 0x50_0000, a GDT, an IDT whose #UD gate points at a HLT, a stack below
 * 0x7_0000 and the program at 0x8_0000.
 */
function runRig(source: string) {
  const r = vmRig();
  const { m, gpt, cpu } = r;
  gpt.map(0n, 0n, PAGE_2M, PTE.RW);
  gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
  const program = assembleX86(source, CODE_GPA);
  for (const s of program.sections) if (s.type === "progbits" && s.size) m.memory.write(GUEST + s.address, s.bytes);
  [0n, 0x0020_9a00_0000_0000n, 0x0000_9200_0000_0000n].forEach((d, i) => m.memory.write64(GUEST + 0x1000n + BigInt(8 * i), d));
  const [lo, hi] = gate(CODE_GPA + 0x800n);
  m.memory.write64(GUEST + 0x3000n + 6n * 16n, lo);
  m.memory.write64(GUEST + 0x3000n + 6n * 16n + 8n, hi);
  m.memory.write(GUEST + CODE_GPA + 0x800n, Uint8Array.of(0xf4));
  cpu.setState({
    rip: program.entry, rsp: 0x7_0000n, rflags: 2n, cs: 8, ss: 0x10, cpl: 0,
    gdtrBase: 0x1000n, gdtrLimit: 23, idtrBase: 0x3000n, idtrLimit: 256 * 16 - 1,
  });
  const sym = (name: string) => program.symbols.find((x) => x.name === name)!.value;
  return { ...r, sym };
}

const CODE_GPA = 0x8_0000n;

describe("a guest instruction under EPT", () => {
  // Before guest mode existed these were #GP inside the guest; an EPT violation is the hypervisor's (SDM Vol.3C 29.3.3).
  it("exits on an EPT violation with the guest-physical address and the qualification, the instruction not run", () => {
    const { m, cpu, eptEntry, eptp, sym } = runRig(`_start:\n mov $${VA}, %rbx\nop: movq $1, 8(%rbx)\n hlt`);
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x50_0000n | R | X | WB);
    const exit = cpu.run(100);
    expect(exit).toMatchObject({
      reason: "ept-violation", guest: true, gpa: 0x50_0008n, guestLinear: VA + 8n, rip: sym("op"), duringDelivery: null,
      qualification: Q.WRITE | Q.READABLE | Q.EXECUTABLE | Q.LINEAR_VALID | Q.FINAL, fields: { exitReason: 48 },
    });
    expect(cpu.state.rip).toBe(sym("op"));
    expect(cpu.counters().exceptions).toBe(0n);
    expect(m.memory.read64(GUEST + 0x50_0008n)).toBe(0n);
    // The hypervisor makes the page writable and resumes the guest at the same instruction.
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x50_0000n | R | W | X | WB);
    expect(cpu.invept(InveptType.SingleContext, eptp)).toBe("ok");
    expect(cpu.run(100)).toEqual({ reason: "hlt" });
    expect(m.memory.read64(GUEST + 0x50_0008n)).toBe(1n);
  });

  it("a read-only EPT page stays read-only after reads that hit the TLB: the write after them still exits (no micro-TLB shortcut)", () => {
    const { m, gpt, cpu, eptEntry, sym } = runRig(`_start:\n mov $${VA}, %rbx\n mov (%rbx), %rax\n mov 8(%rbx), %rax\n mov 16(%rbx), %rax\nop: movq $1, 24(%rbx)\n hlt`);
    // The guest's PTE is dirty already (the page was written before the hypervisor made it read-only, as a shared page is).
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW | PTE.A | PTE.D);
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x50_0000n | R | X | WB);
    expect(cpu.run(100)).toMatchObject({ reason: "ept-violation", guest: true, gpa: 0x50_0018n, rip: sym("op") });
    expect(m.memory.read64(GUEST + 0x50_0018n)).toBe(0n);
  });

  it("exits on an EPT violation reading a guest paging-structure entry, without FINAL", () => {
    const { m, gpt, cpu, eptEntry, sym } = runRig(`_start:\n mov $${VA}, %rbx\nop: mov (%rbx), %rax\n hlt`);
    const pte = gpt.entryAddress(VA, 1);
    m.memory.write64(eptEntry(pte & ~0xfffn), 0n);
    expect(cpu.run(100)).toMatchObject({ reason: "ept-violation", guest: true, gpa: pte, qualification: Q.READ | Q.LINEAR_VALID, rip: sym("op") });
  });

  it("exits on an EPT misconfiguration (a write-only entry) with the guest-physical address", () => {
    const { m, cpu, eptEntry, sym } = runRig(`_start:\n mov $${VA}, %rbx\nop: mov 0x10(%rbx), %rax\n hlt`);
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x50_0000n | W | WB);
    expect(cpu.run(100)).toMatchObject({ reason: "ept-misconfig", guest: true, gpa: 0x50_0010n, rip: sym("op"), fields: { exitReason: 49 } });
  });

  it("an EPT violation while delivering an exception exits with that exception as IDT-vectoring information", () => {
    const { m, cpu, eptEntry, sym } = runRig("_start:\n nop\nop: ud2");
    // The stack page is read-only for EPT: pushing #UD's frame is a violation.
    m.memory.write64(eptEntry(0x6_f000n), GUEST + 0x6_f000n | R | X | WB);
    const exit = cpu.run(100);
    expect(exit).toMatchObject({
      reason: "ept-violation", guest: true, gpa: 0x6_fff8n, rip: sym("op"),
      duringDelivery: { vector: 6, type: "hardware-exception" },
    });
    expect(cpu.state.rsp).toBe(0x7_0000n);
  });
});

describe("INVEPT", () => {
  it("single-context drops mappings built with that EPTP; all-context drops every EPTP's", () => {
    const { m, gpt, cpu, eptEntry, eptp } = vmRig();
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    cpu.translate(VA, read);
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x60_0000n | R | W | X | WB);
    expect(paOf(cpu.translate(VA, read))).toBe(GUEST + 0x50_0000n);
    expect(cpu.invept(InveptType.SingleContext, 0x123_4000n)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(GUEST + 0x50_0000n);
    expect(cpu.invept(InveptType.SingleContext, eptp)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(GUEST + 0x60_0000n);
    m.memory.write64(eptEntry(0x50_0000n), GUEST + 0x50_0000n | R | W | X | WB);
    expect(cpu.invept(InveptType.AllContext)).toBe("ok");
    expect(paOf(cpu.translate(VA, read))).toBe(GUEST + 0x50_0000n);
    expect(cpu.invept(3 as InveptType)).toBe("VMfail");
  });

  it("does not touch the host's own (VPID 0, no EPT) translations", () => {
    const { m, gpt, cpu } = vmRig();
    const host = new X86PageTables(m.memory, { base: 0x8020_0000n, limit: 0x8030_0000n }, 4);
    const pte = host.map(VA, GUEST + 0x70_0000n, PAGE_4K, PTE.RW);
    gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    const guestCr3 = cpu.registers.cr3;
    cpu.setVmx({ vpid: 0, eptp: 0n });
    cpu.setRegisters({ cr3: host.root });
    cpu.translate(VA, read);
    m.memory.write64(pte, GUEST + 0x71_0000n | PTE.RW | PTE.P);
    cpu.invept(InveptType.AllContext);
    expect(paOf(cpu.translate(VA, read))).toBe(GUEST + 0x70_0000n);
    expect(guestCr3).toBe(gpt.root);
  });
});

describe("INVVPID", () => {
  /** Guest VPID 1 and 2 share tables; VA cached in both, then its PTE changed. */
  function twoVpids() {
    const r = vmRig();
    const pte = r.gpt.map(VA, 0x50_0000n, PAGE_4K, PTE.RW);
    const g = r.gpt.map(VA + PAGE_4K, 0x51_0000n, PAGE_4K, PTE.RW | PTE.G);
    const cpu = r.cpu;
    cpu.setRegisters({ cr4: CR4_PAE | (1n << 7n) });
    for (const vpid of [1, 2]) {
      cpu.setVmx({ vpid, eptp: r.eptp });
      cpu.translate(VA, read);
      cpu.translate(VA + PAGE_4K, read);
    }
    const gm = guestMemory(r.m);
    gm.write64(pte, 0x60_0000n | PTE.RW | PTE.P);
    gm.write64(g, 0x61_0000n | PTE.RW | PTE.P | PTE.G);
    const seen = (vpid: number) => {
      cpu.setVmx({ vpid, eptp: r.eptp });
      return [paOf(cpu.translate(VA, read)), paOf(cpu.translate(VA + PAGE_4K, read))];
    };
    return { ...r, seen };
  }
  const OLD = [GUEST + 0x50_0000n, GUEST + 0x51_0000n];
  const NEW = [GUEST + 0x60_0000n, GUEST + 0x61_0000n];

  it("individual-address drops one address of one VPID, global or not", () => {
    const { cpu, seen } = twoVpids();
    expect(cpu.invvpid(InvvpidType.Address, 1, VA)).toBe("ok");
    expect(cpu.invvpid(InvvpidType.Address, 1, VA + PAGE_4K)).toBe("ok");
    expect(seen(1)).toEqual(NEW);
    expect(seen(2)).toEqual(OLD);
  });

  it("single-context drops one VPID; retaining-globals keeps its global pages", () => {
    const { cpu, seen } = twoVpids();
    expect(cpu.invvpid(InvvpidType.SingleContextRetainingGlobals, 2)).toBe("ok");
    expect(seen(2)).toEqual([NEW[0], OLD[1]]);
    expect(cpu.invvpid(InvvpidType.SingleContext, 2)).toBe("ok");
    expect(seen(2)).toEqual(NEW);
    expect(seen(1)).toEqual(OLD);
  });

  it("all-context drops every guest VPID", () => {
    const { cpu, seen } = twoVpids();
    expect(cpu.invvpid(InvvpidType.AllContext, 0)).toBe("ok");
    expect(seen(1)).toEqual(NEW);
    expect(seen(2)).toEqual(NEW);
  });

  it("fails for VPID 0, a bad type or a non-canonical address", () => {
    const { cpu } = vmRig();
    expect(cpu.invvpid(InvvpidType.SingleContext, 0)).toBe("VMfail");
    expect(cpu.invvpid(7 as InvvpidType, 1)).toBe("VMfail");
    expect(cpu.invvpid(InvvpidType.Address, 1, 0x8000_0000_0000n)).toBe("VMfail");
    expect(cpu.counters().invvpid).toBe(0n);
  });
});
