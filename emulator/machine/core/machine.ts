// SPDX-License-Identifier: MIT
//
// A Machine: one instance of the hardware module with its CPUs and memory.

import { ShootdownError } from "./errors.ts";
import { instantiate, memoryMayHaveGrown, release, type HwExports } from "./wasm.ts";
import { layoutOf, type Layout } from "./layout.ts";
import { resolveOptions, STRUCT_ORDER, type MachineOptions, type ResolvedOptions } from "./options.ts";
import { Memory } from "./memory.ts";
import { X86Cpu } from "../cpu/x86-cpu.ts";
import { ArmCpu } from "../cpu/arm-cpu.ts";
import type { AnnotationEvent, AnnotationRule } from "./annotations.ts";

export type Arch = "x86_64" | "aarch64";
/** The CPU class of an architecture. */
export type CpuOf<A extends Arch> = A extends "aarch64" ? ArmCpu : X86Cpu;

/** A use of a TLB or paging-structure-cache entry whose source descriptor changed with no invalidation. */
export interface StaleUseEvent {
  kind: "stale-tlb-entry" | "stale-paging-structure-cache-entry";
  cpu: number;
  /** The linear address being translated. */
  va: bigint;
  /** Physical address of the descriptor that changed. */
  sourcePa: bigint;
  /** Its value when the entry was filled. */
  cachedValue: bigint;
  /** Its value now. */
  currentValue: bigint;
  /** Paging level of that descriptor (1 = PTE … 5 = PML5E). */
  level: number;
  pcid: number;
  /** Order of the event since the machine was created. */
  sequence: bigint;
}

/**
 * A non-cacheable read that returned RAM's value while a cache held a newer
 * one (MachineOptions.checkStaleReads; mechanisms §4.6 (a)).
 */
export interface StaleReadEvent {
  kind: "stale-read";
  /** The CPU that read. */
  cpu: number;
  /** The address it read, as its own translation regime saw it. */
  va: bigint;
  /** The physical address read (an IPA is for the hypervisor, which owns the p2m, to add). */
  pa: bigint;
  /** Bytes read: 1, 2, 4 or 8. */
  size: number;
  /** What the read returned: RAM's value. */
  value: bigint;
  /** The latest value written to those bytes. */
  expected: bigint;
  /** Where that latest value sits: a CPU's L1, or the system cache. */
  holder: { l1: number } | "system cache";
  /** Order of the event since the machine was created. */
  sequence: bigint;
}

/** What the hardware module reports. */
export type HwEvent = StaleUseEvent | StaleReadEvent | AnnotationEvent;

/** The annotation event an event kind is, if it is one. */
function annotationRule(L: Layout, kind: number): AnnotationRule | undefined {
  return kind === L.EVENT_ANNOT_LOAD ? "walker-read-freed-frame"
    : kind === L.EVENT_ANNOT_TABLE ? "freed-table-in-walk-cache"
    : kind === L.EVENT_ANNOT_FRAME ? "tlb-entry-outlived-free"
    : undefined;
}

const INIT_ERRORS: Record<number, string> = {
  1: "the CPU count is out of range",
  2: "MAXPHYADDR is out of range",
  3: "a TLB geometry is invalid",
  4: "the micro-TLB size is invalid",
  5: "the TLBs do not fit in WebAssembly memory; use fewer CPUs or smaller TLBs",
  6: "the architecture is not supported",
};

export class Machine<A extends Arch = "x86_64"> {
  readonly options: ResolvedOptions;
  readonly memory: Memory;
  readonly cpus: readonly CpuOf<A>[];
  /** The hardware module itself, for benchmarks and tools that drive it in bulk. */
  readonly hw: HwExports;
  readonly layout: Layout;

  /**
   * `hardwareModule` is the path of another build of the hardware module to
   * run instead of the package's own (bench/ compares builds this way); it
   * must have the same memory map.
   */
  constructor(options: MachineOptions & { arch?: A } = {}, hardwareModule?: string) {
    this.options = resolveOptions(options);
    this.hw = instantiate(hardwareModule);
    this.layout = layoutOf(this.hw);
    this.configure();
    this.memory = new Memory(this.hw, this.layout);
    for (const range of this.options.ram) this.memory.addRange(range);
    const make = (i: number) =>
      (this.options.arch === "aarch64" ? new ArmCpu(this.hw, this.layout, i) : new X86Cpu(this.hw, this.layout, i)) as CpuOf<A>;
    this.cpus = Array.from({ length: this.options.cpus }, (_, i) => make(i));
  }

  private configure(): void {
    const o = this.options;
    const L = this.layout;
    const cfg = new DataView(this.hw.memory.buffer, this.hw.configBlock(), L.CFG_SIZE);
    cfg.setUint32(L.CFG_CPUS, o.cpus, true);
    cfg.setUint32(L.CFG_ARCH, o.arch === "aarch64" ? L.ARCH_AARCH64 : L.ARCH_X86_64, true);
    cfg.setUint32(L.CFG_MAXPHYADDR, o.maxPhysAddr, true);
    let features = 0;
    if (o.page1GB) features |= L.FEATURE_PAGE1GB;
    if (o.detectMissingInvalidation) features |= L.FEATURE_DETECT;
    if (o.chaos) features |= L.FEATURE_CHAOS;
    if (o.checkStaleReads) features |= L.FEATURE_STALE_READS;
    if (o.caches) {
      features |= L.FEATURE_CACHES;
      cfg.setUint32(L.CFG_L1_SETS, o.caches.l1.sets, true);
      cfg.setUint32(L.CFG_L1_WAYS, o.caches.l1.ways, true);
      cfg.setUint32(L.CFG_SC_SETS, o.caches.system.sets, true);
      cfg.setUint32(L.CFG_SC_WAYS, o.caches.system.ways, true);
    }
    cfg.setUint32(L.CFG_FEATURES, features, true);
    STRUCT_ORDER.forEach((name, i) => {
      cfg.setUint32(L.CFG_SETS + 4 * i, o.tlb[name].sets, true);
      cfg.setUint32(L.CFG_WAYS + 4 * i, o.tlb[name].ways, true);
    });
    cfg.setUint32(L.CFG_MICRO_ENTRIES, o.microTlbEntries, true);
    cfg.setUint32(L.CFG_CHAOS_MEAN, o.chaos?.meanInterval ?? 0, true);
    cfg.setBigUint64(L.CFG_CHAOS_SEED, BigInt.asUintN(64, o.chaos?.seed ?? 0n), true);
    const status = this.hw.init();
    memoryMayHaveGrown();
    if (status !== L.INIT_OK) throw new ShootdownError(`cannot build the machine: ${INIT_ERRORS[status] ?? `error ${status}`}`);
  }

  /**
   * Hands the hardware module's instance back for the next Machine to reuse
   * (wasm.ts): this machine, its CPUs and its memory must not be used again.
   */
  release(): void {
    release(this.hw);
  }

  cpu(index: number): CpuOf<A> {
    const c = this.cpus[index];
    if (!c) throw new ShootdownError(`no CPU ${index} (the machine has ${this.cpus.length})`);
    return c;
  }

  /**
   * Translates va on CPU `cpu` for an access `op` at privilege `priv`, as
   * that CPU's `translate` does: a physical address and attributes, or a
   * fault record. A machine-level shorthand for `machine.cpu(cpu).translate`.
   */
  translate(
    cpu: number, va: bigint, op: "read" | "write" | "fetch", priv: Parameters<CpuOf<A>["translate"]>[1]["priv"],
  ): ReturnType<CpuOf<A>["translate"]> {
    const c = this.cpu(cpu) as unknown as { translate(va: bigint, access: { op: typeof op; priv: typeof priv }): ReturnType<CpuOf<A>["translate"]> };
    return c.translate(va, { op, priv });
  }

  /**
   * Changes MAXPHYADDR; all RAM is forgotten (add ranges again). Used by the
   * conformance runner, whose vectors each name the width they assume.
   */
  setMaxPhysAddr(bits: number): void {
    if (!Number.isInteger(bits) || this.hw.setMaxPhysAddr(bits) !== 0) {
      throw new ShootdownError(`MAXPHYADDR must be an integer from 32 to 52, not ${bits}`);
    }
    // The module forgot its RAM ranges; so must the JavaScript side's lookup (Memory keeps the last range it found).
    this.memory.clear();
    (this.options as { maxPhysAddr: number }).maxPhysAddr = bits;
  }

  /** Removes and returns the missing-invalidation events recorded so far. */
  takeEvents(): HwEvent[] {
    const L = this.layout;
    const n = this.hw.eventsPending();
    const first = this.hw.eventsFirst();
    const ring = this.hw.regionEvents();
    const view = new DataView(this.hw.memory.buffer);
    const out: HwEvent[] = [];
    for (let i = 0; i < n; i++) {
      const at = ring + Number((first + BigInt(i)) % BigInt(L.EVENT_CAPACITY)) * L.EVENT_SIZE;
      const kind = view.getUint32(at, true);
      const rule = annotationRule(L, kind);
      if (rule) {
        // The record's fields as layout.ts EVENT_ANNOT_* reuses them.
        const freedBy = view.getBigUint64(at + 24, true);
        const freedAt = view.getBigUint64(at + 32, true);
        out.push({
          kind: "annotation", rule,
          cpu: view.getUint32(at + 4, true),
          va: view.getBigUint64(at + 8, true),
          frame: view.getBigUint64(at + 16, true),
          ...(freedBy === 0xffff_ffffn ? {} : { freedBy: Number(freedBy), freedAt: Number(freedAt) }),
          structure: view.getUint32(at + 40, true),
          sequence: view.getBigUint64(at + 48, true),
        });
        continue;
      }
      if (kind === L.EVENT_STALE_READ) {
        // The record's fields as layout.ts EVENT_STALE_READ reuses them.
        const holder = view.getUint32(at + 40, true);
        out.push({
          kind: "stale-read",
          cpu: view.getUint32(at + 4, true),
          va: view.getBigUint64(at + 8, true),
          pa: view.getBigUint64(at + 16, true),
          size: view.getUint32(at + 44, true),
          value: view.getBigUint64(at + 32, true),
          expected: view.getBigUint64(at + 24, true),
          holder: holder === 0xffff_ffff ? "system cache" : { l1: holder },
          sequence: view.getBigUint64(at + 48, true),
        });
        continue;
      }
      out.push({
        kind: view.getUint32(at, true) === L.EVENT_STALE_TLB ? "stale-tlb-entry" : "stale-paging-structure-cache-entry",
        cpu: view.getUint32(at + 4, true),
        va: view.getBigUint64(at + 8, true),
        sourcePa: view.getBigUint64(at + 16, true),
        cachedValue: view.getBigUint64(at + 24, true),
        currentValue: view.getBigUint64(at + 32, true),
        level: view.getUint32(at + 40, true),
        pcid: view.getUint32(at + 44, true),
        sequence: view.getBigUint64(at + 48, true),
      });
    }
    this.hw.eventsConsume(n);
    return out;
  }

  /** Events lost because the ring was full before they were taken. */
  droppedEvents(): bigint {
    return this.hw.eventsDroppedCount();
  }
}
