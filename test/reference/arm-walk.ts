// SPDX-License-Identifier: MIT
//
// A slow, plain AArch64 stage-1 translation for the EL1&0 regime with the
// 4 KiB granule, written from the Arm ARM (DDI0487, D8: the VMSAv8-64 walk,
// its faults and the PAR_EL1 format), used to check the fast walker in
// emulator/hw. It shares no code with it.
//
// The processor modelled is the one the conformance vectors assume: 52-bit
// physical addresses implemented (so TCR.IPS is bounded only by the 48-bit
// limit of the 4 KiB granule without TCR.DS), small translation tables
// (TxSZ up to 48), hierarchical permission disables, E0PD, TBI, hardware
// Access flag and dirty state.

export interface ArmRegisters {
  sctlr: bigint;
  tcr: bigint;
  ttbr0: bigint;
  ttbr1: bigint;
  mair: bigint;
}

export interface ArmAccess {
  va: bigint;
  op: "read" | "write";
  priv: "user" | "kernel";
}

export type ArmFaultType = "translation" | "access_flag" | "permission" | "address_size" | "external_walk";

export type ArmRefResult =
  | { kind: "ok"; pa: bigint; par: bigint }
  | { kind: "fault"; type: ArmFaultType; level: number; par: bigint };

const bit = (v: bigint, n: number) => (v >> BigInt(n)) & 1n;
const field = (v: bigint, hi: number, lo: number) => (v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);
const PA_BITS = 52;
const IPS_BITS = [32, 36, 40, 42, 44, 48, 52, 52];

/** Fault status codes (ESR_ELx.DFSC / PAR_EL1.FST) for levels 0-3. */
const FSC_BASE: Record<ArmFaultType, number> = {
  address_size: 0x00,
  translation: 0x04,
  access_flag: 0x08,
  permission: 0x0c,
  // Synchronous External abort on a translation table walk.
  external_walk: 0x14,
};

/**
 * AT for one access. `memory` maps 8-byte-aligned physical addresses to words
 * (absent words read as 0, within `isRam`) and is updated with the AF and
 * dirty-state writes; a descriptor read outside `isRam` is an external abort.
 */
export function referenceAt(
  memory: Map<bigint, bigint>,
  regs: ArmRegisters,
  access: ArmAccess,
  isRam: (pa: bigint) => boolean = () => true,
): ArmRefResult {
  const fault = (type: ArmFaultType, level: number): ArmRefResult => ({
    kind: "fault",
    type,
    level,
    // PAR_EL1 with F=1: FST[6:1], bit 11 RES1.
    par: (1n << 11n) | (BigInt(FSC_BASE[type] + level) << 1n) | 1n,
  });
  const { tcr, va } = regs.tcr === undefined ? { tcr: 0n, va: 0n } : { tcr: regs.tcr, va: access.va };
  const user = access.priv === "user";

  // Region: bit 55 chooses TTBR0 or TTBR1, whatever TBI says.
  const select = Number(bit(va, 55));
  const tsz = Number(select ? field(tcr, 21, 16) : field(tcr, 5, 0));
  const epd = select ? bit(tcr, 23) : bit(tcr, 7);
  const hpd = select ? bit(tcr, 42) : bit(tcr, 41);
  const e0pd = select ? bit(tcr, 56) : bit(tcr, 55);
  const tbi = select ? bit(tcr, 38) : bit(tcr, 37);
  const ha = bit(tcr, 39) === 1n;
  // Dirty state management needs Access flag management (TCR.HD is ignored without TCR.HA).
  const hd = ha && bit(tcr, 40) === 1n;

  // TxSZ outside 16..48 is a level 0 Translation fault (the IMPLEMENTATION
  // DEFINED choice the modelled processor makes).
  if (tsz < 16 || tsz > 48) return fault("translation", 0);
  const inputSize = 64 - tsz;
  const addrSize = tbi ? 56 : 64;
  // The bits between the input size and the top (or the tag) must all equal bit 55.
  if (inputSize < addrSize) {
    const top = field(va, addrSize - 1, inputSize);
    const ones = (1n << BigInt(addrSize - inputSize)) - 1n;
    if (top !== (select ? ones : 0n)) return fault("translation", 0);
  }
  if (epd || (e0pd && user)) return fault("translation", 0);

  // Output size: TCR.IPS bounded by the implemented PA size and, for the
  // 4 KiB granule without TCR.DS, by 48 bits.
  const outputSize = Math.min(IPS_BITS[Number(field(tcr, 34, 32))]!, PA_BITS, 48);

  let level = 4 - Math.floor((inputSize - 4) / 9);
  const ttbr = select ? regs.ttbr1 : regs.ttbr0;
  let base = field(ttbr, 47, 0);
  if (base >> BigInt(outputSize)) return fault("address_size", 0);
  // The table is aligned to its size; the low bits (and CnP) are ignored.
  const topIndexBits = inputSize - 12 - 9 * (3 - level);
  base &= ~((1n << BigInt(topIndexBits + 3)) - 1n);

  // Hierarchical attributes gathered from table descriptors.
  let pxnTable = 0n;
  let xnTable = 0n;
  let apTable = 0n;
  let descPa = 0n;
  let desc = 0n;
  for (;;) {
    const shift = 12 + 9 * (3 - level);
    const indexBits = level === 4 - Math.floor((inputSize - 4) / 9) ? topIndexBits : 9;
    const index = field(va, shift + indexBits - 1, shift);
    descPa = base + index * 8n;
    if (!isRam(descPa)) return fault("external_walk", level);
    desc = memory.get(descPa) ?? 0n;
    // Invalid, or the reserved encoding at level 3.
    if (!bit(desc, 0) || (level === 3 && !bit(desc, 1))) return fault("translation", level);
    const address = field(desc, 47, 12) << 12n;
    if (address >> BigInt(outputSize)) return fault("address_size", level);
    if (bit(desc, 1) && level < 3) {
      pxnTable |= bit(desc, 59);
      xnTable |= bit(desc, 60);
      apTable |= field(desc, 62, 61);
      base = address;
      level++;
      continue;
    }
    break;
  }

  // A block (level 1 or 2) or a page (level 3). Level 0 blocks do not exist
  // with the 4 KiB granule and TCR.DS=0.
  if (level === 0) return fault("translation", 0);
  const pageShift = 12 + 9 * (3 - level);
  const pa = (field(desc, 47, pageShift) << BigInt(pageShift)) | field(va, pageShift - 1, 0);

  // The Access flag: hardware sets it with TCR.HA, otherwise a fault. Dirty
  // state: with TCR.HD, a write to a DBM page makes it writable (AP[2]=0).
  let updated = desc;
  if (!bit(desc, 10)) {
    if (!ha) return fault("access_flag", level);
    updated |= 1n << 10n;
  }
  if (hd && bit(desc, 51) && access.op === "write") updated &= ~(1n << 7n);

  let ap = field(updated, 7, 6);
  if (!hpd) {
    if (apTable & 1n) ap &= ~1n; // APTable[0]: no EL0 access
    if (apTable & 2n) ap |= 2n; // APTable[1]: read-only
  }
  // AP[2:1]: 00 EL1 RW, 01 EL1&EL0 RW, 10 EL1 RO, 11 EL1&EL0 RO.
  const canRead = user ? (ap & 1n) === 1n : true;
  const canWrite = user ? ap === 1n : (ap & 2n) === 0n;
  const allowed = access.op === "read" ? canRead : canWrite;
  if (!allowed) return fault("permission", level);

  if (updated !== desc) memory.set(descPa, updated);

  // PAR_EL1 with F=0: PA, NS (non-secure), SH, ATTR from MAIR_EL1.
  const attr = field(regs.mair, Number(field(desc, 4, 2)) * 8 + 7, Number(field(desc, 4, 2)) * 8);
  const sh = field(desc, 9, 8);
  const par = (attr << 56n) | (field(pa, 51, 12) << 12n) | (1n << 11n) | (1n << 9n) | (sh << 7n);
  return { kind: "ok", pa, par };
}
