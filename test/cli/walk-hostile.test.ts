// SPDX-License-Identifier: MIT
//
// `shootdown walk` on hostile vector files (issue 17): ids reach the
// terminal escaped and cut short, an empty file is an error, a word listed
// twice is an error, and every malformed field is named by its JSON path
// with the value it holds (the schema in emulator/walk/schema.ts).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, shootdown, tmpFile } from "../helpers/run.ts";

const SAMPLE = readFileSync(join(ROOT, "test", "golden", "vectors", "x86_64-sample.jsonl"), "utf8").split("\n").filter(Boolean);
const ARM_SAMPLE = readFileSync(join(ROOT, "test", "golden", "vectors", "aarch64-sample.jsonl"), "utf8").split("\n").filter(Boolean);

function vectors(lines: unknown[]): string {
  const path = tmpFile("v.jsonl");
  writeFileSync(path, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
  return path;
}

/** A sample case made to fail (a wrong expected address), with another id. */
function failing(id: string): Record<string, unknown> {
  const c = JSON.parse(SAMPLE.find((l) => l.includes('"pa"'))!);
  return { ...c, id, expect: { pa: "0x1" } };
}

describe("ids in the report", () => {
  it("are escaped: no control character, escape sequence or forged summary line reaches the terminal", () => {
    const forged = "x\n300 passed, 0 failed\x1b[2J\x1b]0;title\x07\u202e";
    const r = shootdown("walk", "--vectors", vectors([failing(forged)]));
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^FAIL x\\u000a300 passed, 0 failed\\u001b\[2J\\u001b\]0;title\\u0007\\u202e \(/);
    expect(lines[1]).toBe("0 passed, 1 failed");
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
  });

  it("are cut short, and an id past the schema's 256 characters is an error that does not print it", () => {
    const r = shootdown("walk", "--vectors", vectors([failing("y".repeat(200)), failing("z".repeat(5 << 20))]));
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^FAIL y{79}… \(/);
    expect(lines[1]).toMatch(/^ERROR .*:2 \(line 2\): id must be at most 256 characters, not 5242880$/);
    expect(r.stdout.length).toBeLessThan(2000);
    expect(r.status).toBe(1);
  });
});

describe("strict vector files", () => {
  it("an empty file is an error, not '0 passed, 0 failed'", () => {
    const r = shootdown("walk", "--vectors", vectors(["", "  "]));
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^shootdown walk: .* has no cases \(only blank lines\)/);
    expect(r.status).toBe(2);
  });

  it("a memory word listed twice is an error naming both places", () => {
    const c = JSON.parse(SAMPLE[0]!);
    c.mem.push([c.mem[1][0], "0x0"]);
    const arm = JSON.parse(ARM_SAMPLE[0]!);
    arm.mem_after = [[arm.mem[0][0], "0x1"], [arm.mem[0][0], "0x2"]];
    const r = shootdown("walk", "--vectors", vectors([c, arm]));
    const n = c.mem.length - 1;
    expect(r.stdout).toContain(`:1 (${c.id}): mem[${n}] address ${c.mem[1][0]} is listed twice (first at [1])`);
    expect(r.stdout).toContain(`:2 (${arm.id}): mem_after[1] address ${arm.mem[0][0]} is listed twice (first at [0])`);
    expect(r.status).toBe(1);
  });

  it("names the JSON path and the value of each malformed field", () => {
    const c = JSON.parse(SAMPLE[0]!);
    const r = shootdown("walk", "--vectors", vectors([
      { ...c, colour: "red" },
      { ...c, mem: [["0x1000"]] },
      { ...c, access: { ...c.access, va: "0x1" + "0".repeat(16) } },
      { ...c, cpu: {} },
      { ...c, regs: { ...c.regs, pkru: "0x100000000" } },
      { ...c, expect: { fault: { vector: 14 } } },
      { ...c, mem: [["zz", "0x1"], ["0x1000", "0x0"], ["0x1000", "0x0"]] },
    ]));
    const errors = r.stdout.trimEnd().split("\n").slice(0, -1).map((l) => l.replace(/^ERROR [^)]*\): /, ""));
    expect(errors).toEqual([
      "colour is not a field of an x86_64 case",
      'mem[0] must be an [address, value] pair, not ["0x1000"]',
      'access.va must be a 64-bit unsigned number (e.g. "0x1000"), not "0x10000000000000000"',
      "cpu.maxphyaddr is missing",
      "regs.pkru must fit in 32 bits",
      "expect.fault.error_code is missing (a #PF has an error code)",
      // A malformed word and a repeated one in one list: both named, no crash.
      'mem[0][0] must be a 64-bit unsigned number (e.g. "0x1000"), not "zz"; mem[2] address 0x1000 is listed twice (first at [1])',
    ]);
    expect(r.stderr).toBe("");
  });
});
