// SPDX-License-Identifier: MIT
//
// Condition codes (DDI0487 C1.2.4 "Condition code", table C1-1). objdump
// prints the SVE names of a condition (DDI0487 C1.2.4, table C1-2: "none",
// "any", "nlast", ...) as a comment, and GNU as accepts them as conditions.

/** Each condition's names, the A64 name first, indexed by the 4-bit encoding. */
export const CONDITIONS: readonly (readonly string[])[] = [
  ["eq", "none"],
  ["ne", "any"],
  ["cs", "hs", "nlast"],
  ["cc", "lo", "ul", "last"],
  ["mi", "first"],
  ["pl", "nfrst"],
  ["vs"],
  ["vc"],
  ["hi", "pmore"],
  ["ls", "plast"],
  ["ge", "tcont"],
  ["lt", "tstop"],
  ["gt"],
  ["le"],
  ["al"],
  ["nv"],
];

const BY_NAME = new Map<string, number>(CONDITIONS.flatMap((names, code) => names.map((n) => [n, code] as const)));

/** The encoding of a condition name (any case GNU as takes: all lower or all upper), or undefined. */
export function parseCondition(text: string): number | undefined {
  const t = text.trim();
  if (t !== t.toLowerCase() && t !== t.toUpperCase()) return undefined;
  return BY_NAME.get(t.toLowerCase());
}

/** DDI0487 C1.2.4: inverting a condition flips its lowest bit. */
export const invertCondition = (cond: number) => cond ^ 1;

export const conditionName = (cond: number) => CONDITIONS[cond]![0]!;

/** objdump's comment on a condition operand: "eq = none", or "" when there are no other names. */
export function conditionComment(cond: number): string {
  const [name, ...others] = CONDITIONS[cond]!;
  return others.length ? `${name} = ${others.join(", ")}` : "";
}

/** objdump's comment after B.cond: "b.none", "b.hs, b.nlast", or "". */
export function branchConditionComment(cond: number): string {
  return CONDITIONS[cond]!.slice(1).map((n) => `b.${n}`).join(", ");
}
