// SPDX-License-Identifier: MIT
//
// The page-fault error code (Intel SDM Vol.3A 4.7, figure 4-12).

export const PFERR_P: u32 = 1 << 0;
export const PFERR_W: u32 = 1 << 1;
export const PFERR_U: u32 = 1 << 2;
export const PFERR_RSVD: u32 = 1 << 3;
export const PFERR_ID: u32 = 1 << 4;
export const PFERR_PK: u32 = 1 << 5;
export const PFERR_SS: u32 = 1 << 6;

/** Page-fault vector. */
export const VECTOR_PF: u32 = 14;
