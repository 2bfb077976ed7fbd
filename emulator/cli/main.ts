// SPDX-License-Identifier: MIT
//
// The `shootdown` command. Every user error ends as one clear line on stderr
// and a non-zero status; only a bug in shootdown itself shows a stack.
//
// Exit statuses common to every command: 64 a usage error (EX_USAGE: an
// unknown or repeated option, a bad value, a missing operand), 70 a bug in
// shootdown (EX_SOFTWARE), 141 stdout or stderr was closed before the end
// (| head).
// The other statuses are each command's own (see its --help).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ShootdownError } from "../machine/core/errors.ts";
import { packageRoot } from "../machine/core/wasm.ts";
import { walkCommand } from "./walk.ts";
import { benchCommand, BENCH_SUITES } from "../../bench/cli.ts";
import { asmCommand, disasmCommand } from "./asm.ts";
import { runCommand } from "./run.ts";
import { exploreCommand } from "./explore.ts";
import { exploreWorker, isExploreWorker } from "../explore/pool.ts";
import { replCommand, gdbCommand } from "./debug.ts";
import { EXIT_USAGE, UsageError, shown } from "./options.ts";
import { handleOutputErrors } from "./output.ts";

type Command = (args: string[], out: (line: string) => void) => number | Promise<number>;

interface CommandEntry {
  run: Command;
  /** The command's line in the top-level usage. */
  synopsis: string;
  /**
   * The exit status of an error in what the user gave that is not a usage
   * error (an unreadable or malformed input file): 2, except where 2 has a
   * meaning of its own, as in `run` (a crashed guest); there it is 64.
   */
  errorStatus: number;
}

const COMMANDS: Record<string, CommandEntry> = {
  run: { run: runCommand, errorStatus: EXIT_USAGE, synopsis: "run IMAGE [options] [-- ARGS]        boot an x86-64 or AArch64 image headless on N CPUs" },
  explore: { run: exploreCommand, errorStatus: EXIT_USAGE, synopsis: "explore IMAGE [options] [-- ARGS]    search schedules for a failing run (PCT, on worker threads)" },
  repl: { run: replCommand, errorStatus: EXIT_USAGE, synopsis: "repl IMAGE [run options]             step debugger: break, step, walk, tlb, …" },
  gdb: { run: gdbCommand, errorStatus: EXIT_USAGE, synopsis: "gdb IMAGE --port P [run options]     gdb remote stub for gdb-multiarch" },
  walk: { run: walkCommand, errorStatus: 2, synopsis: "walk --vectors FILE.jsonl [--json]   replay page-walk conformance vectors" },
  asm: { run: asmCommand, errorStatus: 2, synopsis: "asm --arch A SRC... -o OUT           assemble GNU as sources into an ELF64 image" },
  disasm: { run: disasmCommand, errorStatus: 2, synopsis: "disasm FILE [--source]               disassemble an image as objdump -d does" },
  bench: { run: benchCommand, errorStatus: 2, synopsis: `bench [SUITE...] [--scale X]         measure the emulator (suites: ${BENCH_SUITES.join(", ")})` },
};

const USAGE = `usage: shootdown <command> [options]
       shootdown --version

commands:
${Object.values(COMMANDS).map((c) => `  ${c.synopsis}`).join("\n")}
  help                                 this text

'shootdown <command> --help' describes one command. Options are given once
each; numbers are decimal or 0x hex. Usage errors exit 64 from every command.`;

/** The version of the package this CLI belongs to. */
function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  const out = (line: string) => process.stdout.write(line + "\n");
  const [name, ...rest] = argv;
  if (name === "help" || name === "--help" || name === "-h") {
    out(USAGE);
    return 0;
  }
  if (name === "--version" || name === "-V") {
    out(`shootdown ${version()}`);
    return 0;
  }
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_USAGE;
  }
  const command = COMMANDS[name];
  if (!command && name.startsWith("-")) {
    process.stderr.write(`shootdown: unknown option '${shown(name)}' (see shootdown help)\n`);
    return EXIT_USAGE;
  }
  if (!command) {
    process.stderr.write(`shootdown: unknown command '${shown(name)}' (see shootdown help)\n`);
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest, out);
  } catch (e) {
    if (!(e instanceof ShootdownError)) throw e;
    process.stderr.write(`shootdown ${name}: ${e.message}\n`);
    return e instanceof UsageError ? EXIT_USAGE : command.errorStatus;
  }
}

// `shootdown explore` starts this bundle again on its worker threads (explore/pool.ts).
if (isExploreWorker()) exploreWorker();
else {
  handleOutputErrors();
  main(process.argv.slice(2)).then(
    (status) => {
      process.exitCode = status;
    },
    (e: unknown) => {
      process.stderr.write(`shootdown: internal error (a bug in shootdown; please report it):\n${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
