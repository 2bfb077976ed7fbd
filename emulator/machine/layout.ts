// SPDX-License-Identifier: MIT
//
// The hardware module's memory map, read from its exports (emulator/hw/layout.ts
// defines it once; nothing here repeats an offset or a name as a literal).

import { constant } from "./wasm.ts";
import { LAYOUT_NAMES, type LayoutName, type HwExports } from "../generated/hw-exports.ts";

export type { LayoutName };
/**
 * The memory map's constants by name. The names are those the module exports
 * (emulator/generated/hw-exports.ts, generated from it at build time); the
 * values are read from the module's globals.
 */
export type Layout = Readonly<Record<LayoutName, number>>;

let cached: Layout | undefined;

/** The memory map; identical for every instance of the module. */
export function layoutOf(hw: HwExports): Layout {
  if (cached) return cached;
  const out: Partial<Record<LayoutName, number>> = {};
  for (const name of LAYOUT_NAMES) out[name] = constant(hw, name);
  cached = out as Layout;
  return cached;
}
