// SPDX-License-Identifier: MIT
//
// Guest annotations for the sanitizer (docs/annotations.md; issue 18). A
// guest tells the machine what the hardware cannot know — a frame freed to or
// taken from its allocator, a lockless walker's section, a table page
// unhooked, where an operation it wants priced begins and ends — through an
// I/O port on x86-64 or an SMCCC call on AArch64; every way in ends at
// GuestAnnotations.annotate, with a machine frame number. A
// hypervisor translates its guest's frame first (the Arm p2m here; the x86
// HVM host's hook, by GPA → MFN), then calls the same function.
//
// This side checks each annotation (a frame outside RAM, WALK_END without
// BEGIN and a nested BEGIN become warnings for the run's summary, never a
// crash) and hands the valid ones to the hardware module
// (emulator/hw/common/annotate.ts), which checks the three events on its hot
// paths and records them in the event ring. eventOf turns such a record into
// a sanitizer violation: status 4 unless --keep-going counts it.
//
// Spans (SPAN_BEGIN, SPAN_END) check nothing: each one ended is counted, and
// when the timeline listens (--stats, --trace, the benches) it is announced
// there, so that the cost model's clock prices the cycles between its begin
// and its end on the CPU that made them (timing/modelled-clock.ts).

import type { HwExports } from "./wasm.ts";
import type { MachineEvent } from "./exits.ts";
import type { Timeline } from "./timeline.ts";

/** Operations (the same numbers on both architectures). */
export const SD_ANNOT = { FREE: 0, ALLOC: 1, WALK_BEGIN: 2, WALK_END: 3, TABLE_UNHOOK: 4, SPAN_BEGIN: 5, SPAN_END: 6 } as const;
export type AnnotationOp = (typeof SD_ANNOT)[keyof typeof SD_ANNOT];
const OP_NAMES = ["FREE", "ALLOC", "WALK_BEGIN", "WALK_END", "TABLE_UNHOOK", "SPAN_BEGIN", "SPAN_END"] as const;
/** The highest operation number. */
const LAST_OP = SD_ANNOT.SPAN_END;

/**
 * Span IDs with a name of their own (docs/annotations.md); any other ID is
 * "span N". IDs 16–31 are a grace period each: a Linux-style guest keeps up
 * to 16 RCU batches per CPU pending at once, one ID per batch slot, and the
 * spans are counted together under one name.
 */
export const SD_SPAN = { MUNMAP: 1, GUP_FAST: 2, GRACE_PERIOD_FIRST: 16, GRACE_PERIOD_LAST: 31 } as const;

/** What a span ID is called in the summary and the cost model's figures. */
export function spanName(id: number): string {
  if (id === SD_SPAN.MUNMAP) return "munmap";
  if (id === SD_SPAN.GUP_FAST) return "gup_fast";
  if (id >= SD_SPAN.GRACE_PERIOD_FIRST && id <= SD_SPAN.GRACE_PERIOD_LAST) return "grace period";
  return `span ${id}`;
}

/** What the query returns under shootdown: "annotations present, version 1". */
export const SD_ANNOT_MAGIC = 0x5d5d_0001n;
/** x86-64: OUT to SD_ANNOT_PORT + op; IN from SD_ANNOT_PORT is the query. */
export const SD_ANNOT_PORT = 0x5d0;
/** AArch64: HVC #0 with X0 = SD_ANNOT_SMCCC + op (SMC64 fast call, owner 6: vendor-specific hypervisor service); the query is SD_ANNOT_SMCCC_QUERY. */
export const SD_ANNOT_SMCCC = 0xc600_0000;
export const SD_ANNOT_SMCCC_QUERY = 0xc600_00ff;

/** Is the port one of the annotation ports (OUT) or the query (IN)? */
export function isAnnotationPort(port: number): boolean {
  return port >= SD_ANNOT_PORT && port <= SD_ANNOT_PORT + LAST_OP;
}

/** The annotation an SMCCC function ID asks for: an op, "query", or undefined when it is not one. */
export function annotationOfSmccc(fn: number): AnnotationOp | "query" | undefined {
  if (fn === SD_ANNOT_SMCCC_QUERY) return "query";
  const op = fn - SD_ANNOT_SMCCC;
  return op >= 0 && op <= LAST_OP ? (op as AnnotationOp) : undefined;
}

/** Hardware event kinds (emulator/hw/layout.ts EVENT_ANNOT_*). */
export type AnnotationRule = "walker-read-freed-frame" | "freed-table-in-walk-cache" | "tlb-entry-outlived-free";

/** An annotation event as the hardware recorded it. */
export interface AnnotationEvent {
  kind: "annotation";
  rule: AnnotationRule;
  /** The CPU that read (a) or used the entry (b, c). */
  cpu: number;
  va: bigint;
  /** The freed frame's physical address. */
  frame: bigint;
  /** The CPU that freed it and the decision at which it did; undefined when the ring no longer holds that free. */
  freedBy?: number;
  freedAt?: number;
  /** (b), (c): the structure whose entry was used (layout.ts STRUCT_*); (a): the decision at which the walker section began. */
  structure: number;
  sequence: bigint;
}

const STRUCTURE_NAMES = ["4 KiB TLB", "2 MiB TLB", "1 GiB TLB", "PDE-cache", "PDPTE-cache", "PML4E-cache", "PML5E-cache"];
const ARM_STRUCTURE_NAMES = ["4 KiB TLB", "2 MiB TLB", "1 GiB TLB", "level-2 walk-cache", "level-1 walk-cache", "level-0 walk-cache", "level-(-1) walk-cache"];
const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Counts and warnings for the run's summary. */
export interface AnnotationSummary {
  /** Annotations made, by name. */
  made: Record<string, number>;
  /** Bad annotations, one line each (the first few of each kind, then a count). */
  warnings: string[];
  /** Spans ended, by name (spanName); present when the guest ended one. */
  spans?: Record<string, number>;
}

const MAX_WARNINGS_PER_KIND = 5;

export class GuestAnnotations {
  private readonly made = new Map<string, number>();
  private readonly warned = new Map<string, string[]>();
  private readonly warnedCount = new Map<string, number>();
  /** CPUs inside a walker section, with the decision it began at. */
  private readonly walking = new Map<number, number>();
  /** Frames declared free (machine frame numbers). */
  private readonly free = new Set<bigint>();
  /** The last TABLE_UNHOOK of each frame: CPU and decision. */
  private readonly unhooked = new Map<bigint, { cpu: number; step: number }>();
  /** Spans open for each guest CPU (by owner, see annotate): span ID → the decision it began at. */
  private readonly openSpans = new Map<string, Map<number, number>>();
  /** Spans ended, by name. */
  private readonly spansEnded = new Map<string, number>();

  constructor(
    private readonly hw: HwExports,
    /** Is the machine frame inside RAM? */
    private readonly inRam: (pfn: bigint) => boolean,
    /** The engine's decision number now. */
    private readonly step: () => number,
    private readonly arch: "x86_64" | "aarch64",
    /** Where spans are announced, for the cost model's clock (the platform's timeline). */
    private readonly timeline?: Timeline,
  ) {}

  /**
   * The one entry point: CPU `cpu` made annotation `op` with argument `arg`
   * (a machine frame number for FREE, ALLOC and TABLE_UNHOOK; the span ID
   * for SPAN_BEGIN and SPAN_END; ignored for the others). Bare platforms call
   * it with the guest's own frame; a hypervisor calls it with the machine
   * frame it translated the guest's to, or with `undefined` when that frame
   * has no machine frame (then it is a warning).
   * `owner` names the guest CPU for spans: under a hypervisor the vCPU
   * (which may end a span on another pCPU than it began it), bare "CPU n".
   */
  annotate(cpu: number, op: AnnotationOp, arg: bigint | undefined, owner = `CPU ${cpu}`): void {
    const name = OP_NAMES[op];
    this.made.set(name, (this.made.get(name) ?? 0) + 1);
    const step = this.step();
    const where = `CPU ${cpu} at step ${step}`;
    switch (op) {
      case SD_ANNOT.WALK_BEGIN:
        if (this.walking.has(cpu)) {
          this.warn("nested", `${where}: WALK_BEGIN inside the walker section begun at step ${this.walking.get(cpu)} (sections do not nest; the first one stands)`);
          return;
        }
        this.walking.set(cpu, step);
        this.hw.annotWalkBegin(cpu, step);
        return;
      case SD_ANNOT.WALK_END:
        if (!this.walking.delete(cpu)) {
          this.warn("end-without-begin", `${where}: WALK_END outside any walker section`);
          return;
        }
        this.hw.annotWalkEnd(cpu);
        return;
      case SD_ANNOT.SPAN_BEGIN:
      case SD_ANNOT.SPAN_END:
        this.span(cpu, owner, op, Number(BigInt.asUintN(32, arg ?? 0n)), step, where);
        return;
    }
    if (arg === undefined || arg < 0n || !this.inRam(arg)) {
      const what = arg === undefined ? "a guest frame with no machine frame behind it" : `PFN ${hex(arg)}, outside RAM`;
      this.warn("outside-ram", `${where}: ${name} of ${what}; ignored`);
      return;
    }
    const pa = arg << 12n;
    switch (op) {
      case SD_ANNOT.FREE:
        if (this.free.has(arg)) this.warn("double-free", `${where}: FREE of PFN ${hex(arg)}, already free (no ALLOC since)`);
        this.free.add(arg);
        this.hw.annotFree(cpu, pa, step);
        return;
      case SD_ANNOT.ALLOC:
        this.free.delete(arg);
        this.hw.annotAlloc(pa);
        return;
      case SD_ANNOT.TABLE_UNHOOK:
        // Only remembered, to say in a report when the table left its parent entry.
        this.unhooked.set(arg, { cpu, step });
        return;
    }
  }

  /**
   * SPAN_BEGIN or SPAN_END of span `id` by guest CPU `owner` on `cpu`:
   * spans with different IDs may overlap, the same ID does not nest (the
   * first begin stands), and an end must match a begin by the same owner.
   */
  private span(cpu: number, owner: string, op: typeof SD_ANNOT.SPAN_BEGIN | typeof SD_ANNOT.SPAN_END, id: number, step: number, where: string): void {
    let open = this.openSpans.get(owner);
    if (!open) this.openSpans.set(owner, (open = new Map()));
    const name = spanName(id);
    if (op === SD_ANNOT.SPAN_BEGIN) {
      if (open.has(id)) {
        this.warn("span-nested", `${where}: SPAN_BEGIN of span ${id} (${name}) inside the one begun at step ${open.get(id)} (a span does not nest; the first one stands)`);
        return;
      }
      open.set(id, step);
      if (this.timeline?.on) this.timeline.emit({ kind: "span-begin", cpu, owner, span: id, name });
      return;
    }
    if (!open.delete(id)) {
      this.warn("span-end-without-begin", `${where}: SPAN_END of span ${id} (${name}), which ${owner} has not begun`);
      return;
    }
    this.spansEnded.set(name, (this.spansEnded.get(name) ?? 0) + 1);
    if (this.timeline?.on) this.timeline.emit({ kind: "span-end", cpu, owner, span: id, name });
  }

  private warn(kind: string, line: string): void {
    const n = (this.warnedCount.get(kind) ?? 0) + 1;
    this.warnedCount.set(kind, n);
    if (n > MAX_WARNINGS_PER_KIND) return;
    const lines = this.warned.get(kind) ?? [];
    lines.push(line);
    this.warned.set(kind, lines);
  }

  /** What the guest annotated and what was wrong with it; undefined when it made no annotation. */
  summary(): AnnotationSummary | undefined {
    if (!this.made.size) return undefined;
    const warnings: string[] = [];
    for (const [kind, lines] of this.warned) {
      warnings.push(...lines);
      const more = this.warnedCount.get(kind)! - lines.length;
      if (more > 0) warnings.push(`… and ${more} more like the last`);
    }
    const lost = this.hw.annotLost();
    if (lost) warnings.push(`${lost} walker load${lost === 1n ? "" : "s"} of a freed frame could not be checked: more than 1,024 frees since the section began`);
    return { made: Object.fromEntries(this.made), warnings, ...(this.spansEnded.size ? { spans: Object.fromEntries(this.spansEnded) } : {}) };
  }

  /** A hardware annotation event, as the sanitizer violation it is. */
  eventOf(e: AnnotationEvent): MachineEvent {
    const frame = `frame ${hex(e.frame)} (PFN ${hex(e.frame >> 12n)})`;
    const freed = e.freedBy === undefined ? "freed earlier (by a CPU no longer known)" : `freed by CPU ${e.freedBy} at step ${e.freedAt}`;
    const unhook = this.unhooked.get(e.frame >> 12n);
    const unhooked = unhook ? `unhooked by CPU ${unhook.cpu} at step ${unhook.step} and ` : "";
    const names = this.arch === "aarch64" ? ARM_STRUCTURE_NAMES : STRUCTURE_NAMES;
    const entry = `${names[e.structure] ?? `structure ${e.structure}`} entry`;
    let message: string;
    switch (e.rule) {
      case "walker-read-freed-frame":
        message = `CPU ${e.cpu} inside its walker section (begun at step ${e.structure}) read VA ${hex(e.va)} in ${frame}, ${unhooked}${freed} after the section began and not reallocated since`;
        break;
      case "freed-table-in-walk-cache":
        message = `CPU ${e.cpu}'s walk for VA ${hex(e.va)} used a ${entry} built from table ${frame}, ${unhooked}${freed} after the entry was filled (invalidate before free)`;
        break;
      case "tlb-entry-outlived-free":
        message = `CPU ${e.cpu}'s access to VA ${hex(e.va)} was translated by a ${entry} for ${frame}, filled before it was ${freed}`;
        break;
    }
    return {
      kind: "violation", cpu: e.cpu, message,
      detail: {
        rule: e.rule, va: e.va, frame: e.frame, freedBy: e.freedBy, freedAt: e.freedAt,
        ...(e.rule === "walker-read-freed-frame" ? { sectionBegan: e.structure } : { structure: e.structure }), sequence: e.sequence,
      },
    };
  }
}

/** Does the operation's argument name a frame (which a hypervisor translates)? */
export function takesFrame(op: number): boolean {
  return op === SD_ANNOT.FREE || op === SD_ANNOT.ALLOC || op === SD_ANNOT.TABLE_UNHOOK;
}

/** Annotates with the guest's argument: translated to a machine frame for the operations that take one, the span ID as given. */
function annotateGuestFrame(
  a: GuestAnnotations, cpu: number, op: AnnotationOp, arg: bigint, toMachineFrame: (frame: bigint) => bigint | undefined, owner?: string,
): void {
  const isSpan = op === SD_ANNOT.SPAN_BEGIN || op === SD_ANNOT.SPAN_END;
  a.annotate(cpu, op, takesFrame(op) ? toMachineFrame(arg) : isSpan ? arg : 0n, owner);
}

/**
 * An SMCCC call (AArch64 HVC #0) by CPU `cpu` with function ID `fn` (W0) and
 * argument `x1`: carries it out when it is an annotation and returns what X0
 * gets back (0, or the magic for the query); undefined when `fn` is not one,
 * so that the caller answers it as before. `toMachineFrame` translates the
 * guest's frame number (the identity bare; the p2m under a hypervisor);
 * `owner` names the guest CPU for spans (GuestAnnotations.annotate).
 */
export function annotationCall(
  a: GuestAnnotations, cpu: number, fn: number, x1: bigint, toMachineFrame: (frame: bigint) => bigint | undefined, owner?: string,
): bigint | undefined {
  const op = annotationOfSmccc(fn);
  if (op === undefined) return undefined;
  if (op === "query") return SD_ANNOT_MAGIC;
  annotateGuestFrame(a, cpu, op, x1, toMachineFrame, owner);
  return 0n;
}

/**
 * An x86-64 access to the annotation ports (isAnnotationPort) by CPU `cpu`:
 * an OUT annotates the frame in the low 32 bits of `value`, translated by
 * `toMachineFrame` (the identity bare; GPA frame → MFN under EPT), and
 * returns undefined; an IN returns the value read, the magic for a 32-bit IN
 * from SD_ANNOT_PORT and all ones of its size otherwise, as an unassigned
 * port reads. The HVM host's I/O exit calls this for ports 0x5D0–0x5D6.
 */
export function annotationPortIo(
  a: GuestAnnotations, cpu: number, io: { port: number; size: 1 | 2 | 4; write: boolean; value: bigint },
  toMachineFrame: (frame: bigint) => bigint | undefined, owner?: string,
): bigint | undefined {
  if (!io.write) return io.port === SD_ANNOT_PORT && io.size === 4 ? SD_ANNOT_MAGIC : (1n << BigInt(8 * io.size)) - 1n;
  annotateGuestFrame(a, cpu, (io.port - SD_ANNOT_PORT) as AnnotationOp, io.value & 0xffff_ffffn, toMachineFrame, owner);
  return undefined;
}
