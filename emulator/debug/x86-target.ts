// SPDX-License-Identifier: MIT
//
// The x86-64 side of the debugger: a machine booted as `shootdown run` boots
// it (x86-boot.ts), its devices (devices.ts), and what the REPL and the gdb
// stub read of it. Registers follow gdb's amd64 description
// (org.gnu.gdb.i386.core, .segments) with the paging registers in a feature
// of our own; the x87 registers gdb's core feature requires read as zero,
// since the CPU models no x87.

import type { Machine } from "../machine/core/machine.ts";
import { programOf } from "../machine/core/elf-load.ts";
import { instructionBytes, type X86Platform } from "../machine/platform/x86/platform.ts";
import { ShootdownError } from "../machine/core/errors.ts";
import { currentContext, tlbEntries, readRam } from "./tlb-dump.ts";
import type { X86Cpu, X86State, GprName, X86RegisterFile } from "../machine/cpu/x86-cpu.ts";
import { OffCpuVcpu } from "./off-cpu.ts";
import { eptWalk, guestWalk, type GuestWalk } from "./ept-walk.ts";
import { combinedStaleness, eptPerms, guestPhysicalStaleness, rightsChange } from "./x86-ept-tlb.ts";
import { Threads } from "./threads.ts";
import { backendFor, SymbolLookup, type ProgramSymbol } from "../../asm/index.ts";
import {
  hex, type CacheLineView, type DebugTarget, type RegisterInfo, type TlbEntryView,
  type WalkLevel, type WalkOp, type WalkPriv, type WalkView,
} from "./target.ts";

const CORE = "org.gnu.gdb.i386.core";
const SEGMENTS = "org.gnu.gdb.i386.segments";
const SYSTEM = "org.shootdown.x86.paging";

type Source =
  | { gpr: GprName }
  | { state: "rip" | "rflags" | "cs" | "ss" | "fsBase" | "gsBase" }
  | { zero: true }
  | { cr: "cr0" | "cr2" | "cr3" | "cr4" | "efer" | "pkru" };

interface X86Register extends RegisterInfo {
  source: Source;
}

const reg = (name: string, bits: number, feature: string, type: string, group: RegisterInfo["group"], source: Source): X86Register =>
  ({ name, bits, feature, type, group, source });

/** gdb's amd64 register order (gdb/features/i386/64bit-core.xml), then the segment bases, then ours. */
const REGISTERS: X86Register[] = [
  ...(["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"] as GprName[])
    .map((g) => reg(g, 64, CORE, g === "rbp" || g === "rsp" ? "data_ptr" : "int64", "general", { gpr: g })),
  reg("rip", 64, CORE, "code_ptr", "general", { state: "rip" }),
  reg("eflags", 32, CORE, "i386_eflags", "general", { state: "rflags" }),
  reg("cs", 32, CORE, "int32", "general", { state: "cs" }),
  reg("ss", 32, CORE, "int32", "general", { state: "ss" }),
  ...["ds", "es", "fs", "gs"].map((s) => reg(s, 32, CORE, "int32", "general", { zero: true })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => reg(`st${i}`, 80, CORE, "i387_ext", "float", { zero: true })),
  ...["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"].map((n) => reg(n, 32, CORE, "int", "float", { zero: true })),
  reg("fs_base", 64, SEGMENTS, "int", "general", { state: "fsBase" }),
  reg("gs_base", 64, SEGMENTS, "int", "general", { state: "gsBase" }),
  reg("cr0", 64, SYSTEM, "int", "system", { cr: "cr0" }),
  reg("cr2", 64, SYSTEM, "int", "system", { cr: "cr2" }),
  reg("cr3", 64, SYSTEM, "int", "system", { cr: "cr3" }),
  reg("cr4", 64, SYSTEM, "int", "system", { cr: "cr4" }),
  reg("efer", 64, SYSTEM, "int", "system", { cr: "efer" }),
  reg("pkru", 32, SYSTEM, "int", "system", { cr: "pkru" }),
];

const EFLAGS_FIELDS: [string, number][] = [
  ["CF", 0], ["PF", 2], ["AF", 4], ["ZF", 6], ["SF", 7], ["TF", 8], ["IF", 9], ["DF", 10], ["OF", 11], ["NT", 14], ["RF", 16],
  ["VM", 17], ["AC", 18], ["VIF", 19], ["VIP", 20], ["ID", 21],
];

export function x86TargetXml(): string {
  const lines = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', "<target>", "<architecture>i386:x86-64</architecture>"];
  let feature = "";
  REGISTERS.forEach((r, i) => {
    if (r.feature !== feature) {
      if (feature) lines.push("</feature>");
      feature = r.feature;
      lines.push(`<feature name="${feature}">`);
      if (feature === CORE) {
        lines.push('<flags id="i386_eflags" size="4">');
        for (const [name, bit] of EFLAGS_FIELDS) lines.push(`<field name="${name}" start="${bit}" end="${bit}"/>`);
        lines.push("</flags>");
      }
    }
    const group = r.group === "system" ? ' group="system"' : r.group === "float" ? ' group="float"' : "";
    lines.push(`<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${i}"${group}/>`);
  });
  lines.push("</feature>", "</target>");
  return lines.join("\n");
}

/** Page-table entry bits (SDM Vol.3A tables 4-15 to 4-20). */
const PTE_P = 1n;
const PTE_RW = 2n;
const PTE_US = 4n;
const PTE_PWT = 8n;
const PTE_PCD = 0x10n;
const PTE_A = 0x20n;
const PTE_D = 0x40n;
const PTE_PS = 0x80n;
const PTE_G = 0x100n;
const PTE_XD = 1n << 63n;
const ADDR_MASK = 0x000f_ffff_ffff_f000n;
const LEVEL_NAMES: Record<number, string> = { 5: "PML5E", 4: "PML4E", 3: "PDPTE", 2: "PDE", 1: "PTE" };
/** The walk-cache structures (layout.ts STRUCT_PSC_*) and the level of the entry each holds. */
const STRUCTURES = [
  { name: "TLB 4K", level: 1, size: "4K" }, { name: "TLB 2M", level: 2, size: "2M" }, { name: "TLB 1G", level: 3, size: "1G" },
  { name: "PDE cache", level: 2, size: "2M" }, { name: "PDPTE cache", level: 3, size: "1G" },
  { name: "PML4E cache", level: 4, size: "512G" }, { name: "PML5E cache", level: 5, size: "256T" },
];
const PAGE_SHIFT: Record<number, bigint> = { 1: 12n, 2: 21n, 3: 30n };

/** An entry's bits in words: "P RW US A D PS G XD". */
function decodeEntry(level: number, value: bigint): string {
  if (!(value & PTE_P)) return "not present";
  const bits: string[] = ["P"];
  if (value & PTE_RW) bits.push("RW");
  if (value & PTE_US) bits.push("US");
  if (value & PTE_PWT) bits.push("PWT");
  if (value & PTE_PCD) bits.push("PCD");
  if (value & PTE_A) bits.push("A");
  const leaf = level === 1 || ((level === 2 || level === 3) && (value & PTE_PS) !== 0n);
  if (leaf && value & PTE_D) bits.push("D");
  if (level !== 1 && value & PTE_PS) bits.push("PS");
  if (leaf && value & PTE_G) bits.push("G");
  if (value & PTE_XD) bits.push("XD");
  if (leaf) {
    const shift = PAGE_SHIFT[level]!;
    const frame = value & ADDR_MASK & ~((1n << shift) - 1n);
    const pkey = (value >> 59n) & 0xfn;
    return `${bits.join(" ")}${pkey ? ` PKEY=${pkey}` : ""} → frame ${hex(frame)}`;
  }
  return `${bits.join(" ")} → table ${hex(value & ADDR_MASK)}`;
}

export class X86Target implements DebugTarget {
  readonly arch = "x86_64" as const;
  readonly m: Machine;
  readonly symbols: SymbolLookup;
  readonly symbolTable: readonly ProgramSymbol[];
  private readonly xml = x86TargetXml();

  constructor(readonly platform: X86Platform) {
    this.m = platform.m;
    const program = programOf(platform.plan);
    this.symbols = new SymbolLookup(program);
    this.symbolTable = program.symbols;
    this.threads = new Threads(platform);
  }

  get cpuCount(): number {
    return this.m.cpus.length;
  }

  /**
   * Thread i: CPU i, or under a hypervisor vCPU i (Platform.vcpus), read
   * from the pCPU it runs on or, off every pCPU, from the registers the
   * hypervisor keeps of it, its memory through its own page tables.
   */
  private cpu(i: number): X86Cpu | OffCpuVcpu {
    const off = this.threads.off(i);
    if (!off) return this.m.cpu(this.pcpuOf(i)!);
    if (!off.file) throw new ShootdownError(`${off.info.name} is ${off.info.state} and has no registers yet (VCPUOP_initialise gives it some)`);
    return new OffCpuVcpu(off.file, this.m.cpu(0), off.write);
  }

  private readonly threads: Threads<X86RegisterFile>;

  /** The pCPU thread i runs on: i itself without a hypervisor; undefined for a vCPU off every pCPU. */
  private pcpuOf(i: number): number | undefined {
    return this.threads.pcpuOf(i);
  }

  registers(): readonly RegisterInfo[] {
    return REGISTERS;
  }

  readRegisters(i: number): bigint[] {
    const cpu = this.cpu(i);
    const s = cpu.state;
    const r = cpu.registers;
    return REGISTERS.map(({ source }) => {
      if ("gpr" in source) return s[source.gpr];
      if ("state" in source) return BigInt(s[source.state]);
      if ("cr" in source) return r[source.cr];
      return 0n;
    });
  }

  writeRegister(i: number, index: number, value: bigint): boolean {
    const r = REGISTERS[index];
    if (!r) return false;
    const cpu = this.cpu(i);
    const v = BigInt.asUintN(r.bits > 64 ? 64 : r.bits, value);
    const { source } = r;
    let kept: boolean | void = true;
    if ("gpr" in source) kept = cpu.setState({ [source.gpr]: v } as Partial<X86State>);
    else if ("state" in source) {
      if (source.state === "cs" || source.state === "ss") kept = cpu.setState({ [source.state]: Number(v & 0xffffn) });
      else kept = cpu.setState({ [source.state]: v });
    } else if ("cr" in source) kept = cpu.setRegisters({ [source.cr]: v });
    // The x87 and data-segment registers are not modelled: a write is accepted and changes nothing.
    return kept !== false;
  }

  /** RIP read straight from the CPU block: cpu.state would materialise the lazy flags, which the state hash sees. */
  pc(i: number): bigint {
    const on = this.pcpuOf(i);
    if (on !== undefined) return this.platform.pc(on);
    return this.cpu(i).state.rip;
  }

  systemRegisterLines(i: number): string[] {
    const cpu = this.cpu(i);
    const r = cpu.registers;
    const s = cpu.state;
    const flags = (v: bigint, names: [string, number][]) => names.filter(([, b]) => (v >> BigInt(b)) & 1n).map(([n]) => n).join(" ");
    const pcide = (r.cr4 >> 17n) & 1n;
    return [
      `cr0  ${hex(r.cr0).padEnd(18)} ${flags(r.cr0, [["PE", 0], ["WP", 16], ["AM", 18], ["CD", 30], ["PG", 31]])}`,
      `cr2  ${hex(r.cr2)}`,
      `cr3  ${hex(r.cr3).padEnd(18)} table ${hex(r.cr3 & ADDR_MASK)}${pcide ? ` PCID ${r.cr3 & 0xfffn}` : ""}`,
      `cr4  ${hex(r.cr4).padEnd(18)} ${flags(r.cr4, [["PAE", 5], ["PGE", 7], ["LA57", 12], ["PCIDE", 17], ["SMEP", 20], ["SMAP", 21], ["PKE", 22]])}`,
      `efer ${hex(r.efer).padEnd(18)} ${flags(r.efer, [["SCE", 0], ["LME", 8], ["LMA", 10], ["NXE", 11]])}`,
      `pkru ${hex(r.pkru)}`,
      `cpl ${s.cpl}  cs ${hex(s.cs)}  ss ${hex(s.ss)}  gdtr ${hex(s.gdtrBase)}/${hex(s.gdtrLimit)}  idtr ${hex(s.idtrBase)}/${hex(s.idtrLimit)}`,
      ...this.vmxLines(cpu),
    ];
  }

  /** Under EPT, the VMCS fields that decide a translation (SDM Vol.3C 25.6.11, 29.1): VPID and EPTP. */
  private vmxLines(cpu: X86Cpu | OffCpuVcpu): string[] {
    const { vpid, eptp } = cpu.vmx;
    if (!eptp) return [];
    return [`vpid ${vpid}  eptp ${hex(eptp)}  EPT PML4 ${hex(eptp & ADDR_MASK)}, ${((eptp >> 3n) & 7n) + 1n}-level${(eptp >> 6n) & 1n ? ", A/D" : ""}`];
  }

  targetXml(): string {
    return this.xml;
  }

  /** A vCPU is there for good (down or not); a CPU until it stops. */
  live(i: number): boolean {
    const on = this.pcpuOf(i);
    if (on === undefined) return true;
    return !this.m.cpu(on).progress.stopped;
  }

  idle(i: number): boolean {
    const on = this.pcpuOf(i);
    return on === undefined || this.m.cpu(on).progress.halted;
  }

  /** The instructions of the CPU thread i runs on (0 for a vCPU off every pCPU). */
  instructions(i: number): bigint {
    const on = this.pcpuOf(i);
    return on === undefined ? 0n : this.m.cpu(on).progress.instructions;
  }

  /** As `shootdown run` reports it. */
  stateHash(): bigint {
    return this.platform.stateHash();
  }

  /** The PA of va for a debugger's read: as the kernel would, else as the user would (SMAP). */
  private debugTranslate(cpu: X86Cpu | OffCpuVcpu, va: bigint): bigint | undefined {
    for (const priv of ["kernel", "user"] as const) {
      const t = cpu.peek(va, { op: "read", priv });
      if (t.ok) return t.pa;
    }
    return undefined;
  }

  readVirtual(i: number, va: bigint, length: number): { bytes: Uint8Array; faultAt?: bigint } {
    const cpu = this.cpu(i);
    const out: number[] = [];
    let at = va;
    while (out.length < length) {
      const a = BigInt.asUintN(64, at);
      const pa = this.debugTranslate(cpu, a);
      if (pa === undefined) return { bytes: Uint8Array.from(out), faultAt: a };
      const n = Math.min(length - out.length, Number(0x1000n - (a & 0xfffn)));
      const bytes = this.readPhysical(pa, n);
      if (!bytes) return { bytes: Uint8Array.from(out), faultAt: a };
      out.push(...bytes);
      at += BigInt(n);
    }
    return { bytes: Uint8Array.from(out) };
  }

  writeVirtual(i: number, va: bigint, bytes: Uint8Array): boolean {
    const cpu = this.cpu(i);
    // Translate every page first, so that a failing write changes nothing.
    const pieces: [bigint, Uint8Array][] = [];
    for (let done = 0; done < bytes.length;) {
      const a = BigInt.asUintN(64, va + BigInt(done));
      const pa = this.debugTranslate(cpu, a);
      if (pa === undefined || !this.eptAllowsWrite(cpu, a)) return false;
      const n = Math.min(bytes.length - done, Number(0x1000n - (a & 0xfffn)));
      if (!this.readPhysical(pa, n)) return false;
      pieces.push([pa, bytes.subarray(done, done + n)]);
      done += n;
    }
    for (const [pa, b] of pieces) this.m.memory.write(pa, b);
    return true;
  }

  physicalAddress(i: number, va: bigint): bigint | undefined {
    return this.debugTranslate(this.cpu(i), BigInt.asUintN(64, va));
  }

  readPhysical(pa: bigint, length: number): Uint8Array | undefined {
    return readRam(this.m.memory, pa, length);
  }

  private readonly read64 = (pa: bigint) => this.m.memory.peek64(pa);

  /** Under EPT (eptp not 0): va through the guest's tables to its GPA, and through EPT to the machine. */
  private guestWalk(cpu: X86Cpu | OffCpuVcpu, eptp: bigint, va: bigint): GuestWalk {
    const r = cpu.registers;
    if (!((r.cr0 >> 31n) & 1n)) {
      // SDM Vol.3A 4.1.1: with CR0.PG clear the linear address is the guest-physical one; EPT still applies.
      const end = eptWalk(this.read64, eptp, va);
      return { steps: [], gpa: va, ...(end.pa !== undefined ? { pa: end.pa } : { stop: `GPA ${hex(va)} does not translate: ${end.stop}` }) };
    }
    return guestWalk(this.read64, eptp, r.cr3, (r.cr4 >> 12n) & 1n ? 5 : 4, va);
  }

  /**
   * May the debugger write va's page? Not when EPT keeps the guest from
   * writing its frame (a shared page, read-only until the copy on write):
   * Xen's debugger refuses a write to a read-only p2m type
   * (dbg_hvm_va2mfn), so nothing writes behind the copy on write into a
   * frame other domains share. Guest page protections do not stop it.
   */
  private eptAllowsWrite(cpu: X86Cpu | OffCpuVcpu, va: bigint): boolean {
    const { eptp } = cpu.vmx;
    if (!eptp) return true;
    const w = this.guestWalk(cpu, eptp, va);
    return w.gpa !== undefined && (eptWalk(this.read64, eptp, w.gpa).rights ?? "").includes("W");
  }

  /** The tables the walk of va reads: from memory as they are, or, under EPT, the guest's each where EPT puts it. */
  private walkLevels(cpu: X86Cpu | OffCpuVcpu, va: bigint): { levels: WalkLevel[]; stop?: string } {
    const { eptp } = cpu.vmx;
    if (eptp) {
      const w = this.guestWalk(cpu, eptp, va);
      if (!((cpu.registers.cr0 >> 31n) & 1n)) return { levels: [], stop: `CR0.PG is 0: the GPA is the linear address; GPA ${hex(va)} → ${w.pa !== undefined ? `PA ${hex(w.pa)}` : `EPT: ${w.stop}`}` };
      const levels = w.steps.map((s): WalkLevel => {
        let decoded = decodeEntry(s.level, s.value).replace(/→ (table|frame)/, "→ $1 GPA");
        if (s.leaf && w.gpa !== undefined) decoded += `; GPA ${hex(w.gpa)} → ${w.pa !== undefined ? `PA ${hex(w.pa)}` : "EPT: no machine address"}`;
        return { name: s.name, entryPa: s.entryPa, value: s.value, decoded };
      });
      return { levels, ...(w.stop ? { stop: w.stop } : {}) };
    }
    const w = cpu.walkMemory(va);
    const levels: WalkLevel[] = w.steps.map((s) => ({
      name: LEVEL_NAMES[s.level] ?? `L${s.level}`, entryPa: s.entryPa, value: s.value,
      decoded: w.stop === "bus-error" && s === w.steps.at(-1) ? "outside RAM" : decodeEntry(s.level, s.value),
    }));
    const stop = w.stop === "leaf" ? undefined : { "bus-error": "the entry is outside RAM", "not-present": "the entry is not present", "reserved-bit": "a reserved bit is set" }[w.stop];
    return { levels, ...(stop ? { stop } : {}) };
  }

  walk(i: number, va: bigint, op: WalkOp, priv: WalkPriv): WalkView {
    const cpu = this.cpu(i);
    const r = cpu.registers;
    const { vpid, eptp } = cpu.vmx;
    const pcid = (r.cr4 >> 17n) & 1n ? ` PCID ${r.cr3 & 0xfffn}` : "";
    // SDM Vol.3C 29.3.2: under EPT CR3 and every table address are guest-physical.
    const root = `CR3 ${hex(r.cr3)}${pcid}${eptp ? ` (VPID ${vpid}, EPTP ${hex(eptp)}: table addresses are GPAs, each entry shown at its machine address)` : ""}`;
    const t = cpu.peek(va, { op, priv }, { memoryOnly: true });
    if (!t.ok && t.fault.kind === "general-protection") {
      // A non-canonical address is refused before any table is read (SDM Vol.3A 4.5.4).
      const bits = (r.cr4 >> 12n) & 1n ? "63:56 must equal bit 56" : "63:47 must equal bit 47";
      return { va, root, levels: [], stop: `the address is not canonical (bits ${bits}): no walk`, decision: `${op} by ${priv}: #GP(0)`, ok: false };
    }
    const { levels, stop } = this.walkLevels(cpu, va);
    let decision: string;
    if (t.ok) {
      const rights = [t.writable ? "writable" : "read-only", t.user ? "user" : "supervisor", t.executeDisable ? "XD" : "executable"];
      decision = `${op} by ${priv}: allowed → PA ${hex(t.pa)} (${t.pageSize === 4096 ? "4K" : t.pageSize === 2 << 20 ? "2M" : "1G"} page, ${rights.join(", ")}${t.global ? ", global" : ""}, ${t.memoryType})`;
      return { va, root, levels, ...(stop ? { stop } : {}), decision, ok: true, pa: t.pa };
    }
    const f = t.fault;
    if (f.kind === "page-fault") {
      const e = f.errorCode;
      const bits = [e & 1 ? "P" : "", e & 2 ? "W" : "", e & 4 ? "U" : "", e & 8 ? "RSVD" : "", e & 16 ? "I" : "", e & 32 ? "PK" : ""].filter(Boolean);
      decision = `${op} by ${priv}: #PF, error code ${hex(e)} (${bits.join(" ") || "not present"})`;
    } else if (f.kind === "general-protection") {
      decision = `${op} by ${priv}: #GP(0) (non-canonical address)`;
    } else if (f.kind === "bus-error") {
      decision = `${op} by ${priv}: bus error at ${hex(f.address)}`;
    } else {
      decision = `${op} by ${priv}: ${f.kind === "ept-violation" ? "EPT violation" : "EPT misconfiguration"} at GPA ${hex(f.gpa)} (a VM exit to the hypervisor)`;
    }
    return { va, root, levels, ...(stop ? { stop } : {}), decision, ok: false };
  }

  tlb(thread: number, dead = false): TlbEntryView[] {
    const i = this.pcpuOf(thread);
    if (i === undefined) {
      const info = this.platform.vcpus()!.list()[thread]!;
      throw new ShootdownError(`${info.name} is off every pCPU (${info.state}): a TLB belongs to a pCPU (tlb pN shows pCPU N's)`);
    }
    const cpu = this.m.cpu(i);
    const L = this.m.layout;
    const { eptp } = cpu.vmx;
    const read64 = this.read64;
    // Under EPT the current entries are combined mappings, judged against the guest's walk through EPT (x86-ept-tlb.ts).
    const walks = new Map<bigint, ReturnType<X86Cpu["walkMemory"]>>();
    const guestWalks = new Map<bigint, GuestWalk>();
    const walkOf = (va: bigint) => {
      let w = walks.get(va);
      if (!w) walks.set(va, (w = cpu.walkMemory(va)));
      return w;
    };
    const guestWalkOf = (va: bigint) => {
      let w = guestWalks.get(va);
      if (!w) guestWalks.set(va, (w = this.guestWalk(cpu, eptp, va)));
      return w;
    };
    const eptSlot = currentContext(this.m, i) >>> 24;
    return tlbEntries(this.m, i, dead).map((e): TlbEntryView => {
      const kind = STRUCTURES[e.structure]!;
      const isTlb = e.structure < L.STRUCT_PSC_PDE;
      const vpid = e.ctx & 0xffff;
      const pa = isTlb ? e.out & ADDR_MASK & ~((1n << PAGE_SHIFT[kind.level]!) - 1n) : e.out & ADDR_MASK;
      const a = e.attrs;
      // A guest-physical mapping (GPA → machine, EPT's rights), judged when its EPT is the one the pCPU runs under.
      if (((e.ctx >> 16) & 0xff) === L.SPACE_S2) {
        const ownEpt = eptp !== 0n && e.ctx >>> 24 === eptSlot;
        const stale = !e.live ? "dead" as const : ownEpt ? guestPhysicalStaleness(read64, eptp, e.tag, kind.level, isTlb, pa, a) : "unknown" as const;
        return { structure: kind.name, index: e.index, va: e.tag, pa, size: kind.size, tags: "guest-physical EPT", global: e.global, perms: isTlb ? eptPerms(a) : "", stale };
      }
      const tags = [e.global ? "global" : `PCID ${e.asid}`, ...(vpid ? [`VPID ${vpid}`] : []), ...(e.ctx >>> 24 ? ["EPT"] : [])].join(" ");
      const perms = isTlb ? [a & 2 ? "RW" : "RO", a & 1 ? "U" : "S", a & 4 ? "XD" : "X", ...(a & 8 ? ["D"] : [])].join(" ") : "";
      const stale = !e.live ? "dead" as const
        : !e.current ? "unknown" as const
          : eptp ? combinedStaleness(guestWalkOf(e.tag), read64, eptp, kind.level, isTlb, pa, a)
            : this.staleness(walkOf(e.tag), kind.level, isTlb, pa, a);
      return { structure: kind.name, index: e.index, va: e.tag, pa, size: kind.size, tags, global: e.global, perms, stale };
    });
  }

  /** Compares an entry with what a walk of the tables in memory finds now. */
  private staleness(w: ReturnType<X86Cpu["walkMemory"]>, level: number, isTlb: boolean, pa: bigint, attrs: number): TlbEntryView["stale"] {
    const step = w.steps.find((s) => s.level === level);
    if (!step) {
      const last = w.steps.at(-1);
      return { why: last ? `the walk now stops at the ${LEVEL_NAMES[last.level]} (${w.stop.replace("-", " ")})` : "the walk finds nothing" };
    }
    if (!(step.value & PTE_P)) return { why: `the ${LEVEL_NAMES[level]} at ${hex(step.entryPa)} is now not present` };
    const leafHere = level === 1 || (step.value & PTE_PS) !== 0n;
    if (!isTlb) {
      if (leafHere) return { why: `the ${LEVEL_NAMES[level]} at ${hex(step.entryPa)} now maps a page` };
      const now = step.value & ADDR_MASK;
      return now === pa ? "fresh" : { why: `the ${LEVEL_NAMES[level]} at ${hex(step.entryPa)} now points to ${hex(now)}` };
    }
    if (!leafHere || w.stop !== "leaf" || w.steps.at(-1) !== step) return { why: `the tables now map this address with another page size` };
    const now = step.value & ADDR_MASK & ~((1n << PAGE_SHIFT[level]!) - 1n);
    if (now !== pa) return { why: `the ${LEVEL_NAMES[level]} at ${hex(step.entryPa)} now maps ${hex(now)}` };
    const why = rightsChange(w.steps.map((s) => s.value), attrs);
    return why ? { why } : "fresh";
  }

  cache(): CacheLineView[] {
    throw new ShootdownError("x86-64 machines model no data caches; `cache` shows the AArch64 L1s");
  }

  disassembleOne(i: number, va: bigint): { length: number; bytes: Uint8Array; text: string } | undefined {
    const bytes = instructionBytes(this.m, this.cpu(i), va);
    if (!bytes.length) return undefined;
    const names = { objdump: (a: bigint) => this.symbols.objdump(a), source: (a: bigint) => hex(a) };
    const d = backendFor("x86_64").decode(bytes, 0, va, names);
    const length = Math.min(d.length, bytes.length);
    return { length, bytes: bytes.subarray(0, length), text: d.unknown ? "(bad)" : d.text.replace(/\s+/g, " ").trim() };
  }
}
