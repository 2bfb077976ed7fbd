// SPDX-License-Identifier: MIT
//
// guest/x86_64/hello: every CPU says hello in order, IPIs go from every CPU
// to every other, each CPU's flushes (INVLPG, CR3 with and without bit 63,
// INVPCID) make its remapped page visible, and CPU 0 reports success, for
// any CPU count and any interleaving.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { HELLO_SOURCE, ROOT, image, runSource, shootdown, tmpFile } from "../helpers/run.ts";

const HELLO_ELF = join(ROOT, "guest", "x86_64", "hello.elf");
const source = readFileSync(HELLO_SOURCE, "utf8");
const hello = image(source, { path: HELLO_SOURCE });

function expectedConsole(n: number, cmdline = ""): string {
  const lines = cmdline ? [`command line: ${cmdline}`] : [];
  for (let k = 0; k < n; k++) lines.push(`hello from CPU ${k} of ${n}`);
  lines.push(`IPIs: sent ${n * (n - 1)}, received ${n * (n - 1)}`, `TLB flush checks: passed ${4 * n}, failed 0`, "all checks passed", "");
  return lines.join("\n");
}

describe("hello", () => {
  it("npm run build made guest/x86_64/hello.elf from the current hello.s", () => {
    expect(existsSync(HELLO_ELF)).toBe(true);
    expect(new Uint8Array(readFileSync(HELLO_ELF))).toEqual(hello);
  });

  it("shootdown run guest/x86_64/hello.elf --cpus 4: the output, status 0, IPIs and flushes in the summary", () => {
    const r = shootdown("run", "guest/x86_64/hello.elf", "--cpus", "4");
    expect(r.stdout).toBe(expectedConsole(4));
    expect(r.stderr).toMatch(/^result: success \(CPU 0 wrote 0 to the debug-exit port 0xf4\) \(exit status 0\)$/m);
    expect(r.stderr).toMatch(/^IPIs: sent 12, taken 12; exceptions 0, interrupts 12$/m);
    expect(r.stderr).toMatch(
      /^invalidations: INVLPG 4, INVPCID address 4 \/ single-context 0 \/ all 0 \/ all\+global 0, CR3 writes flushing 8 \/ no-flush 4$/m,
    );
    expect(r.stderr).toMatch(/^state hash: 0x[0-9a-f]+$/m);
    expect(r.status).toBe(0);
  });

  it.each([1, 2, 3, 8])("on %i CPU(s), round-robin", (n) => {
    const r = runSource(hello, { cpus: n });
    expect(r.console).toBe(expectedConsole(n));
    expect(r.end).toEqual({ kind: "debug-exit", code: 0n, cpu: 0 });
    const sum = (f: (c: (typeof r.cpus)[number]["counters"]) => bigint) => r.cpus.reduce((t, c) => t + f(c.counters), 0n);
    expect(sum((c) => c.ipisSent)).toBe(BigInt(n * (n - 1)));
    expect(sum((c) => c.ipisTaken)).toBe(BigInt(n * (n - 1)));
    expect(sum((c) => c.exceptions)).toBe(0n);
    for (const c of r.cpus) {
      expect(c.counters).toMatchObject({ invlpg: 1n, invpcidAddress: 1n, cr3NoFlush: 1n, cr3Flush: 2n });
    }
  });

  it("under random interleavings, fine and coarse, with and without TLB chaos", () => {
    for (const [seed, quantum, tlbChaos] of [[1n, 1, undefined], [2n, 7, undefined], [3n, 1000, 0.2], [4n, 3, 1]] as const) {
      const r = runSource(hello, { cpus: 4, mode: "random", seed, quantum, tlbChaos });
      expect(r.console, `seed ${seed}`).toBe(expectedConsole(4));
      expect(r.status, `seed ${seed}`).toBe(0);
    }
  });

  it("shows the command line it was given", () => {
    const r = runSource(hello, { cpus: 2, cmdline: "flush=ipi verbose" });
    expect(r.console).toBe(expectedConsole(2, "flush=ipi verbose"));
  });

  it("reports a failed check: a CPU whose flush is skipped sees the stale page", () => {
    // Without the INVLPG the alias keeps translating to page_a, which the
    // TLB still holds: the check after it fails and CPU 0 exits with 1.
    const broken = image(source.replace("        invlpg (%r14)\n", ""), { path: HELLO_SOURCE });
    const r = runSource(broken, { cpus: 2 });
    expect(r.console).toContain("TLB flush checks: passed 6, failed 2\nFAILED\n");
    expect(r.end).toEqual({ kind: "debug-exit", code: 1n, cpu: 0 });
    expect(r.status).toBe(1);
  });

  it("guest/build.mjs fails loudly on an assembly error", () => {
    const dir = dirname(tmpFile("guests/x"));
    mkdirSync(join(dir, "x86_64"), { recursive: true });
    writeFileSync(join(dir, "x86_64", "bad.s"), "_start:\n  movq %rax\n");
    const r = spawnSync(process.execPath, [join(ROOT, "guest", "build.mjs"), dir], { encoding: "utf8" });
    expect(r.stderr).toMatch(/bad\.s:2: Error: /);
    expect(r.stderr).toMatch(/guest\/build\.mjs: cannot assemble .*bad\.s/);
    expect(r.status).toBe(1);
  });
});
