// SPDX-License-Identifier: MIT
//
// The schedule file of `shootdown run --record F` / `--replay F`: JSON with
// a format name and version, the SHA-256 of the image, every option that
// changes what the machine does, the decisions the scheduler took (packed,
// scheduler.ts), and how the run ended (its status and final state hash),
// so that a replay can say whether it reproduced the run.

import { ShootdownError } from "./errors.ts";
import { checkPacked, repeatCount, isHvStep, type PackedStep, type PctParameters } from "./scheduler.ts";

export const SCHEDULE_FORMAT = "shootdown-schedule";
/**
 * Version 2 records continuation steps (`[cpu, "hv"]`) besides guest
 * instructions; version 1 files, which can only hold the latter, still replay.
 */
export const SCHEDULE_VERSION = 2;
const READABLE_VERSIONS = [1, 2];

/** The options a run is a function of (with the image and the decisions). */
export interface RecordedOptions {
  cpus: number;
  memBytes: bigint;
  cmdline: string;
  /** How the decisions were made; a replay follows them whatever the mode. */
  mode: "round-robin" | "random" | "pct";
  /** --seed (also the TLB chaos seed), or undefined. */
  seed: bigint | undefined;
  /** --depth and --horizon of mode "pct" (scheduler.ts PriorityChangePoints). */
  pct?: PctParameters;
  quantum: number;
  maxSteps: bigint | undefined;
  tlbChaos: number | undefined;
  /** --hv: the image runs as PV domains under the hypervisor. */
  hv?: HvOptions;
  /** --keep-going: sanitizer violations are counted; the run does not stop at the first. */
  keepGoing?: boolean;
  /** --system-cache off (AArch64): false when no system cache sits between the L1s and RAM; absent, there is one. */
  systemCache?: boolean;
  /** --check-stale-reads (AArch64): a non-cacheable read older than a data cache's copy is a sanitizer violation (status 4). */
  checkStaleReads?: boolean;
}

/** What `--hv` sets up (hypervisor/). */
export interface HvOptions {
  /** Domains 1..domains (--domains). */
  domains: number;
  /** vCPUs per domain (--vcpus, default the pCPU count). */
  vcpus: number;
  /** Memory per domain (--dom-mem). */
  domMemBytes: bigint;
  /** --nested: the hypervisor runs under an L0 and flushes remote pCPUs through it (the assisted flush). */
  nested?: boolean;
  /** --no-force-ipi: FLUSH_NO_ASSIST is ignored, as before Xen's fix (false); default true. */
  forceIpi?: boolean;
  /** --no-l0-assist (with --nested): the L0 offers no flush hypercall, so remote flushes go by IPI (false); default true. */
  l0Assist?: boolean;
  /** --migrate (AArch64): the chance per scheduling decision that a vCPU moves to another pCPU; default 0. */
  migrate?: number;
  /** --set-way (AArch64): how set/way operations are handled; default "trap". */
  setWay?: "trap" | "trap-inline" | "trap-xen" | "passthrough";
  /** --hvm (x86-64): the image runs unchanged as an HVM domain (EPT, VPIDs, a virtual x2APIC) instead of a PV kernel. */
  hvm?: boolean;
  /** --domains 0,1,… (--hvm): the domain ids start at 0, and d0 is privileged (it may name other domains in XENMEM_sharing_op). */
  dom0?: boolean;
  /** --page-lock-check (--hvm): the 2018 debug check that a CPU holds at most one page lock. */
  pageLockCheck?: boolean;
  /** --sharing-lock, --sharing-order, --sharing-release (--hvm): memory sharing's history; absent, today's Xen. */
  sharing?: { sharingLock: "generic" | "private"; sharingOrder: "mfn" | "unordered"; sharingRelease: "before-unlock" | "after-unlock"; sharingUnshare?: "put-first" | "unlock-first" };
  /** --sharing-daemon (--hvm): the hypervisor nominates and shares identical pages of running domains. */
  sharingDaemon?: boolean;
}

/**
 * How a run's decisions are made, in words: "round-robin, quantum 1000",
 * "PCT, seed 7, depth 3, …"; with no seed, what every seed shares
 * ("PCT, depth 3, …", as exploration says it).
 */
export function scheduleDescription(o: RecordedOptions): string {
  const seed = o.seed === undefined ? "" : `, seed ${o.seed}`;
  if (o.mode === "pct") return `PCT${seed}, depth ${o.pct?.depth}, horizon ${o.pct?.horizon} decisions, quantum 1–${o.quantum}`;
  return o.mode === "random" ? `random interleaving${seed}, quantum 1–${o.quantum}` : `round-robin, quantum ${o.quantum}`;
}

export interface Schedule {
  imageSha256: string;
  imageName: string;
  options: RecordedOptions;
  /** The decisions, packed (scheduler.ts): a repeat count is never expanded. */
  decisions: PackedStep[];
  /** How the recorded run ended. */
  status: number;
  stateHash: bigint;
}

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The "options" object of a schedule file (exploration's shard files hold it too). */
export function optionsToJson(o: RecordedOptions): Record<string, unknown> {
  return {
    cpus: o.cpus,
    mem: o.memBytes.toString(),
    cmdline: o.cmdline,
    mode: o.mode,
    seed: o.seed === undefined ? null : o.seed.toString(),
    ...(o.mode === "pct" && o.pct ? { pct: { depth: o.pct.depth, horizon: o.pct.horizon } } : {}),
    quantum: o.quantum,
    maxSteps: o.maxSteps === undefined ? null : o.maxSteps.toString(),
    tlbChaos: o.tlbChaos ?? null,
    ...(o.hv ? { hv: {
      domains: o.hv.domains, vcpus: o.hv.vcpus, domMem: o.hv.domMemBytes.toString(),
      ...(o.hv.nested ? { nested: true } : {}), ...(o.hv.forceIpi === false ? { forceIpi: false } : {}),
      ...(o.hv.l0Assist === false ? { l0Assist: false } : {}),
      ...(o.hv.migrate ? { migrate: o.hv.migrate } : {}),
      ...(o.hv.setWay && o.hv.setWay !== "trap" ? { setWay: o.hv.setWay } : {}),
      ...(o.hv.hvm ? { hvm: true } : {}),
      ...(o.hv.dom0 ? { dom0: true } : {}),
      ...(o.hv.pageLockCheck ? { pageLockCheck: true } : {}),
      ...(o.hv.sharing ? { sharing: o.hv.sharing } : {}),
      ...(o.hv.sharingDaemon ? { sharingDaemon: true } : {}),
    } } : {}),
    ...(o.keepGoing ? { keepGoing: true } : {}),
    ...(o.systemCache === false ? { systemCache: false } : {}),
    ...(o.checkStaleReads ? { checkStaleReads: true } : {}),
  };
}

export function scheduleToJson(s: Schedule): string {
  const file = {
    format: SCHEDULE_FORMAT,
    version: SCHEDULE_VERSION,
    image: { sha256: s.imageSha256, name: s.imageName },
    options: optionsToJson(s.options),
    end: { status: s.status, stateHash: hex(s.stateHash) },
    decisions: s.decisions,
  };
  // One decision per line: readable, and diffable between two recordings.
  const head = JSON.stringify({ ...file, decisions: [] }, null, 2).replace(/"decisions": \[\]\n}$/, "");
  const body = file.decisions.map((d: PackedStep) => `    ${JSON.stringify(d)}`).join(",\n");
  return `${head}"decisions": [\n${body}\n  ]\n}\n`;
}

const MEM_MIN = 2n << 20n;
const MEM_MAX = 3n << 30n;

/** Decisions and instructions a packed schedule stands for, counted without expanding it. */
export function scheduleTotals(decisions: readonly PackedStep[]): { decisions: number; instructions: number } {
  let n = 0;
  let instructions = 0;
  for (const p of decisions) {
    const k = repeatCount(p);
    n += k;
    if (!isHvStep(p)) instructions += k * ((p as number[])[2] ?? (p[1] as number));
  }
  return { decisions: n, instructions };
}

function field<T>(ok: boolean, value: T, what: string): T {
  if (!ok) throw new ShootdownError(`schedule file: ${what}`);
  return value;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const decimal = (x: unknown) => typeof x === "string" && /^[0-9]+$/.test(x);

/** Parses a schedule file; every problem is a ShootdownError naming the field. */
export function parseSchedule(text: string): Schedule {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ShootdownError(`schedule file is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new ShootdownError("schedule file: not a JSON object");
  field(raw.format === SCHEDULE_FORMAT, 0, `"format" must be "${SCHEDULE_FORMAT}"`);
  field(READABLE_VERSIONS.includes(raw.version as number), 0,
    `"version" ${JSON.stringify(raw.version)} is not supported (this shootdown reads versions ${READABLE_VERSIONS.join(" and ")})`);
  const image = raw.image;
  field(isObject(image) && typeof image.sha256 === "string" && /^[0-9a-f]{64}$/.test(image.sha256), 0, `"image.sha256" must be 64 lowercase hex digits`);
  const img = image as { sha256: string; name?: unknown };
  const o = raw.options;
  if (!isObject(o)) throw new ShootdownError(`schedule file: "options" must be an object`);
  const cpus = field(Number.isInteger(o.cpus) && (o.cpus as number) >= 1 && (o.cpus as number) <= 64, o.cpus as number, `"options.cpus" must be 1 to 64`);
  const memBytes = BigInt(field(decimal(o.mem), o.mem as string, `"options.mem" must be a decimal string of bytes`));
  // The rules of the command line's --mem (a multiple of 4 KiB from 2 MiB to 3 GiB).
  field(memBytes >= MEM_MIN && memBytes <= MEM_MAX && memBytes % 4096n === 0n, 0, `"options.mem" ${o.mem} must be a multiple of 4096 from ${MEM_MIN} to ${MEM_MAX}`);
  const cmdline = field(typeof o.cmdline === "string", o.cmdline as string, `"options.cmdline" must be a string`);
  const mode = field(o.mode === "round-robin" || o.mode === "random" || o.mode === "pct", o.mode as RecordedOptions["mode"],
    `"options.mode" must be "round-robin", "random" or "pct"`);
  // Files written before PCT have no "pct"; a PCT run's file must have it, and only such a file may.
  let pct: PctParameters | undefined;
  if (mode === "pct") {
    const q = o.pct as Record<string, unknown> | undefined;
    const positive = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 1;
    field(isObject(q) && positive(q.depth) && positive(q.horizon), 0, `"options.pct" must be { "depth": D, "horizon": K } of positive integers when "mode" is "pct"`);
    pct = { depth: q!.depth as number, horizon: q!.horizon as number };
  } else field(o.pct === undefined, 0, `"options.pct" is only for "mode": "pct"`);
  const seed = field(o.seed === null || (decimal(o.seed) && BigInt(o.seed as string) < 1n << 64n), o.seed as string | null,
    `"options.seed" must be null or a decimal string below 2^64`);
  const quantum = field(Number.isSafeInteger(o.quantum) && (o.quantum as number) >= 1, o.quantum as number, `"options.quantum" must be a positive integer`);
  const maxSteps = field(o.maxSteps === null || decimal(o.maxSteps), o.maxSteps as string | null, `"options.maxSteps" must be null or a decimal string`);
  const chaosOk = o.tlbChaos === null ||
    (typeof o.tlbChaos === "number" && o.tlbChaos > 0 && o.tlbChaos <= 1 && Math.round(1 / o.tlbChaos) <= 0x7fff_ffff);
  const tlbChaos = field(chaosOk, o.tlbChaos as number | null, `"options.tlbChaos" must be null or a probability in (0, 1] of at least 1/${0x7fff_ffff}`);
  let hv: HvOptions | undefined;
  if (o.hv !== undefined && o.hv !== null) {
    const h = o.hv as Record<string, unknown>;
    field(isObject(h), 0, `"options.hv" must be null or { "domains", "vcpus", "domMem" }`);
    const domains = field(Number.isInteger(h.domains) && (h.domains as number) >= 1 && (h.domains as number) <= 64, h.domains as number, `"options.hv.domains" must be 1 to 64`);
    const vcpus = field(Number.isInteger(h.vcpus) && (h.vcpus as number) >= 1 && (h.vcpus as number) <= 64, h.vcpus as number, `"options.hv.vcpus" must be 1 to 64`);
    const domMem = BigInt(field(decimal(h.domMem), h.domMem as string, `"options.hv.domMem" must be a decimal string of bytes`));
    field(domMem >= 1n << 20n && domMem % 4096n === 0n && domMem <= MEM_MAX, 0, `"options.hv.domMem" ${h.domMem} must be a multiple of 4096 from 1 MiB to ${MEM_MAX}`);
    const nested = field(h.nested === undefined || typeof h.nested === "boolean", h.nested as boolean | undefined, `"options.hv.nested" must be true or false`);
    const forceIpi = field(h.forceIpi === undefined || typeof h.forceIpi === "boolean", h.forceIpi as boolean | undefined, `"options.hv.forceIpi" must be true or false`);
    const l0Assist = field(h.l0Assist === undefined || (typeof h.l0Assist === "boolean" && (h.l0Assist || nested === true)), h.l0Assist as boolean | undefined,
      `"options.hv.l0Assist" must be true or false, and false only with "nested": true`);
    const migrate = field(h.migrate === undefined || (typeof h.migrate === "number" && h.migrate >= 0 && h.migrate <= 1), h.migrate as number | undefined, `"options.hv.migrate" must be a number from 0 to 1`);
    const setWay = field(h.setWay === undefined || h.setWay === "trap-inline" || h.setWay === "trap-xen" || h.setWay === "passthrough",
      h.setWay as "trap-inline" | "trap-xen" | "passthrough" | undefined, `"options.hv.setWay" must be "trap-inline", "trap-xen" or "passthrough" (or absent: trap)`);
    const hvm = field(h.hvm === undefined || typeof h.hvm === "boolean", h.hvm as boolean | undefined, `"options.hv.hvm" must be true or false`);
    const flag = (name: "dom0" | "pageLockCheck" | "sharingDaemon") =>
      field(h[name] === undefined || typeof h[name] === "boolean", h[name] as boolean | undefined, `"options.hv.${name}" must be true or false`);
    const dom0 = flag("dom0"), pageLockCheck = flag("pageLockCheck"), sharingDaemon = flag("sharingDaemon");
    const sh = h.sharing as Record<string, unknown> | undefined;
    const sharingOk = sh === undefined || (isObject(sh) && (sh.sharingLock === "generic" || sh.sharingLock === "private") &&
      (sh.sharingOrder === "mfn" || sh.sharingOrder === "unordered") && (sh.sharingRelease === "before-unlock" || sh.sharingRelease === "after-unlock") &&
      (sh.sharingUnshare === undefined || sh.sharingUnshare === "put-first" || sh.sharingUnshare === "unlock-first"));
    const sharing = field(sharingOk, sh as HvOptions["sharing"], `"options.hv.sharing" must be { "sharingLock": "generic"|"private", "sharingOrder": "mfn"|"unordered", "sharingRelease": "before-unlock"|"after-unlock", "sharingUnshare"?: "put-first"|"unlock-first" }`);
    hv = {
      domains, vcpus, domMemBytes: domMem, ...(nested ? { nested } : {}), ...(forceIpi === false ? { forceIpi } : {}), ...(l0Assist === false ? { l0Assist } : {}),
      ...(migrate ? { migrate } : {}), ...(setWay ? { setWay } : {}), ...(hvm ? { hvm } : {}),
      ...(dom0 ? { dom0 } : {}), ...(pageLockCheck ? { pageLockCheck } : {}), ...(sharing ? { sharing } : {}), ...(sharingDaemon ? { sharingDaemon } : {}),
    };
  }
  const keepGoing = field(o.keepGoing === undefined || typeof o.keepGoing === "boolean", o.keepGoing as boolean | undefined, `"options.keepGoing" must be true or false`);
  const checkStaleReads = field(o.checkStaleReads === undefined || typeof o.checkStaleReads === "boolean", o.checkStaleReads as boolean | undefined, `"options.checkStaleReads" must be true or false`);
  const end = raw.end;
  const endOk = isObject(end) && Number.isInteger(end.status) && typeof end.stateHash === "string" && /^0x[0-9a-f]{1,16}$/.test(end.stateHash);
  field(endOk, 0, `"end" must be { "status": N, "stateHash": "0x…" }`);
  field(o.systemCache === undefined || o.systemCache === false, 0, `"options.systemCache" must be false or absent`);
  const e = end as { status: number; stateHash: string };
  let decisions: PackedStep[];
  try {
    decisions = checkPacked(raw.decisions, cpus, raw.version as number);
  } catch (err) {
    throw new ShootdownError(`schedule file: ${(err as Error).message}`);
  }
  return {
    imageSha256: img.sha256,
    imageName: typeof img.name === "string" ? img.name : "",
    options: {
      cpus, memBytes, cmdline, mode, quantum,
      seed: seed === null ? undefined : BigInt(seed),
      ...(pct ? { pct } : {}),
      maxSteps: maxSteps === null ? undefined : BigInt(maxSteps),
      tlbChaos: tlbChaos === null ? undefined : tlbChaos,
      ...(hv ? { hv } : {}),
      ...(keepGoing ? { keepGoing } : {}),
      ...(o.systemCache === false ? { systemCache: false } : {}),
      ...(checkStaleReads ? { checkStaleReads } : {}),
    },
    decisions,
    status: e.status,
    stateHash: BigInt(e.stateHash),
  };
}
