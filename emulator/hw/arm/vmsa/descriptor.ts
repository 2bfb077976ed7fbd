// SPDX-License-Identifier: MIT
//
// VMSAv8-64 translation table descriptors, 4 KiB granule (Arm ARM D8.3).

export const DESC_VALID: u64 = 1 << 0;
/** Bit 1: table (levels 0-2) or page (level 3); 0 means block at levels 1-2. */
export const DESC_TABLE: u64 = 1 << 1;

// Block and page descriptor attributes (stage 1).
export const DESC_ATTRINDX_SHIFT: u32 = 2;
export const DESC_NS: u64 = 1 << 5;
export const DESC_AP1: u64 = 1 << 6;
export const DESC_AP2: u64 = 1 << 7;
export const DESC_SH_SHIFT: u32 = 8;
export const DESC_AF: u64 = 1 << 10;
export const DESC_NG: u64 = 1 << 11;
export const DESC_DBM: u64 = <u64>1 << 51;
export const DESC_CONT: u64 = <u64>1 << 52;
export const DESC_PXN: u64 = <u64>1 << 53;
export const DESC_UXN: u64 = <u64>1 << 54;

// Table descriptor attributes (stage 1).
export const DESC_PXNTABLE: u64 = <u64>1 << 59;
export const DESC_XNTABLE: u64 = <u64>1 << 60;
export const DESC_APTABLE0: u64 = <u64>1 << 61;
export const DESC_APTABLE1: u64 = <u64>1 << 62;

// Stage 2 block and page descriptors.
export const S2_MEMATTR_SHIFT: u32 = 2;
/** S2AP[0]: readable; S2AP[1]: writable. */
export const S2_AP_R: u64 = 1 << 6;
export const S2_AP_W: u64 = 1 << 7;
export const S2_XN_SHIFT: u32 = 53;

/** Output-address bits 47:12 of a descriptor (4 KiB granule, TCR.DS=0). */
export const DESC_OA_MASK: u64 = 0x0000_FFFF_FFFF_F000;
