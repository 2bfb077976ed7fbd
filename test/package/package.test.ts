// SPDX-License-Identifier: MIT
//
// shootdown as another project gets it: `npm pack`, the tarball installed
// into an empty directory with no network, then imported there by node (the
// README's example, verbatim), type-checked by tsc against the shipped
// declarations, and run through its bin. Needs the build (npm test runs it
// first): dist/index.js, dist/types/, dist/cli.js, dist/shootdown.wasm.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";

const ROOT = packageRoot();
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

/** The README's example: the js block after the marker line that names this test. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const m = /<!-- test\/package\/package\.test\.ts runs this example -->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no example marked for test/package/package.test.ts");
  return m[1]!;
}

let dir: string;
let files: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "shootdown-package-"));
  // --ignore-scripts: npm test has just built dist/; prepare would build it all again.
  const packed = JSON.parse(execFileSync(NPM, ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" })) as
    { filename: string; files: { path: string }[] }[];
  files = packed[0]!.files.map((f) => f.path);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  execFileSync(NPM, ["install", "--no-audit", "--no-fund", "--offline", "--ignore-scripts", join(dir, packed[0]!.filename)], { cwd: dir, encoding: "utf8" });
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the npm package", () => {
  it("ships the library, its declarations, the CLI, the hardware module and the hello images, and no tests, .wat or goldens", () => {
    for (const f of ["dist/index.js", "dist/types/emulator/index.d.ts", "dist/cli.js", "dist/shootdown.wasm", "guest/x86_64/hello.elf", "guest/aarch64/hello.elf", "package.json", "README.md"]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.startsWith("test/") || f.endsWith(".wat") || /golden/.test(f))).toEqual([]);
    // The TypeScript sources stay in the repository: the package has their JavaScript and declarations.
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("has no runtime dependencies", () => {
    const installed = JSON.parse(readFileSync(join(dir, "node_modules", "shootdown", "package.json"), "utf8"));
    expect(installed.dependencies ?? {}).toEqual({});
  });

  it("runs the README's example from the installed package: hello boots on 2 CPUs and reports its counters", () => {
    writeFileSync(join(dir, "example.mjs"), readmeExample());
    const r = spawnSync(process.execPath, ["example.mjs"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^hello from CPU 1 of 2$/m);
    expect(r.stdout).toMatch(/^ended: debug-exit, exit status 0$/m);
    const cpus = [...r.stdout.matchAll(/^CPU (\d): (\d+) instructions, TLB (\d+) hits \/ (\d+) misses, INVLPG (\d+)$/gm)];
    expect(cpus.map((m) => m[1])).toEqual(["0", "1"]);
    for (const m of cpus) expect(Number(m[3])).toBeGreaterThan(0);
    expect(r.status).toBe(0);
  });

  it("imports Machine and builds a machine whose MMU translates, as README's TypeScript examples do", () => {
    const script = `
      import { Machine, X86PageTables, PTE, PAGE_4K } from "shootdown";
      const m = new Machine({ cpus: 2, maxPhysAddr: 46, ram: [{ base: 0n, size: 64n << 20n }] });
      const pt = new X86PageTables(m.memory, { base: 0x10_0000n, limit: 0x20_0000n });
      pt.map(0x7f00_0000_0000n, 0x40_0000n, PAGE_4K, PTE.RW);
      const cpu = m.cpu(1);
      cpu.setRegisters({ cr0: 0x8001_0001n, cr3: pt.cr3(), cr4: 0x20n, efer: 0xd00n });
      const t = cpu.translate(0x7f00_0000_0010n, { op: "read", priv: "kernel" });
      console.log(m.cpus.length, t.ok, "0x" + t.pa.toString(16));
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("2 true 0x400010\n");
  });

  it("type-checks a TypeScript user of the API against the shipped declarations", () => {
    writeFileSync(join(dir, "user.ts"), [
      `import { Machine, runGuest, type RunReport, type Counters } from "shootdown";`,
      `const m = new Machine({ arch: "aarch64", cpus: 1, ram: [{ base: 0x4000_0000n, size: 4n << 20n }] });`,
      `const report: RunReport = runGuest(new Uint8Array(0), { cpus: 2 });`,
      `const hits: bigint = report.cpus[0]!.counters.tlbHits;`,
      `const counters: Counters = m.cpu(0).counters();`,
      `// @ts-expect-error a Machine has no such method: the declarations are the real ones, not any`,
      `m.frobnicate();`,
      `export { hits, counters };`,
    ].join("\n"));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: { strict: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", noEmit: true, types: [] },
      files: ["user.ts"],
    }));
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", "."], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });

  it("installs the shootdown command, which finds its hardware module in the installed package", () => {
    const bin = join(dir, "node_modules", ".bin", "shootdown");
    expect(execFileSync(bin, ["--version"], { encoding: "utf8" })).toBe(`shootdown ${version}\n`);
    const hello = join(dir, "node_modules", "shootdown", "guest", "aarch64", "hello.elf");
    const r = spawnSync(bin, ["run", hello, "--cpus", "2", "--json"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 0, end: { kind: "power-off", reset: false } });
    expect(r.status).toBe(0);
  });
});
