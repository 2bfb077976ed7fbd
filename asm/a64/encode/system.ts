// SPDX-License-Identifier: MIT
//
// Exception generation, hints, barriers, MRS/MSR, SYS/SYSL and the SYS
// aliases TLBI, DC, IC and AT (DDI0487 C4.1.87 "Exception generation",
// "Hints", "Barriers", "PSTATE", "System instructions", "System register
// move"; C5.2-C5.5 for the operations).

import type { Instruction } from "../../backend.ts";
import { lateImmediate, word } from "../fixups.ts";
import { OperandError, lateError, type Operands } from "../operands.ts";
import { BARRIER_BY_NAME, HINTS, PSTATE_FIELDS, SYS_ALIASES } from "../sysops.ts";
import { parseSysReg } from "../sysregs.ts";
import { constantIn, type Handler, type HandlerTable } from "./common.ts";

/** Exception generation: 11010100 opc imm16 op2 LL. */
const SVC = 0xd4000001, HVC = 0xd4000002, SMC = 0xd4000003, BRK = 0xd4200000, HLT = 0xd4400000;
const ERET = 0xd69f03e0;
/** HINT: 11010101000000110010 CRm op2 11111; the hint number is CRm:op2. */
const HINT = 0xd503201f;
/** Barriers: 11010101000000110011 CRm op2 11111. */
const CLREX = 0xd503305f, DSB = 0xd503309f, DMB = 0xd50330bf, ISB = 0xd50330df;
/** MSR (immediate): 1101010100000 op1 0100 CRm op2 11111. */
const MSR_IMM = 0xd500401f;
/** SYS/SYSL: 1101010100 L 01 op1 CRn CRm op2 Rt. */
const SYS = 0xd5080000, SYSL = 0xd5280000;
/** MSR/MRS (register): 1101010100 L 1 o0 op1 CRn CRm op2 Rt; bits [20:5] are the register key. */
const MSR_REG = 0xd5100000, MRS = 0xd5300000;

function noOperands(w: number): Handler {
  return (ops) => {
    ops.allow(0);
    return word(w);
  };
}

/** SVC/HVC/SMC/BRK/HLT #imm16: refused on the line if known and too large, late otherwise. */
function exception(base: number): Handler {
  return (ops) => {
    ops.allow(1);
    const imm = ops.imm(0);
    if (imm.value !== undefined && (imm.value < 0n || imm.value > 0xffffn)) {
      throw new OperandError("immediate value out of range 0 to 65535", 1);
    }
    return lateImmediate(imm, (v) => (v >= 0n && v <= 0xffffn ? (base | (Number(v) << 5)) >>> 0 : lateError("immediate out of range")));
  };
}

function hint(ops: Operands): Instruction {
  ops.allow(1);
  return word(HINT | (constantIn(ops, 0, 0, 127) << 5));
}

/** DMB/DSB <option>|#imm. */
function barrier(base: number): Handler {
  return (ops) => {
    if (ops.length === 0) throw new OperandError("missing immediate expression", 1);
    ops.allow(1);
    const named = BARRIER_BY_NAME.get(ops.text(0).toLowerCase());
    return word(base | ((named ?? constantIn(ops, 0, 0, 15)) << 8));
  };
}

/** ISB {SY|#imm}; CLREX {#imm}: 15 by default. */
function optionalBarrier(base: number, acceptsSy: boolean): Handler {
  return (ops) => {
    if (ops.length === 0) return word(base | (15 << 8));
    ops.allow(1);
    const name = ops.text(0).toLowerCase();
    if (acceptsSy && name === "sy") return word(base | (15 << 8));
    if (BARRIER_BY_NAME.has(name)) throw new OperandError("the specified option is not accepted in ISB", 1);
    return word(base | (constantIn(ops, 0, 0, 15) << 8));
  };
}

function xt(ops: Operands, i: number): number {
  const r = ops.reg(i);
  if (r.width !== 64) throw new OperandError("operand mismatch");
  return r.num;
}

function sysReg(ops: Operands, i: number): number {
  const key = parseSysReg(ops.text(i));
  if (key === undefined) throw new OperandError("unknown or missing system register name", i + 1);
  return key;
}

function mrs(ops: Operands): Instruction {
  ops.allow(2);
  const t = xt(ops, 0);
  return word((MRS | (sysReg(ops, 1) << 5) | t) >>> 0);
}

function msr(ops: Operands): Instruction {
  ops.allow(2);
  const field = PSTATE_FIELDS[ops.text(0).toLowerCase()];
  if (field && !ops.isReg(1)) {
    const max = ops.text(0).toLowerCase().startsWith("daif") ? 15 : 1;
    const crm = constantIn(ops, 1, 0, max);
    return word(MSR_IMM | (field.op1 << 16) | (crm << 8) | (field.op2 << 5));
  }
  const key = sysReg(ops, 0);
  return word((MSR_REG | ((key & 0x7fff) << 5) | xt(ops, 1)) >>> 0);
}

/** Cn or Cm: "C0" to "C15", either case. */
function crField(ops: Operands, i: number): number {
  const m = /^[cC]([0-9]+)$/.exec(ops.text(i));
  const v = m ? Number(m[1]) : NaN;
  if (!(v >= 0 && v <= 15)) throw new OperandError("C0 - C15 expected", i + 1);
  return v;
}

/** SYS #op1, Cn, Cm, #op2{, Xt}; SYSL Xt, #op1, Cn, Cm, #op2. */
function sys(ops: Operands): Instruction {
  ops.allow(5);
  const op1 = constantIn(ops, 0, 0, 7), crn = crField(ops, 1), crm = crField(ops, 2), op2 = constantIn(ops, 3, 0, 7);
  const t = ops.length === 5 ? xt(ops, 4) : 31;
  return word(SYS | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | t);
}

function sysl(ops: Operands): Instruction {
  ops.allow(5);
  const t = xt(ops, 0);
  const op1 = constantIn(ops, 1, 0, 7), crn = crField(ops, 2), crm = crField(ops, 3), op2 = constantIn(ops, 4, 0, 7);
  return word(SYSL | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | t);
}

/** TLBI/DC/IC/AT <op>{, Xt}. DC and AT always take Xt, so GNU as wants the comma; TLBI and IC say the register is missing. */
function sysAlias(mnemonic: keyof typeof SYS_ALIASES): Handler {
  return (ops) => {
    const name = ops.items[0]?.toLowerCase() ?? "";
    const op = SYS_ALIASES[mnemonic].find((o) => o.name === name);
    if (!op) throw new OperandError("unknown or missing operation name", 1);
    let t = 31;
    if (op.xt) {
      if (ops.length < 2) {
        throw new OperandError(mnemonic === "dc" || mnemonic === "at" ? "comma expected between operands" : "missing register", 2);
      }
      ops.allow(2);
      t = xt(ops, 1);
    } else if (ops.length > 1) {
      throw new OperandError("extraneous register", 2);
    }
    return word(SYS | (op.op1 << 16) | (op.crn << 12) | (op.crm << 8) | (op.op2 << 5) | t);
  };
}

export const SYSTEM: HandlerTable = {
  svc: exception(SVC),
  hvc: exception(HVC),
  smc: exception(SMC),
  brk: exception(BRK),
  hlt: exception(HLT),
  eret: noOperands(ERET),
  ...Object.fromEntries(HINTS.map((name, i) => [name, noOperands(HINT | (i << 5))])),
  hint,
  ssbb: noOperands(DSB),
  pssbb: noOperands(DSB | (4 << 8)),
  dsb: barrier(DSB),
  dmb: barrier(DMB),
  isb: optionalBarrier(ISB, true),
  clrex: optionalBarrier(CLREX, false),
  mrs,
  msr,
  sys,
  sysl,
  tlbi: sysAlias("tlbi"),
  dc: sysAlias("dc"),
  ic: sysAlias("ic"),
  at: sysAlias("at"),
};
