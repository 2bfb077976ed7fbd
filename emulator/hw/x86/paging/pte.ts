// SPDX-License-Identifier: MIT
//
// Paging-structure entry formats for 4-level and 5-level paging
// (Intel SDM Vol.3A 4.5, tables 4-14 to 4-20).

export const PTE_P: u64 = 1 << 0;
export const PTE_RW: u64 = 1 << 1;
export const PTE_US: u64 = 1 << 2;
export const PTE_PWT: u64 = 1 << 3;
export const PTE_PCD: u64 = 1 << 4;
export const PTE_A: u64 = 1 << 5;
export const PTE_D: u64 = 1 << 6;
/** Bit 7: PS in a PDPTE or PDE, PAT in a PTE; reserved in a PML4E/PML5E. */
export const PTE_PS: u64 = 1 << 7;
export const PTE_PAT_4K: u64 = 1 << 7;
export const PTE_G: u64 = 1 << 8;
/** PAT bit of a 2 MiB or 1 GiB page. */
export const PTE_PAT_LARGE: u64 = 1 << 12;
export const PTE_PK_SHIFT: u32 = 59;
export const PTE_XD: u64 = 1 << 63;

/** Bits 51:12, the widest physical-address field of any entry. */
export const PTE_ADDR_MAX: u64 = 0x000F_FFFF_FFFF_F000;

/** Bits a leaf may change without an invalidation being needed: A, D and the ignored bits. */
export const LEAF_IGNORED: u64 = PTE_A | PTE_D | 0xE00 | (<u64>0x7F << 52);
/** The same for an entry that references a table: bits 6 and 8 are ignored there too. */
export const TABLE_IGNORED: u64 = PTE_A | (1 << 6) | PTE_G | 0xE00 | (<u64>0x7FF << 52);

/** Physical-address bits 51:MAXPHYADDR, reserved in every entry (SDM Vol.3 4.5.4). */
@inline export function rsvdAddrBits(maxPhys: u32): u64 {
  return PTE_ADDR_MAX & ~((<u64>1 << maxPhys) - 1);
}

/** Mask of the address bits maxPhys-1:12. */
@inline export function addrMask(maxPhys: u32): u64 {
  return ((<u64>1 << maxPhys) - 1) & ~<u64>0xFFF;
}
