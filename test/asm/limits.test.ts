// SPDX-License-Identifier: MIT
//
// Hostile sources (issue 17, defects 3 and 4): nesting that GNU as assembles
// assembles here too, nesting beyond any use and runaway macros end with one
// GNU-as-style error on the right line, quickly, never a stack overflow or a
// string too long for V8; a block the file ends inside is reported once.

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble, formatDiagnostic, type ArchName } from "../../asm/index.ts";

function run(arch: ArchName, text: string, readFile: (p: string) => string | undefined = () => undefined) {
  const r = assemble(arch, { sources: [{ path: "t.s", text }], readFile });
  return { program: r.program, messages: r.diagnostics.map(formatDiagnostic) };
}

function quad(text: string): bigint {
  const { program, messages } = run("x86_64", `.data\n.quad ${text}\n`);
  expect(messages).toEqual([]);
  const data = program!.sections.find((s) => s.name === ".data")!;
  return new DataView(data.bytes.buffer, data.bytes.byteOffset).getBigInt64(0, true);
}

describe("expression nesting GNU as assembles", () => {
  it("3,000 nested parentheses", () => {
    expect(quad(`${"(".repeat(3000)}7${")".repeat(3000)}`)).toBe(7n);
  });

  it("20,000 unary minus signs, with and without blanks", () => {
    expect(quad(`${"-".repeat(20000)}5`)).toBe(5n);
    expect(quad(`${"- ".repeat(20001)}5`)).toBe(-5n);
  });

  it("unary chains and long sums on a symbol defined later", () => {
    const { program, messages } = run("x86_64", `.data\n.quad ${"-".repeat(20000)}x\n.quad ${"(".repeat(3000)}x${"+1)".repeat(3000)}\nx = 40\n`);
    expect(messages).toEqual([]);
    const v = new DataView(program!.sections.find((s) => s.name === ".data")!.bytes.buffer);
    expect(v.getBigInt64(0, true)).toBe(40n);
    expect(v.getBigInt64(8, true)).toBe(3040n);
  });

  it("operators that cannot fold past the bound: an error on that line", () => {
    const started = Date.now();
    const { program, messages } = run("x86_64", `.data\n.quad 1\n.quad ${"-~".repeat(2000)}x\nx = 1\n`);
    expect(program).toBeUndefined();
    expect(messages).toEqual(["t.s:3: Error: expression too deeply nested (more than 1000 levels of operators on symbols)"]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a chain of definitions that together outrun the call stack: an error, not a stack overflow", () => {
    const { program, messages } = run("x86_64", `.data\nx = ${"-~".repeat(400)}y\ny = ${"-~".repeat(400)}x\n.quad x\n`);
    expect(program).toBeUndefined();
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatch(/^t\.s:\d: Error: (expression too deeply nested|symbol definition loop)/);
  });
});

describe("runaway macros", () => {
  it("a macro that doubles its argument at every level: one error, and assembly stops", () => {
    const started = Date.now();
    const { program, messages } = run("x86_64", ".macro d a\n.ascii \"\\a\"\nd \\a\\a\n.endm\nd x\n");
    expect(program).toBeUndefined();
    const errors = messages.filter((m) => !m.includes("Info:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^t\.s:3: Error: macro expansion makes a line of \d+ bytes/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a macro that invokes itself twice: 'macros nested too deeply' once, as GNU as's fatal error", () => {
    const started = Date.now();
    const { messages } = run("x86_64", ".macro d\nd\nd\n.endm\nd\n");
    expect(messages.filter((m) => !m.includes("Info:"))).toEqual(["t.s:2: Error: macros nested too deeply"]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("blocks the input ends inside", () => {
  it("are reported once", () => {
    expect(run("x86_64", "nop\n.rept 3\nnop\n").messages).toEqual(["t.s:2: Error: missing .endr"]);
    expect(run("x86_64", "nop\n.macro foo\nnop\n").messages).toEqual(["t.s:2: Error: missing .endm"]);
    expect(run("x86_64", "nop\n.irpc x,12\nnop\n").messages).toEqual(["t.s:2: Error: missing .endr"]);
  });

  it("an .irp without .endr inside a macro invoked twice: one error", () => {
    const started = Date.now();
    const { messages } = run("x86_64", ".macro m\n.irp x,1,2\nnop\n.endm\nm\nm\nm\n");
    expect(messages).toEqual(["t.s:2: Error: missing .endr"]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("guest/aarch64/selftest.s with any one .endr deleted: one error, quickly", () => {
    const path = resolve(import.meta.dirname, "../../guest/aarch64/selftest.s");
    const lines = readFileSync(path, "utf8").split("\n");
    const endrs = lines.flatMap((l, i) => (/^\s*\.endr\b/.test(l) ? [i] : []));
    expect(endrs.length).toBeGreaterThan(0);
    const readFile = (p: string) => {
      try {
        return readFileSync(resolve(dirname(path), p.replace(/^.*\//, "")), "utf8");
      } catch {
        return undefined;
      }
    };
    for (const i of endrs) {
      const started = Date.now();
      const r = assemble("aarch64", { sources: [{ path, text: lines.filter((_, j) => j !== i).join("\n") }], readFile });
      expect(r.program).toBeUndefined();
      expect(r.diagnostics.map(formatDiagnostic)).toHaveLength(1);
      expect(r.diagnostics[0]!.message).toBe("missing .endr");
      expect(Date.now() - started).toBeLessThan(10_000);
    }
  });
});

describe("image size", () => {
  it("sections past 64 MiB in all end assembly with one error, before the heap fills", () => {
    const started = Date.now();
    const { program, messages } = run("x86_64", ".space 0x2400000\n.data\n.space 0x2400000\n.fill 0x1000000, 8, 1\n");
    expect(program).toBeUndefined();
    expect(messages).toEqual(["t.s:3: Error: the sections are larger than 64 MiB in all"]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

