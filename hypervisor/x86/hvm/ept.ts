// SPDX-License-Identifier: MIT
//
// The HVM domain's p2m as Intel EPT tables (Xen's p2m-ept.c, reduced to
// 4 KiB pages of RAM): guest-physical frame → machine frame, in the format
// the hardware's EPT walker reads (SDM Vol.3C 29.3.2), written into machine
// memory. Four levels, every table readable, writable and executable;
// leaves write-back (memory type 6, IPAT clear) with the rights of their
// p2m type (ept_p2m_type_to_flags): RAM read/write/execute, read-only and
// shared RAM read/execute, so a write to a shared page is an EPT violation
// (memory sharing's copy on write). The p2m type itself is kept where Xen
// keeps it, in the leaf's software-available bits 57:52 (sa_p2mt), with
// Xen's numbers. A GPA with no leaf is not the domain's RAM: the walker
// reports an EPT violation and the host treats it as the bare machine
// treats an access outside RAM.
//
//   EPTP = root | (4 − 1) << 3 (page-walk length) | 6 (write-back), A/D off
//
//   entry  63:58 ignored │ 57:52 p2m type (leaves) │ 51:12 next table or frame │ 7 PS (0) │ 5:3 memory type (leaves) │ 2 X │ 1 W │ 0 R

import { maddr, type MachineMemory } from "../../common/memory.ts";
import type { P2mType } from "../mem-sharing.ts";

export const EPT_R = 1n << 0n;
export const EPT_W = 1n << 1n;
export const EPT_X = 1n << 2n;
const EPT_RWX = EPT_R | EPT_W | EPT_X;
/** Memory type write-back in a leaf's bits 5:3 (SDM Vol.3C 29.3.7). */
const EPT_MT_WB = 6n << 3n;
/** EPTP: write-back paging-structure accesses (bits 2:0) and a 4-level walk (bits 5:3 = 3). */
const EPTP_WB_4LEVEL = 6n | (3n << 3n);
const ADDR_MASK = 0x000f_ffff_ffff_f000n;
const LEVELS = 4;
const SA_P2MT_SHIFT = 52n;
const SA_P2MT_MASK = 0x3fn;

/** Xen's p2m_type_t numbers (asm/p2m.h) of the types an HVM domain's RAM takes. */
const P2MT_NUMBER: Record<P2mType, bigint> = { ram_rw: 0n, invalid: 1n, ram_ro: 3n, mmio_dm: 4n, ram_shared: 12n };
const P2MT_OF_NUMBER = new Map([...Object.entries(P2MT_NUMBER)].map(([t, n]) => [n, t as P2mType]));

/** ept_p2m_type_to_flags: the rights a leaf of each type gives. */
function rightsOf(type: P2mType): bigint {
  switch (type) {
    case "ram_rw": return EPT_RWX;
    case "ram_ro":
    case "ram_shared": return EPT_R | EPT_X;
    default: return 0n;
  }
}

/** One leaf as the p2m reads it (ept_get_entry). */
export interface EptLeaf {
  mfn: number;
  type: P2mType;
}

export class Ept {
  /** The machine frame of the PML4. */
  readonly root: number;
  /** The machine frames of every EPT table, the root included. */
  readonly tables: number[] = [];

  constructor(
    private readonly memory: MachineMemory,
    /** A zeroed machine frame for a new table. */
    private readonly allocTable: () => number,
  ) {
    this.root = this.newTable();
  }

  /** The EPT pointer the VMCS holds (what X86Cpu.setVmx takes). */
  get eptp(): bigint {
    return maddr(this.root) | EPTP_WB_4LEVEL;
  }

  private newTable(): number {
    const mfn = this.allocTable();
    this.tables.push(mfn);
    return mfn;
  }

  /** ept_set_entry: maps gfn to mfn with the rights of its p2m type (RAM by default), write-back; builds the tables on the way. */
  set(gfn: number, mfn: number, type: P2mType = "ram_rw"): void {
    let table = this.root;
    for (let level = LEVELS; level > 1; level--) {
      const at = maddr(table, 8 * this.index(gfn, level));
      let e = this.memory.read64(at);
      if (!(e & EPT_RWX)) {
        const next = this.newTable();
        e = maddr(next) | EPT_RWX;
        this.memory.write64(at, e);
      }
      table = Number((e & ADDR_MASK) >> 12n);
    }
    this.memory.write64(maddr(table, 8 * this.index(gfn, 1)), maddr(mfn) | EPT_MT_WB | rightsOf(type) | (P2MT_NUMBER[type] << SA_P2MT_SHIFT));
  }

  /** ept_get_entry: the machine frame of gfn, or undefined when it is not mapped. */
  lookup(gfn: number): number | undefined {
    return this.entry(gfn)?.mfn;
  }

  /** ept_get_entry with the type: the leaf of gfn, or undefined when there is none. */
  entry(gfn: number): EptLeaf | undefined {
    const e = this.leaf(gfn);
    if (e === undefined) return undefined;
    return { mfn: Number((e & ADDR_MASK) >> 12n), type: P2MT_OF_NUMBER.get((e >> SA_P2MT_SHIFT) & SA_P2MT_MASK) ?? "invalid" };
  }

  /** Whether the leaf of gfn lets the guest write (what the hardware checks). */
  writable(gfn: number): boolean {
    const e = this.leaf(gfn);
    return e !== undefined && (e & EPT_W) !== 0n;
  }

  /** The leaf entry of gfn as the hardware reads it, or undefined when a level has none. */
  private leaf(gfn: number): bigint | undefined {
    if (gfn < 0 || gfn >= 2 ** 36) return undefined;
    let table = this.root;
    let e = 0n;
    for (let level = LEVELS; level >= 1; level--) {
      e = this.memory.read64(maddr(table, 8 * this.index(gfn, level)));
      if (!(e & EPT_RWX)) return undefined;
      table = Number((e & ADDR_MASK) >> 12n);
    }
    return e;
  }

  private index(gfn: number, level: number): number {
    return Math.floor(gfn / 2 ** (9 * (level - 1))) % 512;
  }
}
