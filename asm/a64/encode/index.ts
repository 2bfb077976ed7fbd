// SPDX-License-Identifier: MIT
//
// The A64 assembler: one table from mnemonic to encoder, and GNU as's
// message shapes. An encoder throws OperandError for an operand GNU as
// refuses while parsing the line (the message gets " -- `statement'"), or a
// plain AsmError for what GNU as refuses when it resolves a field.

import { AsmError, type AsmContext, type Instruction } from "../../backend.ts";
import { OperandError, Operands, scrubStatement } from "../operands.ts";
import { ARITH } from "./arith.ts";
import { ATOMICS } from "./atomics.ts";
import { BITFIELD_OPS } from "./bitfield.ts";
import { BRANCH, branchCondition, conditionalBranch } from "./branch.ts";
import type { Handler, HandlerTable } from "./common.ts";
import { LOADSTORE } from "./loadstore.ts";
import { LOGICAL } from "./logical.ts";
import { MULTIPLY } from "./multiply.ts";
import { SYSTEM } from "./system.ts";

const MNEMONICS: HandlerTable = {
  ...ARITH,
  ...LOGICAL,
  ...BITFIELD_OPS,
  ...MULTIPLY,
  ...LOADSTORE,
  ...ATOMICS,
  ...BRANCH,
  ...SYSTEM,
};

/** Every mnemonic the assembler takes, besides B.cond (for tests and documentation). */
export const MNEMONIC_LIST: readonly string[] = Object.keys(MNEMONICS);

function lookup(m: string): Handler | undefined {
  const handler = Object.hasOwn(MNEMONICS, m) ? MNEMONICS[m] : undefined;
  if (handler) return handler;
  const cond = branchCondition(m);
  return cond === undefined ? undefined : conditionalBranch(cond);
}

export function assembleA64(mnemonic: string, operands: string, ctx: AsmContext): Instruction {
  // GNU as lowers the mnemonic in place before it looks it up, so its messages quote it that way.
  const lower = mnemonic.toLowerCase();
  const statement = () => scrubStatement(lower, operands);
  const handler = lookup(lower);
  if (!handler) throw new AsmError(`unknown mnemonic \`${lower}' -- \`${statement()}'`);
  try {
    const ops = new Operands(operands, ctx);
    const insn = handler(ops, lower);
    ops.finish();
    return insn;
  } catch (e) {
    if (e instanceof OperandError) {
      const where = e.operand === undefined ? "" : ` at operand ${e.operand}`;
      throw new AsmError(`${e.detail}${where} -- \`${statement()}'`);
    }
    throw e;
  }
}
