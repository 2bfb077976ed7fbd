// SPDX-License-Identifier: MIT
//
// The C examples users copy (guest/c/<arch>/{hello,paging,smp}.c), built
// with Debian's GCC by their own Makefile, boot under `shootdown run`, bare,
// on 1 and 4 CPUs and end cleanly with what they should print; the AArch64
// ones print the same on QEMU's virt board (issue 16, "Done when"). Without
// a compiler the builds are skipped, and the test says so.

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CLI, ROOT } from "../../helpers/run.ts";
import { ARCHES, COMPILERS, buildExample, compilerAvailable } from "./build.mjs";
import { QEMU, QEMU_ARGS, qemuAvailable, runQemu } from "../../golden/guest/regenerate-aarch64.mjs";

type Arch = (typeof ARCHES)[number];

function run(elf: string, cpus: number) {
  const r = spawnSync(process.execPath, [CLI, "run", elf, "--cpus", String(cpus)], {
    cwd: ROOT, encoding: "latin1", timeout: 120_000, killSignal: "SIGKILL",
  });
  return { status: r.status, console: r.stdout ?? "", summary: r.stderr ?? "" };
}

/** What each example prints on n CPUs. */
const EXPECTED: Record<Arch, Record<string, (n: number) => string>> = {
  x86_64: {
    hello: (n) => `hello from C on x86-64: ${n} CPU(s), 64 MiB of RAM\n`,
    paging: () => PAGING_X86,
    smp: (n) =>
      Array.from({ length: n }, (_, k) => `hello from CPU ${k} of ${n} (x2APIC ID ${k})\n`).join("") +
      `IPIs: sent ${n - 1}, taken ${n - 1}\nsmp: all checks passed\n`,
  },
  aarch64: {
    hello: () => "hello from C on AArch64: CPU 0 at EL1\n",
    paging: () => PAGING_A64,
    smp: (n) =>
      Array.from({ length: n }, (_, k) => `hello from CPU ${k}\n`).join("") +
      `${n} CPU(s) online\nSGIs: sent ${n - 1}, taken ${n - 1}\nsmp: all checks passed\n`,
  },
};

const PAGING_X86 = `map: the window reads page A: aaaa (ok)
map: a write through the window lands in page A: a1 (ok)
remap: after INVLPG the window reads page B: bbbb (ok)
unmap: page faults taken: 1 (ok)
unmap: the fault's address (CR2): 123456789000 (ok)
unmap: after the fault the window reads page A: a1 (ok)
paging: all checks passed
`;
const PAGING_A64 = `map: the window reads page A: aaaa (ok)
map: a write through the window lands in page A: a1 (ok)
remap: after break-before-make the window reads page B: bbbb (ok)
unmap: AT S1E1R reports a fault (PAR_EL1.F): 1 (ok)
unmap: a level-3 translation fault (PAR_EL1.FST): 7 (ok)
paging: all checks passed
`;

const qemu = qemuAvailable();

for (const arch of ARCHES) {
  const available = compilerAvailable(arch);
  if (!available) console.warn(`C examples: ${COMPILERS[arch]} (or make) is not installed; skipping the ${arch} examples`);
  describe(`guest/c/${arch}${available ? "" : ` (skipped: ${COMPILERS[arch]} is not installed)`}`, () => {
    for (const name of ["hello", "paging", "smp"]) {
      it.skipIf(!available)(`${name} builds with make and runs to a clean exit on 1 and 4 CPUs`, () => {
        const elf = buildExample(arch, name);
        for (const n of [1, 4]) {
          const r = run(elf, n);
          expect(r.console, r.summary).toBe(EXPECTED[arch][name]!(n));
          expect(r.summary).toMatch(/^result: success /m);
          expect(r.status).toBe(0);
        }
      });
      if (arch === "aarch64") {
        it.skipIf(!available || !qemu)(`${name} prints the same on QEMU virt (-smp 4)${qemu ? "" : ` (skipped: ${QEMU} is not installed)`}`, () => {
          expect(QEMU_ARGS).toContain("4");
          const q = runQemu(buildExample(arch, name));
          expect(q.status).toBe(0);
          expect(q.stdout.toString("latin1")).toBe(EXPECTED.aarch64[name]!(4));
        });
      }
    }
  });
}
