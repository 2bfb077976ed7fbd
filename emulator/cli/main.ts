// SPDX-License-Identifier: MIT
//
// The `shootdown` command. Every user error ends as one clear line on stderr
// and a non-zero status; only a bug in shootdown itself shows a stack.

import { ShootdownError } from "../machine/core/errors.ts";
import { walkCommand } from "./walk.ts";
import { benchCommand } from "../../bench/cli.ts";
import { asmCommand, disasmCommand } from "./asm.ts";
import { runCommand } from "./run.ts";
import { replCommand, gdbCommand } from "./debug.ts";

const USAGE = `usage: shootdown <command> [options]

commands:
  run IMAGE [options] [-- ARGS]        boot an x86-64 image headless on N CPUs
  repl IMAGE [run options]             step debugger: break, step, walk, tlb, …
  gdb IMAGE --port P [run options]     gdb remote stub for gdb-multiarch
  walk --vectors FILE.jsonl [--json]   replay page-walk conformance vectors
  asm --arch A SRC... -o OUT           assemble GNU as sources into an ELF64 image
  disasm FILE                          disassemble an image as objdump -d does
  bench [SUITE]                        measure the emulator (suites: tlb, i64)
  help                                 this text

'shootdown <command> --help' describes one command.`;

type Command = (args: string[], out: (line: string) => void) => number | Promise<number>;

interface CommandEntry {
  run: Command;
  /**
   * The exit status of a usage error (a ShootdownError or a malformed
   * option): 2 unless the command gives its other statuses meanings of
   * their own, as `run` does (2 is a crashed guest there, so usage is 64,
   * EX_USAGE).
   */
  usageStatus?: number;
}

const COMMANDS: Record<string, CommandEntry> = {
  walk: { run: walkCommand },
  bench: { run: benchCommand },
  asm: { run: asmCommand },
  disasm: { run: disasmCommand },
  run: { run: runCommand, usageStatus: 64 },
  repl: { run: replCommand, usageStatus: 64 },
  gdb: { run: gdbCommand, usageStatus: 64 },
};

export async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(line + "\n");
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`shootdown: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  const usageStatus = command.usageStatus ?? 2;
  try {
    return await command.run(rest, out);
  } catch (e) {
    if (e instanceof ShootdownError) {
      process.stderr.write(`shootdown ${name}: ${e.message}\n`);
      return usageStatus;
    }
    // parseArgs reports unknown or malformed options with a code of its own.
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`shootdown ${name}: ${(e as Error).message}\n`);
      return usageStatus;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    process.stderr.write(`shootdown: internal error (a bug in shootdown; please report it):\n${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 70;
  },
);
