// SPDX-License-Identifier: MIT
//
// Replays AArch64 page-walk vectors: fresh memory holding the case's words
// (zero elsewhere), system registers from the case, an empty TLB, and one AT
// (S1E1R/W for a kernel access, S1E0R/W for a user one); then the PA or the
// fault type and level, PAR_EL1, and the Access flag / dirty-state words.

import { Machine } from "../machine/core/machine.ts";
import type { ArmRegisters, ArmTranslation, AtOp } from "../machine/cpu/arm-cpu.ts";
import {
  type VectorCase, type CaseOutcome, type VectorRunner, VectorError, bigField, objField, stringField, wordList,
  isObject, toBig, hex,
} from "./vectors.ts";
import { backPages } from "./x86.ts";

const REGISTERS = ["sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "hcr_el2", "vttbr_el2", "vtcr_el2", "pstate"] as const;
const REQUIRED = ["sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1"] as const;
const FAULT_TYPES = ["translation", "access_flag", "permission", "address_size"] as const;

function describe(t: ArmTranslation): string {
  if (t.ok) return `pa ${hex(t.pa)}`;
  return `${t.fault.type} fault at level ${t.fault.level}${t.fault.stage2 ? " (stage 2)" : ""}`;
}

export class Aarch64VectorRunner implements VectorRunner {
  private machine: Machine<"aarch64"> | undefined;

  private machineFor(paBits: number): Machine<"aarch64"> {
    if (!this.machine) this.machine = new Machine({ arch: "aarch64", cpus: 1, maxPhysAddr: paBits, ram: [] });
    else this.machine.setMaxPhysAddr(paBits);
    return this.machine;
  }

  run(c: VectorCase): CaseOutcome {
    const raw = c.raw;
    const cpuInfo = objField(raw, "cpu", "case");
    const paBits = cpuInfo.pa_bits;
    if (typeof paBits !== "number" || !Number.isInteger(paBits) || paBits < 32 || paBits > 52) {
      throw new VectorError(`cpu.pa_bits must be an integer from 32 to 52, not ${JSON.stringify(paBits)}`);
    }
    const regsIn = objField(raw, "regs", "case");
    for (const name of Object.keys(regsIn)) {
      if (!(REGISTERS as readonly string[]).includes(name)) {
        throw new VectorError(`regs.${name} is not a register this runner knows (${REGISTERS.join(", ")})`);
      }
    }
    for (const name of REQUIRED) bigField(regsIn, name, "regs");
    const regs: Partial<ArmRegisters> = {};
    for (const name of REGISTERS) if (regsIn[name] !== undefined) regs[name] = bigField(regsIn, name, "regs");

    const mem = wordList(raw, "mem", false);
    const memAfter = wordList(raw, "mem_after", true);
    const access = objField(raw, "access", "case");
    const va = bigField(access, "va", "access");
    const op = stringField(access, "op", "access", ["read", "write"] as const);
    const priv = stringField(access, "priv", "access", ["user", "kernel"] as const);
    const expected = this.expectation(objField(raw, "expect", "case"));
    const expectedPar = raw.par === undefined ? undefined : toBig(raw.par, "par");

    const m = this.machineFor(paBits);
    const tableRoots = [regs.ttbr0_el1 ?? 0n, regs.ttbr1_el1 ?? 0n].map((t) => t & 0xffff_ffff_ffffn);
    backPages(m, tableRoots, [...mem, ...memAfter], paBits, 0x0000_ffff_ffff_f000n);
    for (const [addr, value] of mem) m.memory.write64(addr, value);
    const cpu = m.cpu(0);
    cpu.reset();
    cpu.setRegisters(regs);

    const atOp = `S1E${priv === "user" ? "0" : "1"}${op === "write" ? "W" : "R"}` as AtOp;
    const { par, translation } = cpu.at(atOp, va);
    const got = describe(translation);
    if (got !== expected) return { status: "fail", expected, got };
    if (expectedPar !== undefined && par !== expectedPar) return { status: "fail", expected: `PAR_EL1 ${hex(expectedPar)}`, got: `PAR_EL1 ${hex(par)}` };

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
    const type = stringField(fault, "type", "expect.fault", FAULT_TYPES);
    const level = fault.level;
    if (typeof level !== "number" || !Number.isInteger(level) || level < 0 || level > 3) {
      throw new VectorError(`expect.fault.level must be 0 to 3, not ${JSON.stringify(level)}`);
    }
    return `${type} fault at level ${level}`;
  }
}
