// SPDX-License-Identifier: MIT
//
// The fields after the opcode bytes (displacement, immediate, branch offset,
// 64-bit address): writing a known value, or a fixup that writes it once the
// core knows it and complains as GNU as (or ld) would when it does not fit.

import { AsmError, type Fixup } from "../backend.ts";
import type { Expr } from "../expr.ts";

const hex64 = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, "0");
export const hex = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** A field written after the opcode bytes: displacement, immediate, branch offset or moffs. */
export interface Field {
  size: 1 | 2 | 4 | 8;
  value?: bigint;
  expr?: Expr;
  /** How apply() checks an unknown value: GNU as's signed and unsigned fixups, or PC-relative. */
  check?: "signed" | "unsigned" | "pcrel" | "none";
}

/** GNU as's offset_in_range: a constant too wide for its field is cut, with a warning that is an error here. */
export function offsetInRange(v: bigint, bytes: number): bigint {
  const mask = (1n << BigInt(bytes * 8)) - 1n;
  const u = BigInt.asUintN(64, v);
  if ((u & ~mask) !== 0n && (BigInt.asUintN(64, -v) & ~mask) !== 0n) {
    throw new AsmError(`${hex(v)} shortened to ${hex(u & mask)}`);
  }
  return u & mask;
}

export function writeLE(bytes: Uint8Array, offset: number, size: number, value: bigint): void {
  let v = BigInt.asUintN(64, value);
  for (let i = 0; i < size; i++) {
    bytes[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** The message GNU as (or ld, for PC-relative fields it leaves as relocations) gives for a value too wide for its field. */
function rangeError(field: Field, v: bigint, at: bigint): string | undefined {
  const bits = BigInt(field.size * 8);
  if (field.size === 8 || field.check === "none") return undefined;
  const mask = BigInt.asUintN(64, ~0n << (field.check === "unsigned" ? bits : bits - 1n));
  const u = BigInt.asUintN(64, v);
  const tooLarge =
    field.check === "unsigned"
      ? (u & mask) !== 0n && (BigInt.asUintN(64, -v) & mask) !== 0n
      : (u & mask) !== 0n && (u & mask) !== mask;
  if (!tooLarge) return undefined;
  if (field.check === "pcrel" && field.size === 4) {
    const name = field.expr?.kind === "sym" ? field.expr.name : "*ABS*";
    return `relocation truncated to fit: R_X86_64_PC32 against \`${name}'`;
  }
  return `value of ${hex64(v)} too large for field of ${field.size} byte${field.size > 1 ? "s" : ""} at ${hex64(at)}`;
}

export function makeFixup(field: Field, offset: number, length: number): Fixup {
  return {
    offset,
    expr: field.expr!,
    apply(bytes, value, address) {
      // Addresses wrap at 2^64, so a branch from near 0 to near 2^64 is a small negative displacement.
      const v = field.check === "pcrel" ? BigInt.asIntN(64, value - (address + BigInt(length))) : value;
      const error = rangeError(field, v, address + BigInt(offset));
      if (error) return error;
      writeLE(bytes, offset, field.size, v);
      return undefined;
    },
  };
}
