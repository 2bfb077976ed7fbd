// SPDX-License-Identifier: MIT
//
// Branches and PC-relative addresses (DDI0487 C4.1.87 "Branches, Exception
// Generating and System instructions": "Unconditional branch (immediate)",
// "Conditional branch (immediate)", "Compare and branch (immediate)",
// "Test and branch (immediate)", "Unconditional branch (register)";
// C4.1.86 "PC-rel. addressing"). Targets are always fixups: GNU as
// resolves them once the label's address is known.

import { parseCondition } from "../conditions.ts";
import { PCREL, adrFixup, adrpFixup, pcRelFixup, word } from "../fixups.ts";
import { OperandError, parseImm, type Operands } from "../operands.ts";
import type { Expr } from "../../expr.ts";
import { constantIn, rn, sfOf, type Handler, type HandlerTable } from "./common.ts";

const B = 0x14000000, BL = 0x94000000;
/** B.cond: 0101010 0 imm19 0 cond. */
const B_COND = 0x54000000;
/** CBZ/CBNZ: sf 011010 op imm19 Rt. */
const CBZ = 0x34000000;
/** TBZ/TBNZ: b5 011011 op b40 imm14 Rt. */
const TBZ = 0x36000000;
const BR = 0xd61f0000, BLR = 0xd63f0000, RET = 0xd65f0000;
const ADR = 0x10000000, ADRP = 0x90000000;

/** A branch target: an address expression (GNU as reads even "x0" here as a symbol). */
function target(ops: Operands, i: number): Expr {
  return parseImm(ops.text(i, i === 0 ? "invalid address" : undefined), ops.ctx, i, true).expr;
}

function unconditional(base: number): Handler {
  return (ops) => {
    ops.allow(1);
    return word(base, [pcRelFixup(target(ops, 0), PCREL.branch26)]);
  };
}

/** B.cond (and GNU as's Bcond spelling) for a condition code. */
export function conditionalBranch(cond: number): Handler {
  return (ops) => {
    ops.allow(1);
    return word(B_COND | cond, [pcRelFixup(target(ops, 0), PCREL.cond19)]);
  };
}

/** The condition in "b.eq" or "beq", or undefined if the mnemonic is not a conditional branch. */
export function branchCondition(mnemonic: string): number | undefined {
  const m = /^b\.?([a-z]+)$/.exec(mnemonic);
  return m ? parseCondition(m[1]!) : undefined;
}

function compareBranch(op: number): Handler {
  return (ops) => {
    ops.allow(2);
    const t = ops.reg(0);
    return word(((sfOf(t) << 31) | CBZ | (op << 24) | t.num) >>> 0, [pcRelFixup(target(ops, 1), PCREL.cond19)]);
  };
}

function testBranch(op: number): Handler {
  return (ops) => {
    ops.allow(3);
    const t = ops.reg(0);
    const bit = constantIn(ops, 1, 0, t.width - 1);
    return word(((bit >> 5) << 31 | TBZ | (op << 24) | ((bit & 31) << 19) | t.num) >>> 0, [pcRelFixup(target(ops, 2), PCREL.tbz14)]);
  };
}

/** BR/BLR Xn; RET {Xn}, X30 by default. */
function register(base: number, optional: boolean): Handler {
  return (ops) => {
    if (optional && ops.length === 0) return word(base | rn(30));
    ops.allow(1);
    const n = ops.reg(0);
    if (n.width !== 64) throw new OperandError("operand mismatch");
    return word(base | rn(n));
  };
}

function pcRelAddress(base: number, page: boolean): Handler {
  return (ops) => {
    ops.allow(2);
    const d = ops.reg(0);
    if (d.width !== 64) throw new OperandError("operand mismatch");
    const expr = target(ops, 1);
    return word(base | d.num, [page ? adrpFixup(expr) : adrFixup(expr)]);
  };
}

export const BRANCH: HandlerTable = {
  b: unconditional(B),
  bl: unconditional(BL),
  cbz: compareBranch(0),
  cbnz: compareBranch(1),
  tbz: testBranch(0),
  tbnz: testBranch(1),
  br: register(BR, false),
  blr: register(BLR, false),
  ret: register(RET, true),
  adr: pcRelAddress(ADR, false),
  adrp: pcRelAddress(ADRP, true),
};
