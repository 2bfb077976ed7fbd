// SPDX-License-Identifier: MIT
//
// What the A64 tests share: the golden files from GNU binutils, a minimal
// assembler context (numbers and .equ-style symbols known, labels not, as on
// a GNU as line), fixups resolved against a symbol table, and an objdump-like
// symbolizer built from the names objdump printed in the goldens.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AsmError, type AsmContext, type Symbolizer } from "../../../asm/backend.ts";
import { evaluate, parseExpr } from "../../../asm/expr.ts";
import { a64Backend } from "../../../asm/a64/index.ts";

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), "..", "golden", "aarch64");

export function golden<T>(name: string): T {
  return JSON.parse(readFileSync(join(GOLDEN, name), "utf8")) as T;
}

export interface CorpusEntry { line: number; source: string; address: string; word: string; text: string }
export interface CorpusFile { file: string; asFlags: string[]; symbols: Record<string, string>; entries: CorpusEntry[] }

/** A context where only `known` symbols have values while the line is parsed. */
export function context(known: Record<string, bigint> = {}): AsmContext {
  return {
    parseExpr: (text) => parseExpr(text),
    knownValue: (e) => evaluate(e, (name) => known[name]),
  };
}

export function splitStatement(line: string): [string, string] {
  const m = /^(\S+)\s*(.*)$/.exec(line.trim());
  return [m?.[1] ?? "", m?.[2] ?? ""];
}

export type Outcome = { word: string } | { error: string };

/**
 * Assembles one statement at `address` and resolves its fixups with
 * `symbols` (the final addresses and values), as the core does after layout.
 */
export function assembleAt(line: string, address: bigint, symbols: Record<string, bigint> = {}, known: Record<string, bigint> = {}): Outcome {
  const [mnemonic, operands] = splitStatement(line);
  // .inst is the core's directive; the decoder gives it as source for words no instruction syntax reaches.
  if (mnemonic === ".inst") return { word: BigInt(operands).toString(16).padStart(8, "0") };
  try {
    const insn = a64Backend.assemble(mnemonic, operands, context(known));
    const bytes = insn.bytes.slice();
    for (const f of insn.fixups) {
      const value = evaluate(f.expr, (name) => symbols[name] ?? known[name]);
      if (value === undefined) return { error: `unresolved fixup in \`${line}'` };
      const message = f.apply(bytes, value, address);
      if (message !== undefined) return { error: message };
    }
    return { word: wordHex(bytes) };
  } catch (e) {
    if (e instanceof AsmError) return { error: e.message };
    throw e;
  }
}

export function wordHex(bytes: Uint8Array, offset = 0): string {
  const w = (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
  return w.toString(16).padStart(8, "0");
}

export function wordBytes(hex: string): Uint8Array {
  const w = parseInt(hex, 16);
  return new Uint8Array([w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff]);
}

/** objdump's "40080020 <fwd+0x4>" for every address objdump printed that way in `texts`; source names are plain addresses. */
export function symbolizerFrom(texts: Iterable<string>): Symbolizer {
  const names = new Map<bigint, string>();
  for (const t of texts) {
    for (const m of t.matchAll(/\b([0-9a-f]+) <([^>]+)>/g)) names.set(BigInt("0x" + m[1]), `${m[1]} <${m[2]}>`);
  }
  return {
    objdump: (a) => names.get(a) ?? a.toString(16),
    source: (a) => "0x" + a.toString(16),
  };
}

export function symbolTable(symbols: Record<string, string>): Record<string, bigint> {
  return Object.fromEntries(Object.entries(symbols).map(([k, v]) => [k, BigInt(v)]));
}
