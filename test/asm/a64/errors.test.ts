// SPDX-License-Identifier: MIT
//
// Statements GNU as refuses, with GNU as's own message (errors.json, from
// aarch64/errors.s): unknown mnemonics, operands of the wrong kind,
// immediates out of range, bad bitmask immediates, unknown system registers
// and operations.

import { describe, expect, it } from "vitest";
import { AsmError } from "../../../asm/backend.ts";
import { a64Backend } from "../../../asm/a64/index.ts";
import { context, golden, splitStatement } from "./support.ts";

const errors = golden<{ line: number; source: string; message: string }[]>("errors.json");

function messageOf(source: string): string {
  const [mnemonic, operands] = splitStatement(source);
  try {
    a64Backend.assemble(mnemonic, operands, context());
  } catch (e) {
    if (e instanceof AsmError) return e.message;
    throw e;
  }
  return "(accepted)";
}

describe("errors as GNU as reports them", () => {
  it.each(errors)("errors.s:$line $source", ({ source, message }) => {
    expect(messageOf(source)).toBe(message);
  });
});
