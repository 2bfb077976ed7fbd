// SPDX-License-Identifier: MIT
//
// guest/c/include/shootdown-annotate.h from a C kernel built with Debian's
// GCC, on both architectures: a walker section that reads a frame freed
// inside it stops the run with status 4; the same kernel taking the frame
// back first runs clean. On QEMU's virt board, where shootdown is absent,
// the query says so and the calls do nothing. Without a compiler (or QEMU)
// the tests are skipped, and say so.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT } from "../../helpers/run.ts";
import { ARCHES, COMPILERS, buildKernel, compilerAvailable, scratchPath } from "./build.mjs";
import { QEMU, qemuAvailable, runQemu } from "../../golden/guest/regenerate-aarch64.mjs";

const SOURCE = join(ROOT, "test", "guest", "c", "annotate", "walker.c");
const qemu = qemuAvailable();

function run(elf: string) {
  const r = spawnSync(process.execPath, [CLI, "run", elf, "--stats"], { cwd: ROOT, encoding: "latin1", timeout: 120_000, killSignal: "SIGKILL" });
  return { status: r.status, console: r.stdout ?? "", stats: JSON.parse((r.stderr ?? "").trim().split("\n").at(-1)!) };
}

for (const arch of ARCHES) {
  const available = compilerAvailable(arch);
  if (!available) console.warn(`annotations from C: ${COMPILERS[arch]} (or make) is not installed; skipping ${arch}`);
  describe(`shootdown-annotate.h on ${arch}${available ? "" : ` (skipped: ${COMPILERS[arch]} is not installed)`}`, () => {
    const build = (realloc: boolean) => buildKernel(arch, SOURCE, realloc ? "-O2 -DREALLOC" : "-O2", scratchPath(`annotate-${arch}${realloc ? "-realloc" : ""}.elf`));

    it.skipIf(!available)("a walker's read of a frame it freed inside its section: status 4 (event a)", () => {
      const r = run(build(false));
      expect(r.status).toBe(4);
      expect(r.console).toBe("annotations present\n");
      expect(r.stats.end.message).toMatch(/^CPU 0 inside its walker section \(begun at step \d+\) read VA 0x[0-9a-f]+ in frame/);
    });

    it.skipIf(!available)("the frame taken back before the read: a clean run", () => {
      const r = run(build(true));
      expect(r.status).toBe(0);
      expect(r.console).toBe("annotations present\nread 0x1234\n");
      expect(r.stats.annotations.made).toEqual({ WALK_BEGIN: 1, FREE: 1, ALLOC: 1, WALK_END: 1 });
    });

    if (arch === "aarch64") {
      it.skipIf(!available || !qemu)(`on QEMU virt the annotations are absent and harmless${qemu ? "" : ` (skipped: ${QEMU} is not installed)`}`, () => {
        for (const realloc of [false, true]) {
          const q = runQemu(build(realloc));
          expect(q.timedOut).toBe(false);
          expect(q.stdout.toString("latin1")).toBe("annotations absent\nread 0x1234\n");
        }
      });
    }
  });
}
