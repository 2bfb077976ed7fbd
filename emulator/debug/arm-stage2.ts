// SPDX-License-Identifier: MIT
//
// The stage-2 walk as the debugger shows it (AArch64, HCR_EL2.VM = 1): an
// IPA through the tables VTTBR_EL2 points to, as VTCR_EL2 lays them out
// (DDI0487 D8.2, 4 KiB granule only; T0SZ, SL0, and up to 16 concatenated
// tables at the start level), read from memory with no side effect. The
// hardware's own stage 2 (emulator/hw/arm/vmsa/stage2.ts) makes the
// decisions; this walk only says which entries it read, so that a `walk`
// under a hypervisor names the machine addresses of the guest's tables.
//
// An entry with bit 0 clear is invalid to the hardware whatever its other
// bits say; Xen's p2m clears only that bit to have the next access fault
// (its per-entry valid bit, p2m_invalidate_root), and its own walks go on
// through such an entry (p2m_is_valid: the entry's type, not its valid
// bit, says whether the GFN is mapped). The debugger reads a guest's
// memory as the guest will see it once p2m_resolve_translation_fault has
// set the bit again, so `throughCleared` follows an entry whose valid bit
// alone is clear (its address and table bit kept), and says it did.

import { hex } from "./target.ts";

const OA_MASK = 0x0000_ffff_ffff_f000n;
const shiftOf = (level: number) => BigInt(12 + 9 * (3 - level));

export interface Stage2Step {
  level: number;
  entryPa: bigint;
  value: bigint;
}

export interface Stage2Walk {
  steps: Stage2Step[];
  /** The PA, when every entry on the way is valid. */
  pa?: bigint;
  /** Why the walk stopped short of a PA. */
  stop?: string;
  /** With throughCleared: the level of the first entry on the way whose valid bit is clear. */
  clearedAt?: number;
}

export function stage2Walk(
  read64: (pa: bigint) => bigint | undefined, vttbr: bigint, vtcr: bigint, ipa: bigint, throughCleared = false,
): Stage2Walk {
  const t0sz = Number(vtcr & 0x3fn);
  const sl0 = Number((vtcr >> 6n) & 3n);
  if ((vtcr >> 14n) & 3n) return { steps: [], stop: `VTCR_EL2.TG0 is not the 4 KiB granule, which the debugger's stage-2 walk does not read` };
  const start = sl0 === 3 ? 3 : 2 - sl0;
  const inputBits = 64 - t0sz;
  if (ipa >> BigInt(inputBits)) return { steps: [], stop: `IPA ${hex(ipa)} is beyond the ${inputBits}-bit IPA space (VTCR_EL2.T0SZ ${t0sz})` };
  const topBits = BigInt(inputBits) - shiftOf(start);
  let table = vttbr & OA_MASK & ~((1n << (topBits + 3n)) - 1n);
  const steps: Stage2Step[] = [];
  let clearedAt: number | undefined;
  for (let level = start; level <= 3; level++) {
    const width = level === start ? topBits : 9n;
    const entryPa = table + 8n * ((ipa >> shiftOf(level)) & ((1n << width) - 1n));
    const value = read64(entryPa);
    if (value === undefined) return { steps, stop: `the stage-2 level ${level} entry at ${hex(entryPa)} is outside RAM` };
    steps.push({ level, entryPa, value });
    if (!(value & 1n) && throughCleared && (level < 3 || value & 2n) && value & OA_MASK) clearedAt ??= level;
    else if (!(value & 1n)) return { steps, stop: `the stage-2 level ${level} entry at ${hex(entryPa)} is invalid${value & OA_MASK ? ` (valid bit 0, keeping ${hex(value & OA_MASK)})` : ""}` };
    const isTable = level < 3 && (value & 2n) !== 0n;
    if (level === 3 && !(value & 2n)) return { steps, stop: `the stage-2 level 3 entry at ${hex(entryPa)} is reserved (bit 1 clear)` };
    if (!isTable) {
      const size = 1n << shiftOf(level);
      return { steps, pa: (value & OA_MASK & ~(size - 1n)) | (ipa & (size - 1n)), ...(clearedAt !== undefined ? { clearedAt } : {}) };
    }
    table = value & OA_MASK;
  }
  return { steps, stop: "the walk found no leaf" };
}
