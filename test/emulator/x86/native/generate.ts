// SPDX-License-Identifier: MIT
//
// Random instruction sequences from the non-privileged integer subset of the
// interpreter, in AT&T syntax, for the differential test against the host
// processor (differential.test.ts).
//
// A case is 1–8 instructions and a trailing HLT, with its initial registers,
// RFLAGS and the seed of its scratch memory. Three rules make a case run the
// same on the host and in the interpreter, whatever the random values are:
//
// - Every memory access stays in the scratch area. Each case picks up to
//   three *pointer registers* (bases holding scratch addresses, and an index
//   holding a small signed value) that no instruction of the case writes;
//   RSP points into the scratch area too and only PUSH and POP move it (by at
//   most 64 bytes). Base + index × scale + displacement then stays inside the
//   scratch area by construction (see `mem`). LEA and the multi-byte NOP do
//   not access memory and take any registers. A string instruction's unit
//   points RSI and RDI into the scratch area itself, with a count that keeps
//   the strings inside it in either direction (see `string`).
// - No instruction reads a flag the SDM leaves undefined at that point. The
//   builder tracks which arithmetic flags are undefined after each
//   instruction ("Flags Affected" of each instruction in SDM Vol.2), merging
//   the states of the paths at the targets of forward jumps, and only emits a
//   flag reader (Jcc, SETcc, CMOVcc, ADC, SBB, RCL, RCR, CMC) whose flags are
//   defined, or sets CF first. The flags still undefined at HLT are masked
//   when the results are compared.
// - Divisions are set up not to fault (the dividend's high half zeroed or
//   sign-extended, the divisor made odd); the rare one that still faults
//   (IDIV of the most negative value by -1, or one whose set-up a jump
//   skipped) faults on both sides, and the harness reports the vector.
//
// Some instructions come in units that must not be split by a jump target:
// `mov $n, %cl` before a shift by CL (so its count, and so its flags, are
// known), the set-up of a division, CLC or STC before a reader of an
// undefined CF. Jumps target unit boundaries only.

import { mulberry32 } from "../../../helpers/prng.ts";

/** Where a batch's code is, in both address spaces (the host's and the interpreter's). */
export const CODE_BASE = 0x1000_0000n;
export const CODE_SIZE = 1 << 20;
/** The scratch memory of memory operands and the stack. */
export const SCRATCH_BASE = 0x1010_0000n;
export const SCRATCH_SIZE = 0x4000;

export const FLAG_CF = 1 << 0;
export const FLAG_PF = 1 << 2;
export const FLAG_AF = 1 << 4;
export const FLAG_ZF = 1 << 6;
export const FLAG_SF = 1 << 7;
export const FLAG_DF = 1 << 10;
export const FLAG_OF = 1 << 11;
const ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
/** The RFLAGS bits the test compares: the arithmetic flags and DF. */
export const COMPARED_FLAGS = ARITH | FLAG_DF;

export function flagNames(mask: number): string {
  const names: [number, string][] = [[FLAG_CF, "CF"], [FLAG_PF, "PF"], [FLAG_AF, "AF"], [FLAG_ZF, "ZF"], [FLAG_SF, "SF"], [FLAG_DF, "DF"], [FLAG_OF, "OF"]];
  return names.filter(([f]) => mask & f).map(([, n]) => n).join(" ") || "none";
}

// ── Random numbers ───────────────────────────────────────────────────────────

/** The initial scratch memory of a case: 8-byte words of two mulberry32 outputs each, low half first. */
export function scratchContents(seed: number): Uint8Array {
  const state = new Uint32Array([seed]);
  const words = new Uint32Array(SCRATCH_SIZE / 4);
  for (let i = 0; i < words.length; i++) words[i] = mulberry32(state);
  return new Uint8Array(words.buffer);
}

export class Rng {
  private readonly state: Uint32Array;
  constructor(seed: number) {
    this.state = new Uint32Array([seed]);
  }
  u32(): number {
    return mulberry32(this.state);
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 2 ** 32) * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

// ── Registers ────────────────────────────────────────────────────────────────

const RSP = 4;
const NAMES: Record<number, readonly string[]> = {
  8: ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"],
  4: ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"],
  2: ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"],
  1: ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"],
};
const HIGH_BYTE = ["ah", "ch", "dh", "bh"];
const SUFFIX: Record<number, string> = { 1: "b", 2: "w", 4: "l", 8: "q" };
type Size = 1 | 2 | 4 | 8;
const SIZES: readonly Size[] = [1, 2, 4, 8];
const WIDE: readonly Size[] = [2, 4, 8];

/**
 * AH, CH, DH and BH cannot be encoded in an instruction with a REX prefix
 * (SDM Vol.2A 2.2.1.2): not with a 64-bit operand size, R8–R15, SPL, BPL,
 * SIL or DIL anywhere in the instruction.
 */
function encodable(text: string): boolean {
  if (!/%[abcd]h\b/.test(text)) return true;
  return !/%r(\d|ax|bx|cx|dx|si|di|sp|bp)\b|%(spl|bpl|sil|dil)\b|%r\d+[dwb]?\b/.test(text) && !/^(lock )?\w+q /.test(text);
}

/** A few values that meet the corner cases of each operand size, and random ones. */
function interesting(rng: Rng): bigint {
  const corners = [
    0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x100n, 0x7fffn, 0x8000n, 0xffffn, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn,
    0x1_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffff_ffff_ffffn, 0xffff_ffff_ffff_fffen,
    0xffff_ffff_ffff_ff80n, 0xffff_ffff_ffff_8000n, 0xffff_ffff_8000_0000n,
  ];
  switch (rng.below(6)) {
    case 0: return rng.pick(corners);
    case 1: return BigInt(rng.below(256));
    case 2: return BigInt(rng.u32());
    case 3: return rng.pick(corners) ^ BigInt(rng.below(16)) << BigInt(8 * rng.below(8));
    default: return rng.u64();
  }
}

function signedRange(rng: Rng, size: Size): bigint {
  // Half of the immediates fit in 8 bits, to get the sign-extended imm8 encodings.
  if (size === 1 || rng.chance(0.5)) return BigInt(rng.range(-128, 127));
  const bits = BigInt(Math.min(size, 4) * 8);
  return BigInt.asIntN(Number(bits), rng.u64());
}

// ── Instructions and units ───────────────────────────────────────────────────

/** What one instruction does to the arithmetic flags (each a mask of FLAG_*). */
interface FlagEffect {
  /** Flags it reads. */
  reads: number;
  /** Flags it sets to a defined value. */
  defines: number;
  /** Flags it leaves undefined. */
  undefines: number;
}

interface Emit extends FlagEffect {
  text: string;
  /** A forward jump: how many units it skips (0: to the next unit), and whether it is unconditional. */
  jump?: { skip: number; always: boolean };
}

const NONE: FlagEffect = { reads: 0, defines: 0, undefines: 0 };
const ARITHMETIC: FlagEffect = { reads: 0, defines: ARITH, undefines: 0 };
/** AND, OR, XOR, TEST: CF = OF = 0, SF ZF PF from the result, AF undefined. */
const LOGICAL: FlagEffect = { reads: 0, defines: ARITH & ~FLAG_AF, undefines: FLAG_AF };
/** MUL and IMUL: CF and OF defined, SF ZF AF PF undefined. */
const MULTIPLY: FlagEffect = { reads: 0, defines: FLAG_CF | FLAG_OF, undefines: FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF };

function emit(text: string, effect: FlagEffect = NONE): Emit {
  return { text, ...effect };
}

/** The flags each condition code reads (SDM Vol.1 B.1). */
const CONDITIONS: { cc: string; reads: number }[] = [
  { cc: "o", reads: FLAG_OF }, { cc: "no", reads: FLAG_OF }, { cc: "b", reads: FLAG_CF }, { cc: "ae", reads: FLAG_CF },
  { cc: "e", reads: FLAG_ZF }, { cc: "ne", reads: FLAG_ZF }, { cc: "be", reads: FLAG_CF | FLAG_ZF }, { cc: "a", reads: FLAG_CF | FLAG_ZF },
  { cc: "s", reads: FLAG_SF }, { cc: "ns", reads: FLAG_SF }, { cc: "p", reads: FLAG_PF }, { cc: "np", reads: FLAG_PF },
  { cc: "l", reads: FLAG_SF | FLAG_OF }, { cc: "ge", reads: FLAG_SF | FLAG_OF }, { cc: "le", reads: FLAG_ZF | FLAG_SF | FLAG_OF },
  { cc: "g", reads: FLAG_ZF | FLAG_SF | FLAG_OF },
];

// ── One case ─────────────────────────────────────────────────────────────────

export interface GeneratedInstruction {
  text: string;
  /** Its label in the batch's source (the test finds its address from it). */
  label: string;
  /** Flags that may be undefined when it starts (masked if it faults). */
  undefinedBefore: number;
}

export interface TestCase {
  /** The case's number in its batch. */
  id: number;
  /** The label of its first instruction. */
  entry: string;
  instructions: GeneratedInstruction[];
  /** Its source, labels and HLT included. */
  source: string;
  /** RAX..R15 in register-number order. */
  gpr: bigint[];
  rflags: bigint;
  scratchSeed: number;
  /** Flags that may be undefined at the HLT. */
  undefinedAtEnd: number;
}

const ADDRESS_LIMIT = 0x800;

class CaseBuilder {
  readonly gpr: bigint[] = [];
  /** Registers holding scratch addresses (RSP is a base too, but moves). */
  readonly bases: number[] = [];
  /** A register holding a small signed value, for an index or a bit offset. */
  index: number | undefined;
  readonly writable: number[] = [];

  private readonly lines: string[] = [];
  readonly instructions: GeneratedInstruction[] = [];
  /** Flags possibly undefined on the fall-through path. */
  private undefined = 0;
  private fallthrough = true;
  /** Flags possibly undefined on the jumps to each unit. */
  private readonly incoming = new Map<number, number>();
  private units = 0;

  constructor(
    readonly rng: Rng,
    readonly id: number,
  ) {
    for (let r = 0; r < 16; r++) this.gpr.push(interesting(rng));
    const candidates = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const pointers = rng.pick([0, 1, 1, 2, 2, 3]);
    for (let i = 0; i < pointers; i++) {
      const r = candidates.splice(rng.below(candidates.length), 1)[0]!;
      this.bases.push(r);
      this.gpr[r] = SCRATCH_BASE + this.scratchOffset();
    }
    if (rng.chance(0.7)) {
      const r = candidates.splice(rng.below(candidates.length), 1)[0]!;
      this.index = r;
      this.gpr[r] = BigInt.asUintN(64, BigInt(rng.range(-64, 64)));
    }
    this.gpr[RSP] = SCRATCH_BASE + this.scratchOffset();
    if (rng.chance(0.7)) this.gpr[RSP] &= ~7n;
    this.writable.push(...candidates);
  }

  /**
   * An offset for a base register (RSP included): 0x1000–0x2fff, often
   * within 16 bytes of a page boundary. With at most ±ADDRESS_LIMIT of
   * displacement, ±0x200 of index × scale, 16 bytes of bit offset and 64
   * bytes of pushes, every access stays in 0x5e0–0x3a28.
   */
  private scratchOffset(): bigint {
    if (this.rng.chance(0.3)) return BigInt(this.rng.pick([0x1000, 0x2000, 0x3000]) + this.rng.range(-16, 16));
    return BigInt(0x1000 + this.rng.below(0x2000));
  }

  // ── Operands ──

  canWrite(r: number): boolean {
    return this.writable.includes(r);
  }

  /** A register to write (its full register must not be a pointer). */
  dest(): number {
    return this.rng.pick(this.writable);
  }

  /** Any register to read. */
  src(): number {
    return this.rng.below(16);
  }

  /** A register's name at a size; byte registers 0–3 are sometimes AH CH DH BH. */
  name(r: number, size: Size, highOk = true): string {
    if (size === 1 && r < 4 && highOk && this.rng.chance(0.3)) return `%${HIGH_BYTE[r]}`;
    return `%${NAMES[size]![r]}`;
  }

  /**
   * A data memory operand inside the scratch area, in one of the addressing
   * modes of SDM Vol.2A 2.1.5 (base, base + disp8/disp32, base + index ×
   * scale, index × scale + disp32 with no base, absolute disp32, RIP-relative,
   * and the 32-bit address-size forms). With `align`, the address is a
   * multiple of it (LOCK'd accesses: a split lock is slow on the host).
   */
  mem(align = 1): string {
    const rng = this.rng;
    const mode = rng.below(10);
    if (mode === 0) return `scr+${this.fixedOffset(align)}(%rip)`;
    if (mode === 1) return `0x${(SCRATCH_BASE + BigInt(this.fixedOffset(align))).toString(16)}`;
    const bases = align > 1 ? this.bases : [...this.bases, RSP];
    const useIndex = this.index !== undefined && (mode >= 6 || bases.length === 0);
    const base = bases.length && (mode !== 9 || !useIndex) ? rng.pick(bases) : undefined;
    const index = useIndex ? this.index : undefined;
    const scale = rng.pick([1, 2, 4, 8]);
    let disp = 0;
    const dispKind = rng.below(3);
    if (base === undefined) disp = Number(SCRATCH_BASE) + 0x800 + rng.below(0x3000);
    else if (dispKind === 1) disp = rng.range(-128, 127);
    else if (dispKind === 2) disp = (rng.chance(0.5) ? -1 : 1) * rng.range(0x80, ADDRESS_LIMIT);
    if (base === undefined && index === undefined) return `0x${(SCRATCH_BASE + BigInt(this.fixedOffset(align))).toString(16)}`;
    if (align > 1) {
      const address = BigInt(disp) + (base === undefined ? 0n : this.gpr[base]!) + (index === undefined ? 0n : BigInt.asIntN(64, this.gpr[index]!) * BigInt(scale));
      disp -= Number(BigInt.asUintN(64, address) % BigInt(align));
    }
    const a32 = rng.chance(0.15);
    const r = (n: number) => `%${NAMES[a32 ? 4 : 8]![n]}`;
    const d = disp === 0 ? "" : base === undefined ? `0x${disp.toString(16)}` : String(disp);
    return `${d}(${base === undefined ? "" : r(base)}${index === undefined ? "" : `,${r(index)},${scale}`})`;
  }

  /** The scratch offset of an absolute or RIP-relative operand: 32 bytes from either end, for BT's bit offsets. */
  private fixedOffset(align: number): number {
    return (32 + this.rng.below(SCRATCH_SIZE - 96)) & ~(align - 1);
  }

  /** An address expression for LEA or NOP: any registers, any displacement. */
  anyAddress(): string {
    const rng = this.rng;
    const a32 = rng.chance(0.2);
    const r = (n: number) => `%${NAMES[a32 ? 4 : 8]![n]}`;
    const kind = rng.below(6);
    if (kind === 0) return `scr+${rng.below(SCRATCH_SIZE)}(%rip)`;
    const disp = rng.pick([0, rng.range(-128, 127), rng.u32() | 0]);
    if (kind === 1) return String(disp);
    const base = this.src();
    let index = this.src();
    if (index === RSP) index = 0;
    const scale = rng.pick([1, 2, 4, 8]);
    const d = disp === 0 ? "" : String(disp);
    if (kind === 2) return `${d}(${r(base)})`;
    if (kind === 3) return `${disp}(,${r(index)},${scale})`;
    return `${d}(${r(base)},${r(index)},${scale})`;
  }

  /** A register or memory operand of `size` to write, with its register number (-1 for memory). */
  destOrMem(size: Size, memChance = 0.4, align = 1): { text: string; reg: number } {
    if (this.rng.chance(memChance)) return { text: this.mem(align), reg: -1 };
    const r = this.dest();
    return { text: this.name(r, size), reg: r };
  }

  /** A register or memory operand of `size` to read. */
  srcOrMem(size: Size, memChance = 0.4): string {
    return this.rng.chance(memChance) ? this.mem() : this.name(this.src(), size);
  }

  imm(size: Size): string {
    const v = signedRange(this.rng, size);
    if (size === 1 && this.rng.chance(0.3)) return `$${Number(BigInt.asUintN(8, v))}`;
    return `$${v}`;
  }

  /** Flags possibly undefined where the next unit starts. */
  get undefinedNow(): number {
    return this.undefined;
  }

  /** A condition whose flags are all defined now, if there is one. */
  condition(): string | undefined {
    const ok = CONDITIONS.filter((c) => (c.reads & this.undefined) === 0);
    return ok.length ? this.rng.pick(ok).cc : undefined;
  }

  // ── Emitting ──

  /**
   * Adds a unit if its flag readers only read defined flags; returns how
   * many instructions it added (0 when it was refused).
   */
  add(unit: Emit[]): number {
    const u = this.units;
    const reaching = this.incoming.get(u);
    let state = reaching === undefined ? this.undefined : (this.fallthrough ? this.undefined : 0) | reaching;
    let s = state;
    for (const e of unit) {
      if (!encodable(e.text)) return 0;
      if (e.reads & s) return 0;
      s = (s & ~e.defines) | e.undefines;
    }
    this.incoming.delete(u);
    this.lines.push(`c${this.id}_u${u}:`);
    let fallthrough = true;
    for (const e of unit) {
      const label = `c${this.id}_i${this.instructions.length}`;
      this.instructions.push({ text: e.text, label, undefinedBefore: state });
      if (e.jump) {
        const target = u + 1 + e.jump.skip;
        this.incoming.set(target, (this.incoming.get(target) ?? 0) | state);
        this.lines.push(`${label}: ${e.text} c${this.id}_u${target}`);
        if (e.jump.always) fallthrough = false;
      } else {
        this.lines.push(`${label}: ${e.text}`);
      }
      state = (state & ~e.defines) | e.undefines;
    }
    this.undefined = state;
    this.fallthrough = fallthrough;
    this.units++;
    return unit.length;
  }

  finish(rflags: bigint, scratchSeed: number): TestCase {
    let atEnd = this.fallthrough ? this.undefined : 0;
    for (const [target, flags] of this.incoming) {
      atEnd |= flags;
      this.lines.push(`c${this.id}_u${target}:`);
    }
    this.lines.push(`c${this.id}_end: hlt`);
    return {
      id: this.id,
      entry: `c${this.id}_u0`,
      instructions: this.instructions,
      source: this.lines.join("\n"),
      gpr: this.gpr,
      rflags,
      scratchSeed,
      undefinedAtEnd: atEnd,
    };
  }
}

// ── The forms ────────────────────────────────────────────────────────────────

type Form = (b: CaseBuilder) => Emit[] | undefined;

const ALU_OPS = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];

/** CLC or STC before a reader of CF when CF may be undefined. */
function carryIn(b: CaseBuilder): Emit[] {
  if ((b.undefinedNow & FLAG_CF) === 0 && b.rng.chance(0.8)) return [];
  return [emit(b.rng.chance(0.5) ? "clc" : "stc", { reads: 0, defines: FLAG_CF, undefines: 0 })];
}

const alu: Form = (b) => {
  const rng = b.rng;
  const op = rng.pick(ALU_OPS);
  const size = rng.pick(SIZES);
  const s = SUFFIX[size];
  const logical = op === "and" || op === "or" || op === "xor";
  const effect: FlagEffect = { ...(logical ? LOGICAL : ARITHMETIC), reads: op === "adc" || op === "sbb" ? FLAG_CF : 0 };
  const writes = op !== "cmp";
  const prefix = op === "adc" || op === "sbb" ? carryIn(b) : [];
  const dst = () => (writes ? b.dest() : b.src());
  let text: string;
  switch (rng.below(6)) {
    case 0: text = `${op}${s} ${b.name(b.src(), size)}, ${b.name(dst(), size)}`; break;
    case 1: text = `{load} ${op}${s} ${b.name(b.src(), size)}, ${b.name(dst(), size)}`; break;
    case 2: {
      const lock = writes && rng.chance(0.3);
      text = `${lock ? "lock " : ""}${op}${s} ${b.name(b.src(), size)}, ${b.mem(lock ? size : 1)}`;
      break;
    }
    case 3: text = `${op}${s} ${b.mem()}, ${b.name(dst(), size)}`; break;
    case 4: text = `${op}${s} ${b.imm(size)}, ${rng.chance(0.3) ? b.name(writes ? (b.canWrite(0) ? 0 : b.dest()) : 0, size, false) : b.name(dst(), size)}`; break;
    default: {
      const lock = writes && rng.chance(0.3);
      text = `${lock ? "lock " : ""}${op}${s} ${b.imm(size)}, ${b.mem(lock ? size : 1)}`;
    }
  }
  return [...prefix, emit(text, effect)];
};

const test: Form = (b) => {
  const size = b.rng.pick(SIZES);
  const s = SUFFIX[size];
  switch (b.rng.below(4)) {
    case 0: return [emit(`test${s} ${b.name(b.src(), size)}, ${b.name(b.src(), size)}`, LOGICAL)];
    case 1: return [emit(`test${s} ${b.name(b.src(), size)}, ${b.mem()}`, LOGICAL)];
    case 2: return [emit(`test${s} ${b.imm(size)}, ${b.name(b.rng.chance(0.4) ? 0 : b.src(), size)}`, LOGICAL)];
    default: return [emit(`test${s} ${b.imm(size)}, ${b.mem()}`, LOGICAL)];
  }
};

const mov: Form = (b) => {
  const size = b.rng.pick(SIZES);
  const s = SUFFIX[size];
  switch (b.rng.below(6)) {
    case 0: return [emit(`mov${s} ${b.name(b.src(), size)}, ${b.name(b.dest(), size)}`)];
    case 1: return [emit(`mov${s} ${b.name(b.src(), size)}, ${b.mem()}`)];
    case 2: return [emit(`mov${s} ${b.mem()}, ${b.name(b.dest(), size)}`)];
    case 3: return [emit(`mov${s} ${b.imm(size)}, ${b.name(b.dest(), size)}`)];
    case 4: return [emit(`mov${s} ${b.imm(size)}, ${b.mem()}`)];
    default: {
      // MOV r64, imm64 (B8+r io), or the imm32 form when the value fits.
      const v = b.rng.chance(0.8) ? BigInt.asIntN(64, interesting(b.rng)) : BigInt(b.rng.u32());
      return [emit(`${b.rng.chance(0.5) ? "movabsq" : "movq"} $${v}, ${b.name(b.dest(), 8)}`)];
    }
  }
};

const extend: Form = (b) => {
  const rng = b.rng;
  const signed = rng.chance(0.5);
  const from: Size = rng.pick([1, 2, 4]);
  if (from === 4) {
    // MOVSXD (REX.W 63 /r).
    return [emit(`movslq ${b.srcOrMem(4)}, ${b.name(b.dest(), 8)}`)];
  }
  const to: Size = from === 1 ? rng.pick(WIDE) : rng.pick([4, 8]);
  return [emit(`mov${signed ? "s" : "z"}${SUFFIX[from]}${SUFFIX[to]} ${b.srcOrMem(from)}, ${b.name(b.dest(), to)}`)];
};

const lea: Form = (b) => {
  const size = b.rng.pick(WIDE);
  return [emit(`lea${SUFFIX[size]} ${b.anyAddress()}, ${b.name(b.dest(), size)}`)];
};

const xchg: Form = (b) => {
  const size = b.rng.pick(SIZES);
  const s = SUFFIX[size];
  const r = b.rng.chance(0.3) && b.canWrite(0) ? 0 : b.dest();
  if (b.rng.chance(0.5)) return [emit(`xchg${s} ${b.name(b.dest(), size)}, ${b.name(r, size)}`)];
  // XCHG with memory is locked whether or not it says so.
  return [emit(`${b.rng.chance(0.3) ? "lock " : ""}xchg${s} ${b.name(r, size)}, ${b.mem(size)}`)];
};

const cmpxchg: Form = (b) => {
  if (!b.canWrite(0)) return undefined;
  const size = b.rng.pick(SIZES);
  const lock = b.rng.chance(0.4);
  const d = b.destOrMem(size, lock ? 1 : 0.5, lock ? size : 1);
  return [emit(`${lock ? "lock " : ""}cmpxchg${SUFFIX[size]} ${b.name(b.src(), size)}, ${d.text}`, ARITHMETIC)];
};

const xadd: Form = (b) => {
  const size = b.rng.pick(SIZES);
  const lock = b.rng.chance(0.4);
  const d = b.destOrMem(size, lock ? 1 : 0.5, lock ? size : 1);
  return [emit(`${lock ? "lock " : ""}xadd${SUFFIX[size]} ${b.name(b.dest(), size)}, ${d.text}`, ARITHMETIC)];
};

const unary: Form = (b) => {
  const op = b.rng.pick(["inc", "dec", "neg", "not"]);
  const size = b.rng.pick(SIZES);
  const lock = b.rng.chance(0.2);
  const d = b.destOrMem(size, lock ? 1 : 0.4, lock ? size : 1);
  const effect: FlagEffect =
    op === "neg" ? ARITHMETIC : op === "not" ? NONE : { reads: 0, defines: ARITH & ~FLAG_CF, undefines: 0 };
  return [emit(`${lock ? "lock " : ""}${op}${SUFFIX[size]} ${d.text}`, effect)];
};

/**
 * Flags of a shift or rotate by a known count (SDM Vol.2B SAL/SAR/SHL/SHR,
 * RCL/RCR/ROL/ROR): nothing for a masked count of 0; OF only for a masked
 * count of 1; AF undefined after a shift; CF undefined after SHL/SHR by at
 * least the operand size.
 */
function shiftEffect(op: string, size: Size, count: number | undefined): FlagEffect {
  const bits = size * 8;
  const rotate = op.startsWith("r");
  const throughCarry = op === "rcl" || op === "rcr";
  if (count === undefined) {
    // Any count: each flag is either unchanged or set (kept as it is), or possibly undefined.
    let undefines = FLAG_OF;
    if (!rotate) undefines |= FLAG_AF;
    if ((op === "shl" || op === "shr") && size <= 2) undefines |= FLAG_CF;
    return { reads: throughCarry ? FLAG_CF : 0, defines: 0, undefines };
  }
  const masked = count & (size === 8 ? 63 : 31);
  if (masked === 0) return NONE;
  let defines = FLAG_CF;
  let undefines = 0;
  if (masked === 1) defines |= FLAG_OF;
  else undefines |= FLAG_OF;
  if (!rotate) {
    defines |= FLAG_SF | FLAG_ZF | FLAG_PF;
    undefines |= FLAG_AF;
    if ((op === "shl" || op === "shr") && masked >= bits) {
      defines &= ~FLAG_CF;
      undefines |= FLAG_CF;
    }
  }
  return { reads: throughCarry ? FLAG_CF : 0, defines, undefines };
}

const shift: Form = (b) => {
  const rng = b.rng;
  const op = rng.pick(["rol", "ror", "rcl", "rcr", "shl", "shr", "sar", "sal"]);
  const size = rng.pick(SIZES);
  const s = SUFFIX[size];
  const d = b.destOrMem(size);
  const name = op === "sal" ? "shl" : op;
  const prefix = op === "rcl" || op === "rcr" ? carryIn(b) : [];
  const bits = size * 8;
  switch (rng.below(4)) {
    case 0:
      return [...prefix, emit(`${op}${s} ${d.text}`, shiftEffect(name, size, 1))];
    case 1: {
      const n = rng.chance(0.8) ? rng.range(0, bits + 1) : rng.range(0, 255);
      return [...prefix, emit(`${op}${s} $${n}, ${d.text}`, shiftEffect(name, size, n))];
    }
    case 2: {
      // A count in CL set just before: its flags are known.
      if (!b.canWrite(1)) return undefined;
      const n = rng.chance(0.8) ? rng.range(0, bits + 1) : rng.range(0, 255);
      return [...prefix, emit(`movb $${n}, %cl`), emit(`${op}${s} %cl, ${d.text}`, shiftEffect(name, size, n))];
    }
    default:
      return [...prefix, emit(`${op}${s} %cl, ${d.text}`, shiftEffect(name, size, undefined))];
  }
};

const multiply: Form = (b) => {
  const rng = b.rng;
  const size = rng.pick(SIZES);
  const s = SUFFIX[size];
  const kind = size === 1 ? 0 : rng.below(3);
  if (kind === 0) {
    // MUL or one-operand IMUL: rDX:rAX (AX) ← rAX × r/m.
    if (!b.canWrite(0) || (size > 1 && !b.canWrite(2))) return undefined;
    return [emit(`${rng.chance(0.5) ? "mul" : "imul"}${s} ${b.srcOrMem(size)}`, MULTIPLY)];
  }
  if (kind === 1) return [emit(`imul${s} ${b.srcOrMem(size)}, ${b.name(b.dest(), size)}`, MULTIPLY)];
  return [emit(`imul${s} ${b.imm(size)}, ${b.srcOrMem(size)}, ${b.name(b.dest(), size)}`, MULTIPLY)];
};

const ALL_UNDEFINED: FlagEffect = { reads: 0, defines: 0, undefines: ARITH };

const divide: Form = (b) => {
  const rng = b.rng;
  const size = rng.pick(SIZES);
  const s = SUFFIX[size];
  const signed = rng.chance(0.5);
  if (!b.canWrite(0) || (size > 1 && !b.canWrite(2))) return undefined;
  const unit: Emit[] = [];
  // The high half of the dividend: zero for DIV, the sign of the low half for IDIV.
  const setup = rng.chance(0.9);
  if (setup) {
    if (signed) unit.push(emit(["cbtw", "cwtd", "cltd", "cqto"][SIZES.indexOf(size)]!));
    else if (size === 1) unit.push(emit("movzbl %al, %eax"));
    else if (rng.chance(0.5)) unit.push(emit("xorl %edx, %edx", LOGICAL));
    else unit.push(emit("movl $0, %edx"));
  }
  // A divisor other than the dividend's registers, made odd (so not 0).
  let divisor: string;
  if (rng.chance(0.4)) {
    divisor = b.mem();
    if (setup) unit.push(emit(`or${s} $1, ${divisor}`, LOGICAL));
  } else {
    let r = b.dest();
    for (let i = 0; i < 8 && (r === 0 || r === 2); i++) r = b.dest();
    if (r === 0 || r === 2) return undefined;
    divisor = b.name(r, size, false);
    if (setup) unit.push(emit(`or${s} $1, ${divisor}`, LOGICAL));
  }
  unit.push(emit(`${signed ? "idiv" : "div"}${s} ${divisor}`, ALL_UNDEFINED));
  return unit;
};

/** BT BTS BTR BTC (SDM Vol.2A BT): CF the bit, ZF unchanged, OF SF AF PF undefined. */
const BIT_TEST: FlagEffect = { reads: 0, defines: FLAG_CF, undefines: FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF };

const bitTest: Form = (b) => {
  const rng = b.rng;
  const op = rng.pick(["bt", "bts", "btr", "btc"]);
  const size = rng.pick(WIDE);
  const s = SUFFIX[size];
  const writes = op !== "bt";
  const lock = writes && rng.chance(0.3);
  const target = (): string => (writes ? b.name(b.dest(), size) : b.name(b.src(), size));
  switch (lock ? rng.range(2, 3) : rng.below(4)) {
    case 0: return [emit(`${op}${s} ${b.name(b.src(), size)}, ${target()}`, BIT_TEST)];
    case 1: return [emit(`${op}${s} $${rng.range(0, 255)}, ${target()}`, BIT_TEST)];
    case 2: return [emit(`${lock ? "lock " : ""}${op}${s} $${rng.range(0, 255)}, ${b.mem(lock ? size : 1)}`, BIT_TEST)];
    default: {
      // A register bit offset into memory reaches outside the operand: only the small index register's.
      if (b.index === undefined) return undefined;
      return [emit(`${lock ? "lock " : ""}${op}${s} ${b.name(b.index, size)}, ${b.mem(lock ? 8 : 1)}`, BIT_TEST)];
    }
  }
};

const setcc: Form = (b) => {
  const cc = b.condition();
  if (cc === undefined) return undefined;
  const reads = CONDITIONS.find((c) => c.cc === cc)!.reads;
  const d = b.destOrMem(1, 0.3);
  return [emit(`set${cc} ${d.text}`, { reads, defines: 0, undefines: 0 })];
};

const cmov: Form = (b) => {
  const cc = b.condition();
  if (cc === undefined) return undefined;
  const reads = CONDITIONS.find((c) => c.cc === cc)!.reads;
  const size = b.rng.pick(WIDE);
  return [emit(`cmov${cc} ${b.srcOrMem(size)}, ${b.name(b.dest(), size)}`, { reads, defines: 0, undefines: 0 })];
};

const stack: Form = (b) => {
  const rng = b.rng;
  const size: Size = rng.chance(0.8) ? 8 : 2;
  const s = SUFFIX[size];
  switch (rng.below(5)) {
    case 0: return [emit(`push${s} ${b.name(b.src(), size)}`)];
    case 1: return [emit(`push${s} $${size === 2 ? rng.range(-32768, 65535) : signedRange(rng, 4)}`)];
    case 2: return [emit(`push${s} ${b.mem()}`)];
    case 3: return [emit(`pop${s} ${b.name(b.dest(), size)}`)];
    default: return [emit(`pop${s} ${b.mem()}`)];
  }
};

const convert: Form = (b) => {
  const i = b.rng.below(6);
  if (!b.canWrite(i < 3 ? 0 : 2)) return undefined;
  return [emit(["cbtw", "cwtl", "cltq", "cwtd", "cltd", "cqto"][i]!)];
};

const flagOp: Form = (b) => {
  switch (b.rng.below(5)) {
    case 0: return [emit("clc", { reads: 0, defines: FLAG_CF, undefines: 0 })];
    case 1: return [emit("stc", { reads: 0, defines: FLAG_CF, undefines: 0 })];
    case 2: return [...carryIn(b), emit("cmc", { reads: FLAG_CF, defines: FLAG_CF, undefines: 0 })];
    case 3: return [emit("cld")];
    default: return [emit("std")];
  }
};

const nop: Form = (b) => {
  switch (b.rng.below(3)) {
    case 0: return [emit("nop")];
    case 1: return [emit(`nopw ${b.anyAddress()}`)];
    default: return [emit(`nopl ${b.anyAddress()}`)];
  }
};

const jump: Form = (b) => {
  const skip = b.rng.range(0, 3);
  const near = b.rng.chance(0.3) ? "{disp32} " : "";
  if (b.rng.chance(0.25)) return [{ ...emit(`${near}jmp`), jump: { skip, always: true } }];
  const cc = b.condition();
  if (cc === undefined) return undefined;
  const reads = CONDITIONS.find((c) => c.cc === cc)!.reads;
  return [{ ...emit(`${near}j${cc}`, { reads, defines: 0, undefines: 0 }), jump: { skip, always: false } }];
};

// ── Forms of what GCC emits beyond the first subset (issue 16) ─────────────────

/**
 * SHLD / SHRD (SDM Vol.2B): a masked count of 0 changes nothing; otherwise
 * CF, SF, ZF, PF are defined, OF only for a count of 1, AF never. A 16-bit
 * operand with a count above 16 has an undefined result, so counts stay at
 * or below the operand size.
 */
function doubleShiftEffect(size: Size, count: number): FlagEffect {
  const masked = count & (size === 8 ? 63 : 31);
  if (masked === 0) return NONE;
  const defines = FLAG_CF | FLAG_SF | FLAG_ZF | FLAG_PF | (masked === 1 ? FLAG_OF : 0);
  return { reads: 0, defines, undefines: FLAG_AF | (masked === 1 ? 0 : FLAG_OF) };
}

const doubleShift: Form = (b) => {
  const rng = b.rng;
  const op = rng.pick(["shld", "shrd"]);
  const size = rng.pick(WIDE);
  const s = SUFFIX[size];
  const d = b.destOrMem(size);
  const n = rng.range(0, size === 2 ? 16 : size * 8 - 1);
  if (rng.chance(0.5)) return [emit(`${op}${s} $${n}, ${b.name(b.src(), size)}, ${d.text}`, doubleShiftEffect(size, n))];
  if (!b.canWrite(1) || d.reg === 1) return undefined;
  return [emit(`movb $${n}, %cl`), emit(`${op}${s} %cl, ${b.name(b.src(), size)}, ${d.text}`, doubleShiftEffect(size, n))];
};

/** BSF/BSR: ZF defined, the rest undefined; TZCNT/LZCNT: CF and ZF; POPCNT: all (cleared but ZF). */
const bitScan: Form = (b) => {
  const op = b.rng.pick(["bsf", "bsr", "tzcnt", "lzcnt", "popcnt"]);
  const size = b.rng.pick(WIDE);
  const effect: FlagEffect =
    op === "popcnt" ? ARITHMETIC
    : op.startsWith("bs") ? { reads: 0, defines: FLAG_ZF, undefines: ARITH & ~FLAG_ZF }
    : { reads: 0, defines: FLAG_CF | FLAG_ZF, undefines: ARITH & ~(FLAG_CF | FLAG_ZF) };
  return [emit(`${op}${SUFFIX[size]} ${b.srcOrMem(size)}, ${b.name(b.dest(), size)}`, effect)];
};

const byteSwap: Form = (b) => [emit(`bswap ${b.name(b.dest(), b.rng.pick([4, 8] as const))}`)];

/** CMPXCHG8B / CMPXCHG16B m (SDM Vol.2A): ZF defined, other flags unchanged; the 16-byte form needs an aligned operand. */
const compareExchangeDouble: Form = (b) => {
  if (!b.canWrite(0) || !b.canWrite(2)) return undefined;
  const wide = b.rng.chance(0.5);
  const lock = b.rng.chance(0.5);
  return [emit(`${lock ? "lock " : ""}${wide ? "cmpxchg16b" : "cmpxchg8b"} ${b.mem(wide ? 16 : lock ? 8 : 1)}`, { reads: 0, defines: FLAG_ZF, undefines: 0 })];
};

/** SAHF sets SF ZF AF PF CF from AH; LAHF reads them into AH. */
const ahFlags: Form = (b) => {
  const AH_FLAGS = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
  if (b.rng.chance(0.5)) return [emit("sahf", { reads: 0, defines: AH_FLAGS, undefines: 0 })];
  if (!b.canWrite(0)) return undefined;
  return [emit("lahf", { reads: AH_FLAGS, defines: 0, undefines: 0 })];
};

/** MOV between the accumulator and a 64-bit absolute address (A0-A3), in the scratch area. */
const moffs: Form = (b) => {
  const size = b.rng.pick(SIZES);
  const address = `0x${(SCRATCH_BASE + BigInt(32 + b.rng.below(SCRATCH_SIZE - 96))).toString(16)}`;
  const acc = b.name(0, size, false);
  if (b.rng.chance(0.5)) return [emit(`movabs ${acc}, ${address}`)];
  if (!b.canWrite(0)) return undefined;
  return [emit(`movabs ${address}, ${acc}`)];
};

/**
 * A string instruction, with or without a repeat prefix, in either direction
 * (SDM Vol.2B MOVS ... SCAS, REP): RSI, RDI and RCX are set up in the unit to
 * point into the scratch area with a count small enough that the strings
 * stay inside it whichever way DF runs. A compare always runs at least once,
 * so its flags are defined; MOVS, STOS and LODS change none.
 */
const string: Form = (b) => {
  const rng = b.rng;
  if (![1, 6, 7].every((r) => b.canWrite(r))) return undefined;
  const op = rng.pick(["movs", "cmps", "stos", "lods", "scas"]);
  const size = rng.pick(SIZES);
  if (op === "lods" && !b.canWrite(0)) return undefined;
  const addr32 = rng.chance(0.2);
  const reg = (r: string) => `%${addr32 ? "e" : "r"}${r}`;
  const repeated = rng.chance(0.7);
  const count = repeated ? rng.range(op === "cmps" || op === "scas" ? 1 : 0, 64) : 1;
  const compare = op === "cmps" || op === "scas";
  const prefix = !repeated ? "" : compare ? rng.pick(["repz ", "repnz "]) : "rep ";
  const unit: Emit[] = [emit(rng.chance(0.5) ? "cld" : "std")];
  unit.push(emit(`lea scr+${0x1400 + rng.below(0x800)}(%rip), ${reg("si")}`));
  unit.push(emit(`lea scr+${0x1400 + rng.below(0x800)}(%rip), ${reg("di")}`));
  if (repeated || rng.chance(0.5)) unit.push(emit(`mov $${count}, %ecx`));
  const suffix = SUFFIX[size];
  const effect: FlagEffect = compare ? ARITHMETIC : NONE;
  unit.push(emit(`${addr32 ? "addr32 " : ""}${prefix}${op}${suffix}`, effect));
  return unit;
};

const FORMS: [Form, number][] = [
  [alu, 14], [test, 3], [mov, 6], [extend, 3], [lea, 3], [xchg, 2], [cmpxchg, 2], [xadd, 2], [unary, 5],
  [shift, 10], [multiply, 5], [divide, 3], [bitTest, 5], [setcc, 3], [cmov, 3], [stack, 4], [convert, 2],
  [flagOp, 2], [nop, 1], [jump, 5], [doubleShift, 4], [bitScan, 4], [byteSwap, 1], [compareExchangeDouble, 2],
  [ahFlags, 2], [moffs, 2], [string, 4],
];
const FORM_TABLE: Form[] = FORMS.flatMap(([f, w]) => Array<Form>(w).fill(f));

function generateCase(rng: Rng, id: number): TestCase {
  const b = new CaseBuilder(rng, id);
  const length = rng.range(1, 8);
  let count = 0;
  for (let attempts = 0; count < length && attempts < 1000; attempts++) {
    const unit = rng.pick(FORM_TABLE)(b);
    if (!unit || count + unit.length > length) continue;
    count += b.add(unit);
  }
  const rflags = 2n | BigInt(rng.u32() & COMPARED_FLAGS);
  return b.finish(rflags, rng.u32());
}

export interface Batch {
  seed: number;
  /** The source of every case, one after the other, assembled at CODE_BASE with `scr` at SCRATCH_BASE. */
  source: string;
  cases: TestCase[];
}

/** `count` cases from a seed: the same seed gives the same batch. */
export function generateBatch(seed: number, count: number): Batch {
  const rng = new Rng(seed);
  const cases: TestCase[] = [];
  for (let i = 0; i < count; i++) cases.push(generateCase(rng, i));
  const source = ["  .data", "scr:", "  .text", ...cases.map((c) => c.source)].join("\n") + "\n";
  return { seed, source, cases };
}
