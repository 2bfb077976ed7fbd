// SPDX-License-Identifier: MIT
//
// What the hypervisor tests share: a hypervisor over ArrayMemory, a tiny ELF
// writer for PV kernels (and for images that are not), domains built with a
// scratch page the test writes hypercall arguments into (playing the guest),
// and hypercall helpers that drive the routine to its end.

import { ArrayMemory, Hypervisor, buildPvDomain, finish, maddr, recount, type BuildResult, type Domain, type HvCallbacks, type VCpu } from "../../hypervisor/index.ts";
import { HYPERVISOR, MMUEXT, MMUEXT_OP } from "../../hypervisor/x86/public.ts";
import { copyToGuest } from "../../hypervisor/x86/guest-access.ts";

export const PT_LOAD = 1;
export const PT_NOTE = 4;

export interface ElfSegmentSpec {
  type?: number;
  vaddr: bigint;
  bytes: Uint8Array;
  memsz?: number;
}

/** An ELF64 x86-64 executable with exactly these program headers (contents after the headers). */
export function makeElf(entry: bigint, segments: ElfSegmentSpec[]): Uint8Array {
  const headers = 64 + 56 * segments.length;
  const total = segments.reduce((n, s) => n + s.bytes.length, headers);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, entry, true);
  v.setBigUint64(32, 64n, true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, segments.length, true);
  let offset = headers;
  segments.forEach((s, i) => {
    const at = 64 + 56 * i;
    v.setUint32(at, s.type ?? PT_LOAD, true);
    v.setUint32(at + 4, 7, true);
    v.setBigUint64(at + 8, BigInt(offset), true);
    v.setBigUint64(at + 16, s.vaddr, true);
    v.setBigUint64(at + 24, s.vaddr, true);
    v.setBigUint64(at + 32, BigInt(s.bytes.length), true);
    v.setBigUint64(at + 40, BigInt(s.memsz ?? s.bytes.length), true);
    out.set(s.bytes, offset);
    offset += s.bytes.length;
  });
  return out;
}

/** A Xen ELF note (name "Xen") with a u64 value. */
export function xenNote(type: number, value: bigint): Uint8Array {
  const b = new Uint8Array(12 + 4 + 8);
  const v = new DataView(b.buffer);
  v.setUint32(0, 4, true);
  v.setUint32(4, 8, true);
  v.setUint32(8, type, true);
  b.set([0x58, 0x65, 0x6e, 0], 12);
  v.setBigUint64(16, value, true);
  return b;
}

/** A 4 MiB-aligned test kernel: two pages at 0x400000 and 8 KiB of .bss; its bootstrap region needs 1024 pages. */
export const KERNEL_BASE = 0x40_0000n;
export function testKernel(): Uint8Array {
  return makeElf(KERNEL_BASE, [{ vaddr: KERNEL_BASE, bytes: new Uint8Array(0x2000).fill(0x90), memsz: 0x4000 }]);
}

/**
 * A small test kernel: XEN_ELFNOTE_VIRT_BASE puts virt_base 640 KiB below a
 * 4 MiB boundary, so the bootstrap region is 160 pages and a domain can be
 * small (the tests' default). The first page is the scratch page for
 * hypercall arguments.
 */
export const SMALL_BASE = 0x36_0000n;
export function smallKernel(): Uint8Array {
  return makeElf(SMALL_BASE, [
    { vaddr: SMALL_BASE, bytes: new Uint8Array(0x2000).fill(0x90), memsz: 0x4000 },
    { type: PT_NOTE, vaddr: 0n, bytes: xenNote(3, SMALL_BASE) },
  ]);
}

export interface TestDomain {
  d: Domain;
  layout: BuildResult;
  /** The VA of the scratch page (the kernel's first page) and its machine address. */
  scratchVa: bigint;
  scratchMa: bigint;
}

export interface TestHv {
  hv: Hypervisor;
  mem: ArrayMemory;
  doms: TestDomain[];
  console: string[];
}

/** A hypervisor with `domains` PV domains of nrPages each, built from the test kernel, each with 2 vCPUs on distinct pCPUs. */
export function makeHv(o: {
  domains?: number; nrPages?: number; extraPages?: number; image?: Uint8Array; seed?: bigint; frames?: number; callbacks?: HvCallbacks;
  nested?: boolean; forceIpi?: boolean; l0Assist?: boolean; engineDriven?: boolean; pageLockCheck?: boolean;
} = {}): TestHv {
  const firstMfn = 0x100;
  const nrFrames = o.frames ?? 640;
  const mem = new ArrayMemory(0n, (firstMfn + nrFrames) * 4096);
  const consoleOut: string[] = [];
  const hv = new Hypervisor({
    memory: mem,
    firstMfn,
    nrFrames,
    nrPcpus: 4,
    seed: o.seed ?? 1n,
    callbacks: { console: (d, b) => consoleOut.push(`[d${d.domid}] ${new TextDecoder().decode(b)}`), ...o.callbacks },
    ...(o.nested !== undefined ? { nested: o.nested } : {}),
    ...(o.forceIpi !== undefined ? { forceIpi: o.forceIpi } : {}),
    ...(o.l0Assist !== undefined ? { l0Assist: o.l0Assist } : {}),
    ...(o.engineDriven !== undefined ? { engineDriven: o.engineDriven } : {}),
    ...(o.pageLockCheck !== undefined ? { pageLockCheck: o.pageLockCheck } : {}),
  });
  const doms: TestDomain[] = [];
  for (let i = 0; i < (o.domains ?? 2); i++) {
    const image = o.image ?? smallKernel();
    const nrPages = o.nrPages ?? (o.image ? 1024 + 64 : 160 + 64);
    const d = hv.createDomain(i + 1, nrPages + (o.extraPages ?? 0), 2);
    const layout = buildPvDomain(hv, { image, domain: d, nrPages, cmdline: "test" });
    // As if each vCPU had run on its own pCPU (the run engine keeps these).
    d.vcpus.forEach((v, k) => {
      v.processor = 2 * i + k;
      v.dirtyCpu = v.processor;
      d.dirtyCpumask.add(v.processor);
    });
    doms.push({ d, layout, scratchVa: layout.virtBase, scratchMa: maddr(layout.p2m[0]!) });
  }
  return { hv, mem, doms, console: consoleOut };
}

/** Runs one hypercall to its end and returns RAX as a signed number. */
export function call(hv: Hypervisor, vcpu: VCpu, nr: number, ...args: bigint[]): number {
  return Number(BigInt.asIntN(64, finish(hv.hypercall(vcpu.domain, vcpu, BigInt(nr), args))));
}

/**
 * Writes bytes at `offset` from the domain's scratch page, as vCPU 0 of the
 * guest would: through its page tables, and only where they map memory
 * writable (so the test can never write a frame the guest could not).
 * Returns the bytes' VA.
 */
export function put(t: TestHv, dom: TestDomain, offset: number, bytes: Uint8Array): bigint {
  const va = dom.scratchVa + BigInt(offset);
  putVirt(t, dom.d.vcpus[0]!, va, bytes);
  return va;
}

/** Writes bytes at a guest virtual address through vcpu's page tables, skipping pages it cannot write. */
export function putVirt(t: TestHv, vcpu: VCpu, va: bigint, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) {
    const at = va + BigInt(done);
    const n = Math.min(bytes.length - done, 4096 - Number(at & 0xfffn));
    finish(copyToGuest(t.hv.on(vcpu), at, bytes.subarray(done, done + n)));
    done += n;
  }
}

export function u64s(...values: bigint[]): Uint8Array {
  const b = new Uint8Array(8 * values.length);
  values.forEach((x, i) => new DataView(b.buffer).setBigUint64(8 * i, BigInt.asUintN(64, x), true));
  return b;
}

export function readU64(t: TestHv, ma: bigint): bigint {
  return t.mem.read64(ma);
}

/** One mmuext_op in guest memory. */
export function mmuextOp(cmd: number, arg1: bigint, arg2 = 0n): Uint8Array {
  const b = new Uint8Array(MMUEXT_OP.SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(MMUEXT_OP.CMD, cmd, true);
  v.setBigUint64(MMUEXT_OP.ARG1, BigInt.asUintN(64, arg1), true);
  v.setBigUint64(MMUEXT_OP.ARG2, BigInt.asUintN(64, arg2), true);
  return b;
}

const SELF = 0x7ff0n;

/** mmu_update with one request (ptr | cmd, val); the arguments live at scratch offset 0x100. */
export function mmuUpdate(t: TestHv, dom: TestDomain, ptr: bigint, val: bigint, vcpu = 0): number {
  const reqs = put(t, dom, 0x100, u64s(ptr, val));
  return call(t.hv, dom.d.vcpus[vcpu]!, HYPERVISOR.mmu_update, reqs, 1n, 0n, SELF);
}

/** One mmuext_op; the arguments live at scratch offset 0x200. */
export function mmuext(t: TestHv, dom: TestDomain, cmd: number, arg1: bigint, arg2 = 0n, vcpu = 0): number {
  const ops = put(t, dom, 0x200, mmuextOp(cmd, arg1, arg2));
  return call(t.hv, dom.d.vcpus[vcpu]!, HYPERVISOR.mmuext_op, ops, 1n, 0n, SELF);
}

export const pin = (t: TestHv, dom: TestDomain, level: 1 | 2 | 3 | 4, mfn: number) => mmuext(t, dom, MMUEXT.PIN_L1_TABLE + level - 1, BigInt(mfn));
export const unpin = (t: TestHv, dom: TestDomain, mfn: number) => mmuext(t, dom, MMUEXT.UNPIN_TABLE, BigInt(mfn));

/** The PFNs the builder left unmapped (free for the test to play with), as MFNs. */
export function spareMfns(dom: TestDomain): number[] {
  const first = Number((dom.layout.vEnd - dom.layout.virtBase) >> 12n);
  return dom.layout.p2m.slice(first);
}

/** Fails with the recount's findings when the frame table and the tables disagree. */
export function expectConsistent(hv: Hypervisor): void {
  const problems = recount(hv);
  if (problems.length) throw new Error(`recount found ${problems.length} problem(s):\n  ${problems.slice(0, 20).join("\n  ")}`);
}
