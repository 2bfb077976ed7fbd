// SPDX-License-Identifier: MIT
//
// Operands of a decoded instruction: the effective address of its memory
// operand (SDM Vol.1 3.7.5: base + index × scale + displacement, RIP-
// relative from the next instruction, FS/GS base added, 32-bit with 0x67),
// and reads and writes of its E (r/m) operand.

import { C } from "../../cpu";
import { X86_FS_BASE, X86_GS_BASE } from "../../layout";
import { D_RM, D_BASE, D_INDEX, D_SCALE, D_DISP, D_SEG, D_FLAGS, RM_MEM, BASE_NONE, BASE_RIP, INDEX_NONE, SEG_FS, SEG_GS, F_ADDR32 } from "./ops";
import { gpr, readReg, writeReg } from "./state";
import { readMem, writeMem, dataKind, setStackAccess } from "./mem";

/** The linear address of the memory operand. */
export function effectiveAddress(d: usize, nextRip: u64): u64 {
  let a: u64 = <u64>(<i64>load<i32>(d, D_DISP));
  const base = <u32>load<u8>(d, D_BASE);
  if (base == BASE_RIP) a += nextRip;
  else if (base != BASE_NONE) a += gpr(base);
  const index = <u32>load<u8>(d, D_INDEX);
  if (index != INDEX_NONE) a += gpr(index) << <u64>load<u8>(d, D_SCALE);
  if (load<u8>(d, D_FLAGS) & F_ADDR32) a &= 0xFFFF_FFFF;
  const seg = load<u8>(d, D_SEG);
  if (seg == SEG_FS) a += load<u64>(C + X86_FS_BASE);
  else if (seg == SEG_GS) a += load<u64>(C + X86_GS_BASE);
  // A memory operand based on RSP or RBP is a stack access: #SS(0), not #GP(0), when non-canonical.
  setStackAccess(base == 4 || base == 5);
  return a;
}

@inline export function isMemOperand(d: usize): bool {
  return load<u8>(d, D_RM) == RM_MEM;
}

/** Reads the E operand (register or memory). */
export function readE(d: usize, size: u32, nextRip: u64): u64 {
  const rm = <u32>load<u8>(d, D_RM);
  if (rm != <u32>RM_MEM) return readReg(rm, size);
  return readMem(effectiveAddress(d, nextRip), size, dataKind(false));
}

/** Writes the E operand. */
export function writeE(d: usize, size: u32, v: u64, nextRip: u64): void {
  const rm = <u32>load<u8>(d, D_RM);
  if (rm != <u32>RM_MEM) {
    writeReg(rm, size, v);
    return;
  }
  writeMem(effectiveAddress(d, nextRip), size, v, dataKind(true));
}
