// SPDX-License-Identifier: MIT
//
// EPT as the debugger shows it (x86-64 under VMX with an EPTP, the HVM
// host's guests): a guest-physical address through the EPT paging
// structures the EPTP points to (SDM Vol.3C 29.3.2), and a guest's own
// page walk, whose tables are at guest-physical addresses, with each
// table read at the machine address EPT gives it. Both read memory with no
// side effect. The hardware's walk (emulator/hw/x86/paging/nested.ts, which
// the debugger asks through X86Cpu.peek) makes the decisions; these walks
// only say which entries it reads, so that `walk` and `p2m` under --hvm
// name the machine addresses of the guest's tables and of EPT's (the twin
// of arm-stage2.ts for AArch64's stage 2).
//
//   EPTP   51:12 EPT PML4 │ 6 A/D │ 5:3 walk length − 1 │ 2:0 memory type
//   entry  51:12 table or frame │ 9 D │ 8 A │ 7 PS │ 6 IPAT │ 5:3 memory type │ 2 X │ 1 W │ 0 R

import { hex } from "./target.ts";

const ADDR_MASK = 0x000f_ffff_ffff_f000n;
const shiftOf = (level: number) => BigInt(12 + 9 * (level - 1));
/** The manual's names of the EPT paging-structure entries, by level. */
const EPT_NAMES: Record<number, string> = { 5: "EPT PML5E", 4: "EPT PML4E", 3: "EPT PDPTE", 2: "EPT PDE", 1: "EPT PTE" };
const GUEST_NAMES: Record<number, string> = { 5: "PML5E", 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE" };
/** EPT memory types (SDM Vol.3C 29.3.7); 2, 3 and 7 are reserved (a misconfiguration in a leaf). */
const MEMORY_TYPES: Record<number, string> = { 0: "UC", 1: "WC", 4: "WT", 5: "WP", 6: "WB" };

export interface EptStep {
  level: number;
  entryPa: bigint;
  value: bigint;
}

export interface EptWalk {
  steps: EptStep[];
  /** The machine address, when every entry on the way is present. */
  pa?: bigint;
  /** The access rights the walk ends with: R, W, X as the AND over its levels. */
  rights?: string;
  /** Why the walk stopped short of a machine address. */
  stop?: string;
}

/** R, W and X of an entry (bits 2:0); none of them: not present, an EPT violation for any access (SDM Vol.3C 29.3.3.2). */
const rightsOf = (value: bigint) => ["R", "W", "X"].filter((_, b) => (value >> BigInt(b)) & 1n).join("");

/** gpa through the EPT paging structures of eptp, from memory. */
export function eptWalk(read64: (pa: bigint) => bigint | undefined, eptp: bigint, gpa: bigint): EptWalk {
  const top = Number((eptp >> 3n) & 7n) + 1;
  if (top !== 4 && top !== 5) return { steps: [], stop: `EPTP ${hex(eptp)} gives a page-walk length of ${top} levels; only 4 and 5 are valid (SDM Vol.3C 25.6.11)` };
  if (gpa >> BigInt(12 + 9 * top)) return { steps: [], stop: `GPA ${hex(gpa)} is beyond the ${12 + 9 * top}-bit guest-physical space of a ${top}-level EPT` };
  let table = eptp & ADDR_MASK;
  let allowed = 7n;
  const steps: EptStep[] = [];
  for (let level = top; level >= 1; level--) {
    const entryPa = table + 8n * ((gpa >> shiftOf(level)) & 511n);
    const value = read64(entryPa);
    if (value === undefined) return { steps, stop: `the ${EPT_NAMES[level]} at ${hex(entryPa)} is outside RAM` };
    steps.push({ level, entryPa, value });
    if (!(value & 7n)) return { steps, stop: `the ${EPT_NAMES[level]} at ${hex(entryPa)} is not present (R, W and X clear): an EPT violation` };
    if ((value & 3n) === 2n) return { steps, stop: `the ${EPT_NAMES[level]} at ${hex(entryPa)} is write-only: an EPT misconfiguration` };
    allowed &= value;
    const leaf = level === 1 || ((level === 2 || level === 3) && (value & 0x80n) !== 0n);
    if (leaf) {
      const size = 1n << shiftOf(level);
      return { steps, pa: (value & ADDR_MASK & ~(size - 1n)) | (gpa & (size - 1n)), rights: rightsOf(allowed) };
    }
    table = value & ADDR_MASK;
  }
  return { steps, stop: "the walk found no leaf" };
}

/** An EPT entry's bits in words: "R W X WB A D → frame 0x…". */
export function decodeEptEntry(level: number, value: bigint): string {
  if (!(value & 7n)) return "not present";
  const leaf = level === 1 || ((level === 2 || level === 3) && (value & 0x80n) !== 0n);
  const bits = [rightsOf(value)];
  if (leaf) bits.push(MEMORY_TYPES[Number((value >> 3n) & 7n)] ?? `memory type ${(value >> 3n) & 7n} (reserved)`, ...((value >> 6n) & 1n ? ["IPAT"] : []));
  if ((value >> 8n) & 1n) bits.push("A");
  if (leaf && (value >> 9n) & 1n) bits.push("D");
  if (level !== 1 && leaf) bits.push("PS");
  return `${bits.join(" ")} → ${leaf ? "frame" : "table"} ${hex(value & ADDR_MASK)}`;
}

/** `p2m GPA`'s lines: each EPT entry the walk reads, and where it ends; undefined when the walk reads none (w.stop says why). */
export function eptWalkLines(read64: (pa: bigint) => bigint | undefined, eptp: bigint, gpa: bigint): { lines?: string[]; stop?: string } {
  const w = eptWalk(read64, eptp, gpa);
  if (!w.steps.length) return { stop: w.stop! };
  return { lines: [
    ...w.steps.map((s) => `  ${EPT_NAMES[s.level]!.padEnd(9)} at ${hex(s.entryPa).padEnd(14)} = 0x${s.value.toString(16).padStart(16, "0")}  ${decodeEptEntry(s.level, s.value)}`),
    w.pa !== undefined ? `  → MFN ${hex(w.pa >> 12n)}, machine address ${hex(w.pa)} (${w.rights})` : `  → not mapped: ${w.stop}`,
  ] };
}

/** One entry of a guest's walk under EPT: where the guest addresses it, and where it is. */
export interface GuestStep {
  level: number;
  name: string;
  entryGpa: bigint;
  entryPa: bigint;
  value: bigint;
  /** Is it the walk's leaf (a PTE, or a PDE or PDPTE with PS)? */
  leaf: boolean;
}

export interface GuestWalk {
  steps: GuestStep[];
  /** The leaf's guest-physical address for va, and where EPT puts it. */
  gpa?: bigint;
  pa?: bigint;
  /** Why it stopped short of a leaf, or why the leaf's GPA does not translate. */
  stop?: string;
}

/**
 * va through the guest's tables from `root` (CR3's table, a GPA) at `top`
 * levels (5 with CR4.LA57), every table read at the machine address EPT
 * gives it (SDM Vol.3C 29.3.2: "the guest-physical addresses of the
 * paging structures … are translated through EPT"). It follows P and PS
 * only: reserved bits and rights are the hardware's decision, which peek
 * reports beside it.
 */
export function guestWalk(read64: (pa: bigint) => bigint | undefined, eptp: bigint, root: bigint, top: number, va: bigint): GuestWalk {
  const steps: GuestStep[] = [];
  let table = root & ADDR_MASK;
  for (let level = top; level >= 1; level--) {
    const name = GUEST_NAMES[level]!;
    const entryGpa = table + 8n * ((va >> shiftOf(level)) & 511n);
    const at = eptWalk(read64, eptp, entryGpa);
    if (at.pa === undefined) return { steps, stop: `the ${name}'s GPA ${hex(entryGpa)} does not translate: ${at.stop}` };
    const value = read64(at.pa);
    if (value === undefined) return { steps, stop: `the ${name} at ${hex(at.pa)} is outside RAM` };
    const leaf = level === 1 || ((level === 2 || level === 3) && (value & 0x80n) !== 0n);
    steps.push({ level, name, entryGpa, entryPa: at.pa, value, leaf });
    if (!(value & 1n)) return { steps, stop: `the ${name} is not present` };
    if (leaf) {
      const size = 1n << shiftOf(level);
      const gpa = (value & ADDR_MASK & ~(size - 1n)) | (va & (size - 1n));
      const end = eptWalk(read64, eptp, gpa);
      return { steps, gpa, ...(end.pa !== undefined ? { pa: end.pa } : { stop: `GPA ${hex(gpa)} does not translate: ${end.stop}` }) };
    }
    table = value & ADDR_MASK;
  }
  return { steps, stop: "the walk found no leaf" };
}
