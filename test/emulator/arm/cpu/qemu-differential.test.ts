// SPDX-License-Identifier: MIT
//
// The interpreter's data-processing instructions against QEMU 7.2
// (qemu-system-aarch64 -M virt -cpu max): random encodings from every class
// the interpreter implements (qemu/generate.ts), each from random registers
// and flags, run in one bare-metal image on both; X8 and NZCV after each
// must agree. Runs when qemu-system-aarch64 is installed and says clearly
// that it was skipped when not. SHOOTDOWN_A64_SEED=<n> runs another seed.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeElf } from "../../../../asm/index.ts";
import { assembleA64, a64Rig, RAM_BASE } from "../../../helpers/a64-exec.ts";
import type { Counters } from "../../../../emulator/machine/core/counters.ts";
import { generate, source, type Case } from "./qemu/generate.ts";
import { generateMemory, memorySource } from "./qemu/load-store.ts";
import { EXCEPTION_CASES, exceptionSource } from "./qemu/exceptions.ts";

const SEED = Number(process.env.SHOOTDOWN_A64_SEED ?? 0xa64_0001);
const CASES = 3000;
const RESULTS = RAM_BASE + 0x100_0000n;
const BUFFER = RAM_BASE + 0x80_0000n;
const MEMORY_CASES = 1000;

const qemu = spawnSync("qemu-system-aarch64", ["--version"]).status === 0;
if (!qemu) console.warn("qemu differential test SKIPPED: qemu-system-aarch64 is not installed");

/** Runs the image on shootdown, collecting the PL011's output, until PSCI SYSTEM_OFF. */
function onShootdown(src: string, caches = false, check?: (counters: Counters) => void): string {
  const rig = a64Rig(src, { caches });
  let out = "";
  for (;;) {
    const e = rig.cpu.run(10_000_000);
    if (e.reason === "mmio" && e.write && e.address === 0x0900_0000n) out += String.fromCharCode(Number(e.value));
    else if (e.reason === "hvc") {
      check?.(rig.cpu.counters());
      return out;
    }
    else throw new Error(`unexpected exit ${e.reason}`);
  }
}

function onQemu(src: string): string {
  const dir = mkdtempSync(join(tmpdir(), "a64-diff-"));
  try {
    const image = join(dir, "image.elf");
    writeFileSync(image, writeElf(assembleA64(src)));
    return execFileSync("qemu-system-aarch64", ["-M", "virt", "-cpu", "max", "-m", "128M", "-nographic", "-monitor", "none",
      "-serial", "stdio", "-kernel", image], { timeout: 60_000, encoding: "latin1" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

function describeCase(c: Case, i: number): string {
  return `case ${i}: .inst 0x${c.word.toString(16).padStart(8, "0")} with ${c.regs.map((v, r) => `x${r}=${hex(v)}`).join(" ")} nzcv=${c.nzcv >> 28n}`;
}

describe.skipIf(!qemu)("A64 data processing against QEMU", () => {
  it(`agrees on X8 and NZCV for ${CASES} random instructions (seed ${SEED})`, () => {
    const cases = generate(SEED, CASES);
    const src = source(cases, RESULTS);
    const ours = onShootdown(src).trim().split("\n");
    const theirs = onQemu(src).replace(/\r/g, "").trim().split("\n");
    expect(theirs.length).toBe(CASES * 2);
    const bad: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const [x8, f] = [ours[2 * i], ours[2 * i + 1]];
      const [qx8, qf] = [theirs[2 * i], theirs[2 * i + 1]];
      if (x8 !== qx8 || f !== qf) bad.push(`${describeCase(cases[i]!, i)}: x8 ${x8} nzcv ${f}, QEMU x8 ${qx8} nzcv ${qf}`);
    }
    expect(bad.slice(0, 8), `${bad.length} of ${CASES} differ`).toEqual([]);
  }, 120_000);
});

describe.skipIf(!qemu)("A64 loads and stores against QEMU", () => {
  it(`agrees on X0–X7 and the buffer for ${MEMORY_CASES} random loads and stores (seed ${SEED})`, () => {
    const cases = generateMemory(SEED, MEMORY_CASES);
    const src = memorySource(cases, BUFFER, RESULTS);
    const ours = onShootdown(src).trim().split("\n");
    // The data caches change nothing a single CPU sees.
    expect(onShootdown(src, true).trim().split("\n")).toEqual(ours);
    const theirs = onQemu(src).replace(/\r/g, "").trim().split("\n");
    expect(theirs.length).toBe(MEMORY_CASES * 9);
    const names = ["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "buffer checksum"];
    const bad: string[] = [];
    for (let i = 0; i < MEMORY_CASES; i++) {
      for (let k = 0; k < 9; k++) {
        const [a, b] = [ours[9 * i + k], theirs[9 * i + k]];
        if (a !== b) {
          bad.push(`case ${i}: .inst 0x${cases[i]!.word.toString(16).padStart(8, "0")}: ${names[k]} ${a}, QEMU ${b}`);
          break;
        }
      }
    }
    expect(bad.slice(0, 8), `${bad.length} of ${MEMORY_CASES} differ`).toEqual([]);
  }, 120_000);

  it("agrees with the MMU and the data caches on (Normal Write-Back RAM through the modelled L1)", () => {
    const cases = generateMemory(SEED + 1, MEMORY_CASES / 4);
    const src = memorySource(cases, BUFFER, RESULTS, true);
    const ours = onShootdown(src, true, (c) => {
      expect(c.cacheHits).toBeGreaterThan(100_000n);
      expect(c.tlbMisses).toBeGreaterThan(0n);
    }).trim().split("\n");
    const theirs = onQemu(src).replace(/\r/g, "").trim().split("\n");
    expect(theirs.length).toBe(cases.length * 9);
    expect(ours).toEqual(theirs);
  }, 120_000);
});

describe.skipIf(!qemu)("A64 synchronous exceptions against QEMU", () => {
  const compared = EXCEPTION_CASES.filter((c) => !c.qemuDeviates).length;
  it(`agrees on ESR_EL1, ELR_EL1, FAR_EL1 and SPSR_EL1 for ${compared} exceptions (and ${EXCEPTION_CASES.length - compared} where QEMU departs from the Arm ARM run but are not compared)`, () => {
    const src = exceptionSource(RESULTS, BUFFER);
    const ours = onShootdown(src).trim().split("\n");
    const theirs = onQemu(src).replace(/\r/g, "").trim().split("\n");
    const names = ["ESR", "ELR", "FAR", "SPSR"];
    const bad: string[] = [];
    EXCEPTION_CASES.forEach((c, i) => {
      if (c.qemuDeviates) return;
      for (let k = 0; k < 4; k++) {
        const [a, b] = [ours[4 * i + k], theirs[4 * i + k]];
        if (a !== b) bad.push(`${c.name} (${c.insn.split("\n")[0]}): ${names[k]} ${a}, QEMU ${b}`);
      }
    });
    expect(bad).toEqual([]);
  }, 120_000);
});
