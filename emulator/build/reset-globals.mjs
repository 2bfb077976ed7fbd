// SPDX-License-Identifier: MIT
//
// A post-link pass over the hardware module: adds an export, resetGlobals(),
// that puts every mutable global back to the value it has in a fresh
// instance (its initialiser) and runs the module's start function again, so
// that its globals are exactly those of a newly instantiated module.
//
// Why: a run of `shootdown explore` is short, and instantiating a module
// (and letting V8 collect the last one's linear memory) costs more than the
// run. The host reuses instances (emulator/machine/core/wasm.ts): it restores
// the static data, calls resetGlobals(), and init() clears what the last
// machine used of linear memory (common/exports.ts). Generating the reset
// from the module itself means no global can be forgotten, whatever is added
// to the AssemblyScript later.
//
// Input and output are the module's text (dist/shootdown.wat, with names)
// and binary, and asc's bindings (dist/shootdown.d.ts), which gain the new
// export so that hw-bindings.mjs finds them in agreement; run after
// localize-globals.mjs.

import binaryen from "assemblyscript/binaryen";
import { readFileSync, writeFileSync } from "node:fs";

const [watPath, wasmPath, dtsPath] = process.argv.slice(2);
if (!watPath || !wasmPath || !dtsPath) {
  console.error("usage: node reset-globals.mjs MODULE.wat MODULE.wasm BINDINGS.d.ts");
  process.exit(2);
}

const text = readFileSync(watPath, "utf8");
const start = /^\s*\(start \$(\S+)\)/m.exec(text)?.[1];
const module = binaryen.parseText(text);
module.setFeatures(binaryen.Features.All);

const sets = [];
for (let i = 0; i < module.getNumGlobals(); i++) {
  const g = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
  if (!g.mutable || g.module) continue;
  sets.push(module.global.set(g.name, module.copyExpression(g.init)));
}
if (start) sets.push(module.call(start, [], binaryen.none));
module.addFunction("~resetGlobals", binaryen.none, binaryen.none, [], module.block(null, sets, binaryen.none));
module.addFunctionExport("~resetGlobals", "resetGlobals");
if (!module.validate()) {
  console.error("reset-globals: the module does not validate");
  process.exit(1);
}
writeFileSync(wasmPath, module.emitBinary());
const dts = readFileSync(dtsPath, "utf8");
const closing = dts.indexOf("\n}\n");
if (closing < 0) {
  console.error(`reset-globals: ${dtsPath} is not asc's bindings as expected (no closing brace of the namespace)`);
  process.exit(1);
}
const declaration = "\n  /**\n   * emulator/build/reset-globals.mjs/resetGlobals\n   */\n  export function resetGlobals(): void;";
if (!dts.includes("export function resetGlobals(")) writeFileSync(dtsPath, dts.slice(0, closing) + declaration + dts.slice(closing));
writeFileSync(watPath, module.emitText());
module.dispose();
console.log(`reset-globals: resetGlobals() resets ${sets.length - (start ? 1 : 0)} mutable globals${start ? ` and runs ${start}` : ""}`);
