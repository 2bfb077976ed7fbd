// SPDX-License-Identifier: MIT
//
// The `shootdown` command as a user runs it: the bundled CLI in dist/, its
// output, and its exit status. Every user error is one line, never a stack.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";

const ROOT = packageRoot();
const CLI = join(ROOT, "dist", "cli.js");
const VECTORS = join(ROOT, "test", "golden", "vectors");

function shootdown(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("shootdown walk", () => {
  it("passes the x86-64 sample vectors and ends with the summary line", () => {
    const r = shootdown("walk", "--vectors", join(VECTORS, "x86_64-sample.jsonl"));
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["300 passed, 0 failed"]);
    expect(r.status).toBe(0);
  });

  it("prints each failing case and exits 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "shootdown-"));
    const file = join(dir, "v.jsonl");
    const lines = readFileSync(join(VECTORS, "x86_64-sample.jsonl"), "utf8").split("\n").slice(0, 3);
    const broken = JSON.parse(lines[2]!);
    broken.expect = { pa: "0x1" };
    writeFileSync(file, [lines[0], "oops", JSON.stringify(broken)].join("\n"));
    const r = shootdown("walk", "--vectors", file);
    expect(r.status).toBe(1);
    const out = r.stdout.trim().split("\n");
    expect(out[0]).toBe(`ERROR ${file}:2 (line 2): not valid JSON (Unexpected token 'o', "oops" is not valid JSON)`);
    expect(out[1]).toMatch(new RegExp(`^FAIL ${broken.id} \\(${file}:3\\): expected pa 0x1, got `));
    expect(out[2]).toBe("1 passed, 2 failed");
  });

  it("prints JSON lines with --json", () => {
    const r = shootdown("walk", "--json", "--vectors", join(VECTORS, "x86_64-la57-sample.jsonl"));
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.length).toBe(100);
    expect(rows[0]).toMatchObject({ line: 1, status: "pass" });
    expect(r.status).toBe(0);
  });

  it("says what is wrong with the command line, without a stack trace", () => {
    const missing = shootdown("walk", "--vectors", "/no/such/file.jsonl");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe("shootdown walk: cannot read /no/such/file.jsonl: ENOENT\n");
    // Usage errors are status 64 from every command (issue 17), in shootdown's own words, not parseArgs's.
    const bad = shootdown("walk", "--frobnicate");
    expect(bad.status).toBe(64);
    expect(bad.stderr).toBe("shootdown walk: unknown option '--frobnicate' (see shootdown walk --help)\n");
    expect(bad.stderr).not.toMatch(/at .*\.js:\d+/);
    const none = shootdown("walk");
    expect(none.status).toBe(64);
    expect(none.stderr).toMatch(/walk needs --vectors FILE/);
    const unknown = shootdown("fly");
    expect(unknown.status).toBe(64);
    expect(unknown.stderr).toMatch(/unknown command 'fly'/);
  });

  it("prints usage for help", () => {
    const r = shootdown("help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/walk --vectors FILE.jsonl/);
    expect(shootdown("walk", "--help").stdout).toMatch(/N passed, M failed/);
  });
});

describe("shootdown bench", () => {
  it("rejects an unknown suite and a bad scale", () => {
    expect(shootdown("bench", "nosuch").stderr).toMatch(/unknown suite 'nosuch'/);
    expect(shootdown("bench", "--scale=0").stderr).toMatch(/--scale must be a positive number/);
  });
});
