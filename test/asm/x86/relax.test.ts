// SPDX-License-Identifier: MIT
//
// Branches at the instruction level: a JMP or Jcc to a symbol not yet known
// comes back short (EB cb, 7x cb) with the long form (E9 cd, 0F 8x cd) and
// a fits() that says whether rel8 reaches (SDM Vol.2A "JMP", "Jcc"), as GNU
// as relaxes; a known absolute target, {disp32} and CALL are long at once.

import { describe, expect, it } from "vitest";
import type { AsmContext, Encoding } from "../../../asm/backend.ts";
import { evaluate, parseExpr } from "../../../asm/expr.ts";
import { x86Backend } from "../../../asm/x86/index.ts";
import { assembleSource, hex } from "./assemble.ts";

const ctx: AsmContext = { parseExpr: (t) => parseExpr(t), knownValue: (e) => evaluate(e, () => undefined) };
const asm = (mnemonic: string, operands: string) => x86Backend.assemble(mnemonic, operands, ctx);

/** Applies an encoding's fixups with every symbol at `target`, as the core would at `address`. */
function place(enc: Encoding, target: bigint, address: bigint): { hex: string; errors: string[] } {
  const bytes = Uint8Array.from(enc.bytes);
  const errors = enc.fixups.map((f) => f.apply(bytes, target, address)).filter((e): e is string => e !== undefined);
  return { hex: hex(bytes), errors };
}

describe("JMP and Jcc to a symbol", () => {
  it("jmp is EB rel8 with E9 rel32 as its long form", () => {
    const insn = asm("jmp", "target");
    expect(insn.bytes[0]).toBe(0xeb);
    expect(insn.bytes.length).toBe(2);
    expect(insn.relax).toBeDefined();
    expect(insn.relax!.long.bytes[0]).toBe(0xe9);
    expect(insn.relax!.long.bytes.length).toBe(5);
    expect(insn.relax!.target).toEqual({ kind: "sym", name: "target" });
    expect(place(insn, 0x1010n, 0x1000n)).toEqual({ hex: "eb0e", errors: [] });
    expect(place(insn.relax!.long, 0x1010n, 0x1000n)).toEqual({ hex: "e90b000000", errors: [] });
    expect(place(insn.relax!.long, 0x1000n, 0x1000n)).toEqual({ hex: "e9fbffffff", errors: [] });
  });

  it.each([
    ["jo", 0x70], ["jb", 0x72], ["jnae", 0x72], ["jc", 0x72], ["je", 0x74], ["jz", 0x74], ["jne", 0x75], ["ja", 0x77], ["js", 0x78],
    ["jp", 0x7a], ["jpe", 0x7a], ["jpo", 0x7b], ["jl", 0x7c], ["jge", 0x7d], ["jle", 0x7e], ["jg", 0x7f], ["jnle", 0x7f],
  ])("%s is %i rel8 with 0F %i+0x10 rel32 as its long form", (mnemonic, opcode) => {
    const insn = asm(mnemonic, "1f");
    expect(Array.from(insn.bytes)).toEqual([opcode, 0]);
    expect(Array.from(insn.relax!.long.bytes.subarray(0, 2))).toEqual([0x0f, opcode + 0x10]);
    expect(place(insn.relax!.long, 0x2000n, 0x1000n)).toEqual({ hex: `0f${(opcode + 0x10).toString(16)}fa0f0000`, errors: [] });
  });

  it("fits() measures from the end of the short form: -128..127", () => {
    const { fits } = asm("jne", "x").relax!;
    const address = 0x1000n;
    expect(fits(address + 2n + 127n, address)).toBe(true);
    expect(fits(address + 2n + 128n, address)).toBe(false);
    expect(fits(address + 2n - 128n, address)).toBe(true);
    expect(fits(address + 2n - 129n, address)).toBe(false);
    expect(fits(address, address)).toBe(true);
  });

  it("the short form's fixup refuses a target out of rel8 reach", () => {
    const insn = asm("jmp", "far");
    expect(place(insn, 0x2000n, 0x1000n).errors).toHaveLength(1);
  });

  it("relaxes in a whole source exactly at the rel8 limit", () => {
    // 127 bytes of padding keep `jmp b` short; 128 make it long (GNU as does the same: see snippets.json).
    expect(hex(assembleSource("jmp b\n.skip 127\nb: ret\n", 0n).bytes.subarray(0, 2))).toBe("eb7f");
    expect(hex(assembleSource("jmp b\n.skip 128\nb: ret\n", 0n).bytes.subarray(0, 5))).toBe("e980000000");
    expect(hex(assembleSource("a: .skip 126\njmp a\n", 0n).bytes.subarray(126))).toBe("eb80");
    expect(hex(assembleSource("a: .skip 127\njmp a\n", 0n).bytes.subarray(127))).toBe("e97cffffff");
  });
});

describe("branches that do not relax", () => {
  it("{disp32} asks for the long form", () => {
    const insn = x86Backend.assemble("{disp32}", "jmp target", ctx);
    expect(insn.relax).toBeUndefined();
    expect(place(insn, 0x1010n, 0x1000n)).toEqual({ hex: "e90b000000", errors: [] });
    expect(place(x86Backend.assemble("{disp32}", "je target", ctx), 0x1010n, 0x1000n).hex).toBe("0f840a000000");
  });

  it("a constant target is long and PC-relative", () => {
    const insn = asm("jmp", "0x1000");
    expect(insn.relax).toBeUndefined();
    expect(place(insn, 0x1000n, 0x2000n)).toEqual({ hex: "e9fbefffff", errors: [] });
    expect(place(asm("jne", "0x1000"), 0x1000n, 0x2000n).hex).toBe("0f85faefffff");
  });

  it("call is E8 rel32 with a fixup", () => {
    const insn = asm("call", "func");
    expect(insn.relax).toBeUndefined();
    expect(place(insn, 0x1000n, 0x1000n)).toEqual({ hex: "e8fbffffff", errors: [] });
    expect(place(insn, 0x1000n + 0x80000000n + 5n, 0x1000n).errors[0]).toMatch(/relocation truncated to fit: R_X86_64_PC32/);
  });

  it("indirect branches take no fixup", () => {
    expect(hex(asm("jmp", "*%rax").bytes)).toBe("ffe0");
    expect(hex(asm("call", "*(%rax)").bytes)).toBe("ff10");
    expect(asm("jmp", "*%rax").relax).toBeUndefined();
  });
});
