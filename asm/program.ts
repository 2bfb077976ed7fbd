// SPDX-License-Identifier: MIT
//
// What the assembler produces and the ELF writer, the disassembler and the
// loader consume: sections placed at addresses, and symbols.

import type { ArchName } from "./backend.ts";

export interface SectionFlags {
  alloc: boolean;
  write: boolean;
  exec: boolean;
}

export interface ProgramSection {
  name: string;
  /** progbits holds bytes; nobits (.bss) only reserves memory. */
  type: "progbits" | "nobits";
  flags: SectionFlags;
  address: bigint;
  /** Alignment in bytes (a power of two). */
  align: number;
  size: number;
  /** The contents; zeros for nobits. */
  bytes: Uint8Array;
}

export interface ProgramSymbol {
  name: string;
  value: bigint;
  /** Section name, or null for an absolute symbol (.equ/.set). */
  section: string | null;
  global: boolean;
  type: "notype" | "func" | "object";
  size: number;
}

/** Where the bytes of one source line went: for listings and for the debugger. */
export interface LineEntry {
  file: string;
  line: number;
  address: bigint;
  size: number;
}

export interface Program {
  arch: ArchName;
  entry: bigint;
  sections: ProgramSection[];
  symbols: ProgramSymbol[];
  /** Each instruction's source line and address (images read from ELF have none). */
  lines?: LineEntry[];
}
