// SPDX-License-Identifier: MIT
//
// `shootdown repl IMAGE [run options]` and `shootdown gdb IMAGE --port P [run
// options]`: the step debugger (emulator/debug/). Both take the options of
// `shootdown run` (parsed by run.ts), so a run, its recording and a
// debugging session of it are set up the same way.

import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { start as startRepl, type REPLServer } from "node:repl";
import { ShootdownError } from "../machine/core/errors.ts";
import { sha256 } from "../machine/core/report.ts";
import { packSteps } from "../machine/core/scheduler.ts";
import { scheduleToJson, type RecordedOptions, type Schedule } from "../machine/core/schedule-file.ts";
import { calibratedOptions } from "../run.ts";
import { MACHINE_OPTIONS, machineOptions, readScheduleFile, replayOptions, withDefaults, imageArch, readImage, imageWarnings, type Parsed } from "./run.ts";
import { UsageError, parseCommandLine, integerOption, type OptionSpecs } from "./options.ts";
import { colourFor } from "./output.ts";
import { Session } from "../debug/session.ts";
import { Commands, ANSI, PLAIN, HELP } from "../debug/commands.ts";
import { GdbStub } from "../debug/gdb-stub.ts";
import { makeTarget } from "../debug/targets.ts";

export const REPL_USAGE = `usage: shootdown repl IMAGE [run options] [-- guest command line]

The step debugger: boots IMAGE as 'shootdown run' does (same options but
--stats and --json, see shootdown run --help; --replay F, or --schedule F,
follows a recorded schedule, --record F
writes the schedule taken when the session ends) and reads commands from
stdin, interactively or piped. --no-detector turns off the missing-
invalidation detector: continue no longer stops at the use of a stale TLB
entry, and the state hash is the one shootdown run reports.

${HELP}`;

export const GDB_USAGE = `usage: shootdown gdb IMAGE --port P [run options] [-- guest command line]

A gdb remote stub on 127.0.0.1:P (0 picks a free port, printed on stderr)
for gdb-multiarch: 'target remote :P'. One gdb thread per CPU (with --hv,
per guest vCPU: 'info threads' says where each runs); 'monitor
walk VA', 'monitor tlb' and the other REPL commands run through monitor.
Takes the options of shootdown run but --stats and --json (see shootdown
run --help), and --no-detector as shootdown repl does.`;

interface Prepared {
  parsed: Parsed;
  image: Uint8Array;
  options: RecordedOptions;
  schedule?: Schedule;
}

/** The run options, the image and, with --replay, its schedule. */
function prepare(parsed: Parsed | "help"): Prepared | "help" {
  if (parsed === "help") return "help";
  const schedule = parsed.replay === undefined ? undefined : readScheduleFile(parsed.replay);
  const image = readImage(parsed.imagePath, parsed.given, schedule);
  for (const w of imageWarnings(image)) process.stderr.write(`shootdown: warning: ${parsed.imagePath}: ${w}\n`);
  if (schedule && schedule.imageSha256 !== sha256(image)) throw new ShootdownError(`${parsed.replay} was recorded with another image`);
  const options = schedule ? replayOptions(schedule, parsed.given, parsed.replay!) : calibratedOptions(withDefaults(parsed.given, imageArch(image)), image);
  return { parsed, image, options, ...(schedule ? { schedule } : {}) };
}

function sessionFor(p: Prepared, own: OwnOptions, console: (text: string) => void): Session {
  const make = (image: Uint8Array, options: RecordedOptions, sink: (byte: number) => void) => makeTarget(image, options, sink, { detector: own.detector });
  return new Session({ image: p.image, options: p.options, makeTarget: make, console, ...(p.schedule ? { replay: p.schedule.decisions, recorded: { status: p.schedule.status, stateHash: p.schedule.stateHash } } : {}) });
}

function writeRecording(p: Prepared, session: Session): string | undefined {
  if (p.parsed.record === undefined) return undefined;
  const end = session.endedWith;
  const json = scheduleToJson({
    imageSha256: sha256(p.image), imageName: basename(p.parsed.imagePath), options: p.options, decisions: packSteps(session.schedule),
    status: end?.status ?? 3, stateHash: session.target.stateHash(),
  });
  writeFileSync(p.parsed.record, json);
  return `schedule recorded in ${p.parsed.record} (${session.schedule.length} decisions)`;
}

export async function replCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { parsed, own } = parseDebugArgs("repl", args);
  const p = prepare(parsed);
  if (p === "help") {
    out(REPL_USAGE);
    return 0;
  }
  const tty = Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY);
  // Colour on a terminal only, and never with NO_COLOR set (no-color.org).
  const colour = tty && colourFor(process.stdout);
  const red = (text: string) => (colour ? `\x1b[31m${text}\x1b[0m` : text);
  const session = sessionFor(p, own, (text) => process.stdout.write(colour ? `\x1b[2m${text}\x1b[0m` : text));
  const commands = new Commands(session, colour ? ANSI : PLAIN);
  const first = session.target.symbols.nearest(session.target.pc(0));
  // Under --hv the threads are the guests' vCPUs: the first is d1v0, at its entry point.
  // The session starts on pCPU 0, whose first steps are the hypervisor's (cpu d1v0 looks at the vCPU).
  const threads = session.threads().filter((t) => t.vcpu);
  const vcpus = threads.length ? `${threads.length} vCPU${threads.length === 1 ? "" : "s"}, ` : "";
  const current = vcpus ? ", current pCPU 0" : "";
  out(`shootdown repl: ${p.parsed.imagePath}, ${p.options.cpus} CPU${p.options.cpus === 1 ? "" : "s"}, ${vcpus}${session.target.arch}; ${vcpus ? threads[0]!.name : "CPU 0"} at 0x${session.target.pc(0).toString(16)}${first ? ` <${first.name}>` : ""}${current} ('help' lists the commands)`);

  return new Promise((resolve) => {
    const server: REPLServer = startRepl({
      prompt: tty ? "(shootdown) " : "",
      input: process.stdin,
      output: process.stdout,
      terminal: tty,
      ignoreUndefined: true,
      completer: (line: string) => {
        const word = line.split(/\s+/).at(-1) ?? "";
        const hits = commands.completions().filter((c) => c.startsWith(word));
        return [hits, word];
      },
      eval: (cmd, _context, _file, callback) => {
        const line = cmd.trim();
        if (line === "quit" || line === "q" || line === "exit") {
          server.close();
          callback(null, undefined);
          return;
        }
        if (tty && Commands.isContinue(line)) {
          // On a terminal, a continue runs in chunks so that Ctrl-C stops it.
          commands.continueInterruptibly().then(
            (lines) => {
              for (const l of lines) out(l);
              callback(null, undefined);
            },
            (e: unknown) => {
              out(red(`error: ${(e as Error).message.split("\n")[0]}`));
              callback(null, undefined);
            },
          );
          return;
        }
        try {
          for (const l of commands.execute(line)) out(l);
        } catch (e) {
          if (!(e instanceof ShootdownError)) {
            out(`error: internal error (a bug in shootdown): ${(e as Error).message}`);
          } else {
            out(red(`error: ${e.message.split("\n")[0]}`));
          }
        }
        callback(null, undefined);
      },
    });
    // .help lists the debugger's commands (node:repl's own dot-commands stay).
    // node:repl's .load, .save, .editor and .clear would read or write files and
    // evaluate text as JavaScript-style input, which means nothing here: gone.
    for (const name of ["load", "save", "editor", "clear"]) delete (server.commands as Record<string, unknown>)[name];
    server.defineCommand("help", {
      help: "the debugger's commands",
      action() {
        for (const l of HELP.split("\n")) out(l);
        this.displayPrompt();
      },
    });
    // Ctrl-C while a continue runs stops it (node:repl's own handling clears the line otherwise).
    server.on("SIGINT", () => {
      session.interruptRequested = true;
    });
    server.on("exit", () => {
      session.flushConsole();
      try {
        const note = writeRecording(p, session);
        if (note) process.stderr.write(`shootdown repl: ${note}\n`);
      } catch (e) {
        process.stderr.write(`shootdown repl: cannot write ${p.parsed.record}: ${(e as Error).message}\n`);
        resolve(2);
        return;
      }
      resolve(0);
    });
  });
}

interface OwnOptions {
  port: number | undefined;
  detector: boolean;
}

/** The run options (less run's ways of printing a summary), --no-detector, and gdb's --port. */
const REPL_OPTIONS = {
  ...MACHINE_OPTIONS,
  // DESIGN.md's name for a recorded schedule to follow is --schedule.
  replay: { type: "string", aliases: ["schedule"] },
  "no-detector": { type: "boolean" },
} as const satisfies OptionSpecs;

const GDB_OPTIONS = { ...REPL_OPTIONS, port: { type: "string" } } as const satisfies OptionSpecs;

/** The command line of repl or gdb: the run options, --no-detector and (gdb) --port P. */
function parseDebugArgs(command: "repl" | "gdb", args: string[]): { parsed: Parsed | "help"; own: OwnOptions } {
  const line = parseCommandLine(args, command === "gdb" ? GDB_OPTIONS : REPL_OPTIONS, { command, afterDashDash: "rest" });
  const values = line.values as { port?: string; "no-detector"?: boolean };
  const own: OwnOptions = {
    port: values.port === undefined ? undefined : Number(integerOption("--port", values.port, 0n, 65535n)),
    detector: !values["no-detector"],
  };
  return { parsed: machineOptions(command, line), own };
}

export async function gdbCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { parsed, own } = parseDebugArgs("gdb", args);
  const port = own.port;
  const p = prepare(parsed);
  if (p === "help") {
    out(GDB_USAGE);
    return 0;
  }
  if (port === undefined) throw new UsageError("--port P is needed (0 picks a free port)");
  const log = (line: string) => process.stderr.write(`shootdown gdb: ${line}\n`);
  let stub: GdbStub | undefined;
  const session = sessionFor(p, own, (text) => stub?.addConsole(text));
  stub = new GdbStub(session, { log });
  const bound = await stub.listen(port);
  log(`listening on 127.0.0.1:${bound} (gdb-multiarch -ex 'target remote 127.0.0.1:${bound}')`);
  await stub.finished;
  const note = writeRecording(p, session);
  if (note) log(note);
  return 0;
}
