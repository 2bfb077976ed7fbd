// SPDX-License-Identifier: MIT
//
// The domain's stage-2 translation: the p2m (Xen's xen/arch/arm/mmu/p2m.c,
// reduced to what shootdown's guests need). It maps the domain's
// intermediate physical addresses (IPAs, Xen's GFNs) to machine frames with
// the VMSAv8-64 stage-2 format the hardware walks (4 KiB granule, VTCR_EL2
// below: a 39-bit IPA space whose walk starts at level 1), and it lives in
// machine memory: every entry is read and written through MachineMemory, so
// the hardware walker and the hypervisor see the same words.
//
// Each entry keeps two facts apart, as Xen's lpae_t does:
//
//   - the hardware valid bit (bit 0, `pte.p2m.valid`): may the walker use
//     the entry now? Xen clears it on mapped entries to learn which pages a
//     guest touches between two set/way flushes (p2m_invalidate_root,
//     mechanisms §4.4); the first access to such a page faults at stage 2
//     and p2m_resolve_translation_fault sets it again;
//   - the p2m type in the software bits 58:55 (`pte.p2m.type`): is the GFN
//     mapped at all (p2m_is_valid)? Tables carry p2m_ram_rw too, so that a
//     table whose valid bit was cleared still reads as mapped.
//
//   63      59 58  55 54 53 52         12 11  10 9 8 7 6 5    2 1 0
//  ┌──────────┬──────┬─────┬─────────────┬───┬──┬───┬─────┬───────┬─┬─┐
//  │          │ type │ XN  │ output MFN  │   │AF│SH │S2AP │MemAttr│T│V│
//  └──────────┴──────┴─────┴─────────────┴───┴──┴───┴─────┴───────┴─┴─┘
//
// Only 4 KiB pages are mapped (no superpages); the root is one level-1
// table. Tables come from the same frame allocator as the domain's RAM.

import type { MachineMemory } from "../common/memory.ts";
import { PAGE_SHIFT, maddr } from "../common/memory.ts";

/** Xen's p2m_type_t values this model uses (xen/arch/arm/include/asm/p2m.h). */
export const P2M_TYPE = { invalid: 0, ramRw: 1 } as const;
export type P2mType = (typeof P2M_TYPE)[keyof typeof P2M_TYPE];

export const PTE_VALID = 1n << 0n;
export const PTE_TABLE = 1n << 1n;
/** MemAttr[3:0] = 0b1111: Normal, Inner and Outer Write-Back (the guest's stage 1 decides the rest). */
const PTE_MEMATTR_WB = 0xfn << 2n;
/** S2AP = 0b11: read and write. */
const PTE_S2AP_RW = 3n << 6n;
/** SH = 0b11: Inner Shareable. */
const PTE_SH_IS = 3n << 8n;
const PTE_AF = 1n << 10n;
const PTE_ADDR = 0x0000_ffff_ffff_f000n;
const PTE_TYPE_SHIFT = 55n;
const PTE_TYPE_MASK = 0xfn << PTE_TYPE_SHIFT;

/** The IPA width and the level the walk starts at (VTCR_EL2.T0SZ = 25, SL0 = 1). */
export const P2M_IPA_BITS = 39;
export const P2M_ROOT_LEVEL = 1;

/**
 * VTCR_EL2 for this p2m (DDI0487 D19.2.156): T0SZ = 25, SL0 = 1 (level 1),
 * IRGN0 = ORGN0 = Write-Back, SH0 = Inner Shareable, TG0 = 4 KiB, PS = 48
 * bits, VS = 1 (16-bit VMIDs).
 */
export const P2M_VTCR = 25n | (1n << 6n) | (1n << 8n) | (1n << 10n) | (3n << 12n) | (5n << 16n) | (1n << 19n);

/** What p2m_get_entry found for a GFN. */
export interface P2mEntry {
  mfn: number;
  type: P2mType;
  /** The hardware valid bit of the leaf. */
  valid: boolean;
  /** The level of the entry found (3: a 4 KiB page; lower: a whole block whose table entry is invalid, from getEntry). */
  level: number;
}

/** One step of the walk, for the debugger's `p2m IPA`. */
export interface P2mWalkStep {
  level: number;
  /** The machine address of the entry read. */
  at: bigint;
  pte: bigint;
}

const slot = (gfn: number, level: number) => (gfn >>> (9 * (3 - level))) & 511;

export const pteType = (pte: bigint): P2mType => Number((pte & PTE_TYPE_MASK) >> PTE_TYPE_SHIFT) as P2mType;
const pteMfn = (pte: bigint) => Number((pte & PTE_ADDR) >> BigInt(PAGE_SHIFT));
/** p2m_is_valid: is the GFN mapped, whatever the valid bit says? */
export const p2mIsValid = (pte: bigint) => pteType(pte) !== P2M_TYPE.invalid;

export class P2m {
  /** The MFN of the level-1 root table (VTTBR_EL2.BADDR). */
  readonly root: number;
  /** The lowest and highest GFN ever mapped (p2m->lowest_mapped_gfn, max_mapped_gfn); undefined until one is. */
  lowestMappedGfn: number | undefined;
  maxMappedGfn: number | undefined;
  /** Were valid bits cleared since the VMID's TLB entries were last flushed (p2m->need_flush)? */
  needFlush = false;
  /** How many stage-2 faults p2m_resolve_translation_fault resolved. */
  faultsResolved = 0;

  constructor(
    private readonly memory: MachineMemory,
    /** Hands out a zeroed machine frame for a table. */
    private readonly allocTable: () => number,
    /** The domain's VMID (VTTBR_EL2.VMID). */
    readonly vmid: number,
  ) {
    this.root = allocTable();
  }

  /** VTTBR_EL2 for this p2m: the VMID in 63:48, the root's machine address. */
  get vttbr(): bigint {
    return (BigInt(this.vmid) << 48n) | maddr(this.root);
  }

  private read(table: number, index: number): bigint {
    return this.memory.read64(maddr(table, index * 8));
  }

  /** p2m_write_pte. */
  private write(table: number, index: number, pte: bigint): void {
    this.memory.write64(maddr(table, index * 8), pte);
  }

  /** p2m_set_entry for one 4 KiB page of RAM: maps gfn → mfn, valid, creating the tables on the way (p2m_create_table). */
  set(gfn: number, mfn: number, type: P2mType = P2M_TYPE.ramRw): void {
    let table = this.root;
    for (let level = P2M_ROOT_LEVEL; level < 3; level++) {
      const i = slot(gfn, level);
      let pte = this.read(table, i);
      if (!p2mIsValid(pte)) {
        // Xen types a table entry p2m_ram_rw so that p2m_is_valid holds for it.
        pte = maddr(this.allocTable()) | PTE_VALID | PTE_TABLE | (BigInt(P2M_TYPE.ramRw) << PTE_TYPE_SHIFT);
        this.write(table, i, pte);
      }
      table = pteMfn(pte);
    }
    const leaf = maddr(mfn) | PTE_VALID | PTE_TABLE | PTE_MEMATTR_WB | PTE_S2AP_RW | PTE_SH_IS | PTE_AF | (BigInt(type) << PTE_TYPE_SHIFT);
    this.write(table, slot(gfn, 3), leaf);
    this.lowestMappedGfn = Math.min(this.lowestMappedGfn ?? gfn, gfn);
    this.maxMappedGfn = Math.max(this.maxMappedGfn ?? gfn, gfn);
  }

  /** The entries a walk for gfn reads, from the root down to the leaf or the first unmapped entry (valid bits ignored). */
  walk(gfn: number): P2mWalkStep[] {
    const out: P2mWalkStep[] = [];
    if (gfn < 0 || gfn >= 2 ** (P2M_IPA_BITS - PAGE_SHIFT)) return out;
    let table = this.root;
    for (let level = P2M_ROOT_LEVEL; level <= 3; level++) {
      const i = slot(gfn, level);
      const pte = this.read(table, i);
      out.push({ level, at: maddr(table, i * 8), pte });
      if (!p2mIsValid(pte)) break;
      table = pteMfn(pte);
    }
    return out;
  }

  /** p2m_get_entry: what gfn maps to, whatever its valid bits say; undefined when it is not mapped. */
  lookup(gfn: number): P2mEntry | undefined {
    const steps = this.walk(gfn);
    const leaf = steps.at(-1);
    if (!leaf || leaf.level !== 3 || !p2mIsValid(leaf.pte)) return undefined;
    return { mfn: pteMfn(leaf.pte), type: pteType(leaf.pte), valid: (leaf.pte & PTE_VALID) !== 0n, level: 3 };
  }

  /**
   * p2m_get_entry as p2m_cache_flush_range uses it: the walk follows table
   * entries only while their valid bit is set (p2m_next_level with
   * read_only), so it stops at the first invalid one and reports it with
   * its level: the whole block below it (512 or 262,144 pages) is one entry
   * with valid = false. Undefined for a GFN that is not mapped.
   */
  getEntry(gfn: number): P2mEntry | undefined {
    const steps = this.walk(gfn);
    const stop = steps.find((s) => !(s.pte & PTE_VALID)) ?? steps.at(-1);
    if (!stop || !p2mIsValid(stop.pte)) return undefined;
    return { mfn: pteMfn(stop.pte), type: pteType(stop.pte), valid: (stop.pte & PTE_VALID) !== 0n, level: stop.level };
  }

  /** p2m_invalidate_table: clears the valid bit of every mapped entry of one table. */
  private invalidateTable(table: number): void {
    for (let i = 0; i < 512; i++) {
      const pte = this.read(table, i);
      if (p2mIsValid(pte) && pte & PTE_VALID) this.write(table, i, pte & ~PTE_VALID);
    }
    this.needFlush = true;
  }

  /**
   * p2m_invalidate_root: clears the valid bit of every root entry, so that
   * the next access to any GFN faults at stage 2 and shows the page is in
   * use. The caller flushes the VMID's TLB entries before relying on it
   * (needFlush says so).
   */
  invalidateRoot(): void {
    this.invalidateTable(this.root);
  }

  /**
   * Clears the valid bit of gfn's leaf, the one entry p2m_invalidate_table
   * would clear for it, leaving the tables above it valid (set-way.ts: a
   * flush clears the leaves it cleans as it cleans them, where Xen
   * invalidates the root after the whole clean). Xen has no such function;
   * it is p2m_invalidate_table's loop body for one entry. The caller flushes
   * the VMID's TLB entries before the step ends (needFlush says so).
   */
  invalidateLeaf(gfn: number): void {
    const leaf = this.walk(gfn).at(-1);
    if (!leaf || leaf.level !== 3 || !p2mIsValid(leaf.pte) || !(leaf.pte & PTE_VALID)) return;
    this.memory.write64(leaf.at, leaf.pte & ~PTE_VALID);
    this.needFlush = true;
  }

  /**
   * p2m_resolve_translation_fault: a stage-2 translation fault on gfn. Walks
   * down to the first entry whose valid bit is clear, or to the leaf. An
   * entry already valid means another vCPU resolved the fault first (or the
   * fault was spurious): resolved. A GFN not mapped at all is not: a real
   * fault. Otherwise the entry is made valid again, after the valid bits of
   * the table below it are cleared (so that only the path the guest uses
   * becomes valid, one level per fault, as Xen propagates it), and the guest
   * retries the access. No TLB flush: the entry was invalid.
   */
  resolveTranslationFault(gfn: number): boolean {
    const steps = this.walk(gfn);
    let k = steps.findIndex((s) => !(s.pte & PTE_VALID));
    if (k < 0) k = steps.length - 1;
    const entry = steps[k];
    if (!entry) return false;
    if (entry.pte & PTE_VALID) return p2mIsValid(entry.pte);
    if (!p2mIsValid(entry.pte)) return false;
    if (entry.level < 3) this.invalidateTable(pteMfn(entry.pte));
    this.memory.write64(entry.at, entry.pte | PTE_VALID);
    this.faultsResolved++;
    return true;
  }
}
