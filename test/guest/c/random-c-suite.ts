// SPDX-License-Identifier: MIT
//
// The property test of issue 16 (random-c-x86_64.test.ts and
// random-c-aarch64.test.ts run it): a few hundred random C functions
// (random-c.ts), compiled by GCC for each architecture at -O0, -O2 and -Os
// with the examples' flags, run as shootdown kernels, and compared with the
// same functions compiled for and run on the host x86-64 processor; on
// AArch64 also with QEMU's virt board running the AArch64 kernel. The
// functions are free of undefined behaviour and use only what GCC defines
// the same on both targets, so all of them must agree. Skipped, and saying
// so, without the compilers (or QEMU for its part).
// SHOOTDOWN_C_SEED=<n> runs other functions.

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { ARCHES as ArchList } from "./build.mjs";
import { COMPILERS, buildKernel, compilerAvailable, scratchPath } from "./build.mjs";
import { HOST_MAIN, KERNEL_MAIN, randomProgram } from "./random-c.ts";
import { runImage } from "./run.ts";
import { QEMU, qemuAvailable, runQemu } from "../../golden/guest/regenerate-aarch64.mjs";

const BASE_SEED = Number(process.env.SHOOTDOWN_C_SEED ?? 16);
const PROGRAMS = 2;
const FUNCTIONS = 100;
const OPT_LEVELS = ["-O0", "-O2", "-Os"];

const hostIsX86 = process.arch === "x64" && process.platform === "linux";
const hostCompiler = hostIsX86 && spawnSync("gcc", ["--version"], { stdio: "ignore" }).status === 0;
const qemu = qemuAvailable();

interface Program {
  seed: number;
  source: string;
  kernelMain: string;
  /** The host's output, when it can run the functions. */
  expected?: string;
}

function program(i: number): Program {
  const seed = BASE_SEED + i;
  const source = scratchPath(`random-${seed}.c`);
  writeFileSync(source, randomProgram(seed, FUNCTIONS));
  const kernelMain = scratchPath(`random-kmain-${seed}.c`);
  writeFileSync(kernelMain, KERNEL_MAIN);
  if (!hostCompiler) return { seed, source, kernelMain };
  const hostMain = scratchPath(`random-hmain-${seed}.c`);
  writeFileSync(hostMain, HOST_MAIN);
  const exe = scratchPath(`random-host-${seed}`);
  const cc = spawnSync("gcc", ["-O0", "-w", "-o", exe, source, hostMain], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`gcc for the host:\n${cc.stderr}`);
  const run = spawnSync(exe, [], { encoding: "latin1" });
  if (run.status !== 0) throw new Error(`the host program failed: ${run.status}`);
  return { seed, source, kernelMain, expected: run.stdout };
}

/** The first lines that differ, for the message. */
function firstDifferences(got: string, want: string): string {
  const g = got.split("\n");
  const w = want.split("\n");
  const out: string[] = [];
  for (let i = 0; i < Math.max(g.length, w.length) && out.length < 4; i++) if (g[i] !== w[i]) out.push(`line ${i + 1}: ${g[i]} (expected ${w[i]})`);
  return out.join("\n");
}

const programs: Program[] = [];
const get = (i: number) => (programs[i] ??= program(i));

/** Defines the property test for one architecture (one test file each, so that vitest runs them side by side). */
export function randomCSuite(arch: (typeof ArchList)[number]): void {
  const available = compilerAvailable(arch);
  const reference = arch === "x86_64" ? hostCompiler : hostCompiler || qemu;
  const skip = !available || !reference;
  const why = !available ? `${COMPILERS[arch]} is not installed` : !reference ? "neither the host's gcc nor QEMU can run the reference" : "";
  if (skip) console.warn(`random C functions on ${arch}: skipped (${why})`);
  describe(`${PROGRAMS * FUNCTIONS} random C functions on ${arch}${skip ? ` (skipped: ${why})` : ""}`, () => {
    it.skipIf(skip).each(Array.from({ length: PROGRAMS }, (_, i) => i))("program %i: every function gives the host's result at -O0, -O2 and -Os", (i) => {
      const p = get(i);
      let reference = p.expected;
      for (const opt of OPT_LEVELS) {
        const elf = buildKernel(arch, `${p.kernelMain} ${p.source}`, opt, scratchPath(`random-${p.seed}-${arch}${opt}.elf`));
        const r = runImage(elf, 1);
        expect(r.clean, `seed ${p.seed} ${arch} ${opt}: ${r.end}`).toBe(true);
        if (arch === "aarch64" && qemu && (opt === "-O2" || p.expected === undefined)) {
          // QEMU runs the same AArch64 image: it must print what shootdown prints.
          const q = runQemu(elf);
          expect(q.status).toBe(0);
          const theirs = q.stdout.toString("latin1");
          expect(r.console, `seed ${p.seed} ${opt} against QEMU:\n${firstDifferences(r.console, theirs)}`).toBe(theirs);
          reference ??= theirs;
        }
        expect(r.console.split("\n").length).toBe(FUNCTIONS + 1);
        expect(r.console, `seed ${p.seed} ${arch} ${opt} against the host:\n${firstDifferences(r.console, reference!)}\n(source: ${p.source})`).toBe(reference);
      }
    });
  });
}
