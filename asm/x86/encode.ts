// SPDX-License-Identifier: MIT
//
// The assembler: one AT&T statement to bytes, choosing the encoding GNU as
// 2.40 chooses. The steps follow gas/config/tc-i386.c md_assemble:
//
//   prefix words and pseudo-prefixes → mnemonic and suffix → operands →
//   the first table row the operands fit (match_template) → operand size
//   (process_suffix) → prefixes, REX, opcode, ModRM, SIB, displacement,
//   immediates (output_insn) → fixups for the values not known yet.
//
// A value GNU as knows while reading the line gets the smallest encoding
// (disp8, the sign-extended imm8 forms); one it does not know gets the
// 32-bit field and a fixup, as GNU as leaves a relocation or a frag fix.

import { AsmError, type AsmContext, type Encoding, type Fixup, type Instruction } from "../backend.ts";
import type { Expr } from "../expr.ts";
import { hex, makeFixup, offsetInRange, writeLE, type Field } from "./fields.ts";
import { fitsSigned, isGpr, isIndirectBranch, normalizeImmediate, selectForm, type Match } from "./match.ts";
import { parseOperand, splitOperands, type MemoryOperand, type Operand } from "./operands.ts";
import { REX, REX_B, REX_R, REX_W, REX_X, SLOT_ORDER, type PrefixSlot } from "./prefixes.ts";
import type { Register } from "./registers.ts";
import { lookup, prefixesOnly, splitStatement, type Candidates, type Statement } from "./statement.ts";
import { BY_MNEMONIC, FORMS, hasModrm, widthSize, type Form } from "./tables.ts";

interface ModrmParts {
  modrm: number;
  sib?: number;
  disp?: Field;
  rex: number;
  addr32: boolean;
}

/** The default segment of a memory operand: SS for a base of %rsp or %rbp, DS otherwise (SDM Vol.1 3.7.4). */
function defaultSegment(op: MemoryOperand): number {
  return op.base?.kind === "gpr" && (op.base.num === 4 || op.base.num === 5) ? 0x36 : 0x3e;
}

/** Rejects base/index combinations GNU as rejects. */
function validateMemory(op: MemoryOperand): void {
  const bad = () => new AsmError(`\`${op.baseIndexText}' is not a valid base/index expression`);
  const { base, index } = op;
  if (base && !(base.kind === "rip" || (base.kind === "gpr" && (base.size === 64 || base.size === 32)))) throw bad();
  if (index && !(index.kind === "gpr" && (index.size === 64 || index.size === 32) && index.num !== 4)) throw bad();
  if (base?.kind === "rip" && index) throw bad();
  const baseSize = base?.kind === "gpr" ? base.size : base?.kind === "rip" ? base.size : undefined;
  if (baseSize && index?.kind === "gpr" && index.size !== baseSize) throw bad();
}

/** ModRM (and SIB, displacement) for a memory operand (SDM Vol.2A 2.1.5, Tables 2-2 and 2-3; 2.2.1.6 RIP-relative). */
function encodeMemory(op: MemoryOperand, reg: number, st: Statement, ctx: AsmContext): ModrmParts {
  const { base, index } = op;
  const addr32 = (base?.kind === "gpr" && base.size === 32) || (base?.kind === "rip" && base.size === 32) || (index?.kind === "gpr" && index.size === 32);
  const regBits = (reg & 7) << 3;
  const rex = (reg & 8 ? REX_R : 0) | (index?.kind === "gpr" && index.num & 8 ? REX_X : 0) | (base?.kind === "gpr" && base.num & 8 ? REX_B : 0);
  const dispValue = op.disp === undefined ? 0n : ctx.knownValue(op.disp);
  const disp32 = (check: Field["check"]): Field =>
    dispValue === undefined ? { size: 4, expr: op.disp!, check } : { size: 4, value: dispValue };
  const checkDisp = (v: bigint): bigint => {
    if (addr32) return BigInt.asIntN(32, v);
    if (!fitsSigned(v, 32)) throw new AsmError(`${hex(v)} out of range of signed 32bit displacement`);
    return v;
  };

  if (base?.kind === "rip") {
    if (dispValue !== undefined) checkDisp(dispValue);
    return { modrm: 0x05 | regBits, disp: disp32("pcrel"), rex, addr32 };
  }
  if (!base) {
    // No base: SIB with base 101 and mod 00 means disp32 alone, which 64-bit mode needs since ModRM rm=101 is RIP-relative.
    const sib = ((index ? Math.log2(op.scale) : 0) << 6) | ((index?.kind === "gpr" ? index.num & 7 : 4) << 3) | 5;
    if (dispValue !== undefined) checkDisp(dispValue);
    return { modrm: 0x04 | regBits, sib, disp: disp32("signed"), rex, addr32 };
  }
  if (base.kind !== "gpr") throw new AsmError(`\`${op.baseIndexText}' is not a valid base/index expression`);
  let dispSize: 0 | 1 | 4;
  let value = dispValue;
  if (value === undefined || st.pseudo.has("disp32")) dispSize = 4;
  else {
    value = checkDisp(value);
    // rBP and r13 as a base with mod 00 would mean "no base" or RIP, so they carry a disp8 of 0.
    if (value === 0n && (base.num & 7) !== 5 && !st.pseudo.has("disp8")) dispSize = 0;
    else if (fitsSigned(value, 8)) dispSize = 1;
    else dispSize = 4;
  }
  const mod = dispSize === 0 ? 0 : dispSize === 1 ? 0x40 : 0x80;
  const disp: Field | undefined =
    dispSize === 0 ? undefined : value === undefined ? { size: 4, expr: op.disp!, check: "signed" } : { size: dispSize, value };
  if (index || (base.num & 7) === 4) {
    const sib = ((index ? Math.log2(op.scale) : 0) << 6) | ((index?.kind === "gpr" ? index.num & 7 : 4) << 3) | (base.num & 7);
    return { modrm: mod | regBits | 4, sib, ...(disp ? { disp } : {}), rex, addr32 };
  }
  return { modrm: mod | regBits | (base.num & 7), ...(disp ? { disp } : {}), rex, addr32 };
}

/** XACQUIRE and XRELEASE need LOCK, or XCHG, or (XRELEASE) a MOV to memory (SDM Vol.1 16.3.3); GNU as's messages. */
function checkHle(form: Form, word: string, memory: boolean, lock: boolean, stem: string): void {
  if (form.hle === "release") {
    if (word === "xacquire") throw new AsmError(`instruction \`${stem}' after \`${word}' not allowed`);
    if (!memory) throw new AsmError(`memory destination needed for instruction \`${stem}' after \`${word}'`);
  } else if (form.hle === "any") {
    if (!memory) throw new AsmError(`memory destination needed for instruction \`${stem}' after \`${word}'`);
  } else if (form.lock) {
    if (!lock) throw new AsmError(`missing \`lock' with \`${word}'`);
  } else throw new AsmError(`instruction \`${stem}' after \`${word}' not allowed`);
}

/** Lays out the bytes of a matched row and turns its unknown fields into fixups. */
function emit(m: Match, st: Statement, cands: Candidates, ctx: AsmContext): Encoding {
  const { form, osize, ops } = m;
  const prefixes: Partial<Record<PrefixSlot, number>> = { ...st.prefixes };
  const setPrefix = (slot: PrefixSlot, byte: number) => {
    if (prefixes[slot] !== undefined && prefixes[slot] !== byte) throw new AsmError("same type of prefix used twice");
    if (prefixes[slot] === byte && st.prefixes[slot] === byte && slot !== "seg") throw new AsmError("same type of prefix used twice");
    prefixes[slot] = byte;
  };
  let rex = 0;

  // Operand size: 66 for 16 bits, REX.W for 64 unless 64 is the default (SDM Vol.2A 2.2.1.2, Table 2-4).
  const xchgAcc = form.mnemonic === "xchg" && form.plusReg && ops.every((op) => isGpr(op) && op.reg.num === 0);
  if (osize === 16 && form.sizes.length) setPrefix("data", 0x66);
  if (osize === 64 && !form.default64 && !xchgAcc) rex |= REX_W;
  if (form.prefix === 0x66) setPrefix("data", 0x66);
  if (form.prefix === 0xf3 || form.prefix === 0xf2) setPrefix("rep", form.prefix);

  const memIndex = ops.findIndex((op, i) => op.kind === "mem" && "EM".includes(form.operands[i]!.method));
  if (prefixes.lock !== undefined && !(form.lock && memIndex >= 0)) throw new AsmError("expecting lockable instruction after `lock'");
  if (st.repWord === "xacquire" || st.repWord === "xrelease") checkHle(form, st.repWord, memIndex >= 0, prefixes.lock !== undefined, cands.stem);
  else if (st.repWord && !form.rep) throw new AsmError(`invalid instruction \`${cands.stem}' after \`${st.repWord}'`);
  if (st.notrack && !isIndirectBranch(form)) throw new AsmError("expecting indirect branch instruction after `notrack'");

  // The ModRM.reg field: a register operand, a control register or the opcode extension.
  let reg = form.ext ?? 0;
  let rm: Operand | undefined;
  let opreg = 0;
  const imms: Field[] = [];
  let rel: Field | undefined;
  let moffs: Field | undefined;
  const registers: Register[] = [];
  form.operands.forEach((spec, i) => {
    const op = ops[i]!;
    if (op.kind === "reg") registers.push(op.reg);
    const size = widthSize(spec.width, osize);
    switch (spec.method) {
      case "G": case "C": case "S":
        reg = (op as { reg: { num: number } }).reg.num;
        if (form.dup) rm = op;
        break;
      case "E": case "M": case "R":
        rm = op;
        break;
      case "Z":
        opreg = (op as { reg: { num: number } }).reg.num;
        break;
      case "I": {
        const expr = (op as { expr: Expr }).expr;
        const known = ctx.knownValue(expr);
        const bytes = (spec.width === "b" || spec.width === "bs" ? 1 : spec.width === "w" ? 2 : size! / 8) as Field["size"];
        if (known === undefined) {
          imms.push({ size: bytes, expr, check: bytes === 8 ? "none" : spec.width === "z" && osize === 64 ? "signed" : "unsigned" });
        } else {
          const v = normalizeImmediate(known, osize);
          imms.push({ size: bytes, value: bytes === 8 || spec.width === "bs" ? v : offsetInRange(v, bytes) });
        }
        break;
      }
      case "J":
        rel = { size: spec.width === "b" ? 1 : 4, expr: (op as MemoryOperand).disp!, check: "pcrel" };
        break;
      case "X": case "Y": {
        const mem = op as MemoryOperand;
        // DS is the source's default; ES, the destination's, cannot be overridden (Y took only ES).
        if (spec.method === "X" && mem.seg && mem.seg.prefix !== 0x3e) setPrefix("seg", mem.seg.prefix);
        if (mem.base?.kind === "gpr" && mem.base.size === 32) {
          if (prefixes.addr !== 0x67) setPrefix("addr", 0x67);
        } else if (prefixes.addr === 0x67 && st.prefixes.addr === undefined) {
          throw new AsmError(`\`${mem.baseIndexText}' is not a valid base/index expression`);
        }
        break;
      }
      case "O": {
        const mem = op as MemoryOperand;
        if (mem.seg && mem.seg.prefix !== 0x3e) setPrefix("seg", mem.seg.prefix);
        const known = ctx.knownValue(mem.disp!);
        // With 0x67 the address is 32 bits.
        const addr32 = prefixes.addr === 0x67;
        const width = addr32 ? 4 : 8;
        moffs = known === undefined ? { size: width, expr: mem.disp!, check: addr32 ? "unsigned" : "none" } : { size: width, value: addr32 ? BigInt.asUintN(32, known) : known };
        break;
      }
    }
  });

  let modrmBytes: number[] = [];
  let disp: Field | undefined;
  if (hasModrm(form)) {
    if (form.modrm !== undefined) modrmBytes = [form.modrm];
    else if (rm?.kind === "mem") {
      validateMemory(rm);
      if (rm.seg && rm.seg.prefix !== defaultSegment(rm)) setPrefix("seg", rm.seg.prefix);
      const parts = encodeMemory(rm, reg, st, ctx);
      if (parts.addr32) setPrefix("addr", 0x67);
      rex |= parts.rex;
      modrmBytes = parts.sib === undefined ? [parts.modrm] : [parts.modrm, parts.sib];
      disp = parts.disp;
    } else {
      const rmNum = rm?.kind === "reg" ? (rm.reg as { num: number }).num : 0;
      rex |= (reg & 8 ? REX_R : 0) | (rmNum & 8 ? REX_B : 0);
      modrmBytes = [0xc0 | ((reg & 7) << 3) | (rmNum & 7)];
    }
  }
  if (opreg & 8) rex |= REX_B;

  // An explicit rex word may only add to an instruction that needs no REX bits of its own.
  if (st.rex && rex & 0x0f) throw new AsmError("same type of prefix used twice");
  rex |= st.rex;
  // SDM Vol.2A 3.7.2.1: %spl..%dil need REX, %ah..%bh cannot be encoded with it.
  if (registers.some((r) => r.kind === "gpr" && r.needsRex)) rex |= REX;
  if (rex) {
    rex |= REX;
    const high = registers.find((r) => r.kind === "gpr" && r.high);
    if (high) throw new AsmError(`can't encode register '%${high.name}' in an instruction requiring REX prefix.`);
  }

  const head: number[] = [];
  for (const slot of SLOT_ORDER) if (prefixes[slot] !== undefined) head.push(prefixes[slot]!);
  if (rex) head.push(rex);
  const opcode = [...form.opcode];
  opcode[opcode.length - 1]! += opreg & 7;
  head.push(...opcode, ...modrmBytes);

  const fields = [disp, rel, moffs, ...imms].filter((f): f is Field => f !== undefined);
  const length = head.length + fields.reduce((n, f) => n + f.size, 0);
  const bytes = new Uint8Array(length);
  bytes.set(head);
  const fixups: Fixup[] = [];
  let offset = head.length;
  for (const field of fields) {
    if (field.value !== undefined && field.check !== "pcrel") writeLE(bytes, offset, field.size, field.value);
    else fixups.push(makeFixup(field, offset, length));
    offset += field.size;
  }
  return { bytes, fixups };
}

/** Encodes one AT&T statement; `mnemonic` may be a prefix word, the rest then follows in `operands`. */
export function assemble(mnemonic: string, operands: string, ctx: AsmContext): Instruction {
  const st = splitStatement(mnemonic, operands);
  if (st.mnemonic === "") return prefixesOnly(st);
  const cands = lookup(st.mnemonic);
  if (!cands) throw new AsmError(`no such instruction: \`${st.text}'`);
  const ops = splitOperands(st.operands).map((text) => portOperand(parseOperand(text, ctx)));
  let m = selectForm(cands, ops, st, ctx);
  // GNU as writes `int $3` as the one-byte INT3 (tc-i386.c md_assemble), which the SDM notes traps differently (Vol.2A "INT n").
  if (m.form.mnemonic === "int" && ops[0]?.kind === "imm" && ctx.knownValue(ops[0].expr) === 3n) {
    m = { form: BY_MNEMONIC.get("int3")![0]!, osize: undefined, ops: [] };
  }
  const encoding = emit(m, st, cands, ctx);
  const jump = m.form.operands[0]?.method === "J" && m.form.operands[0].width === "b";
  if (!jump) return encoding;
  // A relaxable branch: the long form is the row after it (EB → E9, 7x → 0F 8x).
  const longForm = FORMS[m.form.index + 1]!;
  const long = emit({ ...m, form: longForm }, st, cands, ctx);
  const shortLength = BigInt(encoding.bytes.length);
  return {
    ...encoding,
    relax: {
      target: (m.ops[0] as MemoryOperand).disp!,
      long,
      fits: (target, address) => fitsSigned(BigInt.asIntN(64, target - (address + shortLength)), 8),
    },
  };
}

/** GNU as reads "(%dx)" as the port register of in and out. */
function portOperand(op: Operand): Operand {
  if (op.kind === "mem" && !op.indirect && !op.disp && !op.index && !op.seg && op.base?.kind === "gpr" && op.base.name === "dx") {
    return { kind: "reg", reg: op.base, indirect: false };
  }
  return op;
}

