// SPDX-License-Identifier: MIT
//
// The target for an image, by its ELF machine: AArch64 (arm-target.ts) or
// x86-64 (x86-target.ts), over the platform `shootdown run` boots
// (emulator/run.ts), with the missing-invalidation detector on unless asked.

import type { RecordedOptions } from "../machine/core/schedule-file.ts";
import { bootPlatform } from "../run.ts";
import { X86Target } from "./x86-target.ts";
import { ArmTarget } from "./arm-target.ts";
import type { DebugTarget, TargetOptions } from "./target.ts";
import type { X86Platform } from "../machine/platform/x86/platform.ts";
import type { ArmPlatform } from "../machine/platform/arm/platform.ts";

export function makeTarget(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, debug: TargetOptions = {}): DebugTarget {
  // The detector costs the micro-TLB, which a debugger does not miss, and it
  // is what lets `continue` stop at the first use of a stale entry. It
  // changes no architectural state, so the state hash is the one
  // `shootdown run` reports for the same run.
  const platform = bootPlatform(image, options, console, { detector: debug.detector ?? true });
  return platform.arch === "aarch64" ? new ArmTarget((platform as ArmPlatform).m, platform as ArmPlatform) : new X86Target(platform as X86Platform);
}
