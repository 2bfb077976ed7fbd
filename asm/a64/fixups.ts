// SPDX-License-Identifier: MIT
//
// Fields filled in once addresses are known. PC-relative fields follow the
// ELF for the Arm 64-bit Architecture relocations GNU as and ld resolve
// (R_AARCH64_JUMP26/CALL26, CONDBR19, TSTBR14, LD_PREL_LO19, ADR_PREL_LO21,
// ADR_PREL_PG_HI21, ADD_ABS_LO12_NC, LDST*_ABS_LO12_NC), with GNU as's
// messages. A "late" immediate is GNU as's internal fixup for an immediate
// whose value is not known on its line (MOV, ADD, MOVZ, SVC, LDR offsets):
// the whole instruction is chosen again once the value is known.

import { AsmError, type Fixup, type Instruction } from "../backend.ts";
import type { Expr } from "../expr.ts";

export function readWord(bytes: Uint8Array, offset = 0): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

export function writeWord(bytes: Uint8Array, word: number, offset = 0): void {
  bytes[offset] = word & 0xff;
  bytes[offset + 1] = (word >>> 8) & 0xff;
  bytes[offset + 2] = (word >>> 16) & 0xff;
  bytes[offset + 3] = (word >>> 24) & 0xff;
}

/** An instruction word with no fixups. A64 instructions are little-endian in memory (DDI0487 B2.6.2). */
export function word(w: number, fixups: Fixup[] = []): Instruction {
  const bytes = new Uint8Array(4);
  writeWord(bytes, w >>> 0);
  return { bytes, fixups };
}

/** Replaces the bits under `mask` in the instruction word. */
function setField(bytes: Uint8Array, mask: number, bits: number): void {
  writeWord(bytes, ((readWord(bytes) & ~mask) | (bits & mask)) >>> 0);
}

const fits = (v: bigint, bits: number) => v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits - 1);

/** How each PC-relative field is placed: width of the signed field in bits (after scaling), its position, and GNU as's messages. */
interface PcRelField {
  bits: number;
  shift: number;
  scale: number;
  misaligned?: string;
  range: string;
}

export const PCREL = {
  /** B, BL: imm26 at [25:0], offset / 4 (R_AARCH64_JUMP26, CALL26). */
  branch26: { bits: 26, shift: 0, scale: 2, misaligned: "branch target not word aligned", range: "branch out of range" },
  /** B.cond, CBZ, CBNZ: imm19 at [23:5] (R_AARCH64_CONDBR19). */
  cond19: { bits: 19, shift: 5, scale: 2, misaligned: "conditional branch target not word aligned", range: "conditional branch out of range" },
  /** TBZ, TBNZ: imm14 at [18:5] (R_AARCH64_TSTBR14). */
  tbz14: { bits: 14, shift: 5, scale: 2, misaligned: "conditional branch target not word aligned", range: "conditional branch out of range" },
  /** LDR (literal), LDRSW (literal): imm19 at [23:5] (R_AARCH64_LD_PREL_LO19). */
  literal19: { bits: 19, shift: 5, scale: 2, misaligned: "pc-relative load offset not word aligned", range: "pc-relative load offset out of range" },
} satisfies Record<string, PcRelField>;

/** A fixup for a scaled PC-relative field. */
export function pcRelFixup(expr: Expr, f: PcRelField): Fixup {
  const mask = ((1 << f.bits) - 1) << f.shift;
  return {
    offset: 0,
    expr,
    apply(bytes, value, address) {
      const delta = BigInt.asIntN(64, value - address);
      if (f.misaligned && delta & ((1n << BigInt(f.scale)) - 1n)) return f.misaligned;
      const scaled = delta >> BigInt(f.scale);
      if (!fits(scaled, f.bits)) return f.range;
      setField(bytes, mask, Number(BigInt.asUintN(f.bits, scaled)) << f.shift);
      return undefined;
    },
  };
}

/** ADR: a 21-bit byte offset split into immlo [30:29] and immhi [23:5] (R_AARCH64_ADR_PREL_LO21). */
function setAdrImmediate(bytes: Uint8Array, imm21: bigint): void {
  const v = Number(BigInt.asUintN(21, imm21));
  setField(bytes, (3 << 29) | (0x7ffff << 5), ((v & 3) << 29) | ((v >> 2) << 5));
}

export function adrFixup(expr: Expr): Fixup {
  return {
    offset: 0,
    expr,
    apply(bytes, value, address) {
      const delta = BigInt.asIntN(64, value - address);
      if (!fits(delta, 21)) return "pc-relative address offset out of range";
      setAdrImmediate(bytes, delta);
      return undefined;
    },
  };
}

/** ADRP: the distance in 4KB pages between the target's page and the instruction's (R_AARCH64_ADR_PREL_PG_HI21, as ld computes it). */
export function adrpFixup(expr: Expr): Fixup {
  return {
    offset: 0,
    expr,
    apply(bytes, value, address) {
      const pages = BigInt.asIntN(64, (value & ~0xfffn) - (address & ~0xfffn)) >> 12n;
      if (!fits(pages, 21)) return "relocation truncated to fit: R_AARCH64_ADR_PREL_PG_HI21";
      setAdrImmediate(bytes, pages);
      return undefined;
    },
  };
}

/**
 * :lo12: in ADD (immediate), R_AARCH64_ADD_ABS_LO12_NC, and in a load or
 * store's unsigned offset, R_AARCH64_LDST{8,16,32,64,128}_ABS_LO12_NC: the low
 * 12 bits of the address, divided by the access size, into imm12 [21:10].
 * ld reports a low part that the access size does not divide.
 */
export function lo12Fixup(expr: Expr, accessBytes: 0 | 1 | 2 | 4 | 8 | 16): Fixup {
  const name = accessBytes === 0 ? "R_AARCH64_ADD_ABS_LO12_NC" : `R_AARCH64_LDST${accessBytes * 8}_ABS_LO12_NC`;
  const scale = BigInt(Math.max(accessBytes, 1));
  return {
    offset: 0,
    expr,
    apply(bytes, value) {
      const lo = value & 0xfffn;
      if (lo % scale) return `relocation truncated to fit: ${name}`;
      setField(bytes, 0xfff << 10, Number(lo / scale) << 10);
      return undefined;
    },
  };
}

/**
 * A whole instruction chosen again once an immediate's value is known.
 * `encode` throws AsmError with GNU as's message for a value that does not fit.
 */
export function lateFixup(expr: Expr, encode: (value: bigint) => number): Fixup {
  return {
    offset: 0,
    expr,
    apply(bytes, value) {
      try {
        writeWord(bytes, encode(value) >>> 0);
        return undefined;
      } catch (e) {
        if (e instanceof AsmError) return e.message;
        throw e;
      }
    },
  };
}

/** The instruction for an immediate GNU as resolves late: encoded now if its value is known, else a placeholder and a late fixup. */
export function lateImmediate(imm: { expr: Expr; value?: bigint }, encode: (value: bigint) => number): Instruction {
  if (imm.value !== undefined) return word(encode(imm.value));
  let placeholder = 0;
  try {
    placeholder = encode(0n);
  } catch {
    // Zero does not fit this field either; the fixup writes the whole word.
  }
  return word(placeholder, [lateFixup(imm.expr, encode)]);
}
