// SPDX-License-Identifier: MIT
//
// Access rights (Intel SDM Vol.3A 4.6) as a pure function of the access kind
// and the translation's combined rights, and the per-CPU "allow table" that
// caches that function for the TLB-hit path.
//
// The allow table has one 256-bit row per access kind. A row is indexed by the
// attrs byte that TLB entries carry (ATTR_*), and a set bit means "this access
// may complete from the TLB without a walk": the access is permitted and, for
// a write, the entry is already dirty. It is rebuilt whenever CR0, CR4, EFER or
// PKRU change; RFLAGS.AC selects between two rows instead, so STAC/CLAC cost
// nothing.

import { C } from "../../cpu";
import { CPU_ALLOW, CPU_ALLOW_KEY } from "../../layout";
import { cr0, cr4, efer, pkru, CR0_WP, CR4_SMEP, CR4_SMAP, CR4_PKE, EFER_NXE } from "../regs";
import { PFERR_P, PFERR_W, PFERR_U, PFERR_ID, PFERR_PK } from "./pferr";

// ── Access kinds ─────────────────────────────────────────────────────────────
export const ACC_READ: u32 = 0;
export const ACC_WRITE: u32 = 1;
export const ACC_FETCH: u32 = 2;
/** A user-mode access (CPL = 3 and not an implicit supervisor-mode access). */
export const ACC_USER: u32 = 4;
/** An implicit supervisor-mode access (e.g. to the GDT or TSS): SMAP ignores RFLAGS.AC. */
export const ACC_IMPLICIT: u32 = 8;
/** RFLAGS.AC was 1; folded in by translate, never passed by callers. */
export const ACC_AC: u32 = 16;
export const ACC_KINDS: u32 = 32;

// ── The attrs byte of a TLB entry ────────────────────────────────────────────
/** Is this a user-mode address (U/S=1 at every level)? */
export const ATTR_U: u32 = 1;
/** Is it writable (R/W=1 at every level)? */
export const ATTR_W: u32 = 2;
/** Was XD=1 at some level? (Effective only with IA32_EFER.NXE=1.) */
export const ATTR_XD: u32 = 4;
/** Was the leaf dirty when the entry was filled? */
export const ATTR_D: u32 = 8;
export const ATTR_PKEY_SHIFT: u32 = 4;

/** Error-code bits every #PF for this access carries: W/R, U/S and I/D (SDM Vol.3A 4.7). */
export function accessErrorBits(kind: u32): u32 {
  let code: u32 = 0;
  if (kind & ACC_WRITE) code |= PFERR_W;
  if (kind & ACC_USER) code |= PFERR_U;
  if ((kind & ACC_FETCH) && (efer() & EFER_NXE || cr4() & CR4_SMEP)) code |= PFERR_ID;
  return code;
}

/**
 * Does the access violate the U/S, R/W, XD, SMEP or SMAP rules of SDM Vol.3A
 * 4.6.1? Protection keys are separate (pkDenies).
 */
function rightsDeny(kind: u32, attrs: u32): bool {
  const userAddr = (attrs & ATTR_U) != 0;
  const writable = (attrs & ATTR_W) != 0;
  const noExec = (attrs & ATTR_XD) != 0 && (efer() & EFER_NXE) != 0;
  const write = (kind & ACC_WRITE) != 0;
  if (kind & ACC_USER) {
    if (!userAddr) return true;
    if (kind & ACC_FETCH) return noExec;
    return write && !writable;
  }
  if (kind & ACC_FETCH) {
    if (noExec) return true;
    return userAddr && (cr4() & CR4_SMEP) != 0;
  }
  // Supervisor-mode data access. SMAP forbids user-mode addresses unless the
  // access is explicit and RFLAGS.AC=1; what remains is the CR0.WP rule.
  if (userAddr && (cr4() & CR4_SMAP) && ((kind & ACC_IMPLICIT) || !(kind & ACC_AC))) return true;
  return write && !writable && (cr0() & CR0_WP) != 0;
}

/**
 * Does PKRU forbid the access (SDM Vol.3A 4.6.2)? Keys apply to data accesses
 * to user-mode addresses, from either mode; WD stops supervisor writes only
 * when CR0.WP=1.
 */
function pkDenies(kind: u32, attrs: u32): bool {
  if (!(cr4() & CR4_PKE) || !(attrs & ATTR_U) || (kind & ACC_FETCH)) return false;
  const key = (attrs >> ATTR_PKEY_SHIFT) & 15;
  const rights = pkru() >> (key * 2);
  if (rights & 1) return true;
  return (rights & 2) != 0 && (kind & ACC_WRITE) != 0 && ((kind & ACC_USER) != 0 || (cr0() & CR0_WP) != 0);
}

/**
 * The #PF error code of a protection violation, or 0 when the access is
 * allowed. The PK bit is set whenever the key forbids the access, whether or
 * not another right is also missing (SDM Vol.3A 4.7).
 */
export function protectionFault(kind: u32, attrs: u32): u32 {
  const pk = pkDenies(kind, attrs);
  if (!pk && !rightsDeny(kind, attrs)) return 0;
  return PFERR_P | accessErrorBits(kind) | (pk ? PFERR_PK : 0);
}

/**
 * Everything the allow table depends on, in one word that is never 0: bit 0
 * set, then CR0.WP, CR4.SMEP, CR4.SMAP, CR4.PKE and EFER.NXE, and PKRU in the
 * high half when CR4.PKE makes it count.
 */
function allowKey(): u64 {
  const pke = (cr4() & CR4_PKE) != 0;
  let key: u64 = 1;
  if (cr0() & CR0_WP) key |= 2;
  if (cr4() & CR4_SMEP) key |= 4;
  if (cr4() & CR4_SMAP) key |= 8;
  if (pke) key |= 16;
  if (efer() & EFER_NXE) key |= 32;
  if (pke) key |= (<u64>pkru()) << 32;
  return key;
}

/**
 * Rebuilds the selected CPU's allow table from CR0, CR4, EFER and PKRU,
 * unless it was built from the same bits: a hypervisor loads a vCPU's
 * registers at every switch, mostly with the values they had.
 */
export function rebuildAllowTable(): void {
  const key = allowKey();
  if (load<u64>(C + CPU_ALLOW_KEY) == key) return;
  store<u64>(C + CPU_ALLOW_KEY, key);
  // The table is a function of the key alone: the last one built, by any
  // CPU, is copied rather than worked out again (8,192 checks). A
  // hypervisor's vCPUs mostly share their control registers.
  if (key == lastAllowKey) {
    memory.copy(C + CPU_ALLOW, lastAllowTable, ALLOW_TABLE_BYTES);
    return;
  }
  buildAllowTable();
  memory.copy(lastAllowTable, C + CPU_ALLOW, ALLOW_TABLE_BYTES);
  lastAllowKey = key;
}

const ALLOW_TABLE_BYTES: usize = <usize>ACC_KINDS * 32;
/** The key of the table last built (0: none; a key is never 0) and its copy. */
let lastAllowKey: u64 = 0;
const lastAllowTable: usize = memory.data(<i32>ALLOW_TABLE_BYTES, 8);

function buildAllowTable(): void {
  // Without CR4.PKE the protection key (attrs bits 7:4) decides nothing
  // (pkDenies), so a row is its first 16 bits over and over: 512 checks
  // instead of 8,192 for a table each new machine builds.
  const keys = (cr4() & CR4_PKE) != 0;
  for (let kind: u32 = 0; kind < ACC_KINDS; kind++) {
    const row = C + CPU_ALLOW + (<usize>kind << 5);
    const valid = (kind & 3) != 3 && !((kind & ACC_USER) && (kind & ACC_IMPLICIT));
    if (!keys) {
      let bits: u64 = 0;
      if (valid) {
        for (let attrs: u32 = 0; attrs < 16; attrs++) {
          const needsDirty = (kind & ACC_WRITE) != 0 && (attrs & ATTR_D) == 0;
          if (!needsDirty && protectionFault(kind, attrs) == 0) bits |= <u64>1 << attrs;
        }
      }
      const repeated = bits * 0x0001_0001_0001_0001;
      for (let word: u32 = 0; word < 4; word++) store<u64>(row + (<usize>word << 3), repeated);
      continue;
    }
    for (let word: u32 = 0; word < 4; word++) {
      let bits: u64 = 0;
      if (valid) {
        for (let bit: u32 = 0; bit < 64; bit++) {
          const attrs = word * 64 + bit;
          const needsDirty = (kind & ACC_WRITE) != 0 && (attrs & ATTR_D) == 0;
          if (!needsDirty && protectionFault(kind, attrs) == 0) bits |= <u64>1 << bit;
        }
      }
      store<u64>(row + (<usize>word << 3), bits);
    }
  }
}
