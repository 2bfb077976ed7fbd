// SPDX-License-Identifier: MIT
//
// Loading the hardware module. The WebAssembly is compiled once per process
// and instantiated once per Machine, so machines never share state.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ShootdownError } from "./errors.ts";

/** The hardware module's exports, as the JavaScript API sees them (i64 ↔ bigint). */
export interface HwExports {
  memory: WebAssembly.Memory;
  configBlock(): number;
  init(): number;
  cpuReset(cpu: number): void;
  cpuBlock(cpu: number): number;
  regionRamTable(): number;
  regionEvents(): number;
  setMaxPhysAddr(bits: number): number;
  ramReset(): void;
  ramAdd(base: bigint, size: bigint): number;
  ramRangeCount(): number;
  ramHost(pa: bigint, len: number): bigint;
  eventsPending(): number;
  eventsFirst(): bigint;
  eventsConsume(n: number): void;
  eventsDroppedCount(): bigint;
  x86Translate(cpu: number, va: bigint, kind: number): number;
  x86TranslateMode(cpu: number, va: bigint, kind: number, mode: number): number;
  x86WalkTrace(cpu: number, va: bigint): number;
  walkStopLevel(): number;
  x86SetRegister(cpu: number, index: number, value: bigint): void;
  x86GetRegister(cpu: number, index: number): bigint;
  x86Invlpg(cpu: number, va: bigint): void;
  x86Invpcid(cpu: number, type: number, pcid: bigint, va: bigint): number;
  x86MovToCr0(cpu: number, value: bigint): number;
  x86MovToCr3(cpu: number, value: bigint): number;
  x86MovToCr4(cpu: number, value: bigint): number;
  x86WriteEfer(cpu: number, value: bigint): number;
  x86WritePkru(cpu: number, value: number): void;
  x86WriteRflags(cpu: number, value: bigint): void;
  x86FlushAll(cpu: number): void;
  x86SetVmx(cpu: number, vpid: number, eptp: bigint): void;
  x86Invept(cpu: number, type: number, eptp: bigint): number;
  x86Invvpid(cpu: number, type: number, vpid: number, la: bigint): number;
  x86Run(cpu: number, budget: bigint): number;
  x86SetGuestControls(cpu: number, guest: number, controls: number, exceptionBitmap: number): number;
  x86Inject(cpu: number, vector: number, type: number, hasCode: number, code: number, instructionLength: number, writeCr2: number, cr2: bigint): number;
  x86EndOfInterrupt(cpu: number): void;
  x86RequestInterrupt(cpu: number, vector: number): void;
  x86CodeChanged(): void;
  x86RegistersChanged(cpu: number): void;
  x86MaterializeFlags(cpu: number): bigint;
  stateHash(): bigint;
  /** The host wrote guest memory at this host offset: decoded instructions there are stale. */
  hostWrote(host: number, len: number): void;
  armSetRegister(cpu: number, index: number, value: bigint): void;
  armGetRegister(cpu: number, index: number): bigint;
  armTranslateVa(cpu: number, va: bigint, kind: number): number;
  armTranslateMode(cpu: number, va: bigint, kind: number, mode: number): number;
  armAtOp(cpu: number, va: bigint, op: number): bigint;
  armTlbiOp(cpu: number, op: number, xt: bigint): number;
  benchArmWalk(cpu: number, vaBase: bigint, lgPages: number, count: number): bigint;
  armAccess(cpu: number, va: bigint, size: number, kind: number, value: bigint): number;
  armLoadedValue(): bigint;
  armDcOp(cpu: number, op: number, xt: bigint, el0: number): number;
  armIcOp(cpu: number): void;
  armCacheIdRegister(cpu: number, ccsidr: number): bigint;
  a64Run(cpu: number, budget: bigint): number;
  a64PowerOn(cpu: number, entry: bigint, contextId: bigint): void;
  a64PowerOff(cpu: number): void;
  a64CompleteMmioRead(cpu: number, value: bigint): number;
  a64RegistersChanged(cpu: number): void;
  a64SkipTo(cpu: number, cycles: bigint): void;
  /** The debugger's reads (emulator/hw/debug.ts). */
  tlbEntriesLive(cpu: number, structure: number, first: number): number;
  cacheLine(cpu: number, set: number, way: number): number;
  benchTranslate(cpu: number, vaBase: bigint, lgPages: number, count: number): bigint;
  benchLoad(host: number, lgPages: number, count: number): bigint;
  benchWalk(cpu: number, vaBase: bigint, lgPages: number, count: number): bigint;
  gicOwns(pa: bigint): number;
  gicMmioRead(cpu: number, pa: bigint, size: number): bigint;
  gicMmioWrite(cpu: number, pa: bigint, size: number, value: bigint): void;
  gicIsSysreg(key: number): number;
  gicSysregAccess(key: number): number;
  gicSysregRead(cpu: number, key: number): bigint;
  gicSysregWrite(cpu: number, key: number, value: bigint): void;
  gicPendingIrq(cpu: number, cycles: bigint): number;
  gicReset(): void;
  gicCpuReset(cpu: number): void;
  gicBlock(cpu: number): number;
  gicDistBlock(): number;
  gicHash(h: bigint): bigint;
  timerIsSysreg(key: number): number;
  timerSysregRead(cpu: number, key: number, cycles: bigint): bigint;
  timerSysregWrite(cpu: number, key: number, value: bigint, cycles: bigint): void;
  timerNextDeadline(cpu: number): bigint;
  i64Echo(x: bigint): bigint;
  i64EchoParts(lo: number, hi: number): number;
  i64EchoHigh(): number;
  /** Exported constants of the memory map (layout.ts), as WebAssembly globals. */
  [constant: string]: unknown;
}

let compiled: WebAssembly.Module | undefined;

/** The package root: the nearest folder above this file with a package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new ShootdownError("cannot find the shootdown package root");
    dir = up;
  }
}

export function wasmPath(): string {
  return join(packageRoot(), "dist", "shootdown.wasm");
}

function compile(): WebAssembly.Module {
  if (compiled) return compiled;
  const path = wasmPath();
  if (!existsSync(path)) {
    throw new ShootdownError(`${path} is missing: run 'npm install' (or 'npm run build') to build the hardware module`);
  }
  compiled = new WebAssembly.Module(readFileSync(path));
  return compiled;
}

/** A fresh instance of the hardware module. */
export function instantiate(): HwExports {
  const instance = new WebAssembly.Instance(compile(), {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new Error(`shootdown hardware module aborted at ${line}:${column} (an emulator bug)`);
      },
    },
  });
  return instance.exports as unknown as HwExports;
}

/** Reads an exported constant (an immutable WebAssembly global) of the memory map. */
export function constant(hw: HwExports, name: string): number {
  const g = hw[name];
  if (!(g instanceof WebAssembly.Global)) throw new Error(`hardware module does not export ${name}`);
  return Number(g.value);
}
