// SPDX-License-Identifier: MIT
//
// The conformance runner: the sample vectors (produced by an independent
// hardware model) pass, a wrong expectation fails with both sides shown, and a
// malformed line is an error naming its line while the rest still run.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runVectors, formatReport } from "../../../emulator/walk/vectors.ts";
import { X86VectorRunner } from "../../../emulator/walk/x86.ts";
import { Aarch64VectorRunner } from "../../../emulator/walk/aarch64.ts";
import { packageRoot } from "../../../emulator/machine/core/wasm.ts";

const VECTORS = join(packageRoot(), "test", "golden", "vectors");
const run = (text: string) => runVectors(text, { x86_64: new X86VectorRunner(), aarch64: new Aarch64VectorRunner() });

const CASE = {
  id: "t-1",
  arch: "x86_64",
  cpu: { maxphyaddr: 40 },
  regs: { cr0: "0x80010011", cr3: "0x1000", cr4: "0x20", efer: "0xd00", pkru: "0x0" },
  mem: [
    ["0x1000", "0x2003"],
    ["0x2000", "0x3003"],
    ["0x3000", "0x4003"],
    ["0x4000", "0x12345003"],
  ],
  access: { va: "0x10", op: "write", priv: "kernel" },
  expect: { pa: "0x12345010" },
  mem_after: [
    ["0x1000", "0x2023"],
    ["0x2000", "0x3023"],
    ["0x3000", "0x4023"],
    ["0x4000", "0x12345063"],
  ],
};
const line = (o: unknown) => JSON.stringify(o);

describe("conformance vectors", () => {
  for (const file of ["x86_64-sample.jsonl", "x86_64-la57-sample.jsonl", "aarch64-sample.jsonl"]) {
    it(`passes every case of ${file}`, () => {
      const results = run(readFileSync(join(VECTORS, file), "utf8"));
      expect(results.length).toBeGreaterThanOrEqual(100);
      expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    });
  }

  it("passes a hand-written 4-level case with its Accessed and Dirty words", () => {
    expect(run(line(CASE))).toEqual([{ line: 1, id: "t-1", status: "pass" }]);
  });

  it("fails a wrong physical address, showing both", () => {
    const [r] = run(line({ ...CASE, expect: { pa: "0x12345018" } }));
    expect(r).toMatchObject({ status: "fail", expected: "pa 0x12345018", got: "pa 0x12345010" });
  });

  it("fails a wrong fault", () => {
    const [r] = run(line({ ...CASE, expect: { fault: { vector: 14, error_code: "0x7" } } }));
    expect(r).toMatchObject({ status: "fail", expected: "#PF error code 0x7", got: "pa 0x12345010" });
  });

  it("fails when a Dirty update is missing or unexpected", () => {
    const [r] = run(line({ ...CASE, access: { ...CASE.access, op: "read" } }));
    expect(r).toMatchObject({ status: "fail", expected: "mem 0x4000 = 0x12345063", got: "0x12345023" });
  });

  it("reports malformed lines with their line number and keeps going", () => {
    const text = [
      "{not json",
      line(CASE),
      line({ ...CASE, regs: { ...CASE.regs, cr3: "zz" } }),
      "",
      line({ ...CASE, regs: { ...CASE.regs, cr9: "0x1" } }),
      line({ ...CASE, access: { ...CASE.access, op: "jump" } }),
      line({ ...CASE, mem: [["0x1001", "0x0"]] }),
      line({ ...CASE, arch: "sparc" }),
      line({ ...CASE, cpu: { maxphyaddr: 99 } }),
      line({ ...CASE, expect: {} }),
      "[1,2]",
      line({ ...CASE, mem: [["0x20000000000", "0x0"]] }),
    ].join("\n");
    const results = run(text);
    expect(results.map((r) => [r.line, r.status])).toEqual([
      [1, "error"], [2, "pass"], [3, "error"], [5, "error"], [6, "error"], [7, "error"], [8, "error"], [9, "error"],
      [10, "error"], [11, "error"], [12, "error"],
    ]);
    const messages = results.filter((r) => r.status === "error").map((r) => r.message);
    expect(messages).toEqual([
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/regs.cr3 must be a 64-bit unsigned number.*"zz"/),
      expect.stringMatching(/regs.cr9 is not a register/),
      expect.stringMatching(/access.op must be one of read, write, fetch, not "jump"/),
      expect.stringMatching(/mem\[0\] address 0x1001 is not 8-byte aligned/),
      expect.stringMatching(/arch 'sparc' is not supported \(supported: x86_64, aarch64\)/),
      expect.stringMatching(/cpu.maxphyaddr must be an integer from 32 to 52, not 99/),
      expect.stringMatching(/expect must have pa or fault/),
      expect.stringMatching(/a case must be a JSON object/),
      expect.stringMatching(/beyond the physical address size \(40 bits\)/),
    ]);
    const report = formatReport(results, "v.jsonl");
    expect(report.at(-1)).toBe("1 passed, 10 failed");
    expect(report[0]).toBe("ERROR v.jsonl:1 (line 1): " + messages[0]);
  });
});

const ARM_CASE = {
  id: "a-1",
  arch: "aarch64",
  cpu: { pa_bits: 48 },
  // 4 KiB granule both halves, T0SZ=25 (3 levels from level 1), IPS 48 bits, HA.
  regs: { sctlr_el1: "0x30d0181d", tcr_el1: "0x85b5103519", ttbr0_el1: "0x10000", ttbr1_el1: "0x0", mair_el1: "0xff" },
  mem: [
    ["0x10000", "0x11003"],
    ["0x11000", "0x12003"],
    ["0x12008", "0x40000743"],
  ],
  access: { va: "0x1abc", op: "read", priv: "user" },
  expect: { pa: "0x40000abc" },
  // ATTR from MAIR[0]=0xff, SH=0b11 from the page, NS and the RES1 bit 11.
  par: "0xff00000040000b80",
  mem_after: [["0x12008", "0x40000743"]],
};

describe("aarch64 conformance vectors", () => {
  it("passes a hand-written 3-level case with its PAR_EL1", () => {
    expect(run(line(ARM_CASE))).toEqual([{ line: 1, id: "a-1", status: "pass" }]);
  });

  it("fails a wrong PAR_EL1 and a wrong fault", () => {
    expect(run(line({ ...ARM_CASE, par: "0xff00000040000b00" }))[0]).toMatchObject({
      status: "fail",
      expected: "PAR_EL1 0xff00000040000b00",
      got: "PAR_EL1 0xff00000040000b80",
    });
    expect(run(line({ ...ARM_CASE, expect: { fault: { type: "permission", level: 3 } } }))[0]).toMatchObject({
      status: "fail",
      expected: "permission fault at level 3",
      got: "pa 0x40000abc",
    });
  });

  it("names what is malformed", () => {
    const results = run(
      [
        line({ ...ARM_CASE, cpu: { pa_bits: 64 } }),
        line({ ...ARM_CASE, regs: { ...ARM_CASE.regs, sctlr_el2: "0x0" } }),
        line({ ...ARM_CASE, access: { ...ARM_CASE.access, op: "fetch" } }),
        line({ ...ARM_CASE, expect: { fault: { type: "alignment", level: 1 } } }),
        line({ ...ARM_CASE, expect: { fault: { type: "translation", level: 7 } } }),
      ].join("\n"),
    );
    expect(results.map((r) => r.message)).toEqual([
      expect.stringMatching(/cpu.pa_bits must be an integer from 32 to 52, not 64/),
      expect.stringMatching(/regs.sctlr_el2 is not a register/),
      expect.stringMatching(/access.op must be one of read, write, not "fetch"/),
      expect.stringMatching(/expect.fault.type must be one of translation, access_flag, permission, address_size/),
      expect.stringMatching(/expect.fault.level must be 0 to 3, not 7/),
    ]);
  });
});
