// SPDX-License-Identifier: MIT
//
// Branches, exception generating and system instructions (DDI0487
// C4.1.87): B, BL, B.cond, CBZ/CBNZ, TBZ/TBNZ, BR/BLR/RET/ERET, SVC, HVC,
// SMC, BRK, HLT, hints, barriers, MSR (immediate), SYS/SYSL and their
// TLBI/DC/IC/AT aliases, MRS/MSR (register).

import { branchConditionComment, conditionName } from "../conditions.ts";
import { immHex, type Insn } from "../format.ts";
import { xOrW } from "../registers.ts";
import { BARRIER_OPTIONS, HINTS, PSTATE_FIELDS, sysAlias } from "../sysops.ts";
import { sysRegName } from "../sysregs.ts";
import { bit, bits, rdOf, rnOf, signExtend, type DecodeContext, type DecodeResult } from "./fields.ts";

const target = (ctx: DecodeContext, offset: bigint) => ({ target: BigInt.asUintN(64, ctx.address + offset) });

/** B/BL: op 00101 imm26. */
function branchImmediate(w: number, ctx: DecodeContext): Insn {
  return { mnemonic: bit(w, 31) ? "bl" : "b", operands: [target(ctx, signExtend(bits(w, 25, 0), 26) << 2n)] };
}

/** B.cond: 0101010 0 imm19 0 cond; objdump names the other spellings of the condition after it. */
function branchConditional(w: number, ctx: DecodeContext): DecodeResult {
  if (bit(w, 24) || bit(w, 4)) return undefined;
  const cond = bits(w, 3, 0);
  const others = branchConditionComment(cond);
  const insn: Insn = { mnemonic: `b.${conditionName(cond)}`, operands: [target(ctx, signExtend(bits(w, 23, 5), 19) << 2n)] };
  if (others) insn.comment = `  // ${others}`;
  return insn;
}

/** CBZ/CBNZ: sf 011010 op imm19 Rt. */
function compareBranch(w: number, ctx: DecodeContext): Insn {
  return {
    mnemonic: bit(w, 24) ? "cbnz" : "cbz",
    operands: [xOrW(rdOf(w), bit(w, 31)), target(ctx, signExtend(bits(w, 23, 5), 19) << 2n)],
  };
}

/** TBZ/TBNZ: b5 011011 op b40 imm14 Rt; the register is X only when the bit number is 32 or more. */
function testBranch(w: number, ctx: DecodeContext): Insn {
  const b5 = bit(w, 31);
  return {
    mnemonic: bit(w, 24) ? "tbnz" : "tbz",
    operands: [xOrW(rdOf(w), b5), `#${(b5 << 5) | bits(w, 23, 19)}`, target(ctx, signExtend(bits(w, 18, 5), 14) << 2n)],
  };
}

/** Unconditional branch (register): 1101011 opc op2 op3 Rn op4. */
function branchRegister(w: number): DecodeResult {
  const opc = bits(w, 24, 21), n = rnOf(w);
  if (bits(w, 20, 16) !== 31 || bits(w, 15, 10) !== 0 || bits(w, 4, 0) !== 0) return undefined;
  switch (opc) {
    case 0b0000: return { mnemonic: "br", operands: [xOrW(n, 1)] };
    case 0b0001: return { mnemonic: "blr", operands: [xOrW(n, 1)] };
    case 0b0010: return { mnemonic: "ret", operands: n === 30 ? [] : [xOrW(n, 1)] };
    case 0b0100: return n === 31 ? { mnemonic: "eret", operands: [] } : undefined;
    default: return undefined;
  }
}

/** Exception generation: 11010100 opc imm16 op2 LL. */
const EXCEPTIONS: Readonly<Record<number, string>> = { 0b00001: "svc", 0b00010: "hvc", 0b00011: "smc", 0b00100: "brk", 0b01000: "hlt" };

function exception(w: number): DecodeResult {
  const name = EXCEPTIONS[(bits(w, 23, 21) << 2) | bits(w, 1, 0)];
  if (!name || bits(w, 4, 2) !== 0) return undefined;
  return { mnemonic: name, operands: [immHex(bits(w, 20, 5))] };
}

/** Barriers (CRn = 0011): CLREX, DSB (with SSBB, PSSBB), DMB, ISB. */
function barrier(crm: number, op2: number): DecodeResult {
  const option = BARRIER_OPTIONS[crm] ?? "#0x" + crm.toString(16).padStart(2, "0");
  switch (op2) {
    case 0b010: return { mnemonic: "clrex", operands: crm === 15 ? [] : [immHex(crm)] };
    case 0b100:
      if (crm === 0) return { mnemonic: "ssbb", operands: [] };
      if (crm === 4) return { mnemonic: "pssbb", operands: [] };
      return { mnemonic: "dsb", operands: [option] };
    case 0b101: return { mnemonic: "dmb", operands: [option] };
    case 0b110: return { mnemonic: "isb", operands: crm === 15 ? [] : [immHex(crm)] };
    default: return undefined;
  }
}

/** MSR (immediate): the PSTATE field named by op1:op2, the value in CRm. */
function msrImmediate(op1: number, crm: number, op2: number): DecodeResult {
  const field = Object.entries(PSTATE_FIELDS).find(([, f]) => f.op1 === op1 && f.op2 === op2);
  // The one-bit fields take CRm 0 or 1; objdump shows other values as a register write.
  if (!field || (crm > 1 && !field[0].startsWith("daif"))) return undefined;
  return { mnemonic: "msr", operands: [field[0], immHex(crm)] };
}

/** SYS with a TLBI/DC/IC/AT name where one exists. objdump drops Xt from an operation that takes none. */
function sys(w: number, op1: number, crn: number, crm: number, op2: number): DecodeResult {
  const t = rdOf(w);
  const generic = `sys #${op1}, C${crn}, C${crm}, #${op2}` + (t === 31 ? "" : `, ${xOrW(t, 1)}`);
  const alias = sysAlias(op1, crn, crm, op2);
  if (alias) {
    const insn: Insn = { mnemonic: alias.mnemonic, operands: alias.op.xt ? [alias.op.name, xOrW(t, 1)] : [alias.op.name] };
    if (!alias.op.xt && t !== 31) insn.source = generic;
    return insn;
  }
  // objdump knows more cache, TLB and translation operations (CRn 7 to 9) than this subset.
  if (crn >= 7 && crn <= 9) return undefined;
  return { mnemonic: "sys", operands: [`#${op1}`, `C${crn}`, `C${crm}`, `#${op2}`, ...(t === 31 ? [] : [xOrW(t, 1)])] };
}

/** System instructions: 1101010100 L op0 op1 CRn CRm op2 Rt. */
function system(w: number): DecodeResult {
  const L = bit(w, 21), op0 = bits(w, 20, 19), op1 = bits(w, 18, 16), crn = bits(w, 15, 12), crm = bits(w, 11, 8), op2 = bits(w, 7, 5), t = rdOf(w);
  if (op0 === 0) {
    if (L || t !== 31) return undefined;
    if (crn === 4) return msrImmediate(op1, crm, op2);
    if (op1 !== 3) return undefined;
    if (crn === 2) {
      const n = (crm << 3) | op2;
      return n < HINTS.length ? { mnemonic: HINTS[n]!, operands: [] } : undefined;
    }
    return crn === 3 ? barrier(crm, op2) : undefined;
  }
  if (op0 === 1) {
    if (!L) return sys(w, op1, crn, crm, op2);
    return { mnemonic: "sysl", operands: [xOrW(t, 1), `#${op1}`, `C${crn}`, `C${crm}`, `#${op2}`] };
  }
  const key = bits(w, 20, 5);
  const name = sysRegName(key);
  if (!name) return undefined;
  return L ? { mnemonic: "mrs", operands: [xOrW(t, 1), name] } : { mnemonic: "msr", operands: [name, xOrW(t, 1)] };
}

/** Branches, exception generating and system instructions, by op0<31:29> and op1<25:12>. */
export function decodeBranchSystem(w: number, ctx: DecodeContext): DecodeResult {
  if ((w & 0x7c000000) === 0x14000000) return branchImmediate(w, ctx);
  if ((w & 0xfe000000) >>> 0 === 0x54000000) return branchConditional(w, ctx);
  if ((w & 0x7e000000) === 0x34000000) return compareBranch(w, ctx);
  if ((w & 0x7e000000) === 0x36000000) return testBranch(w, ctx);
  if ((w & 0xff000000) >>> 0 === 0xd4000000) return exception(w);
  if ((w & 0xffc00000) >>> 0 === 0xd5000000) return system(w);
  if ((w & 0xfe000000) >>> 0 === 0xd6000000) return branchRegister(w);
  return undefined;
}

