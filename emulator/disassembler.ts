// SPDX-License-Identifier: MIT
//
// The toolchain's disassembler and symbols, in the shape the machine's crash
// describer takes (machine/core/disassembler.ts).

import { backendFor, SymbolLookup, type ArchName, type Program } from "../asm/index.ts";
import type { Disassembler } from "./machine/core/disassembler.ts";

const hex = (v: bigint) => `0x${v.toString(16)}`;

export function asmDisassembler(arch: ArchName, program: Program): Disassembler {
  const symbols = new SymbolLookup(program);
  const names = { objdump: (a: bigint) => symbols.objdump(a), source: (a: bigint) => hex(a) };
  const backend = backendFor(arch);
  return {
    label: (address) => symbols.label(address),
    decode(bytes, pc) {
      const d = backend.decode(bytes, 0, pc, names);
      return { length: d.length, text: d.unknown ? undefined : d.text.replace(/\s+/g, " ").trim() };
    },
  };
}
