// SPDX-License-Identifier: MIT
//
// What every encoder shares: the handler signature and register helpers.

import type { Instruction } from "../../backend.ts";
import { OperandError, type Operands } from "../operands.ts";
import type { GReg } from "../registers.ts";

/** Encodes one statement whose mnemonic (lower case) selected this handler. */
export type Handler = (ops: Operands, mnemonic: string) => Instruction;

export type HandlerTable = Record<string, Handler>;

/** The sf bit (DDI0487 C4.1: 1 for 64-bit operation). */
export const sfOf = (r: GReg) => (r.width === 64 ? 1 : 0);

/** Requires every register to have the width of the first, as GNU as's operand qualifiers do. */
export function sameWidth(...regs: GReg[]): void {
  for (const r of regs) if (r.width !== regs[0]!.width) throw new OperandError("operand mismatch");
}

/** A constant immediate within [lo, hi], with GNU as's message for a value outside it. */
export function constantIn(ops: Operands, i: number, lo: number, hi: number): number {
  const v = ops.constant(i);
  if (v < BigInt(lo) || v > BigInt(hi)) throw new OperandError(`immediate value out of range ${lo} to ${hi}`, i + 1);
  return Number(v);
}

/** Reg fields at their usual places. */
export const rd = (r: GReg | number) => (typeof r === "number" ? r : r.num);
export const rn = (r: GReg | number) => rd(r) << 5;
export const rm = (r: GReg | number) => rd(r) << 16;
