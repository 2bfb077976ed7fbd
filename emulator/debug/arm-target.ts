// SPDX-License-Identifier: MIT
//
// The AArch64 side of the debugger: a machine built and booted as `shootdown
// run` builds it (arm-run.ts bootArmMachine), whose CPUs' exits go to the
// runner's own port (PSCI, the PL011, WFI), and what the REPL and the gdb
// stub read of it: `walk` (the stage-1 descriptors read level by level, and
// the decision from the MMU's side-effect-free peek), `tlb` (live entries
// with ASID/VMID, each checked against a fresh walk), `cache` (dirty lines
// by set/way), the registers and gdb's target description.
//
// Under a hypervisor (--hv) the threads are the domain's vCPUs, then the
// pCPUs (threads.ts): a vCPU on a pCPU is read from it, one off every pCPU
// from the context the hypervisor keeps (arm-off-cpu.ts), and either's
// addresses go through its own stage 1 and its domain's stage 2.
//
// Memory is read the way the CPU would read it: the data caches are
// coherent with each other, so a cacheable access (and a physical read, and
// a watchpoint) sees the freshest copy, in a cache or in RAM; a
// Non-cacheable one (the MMU or the caches off, Device memory) reads RAM,
// as the CPU does, even when a dirty line holds newer data.

import type { Machine } from "../machine/core/machine.ts";
import type { ArmCpu, ArmRegisters, ArmState, ArmVcpuContext } from "../machine/cpu/arm-cpu.ts";
import { ArmOffCpuVcpu } from "./arm-off-cpu.ts";
import { stage2Walk } from "./arm-stage2.ts";
import { Threads } from "./threads.ts";
import { ArmPlatform } from "../machine/platform/arm/platform.ts";
import { NO_DISASSEMBLER } from "../machine/core/disassembler.ts";
import { ShootdownError } from "../machine/core/errors.ts";
import { tlbEntries, readRam } from "./tlb-dump.ts";
import type { RecordedOptions } from "../machine/core/schedule-file.ts";
import { backendFor, SymbolLookup, type Program, type ProgramSymbol } from "../../asm/index.ts";
import { programOf } from "../machine/core/elf-load.ts";
import {
  hex, type CacheLineView, type DebugTarget, type RegisterInfo, type TlbEntryView,
  type WalkLevel, type WalkOp, type WalkPriv, type WalkView,
} from "./target.ts";

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
/** A data-cache line record's tag bits (emulator/hw/arm/cache.ts): valid, dirty, and "a non-cacheable write reached RAM since this copy was filled". */
const LINE_VALID = 1n;
const LINE_DIRTY = 2n;
const LINE_NC_NEWER = 4n;

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

/** PSTATE fields (SPSR format, DDI0487 C5.2.19). */
const PSTATE_FLAGS: [string, number][] = [["N", 31], ["Z", 30], ["C", 29], ["V", 28]];
const PSTATE_MODES = ["EL0t", "", "", "", "EL1t", "EL1h"];
const SCTLR_FIELDS: [string, number][] = [
  ["M", 0], ["A", 1], ["C", 2], ["SA", 3], ["SA0", 4], ["I", 12], ["nTWI", 16], ["nTWE", 18], ["WXN", 19], ["SPAN", 23], ["EE", 25],
];
const HCR_FIELDS: [string, number][] = [
  ["VM", 0], ["SWIO", 1], ["FMO", 3], ["IMO", 4], ["AMO", 5], ["TWI", 13], ["TWE", 14], ["TSW", 22], ["TVM", 26], ["TGE", 27], ["RW", 31],
];
const bitNames = (v: bigint, names: [string, number][]) => names.filter(([, b]) => (v >> BigInt(b)) & 1n).map(([n]) => n).join(" ");
const field = (v: bigint, lsb: number, bits: number) => (v >> BigInt(lsb)) & ((1n << BigInt(bits)) - 1n);

/** A MAIR attribute byte in words (DDI0487 D19.2.97). */
function mairAttr(a: bigint): string {
  if (!(a & 0xf0n)) return ["Device-nGnRnE", "Device-nGnRE", "Device-nGRE", "Device-GRE"][Number((a >> 2n) & 3n)]!;
  const nibble = (n: bigint) => (n === 4n ? "NC" : n & 4n ? "WB" : "WT");
  const outer = nibble(a >> 4n);
  const inner = nibble(a & 0xfn);
  return `Normal ${inner === outer ? inner : `inner ${inner} outer ${outer}`}`;
}

/** The registers whose values come from ArmState. */
type StateRegister = keyof Pick<ArmState, "pc" | "pstate">;

export class ArmTarget implements DebugTarget {
  readonly arch = "aarch64" as const;
  readonly symbols: SymbolLookup;
  readonly symbolTable: readonly ProgramSymbol[];

  readonly platform: ArmPlatform;

  /**
   * A target over a booted platform, or over a bare machine a test built
   * (which it can walk, and show TLBs, caches and registers of).
   */
  constructor(readonly m: Machine<"aarch64">, platform?: ArmPlatform) {
    this.platform = platform ?? new ArmPlatform(m, undefined, m.options.ram[0]?.size ?? 0n, () => {}, NO_DISASSEMBLER);
    const program: Program = platform?.plan ? programOf(platform.plan) : { arch: "aarch64", entry: 0n, sections: [], symbols: [] };
    this.symbols = new SymbolLookup(program);
    this.symbolTable = program.symbols;
    this.threads = new Threads(this.platform);
  }

  private readonly threads: Threads<ArmVcpuContext>;

  get cpuCount(): number {
    return this.m.cpus.length;
  }

  /** Thread i: CPU i, or under a hypervisor vCPU i, read from its pCPU or from the context kept of it. */
  private cpu(i: number): ArmCpu | ArmOffCpuVcpu {
    const off = this.threads.off(i);
    if (!off) return this.m.cpu(this.threads.pcpuOf(i)!);
    if (!off.file) throw new ShootdownError(`${off.info.name} is ${off.info.state} and has no context`);
    return new ArmOffCpuVcpu(off.file, this.m.cpu(0), off.write);
  }

  /** The pCPU thread i runs on, for what belongs to a pCPU (its TLBs, its L1); what names it says why not. */
  private pcpu(i: number, what: string, command: string): number {
    const on = this.threads.pcpuOf(i);
    if (on !== undefined) return on;
    const info = this.platform.vcpus()!.list()[i]!;
    throw new ShootdownError(`${info.name} is off every pCPU (${info.state}): ${what} belongs to a pCPU (${command} pN shows pCPU N's)`);
  }

  registers(): readonly RegisterInfo[] {
    return REGISTERS;
  }

  /** Which stack pointer SP is now: SP_EL0 at EL0 or with SPSel = 0 (EL1t), else SP_EL1. */
  private static spName(pstate: bigint): "sp_el0" | "sp_el1" {
    return (pstate & 0xdn) === 0x5n ? "sp_el1" : "sp_el0";
  }

  readRegisters(i: number): bigint[] {
    const s = this.cpu(i).state;
    return REGISTERS.map((r, n) => {
      if (n < 31) return s.x[n]!;
      if (r.name === "sp") return s[ArmTarget.spName(s.pstate)];
      if (r.name === "cpsr") return s.pstate & 0xffff_ffffn;
      return s[r.name as StateRegister | keyof ArmRegisters];
    });
  }

  writeRegister(i: number, index: number, value: bigint): boolean {
    const r = REGISTERS[index];
    if (!r) return false;
    const cpu = this.cpu(i);
    const v = BigInt.asUintN(r.bits, value);
    // A vCPU off every pCPU says whether the hypervisor keeps the change.
    let kept: boolean | void = true;
    try {
      if (index < 31) {
        const x = cpu.state.x.slice();
        x[index] = v;
        kept = cpu.setState({ x });
      } else if (r.name === "sp") kept = cpu.setState({ [ArmTarget.spName(cpu.state.pstate)]: v });
      else if (r.name === "cpsr") kept = cpu.setState({ pstate: v });
      else kept = cpu.setState({ [r.name]: v });
    } catch (e) {
      // A PSTATE with a mode the CPU does not have (EL2, AArch32) is refused, and changes nothing.
      if (e instanceof ShootdownError) return false;
      throw e;
    }
    return kept !== false;
  }

  /** PC read straight from the CPU block: the session asks before every run call. */
  pc(i: number): bigint {
    const on = this.threads.pcpuOf(i);
    return on !== undefined ? this.platform.pc(on) : this.cpu(i).state.pc;
  }

  systemRegisterLines(i: number): string[] {
    const s = this.cpu(i).state;
    const p = s.pstate;
    const mode = PSTATE_MODES[Number(p & 0xfn)] ?? `M=${hex(p & 0xfn)}`;
    const daif = [["D", 9], ["A", 8], ["I", 7], ["F", 6]].map(([n, b]) => ((p >> BigInt(b!)) & 1n ? n : "-")).join("");
    const extra = bitNames(p, [["PAN", 22], ["IL", 20]]);
    const ttbr = (v: bigint) => `table ${hex(v & OA_MASK)} ASID ${v >> 48n}`;
    const tcr = s.tcr_el1;
    const tg0 = ["4K", "64K", "16K", "?"][Number(field(tcr, 14, 2))];
    const tg1 = ["?", "16K", "4K", "64K"][Number(field(tcr, 30, 2))];
    const half = (n: 0 | 1) => {
      const o = n ? 16 : 0;
      return `T${n}SZ=${field(tcr, o, 6)} TG${n}=${n ? tg1 : tg0} SH${n}=${field(tcr, o + 12, 2)} IRGN${n}=${field(tcr, o + 8, 2)} ORGN${n}=${field(tcr, o + 10, 2)}${field(tcr, n ? 23 : 7, 1) ? ` EPD${n}` : ""}`;
    };
    const mair = Array.from({ length: 8 }, (_, k) => field(s.mair_el1, 8 * k, 8));
    const used = mair.map((a, k) => [a, k] as const).filter(([a], k) => a !== 0n || k === 0 || mair.slice(k).some((b) => b !== 0n));
    const col = (name: string, v: bigint) => `${name.padEnd(10)} ${hex(v).padEnd(18)}`;
    return [
      `${col("pstate", p)} ${[bitNames(p, PSTATE_FLAGS) || "-", mode, `DAIF=${daif}`, extra].filter(Boolean).join("  ")}`,
      `${col("sp_el0", s.sp_el0)} sp_el1 ${hex(s.sp_el1)}`,
      `${col("sctlr_el1", s.sctlr_el1)} ${bitNames(s.sctlr_el1, SCTLR_FIELDS)}`,
      `${col("tcr_el1", tcr)} ${half(0)}  ${half(1)}  IPS=${field(tcr, 32, 3)}${field(tcr, 22, 1) ? " A1" : ""}${field(tcr, 36, 1) ? " AS" : ""}`,
      `${col("ttbr0_el1", s.ttbr0_el1)} ${ttbr(s.ttbr0_el1)}`,
      `${col("ttbr1_el1", s.ttbr1_el1)} ${ttbr(s.ttbr1_el1)}`,
      `${col("mair_el1", s.mair_el1)} ${used.map(([a, k]) => `Attr${k}=${hex(a)} ${mairAttr(a)}`).join(", ")}`,
      `${col("par_el1", s.par_el1)} ${s.par_el1 & 1n ? "fault" : `PA ${hex(s.par_el1 & OA_MASK)}`}`,
      `${col("hcr_el2", s.hcr_el2)} ${bitNames(s.hcr_el2, HCR_FIELDS)}`.trimEnd(),
      `${col("vttbr_el2", s.vttbr_el2)} table ${hex(s.vttbr_el2 & OA_MASK)} VMID ${s.vttbr_el2 >> 48n}`,
      `${col("vtcr_el2", s.vtcr_el2)}`.trimEnd(),
      `${col("vbar_el1", s.vbar_el1)} elr_el1 ${hex(s.elr_el1)}  esr_el1 ${hex(s.esr_el1)}  far_el1 ${hex(s.far_el1)}  spsr_el1 ${hex(s.spsr_el1)}`,
    ];
  }

  targetXml(): string {
    return armTargetXml();
  }

  /** Powered on and not stopped, as the runner's port says; a vCPU is there for good (off every pCPU, or down). */
  live(i: number): boolean {
    const on = this.threads.pcpuOf(i);
    if (on === undefined) return true;
    const p = this.m.cpu(on).progress;
    return !p.off && !p.stopped;
  }

  idle(i: number): boolean {
    const on = this.threads.pcpuOf(i);
    return on === undefined || this.m.cpu(on).progress.waiting;
  }

  /** The instructions of the CPU thread i runs on (0 for a vCPU off every pCPU). */
  instructions(i: number): bigint {
    const on = this.threads.pcpuOf(i);
    return on === undefined ? 0n : this.m.cpu(on).progress.instructions;
  }

  stateHash(): bigint {
    return this.platform.stateHash();
  }

  /** The PA of va for a debugger's read, and whether the CPU's access there would be cacheable (DDI0487 D8.2.10, B2.12). */
  private debugTranslate(i: number, va: bigint, op: "read" | "fetch" = "read"): { pa: bigint; cacheable: boolean } | undefined {
    const cpu = this.cpu(i);
    const r = cpu.registers;
    const a = BigInt.asUintN(64, va);
    for (const priv of ["kernel", "user"] as const) {
      const t = cpu.peek(a, { op, priv });
      if (t.ok) return { pa: t.pa, cacheable: ArmTarget.cacheable(r.sctlr_el1, op, t.attr) };
      if (t.fault.stage2) return this.throughClearedValidBits(i, a, op);
    }
    return undefined;
  }

  /** Would an access with stage-1 MAIR attribute attr be cacheable (DDI0487 D8.2.10, B2.12)? */
  private static cacheable(sctlr: bigint, op: "read" | "fetch", attr: number): boolean {
    const mmu = (sctlr & 1n) !== 0n;
    const on = op === "fetch" ? (sctlr >> 12n) & 1n : (sctlr >> 2n) & 1n;
    // With the MMU off a data access is Device memory and a fetch Normal Write-Through (cacheable when SCTLR_EL1.I).
    return on !== 0n && (mmu ? (attr & 0xf0) !== 0 && (attr & 0xf) !== 4 : op === "fetch");
  }

  /**
   * Under a hypervisor, the address a stage-2 fault stopped the MMU at:
   * when the fault is only Xen's cleared valid bit (p2m_invalidate_root),
   * the guest's access would fault to Xen, which sets the bit again and
   * lets it through (p2m_resolve_translation_fault), so the debugger reads
   * where that access will land: the stage-1 walk from memory, then the
   * stage 2 through cleared valid bits (arm-stage2.ts).
   */
  private throughClearedValidBits(i: number, va: bigint, op: "read" | "fetch"): { pa: bigint; cacheable: boolean } | undefined {
    const r = this.cpu(i).registers;
    if (!(r.hcr_el2 & 1n)) return undefined;
    let ipa = va;
    let attr = 0;
    if (r.sctlr_el1 & 1n) {
      const leaf = this.descriptors(i, va).levels.at(-1);
      if (!leaf || (leaf.kind !== "block" && leaf.kind !== "page")) return undefined;
      const size = 1n << LEVEL_SHIFT(leaf.level);
      ipa = leaf.out | (va & (size - 1n));
      attr = Number((r.mair_el1 >> (8n * ((leaf.value >> 2n) & 7n))) & 0xffn);
    }
    const s2 = stage2Walk((pa) => this.coherentRead64(pa), r.vttbr_el2, r.vtcr_el2, ipa, true);
    return s2.pa === undefined ? undefined : { pa: s2.pa, cacheable: ArmTarget.cacheable(r.sctlr_el1, op, attr) };
  }

  /** Bytes at va as the CPU would load them, page by page. */
  private readAs(i: number, va: bigint, length: number, op: "read" | "fetch"): { bytes: Uint8Array; faultAt?: bigint } {
    const out: number[] = [];
    let at = va;
    while (out.length < length) {
      const a = BigInt.asUintN(64, at);
      const t = this.debugTranslate(i, a, op);
      const n = Math.min(length - out.length, Number(0x1000n - (a & 0xfffn)));
      const bytes = t && (t.cacheable ? this.readPhysical(t.pa, n) : readRam(this.m.memory, t.pa, n));
      if (!bytes) return { bytes: Uint8Array.from(out), faultAt: a };
      out.push(...bytes);
      at += BigInt(n);
    }
    return { bytes: Uint8Array.from(out) };
  }

  readVirtual(i: number, va: bigint, length: number): { bytes: Uint8Array; faultAt?: bigint } {
    return this.readAs(i, va, length, "read");
  }

  /** Writes through the MMU, to RAM and to every cached copy of the bytes, so that every reader sees them (as a debugger's write should). */
  writeVirtual(i: number, va: bigint, bytes: Uint8Array): boolean {
    // Translate every page first, so that a failing write changes nothing.
    const pieces: [bigint, Uint8Array][] = [];
    for (let done = 0; done < bytes.length;) {
      const a = BigInt.asUintN(64, va + BigInt(done));
      const t = this.debugTranslate(i, a);
      const n = Math.min(bytes.length - done, Number(0x1000n - (a & 0xfffn)));
      if (!t || !readRam(this.m.memory, t.pa, n)) return false;
      pieces.push([t.pa, bytes.subarray(done, done + n)]);
      done += n;
    }
    const mem = new Uint8Array(this.m.hw.memory.buffer);
    for (const [pa, b] of pieces) {
      this.m.memory.write(pa, b);
      b.forEach((byte, k) => {
        const at = pa + BigInt(k);
        for (const line of this.cachedCopies(at)) mem[line.at + 16 + Number(at & 63n)] = byte;
      });
    }
    return true;
  }

  physicalAddress(i: number, va: bigint): bigint | undefined {
    return this.debugTranslate(i, va)?.pa;
  }

  /**
   * Physical bytes as a cacheable access (and the table walker) sees them:
   * a dirty L1 copy, else the system cache's, else RAM (arm/cache.ts
   * coherentRead64).
   */
  readPhysical(pa: bigint, length: number): Uint8Array | undefined {
    const bytes = readRam(this.m.memory, pa, length);
    if (!bytes || !this.m.options.caches) return bytes;
    const mem = new Uint8Array(this.m.hw.memory.buffer);
    for (let k = 0; k < bytes.length; k++) {
      const at = pa + BigInt(k);
      const copies = this.cachedCopies(at);
      const line = copies.find((c) => c.dirty && c.l1) ?? copies.find((c) => !c.l1);
      if (line) bytes[k] = mem[line.at + 16 + Number(at & 63n)]!;
    }
    return bytes;
  }

  /** The line records (tag u64 with valid 1 and dirty 2, victim u64, 64 data bytes) holding pa's line: the L1s, then the system cache. */
  private cachedCopies(pa: bigint): { at: number; dirty: boolean; l1: boolean }[] {
    const caches = this.m.options.caches;
    if (!caches) return [];
    const line = pa & ~63n;
    const view = new DataView(this.m.hw.memory.buffer);
    const out: { at: number; dirty: boolean; l1: boolean }[] = [];
    const look = (cpu: number, sets: number, ways: number) => {
      const set = Number((line >> 6n) & BigInt(sets - 1));
      for (let way = 0; way < ways; way++) {
        const at = this.m.hw.cacheLine(cpu, set, way);
        if (!at) continue;
        const tag = view.getBigUint64(at, true);
        if (tag & 1n && (tag & ~63n) === line) out.push({ at, dirty: (tag & 2n) !== 0n, l1: cpu !== 0xffff_ffff });
      }
    };
    for (let c = 0; c < this.cpuCount; c++) look(c, caches.l1.sets, caches.l1.ways);
    look(0xffff_ffff, caches.system.sets, caches.system.ways);
    return out;
  }

  /**
   * The u64 at pa as the table walker sees it: the data caches are coherent
   * with each other and the walker reads through them, so a line held in an
   * L1 or the system cache wins over RAM.
   */
  coherentRead64(pa: bigint): bigint | undefined {
    const bytes = this.readPhysical(pa & ~7n, 8);
    return bytes && new DataView(bytes.buffer).getBigUint64(0, true);
  }

  /**
   * The stage-1 descriptors for va from the tables in memory (TTBR0/1 by
   * bit 55, T0SZ/T1SZ, 4 KiB granule). Under stage 2 (HCR_EL2.VM) the
   * table addresses are IPAs: each table is read at the machine address
   * the stage-2 walk gives its IPA (arm-stage2.ts), which is the address
   * shown for its entry, and a block or page shows its IPA's PA too.
   */
  private descriptors(i: number, va: bigint): { root: string; levels: (WalkLevel & { level: number; kind: string; out: bigint })[]; stop?: string } {
    const r = this.cpu(i).registers;
    const upper = (va >> 55n) & 1n;
    const tsz = Number(upper ? (r.tcr_el1 >> 16n) & 0x3fn : r.tcr_el1 & 0x3fn);
    const ttbr = upper ? r.ttbr1_el1 : r.ttbr0_el1;
    const asid = (r.tcr_el1 >> 22n) & 1n ? r.ttbr1_el1 >> 48n : r.ttbr0_el1 >> 48n;
    const nested = (r.hcr_el2 & 1n) !== 0n;
    const s2 = nested ? `; stage 2 VTTBR_EL2 ${hex(r.vttbr_el2)} (VMID ${r.vttbr_el2 >> 48n}): table addresses are IPAs` : "";
    const root = `TTBR${upper}_EL1 ${hex(ttbr)} (ASID ${asid}, T${upper}SZ ${tsz}${s2})`;
    const read64 = (pa: bigint) => this.coherentRead64(pa);
    // Through the valid bits Xen clears: the tables are where the guest's next walk will find them (throughClearedValidBits).
    const machine = (ipa: bigint): { pa?: bigint; stop?: string; clearedAt?: number } => (nested ? stage2Walk(read64, r.vttbr_el2, r.vtcr_el2, ipa, true) : { pa: ipa });
    const cleared = (w: { clearedAt?: number }) => (w.clearedAt === undefined ? "" : ` (stage-2 valid bit clear at level ${w.clearedAt}: the access faults to the hypervisor first)`);
    if (!(r.sctlr_el1 & 1n)) {
      // DDI0487 D8.2.10: with the stage-1 MMU off, the IPA is the VA.
      const flat = "SCTLR_EL1.M is 0: stage 1 is off, the IPA is the VA";
      if (!nested) return { root, levels: [], stop: flat };
      const s2 = machine(va);
      return { root, levels: [], stop: `${flat}; IPA ${hex(va)} → ${s2.pa !== undefined ? `PA ${hex(s2.pa)}${cleared(s2)}` : `stage 2: ${s2.stop}`}` };
    }
    const epd = upper ? (r.tcr_el1 >> 23n) & 1n : (r.tcr_el1 >> 7n) & 1n;
    if (epd) return { root, levels: [], stop: `TCR_EL1.EPD${upper} is set: walks through TTBR${upper} fault` };
    const inputBits = 64 - tsz;
    const start = 4 - Math.ceil((inputBits - 12) / 9);
    let table = ttbr & OA_MASK;
    const levels: (WalkLevel & { level: number; kind: string; out: bigint })[] = [];
    for (let level = start; level <= 3; level++) {
      const width = level === start ? BigInt(inputBits) - LEVEL_SHIFT(level) : 9n;
      const index = (va >> LEVEL_SHIFT(level)) & ((1n << width) - 1n);
      const entryIpa = table + 8n * index;
      const at = machine(entryIpa);
      if (at.pa === undefined) return { root, levels, stop: `the level ${level} table entry's IPA ${hex(entryIpa)} does not translate: ${at.stop}` };
      const entryPa = at.pa;
      const value = this.coherentRead64(entryPa);
      if (value === undefined) return { root, levels, stop: `the level ${level} table entry at ${hex(entryPa)} is outside RAM` };
      const d = decodeDescriptor(level, value);
      let decoded = d.text + cleared(at);
      if (nested && d.kind === "table") decoded = decoded.replace("→ table", "→ table IPA");
      if (nested && (d.kind === "block" || d.kind === "page")) {
        // Stage 2 maps pages of its own, so the block's base says nothing of where va lands: its IPA does.
        const ipa = d.out | (va & ((1n << LEVEL_SHIFT(level)) - 1n));
        const leaf = machine(ipa);
        decoded = `${decoded.replace("→", "→ IPA")}; IPA ${hex(ipa)} → ${leaf.pa !== undefined ? `PA ${hex(leaf.pa)}${cleared(leaf)}` : `stage 2: ${leaf.stop}`}`;
      }
      levels.push({ name: `L${level}`, level, entryPa, value, decoded, kind: d.kind, out: d.out });
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
    return tlbEntries(this.m, this.pcpu(i, "a TLB", "tlb"), dead).map((e): TlbEntryView => {
      const kind = STRUCTURES[e.structure]!;
      const space = (e.ctx >> 16) & 0xff;
      const pa = kind.tlb ? e.out & OA_MASK & ~((1n << LEVEL_SHIFT(kind.level)) - 1n) : e.out & OA_MASK;
      const tags = [e.global ? "global" : `ASID ${e.asid}`, `VMID ${e.ctx & 0xffff}`, ...(space === 1 ? ["stage 2"] : space === 2 ? ["EL2"] : [])].join(" ");
      const a = e.attrs;
      const perms = kind.tlb
        ? [a & 2 ? "RO" : "RW", a & 1 ? "EL0" : "EL1", a & 8 ? "PXN" : "", a & 4 ? "UXN" : "", a & 16 ? "DBM" : ""].filter(Boolean).join(" ")
        : "";
      // A stage-2 entry is checked against the stage 2 the pCPU has loaded, when it is its VMID's.
      const r = this.cpu(i).registers;
      const ownStage2 = space === 1 && (r.hcr_el2 & 1n) !== 0n && (e.ctx & 0xffff) === Number(r.vttbr_el2 >> 48n);
      const stale = !e.live ? "dead" as const
        : ownStage2 ? this.stage2Staleness(i, e.tag, kind.level, kind.tlb, pa)
        : e.current ? this.staleness(i, e.tag, kind.level, kind.tlb, pa) : "unknown" as const;
      return { structure: kind.name, index: e.index, va: e.tag, pa, size: kind.size, tags, global: e.global, perms, stale };
    });
  }

  /**
   * Compares a stage-1 entry with a fresh walk. Under stage 2 a TLB entry
   * holds the whole translation (VA → PA, as small as the smaller of the
   * two stages' pages) and a walk-cache entry the PA of the next stage-1
   * table, so the walk's IPAs go through the stage 2 as the hardware sees
   * it now (a cleared valid bit is a fault, which a live entry hides).
   */
  private staleness(i: number, va: bigint, level: number, isTlb: boolean, pa: bigint): TlbEntryView["stale"] {
    const { levels } = this.descriptors(i, va);
    const r = this.cpu(i).registers;
    if (r.hcr_el2 & 1n) {
      const s2 = (ipa: bigint) => stage2Walk((x) => this.coherentRead64(x), r.vttbr_el2, r.vtcr_el2, ipa);
      if (isTlb) {
        const leaf = levels.at(-1);
        if (!leaf || (leaf.kind !== "block" && leaf.kind !== "page")) return { why: `the walk now ends ${leaf ? `at an ${leaf.kind} L${leaf.level} descriptor at ${hex(leaf.entryPa)}` : "before any descriptor"}` };
        const w = s2(leaf.out | (va & ((1n << LEVEL_SHIFT(leaf.level)) - 1n)));
        if (w.pa === undefined) return { why: `stage 2: ${w.stop}` };
        const now = w.pa & ~((1n << LEVEL_SHIFT(level)) - 1n);
        return now === pa ? "fresh" : { why: `the walk now ends at ${hex(now)} (L${leaf.level} descriptor at ${hex(leaf.entryPa)}, then stage 2)` };
      }
      const at = levels.find((l) => l.level === level);
      if (!at || at.kind !== "table") return { why: at ? `the L${level} descriptor at ${hex(at.entryPa)} is no longer a table` : "the walk now ends above this level" };
      const w = s2(at.out);
      if (w.pa === undefined) return { why: `the table ${hex(at.out)} the L${level} descriptor points to: stage 2: ${w.stop}` };
      return w.pa === pa ? "fresh" : { why: `the L${level} descriptor at ${hex(at.entryPa)} now points to IPA ${hex(at.out)}, PA ${hex(w.pa)}` };
    }
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

  /** Compares a stage-2 entry (IPA → PA, or a stage-2 table) with a fresh stage-2 walk. */
  private stage2Staleness(i: number, ipa: bigint, level: number, isTlb: boolean, pa: bigint): TlbEntryView["stale"] {
    const r = this.cpu(i).registers;
    const w = stage2Walk((x) => this.coherentRead64(x), r.vttbr_el2, r.vtcr_el2, ipa);
    const at = w.steps.find((s) => s.level === level);
    if (!at) return { why: `the stage-2 walk now ends above level ${level}${w.stop ? ` (${w.stop})` : ""}` };
    if (!(at.value & 1n)) return { why: `the stage-2 level ${level} entry at ${hex(at.entryPa)} is now invalid` };
    const table = level < 3 && (at.value & 2n) !== 0n;
    if (isTlb) {
      if (table) return { why: "the stage 2 now maps this IPA with another block size" };
      const now = at.value & OA_MASK & ~((1n << LEVEL_SHIFT(level)) - 1n);
      return now === pa ? "fresh" : { why: `the stage-2 level ${level} entry at ${hex(at.entryPa)} now maps ${hex(now)}` };
    }
    if (!table) return { why: `the stage-2 level ${level} entry at ${hex(at.entryPa)} is no longer a table` };
    const now = at.value & OA_MASK;
    return now === pa ? "fresh" : { why: `the stage-2 level ${level} entry at ${hex(at.entryPa)} now points to ${hex(now)}` };
  }

  /**
   * The data-cache lines of the L1 of the pCPU thread i runs on, then of
   * the shared system cache, by set and way (arm/cache.ts's line records,
   * read in place through the hardware's debug export, cacheLine): the
   * dirty ones, or with `all` every valid one.
   */
  cache(i: number, all = false): CacheLineView[] {
    const caches = this.m.options.caches;
    if (!caches) throw new ShootdownError("this machine models no data caches (caches: false)");
    if (i < 0 || i >= this.threadCount()) throw new ShootdownError(`no CPU ${i}`);
    const cpu = this.pcpu(i, "an L1 data cache", "cache");
    const view = new DataView(this.m.hw.memory.buffer);
    const out: CacheLineView[] = [];
    const scan = (owner: number, level: CacheLineView["level"], sets: number, ways: number) => {
      for (let set = 0; set < sets; set++) {
        for (let way = 0; way < ways; way++) {
          const at = this.m.hw.cacheLine(owner, set, way);
          if (!at) continue;
          const tag = view.getBigUint64(at, true);
          if (!(tag & LINE_VALID) || (!all && !(tag & LINE_DIRTY))) continue;
          const bytes = new Uint8Array(this.m.hw.memory.buffer, at + 16, 64).slice();
          out.push({ level, set, way, pa: tag & ~63n, dirty: (tag & LINE_DIRTY) !== 0n, ramNewer: (tag & LINE_NC_NEWER) !== 0n, bytes });
        }
      }
    };
    scan(cpu, "L1", caches.l1.sets, caches.l1.ways);
    scan(0xffff_ffff, "system", caches.system.sets, caches.system.ways);
    return out;
  }

  /** The debugger's threads: the CPUs, or the vCPUs then the pCPUs. */
  private threadCount(): number {
    return (this.platform.vcpus()?.list().length ?? 0) + this.cpuCount;
  }

  /** One instruction at va, fetched as the CPU would fetch it (through the caches when the fetch is cacheable). */
  disassembleOne(i: number, va: bigint): { length: number; bytes: Uint8Array; text: string } | undefined {
    const { bytes } = this.readAs(i, va, 4, "fetch");
    if (bytes.length < 4) return undefined;
    return { length: 4, bytes, text: disassembleA64(bytes, va, this.symbols) };
  }
}

/** An A64 instruction as objdump prints it, branch targets by symbol. */
export function disassembleA64(bytes: Uint8Array, pc: bigint, symbols: SymbolLookup): string {
  const names = { objdump: (a: bigint) => symbols.objdump(a), source: (a: bigint) => hex(a) };
  const d = backendFor("aarch64").decode(bytes, 0, pc, names);
  return d.unknown ? "(bad)" : d.text.replace(/\s+/g, " ").trim();
}

