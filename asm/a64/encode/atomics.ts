// SPDX-License-Identifier: MIT
//
// Exclusive, acquire and release accesses (DDI0487 C4.1.88 "Load/store
// exclusive register", "Load/store exclusive pair", "Load-acquire/
// store-release"), and the FEAT_LSE atomics: CAS, CASP, SWP and LD<op> with their
// ST<op> aliases ("Compare and swap", "Atomic memory operations").

import type { Instruction } from "../../backend.ts";
import { word } from "../fixups.ts";
import { OperandError, type Operands } from "../operands.ts";
import type { GReg } from "../registers.ts";
import type { HandlerTable } from "./common.ts";

/** size 001000 o2 L o1 Rs o0 Rt2 Rn Rt. */
const EXCLUSIVE = 0x08000000;
/** size 111 0 00 A R 1 Rs o3 opc 00 Rn Rt. */
const ATOMIC = 0x38200000;

/** "[Xn]" or "[Xn, #0]", the only addresses these instructions take; returns Xn. */
function baseOnly(ops: Operands, i: number): GReg {
  if (ops.length > i + 1) throw new OperandError("invalid addressing mode", i + 1);
  const mem = ops.mem(i);
  if (mem.mode !== "offset") throw new OperandError("invalid addressing mode", i + 1);
  if (mem.offset && (mem.offset.value !== 0n || mem.offset.reloc)) {
    throw new OperandError("the optional immediate offset can only be 0", i + 1);
  }
  return mem.base;
}

/** The size field: fixed for the B and H forms, else from Rt's width. */
function sizeOf(fixedSize: number | undefined, rt: GReg): number {
  if (fixedSize !== undefined) {
    if (rt.width !== 32) throw new OperandError("operand mismatch");
    return fixedSize;
  }
  return rt.width === 64 ? 3 : 2;
}

interface ExclusiveForm {
  o2: number;
  L: number;
  o1: number;
  o0: number;
  /** Takes a status register Ws first (store-exclusive). */
  status: boolean;
  /** Takes two data registers (exclusive pair). */
  pair: boolean;
  size?: number;
}

function exclusive(f: ExclusiveForm) {
  return (ops: Operands): Instruction => {
    let i = 0;
    let rs = 31;
    if (f.status) {
      const s = ops.reg(i++);
      if (s.width !== 32) throw new OperandError("operand mismatch");
      rs = s.num;
    }
    const t = ops.reg(i++);
    let t2 = 31;
    if (f.pair) {
      const r2 = ops.reg(i++);
      if (r2.width !== t.width) throw new OperandError("operand mismatch");
      t2 = r2.num;
    }
    const n = baseOnly(ops, i);
    // Pairs put sz in bit 30 under a size of 1x.
    const size = f.pair ? (t.width === 64 ? 3 : 2) : sizeOf(f.size, t);
    return word((size << 30) | EXCLUSIVE | (f.o2 << 23) | (f.L << 22) | (f.o1 << 21) | (rs << 16) | (f.o0 << 15) | (t2 << 10) | (n.num << 5) | t.num);
  };
}

/** CAS{A}{L}{B,H} Rs, Rt, [Xn]: o2 = 1, o1 = 1, L = acquire, o0 = release, Rt2 = 11111. */
function cas(A: number, R: number, size?: number) {
  return (ops: Operands): Instruction => {
    const s = ops.reg(0), t = ops.reg(1);
    if (s.width !== t.width) throw new OperandError("operand mismatch");
    const n = baseOnly(ops, 2);
    return word((sizeOf(size, t) << 30) | EXCLUSIVE | (1 << 23) | (A << 22) | (1 << 21) | (s.num << 16) | (R << 15) | (31 << 10) | (n.num << 5) | t.num);
  };
}

/**
 * CASP{A}{L} Rs, Rs+1, Rt, Rt+1, [Xn] (FEAT_LSE "Compare and swap pair"): like
 * CAS with o2 = 0 and sz in bit 30; both pairs start at an even register and
 * are consecutive, with GNU as's messages when not.
 */
function casp(A: number, R: number) {
  return (ops: Operands): Instruction => {
    const regs = [0, 1, 2, 3].map((i) => ops.reg(i));
    if (regs.some((r) => r.width !== regs[0]!.width)) throw new OperandError("operand mismatch");
    for (const first of [0, 2]) {
      if (regs[first]!.num & 1) throw new OperandError("reg pair must start from even reg", first + 1);
      if (regs[first + 1]!.num !== regs[first]!.num + 1) throw new OperandError("reg pair must be contiguous", first + 2);
    }
    const n = baseOnly(ops, 4);
    const sz = regs[0]!.width === 64 ? 1 : 0;
    return word((sz << 30) | EXCLUSIVE | (A << 22) | (1 << 21) | (regs[0]!.num << 16) | (R << 15) | (31 << 10) | (n.num << 5) | regs[2]!.num);
  };
}

/** SWP and LD<op>: Rs, Rt, [Xn]; ST<op> Rs, [Xn] is LD<op> with Rt = ZR and no acquire. */
function atomic(o3: number, opc: number, A: number, R: number, size: number | undefined, store: boolean) {
  return (ops: Operands): Instruction => {
    const s = ops.reg(0);
    const t: GReg = store ? { num: 31, width: s.width, kind: "zr" } : ops.reg(1);
    if (s.width !== t.width) throw new OperandError("operand mismatch");
    const n = baseOnly(ops, store ? 1 : 2);
    return word((sizeOf(size, t) << 30) | ATOMIC | (A << 23) | (R << 22) | (s.num << 16) | (o3 << 15) | (opc << 12) | (n.num << 5) | t.num);
  };
}

/** The ordering suffixes and their A (acquire) and R (release) bits. */
const ORDERINGS: readonly [string, number, number][] = [["", 0, 0], ["a", 1, 0], ["al", 1, 1], ["l", 0, 1]];
const SIZES: readonly [string, number | undefined][] = [["", undefined], ["b", 0], ["h", 1]];
/** LD<op> opc values (o3 = 0). */
const LD_OPS: readonly string[] = ["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"];

function buildAtomics(): HandlerTable {
  const t: HandlerTable = {};
  for (const [sizeName, size] of SIZES) {
    for (const [order, A, R] of ORDERINGS) {
      t[`cas${order}${sizeName}`] = cas(A, R, size);
      if (size === undefined) t[`casp${order}`] = casp(A, R);
      t[`swp${order}${sizeName}`] = atomic(1, 0, A, R, size, false);
      LD_OPS.forEach((op, opc) => {
        t[`ld${op}${order}${sizeName}`] = atomic(0, opc, A, R, size, false);
        if (A === 0) t[`st${op}${order}${sizeName}`] = atomic(0, opc, 0, R, size, true);
      });
    }
  }
  return t;
}

const ex = (o2: number, L: number, o1: number, o0: number, status: boolean, pair: boolean) => (size?: number) =>
  exclusive({ o2, L, o1, o0, status, pair, ...(size === undefined ? {} : { size }) });

const LDXR = ex(0, 1, 0, 0, false, false);
const LDAXR = ex(0, 1, 0, 1, false, false);
const STXR = ex(0, 0, 0, 0, true, false);
const STLXR = ex(0, 0, 0, 1, true, false);
const LDAR = ex(1, 1, 0, 1, false, false);
const STLR = ex(1, 0, 0, 1, false, false);

export const ATOMICS: HandlerTable = {
  ldxr: LDXR(), ldxrb: LDXR(0), ldxrh: LDXR(1),
  ldaxr: LDAXR(), ldaxrb: LDAXR(0), ldaxrh: LDAXR(1),
  stxr: STXR(), stxrb: STXR(0), stxrh: STXR(1),
  stlxr: STLXR(), stlxrb: STLXR(0), stlxrh: STLXR(1),
  ldar: LDAR(), ldarb: LDAR(0), ldarh: LDAR(1),
  stlr: STLR(), stlrb: STLR(0), stlrh: STLR(1),
  ldxp: ex(0, 1, 1, 0, false, true)(),
  ldaxp: ex(0, 1, 1, 1, false, true)(),
  stxp: ex(0, 0, 1, 0, true, true)(),
  stlxp: ex(0, 0, 1, 1, true, true)(),
  ...buildAtomics(),
};
