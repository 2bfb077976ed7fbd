// SPDX-License-Identifier: MIT
//
// The TLB and walk-cache entries of a pCPU that runs an HVM guest, checked
// against the walks under EPT (ept-walk.ts). Such a pCPU holds two kinds
// (SDM Vol.3C 29.4.1):
//
// - combined mappings, tagged with the VPID, the PCID and the EPT: a TLB
//   entry maps a linear address to a machine frame, as small as the smaller
//   of the guest's page and EPT's, and a walk-cache entry holds the machine
//   address of the guest's next table. They are judged against the guest's
//   walk with every table and the final address where EPT puts them;
// - guest-physical mappings, tagged with the EPT alone: a GPA to a machine
//   frame (TLB) or to the next EPT table (walk cache), with EPT's rights.
//   They are judged against the EPT walk.

import { eptWalk, type GuestWalk } from "./ept-walk.ts";
import { hex, type TlbEntryView } from "./target.ts";

type Stale = TlbEntryView["stale"];
const ADDR_MASK = 0x000f_ffff_ffff_f000n;
const PTE_P = 1n;
const PTE_RW = 2n;
const PTE_US = 4n;
const PTE_XD = 1n << 63n;
const sizeOf = (level: number) => 1n << BigInt(12 + 9 * (level - 1));

/**
 * How the rights the guest's entries give now (R/W and U/S of every level,
 * XD of any; SDM Vol.3A 4.6) differ from those an entry holds (attrs: bit 0
 * U, bit 1 W, bit 2 XD); undefined when they do not.
 */
export function rightsChange(entries: readonly bigint[], attrs: number): string | undefined {
  const rw = entries.every((v) => v & PTE_RW);
  const us = entries.every((v) => v & PTE_US);
  const xd = entries.some((v) => v & PTE_XD);
  if (rw === ((attrs & 2) !== 0) && us === ((attrs & 1) !== 0) && xd === ((attrs & 4) !== 0)) return undefined;
  return `the rights are now ${rw ? "RW" : "RO"} ${us ? "U" : "S"} ${xd ? "XD" : "X"}`;
}

/** A guest-physical entry's rights: EPT's R, W, X (and D: writes need no walk). */
export function eptPerms(attrs: number): string {
  return [attrs & 1 ? "R" : "-", attrs & 2 ? "W" : "-", attrs & 4 ? "X" : "-", ...(attrs & 8 ? ["D"] : [])].join(" ");
}

/** A combined entry of `level` (its structure's) with output pa against the guest's walk of its address now. */
export function combinedStaleness(
  w: GuestWalk, read64: (pa: bigint) => bigint | undefined, eptp: bigint, level: number, isTlb: boolean, pa: bigint, attrs: number,
): Stale {
  if (isTlb) {
    if (w.pa === undefined) return { why: `the walk under EPT now ends short: ${w.stop}` };
    const leaf = w.steps.at(-1)!;
    if (leaf.level < level) return { why: "the guest's tables now map this address with a smaller page" };
    const now = w.pa & ~(sizeOf(level) - 1n);
    if (now !== pa) return { why: `the guest's ${leaf.name} at ${hex(leaf.entryPa)} and EPT now map it to ${hex(now)}` };
    const why = rightsChange(w.steps.map((s) => s.value), attrs);
    return why ? { why } : "fresh";
  }
  const step = w.steps.find((s) => s.level === level);
  if (!step) return { why: `the walk under EPT now stops above this level${w.stop ? ` (${w.stop})` : ""}` };
  if (!(step.value & PTE_P)) return { why: `the ${step.name} at ${hex(step.entryPa)} is now not present` };
  if (step.leaf) return { why: `the ${step.name} at ${hex(step.entryPa)} now maps a page` };
  const table = eptWalk(read64, eptp, step.value & ADDR_MASK);
  if (table.pa === undefined) return { why: `the table GPA ${hex(step.value & ADDR_MASK)} the ${step.name} points to does not translate: ${table.stop}` };
  return table.pa === pa ? "fresh" : { why: `the ${step.name} at ${hex(step.entryPa)} now points to GPA ${hex(step.value & ADDR_MASK)}, PA ${hex(table.pa)}` };
}

/** A guest-physical entry of `level` for gpa with output pa against the EPT walk now. */
export function guestPhysicalStaleness(
  read64: (pa: bigint) => bigint | undefined, eptp: bigint, gpa: bigint, level: number, isTlb: boolean, pa: bigint, attrs: number,
): Stale {
  const w = eptWalk(read64, eptp, gpa);
  if (isTlb) {
    if (w.pa === undefined) return { why: `EPT now: ${w.stop}` };
    const leaf = w.steps.at(-1)!;
    if (leaf.level !== level) return { why: "EPT now maps this GPA with another page size" };
    const now = w.pa & ~(sizeOf(level) - 1n);
    if (now !== pa) return { why: `the EPT entry at ${hex(leaf.entryPa)} now maps ${hex(now)}` };
    const rights = ["R", "W", "X"].filter((_, b) => attrs & (1 << b)).join("");
    return rights === w.rights ? "fresh" : { why: `EPT's rights are now ${w.rights || "none"}` };
  }
  const step = w.steps.find((s) => s.level === level);
  if (!step) return { why: `the EPT walk now stops above this level${w.stop ? ` (${w.stop})` : ""}` };
  if (!(step.value & 7n)) return { why: `the EPT entry at ${hex(step.entryPa)} is now not present` };
  if (step.level === 1 || step.value & 0x80n) return { why: `the EPT entry at ${hex(step.entryPa)} now maps a page` };
  const now = step.value & ADDR_MASK;
  return now === pa ? "fresh" : { why: `the EPT entry at ${hex(step.entryPa)} now points to ${hex(now)}` };
}
