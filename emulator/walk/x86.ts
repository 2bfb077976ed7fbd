// SPDX-License-Identifier: MIT
//
// Replays x86-64 page-walk vectors: fresh memory holding the case's words
// (zero elsewhere), registers from the case, an empty TLB, one access; then
// the physical address or the fault, and the Accessed/Dirty words.

import { Machine } from "../machine/core/machine.ts";
import type { Memory } from "../machine/core/memory.ts";
import type { X86Registers, X86Translation } from "../machine/cpu/x86-cpu.ts";
import { type CaseOutcome, type VectorRunner, VectorError, finalWords, hex } from "./vectors.ts";
import { x86Case, type X86Case } from "./schema.ts";

const PAGE = 4096n;

function describe(t: X86Translation): string {
  if (t.ok) return `pa ${hex(t.pa)}`;
  const f = t.fault;
  if (f.kind === "page-fault") return `#PF error code ${hex(f.errorCode)}`;
  if (f.kind === "general-protection") return "#GP(0)";
  if (f.kind === "bus-error") return `bus error reading a paging structure at ${hex(f.address)}`;
  return `${f.kind} at guest-physical ${hex(f.gpa)}`;
}

/**
 * Backs with RAM the 4 KiB pages a walk of a case can touch: the root tables
 * and every page named by a word in memory or by a word's address field
 * (addrField). Everything else reads as zero only because no walk reaches it.
 */
export function backPages(m: { memory: Memory }, roots: bigint[], words: [bigint, bigint][], physBits: number, addrField: bigint): void {
  const limit = 1n << BigInt(physBits);
  const field = addrField & (limit - 1n) & ~(PAGE - 1n);
  const pages = new Set<bigint>();
  for (const root of roots) pages.add(root & field);
  for (const [addr, value] of words) {
    if (addr >= limit) throw new VectorError(`mem address ${hex(addr)} is beyond the physical address size (${physBits} bits)`);
    pages.add(addr & ~(PAGE - 1n));
    pages.add(value & field);
  }
  const sorted = [...pages].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 0; i < sorted.length; ) {
    let end = i + 1;
    while (end < sorted.length && sorted[end] === sorted[end - 1]! + PAGE) end++;
    m.memory.addRange({ base: sorted[i]!, size: BigInt(end - i) * PAGE });
    i = end;
  }
}

export class X86VectorRunner implements VectorRunner<X86Case> {
  readonly schema = x86Case;
  private machine: Machine | undefined;

  private machineFor(maxPhys: number): Machine {
    if (!this.machine) this.machine = new Machine({ cpus: 1, maxPhysAddr: maxPhys, ram: [] });
    else this.machine.setMaxPhysAddr(maxPhys);
    return this.machine;
  }

  run(c: X86Case): CaseOutcome {
    const maxPhys = c.cpu.maxphyaddr;
    const regs: Partial<X86Registers> = {};
    for (const [name, value] of Object.entries(c.regs)) if (value !== undefined) regs[name as keyof X86Registers] = value;
    const expected = expectation(c.expect);

    const m = this.machineFor(maxPhys);
    backPages(m, [regs.cr3 ?? 0n], [...c.mem, ...(c.mem_after ?? [])], maxPhys, 0x000f_ffff_ffff_f000n);
    for (const [addr, value] of c.mem) m.memory.write64(addr, value);
    const cpu = m.cpu(0);
    cpu.reset();
    cpu.setRegisters(regs);

    const got = describe(cpu.translate(c.access.va, { op: c.access.op, priv: c.access.priv }));
    if (got !== expected) return { status: "fail", expected, got };

    // Memory after the access: the listed words changed, every other word did not.
    for (const [addr, want] of finalWords(c.mem, c.mem_after)) {
      const now = m.memory.peek64(addr) ?? 0n;
      if (now !== want) return { status: "fail", expected: `mem ${hex(addr)} = ${hex(want)}`, got: `${hex(now)}` };
    }
    return { status: "pass" };
  }
}

function expectation(expect: X86Case["expect"]): string {
  if (expect.pa !== undefined) return `pa ${hex(expect.pa)}`;
  const fault = expect.fault!;
  return fault.vector === 14 ? `#PF error code ${hex(fault.error_code!)}` : "#GP(0)";
}
