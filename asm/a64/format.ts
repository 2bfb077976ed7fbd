// SPDX-License-Identifier: MIT
//
// Printing a decoded instruction the way aarch64-linux-gnu-objdump -d
// (binutils 2.40) does after the address and the word: the mnemonic, a tab,
// operands joined by ", ", then any comment ("\t// #12", "  // b.any").
// The same record prints as source for the assembler, where PC-relative
// targets become names and comments go.

import type { Decoded, Symbolizer } from "../backend.ts";

/** An operand: text as objdump prints it, or a PC-relative target address. */
export type Operand = string | { target: bigint };

/** One decoded instruction before printing. */
export interface Insn {
  mnemonic: string;
  operands: Operand[];
  /** objdump's comment, with its separator ("\t// ..." or "  // ..."). */
  comment?: string;
  /** Source to use instead of the printed form, where objdump's text would not assemble to the same word. */
  source?: string;
}

export const hex = (v: number | bigint) => "0x" + v.toString(16);

/** "#0x1f" */
export const immHex = (v: number | bigint) => "#" + hex(v);

/** "#-8" */
export const immDec = (v: number | bigint) => "#" + v.toString();

const wordHex = (word: number) => "0x" + (word >>> 0).toString(16).padStart(8, "0");

/**
 * Source for a word that objdump decodes although some bits the Arm ARM
 * says should be fixed are not (SBO/SBZ fields, ignored immediate bits):
 * no instruction syntax reaches it, so the source is the word itself.
 */
export const instSource = (word: number) => `.inst ${wordHex(word)}`;

/** The word objdump prints for what it cannot decode, and the directive that assembles it. */
export function undefinedInsn(word: number): Decoded {
  return { length: 4, text: `.inst\t${wordHex(word)} ; undefined`, source: instSource(word), unknown: true };
}

export function render(insn: Insn, names: Symbolizer): Decoded {
  const printed = insn.operands.map((op) => (typeof op === "string" ? op : names.objdump(op.target)));
  const text = (printed.length ? `${insn.mnemonic}\t${printed.join(", ")}` : insn.mnemonic) + (insn.comment ?? "");
  let source = insn.source;
  if (source === undefined) {
    const ops = insn.operands.map((op) => (typeof op === "string" ? op.trimEnd() : names.source(op.target)));
    source = ops.length ? `${insn.mnemonic} ${ops.join(", ")}` : insn.mnemonic;
  }
  return { length: 4, text, source };
}
