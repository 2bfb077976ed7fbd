// SPDX-License-Identifier: MIT
//
// Kernels written in C, compiled by Debian's GCC 12 for x86-64 and AArch64
// at -O0, -O2 and -Os with the flags of the examples' Makefiles
// (guest/c/<arch>/Makefile), boot under `shootdown run` and print what QEMU's
// virt board prints for the same AArch64 kernel (issue 16).
//
// Three sources of images, so that each check runs wherever it can:
// - test/guest/c/prebuilt/: the corpus built once (test/guest/c/build.mjs),
//   run on every machine, GCC or not;
// - the corpus built now with the installed GCC (skipped, and saying so,
//   without one), which also catches a GCC whose output differs;
// - QEMU (skipped without qemu-system-aarch64), which the golden files came from.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runImage } from "./run.ts";
import {
  ARCHES, COMPILERS, CORPUS_DIR, OPT_LEVELS, buildKernel, compilerAvailable, corpusNames, goldenPath, prebuiltPath, scratchPath,
} from "./build.mjs";
import { QEMU, qemuAvailable, runQemu } from "../../golden/guest/regenerate-aarch64.mjs";

type Arch = (typeof ARCHES)[number];

const names = corpusNames();
const golden = (name: string) => readFileSync(goldenPath(name), "latin1");
const cases = names.flatMap((name) => ARCHES.flatMap((arch) => OPT_LEVELS.map((opt) => [name, arch, opt] as [string, Arch, string])));

function expectSameAsQemu(name: string, elf: string, cpus: number): void {
  const r = runImage(elf, cpus);
  expect(r.console, `${elf}: ${r.end}`).toBe(golden(name));
  expect(r.clean, r.end).toBe(true);
}

describe("C kernels built by GCC, as kept in test/guest/c/prebuilt", () => {
  it("the corpus has kernels, and every one has its golden output", () => {
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) expect(golden(name)).toMatch(/\n$/);
  });

  it.each(cases)("%s for %s at %s prints what QEMU printed", (name, arch, opt) => {
    expectSameAsQemu(name, prebuiltPath(name, arch, opt), 1);
  });

  it.each(ARCHES)("on 4 CPUs too (%s, -O2; the other CPUs stop or stay off)", (arch) => {
    for (const name of ["atomics", "memory"]) expectSameAsQemu(name, prebuiltPath(name, arch, "-O2"), 4);
  });
});

for (const arch of ARCHES) {
  const available = compilerAvailable(arch);
  if (!available) console.warn(`C kernels: ${COMPILERS[arch]} (or make) is not installed; skipping the ${arch} builds`);
  describe(`C kernels built now with ${COMPILERS[arch]}${available ? "" : ` (skipped: ${COMPILERS[arch]} is not installed)`}`, () => {
    it.skipIf(!available).each(names)("%s at -O0, -O2 and -Os", (name) => {
      for (const opt of OPT_LEVELS) {
        const elf = buildKernel(arch, join(CORPUS_DIR, `${name}.c`), opt, scratchPath(`${name}-${arch}${opt}.elf`));
        expectSameAsQemu(name, elf, 1);
      }
    });
    if (arch === "aarch64") {
      // Without LSE, GCC's 16-byte atomics are LDXP/STXP loops rather than CASP.
      it.skipIf(!available)("atomics at -march=armv8-a (exclusive pairs instead of CASP)", () => {
        for (const opt of ["-O0", "-O2"]) {
          const elf = buildKernel(arch, join(CORPUS_DIR, "atomics.c"), opt, scratchPath(`atomics-armv8${opt}.elf`), { MARCH: "armv8-a" });
          const dump = spawnSync("aarch64-linux-gnu-objdump", ["-d", elf], { encoding: "utf8" }).stdout;
          expect(dump).toMatch(/\bldaxp|\bldxp/);
          expect(dump).not.toMatch(/\bcasp/);
          expectSameAsQemu("atomics", elf, 1);
        }
      });
    }
  });
}

const qemu = qemuAvailable();
describe(`the golden files are QEMU's output${qemu ? "" : ` (skipped: ${QEMU} is not installed)`}`, () => {
  it.skipIf(!qemu).each(names)("%s (the prebuilt AArch64 -O2 image) on QEMU virt", (name) => {
    const q = runQemu(prebuiltPath(name, "aarch64", "-O2"));
    expect(q.status).toBe(0);
    expect(q.stdout.toString("latin1")).toBe(golden(name));
  });
});
