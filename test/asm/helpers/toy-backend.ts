// SPDX-License-Identifier: MIT
//
// A toy architecture for testing the assembler's core without either real
// backend: x86-64 comment syntax, and three instructions.
//
//   nop          0x90
//   imm EXPR     0xA8 imm8 when the value is known now and fits a signed
//                byte, else 0xA9 imm32 with a fixup (as x86 chooses)
//   jmp EXPR     0xEB rel8, relaxable to 0xE9 rel32
//
// Anything else is "no such instruction".

import { AsmError, type AsmContext, type Backend, type Decoded, type Fixup, type Instruction } from "../../../asm/backend.ts";
import type { Expr } from "../../../asm/expr.ts";

function rel(size: 1 | 4, end: number, expr: Expr): Fixup {
  return {
    offset: end - size,
    expr,
    apply(bytes, value, address) {
      const d = value - (address + BigInt(end));
      const limit = 1n << BigInt(size * 8 - 1);
      if (d < -limit || d >= limit) return `jump target out of range`;
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (size === 1) v.setInt8(end - 1, Number(d));
      else v.setInt32(end - 4, Number(d), true);
      return undefined;
    },
  };
}

export const toyBackend: Backend = {
  arch: "x86_64",
  elfMachine: 62,
  wordSize: 2,
  alignIsPowerOfTwo: false,
  assemble(mnemonic: string, operands: string, ctx: AsmContext): Instruction {
    switch (mnemonic.toLowerCase()) {
      case "nop":
        if (operands) throw new AsmError("nop takes no operands");
        return { bytes: new Uint8Array([0x90]), fixups: [] };
      case "imm": {
        const e = ctx.parseExpr(operands);
        const v = ctx.knownValue(e);
        if (v !== undefined && v >= -128n && v <= 127n) return { bytes: new Uint8Array([0xa8, Number(BigInt.asUintN(8, v))]), fixups: [] };
        const bytes = new Uint8Array([0xa9, 0, 0, 0, 0]);
        if (v !== undefined) {
          new DataView(bytes.buffer).setUint32(1, Number(BigInt.asUintN(32, v)), true);
          return { bytes, fixups: [] };
        }
        return {
          bytes,
          fixups: [{ offset: 1, expr: e, apply: (b, value) => (new DataView(b.buffer, b.byteOffset).setUint32(1, Number(BigInt.asUintN(32, value)), true), undefined) }],
        };
      }
      case "jmp": {
        const e = ctx.parseExpr(operands);
        return {
          bytes: new Uint8Array([0xeb, 0]),
          fixups: [rel(1, 2, e)],
          relax: {
            target: e,
            long: { bytes: new Uint8Array([0xe9, 0, 0, 0, 0]), fixups: [rel(4, 5, e)] },
            fits: (target, address) => {
              const d = target - (address + 2n);
              return d >= -128n && d <= 127n;
            },
          },
        };
      }
      default:
        throw new AsmError(`no such instruction: \`${(mnemonic + " " + operands).trim()}'`);
    }
  },
  codeFill(size: number): Uint8Array {
    return new Uint8Array(size).fill(0x90);
  },
  decode(bytes: Uint8Array, offset: number): Decoded {
    const b = bytes[offset]!;
    if (b === 0x90) return { length: 1, text: "nop", source: "nop" };
    return { length: 1, text: `.byte 0x${b.toString(16)}`, source: `.byte 0x${b.toString(16)}`, unknown: true };
  },
};
