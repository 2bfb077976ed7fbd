// SPDX-License-Identifier: MIT
//
// A mock of issue 12's hypervisor, for tests of guest/x86_64/pv/kernel only:
// it builds one PV domain as the builder does (shuffled MFNs, the
// p2m list, start_info, bootstrap tables, a boot stack; L4 slot 256 mapping
// the M2P and a GDT read-only) on the bare emulated CPU and answers VMCALLs
// with Xen's structures. It is no hypervisor: the CPU runs the kernel at
// CPL 0 without a guest mode; page types are modelled on Xen's get/put_page_type
// (a type and a type count per frame, validation and devalidation, pins, the
// type reference of each vCPU's base table) but general references, locking
// and races are not. TLBs are flushed as Xen flushes them: what the flush
// flags and MMUEXT_* flush operations ask for, a MOV to CR3 for NEW_BASEPTR,
// everything on a type change and before a freed frame is handed out again;
// an unmap by mmu_update alone flushes nothing. What it does test is
// the kernel's boot path and its use of the ABI: layouts, offsets,
// arguments, flow, and the answers it expects to its attacks.

import { Machine } from "../../emulator/machine/core/machine.ts";
import { BOOT_CR0, BOOT_CR4, BOOT_EFER, GDT_DESCRIPTORS, GDT_LIMIT, planLoad } from "../../emulator/machine/platform/x86/boot.ts";
import type { X86Cpu } from "../../emulator/machine/cpu/x86-cpu.ts";

const PAGE = 4096n;
const P = 1n, RW = 2n, A = 0x20n, D = 0x40n, PSE = 0x80n;
const ADDR = 0x000f_ffff_ffff_f000n;
const M2P_VA = 0xffff_8000_0000_0000n;
const HV_END = 0xffff_8800_0000_0000n;
const E = { PERM: -1n, NOENT: -2n, FAULT: -14n, BUSY: -16n, EXIST: -17n, INVAL: -22n, NOSYS: -38n };
const u64 = (v: bigint) => BigInt.asUintN(64, v);
/** The writable type (Xen's PGT_writable_page); 1-4 are the page-table levels. */
const WRITABLE = 8;

export interface MockRun {
  console: string;
  /** SHUTDOWN_* reason, or undefined when the step limit ran out. */
  shutdown: number | undefined;
  hypercalls: Map<string, number>;
}

class Fault extends Error {}

/** Boots `image` as a PV domain with `vcpus` vCPUs and `cmdline`, and runs it. */
export interface MockOptions {
  vcpus: number;
  cmdline: string;
  maxSteps?: number;
  /** Seeds the MFN shuffle and the allocator's choices. */
  seed?: number;
  /** Each vCPU's turn runs a seeded random 1 to maxSlice instructions (default: 2000 each). */
  maxSlice?: number;
  /** A defect to build in, so that tests see the kernel catch it. */
  broken?: "no-scrub" | "writable-pt" | "no-invlpg";
  trace?: (line: string) => void;
}

export function runPvMock(image: Uint8Array, opts: MockOptions): MockRun {
  const mock = new PvMock(image, opts);
  mock.trace = opts.trace;
  return mock.run(opts.maxSteps ?? 200_000_000);
}

class PvMock {
  readonly m: Machine;
  readonly ramFrames = 16384n; // 64 MiB of machine memory
  readonly nrPages = 4096n; // 16 MiB for the domain
  readonly p2m: bigint[] = [];
  readonly owned = new Set<bigint>(); // MFNs of the domain
  readonly free: bigint[] = [];
  readonly pinned = new Set<bigint>();
  /** Per frame: its type (0 none, 1-4 page-table level, WRITABLE) and type count (mm.c type_info). */
  readonly types = new Map<bigint, { type: number; count: number; validated: boolean }>();
  /** Frames given back while still in use: freed when their type count drops to 0. */
  readonly dying = new Set<bigint>();
  /** Each vCPU's base table (its CR3's MFN), which holds a type reference. */
  readonly base: bigint[] = [];
  readonly up: boolean[];
  readonly initialised: boolean[];
  console = "";
  line = "";
  shutdown: number | undefined;
  readonly hypercalls = new Map<string, number>();
  private rng: number;

  constructor(image: Uint8Array, readonly opts: MockOptions) {
    this.rng = opts.seed ?? 1;
    this.m = new Machine({ cpus: opts.vcpus, maxPhysAddr: 46, ram: [{ base: 0n, size: this.ramFrames * PAGE }] });
    this.up = Array.from({ length: opts.vcpus }, (_, i) => i === 0);
    this.initialised = Array.from({ length: opts.vcpus }, (_, i) => i === 0);
    this.build(image);
  }

  private random(n: number): number {
    this.rng = (this.rng * 1103515245 + 12345) >>> 0; // a plain LCG: reproducible, not uniform
    return (this.rng >>> 8) % n;
  }

  // ── The builder ──────────────────────────────────────────────────────────

  private build(image: Uint8Array): void {
    const mem = this.m.memory;
    // Hypervisor frames 0-63: the M2P (32 frames at MFN 16), its tables, a GDT.
    const m2pFrames = (this.ramFrames * 8n) / PAGE;
    const [l3, l2, l1, gdt] = [8n, 9n, 10n, 11n];
    mem.write64(l3 * PAGE, (l2 << 12n) | P | RW | A);
    mem.write64(l2 * PAGE, (l1 << 12n) | P | RW | A);
    for (let i = 0n; i < m2pFrames; i++) mem.write64(l1 * PAGE + 8n * i, ((16n + i) << 12n) | P | A);
    mem.write64(l1 * PAGE + 8n * m2pFrames, (gdt << 12n) | P | RW | A | D);
    GDT_DESCRIPTORS.forEach((d, i) => mem.write64(gdt * PAGE + BigInt(8 * i), d));
    this.hvSlot = (l3 << 12n) | P | RW | A;
    this.gdtVa = M2P_VA + m2pFrames * PAGE;
    for (let mfn = 0n; mfn < this.ramFrames; mfn++) this.setM2p(mfn, ~0n);

    // Domain frames: nrPages of MFNs 1024 and up, shuffled; the rest are free.
    const pool: bigint[] = [];
    for (let mfn = 1024n; mfn < this.ramFrames; mfn++) pool.push(mfn);
    for (let i = pool.length - 1; i > 0; i--) {
      const j = this.random(i + 1);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    for (let pfn = 0n; pfn < this.nrPages; pfn++) {
      const mfn = pool.pop()!;
      this.p2m.push(mfn);
      this.owned.add(mfn);
      this.setM2p(mfn, pfn);
    }
    this.free.push(...pool);

    // The image at PFN (v - virt_base) >> 12, virt_base = lowest vaddr rounded down to 4 MiB.
    const plan = planLoad(image, 1n << 40n);
    const virtBase = plan.segments.reduce((lo, s) => (s.paddr < lo ? s.paddr : lo), 1n << 64n) & ~0x3f_ffffn;
    let end = 0n;
    for (const s of plan.segments) {
      const bytes = new Uint8Array(Number(s.memsz));
      bytes.set(s.bytes);
      for (let off = 0; off < bytes.length; off++) this.writeByte(s.paddr + BigInt(off) - virtBase, bytes[off]!);
      const e = s.paddr + s.memsz;
      if (e > end) end = e;
    }
    const kernelEnd = (end + PAGE - 1n) & ~(PAGE - 1n);
    const p2mVa = kernelEnd;
    const siVa = p2mVa + ((this.nrPages * 8n + PAGE - 1n) & ~(PAGE - 1n));
    const ptVa = siVa + PAGE;
    let nL1 = 1n;
    let vEnd = 0n;
    for (;;) {
      const stackTop = ptVa + (3n + nL1) * PAGE + PAGE;
      vEnd = (stackTop + 0x80000n + 0x3f_ffffn) & ~0x3f_ffffn;
      const need = (vEnd - virtBase + (2n << 20n) - 1n) >> 21n;
      if (need <= nL1) break;
      nL1 = need;
    }
    const nrPt = 3n + nL1;
    this.stackTop = ptVa + nrPt * PAGE + PAGE;
    const pfnOf = (va: bigint) => (va - virtBase) >> 12n;
    const mfnOf = (va: bigint) => this.p2m[Number(pfnOf(va))]!;
    for (let pfn = 0n; pfn < this.nrPages; pfn++) {
      const va = p2mVa + 8n * pfn;
      mem.write64(mfnOf(va) * PAGE + (va & 0xfffn), this.p2m[Number(pfn)]!);
    }
    const si = mfnOf(siVa) * PAGE;
    mem.write(si, new TextEncoder().encode("xen-3.0-x86_64\0"));
    mem.write64(si + 32n, this.nrPages);
    mem.write64(si + 88n, ptVa);
    mem.write64(si + 96n, nrPt);
    mem.write64(si + 104n, p2mVa);
    mem.write(si + 128n, new TextEncoder().encode(`${this.opts.cmdline}\0`));
    // Tables: L4, L3, L2, then the L1s; the region mapped 4 KiB, tables read-only.
    const [l4v, l3v, l2v] = [ptVa, ptVa + PAGE, ptVa + 2n * PAGE];
    mem.write64(mfnOf(l4v) * PAGE, (mfnOf(l3v) << 12n) | P | RW | A);
    mem.write64(mfnOf(l4v) * PAGE + 8n * 256n, this.hvSlot);
    mem.write64(mfnOf(l3v) * PAGE, (mfnOf(l2v) << 12n) | P | RW | A);
    for (let k = 0n; k < nL1; k++) mem.write64(mfnOf(l2v) * PAGE + 8n * k, (mfnOf(ptVa + (3n + k) * PAGE) << 12n) | P | RW | A);
    for (let va = virtBase; va < vEnd; va += PAGE) {
      const isPt = va >= ptVa && va < ptVa + nrPt * PAGE;
      const l1 = mfnOf(ptVa + (3n + ((va - virtBase) >> 21n)) * PAGE);
      mem.write64(l1 * PAGE + 8n * ((va >> 12n) & 511n), (mfnOf(va) << 12n) | P | A | (isPt ? 0n : RW | D));
    }
    if (this.getType(mfnOf(l4v), 4) !== 0n || this.getType(mfnOf(l4v), 4) !== 0n) throw new Error("mock: the bootstrap tables do not validate");
    this.pinned.add(mfnOf(l4v));
    this.base[0] = mfnOf(l4v);

    const cpu = this.m.cpus[0]!;
    this.start(cpu, { rip: plan.elf.entry, rsp: this.stackTop, rdi: 0n, rsi: siVa, rflags: 2n, cr3: mfnOf(l4v) << 12n });
  }

  private hvSlot = 0n;
  private gdtVa = 0n;
  private stackTop = 0n;

  private start(cpu: X86Cpu, r: { rip: bigint; rsp: bigint; rdi: bigint; rsi: bigint; rflags: bigint; cr3: bigint }): void {
    cpu.reset();
    cpu.setRegisters({ cr0: BOOT_CR0, cr3: r.cr3, cr4: BOOT_CR4, efer: BOOT_EFER });
    cpu.setState({
      rip: r.rip, rsp: r.rsp, rdi: r.rdi, rsi: r.rsi, rflags: r.rflags, cs: 0x08, ss: 0x10, cpl: 0,
      gdtrBase: this.gdtVa, gdtrLimit: GDT_LIMIT, idtrBase: 0n, idtrLimit: 0,
    });
    this.m.hw.x86CodeChanged();
  }

  private writeByte(va: bigint, b: number): void {
    const pa = this.p2m[Number(va >> 12n)]! * PAGE + (va & 0xfffn);
    this.m.memory.write(pa, new Uint8Array([b]));
  }

  private setM2p(mfn: bigint, pfn: bigint): void {
    this.m.memory.write64(16n * PAGE + 8n * mfn, u64(pfn));
  }

  // ── Guest memory, as copy_from_guest / copy_to_guest ─────────────────────

  private pa(cpu: X86Cpu, va: bigint, write: boolean): bigint {
    if (va >= 1n << 47n && va < HV_END) throw new Fault();
    const t = cpu.peek(va, { op: write ? "write" : "read", priv: "kernel" }, { memoryOnly: true });
    if (!t.ok) throw new Fault();
    return t.pa;
  }

  private get64(cpu: X86Cpu, va: bigint): bigint {
    return this.m.memory.read64(this.pa(cpu, va, false));
  }

  private put64(cpu: X86Cpu, va: bigint, v: bigint): void {
    this.m.memory.write64(this.pa(cpu, va, true), u64(v));
  }

  private put32(cpu: X86Cpu, va: bigint, v: bigint): void {
    const pa = this.pa(cpu, va, true);
    const old = this.m.memory.read64(pa & ~7n);
    const shift = 8n * (pa & 7n);
    this.m.memory.write64(pa & ~7n, (old & ~(0xffff_ffffn << shift)) | ((v & 0xffff_ffffn) << shift));
  }

  private flushAll(): void {
    for (const c of this.m.cpus) c.flushAll();
  }

  // ── The run ──────────────────────────────────────────────────────────────

  run(maxSteps: number): MockRun {
    let steps = 0;
    while (this.shutdown === undefined && steps < maxSteps) {
      let ran = false;
      for (const cpu of this.m.cpus) {
        if (!this.up[cpu.index] || this.shutdown !== undefined) continue;
        ran = true;
        const slice = this.opts.maxSlice === undefined ? 2000 : 1 + this.random(this.opts.maxSlice);
        const exit = cpu.run(slice);
        steps += slice;
        if (exit.reason === "vmcall") this.hypercall(cpu);
        else if (exit.reason === "triple-fault") throw new Error(`vCPU ${cpu.index}: triple fault at ${exit.rip.toString(16)}\n${this.console}`);
        else if (exit.reason !== "budget" && exit.reason !== "hlt") throw new Error(`vCPU ${cpu.index}: exit ${exit.reason}\n${this.console}`);
      }
      if (!ran) break;
    }
    return { console: this.console, shutdown: this.shutdown, hypercalls: this.hypercalls };
  }

  trace?: (line: string) => void;

  private hypercall(cpu: X86Cpu): void {
    const s = cpu.state;
    this.trace?.(`vCPU ${cpu.index} rip ${s.rip.toString(16)} hypercall ${s.rax} (${[s.rdi, s.rsi, s.rdx, s.r10, s.r8].map((v) => v.toString(16)).join(", ")}) rsp ${s.rsp.toString(16)}`);
    let rax: bigint;
    try {
      rax = this.call(cpu, s.rax, [s.rdi, s.rsi, s.rdx, s.r10, s.r8]);
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      rax = E.FAULT;
    }
    cpu.setState({ rax: u64(rax) });
  }

  private count(name: string): void {
    this.hypercalls.set(name, (this.hypercalls.get(name) ?? 0) + 1);
  }

  private call(cpu: X86Cpu, nr: bigint, a: bigint[]): bigint {
    switch (nr) {
      case 1n: this.count("mmu_update"); return this.mmuUpdate(cpu, a[0]!, a[1]! & 0xffff_ffffn, a[2]!);
      case 12n: this.count("memory_op"); return this.memoryOp(cpu, a[0]!, a[1]!);
      case 13n: this.count("multicall"); return this.multicall(cpu, a[0]!, a[1]!);
      case 14n: this.count("update_va_mapping"); return this.updateVaMapping(cpu, a[0]!, a[1]!, a[2]!);
      case 17n: this.count("xen_version"); return (4n << 16n) | 19n;
      case 18n: {
        this.count("console_io");
        if (a[0] !== 0n) return E.NOSYS;
        const bytes: number[] = [];
        for (let i = 0n; i < (a[1]! & 0xffff_ffffn); i++) {
          const pa = this.pa(cpu, a[2]! + i, false);
          bytes.push(Number((this.m.memory.read64(pa & ~7n) >> (8n * (pa & 7n))) & 0xffn));
        }
        this.console += Buffer.from(bytes).toString("latin1");
        return 0n;
      }
      case 24n: this.count("vcpu_op"); return this.vcpuOp(cpu, a[0]!, a[1]! & 0xffff_ffffn, a[2]!);
      case 26n: this.count("mmuext_op"); return this.mmuextOp(cpu, a[0]!, a[1]! & 0xffff_ffffn, a[2]!);
      case 29n: {
        this.count("sched_op");
        if (a[0] === 2n) this.shutdown = Number(this.m.memory.read64(this.pa(cpu, a[1]!, false)) & 0xffff_ffffn);
        return 0n;
      }
      default:
        this.count("other");
        return E.NOSYS;
    }
  }

  // ── Page types (mm.c _get_page_type, _put_page_type, promote_lN_table) ──

  private info(mfn: bigint) {
    let i = this.types.get(mfn);
    if (!i) this.types.set(mfn, (i = { type: 0, count: 0, validated: false }));
    return i;
  }

  /** A type reference: the type may change only at count 0; a page-table type validates. */
  private getType(mfn: bigint, type: number): bigint {
    const i = this.info(mfn);
    if (i.count > 0) {
      if (i.type !== type) return E.INVAL;
      i.count++;
      return 0n;
    }
    if (i.type !== type) this.flushAll(); // _get_page_type: a type change flushes stale mappings
    if (type !== WRITABLE && (i.type !== type || !i.validated)) {
      i.type = type;
      i.count = 1; // "validate locked": a self-reference of another type fails
      const rc = this.validate(mfn, type);
      if (rc) {
        i.type = 0;
        i.count = 0;
        i.validated = false;
        return rc;
      }
      i.validated = true;
      return 0n;
    }
    i.type = type;
    i.count = 1;
    return 0n;
  }

  private putType(mfn: bigint): void {
    const i = this.info(mfn);
    if (i.count <= 0) throw new Error(`mock: type count of MFN ${mfn.toString(16)} below 0`);
    if (--i.count > 0) return;
    if (i.type >= 1 && i.type <= 4) {
      this.devalidate(mfn, i.type);
      i.validated = false;
    }
    if (this.dying.delete(mfn)) this.release(mfn);
  }

  /** The references an entry of a level-`level` table in `table` takes (get_page_from_lNe). */
  private getEntry(table: bigint, level: number, e: bigint): bigint {
    if (!(e & P)) return 0n;
    const target = (e & ADDR) >> 12n;
    if (level === 1) {
      if (target >= this.ramFrames) return E.PERM; // not mfn_valid, no I/O permission
      if (!this.owned.has(target)) return E.BUSY; // another owner: could_not_pin
      if (e & RW && this.getType(target, WRITABLE)) {
        if (this.opts.broken !== "writable-pt") return E.BUSY;
        this.info(target).count++; // the defect: a page table mapped writable anyway
      }
      return 0n;
    }
    if (level === 2 && e & PSE) return E.INVAL; // L2_DISALLOW_MASK
    if (!this.owned.has(target)) return E.INVAL;
    if (target === table) return e & RW ? E.INVAL : 0n; // linear: read-only only, no reference
    return this.getType(target, level - 1);
  }

  private putEntry(table: bigint, level: number, e: bigint): void {
    if (!(e & P)) return;
    const target = (e & ADDR) >> 12n;
    if (level === 1) {
      if (e & RW) this.putType(target);
      return;
    }
    if (target !== table) this.putType(target);
  }

  private guestSlots(level: number): number[] {
    return [...Array(512).keys()].filter((i) => level !== 4 || i < 256 || i > 271);
  }

  private validate(mfn: bigint, level: number): bigint {
    const done: number[] = [];
    for (const i of this.guestSlots(level)) {
      const e = this.m.memory.read64(mfn * PAGE + 8n * BigInt(i));
      const rc = this.getEntry(mfn, level, e);
      if (rc) {
        for (const j of done) this.putEntry(mfn, level, this.m.memory.read64(mfn * PAGE + 8n * BigInt(j)));
        return rc;
      }
      done.push(i);
    }
    if (level === 4) this.m.memory.write64(mfn * PAGE + 8n * 256n, this.hvSlot); // the hypervisor's slots
    return 0n;
  }

  private devalidate(mfn: bigint, level: number): void {
    for (const i of this.guestSlots(level)) this.putEntry(mfn, level, this.m.memory.read64(mfn * PAGE + 8n * BigInt(i)));
  }

  /** One entry update of a live table (mod_lN_entry): the new entry's references, then the old one's go. */
  private modEntry(table: bigint, level: number, slot: number, val: bigint): bigint {
    if (level === 4 && slot >= 256 && slot <= 271) return E.INVAL; // !is_guest_l4_slot
    const at = table * PAGE + 8n * BigInt(slot);
    const old = this.m.memory.read64(at);
    const rc = this.getEntry(table, level, val);
    if (rc) return rc;
    this.m.memory.write64(at, val);
    this.putEntry(table, level, old);
    return 0n;
  }

  /** The level of a live (validated, referenced) page table, else undefined. */
  private liveLevel(mfn: bigint): number | undefined {
    const i = this.types.get(mfn);
    return i && i.count > 0 && i.type >= 1 && i.type <= 4 ? i.type : undefined;
  }

  private release(mfn: bigint): void {
    this.types.delete(mfn);
    this.free.push(mfn);
  }

  private mmuUpdate(cpu: X86Cpu, reqs: bigint, count: bigint, pdone: bigint): bigint {
    let done = 0n;
    let rc = 0n;
    for (; done < count; done++) {
      let ptr: bigint, val: bigint;
      try {
        ptr = this.get64(cpu, reqs + 16n * done);
        val = this.get64(cpu, reqs + 16n * done + 8n);
      } catch {
        rc = E.FAULT;
        break;
      }
      const cmd = ptr & 3n;
      const mfn = ptr >> 12n;
      if (!this.owned.has(mfn)) {
        rc = E.INVAL;
        break;
      }
      if (cmd === 1n) {
        this.setM2p(mfn, val);
        continue;
      }
      const ma = ptr & ~7n;
      const level = this.liveLevel(mfn);
      if (level === undefined) {
        // An ordinary frame: Xen writes it as data (PGT_writable_page), if it can take that type.
        if (this.getType(mfn, WRITABLE)) {
          rc = E.INVAL;
          break;
        }
        this.m.memory.write64(ma, val);
        this.putType(mfn);
        continue;
      }
      const bad = this.modEntry(mfn, level, Number((ma >> 3n) & 511n), val);
      this.trace?.(`  mmu_update ptr ${ptr.toString(16)} (level ${level}) val ${val.toString(16)}: ${bad}`);
      if (bad) {
        rc = bad;
        break;
      }
    }
    if (pdone) this.put32(cpu, pdone, done);
    return rc;
  }

  private updateVaMapping(cpu: X86Cpu, va: bigint, val: bigint, flags: bigint): bigint {
    const walk = cpu.walkMemory(va);
    const l1 = walk.steps.find((s) => s.level === 1);
    if (!l1) return E.INVAL;
    const table = l1.entryPa >> 12n;
    if (this.liveLevel(table) !== 1) return E.INVAL;
    const bad = this.modEntry(table, 1, Number((l1.entryPa >> 3n) & 511n), val);
    if (bad) return bad;
    const kind = flags & 3n; // UVMF_TLB_FLUSH 1, UVMF_INVLPG 2
    if (kind !== 1n && kind !== 2n) return 0n;
    const sel = flags & ~3n; // UVMF_LOCAL 0, UVMF_ALL 4, else a vCPU bitmap's address
    let cpus: readonly X86Cpu[];
    if (sel === 0n) cpus = [cpu];
    else if (sel === 4n) cpus = this.m.cpus;
    else {
      try {
        cpus = this.vcpusIn(this.get64(cpu, sel));
      } catch {
        return E.FAULT; // vcpumask_to_pcpumask's answer; the entry has changed
      }
    }
    for (const c of cpus) {
      if (kind === 1n) c.flushAll();
      else if (this.opts.broken !== "no-invlpg") c.invlpg(va);
    }
    return 0n;
  }

  private vcpusIn(mask: bigint): X86Cpu[] {
    return this.m.cpus.filter((c) => (mask >> BigInt(c.index)) & 1n);
  }

  private mmuextOp(cpu: X86Cpu, ops: bigint, count: bigint, pdone: bigint): bigint {
    let done = 0n;
    let rc = 0n;
    for (; done < count; done++) {
      let cmd: bigint, arg1: bigint, arg2: bigint;
      try {
        cmd = this.get64(cpu, ops + 24n * done) & 0xffff_ffffn;
        arg1 = this.get64(cpu, ops + 24n * done + 8n);
        arg2 = this.get64(cpu, ops + 24n * done + 16n);
      } catch {
        rc = E.FAULT;
        break;
      }
      rc = this.mmuext(cpu, cmd, arg1, arg2);
      if (rc) break;
    }
    if (pdone) this.put32(cpu, pdone, done);
    return rc;
  }

  private mmuext(cpu: X86Cpu, cmd: bigint, mfn: bigint, arg2: bigint): bigint {
    switch (cmd) {
      case 0n: case 1n: case 2n: case 3n: {
        if (!this.owned.has(mfn)) return E.INVAL;
        const rc = this.getType(mfn, Number(cmd) + 1);
        if (rc) return rc;
        if (this.pinned.has(mfn)) {
          this.putType(mfn);
          return E.INVAL; // already pinned
        }
        this.pinned.add(mfn);
        return 0n;
      }
      case 4n:
        if (!this.owned.has(mfn) || !this.pinned.has(mfn)) return E.INVAL;
        this.pinned.delete(mfn);
        this.putType(mfn);
        return 0n;
      case 5n: {
        if (!this.owned.has(mfn)) return E.INVAL;
        const rc = this.getType(mfn, 4);
        if (rc) return rc;
        this.putType(this.base[cpu.index]!);
        this.base[cpu.index] = mfn;
        cpu.movToCr3(mfn << 12n); // as a MOV to CR3: the TLB of the old tables goes
        return 0n;
      }
      case 6n: // TLB_FLUSH_LOCAL
        cpu.flushAll();
        return 0n;
      case 7n: // INVLPG_LOCAL
        cpu.invlpg(mfn);
        return 0n;
      case 10n: // TLB_FLUSH_ALL
        this.flushAll();
        return 0n;
      case 11n: // INVLPG_ALL
        for (const c of this.m.cpus) c.invlpg(mfn);
        return 0n;
      case 8n: case 9n: { // TLB_FLUSH_MULTI, INVLPG_MULTI (arg1 is the address)
        let cpus: X86Cpu[];
        try {
          cpus = this.vcpusIn(this.get64(cpu, arg2));
        } catch {
          return E.INVAL;
        }
        for (const c of cpus) {
          if (cmd === 8n) c.flushAll();
          else c.invlpg(mfn);
        }
        return 0n;
      }
      case 16n:
        if (!this.owned.has(mfn) || this.getType(mfn, WRITABLE)) return E.INVAL;
        this.m.memory.write(mfn * PAGE, new Uint8Array(4096));
        this.putType(mfn);
        return 0n;
      case 17n:
        if (!this.owned.has(mfn) || !this.owned.has(arg2) || this.getType(mfn, WRITABLE)) return E.INVAL;
        this.m.memory.write(mfn * PAGE, this.m.memory.read(arg2 * PAGE, 4096));
        this.putType(mfn);
        return 0n;
      default:
        return E.NOSYS;
    }
  }

  private memoryOp(cpu: X86Cpu, cmd: bigint, arg: bigint): bigint {
    switch (cmd) {
      case 2n: return this.ramFrames;
      case 3n: case 4n: return BigInt(this.owned.size);
      case 1n: case 6n: {
        let list: bigint, n: bigint;
        try {
          list = this.get64(cpu, arg);
          n = this.get64(cpu, arg + 8n);
        } catch {
          return 0n;
        }
        if (n > 0x3ff_ffffn) return 0n;
        let done = 0n;
        for (; done < n; done++) {
          const frame = this.get64(cpu, list + 8n * done);
          if (cmd === 1n) {
            if (!this.owned.has(frame)) break;
            this.owned.delete(frame);
            this.setM2p(frame, ~0n);
            // guest_remove_page drops the allocation reference; the frame goes when unused.
            if ((this.types.get(frame)?.count ?? 0) > 0) this.dying.add(frame);
            else this.release(frame);
          } else {
            const mfn = this.free.splice(this.random(this.free.length), 1)[0]!;
            this.flushAll(); // no TLB may still map a frame that changes hands (Xen: tlbflush_timestamp)
            if (this.opts.broken !== "no-scrub") this.m.memory.write(mfn * PAGE, new Uint8Array(4096)); // scrubbed
            else this.m.memory.write64(mfn * PAGE + 8n, 0xdeadn); // what a previous owner left
            this.owned.add(mfn);
            this.setM2p(mfn, frame);
            this.put64(cpu, list + 8n * done, mfn);
          }
        }
        return done;
      }
      default:
        return E.NOSYS;
    }
  }

  private multicall(cpu: X86Cpu, list: bigint, n: bigint): bigint {
    for (let i = 0n; i < n; i++) {
      const e = list + 64n * i;
      let op: bigint;
      const args: bigint[] = [];
      try {
        op = this.get64(cpu, e);
        for (let k = 0n; k < 5n; k++) args.push(this.get64(cpu, e + 16n + 8n * k));
      } catch {
        return E.FAULT;
      }
      let r: bigint;
      try {
        r = this.call(cpu, op, args);
      } catch (x) {
        if (!(x instanceof Fault)) throw x;
        r = E.FAULT;
      }
      this.put64(cpu, e + 8n, r);
    }
    return 0n;
  }

  private vcpuOp(cpu: X86Cpu, cmd: bigint, id: bigint, arg: bigint): bigint {
    if (id >= BigInt(this.m.cpus.length)) return E.NOENT;
    const i = Number(id);
    switch (cmd) {
      case 0n: {
        const r = (off: bigint) => this.get64(cpu, arg + off);
        const ctx = { rip: r(648n), rsp: r(672n), rdi: r(632n), rsi: r(624n), rflags: r(664n), cr3: r(5008n) };
        if (this.initialised[i]) return E.EXIST;
        const rc = this.getType(ctx.cr3 >> 12n, 4);
        if (rc) return rc;
        this.base[i] = ctx.cr3 >> 12n;
        this.initialised[i] = true;
        this.start(this.m.cpus[i]!, ctx);
        return 0n;
      }
      case 1n:
        if (!this.initialised[i]) return E.INVAL;
        this.up[i] = true;
        return 0n;
      case 2n:
        this.up[i] = false;
        return 0n;
      case 3n:
        return this.up[i] ? 1n : 0n;
      default:
        return E.NOSYS;
    }
  }
}
