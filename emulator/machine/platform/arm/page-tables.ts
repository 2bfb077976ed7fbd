// SPDX-License-Identifier: MIT
//
// Builds VMSAv8-64 translation tables (4 KiB granule) in guest memory from the
// host: stage 1 for the EL1&0 regime, or stage 2. Tables come from a bump
// allocator over a physical region; map() creates the tables it needs.

import { ShootdownError } from "../../core/errors.ts";
import type { Memory } from "../../core/memory.ts";

/** Stage-1 block and page descriptor bits. */
export const S1 = {
  VALID: 1n << 0n,
  TABLE: 1n << 1n,
  /** AttrIndx[2:0] at bits 4:2. */
  attrIndx: (i: number) => BigInt(i & 7) << 2n,
  NS: 1n << 5n,
  /** AP[1]: EL0 access. */
  AP1: 1n << 6n,
  /** AP[2]: read-only. */
  AP2: 1n << 7n,
  /** SH[1:0] at bits 9:8 (0b11 Inner Shareable). */
  sh: (v: number) => BigInt(v & 3) << 8n,
  AF: 1n << 10n,
  NG: 1n << 11n,
  DBM: 1n << 51n,
  PXN: 1n << 53n,
  UXN: 1n << 54n,
  PXNTABLE: 1n << 59n,
  XNTABLE: 1n << 60n,
  APTABLE0: 1n << 61n,
  APTABLE1: 1n << 62n,
} as const;

/** Stage-2 block and page descriptor bits. */
export const S2 = {
  /** MemAttr[3:0] at bits 5:2 (0b1111 Normal Write-Back, 0b0000 Device-nGnRnE). */
  memAttr: (v: number) => BigInt(v & 15) << 2n,
  /** S2AP[0]: read. */
  R: 1n << 6n,
  /** S2AP[1]: write. */
  W: 1n << 7n,
  sh: (v: number) => BigInt(v & 3) << 8n,
  AF: 1n << 10n,
  DBM: 1n << 51n,
  /** XN[1:0] = 0b10: execute never. */
  XN: 2n << 53n,
} as const;

const ADDR = 0x0000_ffff_ffff_f000n;
const PAGE = 4096n;

export class ArmPageTables {
  readonly root: bigint;
  private next: bigint;
  private readonly limit: bigint;
  /** Bits the start level resolves (9, or up to 13 for concatenated stage-2 tables). */
  private readonly topBits: number;

  /**
   * @param memory      guest memory
   * @param pool        physical region [base, limit) the tables are carved from
   * @param inputBits   the input address size, 64 - TxSZ (48 → 4 levels, 39 → 3 …)
   * @param startLevel  the first level (computed for stage 1; VTCR.SL0 picks it for stage 2)
   */
  constructor(
    private readonly memory: Memory,
    pool: { base: bigint; limit: bigint },
    readonly inputBits = 48,
    readonly startLevel = 4 - Math.floor((inputBits - 4) / 9),
  ) {
    this.next = pool.base;
    this.limit = pool.limit;
    this.topBits = inputBits - 12 - 9 * (3 - startLevel);
    if (this.topBits < 1 || this.topBits > 13) throw new ShootdownError("input size and start level do not fit");
    const rootSize = 8n << BigInt(this.topBits);
    this.root = this.alloc(rootSize < PAGE ? PAGE : rootSize);
  }

  private alloc(size: bigint): bigint {
    const at = (this.next + size - 1n) & ~(size - 1n);
    if (at + size > this.limit) throw new ShootdownError("translation-table pool exhausted");
    this.next = at + size;
    this.memory.write(at, new Uint8Array(Number(size)));
    return at;
  }

  /** Physical address of the descriptor for va at a level, creating tables above it. */
  entryAddress(va: bigint, level: number, tableBits = 0n): bigint {
    let table = this.root;
    for (let l = this.startLevel; l < level; l++) {
      const at = this.slot(table, va, l);
      let d = this.memory.read64(at);
      if (!(d & S1.VALID)) {
        d = this.alloc(PAGE) | S1.VALID | S1.TABLE | tableBits;
        this.memory.write64(at, d);
      } else if (!(d & S1.TABLE)) {
        throw new ShootdownError(`0x${va.toString(16)} is already mapped by a block at level ${l}`);
      }
      table = d & ADDR;
    }
    return this.slot(table, va, level);
  }

  private slot(table: bigint, va: bigint, level: number): bigint {
    const shift = BigInt(12 + 9 * (3 - level));
    const bits = level === this.startLevel ? this.topBits : 9;
    return table + ((va >> shift) & ((1n << BigInt(bits)) - 1n)) * 8n;
  }

  /** Maps a page (4 KiB, level 3) or block (2 MiB level 2, 1 GiB level 1) with the given descriptor bits. */
  map(va: bigint, pa: bigint, size: bigint, bits: bigint, tableBits = 0n): bigint {
    const level = size === PAGE ? 3 : size === 1n << 21n ? 2 : size === 1n << 30n ? 1 : -1;
    if (level < 0) throw new ShootdownError(`unsupported size ${size}`);
    if ((va | pa) & (size - 1n)) throw new ShootdownError("va and pa must be aligned to the size");
    const at = this.entryAddress(va, level, tableBits);
    this.memory.write64(at, pa | bits | S1.VALID | (level === 3 ? S1.TABLE : 0n));
    return at;
  }
}
