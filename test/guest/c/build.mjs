#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Building C kernels for the tests with the distribution's GCC, through the
// examples' own Makefiles (guest/c/<arch>/Makefile: `make image SRC= OUT=`),
// so that the tests compile with exactly the flags a user copies.
//
// As a script it refreshes what the tests keep for machines without GCC or
// QEMU: the corpus (test/guest/c/corpus/*.c) built for both architectures at
// -O0, -O2 and -Os into test/guest/c/prebuilt/<name>-<arch><opt>.elf
// (stripped), and the console each prints on QEMU's virt board (the
// AArch64 -O2 build) into test/golden/guest/c/<name>.txt. The corpus prints
// the same on both architectures and at every level, so one golden file per
// kernel holds all six builds to QEMU's output.
//
// Usage: npm run build; node test/guest/c/build.mjs [--check]

import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runQemu, qemuAvailable, QEMU } from "../../golden/guest/regenerate-aarch64.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, "..", "..", "..");
export const CORPUS_DIR = join(HERE, "corpus");
export const PREBUILT_DIR = join(HERE, "prebuilt");
export const GOLDEN_DIR = join(ROOT, "test", "golden", "guest", "c");
export const EXAMPLES_DIR = join(ROOT, "guest", "c");
export const ARCHES = ["x86_64", "aarch64"];
export const OPT_LEVELS = ["-O0", "-O2", "-Os"];
export const COMPILERS = { x86_64: "gcc", aarch64: "aarch64-linux-gnu-gcc" };
const STRIP = { x86_64: "strip", aarch64: "aarch64-linux-gnu-strip" };

/** Is the architecture's compiler (and make) installed? */
export function compilerAvailable(arch) {
  const ok = (cmd) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
  return ok(COMPILERS[arch]) && ok("make");
}

/** The corpus kernels' names, sorted. */
export function corpusNames() {
  return readdirSync(CORPUS_DIR).filter((f) => f.endsWith(".c")).map((f) => f.slice(0, -2)).sort();
}

let scratch;
/** A path in a fresh temporary directory. */
export function scratchPath(name) {
  scratch ??= mkdtempSync(join(tmpdir(), "shootdown-c-"));
  return join(scratch, name);
}

/**
 * Compiles a one-file kernel with the architecture's example Makefile;
 * extra make variables (MARCH=armv8-a) in `vars`. Returns the ELF's path,
 * or throws with the compiler's messages.
 */
export function buildKernel(arch, source, opt, out, vars = {}) {
  const args = ["-s", "-C", join(EXAMPLES_DIR, arch), "image", `SRC=${source}`, `OUT=${out}`, `OPT=${opt}`];
  for (const [k, v] of Object.entries(vars)) args.push(`${k}=${v}`);
  const r = spawnSync("make", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`make ${args.join(" ")}:\n${r.stdout}${r.stderr}`);
  return out;
}

/** Builds an example (hello, paging, smp) of guest/c/<arch> into a scratch file. */
export function buildExample(arch, name, opt = "-O2") {
  return buildKernel(arch, join(EXAMPLES_DIR, arch, `${name}.c`), opt, scratchPath(`${name}-${arch}${opt}.elf`));
}

export const prebuiltPath = (name, arch, opt) => join(PREBUILT_DIR, `${name}-${arch}${opt}.elf`);
export const goldenPath = (name) => join(GOLDEN_DIR, `${name}.txt`);

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes("--check");
  for (const arch of ARCHES) {
    if (!compilerAvailable(arch)) {
      console.error(`${COMPILERS[arch]} or make is not installed`);
      process.exit(1);
    }
  }
  if (!qemuAvailable()) {
    console.error(`${QEMU} is not installed`);
    process.exit(1);
  }
  let stale = 0;
  const update = (path, bytes) => {
    const same = existsSync(path) && Buffer.compare(readFileSync(path), bytes) === 0;
    if (same) return;
    stale++;
    if (check) console.error(`${path} is not current`);
    else writeFileSync(path, bytes);
  };
  for (const name of corpusNames()) {
    for (const arch of ARCHES) {
      for (const opt of OPT_LEVELS) {
        const elf = buildKernel(arch, join(CORPUS_DIR, `${name}.c`), opt, scratchPath(`${name}-${arch}${opt}.elf`));
        const stripped = scratchPath(`${name}-${arch}${opt}.stripped.elf`);
        const s = spawnSync(STRIP[arch], ["-o", stripped, elf], { encoding: "utf8" });
        if (s.status !== 0) throw new Error(s.stderr);
        update(prebuiltPath(name, arch, opt), readFileSync(stripped));
      }
    }
    const q = runQemu(scratchPath(`${name}-aarch64-O2.elf`));
    if (q.status !== 0 || q.timedOut) throw new Error(`${name} on QEMU: status ${q.status}\n${q.stderr}`);
    update(goldenPath(name), q.stdout);
  }
  console.log(check ? (stale ? `${stale} file(s) not current` : "all current") : `${stale} file(s) written`);
  process.exit(check && stale ? 1 : 0);
}
