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
// before-unlock, --page-lock-check), which are meant to trip the sanitizer
// and deadlock: those check only that nothing throws and nothing runs away.
//
// A failure names the step, the pCPU, the action and its last step, the
// frames involved and the locks each pCPU holds. It reruns alone with
// `npm run fuzz -- --surface hvm-sharing --seed S --from I --cases 1`, or in
// a test as runHvmSharingCase(Random.forCase(S, "hvm-sharing", I)).

import { Xoshiro128 } from "../../emulator/machine/core/scheduler.ts";
import { IoBus } from "../../emulator/machine/platform/x86/devices.ts";
import { Domain } from "../../hypervisor/common/domain.ts";
import { E2BIG, EEXIST, EINVAL, ENOMEM, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from "../../hypervisor/common/errno.ts";
import type { LockViolation } from "../../hypervisor/common/lock-sanitizer.ts";
import { ArrayMemory, maddr, PAGE_SIZE } from "../../hypervisor/common/memory.ts";
import { finish, type Routine, type StepLabel } from "../../hypervisor/common/routine.ts";
import { Hypervisor, type Cpu } from "../../hypervisor/x86/hypervisor.ts";
import {
  DEFAULT_SHARING, memSharingMemop, SHARING_OP, XENMEM_SHARING_OP_C_HANDLE_INVALID, XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG,
  XENMEM_SHARING_OP_S_HANDLE_INVALID, type MemSharingOpArg, type MemSharingOptions, type SharingCaller,
} from "../../hypervisor/x86/mem-sharing.ts";
import { Ept } from "../../hypervisor/x86/hvm/ept.ts";
import { HvmDomain } from "../../hypervisor/x86/hvm/hvm-domain.ts";
import { HvmSharing } from "../../hypervisor/x86/hvm/hvm-sharing.ts";
import { DOMID_COW, DOMID_SELF } from "../../hypervisor/x86/public.ts";
import { type CaseResult, type Surface, Random } from "./harness.ts";
import {
  CONTENT_OFFSETS, checkSharing, contentOf, countersProblems, describeFrame, framesNamed, gfnKey, hex, otherMappers, Shadow,
  type SharingWorld, type Snapshot,
} from "./hvm-sharing-check.ts";

const FIRST_MFN = 0x100;
/** DOMID_IDLE: whose vCPU the hypervisor's own work (the daemon, its memops) runs on. */
const DOMID_IDLE = 0x7fff;
/** Every routine has spun this many steps since any did anything else: a deadlock. */
const SPIN_LIMIT = 200;
/** Steps a case may take in all. */
const MAX_STEPS = 300_000;
/** A write that keeps faulting (the daemon shares the page again each time) is given up after this many tries. */
const WRITE_TRIES = 8;
/** Extra steps the chosen pCPU runs in a row. */
const BURSTS = [0, 0, 0, 0, 1, 2, 4, 8];
/** Content ids: the same initial content in every domain, a domain's own, and a write's token. */
const COMMON = 0xc0n << 56n;
const PRIVATE = 0xd0n << 56n;
const TOKEN = 0x57n << 56n;

/** A case's world: the hypervisor, the domains, mem_sharing, and what the actions draw from. */
export interface World extends SharingWorld {
  sharing: HvmSharing;
  /** RAM gfns per domain (below them some holes; above, up to max_pages, holes only). */
  ram: Map<Domain, number>;
  privileged: HvmDomain | undefined;
  idle: Domain;
  shadow: Shadow;
  /** Handles nominate returned to memop callers: (domain, gfn, handle), stale ones included. */
  handles: { d: Domain; gfn: number; handle: bigint }[];
  nextToken: bigint;
  violations: LockViolation[];
  /** Today's defaults: the shadow is kept and every invariant checked (not under a history option). */
  checked: boolean;
}

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

/** Builds a case's hypervisor and domains. */
export function buildWorld(r: Random, options: MemSharingOptions, pageLockCheck: boolean): World {
  const nrPcpus = 2 + r.int(3);
  const nrDoms = 2 + r.int(3);
  const dom0 = r.chance(0.5);
  const layouts = Array.from({ length: nrDoms }, () => {
    const ram = 16 + r.int(33);
    return { ram, maxPages: ram + 2 + r.int(7) };
  });
  // Sometimes no frame to spare: copies on write then fail with -ENOMEM until a share frees one.
  const slack = r.pick([0, 0, 1, 2, 8, 32, 128]);
  const nrFrames = 16 + 4 * nrDoms + layouts.reduce((n, l) => n + l.ram, 0) + slack;
  const mem = new ArrayMemory(0n, (FIRST_MFN + nrFrames) * PAGE_SIZE);
  const violations: LockViolation[] = [];
  const hv = new Hypervisor({
    memory: mem, firstMfn: FIRST_MFN, nrFrames, nrPcpus, seed: BigInt(r.int(2 ** 31)), pageLockCheck,
    callbacks: { lockViolation: (v) => void violations.push(v) },
  });
  const common = Array.from({ length: 48 }, () => r.chance(0.5));
  const host = { cpus: [], pcpuOf: () => 0, kickOff: () => {}, unpaused: () => {}, count: () => {} };
  const byDomain = new Map<Domain, HvmDomain>();
  const ram = new Map<Domain, number>();
  const page = new Uint8Array(PAGE_SIZE);
  const fill = new DataView(page.buffer);
  layouts.forEach((l, k) => {
    const domid = dom0 ? k : k + 1;
    const d = hv.createDomain(domid, l.maxPages, nrPcpus);
    const ept = new Ept(mem, () => hv.allocator.takeTable((mfn) => mem.zero(maddr(mfn), PAGE_SIZE)));
    let previous = -2;
    for (let gfn = 0; gfn < l.ram; gfn++) {
      if (r.chance(0.1)) continue;
      // As FrameAllocator.populateRam: never the gfn's own number nor the frame after the previous one.
      const p = hv.allocator.take((mfn) => mfn !== gfn && mfn !== previous + 1)!;
      p.owner = d;
      p.count = 1;
      p.allocated = true;
      d.pageList.add(p.mfn);
      d.totPages++;
      ept.set(gfn, p.mfn);
      hv.setGpfnFromMfn(p.mfn, BigInt(gfn));
      const id = common[gfn] ? COMMON | BigInt(gfn) : PRIVATE | (BigInt(domid) << 16n) | BigInt(gfn);
      for (let o = 0; o < PAGE_SIZE; o += 8) fill.setBigUint64(o, id, true);
      mem.write(maddr(p.mfn), page);
      previous = p.mfn;
    }
    const privileged = dom0 && domid === 0;
    byDomain.set(d, new HvmDomain(host, d, ept, [], new IoBus(() => {}), privileged, mem, () => {}));
    ram.set(d, l.ram);
  });
  // Exactly `slack` frames stay free; the rest of the spare frames go to dom_xen.
  while (hv.allocator.nrFree > slack) {
    const p = hv.allocator.take()!;
    p.owner = hv.domXen;
    p.count = 1;
    p.allocated = true;
    hv.domXen.pageList.add(p.mfn);
    hv.domXen.totPages++;
  }
  const sharing = new HvmSharing(byDomain, [], mem, options);
  const doms = [...byDomain.values()];
  const w: World = {
    hv, ms: sharing.ms, doms, sharing, ram, privileged: doms.find((h) => h.privileged), idle: new Domain(DOMID_IDLE, 0, nrPcpus),
    shadow: undefined as unknown as Shadow, handles: [], nextToken: 1n, violations, checked: options === DEFAULT_SHARING && !pageLockCheck,
  };
  w.shadow = new Shadow(w);
  w.shadow.start();
  return w;
}

/** The Cpu a routine runs with on pCPU p, for domain d's vCPU there or the idle domain's. */
export const cpuOf = (w: World, p: number, d?: Domain): Cpu => ({ hv: w.hv, cpu: p, vcpu: (d ?? w.idle).vcpus[p]!, d: d ?? w.idle });

// ── Arguments ────────────────────────────────────────────────────────────────

/** A domain id: mostly one that exists, sometimes one that does not or a reserved one. */
function domid(r: Random, w: World): number {
  if (r.chance(0.88)) return r.pick(w.doms).domain.domid;
  return r.pick([DOMID_SELF, DOMID_COW, DOMID_IDLE, 9, 0xffff, w.privileged ? 99 : 0]);
}

/** A gfn field for domain id `id`: mostly RAM, sometimes a hole, past max_pages, past the EPT's reach, or a grant reference. */
function gfnField(r: Random, w: World, id: number): bigint {
  const d = w.hv.domains.get(id);
  const ram = d ? w.ram.get(d)! : 16;
  const max = d ? d.maxPages : 24;
  const k = r.int(100);
  if (k < 72) return BigInt(r.int(ram));
  if (k < 82) return BigInt(ram + r.int(max - ram));
  if (k < 90) return r.pick([BigInt(max), BigInt(max + r.int(600)), (1n << 36n) + BigInt(r.int(ram)), 1n << 40n]);
  if (k < 95) return XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG | BigInt(r.int(ram));
  return r.interesting();
}

/** A handle: one nominate gave for this gfn (perhaps stale), one it gave for another, or any number. */
function handleFor(r: Random, w: World, id: number, gfn: bigint): bigint {
  const mine = w.handles.filter((h) => h.d.domid === id && BigInt(h.gfn) === gfn);
  if (mine.length && r.chance(0.75)) return (r.chance(0.8) ? mine.at(-1)! : r.pick(mine)).handle;
  if (w.handles.length && r.chance(0.5)) return r.pick(w.handles).handle;
  return r.chance(0.5) ? BigInt(r.int(64)) : r.interesting();
}

function memopArg(r: Random, w: World): MemSharingOpArg {
  const op = r.chance(0.92) ? r.pick([0, 0, 0, 2, 2, 2, 6, 6, 7, 8, 8, 3, 4]) : r.pick([1, 5, 9, 10, 11, 22, 255]);
  const domain = domid(r, w);
  const a: MemSharingOpArg = { op, domain, u0: 0n, u1: 0n, u2: 0n, u3: 0n, u4: 0 };
  switch (op) {
    case SHARING_OP.nominate_gfn:
    case SHARING_OP.debug_gfn:
      a.u0 = gfnField(r, w, domain);
      break;
    case SHARING_OP.debug_mfn: {
      const shared = [...w.ms.shared.keys()];
      a.u0 = shared.length && r.chance(0.6) ? BigInt(r.pick(shared)) : r.chance(0.8) ? BigInt(FIRST_MFN + r.int(w.hv.frames.nrFrames)) : r.interesting();
      break;
    }
    case SHARING_OP.share:
    case SHARING_OP.add_physmap: {
      a.u4 = domid(r, w);
      a.u0 = gfnField(r, w, domain);
      a.u1 = handleFor(r, w, domain, a.u0);
      // Half the time a source some memop nominated, with its handle (current or stale), so that shares get through.
      if (w.handles.length && r.chance(0.5)) {
        const e = r.chance(0.7) ? w.handles.at(-1 - r.int(Math.min(4, w.handles.length)))! : r.pick(w.handles);
        [a.domain, a.u0, a.u1] = [e.d.domid, BigInt(e.gfn), e.handle];
      }
      const cd = w.hv.domains.get(a.u4);
      // add_physmap wants a hole in the client: above its RAM, or one left among it.
      a.u2 = op === SHARING_OP.add_physmap && cd && r.chance(0.6) ? BigInt(w.ram.get(cd)! + r.int(cd.maxPages - w.ram.get(cd)!)) : gfnField(r, w, a.u4);
      a.u3 = handleFor(r, w, a.u4, a.u2);
      if (op === SHARING_OP.share && w.handles.length && r.chance(0.5)) {
        const e = r.pick(w.handles);
        [a.u4, a.u2, a.u3] = [e.d.domid, BigInt(e.gfn), e.handle];
      }
      break;
    }
    case SHARING_OP.range_share: {
      const d = w.hv.domains.get(domain);
      const ram = d ? w.ram.get(d)! : 16;
      const first = r.chance(0.9) ? r.int(ram) : Number(gfnField(r, w, domain) & 0xffffn);
      const last = r.chance(0.85) ? Math.min(ram - 1, first + r.int(6)) : r.pick([first - 1, ram + 20, first]);
      a.u0 = BigInt(first);
      a.u1 = BigInt(Math.max(0, last));
      a.u2 = r.chance(0.8) ? 0n : r.chance(0.5) ? BigInt(first + r.int(3)) : BigInt(last + 5);
      a.u3 = BigInt(domid(r, w)) | (r.chance(0.1) ? BigInt(1 + r.int(0xffff)) << 16n : 0n);
      break;
    }
    default:
      a.u0 = r.interesting();
  }
  return a;
}

/**
 * What the arguments alone decide, checked in the step the memop starts (so
 * "sharing enabled" is read when the memop reads it): a number, or the set of
 * results the op can give.
 */
function decided(w: World, caller: SharingCaller, a: MemSharingOpArg): number | { oneOf: number[] } | "count" {
  if (a.op === SHARING_OP.audit) return "count";
  const d = w.hv.domains.get(a.domain);
  if (!d) return -ESRCH;
  if ("domain" in caller && caller.domain === d) return -EPERM;
  if ("domain" in caller && !caller.privileged) return -EPERM;
  const gref = (f: bigint) => (f & XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG) !== 0n;
  const client = (id: number): number | undefined => {
    const cd = w.hv.domains.get(id);
    if (!cd) return -ESRCH;
    if ("domain" in caller && caller.domain === cd) return -EPERM;
    return w.ms.enabled.has(cd) || cd === d ? undefined : -EINVAL;
  };
  const handles = [XENMEM_SHARING_OP_S_HANDLE_INVALID, XENMEM_SHARING_OP_C_HANDLE_INVALID];
  switch (a.op) {
    case SHARING_OP.nominate_gfn:
      if (gref(a.u0) || a.u0 > BigInt(d.maxPages - 1)) return -EINVAL;
      return { oneOf: [0, -EINVAL, -EEXIST, -E2BIG] };
    case SHARING_OP.share:
    case SHARING_OP.add_physmap: {
      const c = client(a.u4);
      if (c !== undefined) return c;
      if (gref(a.u0) || gref(a.u2)) return -EINVAL;
      return { oneOf: [0, ...handles, ...(a.op === SHARING_OP.add_physmap ? [-EINVAL] : [])] };
    }
    case SHARING_OP.range_share: {
      if (a.u3 >> 16n) return -EINVAL;
      if (a.u2 && (a.u2 < a.u0 || a.u2 > a.u1)) return -EINVAL;
      const c = client(Number(a.u3));
      if (c !== undefined) return c;
      const cd = w.hv.domains.get(Number(a.u3))!;
      const max = BigInt(Math.min(d.maxPages, cd.maxPages) - 1);
      if (a.u0 > max || a.u1 > max) return -EINVAL;
      return { oneOf: [0, -ENOMEM, -EEXIST, -E2BIG, ...handles] };
    }
    case SHARING_OP.debug_gfn:
    case SHARING_OP.debug_mfn:
      return "count";
    default:
      return a.op <= SHARING_OP.fork_reset ? -EOPNOTSUPP : -ENOSYS;
  }
}

const opNames = Object.fromEntries(Object.entries(SHARING_OP).map(([k, v]) => [v, k])) as Record<number, string>;
const callerName = (c: SharingCaller) => ("daemon" in c ? "the hypervisor" : `d${c.domain.domid}${c.privileged ? " (privileged)" : ""}`);
const argText = (a: MemSharingOpArg) => `${opNames[a.op] ?? `op ${a.op}`} domain ${a.domain} [${[a.u0, a.u1, a.u2, a.u3].map(hex).join(" ")} ${a.u4}]`;

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
  if (k < 58) {
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
  { sharingLock: "generic", sharingOrder: "unordered", sharingRelease: "before-unlock" },
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
      if (v.rule === "abba-deadlock" && v.pcpus.some((c) => running[c]?.mmLockOrder)) continue;
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
      if (live.some((x) => x.mmLockOrder)) {
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

/** At a point where no routine is in flight: no lock is held, the counters recount, and audit (the memop's) finds nothing. */
function quiescent(w: World): string | undefined {
  const held = w.doms.filter((h) => w.ms.p2mLockHolder(h.domain) >= 0).map((h) => h.name);
  const locked = w.hv.frames.all().filter((p) => p.locked).map((p) => hex(p.mfn));
  if (held.length || locked.length) return `no routine runs, yet p2m locks of [${held.join(", ")}] and page locks of [${locked.join(", ")}] are held`;
  const counters = countersProblems(w.ms);
  if (counters.length) return counters[0];
  const errors: string[] = [];
  const n = finish(w.ms.audit(cpuOf(w, 0), errors));
  return n ? `audit reports ${n} errors: ${errors.slice(0, 3).join("; ")}` : undefined;
}

export const hvmSharingSurface: Surface = {
  name: "hvm-sharing",
  run(r: Random): Promise<CaseResult> {
    return Promise.resolve(runHvmSharingCase(r).result);
  },
};
