// SPDX-License-Identifier: MIT
//
// The target for an image, by its ELF machine: AArch64 (arm-target.ts) or
// x86-64 (x86-target.ts).

import type { RecordedOptions } from "../machine/schedule-file.ts";
import { X86Target } from "./x86-target.ts";
import { makeArmTarget } from "./arm-target.ts";
import type { DebugTarget, TargetOptions } from "./target.ts";

const EM_AARCH64 = 183;

export function makeTarget(image: Uint8Array, options: RecordedOptions, console: (byte: number) => void, debug: TargetOptions = {}): DebugTarget {
  const isElf = image.length >= 20 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
  if (isElf && (image[18]! | (image[19]! << 8)) === EM_AARCH64) return makeArmTarget(image, options, console, debug);
  // planLoad (x86-boot.ts) says what is wrong with anything else.
  return new X86Target(image, options, console, debug);
}
