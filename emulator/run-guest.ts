// SPDX-License-Identifier: MIT
//
// Booting a whole image with `shootdown run`'s defaults: what the command
// does, as one call of the package's API (`runGuest(image, { cpus: 2 })`).
// The command line (cli/run.ts) and the debugger (cli/debug.ts) take their
// defaults from here too, so a script and the CLI build the same machine
// from the same image. run.ts's runImage takes every option spelled out.

import { runImage, imageArch } from "./run.ts";
import type { RunReport } from "./machine/core/report.ts";
import type { RecordedOptions } from "./machine/core/schedule-file.ts";

type ImageArch = ReturnType<typeof imageArch>;

const DEFAULTS = { cpus: 1, cmdline: "", quantum: 1000, pctDepth: 3 } as const;
/** RAM by architecture: QEMU virt's default for AArch64. */
const DEFAULT_MEM: Record<ImageArch, bigint> = { x86_64: 64n << 20n, aarch64: 128n << 20n };

/**
 * The options of a run: what is given, and `shootdown run`'s defaults for
 * the rest. A seed alone means random interleaving; a strategy without a
 * seed, seed 0. A PCT horizon left at 0 is measured by calibratedOptions
 * (run.ts), which needs the image.
 */
export function withDefaults(given: Partial<RecordedOptions>, arch: ImageArch): RecordedOptions {
  const mode = given.mode ?? (given.seed === undefined ? "round-robin" : "random");
  return {
    cpus: given.cpus ?? DEFAULTS.cpus,
    memBytes: given.memBytes ?? DEFAULT_MEM[arch],
    cmdline: given.cmdline ?? DEFAULTS.cmdline,
    mode,
    seed: given.seed ?? (mode === "round-robin" ? undefined : 0n),
    ...(mode === "pct" ? { pct: { depth: given.pct?.depth || DEFAULTS.pctDepth, horizon: given.pct?.horizon ?? 0 } } : {}),
    quantum: given.quantum ?? DEFAULTS.quantum,
    maxSteps: given.maxSteps,
    tlbChaos: given.tlbChaos,
    // An HVM domain's RAM left at 0 is the machine's: the guest sees the RAM the bare machine would give it.
    ...(given.hv ? { hv: { ...given.hv, vcpus: given.hv.vcpus || (given.cpus ?? DEFAULTS.cpus), domMemBytes: given.hv.domMemBytes || (given.memBytes ?? DEFAULT_MEM[arch]) } } : {}),
    ...(given.keepGoing ? { keepGoing: true } : {}),
    ...(given.systemCache === false ? { systemCache: false } : {}),
    ...(given.checkStaleReads ? { checkStaleReads: true } : {}),
  };
}

export interface RunGuestOptions extends Partial<Omit<RecordedOptions, "mode">> {
  /** The guest's console, byte by byte (COM1 on x86-64, the PL011 UART on AArch64); dropped if not given. */
  console?: (byte: number) => void;
}

/**
 * Boots an x86-64 or AArch64 ELF64 image as `shootdown run IMAGE` does (the
 * boot protocols are in docs/boot.md), with its defaults for every option
 * not given, and runs it to its end: a result from the guest, a crash, or
 * `maxSteps`. The report has each CPU's counters. Throws LoadError (a
 * ShootdownError) when the image cannot be booted.
 */
export function runGuest(image: Uint8Array, options: RunGuestOptions = {}): RunReport {
  const { console: sink, ...given } = options;
  return runImage({ ...withDefaults(given, imageArch(image)), image, console: sink ?? (() => {}) });
}
