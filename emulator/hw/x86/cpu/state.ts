// SPDX-License-Identifier: MIT
//
// General-purpose registers and RIP of the selected CPU, with the x86-64
// rules for partial writes (SDM Vol.1 3.4.1.1): a 32-bit write zero-extends
// to 64 bits, 8- and 16-bit writes leave the rest; byte registers 16..19 are
// AH, CH, DH, BH (bits 15:8 of RAX, RCX, RDX, RBX).

import { C } from "../../cpu";
import { X86_GPR, X86_RIP, X86_CPL } from "../../layout";

export const RAX: u32 = 0;
export const RCX: u32 = 1;
export const RDX: u32 = 2;
export const RBX: u32 = 3;
export const RSP: u32 = 4;
export const RBP: u32 = 5;
export const RSI: u32 = 6;
export const RDI: u32 = 7;
export const R11: u32 = 11;

@inline export function gpr(r: u32): u64 {
  return load<u64>(C + X86_GPR + (<usize>r << 3));
}

@inline export function setGpr(r: u32, v: u64): void {
  store<u64>(C + X86_GPR + (<usize>r << 3), v);
}

@inline export function rip(): u64 {
  return load<u64>(C + X86_RIP);
}

@inline export function setRip(v: u64): void {
  store<u64>(C + X86_RIP, v);
}

@inline export function cpl(): u32 {
  return load<u32>(C + X86_CPL);
}

/** Mask of an operand size in bytes. */
@inline export function sizeMask(size: u32): u64 {
  return size == 8 ? u64.MAX_VALUE : (<u64>1 << (<u64>size << 3)) - 1;
}

/** Sign bit of an operand size in bytes. */
@inline export function signBit(size: u32): u64 {
  return <u64>1 << ((<u64>size << 3) - 1);
}

/** Sign-extends the low `size` bytes of v. */
@inline export function signExtend(v: u64, size: u32): u64 {
  const sh = 64 - (<u64>size << 3);
  return <u64>((<i64>(v << sh)) >> sh);
}

/** A register operand of `size` bytes, zero-extended. */
@inline export function readReg(r: u32, size: u32): u64 {
  if (size == 8) return gpr(r);
  if (size == 1 && r >= 16) return (gpr(r - 16) >> 8) & 0xFF;
  return gpr(r) & sizeMask(size);
}

/** Writes a register operand of `size` bytes with the partial-write rules. */
@inline export function writeReg(r: u32, size: u32, v: u64): void {
  if (size == 8) setGpr(r, v);
  else if (size == 4) setGpr(r, v & 0xFFFF_FFFF);
  else if (size == 2) setGpr(r, (gpr(r) & ~<u64>0xFFFF) | (v & 0xFFFF));
  else if (r >= 16) setGpr(r - 16, (gpr(r - 16) & ~<u64>0xFF00) | ((v & 0xFF) << 8));
  else setGpr(r, (gpr(r) & ~<u64>0xFF) | (v & 0xFF));
}
