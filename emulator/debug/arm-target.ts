// SPDX-License-Identifier: MIT
//
// The AArch64 side of the debugger. What needs only the MMU, the TLBs and
// the caches works now: `walk` (the stage-1 descriptors read level by level,
// and the decision from the MMU's side-effect-free peek), `tlb` (live
// entries with ASID/VMID, each checked against a fresh walk), `cache` (dirty
// lines by set/way), the system registers and gdb's target description.
//
// TODO(AArch64 CPU): running, stepping and the general registers need the
// A64 interpreter (ArmCpu.run, setBreakpoints, the X registers, PC, PSTATE),
// which is built in another branch. Until it is merged, those methods throw
// NOT_MERGED; finishing them means filling in run, setBreakpoints, live,
// idle, instructions, pc, readRegisters/writeRegister (x0–x30, sp, pc, cpsr),
// readVirtual/writeVirtual/disassembleOne (as in x86-target.ts, through
// cpu.peek), and makeArmTarget below (the boot protocol of `shootdown run`
// for AArch64 images).

import type { Machine } from "../machine/machine.ts";
import type { ArmCpu, ArmRegisters } from "../machine/arm-cpu.ts";
import { ShootdownError } from "../machine/errors.ts";
import { tlbEntries, readRam } from "./tlb-dump.ts";
import type { RecordedOptions } from "../machine/schedule-file.ts";
import { SymbolLookup, type ProgramSymbol } from "../../asm/index.ts";
import {
  hex, type TargetOptions, type CacheLineView, type CpuRun, type DebugTarget, type RegisterInfo, type TlbEntryView, type Violation, type WalkLevel,
  type WalkOp, type WalkPriv, type WalkView,
} from "./target.ts";

export const NOT_MERGED = "the AArch64 CPU is not merged yet: on AArch64 the debugger can walk, show TLBs, caches and system registers, but not run, step or read the X registers";

const CORE = "org.gnu.gdb.aarch64.core";
const SYSTEM = "org.shootdown.aarch64.system";

const SYSTEM_REGISTERS: (keyof ArmRegisters)[] = [
  "sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "par_el1", "hcr_el2", "vttbr_el2", "vtcr_el2",
];

/** gdb's aarch64 core registers (gdb/features/aarch64-core.xml order), then the system registers the MMU reads. */
const REGISTERS: RegisterInfo[] = [
  ...Array.from({ length: 31 }, (_, i): RegisterInfo => ({ name: `x${i}`, bits: 64, feature: CORE, type: "int", group: "general" })),
  { name: "sp", bits: 64, feature: CORE, type: "data_ptr", group: "general" },
  { name: "pc", bits: 64, feature: CORE, type: "code_ptr", group: "general" },
  { name: "cpsr", bits: 32, feature: CORE, type: "int", group: "general" },
  ...SYSTEM_REGISTERS.map((name): RegisterInfo => ({ name, bits: 64, feature: SYSTEM, type: "int", group: "system" })),
];

export function armTargetXml(): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', "<target>", "<architecture>aarch64</architecture>"];
  let feature = "";
  REGISTERS.forEach((r, i) => {
    if (r.feature !== feature) {
      if (feature) lines.push("</feature>");
      feature = r.feature;
      lines.push(`<feature name="${feature}">`);
    }
    lines.push(`<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${i}"${r.group === "system" ? ' group="system"' : ""}/>`);
  });
  lines.push("</feature>", "</target>");
  return lines.join("\n");
}

/** Stage-1 descriptor fields, 4 KiB granule (DDI0487 D8.3). */
const D_VALID = 1n;
const D_TABLE = 2n;
const OA_MASK = 0x0000_ffff_ffff_f000n;
/** The TLB and walk-cache structures (layout.ts STRUCT_*) and the Arm level of what each holds. */
const STRUCTURES = [
  { name: "TLB 4K", level: 3, size: "4K", tlb: true }, { name: "TLB 2M", level: 2, size: "2M", tlb: true },
  { name: "TLB 1G", level: 1, size: "1G", tlb: true }, { name: "L2 table cache", level: 2, size: "2M", tlb: false },
  { name: "L1 table cache", level: 1, size: "1G", tlb: false }, { name: "L0 table cache", level: 0, size: "512G", tlb: false },
  { name: "L-1 table cache", level: -1, size: "256T", tlb: false },
];
const LEVEL_SHIFT = (level: number) => BigInt(12 + 9 * (3 - level));

function decodeDescriptor(level: number, d: bigint): { text: string; kind: "invalid" | "table" | "block" | "page"; out: bigint } {
  if (!(d & D_VALID) || (level === 3 && !(d & D_TABLE)) || (level === 0 && !(d & D_TABLE))) return { text: "invalid", kind: "invalid", out: 0n };
  if (level < 3 && d & D_TABLE) {
    const bits = [
      (d >> 59n) & 1n ? "PXNTable" : "", (d >> 60n) & 1n ? "UXNTable" : "", (d >> 61n) & 3n ? `APTable=${(d >> 61n) & 3n}` : "",
    ].filter(Boolean);
    return { text: `table${bits.length ? ` ${bits.join(" ")}` : ""} → table ${hex(d & OA_MASK)}`, kind: "table", out: d & OA_MASK };
  }
  const shift = LEVEL_SHIFT(level);
  const out = d & OA_MASK & ~((1n << shift) - 1n);
  const bits = [
    `AttrIndx=${(d >> 2n) & 7n}`, `AP=${(d >> 6n) & 3n}`, `SH=${(d >> 8n) & 3n}`, (d >> 10n) & 1n ? "AF" : "", (d >> 11n) & 1n ? "nG" : "",
    (d >> 51n) & 1n ? "DBM" : "", (d >> 53n) & 1n ? "PXN" : "", (d >> 54n) & 1n ? "UXN" : "",
  ].filter(Boolean);
  const kind = level === 3 ? "page" : "block";
  return { text: `${kind} ${bits.join(" ")} → ${hex(out)}`, kind, out };
}

export class ArmTarget implements DebugTarget {
  readonly arch = "aarch64" as const;
  readonly symbols: SymbolLookup;

  constructor(readonly m: Machine<"aarch64">, readonly symbolTable: readonly ProgramSymbol[] = []) {
    this.symbols = new SymbolLookup({ arch: "aarch64", entry: 0n, sections: [], symbols: [...symbolTable] });
  }

  get cpuCount(): number {
    return this.m.cpus.length;
  }

  private cpu(i: number): ArmCpu {
    return this.m.cpu(i);
  }

  registers(): readonly RegisterInfo[] {
    return REGISTERS;
  }

  readRegisters(): bigint[] {
    throw new ShootdownError(NOT_MERGED);
  }

  writeRegister(): boolean {
    throw new ShootdownError(NOT_MERGED);
  }

  pc(): bigint {
    throw new ShootdownError(NOT_MERGED);
  }

  systemRegisterLines(i: number): string[] {
    const r = this.cpu(i).registers;
    return SYSTEM_REGISTERS.map((name) => `${name.padEnd(10)} ${hex(r[name])}`);
  }

  targetXml(): string {
    return armTargetXml();
  }

  run(): CpuRun {
    throw new ShootdownError(NOT_MERGED);
  }

  setBreakpoints(addresses: readonly bigint[]): void {
    if (addresses.length) throw new ShootdownError(NOT_MERGED);
  }

  live(): boolean {
    throw new ShootdownError(NOT_MERGED);
  }

  idle(): boolean {
    throw new ShootdownError(NOT_MERGED);
  }

  instructions(): bigint {
    throw new ShootdownError(NOT_MERGED);
  }

  takeViolations(): Violation[] {
    return this.m.takeEvents().map((e) => ({ cpu: e.cpu, message: `CPU ${e.cpu} used a stale TLB entry for VA ${hex(e.va)}` }));
  }

  violationsPending(): boolean {
    return this.m.hw.eventsPending() > 0;
  }

  stateHash(): bigint {
    return BigInt.asUintN(64, this.m.hw.stateHash());
  }

  readVirtual(): { bytes: Uint8Array; faultAt?: bigint } {
    throw new ShootdownError(NOT_MERGED);
  }

  writeVirtual(): boolean {
    throw new ShootdownError(NOT_MERGED);
  }

  physicalAddress(i: number, va: bigint): bigint | undefined {
    for (const priv of ["kernel", "user"] as const) {
      const t = this.cpu(i).peek(BigInt.asUintN(64, va), { op: "read", priv });
      if (t.ok) return t.pa;
    }
    return undefined;
  }

  readPhysical(pa: bigint, length: number): Uint8Array | undefined {
    return readRam(this.m.memory, pa, length);
  }

  /**
   * The u64 at pa as the table walker sees it: the data caches are coherent
   * with each other and the walker reads through them, so a line held in an
   * L1 or the system cache wins over RAM.
   */
  coherentRead64(pa: bigint): bigint | undefined {
    const caches = this.m.options.caches;
    if (caches) {
      const line = pa & ~63n;
      const view = new DataView(this.m.hw.memory.buffer);
      const look = (cpu: number, sets: number, ways: number): bigint | undefined => {
        const set = Number((line >> 6n) & BigInt(sets - 1));
        for (let way = 0; way < ways; way++) {
          const at = this.m.hw.cacheLine(cpu, set, way);
          if (!at) continue;
          const tag = view.getBigUint64(at, true);
          if (tag & 1n && (tag & ~63n) === line) return view.getBigUint64(at + 16 + Number(pa & 63n & ~7n), true);
        }
        return undefined;
      };
      for (let c = 0; c < this.cpuCount; c++) {
        const v = look(c, caches.l1.sets, caches.l1.ways);
        if (v !== undefined) return v;
      }
      const v = look(0xffff_ffff, caches.system.sets, caches.system.ways);
      if (v !== undefined) return v;
    }
    return this.m.memory.peek64(pa & ~7n);
  }

  /** The stage-1 descriptors for va from the tables in memory (TTBR0/1 by bit 55, T0SZ/T1SZ, 4 KiB granule). */
  private descriptors(i: number, va: bigint): { root: string; levels: (WalkLevel & { level: number; kind: string; out: bigint })[]; stop?: string } {
    const r = this.cpu(i).registers;
    const upper = (va >> 55n) & 1n;
    const tsz = Number(upper ? (r.tcr_el1 >> 16n) & 0x3fn : r.tcr_el1 & 0x3fn);
    const ttbr = upper ? r.ttbr1_el1 : r.ttbr0_el1;
    const asid = (r.tcr_el1 >> 22n) & 1n ? r.ttbr1_el1 >> 48n : r.ttbr0_el1 >> 48n;
    // Under stage 2 the table addresses are IPAs; they are shown, and read, as if stage 2 mapped them flat.
    const s2 = r.hcr_el2 & 1n ? "; HCR_EL2.VM=1: table addresses are IPAs, read here untranslated" : "";
    const root = `TTBR${upper}_EL1 ${hex(ttbr)} (ASID ${asid}, T${upper}SZ ${tsz}${s2})`;
    const epd = upper ? (r.tcr_el1 >> 23n) & 1n : (r.tcr_el1 >> 7n) & 1n;
    if (epd) return { root, levels: [], stop: `TCR_EL1.EPD${upper} is set: walks through TTBR${upper} fault` };
    const inputBits = 64 - tsz;
    const start = 4 - Math.ceil((inputBits - 12) / 9);
    let table = ttbr & OA_MASK;
    const levels: (WalkLevel & { level: number; kind: string; out: bigint })[] = [];
    for (let level = start; level <= 3; level++) {
      const width = level === start ? BigInt(inputBits) - LEVEL_SHIFT(level) : 9n;
      const index = (va >> LEVEL_SHIFT(level)) & ((1n << width) - 1n);
      const entryPa = table + 8n * index;
      const value = this.coherentRead64(entryPa);
      if (value === undefined) return { root, levels, stop: `the level ${level} table entry at ${hex(entryPa)} is outside RAM` };
      const d = decodeDescriptor(level, value);
      levels.push({ name: `L${level}`, level, entryPa, value, decoded: d.text, kind: d.kind, out: d.out });
      if (d.kind !== "table") break;
      table = d.out;
    }
    return { root, levels };
  }

  walk(i: number, va: bigint, op: WalkOp, priv: WalkPriv): WalkView {
    const { root, levels, stop } = this.descriptors(i, va);
    const t = this.cpu(i).peek(va, { op, priv }, { memoryOnly: true });
    const who = `${op} at ${priv === "user" ? "EL0" : "EL1"}`;
    const view: WalkView = { va, root, levels, ...(stop ? { stop } : {}), ok: t.ok, decision: "" };
    if (t.ok) {
      view.pa = t.pa;
      view.decision = `${who}: allowed → PA ${hex(t.pa)} (${t.pageSize >= 1 << 30 ? "1G block" : t.pageSize >= 2 << 20 ? "2M block" : "4K page"}, MAIR attr ${hex(t.attr)}, SH ${t.sh}${t.global ? ", global" : ", nG"})`;
    } else {
      const f = t.fault;
      view.decision = `${who}: ${f.type.replace("_", " ")} fault, level ${f.level}${f.stage2 ? " (stage 2)" : ""}, FSC ${hex(f.fsc)}`;
    }
    return view;
  }

  tlb(i: number, dead = false): TlbEntryView[] {
    return tlbEntries(this.m, i, dead).map((e): TlbEntryView => {
      const kind = STRUCTURES[e.structure]!;
      const space = (e.ctx >> 16) & 0xff;
      const pa = kind.tlb ? e.out & OA_MASK & ~((1n << LEVEL_SHIFT(kind.level)) - 1n) : e.out & OA_MASK;
      const tags = [e.global ? "global" : `ASID ${e.asid}`, `VMID ${e.ctx & 0xffff}`, ...(space === 1 ? ["stage 2"] : space === 2 ? ["EL2"] : [])].join(" ");
      const a = e.attrs;
      const perms = kind.tlb
        ? [a & 2 ? "RO" : "RW", a & 1 ? "EL0" : "EL1", a & 8 ? "PXN" : "", a & 4 ? "UXN" : "", a & 16 ? "DBM" : ""].filter(Boolean).join(" ")
        : "";
      const stale = !e.live ? "dead" as const : e.current ? this.staleness(i, e.tag, kind.level, kind.tlb, pa) : "unknown" as const;
      return { structure: kind.name, index: e.index, va: e.tag, pa, size: kind.size, tags, global: e.global, perms, stale };
    });
  }

  private staleness(i: number, va: bigint, level: number, isTlb: boolean, pa: bigint): TlbEntryView["stale"] {
    const { levels } = this.descriptors(i, va);
    const at = levels.find((l) => l.level === level);
    if (!at) return { why: "the walk now ends above this level" };
    if (isTlb) {
      if (at.kind === "invalid") return { why: `the L${level} descriptor at ${hex(at.entryPa)} is now invalid` };
      if (at.kind === "table") return { why: "the tables now map this address with another block size" };
      return at.out === pa ? "fresh" : { why: `the L${level} descriptor at ${hex(at.entryPa)} now maps ${hex(at.out)}` };
    }
    if (at.kind !== "table") return { why: `the L${level} descriptor at ${hex(at.entryPa)} is no longer a table` };
    return at.out === pa ? "fresh" : { why: `the L${level} descriptor at ${hex(at.entryPa)} now points to ${hex(at.out)}` };
  }

  cache(i: number): CacheLineView[] {
    const caches = this.m.options.caches;
    if (!caches) throw new ShootdownError("this machine models no data caches (caches: false)");
    if (i < 0 || i >= this.cpuCount) throw new ShootdownError(`no CPU ${i}`);
    const view = new DataView(this.m.hw.memory.buffer);
    const out: CacheLineView[] = [];
    const scan = (cpu: number, level: string, sets: number, ways: number) => {
      for (let set = 0; set < sets; set++) {
        for (let way = 0; way < ways; way++) {
          const at = this.m.hw.cacheLine(cpu, set, way);
          if (!at) continue;
          const tag = view.getBigUint64(at, true);
          if ((tag & 3n) !== 3n) continue;
          out.push({ level, set, way, pa: tag & ~63n, dirty: true, bytes: new Uint8Array(this.m.hw.memory.buffer, at + 16, 64).slice() });
        }
      }
    };
    scan(i, "L1", caches.l1.sets, caches.l1.ways);
    scan(0xffff_ffff, "system", caches.system.sets, caches.system.ways);
    return out;
  }

  disassembleOne(): { length: number; bytes: Uint8Array; text: string } | undefined {
    throw new ShootdownError(NOT_MERGED);
  }
}

/** An AArch64 image for `shootdown repl` / `shootdown gdb`: needs the A64 CPU and its boot protocol. */
export function makeArmTarget(_image: Uint8Array, _options: RecordedOptions, _debug: TargetOptions = {}): DebugTarget {
  // TODO(AArch64 CPU): boot the image as `shootdown run` will for AArch64 and return new ArmTarget(machine, symbols).
  throw new ShootdownError(NOT_MERGED);
}
