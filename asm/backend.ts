// SPDX-License-Identifier: MIT
//
// The contract between the assembler's core (asm/assembler.ts: sources,
// directives, symbols, sections, relaxation, ELF) and an architecture
// (asm/x86/, asm/a64/: instruction syntax, encodings, decoding).
//
// The core hands a backend one instruction statement at a time, already
// split into mnemonic and operand text, with a context for expressions. The
// backend answers with bytes and fixups (fields to fill in once addresses are
// known), or throws AsmError with a GNU-as-style message; the core adds the
// file and line. For disassembly the backend decodes one instruction and
// renders it twice: as objdump -d prints it, and as source the assembler
// takes back to the same bytes.

import type { Expr } from "./expr.ts";

/** A user error in the source (or in bytes being decoded): the message GNU as would give, without file and line. */
export class AsmError extends Error {
  override name = "AsmError";
}

export type ArchName = "x86_64" | "aarch64";

/** What the core offers a backend while it encodes one statement. */
export interface AsmContext {
  /**
   * Parses a GNU as expression: numbers (decimal, 0x, 0b, 0 octal, 'c
   * characters), symbols (including numeric local references 1b / 1f and
   * `.` for the current location), unary - ~ ! +, and GNU as's binary
   * operators at GNU as's precedences. Throws AsmError.
   */
  parseExpr(text: string): Expr;
  /**
   * The value of `expr` if GNU as would know it while parsing this line: a
   * plain number, absolute symbols (.equ/.set) defined earlier, `.`-free
   * differences of labels with no variable-size fragment (a relaxable jump,
   * an alignment) between them. Otherwise undefined, and the backend must
   * choose the encoding GNU as chooses for a value it does not know yet
   * (x86: disp32, imm32) and leave a fixup.
   */
  knownValue(expr: Expr): bigint | undefined;
}

/**
 * A field to fill in once every address is known. The core evaluates `expr`
 * to its final value (an absolute address or constant) and calls apply with
 * the address of the instruction's first byte; apply writes the field into
 * `bytes` (the instruction's own bytes) or returns the error message GNU as
 * (or ld) would give, e.g. "branch out of range" or "value 300 out of range".
 */
export interface Fixup {
  /** Offset of the field in the instruction's bytes (for listings and messages). */
  offset: number;
  expr: Expr;
  apply(bytes: Uint8Array, value: bigint, address: bigint): string | undefined;
}

export interface Encoding {
  bytes: Uint8Array;
  fixups: Fixup[];
}

export interface Instruction extends Encoding {
  /**
   * A relaxable branch (x86 JMP/Jcc to a symbol): `bytes` is the short form.
   * The core keeps the short form while the target is a label in the same
   * section and `fits(target, address)` says so; otherwise it switches to
   * `long` for good (GNU as relaxes only by growing). `target` is the branch
   * target expression (the same one the fixups use).
   */
  relax?: { target: Expr; long: Encoding; fits(target: bigint, address: bigint): boolean };
}

/** One decoded instruction. */
export interface Decoded {
  /** Bytes consumed (at least 1; 4 on A64). */
  length: number;
  /** As objdump -d prints it after the bytes: mnemonic, then operands (x86: "%-6s " spacing; A64: a tab), with objdump's comments. */
  text: string;
  /** As source for shootdown asm (and GNU as): assembles back to exactly these bytes. */
  source: string;
  /** Not in the subset: text and source are `.byte`/`.inst` directives. */
  unknown?: boolean;
}

/** How a decoder names addresses it prints (branch targets, RIP-relative and PC-relative operands). */
export interface Symbolizer {
  /** objdump's form: "401000 <foo+0x10>" style, the address in hex without 0x then the nearest symbol. */
  objdump(address: bigint): string;
  /** A label or expression the assembler resolves to this address (e.g. "foo+0x10" or ".L_401010"). */
  source(address: bigint): string;
}

export interface Backend {
  arch: ArchName;
  /** ELF e_machine: EM_X86_64 = 62, EM_AARCH64 = 183. */
  elfMachine: number;
  /** Bytes of `.word` (x86: 2, A64: 4). */
  wordSize: 2 | 4;
  /** `.align N`: N bytes (x86) or 2^N bytes (A64), as GNU as on ELF. */
  alignIsPowerOfTwo: boolean;
  /** Encodes one instruction statement; throws AsmError. `mnemonic` is as written (any case). */
  assemble(mnemonic: string, operands: string, ctx: AsmContext): Instruction;
  /**
   * A one-byte fill that still means code padding in a code section: GNU as's
   * x86 md_do_align pads `.p2align 4,0x90` with long NOPs as if no fill were
   * given (gas/config/tc-i386.h). Undefined where no fill does.
   */
  nopFill?: number;
  /** Padding for alignment in a code section, exactly as GNU as emits it (x86: long NOPs; A64: NOP words after zero bytes up to a 4-byte boundary). */
  codeFill(size: number, address: bigint): Uint8Array;
  /** Decodes the instruction at bytes[offset], which sits at `address`. Never throws. */
  decode(bytes: Uint8Array, offset: number, address: bigint, names: Symbolizer): Decoded;
}
