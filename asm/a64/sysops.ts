// SPDX-License-Identifier: MIT
//
// The named operations of the SYS instruction (DDI0487 C5.3 "A64 System
// instructions for cache maintenance, address translation and TLB
// maintenance"), barrier options (C6.2 "DMB", "DSB"), PSTATE fields of MSR
// (immediate) (C5.2 and C6.2 "MSR (immediate)") and the hints with names.

/** One SYS alias: op1, CRn, CRm, op2, and whether it takes Xt. */
export interface SysOp {
  name: string;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
  xt: boolean;
}

type Row = readonly [name: string, op1: number, crm: number, op2: number, xt: boolean];

const rows = (crn: number, list: readonly Row[]): SysOp[] =>
  list.map(([name, op1, crm, op2, xt]) => ({ name, op1, crn, crm, op2, xt }));

/** TLBI <op>{, Xt} = SYS #op1, C8, Cm, #op2{, Xt} (DDI0487 C5.5 "A64 System instructions for TLB maintenance"). */
export const TLBI_OPS: readonly SysOp[] = rows(8, [
  // Stage 1, EL1&0; Inner Shareable (CRm = 3), Outer Shareable (CRm = 1, FEAT_TLBIOS), local (CRm = 7).
  ["vmalle1is", 0, 3, 0, false], ["vae1is", 0, 3, 1, true], ["aside1is", 0, 3, 2, true],
  ["vaae1is", 0, 3, 3, true], ["vale1is", 0, 3, 5, true], ["vaale1is", 0, 3, 7, true],
  ["vmalle1os", 0, 1, 0, false], ["vae1os", 0, 1, 1, true], ["aside1os", 0, 1, 2, true],
  ["vaae1os", 0, 1, 3, true], ["vale1os", 0, 1, 5, true], ["vaale1os", 0, 1, 7, true],
  ["vmalle1", 0, 7, 0, false], ["vae1", 0, 7, 1, true], ["aside1", 0, 7, 2, true],
  ["vaae1", 0, 7, 3, true], ["vale1", 0, 7, 5, true], ["vaale1", 0, 7, 7, true],
  // Stage 2 by IPA (CRm = 0 IS, 4 local and OS).
  ["ipas2e1is", 4, 0, 1, true], ["ipas2le1is", 4, 0, 5, true],
  ["ipas2e1", 4, 4, 1, true], ["ipas2le1", 4, 4, 5, true],
  ["ipas2e1os", 4, 4, 0, true], ["ipas2le1os", 4, 4, 4, true],
  // EL2 and all of EL1&0.
  ["alle2is", 4, 3, 0, false], ["vae2is", 4, 3, 1, true], ["alle1is", 4, 3, 4, false],
  ["vale2is", 4, 3, 5, true], ["vmalls12e1is", 4, 3, 6, false],
  ["alle2os", 4, 1, 0, false], ["vae2os", 4, 1, 1, true], ["alle1os", 4, 1, 4, false],
  ["vale2os", 4, 1, 5, true], ["vmalls12e1os", 4, 1, 6, false],
  ["alle2", 4, 7, 0, false], ["vae2", 4, 7, 1, true], ["alle1", 4, 7, 4, false],
  ["vale2", 4, 7, 5, true], ["vmalls12e1", 4, 7, 6, false],
  // EL3.
  ["alle3is", 6, 3, 0, false], ["vae3is", 6, 3, 1, true], ["vale3is", 6, 3, 5, true],
  ["alle3", 6, 7, 0, false], ["vae3", 6, 7, 1, true], ["vale3", 6, 7, 5, true],
]);

/** DC <op>, Xt (DDI0487 C5.3 "A64 Cache maintenance instructions"). */
export const DC_OPS: readonly SysOp[] = rows(7, [
  ["ivac", 0, 6, 1, true], ["isw", 0, 6, 2, true], ["csw", 0, 10, 2, true], ["cisw", 0, 14, 2, true],
  ["zva", 3, 4, 1, true], ["cvac", 3, 10, 1, true], ["cvau", 3, 11, 1, true], ["civac", 3, 14, 1, true],
]);

/** IC <op>{, Xt}. */
export const IC_OPS: readonly SysOp[] = rows(7, [
  ["ialluis", 0, 1, 0, false], ["iallu", 0, 5, 0, false], ["ivau", 3, 5, 1, true],
]);

/** AT <op>, Xt (DDI0487 C5.4 "A64 System instructions for address translation"). */
export const AT_OPS: readonly SysOp[] = rows(7, [
  ["s1e1r", 0, 8, 0, true], ["s1e1w", 0, 8, 1, true], ["s1e0r", 0, 8, 2, true], ["s1e0w", 0, 8, 3, true],
  ["s1e2r", 4, 8, 0, true], ["s1e2w", 4, 8, 1, true],
  ["s12e1r", 4, 8, 4, true], ["s12e1w", 4, 8, 5, true], ["s12e0r", 4, 8, 6, true], ["s12e0w", 4, 8, 7, true],
  ["s1e3r", 6, 8, 0, true], ["s1e3w", 6, 8, 1, true],
]);

/** The SYS aliases by mnemonic. */
export const SYS_ALIASES: Readonly<Record<"tlbi" | "dc" | "ic" | "at", readonly SysOp[]>> = {
  tlbi: TLBI_OPS, dc: DC_OPS, ic: IC_OPS, at: AT_OPS,
};

const sysKey = (op1: number, crn: number, crm: number, op2: number) => (op1 << 11) | (crn << 7) | (crm << 3) | op2;

const BY_ENCODING = new Map<number, { mnemonic: string; op: SysOp }>();
for (const [mnemonic, ops] of Object.entries(SYS_ALIASES)) {
  for (const op of ops) BY_ENCODING.set(sysKey(op.op1, op.crn, op.crm, op.op2), { mnemonic, op });
}

export function sysAlias(op1: number, crn: number, crm: number, op2: number): { mnemonic: string; op: SysOp } | undefined {
  return BY_ENCODING.get(sysKey(op1, crn, crm, op2));
}

/** DMB/DSB option names by CRm (DDI0487 C6.2 "DMB", table of <option>); the rest are written #imm. */
export const BARRIER_OPTIONS: Readonly<Record<number, string>> = {
  1: "oshld", 2: "oshst", 3: "osh", 5: "nshld", 6: "nshst", 7: "nsh",
  9: "ishld", 10: "ishst", 11: "ish", 13: "ld", 14: "st", 15: "sy",
};

export const BARRIER_BY_NAME = new Map(Object.entries(BARRIER_OPTIONS).map(([crm, name]) => [name, Number(crm)] as const));

/** PSTATE fields for MSR (immediate): op1 and op2 (DDI0487 C6.2 "MSR (immediate)"). */
export const PSTATE_FIELDS: Readonly<Record<string, { op1: number; op2: number }>> = {
  spsel: { op1: 0, op2: 5 },
  daifset: { op1: 3, op2: 6 },
  daifclr: { op1: 3, op2: 7 },
  pan: { op1: 0, op2: 4 },
  uao: { op1: 0, op2: 3 },
};

/** Hints with their own mnemonic, by CRm:op2 (DDI0487 C6.2 "HINT"). */
export const HINTS: readonly string[] = ["nop", "yield", "wfe", "wfi", "sev", "sevl"];
