// SPDX-License-Identifier: MIT
// Types for regenerate-x86.mjs, which the x86-64 tests import.

export const GOLDEN_DIR: string;
export const CORPUS_DIR: string;
export const BASE: bigint;
export function binutilsAvailable(): boolean;
export interface ObjdumpInstruction { address: bigint; bytes: string; text: string }
export function parseObjdump(output: string): ObjdumpInstruction[];
export function gnuLink(source: string, options?: { objdump?: boolean }): {
  bytes: Uint8Array;
  symbols: { name: string; address: bigint; linker: boolean }[];
  instructions: ObjdumpInstruction[];
};
export interface GnuMessage { kind: "Error" | "Warning"; message: string; /** Source line, 1-based. */ line: number }
export function gnuMessages(source: string): GnuMessage[];
export function gnuWarnings(source: string): GnuMessage[];
export interface CorpusGolden {
  base: string;
  bytes: string;
  lines: { line: number; source: string; offset: number; length: number }[];
  instructions: { offset: number; bytes: string; text: string }[];
  symbols: { name: string; offset: number }[];
}
export function corpusGolden(source: string): CorpusGolden;
export function objdumpFirst(cases: string[]): { length: number; text: string }[];
export function gnuFill(sizes: number[]): { size: number; bytes: string }[];
export const FILL_SIZES: number[];
export const SNIPPETS: { name: string; source: string }[];
export const OUTSIDE: string[];
export const CORPUS_FILES: string[];
export function generate(): Record<string, unknown>;
export function stringify(value: unknown): string;
