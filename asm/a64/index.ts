// SPDX-License-Identifier: MIT
//
// The A64 backend: GNU as syntax in, objdump -d text out.
//
//   encode/   one table from mnemonic to encoder, by instruction class
//   decode/   the decoder, by the top-level encoding groups of DDI0487 C4.1
//   format.ts how objdump prints an instruction (and how source does)
//   fixups.ts PC-relative, :lo12: and late-immediate fields
//   bitmask.ts, conditions.ts, registers.ts, sysregs.ts, sysops.ts  the tables
//
// Decoding is deliberately narrower than objdump: a word outside the subset
// the encoder covers prints as ".inst 0x... ; undefined" rather than in a
// form that might differ from objdump's.

import type { Backend } from "../backend.ts";
import { decodeA64 } from "./decode/index.ts";
import { assembleA64 } from "./encode/index.ts";

/** NOP (DDI0487 C6.2 "NOP"). */
const NOP = [0x1f, 0x20, 0x03, 0xd5];

/**
 * Alignment padding in code as GNU as writes it (aarch64_handle_align):
 * size MOD 4 zero bytes first, then NOPs.
 */
function codeFill(size: number): Uint8Array {
  const out = new Uint8Array(size);
  const zeros = size & 3;
  for (let i = zeros; i + 4 <= size; i += 4) out.set(NOP, i);
  return out;
}

export const a64Backend: Backend = {
  arch: "aarch64",
  elfMachine: 183,
  wordSize: 4,
  alignIsPowerOfTwo: true,
  assemble: assembleA64,
  codeFill,
  decode: decodeA64,
};
