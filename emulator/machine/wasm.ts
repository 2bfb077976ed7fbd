// SPDX-License-Identifier: MIT
//
// Loading the hardware module. The WebAssembly is compiled once per process
// and instantiated once per Machine, so machines never share state.

import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ShootdownError } from "./errors.ts";
import type { HwExports } from "../generated/hw-exports.ts";

/**
 * The hardware module's exports, as the JavaScript API sees them (i64 ↔
 * bigint), generated from the module at build time (emulator/build/hw-bindings.mjs).
 */
export type { HwExports };

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
  const g = (hw as unknown as Record<string, unknown>)[name];
  if (!(g instanceof WebAssembly.Global)) throw new Error(`hardware module does not export ${name}`);
  return Number(g.value);
}
