// SPDX-License-Identifier: MIT
//
// Legacy prefixes and REX (SDM Vol.2A 2.1.1 and 2.2.1), the words GNU as
// takes for them, and the order GNU as emits them in.
//
// GNU as writes prefixes in a fixed order whatever order the source gives
// (gas/config/tc-i386.h: WAIT, SEG, ADDR, DATA, REP/LOCK, REX last): a
// segment override, 67, 66, F2/F3, F0, then REX. objdump prints a prefix the
// instruction does not use by name, in the order of the bytes.

/** The prefix groups of SDM Vol.2A 2.1.1, in GNU as's emission order. */
export type PrefixSlot = "seg" | "addr" | "data" | "rep" | "lock";
export const SLOT_ORDER: PrefixSlot[] = ["seg", "addr", "data", "rep", "lock"];

export const LEGACY_PREFIXES: Record<number, { slot: PrefixSlot; name: string }> = {
  0x26: { slot: "seg", name: "es" },
  0x2e: { slot: "seg", name: "cs" },
  0x36: { slot: "seg", name: "ss" },
  0x3e: { slot: "seg", name: "ds" },
  0x64: { slot: "seg", name: "fs" },
  0x65: { slot: "seg", name: "gs" },
  0x66: { slot: "data", name: "data16" },
  0x67: { slot: "addr", name: "addr32" },
  0xf0: { slot: "lock", name: "lock" },
  0xf2: { slot: "rep", name: "repnz" },
  0xf3: { slot: "rep", name: "repz" },
};

/** The words GNU as takes as prefixes. */
export const PREFIX_WORDS: Record<string, number> = {
  es: 0x26, cs: 0x2e, ss: 0x36, ds: 0x3e, fs: 0x64, gs: 0x65,
  data16: 0x66, addr32: 0x67,
  lock: 0xf0,
  rep: 0xf3, repe: 0xf3, repz: 0xf3, repne: 0xf2, repnz: 0xf2,
  // Hardware lock elision reuses F2 and F3 (SDM Vol.1 16.3.1).
  xacquire: 0xf2, xrelease: 0xf3,
};

export const REX = 0x40;
export const REX_W = 0x08;
export const REX_R = 0x04;
export const REX_X = 0x02;
export const REX_B = 0x01;

/** objdump's name of a REX byte: "rex", "rex.W", "rex.WRXB"... */
export function rexName(rex: number): string {
  const bits = (rex & REX_W ? "W" : "") + (rex & REX_R ? "R" : "") + (rex & REX_X ? "X" : "") + (rex & REX_B ? "B" : "");
  return bits === "" ? "rex" : `rex.${bits}`;
}

/** The REX byte of a GNU as word "rex", "rex.w", "rex.wrxb"... (any case), or undefined. */
export function rexWord(word: string): number | undefined {
  const m = /^rex(?:\.([wrxb]+))?$/i.exec(word);
  if (!m) return undefined;
  let rex = REX;
  for (const ch of (m[1] ?? "").toLowerCase()) rex |= { w: REX_W, r: REX_R, x: REX_X, b: REX_B }[ch]!;
  return rex;
}

/** GNU as's pseudo-prefixes that choose among encodings (GNU as manual, "i386-Prefixes"). */
export type PseudoPrefix = "disp8" | "disp32" | "load" | "store";
export const PSEUDO_PREFIXES: PseudoPrefix[] = ["disp8", "disp32", "load", "store"];
