// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE [options] [-- guest command line]`: boots an x86-64
// or AArch64 image headless on N CPUs (docs/boot.md), streams
// its console to stdout and ends with a summary on stderr (or, with --json,
// the console on stderr and the summary as JSON on stdout). The exit status
// says how the run ended: 0 the guest reported success, 1 it reported a
// failure, 2 the machine crashed (or the image cannot be loaded), 3 the
// step budget ran out, 64 a usage error (main.ts maps those).

import { rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { ShootdownError } from "../machine/core/errors.ts";
import { LoadError } from "../machine/core/elf-load.ts";
import { runImage, imageArch, calibratedOptions } from "../run.ts";
import { attachTiming, COST_MODEL, parseCostModel, TraceFile, type CostModel, type ModelledCycles, type Timing } from "../machine/timing/index.ts";
import { withDefaults } from "../run-guest.ts";
import { sha256, STATUS, type RunReport, type CpuReport } from "../machine/core/report.ts";
import { packSteps } from "../machine/core/scheduler.ts";
import { encodeCmdline } from "../machine/platform/x86/boot.ts";
import { optionsToJson, parseSchedule, scheduleToJson, scheduleDescription, type RecordedOptions, type Schedule } from "../machine/core/schedule-file.ts";
import type { Counters } from "../machine/core/counters.ts";
import { readBounded, readBoundedText, IMAGE_HEADROOM_BYTES, MAX_SCHEDULE_FILE_BYTES, MAX_COST_MODEL_FILE_BYTES } from "./input-file.ts";
import { readElf } from "../../asm/index.ts";
import {
  UsageError, parseCommandLine, integerOption, sizeOption, probabilityOption, choiceOption, exclusive, shown,
  type OptionSpecs, type OptionValues, type SizeRule,
} from "./options.ts";

export const RUN_USAGE = `usage: shootdown run IMAGE [options] [-- guest command line]

Boots an x86-64 or AArch64 ELF64 image on N CPUs (the boot protocols are in
docs/boot.md), streams the guest's console (COM1 on x86-64, the PL011 UART
on AArch64) to stdout and prints a summary on stderr. Numbers are decimal or
0x hex; each option is given once.

  --cpus N          CPUs, 1 to 64 (default 1)
  --mem SIZE        RAM, with K, M or G (KB, MB, GB and KiB… too; or bytes,
                    0x hex included), at least 2M: at physical 0 on x86-64
                    (default 64M), at 0x40000000 on AArch64 (default 128M)
  --quantum Q       instructions per scheduling decision (default 1000); with
                    --seed, each decision runs a random 1 to Q
  --seed S          seeded random interleaving of the CPUs (also seeds --tlb-chaos)
  --strategy pct|random
                    how a seeded run picks CPUs: random (the default with
                    --seed) or PCT, which gives the CPUs random priorities
                    and changes them at D-1 random decisions, to find
                    ordering bugs of depth D (the seed is 0 if not given)
  --depth D         with --strategy pct: the bug depth it aims at (default 3)
  --horizon K       with --strategy pct: the decisions over which the change
                    points fall (default: the decisions of the same run under
                    PCT with no change point, seed 0, measured first; a
                    hypervisor step that reads N table entries counts N)
  --max-steps N     stop after N instructions over all CPUs (status 3)
  --record F        write the schedule taken to F (JSON)
  --replay F        follow the schedule in F exactly (same image and options)
  --tlb-chaos P     evict a random TLB entry every 1/P translations on average
                    (P in (0, 1]; seeded by --seed, 0 without it)
  --check-stale-reads
                    AArch64: stop with status 4 when a non-cacheable read
                    returns an older value than a data cache holds (the
                    latest write still in an L1 or the system cache)
  --hv              run an x86-64 image as paravirtualised (Xen PV) domains, or
                    an AArch64 image as a domain with the hypervisor at EL2,
                    the CPUs being its pCPUs (hypervisor/README.md)
  --hvm             with --hv on x86-64: run the image unchanged as an HVM
                    domain (EPT, a VPID per vCPU, a virtual x2APIC), as bare
                    but with vCPUs on the pCPUs; --dom-mem defaults to --mem
  --domains D       with --hv: D domains, domids 1..D (default 1); with --hvm
                    also a list of ids from 0 (--domains 0,1,2): d0 is then
                    privileged, its XENMEM_sharing_op may name other domains
  --vcpus V         with --hv: V vCPUs per domain (default the CPU count)
  --dom-mem SIZE    with --hv: memory per domain (default 16M)
  --migrate RATE    with --hv on AArch64 or --hvm: the chance per scheduling
                    decision that a vCPU moves to another pCPU (0 to 1, default 0)
  --set-way trap|trap-inline|trap-xen|passthrough
                    with --hv on AArch64: set/way operations trapped and the
                    p2m cleaned to PoC as deferred, preemptible work (default),
                    cleaned inside the trap, cleaned as Xen's p2m_flush_vm is
                    written (valid bits cleared at the root after the whole
                    clean: not safe with vCPUs flushing at once), or not
                    trapped (Xen before the fix)
  --sharing-daemon  with --hvm: the hypervisor nominates and shares identical
                    pages of the running domains itself, seeded, like KSM
  --sharing-lock generic|private
                    with --hvm: memory sharing's page lock is the generic,
                    checked one (before Xen's eb6ad54731) or its own (default)
  --sharing-order mfn|unordered
                    with --hvm: share_pages locks the lower MFN first
                    (default) or the source page first
  --sharing-release after-unlock|before-unlock
                    with --hvm: share_pages and page_make_private drop their
                    references after unlocking (default) or before, as
                    before Xen's c2c6f8b68c
  --sharing-unshare put-first|unlock-first
                    with --hvm: a copy on write drops the old frame's type
                    reference before unlocking it (default), or after, as
                    Xen's __mem_sharing_unshare_page does (a last sharer
                    can then hit its BUG_ON)
  --page-lock-check with --hvm: Xen's 2018 debug check that a CPU holds at
                    most one page lock and never put_page_type on one it holds
  --nested          with --hv: the hypervisor runs under an L0 and flushes other
                    pCPUs with its hypercall (the assisted flush; no IPIs)
  --no-force-ipi    with --hv: ignore FLUSH_NO_ASSIST (FLUSH_FORCE_IPI), as Xen
                    did before its fix; with --nested, page-table frames can
                    then change under an interrupts-off page walk (without
                    --nested every remote flush is an IPI anyway)
  --no-l0-assist    with --nested: the L0 offers no flush hypercall (as
                    Hyper-V without its remote-flush hint), so every remote
                    flush is an IPI, each an exit to L0, and the TLB-flush
                    clock stays on
  --system-cache on|off  (AArch64) keep or leave out the shared system cache
                    that set/way maintenance never reaches (default on)
  --keep-going      count sanitizer violations instead of stopping at the first
  --check-stale     report each use of a TLB entry whose page-table entry
                    changed with no invalidation since (counted in the summary)
  --trace F         write the run's timeline to F as Chrome trace-event JSON
                    (one track per pCPU; opens in ui.perfetto.dev and
                    chrome://tracing), timed by the cycle cost model
  --cost-model F    replace constants of the cycle cost model with those in
                    F, a JSON object such as {"ipiDelivery": 3000}
  --stats           print the summary as one JSON object on stderr (the
                    console stays on stdout), with modelled cycles per pCPU
                    and per flush path
  --json            print the summary as one JSON object on stdout, and the
                    guest's console on stderr
  --help            this text

Exit status: 0 the guest wrote 0 to port 0xf4 (x86-64) or called PSCI
SYSTEM_OFF (AArch64); 1 it wrote another value, or called SYSTEM_RESET; 2
the machine crashed (triple fault, bus error, exception loop, deadlock) or
the image cannot be loaded; 3 --max-steps ran out; 4 the hypervisor's
sanitizer found a race (a page walk's frame changed under it), or
--check-stale-reads a stale non-cacheable read; 64 bad options; 141
stdout or stderr was closed before the end (| head).`;

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** RAM for --mem: 2 MiB to 3 GiB in whole pages. */
const MEM_RULE: SizeRule = {
  min: 2n << 20n,
  max: 3n << 30n,
  minReason: "the loader's tables and an image need it",
  maxReason: "the hardware module lives in 4 GiB of WebAssembly memory",
  multipleOf: 4096n,
};

/** A domain's memory for --dom-mem: 1 MiB to 3 GiB in whole pages. */
const DOM_MEM_RULE: SizeRule = {
  min: 1n << 20n,
  max: 3n << 30n,
  minReason: "a kernel, its page tables and its stack need it",
  maxReason: "the machine's RAM is at most 3G",
  multipleOf: 4096n,
};
const DOM_MEM_DEFAULT = 16n << 20n;

/** "64M", "64MB", "65536K", "1G", "0x4000000": bytes, a multiple of 4 KiB from 2 MiB to 3 GiB. */
export function parseSize(text: string): bigint {
  return sizeOption("--mem", text, MEM_RULE);
}

/** --migrate: a probability, or 0 for no migration beyond what sharing the pCPUs brings. */
function parseMigrate(text: string): number {
  return /^\s*0*(\.0*)?\s*$/.test(text) && /0/.test(text) ? 0 : probabilityOption("--migrate", text);
}

function parseChaos(text: string): number {
  const p = probabilityOption("--tlb-chaos", text);
  if (Math.round(1 / p) > 0x7fff_ffff) throw new UsageError(`--tlb-chaos ${shown(text)} is too small (at least 1/${0x7fff_ffff})`);
  return p;
}

/**
 * --strategy, --depth and --horizon: the mode and PCT's parameters as given
 * (0 for a parameter left to its default, which withDefaults and
 * calibratedOptions fill in).
 */
function strategyOptions(values: { strategy?: string; depth?: string; horizon?: string }): Partial<RecordedOptions> {
  const mode = values.strategy === undefined ? undefined : choiceOption("--strategy", values.strategy, ["pct", "random"] as const);
  for (const name of ["depth", "horizon"] as const) {
    if (values[name] !== undefined && mode !== "pct") throw new UsageError(`--${name} needs --strategy pct`);
  }
  if (mode !== "pct") return mode ? { mode } : {};
  return {
    mode,
    pct: {
      depth: values.depth === undefined ? 0 : Number(integerOption("--depth", values.depth, 1n, 1000n)),
      horizon: values.horizon === undefined ? 0 : Number(integerOption("--horizon", values.horizon, 1n, 0xffff_ffffn)),
    },
  };
}

export interface Parsed {
  imagePath: string;
  /** --check-stale (not recorded: it only reports). */
  checkStale?: boolean;
  given: Partial<RecordedOptions>;
  record?: string;
  replay?: string;
  /** --stats: the summary as JSON on stderr. */
  stats: boolean;
  /** --json: the summary as JSON on stdout, the guest's console on stderr. */
  json: boolean;
  /** --trace F: the timeline as Chrome trace-event JSON. */
  trace?: string;
  /** --cost-model F: overrides of the cost model's constants. */
  costModel?: string;
}

/** The options that set up a machine and its schedule: run, repl and gdb take them all. */
export const MACHINE_OPTIONS = {
  cpus: { type: "string" },
  mem: { type: "string" },
  seed: { type: "string" },
  strategy: { type: "string" },
  depth: { type: "string" },
  horizon: { type: "string" },
  quantum: { type: "string" },
  "max-steps": { type: "string" },
  record: { type: "string" },
  replay: { type: "string" },
  "tlb-chaos": { type: "string" },
  hv: { type: "boolean" },
  hvm: { type: "boolean" },
  domains: { type: "string" },
  vcpus: { type: "string" },
  "dom-mem": { type: "string" },
  nested: { type: "boolean" },
  "no-force-ipi": { type: "boolean" },
  "no-l0-assist": { type: "boolean" },
  migrate: { type: "string" },
  "set-way": { type: "string" },
  "sharing-daemon": { type: "boolean" },
  "sharing-lock": { type: "string" },
  "sharing-order": { type: "string" },
  "sharing-release": { type: "string" },
  "sharing-unshare": { type: "string" },
  "page-lock-check": { type: "boolean" },
  "system-cache": { type: "string" },
  "keep-going": { type: "boolean" },
  "check-stale": { type: "boolean" },
  "check-stale-reads": { type: "boolean" },
  help: { type: "boolean" },
} as const satisfies OptionSpecs;

const RUN_OPTIONS = {
  ...MACHINE_OPTIONS,
  stats: { type: "boolean" },
  json: { type: "boolean" },
  trace: { type: "string" },
  "cost-model": { type: "string" },
} as const satisfies OptionSpecs;

type MachineValues = OptionValues<typeof MACHINE_OPTIONS> & { stats?: boolean; json?: boolean };

/**
 * The machine options of a parsed command line (run's, or repl's and gdb's),
 * checked: "help", or one IMAGE with its options.
 */
export function machineOptions(command: string, parsed: { values: MachineValues; positionals: string[]; rest?: string[] }): Parsed | "help" {
  const { values, positionals, rest: guest } = parsed;
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length
      ? `${command} takes one IMAGE, not ${positionals.length} (put the guest's command line after --)`
      : "no IMAGE");
  }
  exclusive(values, "record", "replay");
  exclusive(values, "stats", "json");
  const given: Partial<RecordedOptions> = {};
  if (values.cpus !== undefined) given.cpus = Number(integerOption("--cpus", values.cpus, 1n, 64n));
  if (values.mem !== undefined) given.memBytes = parseSize(values.mem);
  if (values.seed !== undefined) given.seed = integerOption("--seed", values.seed, 0n, (1n << 64n) - 1n);
  Object.assign(given, strategyOptions(values));
  if (values.quantum !== undefined) given.quantum = Number(integerOption("--quantum", values.quantum, 1n, 1_000_000_000n));
  if (values["max-steps"] !== undefined) given.maxSteps = integerOption("--max-steps", values["max-steps"], 1n, (1n << 63n) - 1n);
  if (values["tlb-chaos"] !== undefined) given.tlbChaos = parseChaos(values["tlb-chaos"]);
  for (const name of ["hvm", "domains", "vcpus", "dom-mem", "nested", "no-force-ipi", "no-l0-assist", "migrate", "set-way"] as const) {
    if (values[name] !== undefined && !values.hv) throw new UsageError(`--${name} needs --hv`);
  }
  if (values["no-l0-assist"] && !values.nested) throw new UsageError("--no-l0-assist needs --nested (without an L0 there is no assisted flush to do without)");
  for (const name of SHARING_FLAGS) {
    if (values[name] !== undefined && !values.hvm) throw new UsageError(`--${name} needs --hv --hvm`);
  }
  const domains = values.domains === undefined ? { domains: 1, dom0: false } : parseDomains(values.domains, values.hvm ?? false);
  if (values["keep-going"]) given.keepGoing = true;
  if (values["check-stale-reads"]) given.checkStaleReads = true;
  if (values["system-cache"] !== undefined && choiceOption("--system-cache", values["system-cache"], ["on", "off"] as const) === "off") given.systemCache = false;
  if (values.hv) {
    given.hv = {
      domains: domains.domains,
      ...(domains.dom0 ? { dom0: true } : {}),
      // 0 until the defaults are known: the CPU count.
      vcpus: values.vcpus === undefined ? 0 : Number(integerOption("--vcpus", values.vcpus, 1n, 64n)),
      // With --hvm, 0 until the defaults are known: the machine's RAM, as bare.
      domMemBytes: values["dom-mem"] !== undefined ? sizeOption("--dom-mem", values["dom-mem"], DOM_MEM_RULE) : values.hvm ? 0n : DOM_MEM_DEFAULT,
      ...(values.hvm ? { hvm: true } : {}),
      ...(values.nested ? { nested: true } : {}),
      ...(values["no-force-ipi"] ? { forceIpi: false } : {}),
      ...(values["no-l0-assist"] ? { l0Assist: false } : {}),
      ...(values.migrate !== undefined ? { migrate: parseMigrate(values.migrate) } : {}),
      ...(values["set-way"] !== undefined ? { setWay: choiceOption("--set-way", values["set-way"], ["trap", "trap-inline", "trap-xen", "passthrough"] as const) } : {}),
      ...sharingOptions(values),
    };
  }
  if (guest !== undefined) {
    given.cmdline = guest.join(" ");
    encodeCmdline(given.cmdline);
  }
  return {
    imagePath: positionals[0]!, given, stats: values.stats ?? false, json: values.json ?? false, checkStale: values["check-stale"] ?? false,
    ...(values.record !== undefined ? { record: values.record } : {}),
    ...(values.replay !== undefined ? { replay: values.replay } : {}),
  };
}

const SHARING_FLAGS = ["sharing-daemon", "sharing-lock", "sharing-order", "sharing-release", "sharing-unshare", "page-lock-check"] as const;

/** --domains: a count (domids 1..D) or, with --hvm, a list of consecutive ids from 0 or 1 ("0,1,2": d0 privileged). */
function parseDomains(text: string, hvm: boolean): { domains: number; dom0: boolean } {
  if (!text.includes(",")) return { domains: Number(integerOption("--domains", text, 1n, 64n)), dom0: false };
  const ids = text.split(",").map((w) => Number(integerOption("--domains", w.trim(), 0n, 63n)));
  if (!ids.every((id, k) => id === ids[0]! + k) || ids[0]! > 1) {
    throw new UsageError(`--domains ${text}: a list must be consecutive domain ids from 0 or 1 (such as 0,1,2)`);
  }
  if (ids[0] === 0 && !hvm) throw new UsageError("--domains with domain 0 needs --hvm (a privileged HVM domain)");
  return { domains: ids.length, dom0: ids[0] === 0 };
}

/** The memory-sharing options of --hvm, absent where every one is the default (today's Xen). */
function sharingOptions(values: MachineValues): Partial<NonNullable<RecordedOptions["hv"]>> {
  const lock = values["sharing-lock"] === undefined ? "private" : choiceOption("--sharing-lock", values["sharing-lock"], ["generic", "private"] as const);
  const order = values["sharing-order"] === undefined ? "mfn" : choiceOption("--sharing-order", values["sharing-order"], ["mfn", "unordered"] as const);
  const release = values["sharing-release"] === undefined ? "after-unlock" : choiceOption("--sharing-release", values["sharing-release"], ["after-unlock", "before-unlock"] as const);
  const unshare = values["sharing-unshare"] === undefined ? "put-first" : choiceOption("--sharing-unshare", values["sharing-unshare"], ["put-first", "unlock-first"] as const);
  const history = lock !== "private" || order !== "mfn" || release !== "after-unlock" || unshare !== "put-first";
  return {
    ...(history ? { sharing: { sharingLock: lock, sharingOrder: order, sharingRelease: release, ...(unshare !== "put-first" ? { sharingUnshare: unshare } : {}) } } : {}),
    ...(values["sharing-daemon"] ? { sharingDaemon: true } : {}),
    ...(values["page-lock-check"] ? { pageLockCheck: true } : {}),
  };
}

function parse(args: string[]): Parsed | "help" {
  const parsed = parseCommandLine(args, RUN_OPTIONS, { command: "run", afterDashDash: "rest" });
  const p = machineOptions("run", parsed);
  if (p === "help") return p;
  const { trace, "cost-model": costModel } = parsed.values;
  return { ...p, ...(trace !== undefined ? { trace } : {}), ...(costModel !== undefined ? { costModel } : {}) };
}

export { imageArch } from "../run.ts";
export { withDefaults } from "../run-guest.ts";

/**
 * A replay takes its options from the schedule; an option also given on the
 * command line must agree, except --max-steps, which bounds how far the
 * replay goes (a schedule can ask for more decisions than one wants to wait
 * for: a count of a billion is followed one decision at a time).
 */
export function replayOptions(schedule: Schedule, given: Partial<RecordedOptions>, path: string): RecordedOptions {
  const rec = schedule.options;
  const checks: [string, (o: Partial<RecordedOptions>) => string | undefined][] = [
    ["--cpus", (o) => o.cpus?.toString()],
    ["--mem", (o) => (o.memBytes === undefined ? undefined : `${o.memBytes} bytes`)],
    ["the guest command line", (o) => (o.cmdline === undefined ? undefined : JSON.stringify(o.cmdline))],
    ["--seed", (o) => o.seed?.toString()],
    ["--strategy", (o) => o.mode],
    ["--depth", (o) => (o.pct?.depth ? String(o.pct.depth) : undefined)],
    ["--horizon", (o) => (o.pct?.horizon ? String(o.pct.horizon) : undefined)],
    ["--quantum", (o) => o.quantum?.toString()],
    ["--tlb-chaos", (o) => o.tlbChaos?.toString()],
    ["--hv", (o) => (o.hv === undefined ? undefined : `${o.hv.domains} domains`)],
    ["--hvm", (o) => (o.hv?.hvm ? "given" : undefined)],
    ["--nested", (o) => (o.hv?.nested ? "given" : undefined)],
    ["--no-force-ipi", (o) => (o.hv?.forceIpi === false ? "given" : undefined)],
    ["--no-l0-assist", (o) => (o.hv?.l0Assist === false ? "given" : undefined)],
    ["--migrate", (o) => (o.hv?.migrate === undefined ? undefined : String(o.hv.migrate))],
    ["--set-way", (o) => (o.hv?.setWay === undefined || o.hv.setWay === "trap" ? undefined : o.hv.setWay)],
    ["--domains 0,…", (o) => (o.hv?.dom0 ? "given" : undefined)],
    ["--sharing-lock", (o) => o.hv?.sharing?.sharingLock],
    ["--sharing-order", (o) => o.hv?.sharing?.sharingOrder],
    ["--sharing-release", (o) => o.hv?.sharing?.sharingRelease],
    ["--sharing-unshare", (o) => o.hv?.sharing?.sharingUnshare],
    ["--sharing-daemon", (o) => (o.hv?.sharingDaemon ? "given" : undefined)],
    ["--page-lock-check", (o) => (o.hv?.pageLockCheck ? "given" : undefined)],
    ["--keep-going", (o) => (o.keepGoing ? "given" : undefined)],
    ["--system-cache", (o) => (o.systemCache === false ? "off" : undefined)],
    ["--check-stale-reads", (o) => (o.checkStaleReads ? "given" : undefined)],
  ];
  for (const [name, show] of checks) {
    const mine = show(given);
    if (mine !== undefined && mine !== show(rec)) {
      throw new ShootdownError(`${name} ${mine} differs from the recorded run in ${path} (${show(rec) ?? "not given"}); leave it out to replay`);
    }
  }
  return given.maxSteps === undefined ? rec : { ...rec, maxSteps: given.maxSteps };
}

/** RAM an image may need when neither the options nor a schedule say: the larger default (QEMU virt's 128 MiB). */
const LARGEST_DEFAULT_MEM = 128n << 20n;

/**
 * An image file, at most the RAM it will load into (as given or recorded;
 * the larger default when neither says) plus room for its headers and
 * tables: a larger one cannot load, and a FIFO or /dev/zero never ends.
 */
export function readImage(path: string, given: Partial<RecordedOptions>, schedule: Schedule | undefined): Uint8Array {
  const ram = schedule?.options.memBytes ?? given.memBytes ?? LARGEST_DEFAULT_MEM;
  return readBounded(path, `an image for ${ram >> 20n} MiB of RAM`, Number(ram) + IMAGE_HEADROOM_BYTES);
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

/** Console bytes to stdout (stderr with --json): flushed at each newline and every 4 KiB. */
class ConsoleOut {
  private buf: number[] = [];

  constructor(private readonly stream: NodeJS.WriteStream) {}

  put = (byte: number): void => {
    this.buf.push(byte);
    if (byte === 10 || this.buf.length >= 4096) this.flush();
  };

  flush(): void {
    if (!this.buf.length) return;
    // Once the reader has gone (| head), the rest of the console has nowhere to go; main.ts ends the process.
    if (!this.stream.destroyed) this.stream.write(Uint8Array.from(this.buf));
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

  // The cost model prices the run when its cycles are asked for (the JSON
  // summary, a trace, a model of one's own); a plain run attaches no sink.
  const model = p.costModel === undefined ? COST_MODEL : parseCostModel(readBoundedText(p.costModel, "a cost-model file", MAX_COST_MODEL_FILE_BYTES), p.costModel);
  const timed = p.stats || p.json || p.trace !== undefined || p.costModel !== undefined;
  const traceFile = p.trace === undefined ? undefined : new TraceFile(p.trace);

  const consoleOut = new ConsoleOut(p.json ? process.stderr : process.stdout);
  const trace = traceFile && { write: traceFile.write, processName: `shootdown: ${basename(p.imagePath)}`, otherData: { image: basename(p.imagePath), imageSha256 } };
  // Under --nested the hypervisor's IPIs exit to L0 (cost-model.ts, ipiSend).
  const nested = options.hv?.nested === true;
  let timing: Timing | undefined;
  let report: RunReport;
  try {
    options = calibratedOptions(options, image);
    report = runImage({
      ...options, image, console: consoleOut.put, record: p.record !== undefined, checkStale: p.checkStale === true,
      ...(schedule ? { replay: schedule.decisions } : {}),
    }, timed ? (platform) => {
      timing = attachTiming(platform, model, trace, { nested });
    } : undefined);
  } catch (e) {
    consoleOut.flush();
    traceFile?.close();
    if (e instanceof LoadError) {
      if (p.record !== undefined) rmSync(p.record, { force: true });
      if (p.trace !== undefined) rmSync(p.trace, { force: true });
      err(`cannot load ${p.imagePath}: ${e.message}`);
      return STATUS.CRASH;
    }
    throw e;
  } finally {
    consoleOut.flush();
  }

  const modelled = timing?.finish();
  const traceError = traceFile?.close();
  let status = report.status;
  const notes: string[] = [];
  if (traceError !== undefined) {
    err(traceError);
    status = STATUS.CRASH;
  } else if (p.trace !== undefined) notes.push(`trace written to ${p.trace} (open it in ui.perfetto.dev or chrome://tracing)`);
  if (p.record !== undefined) {
    const json = scheduleToJson({
      imageSha256, imageName: basename(p.imagePath), options, decisions: packSteps(report.schedule ?? []), status: report.status, stateHash: report.stateHash,
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
  if (p.json) {
    out(JSON.stringify(statsJson({ ...report, status }, options, notes, modelled, model)));
  } else if (p.stats) {
    process.stderr.write(`${JSON.stringify(statsJson({ ...report, status }, options, notes, modelled, model))}\n`);
  } else {
    // The status the process exits with, which a failed replay or recording changes.
    process.stderr.write(summaryText({ ...report, status }, options, notes, modelled));
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
    case "shutdown":
      return `${e.status === 0 ? "success" : "guest-reported failure"} (CPU ${e.cpu}: the domain shut down, ${e.reason})`;
    case "crash":
      return `crash: ${e.reason}`;
    case "violation":
      return `sanitizer violation (status 4) at step ${e.step}: ${e.message}`;
  }
}

const sum = (cpus: CpuReport[], f: (c: Counters) => bigint) => cpus.reduce((n, c) => n + f(c.counters), 0n);

/** What hypervisor/x86/pv-host.ts summary() reports. */
interface HypervisorSummary {
  domains: { domid: number; vcpus: number; pages: number; maxPages: number; shutdown: string | null }[];
  hypercalls: Record<string, Record<string, number>>;
  typeTransitions: Record<string, number>;
  pins: number;
  unpins: number;
  flushes: Record<string, { requests: number; pcpus: number }>;
  frames: { allocated: number; freed: number; scrubbed: number };
  migrations: number;
  preemptions: number;
  exits: Record<string, number>;
  flushPaths: Record<string, number>;
  ipisSent: number;
  pcpusSparedByClock: number;
  spuriousPageFaults: number;
  flushMode: string;
  violations: number;
}

const counts = (o: Record<string, number>) => Object.entries(o).map(([k, n]) => `${k} ×${n}`).join(", ") || "none";

function hypervisorLines(h: HypervisorSummary): string[] {
  const doms = h.domains.map((d) => `d${d.domid}: ${d.vcpus} vCPU${d.vcpus === 1 ? "" : "s"}, ${d.pages} pages, ${d.shutdown ?? "running"}`).join("; ");
  const calls = Object.entries(h.hypercalls).map(([name, results]) => `${name} ${Object.entries(results).map(([k, n]) => `${k}×${n}`).join(" ")}`);
  const total = Object.values(h.hypercalls).reduce((n, r) => n + Object.values(r).reduce((a, b) => a + b, 0), 0);
  const flushes = Object.entries(h.flushes).map(([k, f]) => `${k} ×${f.requests} (${f.pcpus} pCPUs)`).join(", ") || "none";
  return [
    `hypervisor: ${h.domains.length} domain${h.domains.length === 1 ? "" : "s"} (${doms}); vCPU migrations ${h.migrations}, preemptions ${h.preemptions}`,
    `hypercalls: ${total} (${calls.join("; ") || "none"})`,
    `page types: ${counts(h.typeTransitions)}; pins ${h.pins}, unpins ${h.unpins}`,
    `flushes: ${flushes}`,
    `flush paths (${h.flushMode}): ${counts(h.flushPaths)}; flush IPIs sent ${h.ipisSent}; pCPUs the TLB-flush clock spared ${h.pcpusSparedByClock}; spurious page faults ${h.spuriousPageFaults}`,
    `frames: allocated ${h.frames.allocated}, freed ${h.frames.freed}, scrubbed ${h.frames.scrubbed}`,
    `VM exits: ${counts(h.exits)}`,
    `sanitizer violations: ${h.violations}`,
  ];
}

/** What hypervisor/arm/arm-host.ts summary() reports. */
interface ArmHypervisorSummary {
  domains: { domid: number; vcpus: number; pages: number; vmid: number }[];
  exits: Record<string, number>;
  trapOutcomes: Record<string, number>;
  injected: number;
  p2mFaultsResolved: number;
  sgis: { sent: number; dropped: number };
  gicMmio: { reads: number; writes: number };
  migrations: number;
  preemptions: number;
  tlbFlushesOnSwitch: number;
  migrate: number;
  setWay: string;
  violations: number;
}

function armHypervisorLines(h: ArmHypervisorSummary): string[] {
  const d = h.domains[0]!;
  return [
    `hypervisor (EL2): d${d.domid}: ${d.vcpus} vCPU${d.vcpus === 1 ? "" : "s"}, ${d.pages} pages, VMID ${d.vmid}; vCPU migrations ${h.migrations} (--migrate ${h.migrate}, --set-way ${h.setWay}), preemptions ${h.preemptions}, VMID TLB flushes on a vCPU switch ${h.tlbFlushesOnSwitch}`,
    `traps to EL2: ${counts(h.exits)}`,
    `trap outcomes: ${counts(h.trapOutcomes)}; injected into the guest ${h.injected}`,
    `stage 2: faults resolved by the valid bit ${h.p2mFaultsResolved}; GIC: SGIs sent ${h.sgis.sent} (dropped ${h.sgis.dropped}), register accesses emulated ${h.gicMmio.reads} reads, ${h.gicMmio.writes} writes`,
    `sanitizer violations: ${h.violations}`,
  ];
}

/** What hypervisor/x86/hvm/hvm-host.ts summary() reports. */
interface HvmHypervisorSummary {
  domains: { domid: number; vcpus: number; pages: number; eptTables: number }[];
  exits: Record<string, number>;
  outcomes: Record<string, number>;
  hypercalls: Record<string, Record<string, number>>;
  migrations: number;
  preemptions: number;
  migrate: number;
}

function hvmHypervisorLines(h: HvmHypervisorSummary): string[] {
  const d = h.domains[0]!;
  const calls = Object.entries(h.hypercalls).map(([name, results]) => `${name} ${Object.entries(results).map(([k, n]) => `${k}×${n}`).join(" ")}`);
  const total = Object.values(h.hypercalls).reduce((n, r) => n + Object.values(r).reduce((a, b) => a + b, 0), 0);
  return [
    `hypervisor (HVM): d${d.domid}: ${d.vcpus} vCPU${d.vcpus === 1 ? "" : "s"}, ${d.pages} pages, ${d.eptTables} EPT tables; vCPU migrations ${h.migrations} (--migrate ${h.migrate}), preemptions ${h.preemptions}`,
    `VM exits: ${counts(h.exits)}`,
    `exit outcomes: ${counts(h.outcomes)}`,
    `hypercalls: ${total} (${calls.join("; ") || "none"})`,
  ];
}

/** The guest's annotations (docs/annotations.md), when it made any: counts, then each warning about a bad one. */
function annotationLines(r: RunReport): string[] {
  const a = r.annotations;
  if (!a) return [];
  const made = Object.entries(a.made).map(([op, n]) => `${op} ${n}`).join(", ");
  return [`guest annotations: ${made}; ${a.warnings.length ? `${a.warnings.length} warning${a.warnings.length === 1 ? "" : "s"}` : "no warnings"}`,
    ...a.warnings.map((w) => `  warning: ${w}`)];
}

/** Events shown at most, per kind, in the summary. */
const EVENTS_SHOWN = 5;

/** Stale-entry uses (--check-stale) and sanitizer violations (with --keep-going, all of them are counted). */
function eventLines(r: RunReport): string[] {
  const lines: string[] = [];
  for (const [kind, title] of [["stale-use", "stale TLB entries used (--check-stale)"], ["violation", "sanitizer violations found"]] as const) {
    const of = r.events.filter((e) => e.kind === kind);
    if (!of.length) continue;
    lines.push(`${title}: ${of.length}`, ...of.slice(0, EVENTS_SHOWN).map((e) => `  ${e.message}`));
    if (of.length > EVENTS_SHOWN) lines.push(`  … and ${of.length - EVENTS_SHOWN} more`);
  }
  return lines;
}


/** The cost model's lines: each pCPU's cycles by what they went to, and each flush path's. */
function modelledLines(m: ModelledCycles): string[] {
  const lines = [`modelled cycles (cost model, ${m.clockMHz} MHz): work, clock at the end, and what the work went to`];
  for (const c of m.pcpus) {
    const kinds = Object.entries(c.byKind).filter(([k, n]) => n > 0 && k !== "wait").map(([k, n]) => `${k} ${n}`).join(", ") || "nothing";
    lines.push(`  pCPU ${c.index}: ${c.cycles} cycles, clock ${c.clock} (${kinds}${c.byKind.wait ? `; waited ${c.byKind.wait}` : ""})`);
  }
  const paths = Object.entries(m.flushes).map(([path, f]) => f.flushes === 0 ? `${path} none`
    : `${path} ×${f.flushes} (${f.remoteFlushes} remote, to ${f.remoteTargets} pCPUs${f.filtered ? `, ${f.filtered} filtered` : ""}): ` +
      `${f.initiatorCycles + f.targetCycles} cycles${f.cyclesPerRemoteFlush === null ? "" : `, ${f.cyclesPerRemoteFlush} per remote flush`}`);
  lines.push(`flush cycles by path: ${paths.join("; ")}`);
  // The guest's spans (docs/annotations.md, SD_ANNOT_SPAN_BEGIN/END): what its owner did in between.
  const spans = Object.entries(m.spans ?? {}).map(([name, t]) => `${name} ×${t.count}: ${t.cyclesPerSpan} cycles each (at most ${t.maxCycles})`);
  if (spans.length) lines.push(`guest spans: ${spans.join("; ")}`);
  return lines;
}

function summaryText(r: RunReport, o: RecordedOptions, notes: string[], modelled?: ModelledCycles): string {
  const lines: string[] = [];
  lines.push("── shootdown run summary ──");
  lines.push(`result: ${resultText(r)} (exit status ${r.status})`);
  const mode = r.mode === "replay" ? "replay" : scheduleDescription(o);
  lines.push(`machine: ${r.arch}, ${o.cpus} CPU${o.cpus === 1 ? "" : "s"}, ${o.memBytes >> 20n} MiB${o.systemCache === false ? ", no system cache" : ""}${o.checkStaleReads ? ", stale reads checked" : ""}; schedule: ${mode}; ${r.decisions} decisions${o.tlbChaos ? `; TLB chaos P=${o.tlbChaos}` : ""}`);
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
  if (r.hypervisor) {
    const h = r.hypervisor;
    lines.push(...("hvm" in h ? hvmHypervisorLines(h as unknown as HvmHypervisorSummary)
      : "trapOutcomes" in h ? armHypervisorLines(h as unknown as ArmHypervisorSummary) : hypervisorLines(h as unknown as HypervisorSummary)));
  }
  lines.push(...annotationLines(r));
  lines.push(...eventLines(r));
  if (modelled) lines.push(...modelledLines(modelled));
  lines.push(`state hash: ${hex(r.stateHash)}`);
  for (const n of notes) lines.push(n);
  return lines.map((l) => `${l}\n`).join("");
}

/** The program counter's name in the JSON summary. */
const pcName = (r: RunReport) => (r.arch === "x86_64" ? "rip" : "pc");

const num = (v: bigint) => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

/**
 * The run's options in the JSON summary: what a schedule file records
 * (optionsToJson), with sizes as numbers where they fit and the memory size
 * under "memBytes", as this summary has always had them.
 */
function optionsJson(o: RecordedOptions): Record<string, unknown> {
  const { mem: _mem, ...recorded } = optionsToJson(o);
  return {
    cpus: o.cpus, memBytes: num(o.memBytes), ...recorded,
    maxSteps: o.maxSteps === undefined ? null : num(o.maxSteps),
    ...(o.hv ? { hv: { ...(recorded.hv as Record<string, unknown>), domMem: num(o.hv.domMemBytes) } } : {}),
  };
}

function statsJson(r: RunReport, o: RecordedOptions, notes: string[], modelled?: ModelledCycles, model?: CostModel): unknown {
  const e = r.end;
  const end = e.kind === "debug-exit" ? { kind: e.kind, code: num(e.code), cpu: e.cpu }
    : e.kind === "power-off" ? { kind: e.kind, reset: e.reset, cpu: e.cpu }
    : e.kind === "step-limit" ? { kind: e.kind, steps: num(e.steps) }
    : e.kind === "shutdown" ? { kind: e.kind, status: e.status, reason: e.reason, cpu: e.cpu }
    : e.kind === "violation" ? { kind: e.kind, cpu: e.cpu, step: e.step, message: e.message }
    : { kind: e.kind, reason: e.reason, message: e.message, ...(e.cpu !== undefined ? { cpu: e.cpu } : {}), ...(e.pc !== undefined ? { [pcName(r)]: hex(e.pc) } : {}) };
  const counters = (c: Counters) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, num(v as bigint)]));
  return {
    status: r.status,
    end,
    options: optionsJson(o),
    ...(r.hypervisor ? { hypervisor: r.hypervisor } : {}),
    ...(r.annotations ? { annotations: r.annotations } : {}),
    events: {
      staleUses: r.events.filter((e) => e.kind === "stale-use").length,
      violations: r.events.filter((e) => e.kind === "violation").map((e) => ({ cpu: e.cpu, message: e.message })),
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
    ...(modelled ? { modelledCycles: modelled, costModel: model } : {}),
    stateHash: hex(r.stateHash),
    notes,
  };
}
