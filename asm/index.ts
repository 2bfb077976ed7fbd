// SPDX-License-Identifier: MIT
//
// The toolchain's public face: assemble sources into a Program (and an ELF
// image), disassemble a Program or an ELF image. The debugger and the tracer
// use these; `shootdown asm` and `shootdown disasm` are thin wrappers.

import { readFileSync } from "node:fs";
import type { ArchName, Backend } from "./backend.ts";
import { assembleWith, type AssembleOptions, type AssembleResult, type Diagnostic } from "./assembler.ts";
import { x86Backend } from "./x86/index.ts";
import { a64Backend } from "./a64/index.ts";

export { AsmError, type ArchName, type Backend } from "./backend.ts";
export type { AssembleOptions, AssembleResult, Diagnostic, SourceFile } from "./assembler.ts";
export { DEFAULT_BASE } from "./assembler.ts";
export type { Program, ProgramSection, ProgramSymbol } from "./program.ts";
export { writeElf, readElf, ElfError, type ElfFile } from "./elf.ts";
export { listing, formatListing, toSource, SymbolLookup } from "./disasm.ts";

export const BACKENDS: Record<ArchName, Backend> = { x86_64: x86Backend, aarch64: a64Backend };

export function backendFor(arch: ArchName): Backend {
  return BACKENDS[arch];
}

/** Assembles for an architecture; .include reads from the file system unless options.readFile says otherwise. */
export function assemble(arch: ArchName, options: AssembleOptions): AssembleResult {
  const readFile = options.readFile ?? ((path: string) => {
    try {
      return readFileSync(path, "utf8");
    } catch {
      return undefined;
    }
  });
  return assembleWith(BACKENDS[arch], { ...options, readFile });
}

/** A diagnostic as GNU as prints it: `file:line: Error: message` (Info lines are indented by one more space). */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.loc.file}:${d.loc.line}: ${d.severity === "Info" ? " " : ""}${d.severity}: ${d.message}`;
}
