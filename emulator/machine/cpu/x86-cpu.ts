// SPDX-License-Identifier: MIT
//
// One x86-64 CPU of a Machine: its paging registers, translation through its
// TLBs, the instructions that invalidate them, and its counters.

import { ShootdownError } from "../core/errors.ts";
import { TWO_64, budgetArg, ViewCache, type HwExports } from "../core/wasm.ts";
import type { Layout } from "../core/layout.ts";
import { readCounters, type Counters } from "../core/counters.ts";
import { lookThroughCpu } from "./look-through.ts";
import {
  encodeControls, mergeControls, decodeControls, encodeInjection, decodeEvent, readExitFields, decodeGuestExit,
  type X86GuestControls, type X86GuestExit, type GuestRegisters, type X86Injection, type X86Event,
} from "./x86-guest.ts";

export type { X86GuestControls, X86GuestExit, X86Injection, X86Event, X86EventType, X86VmExitInfo } from "./x86-guest.ts";

/** The paging-related registers of an x86-64 CPU. */
export interface X86Registers {
  cr0: bigint;
  cr2: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
  rflags: bigint;
  /** IA32_PAT. */
  pat: bigint;
  pkru: bigint;
}

export type AccessOp = "read" | "write" | "fetch";
/** Who makes the access: CPL 3, CPL 0–2, or the processor itself (an implicit supervisor-mode access). */
export type Privilege = "user" | "kernel" | "implicit";

export interface Access {
  op: AccessOp;
  priv: Privilege;
}

/** Memory types of the IA32_PAT encodings (SDM Vol.3A 12.12.2). */
export type MemoryType = "UC" | "WC" | "WT" | "WP" | "WB" | "UC-" | "reserved";
const MEMORY_TYPES: MemoryType[] = ["UC", "WC", "reserved", "reserved", "WT", "WP", "WB", "UC-"];

export interface X86Mapping {
  ok: true;
  pa: bigint;
  /** 4096, 2 MiB or 1 GiB. */
  pageSize: number;
  memoryType: MemoryType;
  /** Index into IA32_PAT built from PAT, PCD and PWT. */
  patIndex: number;
  global: boolean;
  /** U/S=1 at every level. */
  user: boolean;
  /** R/W=1 at every level. */
  writable: boolean;
  /** XD=1 at some level (effective only with EFER.NXE). */
  executeDisable: boolean;
  dirty: boolean;
  pkey: number;
}

export type X86Fault =
  | { kind: "page-fault"; vector: 14; errorCode: number; address: bigint; level: number }
  | { kind: "general-protection"; vector: 13; errorCode: 0; address: bigint }
  | { kind: "bus-error"; address: bigint; level: number }
  /** A VM exit for the hypervisor: EPT forbade the access (SDM Vol.3C 28.2.1 for the qualification). */
  | { kind: "ept-violation"; gpa: bigint; qualification: number; guestLinear: bigint; level: number }
  | { kind: "ept-misconfig"; gpa: bigint; guestLinear: bigint; level: number };

/** EPT violation exit-qualification bits. */
export const EPT_QUALIFICATION = {
  READ: 1 << 0,
  WRITE: 1 << 1,
  FETCH: 1 << 2,
  READABLE: 1 << 3,
  WRITABLE: 1 << 4,
  EXECUTABLE: 1 << 5,
  LINEAR_VALID: 1 << 7,
  /** The access was to the translation of the linear address, not to a guest paging-structure entry. */
  FINAL: 1 << 8,
} as const;

export enum InveptType {
  SingleContext = 1,
  AllContext = 2,
}

export enum InvvpidType {
  Address = 0,
  SingleContext = 1,
  AllContext = 2,
  SingleContextRetainingGlobals = 3,
}

export type X86Translation = X86Mapping | { ok: false; fault: X86Fault };

/** One descriptor a walk read. */
export interface X86WalkStep {
  /** 5 = PML5E, 4 = PML4E, 3 = PDPTE, 2 = PDE, 1 = PTE. */
  level: number;
  entryPa: bigint;
  value: bigint;
}

/** The tables in memory for an address, as the debugger's `walk` shows them. */
export interface X86MemoryWalk {
  steps: X86WalkStep[];
  /** Why the walk stopped: at a leaf, or at the last step's entry. */
  stop: "leaf" | "bus-error" | "not-present" | "reserved-bit";
}

/** What an instruction did: completed, or raised #GP(0). */
export type X86Outcome = "ok" | "#GP";

/** INVPCID types (SDM Vol.2A). */
export enum InvpcidType {
  Address = 0,
  SingleContext = 1,
  AllIncludingGlobal = 2,
  AllExcludingGlobal = 3,
}

/** The counters of an x86-64 CPU (see counters.ts). */
export type X86Counters = Counters;

/** General-purpose registers, in register-number order. */
export const GPR_NAMES = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"] as const;
export type GprName = (typeof GPR_NAMES)[number];
/** Each register's index, as a Map: one keyed read of an object by sixteen names is a megamorphic lookup. */
const GPR_INDEX = new Map<string, number>(GPR_NAMES.map((name, i) => [name, i]));
/** The same as constants, for gprAt (GPR.rdi): a hypercall's handler reads its arguments this way. */
export const GPR = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7, r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const satisfies Record<GprName, number>;

/** The execution state of an x86-64 CPU (the interpreter's registers). */
export interface X86State extends Record<GprName, bigint> {
  rip: bigint;
  /** RFLAGS with the arithmetic flags worked out. */
  rflags: bigint;
  cpl: number;
  cs: number;
  ss: number;
  fsBase: bigint;
  gsBase: bigint;
  kernelGsBase: bigint;
  gdtrBase: bigint;
  gdtrLimit: number;
  idtrBase: bigint;
  idtrLimit: number;
  tr: number;
  tssBase: bigint;
  star: bigint;
  lstar: bigint;
  cstar: bigint;
  fmask: bigint;
  apicBase: bigint;
}

/** Every register the debugger shows of an x86-64 CPU: what a hypervisor keeps of a vCPU while it is off every pCPU. */
export interface X86RegisterFile {
  state: X86State;
  registers: X86Registers;
  /** Under VMX: the VPID and EPTP the vCPU translates with (an HVM vCPU's; absent for a PV one, which has no EPT). */
  vmx?: X86VmxContext;
}

/** What X86Cpu.setVmx loads: the VPID (0: the host) and the EPT pointer (0: no EPT). */
export interface X86VmxContext {
  vpid: number;
  eptp: bigint;
}

/** Why run() returned, with what the host needs to act on it. */
export type X86Exit =
  /** The instruction budget is used up. */
  | { reason: "budget" }
  /** HLT with nothing to take: the CPU sleeps until an interrupt. */
  | { reason: "hlt" }
  /** IN or OUT; RIP is past the instruction. For IN the host puts the value in RAX (setState). */
  | { reason: "io"; port: number; size: 1 | 2 | 4; write: boolean; value: bigint; rip: bigint }
  /** VMCALL; RIP is past it. */
  | { reason: "vmcall"; rip: bigint }
  /** A fault while delivering #DF: the CPU is stopped. `vectors` are the exceptions that led there. */
  | { reason: "triple-fault"; rip: bigint; vectors: number[] }
  /** An access outside RAM: the CPU is stopped. */
  | { reason: "bus-error"; rip: bigint; address: bigint }
  /** RIP reached a breakpoint; the instruction there has not run. */
  | { reason: "breakpoint"; rip: bigint }
  /** The CPU was stopped before and does nothing. */
  | { reason: "stopped" }
  /** Not from the CPU: the hypervisor parked it (Platform.park) and it ran nothing. */
  | { reason: "parked" }
  /** In guest mode (setGuestControls), or under EPT: a VM exit, with `guest: true`. */
  | X86GuestExit;

type U64Field = Exclude<keyof X86State, GprName | "rflags" | "cpl" | "cs" | "ss" | "gdtrLimit" | "idtrLimit" | "tr">;
const STATE_U64: [U64Field, keyof Layout][] = [
  ["rip", "X86_RIP"], ["fsBase", "X86_FS_BASE"], ["gsBase", "X86_GS_BASE"], ["kernelGsBase", "X86_KERNEL_GS_BASE"],
  ["gdtrBase", "X86_GDTR_BASE"], ["idtrBase", "X86_IDTR_BASE"], ["tssBase", "X86_TSS_BASE"], ["star", "X86_STAR"],
  ["lstar", "X86_LSTAR"], ["cstar", "X86_CSTAR"], ["fmask", "X86_FMASK"], ["apicBase", "X86_APIC_BASE"],
];

/**
 * Where each field of X86State is in the CPU block, as numbers read by fixed
 * names (a layout read by a name in a variable is a megamorphic lookup):
 * made once per layout. `u64` maps the names of the 64-bit fields (the GPRs
 * among them) to their offsets, for setState.
 */
interface StateOffsets {
  gpr: number; rip: number; fsBase: number; gsBase: number; kernelGsBase: number; gdtrBase: number; idtrBase: number;
  tssBase: number; star: number; lstar: number; cstar: number; fmask: number; apicBase: number;
  cpl: number; cs: number; ss: number; gdtrLimit: number; idtrLimit: number; tr: number;
  u64: Map<string, number>;
  /** REGISTER_OFFSETS' names and their offsets. */
  registers: [keyof X86Registers, number][];
}

const stateOffsetsByLayout = new WeakMap<Layout, StateOffsets>();

function stateOffsets(L: Layout): StateOffsets {
  let o = stateOffsetsByLayout.get(L);
  if (o) return o;
  const u64 = new Map<string, number>();
  GPR_NAMES.forEach((name, i) => u64.set(name, L.X86_GPR + 8 * i));
  for (const [name, off] of STATE_U64) u64.set(name, L[off]);
  const at = (name: U64Field) => u64.get(name)!;
  o = {
    gpr: L.X86_GPR, rip: at("rip"), fsBase: at("fsBase"), gsBase: at("gsBase"), kernelGsBase: at("kernelGsBase"),
    gdtrBase: at("gdtrBase"), idtrBase: at("idtrBase"), tssBase: at("tssBase"), star: at("star"), lstar: at("lstar"),
    cstar: at("cstar"), fmask: at("fmask"), apicBase: at("apicBase"),
    cpl: L.X86_CPL, cs: L.X86_SEL + 2 * L.SEL_CS, ss: L.X86_SEL + 2 * L.SEL_SS,
    gdtrLimit: L.X86_GDTR_LIMIT, idtrLimit: L.X86_IDTR_LIMIT, tr: L.X86_TR, u64,
    registers: REGISTER_OFFSETS.map(([name, off]) => [name, L[off]]),
  };
  stateOffsetsByLayout.set(L, o);
  return o;
}

/** A small field of setState's: undefined, or an integer from 0 to max. */
function small(name: string, value: number | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) throw new ShootdownError(`${name} must be an integer from 0 to ${max}`);
  return value;
}

const REGISTER_OFFSETS: [keyof X86Registers, keyof Layout][] = [
  ["cr0", "CPU_CR0"],
  ["cr2", "CPU_CR2"],
  ["cr3", "CPU_CR3"],
  ["cr4", "CPU_CR4"],
  ["efer", "CPU_EFER"],
  ["rflags", "CPU_RFLAGS"],
  ["pat", "CPU_PAT"],
  ["pkru", "CPU_PKRU"],
];

const ACC_WRITE = 1;
const ACC_FETCH = 2;
const ACC_USER = 4;
const ACC_IMPLICIT = 8;
/** MODE_PEEK and MODE_NO_CACHE of emulator/hw/x86/paging/result.ts. */
const MODE_PEEK = 1;
const MODE_NO_CACHE = 2;

/** The hardware's access-kind bits for an access. */
export function accessKind(access: Access): number {
  let kind = 0;
  if (access.op === "write") kind |= ACC_WRITE;
  else if (access.op === "fetch") kind |= ACC_FETCH;
  else if (access.op !== "read") throw new ShootdownError(`unknown access op '${String(access.op)}' (read, write or fetch)`);
  if (access.priv === "user") kind |= ACC_USER;
  else if (access.priv === "implicit") kind |= ACC_IMPLICIT;
  else if (access.priv !== "kernel") throw new ShootdownError(`unknown privilege '${String(access.priv)}' (user, kernel or implicit)`);
  return kind;
}

function u64(name: string, v: bigint): bigint {
  if (typeof v !== "bigint" || v < 0n || v >= TWO_64) throw new ShootdownError(`${name} must be a 64-bit unsigned bigint`);
  return v;
}

/** The RIP a host-mode exit recorded. */
const exitRip = (v: DataView, L: Layout): bigint => v.getBigUint64(L.X86_EXIT_RIP, true);

export class X86Cpu {
  constructor(
    private readonly hw: HwExports,
    private readonly layout: Layout,
    readonly index: number,
  ) {
    this.block = new ViewCache(hw, () => hw.cpuBlock(index), layout.CPU_SIZE);
    this.offsets = stateOffsets(layout);
  }

  /** The CPU block's view, made again only when linear memory has grown (a new buffer): the engine reads it at every decision. */

  private view(): DataView {
    return this.block.get();
  }

  private readonly block: ViewCache;

  /** A snapshot of the paging registers. */
  get registers(): X86Registers {
    const v = this.view();
    const out = {} as X86Registers;
    for (const [name, off] of this.offsets.registers) {
      out[name] = name === "pkru" ? BigInt(v.getUint32(off, true)) : v.getBigUint64(off, true);
    }
    return out;
  }

  /**
   * Loads registers as they are, with none of the invalidations the MOV
   * instructions cause (e.g. to set up a state, as a VM entry or a test does).
   */
  setRegisters(regs: Partial<X86Registers>): void {
    // Every value is checked before any is written: a bad one changes nothing.
    for (const [name] of REGISTER_OFFSETS) {
      const value = regs[name];
      if (value === undefined) continue;
      u64(name, value);
      if (name === "pkru" && value > 0xffffffffn) throw new ShootdownError("pkru is a 32-bit register");
    }
    // A register written with the value it holds changes nothing. Each
    // write through the module re-derives the CPU's paging state (its allow
    // table: 8,192 checks when the key is new), so the registers that change
    // are stored as they are and only the last goes through the module,
    // which derives the state once from them all, as it would have after
    // the last of one write each. RFLAGS always goes through it (a raw store
    // would leave its lazy flags behind).
    const v = this.view();
    let pending = -1;
    let pendingValue = 0n;
    for (const [name, off] of this.offsets.registers) {
      const value = regs[name];
      if (value === undefined || v.getBigUint64(off, true) === value) continue;
      if (name === "rflags") {
        this.hw.x86SetRegister(this.index, off / 8, value);
        continue;
      }
      if (pending >= 0) v.setBigUint64(pending, pendingValue, true);
      pending = off;
      pendingValue = value;
    }
    if (pending >= 0) this.hw.x86SetRegister(this.index, pending / 8, pendingValue);
  }

  /** Translates va for an access, with every side effect the hardware has. */
  translate(va: bigint, access: Access): X86Translation {
    const status = this.hw.x86Translate(this.index, u64("va", va), accessKind(access));
    return this.result(status);
  }

  /**
   * The side-effect-free twin of translate: no Accessed/Dirty update, TLB
   * fill, counter, CR2 write or invalidation. With memoryOnly it ignores the
   * TLBs and walks the tables in memory (what the debugger's `walk` shows).
   */
  peek(va: bigint, access: Access, opts: { memoryOnly?: boolean } = {}): X86Translation {
    const mode = MODE_PEEK | (opts.memoryOnly ? MODE_NO_CACHE : 0);
    return this.result(this.hw.x86TranslateMode(this.index, u64("va", va), accessKind(access), mode));
  }

  /**
   * Reads the page tables in memory for va, level by level, ignoring every
   * TLB and cache and changing nothing (not even Accessed flags).
   */
  walkMemory(va: bigint): X86MemoryWalk {
    const stop = this.hw.x86WalkTrace(this.index, u64("va", va));
    const last = this.hw.walkStopLevel();
    const v = this.view();
    const top = v.getUint32(this.layout.CPU_WALK_TOP, true);
    const steps: X86WalkStep[] = [];
    for (let level = top; level >= last; level--) {
      const at = this.layout.CPU_WALK_TRACE + 16 * level;
      steps.push({ level, entryPa: v.getBigUint64(at, true), value: v.getBigUint64(at + 8, true) });
    }
    if (stop === 1) steps[steps.length - 1]!.value = 0n;
    const stops = ["leaf", "bus-error", "not-present", "reserved-bit"] as const;
    return { steps, stop: stops[stop] ?? "leaf" };
  }

  /**
   * Runs fn (peeks and walks) with this CPU's paging registers set to regs,
   * then puts back every byte of the CPU's block: the debugger looks through
   * the page tables of a vCPU that is off every pCPU with the same walker,
   * and this CPU goes on as if nothing had happened. The TLBs are not in the
   * block, so fn must not look at them (peek with memoryOnly). With
   * CR4.PCIDE clear in both register sets the translation context does not
   * change, so not even the micro-TLB is flushed. With vmx, the walk is an
   * HVM vCPU's: its CR3 is guest-physical, and every table it reads and the
   * address it ends at go through that EPT (SDM Vol.3C 29.3.2).
   */
  lookThrough<T>(regs: Partial<X86Registers>, fn: () => T, vmx?: X86VmxContext): T {
    return lookThroughCpu(this.hw, this.index, this.layout.CPU_SIZE, () => {
      this.setRegisters(regs);
      if (vmx) this.setVmx(vmx);
    }, fn);
  }

  private result(status: number): X86Translation {
    const v = this.view();
    const L = this.layout;
    if (status === 0) {
      const info = v.getBigUint64(L.CPU_RES_INFO, true);
      const attrs = Number(info & 0xffn);
      const patIndex = Number((info >> BigInt(L.INFO_PAT_SHIFT)) & 7n);
      const pat = v.getBigUint64(L.CPU_PAT, true);
      const sizeClass = Number((info >> BigInt(L.INFO_SIZE_SHIFT)) & 3n);
      return {
        ok: true,
        pa: v.getBigUint64(L.CPU_RES_PA, true),
        pageSize: 4096 * 512 ** sizeClass,
        memoryType: MEMORY_TYPES[Number((pat >> BigInt(8 * patIndex)) & 7n)] ?? "reserved",
        patIndex,
        global: (info & 0x800n) !== 0n,
        user: (attrs & 1) !== 0,
        writable: (attrs & 2) !== 0,
        executeDisable: (attrs & 4) !== 0,
        dirty: (attrs & 8) !== 0,
        pkey: attrs >> 4,
      };
    }
    const code = v.getUint32(L.CPU_FAULT_CODE, true);
    const address = v.getBigUint64(L.CPU_FAULT_ADDR, true);
    const level = v.getUint32(L.CPU_FAULT_LEVEL, true);
    if (status === 1) return { ok: false, fault: { kind: "page-fault", vector: 14, errorCode: code, address, level } };
    if (status === 2) return { ok: false, fault: { kind: "general-protection", vector: 13, errorCode: 0, address } };
    const gpa = v.getBigUint64(L.CPU_FAULT_IPA, true);
    if (status === 4) return { ok: false, fault: { kind: "ept-violation", gpa, qualification: code, guestLinear: address, level } };
    if (status === 5) return { ok: false, fault: { kind: "ept-misconfig", gpa, guestLinear: address, level } };
    return { ok: false, fault: { kind: "bus-error", address, level } };
  }

  invlpg(va: bigint): void {
    this.hw.x86Invlpg(this.index, u64("va", va));
  }

  invpcid(type: InvpcidType, pcid: bigint, va = 0n): X86Outcome {
    return this.hw.x86Invpcid(this.index, type, u64("pcid", pcid), u64("va", va)) === 0 ? "ok" : "#GP";
  }

  movToCr0(value: bigint): X86Outcome {
    return this.hw.x86MovToCr0(this.index, u64("cr0", value)) === 0 ? "ok" : "#GP";
  }

  /** MOV to CR3; with CR4.PCIDE=1, bit 63 of the value asks for no invalidation. */
  movToCr3(value: bigint): X86Outcome {
    return this.hw.x86MovToCr3(this.index, u64("cr3", value)) === 0 ? "ok" : "#GP";
  }

  movToCr4(value: bigint): X86Outcome {
    return this.hw.x86MovToCr4(this.index, u64("cr4", value)) === 0 ? "ok" : "#GP";
  }

  writeEfer(value: bigint): X86Outcome {
    return this.hw.x86WriteEfer(this.index, u64("efer", value)) === 0 ? "ok" : "#GP";
  }

  /** WRPKRU. */
  writePkru(value: bigint): void {
    if (u64("pkru", value) > 0xffffffffn) throw new ShootdownError("pkru is a 32-bit register");
    this.hw.x86WritePkru(this.index, Number(value));
  }

  writeRflags(value: bigint): void {
    this.hw.x86WriteRflags(this.index, u64("rflags", value));
  }

  /**
   * Translate as a guest: with this VPID (1 to 65535; 0 is the host) and,
   * when eptp is not 0, through EPT (eptp as the VMCS holds it: bits 51:12
   * the EPT PML4, bits 5:3 the walk length less one, bit 6 accessed/dirty).
   */
  setVmx(ctx: { vpid: number; eptp: bigint }): void {
    if (!Number.isInteger(ctx.vpid) || ctx.vpid < 0 || ctx.vpid > 0xffff) throw new ShootdownError("vpid must be 0 to 65535");
    this.hw.x86SetVmx(this.index, ctx.vpid, u64("eptp", ctx.eptp));
  }

  /** The VPID and EPTP this CPU translates with now (both 0 outside a guest, or for a PV guest). */
  get vmx(): X86VmxContext {
    const v = this.view();
    return { vpid: v.getUint32(this.layout.CPU_VPID, true) & 0xffff, eptp: v.getBigUint64(this.layout.CPU_EPTP, true) };
  }

  /** INVEPT; "VMfail" for an invalid type. */
  invept(type: InveptType, eptp = 0n): "ok" | "VMfail" {
    return this.hw.x86Invept(this.index, type, u64("eptp", eptp)) === 0 ? "ok" : "VMfail";
  }

  /** INVVPID; "VMfail" for an invalid type, VPID 0 (but for all-context) or a non-canonical address. */
  invvpid(type: InvvpidType, vpid: number, la = 0n): "ok" | "VMfail" {
    if (!Number.isInteger(vpid) || vpid < 0 || vpid > 0xffff) return "VMfail";
    return this.hw.x86Invvpid(this.index, type, vpid, u64("la", la)) === 0 ? "ok" : "VMfail";
  }

  /** Empties every TLB and paging-structure cache of this CPU (no counter). */
  flushAll(): void {
    this.hw.x86FlushAll(this.index);
  }

  /** Registers to reset values, TLBs empty, counters zero. */
  reset(): void {
    this.stoppedSeen = undefined;
    this.hw.cpuReset(this.index);
  }

  counters(): X86Counters {
    return readCounters(this.view(), this.layout);
  }

  // ── Execution ──────────────────────────────────────────────────────────────

  /** The interpreter's registers. */
  get state(): X86State {
    const rflags = BigInt.asUintN(64, this.hw.x86MaterializeFlags(this.index));
    const v = this.view();
    const o = this.offsets;
    const g = o.gpr;
    const q = (at: number) => v.getBigUint64(at, true);
    // One literal, its fields in the order they always had (the GPRs, the 64-bit fields, then the small ones).
    return {
      rax: q(g), rcx: q(g + 8), rdx: q(g + 16), rbx: q(g + 24), rsp: q(g + 32), rbp: q(g + 40), rsi: q(g + 48), rdi: q(g + 56),
      r8: q(g + 64), r9: q(g + 72), r10: q(g + 80), r11: q(g + 88), r12: q(g + 96), r13: q(g + 104), r14: q(g + 112), r15: q(g + 120),
      rip: q(o.rip), fsBase: q(o.fsBase), gsBase: q(o.gsBase), kernelGsBase: q(o.kernelGsBase), gdtrBase: q(o.gdtrBase),
      idtrBase: q(o.idtrBase), tssBase: q(o.tssBase), star: q(o.star), lstar: q(o.lstar), cstar: q(o.cstar), fmask: q(o.fmask),
      apicBase: q(o.apicBase),
      rflags,
      cpl: v.getUint32(o.cpl, true), cs: v.getUint16(o.cs, true), ss: v.getUint16(o.ss, true),
      gdtrLimit: v.getUint32(o.gdtrLimit, true), idtrLimit: v.getUint32(o.idtrLimit, true), tr: v.getUint32(o.tr, true),
    };
  }

  private readonly offsets: StateOffsets;

  /** Loads interpreter registers as they are (as a loader, a debugger or a VM entry does). */
  setState(state: Partial<X86State>): void {
    const L = this.layout;
    if (state.rflags !== undefined) this.hw.x86SetRegister(this.index, L.CPU_RFLAGS / 8, u64("rflags", state.rflags) | 2n);
    const v = this.view();
    const o = this.offsets;
    // The fields given, not every field there is: a VM exit's handler sets one or two (RIP, RAX) thousands of times a run.
    for (const name in state) {
      const off = o.u64.get(name);
      if (off === undefined) continue;
      const value = state[name as GprName | U64Field];
      if (value === undefined) continue;
      v.setBigUint64(off, u64(name, value), true);
    }
    const cpl = small("cpl", state.cpl, 3);
    if (cpl !== undefined) v.setUint32(o.cpl, cpl, true);
    const cs = small("cs", state.cs, 0xffff);
    if (cs !== undefined) v.setUint16(o.cs, cs, true);
    const ss = small("ss", state.ss, 0xffff);
    if (ss !== undefined) v.setUint16(o.ss, ss, true);
    const gl = small("gdtrLimit", state.gdtrLimit, 0xffff);
    if (gl !== undefined) v.setUint32(o.gdtrLimit, gl, true);
    const il = small("idtrLimit", state.idtrLimit, 0xffff);
    if (il !== undefined) v.setUint32(o.idtrLimit, il, true);
    const tr = small("tr", state.tr, 0xffff);
    if (tr !== undefined) v.setUint32(o.tr, tr, true);
    this.hw.x86RegistersChanged(this.index);
  }

  /** Runs up to `budget` instructions (at least 1), until an exit. */
  run(budget: number | bigint): X86Exit {
    const n = budgetArg(budget);
    this.stoppedSeen = undefined;
    const reason = this.hw.x86Run(this.index, n);
    const v = this.view();
    const L = this.layout;
    // What the engine asks of every CPU at the next decision, read while the view is at hand.
    this.stoppedSeen = v.getUint32(L.X86_STOPPED, true) !== 0;
    // The exit's RIP is read by the exits that carry it (a bigint made at every budget's end would be for nothing).
    switch (reason) {
      case L.EXIT_BUDGET: return { reason: "budget" };
      case L.EXIT_HLT: return { reason: "hlt" };
      case L.EXIT_IO:
        return {
          reason: "io",
          port: v.getUint32(L.X86_EXIT_PORT, true),
          size: v.getUint32(L.X86_EXIT_SIZE, true) as 1 | 2 | 4,
          write: v.getUint32(L.X86_EXIT_WRITE, true) === 1,
          value: v.getBigUint64(L.X86_EXIT_VALUE, true),
          rip: exitRip(v, L),
        };
      case L.EXIT_VMCALL: return { reason: "vmcall", rip: exitRip(v, L) };
      case L.EXIT_TRIPLE_FAULT: {
        const d = v.getBigUint64(L.X86_EXIT_DETAIL, true);
        return { reason: "triple-fault", rip: exitRip(v, L), vectors: [Number(d & 0xffn), Number((d >> 8n) & 0xffn), Number((d >> 16n) & 0xffn)] };
      }
      case L.EXIT_BUS_ERROR: return { reason: "bus-error", rip: exitRip(v, L), address: v.getBigUint64(L.X86_EXIT_VALUE, true) };
      case L.EXIT_BREAKPOINT: return { reason: "breakpoint", rip: v.getBigUint64(L.X86_RIP, true) };
      case L.EXIT_VMEXIT: return decodeGuestExit(readExitFields(v, L), this.registersInBlock, v.getBigUint64(L.X86_EXIT_DETAIL, true), L);
      default: return { reason: "stopped" };
    }
  }

  // ── Guest mode ─────────────────────────────────────────────────────────────

  /** The guest-mode controls (all off, guest mode off, after reset). */
  get guestControls(): X86GuestControls {
    const v = this.view();
    const L = this.layout;
    const guest = v.getUint32(L.X86_GUEST_MODE, true) !== 0;
    return decodeControls(guest, v.getUint32(L.X86_GUEST_CONTROLS, true), v.getUint32(L.X86_GUEST_EXCEPTION_BITMAP, true), L);
  }

  /**
   * Changes some of the guest-mode controls (the others keep their values):
   * `setGuestControls({ guestMode: true, exceptionBitmap: 1 << 14, cr3LoadExiting: true })`.
   * In guest mode run() returns the VM exits of X86GuestExit; with guest
   * mode off every control is inert and the CPU behaves as in host mode.
   */
  setGuestControls(update: Partial<X86GuestControls>): void {
    const c = mergeControls(this.guestControls, update);
    const word = encodeControls(c, this.layout);
    if (this.hw.x86SetGuestControls(this.index, c.guestMode ? 1 : 0, word, c.exceptionBitmap >>> 0) !== 0) {
      throw new Error("the hardware module refused guest controls that TypeScript accepted");
    }
  }

  /**
   * Guest mode on or off, the other controls as they are: what a
   * hypervisor does when it takes a vCPU off a pCPU, at every switch.
   */
  setGuestMode(on: boolean): void {
    const v = this.view();
    const L = this.layout;
    if (this.hw.x86SetGuestControls(this.index, on ? 1 : 0, v.getUint32(L.X86_GUEST_CONTROLS, true), v.getUint32(L.X86_GUEST_EXCEPTION_BITMAP, true)) !== 0) {
      throw new Error("the hardware module refused guest controls it had accepted");
    }
  }

  /**
   * Injects an event at the next run (VM-entry event injection, SDM Vol.3C
   * 27.6): delivered through the guest's IDT before its next instruction as
   * the CPU delivers any event (gate and privilege checks, stack switch,
   * error code), without consulting the exception bitmap; for #PF with `cr2`
   * CR2 is written first. An external interrupt waits while RFLAGS.IF is 0.
   * A fault during the delivery is handled as one during any delivery: it
   * exits if its bitmap bit is set, else #DF or a triple fault. Replaces an
   * injection still pending.
   */
  inject(event: X86Injection): void {
    const [vector, type, hasCode, code, length, writeCr2, cr2] = encodeInjection(event);
    const status = this.hw.x86Inject(this.index, vector, type, hasCode, code, length, writeCr2, cr2);
    if (status !== 0) throw new Error(`the hardware module refused an injection that TypeScript accepted (${status})`);
  }

  /** The injected event still waiting to be delivered (an external interrupt waiting for IF), or null. */
  get pendingInjection(): X86Event | null {
    const v = this.view();
    const L = this.layout;
    return decodeEvent(v.getUint32(L.X86_ENTRY_INTR_INFO, true), v.getUint32(L.X86_ENTRY_INTR_ERROR, true), L);
  }

  /**
   * The injected event still waiting, taken off the CPU (null if none): a
   * hypervisor switching vCPUs keeps it with the vCPU it was for, so that
   * the next vCPU on this CPU does not receive it.
   */
  takeInjection(): X86Event | null {
    const event = this.pendingInjection;
    if (event) this.view().setUint32(this.layout.X86_ENTRY_INTR_INFO, 0, true);
    return event;
  }

  /** CPUID as the bare CPU answers it, with the leaf in EAX and the subleaf in ECX; EAX–EDX are written. */
  executeCpuid(): void {
    this.hw.x86ExecuteCpuid(this.index);
  }

  /** RDMSR or WRMSR of ECX (RDX:RAX) as the bare CPU does it, on this CPU's registers: "ok", or "#GP" with nothing changed. */
  emulateMsr(write: boolean): X86Outcome {
    return this.hw.x86EmulateMsr(this.index, write ? 1 : 0) === 0 ? "ok" : "#GP";
  }

  /** Time passes while the CPU waits: its cycle count (the TSC) moves on to `cycles`, never back. */
  skipTo(cycles: bigint): void {
    this.hw.x86SkipTo(this.index, u64("cycles", cycles));
  }

  /** An EOI to this CPU's local APIC: ends the highest interrupt in service (one acknowledged on a VM exit). */
  endOfInterrupt(): void {
    this.hw.x86EndOfInterrupt(this.index);
  }

  /** Requests an interrupt vector (16–255) on this CPU's local APIC, as a device would. */
  requestInterrupt(vector: number): void {
    if (!Number.isInteger(vector) || vector < 16 || vector > 255) throw new ShootdownError(`interrupt vector must be 16 to 255, not ${vector}`);
    this.hw.x86RequestInterrupt(this.index, vector);
  }

  /** Instructions retired and modelled cycles so far. */
  /** RIP read straight from the CPU block (state would materialise the lazy flags, which the state hash sees). */
  get rip(): bigint {
    return this.view().getBigUint64(this.layout.X86_RIP, true);
  }

  /** One general-purpose register, read alone (state reads them all and works out the flags). */
  gpr(name: GprName): bigint {
    return this.gprAt(GPR_INDEX.get(name)!);
  }

  /** General-purpose register i (GPR.rax … GPR.r15). */
  gprAt(i: number): bigint {
    if (!(Number.isInteger(i) && i >= 0 && i < 16)) throw new ShootdownError(`there is no general-purpose register ${i}`);
    return this.view().getBigUint64(this.layout.X86_GPR + 8 * i, true);
  }

  /**
   * Do registers `indices` (GPR.rdi …) hold what `words` says, each as its
   * low and high 32 bits? When they do not, `words` is made to. With no
   * bigint made: a hypervisor that logs the same hypercall over and over (a
   * walker spinning on SCHEDOP_yield) keeps the arguments it read last time.
   */
  sameGprs(indices: readonly number[], words: Uint32Array): boolean {
    const v = this.view();
    const base = this.layout.X86_GPR;
    let same = true;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!(Number.isInteger(i) && i >= 0 && i < 16)) throw new ShootdownError(`there is no general-purpose register ${i}`);
      const lo = v.getUint32(base + 8 * i, true);
      const hi = v.getUint32(base + 8 * i + 4, true);
      if (words[2 * k] !== lo || words[2 * k + 1] !== hi) {
        words[2 * k] = lo;
        words[2 * k + 1] = hi;
        same = false;
      }
    }
    return same;
  }

  /**
   * Does register i (GPR.rax) hold exactly `value`, an integer from 0 to
   * 2^32 - 1? gprAt(i) === BigInt(value) without making a bigint: a
   * hypervisor asks at every VM exit which hypercall it is.
   */
  gprIs(i: number, value: number): boolean {
    if (!(Number.isInteger(i) && i >= 0 && i < 16)) throw new ShootdownError(`there is no general-purpose register ${i}`);
    const v = this.view();
    const at = this.layout.X86_GPR + 8 * i;
    return v.getUint32(at + 4, true) === 0 && v.getUint32(at, true) === value;
  }

  /**
   * RIP, and RAX when given, as a handled VM exit leaves them (past the
   * instruction; a hypercall's result): setState({ rip, rax }) without its
   * walk over the fields it is given, which a hypervisor run takes at
   * almost every exit. Nothing the module derives depends on them: the run
   * loop reads RIP at its start and keys its fetch window by RIP's page,
   * and neither register can make an event due. So unlike setState this
   * does not call x86RegistersChanged, which would make the next run stop
   * at its first boundary to look for events (a walker's spin turn is five
   * instructions: that stop was a fifth of its time).
   */
  setRipRax(rip: bigint, rax?: bigint): void {
    const L = this.layout;
    const v = this.view();
    v.setBigUint64(L.X86_RIP, u64("rip", rip), true);
    if (rax !== undefined) v.setBigUint64(L.X86_GPR + 8 * GPR.rax, u64("rax", rax), true);
  }

  /** RIP and the general-purpose registers, each read from the CPU block when asked: an exit's decoding needs one or two. */
  private readonly registersInBlock: GuestRegisters = (() => {
    const out = {} as GuestRegisters;
    Object.defineProperty(out, "rip", { get: () => this.rip });
    GPR_NAMES.forEach((name, i) => Object.defineProperty(out, name, { get: () => this.gprAt(i) }));
    return out;
  })();

  /** Instructions retired so far (progress without the rest, for the run loop). */
  get instructions(): bigint {
    return this.view().getBigUint64(this.layout.X86_INSTRUCTIONS, true);
  }

  /** The same as a double, exact to 2^53 (a run's pieces count with it, making no bigint). */
  get instructionCount(): number {
    const v = this.view();
    const at = this.layout.X86_INSTRUCTIONS;
    return v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;
  }

  /**
   * Has the CPU stopped for good (progress.stopped, read alone)? Asked for
   * every CPU at every decision, so kept from the last read: only a run (the
   * interpreter stops a CPU, x86Run) or a reset changes it, and both forget it.
   */
  get stopped(): boolean {
    return (this.stoppedSeen ??= this.view().getUint32(this.layout.X86_STOPPED, true) !== 0);
  }

  private stoppedSeen: boolean | undefined;

  /**
   * Instructions left in the STI / MOV SS interrupt shadow (1 right after
   * STI): part of what a VM exit saves of a guest (the VMCS's guest
   * interruptibility state), so that a vCPU taken off its pCPU between STI
   * and HLT takes a pending interrupt after the HLT, as it would have.
   */
  get interruptShadow(): number {
    return this.view().getUint32(this.layout.X86_SHADOW, true);
  }

  set interruptShadow(n: number) {
    if (!Number.isInteger(n) || n < 0 || n > 2) throw new ShootdownError("the interrupt shadow must be 0, 1 or 2 instructions");
    this.view().setUint32(this.layout.X86_SHADOW, n, true);
  }

  /** Is the CPU halted (progress.halted, read alone)? */
  get halted(): boolean {
    return this.view().getUint32(this.layout.X86_HALTED, true) !== 0;
  }

  get progress(): { instructions: bigint; cycles: bigint; halted: boolean; stopped: boolean } {
    const v = this.view();
    const L = this.layout;
    return {
      instructions: v.getBigUint64(L.X86_INSTRUCTIONS, true),
      cycles: v.getBigUint64(L.X86_CYCLES, true),
      halted: v.getUint32(L.X86_HALTED, true) !== 0,
      stopped: v.getUint32(L.X86_STOPPED, true) !== 0,
    };
  }

  /** Breakpoints at linear addresses (at most X86_BREAKPOINT_MAX). */
  setBreakpoints(addresses: bigint[]): void {
    const L = this.layout;
    if (addresses.length > L.X86_BREAKPOINT_MAX) throw new ShootdownError(`at most ${L.X86_BREAKPOINT_MAX} breakpoints`);
    const v = this.view();
    addresses.forEach((a, i) => v.setBigUint64(L.X86_BREAKPOINTS + 8 * i, u64("breakpoint", a), true));
    v.setUint32(L.X86_BREAKPOINT_COUNT, addresses.length, true);
    this.hw.x86RegistersChanged(this.index);
  }
}
