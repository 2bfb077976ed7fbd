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
// One case in ten instead boots the PV kernel under the hypervisor through
// the CLI (`run --hv`, the attack or churn workload) with random options.
// A failure gives the call that failed, its arguments and what was wrong;
// `runHypercallCase(seed, index)` replays a case in a test.

import { join } from "node:path";
import { finish, interleave, maddr, recount, type Domain, type Routine, type VCpu, xen } from "../../hypervisor/index.ts";
import { E2BIG, EACCES, EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, ENOSYS, ENXIO, EOPNOTSUPP, EPERM, ESRCH, ENOMEM } from "../../hypervisor/common/errno.ts";
import { makeHv, putVirt, spareMfns, type TestDomain, type TestHv } from "../hypervisor/helpers.ts";
import { type CaseResult, type Surface, ROOT, Random, cliCase } from "./harness.ts";

const { HYPERVISOR, MMUEXT_OP, MULTICALL_ENTRY, XEN_MEMORY_RESERVATION, VCPU_GUEST_CONTEXT, CPU_USER_REGS } = xen;

/** The errnos Xen's PV hypercalls return to a guest (xen/include/public/errno.h); anything else negative is a defect. */
const XEN_ERRNOS = new Set([EPERM, ENOENT, ESRCH, ENXIO, E2BIG, ENOMEM, EACCES, EFAULT, EBUSY, EEXIST, EINVAL, ENOSYS, EOPNOTSUPP]);
/** No call on these small domains needs more steps than this (the property tests' bound); more is a hang. */
const MAX_STEPS = 2_000_000;
const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

// ── The world a case runs in ─────────────────────────────────────────────────

interface World {
  t: TestHv;
  /** The domains' bootstrap tables [L4, L3, L2, L1…] and spare frames. */
  tables: number[][];
  spare: number[][];
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
    const bytes = Buffer.from(hv.mem.read(maddr(mfn), 4096)).toString("base64");
    out.push(`${hex(mfn)} c${p.count} a${+p.allocated} t${p.type}/${p.typeCount} v${+p.validated} p${+p.pinned} l${+p.locked} lin${p.linearPtCount} m2p ${hex(hv.getGpfnFromMfn(mfn))} ${bytes}`);
  }
  return out.join("\n");
}

function firstDifference(a: string, b: string): string {
  const x = a.split("\n");
  const y = b.split("\n");
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) return `was «${(x[i] ?? "").slice(0, 160)}», now «${(y[i] ?? "").slice(0, 160)}»`;
  return "no difference";
}

// ── Hostile values ───────────────────────────────────────────────────────────

/** A frame number a hostile request might name. */
function frame(r: Random, w: World, di: number): bigint {
  const hv = w.t.hv;
  const dom = w.t.doms[di]!;
  const other = w.t.doms[1 - di]!;
  switch (r.int(12)) {
    case 0:
    case 1:
      return BigInt(r.pick(w.tables[di]!));
    case 2:
    case 3:
      return BigInt(r.pick(w.spare[di]!));
    case 4:
      return BigInt(r.pick(dom.layout.p2m));
    case 5: {
      const owned = [...dom.d.pageList];
      return BigInt(owned.length ? r.pick(owned) : 0);
    }
    case 6:
      return BigInt(r.pick(other.layout.p2m));
    case 7:
      return BigInt(r.pick(w.tables[1 - di]!));
    case 8:
      return BigInt(r.chance(0.5) ? hv.xenArea.gdtMfn : r.pick(hv.xenArea.m2pMfns));
    case 9: {
      const free = hv.frames.all().filter((p) => p.free);
      return BigInt(free.length ? r.pick(free).mfn : hv.frames.firstMfn);
    }
    case 10:
      return BigInt(r.pick([0, hv.frames.firstMfn - 1, hv.frames.endMfn, hv.frames.endMfn + r.int(1000), 0xff_ffff_ffff, 0xf_ffff_ffff_ffff]));
    default:
      return r.interesting();
  }
}

/** Entry flags: ordinary, writable, A/D, user, global, NX, software bits, and the disallowed (PWT, PCD, PSE/PAT) and reserved ones. */
function pteFlags(r: Random): bigint {
  const base = r.pick([0n, 1n, 3n, 0x63n, 0x67n, 0x23n, 0x21n, 0x101n, 0x103n, 0x9n, 0x11n, 0x81n, 0x83n, BigInt(r.int(0x1000))]);
  const high = r.pick([0n, 0n, 0n, 1n << 63n, 1n << 52n, 0x7ffn << 52n, BigInt(r.int(0x1000)) << 52n]);
  return base | high;
}

function pte(r: Random, w: World, di: number): bigint {
  if (r.chance(0.08)) return r.interesting();
  return BigInt.asUintN(64, (frame(r, w, di) << 12n) | pteFlags(r));
}

/** A count or length: small, huge, with the continuation bit, or wider than the 32 bits the ABI keeps. */
function count(r: Random, small = 4): bigint {
  return r.pick([0n, 1n, 1n, 2n, BigInt(1 + r.int(small)), BigInt(1 + r.int(small)), 0x7fff_ffffn, 0x8000_0000n, 0x8000_0001n, 0x8000_0000n + BigInt(r.int(small)), 0xffff_ffffn, 1n << 32n, (1n << 32n) + 1n, r.interesting()]);
}

/** A foreigndom argument: DOMID_SELF most often, else another id, a reserved one, or a page-table owner in the high half. */
function foreigndom(r: Random, w: World, di: number): bigint {
  const own = BigInt(w.t.doms[di]!.d.domid);
  const other = BigInt(w.t.doms[1 - di]!.d.domid);
  const self = BigInt(xen.DOMID_SELF);
  return r.pick([self, self, self, self, own, other, BigInt(xen.DOMID_IO), BigInt(xen.DOMID_XEN), 0x7ff3n, 0xffffn, 0n, ((own + 1n) << 16n) | self, ((other + 1n) << 16n) | self, (0xffffn << 16n) | self, r.interesting()]);
}

/** A domid inside a structure (domid_t). */
function domid(r: Random, w: World, di: number): number {
  return r.pick([xen.DOMID_SELF, xen.DOMID_SELF, xen.DOMID_SELF, w.t.doms[di]!.d.domid, w.t.doms[1 - di]!.d.domid, xen.DOMID_IO, xen.DOMID_XEN, 0, 0xffff, r.int(0x10000)]);
}

/** A guest virtual address for update_va_mapping, INVLPG or a flush: mapped, the tables, unmapped, the hole, non-canonical. */
function va(r: Random, dom: TestDomain): bigint {
  const l = dom.layout;
  return r.pick([
    l.virtBase, l.virtBase + 0x1000n, l.virtBase + BigInt(r.int(Number(l.vEnd - l.virtBase))), l.ptBase, l.vEnd, l.vEnd - 1n,
    0n, 0x7fff_ffff_f000n, 0x8000_0000_0000n, xen.HYPERVISOR_VIRT_START, xen.HYPERVISOR_VIRT_END - 0x1000n, xen.HYPERVISOR_VIRT_END,
    0xffff_ffff_ffff_f000n, r.interesting(),
  ]);
}

// ── A guest's argument memory ────────────────────────────────────────────────

/**
 * Where a call's arguments go: two of the caller's kernel pages (the four
 * kernel pages hold two calls racing). What no longer fits starts over at
 * the first byte, overwriting earlier arguments, as a guest reusing its
 * buffer while a multicall still names it would.
 */
class Args {
  private used = 0;
  constructor(
    private readonly t: TestHv,
    private readonly vcpu: VCpu,
    private readonly base: bigint,
  ) {}

  /** Writes bytes (through the vCPU's tables, where they map memory writable) and returns their VA. */
  put(bytes: Uint8Array): bigint {
    if (this.used + bytes.length > 0x2000) this.used = 0;
    const at = this.base + BigInt(this.used);
    this.used = (this.used + bytes.length + 7) & ~7;
    putVirt(this.t, this.vcpu, at, bytes);
    return at;
  }

  /** A pointer to bytes, or one of the ways to get a pointer wrong. */
  pointer(r: Random, dom: TestDomain, bytes: Uint8Array): bigint {
    const at = this.put(bytes);
    if (r.chance(0.8)) return at;
    const l = dom.layout;
    return r.pick([
      at + BigInt(1 + r.int(7)), at - 8n, l.ptBase, l.ptBase + 0x10n, l.vEnd - 8n, l.vEnd - 3n, l.vEnd, 0x10_0000_0000n, 0n,
      xen.MACH2PHYS_VIRT_START, xen.HYPERVISOR_VIRT_END - 8n, 0x7fff_ffff_fff8n, 0x8000_0000_0000n, 0xffff_ffff_ffff_fff8n, 0xffff_ffff_ffff_ffffn,
      r.interesting(),
    ]);
  }
}

const u64s = (...values: bigint[]) => {
  const b = new Uint8Array(8 * values.length);
  values.forEach((x, i) => new DataView(b.buffer).setBigUint64(8 * i, BigInt.asUintN(64, x), true));
  return b;
};

// ── One hostile call ─────────────────────────────────────────────────────────

interface Call {
  what: string;
  routine: Routine<bigint | number>;
  /** The result Xen gives for these arguments alone, where they decide it. */
  expect?: bigint | number;
  /** The vCPU that made it (to skip it afterwards if it went down). */
  vcpu: VCpu;
}

function mmuUpdateReqs(r: Random, w: World, di: number, n: number): Uint8Array {
  const reqs: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const cmd = BigInt(r.pick([0, 0, 0, 0, 1, 2, 3, r.int(8)]));
    const slot = r.pick([r.int(512), 0, 1, 255, 256, 271, 272, 511, r.int(512)]);
    const table = r.chance(0.7) ? BigInt(r.pick(w.tables[di]!)) : frame(r, w, di);
    const ptr = r.chance(0.05) ? r.interesting() : BigInt.asUintN(64, (table << 12n) + BigInt(slot * 8) + (r.chance(0.05) ? BigInt(r.int(8)) : 0n)) | cmd;
    // Sometimes an entry that maps the table itself (a linear page table), or one of its own level.
    const self = r.chance(0.15) ? (table << 12n) | pteFlags(r) : undefined;
    reqs.push(ptr, cmd === 1n ? BigInt(r.pick([0, 1, r.int(2000), 0xffff_ffff])) : (self ?? pte(r, w, di)));
  }
  return u64s(...reqs);
}

function mmuextOps(r: Random, w: World, di: number, n: number, args: Args): Uint8Array {
  const dom = w.t.doms[di]!;
  const out = new Uint8Array(MMUEXT_OP.SIZE * n);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const cmd = r.chance(0.9) ? r.int(22) : Number(BigInt.asUintN(32, r.interesting()));
    // arg1 is an MFN for most commands and a VA for the INVLPGs; arg2 a vCPU bitmap pointer, a source MFN or a count.
    const arg1 = cmd === 7 || cmd === 9 || cmd === 11 || r.chance(0.1) ? va(r, dom) : frame(r, w, di);
    const arg2 = cmd === 8 || cmd === 9 ? args.pointer(r, dom, u64s(r.pick([1n, 2n, 3n, 0xffff_ffff_ffff_ffffn, 0n, r.interesting()]))) : r.chance(0.7) ? frame(r, w, di) : count(r);
    v.setUint32(MMUEXT_OP.SIZE * i + MMUEXT_OP.CMD, cmd, true);
    v.setBigUint64(MMUEXT_OP.SIZE * i + MMUEXT_OP.ARG1, BigInt.asUintN(64, arg1), true);
    v.setBigUint64(MMUEXT_OP.SIZE * i + MMUEXT_OP.ARG2, BigInt.asUintN(64, arg2), true);
  }
  return out;
}

function reservation(r: Random, w: World, di: number, op: number, args: Args): Uint8Array {
  const dom = w.t.doms[di]!;
  const n = Number(count(r, 6) & 0xffn);
  // decrease_reservation names MFNs, populate_physmap PFNs; either way a hostile list.
  const list = Array.from({ length: Math.max(1, n) }, () => (op === xen.XENMEM.decrease_reservation ? frame(r, w, di) : BigInt(r.pick([r.int(300), 0, 0xffff_ffff, r.int(1 << 20)]))));
  const b = new Uint8Array(XEN_MEMORY_RESERVATION.SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(XEN_MEMORY_RESERVATION.EXTENT_START, r.chance(0.1) ? 0n : args.pointer(r, dom, u64s(...list)), true);
  v.setBigUint64(XEN_MEMORY_RESERVATION.NR_EXTENTS, r.chance(0.8) ? BigInt(n) : BigInt.asUintN(64, count(r)), true);
  v.setUint32(XEN_MEMORY_RESERVATION.EXTENT_ORDER, r.pick([0, 0, 0, 0, 1, 9, 0xffff_ffff]), true);
  v.setUint32(XEN_MEMORY_RESERVATION.MEM_FLAGS, r.pick([0, 0, 0, 1, 12, 13, 64, 0x2_0100, r.int(0x10000)]), true);
  v.setUint16(XEN_MEMORY_RESERVATION.DOMID, domid(r, w, di), true);
  return b;
}

function vcpuContext(r: Random, w: World, di: number): Uint8Array {
  const b = new Uint8Array(VCPU_GUEST_CONTEXT.SIZE);
  const v = new DataView(b.buffer);
  const dom = w.t.doms[di]!;
  const canonicalish = () => r.pick([dom.layout.virtBase, dom.layout.virtBase + 0x1000n, 0x8000_0000_0000n, 0xffff_8000_0000_0000n, 0xffff_7fff_ffff_ffffn, r.interesting()]);
  v.setBigUint64(VCPU_GUEST_CONTEXT.USER_REGS + CPU_USER_REGS.RIP, BigInt.asUintN(64, canonicalish()), true);
  v.setBigUint64(VCPU_GUEST_CONTEXT.USER_REGS + CPU_USER_REGS.RSP, BigInt.asUintN(64, canonicalish()), true);
  v.setBigUint64(VCPU_GUEST_CONTEXT.USER_REGS + CPU_USER_REGS.RFLAGS, BigInt.asUintN(64, r.interesting()), true);
  const l4 = r.chance(0.5) ? BigInt(w.tables[di]![0]!) : frame(r, w, di);
  v.setBigUint64(VCPU_GUEST_CONTEXT.CTRLREG + 24, BigInt.asUintN(64, r.chance(0.9) ? l4 << 12n : r.interesting()), true);
  return b;
}

function multicallEntries(r: Random, w: World, di: number, n: number, args: Args, depth: number): Uint8Array {
  const out = new Uint8Array(MULTICALL_ENTRY.SIZE * n);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const inner = hostileArgs(r, w, di, args, depth + 1);
    v.setBigUint64(MULTICALL_ENTRY.SIZE * i + MULTICALL_ENTRY.OP, BigInt.asUintN(64, inner.nr), true);
    v.setBigUint64(MULTICALL_ENTRY.SIZE * i + MULTICALL_ENTRY.RESULT, 0xdead_beefn, true);
    inner.regs.forEach((a, k) => v.setBigUint64(MULTICALL_ENTRY.SIZE * i + MULTICALL_ENTRY.ARGS + 8 * k, BigInt.asUintN(64, a), true));
  }
  return out;
}

/**
 * A hostile page table, as a guest builds one: a multicall that fills
 * entries of a frame (one with no type yet takes any write; a bootstrap
 * table checks each) and then pins it at some level, so that validation
 * meets what the entries name: frames of every kind, the table itself,
 * tables pinned before, reserved and disallowed flags.
 */
function tableBuild(r: Random, w: World, di: number, args: Args): Uint8Array {
  const table = r.chance(0.8) ? BigInt(r.pick(w.spare[di]!)) : frame(r, w, di);
  const level = 1 + r.int(4);
  const n = 1 + r.int(8);
  const reqs: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const slot = level === 4 && r.chance(0.2) ? 256 + r.int(16) : r.int(512);
    const target = r.chance(0.2) ? table : r.chance(0.5) ? BigInt(r.pick(w.spare[di]!)) : frame(r, w, di);
    reqs.push((table << 12n) + BigInt(slot * 8), BigInt.asUintN(64, (target << 12n) | pteFlags(r)));
  }
  const update = args.put(u64s(...reqs));
  const pin = new Uint8Array(MMUEXT_OP.SIZE);
  new DataView(pin.buffer).setUint32(MMUEXT_OP.CMD, r.chance(0.9) ? level - 1 : xen.MMUEXT.UNPIN_TABLE, true);
  new DataView(pin.buffer).setBigUint64(MMUEXT_OP.ARG1, BigInt.asUintN(64, table), true);
  const pinAt = args.put(pin);
  const self = BigInt(xen.DOMID_SELF);
  const entry = (nr: number, regs: bigint[]) => {
    const e = new Uint8Array(MULTICALL_ENTRY.SIZE);
    const v = new DataView(e.buffer);
    v.setBigUint64(MULTICALL_ENTRY.OP, BigInt(nr), true);
    regs.forEach((a, k) => v.setBigUint64(MULTICALL_ENTRY.ARGS + 8 * k, a, true));
    return e;
  };
  const out = new Uint8Array(2 * MULTICALL_ENTRY.SIZE);
  out.set(entry(HYPERVISOR.mmu_update, [update, BigInt(n), 0n, self]));
  out.set(entry(HYPERVISOR.mmuext_op, [pinAt, 1n, 0n, self]), MULTICALL_ENTRY.SIZE);
  return out;
}

/** The hypercall numbers a case draws from, weighted toward the memory-management ones. */
const NUMBERS = [
  HYPERVISOR.mmu_update, HYPERVISOR.mmu_update, HYPERVISOR.mmu_update, HYPERVISOR.mmu_update,
  HYPERVISOR.mmuext_op, HYPERVISOR.mmuext_op, HYPERVISOR.mmuext_op, HYPERVISOR.mmuext_op,
  HYPERVISOR.update_va_mapping, HYPERVISOR.update_va_mapping, HYPERVISOR.memory_op, HYPERVISOR.memory_op, HYPERVISOR.memory_op,
  HYPERVISOR.multicall, HYPERVISOR.multicall, HYPERVISOR.console_io, HYPERVISOR.vcpu_op, HYPERVISOR.vcpu_op, HYPERVISOR.sched_op,
  HYPERVISOR.xen_version,
];
const KNOWN = new Set<number>(Object.values(HYPERVISOR));

/** A hypercall number and its five argument registers, the structures behind them written into the caller's memory. */
function hostileArgs(r: Random, w: World, di: number, args: Args, depth = 0): { nr: bigint; regs: bigint[] } {
  const dom = w.t.doms[di]!;
  const nr = r.chance(0.04) ? r.pick([0n, 2n, 11n, 15n, 40n, 63n, 64n, r.interesting()]) : BigInt(r.pick(NUMBERS));
  const fd = () => foreigndom(r, w, di);
  const junk = () => (r.chance(0.5) ? 0n : r.interesting());
  switch (Number(nr)) {
    case HYPERVISOR.mmu_update: {
      const n = count(r);
      const real = Number(n & 0x7fff_ffffn) > 8 ? 1 + r.int(8) : Number(n & 0x7fff_ffffn);
      const reqs = args.pointer(r, dom, mmuUpdateReqs(r, w, di, Math.max(1, real)));
      return { nr, regs: [r.chance(0.05) ? 0n : reqs, n, r.chance(0.5) ? 0n : args.pointer(r, dom, u64s(BigInt(r.int(3)))), fd(), junk()] };
    }
    case HYPERVISOR.mmuext_op: {
      const n = count(r);
      const real = Number(n & 0x7fff_ffffn) > 8 ? 1 + r.int(8) : Number(n & 0x7fff_ffffn);
      const ops = args.pointer(r, dom, mmuextOps(r, w, di, Math.max(1, real), args));
      return { nr, regs: [r.chance(0.05) ? 0n : ops, n, r.chance(0.5) ? 0n : args.pointer(r, dom, u64s(BigInt(r.int(3)))), fd(), junk()] };
    }
    case HYPERVISOR.update_va_mapping: {
      const flags = r.pick([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 0x10_0000_0000n | 1n, BigInt(r.int(16)), r.interesting()]);
      const withMask = r.chance(0.2) ? args.pointer(r, dom, u64s(r.pick([1n, 3n, 0xffff_ffff_ffff_ffffn]))) | BigInt(r.int(3)) : flags;
      return { nr, regs: [va(r, dom), pte(r, w, di), withMask, junk(), junk()] };
    }
    case HYPERVISOR.memory_op: {
      const op = r.chance(0.85) ? r.pick([0, 1, 6, 0, 1, 6, 2, 3, 4]) : r.int(64);
      const start = r.pick([0n, 0n, 0n, 0n, 1n, 2n, BigInt(r.int(100)), 0xff_ffffn, (1n << 58n) - 1n, 1n << 53n]);
      const arg = op === xen.XENMEM.current_reservation || op === xen.XENMEM.maximum_reservation
        ? args.pointer(r, dom, new Uint8Array([domid(r, w, di) & 0xff, domid(r, w, di) >> 8]))
        : args.pointer(r, dom, reservation(r, w, di, op, args));
      return { nr, regs: [BigInt.asUintN(64, BigInt(op) | (start << 6n)), arg, junk(), junk(), junk()] };
    }
    case HYPERVISOR.multicall: {
      if (depth === 0 && r.chance(0.4)) return { nr, regs: [args.put(tableBuild(r, w, di, args)), 2n, 0n, 0n, 0n] };
      const n = depth > 1 ? 1 : 1 + r.int(4);
      const entries = args.pointer(r, dom, multicallEntries(r, w, di, n, args, depth));
      return { nr, regs: [entries, r.chance(0.8) ? BigInt(n) : count(r), junk(), junk(), junk()] };
    }
    case HYPERVISOR.console_io: {
      const text = new TextEncoder().encode("a hostile guest writes ".repeat(1 + r.int(20)));
      return { nr, regs: [BigInt(r.pick([0, 0, 0, 1, 2, r.int(1 << 16)])), r.chance(0.7) ? BigInt(text.length) : count(r, 600), args.pointer(r, dom, text), junk(), junk()] };
    }
    case HYPERVISOR.vcpu_op: {
      const cmd = r.pick([0n, 0n, 1n, 1n, 2n, 3n, 4n, 5n, 0xffff_ffffn, r.interesting()]);
      const id = r.pick([0n, 1n, 1n, 2n, 0xffff_ffffn, 1n << 32n, r.interesting()]);
      return { nr, regs: [cmd, id, args.pointer(r, dom, vcpuContext(r, w, di)), junk(), junk()] };
    }
    case HYPERVISOR.sched_op: {
      const cmd = r.pick([0n, 0n, 1n, 2n, 3n, 4n, 5n, r.interesting()]);
      // Shutting down ends the domain's part of the case; keep it rare.
      const reason = r.chance(0.1) ? BigInt(r.pick([0, 1, 2, 3, 5, 0x100, 0xffff_ffff])) : 0n;
      const arg = args.pointer(r, dom, u64s(reason));
      return { nr, regs: [cmd === 2n && r.chance(0.7) ? 0n : cmd, arg, junk(), junk(), junk()] };
    }
    case HYPERVISOR.xen_version:
      return { nr, regs: [r.pick([0n, 1n, 2n, 5n, r.interesting()]), r.chance(0.5) ? 0n : r.interesting(), junk(), junk(), junk()] };
    default:
      return { nr, regs: [junk(), junk(), junk(), junk(), junk()] };
  }
}

/** One call by one vCPU: a hypercall, or one of the exits that are hypercalls in disguise (MOV to CR3, INVLPG). */
function hostileCall(r: Random, w: World, di: number, vcpu: VCpu, half: number): Call {
  const t = w.t;
  const dom = t.doms[di]!;
  const who = `d${dom.d.domid}v${vcpu.vcpuId}`;
  const kind = r.int(40);
  if (kind === 0) {
    const cr3 = r.chance(0.5) ? BigInt(dom.layout.l4Mfn) << 12n : BigInt.asUintN(64, (frame(r, w, di) << 12n) | BigInt(r.pick([0, 0, 0x18, 0xfff])));
    return { what: `${who} MOV to CR3 ${hex(cr3)}`, routine: t.hv.newBaseptr(vcpu, cr3), vcpu };
  }
  if (kind === 1) {
    const at = va(r, dom);
    return { what: `${who} INVLPG ${hex(at)}`, routine: finishVoid(t.hv.invlpg(vcpu, at)), vcpu };
  }
  const args = new Args(t, vcpu, dom.layout.virtBase + BigInt(half * 0x2000));
  const { nr, regs } = hostileArgs(r, w, di, args);
  const what = `${who} hypercall ${nr} (${KNOWN.has(Number(nr)) ? xen.HYPERCALL_NAMES[Number(nr)] : "unknown"})(${regs.map(hex).join(", ")})`;
  const expect = expected(nr, regs, vcpu);
  return { what, routine: t.hv.hypercall(dom.d, vcpu, nr, regs), vcpu, ...(expect !== undefined ? { expect } : {}) };
}

function* finishVoid(routine: Routine<void>): Routine<number> {
  yield* routine;
  return 0;
}

/**
 * The result Xen's code gives from the registers alone, where they decide
 * it before any memory is read: an unknown hypercall is -ENOSYS (the
 * hypercall table's default), a vCPU the domain does not have -ENOENT
 * (do_vcpu_op: domain_vcpu), an array that reaches into the hypervisor's
 * hole -EFAULT (do_mmu_update, do_mmuext_op: guest_handle_okay), and the
 * bare continuation of an old_guest_table release (count
 * MMU_UPDATE_PREEMPTED, a null array) the foreigndom it was given, as an int.
 * CONSOLEIO_read has no input to give, but a count above INT_MAX is -E2BIG
 * (do_console_io); a console command that does not exist is -ENOSYS.
 * A reservation call whose start extent is past any nr_extents it may
 * encode (UINT_MAX >> MEMOP_EXTENT_SHIFT) returns the start extent, whatever
 * the structure says (do_memory_op: "start_extent >= nr_extents").
 */
function expected(nr: bigint, regs: bigint[], vcpu: VCpu): bigint | number | undefined {
  if (!KNOWN.has(Number(nr)) || nr >= 64n) return -ENOSYS;
  if (nr === BigInt(HYPERVISOR.vcpu_op) && BigInt.asUintN(32, regs[1]!) >= BigInt(vcpu.domain.vcpus.length)) return -ENOENT;
  if (nr === BigInt(HYPERVISOR.console_io)) {
    const cmd = BigInt.asUintN(32, regs[0]!);
    if (cmd === 1n) return BigInt.asUintN(32, regs[1]!) > 0x7fff_ffffn ? -E2BIG : 0;
    if (cmd !== 0n) return -ENOSYS;
  }
  if (nr === BigInt(HYPERVISOR.memory_op) && [0, 1, 6].includes(Number(regs[0]! & 0x3fn)) && regs[0]! >> 6n > 0xffff_ffffn >> 6n) return BigInt.asIntN(64, regs[0]! >> 6n);
  if (nr === BigInt(HYPERVISOR.mmu_update) || nr === BigInt(HYPERVISOR.mmuext_op)) {
    const n = BigInt.asUintN(32, regs[1]!);
    if (n === 0x8000_0000n && regs[0] === 0n) return Number(BigInt.asIntN(32, regs[3]!));
    // The continuation forms (MMU_UPDATE_PREEMPTED) read pdone first; leave them to the other checks.
    if (n & 0x8000_0000n) return undefined;
    const size = n * BigInt(nr === BigInt(HYPERVISOR.mmu_update) ? 16 : MMUEXT_OP.SIZE);
    const base = regs[0]!;
    const hole = (a: bigint) => a >= 1n << 47n && a < xen.HYPERVISOR_VIRT_END;
    if (size > 0n && (base + size - 1n >= 1n << 64n || hole(base) || hole(base + size - 1n))) return -EFAULT;
  }
  return undefined;
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
 * Runs case `index` of `seed`: a failure, or nothing. The sequence is a
 * pure function of the Random, so a failure replays exactly.
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
  if (r.chance(0.2)) args.push("--nested");
  if (r.chance(0.2)) args.push("--tlb-chaos", r.pick(["0.5", "0.01"]));
  args.push("--max-steps", String(200_000 + r.int(2_000_000)), "--");
  args.push(...r.pick(["workload=attack", "workload=churn iterations=20", "workload=spurious-race iterations=5"]).split(" "));
  // run: 0 all powered off, 1 a domain crashed or rebooted, 2 a usage or image error, 3 --max-steps reached, 64 usage.
  return cliCase({ args, allowed: [0, 1, 2, 3, 64], timeoutMs: 120_000, what: `run --hv ${args.slice(2).join(" ")}` });
}

export const hypercallSurface: Surface = {
  name: "hypercalls",
  run(r: Random): Promise<CaseResult> {
    if (r.chance(0.1)) return guestRun(r);
    return Promise.resolve(runHypercallCase(r));
  },
};
