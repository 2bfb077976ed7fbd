// SPDX-License-Identifier: MIT
//
// x86-64 page-table entries as Xen's PV code reads them
// (xen/arch/x86/include/asm/page.h, x86_64/page.h): the MFN in bits 51:12
// and 24 bits of flags, bits 11:0 of the entry and bits 63:52 moved down to
// 23:12 (get_pte_flags), so that NX is flag bit 23.

export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_PWT = 0x008;
export const _PAGE_PCD = 0x010;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
export const _PAGE_PAT = 0x080;
export const _PAGE_PSE = 0x080;
export const _PAGE_GLOBAL = 0x100;
export const _PAGE_AVAIL = 0xe00;
/** Entry bits 62:52, available to software. */
export const _PAGE_AVAIL_HIGH = 0x7ff << 12;
/** Entry bit 63. */
export const _PAGE_NX = 1 << 23;
export const PAGE_CACHE_ATTRS = _PAGE_PAT | _PAGE_PCD | _PAGE_PWT;

/** The flags a PV guest may set in any entry (arch_init_memory's base_disallow_mask is the rest). */
const GUEST_FLAGS = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_AVAIL | _PAGE_AVAIL_HIGH | _PAGE_NX;
const BASE_DISALLOW_MASK = ~GUEST_FLAGS & 0xff_ffff;
/**
 * L1: the global bit is allowed; cache attributes are not for a PV domain
 * without cache-flush rights (mm.c l1_disallow_mask).
 */
export const L1_DISALLOW_MASK = BASE_DISALLOW_MASK & ~_PAGE_GLOBAL;
/** L2..L4: PSE among the disallowed bits, so a PV guest has no superpages. */
export const L2_DISALLOW_MASK = BASE_DISALLOW_MASK;
export const L3_DISALLOW_MASK = BASE_DISALLOW_MASK;
export const L4_DISALLOW_MASK = BASE_DISALLOW_MASK;
export const DISALLOW_MASK: Record<1 | 2 | 3 | 4, number> = { 1: L1_DISALLOW_MASK, 2: L2_DISALLOW_MASK, 3: L3_DISALLOW_MASK, 4: L4_DISALLOW_MASK };

/**
 * Flags a guest may change in a present entry without revalidation
 * (FASTPATH_FLAG_WHITELIST; with linear page tables allowed, RW is not among
 * them for the upper levels either).
 */
export const FASTPATH_FLAG_WHITELIST = _PAGE_NX | _PAGE_AVAIL_HIGH | _PAGE_AVAIL | _PAGE_GLOBAL | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_USER;

const MFN_MASK = 0x000f_ffff_ffff_f000n;

/** The 24 flag bits of an entry (get_pte_flags). */
export const pteFlags = (e: bigint): number => Number(((e >> 40n) & 0xff_f000n) | (e & 0xfffn));
/** The MFN an entry points at (l1e_get_pfn). */
export const pteMfn = (e: bigint): number => Number((e & MFN_MASK) >> 12n);
/** An entry from an MFN and 24-bit flags (l1e_from_pfn). */
export const makePte = (mfn: number, flags: number): bigint =>
  (BigInt(mfn) << 12n) | BigInt(flags & 0xfff) | (BigInt(flags & 0xff_f000) << 40n);
export const isPresent = (e: bigint): boolean => (e & 1n) === 1n;

/** l1e_has_changed: do two entries differ in their MFN, their presence, or a flag outside `ignored`? */
export function hasChanged(a: bigint, b: bigint, ignoredFlags: number): boolean {
  const keep = ~BigInt(ignoredFlags & 0xfff) & ~(BigInt(ignoredFlags & 0xff_f000) << 40n);
  return ((a ^ b) & BigInt.asUintN(64, keep)) !== 0n;
}

/** The MFN Xen uses for INVALID_MFN in an entry (PADDR_MASK >> PAGE_SHIFT). */
export const INVALID_PTE_MFN = 0xff_ffff_ffff;

export const L1_PAGETABLE_ENTRIES = 512;
/** L4 slots 256..271 belong to the hypervisor (ROOT_PAGETABLE_FIRST/LAST_XEN_SLOT). */
export const ROOT_PAGETABLE_FIRST_XEN_SLOT = 256;
export const ROOT_PAGETABLE_LAST_XEN_SLOT = 271;
/** is_guest_l4_slot for a 64-bit PV domain. */
export const isGuestL4Slot = (slot: number): boolean => slot < ROOT_PAGETABLE_FIRST_XEN_SLOT || slot > ROOT_PAGETABLE_LAST_XEN_SLOT;

/** The table index of va at a level (1..4). */
export const tableOffset = (va: bigint, level: number): number => Number((va >> BigInt(12 + 9 * (level - 1))) & 0x1ffn);

// A walk reads an entry per level: the same facts from numbers, with no
// bigint made per level (an entry as its two 32-bit halves, from
// MachineMemory.words; a VA as its page number).

/** Bits 47:12 of va, its page number in a 4-level walk (36 bits: exact as a number). */
export const vaPageNumber = (va: bigint): number => Number((va >> 12n) & 0xf_ffff_ffffn);
/** tableOffset from vaPageNumber's number. */
/** Pages per entry at each level (1..4): 512^(level - 1). */
const LEVEL_SPAN = [0, 1, 512, 512 * 512, 512 * 512 * 512];
export const pageNumberOffset = (vpn: number, level: number): number => Math.floor(vpn / LEVEL_SPAN[level]!) % 512;
/** pteFlags of the entry whose low and high 32 bits are lo and hi. */
export const wordsFlags = (lo: number, hi: number): number => (lo & 0xfff) | ((hi >>> 20) << 12);
/** pteMfn of the entry whose low and high 32 bits are lo and hi. */
export const wordsMfn = (lo: number, hi: number): number => (hi & 0xf_ffff) * 0x10_0000 + (lo >>> 12);

/** __addr_ok: is va outside the hypervisor's hole (below 2^47, or at or above HYPERVISOR_VIRT_END)? */
export const addrOk = (va: bigint): boolean => va < 1n << 47n || va >= 0xffff_8800_0000_0000n;
