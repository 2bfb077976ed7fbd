// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE [options] [-- guest command line]`: boots an x86-64
// or AArch64 image headless on N CPUs (README.md, "Boot protocol"), streams
// its console to stdout and ends with a summary on stderr. The exit status
// says how the run ended: 0 the guest reported success, 1 it reported a
// failure, 2 the machine crashed (or the image cannot be loaded), 3 the
// step budget ran out, 64 a usage error (main.ts maps those).

import { rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { ShootdownError } from "../machine/errors.ts";
import { runX86, LoadError } from "../machine/x86-run.ts";
import { runArm } from "../machine/arm-run.ts";
import { sha256, STATUS, type RunReport, type CpuReport } from "../machine/run-loop.ts";
import { encodeCmdline } from "../machine/x86-boot.ts";
import { parseSchedule, scheduleToJson, type RecordedOptions, type Schedule } from "../machine/schedule-file.ts";
import type { Counters } from "../machine/counters.ts";
import { readBounded, readBoundedText, IMAGE_HEADROOM_BYTES, MAX_SCHEDULE_FILE_BYTES } from "./input-file.ts";
import { readElf } from "../../asm/index.ts";

export const RUN_USAGE = `usage: shootdown run IMAGE [options] [-- guest command line]

Boots an x86-64 or AArch64 ELF64 image on N CPUs (the boot protocols are in
README.md), streams the guest's console (COM1 on x86-64, the PL011 UART on
AArch64) to stdout and prints a summary on stderr.

  --cpus N          CPUs, 1 to 64 (default 1)
  --mem SIZE        RAM, with K, M or G, at least 2M: at physical 0 on x86-64
                    (default 64M), at 0x40000000 on AArch64 (default 128M)
  --quantum Q       instructions per scheduling decision (default 1000); with
                    --seed, each decision runs a random 1 to Q
  --seed S          seeded random interleaving of the CPUs (also seeds --tlb-chaos)
  --max-steps N     stop after N instructions over all CPUs (status 3)
  --record F        write the schedule taken to F (JSON)
  --replay F        follow the schedule in F exactly (same image and options)
  --tlb-chaos P     evict a random TLB entry every 1/P translations on average
                    (P in (0, 1]; seeded by --seed, 0 without it)
  --stats           print the summary as one JSON object on stderr
  --help            this text

Exit status: 0 the guest wrote 0 to port 0xf4 (x86-64) or called PSCI
SYSTEM_OFF (AArch64); 1 it wrote another value, or called SYSTEM_RESET; 2
the machine crashed (triple fault, bus error, exception loop, deadlock) or
the image cannot be loaded; 3 --max-steps ran out; 64 bad options.`;

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

function integer(text: string, name: string, lo: bigint, hi: bigint): bigint {
  if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text)) throw new ShootdownError(`${name} must be an integer, not '${text}'`);
  const v = BigInt(text);
  if (v < lo || v > hi) throw new ShootdownError(`${name} must be from ${lo} to ${hi}, not ${text}`);
  return v;
}

const MEM_MIN = 2n << 20n;
const MEM_MAX = 3n << 30n;

/** "64M", "65536K", "1G", "4194304": bytes, a multiple of 4 KiB from 2 MiB to 3 GiB. */
export function parseSize(text: string): bigint {
  const m = /^([0-9]+)([KMG]?)(i?B)?$/i.exec(text);
  if (!m) throw new ShootdownError(`--mem must be a size such as 64M, 512K or 1G, not '${text}'`);
  const shift = { "": 0n, K: 10n, M: 20n, G: 30n }[m[2]!.toUpperCase() as "" | "K" | "M" | "G"];
  const bytes = BigInt(m[1]!) << shift;
  if (bytes < MEM_MIN) throw new ShootdownError(`--mem ${text} is too small: at least 2M (the loader's tables and an image need it)`);
  if (bytes > MEM_MAX) throw new ShootdownError(`--mem ${text} is too large: at most 3G (the hardware module lives in 4 GiB of WebAssembly memory)`);
  if (bytes % 4096n) throw new ShootdownError(`--mem ${text} is not a multiple of 4K`);
  return bytes;
}

function parseChaos(text: string): number {
  const p = Number(text);
  if (!/^[0-9.eE+-]+$/.test(text) || !Number.isFinite(p) || p <= 0 || p > 1) {
    throw new ShootdownError(`--tlb-chaos must be a probability in (0, 1], not '${text}'`);
  }
  if (Math.round(1 / p) > 0x7fff_ffff) throw new ShootdownError(`--tlb-chaos ${text} is too small (at least 1/${0x7fff_ffff})`);
  return p;
}

export interface Parsed {
  imagePath: string;
  given: Partial<RecordedOptions>;
  record?: string;
  replay?: string;
  stats: boolean;
}

const OPTIONS = {
  cpus: { type: "string" },
  mem: { type: "string" },
  seed: { type: "string" },
  quantum: { type: "string" },
  "max-steps": { type: "string" },
  record: { type: "string" },
  replay: { type: "string" },
  stats: { type: "boolean", default: false },
  "tlb-chaos": { type: "string" },
  help: { type: "boolean", default: false },
} as const;

function parseOwn(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (e) {
    // parseArgs's own advice ("place it after --") would make it the guest's command line.
    const code = (e as NodeJS.ErrnoException).code;
    const option = /'(-[^' ]*)/.exec((e as Error).message)?.[1];
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new ShootdownError(`unknown option '${option}' (see shootdown run --help)`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw new ShootdownError(`${option ?? "an option"} needs a value (see shootdown run --help)`);
    throw e;
  }
}

/** The run options of `shootdown run`, which `shootdown repl` and `shootdown gdb` take too. */
export function parseRunArgs(args: string[]): Parsed | "help" {
  return parse(args);
}

function parse(args: string[]): Parsed | "help" {
  const split = args.indexOf("--");
  const own = split < 0 ? args : args.slice(0, split);
  const guest = split < 0 ? undefined : args.slice(split + 1);
  const { values, positionals } = parseOwn(own);
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new ShootdownError(`${positionals.length ? "run takes one IMAGE (put the guest's command line after --)" : "no IMAGE"}\n\n${RUN_USAGE}`);
  }
  if (values.record !== undefined && values.replay !== undefined) throw new ShootdownError("--record and --replay cannot be used together");
  const given: Partial<RecordedOptions> = {};
  if (values.cpus !== undefined) given.cpus = Number(integer(values.cpus, "--cpus", 1n, 64n));
  if (values.mem !== undefined) given.memBytes = parseSize(values.mem);
  if (values.seed !== undefined) given.seed = integer(values.seed, "--seed", 0n, (1n << 64n) - 1n);
  if (values.quantum !== undefined) given.quantum = Number(integer(values.quantum, "--quantum", 1n, 1_000_000_000n));
  if (values["max-steps"] !== undefined) given.maxSteps = integer(values["max-steps"], "--max-steps", 1n, (1n << 63n) - 1n);
  if (values["tlb-chaos"] !== undefined) given.tlbChaos = parseChaos(values["tlb-chaos"]);
  if (guest !== undefined) {
    given.cmdline = guest.join(" ");
    encodeCmdline(given.cmdline);
  }
  return {
    imagePath: positionals[0]!, given, stats: values.stats,
    ...(values.record !== undefined ? { record: values.record } : {}),
    ...(values.replay !== undefined ? { replay: values.replay } : {}),
  };
}

const DEFAULTS = { cpus: 1, cmdline: "", quantum: 1000 } as const;
/** RAM by architecture: QEMU virt's default for AArch64. */
const DEFAULT_MEM: Record<ImageArch, bigint> = { x86_64: 64n << 20n, aarch64: 128n << 20n };

type ImageArch = "x86_64" | "aarch64";

/**
 * An image file, at most the RAM it will load into (as given or recorded;
 * the larger default when neither says) plus room for its headers and
 * tables: a larger one cannot load, and a FIFO or /dev/zero never ends.
 */
export function readImage(path: string, given: Partial<RecordedOptions>, schedule: Schedule | undefined): Uint8Array {
  const ram = schedule?.options.memBytes ?? given.memBytes ?? (DEFAULT_MEM.x86_64 > DEFAULT_MEM.aarch64 ? DEFAULT_MEM.x86_64 : DEFAULT_MEM.aarch64);
  return readBounded(path, `an image for ${ram >> 20n} MiB of RAM`, Number(ram) + IMAGE_HEADROOM_BYTES);
}

/** The architecture an image is for, from e_machine; anything else goes to the x86-64 loader, which says what is wrong. */
export function imageArch(image: Uint8Array): ImageArch {
  const elf = image.length >= 20 && image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
  return elf && image[18] === 183 && image[19] === 0 ? "aarch64" : "x86_64";
}

export function withDefaults(given: Partial<RecordedOptions>, arch: ImageArch): RecordedOptions {
  return {
    cpus: given.cpus ?? DEFAULTS.cpus,
    memBytes: given.memBytes ?? DEFAULT_MEM[arch],
    cmdline: given.cmdline ?? DEFAULTS.cmdline,
    mode: given.seed === undefined ? "round-robin" : "random",
    seed: given.seed,
    quantum: given.quantum ?? DEFAULTS.quantum,
    maxSteps: given.maxSteps,
    tlbChaos: given.tlbChaos,
  };
}

/** A replay takes its options from the schedule; an option also given on the command line must agree. */
export function replayOptions(schedule: Schedule, given: Partial<RecordedOptions>, path: string): RecordedOptions {
  const rec = schedule.options;
  const checks: [string, (o: Partial<RecordedOptions>) => string | undefined][] = [
    ["--cpus", (o) => o.cpus?.toString()],
    ["--mem", (o) => (o.memBytes === undefined ? undefined : `${o.memBytes} bytes`)],
    ["the guest command line", (o) => (o.cmdline === undefined ? undefined : JSON.stringify(o.cmdline))],
    ["--seed", (o) => o.seed?.toString()],
    ["--quantum", (o) => o.quantum?.toString()],
    ["--max-steps", (o) => o.maxSteps?.toString()],
    ["--tlb-chaos", (o) => o.tlbChaos?.toString()],
  ];
  for (const [name, show] of checks) {
    const mine = show(given);
    if (mine !== undefined && mine !== show(rec)) {
      throw new ShootdownError(`${name} ${mine} differs from the recorded run in ${path} (${show(rec) ?? "not given"}); leave it out to replay`);
    }
  }
  return rec;
}

/** What the loader leaves out of an image it can still load (a broken symbol table): one warning each. */
export function imageWarnings(image: Uint8Array): string[] {
  try {
    return readElf(image).warnings;
  } catch {
    // The loader reports what makes the image unloadable.
    return [];
  }
}

/** A schedule file (--replay F), or a usage error that names the file. */
export function readScheduleFile(path: string): Schedule {
  const text = readBoundedText(path, "a schedule file", MAX_SCHEDULE_FILE_BYTES);
  try {
    return parseSchedule(text);
  } catch (e) {
    if (e instanceof ShootdownError) throw new ShootdownError(`${path}: ${e.message}`);
    throw e;
  }
}

/** Console bytes to stdout: flushed at each newline and every 4 KiB. */
class ConsoleOut {
  private buf: number[] = [];

  put = (byte: number): void => {
    this.buf.push(byte);
    if (byte === 10 || this.buf.length >= 4096) this.flush();
  };

  flush(): void {
    if (!this.buf.length) return;
    process.stdout.write(Uint8Array.from(this.buf));
    this.buf = [];
  }
}

export function runCommand(args: string[], out: (line: string) => void): number {
  const p = parse(args);
  if (p === "help") {
    out(RUN_USAGE);
    return 0;
  }
  const err = (line: string) => process.stderr.write(`shootdown run: ${line}\n`);

  const schedule = p.replay === undefined ? undefined : readScheduleFile(p.replay);
  if (p.record !== undefined) {
    // Fail before a long run rather than after it.
    try {
      writeFileSync(p.record, "");
    } catch (e) {
      throw new ShootdownError(`cannot write ${p.record}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  let image: Uint8Array;
  try {
    image = readImage(p.imagePath, p.given, schedule);
  } catch (e) {
    if (!(e instanceof ShootdownError)) throw e;
    err(`cannot load ${p.imagePath}: ${e.message.replace(`cannot read ${p.imagePath}: `, "cannot read it: ")}`);
    return STATUS.CRASH;
  }
  for (const w of imageWarnings(image)) err(`warning: ${p.imagePath}: ${w}`);
  const imageSha256 = sha256(image);
  let options: RecordedOptions;
  if (schedule) {
    if (schedule.imageSha256 !== imageSha256) {
      const was = schedule.imageName ? ` (${schedule.imageName})` : "";
      throw new ShootdownError(`${p.replay} was recorded with another image${was}: its SHA-256 is ${schedule.imageSha256}, ${p.imagePath}'s is ${imageSha256}`);
    }
    options = replayOptions(schedule, p.given, p.replay!);
  } else {
    options = withDefaults(p.given, imageArch(image));
  }

  const consoleOut = new ConsoleOut();
  let report: RunReport;
  try {
    const run = imageArch(image) === "aarch64" ? runArm : runX86;
    report = run({
      ...options, image, console: consoleOut.put, record: p.record !== undefined,
      ...(schedule ? { replay: schedule.steps } : {}),
    });
  } catch (e) {
    consoleOut.flush();
    if (e instanceof LoadError) {
      if (p.record !== undefined) rmSync(p.record, { force: true });
      err(`cannot load ${p.imagePath}: ${e.message}`);
      return STATUS.CRASH;
    }
    throw e;
  } finally {
    consoleOut.flush();
  }

  let status = report.status;
  const notes: string[] = [];
  if (p.record !== undefined) {
    const json = scheduleToJson({
      imageSha256, imageName: basename(p.imagePath), options, steps: report.schedule ?? [], status: report.status, stateHash: report.stateHash,
    });
    try {
      writeFileSync(p.record, json);
      notes.push(`schedule recorded in ${p.record} (${report.decisions} decisions)`);
    } catch (e) {
      err(`cannot write ${p.record}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      status = STATUS.CRASH;
    }
  }
  if (schedule) {
    if (report.stateHash === schedule.stateHash && report.status === schedule.status) {
      notes.push(`replay reproduced the recorded run (state hash ${hex(report.stateHash)})`);
    } else if (report.end.kind !== "crash" || report.end.reason !== "replay-diverged") {
      err(`replay diverged: the run ended with status ${report.status} and state hash ${hex(report.stateHash)}; the recording says status ${schedule.status}, ${hex(schedule.stateHash)}`);
      status = STATUS.CRASH;
    }
  }

  if (report.end.kind === "crash") err(report.end.message);
  if (p.stats) {
    process.stderr.write(`${JSON.stringify(statsJson(report, options, notes))}\n`);
  } else {
    process.stderr.write(summaryText(report, options, notes));
  }
  return status;
}

// ── The summary ──────────────────────────────────────────────────────────────

function resultText(r: RunReport): string {
  const e = r.end;
  switch (e.kind) {
    case "debug-exit":
      return e.code === 0n
        ? `success (CPU ${e.cpu} wrote 0 to the debug-exit port 0xf4)`
        : `guest-reported failure: CPU ${e.cpu} wrote ${hex(e.code)} (${e.code}) to the debug-exit port 0xf4`;
    case "power-off":
      return e.reset
        ? `guest-reported failure: CPU ${e.cpu} called PSCI SYSTEM_RESET`
        : `success (CPU ${e.cpu} called PSCI SYSTEM_OFF)`;
    case "step-limit":
      return `step limit: ${e.steps} instructions retired (--max-steps) with no result from the guest`;
    case "crash":
      return `crash: ${e.reason}`;
  }
}

const sum = (cpus: CpuReport[], f: (c: Counters) => bigint) => cpus.reduce((n, c) => n + f(c.counters), 0n);

function summaryText(r: RunReport, o: RecordedOptions, notes: string[]): string {
  const lines: string[] = [];
  lines.push("── shootdown run summary ──");
  lines.push(`result: ${resultText(r)} (exit status ${r.status})`);
  const mode = r.mode === "replay" ? "replay" : r.mode === "random" ? `random interleaving, seed ${o.seed}, quantum 1–${o.quantum}` : `round-robin, quantum ${o.quantum}`;
  lines.push(`machine: ${r.arch}, ${o.cpus} CPU${o.cpus === 1 ? "" : "s"}, ${o.memBytes >> 20n} MiB; schedule: ${mode}; ${r.decisions} decisions${o.tlbChaos ? `; TLB chaos P=${o.tlbChaos}` : ""}`);
  lines.push("CPU  instructions        cycles  exits");
  for (const c of r.cpus) {
    const exits = Object.entries(c.exits).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
    lines.push(`${String(c.index).padStart(3)}  ${String(c.instructions).padStart(12)}  ${String(c.cycles).padStart(12)}  ${exits}`);
  }
  const s = (f: (c: Counters) => bigint) => sum(r.cpus, f);
  lines.push(`total ${r.steps} instructions, ${r.cpus.reduce((n, c) => n + c.cycles, 0n)} cycles`);
  lines.push(`TLB: hits ${s((c) => c.tlbHits)}, misses ${s((c) => c.tlbMisses)}, walks ${s((c) => c.walks)}, page faults ${s((c) => c.pageFaults)}` +
    (o.tlbChaos ? `, chaos evictions ${s((c) => c.chaosEvictions)}` : ""));
  if (r.arch === "x86_64") {
    lines.push(`invalidations: INVLPG ${s((c) => c.invlpg)}, INVPCID address ${s((c) => c.invpcidAddress)} / single-context ${s((c) => c.invpcidSingleContext)} / ` +
      `all ${s((c) => c.invpcidAllExcludingGlobal)} / all+global ${s((c) => c.invpcidAllIncludingGlobal)}, ` +
      `CR3 writes flushing ${s((c) => c.cr3Flush)} / no-flush ${s((c) => c.cr3NoFlush)}`);
    lines.push(`IPIs: sent ${s((c) => c.ipisSent)}, taken ${s((c) => c.ipisTaken)}; exceptions ${s((c) => c.exceptions)}, interrupts ${s((c) => c.interrupts)}`);
  } else {
    lines.push(`invalidations: TLBI ${s((c) => c.tlbi)} issued, ${s((c) => c.tlbiReceived)} received from other CPUs`);
    lines.push(`SGIs: sent ${s((c) => c.ipisSent)}, taken ${s((c) => c.ipisTaken)}; exceptions ${s((c) => c.exceptions)}, interrupts ${s((c) => c.interrupts)}`);
  }
  if (r.arch === "x86_64") {
    const ports = r.unknownPorts.map((u) => `${hex(u.port)} (${u.reads} in, ${u.writes} out)`).join(", ");
    lines.push(`I/O to unknown ports: ${ports || "none"}`);
  }
  lines.push(`state hash: ${hex(r.stateHash)}`);
  for (const n of notes) lines.push(n);
  return lines.map((l) => `${l}\n`).join("");
}

/** The program counter's name in the JSON summary. */
const pcName = (r: RunReport) => (r.arch === "x86_64" ? "rip" : "pc");

const num = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

function statsJson(r: RunReport, o: RecordedOptions, notes: string[]): unknown {
  const e = r.end;
  const end = e.kind === "debug-exit" ? { kind: e.kind, code: num(e.code), cpu: e.cpu }
    : e.kind === "power-off" ? { kind: e.kind, reset: e.reset, cpu: e.cpu }
    : e.kind === "step-limit" ? { kind: e.kind, steps: num(e.steps) }
    : { kind: e.kind, reason: e.reason, message: e.message, ...(e.cpu !== undefined ? { cpu: e.cpu } : {}), ...(e.pc !== undefined ? { [pcName(r)]: hex(e.pc) } : {}) };
  const counters = (c: Counters) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, num(v as bigint)]));
  return {
    status: r.status,
    end,
    options: {
      cpus: o.cpus, memBytes: num(o.memBytes), cmdline: o.cmdline, mode: r.mode, seed: o.seed === undefined ? null : o.seed.toString(),
      quantum: o.quantum, maxSteps: o.maxSteps === undefined ? null : num(o.maxSteps), tlbChaos: o.tlbChaos ?? null,
    },
    imageSha256: r.imageSha256,
    instructions: num(r.steps),
    decisions: r.decisions,
    consoleBytes: r.consoleBytes,
    cpus: r.cpus.map((c) => ({
      index: c.index, instructions: num(c.instructions), cycles: num(c.cycles), [pcName(r)]: hex(c.pc), halted: c.halted, stopped: c.stopped,
      exits: c.exits, counters: counters(c.counters),
    })),
    unknownPorts: r.unknownPorts.map((u) => ({ port: hex(u.port), reads: u.reads, writes: u.writes })),
    stateHash: hex(r.stateHash),
    notes,
  };
}
