// SPDX-License-Identifier: MIT
//
// Every instruction line of the A64 corpus against GNU binutils: the word
// GNU as made (after ld resolved labels), objdump -d's text for that word,
// and the round trip decode -> source -> assemble -> the same word.

import { describe, expect, it } from "vitest";
import { a64Backend } from "../../../asm/a64/index.ts";
import { assembleAt, golden, symbolTable, symbolizerFrom, wordBytes, type CorpusFile } from "./support.ts";

const corpus = golden<{ files: CorpusFile[] }>("corpus.json");

describe.each(corpus.files)("$file", ({ file, symbols, entries }) => {
  const table = symbolTable(symbols);
  const names = symbolizerFrom(entries.map((e) => e.text));

  it("assembles each line to GNU as's word", () => {
    const wrong = entries
      .map((e) => ({ ...e, got: assembleAt(e.source, BigInt(e.address), table) }))
      .filter((e) => !("word" in e.got) || e.got.word !== e.word)
      .map((e) => `${file}:${e.line}: ${e.source} -> ${JSON.stringify(e.got)}, GNU as ${e.word}`);
    expect(wrong).toEqual([]);
  });

  it("decodes each word to objdump's text", () => {
    const wrong = entries
      .map((e) => ({ ...e, got: a64Backend.decode(wordBytes(e.word), 0, BigInt(e.address), names) }))
      .filter((e) => e.got.text !== e.text)
      .map((e) => `${e.word} (${e.source}): ${JSON.stringify(e.got.text)}, objdump ${JSON.stringify(e.text)}`);
    expect(wrong).toEqual([]);
  });

  it("assembles each decoded source back to the same word", () => {
    const wrong = entries
      .map((e) => {
        const d = a64Backend.decode(wordBytes(e.word), 0, BigInt(e.address), names);
        return { ...e, source: d.source, got: assembleAt(d.source, BigInt(e.address)) };
      })
      .filter((e) => !("word" in e.got) || e.got.word !== e.word)
      .map((e) => `${e.word}: ${e.source} -> ${JSON.stringify(e.got)}`);
    expect(wrong).toEqual([]);
  });
});
