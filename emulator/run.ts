// SPDX-License-Identifier: MIT
//
// Running an image: boot the platform of its architecture (machine/platform/)
// with the toolchain's disassembler for crash lines, and drive it with the
// run engine (machine/core/engine.ts) to the end. `shootdown run`, the
// debugger and the hypervisor build their machines here.

import { programOf, LoadError } from "./machine/core/elf-load.ts";
import { Engine } from "./machine/core/engine.ts";
import { reportOf, type RunConfig, type RunReport } from "./machine/core/report.ts";
import type { RecordedOptions } from "./machine/core/schedule-file.ts";
import type { Platform } from "./machine/core/platform.ts";
import { bootX86Platform, type X86Platform } from "./machine/platform/x86/platform.ts";
import { bootArmPlatform, type ArmPlatform } from "./machine/platform/arm/platform.ts";
import { asmDisassembler } from "./disassembler.ts";
import { bootPvPlatform } from "../hypervisor/x86/boot.ts";
import { bootArmHvPlatform } from "../hypervisor/arm/boot.ts";
import { bootHvmPlatform } from "../hypervisor/x86/hvm/boot.ts";

export type { RunConfig, RunReport } from "./machine/core/report.ts";

const EM_AARCH64 = 183;

/** The architecture of an ELF image by its e_machine (anything else is left to the x86-64 loader to refuse). */
export function imageArch(image: Uint8Array): "x86_64" | "aarch64" {
  const isElf = image.length >= 20 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
  return isElf && (image[18]! | (image[19]! << 8)) === EM_AARCH64 ? "aarch64" : "x86_64";
}

/** Boots an image's platform with crash lines worded by the toolchain; throws LoadError when it cannot be booted. */
export function bootPlatform(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, p: { detector?: boolean } = {}): X86Platform | ArmPlatform {
  const arch = imageArch(image);
  if (arch === "x86_64" && ((options.hv?.migrate && !options.hv.hvm) || options.hv?.setWay || options.systemCache === false)) {
    throw new LoadError(`${options.hv?.migrate && !options.hv.hvm ? "--migrate is for AArch64 images and x86-64 --hvm domains" : "--set-way and --system-cache are for AArch64 images"}; this one is x86-64${options.hv?.hvm ? "" : " (a PV domain)"}`);
  }
  if (arch === "aarch64" && options.hv?.hvm) throw new LoadError("--hvm runs x86-64 images as HVM domains; this one is for AArch64 (--hv alone runs it under the Arm hypervisor)");
  if (arch === "x86_64" && options.checkStaleReads) throw new LoadError("--check-stale-reads is for AArch64 images: the x86-64 machine models no data caches");
  if (options.hv && arch === "aarch64") return withDisassembler(bootArmHvPlatform(image, options, console, p), "aarch64");
  if (options.hv?.hvm) return withDisassembler(bootHvmPlatform(image, options, console, p), "x86_64");
  if (options.hv) return withDisassembler(bootPvPlatform(image, options, console, p), "x86_64");
  if (arch === "aarch64") return withDisassembler(bootArmPlatform(image, options, console, p), "aarch64");
  return withDisassembler(bootX86Platform(image, options, console, p), "x86_64");
}

function withDisassembler<P extends X86Platform | ArmPlatform>(platform: P, arch: "x86_64" | "aarch64"): P {
  if (platform.plan) platform.describer.useDisassembler(asmDisassembler(arch, programOf(platform.plan)));
  return platform;
}

/** An engine over a freshly booted image. */
export function engineFor(config: RunConfig, p: { detector?: boolean } = {}): Engine {
  return new Engine({
    options: config, console: config.console, log: config.record === true,
    ...(config.replay ? { replay: config.replay } : {}),
    build: (options, console): Platform => bootPlatform(config.image, options, console, p),
  });
}

/**
 * Builds, boots and runs an image to its end; `observe` sees the booted
 * platform before the run (to attach a timeline sink). Throws LoadError
 * when the image cannot be booted. The machine's hardware instance is
 * handed back for the next run (machine/core/wasm.ts), so the state hash is
 * taken before that, whatever `config.stateHash` says: it reads only the
 * pages the run wrote (hw/phys/pages.ts), which costs less than writing
 * them did.
 */
export function runImage(config: RunConfig, observe?: (platform: Platform) => void): RunReport {
  const engine = engineFor(config, { detector: config.checkStale === true });
  observe?.(engine.platform);
  engine.runToEnd();
  const report = reportOf(engine, config.image, config.record === true, "eager");
  engine.platform.machine.release();
  return report;
}

/**
 * The options of a PCT run whose horizon was left open (0), with the horizon
 * measured: the decisions the same run takes under PCT with seed 0 and no
 * change point, so that the change points fall over the whole of a typical
 * run. It depends on the image and the options,
 * never on the seed, so every seed of an exploration shares it and
 * `shootdown run --strategy pct --seed S` makes exploration's run S. Other
 * options are returned as they are. Throws LoadError as runImage does.
 */
export function calibratedOptions(options: RecordedOptions, image: Uint8Array): RecordedOptions {
  if (options.mode !== "pct" || !options.pct || options.pct.horizon > 0) return options;
  const length = (o: RecordedOptions) => {
    const engine = engineFor({ ...o, seed: 0n, image, console: () => {}, record: false });
    engine.runToEnd();
    return engine.work;
  };
  // The run as PCT makes it with no change point (seed 0): its length is
  // what the change points are drawn over. A random interleaving's length
  // would not do: it spends many more decisions on CPUs with nothing to do
  // (a hypervisor's parked pCPUs), so most change points would fall after
  // the run's end. But under strict priorities a CPU spinning on a flag in
  // guest code starves the CPU it waits for, and such a run would never end:
  // so the PCT run is given four times the random interleaving's length as
  // its horizon, past which PCT is fair. A guest that does not spin ends
  // before that (its PCT run is about as long as a random one, or shorter).
  const fair = length({ ...options, mode: "random", pct: undefined });
  const horizon = length({ ...options, pct: { depth: 1, horizon: 4 * Math.max(1, fair) } });
  return { ...options, pct: { ...options.pct, horizon: Math.max(1, horizon) } };
}

/** `runImage` for an image known to be x86-64 or AArch64 (kept for scripts written against either). */
export const runX86 = runImage;
export const runArm = runImage;
