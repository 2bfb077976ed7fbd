// SPDX-License-Identifier: MIT
//
// Machine memory as the hypervisor sees it: 4 KiB machine frames read and
// written by machine address. emulator/machine/core/memory.ts's Memory satisfies
// this interface; ArrayMemory backs tests and the soak.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

export interface MachineMemory {
  read64(pa: bigint): bigint;
  /**
   * All of memory as u32 words in the host's byte order (little-endian, as
   * wasm memory is), and where the 4 KiB frame at pa (a frame-aligned
   * machine address as a number) starts in it: entry i of a table in that
   * frame is words()[frameWord(pa) + 2 * i] (its low half) and the word
   * after (its high half). A walk or a table scan reads entries so, with no
   * bigint, call or view made per entry. frameWord throws where read64
   * would. A live array: read it at once, before anything grows memory.
   */
  words(): Uint32Array;
  frameWord(pa: number): number;
  write64(pa: bigint, value: bigint): void;
  read(pa: bigint, length: number): Uint8Array;
  write(pa: bigint, bytes: Uint8Array): void;
  /** Writes zeros over [pa, pa+length). */
  zero(pa: bigint, length: number): void;
}

/** The machine address of byte `offset` of frame `mfn`. */
export const maddr = (mfn: number, offset = 0): bigint => {
  // One BigInt from a double where the sum is exact (every real frame): the hypervisor asks for one per table entry it reads.
  const a = mfn * 4096 + offset;
  return Number.isSafeInteger(a) ? BigInt(a) : (BigInt(mfn) << 12n) + BigInt(offset);
};

/** Zero-filled memory over [base, base + size), for tests. */
export class ArrayMemory implements MachineMemory {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly baseNumber: number;

  constructor(
    readonly base: bigint,
    readonly size: number,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.allWords = new Uint32Array(this.bytes.buffer, 0, size >> 2);
    this.baseNumber = Number(base);
  }

  private offset(pa: bigint, length: number): number {
    // Machine addresses here stay far below 2^53, so a Number holds them exactly.
    const off = Number(pa) - this.baseNumber;
    if (!(off >= 0 && off + length <= this.size)) {
      throw new Error(`no memory at machine address 0x${pa.toString(16)} (${length} bytes)`);
    }
    return off;
  }

  read64(pa: bigint): bigint {
    return this.view.getBigUint64(this.offset(pa, 8), true);
  }

  words(): Uint32Array {
    return this.allWords;
  }

  private readonly allWords: Uint32Array;

  frameWord(pa: number): number {
    return this.offset(BigInt(pa), PAGE_SIZE) / 4;
  }

  write64(pa: bigint, value: bigint): void {
    this.view.setBigUint64(this.offset(pa, 8), BigInt.asUintN(64, value), true);
  }

  read(pa: bigint, length: number): Uint8Array {
    const at = this.offset(pa, length);
    return this.bytes.slice(at, at + length);
  }

  write(pa: bigint, bytes: Uint8Array): void {
    this.bytes.set(bytes, this.offset(pa, bytes.length));
  }

  zero(pa: bigint, length: number): void {
    const at = this.offset(pa, length);
    this.bytes.fill(0, at, at + length);
  }
}
