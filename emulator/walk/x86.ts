// SPDX-License-Identifier: MIT
//
// Replays x86-64 page-walk vectors: fresh memory holding the case's words
// (zero elsewhere), registers from the case, an empty TLB, one access; then
// the physical address or the fault, and the Accessed/Dirty words.

import { Machine } from "../machine/core/machine.ts";
import type { Memory } from "../machine/core/memory.ts";
import type { X86Registers, X86Translation, AccessOp, Privilege } from "../machine/cpu/x86-cpu.ts";
import {
  type VectorCase, type CaseOutcome, type VectorRunner, VectorError, bigField, objField, stringField, wordList,
  isObject, toBig, hex,
} from "./vectors.ts";

const REGISTERS = ["cr0", "cr2", "cr3", "cr4", "efer", "rflags", "pat", "pkru"] as const;
const REQUIRED_REGISTERS = ["cr0", "cr3", "cr4", "efer"] as const;
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

export class X86VectorRunner implements VectorRunner {
  private machine: Machine | undefined;

  private machineFor(maxPhys: number): Machine {
    if (!this.machine) this.machine = new Machine({ cpus: 1, maxPhysAddr: maxPhys, ram: [] });
    else this.machine.setMaxPhysAddr(maxPhys);
    return this.machine;
  }

  run(c: VectorCase): CaseOutcome {
    const raw = c.raw;
    const cpuInfo = objField(raw, "cpu", "case");
    const maxPhys = cpuInfo.maxphyaddr;
    if (typeof maxPhys !== "number" || !Number.isInteger(maxPhys) || maxPhys < 32 || maxPhys > 52) {
      throw new VectorError(`cpu.maxphyaddr must be an integer from 32 to 52, not ${JSON.stringify(maxPhys)}`);
    }
    const regsIn = objField(raw, "regs", "case");
    for (const name of Object.keys(regsIn)) {
      if (!(REGISTERS as readonly string[]).includes(name)) {
        throw new VectorError(`regs.${name} is not a register this runner knows (${REGISTERS.join(", ")})`);
      }
    }
    for (const name of REQUIRED_REGISTERS) bigField(regsIn, name, "regs");
    const regs: Partial<X86Registers> = {};
    for (const name of REGISTERS) if (regsIn[name] !== undefined) regs[name] = bigField(regsIn, name, "regs");
    if ((regs.pkru ?? 0n) > 0xffffffffn) throw new VectorError("regs.pkru must fit in 32 bits");

    const mem = wordList(raw, "mem", false);
    const memAfter = wordList(raw, "mem_after", true);
    const access = objField(raw, "access", "case");
    const va = bigField(access, "va", "access");
    const op = stringField<AccessOp>(access, "op", "access", ["read", "write", "fetch"]);
    const priv = stringField<Privilege>(access, "priv", "access", ["user", "kernel", "implicit"]);
    const expect = objField(raw, "expect", "case");
    const expected = this.expectation(expect);

    const m = this.machineFor(maxPhys);
    backPages(m, [regs.cr3 ?? 0n], [...mem, ...memAfter], maxPhys, 0x000f_ffff_ffff_f000n);
    for (const [addr, value] of mem) m.memory.write64(addr, value);
    const cpu = m.cpu(0);
    cpu.reset();
    cpu.setRegisters(regs);

    const got = describe(cpu.translate(va, { op, priv }));
    if (got !== expected) return { status: "fail", expected, got };

    // Memory after the access: the listed words changed, every other word did not.
    const final = new Map<bigint, bigint>();
    for (const [addr, value] of mem) final.set(addr, value);
    for (const [addr, value] of memAfter) final.set(addr, value);
    for (const [addr, want] of final) {
      const now = m.memory.peek64(addr) ?? 0n;
      if (now !== want) return { status: "fail", expected: `mem ${hex(addr)} = ${hex(want)}`, got: `${hex(now)}` };
    }
    return { status: "pass" };
  }

  private expectation(expect: Record<string, unknown>): string {
    if (expect.pa !== undefined && expect.fault !== undefined) throw new VectorError("expect has both pa and fault");
    if (expect.pa !== undefined) return `pa ${hex(toBig(expect.pa, "expect.pa"))}`;
    const fault = expect.fault;
    if (!isObject(fault)) throw new VectorError("expect must have pa or fault");
    const vector = fault.vector;
    if (vector === 14) return `#PF error code ${hex(bigField(fault, "error_code", "expect.fault"))}`;
    if (vector === 13) return "#GP(0)";
    throw new VectorError(`expect.fault.vector must be 14 (#PF) or 13 (#GP), not ${JSON.stringify(vector)}`);
  }
}
