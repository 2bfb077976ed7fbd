// SPDX-License-Identifier: MIT
//
// The memory-sharing surface (issue 19): mem_sharing (hypervisor/x86/
// mem-sharing.ts) over real EPTs (hypervisor/x86/hvm/hvm-sharing.ts), driven
// in-process one step at a time across pCPUs, with the invariants of
// hvm-sharing-check.ts recounted from scratch after every step. A case is a
// Hypervisor over an ArrayMemory with 2 to 4 pCPUs and 2 to 4 HVM domains
// (d0 privileged half the time), each with an Ept of its own and 16 to 48
// RAM gfns (holes among them and above them), built as hvm/boot.ts builds
// them (each frame its domain's with its allocation reference, M2P set);
// about half the gfns start with the same content in every domain, so the
// daemon finds pages to share. Then 20 to 120 seeded actions, each a routine
// on a pCPU of its own, interleaved one step at a time (the scheduler picks a
// pCPU at random and calls next() on its routine, or starts a new action on
// an idle one):
//
//   memop    memSharingMemop from the privileged d0, an unprivileged domain
//            or the hypervisor: nominate, share, add_physmap, range_share,
//            audit, debug_gfn/mfn and unknown ops, with well-formed and
//            hostile arguments (handles seen, stale, foreign or random;
//            unshared gfns, holes, gfns past max_pages or the EPT's reach,
//            the grant-reference flag; domains that do not exist, the
//            caller itself, DOMID_SELF and DOMID_COW; range_share's padding
//            and opaque); the result must be one mem_sharing_memop can give,
//            and the one the arguments decide where they decide it
//   pair     nominate two gfns and share one into the other, whatever their
//            contents (a privileged caller may: Xen does not compare)
//   daemon   HvmSharing.daemonPass with a seeded Xoshiro128
//   write    a guest write by domain d to gfn g: a writable leaf takes it at
//            once (a token unique to the write at the page's first and last
//            8 bytes); a read-only one is hapWriteFault (the copy on write)
//            and then the write again
//   read     a guest read, which must return what the shadow says
//
// After every step (failures as the harness names them):
//
//   stack-trace   an exception escaped a routine
//   exit-status   a broken invariant (hvm-sharing-check.ts), a result the
//                 arguments rule out, a write landing in a frame another
//                 gfn maps, a lock-sanitizer report, audit reporting errors
//                 at a quiescent point, or every routine left only spinning
//                 (a deadlock)
//   time          a case past its step bound
//
// One report is Xen's own and not a failure: share_pages sets the p2m
// entries of every domain in the client's rmap while it holds both page
// locks, taking those domains' p2m locks against mm-locks.h's order
// (mm-lock-order; mem-sharing.test.ts's "--sharing-order mfn (Xen's)").
// When a pCPU so reported ends up in a deadlock, the case stops there as a
// known hazard. With today's defaults (DEFAULT_SHARING) nothing else may be
// reported. One case in eight instead runs with a random history option
// (--sharing-lock generic, --sharing-order unordered, --sharing-release
// before-unlock, --sharing-unshare unlock-first, --page-lock-check), which
// are meant to trip the sanitizer, deadlock or stop at Xen's BUG_ON: those
// check only that nothing throws and nothing runs away.
//
// A failure names the step, the pCPU, the action and its last step, the
// frames involved and the locks each pCPU holds. It reruns alone with
// `npm run fuzz -- --surface hvm-sharing --seed S --from I --cases 1`, or in
// a test as runHvmSharingCase(Random.forCase(S, "hvm-sharing", I)).

import { Xoshiro128 } from "../../emulator/machine/core/scheduler.ts";
import { EINVAL } from "../../hypervisor/common/errno.ts";
import { maddr } from "../../hypervisor/common/memory.ts";
import { finish, type Routine, type StepLabel } from "../../hypervisor/common/routine.ts";
import type { Cpu } from "../../hypervisor/x86/hypervisor.ts";
import {
  DEFAULT_SHARING, memSharingMemop, SHARING_OP, XENMEM_SHARING_OP_C_HANDLE_INVALID, XENMEM_SHARING_OP_S_HANDLE_INVALID,
  type MemSharingOpArg, type MemSharingOptions, type SharingCaller,
} from "../../hypervisor/x86/mem-sharing.ts";
import type { HvmDomain } from "../../hypervisor/x86/hvm/hvm-domain.ts";
import { type CaseResult, type Surface, Random } from "./harness.ts";
import { CONTENT_OFFSETS, contentOf, checkSharing, countersProblems, describeFrame, framesNamed, gfnKey, hex, otherMappers, type Snapshot } from "./hvm-sharing-check.ts";
import { argText, buildWorld, callerName, cpuOf, decided, memopArg, type World } from "./hvm-sharing-world.ts";

/** Every routine has spun this many steps since any did anything else: a deadlock. */
const SPIN_LIMIT = 200;
/** Steps a case may take in all. */
const MAX_STEPS = 300_000;
/** A write that keeps faulting (the daemon shares the page again each time) is given up after this many tries. */
const WRITE_TRIES = 8;
/** Extra steps the chosen pCPU runs in a row. */
const BURSTS = [0, 0, 0, 0, 1, 2, 4, 8];
/** A write's content id (the world's initial ids have other top bytes). */
const TOKEN = 0x57n << 56n;

export interface SharingCaseStats {
  steps: number;
  actions: number;
  history: MemSharingOptions | undefined;
  /** The case stopped at share_pages' known p2m/page-lock deadlock. */
  knownDeadlock: boolean;
  mmLockOrder: number;
  shares: number;
  cowCopies: number;
  /** Copies on write that found no frame (-ENOMEM). */
  enomem: number;
}

// ── Actions ──────────────────────────────────────────────────────────────────

/** An action: a routine on a pCPU whose result is a wrong answer, or nothing. */
interface Action {
  what: string;
  routine: Routine<string | undefined>;
  /** Another sharer's write to the same frame, to start at once on another idle pCPU (the copies on write race). */
  partner?: (p: number) => Action;
}

function* memop(w: World, c: Cpu, caller: SharingCaller, a: MemSharingOpArg): Routine<string | undefined> {
  yield { what: `mem_sharing_memop from ${callerName(caller)}: ${argText(a)}` };
  const want = decided(w, caller, a);
  const r = yield* memSharingMemop(c, w.ms, caller, a);
  if (a.op === SHARING_OP.nominate_gfn && r.rc === 0) {
    if (r.out.u1 <= 0n) return `nominate succeeded with handle ${r.out.u1}`;
    w.handles.push({ d: w.hv.domains.get(a.domain)!, gfn: Number(a.u0), handle: r.out.u1 });
  }
  if (want === "count") return (a.op === SHARING_OP.audit ? r.rc >= 0 : r.rc > 0 || r.rc === -EINVAL) ? undefined : `the result ${r.rc} is no count`;
  if (typeof want === "number") return r.rc === want ? undefined : `the result is ${r.rc}; the arguments decide ${want}`;
  return want.oneOf.includes(r.rc) ? undefined : `the result ${r.rc} is none of ${want.oneOf.join(", ")}`;
}

/** A privileged caller nominates two gfns and shares the first into the second (like the daemon, without comparing). */
function* pair(w: World, c: Cpu, caller: SharingCaller, sd: number, sg: bigint, cd: number, cg: bigint): Routine<string | undefined> {
  const nominate = (domain: number, gfn: bigint): MemSharingOpArg => ({ op: SHARING_OP.nominate_gfn, domain, u0: gfn, u1: 0n, u2: 0n, u3: 0n, u4: 0 });
  yield { what: "pair: nominate the source" };
  const s = yield* memSharingMemop(c, w.ms, caller, nominate(sd, sg));
  if (s.rc) return undefined;
  yield { what: "pair: nominate the client" };
  const cl = yield* memSharingMemop(c, w.ms, caller, nominate(cd, cg));
  if (cl.rc) return undefined;
  yield { what: "pair: share" };
  const r = yield* memSharingMemop(c, w.ms, caller, { op: SHARING_OP.share, domain: sd, u0: sg, u1: s.out.u1, u2: cg, u3: cl.out.u1, u4: cd });
  const ok = [0, XENMEM_SHARING_OP_S_HANDLE_INVALID, XENMEM_SHARING_OP_C_HANDLE_INVALID];
  return ok.includes(r.rc) ? undefined : `share of two gfns just nominated gave ${r.rc}`;
}

/** A guest write: lands at once through a writable leaf, or after the copy on write. */
function* guestWrite(w: World, c: Cpu, h: HvmDomain, gfn: number): Routine<string | undefined> {
  const token = TOKEN | (BigInt(h.domain.domid) << 40n) | w.nextToken++;
  for (let tries = 0; tries < WRITE_TRIES; tries++) {
    yield { what: `${h.name} writes ${hex(token)} to gfn ${hex(gfn)}` };
    const e = h.ept.entry(gfn);
    // Not RAM: the host's bus error; nothing lands.
    if (!e) return undefined;
    if (h.ept.writable(gfn)) {
      const others = w.checked ? otherMappers(w, h, gfn, e.mfn) : [];
      if (others.length) return `the write lands in MFN ${hex(e.mfn)}, which ${others.join(", ")} map too`;
      for (const o of CONTENT_OFFSETS) w.hv.mem.write64(maddr(e.mfn, o), token);
      w.shadow.expected.set(gfnKey(h.domain, gfn), token);
      return undefined;
    }
    // Xen crashes a domain it cannot unshare for (no frame): here the write is dropped.
    if ((yield* w.sharing.hapWriteFault(c, gfn)) === "enomem") return undefined;
  }
  return undefined;
}

function* daemon(w: World, c: Cpu, rng: Xoshiro128): Routine<string | undefined> {
  yield* w.sharing.daemonPass(c, rng);
  return undefined;
}

function* guestRead(w: World, h: HvmDomain, gfn: number): Routine<string | undefined> {
  yield { what: `${h.name} reads gfn ${hex(gfn)}` };
  const e = h.ept.entry(gfn);
  if (!e || !w.checked) return undefined;
  const got = contentOf(w.hv, e.mfn);
  const want = w.shadow.expected.get(gfnKey(h.domain, gfn));
  return got === want ? undefined : `${h.name} reads ${typeof got === "bigint" ? hex(got) : got} at gfn ${hex(gfn)}, not ${want === undefined ? "anything" : hex(want)}`;
}

/** A guest's gfn: half the time one it shares now (so that writers meet on shared frames), else its RAM, sometimes a hole above it. */
function guestGfn(r: Random, w: World, h: HvmDomain): number {
  if (r.chance(0.5)) {
    const shared = [...w.ms.shared.values()].flatMap((s) => s.rmap.filter((g) => g.domid === h.domain.domid).map((g) => g.gfn));
    if (shared.length) return r.pick(shared);
  }
  return r.chance(0.95) ? r.int(w.ram.get(h.domain)!) : r.int(h.domain.maxPages);
}

function writeAction(r: Random, w: World, p: number, h: HvmDomain, gfn: number): Action {
  const action: Action = { what: `${h.name} writes gfn ${hex(gfn)}`, routine: guestWrite(w, cpuOf(w, p, h.domain), h, gfn) };
  const e = h.ept.entry(gfn);
  const others = (e && w.ms.shared.get(e.mfn)?.rmap.filter((g) => g.domid !== h.domain.domid || g.gfn !== gfn)) || [];
  if (others.length && r.chance(0.6)) {
    const g = r.pick(others);
    const hg = w.doms.find((x) => x.domain.domid === g.domid)!;
    action.partner = (q) => ({ what: `${hg.name} writes gfn ${hex(g.gfn)} (racing)`, routine: guestWrite(w, cpuOf(w, q, hg.domain), hg, g.gfn) });
  }
  return action;
}

function newAction(r: Random, w: World, p: number): Action {
  const k = r.int(100);
  const priv: SharingCaller = w.privileged ? { domain: w.privileged.domain, privileged: true } : { daemon: true };
  if (k < 30) {
    const callers: SharingCaller[] = [priv, { daemon: true }, ...w.doms.filter((h) => !h.privileged).map((h) => ({ domain: h.domain, privileged: false }))];
    const caller = r.chance(0.75) ? r.pick(callers.slice(0, 2)) : r.pick(callers);
    const a = memopArg(r, w);
    return { what: `memop from ${callerName(caller)}: ${argText(a)}`, routine: memop(w, cpuOf(w, p, "domain" in caller ? caller.domain : undefined), caller, a) };
  }
  if (k < 40) {
    const others = w.doms.filter((h) => !h.privileged);
    const [s, cl] = [r.pick(others), r.pick(others)];
    const sg = BigInt(r.int(w.ram.get(s.domain)!));
    const cg = r.chance(0.5) ? sg : BigInt(r.int(w.ram.get(cl.domain)!));
    return { what: `pair: ${gfnKey(s.domain, Number(sg))} into ${gfnKey(cl.domain, Number(cg))}`, routine: pair(w, cpuOf(w, p, "domain" in priv ? priv.domain : undefined), priv, s.domain.domid, sg, cl.domain.domid, cg) };
  }
  // A pass shares up to DAEMON_MERGE pairs: fewer passes than writes keep writers in the game.
  if (k < 48) {
    const rng = new Xoshiro128(BigInt(r.int(2 ** 31)));
    return { what: "sharing daemon pass", routine: daemon(w, cpuOf(w, p), rng) };
  }
  const h = r.pick(w.doms);
  const gfn = guestGfn(r, w, h);
  if (k < 90) return writeAction(r, w, p, h, gfn);
  return { what: `${h.name} reads gfn ${hex(gfn)}`, routine: guestRead(w, h, gfn) };
}

// ── The case ─────────────────────────────────────────────────────────────────

interface Running {
  n: number;
  action: Action;
  label: StepLabel | undefined;
  /** Wait steps it took since any routine last did something else. */
  spin: number;
  /** The lock sanitizer reported share_pages' mm-locks inversion for this action. */
  mmLockOrder: boolean;
}

const HISTORY: readonly MemSharingOptions[] = [
  { ...DEFAULT_SHARING, sharingLock: "generic" },
  { ...DEFAULT_SHARING, sharingOrder: "unordered" },
  { ...DEFAULT_SHARING, sharingRelease: "before-unlock" },
  { ...DEFAULT_SHARING, sharingUnshare: "unlock-first" },
  { sharingLock: "generic", sharingOrder: "unordered", sharingRelease: "before-unlock", sharingUnshare: "unlock-first" },
];

/** Runs one case: a failure, or nothing, and what happened. A pure function of the Random. */
export function runHvmSharingCase(r: Random): { result: CaseResult; stats: SharingCaseStats } {
  const history = r.chance(1 / 8) ? r.pick(HISTORY) : undefined;
  const w = buildWorld(r, history ?? DEFAULT_SHARING, history ? r.chance(0.5) : false);
  const nrPcpus = w.hv.nrPcpus;
  const stats: SharingCaseStats = { steps: 0, actions: 20 + r.int(101), history, knownDeadlock: false, mmLockOrder: 0, shares: 0, cowCopies: 0, enomem: 0 };
  const running: (Running | undefined)[] = new Array(nrPcpus).fill(undefined);
  const recent: string[] = [];
  let started = 0;
  let seenViolations = 0;
  let snap: Snapshot | undefined;
  const burst = { cpu: 0, left: 0 };
  /** The pCPUs of the deadlock share_pages' mm-locks inversion led to, once the sanitizer has reported it. */
  let knownCycle: number[] | undefined;

  const state = (problem: string) => {
    const locks = running.map((_, p) => `pCPU ${p}: ${running[p] ? `#${running[p]!.n} ${running[p]!.action.what}` : "idle"} [${w.hv.locks.describe(p).join(", ") || "no locks"}]`);
    const frames = framesNamed(problem).map((mfn) => describeFrame(w, snap, mfn));
    return `[${[...frames, ...locks].join("; ")}] [recent steps: ${recent.slice(-6).join(" | ")}]${history ? ` [options ${JSON.stringify(history)}]` : ""}`;
  };
  const fail = (kind: CaseResult["failure"], where: string, problem: string): { result: CaseResult; stats: SharingCaseStats } => ({
    result: { failure: kind, detail: `${where}: ${problem} ${state(problem)}`.slice(0, 3000) },
    stats: finishStats(),
  });
  const finishStats = () => {
    stats.shares = w.ms.stats.shared;
    stats.cowCopies = w.ms.stats.cowCopies;
    stats.enomem = w.sharing.faults.enomem;
    return stats;
  };

  for (;;) {
    const busy = running.flatMap((x, p) => (x ? [p] : []));
    if (!busy.length && started >= stats.actions) break;
    let p = burst.cpu;
    if (burst.left > 0 && running[p]) {
      burst.left--;
    } else {
      p = r.int(nrPcpus);
      if (!running[p]) {
        if (started < stats.actions && (!busy.length || r.chance(0.5))) {
          const action = newAction(r, w, p);
          running[p] = { n: ++started, action, label: undefined, spin: 0, mmLockOrder: false };
          const q = running.findIndex((x) => !x);
          if (action.partner && q >= 0) running[q] = { n: ++started, action: action.partner(q), label: undefined, spin: 0, mmLockOrder: false };
        } else {
          p = r.pick(busy);
        }
      }
      // Now and then one pCPU runs several steps in a row (as one CPU outruns another), which opens the wider windows.
      burst.cpu = p;
      burst.left = r.pick(BURSTS);
    }
    const run = running[p]!;
    const where = `step ${stats.steps + 1}, pCPU ${p}, action #${run.n} (${run.action.what})`;
    let out: IteratorResult<StepLabel, string | undefined>;
    try {
      out = run.action.routine.next();
    } catch (e) {
      const message = e instanceof Error ? `${e.message} ${(e.stack ?? "").split("\n").slice(1, 4).map((s) => s.trim()).join(" | ")}` : String(e);
      return fail("stack-trace", `${where}, after "${run.label?.what ?? "its start"}"`, message);
    }
    stats.steps++;
    recent.push(`${p}: ${out.done ? `#${run.n} done` : out.value.what}`);
    if (recent.length > 12) recent.shift();
    if (out.done) {
      running[p] = undefined;
      if (out.value) return fail("exit-status", where, out.value);
    } else {
      run.label = out.value;
    }
    // Any step that is not a wait may have released what the others wait for: their count starts again.
    if (out.done || !out.value.wait) for (const x of running) if (x) x.spin = 0;
    if (!out.done && out.value.wait) run.spin++;

    // The lock sanitizer: with today's defaults only share_pages' known mm-locks inversion may show.
    for (; seenViolations < w.violations.length; seenViolations++) {
      const v = w.violations[seenViolations]!;
      if (history) continue;
      if (v.rule === "mm-lock-order" && /takes the d\d+ p2m lock .* per_page_sharing/.test(v.message)) {
        stats.mmLockOrder++;
        if (running[v.cpu]) running[v.cpu]!.mmLockOrder = true;
        continue;
      }
      if (v.rule === "abba-deadlock" && v.pcpus.some((c) => running[c]?.mmLockOrder)) {
        knownCycle = v.pcpus;
        continue;
      }
      return fail("exit-status", where, `lock sanitizer, ${v.rule}: ${v.message}`);
    }

    if (!history) {
      const problems: string[] = [];
      snap = w.shadow.observe(problems);
      problems.push(...checkSharing(w, snap, w.shadow.expected));
      if (problems.length) return fail("exit-status", `${where}, after "${out.done ? "its end" : out.value.what}"`, problems.slice(0, 3).join("; "));
      if (!running.some(Boolean)) {
        const quiet = quiescent(w);
        if (quiet) return fail("exit-status", `${where}, at a quiescent point`, quiet);
      }
    }

    const live = running.filter((x): x is Running => x !== undefined);
    if (live.length && live.every((x) => x.spin >= SPIN_LIMIT)) {
      // Every routine left only spins: nothing can release what they wait for.
      if (history) return { result: {}, stats: finishStats() };
      if (knownCycle?.every((c) => running[c])) {
        stats.knownDeadlock = true;
        return { result: {}, stats: finishStats() };
      }
      return fail("exit-status", where, "deadlock: every routine only spins");
    }
    if (stats.steps > MAX_STEPS) return fail("time", where, `the case ran past ${MAX_STEPS} steps`);
  }
  if (!history) {
    const quiet = quiescent(w);
    if (quiet) return fail("exit-status", "the end of the case", quiet);
  }
  return { result: {}, stats: finishStats() };
}

/** At a point where no routine is in flight: no lock is held, the counters recount, and XENMEM_sharing_op_audit finds nothing. */
function quiescent(w: World): string | undefined {
  const held = w.doms.filter((h) => w.ms.p2mLockHolder(h.domain) >= 0).map((h) => h.name);
  const locked = w.hv.frames.all().filter((p) => p.locked).map((p) => hex(p.mfn));
  if (held.length || locked.length) return `no routine runs, yet p2m locks of [${held.join(", ")}] and page locks of [${locked.join(", ")}] are held`;
  const counters = countersProblems(w.ms);
  if (counters.length) return counters[0];
  const audit: MemSharingOpArg = { op: SHARING_OP.audit, domain: 0, u0: 0n, u1: 0n, u2: 0n, u3: 0n, u4: 0 };
  const n = finish(memSharingMemop(cpuOf(w, 0), w.ms, { daemon: true }, audit)).rc;
  if (!n) return undefined;
  // Again, for the errors in words (the memop returns only their number).
  const errors: string[] = [];
  finish(w.ms.audit(cpuOf(w, 0), errors));
  return `XENMEM_sharing_op_audit reports ${n} errors: ${errors.slice(0, 3).join("; ")}`;
}

export const hvmSharingSurface: Surface = {
  name: "hvm-sharing",
  run(r: Random): Promise<CaseResult> {
    return Promise.resolve(runHvmSharingCase(r).result);
  },
};
