// SPDX-License-Identifier: MIT
//
// `shootdown repl IMAGE [run options]` and `shootdown gdb IMAGE --port P [run
// options]`: the step debugger (emulator/debug/). Both take the options of
// `shootdown run` (parsed by run.ts), so a run, its recording and a
// debugging session of it are set up the same way.

import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { start as startRepl, type REPLServer } from "node:repl";
import { ShootdownError } from "../machine/errors.ts";
import { sha256 } from "../machine/run-loop.ts";
import { scheduleToJson, type RecordedOptions, type Schedule } from "../machine/schedule-file.ts";
import { parseRunArgs, readScheduleFile, replayOptions, withDefaults, imageArch, readImage, imageWarnings, type Parsed } from "./run.ts";
import { Session } from "../debug/session.ts";
import { Commands, ANSI, PLAIN, HELP } from "../debug/commands.ts";
import { GdbStub } from "../debug/gdb-stub.ts";
import { makeTarget } from "../debug/targets.ts";

export const REPL_USAGE = `usage: shootdown repl IMAGE [run options] [-- guest command line]

The step debugger: boots IMAGE as 'shootdown run' does (same options, see
shootdown run --help; --replay F follows a recorded schedule, --record F
writes the schedule taken when the session ends) and reads commands from
stdin, interactively or piped. --no-detector turns off the missing-
invalidation detector: continue no longer stops at the use of a stale TLB
entry, and the state hash is the one shootdown run reports.

${HELP}`;

export const GDB_USAGE = `usage: shootdown gdb IMAGE --port P [run options] [-- guest command line]

A gdb remote stub on 127.0.0.1:P (0 picks a free port, printed on stderr)
for gdb-multiarch: 'target remote :P'. One gdb thread per CPU; 'monitor
walk VA', 'monitor tlb' and the other REPL commands run through monitor.
Takes the options of shootdown run (see shootdown run --help), and
--no-detector as shootdown repl does.`;

interface Prepared {
  parsed: Parsed;
  image: Uint8Array;
  options: RecordedOptions;
  schedule?: Schedule;
}

/** The run options, the image and, with --replay, its schedule. */
function prepare(args: string[]): Prepared | "help" {
  const parsed = parseRunArgs(args);
  if (parsed === "help") return "help";
  const schedule = parsed.replay === undefined ? undefined : readScheduleFile(parsed.replay);
  const image = readImage(parsed.imagePath, parsed.given, schedule);
  for (const w of imageWarnings(image)) process.stderr.write(`shootdown: warning: ${parsed.imagePath}: ${w}\n`);
  if (schedule && schedule.imageSha256 !== sha256(image)) throw new ShootdownError(`${parsed.replay} was recorded with another image`);
  const options = schedule ? replayOptions(schedule, parsed.given, parsed.replay!) : withDefaults(parsed.given, imageArch(image));
  return { parsed, image, options, ...(schedule ? { schedule } : {}) };
}

function sessionFor(p: Prepared, own: OwnOptions, console: (text: string) => void): Session {
  const make = (image: Uint8Array, options: RecordedOptions, sink: (byte: number) => void) => makeTarget(image, options, sink, { detector: own.detector });
  return new Session({ image: p.image, options: p.options, makeTarget: make, console, ...(p.schedule ? { replay: p.schedule.steps, recorded: { status: p.schedule.status, stateHash: p.schedule.stateHash } } : {}) });
}

function writeRecording(p: Prepared, session: Session): string | undefined {
  if (p.parsed.record === undefined) return undefined;
  const end = session.endedWith;
  const json = scheduleToJson({
    imageSha256: sha256(p.image), imageName: basename(p.parsed.imagePath), options: p.options, steps: [...session.schedule],
    status: end?.status ?? 3, stateHash: session.target.stateHash(),
  });
  writeFileSync(p.parsed.record, json);
  return `schedule recorded in ${p.parsed.record} (${session.schedule.length} decisions)`;
}

export async function replCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { own, rest } = takeOwn(args);
  if (own.port !== undefined) throw new ShootdownError("--port is for shootdown gdb");
  const p = prepare(rest);
  if (p === "help") {
    out(REPL_USAGE);
    return 0;
  }
  const tty = Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY);
  // Output piped into something that stopped reading (| head): end quietly.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  const session = sessionFor(p, own, (text) => process.stdout.write(tty ? `\x1b[2m${text}\x1b[0m` : text));
  const commands = new Commands(session, tty ? ANSI : PLAIN);
  const first = session.target.symbols.nearest(session.target.pc(0));
  out(`shootdown repl: ${p.parsed.imagePath}, ${p.options.cpus} CPU${p.options.cpus === 1 ? "" : "s"}, ${session.target.arch}; CPU 0 at 0x${session.target.pc(0).toString(16)}${first ? ` <${first.name}>` : ""} ('help' lists the commands)`);

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
              out(`\x1b[31merror: ${(e as Error).message.split("\n")[0]}\x1b[0m`);
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
            out(tty ? `\x1b[31merror: ${e.message.split("\n")[0]}\x1b[0m` : `error: ${e.message.split("\n")[0]}`);
          }
        }
        callback(null, undefined);
      },
    });
    // node:repl's .load, .save, .editor and .clear would read or write files and
    // evaluate text as JavaScript-style input, which means nothing here: gone.
    for (const name of ["load", "save", "editor", "clear"]) delete (server.commands as Record<string, unknown>)[name];
    // .help lists the debugger's commands (.exit and .break stay).
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

/** --port P and --no-detector, the debugger's own options, taken out before the run options are parsed. */
function takeOwn(args: string[]): { own: OwnOptions; rest: string[] } {
  const split = args.indexOf("--");
  const mine = split < 0 ? args : args.slice(0, split);
  const rest: string[] = [];
  const own: OwnOptions = { port: undefined, detector: true };
  for (let i = 0; i < mine.length; i++) {
    const a = mine[i]!;
    if (a === "--schedule") {
      // DESIGN.md's name for a recorded schedule to follow: --replay.
      rest.push("--replay");
      continue;
    }
    if (a === "--no-detector") {
      own.detector = false;
      continue;
    }
    const m = /^--port(?:=(.*))?$/.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const value = m[1] ?? mine[++i];
    if (value === undefined || !/^[0-9]+$/.test(value) || Number(value) > 65535) throw new ShootdownError(`--port must be a TCP port from 0 to 65535, not '${value ?? ""}'`);
    own.port = Number(value);
  }
  return { own, rest: split < 0 ? rest : [...rest, ...args.slice(split)] };
}

export async function gdbCommand(args: string[], out: (line: string) => void): Promise<number> {
  const { own, rest } = takeOwn(args);
  const port = own.port;
  const p = prepare(rest);
  if (p === "help") {
    out(GDB_USAGE);
    return 0;
  }
  if (port === undefined) throw new ShootdownError(`--port P is needed\n\n${GDB_USAGE}`);
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
