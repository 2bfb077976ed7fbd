// SPDX-License-Identifier: MIT
//
// The decoder against objdump on words it did not choose: every hint,
// barrier, MSR (immediate) and cache/TLB/AT SYS encoding, and seeded random
// words in each encoding class of the subset (decode.json). A word the
// decoder takes must print exactly as objdump prints it and assemble back to
// itself; a word it leaves undecoded must be one objdump does not decode
// either, or one outside the subset.

import { describe, expect, it } from "vitest";
import { a64Backend } from "../../../asm/a64/index.ts";
import { MNEMONIC_LIST } from "../../../asm/a64/encode/index.ts";
import { assembleAt, golden, symbolizerFrom, wordBytes } from "./support.ts";

const { words } = golden<{ words: [string, string][] }>("decode.json");
const TEXT = 0x40080000n;
const names = symbolizerFrom(words.map(([, text]) => text));
const decoded = words.map(([word, text], k) => {
  const address = TEXT + BigInt(4 * k);
  return { word, text, address, got: a64Backend.decode(wordBytes(word), 0, address, names) };
});

/**
 * objdump mnemonics that name a subset instruction only for some operands:
 * a system register, cache, TLB or translation operation, hint or PSTATE
 * field this decoder does not name. Everything else objdump decodes with a
 * mnemonic of the subset must be decoded.
 */
const PARTIAL = new Set(["mrs", "msr", "sys", "sysl", "tlbi", "dc", "ic", "at", "hint"]);

/** objdump's forms of subset mnemonics that are other instructions: SIMD&FP and SVE registers, DSB nXS (FEAT_XS). */
const OTHER = /\t(?:.*[\s,[{])?(?:[bhsdqvz][0-9]+|p[0-9]+\/)|nxs$/;

describe("decode against objdump", () => {
  it("prints every word it decodes as objdump does", () => {
    const wrong = decoded
      .filter((d) => !d.got.unknown && d.got.text !== d.text)
      .map((d) => `${d.word}: ${JSON.stringify(d.got.text)}, objdump ${JSON.stringify(d.text)}`);
    expect(wrong).toEqual([]);
  });

  it("prints what it does not decode as objdump prints an undefined word", () => {
    const wrong = decoded
      .filter((d) => d.got.unknown && d.got.text !== `.inst\t0x${d.word} ; undefined`)
      .map((d) => `${d.word}: ${JSON.stringify(d.got.text)}`);
    expect(wrong).toEqual([]);
  });

  it("decodes every word objdump decodes to an instruction of the subset", () => {
    const subset = new Set([...MNEMONIC_LIST, ...["b.eq", "b.ne", "b.cs", "b.cc", "b.mi", "b.pl", "b.vs", "b.vc", "b.hi", "b.ls", "b.ge", "b.lt", "b.gt", "b.le", "b.al", "b.nv"]]);
    const missed = decoded
      .filter((d) => d.got.unknown)
      .map((d) => ({ ...d, mnemonic: d.text.split("\t")[0]! }))
      .filter((d) => subset.has(d.mnemonic) && !PARTIAL.has(d.mnemonic) && !OTHER.test(d.text))
      .map((d) => `${d.word}: objdump ${JSON.stringify(d.text)}`);
    expect(missed).toEqual([]);
  });

  it("assembles the source of every decoded word back to that word", () => {
    const wrong = decoded
      .filter((d) => !d.got.unknown)
      .map((d) => ({ ...d, back: assembleAt(d.got.source, d.address) }))
      .filter((d) => !("word" in d.back) || d.back.word !== d.word)
      .map((d) => `${d.word}: ${d.got.source} -> ${JSON.stringify(d.back)}`);
    expect(wrong).toEqual([]);
  });
});
