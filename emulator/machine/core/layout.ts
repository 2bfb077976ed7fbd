// SPDX-License-Identifier: MIT
//
// The hardware module's memory map, read from its exports (emulator/hw/layout.ts
// defines it once; nothing here repeats an offset or a name as a literal).

import { constant, moduleOf } from "./wasm.ts";
import { layoutLiteral, type LayoutName, type HwExports } from "../../generated/hw-exports.ts";

export type { LayoutName };
/**
 * The memory map's constants by name. The names are those the module exports
 * (emulator/generated/hw-exports.ts, generated from it at build time); the
 * values are read from the module's globals.
 */
export type Layout = Readonly<Record<LayoutName, number>>;

/** The memory map of each compiled module, identical for all its instances. */
const cached = new WeakMap<WebAssembly.Module, Layout>();

/** The memory map of the module `hw` is an instance of. */
export function layoutOf(hw: HwExports): Layout {
  const module = moduleOf(hw);
  const known = module && cached.get(module);
  if (known) return known;
  // One literal (generated with the names): V8 keeps it in fast mode, and the run loop reads it at every exit.
  const out = layoutLiteral((name) => constant(hw, name));
  if (module) cached.set(module, out);
  return out;
}
