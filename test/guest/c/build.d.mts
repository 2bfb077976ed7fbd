// SPDX-License-Identifier: MIT
export const ROOT: string;
export const CORPUS_DIR: string;
export const PREBUILT_DIR: string;
export const GOLDEN_DIR: string;
export const EXAMPLES_DIR: string;
export const ARCHES: ("x86_64" | "aarch64")[];
export const OPT_LEVELS: string[];
export const COMPILERS: Record<"x86_64" | "aarch64", string>;
export function compilerAvailable(arch: "x86_64" | "aarch64"): boolean;
export function corpusNames(): string[];
export function scratchPath(name: string): string;
export function buildKernel(arch: "x86_64" | "aarch64", source: string, opt: string, out: string, vars?: Record<string, string>): string;
export function buildExample(arch: "x86_64" | "aarch64", name: string, opt?: string): string;
export function prebuiltPath(name: string, arch: "x86_64" | "aarch64", opt: string): string;
export function goldenPath(name: string): string;
