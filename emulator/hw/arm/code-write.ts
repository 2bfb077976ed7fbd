// SPDX-License-Identifier: MIT
//
// What an AArch64 store to RAM itself must do besides the store (any store
// that is not a CPU's quick-path store, which does the same inline in
// cpu/mem.ts): mark the page written (phys/pages.ts), and if the A64
// decoded-instruction cache holds instructions from it, make those the store
// overwrites stale (cpu/decoded.ts), so that the next fetch decodes what RAM
// now holds.
// Stores into the data caches' lines do not come here: they reach RAM, and
// come here, when the line is written back.

import { pageWrite } from "../phys/pages";
import { a64CodeWritten } from "./cpu/decoded";

/** Called before a store of `size` bytes, at most a line, to RAM at pa, whose host address is host. */
@inline export function ramWritten(host: usize, pa: u64, size: u32): void {
  if (pageWrite(host)) a64CodeWritten(pa, size);
}
