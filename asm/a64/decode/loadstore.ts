// SPDX-License-Identifier: MIT
//
// Loads and stores (DDI0487 C4.1.88) of general-purpose registers: single
// registers in every addressing mode, pairs, literals, exclusives,
// acquire/release, CAS, SWP and LD<op>/ST<op>. SIMD&FP registers, PRFM,
// the unprivileged LDTR forms and the rest are left undecoded.

import { immDec, instSource, type Insn } from "../format.ts";
import { xOrW } from "../registers.ts";
import { bit, bits, rdOf, rnOf, rmOf, signExtend, type DecodeContext, type DecodeResult } from "./fields.ts";

/** Mnemonic and register view (1 = X) by size:opc for one register; undefined where unallocated or outside the subset (PRFM). */
const SINGLE: readonly (readonly ([string, number] | undefined)[])[] = [
  [["strb", 0], ["ldrb", 0], ["ldrsb", 1], ["ldrsb", 0]],
  [["strh", 0], ["ldrh", 0], ["ldrsh", 1], ["ldrsh", 0]],
  [["str", 0], ["ldr", 0], ["ldrsw", 1], undefined],
  [["str", 1], ["ldr", 1], undefined, undefined],
];

/** The LDUR spelling of an LDR mnemonic: "ldrsb" -> "ldursb", "strh" -> "sturh". */
const unscaledName = (name: string) => name.replace(/^(ld|st)r/, "$1ur");

const base = (w: number) => xOrW(rnOf(w), 1, true);

/** Load/store register: unsigned offset (scaled imm12), or imm9 unscaled, post- and pre-indexed. */
function single(w: number, unsignedOffset: boolean): DecodeResult {
  const size = bits(w, 31, 30), opc = bits(w, 23, 22);
  const form = SINGLE[size]![opc];
  if (!form) return undefined;
  const [name, x] = form;
  const rt = xOrW(rdOf(w), x);
  if (unsignedOffset) {
    const offset = bits(w, 21, 10) << size;
    return { mnemonic: name, operands: [rt, offset ? `[${base(w)}, ${immDec(offset)}]` : `[${base(w)}]`] };
  }
  const imm9 = signExtend(bits(w, 20, 12), 9);
  switch (bits(w, 11, 10)) {
    case 0b00: return { mnemonic: unscaledName(name), operands: [rt, imm9 ? `[${base(w)}, ${immDec(imm9)}]` : `[${base(w)}]`] };
    case 0b01: return { mnemonic: name, operands: [rt, `[${base(w)}]`, immDec(imm9)] };
    case 0b11: return { mnemonic: name, operands: [rt, `[${base(w)}, ${immDec(imm9)}]!`] };
    default: return undefined;
  }
}

/** Options of the register-offset form (DDI0487 C6.2 "LDR (register)"): extend name and whether Rm is an X register. */
const REGISTER_OPTIONS: Readonly<Record<number, [string, number]>> = {
  0b010: ["uxtw", 0], 0b011: ["lsl", 1], 0b110: ["sxtw", 0], 0b111: ["sxtx", 1],
};

/**
 * Load/store register (register offset). S scales the index by the access
 * size; for bytes, S = 1 is printed as an explicit "#0" (binutils
 * print_register_offset_address).
 */
function registerOffset(w: number): DecodeResult {
  const size = bits(w, 31, 30), opc = bits(w, 23, 22);
  const form = SINGLE[size]![opc];
  const option = REGISTER_OPTIONS[bits(w, 15, 13)];
  if (!form || !option) return undefined;
  const [name, x] = form;
  const S = bit(w, 12);
  const [ext, indexX] = option;
  const index = xOrW(rmOf(w), indexX);
  let modifier = "";
  if (S) modifier = `, ${ext} #${size}`;
  else if (ext !== "lsl") modifier = `, ${ext}`;
  return { mnemonic: name, operands: [xOrW(rdOf(w), x), `[${base(w)}, ${index}${modifier}]`] };
}

/** LDR (literal): opc 011 0 00 imm19 Rt; opc 00 W, 01 X, 10 LDRSW (11 is PRFM). */
function literal(w: number, ctx: DecodeContext): DecodeResult {
  const opc = bits(w, 31, 30);
  if (opc === 3) return undefined;
  const target = BigInt.asUintN(64, ctx.address + (signExtend(bits(w, 23, 5), 19) << 2n));
  return { mnemonic: opc === 2 ? "ldrsw" : "ldr", operands: [xOrW(rdOf(w), opc === 0 ? 0 : 1), { target }] };
}

/** LDP/STP/LDPSW: opc 101 0 mode L imm7 Rt2 Rn Rt; mode 001 post, 010 offset, 011 pre (000, LDNP/STNP, left out). */
function pair(w: number): DecodeResult {
  const opc = bits(w, 31, 30), mode = bits(w, 25, 23), L = bit(w, 22);
  if (mode === 0 || opc === 3 || (opc === 1 && !L)) return undefined;
  const name = opc === 1 ? "ldpsw" : L ? "ldp" : "stp";
  const t = rdOf(w), n = rnOf(w), t2 = bits(w, 14, 10);
  // binutils verify_ldpsw: LDPSW with Rt = Rt2, or writing back to a base it loads, is undefined.
  if (opc === 1 && (t === t2 || (bit(w, 23) && (t === n || t2 === n) && n !== 31))) return undefined;
  const x = opc === 0 ? 0 : 1;
  const scale = opc === 2 ? 3n : 2n;
  const offset = signExtend(bits(w, 21, 15), 7) << scale;
  const regs = [xOrW(t, x), xOrW(t2, x)];
  switch (mode) {
    case 0b001: return { mnemonic: name, operands: [...regs, `[${base(w)}]`, immDec(offset)] };
    case 0b010: return { mnemonic: name, operands: [...regs, offset ? `[${base(w)}, ${immDec(offset)}]` : `[${base(w)}]`] };
    default: return { mnemonic: name, operands: [...regs, `[${base(w)}, ${immDec(offset)}]!`] };
  }
}

const SIZE_SUFFIX = ["b", "h", "", ""];

/**
 * Load/store exclusive, load-acquire/store-release, CAS and CASP:
 * size 001000 o2 L o1 Rs o0 Rt2 Rn Rt. objdump decodes these whatever the
 * should-be-one Rs and Rt2 fields hold (except in CAS), so such words
 * print normally and their source is the word.
 */
function exclusive(w: number): DecodeResult {
  const size = bits(w, 31, 30), o2 = bit(w, 23), L = bit(w, 22), o1 = bit(w, 21), o0 = bit(w, 15);
  const s = rmOf(w), t2 = bits(w, 14, 10), t = rdOf(w);
  const x = size === 3 ? 1 : 0;
  const suffix = SIZE_SUFFIX[size]!;
  const addr = `[${base(w)}]`;
  let insn: Insn;
  let canonical: boolean;
  if (!o2 && !o1) {
    canonical = t2 === 31 && (!L || s === 31);
    insn = L
      ? { mnemonic: (o0 ? "ldaxr" : "ldxr") + suffix, operands: [xOrW(t, x), addr] }
      : { mnemonic: (o0 ? "stlxr" : "stxr") + suffix, operands: [xOrW(s, 0), xOrW(t, x), addr] };
  } else if (!o2 && o1) {
    if (size < 2) {
      // CASP{A}{L}: sz in bit 30, even Rs and Rt, Rt2 all ones (objdump leaves the rest undefined).
      if (t2 !== 31 || s & 1 || t & 1) return undefined;
      const px = size & 1;
      const pairOf = (r: number) => [xOrW(r, px), xOrW(r + 1, px)];
      return { mnemonic: "casp" + (L ? "a" : "") + (o0 ? "l" : ""), operands: [...pairOf(s), ...pairOf(t), addr] };
    }
    const px = size & 1;
    canonical = !L || s === 31;
    insn = L
      ? { mnemonic: o0 ? "ldaxp" : "ldxp", operands: [xOrW(t, px), xOrW(t2, px), addr] }
      : { mnemonic: o0 ? "stlxp" : "stxp", operands: [xOrW(s, 0), xOrW(t, px), xOrW(t2, px), addr] };
  } else if (o2 && !o1) {
    // o0 = 0 is LDLAR/STLLR (FEAT_LOR), outside the subset.
    if (!o0) return undefined;
    canonical = s === 31 && t2 === 31;
    // objdump leaves LDAR with other Rs or Rt2 undecoded, but not STLR.
    if (L && !canonical) return undefined;
    insn = { mnemonic: (L ? "ldar" : "stlr") + suffix, operands: [xOrW(t, x), addr] };
  } else {
    if (t2 !== 31) return undefined;
    return { mnemonic: "cas" + (L ? "a" : "") + (o0 ? "l" : "") + suffix, operands: [xOrW(s, x), xOrW(t, x), addr] };
  }
  if (!canonical) insn.source = instSource(w);
  return insn;
}

const LD_OPS = ["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"];

/** Atomic memory operations: size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt; ST<op> is LD<op> without acquire and with Rt = ZR. */
function atomic(w: number): DecodeResult {
  const size = bits(w, 31, 30), A = bit(w, 23), R = bit(w, 22), o3 = bit(w, 15), opc = bits(w, 14, 12);
  const x = size === 3 ? 1 : 0;
  const order = (A ? "a" : "") + (R ? "l" : "");
  const suffix = SIZE_SUFFIX[size]!;
  const s = xOrW(rmOf(w), x), t = rdOf(w), addr = `[${base(w)}]`;
  if (o3) {
    if (opc !== 0) return undefined;
    return { mnemonic: `swp${order}${suffix}`, operands: [s, xOrW(t, x), addr] };
  }
  if (!A && t === 31) return { mnemonic: `st${LD_OPS[opc]}${order}${suffix}`, operands: [s, addr] };
  return { mnemonic: `ld${LD_OPS[opc]}${order}${suffix}`, operands: [s, xOrW(t, x), addr] };
}

/** Loads and stores of general-purpose registers (V = 0). */
export function decodeLoadStore(w: number, ctx: DecodeContext): DecodeResult {
  if (bit(w, 26)) return undefined;
  switch (bits(w, 29, 24)) {
    case 0b001000: return exclusive(w);
    case 0b011000: return literal(w, ctx);
    case 0b111001: return single(w, true);
    case 0b111000:
      if (!bit(w, 21)) return single(w, false);
      if (bits(w, 11, 10) === 0b10) return registerOffset(w);
      if (bits(w, 11, 10) === 0b00) return atomic(w);
      return undefined;
    case 0b101000:
    case 0b101001: return pair(w);
    default: return undefined;
  }
}

