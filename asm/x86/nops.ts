// SPDX-License-Identifier: MIT
//
// Alignment padding in code, as GNU as 2.40 writes it for x86-64
// (gas/config/tc-i386.c i386_generate_nops with the generic64 tuning).
//
// The padding is the longest NOP (11 bytes: two 66 prefixes, a CS override
// and NOPW with a disp32) repeated, then one NOP for the rest. Beyond seven
// long NOPs GNU as jumps over the padding instead: a 2-byte JMP rel8 when the
// rest fits in a signed byte, else a 5-byte JMP rel32, then the NOPs.

/** alt_patt in tc-i386.c: the recommended multi-byte NOPs (SDM Vol.2B "NOP", Table 4-12) and longer ones. */
const NOPS: readonly number[][] = [
  [0x90],
  [0x66, 0x90],
  [0x0f, 0x1f, 0x00],
  [0x0f, 0x1f, 0x40, 0x00],
  [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
  [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];
const MAX_NOP = NOPS.length;
/** Up to this many long NOPs before GNU as jumps over the padding. */
const MAX_NUMBER_OF_NOPS = 7;

/** i386_output_nops: the longest NOP repeated, then one NOP for the rest. */
function outputNops(out: Uint8Array, at: number, count: number): void {
  let pos = at;
  const end = at + count;
  while (end - pos >= MAX_NOP) {
    out.set(NOPS[MAX_NOP - 1]!, pos);
    pos += MAX_NOP;
  }
  if (end > pos) out.set(NOPS[end - pos - 1]!, pos);
}

/** `size` bytes of padding for an alignment in a code section. */
export function codeFill(size: number): Uint8Array {
  const out = new Uint8Array(size);
  if (Math.floor(size / MAX_NOP) <= MAX_NUMBER_OF_NOPS) {
    outputNops(out, 0, size);
    return out;
  }
  const rest8 = size - 2;
  if (rest8 <= 127) {
    out[0] = 0xeb;
    out[1] = rest8;
    outputNops(out, 2, rest8);
    return out;
  }
  const rest32 = size - 5;
  out[0] = 0xe9;
  new DataView(out.buffer).setUint32(1, rest32, true);
  outputNops(out, 5, rest32);
  return out;
}
