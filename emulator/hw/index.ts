// SPDX-License-Identifier: MIT
//
// The hardware module's exports. The host writes the config block, calls
// init(), then drives CPUs by index; each entry point selects its CPU first.
// Calls that do work in bulk (the benchmark loops) take counts, never one call
// per item.
//
// The exports live beside what they drive: common/exports.ts for the machine
// as a whole, x86/exports.ts and arm/exports.ts per architecture, and
// layout.ts for the memory map. The TypeScript side's view of all of them
// (emulator/generated/hw-exports.ts) is generated from the compiled module by
// emulator/build/hw-bindings.mjs, so nothing here is listed twice.

export * from "./layout";
export * from "./common/exports";
export * from "./x86/exports";
export * from "./arm/exports";
