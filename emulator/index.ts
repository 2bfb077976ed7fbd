// SPDX-License-Identifier: MIT
//
// The package's entry (`import { Machine, runGuest } from "shootdown"`): the
// typed API of the machine (machine/index.ts), the page-table builders of
// both architectures, runGuest, which boots a whole image as `shootdown run`
// does with its defaults, and runImage, the same with every option spelled
// out. Built into dist/index.js, with its declarations in dist/types/, by
// emulator/build/library.mjs.

export * from "./machine/index.ts";
export { runGuest, withDefaults, type RunGuestOptions } from "./run-guest.ts";
export { runImage, imageArch, type RunConfig } from "./run.ts";
export { LoadError } from "./machine/core/elf-load.ts";
export { STATUS, type RunReport, type CpuReport } from "./machine/core/report.ts";
export { X86PageTables, PTE, PAGE_4K, PAGE_2M, PAGE_1G, pkeyBits } from "./machine/platform/x86/page-tables.ts";
export { ArmPageTables, S1, S2 } from "./machine/platform/arm/page-tables.ts";
