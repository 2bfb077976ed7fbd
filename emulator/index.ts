// SPDX-License-Identifier: MIT
//
// The package's entry (`import { Machine, runImage } from "shootdown"`): the
// typed API of the machine (machine/index.ts), the page-table builders of
// both architectures, and runImage, which boots a whole image as `shootdown
// run` does. Built into dist/index.js, with its declarations in dist/types/,
// by emulator/build/library.mjs.

export * from "./machine/index.ts";
export { runImage, imageArch, type RunImageOptions, type ImageArch } from "./run-image.ts";
export { LoadError } from "./machine/elf-load.ts";
export { STATUS, type RunReport, type RunEnd, type CpuReport, type CrashReason } from "./machine/run-loop.ts";
export { X86PageTables, PTE, PAGE_4K, PAGE_2M, PAGE_1G, pkeyBits } from "./machine/x86-page-tables.ts";
export { ArmPageTables, S1, S2 } from "./machine/arm-page-tables.ts";
