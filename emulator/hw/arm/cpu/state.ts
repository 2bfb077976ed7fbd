// SPDX-License-Identifier: MIT
//
// The A64 registers of the selected CPU (layout.ts A64_*). Register number 31
// is the zero register or the stack pointer depending on the operand
// (DDI0487 C1.2.5): xr/setX read it as XZR, xsp/setXsp as the current SP.
// The current SP is SP_EL0 when PSTATE.SP (M[0]) is 0 — always at EL0 — and
// SP_EL1 otherwise.

import { C } from "../../cpu";
import { A64_X, A64_SP_EL0, A64_SP_EL1, A64_PSTATE, CPU_AC_KIND, ARM_PSTATE, CPU_ARM } from "../../layout";
import { ARM_ACC_EL0, ARM_ACC_PAN } from "../vmsa/permissions";

// PSTATE in SPSR format (DDI0487 C5.2.18).
export const PSTATE_N: u64 = <u64>1 << 31;
export const PSTATE_Z: u64 = 1 << 30;
export const PSTATE_C: u64 = 1 << 29;
export const PSTATE_V: u64 = 1 << 28;
export const PSTATE_NZCV: u64 = <u64>0xF << 28;
export const PSTATE_PAN_BIT: u64 = 1 << 22;
export const PSTATE_IL: u64 = 1 << 20;
export const PSTATE_D: u64 = 1 << 9;
export const PSTATE_A: u64 = 1 << 8;
export const PSTATE_I: u64 = 1 << 7;
export const PSTATE_F: u64 = 1 << 6;
export const PSTATE_DAIF: u64 = 0xF << 6;
/** M[3:0]: EL in bits 3:2, SPSel in bit 0; M[4] (AArch32) is always 0 here. */
export const PSTATE_M: u64 = 0x1F;
export const PSTATE_SP: u64 = 1;
/** The bits an SPSR keeps (what ERET restores). */
export const SPSR_MASK: u64 = PSTATE_NZCV | PSTATE_PAN_BIT | PSTATE_IL | PSTATE_DAIF | PSTATE_M;

@inline export function pstate(): u64 {
  return load<u64>(C + A64_PSTATE);
}

/** Writes PSTATE and mirrors PAN where the MMU reads it. */
export function setPstate(v: u64): void {
  store<u64>(C + A64_PSTATE, v);
  const p = C + CPU_ARM + (<usize>ARM_PSTATE << 3);
  store<u64>(p, (load<u64>(p) & ~PSTATE_PAN_BIT) | (v & PSTATE_PAN_BIT));
  store<u32>(C + CPU_AC_KIND, v & PSTATE_PAN_BIT ? ARM_ACC_PAN : 0);
}

@inline export function currentEl(): u32 {
  return <u32>(pstate() >> 2) & 3;
}

/** The access-kind bits of the current privilege: ARM_ACC_EL0 at EL0, with PSTATE.PAN folded in. */
@inline export function privKind(): u32 {
  return (currentEl() == 0 ? ARM_ACC_EL0 : 0) | load<u32>(C + CPU_AC_KIND);
}

@inline export function spOffset(): usize {
  return pstate() & PSTATE_SP ? A64_SP_EL1 : A64_SP_EL0;
}

/** Xn, with 31 as XZR. */
@inline export function xr(n: u32): u64 {
  return n == 31 ? 0 : load<u64>(C + A64_X + (<usize>n << 3));
}

@inline export function setX(n: u32, v: u64): void {
  if (n != 31) store<u64>(C + A64_X + (<usize>n << 3), v);
}

/** Xn, with 31 as the current SP. */
@inline export function xsp(n: u32): u64 {
  return load<u64>(C + (n == 31 ? spOffset() : <usize>A64_X + (<usize>n << 3)));
}

@inline export function setXsp(n: u32, v: u64): void {
  store<u64>(C + (n == 31 ? spOffset() : <usize>A64_X + (<usize>n << 3)), v);
}

/** Writes Rd of an operation of datasize 32 (zero-extended) or 64. */
@inline export function setXs(n: u32, v: u64, sf: bool): void {
  setX(n, sf ? v : v & 0xFFFF_FFFF);
}

/** ConditionHolds (DDI0487 J1.3 shared/functions/system/ConditionHolds). */
@inline export function conditionHolds(cond: u32): bool {
  const p = pstate();
  const n = (p & PSTATE_N) != 0;
  const z = (p & PSTATE_Z) != 0;
  const c = (p & PSTATE_C) != 0;
  const v = (p & PSTATE_V) != 0;
  let r: bool;
  switch (cond >> 1) {
    case 0: r = z; break;
    case 1: r = c; break;
    case 2: r = n; break;
    case 3: r = v; break;
    case 4: r = c && !z; break;
    case 5: r = n == v; break;
    case 6: r = n == v && !z; break;
    default: r = true; break;
  }
  // cond<0> = 1 inverts, except for 0b1111 ("always" too).
  if ((cond & 1) && cond != 15) r = !r;
  return r;
}

@inline export function setNzcv(nzcv: u64): void {
  store<u64>(C + A64_PSTATE, (pstate() & ~PSTATE_NZCV) | (nzcv << 28));
}
