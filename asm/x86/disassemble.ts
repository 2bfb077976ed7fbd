// SPDX-License-Identifier: MIT
//
// One instruction from bytes to the two texts of Decoded, with the source
// text checked by assembling it again: where the bytes hold an encoding no
// spelling reaches (imm32 where imm8 would do, 87 C3 for an xchg GNU as
// writes as 93, prefixes in an order GNU as does not emit), the source falls
// back to .byte, so that it always reassembles to the same bytes.

import type { AsmContext, Decoded, Symbolizer } from "../backend.ts";
import { evaluate, parseExpr } from "../expr.ts";
import { decodeInsn, type DecodedInsn } from "./decode.ts";
import { assemble } from "./encode.ts";
import { objdumpText, sourceText } from "./format.ts";
import { LEGACY_PREFIXES, rexName } from "./prefixes.ts";

const byteList = (bytes: Uint8Array) => Array.from(bytes, (b) => `0x${b.toString(16)}`).join(",");

/** A symbol the check below stands in for the symbolizer's name of a branch or RIP-relative target. */
const TARGET = "__x86_target";

/** Whether `source` assembles to exactly `bytes` at `address`, with TARGET at `target`. */
function reassembles(source: string, bytes: Uint8Array, address: bigint, target: bigint | undefined): boolean {
  const lookup = (name: string) => (name === TARGET ? target : undefined);
  const ctx: AsmContext = { parseExpr: (text) => parseExpr(text), knownValue: (e) => evaluate(e, () => undefined) };
  try {
    const m = /^(\S+)\s*([\s\S]*)$/.exec(source)!;
    const insn = assemble(m[1]!, m[2]!, ctx);
    const out = Uint8Array.from(insn.bytes);
    for (const fixup of insn.fixups) {
      const value = evaluate(fixup.expr, lookup);
      if (value === undefined || fixup.apply(out, value, address) !== undefined) return false;
    }
    return out.length === bytes.length && out.every((b, i) => b === bytes[i]);
  } catch {
    return false;
  }
}

/** The address a branch or RIP-relative operand names, if any. */
function targetOf(insn: DecodedInsn): bigint | undefined {
  for (const o of insn.operands) {
    if (o.kind === "rel") return o.target;
    if (o.kind === "mem" && o.mem.rip) return o.mem.rip.target;
  }
  return undefined;
}

function unknown(byte: number): Decoded {
  const text = `.byte 0x${byte.toString(16)}`;
  return { length: 1, text, source: text, unknown: true };
}

export function decode(bytes: Uint8Array, offset: number, address: bigint, names: Symbolizer): Decoded {
  if (offset >= bytes.length) return unknown(0);
  try {
    return decodeOne(bytes, offset, address, names);
  } catch {
    // The contract says never throw: a bug here shows as a .byte, not a crash of the listing.
    return unknown(bytes[offset]!);
  }
}

function decodeOne(bytes: Uint8Array, offset: number, address: bigint, names: Symbolizer): Decoded {
  const insn = decodeInsn(bytes, offset, address);
  if (!insn) return lonePrefix(bytes, offset) ?? unknown(bytes[offset]!);
  const own = bytes.subarray(offset, offset + insn.length);
  const text = objdumpText(insn, (a) => names.objdump(a));
  const extra = hiddenPrefixes(insn).find((words) => {
    const checked = sourceText(insn, () => TARGET, words);
    return checked !== undefined && reassembles(checked, own, address, targetOf(insn));
  });
  const source = extra ? sourceText(insn, (a) => names.source(a), extra)! : `.byte ${byteList(own)}`;
  return { length: insn.length, text, source };
}

/**
 * Prefix words to try before the source: none, then the ones objdump counts
 * as used but GNU as would not emit for the plain spelling (REX.B with a
 * memory operand that has no base, 66 on MOVSXD with REX.W).
 */
function hiddenPrefixes(insn: DecodedInsn): string[][] {
  const tries: string[][] = [[]];
  const rexUsed = insn.rex !== 0 && insn.rex === insn.rexUsed;
  const data16 = insn.prefixes.some((p) => p.byte === 0x66 && p.used) && !insn.form.prefix;
  if (rexUsed) tries.push([rexName(insn.rex).toLowerCase()]);
  if (data16) tries.push(["data16"]);
  if (rexUsed && data16) tries.push(["data16", rexName(insn.rex).toLowerCase()]);
  return tries;
}

/** objdump prints a prefix with nothing after it (the end of the section) by name: "lock", "data16", "rex.W". */
function lonePrefix(bytes: Uint8Array, offset: number): Decoded | undefined {
  let end = offset;
  while (end < bytes.length && (LEGACY_PREFIXES[bytes[end]!] || (bytes[end]! & 0xf0) === 0x40)) end++;
  if (end !== bytes.length) return undefined;
  const byte = bytes[offset]!;
  const text = LEGACY_PREFIXES[byte]?.name ?? rexName(byte);
  // GNU as takes every name objdump prints for a prefix as a prefix word.
  return { length: 1, text, source: text.toLowerCase() };
}
