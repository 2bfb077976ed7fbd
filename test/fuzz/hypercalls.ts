// SPDX-License-Identifier: MIT
//
// The hypercall surface (issue 17): a hostile PV guest's hypercall arguments,
// thrown straight at the hypervisor's routines on domains built without a
// whole run (test/hypervisor/helpers.ts), for speed. A case is two domains
// and a seeded sequence of calls: raw register values (huge and wrapping
// counts, the continuation bit, unaligned pointers, pointers into the
// hypervisor's hole, into read-only page tables, straddling the end of the
// mapping or the canonical boundary) and hostile structures behind them
// (requests naming other domains' frames, the hypervisor's, free ones,
// frames beyond RAM, reserved and disallowed PTE flags, tables that map
// themselves, multicalls that nest, contexts with non-canonical registers).
// A sixth of the calls race another call step by step on a second pCPU.
//
// After every call (kinds of failure as the harness names them):
//
//   stack-trace   a JavaScript exception escaped a routine
//   time          a routine ran past its step bound (a wait that cannot end)
//   exit-status   the result is not Xen's (an errno Xen never returns, or
//                 the wrong one where the arguments alone decide it), the
//                 recount found the frame table and the tables disagreeing,
//                 or another domain's frames, frame-table entries, M2P
//                 entries or vCPUs changed
//
// The values and structures, and Xen's answers where the registers decide
// them, are in hypercall-args.ts. One case in ten instead boots the PV
// kernel under the hypervisor through the CLI (`run --hv`, the attack,
// churn or spurious-race workload) with random options. A failure gives the
// call that failed, its arguments, the calls before it and what was wrong;
// it reruns alone with `npm run fuzz -- --surface hypercalls --seed S --from
// I --cases 1`, or in a test as hypercallSurface.run(Random.forCase(S,
// "hypercalls", I)).

import { createHash } from "node:crypto";
import { join } from "node:path";
import { finish, interleave, maddr, recount, type Domain, type VCpu } from "../../hypervisor/index.ts";
import { E2BIG, EACCES, EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, ENOSYS, ENXIO, EOPNOTSUPP, EPERM, ESRCH, ENOMEM } from "../../hypervisor/common/errno.ts";
import { makeHv, spareMfns } from "../hypervisor/helpers.ts";
import { type CaseResult, type Surface, ROOT, Random, cliCase } from "./harness.ts";
import { type Call, type HostileWorld, hex, hostileCall } from "./hypercall-args.ts";

/** The errnos Xen's PV hypercalls return to a guest (xen/include/public/errno.h); anything else negative is a defect. */
const XEN_ERRNOS = new Set([EPERM, ENOENT, ESRCH, ENXIO, E2BIG, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, EINVAL, ENOSYS, EOPNOTSUPP]);
/** No call on these small domains needs more steps than this (the property tests' bound); more is a hang. */
const MAX_STEPS = 2_000_000;

// ── The world a case runs in ─────────────────────────────────────────────────

interface World extends HostileWorld {
  /** Domains that have shut down make no more calls. */
  dead: Set<Domain>;
  /** Each domain's state as the other domains' calls must leave it. */
  snapshots: Map<Domain, string>;
}

function makeWorld(seed: bigint): World {
  const dead = new Set<Domain>();
  // Room for more frames each, so that increase_reservation and populate_physmap can succeed.
  const t = makeHv({ seed, extraPages: 24, callbacks: { shutdown: (d) => dead.add(d) } });
  const tables = t.doms.map((d) => {
    const first = Number((d.layout.ptBase - d.layout.virtBase) >> 12n);
    return d.layout.p2m.slice(first, first + d.layout.nrPtFrames);
  });
  const w: World = { t, tables, spare: t.doms.map(spareMfns), dead, snapshots: new Map() };
  for (const dom of t.doms) w.snapshots.set(dom.d, snapshot(w, dom.d));
  return w;
}

/**
 * What no other domain may change: each frame the domain owns (contents,
 * frame-table entry, M2P entry) and its vCPUs (L4, context, state). A
 * string, so that two can be compared and the first difference shown.
 */
function snapshot(w: World, d: Domain): string {
  const hv = w.t.hv;
  const out: string[] = [`tot ${d.totPages} max ${d.maxPages} shutdown ${d.shutdownReason}`];
  for (const v of d.vcpus) out.push(`v${v.vcpuId} l4 ${v.guestTable} init ${v.initialised} down ${v.down} ctx ${JSON.stringify(v.context, (_k, x) => (typeof x === "bigint" ? hex(x) : x))}`);
  for (const mfn of [...d.pageList].sort((a, b) => a - b)) {
    const p = hv.frames.page(mfn);
    const contents = createHash("sha1").update(hv.mem.read(maddr(mfn), 4096)).digest("hex").slice(0, 16);
    out.push(`MFN ${hex(mfn)}: count ${p.count} allocated ${p.allocated} type ${p.type}/${p.typeCount} validated ${p.validated} pinned ${p.pinned} locked ${p.locked} linear ${p.linearPtCount} M2P ${hex(hv.getGpfnFromMfn(mfn))} contents ${contents}`);
  }
  return out.join("\n");
}

function firstDifference(a: string, b: string): string {
  const x = a.split("\n");
  const y = b.split("\n");
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return `was «${(x[i] ?? "").slice(0, 160)}», now «${(y[i] ?? "").slice(0, 160)}»`;
  return "no difference";
}

// ── Running a case ───────────────────────────────────────────────────────────

/** What the hypervisor counted over this process's cases (hypercalls by result, type transitions, pins): how deep the cases reach. */
export const coverage = new Map<string, number>();

function tally(w: World): void {
  const bump = (k: string, by: number) => coverage.set(k, (coverage.get(k) ?? 0) + by);
  const s = w.t.hv.stats;
  for (const [name, byResult] of s.hypercalls) for (const [rc, n] of byResult) bump(`${name} → ${rc}`, n);
  for (const [transition, n] of s.typeTransitions) bump(`type ${transition}`, n);
  bump("pins", s.pins);
  bump("unpins", s.unpins);
  bump("frames allocated", s.framesAllocated);
  bump("frames freed", s.framesFreed);
}

/** The vCPUs that can make a call now: initialised, up, of a domain that has not shut down. */
function runnable(w: World): { di: number; v: VCpu }[] {
  const out: { di: number; v: VCpu }[] = [];
  w.t.doms.forEach((dom, di) => {
    if (w.dead.has(dom.d)) return;
    for (const v of dom.d.vcpus) if (v.initialised && !v.down) out.push({ di, v });
  });
  return out;
}

/** Checks one call's result; a message when it is not one Xen gives. */
function checkResult(call: Call, raw: bigint | number): string | undefined {
  if (typeof raw === "number" && !Number.isInteger(raw)) return `the result ${raw} is not an integer`;
  const exact = BigInt.asIntN(64, BigInt(raw));
  const rc = Number(exact);
  if (call.expect !== undefined) return exact === BigInt(call.expect) ? undefined : `the result is ${exact}; Xen returns ${call.expect} for these arguments`;
  if (rc < 0 && rc > -4096 && !XEN_ERRNOS.has(-rc)) return `the result ${rc} is no errno Xen returns`;
  if (rc <= -4096) return `the result ${hex(BigInt(rc))} is neither an errno nor a count`;
  return undefined;
}

/**
 * Runs one in-process case: a failure, or nothing. The sequence is a pure
 * function of the Random, so a failure replays exactly.
 */
export function runHypercallCase(r: Random): CaseResult {
  const w = makeWorld(BigInt(r.int(2 ** 32)));
  const calls = 1 + r.int(80);
  const log: string[] = [];
  for (let i = 0; i < calls; i++) {
    const live = runnable(w);
    if (!live.length) break;
    const first = r.pick(live);
    // A sixth of the calls race a call of another vCPU (another pCPU), step by step.
    const partner = r.chance(1 / 6) ? live.filter((x) => x.v !== first.v) : [];
    const second = partner.length ? r.pick(partner) : undefined;
    const batch = [hostileCall(r, w, first.di, first.v, 0)];
    if (second) batch.push(hostileCall(r, w, second.di, second.v, 1));
    const what = batch.map((c) => c.what).join(" racing ");
    log.push(what);
    const fail = (failure: CaseResult["failure"], why: string): CaseResult => ({ failure, detail: `call ${i + 1} of ${calls}: ${what}: ${why}${log.length > 1 ? ` [calls before: ${log.slice(-4, -1).join(" ; ")}]` : ""}` });
    let results: (bigint | number)[];
    try {
      if (batch.length === 1) results = [finish(batch[0]!.routine, MAX_STEPS)];
      else {
        const picks = Array.from({ length: 64 }, () => r.int(2));
        let k = 0;
        let last = -1;
        let run = 0;
        // Fair as a scheduler is: neither routine runs more than 64 steps in a row while the other waits.
        results = interleave(batch.map((c) => c.routine), (n) => {
          if (n === 1) return 0;
          let p = picks[k++ % picks.length]!;
          if (p === last && ++run >= 64) p = 1 - p;
          if (p !== last) run = 0;
          last = p;
          return p;
        }, MAX_STEPS);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const where = e instanceof Error ? (e.stack ?? "").split("\n").slice(1, 3).map((s) => s.trim()).join(" | ") : "";
      return fail(/did not finish within/.test(message) ? "time" : "stack-trace", `${message} ${where}`);
    }
    for (const [k, c] of batch.entries()) {
      const wrong = checkResult(c, results[k]!);
      if (wrong) return fail("exit-status", wrong);
    }
    const problems = recount(w.t.hv);
    if (problems.length) return fail("exit-status", `the recount disagrees: ${problems.slice(0, 3).join("; ")}`);
    // Isolation: a domain that made no call is exactly as it was.
    const actors = new Set(batch.map((c) => c.vcpu.domain));
    for (const dom of w.t.doms) {
      const now = snapshot(w, dom.d);
      if (!actors.has(dom.d) && now !== w.snapshots.get(dom.d)) return fail("exit-status", `d${dom.d.domid} changed though it made no call: ${firstDifference(w.snapshots.get(dom.d)!, now)}`);
      w.snapshots.set(dom.d, now);
    }
  }
  tally(w);
  return {};
}

/** A real run: the PV kernel's attack or churn workload under the hypervisor, with random options. */
function guestRun(r: Random): Promise<CaseResult> {
  const args = ["run", join(ROOT, "guest", "x86_64", "pv", "kernel.elf"), "--hv", "--cpus", String(1 + r.int(4)), "--seed", String(r.int(100_000))];
  if (r.chance(0.5)) args.push("--domains", String(1 + r.int(3)));
  if (r.chance(0.3)) args.push("--quantum", String(1 + r.int(300)));
  if (r.chance(0.3)) args.push("--vcpus", String(r.pick([1, 2, 3, 4, 8])));
  if (r.chance(0.2)) args.push("--dom-mem", r.pick(["2M", "4M", "8M", "16M", "1M", "300K"]));
  if (r.chance(0.2)) args.push("--nested");
  if (r.chance(0.1)) args.push("--no-force-ipi", "--keep-going");
  if (r.chance(0.1)) args.push("--check-stale");
  if (r.chance(0.2)) args.push("--tlb-chaos", r.pick(["0.5", "0.01"]));
  args.push("--max-steps", String(200_000 + r.int(2_000_000)), "--");
  args.push(...r.pick(["workload=attack", "workload=churn iterations=20", "workload=spurious-race iterations=5"]).split(" "));
  // run --hv: 0 every domain powered off, 1 one crashed or rebooted, 2 the machine crashed or the image cannot be built,
  // 3 --max-steps ran out, 4 the sanitizer found a race (hypervisor/README.md), 64 a bad option.
  return cliCase({ args, allowed: [0, 1, 2, 3, 4, 64], timeoutMs: 120_000, what: `run --hv ${args.slice(2).join(" ")}` });
}

export const hypercallSurface: Surface = {
  name: "hypercalls",
  run(r: Random): Promise<CaseResult> {
    if (r.chance(0.1)) return guestRun(r);
    return Promise.resolve(runHypercallCase(r));
  },
};
