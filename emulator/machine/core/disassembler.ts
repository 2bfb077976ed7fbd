// SPDX-License-Identifier: MIT
//
// What the crash describer needs to word "RIP 0x100005 <_start+0x5> [0f 0b:
// ud2]": symbols and one-instruction decoding. The machine does not depend
// on the toolchain for it; whoever builds a platform passes one in
// (emulator/disassembler.ts makes it from asm/), or none, and crash lines
// then name the address and the bytes only.

export interface Disassembler {
  /** "name+0x10" for an address in the image's symbols, or undefined. */
  label(address: bigint): string | undefined;
  /**
   * The instruction at the start of `bytes` (fetched at `pc`) as objdump
   * prints it, and its length; `text` undefined when it is not one the
   * disassembler knows (`length` then says how many bytes it looked at).
   */
  decode(bytes: Uint8Array, pc: bigint): { length: number; text: string | undefined } | undefined;
}

/** Crash lines with addresses and bytes only. */
export const NO_DISASSEMBLER: Disassembler = {
  label: () => undefined,
  decode: () => undefined,
};
