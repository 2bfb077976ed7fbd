// SPDX-License-Identifier: MIT
//
// `shootdown disasm --source` promises source that assembles back to the
// same bytes. Issue 17: `7c c2`, a jl whose target lies outside the file,
// came back as a 6-byte jl (GNU as relaxes a branch short only to a label of
// its own section); now such a branch is `.byte`. Random code must keep the
// promise too.

import { describe, expect, it } from "vitest";
import { assemble, backendFor, formatDiagnostic, toSource, type ArchName, type Program } from "../../asm/index.ts";
import { prng } from "../helpers/prng.ts";

function raw(arch: ArchName, bytes: Uint8Array, base = 0n): Program {
  return {
    arch, entry: base, symbols: [],
    sections: [{ name: ".text", type: "progbits", flags: { alloc: true, write: false, exec: true }, address: base, align: 1, size: bytes.length, bytes }],
  };
}

/** toSource, assembled again at the same places: the bytes of .text. */
function roundTrip(program: Program): { source: string; bytes: Uint8Array | undefined; errors: string[] } {
  const { text, sectionStarts } = toSource(program, backendFor(program.arch));
  const r = assemble(program.arch, { sources: [{ path: "s.s", text }], sectionStarts, readFile: () => undefined });
  return { source: text, bytes: r.program?.sections.find((s) => s.name === ".text")?.bytes, errors: r.diagnostics.map(formatDiagnostic) };
}

describe("disasm --source reassembles to the same bytes", () => {
  it("a short branch whose target is outside the file becomes .byte", () => {
    const r = roundTrip(raw("x86_64", Uint8Array.of(0x7c, 0xc2)));
    expect(r.source).toContain(".byte 0x7c,0xc2");
    expect(r.errors).toEqual([]);
    expect([...r.bytes!]).toEqual([0x7c, 0xc2]);
  });

  it("short branches inside the file stay instructions", () => {
    const r = roundTrip(raw("x86_64", Uint8Array.of(0x90, 0x7c, 0xfd, 0xeb, 0xfc), 0x1000n));
    expect(r.source).toMatch(/\tjl \S+\n/);
    expect(r.source).toMatch(/\tjmp \S+\n/);
    expect([...r.bytes!]).toEqual([0x90, 0x7c, 0xfd, 0xeb, 0xfc]);
  });

  it.each(["x86_64", "aarch64"] as const)("random %s code", (arch) => {
    const random = prng(17);
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: 256 }, () => Math.floor(random() * 256));
      const r = roundTrip(raw(arch, bytes, 0x40_0000n));
      expect(r.errors, r.source).toEqual([]);
      expect(Buffer.from(r.bytes!).toString("hex"), r.source).toBe(Buffer.from(bytes).toString("hex"));
    }
  });
});
