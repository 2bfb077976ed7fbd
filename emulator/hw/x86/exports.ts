// SPDX-License-Identifier: MIT
//
// The hardware module's x86-64 exports: translation and the paging
// registers' side effects (SDM Vol.3A 4.10.4), VMX contexts, the CPUs' run
// loop, and the benchmark loops of the x86-64 walk. Each entry point selects
// its CPU first.

import { C, select } from "../cpu";
import { CPU_RES_PA, CPU_AC_KIND, CPU_RFLAGS, X86_LAZY_OP, X86_EVENTS, X86_CYCLES, LAZY_NONE } from "../layout";
import { run as x86RunLoop } from "./cpu/execute";
import { request as apicRequest, apicWrite } from "./cpu/apic";
import { flushDecoded } from "./cpu/code";
import { dropFetchWindow } from "./cpu/fetch";
import { materialize } from "./cpu/flags";
import { flushAll } from "../tlb/floors";
import { translate, translateSlow } from "./translate";
import { XLATE_FAILED } from "../tlb/micro";
import { setVmxContext, invept, invvpid } from "./vmx";
import { setGuestControls } from "./guest/controls";
import { setInjection } from "./guest/inject";
import { walkTrace, walkLevel } from "./paging/walk";
import {
  invlpg, invpcid, movToCr0, movToCr3, movToCr4, writeEfer, writePkru, writeRflags, syncDerivedState,
} from "./invalidate";
import { benchOffset } from "../common/bench";
import { cpuid, emulateMsr } from "./cpu/system";
import { gpr, RAX, RCX } from "./cpu/state";

/** The x2APIC EOI register (SDM Vol.3A 11.12.1.2). */
const MSR_X2APIC_EOI: u32 = 0x80B;

/** Translates va for an access of `kind` (ACC_*; RFLAGS.AC is folded in here). 0 or XLATE_* status. */
export function x86Translate(cpu: u32, va: u64, kind: u32): u32 {
  select(cpu);
  const pa = translate(va, kind | load<u32>(C + CPU_AC_KIND));
  if (pa & XLATE_FAILED) return <u32>pa;
  store<u64>(C + CPU_RES_PA, pa);
  return 0;
}

/** Translation with MODE_* flags (peek, no cache); kind without ACC_AC. */
export function x86TranslateMode(cpu: u32, va: u64, kind: u32, mode: u32): u32 {
  select(cpu);
  return translateSlow(va, kind | load<u32>(C + CPU_AC_KIND), mode);
}

/**
 * The debugger's walk of memory for va: no TLB, cache or side effect. Returns
 * STOP_* (0 leaf, 1 bus error, 2 not present, 3 reserved bit); the levels
 * read are in the CPU's walk trace from the top level down to walkStopLevel().
 */
export function x86WalkTrace(cpu: u32, va: u64): u32 {
  select(cpu);
  return walkTrace(va);
}

export function walkStopLevel(): u32 {
  return walkLevel;
}

/** Raw register load (no invalidation side effects); registers are CPU_* / 8. */
export function x86SetRegister(cpu: u32, index: u32, value: u64): void {
  select(cpu);
  if ((<u32>index << 3) == CPU_RFLAGS) store<u32>(C + X86_LAZY_OP, LAZY_NONE);
  store<u64>(C + (<usize>index << 3), value);
  syncDerivedState();
  dropFetchWindow();
}

export function x86GetRegister(cpu: u32, index: u32): u64 {
  select(cpu);
  return load<u64>(C + (<usize>index << 3));
}

export function x86Invlpg(cpu: u32, va: u64): void {
  select(cpu);
  invlpg(va);
}

export function x86Invpcid(cpu: u32, type: u32, pcid: u64, va: u64): u32 {
  select(cpu);
  return invpcid(type, pcid, va);
}

export function x86MovToCr0(cpu: u32, value: u64): u32 {
  select(cpu);
  return movToCr0(value);
}

export function x86MovToCr3(cpu: u32, value: u64): u32 {
  select(cpu);
  return movToCr3(value);
}

export function x86MovToCr4(cpu: u32, value: u64): u32 {
  select(cpu);
  return movToCr4(value);
}

export function x86WriteEfer(cpu: u32, value: u64): u32 {
  select(cpu);
  return writeEfer(value);
}

export function x86WritePkru(cpu: u32, value: u32): void {
  select(cpu);
  writePkru(value);
}

export function x86WriteRflags(cpu: u32, value: u64): void {
  select(cpu);
  writeRflags(value);
}

/** Translate for a guest: VPID and EPTP (0: no EPT). VPID 0, EPTP 0 is the host. */
export function x86SetVmx(cpu: u32, vpid: u32, eptp: u64): void {
  select(cpu);
  setVmxContext(vpid, eptp);
}

export function x86Invept(cpu: u32, type: u32, eptp: u64): u32 {
  select(cpu);
  return invept(type, eptp);
}

export function x86Invvpid(cpu: u32, type: u32, vpid: u32, la: u64): u32 {
  select(cpu);
  return invvpid(type, vpid, la);
}

/** Drops every TLB and paging-structure-cache entry of one CPU (INVPCID type 2 without the count). */
export function x86FlushAll(cpu: u32): void {
  select(cpu);
  flushAll();
}

// ── The CPUs ────────────────────────────────────────────────────────────────

/** Runs CPU `cpu` for up to `budget` instructions; returns EXIT_* (details in the CPU block). */
export function x86Run(cpu: u32, budget: u64): u32 {
  select(cpu);
  return x86RunLoop(budget);
}

/** Guest mode on or off, its controls (GC_*) and exception bitmap (guest/controls.ts); 1 for an unknown control. */
export function x86SetGuestControls(cpu: u32, guest: u32, controls: u32, exceptionBitmap: u32): u32 {
  select(cpu);
  return setGuestControls(guest != 0, controls, exceptionBitmap);
}

/** An event to inject at the CPU's next run (guest/inject.ts); INJECT_* (0 for accepted). */
export function x86Inject(cpu: u32, vector: u32, type: u32, hasCode: u32, code: u32, instructionLength: u32, writeCr2: u32, cr2: u64): u32 {
  select(cpu);
  return setInjection(vector, type, hasCode != 0, code, instructionLength, writeCr2 != 0, cr2);
}

/** An EOI to the CPU's local APIC, as the hypervisor ends an interrupt it took on a VM exit. */
export function x86EndOfInterrupt(cpu: u32): void {
  select(cpu);
  apicWrite(MSR_X2APIC_EOI, 0);
}

/** A device (or the host) requests an interrupt vector on a CPU's local APIC. */
export function x86RequestInterrupt(cpu: u32, vector: u32): void {
  select(cpu);
  apicRequest(cpu, vector, false);
}

/**
 * CPUID with the CPU's EAX and ECX as leaf and subleaf, as the bare CPU
 * answers it (EAX–EDX written): a hypervisor emulating a CPUID exit starts
 * from these values.
 */
export function x86ExecuteCpuid(cpu: u32): void {
  select(cpu);
  cpuid(<u32>gpr(RAX), <u32>gpr(RCX));
}

/** RDMSR (write 0) or WRMSR (1) of ECX with RDX:RAX as the bare CPU does it; 0, or 1 for #GP(0). */
export function x86EmulateMsr(cpu: u32, write: u32): u32 {
  select(cpu);
  return emulateMsr(write != 0);
}

/**
 * Time passes while the CPU waits: its cycle count (the TSC) moves on to
 * `cycles`, never back. A hypervisor keeps a vCPU's clock from going back
 * when it lands on a pCPU whose clock is behind.
 */
export function x86SkipTo(cpu: u32, cycles: u64): void {
  select(cpu);
  if (cycles > load<u64>(C + X86_CYCLES)) store<u64>(C + X86_CYCLES, cycles);
}

/** Drops every decoded instruction: call after the host writes memory that may hold code. */
export function x86CodeChanged(): void {
  flushDecoded();
}

/** Works out the lazy arithmetic flags into RFLAGS (before the host reads or writes it). */
export function x86MaterializeFlags(cpu: u32): u64 {
  select(cpu);
  return materialize();
}

/** Drops the selected CPU's fetch window (after the host changed its registers). */
export function x86RegistersChanged(cpu: u32): void {
  select(cpu);
  dropFetchWindow();
  store<u32>(C + X86_EVENTS, 1);
}

// ── Benchmark loops (run by bench/, never by tests for timing) ──────────────

/** `count` supervisor reads through the TLB over 2^lgPages pages from vaBase; returns a checksum. */
export function benchTranslate(cpu: u32, vaBase: u64, lgPages: u32, count: u32): u64 {
  select(cpu);
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    sum += translate(vaBase + benchOffset(i, lgPages), 0);
  }
  return sum;
}

/** `count` full walks: every translation starts with empty TLBs and paging-structure caches. */
export function benchWalk(cpu: u32, vaBase: u64, lgPages: u32, count: u32): u64 {
  select(cpu);
  let sum: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    flushAll();
    sum += translate(vaBase + benchOffset(i, lgPages), 0);
  }
  return sum;
}
