// SPDX-License-Identifier: MIT
//
// The hvm-sharing fuzz surface's world (hvm-sharing.ts runs the cases): a
// Hypervisor over an ArrayMemory with 2 to 4 pCPUs and 2 to 4 HVM domains,
// each with an Ept of its own and RAM built as hvm/boot.ts builds it (each
// frame its domain's with its allocation reference, M2P set), HvmSharing over
// them with the given options; and the XENMEM_sharing_op arguments drawn over
// that world, well formed or hostile, with what the arguments alone decide
// of the result (mem_sharing_memop's checks, in its order).

import { IoBus } from "../../emulator/machine/platform/x86/devices.ts";
import { Domain } from "../../hypervisor/common/domain.ts";
import { E2BIG, EEXIST, EINVAL, ENOMEM, ENOSYS, EOPNOTSUPP, EPERM, ESRCH } from "../../hypervisor/common/errno.ts";
import type { LockViolation } from "../../hypervisor/common/lock-sanitizer.ts";
import { ArrayMemory, maddr, PAGE_SIZE } from "../../hypervisor/common/memory.ts";
import { Hypervisor, type Cpu } from "../../hypervisor/x86/hypervisor.ts";
import {
  DEFAULT_SHARING, SHARING_OP, XENMEM_SHARING_OP_C_HANDLE_INVALID, XENMEM_SHARING_OP_FIELD_IS_GREF_FLAG, XENMEM_SHARING_OP_S_HANDLE_INVALID,
  type MemSharingOpArg, type MemSharingOptions, type SharingCaller,
} from "../../hypervisor/x86/mem-sharing.ts";
import { Ept } from "../../hypervisor/x86/hvm/ept.ts";
import { HvmDomain } from "../../hypervisor/x86/hvm/hvm-domain.ts";
import { HvmSharing } from "../../hypervisor/x86/hvm/hvm-sharing.ts";
import { DOMID_COW, DOMID_SELF } from "../../hypervisor/x86/public.ts";
import type { Random } from "./harness.ts";
import { hex, Shadow, type SharingWorld } from "./hvm-sharing-check.ts";

const FIRST_MFN = 0x100;
/** DOMID_IDLE: whose vCPU the hypervisor's own work (the daemon, its memops) runs on. */
const DOMID_IDLE = 0x7fff;
/** Content ids: the same initial content in every domain, a domain's own, and a write's token. */
const COMMON = 0xc0n << 56n;
const PRIVATE = 0xd0n << 56n;

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

export function memopArg(r: Random, w: World): MemSharingOpArg {
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
export function decided(w: World, caller: SharingCaller, a: MemSharingOpArg): number | { oneOf: number[] } | "count" {
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
export const callerName = (c: SharingCaller) => ("daemon" in c ? "the hypervisor" : `d${c.domain.domid}${c.privileged ? " (privileged)" : ""}`);
export const argText = (a: MemSharingOpArg) => `${opNames[a.op] ?? `op ${a.op}`} domain ${a.domain} [${[a.u0, a.u1, a.u2, a.u3].map(hex).join(" ")} ${a.u4}]`;
