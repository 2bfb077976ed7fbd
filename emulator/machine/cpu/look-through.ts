// SPDX-License-Identifier: MIT
//
// How the debugger looks through the translation registers of a vCPU that
// is off every pCPU (emulator/debug/off-cpu.ts, arm-off-cpu.ts): a pCPU is
// borrowed, given the vCPU's registers, asked side-effect-free questions
// (peek with memoryOnly, a walk of the tables in memory), and then every
// byte of its CPU block is put back, so that it goes on as if nothing had
// happened. The TLBs are not in the block, so the questions must not look
// at them.

import type { HwExports } from "../core/wasm.ts";

/** Runs fn with set() applied to CPU `index`, then restores the CPU's block and lets `restored` re-derive what the hardware keeps of it. */
export function lookThroughCpu<T>(hw: HwExports, index: number, size: number, set: () => void, fn: () => T, restored: () => void = () => {}): T {
  const before = new Uint8Array(hw.memory.buffer, hw.cpuBlock(index), size).slice();
  try {
    set();
    return fn();
  } finally {
    // The block is viewed again: the module's memory may have grown meanwhile.
    new Uint8Array(hw.memory.buffer, hw.cpuBlock(index), size).set(before);
    restored();
  }
}
