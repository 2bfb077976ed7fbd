// SPDX-License-Identifier: MIT
//
// The post-link pass that reads mutable globals into locals: it must keep
// every function's meaning (a write through a call or a global.set is seen
// by the reads after it) while removing the repeated reads.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";

const MODULE = `(module
 (global $g (mut i32) (i32.const 1))
 (global $h (mut i64) (i64.const 10))
 (func $set (param $v i32) (global.set $g (local.get $v)))
 (func $setAndReturn (result i32) (global.set $g (i32.const 7)) (i32.const 3))
 (func $leaf (result i32) (global.get $g))
 (func $nestedSet (call $set (i32.const 9)))
 (func $twice (export "twice") (result i32)
  (i32.add (global.get $g) (global.get $g)))
 (func $afterCall (export "afterCall") (result i32)
  (local $a i32)
  (local.set $a (global.get $g))
  (call $set (i32.const 5))
  (i32.add (i32.mul (local.get $a) (i32.const 100)) (global.get $g)))
 (func $afterSet (export "afterSet") (param $v i32) (result i32)
  (local $a i32)
  (local.set $a (global.get $g))
  (global.set $g (local.get $v))
  (i32.add (i32.mul (local.get $a) (i32.const 100)) (global.get $g)))
 (func $resultCall (export "resultCall") (result i32)
  (local $a i32)
  (local.set $a (global.get $g))
  (i32.add (i32.add (i32.mul (local.get $a) (i32.const 100)) (call $setAndReturn)) (global.get $g)))
 (func $deepCall (export "deepCall") (result i32)
  (local $a i32)
  (local.set $a (global.get $g))
  (call $nestedSet)
  (i32.add (i32.mul (local.get $a) (i32.const 100)) (global.get $g)))
 (func $wide (export "wide") (result i64)
  (i64.add (global.get $h) (i64.add (global.get $h) (i64.extend_i32_u (call $leaf)))))
 (func $reset (export "reset") (global.set $g (i32.const 1)))
)`;

function run(extra: string[] = []): { exports: Record<string, (...args: number[]) => number | bigint>; wat: string } {
  const dir = mkdtempSync(join(tmpdir(), "localize-"));
  const wat = join(dir, "m.wat");
  const wasm = join(dir, "m.wasm");
  writeFileSync(wat, MODULE);
  execFileSync(process.execPath, [join(packageRoot(), "emulator", "build", "localize-globals.mjs"), wat, wasm, ...extra], { stdio: "pipe" });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasm)));
  return { exports: instance.exports as never, wat: readFileSync(wat, "utf8") };
}

describe("localize-globals", () => {
  const { exports: x, wat } = run();
  const body = (name: string) => {
    const start = wat.indexOf(`(func $${name} `);
    return wat.slice(start, wat.indexOf("\n (func", start + 1));
  };

  it("reads a global read twice only once", () => {
    expect(x.twice!()).toBe(2);
    expect(body("twice").match(/global\.get \$g/g)).toHaveLength(1);
  });

  it("sees a write made by a call, a global.set, a call with a result, and a call two levels down", () => {
    x.reset!();
    expect(x.afterCall!()).toBe(105);
    x.reset!();
    expect(x.afterSet!(8)).toBe(108);
    x.reset!();
    expect(x.resultCall!()).toBe(110);
    x.reset!();
    expect(x.deepCall!()).toBe(109);
  });

  it("handles globals of every integer type and leaves functions that read once alone", () => {
    x.reset!();
    expect(x.wide!()).toBe(21n);
    expect(body("leaf")).toContain("global.get $g");
  });

  it("--leave-alone keeps a function's global reads as they are, and refuses a name the module lacks", () => {
    const left = run(["--leave-alone", "$twice"]).wat;
    const start = left.indexOf("(func $twice ");
    expect(left.slice(start, left.indexOf("\n (func", start + 1)).match(/global\.get \$g/g)).toHaveLength(2);
    expect(() => run(["--leave-alone", "$nosuch"])).toThrow(/\$nosuch \(to leave alone\) is not in the module/);
    expect(() => run(["--leave-alone"])).toThrow(/usage:/);
  });
});
