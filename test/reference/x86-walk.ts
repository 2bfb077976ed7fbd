// SPDX-License-Identifier: MIT
//
// A slow, obviously-correct x86-64 linear-address translation written straight
// from the Intel SDM Vol.3A chapter 4 (4.5 for the walk, 4.6 for access rights,
// 4.7 for the error code, 4.8 for Accessed and Dirty), used to check the fast
// walker in emulator/hw. It shares no code with it: memory is a Map of 64-bit
// words, every value is a bigint, and every rule is spelled out where the
// manual states it.

export interface RefRegisters {
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
  pkru: bigint;
  rflags: bigint;
}

export interface RefAccess {
  va: bigint;
  op: "read" | "write" | "fetch";
  priv: "user" | "kernel" | "implicit";
}

export type RefResult =
  | { kind: "ok"; pa: bigint; pageSize: bigint }
  | { kind: "pf"; errorCode: number }
  | { kind: "gp" };

const bit = (v: bigint, n: number) => (v >> BigInt(n)) & 1n;
const bits = (v: bigint, hi: number, lo: number) => (v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n);

/**
 * Translates one access. `memory` maps 8-byte-aligned physical addresses to
 * words (absent words read as 0) and is updated with the Accessed and Dirty
 * flags the processor would set.
 */
export function referenceTranslate(
  memory: Map<bigint, bigint>,
  regs: RefRegisters,
  maxPhysAddr: number,
  page1GB: boolean,
  access: RefAccess,
): RefResult {
  const M = maxPhysAddr;
  const la57 = bit(regs.cr4, 12) === 1n;
  const nxe = bit(regs.efer, 11) === 1n;
  const wp = bit(regs.cr0, 16) === 1n;
  const smep = bit(regs.cr4, 20) === 1n;
  const smap = bit(regs.cr4, 21) === 1n;
  const pke = bit(regs.cr4, 22) === 1n;
  const ac = bit(regs.rflags, 18) === 1n;
  const isWrite = access.op === "write";
  const isFetch = access.op === "fetch";
  const userAccess = access.priv === "user";
  const implicitAccess = access.priv === "implicit";

  // 4.5.1: a linear address must be canonical, or the access is #GP (not #PF).
  const width = la57 ? 57 : 48;
  const top = access.va >> BigInt(width - 1);
  const allOnes = (1n << BigInt(64 - width + 1)) - 1n;
  if (top !== 0n && top !== allOnes) return { kind: "gp" };

  // 4.7: the bits every page-fault error code of this access has.
  const W = isWrite ? 2 : 0;
  const U = userAccess ? 4 : 0;
  const ID = isFetch && (nxe || smep) ? 16 : 0;
  const notPresent = (): RefResult => ({ kind: "pf", errorCode: W | U | ID });
  const reserved = (): RefResult => ({ kind: "pf", errorCode: 1 | W | U | 8 | ID });

  const read = (pa: bigint) => memory.get(pa) ?? 0n;
  const addrBits = (entry: bigint, low: number) => bits(entry, M - 1, low) << BigInt(low);

  // Each level: the entry, and whether it references a table or maps a page.
  type Used = { pa: bigint; value: bigint };
  const used: Used[] = [];
  let table = addrBits(regs.cr3, 12);
  let level = la57 ? 5 : 4;
  let pageSize = 0n;
  let leaf: Used | undefined;
  for (;;) {
    const index = bits(access.va, 12 + 9 * level - 1, 12 + 9 * (level - 1));
    const pa = table + index * 8n;
    const entry = read(pa);
    if (bit(entry, 0) === 0n) {
      setAccessed(memory, used);
      return notPresent();
    }
    // Reserved bits (tables 4-14 .. 4-20): bits 51:M of every entry; bit 63 (XD)
    // when IA32_EFER.NXE = 0; bit 7 of a PML5E or PML4E; for a PDPTE with PS=1,
    // bits 29:13 (or PS itself without 1-GByte pages); for a PDE with PS=1,
    // bits 20:13.
    let rsvd = M < 52 && bits(entry, 51, M) !== 0n;
    if (!nxe && bit(entry, 63)) rsvd = true;
    const ps = bit(entry, 7) === 1n;
    if (level >= 4 && ps) rsvd = true;
    if (level === 3 && ps && (!page1GB || bits(entry, 29, 13) !== 0n)) rsvd = true;
    if (level === 2 && ps && bits(entry, 20, 13) !== 0n) rsvd = true;
    if (rsvd) {
      setAccessed(memory, used);
      return reserved();
    }
    const here = { pa, value: entry };
    if (level === 1) {
      pageSize = 1n << 12n;
      leaf = here;
      used.push(here);
      break;
    }
    if ((level === 2 || level === 3) && ps) {
      pageSize = level === 3 ? 1n << 30n : 1n << 21n;
      leaf = here;
      used.push(here);
      break;
    }
    used.push(here);
    table = addrBits(entry, 12);
    level--;
  }

  // 4.6.1: a user-mode address has U/S=1 at every level; R/W=0 anywhere makes it
  // read-only; XD=1 anywhere (with NXE) makes it non-executable.
  const userAddr = used.every((e) => bit(e.value, 2) === 1n);
  const readOnly = used.some((e) => bit(e.value, 1) === 0n);
  const noExec = nxe && used.some((e) => bit(e.value, 63) === 1n);

  let allowed: boolean;
  if (userAccess) {
    // User-mode accesses: only to user-mode addresses.
    if (!userAddr) allowed = false;
    else if (isFetch) allowed = !noExec;
    else if (isWrite) allowed = !readOnly;
    else allowed = true;
  } else if (isFetch) {
    // Supervisor-mode instruction fetches.
    if (userAddr) allowed = !smep && !noExec;
    else allowed = !noExec;
  } else if (userAddr) {
    // Supervisor-mode data accesses to user-mode addresses: SMAP forbids them
    // unless they are explicit and RFLAGS.AC = 1; then writes follow CR0.WP.
    if (smap && (implicitAccess || !ac)) allowed = false;
    else if (isWrite) allowed = !wp || !readOnly;
    else allowed = true;
  } else {
    // Supervisor-mode data accesses to supervisor-mode addresses.
    allowed = !isWrite || !wp || !readOnly;
  }

  // 4.6.2: protection keys, for data accesses to user-mode addresses.
  let pkFault = false;
  if (pke && userAddr && !isFetch) {
    const key = Number(bits(leaf!.value, 62, 59));
    const accessDisable = bit(regs.pkru, 2 * key) === 1n;
    const writeDisable = bit(regs.pkru, 2 * key + 1) === 1n;
    if (accessDisable) pkFault = true;
    else if (writeDisable && isWrite && (userAccess || wp)) pkFault = true;
  }

  // Every entry that referenced a table was used, whatever happens next.
  setAccessed(memory, used.slice(0, -1));
  if (!allowed || pkFault) return { kind: "pf", errorCode: 1 | W | U | ID | (pkFault ? 32 : 0) };

  // 4.8: the leaf gets A on any access and D on a write.
  let value = memory.get(leaf!.pa) ?? leaf!.value;
  value |= 1n << 5n;
  if (isWrite) value |= 1n << 6n;
  if (value !== (memory.get(leaf!.pa) ?? 0n)) memory.set(leaf!.pa, value);
  const frame = addrBits(leaf!.value, 12) & ~(pageSize - 1n);
  return { kind: "ok", pa: frame | (access.va & (pageSize - 1n)), pageSize };
}

function setAccessed(memory: Map<bigint, bigint>, entries: { pa: bigint }[]): void {
  for (const e of entries) {
    const now = memory.get(e.pa) ?? 0n;
    if (!(now & (1n << 5n))) memory.set(e.pa, now | (1n << 5n));
  }
}
