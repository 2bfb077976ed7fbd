// SPDX-License-Identifier: MIT
//
// What the assembler refuses, with GNU as's words. Most of these GNU as
// refuses too; a few it only warns about and then assembles something
// surprising (an immediate cut to fit, an operand size it guessed), and this
// assembler refuses those as errors with the text of GNU as's warning. With
// binutils installed, each case is also checked against `as` itself.

import { describe, expect, it } from "vitest";
import type { AsmContext } from "../../../asm/backend.ts";
import { evaluate, parseExpr } from "../../../asm/expr.ts";
import { x86Backend } from "../../../asm/x86/index.ts";
import { binutilsAvailable, gnuMessages, gnuWarnings } from "../golden/regenerate-x86.mjs";
import { assembleSource } from "./assemble.ts";

const ctx: AsmContext = { parseExpr: (t) => parseExpr(t), knownValue: (e) => evaluate(e, () => undefined) };

function assembleLine(line: string) {
  const [, mnemonic, operands] = /^(\S+)\s*(.*)$/.exec(line)!;
  return x86Backend.assemble(mnemonic!, operands!, ctx);
}

/** [statement, our message, what GNU as says: "same" error, or its warning / different error text]. */
const CASES: [string, string, { gas: "same" } | { warning: string } | { error: string }][] = [
  ["foo %eax", "no such instruction: `foo %eax'", { gas: "same" }],
  ["lock foo", "no such instruction: `foo'", { gas: "same" }],
  ["add %eax", "number of operands mismatch for `add'", { gas: "same" }],
  ["add", "number of operands mismatch for `add'", { gas: "same" }],
  ["int3 $1", "number of operands mismatch for `int3'", { gas: "same" }],
  ["mov %rax,%cr3,%rax", "number of operands mismatch for `mov'", { gas: "same" }],
  ["add $1,$2", "operand type mismatch for `add'", { gas: "same" }],
  ["xchg $1,%eax", "operand type mismatch for `xchg'", { gas: "same" }],
  ["test %eax,$1", "operand type mismatch for `test'", { gas: "same" }],
  ["lea %eax,%ebx", "operand type mismatch for `lea'", { gas: "same" }],
  ["lea $1,%eax", "operand type mismatch for `lea'", { gas: "same" }],
  ["mov $1,%cr0", "operand type mismatch for `mov'", { gas: "same" }],
  ["mov %cr3,%eax", "operand type mismatch for `mov'", { gas: "same" }],
  ["movl %cr3,%rax", "operand type mismatch for `mov'", { gas: "same" }],
  ["shl %dl,%eax", "operand type mismatch for `shl'", { gas: "same" }],
  ["in %dx,%bl", "operand type mismatch for `in'", { gas: "same" }],
  ["outb %al,%cx", "operand type mismatch for `out'", { gas: "same" }],
  ["cmovz $1,%ebx", "operand type mismatch for `cmovz'", { gas: "same" }],
  ["movabs $1,(%rax)", "operand type mismatch for `movabs'", { gas: "same" }],
  ["movabs $1,%eax", "operand type mismatch for `movabs'", { gas: "same" }],
  ["mov 0x123456789,%ebx", "operand type mismatch for `mov'", { gas: "same" }],
  ["invpcid %rax,%rax", "operand type mismatch for `invpcid'", { gas: "same" }],
  ["push %eax", "operand size mismatch for `push'", { gas: "same" }],
  ["push %al", "operand size mismatch for `push'", { gas: "same" }],
  ["jmp %eax", "operand size mismatch for `jmp'", { gas: "same" }],
  ["ret %eax", "operand size mismatch for `ret'", { gas: "same" }],
  ["lidt %rax", "operand size mismatch for `lidt'", { gas: "same" }],
  ["invlpg %rax", "operand size mismatch for `invlpg'", { gas: "same" }],
  ["clflush %rax", "operand size mismatch for `clflush'", { gas: "same" }],
  ["setc %eax", "operand size mismatch for `setc'", { gas: "same" }],
  ["ltr %eax", "operand size mismatch for `ltr'", { gas: "same" }],
  ["invpcid (%rax),%eax", "operand size mismatch for `invpcid'", { gas: "same" }],
  ["movzbl %eax,%ebx", "operand size mismatch for `movzb'", { gas: "same" }],
  ["movzbl %al,%bl", "operand size mismatch for `movzb'", { gas: "same" }],
  ["cmovz %al,%bl", "operand size mismatch for `cmovz'", { gas: "same" }],
  ["imul $1,%al,%bl", "operand size mismatch for `imul'", { gas: "same" }],
  ["in $1,%rax", "operand size mismatch for `in'", { gas: "same" }],
  ["add %eax,%bl", "register type mismatch for `add'", { gas: "same" }],
  ["add %eax,%bx", "register type mismatch for `add'", { gas: "same" }],
  ["addb %eax,%ebx", "`%ebx' not allowed with `addb'", { gas: "same" }],
  ["addl %ax,%bx", "incorrect register `%bx' used with `l' suffix", { gas: "same" }],
  ["addq $1,%eax", "incorrect register `%eax' used with `q' suffix", { gas: "same" }],
  ["pushl %eax", "invalid instruction suffix for `push'", { gas: "same" }],
  // Out-of-range immediates.
  ["int $256", "operand size mismatch for `int'", { gas: "same" }],
  ["int $-129", "operand size mismatch for `int'", { gas: "same" }],
  ["ret $0x10000", "operand size mismatch for `ret'", { gas: "same" }],
  ["push $0x80000000", "operand size mismatch for `push'", { gas: "same" }],
  ["shl $256,%eax", "operand type mismatch for `shl'", { gas: "same" }],
  ["bt $256,%eax", "operand type mismatch for `bt'", { gas: "same" }],
  ["addq $0x80000000,%rax", "operand type mismatch for `add'", { gas: "same" }],
  ["add $300,%al", "0x12c shortened to 0x2c", { warning: "0x12c shortened to 0x2c" }],
  ["movb $256,%al", "0x100 shortened to 0x0", { warning: "0x100 shortened to 0x0" }],
  ["movw $0x10000,%ax", "0x10000 shortened to 0x0", { warning: "0x10000 shortened to 0x0" }],
  ["add $0x100000000,%eax", "0x100000000 shortened to 0x0", { warning: "0x100000000 shortened to 0x0" }],
  ["in $256,%al", "0x100 shortened to 0x0", { warning: "0x100 shortened to 0x0" }],
  ["mov 0x80000000(%rax),%eax", "0x80000000 out of range of signed 32bit displacement", { gas: "same" }],
  // Registers and addressing.
  ["add %eax,%foo", "bad register name `%foo'", { gas: "same" }],
  ["mov %r8l,%al", "bad register name `%r8l'", { gas: "same" }],
  ["mov %ah,%r8b", "can't encode register '%ah' in an instruction requiring REX prefix.", { gas: "same" }],
  ["mov %ah,%sil", "can't encode register '%ah' in an instruction requiring REX prefix.", { gas: "same" }],
  ["movzbl %ah,%r9d", "can't encode register '%ah' in an instruction requiring REX prefix.", { gas: "same" }],
  ["mov %eax,(%eax,%rbx)", "`(%eax,%rbx)' is not a valid base/index expression", { gas: "same" }],
  ["mov (%rax,%rsp),%eax", "`(%rax,%rsp)' is not a valid base/index expression", { gas: "same" }],
  ["mov (%rip,%rax),%eax", "`(%rip,%rax)' is not a valid base/index expression", { gas: "same" }],
  ["mov (%ax),%eax", "`(%ax)' is not a valid base/index expression", { gas: "same" }],
  ["mov (%rax,%rax,3),%eax", "expecting scale factor of 1, 2, 4, or 8: got `3'", { gas: "same" }],
  ["mov 1(%rax,%eax", "unbalanced parenthesis in operand 1.", { gas: "same" }],
  ["jmp *$1", "immediate operand illegal with absolute jump", { gas: "same" }],
  // Prefixes.
  ["lock mov %eax,%ebx", "expecting lockable instruction after `lock'", { gas: "same" }],
  ["lock add %eax,%ebx", "expecting lockable instruction after `lock'", { gas: "same" }],
  ["lock cmpl $0,(%rax)", "expecting lockable instruction after `lock'", { gas: "same" }],
  ["lock lock add %eax,(%rax)", "same type of prefix used twice", { gas: "same" }],
  ["data16 data16 add %eax,%ebx", "same type of prefix used twice", { gas: "same" }],
  ["data16 nopw (%rax)", "same type of prefix used twice", { gas: "same" }],
  ["rex.b add %eax,%r8d", "same type of prefix used twice", { gas: "same" }],
  ["rep add %eax,%ebx", "invalid instruction `add' after `rep'", { gas: "same" }],
  ["{disp32}", "pseudo prefix without instruction", { gas: "same" }],
  // Sizes GNU as guesses.
  ["add $1,(%rax)", "no instruction mnemonic suffix given and no register operands; can't size instruction", { warning: "no instruction mnemonic suffix given and no register operands; using default for `add'" }],
  ["inc (%rax)", "no instruction mnemonic suffix given and no register operands; can't size instruction", { warning: "no instruction mnemonic suffix given and no register operands; using default for `inc'" }],
  ["shl (%rax)", "no instruction mnemonic suffix given and no register operands; can't size instruction", { warning: "no instruction mnemonic suffix given and no register operands; using default for `shl'" }],
  ["mov $1,(%rax)", "no instruction mnemonic suffix given and no register operands; can't size instruction", { warning: "no instruction mnemonic suffix given and no register operands; using default for `mov'" }],
  ["bt $1,(%rax)", "no instruction mnemonic suffix given and no register operands; can't size instruction", { warning: "no instruction mnemonic suffix given and no register operands; using default for `bt'" }],
  // Registers of different sizes: GNU as's three ways of saying so.
  ["mov %eax,%r8b", "operand type mismatch for `mov'", { gas: "same" }],
  ["mov %ax,%ebx", "operand type mismatch for `mov'", { gas: "same" }],
  ["add %rax,%ecx", "register type mismatch for `add'", { gas: "same" }],
  ["xchg %eax,%bx", "register type mismatch for `xchg'", { gas: "same" }],
  ["imul %eax,%bl", "operand size mismatch for `imul'", { gas: "same" }],
  ["bt %eax,%bl", "operand size mismatch for `bt'", { gas: "same" }],
  ["cmove %eax,%bl", "operand size mismatch for `cmove'", { gas: "same" }],
  ["cmove %ax,%ebx", "register type mismatch for `cmove'", { gas: "same" }],
];

describe("assembler errors", () => {
  it.each(CASES)("%s: %s", (line, message) => {
    expect(() => assembleLine(line)).toThrow(message);
    expect(() => assembleLine(line)).toThrow(expect.objectContaining({ name: "AsmError", message }));
  });

  it.skipIf(!binutilsAvailable())("GNU as agrees (refusing, or warning where noted)", () => {
    const wrong: string[] = [];
    for (const [line, message, gas] of CASES) {
      const source = `.text\n${line}\n`;
      if ("warning" in gas) {
        const w = gnuWarnings(source);
        if (!w.some((m) => m.kind === "Warning" && m.message === gas.warning)) wrong.push(`${line}: ${JSON.stringify(w)}`);
      } else {
        const expected = "error" in gas ? gas.error : message;
        const e = gnuMessages(source);
        if (!e.some((m) => m.kind === "Error" && m.message === expected)) wrong.push(`${line}: ${JSON.stringify(e)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("fixup range errors", () => {
  // GNU as (write.c fixup_segment) checks a field only once the value is known: unsigned fields take -(2^n-1)..2^n-1, signed ones -2^(n-1)..2^(n-1)-1.
  const errorOf = (source: string) => {
    try {
      assembleSource(source, 0n);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
  it.each([
    ["add $X,%al\n.equ X, 256", "1: value of 0000000000000100 too large for field of 1 byte at 0000000000000001"],
    ["add $X,%al\n.equ X, -256", "1: value of ffffffffffffff00 too large for field of 1 byte at 0000000000000001"],
    ["add $X,%ax\n.equ X, 0x10000", "1: value of 0000000000010000 too large for field of 2 bytes at 0000000000000002"],
    ["mov $X,%eax\n.equ X, 0x100000000", "1: value of 0000000100000000 too large for field of 4 bytes at 0000000000000001"],
    ["mov $X,%rax\n.equ X, 0x80000000", "1: value of 0000000080000000 too large for field of 4 bytes at 0000000000000003"],
    ["mov X(%rax),%eax\n.equ X, -0x80000001", "1: value of ffffffff7fffffff too large for field of 4 bytes at 0000000000000002"],
    ["int $X\n.equ X, 0x80000000", "1: value of 0000000080000000 too large for field of 1 byte at 0000000000000001"],
  ])("%s", (source, message) => {
    expect(errorOf(source)).toBe(message);
  });
  it.each([
    "add $X,%al\n.equ X, 255",
    "add $X,%al\n.equ X, -255",
    "mov $X,%eax\n.equ X, 0xffffffff",
    "mov $X,%eax\n.equ X, -0x80000001",
    "mov $X,%rax\n.equ X, -0x80000000",
  ])("%s fits", (source) => {
    expect(errorOf(source)).toBeUndefined();
  });

  it.skipIf(!binutilsAvailable())("GNU as reports the same values", () => {
    expect(gnuMessages(".text\nmov $X,%rax\n.equ X, 0x80000000\n")).toEqual([
      { kind: "Error", message: "value of 0000000080000000 too large for field of 4 bytes at 0000000000000003", line: 2 },
    ]);
    expect(gnuMessages(".text\nadd $X,%al\n.equ X, -256\n")).toEqual([
      { kind: "Error", message: "value of ffffffffffffff00 too large for field of 1 byte at 0000000000000001", line: 2 },
    ]);
  });
});
