// SPDX-License-Identifier: MIT
//
// Running a C kernel's ELF the way `shootdown run ELF --cpus N` does with
// its defaults (64 MiB on x86-64, 128 MiB on AArch64, round-robin), in this
// process, for the C kernel tests.

import { readFileSync } from "node:fs";
import { runImage as runEngine } from "../../../emulator/run.ts";

/** The console, and whether the run ended cleanly (status 0 to the debug-exit port, or PSCI SYSTEM_OFF). */
export function runImage(elf: string, cpus: number): { console: string; clean: boolean; end: string } {
  const image = new Uint8Array(readFileSync(elf));
  const aarch64 = image[18] === 0xb7; // e_machine EM_AARCH64
  const bytes: number[] = [];
  const report = runEngine({
    cpus, memBytes: (aarch64 ? 128n : 64n) << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000,
    maxSteps: 2_000_000_000n, tlbChaos: undefined, image, console: (b) => bytes.push(b),
  });
  const end = report.end;
  const clean = end.kind === "debug-exit" ? end.code === 0n : end.kind === "power-off" && !end.reset;
  return { console: Buffer.from(bytes).toString("latin1"), clean, end: JSON.stringify(end, (_, v) => (typeof v === "bigint" ? String(v) : v)) };
}
