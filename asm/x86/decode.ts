// SPDX-License-Identifier: MIT
//
// The decoder: bytes to a table row and its operands, recording which
// prefixes and REX bits the instruction used, since objdump prints the
// unused ones by name ("data16", "rex.W", "cs").
//
// The steps follow SDM Vol.2A 2.1 (Figure 2-1): legacy prefixes, REX
// (which must come last), the opcode (one byte, 0F xx, or 0F 38 xx), ModRM,
// SIB, displacement, immediate. The row is the one whose opcode, mandatory
// prefix, ModRM.reg extension, ModRM.mod (memory only) and operand size fit;
// where several do, a mandatory prefix beats none (F3 90 is PAUSE), NOP beats
// XCHG, and a row that uses REX.W or 66 for its size beats one that would
// ignore it (REX.W B8+r is MOVABS), else the first in table order. Anything
// else is left undecoded: the caller prints it as a .byte.

import { Reader, decodeMemory, mask, signExtend, type DecodedMemory } from "./decode-modrm.ts";
import { LEGACY_PREFIXES, REX_B, REX_R, REX_W } from "./prefixes.ts";
import { gprName, type Size } from "./registers.ts";
import { FORMS, hasModrm, widthSize, type Form } from "./tables.ts";

export type { DecodedMemory };

export type DecodedOperand =
  | { kind: "reg"; name: string }
  | { kind: "imm"; value: bigint }
  | { kind: "mem"; mem: DecodedMemory }
  | { kind: "rel"; target: bigint }
  | { kind: "moffs"; address: bigint; seg?: string }
  /** A string instruction's %ds:(%rsi) or %es:(%rdi), as objdump writes it. */
  | { kind: "string"; text: string }
  /** The implicit 1 of D0/D1 shifts, which AT&T syntax does not print. */
  | { kind: "one" };

export interface DecodedPrefix {
  byte: number;
  used: boolean;
  /** objdump's name when it is not the prefix's usual one (notrack). */
  name?: string;
}

export interface DecodedInsn {
  form: Form;
  osize: Size | undefined;
  length: number;
  /** Legacy prefixes in byte order. */
  prefixes: DecodedPrefix[];
  rex: number;
  /** The REX bits the instruction used, with 0x40 when any (objdump's rex_used). */
  rexUsed: number;
  /** Operands in Intel order. */
  operands: DecodedOperand[];
  /** Whether REX was present (byte registers 4-7 are then %spl..%dil). */
  hasRex: boolean;
}

/** Opcode bytes (with the +r register added) → the rows, in table order. */
const INDEX = new Map<string, Form[]>();
for (const form of FORMS) {
  if (form.asmOnly) continue;
  const last = form.opcode[form.opcode.length - 1]!;
  for (let r = 0; r < (form.plusReg ? 8 : 1); r++) {
    const key = [...form.opcode.slice(0, -1), last + r].join(",");
    const list = INDEX.get(key) ?? [];
    list.push(form);
    INDEX.set(key, list);
  }
}

const isBranch = (f: Form) => f.operands.some((s) => s.method === "J") || f.mnemonic === "ret" || (f.opcode[0] === 0xff && (f.ext === 2 || f.ext === 4));

/** The operand size of `form` under these prefixes, and whether 66 / REX.W decided it (SDM Vol.2A 2.2.1.2). */
function operandSize(form: Form, has66: boolean, rexW: boolean): { osize: Size | undefined; used66: boolean; usedW: boolean } | undefined {
  if (form.sizes.length === 0) return { osize: undefined, used66: false, usedW: false };
  if (form.sizes.length === 1 && form.sizes[0] === 8) return { osize: 8, used66: false, usedW: false };
  let osize: Size;
  let used66 = false;
  let usedW = false;
  // REX.W wins over 66 (SDM Vol.2A 2.2.1.2), even where the row has no 64-bit form (in, out).
  if (rexW && form.sizes.includes(64)) {
    osize = 64;
    usedW = !form.default64;
  } else if (has66 && !rexW && form.sizes.includes(16)) {
    osize = 16;
    used66 = true;
  } else osize = form.default64 ? 64 : 32;
  return form.sizes.includes(osize) ? { osize, used66, usedW } : undefined;
}

/** Decodes one instruction of the table at bytes[offset]; undefined when it is not one. */
export function decodeInsn(bytes: Uint8Array, offset: number, address: bigint): DecodedInsn | undefined {
  const r = new Reader(bytes, offset);
  const prefixes: DecodedPrefix[] = [];
  while (r.available > 0 && LEGACY_PREFIXES[bytes[r.pos]!] && prefixes.length < 14) {
    prefixes.push({ byte: bytes[r.pos]!, used: false });
    r.pos++;
  }
  let rex = 0;
  if (r.available > 0 && (bytes[r.pos]! & 0xf0) === 0x40) rex = bytes[r.pos++]!;
  if (r.available === 0) return undefined;

  const opcode = [bytes[r.pos++]!];
  if (opcode[0] === 0x0f) {
    if (r.available === 0) return undefined;
    opcode.push(bytes[r.pos++]!);
    if (opcode[1] === 0x38) {
      if (r.available === 0) return undefined;
      opcode.push(bytes[r.pos++]!);
    }
  }
  const rows = INDEX.get(opcode.join(","));
  if (!rows) return undefined;
  const modrm = r.available > 0 ? bytes[r.pos]! : undefined;
  const has = (byte: number) => prefixes.some((p) => p.byte === byte);
  const lastOf = (pred: (b: number) => boolean) => {
    for (let i = prefixes.length - 1; i >= 0; i--) if (pred(prefixes[i]!.byte)) return prefixes[i]!;
    return undefined;
  };

  let best: { form: Form; size: NonNullable<ReturnType<typeof operandSize>>; score: number } | undefined;
  for (const form of rows) {
    if (form.prefix !== undefined && !has(form.prefix)) continue;
    if (hasModrm(form)) {
      if (modrm === undefined) return undefined;
      if (form.modrm !== undefined && modrm !== form.modrm) continue;
      if (form.ext !== undefined && ((modrm >> 3) & 7) !== form.ext) continue;
      if (form.operands.some((s) => s.method === "M") && modrm >> 6 === 3) continue;
      // R is a register only; MOV to and from CRn alone ignores ModRM.mod (SDM Vol.2B), other rows with memory are others' (F3 0F AE /0 with memory is FXSAVE).
      if (form.operands.some((s) => s.method === "R") && !form.operands.some((s) => s.method === "C") && modrm >> 6 !== 3) continue;
    }
    // SDM Vol.2B XCHG/NOP: 90 without REX.B (and without 66, which objdump reads as xchg %ax,%ax) is NOP.
    if (form.mnemonic === "nop" && form.opcode[0] === 0x90 && (rex & REX_B || has(0x66))) continue;
    const size = operandSize(form, has(0x66) && form.prefix !== 0x66, (rex & REX_W) !== 0);
    if (!size) continue;
    // NOP wins over XCHG even with REX.W: objdump prints 48 90 as "rex.W nop".
    const score = form.prefix ? 8 : form.mnemonic === "nop" ? 4 : (size.usedW ? 2 : 0) + (size.used66 ? 1 : 0);
    if (!best || score > best.score) best = { form, size, score };
  }
  if (!best || unsupported(best.form, has, (rex & REX_W) !== 0, opcode, modrm)) return undefined;
  const insn = decodeOperands(best.form, best.size, r, prefixes, rex, address, lastOf);
  // No instruction is longer than 15 bytes (SDM Vol.2A 2.3.11); objdump calls a longer one (bad).
  return insn && insn.length <= 15 ? insn : undefined;
}

/**
 * Prefix combinations objdump reads as something outside the table (bnd,
 * branch hints, 16-bit branches, the F2/F3/66 opcode maps of 0F such as
 * CLFLUSHOPT); these stay undecoded.
 */
function unsupported(form: Form, has: (b: number) => boolean, rexW: boolean, opcode: number[], modrm: number | undefined): boolean {
  const jump = form.operands[0]?.method === "J";
  const jcc = jump && form.mnemonic !== "jmp" && form.mnemonic !== "call";
  if (isBranch(form) && has(0xf2)) return true;
  // One of CS and DS on Jcc is a branch hint (",pn", ",pt"); both are just names.
  if (jcc && has(0x2e) !== has(0x3e)) return true;
  // 66 without REX.W makes near branches 16-bit (callw, jmpw *).
  const branch16 = (jump && form.operands[0]!.width === "z") || (form.opcode[0] === 0xff && (form.ext === 2 || form.ext === 4));
  if (branch16 && has(0x66) && !rexW) return true;
  // F2 0F B8/BC/BD has no entry in objdump's prefix tables: "(bad)".
  if (has(0xf2) && opcode[0] === 0x0f && [0xb8, 0xbc, 0xbd].includes(opcode[1]!)) return true;
  // A mandatory 66 with F2 or F3 as well is another instruction, or none.
  if (form.prefix === 0x66 && (has(0xf2) || has(0xf3))) return true;
  // Where 66, F2 and F3 select other instructions in the 0F map (WBNOINVD, RDFSBASE, CLFLUSHOPT, CLUI...).
  const prefixed = has(0x66) || has(0xf2) || has(0xf3);
  if (prefixed && form.prefix === undefined && opcode[0] === 0x0f && (opcode[1] === 0x09 || opcode[1] === 0xae)) return true;
  return prefixed && opcode[0] === 0x0f && opcode[1] === 0x01 && (modrm === 0xee || modrm === 0xef);
}

function decodeOperands(
  form: Form,
  size: { osize: Size | undefined; used66: boolean; usedW: boolean },
  r: Reader,
  prefixes: DecodedPrefix[],
  rex: number,
  address: bigint,
  lastOf: (pred: (b: number) => boolean) => DecodedPrefix | undefined,
): DecodedInsn | undefined {
  const { osize } = size;
  const start = r.pos - form.opcode.length - prefixes.length - (rex ? 1 : 0);
  let rexUsed = 0;
  const useRex = (bit: number) => {
    if (rex & bit) rexUsed |= bit | 0x40;
  };
  if (size.usedW) useRex(REX_W);
  const hasRex = rex !== 0;
  const addr32 = prefixes.some((p) => p.byte === 0x67);
  const opcodeLast = r.bytes[r.pos - 1]!;

  /** A general register, marking the REX bits its number used. */
  const gpr = (num: number, sz: Size, bit: number): DecodedOperand => {
    if (bit) useRex(bit);
    if (sz === 8 && num & 4) rexUsed |= 0x40;
    return { kind: "reg", name: gprName(num, sz, hasRex) };
  };

  let modrm: number | undefined;
  let memory: DecodedMemory | undefined;
  let memoryFixup: ((end: bigint) => void) | undefined;
  if (hasModrm(form)) {
    modrm = r.bytes[r.pos++]!;
    const needsMemory = form.operands.some((s) => s.method === "E" || s.method === "M");
    if (needsMemory && modrm >> 6 !== 3) {
      const decoded = decodeMemory(modrm, r, rex, addr32, useRex);
      if (!decoded) return undefined;
      memory = decoded.mem;
      memoryFixup = decoded.resolve;
    }
  }
  const reg = modrm === undefined ? 0 : ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);
  const rm = modrm === undefined ? 0 : (modrm & 7) | (rex & REX_B ? 8 : 0);

  const operands: DecodedOperand[] = [];
  const rels: { index: number; rel: bigint }[] = [];
  for (const spec of form.operands) {
    const sz = widthSize(spec.width, osize);
    switch (spec.method) {
      case "G":
        operands.push(gpr(reg, sz!, REX_R));
        break;
      case "C":
        useRex(REX_R);
        operands.push({ kind: "reg", name: `cr${reg}` });
        break;
      case "S": {
        // ES CS SS DS FS GS; 6 and 7 are no segment register (objdump's "%?"), left undecoded.
        const names = ["es", "cs", "ss", "ds", "fs", "gs"];
        if ((reg & 7) > 5) return undefined;
        operands.push({ kind: "reg", name: names[reg & 7]! });
        break;
      }
      case "R":
        operands.push(gpr(rm, sz!, REX_B));
        break;
      case "E": case "M":
        if (memory) {
          operands.push({ kind: "mem", mem: memory });
        } else operands.push(gpr(rm, sz!, REX_B));
        break;
      case "Z":
        operands.push(gpr((opcodeLast & 7) | (rex & REX_B ? 8 : 0), sz!, REX_B));
        break;
      case "AL": case "rAX": case "eAX":
        operands.push({ kind: "reg", name: gprName(0, sz!, hasRex) });
        break;
      case "CL":
        operands.push({ kind: "reg", name: "cl" });
        break;
      case "DX":
        operands.push({ kind: "reg", name: "(dx)" });
        break;
      case "1":
        operands.push({ kind: "one" });
        break;
      case "I": {
        const bytes = spec.width === "b" || spec.width === "bs" ? 1 : spec.width === "w" ? 2 : sz! / 8;
        const raw = r.read(bytes);
        if (raw === undefined) return undefined;
        let value: bigint;
        if (spec.width === "bs") value = mask(signExtend(raw, 8), osize ?? 64);
        else if (spec.width === "z" && osize === 64) value = mask(signExtend(raw, 32), 64);
        else value = raw;
        operands.push({ kind: "imm", value });
        break;
      }
      case "J": {
        const bytes = spec.width === "b" ? 1 : 4;
        const raw = r.read(bytes);
        if (raw === undefined) return undefined;
        rels.push({ index: operands.length, rel: signExtend(raw, bytes * 8) });
        operands.push({ kind: "rel", target: 0n });
        break;
      }
      case "X": {
        // objdump names the source's segment DS unless FS or GS overrides it.
        const fsgs = lastOf((b) => b === 0x64 || b === 0x65);
        operands.push({ kind: "string", text: `%${fsgs ? LEGACY_PREFIXES[fsgs.byte]!.name : "ds"}:(%${addr32 ? "esi" : "rsi"})` });
        break;
      }
      case "Y":
        operands.push({ kind: "string", text: `%es:(%${addr32 ? "edi" : "rdi"})` });
        break;
      case "O": {
        // With 67 the address is 32 bits (SDM Vol.2B "MOV", moffs).
        const raw = r.read(addr32 ? 4 : 8);
        if (raw === undefined) return undefined;
        operands.push({ kind: "moffs", address: raw });
        break;
      }
    }
  }
  const length = r.pos - start;
  const end = address + BigInt(length);
  for (const { index, rel } of rels) operands[index] = { kind: "rel", target: mask(end + rel, 64) };
  memoryFixup?.(end);

  // Which legacy prefixes the instruction used; the rest objdump prints by name.
  const last66 = lastOf((b) => b === 0x66);
  // objdump's MOVSXD_Fixup counts 66 as used even when REX.W decides the size, for a register source,
  // and so does its table for opcode 90 (NOP, PAUSE, XCHG), where 66 selects the entry.
  // 0F BC and BD are prefix-table entries in i386-dis.c (BSF/TZCNT, BSR/LZCNT): without F3, 66 picks the entry.
  const prefixTable = form.prefix === undefined && form.opcode.length === 2 && form.opcode[0] === 0x0f && [0xbc, 0xbd].includes(opcodeLast);
  const takes66 = (form.mnemonic === "movsl" && !memory) || (form.mnemonic === "xchg" && form.opcode.length === 1 && opcodeLast === 0x90) || prefixTable;
  // A segment move with memory stores or loads 16 bits whatever 66 and REX.W say: objdump prints them.
  const segmentMemory = memory !== undefined && form.operands.some((s) => s.method === "S");
  if (segmentMemory) rexUsed &= ~REX_W;
  if (last66 && (size.used66 || form.prefix === 0x66 || takes66) && !segmentMemory) last66.used = true;
  if (form.prefix === 0xf3 || form.prefix === 0xf2) lastOf((b) => b === form.prefix)!.used = true;
  const hasMemory = memory !== undefined || operands.some((o) => o.kind === "moffs");
  const last67 = lastOf((b) => b === 0x67);
  const stringOps = form.operands.some((s) => s.method === "X" || s.method === "Y");
  if (last67 && (memory || stringOps)) last67.used = true;
  if (stringOps) {
    // A string source takes the last segment override, whichever it is; objdump prints it as DS unless
    // it is FS or GS. REP prefixes stay in the text: F3 is "rep" before MOVS, STOS and LODS, "repz"
    // before CMPS and SCAS (i386-dis.c's REP_Fixup).
    if (form.operands.some((s) => s.method === "X")) {
      const seg = lastOf((b) => LEGACY_PREFIXES[b]!.slot === "seg");
      if (seg) seg.used = true;
    }
    const compares = form.mnemonic === "cmps" || form.mnemonic === "scas";
    for (const p of prefixes) if (p.byte === 0xf3 && !compares) p.name = "rep";
    return { form, osize, length, prefixes, rex, rexUsed, operands, hasRex };
  }
  // In 64-bit mode only FS and GS overrides take effect (SDM Vol.1 3.3.7.1); objdump prints the others by
  // name. When the operand uses the last FS/GS, objdump drops the last segment prefix of all from the
  // names, whichever it is (i386-dis.c: all_prefixes[last_seg_prefix] = 0).
  const lastSeg = lastOf((b) => LEGACY_PREFIXES[b]!.slot === "seg");
  // A DS override on an indirect branch is CET's NOTRACK (SDM Vol.1 18.3.8), and objdump calls it so;
  // it then applies no FS or GS override to the operand.
  const notrack = lastSeg?.byte === 0x3e && form.opcode[0] === 0xff && (form.ext === 2 || form.ext === 4);
  if (notrack) lastSeg.name = "notrack";
  const active = notrack ? undefined : lastOf((b) => b === 0x64 || b === 0x65);
  if (active && hasMemory) {
    lastSeg!.used = true;
    const seg = LEGACY_PREFIXES[active.byte]!.name;
    if (memory) memory.seg = seg;
    for (const o of operands) if (o.kind === "moffs") o.seg = seg;
  }
  // Under LOCK and on XCHG with memory, F2 and F3 are XACQUIRE and XRELEASE (SDM Vol.1 16.3.1); on a MOV
  // to memory, F3 is XRELEASE when it is the last of the two.
  if (memory) {
    const lock = prefixes.some((p) => p.byte === 0xf0);
    const f2 = lastOf((b) => b === 0xf2);
    const f3 = lastOf((b) => b === 0xf3);
    if (form.hle === "any" || (form.lock && lock && form.hle !== "release")) {
      if (f2) f2.name = "xacquire";
      if (f3) f3.name = "xrelease";
    } else if (form.hle === "release" && f3 && lastOf((b) => b === 0xf2 || b === 0xf3) === f3) f3.name = "xrelease";
  }
  return { form, osize, length, prefixes, rex, rexUsed, operands, hasRex };
}

