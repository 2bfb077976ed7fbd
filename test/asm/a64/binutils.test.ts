// SPDX-License-Identifier: MIT
//
// The golden files are what GNU binutils produce today: reruns
// test/asm/golden/regenerate-a64.mjs --check. Needs aarch64-linux-gnu-as,
// -ld, -objdump, -objcopy and -nm; without them the test is skipped and
// says so.

import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "..", "golden", "regenerate-a64.mjs");
const TOOLS = ["as", "ld", "objdump", "objcopy", "nm"].map((t) => `aarch64-linux-gnu-${t}`);
const missing = TOOLS.filter((t) => spawnSync(t, ["--version"]).error);

describe("AArch64 goldens against GNU binutils", () => {
  if (missing.length) console.warn(`skipped: ${missing.join(", ")} not installed`);

  it.skipIf(missing.length > 0)(
    `are current${missing.length ? ` (skipped: ${missing.join(", ")} not installed)` : ""}`,
    () => {
      const r = spawnSync(process.execPath, [SCRIPT, "--check"], { encoding: "utf8" });
      expect(r.stderr, r.stdout).toBe("");
      expect(r.status).toBe(0);
    },
    120_000,
  );
});
