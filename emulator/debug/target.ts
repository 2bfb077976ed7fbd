// SPDX-License-Identifier: MIT
//
// The architecture adapter of the step debugger. The REPL (session.ts) and
// the gdb stub (gdb-stub.ts) know nothing of x86-64 or AArch64: they drive a
// DebugTarget, which one file per architecture implements
// (x86-target.ts, arm-target.ts). A target looks at one booted platform;
// the run engine (the session) runs it and owns the schedule, the
// breakpoints and the watchpoints.
//
// The methods that take a CPU number take a thread (session.ts): CPU i, or
// under a hypervisor vCPU i (then the pCPUs), which the x86-64 target reads
// from the pCPU it runs on or from the registers the hypervisor keeps of it.
//
// Everything a target reads for display goes through the CPU's MMU without
// side effects (peek: no Accessed/Dirty update, no TLB fill, no counter), so
// looking at a machine never changes what it does next.

import type { ArchName, ProgramSymbol, SymbolLookup } from "../../asm/index.ts";
import type { Platform } from "../machine/core/platform.ts";

/** One register as gdb's target description and the REPL's `regs` list it. */
export interface RegisterInfo {
  name: string;
  bits: number;
  /** The gdb feature it belongs to (target description). */
  feature: string;
  /** gdb type: int, data_ptr, code_ptr, i387_ext, or a flags id of the description. */
  type: string;
  /** "general" registers are the ones `regs` shows first; "system" the paging ones. */
  group: "general" | "system" | "float";
}

export type WalkOp = "read" | "write" | "fetch";
export type WalkPriv = "user" | "kernel";

/** One level of a walk, decoded for display. */
export interface WalkLevel {
  /** The manual's name of the entry: PML4E, PDE, L2 block … */
  name: string;
  entryPa: bigint;
  value: bigint;
  /** Its bits, decoded: "P RW US A PS=0 → table 0x5000". */
  decoded: string;
}

export interface WalkView {
  va: bigint;
  /** What the walk started from: "CR3 0x3000 (PCID 1)", "TTBR0_EL1 …". */
  root: string;
  levels: WalkLevel[];
  /** Why the walk stopped, when not at a leaf. */
  stop?: string;
  /** The permission decision for the access, as the MMU made it. */
  decision: string;
  ok: boolean;
  pa?: bigint;
}

/** One entry of a TLB or walk cache. */
export interface TlbEntryView {
  /** "TLB 4K", "TLB 2M", "PDE cache" … */
  structure: string;
  index: number;
  va: bigint;
  /** Output: the frame (TLB) or the next table (walk cache). */
  pa: bigint;
  size: string;
  /** "PCID 1", "ASID 3 VMID 0", plus "global". */
  tags: string;
  global: boolean;
  perms: string;
  /**
   * Against a fresh walk of the current page tables: fresh, stale (with
   * why), or unknown (another address space); dead when no probe would hit
   * it any more (invalidated, or older than a flush).
   */
  stale: "fresh" | "unknown" | "dead" | { why: string };
}

/** One valid line of a data cache, where set/way maintenance names it. */
export interface CacheLineView {
  /** A pCPU's own L1, or the shared system cache that set/way operations never reach. */
  level: "L1" | "system";
  set: number;
  way: number;
  pa: bigint;
  dirty: boolean;
  /** A non-cacheable write has reached RAM since the line was filled: RAM may be newer than this copy. */
  ramNewer: boolean;
  bytes: Uint8Array;
}

/** How the debugger builds a machine. */
export interface TargetOptions {
  /** The missing-invalidation detector (default on): `continue` stops at the use of a stale entry. */
  detector?: boolean;
}

/** The adapter one architecture implements. */
export interface DebugTarget {
  readonly arch: ArchName;
  /** The booted machine the run engine drives (the same platform `shootdown run` builds). */
  readonly platform: Platform;
  readonly cpuCount: number;
  readonly symbols: SymbolLookup;
  /** The image's symbols, for `break SYMBOL` and completion. */
  readonly symbolTable: readonly ProgramSymbol[];

  /** Registers in the order of targetXml() (gdb's register numbers). */
  registers(): readonly RegisterInfo[];
  /** Their values on a CPU, in registers() order (floating-point ones read as 0). */
  readRegisters(cpu: number): bigint[];
  /** Writes one register; false when it cannot be written. */
  writeRegister(cpu: number, index: number, value: bigint): boolean;
  pc(cpu: number): bigint;
  /** The system registers the REPL's `regs` shows after the general ones, decoded. */
  systemRegisterLines(cpu: number): string[];
  /** gdb's target.xml, the features inline. */
  targetXml(): string;

  /** May the CPU run (false when it is stopped for good)? */
  live(cpu: number): boolean;
  /** Is it waiting for an interrupt (HLT, WFI)? */
  idle(cpu: number): boolean;
  instructions(cpu: number): bigint;
  /** A hash of every CPU's state and of RAM: equal states, equal hashes. */
  stateHash(): bigint;

  /** Bytes at a virtual address through the CPU's MMU, without side effects; `faultAt` is the first address that did not translate. */
  readVirtual(cpu: number, va: bigint, length: number): { bytes: Uint8Array; faultAt?: bigint };
  /** Writes through the CPU's MMU (as a debugger does: no A/D update); false when some byte does not translate or is outside RAM. */
  writeVirtual(cpu: number, va: bigint, bytes: Uint8Array): boolean;
  /** The PA a debugger reads for va on a CPU (as the kernel, else as the user would), without side effects. */
  physicalAddress(cpu: number, va: bigint): bigint | undefined;
  /** Physical bytes; undefined outside RAM. */
  readPhysical(pa: bigint, length: number): Uint8Array | undefined;
  /** The walk of va as the CPU's MMU would make it, from the tables in memory; no TLB, no A/D. */
  walk(cpu: number, va: bigint, op: WalkOp, priv: WalkPriv): WalkView;
  /** Live TLB and walk-cache entries of a CPU, each checked against a fresh walk; with `dead`, the invalidated ones too. */
  tlb(cpu: number, dead?: boolean): TlbEntryView[];
  /** Dirty data-cache lines by set/way (AArch64), with `all` every valid one: the L1 of the pCPU the thread runs on, then the system cache; throws where the machine has no caches. */
  cache(cpu: number, all?: boolean): CacheLineView[];
  /** One instruction at va, as objdump prints it; undefined when it cannot be fetched. */
  disassembleOne(cpu: number, va: bigint): { length: number; bytes: Uint8Array; text: string } | undefined;
}

export const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/** Little-endian bigint of bytes. */
export function leValue(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** The bytes of a value, little-endian. */
export function leBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let v = BigInt.asUintN(8 * length, value);
  for (let i = 0; i < length; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}
