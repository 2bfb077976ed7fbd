// SPDX-License-Identifier: MIT
//
// Booting a whole image: what `shootdown run` does, as one call of the
// package's API. The command line (cli/run.ts) and the debugger (cli/debug.ts)
// take their defaults from here, so a script and the CLI build the same
// machine from the same image.

import { runX86 } from "./machine/x86-run.ts";
import { runArm } from "./machine/arm-run.ts";
import type { RunReport } from "./machine/run-loop.ts";
import type { RecordedOptions } from "./machine/schedule-file.ts";

export type ImageArch = "x86_64" | "aarch64";

const DEFAULTS = { cpus: 1, cmdline: "", quantum: 1000 } as const;
/** RAM by architecture: QEMU virt's default for AArch64. */
const DEFAULT_MEM: Record<ImageArch, bigint> = { x86_64: 64n << 20n, aarch64: 128n << 20n };

/** The architecture an image is for, from e_machine; anything else goes to the x86-64 loader, which says what is wrong. */
export function imageArch(image: Uint8Array): ImageArch {
  const elf = image.length >= 20 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
  return elf && image[18] === 183 && image[19] === 0 ? "aarch64" : "x86_64";
}

/** The options of a run: what is given, and `shootdown run`'s defaults for the rest. */
export function withDefaults(given: Partial<RecordedOptions>, arch: ImageArch): RecordedOptions {
  return {
    cpus: given.cpus ?? DEFAULTS.cpus,
    memBytes: given.memBytes ?? DEFAULT_MEM[arch],
    cmdline: given.cmdline ?? DEFAULTS.cmdline,
    mode: given.seed === undefined ? "round-robin" : "random",
    seed: given.seed,
    quantum: given.quantum ?? DEFAULTS.quantum,
    maxSteps: given.maxSteps,
    tlbChaos: given.tlbChaos,
  };
}

export interface RunImageOptions extends Partial<Omit<RecordedOptions, "mode">> {
  /** The guest's console, byte by byte (COM1 on x86-64, the PL011 UART on AArch64); dropped if not given. */
  console?: (byte: number) => void;
}

/**
 * Boots an x86-64 or AArch64 ELF64 image as `shootdown run IMAGE` does (the
 * boot protocols are in docs/boot.md) and runs it to its end: a result from
 * the guest, a crash, or `maxSteps`. The report has each CPU's counters.
 * Throws LoadError (a ShootdownError) when the image cannot be booted.
 */
export function runImage(image: Uint8Array, options: RunImageOptions = {}): RunReport {
  const { console: sink, ...given } = options;
  const arch = imageArch(image);
  const run = arch === "aarch64" ? runArm : runX86;
  return run({ ...withDefaults(given, arch), image, console: sink ?? (() => {}) });
}
