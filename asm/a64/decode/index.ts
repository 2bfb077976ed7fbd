// SPDX-License-Identifier: MIT
//
// The A64 disassembler: the top-level decode by op0<28:25> (DDI0487 C4.1,
// "A64 instruction set encoding"), then printing as objdump does. A word
// outside the subset, or unallocated, prints as objdump prints what it
// cannot decode: ".inst 0x... ; undefined".

import type { Decoded, Symbolizer } from "../../backend.ts";
import { readWord } from "../fixups.ts";
import { render, undefinedInsn } from "../format.ts";
import { decodeDataProcessingImmediate } from "./dataproc-imm.ts";
import { decodeDataProcessingRegister } from "./dataproc-reg.ts";
import type { DecodeContext, DecodeResult } from "./fields.ts";
import { decodeLoadStore } from "./loadstore.ts";
import { decodeBranchSystem } from "./system.ts";

/** Decodes one instruction word at `address`. */
export function decodeWord(w: number, ctx: DecodeContext): DecodeResult {
  const op0 = (w >>> 25) & 0xf;
  if ((op0 & 0b1110) === 0b1000) return decodeDataProcessingImmediate(w, ctx);
  if ((op0 & 0b1110) === 0b1010) return decodeBranchSystem(w, ctx);
  if ((op0 & 0b0101) === 0b0100) return decodeLoadStore(w, ctx);
  if ((op0 & 0b0111) === 0b0101) return decodeDataProcessingRegister(w);
  return undefined;
}

export function decodeA64(bytes: Uint8Array, offset: number, address: bigint, names: Symbolizer): Decoded {
  const left = bytes.length - offset;
  if (left < 4) {
    // A trailing fragment of a word: objdump shows such bytes as data.
    const list = Array.from(bytes.subarray(offset), (b) => "0x" + b.toString(16).padStart(2, "0")).join(", ");
    return { length: Math.max(left, 1), text: `.byte\t${list}`, source: `.byte ${list}`, unknown: true };
  }
  const w = readWord(bytes, offset);
  try {
    const insn = decodeWord(w, { address });
    return insn ? render(insn, names) : undefinedInsn(w);
  } catch {
    // A decoder bug must not stop a disassembly; the word is shown as data.
    return undefinedInsn(w);
  }
}
