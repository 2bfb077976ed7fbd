// SPDX-License-Identifier: MIT
//
// The first steps of assembling a statement (gas/config/tc-i386.c
// parse_insn): prefix words and pseudo-prefixes before the mnemonic, then the
// table rows the mnemonic reaches, directly or as a stem and a size suffix.

import { AsmError, type Instruction } from "../backend.ts";
import {
  LEGACY_PREFIXES, PREFIX_WORDS, PSEUDO_PREFIXES, SLOT_ORDER, rexWord,
  type PrefixSlot, type PseudoPrefix,
} from "./prefixes.ts";
import { SUFFIX_SIZE, type Size } from "./registers.ts";
import { BY_MNEMONIC, type Form } from "./tables.ts";

/** One statement split into its prefix words, mnemonic and operand text. */
export interface Statement {
  text: string;
  prefixes: Partial<Record<PrefixSlot, number>>;
  /** The word that gave the REP prefix, for GNU as's message. */
  repWord?: string;
  notrack?: boolean;
  rex: number;
  pseudo: Set<PseudoPrefix>;
  mnemonic: string;
  operands: string;
}

export function splitStatement(mnemonic: string, operands: string): Statement {
  const st: Statement = { text: "", prefixes: {}, rex: 0, pseudo: new Set(), mnemonic: "", operands: "" };
  let word = mnemonic.trim();
  let rest = operands.trim();
  for (;;) {
    const lower = word.toLowerCase();
    if (word.startsWith("{")) {
      const close = word.indexOf("}");
      const name = word.slice(1, close).toLowerCase() as PseudoPrefix;
      if (close < 0 || !PSEUDO_PREFIXES.includes(name)) throw new AsmError(`unknown pseudo-prefix \`${word.slice(0, close + 1 || undefined)}'`);
      st.pseudo.add(name);
      word = word.slice(close + 1);
    } else if (lower === "notrack") {
      // CET's no-track prefix is the DS override byte on an indirect branch (SDM Vol.1 18.3.8).
      if (st.prefixes.seg !== undefined) throw new AsmError("same type of prefix used twice");
      st.prefixes.seg = 0x3e;
      st.notrack = true;
      word = "";
    } else if (PREFIX_WORDS[lower] !== undefined) {
      const byte = PREFIX_WORDS[lower]!;
      const slot = LEGACY_PREFIXES[byte]!.slot;
      if (st.prefixes[slot] !== undefined) throw new AsmError("same type of prefix used twice");
      st.prefixes[slot] = byte;
      if (slot === "rep") st.repWord = lower;
      word = "";
    } else if (rexWord(lower) !== undefined) {
      if (st.rex) throw new AsmError("same type of prefix used twice");
      st.rex = rexWord(lower)!;
      word = "";
    } else break;
    if (word === "") {
      if (rest === "") break;
      const m = /^(\S+)\s*([\s\S]*)$/.exec(rest)!;
      word = m[1]!;
      rest = m[2]!;
    }
  }
  st.mnemonic = word;
  st.operands = rest;
  st.text = `${word} ${rest}`.trim();
  return st;
}

/** The rows a mnemonic reaches: exactly, or as a stem and a size suffix (addl = add + l). */
export interface Candidates {
  stem: string;
  forms: Form[];
  suffix?: Size;
  /** The suffix letter as written. */
  suffixLetter?: string;
}

export function lookup(mnemonic: string): Candidates | undefined {
  const name = mnemonic.toLowerCase();
  const exact = BY_MNEMONIC.get(name);
  if (exact) return { stem: name, forms: exact };
  const letter = name.slice(-1);
  const suffix = SUFFIX_SIZE[letter];
  const forms = suffix ? BY_MNEMONIC.get(name.slice(0, -1)) : undefined;
  if (forms && suffix) return { stem: name.slice(0, -1), forms, suffix, suffixLetter: letter };
  return undefined;
}

/** Bytes for a statement of prefixes alone (`lock` on a line of its own). */
export function prefixesOnly(st: Statement): Instruction {
  if (st.pseudo.size) throw new AsmError("pseudo prefix without instruction");
  const bytes: number[] = [];
  for (const slot of SLOT_ORDER) if (st.prefixes[slot] !== undefined) bytes.push(st.prefixes[slot]!);
  if (st.rex) bytes.push(st.rex);
  return { bytes: Uint8Array.from(bytes), fixups: [] };
}
