// SPDX-License-Identifier: MIT
//
// x86-64 control-register and MSR bits that paging depends on, spelled as in
// the Intel SDM (Vol.3A 2.5 for CR0/CR4, 2.2.1 for IA32_EFER, 4.6.2 for PKRU).

import { C } from "../cpu";
import { CPU_CR0, CPU_CR3, CPU_CR4, CPU_EFER, CPU_RFLAGS, CPU_PKRU, CPU_PAT } from "../layout";

export const CR0_PE: u64 = 1 << 0;
export const CR0_WP: u64 = 1 << 16;
export const CR0_PG: u64 = 1 << 31;

export const CR3_PWT: u64 = 1 << 3;
export const CR3_PCD: u64 = 1 << 4;
export const CR3_PCID_MASK: u64 = 0xFFF;
/** MOV to CR3 with CR4.PCIDE=1: bit 63 set means "do not invalidate" (SDM Vol.3 4.10.4.1). */
export const CR3_NOFLUSH: u64 = 1 << 63;

export const CR4_PSE: u64 = 1 << 4;
export const CR4_PAE: u64 = 1 << 5;
export const CR4_PGE: u64 = 1 << 7;
export const CR4_LA57: u64 = 1 << 12;
export const CR4_PCIDE: u64 = 1 << 17;
export const CR4_SMEP: u64 = 1 << 20;
export const CR4_SMAP: u64 = 1 << 21;
export const CR4_PKE: u64 = 1 << 22;

export const EFER_SCE: u64 = 1 << 0;
export const EFER_LME: u64 = 1 << 8;
export const EFER_LMA: u64 = 1 << 10;
export const EFER_NXE: u64 = 1 << 11;

export const RFLAGS_AC: u64 = 1 << 18;

/** IA32_PAT after reset: WB, WT, UC-, UC, WB, WT, UC-, UC (SDM Vol.3 12.12.4). */
export const PAT_RESET: u64 = 0x0007040600070406;

@inline export function cr0(): u64 { return load<u64>(C + CPU_CR0); }
@inline export function cr3(): u64 { return load<u64>(C + CPU_CR3); }
@inline export function cr4(): u64 { return load<u64>(C + CPU_CR4); }
@inline export function efer(): u64 { return load<u64>(C + CPU_EFER); }
@inline export function rflags(): u64 { return load<u64>(C + CPU_RFLAGS); }
@inline export function pkru(): u32 { return load<u32>(C + CPU_PKRU); }
@inline export function pat(): u64 { return load<u64>(C + CPU_PAT); }
