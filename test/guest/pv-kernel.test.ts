// SPDX-License-Identifier: MIT
//
// guest/x86_64/pv/kernel: the PV kernel of issue 12. npm run build made
// kernel.elf from the sources of today, and GNU as + ld (when installed)
// make the same bytes of them; the x86-64 hello is held to binutils the
// same way. Running the kernel needs the hypervisor (hypervisor/);
// test/guest/pv-mock.test.ts boots it on a test-only mock meanwhile.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble, formatDiagnostic, writeElf, type Program } from "../../asm/index.ts";
import { ROOT } from "../helpers/run.ts";
import { GNU_X86_64, gnuSections, hasGnuTools } from "../helpers/gnu.ts";

/** The x86-64 guest images and the directory each is built in (-I that directory). */
const IMAGES = [
  { dir: join(ROOT, "guest", "x86_64"), name: "hello" },
  { dir: join(ROOT, "guest", "x86_64", "pv"), name: "kernel" },
];

/** The image as guest/build.mjs builds it now. */
function assembleGuest(dir: string, name: string, edit: (text: string) => string = (t) => t): Program {
  const path = join(dir, `${name}.s`);
  const r = assemble("x86_64", { sources: [{ path, text: edit(readFileSync(path, "utf8")) }], includeDirs: [dir] });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return r.program;
}

const binutils = hasGnuTools(GNU_X86_64);
if (!binutils) console.warn("x86-64 guest images: GNU binutils is not installed, skipping the comparison with GNU as + ld");

describe.each(IMAGES)("guest/x86_64 $name", ({ dir, name }) => {
  it(`npm run build made ${name}.elf from the current sources`, () => {
    const elf = join(dir, `${name}.elf`);
    expect(existsSync(elf)).toBe(true);
    expect(new Uint8Array(readFileSync(elf))).toEqual(writeElf(assembleGuest(dir, name)));
  });

  it.skipIf(!binutils)(`assembles with GNU as + ld to the same bytes${binutils ? "" : " (skipped without binutils)"}`, () => {
    const program = assembleGuest(dir, name);
    const gnu = gnuSections(GNU_X86_64, dir, name, program);
    for (const s of program.sections.filter((s) => s.bytes.length > 0)) {
      expect(gnu.get(s.name)?.length, s.name).toBe(s.bytes.length);
      expect(Buffer.compare(gnu.get(s.name)!, Buffer.from(s.bytes)), s.name).toBe(0);
    }
  });
});

describe("guest/x86_64/pv/kernel", () => {
  it("is laid out as its README says: .text at 0x100000 (virt_base 0), page-aligned tables in .bss", () => {
    const p = assembleGuest(IMAGES[1]!.dir, "kernel");
    const text = p.sections.find((s) => s.name === ".text")!;
    expect(text.address).toBe(0x100000n);
    const sym = (n: string) => p.symbols.find((s) => s.name === n)!.value;
    expect(sym("page_tables") % 4096n).toBe(0n);
    // L4, L3, the boot, churn and hook L2s, and a churn L1 per vCPU (32 at most); the boot L1s are the builder's.
    expect(sym("page_tables_end") - sym("page_tables")).toBe(BigInt(4096 * (5 + 32)));
    expect(sym("stacks") % 4096n).toBe(0n);
    expect(p.entry).toBe(sym("_start"));
  });
});
