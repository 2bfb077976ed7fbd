// SPDX-License-Identifier: MIT
//
// What a Machine is built from, with defaults and the checks that turn a bad
// option into a clear message.

import { ShootdownError } from "./errors.ts";

export interface Geometry {
  /** Number of sets, a power of two. */
  sets: number;
  /** Associativity, 1 to 64. */
  ways: number;
}

/** Geometry of every translation structure of a CPU. */
export interface TlbGeometry {
  tlb4k: Geometry;
  tlb2m: Geometry;
  tlb1g: Geometry;
  /** Paging-structure caches (SDM Vol.3A 4.10.3), by the entry they hold. */
  pde: Geometry;
  pdpte: Geometry;
  pml4e: Geometry;
  pml5e: Geometry;
}

export interface RamRange {
  /** Guest-physical base, 4 KiB aligned. */
  base: bigint;
  /** Size in bytes, a multiple of 4 KiB. */
  size: bigint;
}

export interface ChaosOptions {
  /** Seed of the per-CPU generators; the same seed gives the same evictions. */
  seed: bigint;
  /** Mean number of translations between two random evictions on one CPU. */
  meanInterval: number;
}

/** Data-cache geometry (64-byte lines). */
export interface CacheGeometry {
  /** Per-CPU L1: sets (a power of two) and ways (1 to 64). */
  l1: Geometry;
  /** The shared system cache that set/way maintenance never reaches. */
  system: Geometry;
}

export const DEFAULT_CACHES: CacheGeometry = {
  l1: { sets: 64, ways: 4 },
  system: { sets: 512, ways: 8 },
};

export interface MachineOptions {
  arch?: "x86_64" | "aarch64";
  cpus?: number;
  /** MAXPHYADDR, the physical-address width: 32 to 52. */
  maxPhysAddr?: number;
  /** Are 1 GiB pages supported (CPUID.80000001H:EDX.Page1GB)? */
  page1GB?: boolean;
  ram?: RamRange[];
  tlb?: Partial<TlbGeometry>;
  /** Entries of the (non-architectural) micro-TLB in front of the TLB; a power of two, or 0. */
  microTlbEntries?: number;
  /** Remember each entry's source descriptors and report uses of entries whose source changed. */
  detectMissingInvalidation?: boolean;
  /** Drop TLB entries at random. */
  chaos?: ChaosOptions;
  /**
   * Model data caches (AArch64 only; on by default there): false to turn them
   * off, or a geometry.
   */
  caches?: boolean | Partial<CacheGeometry>;
  /**
   * With caches: check every non-cacheable read against the latest value
   * written to its bytes, and report one that returns an older value
   * (`machine.takeEvents()`, kind "stale-read"; mechanisms §4.6 (a)).
   */
  checkStaleReads?: boolean;
}

export const DEFAULT_TLB: TlbGeometry = {
  tlb4k: { sets: 256, ways: 8 },
  tlb2m: { sets: 32, ways: 8 },
  tlb1g: { sets: 4, ways: 4 },
  pde: { sets: 32, ways: 4 },
  pdpte: { sets: 8, ways: 4 },
  pml4e: { sets: 4, ways: 2 },
  pml5e: { sets: 2, ways: 2 },
};

/** The structure order of the hardware module (STRUCT_*). */
export const STRUCT_ORDER = ["tlb4k", "tlb2m", "tlb1g", "pde", "pdpte", "pml4e", "pml5e"] as const;

export interface ResolvedOptions {
  arch: "x86_64" | "aarch64";
  cpus: number;
  maxPhysAddr: number;
  page1GB: boolean;
  ram: RamRange[];
  tlb: TlbGeometry;
  microTlbEntries: number;
  detectMissingInvalidation: boolean;
  chaos: ChaosOptions | undefined;
  caches: CacheGeometry | undefined;
  checkStaleReads: boolean;
}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

function checkInteger(name: string, value: number, lo: number, hi: number): void {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new ShootdownError(`${name} must be an integer from ${lo} to ${hi}, not ${value}`);
  }
}

export function resolveOptions(o: MachineOptions): ResolvedOptions {
  const arch = o.arch ?? "x86_64";
  if (arch !== "x86_64" && arch !== "aarch64") {
    throw new ShootdownError(`unsupported architecture '${String(arch)}' (x86_64 or aarch64)`);
  }
  const cpus = o.cpus ?? 1;
  checkInteger("cpus", cpus, 1, 64);
  const maxPhysAddr = o.maxPhysAddr ?? (arch === "aarch64" ? 48 : 46);
  checkInteger("maxPhysAddr", maxPhysAddr, 32, 52);
  const tlb: TlbGeometry = { ...DEFAULT_TLB, ...(o.tlb ?? {}) };
  for (const name of STRUCT_ORDER) {
    const g = tlb[name];
    if (!isPow2(g.sets)) throw new ShootdownError(`tlb.${name}.sets must be a power of two, not ${g.sets}`);
    checkInteger(`tlb.${name}.ways`, g.ways, 1, 64);
    if (g.sets * g.ways > 1 << 20) throw new ShootdownError(`tlb.${name} has more than 2^20 entries`);
  }
  const microTlbEntries = o.microTlbEntries ?? 256;
  if (microTlbEntries !== 0 && (!isPow2(microTlbEntries) || microTlbEntries > 65536)) {
    throw new ShootdownError(`microTlbEntries must be 0 or a power of two up to 65536, not ${microTlbEntries}`);
  }
  if (o.chaos) {
    if (!Number.isInteger(o.chaos.meanInterval) || o.chaos.meanInterval < 1 || o.chaos.meanInterval > 0x7fffffff) {
      throw new ShootdownError(`chaos.meanInterval must be a positive integer, not ${o.chaos.meanInterval}`);
    }
  }
  if (o.checkStaleReads && (o.caches === false || arch !== "aarch64")) {
    throw new ShootdownError("checkStaleReads needs the data caches (an aarch64 machine with caches)");
  }
  let caches: CacheGeometry | undefined;
  if (o.caches === undefined ? arch === "aarch64" : o.caches !== false) {
    if (arch !== "aarch64") throw new ShootdownError("caches are modelled for aarch64 machines only");
    caches = { ...DEFAULT_CACHES, ...(typeof o.caches === "object" ? o.caches : {}) };
    for (const name of ["l1", "system"] as const) {
      const g = caches[name];
      if (!isPow2(g.sets)) throw new ShootdownError(`caches.${name}.sets must be a power of two, not ${g.sets}`);
      // The system cache may be left out (0 ways): then only the CPUs' L1s can hide a line from RAM.
      checkInteger(`caches.${name}.ways`, g.ways, name === "system" ? 0 : 1, 64);
    }
  }
  return {
    arch,
    caches,
    cpus,
    maxPhysAddr,
    page1GB: o.page1GB ?? true,
    ram: o.ram ?? [{ base: 0n, size: 64n << 20n }],
    tlb,
    microTlbEntries,
    detectMissingInvalidation: o.detectMissingInvalidation ?? false,
    checkStaleReads: o.checkStaleReads ?? false,
    chaos: o.chaos,
  };
}
