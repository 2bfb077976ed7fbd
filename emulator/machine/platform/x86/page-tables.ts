// SPDX-License-Identifier: MIT
//
// Builds x86-64 page tables in guest memory from the host, the way a loader
// or a test sets up an address space: tables come from a bump allocator over
// a physical region, and map() creates whatever intermediate tables it needs.

import { ShootdownError } from "../../core/errors.ts";
import type { Memory } from "../../core/memory.ts";

export const PTE = {
  P: 1n << 0n,
  RW: 1n << 1n,
  US: 1n << 2n,
  PWT: 1n << 3n,
  PCD: 1n << 4n,
  A: 1n << 5n,
  D: 1n << 6n,
  PS: 1n << 7n,
  G: 1n << 8n,
  PAT_LARGE: 1n << 12n,
  XD: 1n << 63n,
} as const;

export const pkeyBits = (key: number) => BigInt(key & 15) << 59n;

export const PAGE_4K = 1n << 12n;
export const PAGE_2M = 1n << 21n;
export const PAGE_1G = 1n << 30n;

const ADDR = 0x000f_ffff_ffff_f000n;

export class X86PageTables {
  readonly root: bigint;
  private next: bigint;

  /**
   * @param memory   guest memory
   * @param pool     physical region [base, limit) the tables are carved from
   * @param levels   4 or 5 (CR4.LA57)
   */
  constructor(
    private readonly memory: Memory,
    pool: { base: bigint; limit: bigint },
    readonly levels: 4 | 5 = 4,
  ) {
    this.next = pool.base;
    this.limit = pool.limit;
    this.root = this.allocTable();
  }

  private readonly limit: bigint;

  private allocTable(): bigint {
    const t = this.next;
    if (t + PAGE_4K > this.limit) throw new ShootdownError("page-table pool exhausted");
    this.next += PAGE_4K;
    this.memory.write(t, new Uint8Array(4096));
    return t;
  }

  /** Physical address of the entry for va at a level (1 = PTE), creating tables above it. */
  entryAddress(va: bigint, level: number, tableFlags = PTE.P | PTE.RW | PTE.US): bigint {
    let table = this.root;
    for (let l = this.levels; l > level; l--) {
      const at = table + (((va >> BigInt(12 + 9 * (l - 1))) & 511n) << 3n);
      let e = this.memory.read64(at);
      if (!(e & PTE.P)) {
        e = this.allocTable() | tableFlags;
        this.memory.write64(at, e);
      } else if (e & PTE.PS && l <= 3) {
        throw new ShootdownError(`0x${va.toString(16)} is already mapped by a large page at level ${l}`);
      }
      table = e & ADDR;
    }
    return table + (((va >> BigInt(12 + 9 * (level - 1))) & 511n) << 3n);
  }

  /** Maps one page of `size` (4 KiB, 2 MiB or 1 GiB) at va to pa with leaf flags (P is added). */
  map(va: bigint, pa: bigint, size: bigint, flags: bigint, tableFlags?: bigint): bigint {
    const level = size === PAGE_4K ? 1 : size === PAGE_2M ? 2 : size === PAGE_1G ? 3 : 0;
    if (!level) throw new ShootdownError(`unsupported page size ${size}`);
    if ((va | pa) & (size - 1n)) throw new ShootdownError("va and pa must be aligned to the page size");
    const at = this.entryAddress(va, level, tableFlags);
    this.memory.write64(at, pa | flags | PTE.P | (level > 1 ? PTE.PS : 0n));
    return at;
  }

  /** The CR3 value for these tables (PCID in bits 11:0). */
  cr3(pcid = 0): bigint {
    return this.root | BigInt(pcid);
  }
}
