// SPDX-License-Identifier: MIT
//
// The hardware module never allocates: it is built with the stub runtime, and
// no allocation function of the AssemblyScript runtime may survive in the
// compiled code (if anything called one, the optimiser would have kept it).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../../emulator/machine/core/wasm.ts";

describe("the hardware module", () => {
  const wat = readFileSync(join(packageRoot(), "dist", "shootdown.wat"), "utf8");

  it("contains no allocation function of the AssemblyScript runtime", () => {
    const functions = [...wat.matchAll(/^\s*\(func \$(\S+)/gm)].map((m) => m[1]);
    expect(functions.length).toBeGreaterThan(20);
    const allocators = functions.filter((f) => /~lib\/rt\/|__alloc|__new|__renew|__realloc|__collect/.test(f!));
    expect(allocators).toEqual([]);
  });

  it("imports nothing but abort, so it cannot reach the host on a hot path", () => {
    const imports = [...wat.matchAll(/^\s*\(import "(\S+)" "(\S+)"/gm)].map((m) => `${m[1]}.${m[2]}`);
    expect(imports.filter((i) => i !== "env.abort")).toEqual([]);
  });
});
