// SPDX-License-Identifier: MIT
//
// Shared pieces of the x86-64 backend tests: the golden files GNU binutils
// produced (test/asm/golden/regenerate-x86.mjs) and symbolizers that name
// addresses the way objdump does.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Symbolizer } from "../../../asm/backend.ts";
import { CORPUS_DIR, GOLDEN_DIR, type CorpusGolden } from "../golden/regenerate-x86.mjs";

export const readGolden = <T>(name: string): T => JSON.parse(readFileSync(join(GOLDEN_DIR, name), "utf8")) as T;
export const readCorpus = (file: string) => readFileSync(join(CORPUS_DIR, file), "utf8");

export interface DecodeGolden {
  filler: string;
  floor: { hex: string; length: number; text: string }[];
  outside: { hex: string; length: number; text: string }[];
}
export type CorpusGoldens = Record<string, CorpusGolden>;
export type FillGolden = { size: number; bytes: string }[];
export type SnippetGolden = { name: string; source: string; bytes: string }[];

/** objdump's naming in a linked image: the nearest symbol at or below (the first of several at one address), "<sym+0x10>". */
export function imageSymbolizer(symbols: { name: string; address: bigint }[]): Symbolizer & { resolve(name: string): bigint | undefined } {
  const sorted = [...symbols].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const nearest = (address: bigint) => {
    let best = sorted[0];
    for (const s of sorted) if (s.address <= address && s.address !== best?.address) best = s;
    return best && best.address <= address ? best : sorted[0];
  };
  const byName = new Map(symbols.map((s) => [s.name, s.address]));
  const offsetText = (d: bigint) => (d === 0n ? "" : d > 0n ? `+0x${d.toString(16)}` : `-0x${(-d).toString(16)}`);
  return {
    objdump(address) {
      const s = nearest(address);
      return s ? `${address.toString(16)} <${s.name}${offsetText(address - s.address)}>` : address.toString(16);
    },
    source(address) {
      const s = nearest(address);
      return s ? `${s.name}${offsetText(address - s.address)}` : `T_${address.toString(16)}`;
    },
    resolve(name) {
      return byName.get(name) ?? binarySymbolizer.resolve(name);
    },
  };
}

/** objdump -b binary names an address as bare hex; source names are labels T_<hex> that resolve() reads back. */
export const binarySymbolizer: Symbolizer & { resolve(name: string): bigint | undefined } = {
  objdump: (address) => `0x${address.toString(16)}`,
  source: (address) => `T_${address.toString(16)}`,
  resolve: (name) => (/^T_[0-9a-f]+$/.test(name) ? BigInt(`0x${name.slice(2)}`) : undefined),
};

export const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));

/**
 * objdump's mnemonics for encodings outside the floor (and "(bad)"): where
 * objdump prints one of these, the decoder must print a .byte instead. 16-bit
 * branches (callw, jmpw, Jcc with 66 and rel16) are outside too.
 */
const OUTSIDE = new RegExp(
  "^(?:\\(bad\\)|\\.byte|lcall|ljmpw?|smsw|lmsw|sldt|str|lldt|verr|verw|fx(?:save|rstor)(?:64)?|ldmxcsr|stmxcsr|xsave\\w*|xrstor\\w*|clflushopt|clwb" +
    "|mov\\s+%\\?,\\S*|mov\\s+[^,\\s]+,%\\?|vm\\w+|monitor\\w*|mwait\\w*|xgetbv|xsetbv|skinit|invlpg[ab]|clzero|rdpid|encl\\w|rdpru|mcommit|pconfig" +
    "|wbnoinvd|serialize|xsusldtrk|xresldtrk|uiret|testui|clui|stui|psmash|pvalidate|rmp\\w+|tdcall|seam\\w+|erets|eretu|lkgs|wrmsrns|rdmsrlist|wrmsrlist" +
    "|xtest|xend|xbeginw?|xabort|tpause|umwait|umonitor|incssp\\w|rdssp\\w|saveprevssp|rstorssp|setssbsy|clrssbsy|endbr32|ptwrite\\w?|cldemote" +
    "|prefetch\\w*|ud[01]|movbe|crc32|rdrand|rdseed|inv(?:ept|vpid)|sysenter|sysexit" +
    "|getsec|rsm|emms|femms|tlbsync|[cs]tgi|clgi|vfrcz\\w+|callw|jmpw|bnd|j\\w+,p[nt]|(?:call|jmp)\\s+\\*%(?:[abcd]x|[sd]i|[sb]p|r\\d+w))(?=\\s|$)",
);

/** 66 without REX.W on a near Jcc makes it a 16-bit branch (rel16), which objdump prints without a suffix. */
function jcc16(hex: string): boolean {
  const bytes = Buffer.from(hex, "hex");
  let i = 0;
  let data16 = false;
  for (; i < bytes.length && [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3].includes(bytes[i]!); i++) {
    if (bytes[i] === 0x66) data16 = true;
  }
  const rexW = i < bytes.length && (bytes[i]! & 0xf8) === 0x48;
  if (i < bytes.length && (bytes[i]! & 0xf0) === 0x40) i++;
  return data16 && !rexW && bytes[i] === 0x0f && (bytes[i + 1]! & 0xf0) === 0x80;
}

/** Whether objdump's text for these bytes is an instruction outside the floor. */
export function outsideFloor(text: string, hex: string): boolean {
  return jcc16(hex) || OUTSIDE.test(text.replace(/^((?:data16|addr32|lock|repz|repnz|xacquire|xrelease|notrack|rex(?:\.[WRXB]+)?|[c-gs]s)\s+)+/, ""));
}
