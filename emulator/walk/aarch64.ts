// SPDX-License-Identifier: MIT
//
// Replays AArch64 page-walk vectors: fresh memory holding the case's words
// (zero elsewhere), system registers from the case, an empty TLB, and one AT
// (S1E1R/W for a kernel access, S1E0R/W for a user one); then the PA or the
// fault type and level, PAR_EL1, and the Access flag / dirty-state words.

import { Machine } from "../machine/core/machine.ts";
import type { ArmRegisters, ArmTranslation, AtOp } from "../machine/cpu/arm-cpu.ts";
import { type CaseOutcome, type VectorRunner, finalWords, hex } from "./vectors.ts";
import { backPages } from "./x86.ts";
import { armCase, type ArmCase } from "./schema.ts";

function describe(t: ArmTranslation): string {
  if (t.ok) return `pa ${hex(t.pa)}`;
  return `${t.fault.type} fault at level ${t.fault.level}${t.fault.stage2 ? " (stage 2)" : ""}`;
}

export class Aarch64VectorRunner implements VectorRunner<ArmCase> {
  readonly schema = armCase;
  private machine: Machine<"aarch64"> | undefined;

  private machineFor(paBits: number): Machine<"aarch64"> {
    if (!this.machine) this.machine = new Machine({ arch: "aarch64", cpus: 1, maxPhysAddr: paBits, ram: [] });
    else this.machine.setMaxPhysAddr(paBits);
    return this.machine;
  }

  run(c: ArmCase): CaseOutcome {
    const paBits = c.cpu.pa_bits;
    const regs: Partial<ArmRegisters> = {};
    for (const [name, value] of Object.entries(c.regs)) if (value !== undefined) regs[name as keyof ArmRegisters] = value;
    const expected = c.expect.pa !== undefined ? `pa ${hex(c.expect.pa)}` : `${c.expect.fault!.type} fault at level ${c.expect.fault!.level}`;

    const m = this.machineFor(paBits);
    const tableRoots = [regs.ttbr0_el1 ?? 0n, regs.ttbr1_el1 ?? 0n].map((t) => t & 0xffff_ffff_ffffn);
    backPages(m, tableRoots, [...c.mem, ...(c.mem_after ?? [])], paBits, 0x0000_ffff_ffff_f000n);
    for (const [addr, value] of c.mem) m.memory.write64(addr, value);
    const cpu = m.cpu(0);
    cpu.reset();
    cpu.setRegisters(regs);

    const atOp = `S1E${c.access.priv === "user" ? "0" : "1"}${c.access.op === "write" ? "W" : "R"}` as AtOp;
    const { par, translation } = cpu.at(atOp, c.access.va);
    const got = describe(translation);
    if (got !== expected) return { status: "fail", expected, got };
    if (c.par !== undefined && par !== c.par) return { status: "fail", expected: `PAR_EL1 ${hex(c.par)}`, got: `PAR_EL1 ${hex(par)}` };

    for (const [addr, want] of finalWords(c.mem, c.mem_after)) {
      const now = m.memory.peek64(addr) ?? 0n;
      if (now !== want) return { status: "fail", expected: `mem ${hex(addr)} = ${hex(want)}`, got: `${hex(now)}` };
    }
    return { status: "pass" };
  }
}
