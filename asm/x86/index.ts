// SPDX-License-Identifier: MIT
//
// The x86-64 backend: GNU as's AT&T syntax in 64-bit mode, objdump's
// disassembly. See README.md in this folder for how the pieces fit.

import type { Backend } from "../backend.ts";
import { decode } from "./disassemble.ts";
import { assemble } from "./encode.ts";
import { codeFill } from "./nops.ts";

export const x86Backend: Backend = {
  arch: "x86_64",
  elfMachine: 62, // EM_X86_64
  wordSize: 2,
  alignIsPowerOfTwo: false,
  nopFill: 0x90,
  assemble,
  codeFill: (size) => codeFill(size),
  decode,
};
