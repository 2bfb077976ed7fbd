// SPDX-License-Identifier: MIT
//
// Fields filled in once addresses and values are known, against GNU as:
// branch26, cond19, tbz14, literal19 and adr21 at their range limits and
// misaligned (fixups.json "cases"); immediates GNU as resolves late, when a
// .equ comes after its use ("late"); alignment padding in code
// ("codeFill"). ADRP and :lo12: are checked on linked addresses in the
// corpus; here their page arithmetic and ld's refusals.

import { describe, expect, it } from "vitest";
import { a64Backend } from "../../../asm/a64/index.ts";
import { assembleAt, context, golden, splitStatement, wordHex } from "./support.ts";

interface FixupCase { insn: string; delta: number; word?: string; message?: string }
interface LateCase { insn: string; value: string; word?: string; message?: string }
interface FillCase { before: number; align: number; fill: string }
const golden_ = golden<{ cases: FixupCase[]; late: LateCase[]; codeFill: FillCase[]; lo12Misaligned: string }>("fixups.json");

const ADDRESS = 0x40080000n;
const expected = (c: { word?: string; message?: string }) => (c.message !== undefined ? { error: c.message } : { word: c.word });

describe("PC-relative fixups as GNU as resolves them", () => {
  it.each(golden_.cases)("$insn to .$delta", (c) => {
    const t = ADDRESS + BigInt(c.delta);
    expect(assembleAt(c.insn, ADDRESS, { t })).toEqual(expected(c));
  });

  it("leaves every PC-relative field to a fixup, even for a known target", () => {
    for (const line of ["b 0x40080010", "bl 16", "b.eq 0", "cbz x0, 8", "tbz w0, #1, 8", "ldr x0, 8", "adr x0, 8", "adrp x0, 0x1000"]) {
      const [m, o] = splitStatement(line);
      expect(a64Backend.assemble(m, o, context()).fixups, line).toHaveLength(1);
    }
  });
});

describe("ADRP and :lo12:", () => {
  // The words below are what aarch64-linux-gnu-ld 2.40 made of the same instructions and addresses.
  it("counts ADRP in 4KB pages between the instruction's page and the target's", () => {
    expect(assembleAt("adrp x1, v", 0x40080ffcn, { v: 0x40100fffn })).toEqual({ word: "90000401" });
    expect(assembleAt("adrp x1, v", 0x40100000n, { v: 0x40080000n })).toEqual({ word: "90fffc01" });
  });

  it("refuses an ADRP target more than 4GB away, as ld does", () => {
    expect(assembleAt("adrp x0, v", 0n, { v: 0x1_0000_0000n })).toEqual({ error: "relocation truncated to fit: R_AARCH64_ADR_PREL_PG_HI21" });
    expect(assembleAt("adrp x0, v", 0n, { v: 0xffff_f000n })).toEqual({ word: "f07fffe0" });
  });

  it("takes the low 12 bits into ADD and the scaled low bits into loads and stores", () => {
    expect(assembleAt("add x1, x1, :lo12:v", ADDRESS, { v: 0x40100ff8n })).toEqual({ word: "913fe021" });
    expect(assembleAt("ldr x2, [x1, #:lo12:v]", ADDRESS, { v: 0x40100ff8n })).toEqual({ word: "f947fc22" });
    expect(assembleAt("ldrh w2, [x1, :lo12:v]", ADDRESS, { v: 0x40100ffen })).toEqual({ word: "795ffc22" });
  });

  it("refuses a :lo12: load or store the access size does not divide, with ld's message", () => {
    const got = assembleAt("ldr x0, [x1, :lo12:v]", ADDRESS, { v: 0x40100001n });
    expect(got).toEqual({ error: golden_.lo12Misaligned });
    expect(assembleAt("ldrh w0, [x1, :lo12:v]", ADDRESS, { v: 0x40100001n })).toEqual({ error: "relocation truncated to fit: R_AARCH64_LDST16_ABS_LO12_NC" });
  });
});

describe("immediates GNU as resolves late", () => {
  it.each(golden_.late)("$insn with S = $value", (c) => {
    // S is unknown while the line is parsed (a .equ after it), so the encoding waits for the fixup.
    const [m, o] = splitStatement(c.insn);
    expect(a64Backend.assemble(m, o, context()).fixups.length).toBeGreaterThan(0);
    expect(assembleAt(c.insn, ADDRESS, { S: BigInt(c.value) })).toEqual(expected(c));
  });

  it("encodes at once when the value is known on the line", () => {
    for (const c of golden_.late.filter((l) => l.word)) {
      const [m, o] = splitStatement(c.insn);
      const insn = a64Backend.assemble(m, o, context({ S: BigInt(c.value) }));
      expect(insn.fixups, c.insn).toEqual([]);
      expect(wordHex(insn.bytes), `${c.insn} with S = ${c.value}`).toBe(c.word);
    }
  });
});

describe("code alignment padding", () => {
  it.each(golden_.codeFill)("$before bytes then .balign $align", ({ before, fill }) => {
    const size = fill.length / 2;
    expect(Buffer.from(a64Backend.codeFill(size, BigInt(before))).toString("hex")).toBe(fill);
  });
});
