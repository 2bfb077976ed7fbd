// SPDX-License-Identifier: MIT
//
// The assembler's core on a toy architecture (test/asm/helpers/toy-backend.ts):
// directives, symbols, expressions, macros, conditionals, sections, layout,
// relaxation, and the messages for bad input. Expected bytes for expressions
// and macro argument splitting are what GNU as 2.40 produced for the same
// source.

import { describe, expect, it } from "vitest";
import { assembleWith, type AssembleOptions } from "../../asm/assembler.ts";
import { toyBackend } from "./helpers/toy-backend.ts";
import type { Program } from "../../asm/program.ts";

function asm(text: string, options: Partial<AssembleOptions> = {}) {
  return assembleWith(toyBackend, { sources: [{ path: "t.s", text }], ...options });
}

function ok(text: string, options: Partial<AssembleOptions> = {}): Program {
  const r = asm(text, options);
  const errors = r.diagnostics.filter((d) => d.severity === "Error");
  if (errors.length || !r.program) throw new Error(`unexpected errors: ${JSON.stringify(r.diagnostics)}`);
  return r.program;
}

function bytesOf(p: Program, section: string): string {
  const s = p.sections.find((x) => x.name === section);
  if (!s) throw new Error(`no section ${section}`);
  return [...s.bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function errors(text: string, options: Partial<AssembleOptions> = {}): string[] {
  const r = asm(text, options);
  expect(r.program).toBeUndefined();
  return r.diagnostics.filter((d) => d.severity !== "Warning").map((d) => `${d.loc.line}: ${d.severity}: ${d.message}`);
}

const symbol = (p: Program, name: string) => p.symbols.find((s) => s.name === name);

describe("data directives", () => {
  it("emit little-endian values of each size, strings and fills", () => {
    const p = ok(`.data
      .byte 1, 0xff, -1
      .short 0x1234
      .word 0x5678
      .long 0x9abcdef0
      .quad 0x1122334455667788
      .ascii "ab\\n"
      .asciz "c"
      .string "\\x41\\102"
      .fill 2, 3, 0x010203
      .skip 2, 0xee
      .zero 1`);
    expect(bytesOf(p, ".data")).toBe("01ffff" + "3412" + "7856" + "f0debc9a" + "8877665544332211" + "61620a" + "6300" + "414200" + "030201030201" + "eeee" + "00");
  });

  it("evaluate expressions with GNU as's precedences (bytes from GNU as)", () => {
    const p = ok(".data\n.byte 8 | 1 + 1, 2 + 3 << 1, 1 == 1, 10 - 2 - 3, 3 > 2, !0, 5 ! 2, -1 >> 60, 7 & 3 == 3\n");
    expect(bytesOf(p, ".data")).toBe("0a08ff05ff01fd0fff");
  });

  it("warns when a value is truncated, and assumes zero for a missing one", () => {
    const r = asm(".data\n.byte 300\n.byte 1,\n");
    expect(r.diagnostics.map((d) => `${d.loc.line}: ${d.message}`)).toEqual(["2: value 0x12c truncated to 0x2c", "3: zero assumed for missing expression"]);
    expect(bytesOf(r.program!, ".data")).toBe("2c0100");
  });
});

describe("symbols", () => {
  it("resolve labels, .equ/.set/= and forward references, in data and in instructions", () => {
    const p = ok(`.text
      _start: nop
      jmp fwd
      .equ four, 4
      size = end - _start
      imm four
      imm size
      fwd: nop
      end:
      .data
      .long fwd, end - _start
      .quad four * 2`, { sectionStarts: new Map([[".text", 0x1000n], [".data", 0x2000n]]) });
    // imm four is known (a8 04); imm size is not known yet (a9 + imm32 = 0x0b).
    expect(bytesOf(p, ".text")).toBe("90" + "eb07" + "a804" + "a90b000000" + "90");
    expect(bytesOf(p, ".data")).toBe("0a100000" + "0b000000" + "0800000000000000");
    expect(symbol(p, "four")).toMatchObject({ value: 4n, section: null });
    expect(symbol(p, "fwd")).toMatchObject({ value: 0x100an, section: ".text" });
  });

  it("knows a label difference while parsing only within one fragment", () => {
    const p = ok(`a: nop
      b: imm b - a
      jmp a
      c: imm c - b`);
    // b - a is known (a8 01); c - b spans the jump's variable part (a9, 4 bytes).
    expect(bytesOf(p, ".text")).toBe("90" + "a801" + "ebfb" + "a904000000");
  });

  it("numeric local labels: 1b is the last definition, 1f the next", () => {
    const p = ok(`1: nop
      jmp 1f
      1: jmp 1b
      jmp 1b
      1: nop`);
    expect(bytesOf(p, ".text")).toBe("90" + "eb00" + "ebfe" + "ebfc" + "90");
    expect(p.symbols.map((s) => s.name)).toEqual([]);
  });

  it("the location counter: `.` is where the statement starts", () => {
    const p = ok(".data\nx: .byte . - x, . - x\n.long .\n", { sectionStarts: new Map([[".data", 0x3000n]]) });
    expect(bytesOf(p, ".data")).toBe("0001" + "02300000");
  });

  it(".set may redefine a symbol; earlier uses keep the earlier value", () => {
    const p = ok(".data\n.set v, 1\n.byte v\n.set v, 2\n.byte v\n");
    expect(bytesOf(p, ".data")).toBe("0102");
  });
});

describe("sections and placement", () => {
  it("puts code first, then read-only and writable data, then .bss, each on a page after the last", () => {
    const p = ok(`.data
      d: .quad 1
      .section .rodata
      r: .byte 2
      .bss
      b: .skip 0x2000
      .text
      _start: nop`, { sectionStarts: new Map([[".text", 0x10_0000n]]) });
    expect(p.sections.map((s) => [s.name, s.address, s.size])).toEqual([
      [".text", 0x10_0000n, 1],
      [".rodata", 0x10_1000n, 1],
      [".data", 0x10_2000n, 8],
      [".bss", 0x10_3000n, 0x2000],
    ]);
    expect(p.entry).toBe(0x10_0000n);
    expect(p.sections.find((s) => s.name === ".bss")).toMatchObject({ type: "nobits", flags: { alloc: true, write: true, exec: false } });
  });

  it("honours explicit placement, and reports overlapping sections", () => {
    const p = ok(".text\nnop\n.data\n.byte 1\n", { sectionStarts: new Map([[".data", 0x500n], [".text", 0x400n]]) });
    expect(p.sections.map((s) => s.address)).toEqual([0x400n, 0x500n]);
    expect(errors(".text\n.skip 0x200\n.data\n.byte 1\n", { sectionStarts: new Map([[".text", 0x400n], [".data", 0x500n]]) })[0])
      .toMatch(/section `.text' \[0x400, 0x600\) overlaps section `.data' at 0x500/);
  });

  it("switches with .section, .pushsection/.popsection and .previous", () => {
    const p = ok(`.data
      .byte 1
      .pushsection .rodata, "a"
      .byte 2
      .popsection
      .byte 3
      .section .rodata
      .previous
      .byte 4`);
    expect(bytesOf(p, ".data")).toBe("010304");
    expect(bytesOf(p, ".rodata")).toBe("02");
  });

  it("refuses data in .bss", () => {
    expect(errors(".bss\n.byte 1\n")).toEqual(["2: Error: attempt to store non-zero value in section `.bss'"]);
  });
});

describe("alignment", () => {
  it("pads data with zeros or the fill byte, respects the maximum, and pads code with the backend's fill", () => {
    const p = ok(`.data
      .byte 1
      .balign 4
      .byte 2
      .p2align 3, 0xaa
      .byte 3
      .balign 16, 0xbb, 2
      .byte 4
      .align 4
      .text
      nop
      .align 4
      nop`);
    // .balign 16 would need 7 bytes, more than its maximum of 2: skipped.
    expect(bytesOf(p, ".data")).toBe("01000000" + "02aaaaaa" + "03" + "04" + "0000");
    expect(bytesOf(p, ".text")).toBe("90909090" + "90");
    expect(p.sections.find((s) => s.name === ".data")!.align).toBe(16);
  });

  it("grows a jump that an alignment pushes out of range", () => {
    const p = ok(`jmp far
      .skip 120
      .balign 256
      far: nop`);
    expect(bytesOf(p, ".text").slice(0, 10)).toBe("e9fb000000");
  });

  it(".org moves forward within a section, never back", () => {
    const p = ok(".data\n.byte 1\n.org 4, 0xcc\n.byte 2\n");
    expect(bytesOf(p, ".data")).toBe("01cccccc02");
    expect(errors(".data\n.skip 8\n.org 4\n")).toEqual(["3: Error: attempt to move .org backwards"]);
  });

  it(".skip with a size known only later", () => {
    const p = ok(".data\na: .skip b - a\n.byte 7\nb = a + 3\n");
    expect(bytesOf(p, ".data")).toBe("00000007");
  });
});

describe("relaxation", () => {
  it("keeps short jumps in reach and makes long the ones that are not, both directions", () => {
    const p = ok(`start: jmp near
      jmp away
      near: .skip 130
      away: .skip 30
      jmp start
      jmp near`);
    const t = bytesOf(p, ".text");
    // jmp away cannot reach 130 bytes on: long, which moves near to 7.
    expect(t.slice(0, 14)).toBe("eb05" + "e982000000");
    // From 167 back to 0 and to 7: both too far for rel8.
    expect(t.slice(2 * 167)).toBe("e9" + "54ffffff" + "e9" + "56ffffff");
  });

  it("uses the long form for a target in another section or an absolute address", () => {
    const p = ok(".text\njmp d\njmp 0x2000\n.data\nd: .byte 0\n", { sectionStarts: new Map([[".text", 0x1000n], [".data", 0x3000n]]) });
    expect(bytesOf(p, ".text")).toBe("e9" + "fb1f0000" + "e9" + "f60f0000");
  });
});

describe("macros, repetition and conditionals", () => {
  it("bind arguments as GNU as does (bytes from GNU as)", () => {
    const p = ok(`.macro m a, b=7, c
      .byte \\a, \\b
      .ifnb \\c
      .byte \\c
      .endif
      .endm
      .data
      m 1
      m 2, 3
      m 4 5
      m 1 + 1, 9
      m (1 + 2), 8
      m 1,,6
      .macro n x:req, rest:vararg
      .byte \\x
      .byte \\rest
      .endm
      n 1, 2, 3
      .macro k p
      .byte \\p\\()0, \\@
      .endm
      k 1
      k 2`);
    expect(bytesOf(p, ".data")).toBe("0107020304050209030801070601020" + "30a071408");
  });

  it("take keyword arguments, stop at .exitm, and nest", () => {
    const p = ok(`.macro inner v
      .byte \\v
      .endm
      .macro outer a, b
      inner \\b
      .if \\a
      .exitm
      .endif
      inner \\a
      .endm
      .data
      outer b=5, a=0
      outer 1, 6`);
    expect(bytesOf(p, ".data")).toBe("050006");
  });

  it(".rept, .irp and .irpc", () => {
    const p = ok(`.data
      .rept 3
      .byte 1
      .endr
      .irp r, 4, 5, 6
      .byte \\r
      .endr
      .irpc c, 789
      .byte \\c
      .endr
      .rept 0
      .byte 9
      .endr`);
    expect(bytesOf(p, ".data")).toBe("010101" + "040506" + "070809");
  });

  it(".if/.elseif/.else/.endif, .ifdef/.ifndef, .ifc and comparisons", () => {
    const p = ok(`.data
      x = 3
      .if x == 2
      .byte 1
      .elseif x == 3
      .byte 2
      .else
      .byte 3
      .endif
      .ifdef x
      .byte 4
      .endif
      .ifndef y
      .byte 5
      .endif
      .ifc abc, abc
      .byte 6
      .endif
      .ifgt x - 4
      .byte 7
      .else
      .if 0
      .byte 8
      .endif
      .byte 9
      .endif`);
    expect(bytesOf(p, ".data")).toBe("0204050609");
  });

  it(".include reads a file relative to the including one, or from -I", () => {
    const files: Record<string, string> = { "/src/inc/defs.s": "VALUE = 0x42\n", "/lib/more.s": ".byte 0x43\n" };
    const p = ok('.include "inc/defs.s"\n.data\n.byte VALUE\n.include "more.s"\n', {
      sources: [{ path: "/src/main.s", text: '.include "inc/defs.s"\n.data\n.byte VALUE\n.include "more.s"\n' }],
      readFile: (path) => files[path],
      includeDirs: ["/lib"],
    });
    expect(bytesOf(p, ".data")).toBe("4243");
  });
});

describe("comments and statements", () => {
  it("removes # comments, / at line start, block comments, and splits at ;", () => {
    const p = ok(".data\n.byte 1 # c\n/ foo\n.byte 2 ; .byte 3\n/* multi\nline */ .byte 4\n.ascii \"a#b;c\"\n");
    expect(bytesOf(p, ".data")).toBe("01020304" + "6123623b63");
  });
});

describe("errors, as GNU as reports them", () => {
  it("report every error with its line and write nothing", () => {
    expect(errors(`.data
      foo %eax
      .bogus 1
      .byte undefined_thing
      .byte 1/0
      lbl: nop
      lbl: nop
      .ascii "unterminated`)).toEqual([
      "2: Error: no such instruction: `foo %eax'",
      "3: Error: unknown pseudo-op: `.bogus'",
      "5: Error: division by zero",
      "7: Error: symbol `lbl' is already defined",
      "8: Error: unterminated string",
      "4: Error: undefined symbol `undefined_thing'",
    ]);
  });

  it("point into macros and say where they were invoked", () => {
    expect(errors(".macro m a\n  .byte \\a\n  foo\n.endm\n.data\nm 1\n")).toEqual([
      "3: Error: no such instruction: `foo'",
      "6: Info: macro invoked from here",
    ]);
  });

  it("catch macro misuse", () => {
    expect(errors(".macro m a:req\n.endm\nm\n")).toEqual(["3: Error: Missing value for required parameter `a' of macro `m'"]);
    expect(errors(".macro m a\n.endm\nm 1, 2\n")).toEqual(["3: Error: too many positional arguments"]);
    expect(errors(".macro m\n.byte 1\n")).toEqual(["1: Error: missing .endm"]);
    expect(errors(".endr\n")).toEqual(["1: Error: .endr without .rept, .irp or .irpc"]);
    expect(errors(".macro m\nm\n.endm\nm\n")[0]).toBe("2: Error: macros nested too deeply");
    expect(errors(".if 1\n")).toEqual(["2: Error: end of file inside conditional", "1: Info: here is the start of the unterminated conditional"]);
    expect(errors(".else\n")).toEqual(["1: Error: .else without matching .if"]);
  });

  it("reject conditions and counts that are not known numbers", () => {
    expect(errors(".rept later\n.endr\nlater = 2\n")[0]).toBe("1: Error: the repeat count must be an absolute expression known here: 'later'");
    expect(errors(".rept -1\n.endr\n")).toEqual(["1: Error: .rept count must not be negative"]);
    expect(errors(".balign 3\n")).toEqual(["1: Error: alignment not a power of 2"]);
  });

  it("stop a runaway repetition with a message instead of hanging", () => {
    expect(errors(".rept 10000000\n.byte 1\n.endr\n")[0]).toMatch(/more than 5000000 statements/);
  });

  it("report an undefined numeric label", () => {
    expect(errors("jmp 1f\n")).toEqual(["1: Error: local label `1' (instance 1) is not defined"]);
  });

  it("report a jump whose fixup does not fit (backend message)", () => {
    expect(errors(".data\nd: .byte 0\n.text\n.byte 0xe9\n.long 0\n.quad d\n.byte d\n")).toEqual(["7: Error: value 0x101000 does not fit in 1 byte"]);
  });
});
