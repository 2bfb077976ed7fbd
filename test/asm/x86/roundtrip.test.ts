// SPDX-License-Identifier: MIT
//
// Disassembly round trip: the source the decoder prints for every
// instruction of the golden files assembles back to exactly its bytes, and
// only encodings no AT&T spelling reaches fall back to .byte.

import { describe, expect, it } from "vitest";
import { x86Backend } from "../../../asm/x86/index.ts";
import { CORPUS_FILES } from "../golden/regenerate-x86.mjs";
import { assembleAt, hex } from "./assemble.ts";
import { binarySymbolizer, fromHex, imageSymbolizer, readGolden, type CorpusGoldens, type DecodeGolden, type FillGolden } from "./support.ts";

function roundTrip(bytes: Uint8Array, offset: number, address: bigint, names: typeof binarySymbolizer): { source: string; error?: string } {
  const d = x86Backend.decode(bytes, offset, address, names);
  const own = hex(bytes.subarray(offset, offset + d.length));
  try {
    const again = hex(assembleAt(d.source, address, (n) => names.resolve(n)));
    return again === own ? { source: d.source } : { source: d.source, error: `${own}: ${d.source} gives ${again}` };
  } catch (e) {
    return { source: d.source, error: `${own}: ${d.source}: ${(e as Error).message}` };
  }
}

describe.each(CORPUS_FILES)("corpus %s", (file) => {
  const golden = readGolden<CorpusGoldens>("corpus.json")[file]!;
  const base = BigInt(golden.base);
  const image = fromHex(golden.bytes);
  const names = imageSymbolizer(golden.symbols.map((s) => ({ name: s.name, address: base + BigInt(s.offset) })));

  it("every instruction GNU as wrote has a source spelling that gives its bytes back", () => {
    const wrong: string[] = [];
    for (const ins of golden.instructions) {
      const r = roundTrip(image, ins.offset, base + BigInt(ins.offset), names);
      if (r.error) wrong.push(r.error);
      else if (r.source.startsWith(".byte")) wrong.push(`${ins.bytes}: ${ins.text} fell back to ${r.source}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("decoded byte strings", () => {
  const golden = readGolden<DecodeGolden>("decode.json");

  it("reassemble to the same bytes, through .byte where no spelling gives them", () => {
    const wrong: string[] = [];
    let spelled = 0;
    for (const c of [...golden.floor, ...golden.outside]) {
      const r = roundTrip(fromHex(c.hex + golden.filler), 0, 0x1000n, binarySymbolizer);
      if (r.error) wrong.push(r.error);
      if (!r.source.startsWith(".byte")) spelled++;
    }
    expect(wrong).toEqual([]);
    // Most of the floor has a spelling; the rest are %riz, redundant prefixes and immediates wider than needed.
    expect(spelled).toBeGreaterThan(golden.floor.length * 0.7);
  });

  it("the long NOPs of the code fill keep their form", () => {
    const fill = readGolden<FillGolden>("fill.json").find((f) => f.size === 200)!;
    const bytes = fromHex(fill.bytes);
    const wrong: string[] = [];
    for (let offset = 0; offset < bytes.length; ) {
      const r = roundTrip(bytes, offset, 0x1000n + BigInt(offset), binarySymbolizer);
      if (r.error) wrong.push(r.error);
      offset += x86Backend.decode(bytes, offset, 0x1000n + BigInt(offset), binarySymbolizer).length;
    }
    expect(wrong).toEqual([]);
  });
});
