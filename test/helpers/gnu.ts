// SPDX-License-Identifier: MIT
//
// A guest image as GNU binutils make it: the source assembled by GNU as and
// linked by ld with the section addresses of shootdown's own image, each
// section's bytes cut out with objcopy, so tests can hold shootdown's
// assembler to binutils byte for byte.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Program } from "../../asm/index.ts";
import { tmpFile } from "./run.ts";

/** The binutils of one target: `as` with its options, `ld` and `objcopy`. */
export interface GnuTools {
  as: string[];
  ld: string;
  objcopy: string;
}

export const GNU_X86_64: GnuTools = { as: ["as", "--64"], ld: "ld", objcopy: "objcopy" };
export const GNU_AARCH64: GnuTools = { as: ["aarch64-linux-gnu-as"], ld: "aarch64-linux-gnu-ld", objcopy: "aarch64-linux-gnu-objcopy" };

/** Whether every tool runs. */
export function hasGnuTools(tools: GnuTools): boolean {
  return [tools.as[0]!, tools.ld, tools.objcopy].every((t) => spawnSync(t, ["--version"], { stdio: "ignore" }).status === 0);
}

/** The bytes of each section with contents of `dir/name.s`, as GNU as + ld make them at `program`'s addresses. */
export function gnuSections(tools: GnuTools, dir: string, name: string, program: Program): Map<string, Buffer> {
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(tool, args, { cwd: dir, encoding: "utf8" }); // .include looks in the current directory
    if (r.status !== 0) throw new Error(`${tool} ${args.join(" ")}:\n${r.stderr}`);
  };
  const obj = tmpFile(`${name}.o`);
  const exe = tmpFile(`${name}.gnu.elf`);
  run(tools.as[0]!, [...tools.as.slice(1), "-o", obj, `${name}.s`]);
  run(tools.ld, [...program.sections.map((s) => `--section-start=${s.name}=0x${s.address.toString(16)}`), "-e", "_start", "--no-warn-rwx-segments", "-o", exe, obj]);
  const out = new Map<string, Buffer>();
  for (const s of program.sections.filter((s) => s.bytes.length > 0)) {
    const bin = tmpFile(`${name}${s.name}.bin`);
    run(tools.objcopy, ["-O", "binary", "-j", s.name, exe, bin]);
    out.set(s.name, readFileSync(bin));
  }
  return out;
}
