// SPDX-License-Identifier: MIT
//
// The TypeScript view of the hardware module's exports is generated from the
// module (emulator/build/hw-bindings.mjs): it must name exactly what the
// module exports, be as fresh as the module, and refuse to be generated from
// bindings that disagree with the module.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a build script in plain JavaScript, without declarations.
import * as gen from "../../emulator/build/hw-bindings.mjs";
import {
  LAYOUT_NAMES, LAYOUT_U64_NAMES, HW_VARIABLE_NAMES, HW_FUNCTION_NAMES, COUNTER_INDEX,
} from "../../emulator/generated/hw-exports.ts";
import { instantiate } from "../../emulator/machine/core/wasm.ts";
import { Machine } from "../../emulator/machine/core/machine.ts";

type Export = { name: string; kind: string };

const wasmExports = (): Export[] =>
  WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(gen.WASM_PATH))) as Export[];

describe("the generated view of the hardware module", () => {
  it("is what the build script makes of the module as it is now (not stale)", () => {
    expect(readFileSync(gen.OUT_PATH, "utf8"), "emulator/generated/hw-exports.ts is stale: run 'npm run build:hw'").toBe(gen.generate());
  });

  it("names only what the module exports, each as the kind of export it is", () => {
    const hw = instantiate() as unknown as Record<string, unknown>;
    for (const name of [...LAYOUT_NAMES, ...LAYOUT_U64_NAMES, ...HW_VARIABLE_NAMES]) {
      expect(hw[name], name).toBeInstanceOf(WebAssembly.Global);
    }
    for (const name of HW_FUNCTION_NAMES) expect(typeof hw[name], name).toBe("function");
    expect(hw.memory).toBeInstanceOf(WebAssembly.Memory);
    // And nothing the module exports is missing from the view.
    const viewed = new Set<string>([...LAYOUT_NAMES, ...LAYOUT_U64_NAMES, ...HW_VARIABLE_NAMES, ...HW_FUNCTION_NAMES, "memory"]);
    expect(wasmExports().map((e) => e.name).filter((n) => !viewed.has(n))).toEqual([]);
  });

  it("reads every CNT_* counter the module exports, each under one name", () => {
    const counters = LAYOUT_NAMES.filter((n) => n.startsWith("CNT_")).sort();
    expect(Object.values(COUNTER_INDEX).sort()).toEqual(counters);
    const m = new Machine({ cpus: 1 });
    const read = m.cpu(0).counters();
    for (const name of Object.keys(COUNTER_INDEX)) expect(typeof read[name as keyof typeof read], name).toBe("bigint");
  });

  it("refuses bindings that declare an export the module does not have", () => {
    const bindings = gen.readBindings(readFileSync(gen.DTS_PATH, "utf8"));
    const without = wasmExports().filter((e) => e.name !== "x86Run" && e.name !== "CNT_TLB_HIT");
    expect(() => gen.checkAgainstModule(bindings, without)).toThrow(/function 'x86Run', which the module does not export/);
    expect(() => gen.checkAgainstModule(bindings, without)).toThrow(/global 'CNT_TLB_HIT', which the module does not export/);
  });

  it("refuses a module that exports what the bindings do not declare, or of another kind", () => {
    const bindings = gen.readBindings(readFileSync(gen.DTS_PATH, "utf8"));
    const extra = [...wasmExports(), { name: "hiddenExport", kind: "function" }];
    expect(() => gen.checkAgainstModule(bindings, extra)).toThrow(/exports function 'hiddenExport', which the bindings do not declare/);
    const retyped = wasmExports().map((e) => (e.name === "CPU_SIZE" ? { name: e.name, kind: "function" } : e));
    expect(() => gen.checkAgainstModule(bindings, retyped)).toThrow(/'CPU_SIZE' as a global, the module exports a function/);
  });

  it("refuses a counter without a @counter name, and a name given twice", () => {
    expect(() => gen.readCounters("/** @counter hits */\nexport const CNT_A: u32 = 0;\nexport const CNT_B: u32 = 1;\n"))
      .toThrow(/CNT_B .*needs a '@counter camelCaseName' tag/);
    expect(() => gen.readCounters("/** @counter hits */\nexport const CNT_A: u32 = 0;\n/** @counter hits */\nexport const CNT_B: u32 = 1;\n"))
      .toThrow(/two counters are called 'hits'/);
  });
});
