// SPDX-License-Identifier: MIT
//
// Guests for `shootdown run` tests: assemble a source into an ELF image (in
// a temporary directory), run it through the bundled CLI or in-process
// through runX86, and read the summary.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assemble, formatDiagnostic, writeElf, type ArchName } from "../../asm/index.ts";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";
import { runX86, type RunConfig, type RunReport } from "../../emulator/run.ts";

export const ROOT = packageRoot();
export const CLI = join(ROOT, "dist", "cli.js");
export const HELLO_SOURCE = join(ROOT, "guest", "x86_64", "hello.s");

/** An ELF image of a source, .text at `base` (default 0x100000). */
export function image(source: string, opts: { arch?: ArchName; base?: bigint; path?: string } = {}): Uint8Array {
  const arch = opts.arch ?? "x86_64";
  const starts = new Map<string, bigint>();
  if (opts.base !== undefined) starts.set(".text", opts.base);
  const r = assemble(arch, { sources: [{ path: opts.path ?? "guest.s", text: source }], sectionStarts: starts });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return writeElf(r.program);
}

let dir: string | undefined;
let files = 0;
/** A fresh temporary file path. */
export function tmpFile(name: string): string {
  dir ??= mkdtempSync(join(tmpdir(), "shootdown-run-"));
  return join(dir, `${files++}-${name}`);
}

/** Writes an image (bytes, or a source to assemble) to a temporary file. */
export function imageFile(what: Uint8Array | string, name = "guest.elf"): string {
  const path = tmpFile(name);
  writeFileSync(path, typeof what === "string" ? image(what) : what);
  return path;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function shootdown(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000, cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The --stats JSON object from the last line of stderr. */
export function stats(r: CliResult): Record<string, any> {
  const line = r.stderr.trim().split("\n").at(-1)!;
  return JSON.parse(line);
}

/** Runs in-process with the defaults of `shootdown run`; console bytes collected. */
export function runSource(source: string | Uint8Array, config: Partial<Omit<RunConfig, "image" | "console">> = {}): RunReport & { console: string } {
  const bytes: number[] = [];
  const report = runX86({
    cpus: 1, memBytes: 64n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000, maxSteps: undefined, tlbChaos: undefined,
    ...config,
    image: typeof source === "string" ? image(source) : source,
    console: (b) => bytes.push(b),
  });
  return { ...report, console: Buffer.from(bytes).toString("latin1") };
}
