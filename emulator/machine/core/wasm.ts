// SPDX-License-Identifier: MIT
//
// Loading the hardware module. The WebAssembly is compiled once per process
// and instantiated once per Machine, so machines never share state.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ShootdownError } from "./errors.ts";
import type { HwExports } from "../../generated/hw-exports.ts";

/**
 * The hardware module's exports, as the JavaScript API sees them (i64 ↔
 * bigint), generated from the module at build time (emulator/build/hw-bindings.mjs).
 */
export type { HwExports };

/** Compiled modules by path: each is compiled once per process. */
const compiled = new Map<string, WebAssembly.Module>();
/** The module each instance's exports came from. */
const moduleOfExports = new WeakMap<HwExports, WebAssembly.Module>();
let defaultPath: string | undefined;

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

function compile(path: string): WebAssembly.Module {
  const known = compiled.get(path);
  if (known) return known;
  if (!existsSync(path)) {
    throw new ShootdownError(`${path} is missing: run 'npm install' (or 'npm run build') to build the hardware module`);
  }
  const module = new WebAssembly.Module(readFileSync(path));
  compiled.set(path, module);
  return module;
}

/**
 * A fresh instance of the hardware module: the package's own, or another
 * build of it at `path` (for comparing builds, as bench/ does).
 */
export function instantiate(path?: string): HwExports {
  const module = compile(path ?? (defaultPath ??= wasmPath()));
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new Error(`shootdown hardware module aborted at ${line}:${column} (an emulator bug)`);
      },
    },
  });
  const hw = instance.exports as unknown as HwExports;
  moduleOfExports.set(hw, module);
  return hw;
}

/** The compiled module an instance's exports came from. */
export function moduleOf(hw: HwExports): WebAssembly.Module | undefined {
  return moduleOfExports.get(hw);
}

/** Reads an exported constant (an immutable WebAssembly global) of the memory map. */
export function constant(hw: HwExports, name: string): number {
  const g = (hw as unknown as Record<string, unknown>)[name];
  if (!(g instanceof WebAssembly.Global)) throw new Error(`hardware module does not export ${name}`);
  return Number(g.value);
}
