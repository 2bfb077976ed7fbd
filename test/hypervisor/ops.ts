// SPDX-License-Identifier: MIT
//
// Random hypercall sequences from two PV domains, hostile ones included, for
// the property tests and the soak: an operation is a small record of
// choices (fast-check generates and shrinks it), interpreted against the
// current state when it runs. Frames are named by where they come from
// (the domain's spare frames, its bootstrap tables, another domain's, the
// hypervisor's, free or beyond RAM), so a sequence can build tables, map
// them, retype them, pin, unpin and free them, and attack them.

import fc from "fast-check";
import { finish, interleave, maddr, type Routine, xen } from "../../hypervisor/index.ts";
import { newGuestCr3 } from "../../hypervisor/x86/mmu.ts";
import { makeHv, mmuextOp, put, putVirt, spareMfns, u64s, type TestHv } from "./helpers.ts";

const { HYPERVISOR, MMUEXT, XENMEM, VCPUOP } = xen;

export type FrameFrom = "spare" | "table" | "data" | "owned" | "other" | "xen" | "any" | "beyond" | "invalid";
export interface FrameChoice {
  from: FrameFrom;
  i: number;
}

const frameArb: fc.Arbitrary<FrameChoice> = fc.record({
  from: fc.constantFrom<FrameFrom>("spare", "spare", "spare", "spare", "table", "table", "data", "owned", "other", "xen", "any", "beyond", "invalid"),
  i: fc.nat(4095),
});
/** Entry flags: ordinary, writable, with A/D, and disallowed ones (PCD, PSE), NX, an available high bit, global. */
const FLAGS = [0n, 1n, 3n, 0x63n, 0x63n, 1n, 3n, 0x11n, 0x81n, 3n | (1n << 63n), 1n | (1n << 52n), 0x101n];
const flagsArb = fc.constantFrom(...FLAGS);
/** Slots that stay clear of the scratch page's own mapping in the bootstrap tables (L4 0, L3 0, L2 1, first L1 352). */
const SLOTS = [5, 7, 256, 260, 271, 300, 360, 361, 400, 511];
const slotArb = fc.constantFrom(...SLOTS);

const entryArb = fc.record({ table: frameArb, slot: slotArb, target: frameArb, flags: flagsArb, cmd: fc.constantFrom(0, 0, 0, 2, 3, 4) });

export interface Req {
  table: FrameChoice;
  slot: number;
  target: FrameChoice;
  flags: bigint;
  cmd: number;
}

export type Op =
  | { k: "mmu"; dom: number; reqs: Req[]; fd: number }
  | { k: "linear"; dom: number; level: 2 | 3 | 4; slot: number; self: boolean; f: FrameChoice; rw: boolean }
  | { k: "machphys"; dom: number; f: FrameChoice; pfn: number }
  | { k: "pin"; dom: number; level: 1 | 2 | 3 | 4; f: FrameChoice; fd: number }
  | { k: "unpin"; dom: number; f: FrameChoice }
  | { k: "baseptr"; dom: number; f: FrameChoice }
  | { k: "restore"; dom: number }
  | { k: "uva"; dom: number; va: number; target: FrameChoice; flags: bigint; uvmf: number }
  | { k: "flush"; dom: number; cmd: number; va: number; mask: number }
  | { k: "clear"; dom: number; f: FrameChoice }
  | { k: "copy"; dom: number; f: FrameChoice; g: FrameChoice }
  | { k: "decrease"; dom: number; fs: FrameChoice[] }
  | { k: "populate"; dom: number; pfns: number[]; order: number }
  | { k: "increase"; dom: number; n: number }
  | { k: "reservation"; dom: number; which: number; domid: number }
  | { k: "multicall"; dom: number; pins: { unpin: boolean; f: FrameChoice }[] }
  | { k: "badptr"; dom: number; ptr: number; count: number; call: number }
  | { k: "vcpu"; dom: number; cmd: number; f: FrameChoice }
  | { k: "misc"; dom: number; which: number; len: number }
  | { k: "race"; a: Op; b: Op; picks: number[] };

const dom = fc.nat(1);
const FD = [0x7ff0, 0x7ff0, 0x7ff0, 1, 2, 0x7ff1, 0x7ff2, 99];
const fdArb = fc.constantFrom(...FD);

const simpleOps: fc.Arbitrary<Op>[] = [
  fc.record({ k: fc.constant("mmu" as const), dom, reqs: fc.array(entryArb, { minLength: 1, maxLength: 3 }), fd: fdArb }),
  fc.record({ k: fc.constant("mmu" as const), dom, reqs: fc.array(entryArb, { minLength: 1, maxLength: 1 }), fd: fc.constant(0x7ff0) }),
  fc.record({ k: fc.constant("machphys" as const), dom, f: frameArb, pfn: fc.nat(2000) }),
  // Linear page tables: an entry of a bootstrap table pointing at itself or at a (possibly pinned) table of its own level.
  fc.record({ k: fc.constant("linear" as const), dom, level: fc.constantFrom(2 as const, 3 as const, 4 as const), slot: slotArb, self: fc.boolean(), f: frameArb, rw: fc.constantFrom(false, false, false, false, true) }),
  fc.record({ k: fc.constant("pin" as const), dom, level: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const), f: frameArb, fd: fc.constantFrom(0x7ff0, 0x7ff0, 0x7ff0, 2) }),
  fc.record({ k: fc.constant("unpin" as const), dom, f: frameArb }),
  fc.record({ k: fc.constant("baseptr" as const), dom, f: frameArb }),
  fc.record({ k: fc.constant("restore" as const), dom }),
  fc.record({ k: fc.constant("uva" as const), dom, va: fc.nat(7), target: frameArb, flags: flagsArb, uvmf: fc.nat(7) }),
  fc.record({ k: fc.constant("flush" as const), dom, cmd: fc.integer({ min: 6, max: 11 }), va: fc.nat(7), mask: fc.nat(3) }),
  fc.record({ k: fc.constant("clear" as const), dom, f: frameArb }),
  fc.record({ k: fc.constant("copy" as const), dom, f: frameArb, g: frameArb }),
  fc.record({ k: fc.constant("decrease" as const), dom, fs: fc.array(frameArb, { minLength: 1, maxLength: 3 }) }),
  fc.record({ k: fc.constant("populate" as const), dom, pfns: fc.array(fc.nat(1100), { minLength: 1, maxLength: 3 }), order: fc.constantFrom(0, 0, 0, 0, 1) }),
  fc.record({ k: fc.constant("increase" as const), dom, n: fc.nat(3) }),
  fc.record({ k: fc.constant("reservation" as const), dom, which: fc.nat(3), domid: fc.constantFrom(0x7ff0, 1, 2, 5) }),
  fc.record({ k: fc.constant("multicall" as const), dom, pins: fc.array(fc.record({ unpin: fc.boolean(), f: frameArb }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ k: fc.constant("badptr" as const), dom, ptr: fc.nat(5), count: fc.nat(4), call: fc.nat(3) }),
  fc.record({ k: fc.constant("vcpu" as const), dom, cmd: fc.nat(4), f: frameArb }),
  fc.record({ k: fc.constant("misc" as const), dom, which: fc.nat(6), len: fc.nat(300) }),
];

const simpleOp = fc.oneof(...simpleOps.map((arbitrary, i) => ({ arbitrary, weight: i < 2 ? 6 : i === 4 || i === 5 ? 4 : 2 })));
/** A single operation, or two run interleaved step by step on two pCPUs. */
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: simpleOp, weight: 8 },
  { arbitrary: fc.record({ k: fc.constant("race" as const), a: simpleOp, b: simpleOp, picks: fc.array(fc.nat(1), { minLength: 8, maxLength: 64 }) }), weight: 2 },
);

/** The state operations run against. */
export interface World {
  t: TestHv;
  spare: number[][];
  tables: number[][];
}

export function makeWorld(seed: bigint): World {
  // Room for 32 more frames each, so increase_reservation and populate_physmap can succeed.
  const t = makeHv({ seed, extraPages: 32 });
  return {
    t,
    spare: t.doms.map(spareMfns),
    tables: t.doms.map((d) => {
      const first = Number((d.layout.ptBase - d.layout.virtBase) >> 12n);
      return d.layout.p2m.slice(first, first + d.layout.nrPtFrames);
    }),
  };
}

function frame(w: World, di: number, f: FrameChoice): number {
  const d = w.t.doms[di]!;
  const hv = w.t.hv;
  switch (f.from) {
    case "spare":
      return w.spare[di]![f.i % 8]!;
    case "table":
      return w.tables[di]![f.i % w.tables[di]!.length]!;
    case "data":
      return d.layout.p2m[f.i % 16]!;
    case "owned": {
      const list = [...d.d.pageList];
      return list[f.i % list.length] ?? 0;
    }
    case "other":
      return w.t.doms[1 - di]!.layout.p2m[f.i % w.t.doms[1 - di]!.layout.p2m.length]!;
    case "xen":
      return f.i % 2 ? hv.xenArea.gdtMfn : hv.xenArea.m2pMfns[0]!;
    case "any":
      return hv.frames.firstMfn + (f.i % hv.frames.nrFrames);
    case "beyond":
      return hv.frames.endMfn + f.i;
    case "invalid":
      return 0xff_ffff_ffff;
  }
}

/** Where each op may write its arguments in the scratch page: two halves, so a racing pair does not share them. */
const VAS = [0x36_1000n, 0x37_0000n, 0x3f_f000n, 0x40_0000n, 0x10_0000_0000n, 0xffff_8000_0000_1000n, 0x7fff_ffff_f000n, 0x36_8000n];

/** The routine an operation runs (several hypercalls run in sequence inside one routine). */
function routine(w: World, op: Op, half: number): Routine<unknown> {
  const t = w.t;
  const base = half * 0x800;
  const D = t.doms[op.k === "race" ? 0 : op.dom]!;
  const di = op.k === "race" ? 0 : op.dom;
  const v = D.d.vcpus[half === 1 && op.k !== "race" && D.d.vcpus[1]!.initialised ? 1 : 0]!;
  const hc = (nr: number, ...args: bigint[]) => t.hv.hypercall(v.domain, v, BigInt(nr), args);
  const at = (off: number, bytes: Uint8Array) => put(t, D, base + off, bytes);
  const SELF = 0x7ff0n;
  switch (op.k) {
    case "mmu": {
      const reqs = op.reqs.map((r) => [maddr(frame(w, di, r.table), r.slot * 8) | BigInt(r.cmd), (BigInt(frame(w, di, r.target)) << 12n) | r.flags]).flat();
      return hc(HYPERVISOR.mmu_update, at(0x10, u64s(...reqs)), BigInt(op.reqs.length), D.scratchVa + BigInt(base + 0x8), BigInt(op.fd));
    }
    case "linear": {
      const table = w.tables[di]![4 - op.level]!;
      const target = op.self ? table : frame(w, di, { ...op.f, from: op.f.from === "invalid" ? "spare" : op.f.from });
      return hc(HYPERVISOR.mmu_update, at(0x10, u64s(maddr(table, op.slot * 8), (BigInt(target) << 12n) | (op.rw ? 0x23n : 0x21n))), 1n, 0n, SELF);
    }
    case "machphys":
      return hc(HYPERVISOR.mmu_update, at(0x10, u64s(maddr(frame(w, di, op.f)) | 1n, BigInt(op.pfn))), 1n, 0n, SELF);
    case "pin":
      return hc(HYPERVISOR.mmuext_op, at(0x10, mmuextOp(MMUEXT.PIN_L1_TABLE + op.level - 1, BigInt(frame(w, di, op.f)))), 1n, D.scratchVa + BigInt(base), BigInt(op.fd));
    case "unpin":
      return hc(HYPERVISOR.mmuext_op, at(0x10, mmuextOp(MMUEXT.UNPIN_TABLE, BigInt(frame(w, di, op.f)))), 1n, 0n, SELF);
    case "baseptr":
      return hc(HYPERVISOR.mmuext_op, at(0x10, mmuextOp(MMUEXT.NEW_BASEPTR, BigInt(frame(w, di, op.f)))), 1n, 0n, SELF);
    case "restore":
      // MOV to CR3 back to the bootstrap L4, as the exit handler does it: no argument in memory.
      return newGuestCr3(t.hv.on(v), D.layout.l4Mfn);
    case "uva": {
      const mask = at(0x700, u64s(3n));
      const flags = [0n, 1n, 2n, 5n, 6n, mask | 1n, mask | 2n, 0x10_0000_0000n | 1n][op.uvmf]!;
      return hc(HYPERVISOR.update_va_mapping, VAS[op.va]!, (BigInt(frame(w, di, op.target)) << 12n) | op.flags, flags);
    }
    case "flush": {
      const mask = [at(0x700, u64s(3n)), at(0x700, u64s(0xffff_ffff_ffff_ffffn)), 0x10_0000_0000n, 0xffff_8000_0000_0000n][op.mask]!;
      return hc(HYPERVISOR.mmuext_op, at(0x10, mmuextOp(op.cmd, VAS[op.va]!, mask)), 1n, 0n, SELF);
    }
    case "clear":
      return hc(HYPERVISOR.mmuext_op, at(0x10, mmuextOp(MMUEXT.CLEAR_PAGE, BigInt(frame(w, di, op.f)))), 1n, 0n, SELF);
    case "copy":
      return hc(HYPERVISOR.mmuext_op, at(0x10, mmuextOp(MMUEXT.COPY_PAGE, BigInt(frame(w, di, op.f)), BigInt(frame(w, di, op.g)))), 1n, 0n, SELF);
    case "decrease":
      return hc(HYPERVISOR.memory_op, BigInt(XENMEM.decrease_reservation), reservation(at, at(0x100, u64s(...op.fs.map((f) => BigInt(frame(w, di, f))))), op.fs.length, 0));
    case "populate":
      return hc(HYPERVISOR.memory_op, BigInt(XENMEM.populate_physmap), reservation(at, at(0x100, u64s(...op.pfns.map(BigInt))), op.pfns.length, op.order));
    case "increase":
      return hc(HYPERVISOR.memory_op, BigInt(XENMEM.increase_reservation), reservation(at, op.n % 2 ? 0n : at(0x100, u64s(0n, 0n, 0n)), op.n, 0));
    case "reservation":
      return hc(HYPERVISOR.memory_op, BigInt([XENMEM.current_reservation, XENMEM.maximum_reservation, XENMEM.maximum_ram_page, 9][op.which]!), at(0x100, new Uint8Array([op.domid & 0xff, op.domid >> 8])));
    case "multicall": {
      const entries = new Uint8Array(64 * op.pins.length);
      op.pins.forEach((p, i) => {
        const arg = at(0x400 + 0x20 * i, mmuextOp(p.unpin ? MMUEXT.UNPIN_TABLE : MMUEXT.PIN_L1_TABLE, BigInt(frame(w, di, p.f))));
        const e = new DataView(entries.buffer, 64 * i, 64);
        e.setBigUint64(0, BigInt(HYPERVISOR.mmuext_op), true);
        e.setBigUint64(16, arg, true);
        e.setBigUint64(24, 1n, true);
        e.setBigUint64(40, SELF, true);
      });
      return hc(HYPERVISOR.multicall, at(0x200, entries), BigInt(op.pins.length));
    }
    case "badptr": {
      const ptr = [0x10_0000_0000n, 0xffff_8000_0000_0000n, D.layout.vEnd - 8n, D.scratchVa + BigInt(base + 3), D.layout.ptBase, 0n][op.ptr]!;
      const count = [0n, 1n, 0x7fff_ffffn, 0xffff_ffffn, 2n][op.count]!;
      const nr = [HYPERVISOR.mmu_update, HYPERVISOR.mmuext_op, HYPERVISOR.multicall, HYPERVISOR.console_io][op.call]!;
      return nr === HYPERVISOR.console_io ? hc(nr, 0n, count & 0xffffn, ptr) : hc(nr, ptr, count, ptr, SELF);
    }
    case "vcpu": {
      const ctx = new Uint8Array(xen.VCPU_GUEST_CONTEXT.SIZE);
      new DataView(ctx.buffer).setBigUint64(xen.VCPU_GUEST_CONTEXT.CTRLREG + 24, maddr(frame(w, di, op.f)), true);
      // The context is larger than half the scratch page: it goes in the kernel's second and third pages.
      putVirt(t, D.d.vcpus[0]!, D.scratchVa + 0x1000n, ctx);
      const cmd = [VCPUOP.initialise, VCPUOP.up, VCPUOP.down, VCPUOP.is_up, 99][op.cmd]!;
      return hc(HYPERVISOR.vcpu_op, BigInt(cmd), BigInt(op.f.i % 3), D.scratchVa + 0x1000n);
    }
    case "misc":
      switch (op.which) {
        case 0:
          return hc(HYPERVISOR.console_io, 0n, BigInt(op.len), at(0x10, new TextEncoder().encode("hello from a test guest ".repeat(13)).subarray(0, Math.min(op.len, 0x7f0))));
        case 1:
          return hc(HYPERVISOR.xen_version, 0n, 0n);
        case 2:
          return hc(HYPERVISOR.sched_op, 0n, 0n);
        case 3:
          return hc(op.len, 0n, 0n);
        case 4:
          return hc(HYPERVISOR.memory_op, BigInt(XENMEM.maximum_ram_page), 0n);
        default:
          return hc(HYPERVISOR.mmuext_op, at(0x10, mmuextOp(op.len % 24, BigInt(op.len), 0n)), 1n, 0n, SELF);
      }
    case "race":
      throw new Error("a race is not one routine");
  }
}

function reservation(at: (off: number, b: Uint8Array) => bigint, list: bigint, nr: number, order: number): bigint {
  const r = new Uint8Array(xen.XEN_MEMORY_RESERVATION.SIZE);
  const v = new DataView(r.buffer);
  v.setBigUint64(0, list, true);
  v.setBigUint64(8, BigInt(nr), true);
  v.setUint32(16, order, true);
  v.setUint16(24, 0x7ff0, true);
  return at(0x80, r);
}

/** Runs one operation to its end (a race: both routines, interleaved by its picks); returns how many hypercalls that was. */
export function runOp(w: World, op: Op): number {
  if (op.k !== "race") {
    finish(routine(w, op, 0));
    return 1;
  }
  // The two halves run on different pCPUs: domain 1 and domain 2, or both vCPUs of one domain.
  const first = { ...op.a, dom: 0 } as Op;
  // Both vCPUs of domain 1 when its second vCPU is up, else domain 2's first: never one vCPU twice.
  const second = { ...op.b, dom: w.t.doms[0]!.d.vcpus[1]!.initialised ? (op.b as { dom: number }).dom : 1 } as Op;
  let k = 0;
  interleave([routine(w, first, 0), routine(w, second, 1)], (n) => (n === 1 ? 0 : op.picks[k++ % op.picks.length]! % n));
  return 2;
}


