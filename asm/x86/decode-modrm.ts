// SPDX-License-Identifier: MIT
//
// Reading the fields after the opcode, and ModRM memory operands as
// objdump prints them (binutils 2.40 i386-dis.c OP_E_memory, 64-bit mode):
// SIB, RIP-relative, displacements signed after a base and unsigned alone,
// and the %riz "index" objdump shows for a SIB byte without one.

import { REX_B, REX_X } from "./prefixes.ts";
import { gprName } from "./registers.ts";

export interface DecodedMemory {
  /** An active %fs or %gs override. */
  seg?: string;
  /** objdump's rendering after the segment: "-0x8(%rbp)", "0x0(%rip)", "(%rax,%riz,1)". */
  text: string;
  /** RIP-relative: the displacement and the address it names (next instruction + disp). */
  rip?: { target: bigint };
  /** The displacement's width in bytes (0, 1 or 4) and value, for choosing {disp8}/{disp32}. */
  dispSize: 0 | 1 | 4;
  disp: bigint;
  /** The encoding has no AT&T spelling GNU as takes (%riz, %eiz). */
  unspellable: boolean;
  /** A base register whose low bits are 101 (rBP, r13): mod 00 is not available. */
  baseIsBp: boolean;
  hasBase: boolean;
  addr32: boolean;
}

export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public pos: number,
  ) {}
  get available(): number {
    return this.bytes.length - this.pos;
  }
  /** Reads a little-endian field of `size` bytes; undefined past the end. */
  read(size: number): bigint | undefined {
    if (this.available < size) return undefined;
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[this.pos + i]!);
    this.pos += size;
    return v;
  }
}

export const signExtend = (v: bigint, bits: number) => BigInt.asIntN(bits, v);
export const mask = (v: bigint, bits: number) => BigInt.asUintN(bits, v);

/** objdump's print_displacement: signed hex. */
function displacementText(v: bigint): string {
  if (v < 0n) return v === -(1n << 63n) ? "-0x8000000000000000" : `-0x${(-v).toString(16)}`;
  return `0x${v.toString(16)}`;
}

/** A ModRM memory operand as objdump prints it (i386-dis.c OP_E_memory, 64-bit mode). */
export function decodeMemory(
  modrm: number,
  r: Reader,
  rex: number,
  addr32: boolean,
  useRex: (bit: number) => void,
): { mem: DecodedMemory; resolve: (end: bigint) => void } | undefined {
  const mod = modrm >> 6;
  const rmField = modrm & 7;
  useRex(REX_B);
  const addB = rex & REX_B ? 8 : 0;
  let hasSib = false;
  let base = rmField;
  let index = 4;
  let haveIndex = false;
  let scale = 0;
  if (rmField === 4) {
    if (r.available < 1) return undefined;
    const sib = r.bytes[r.pos++]!;
    hasSib = true;
    useRex(REX_X);
    index = ((sib >> 3) & 7) | (rex & REX_X ? 8 : 0);
    haveIndex = index !== 4;
    scale = sib >> 6;
    base = sib & 7;
  }
  let haveBase = true;
  let ripRelative = false;
  let disp = 0n;
  let dispSize: 0 | 1 | 4 = 0;
  if (mod === 0 && base === 5) {
    haveBase = false;
    ripRelative = !hasSib;
    const raw = r.read(4);
    if (raw === undefined) return undefined;
    disp = signExtend(raw, 32);
    dispSize = 4;
  } else if (mod === 1) {
    const raw = r.read(1);
    if (raw === undefined) return undefined;
    disp = signExtend(raw, 8);
    dispSize = 1;
  } else if (mod === 2) {
    const raw = r.read(4);
    if (raw === undefined) return undefined;
    disp = signExtend(raw, 32);
    dispSize = 4;
  }
  let needIndex = false;
  if (hasSib && !haveBase && !haveIndex && addr32) {
    // Without base or index, addr32 zero-extends the displacement.
    disp = mask(disp, 32);
    needIndex = true;
  }
  const haveDisp = haveBase || needIndex || (hasSib && (haveIndex || scale !== 0));
  const names = (n: number) => (addr32 ? gprName(n, 32, true) : gprName(n, 64, true));
  let text = "";
  if (mod !== 0 || base === 5) {
    text += haveDisp || ripRelative ? displacementText(disp) : `0x${mask(disp, 64).toString(16)}`;
    if (ripRelative) text += addr32 ? "(%eip)" : "(%rip)";
  }
  let unspellable = false;
  if (haveDisp) {
    text += "(";
    if (haveBase) text += `%${names(base + addB)}`;
    if (hasSib && (scale !== 0 || needIndex || haveIndex || (haveBase && base !== 4))) {
      let indexName: string;
      if (haveIndex) indexName = `%${names(index)}`;
      else {
        indexName = addr32 ? "%eiz" : "%riz";
        unspellable = true;
      }
      text += `,${indexName},${1 << scale}`;
    }
    text += ")";
  }
  const mem: DecodedMemory = {
    text,
    dispSize,
    disp,
    unspellable,
    baseIsBp: haveBase && (base & 7) === 5,
    hasBase: haveBase,
    addr32,
  };
  return {
    mem,
    resolve(end) {
      if (ripRelative) mem.rip = { target: mask(end + disp, 64) };
    },
  };
}
