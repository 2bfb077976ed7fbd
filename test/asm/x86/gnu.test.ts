// SPDX-License-Identifier: MIT
//
// The x86-64 backend against GNU binutils itself, when as, ld and objdump
// are installed (otherwise these tests report themselves skipped; the golden
// tests keep covering the committed inputs):
//
// - the golden files are what binutils produces today;
// - thousands of random statements (a fixed seed) assemble to GNU as's
//   bytes, are refused where GNU as refuses them, decode as objdump prints
//   them, and their decoded source assembles back to the same bytes.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AsmContext } from "../../../asm/backend.ts";
import { evaluate, parseExpr } from "../../../asm/expr.ts";
import { x86Backend } from "../../../asm/x86/index.ts";
import { GOLDEN_DIR, binutilsAvailable, corpusGolden, generate, gnuWarnings, objdumpFirst, stringify } from "../golden/regenerate-x86.mjs";
import { fuzzBytes, fuzzStatements } from "./fuzz.ts";
import { assembleAt, assembleSource, hex } from "./assemble.ts";
import { binarySymbolizer, fromHex, imageSymbolizer, outsideFloor } from "./support.ts";

const available = binutilsAvailable();
if (!available) console.warn("x86 backend: as/ld/objdump not found, skipping the tests against GNU binutils");

const ctx: AsmContext = { parseExpr: (t) => parseExpr(t), knownValue: (e) => evaluate(e, () => undefined) };
const accepts = (line: string) => {
  const [, mnemonic, operands] = /^(\S+)\s*(.*)$/.exec(line)!;
  try {
    x86Backend.assemble(mnemonic!, operands!, ctx);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!available)("against GNU binutils", () => {
  it("the golden files are current (rerun test/asm/golden/regenerate-x86.mjs if not)", () => {
    const files = generate();
    for (const [name, value] of Object.entries(files)) {
      expect(`${stringify(value)}\n`, name).toBe(readFileSync(join(GOLDEN_DIR, name), "utf8"));
    }
  });

  describe.each([1, 2, 3])("random statements, seed %i", (seed) => {
    const statements = fuzzStatements(seed, 3000);
    // GNU as decides which statements are valid; the rest must be refused here too. Statements GNU as
    // only warns about (an immediate cut short, a guessed size) are left out: this assembler refuses most.
    const messages = gnuWarnings(`${statements.join("\n")}\n`);
    const refused = new Set(messages.filter((m) => m.kind === "Error").map((m) => m.line - 1));
    const warned = new Set(messages.filter((m) => m.kind === "Warning").map((m) => m.line - 1));
    const valid = statements.filter((_, i) => !refused.has(i) && !warned.has(i));
    const golden = corpusGolden(`${valid.join("\n")}\n`);
    const base = BigInt(golden.base);

    it("refuses what GNU as refuses", () => {
      const wrong = [...refused].map((i) => statements[i]!).filter(accepts);
      expect(wrong).toEqual([]);
    });

    it("assembles the rest to GNU as's bytes", () => {
      const ours = assembleSource(`${valid.join("\n")}\n`, base);
      const wrong: string[] = [];
      for (const line of golden.lines) {
        const got = ours.lines.get(line.line);
        const actual = got ? hex(ours.bytes.subarray(got.offset, got.offset + got.length)) : "";
        const expected = golden.bytes.slice(line.offset * 2, (line.offset + line.length) * 2);
        if (actual !== expected) wrong.push(`${line.source}: ${actual} != ${expected}`);
      }
      expect(wrong).toEqual([]);
    });

    it("decodes as objdump prints, and the source goes back to the same bytes", () => {
      const image = fromHex(golden.bytes);
      const names = imageSymbolizer(golden.symbols.map((s) => ({ name: s.name, address: base + BigInt(s.offset) })));
      const wrong: string[] = [];
      for (const ins of golden.instructions) {
        const address = base + BigInt(ins.offset);
        const d = x86Backend.decode(image, ins.offset, address, names);
        if (d.length * 2 !== ins.bytes.length || d.text !== ins.text) wrong.push(`${ins.bytes}: ${d.text} != ${ins.text}`);
        const again = hex(assembleAt(d.source, address, (n) => names.resolve(n)));
        if (again !== ins.bytes) wrong.push(`${ins.bytes}: ${d.source} gives ${again}`);
      }
      expect(wrong).toEqual([]);
    });
  });

  it("random byte strings decode as objdump prints them, or as .byte where it prints something outside the floor", () => {
    const cases = fuzzBytes(1, 20000);
    const reference = objdumpFirst(cases);
    const wrong: string[] = [];
    cases.forEach((hexText, i) => {
      const bytes = fromHex(hexText);
      const d = x86Backend.decode(bytes, 0, 0n, binarySymbolizer);
      const r = reference[i]!;
      if (d.unknown ? !outsideFloor(r.text, hexText) : d.text !== r.text || d.length !== r.length) {
        wrong.push(`${hexText}: ${d.text} (${d.length}) != ${r.text} (${r.length})`);
      }
      const again = hex(assembleAt(d.source, 0n, (n) => binarySymbolizer.resolve(n)));
      if (again !== hexText.slice(0, d.length * 2)) wrong.push(`${hexText}: ${d.source} gives ${again}`);
    });
    expect(wrong).toEqual([]);
  });
});
