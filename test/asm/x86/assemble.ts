// SPDX-License-Identifier: MIT
//
// Whole sources through the real assembler core with the x86-64 backend, in
// the shape the backend's tests want: the .text bytes, each source line's
// bytes, and the labels. The first error is thrown as "line: message". And
// assembleAt, one statement at an address with symbols from a callback,
// which is what a line of disassembler source needs.

import { AsmError, type AsmContext, type Instruction } from "../../../asm/backend.ts";
import { evaluate, parseExpr, type Expr } from "../../../asm/expr.ts";
import { assembleWith } from "../../../asm/assembler.ts";
import { x86Backend } from "../../../asm/x86/index.ts";

export interface Assembled {
  bytes: Uint8Array;
  /** Source line (1-based) → where its bytes are. */
  lines: Map<number, { offset: number; length: number }>;
  labels: Map<string, bigint>;
}

/** Assembles `source` with .text at `base`. */
export function assembleSource(source: string, base: bigint): Assembled {
  const r = assembleWith(x86Backend, { sources: [{ path: "source.s", text: source }], sectionStarts: new Map([[".text", base]]) });
  const error = r.diagnostics.find((d) => d.severity === "Error");
  if (error || !r.program) throw new AsmError(`${error?.loc.line}: ${error?.message}`);
  const text = r.program.sections.find((s) => s.name === ".text");
  const lines = new Map<number, { offset: number; length: number }>();
  for (const e of r.program.lines ?? []) {
    const offset = Number(e.address - base);
    const prev = lines.get(e.line);
    lines.set(e.line, prev ? { offset: prev.offset, length: offset + e.size - prev.offset } : { offset, length: e.size });
  }
  const labels = new Map(r.program.symbols.map((s) => [s.name, s.value]));
  return { bytes: text?.bytes ?? new Uint8Array(0), lines, labels };
}

/**
 * Assembles one statement at `address`, resolving symbols from `symbols`
 * (labels in the same section, so a branch to them relaxes like one to a
 * label): what the core does with a line of disassembler source.
 */
export function assembleAt(statement: string, address: bigint, symbols: (name: string) => bigint | undefined): Uint8Array {
  const [, word, rest] = /^(\S+)\s*([\s\S]*)$/.exec(statement.trim())!;
  const ctx: AsmContext = { parseExpr: (t) => parseExpr(t), knownValue: (e) => evaluate(e, () => undefined) };
  if (word === ".byte") return Uint8Array.from(rest!.split(",").map((t) => Number(BigInt.asUintN(8, ctx.knownValue(ctx.parseExpr(t))!))));
  const insn = x86Backend.assemble(word!, rest!, ctx);
  const lookup = (name: string) => (name === "." ? address : symbols(name));
  let enc: { bytes: Uint8Array; fixups: Instruction["fixups"] } = insn;
  if (insn.relax) {
    const value = evaluate(insn.relax.target, lookup);
    if (value === undefined || !insn.relax.fits(value, address)) enc = insn.relax.long;
  }
  const out = Uint8Array.from(enc.bytes);
  for (const f of enc.fixups) {
    const value = evaluate(f.expr, lookup);
    if (value === undefined) throw new Error(`unresolved ${JSON.stringify(f.expr as Expr)}`);
    const error = f.apply(out, value, address);
    if (error) throw new AsmError(error);
  }
  return out;
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
