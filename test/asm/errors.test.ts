// SPDX-License-Identifier: MIT
//
// Bad input through the whole assembler, for each architecture: every error
// in a file is reported, each with its line and GNU as's message (the
// messages below are what GNU as 2.40 printed for the same lines, except
// where a comment says why ours differs), and no image is produced.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble, formatDiagnostic, type ArchName } from "../../asm/index.ts";

function diagnostics(arch: ArchName, text: string): string[] {
  const r = assemble(arch, { sources: [{ path: "bad.s", text }], readFile: () => undefined });
  expect(r.program).toBeUndefined();
  return r.diagnostics.map(formatDiagnostic);
}

describe("x86-64 errors", () => {
  it("reports each bad line with GNU as's message and line number", () => {
    expect(diagnostics("x86_64", `.text
_start:
  frob %eax
  mov %eax, %bl
  add $300, %al
  int $256
  jmp undefined_target
.macro m a:req
  mov \\a, %eax
.endm
  m
  m $1, $2
  mov $1, %cr9
  .byte 1/0
  jne 1f
`)).toEqual([
      "bad.s:3: Error: no such instruction: `frob %eax'",
      "bad.s:4: Error: operand type mismatch for `mov'",
      // GNU as only warns ("0x12c shortened to 0x2c") and assembles $0x2c; we refuse.
      "bad.s:5: Error: 0x12c shortened to 0x2c",
      "bad.s:6: Error: operand size mismatch for `int'",
      "bad.s:11: Error: Missing value for required parameter `a' of macro `m'",
      "bad.s:12: Error: too many positional arguments",
      "bad.s:13: Error: operand type mismatch for `mov'",
      "bad.s:14: Error: division by zero",
      "bad.s:7: Error: undefined symbol `undefined_target'",
      "bad.s:15: Error: local label `1' (instance 1) is not defined",
    ]);
  });
});

describe("AArch64 errors", () => {
  it("reports each bad line with GNU as's message and line number", () => {
    expect(diagnostics("aarch64", `.text
_start:
  frob x0
  add 1, x0, x0
  movz x0, #0x10000
  b.ne far
.macro m a:req
  mov \\a, x0
.endm
  m
  mrs x0, no_such_reg
  bl nowhere
  .skip 0x200000
far: ret
`)).toEqual([
      "bad.s:3: Error: unknown mnemonic `frob' -- `frob x0'",
      "bad.s:4: Error: operand 1 must be an integer or stack pointer register -- `add 1,x0,x0'",
      "bad.s:5: Error: immediate out of range",
      "bad.s:10: Error: Missing value for required parameter `a' of macro `m'",
      "bad.s:11: Error: unknown or missing system register name at operand 2 -- `mrs x0,no_such_reg'",
      "bad.s:6: Error: conditional branch out of range",
      "bad.s:12: Error: undefined symbol `nowhere'",
    ]);
  });
});

describe(".skip, .space and .fill whose size is not absolute", () => {
  // What GNU as 2.40 prints (write.c), for an undefined symbol and for a label in another section, on both architectures.
  const source = (insn: string) => `.text
  .skip undefined_size
  .space later - 1
  ${insn}
  .data
lab: .byte 1
  .text
  .fill lab, 1, 0
  .skip lab
later:
`;
  const expected = [2, 3, 8, 9].map((line) => `bad.s:${line}: Error: .space, .nops or .fill specifies non-absolute value`);
  const ARCHES = [["x86_64", "nop", "as"], ["aarch64", "ret", "aarch64-linux-gnu-as"]] as const;
  it.each(ARCHES)("%s: an error on each line, with GNU as's message", (arch, insn) => {
    expect(diagnostics(arch, source(insn))).toEqual(expected);
  });
  for (const [arch, insn, gas] of ARCHES) {
    const installed = spawnSync(gas, ["--version"], { stdio: "ignore" }).status === 0;
    it.skipIf(!installed)(`${arch}: GNU as says the same${installed ? "" : ` (skipped: ${gas} is not installed)`}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "skip-error-"));
      writeFileSync(join(dir, "bad.s"), source(insn));
      const r = spawnSync(gas, ["-o", "bad.o", "bad.s"], { cwd: dir, encoding: "utf8" });
      expect(r.stderr.split("\n").filter((l) => l.includes("Error"))).toEqual(expected);
    });
  }
});
