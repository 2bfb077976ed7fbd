// SPDX-License-Identifier: MIT
//
// One HVM domain on the host: its common Domain (frames, vCPUs), its EPT,
// its HVM vCPUs, its own COM1 and debug-exit port (each domain has the
// bare machine's devices), its hypercalls, and what the hypercalls need of
// it (HvmHypercallHost): its vCPUs, and its guest-physical memory through
// its EPT. Several domains run side by side under `--domains`; domain 0,
// when there is one, is privileged (Xen's control domain: the sharing
// memop may name other domains).

import type { X86Cpu } from "../../../emulator/machine/cpu/x86-cpu.ts";
import type { StepLabel } from "../../../emulator/machine/core/exits.ts";
import type { IoBus } from "../../../emulator/machine/platform/x86/devices.ts";
import type { Domain } from "../../common/domain.ts";
import type { Ept } from "./ept.ts";
import type { HvmVcpu } from "./vcpu.ts";
import { HvmHypercalls, type HvmHypercallHost } from "./hypercall.ts";

/** What a domain asks of the host around it. */
export interface HvmDomainHost {
  readonly cpus: readonly X86Cpu[];
  pcpuOf(a: HvmVcpu): number;
  kickOff(a: HvmVcpu): void;
  unpaused(a: HvmVcpu): void;
  count(what: string): void;
  /** memory_op from a vCPU of this domain (only XENMEM_sharing_op is offered): the value for RAX. */
  memoryOp?(a: HvmVcpu, cmd: bigint, arg: bigint): Generator<StepLabel, bigint, void>;
}

export class HvmDomain implements HvmHypercallHost {
  readonly hypercalls: HvmHypercalls;
  /** What it wrote to its debug-exit port, once it has: the domain is then over. */
  exitCode: bigint | undefined;

  constructor(
    private readonly host: HvmDomainHost,
    readonly domain: Domain,
    readonly ept: Ept,
    /** Its vCPUs, vCPU k at index k. */
    readonly vcpuList: readonly HvmVcpu[],
    /** Its COM1 and debug-exit port. */
    readonly io: IoBus,
    /** Domain 0: may name other domains in XENMEM_sharing_op (XSM_DM_PRIV). */
    readonly privileged: boolean,
    /** The machine memory its EPT maps into. */
    private readonly memory: { read(pa: bigint, n: number): Uint8Array; write(pa: bigint, bytes: Uint8Array): void },
    /** The CPUs' decoded instructions are stale after a write of guest code. */
    private readonly codeChanged: () => void,
  ) {
    this.hypercalls = new HvmHypercalls(this);
  }

  get cpus(): readonly X86Cpu[] {
    return this.host.cpus;
  }

  get name(): string {
    return `d${this.domain.domid}`;
  }

  pcpuOf(a: HvmVcpu): number {
    return this.host.pcpuOf(a);
  }

  kickOff(a: HvmVcpu): void {
    this.host.kickOff(a);
  }

  unpaused(a: HvmVcpu): void {
    this.host.unpaused(a);
  }

  count(what: string): void {
    this.host.count(what);
  }

  memoryOp(a: HvmVcpu, cmd: bigint, arg: bigint): Generator<StepLabel, bigint, void> | undefined {
    return this.host.memoryOp?.(a, cmd, arg);
  }

  /** The machine frame behind gfn, or undefined when it is not this domain's RAM. */
  mfnOf(gfn: bigint): number | undefined {
    return gfn >= 0n && gfn < BigInt(this.domain.maxPages) ? this.ept.lookup(Number(gfn)) : undefined;
  }

  /**
   * The machine addresses of [gpa, gpa + length), page by page, or undefined
   * when any byte is not the domain's RAM (or, for a write, is a read-only or
   * shared page: those the hypervisor never writes behind the p2m's back).
   */
  private pieces(gpa: bigint, length: number, write: boolean): { pa: bigint; n: number }[] | undefined {
    const out: { pa: bigint; n: number }[] = [];
    for (let done = 0; done < length; ) {
      const at = gpa + BigInt(done);
      const gfn = at >> 12n;
      const mfn = this.mfnOf(gfn);
      if (mfn === undefined || (write && !this.ept.writable(Number(gfn)))) return undefined;
      const n = Math.min(4096 - Number(at & 0xfffn), length - done);
      out.push({ pa: (BigInt(mfn) << 12n) | (at & 0xfffn), n });
      done += n;
    }
    return out;
  }

  /** hvm_copy_from_guest_phys. */
  readGuestPhys(gpa: bigint, length: number): Uint8Array | undefined {
    const pieces = this.pieces(gpa, length, false);
    if (!pieces) return undefined;
    const out = new Uint8Array(length);
    let at = 0;
    for (const p of pieces) {
      out.set(this.memory.read(p.pa, p.n), at);
      at += p.n;
    }
    return out;
  }

  /**
   * hvm_copy_to_guest_phys; the CPUs' decoded instructions are dropped (the
   * hypercall page is code). A shared page is refused rather than written:
   * Xen unshares it first (P2M_UNSHARE), which the ABI layer's synchronous
   * calls cannot do in steps; the guest sees the call fail.
   */
  writeGuestPhys(gpa: bigint, bytes: Uint8Array): boolean {
    const pieces = this.pieces(gpa, bytes.length, true);
    if (!pieces) return false;
    let at = 0;
    for (const p of pieces) {
      this.memory.write(p.pa, bytes.subarray(at, at + p.n));
      at += p.n;
    }
    this.codeChanged();
    return true;
  }
}
