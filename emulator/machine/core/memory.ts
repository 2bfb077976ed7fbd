// SPDX-License-Identifier: MIT
//
// Guest-physical memory as the host sees it: RAM ranges and reads/writes by
// physical address. Accesses bypass every TLB and cache, like a debugger's.

import { ShootdownError } from "./errors.ts";
import { TWO_64, ViewCache, memoryMayHaveGrown, type HwExports } from "./wasm.ts";
import type { Layout } from "./layout.ts";
import type { RamRange } from "./options.ts";

const hex = (v: bigint) => `0x${v.toString(16)}`;

const RAM_ERRORS: Record<number, string> = {
  1: "base and size must be non-zero multiples of 4 KiB",
  2: "it overlaps another RAM range",
  3: "too many RAM ranges",
  4: "the host cannot back that much RAM (WebAssembly memory is limited to 4 GiB)",
  5: "it reaches beyond MAXPHYADDR",
};

export class Memory {
  constructor(
    private readonly hw: HwExports,
    private readonly layout: Layout,
  ) {
    this.viewCache = new ViewCache(hw);
    this.wordsCache = new ViewCache(hw, undefined, undefined, (buffer) => new Uint32Array(buffer));
  }

  /** Adds zero-filled RAM at [base, base+size). */
  addRange(range: RamRange): void {
    this.forgetRange();
    const status = this.hw.ramAdd(range.base, range.size);
    memoryMayHaveGrown();
    if (status !== 0) {
      throw new ShootdownError(
        `cannot add RAM at ${hex(range.base)} size ${hex(range.size)}: ${RAM_ERRORS[status] ?? `error ${status}`}`,
      );
    }
  }

  /** Forgets all RAM. */
  clear(): void {
    this.forgetRange();
    this.hw.ramReset();
  }

  ranges(): RamRange[] {
    return this.rangeRecords().map(({ base, size }) => ({ base, size }));
  }

  /** The module's RAM table: each range's base, size and host offset (emulator/hw/phys/ram.ts). */
  private rangeRecords(): (RamRange & { host: bigint })[] {
    const table = this.hw.regionRamTable();
    const view = new DataView(this.hw.memory.buffer);
    const out: (RamRange & { host: bigint })[] = [];
    for (let i = 0; i < this.hw.ramRangeCount(); i++) {
      const at = table + i * this.layout.RANGE_SIZE;
      out.push({ base: view.getBigUint64(at, true), size: view.getBigUint64(at + 8, true), host: view.getBigUint64(at + 16, true) });
    }
    return out;
  }

  /**
   * The RAM range of the last lookup, as numbers (RAM is below 2^52): its
   * base, end and host offset. The hypervisor reads and writes machine
   * memory an entry at a time; most accesses fall in the same range, and
   * finding it here spares a call into the module per access.
   */
  private rangeBase = 0;
  private rangeEnd = -1;
  private rangeHost = 0;

  private forgetRange(): void {
    this.rangeEnd = -1;
  }

  /** Host offset of [pa, pa+len), or undefined when it is not all in one RAM range. */
  private host(pa: bigint, len: number): number | undefined {
    if (pa < 0n || pa >= TWO_64) return undefined;
    return this.inLastRange(Number(pa), len) ?? this.hostOutsideRange(pa, len);
  }

  /** Host offset of [p, p+len) when it lies in the last lookup's range (p a number: no bigint made). */
  private inLastRange(p: number, len: number): number | undefined {
    return p >= this.rangeBase && p + len <= this.rangeEnd ? this.rangeHost + (p - this.rangeBase) : undefined;
  }

  private hostOutsideRange(pa: bigint, len: number): number | undefined {
    const h = this.hw.ramHost(pa, len);
    if (h < 0n) return undefined;
    this.rememberRangeOf(pa);
    return Number(h);
  }

  private rememberRangeOf(pa: bigint): void {
    const r = this.rangeRecords().find(({ base, size }) => pa >= base && pa < base + size);
    if (!r) return;
    this.rangeBase = Number(r.base);
    this.rangeEnd = Number(r.base + r.size);
    this.rangeHost = Number(r.host);
  }

  private hostOrThrow(pa: bigint, len: number): number {
    const h = this.host(pa, len);
    if (h === undefined) throw new ShootdownError(`no RAM at physical address ${hex(pa)} (${len} bytes)`);
    return h;
  }

  private readonly viewCache: ViewCache;

  /** A view of the module's memory, made again only when memory.grow replaced the buffer. */
  private view(): DataView {
    return this.viewCache.get();
  }

  read64(pa: bigint): bigint {
    return this.view().getBigUint64(this.hostOrThrow(pa, 8), true);
  }

  /** All of the module's memory as u32 words (MachineMemory.words), made again only when memory has grown. */
  words(): Uint32Array {
    return this.wordsCache.get();
  }

  private readonly wordsCache: ViewCache<Uint32Array>;

  /** Where the 4 KiB frame at pa starts in words() (MachineMemory.frameWord). */
  frameWord(pa: number): number {
    return (this.inLastRange(pa, 4096) ?? this.hostOrThrow(BigInt(pa), 4096)) / 4;
  }

  write64(pa: bigint, value: bigint): void {
    const h = this.hostOrThrow(pa, 8);
    this.view().setBigUint64(h, BigInt.asUintN(64, value), true);
    this.hw.hostWrote(h, 8);
  }

  /** The u64 at pa, or undefined when it is not RAM. */
  peek64(pa: bigint): bigint | undefined {
    const h = this.host(pa, 8);
    return h === undefined ? undefined : this.view().getBigUint64(h, true);
  }

  /** Writes zeros over [pa, pa+length); pages still all zeros since they were last cleared are not touched. */
  zero(pa: bigint, length: number): void {
    this.hw.hostZero(this.hostOrThrow(pa, length), length);
  }

  read(pa: bigint, length: number): Uint8Array {
    const h = this.hostOrThrow(pa, length);
    return new Uint8Array(this.hw.memory.buffer, h, length).slice();
  }

  write(pa: bigint, bytes: Uint8Array): void {
    const h = this.hostOrThrow(pa, bytes.length);
    new Uint8Array(this.hw.memory.buffer, h, bytes.length).set(bytes);
    if (bytes.length) this.hw.hostWrote(h, bytes.length);
  }
}
