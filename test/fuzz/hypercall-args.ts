// SPDX-License-Identifier: MIT
//
// What a hostile PV guest passes to the hypervisor, for the hypercall fuzz
// (hypercalls.ts runs the calls and checks what they did): frame numbers of
// every kind, PTEs with reserved and disallowed flags, counts that wrap or
// carry the continuation bit, foreigndoms and domids, pointers that are
// unaligned, read-only, unmapped, in the hypervisor's hole, straddling the
// end of the mapping or the canonical boundary; the structures behind them
// written into the caller's memory; and the result Xen gives where the
// registers alone decide it.

import { type Routine, type VCpu, xen } from "../../hypervisor/index.ts";
import { E2BIG, ENOENT, ENOSYS, EFAULT, EPERM, ESRCH } from "../../hypervisor/common/errno.ts";
import { putVirt, u64s, type TestDomain, type TestHv } from "../hypervisor/helpers.ts";
import type { Random } from "./harness.ts";

const { HYPERVISOR, MMUEXT_OP, MULTICALL_ENTRY, XEN_MEMORY_RESERVATION, VCPU_GUEST_CONTEXT, CPU_USER_REGS } = xen;

export const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

/** The domains calls are made in: the hypervisor, each domain's bootstrap tables [L4, L3, L2, L1…] and spare frames. */
export interface HostileWorld {
  t: TestHv;
  tables: number[][];
  spare: number[][];
}

// ── Hostile values ───────────────────────────────────────────────────────────

/** A frame number a hostile request might name. */
function frame(r: Random, w: HostileWorld, di: number): bigint {
  const hv = w.t.hv;
  const dom = w.t.doms[di]!;
  const other = w.t.doms[1 - di]!;
  switch (r.int(13)) {
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
    case 11: {
      const owned = [...other.d.pageList];
      return BigInt(owned.length ? r.pick(owned) : 0);
    }
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

function pte(r: Random, w: HostileWorld, di: number): bigint {
  if (r.chance(0.08)) return r.interesting();
  return BigInt.asUintN(64, (frame(r, w, di) << 12n) | pteFlags(r));
}

/** A count or length: small, huge, with the continuation bit, or wider than the 32 bits the ABI keeps. */
function count(r: Random, small = 4): bigint {
  return r.pick([0n, 1n, 1n, 2n, BigInt(1 + r.int(small)), BigInt(1 + r.int(small)), 0x7fff_ffffn, 0x8000_0000n, 0x8000_0001n, 0x8000_0000n + BigInt(r.int(small)), 0xffff_ffffn, 1n << 32n, (1n << 32n) + 1n, r.interesting()]);
}

/** A foreigndom argument: DOMID_SELF most often, else another id, a reserved one, or a page-table owner in the high half. */
function foreigndom(r: Random, w: HostileWorld, di: number): bigint {
  const own = BigInt(w.t.doms[di]!.d.domid);
  const other = BigInt(w.t.doms[1 - di]!.d.domid);
  const self = BigInt(xen.DOMID_SELF);
  return r.pick([self, self, self, self, own, other, BigInt(xen.DOMID_IO), BigInt(xen.DOMID_XEN), 0x7ff3n, 0xffffn, 0n, ((own + 1n) << 16n) | self, ((other + 1n) << 16n) | self, (0xffffn << 16n) | self, r.interesting()]);
}

/** A domid inside a structure (domid_t). */
function domid(r: Random, w: HostileWorld, di: number): number {
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

// ── One hostile call ─────────────────────────────────────────────────────────

export interface Call {
  what: string;
  routine: Routine<bigint | number>;
  /** The result Xen gives for these arguments alone, where they decide it. */
  expect?: bigint | number;
  /** The vCPU that made it (to skip it afterwards if it went down). */
  vcpu: VCpu;
}

function mmuUpdateReqs(r: Random, w: HostileWorld, di: number, n: number): Uint8Array {
  const reqs: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const cmd = BigInt(r.pick([0, 0, 0, 0, 1, 1, 2, 3, r.int(8)]));
    const slot = r.pick([r.int(512), 0, 1, 255, 256, 271, 272, 511, r.int(512)]);
    // MMU_MACHPHYS_UPDATE names any frame; a table update most often one of the caller's tables.
    const table = cmd !== 1n && r.chance(0.7) ? BigInt(r.pick(w.tables[di]!)) : frame(r, w, di);
    const ptr = r.chance(0.05) ? r.interesting() : BigInt.asUintN(64, (table << 12n) + BigInt(slot * 8) + (r.chance(0.05) ? BigInt(r.int(8)) : 0n)) | cmd;
    // Sometimes an entry that maps the table itself (a linear page table), or one of its own level.
    const self = r.chance(0.15) ? (table << 12n) | pteFlags(r) : undefined;
    reqs.push(ptr, cmd === 1n ? BigInt(r.pick([0, 1, r.int(2000), 0xffff_ffff])) : (self ?? pte(r, w, di)));
  }
  return u64s(...reqs);
}

function mmuextOps(r: Random, w: HostileWorld, di: number, n: number, args: Args): Uint8Array {
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

function reservation(r: Random, w: HostileWorld, di: number, op: number, args: Args): Uint8Array {
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

function vcpuContext(r: Random, w: HostileWorld, di: number): Uint8Array {
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

function multicallEntries(r: Random, w: HostileWorld, di: number, n: number, args: Args, depth: number): Uint8Array {
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
function tableBuild(r: Random, w: HostileWorld, di: number, args: Args): Uint8Array {
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
function hostileArgs(r: Random, w: HostileWorld, di: number, args: Args, depth = 0): { nr: bigint; regs: bigint[] } {
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
export function hostileCall(r: Random, w: HostileWorld, di: number, vcpu: VCpu, half: number): Call {
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
  const expect = expected(nr, regs, vcpu, w);
  return { what, routine: t.hv.hypercall(dom.d, vcpu, nr, regs), vcpu, ...(expect !== undefined ? { expect } : {}) };
}

function* finishVoid(routine: Routine<void>): Routine<number> {
  yield* routine;
  return 0;
}

/**
 * The result Xen's code gives from the registers alone, where they decide
 * it (with which domains exist):
 *
 * - an unknown hypercall is -ENOSYS (the hypercall table's default);
 * - a vCPU the domain does not have is -ENOENT (do_vcpu_op: domain_vcpu);
 * - CONSOLEIO_read has no input to give, but a count above INT_MAX is
 *   -E2BIG; a console command that does not exist is -ENOSYS (do_console_io);
 * - a reservation call whose start extent is past any nr_extents it may
 *   encode (UINT_MAX >> MEMOP_EXTENT_SHIFT) returns the start extent,
 *   whatever the structure says (do_memory_op: start_extent >= nr_extents);
 * - mmu_update and mmuext_op: the bare continuation of an old_guest_table
 *   release (count MMU_UPDATE_PREEMPTED, a null array) returns foreigndom as
 *   an int; an array starting in the hypervisor's hole is -EFAULT
 *   (guest_handle_okay: access_ok checks the start, as sequential accesses
 *   from any other start fault on a non-canonical address first); an
 *   unknown page-table owner (foreigndom >> 16) is -ESRCH; so is a page
 *   owner (the low 16 bits) that is the caller's own id or no domain
 *   (get_pg_owner); and for mmuext_op any owner but the caller is -EPERM
 *   (xsm_mmuext_op, XSM_TARGET).
 */
function expected(nr: bigint, regs: bigint[], vcpu: VCpu, w: HostileWorld): bigint | number | undefined {
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
    const base = regs[0]!;
    const fd = Number(BigInt.asUintN(32, regs[3]!));
    if (n === 0x8000_0000n && base === 0n) return fd | 0;
    if (base >= 1n << 47n && base < xen.HYPERVISOR_VIRT_END) return -EFAULT;
    // The model refuses an array whose end reaches the hole or wraps, where Xen would fault at the first inaccessible entry: undecided here.
    const size = (n & 0x7fff_ffffn) * BigInt(nr === BigInt(HYPERVISOR.mmu_update) ? 16 : MMUEXT_OP.SIZE);
    const last = base + size - 1n;
    if (size > 0n && (last >= 1n << 64n || (last >= 1n << 47n && last < xen.HYPERVISOR_VIRT_END))) return undefined;
    const domains = w.t.hv.domains;
    if (nr === BigInt(HYPERVISOR.mmu_update) && fd >>> 16 !== 0 && !domains.has((fd >>> 16) - 1)) return -ESRCH;
    const pg = fd & 0xffff;
    const self = vcpu.domain;
    if (pg === self.domid || (pg !== xen.DOMID_SELF && pg !== xen.DOMID_IO && pg !== xen.DOMID_XEN && !domains.has(pg))) return -ESRCH;
    if (nr === BigInt(HYPERVISOR.mmuext_op) && pg !== xen.DOMID_SELF) return -EPERM;
  }
  return undefined;
}

