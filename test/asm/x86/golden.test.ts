// SPDX-License-Identifier: MIT
//
// The x86-64 backend against what GNU as 2.40, ld and objdump produced for
// the same inputs (test/asm/golden/x86_64/, made by
// test/asm/golden/regenerate-x86.mjs): the bytes of every corpus line, the
// text of every instruction objdump found, the code fill, and snippets whose
// bytes depend on more than one line.

import { describe, expect, it } from "vitest";
import { x86Backend } from "../../../asm/x86/index.ts";
import { CORPUS_FILES } from "../golden/regenerate-x86.mjs";
import { assembleSource, hex } from "./assemble.ts";
import { fromHex, imageSymbolizer, outsideFloor, readCorpus, readGolden, type CorpusGoldens, type DecodeGolden, type FillGolden, type SnippetGolden } from "./support.ts";

const corpus = readGolden<CorpusGoldens>("corpus.json");

describe.each(CORPUS_FILES)("corpus %s", (file) => {
  const golden = corpus[file]!;
  const base = BigInt(golden.base);
  const source = readCorpus(file);
  const ours = assembleSource(source, base);
  const image = fromHex(golden.bytes);
  const names = imageSymbolizer(golden.symbols.map((s) => ({ name: s.name, address: base + BigInt(s.offset) })));

  it("assembles every line to GNU as's bytes", () => {
    const wrong: string[] = [];
    for (const line of golden.lines) {
      const expected = golden.bytes.slice(line.offset * 2, (line.offset + line.length) * 2);
      const got = ours.lines.get(line.line);
      const actual = got ? hex(ours.bytes.subarray(got.offset, got.offset + got.length)) : "";
      if (actual !== expected || got?.offset !== line.offset) wrong.push(`${line.line}: ${line.source.trim()}: ${actual} @${got?.offset} != ${expected} @${line.offset}`);
    }
    expect(wrong).toEqual([]);
    expect(hex(ours.bytes)).toBe(golden.bytes);
  });

  it("decodes every instruction as objdump -d prints it", () => {
    const wrong: string[] = [];
    for (const ins of golden.instructions) {
      const d = x86Backend.decode(image, ins.offset, base + BigInt(ins.offset), names);
      if (d.length * 2 !== ins.bytes.length || d.text !== ins.text) wrong.push(`${ins.bytes}: ${d.text} (${d.length}) != ${ins.text}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("decoding byte strings", () => {
  const golden = readGolden<DecodeGolden>("decode.json");
  const bytesOf = (c: { hex: string }) => fromHex(c.hex + golden.filler);

  it("decodes the floor as objdump does, and leaves only non-floor encodings undecoded", () => {
    const wrong: string[] = [];
    for (const c of golden.floor) {
      const d = x86Backend.decode(bytesOf(c), 0, 0n, { objdump: (a) => `0x${a.toString(16)}`, source: (a) => `T_${a.toString(16)}` });
      if (d.unknown) {
        if (!outsideFloor(c.text, c.hex)) wrong.push(`${c.hex}: undecoded, objdump: ${c.text}`);
        else if (d.length !== 1 || d.text !== `.byte 0x${c.hex.slice(0, 2).replace(/^0/, "")}`) wrong.push(`${c.hex}: ${d.text}`);
      } else if (d.length !== c.length || d.text !== c.text) {
        wrong.push(`${c.hex}: ${d.text} (${d.length}) != ${c.text} (${c.length})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("prints encodings outside the floor as one .byte", () => {
    for (const c of golden.outside) {
      const d = x86Backend.decode(bytesOf(c), 0, 0n, { objdump: (a) => a.toString(16), source: (a) => a.toString(16) });
      expect({ hex: c.hex, unknown: d.unknown, length: d.length }).toEqual({ hex: c.hex, unknown: true, length: 1 });
      expect(d.source).toBe(d.text);
    }
  });
});

describe("code alignment padding", () => {
  it.each(readGolden<FillGolden>("fill.json"))("is GNU as's for $size bytes", ({ size, bytes }) => {
    expect(hex(x86Backend.codeFill(size, 0x100000n))).toBe(bytes);
  });
});

describe("snippets", () => {
  it.each(readGolden<SnippetGolden>("snippets.json"))("$name", ({ source, bytes }) => {
    expect(hex(assembleSource(source, 0x100000n).bytes)).toBe(bytes);
  });
});
