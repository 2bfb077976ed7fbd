// SPDX-License-Identifier: MIT
//
// An x86-64 vCPU that is off every pCPU, as the debugger reads it: its
// registers are those the hypervisor keeps (Platform.vcpus), and its memory
// is translated through its own CR3, never through the tables of whatever
// runs on a pCPU now. The walk is the hardware's own (the side-effect-free
// peek and walkMemory of a pCPU the view borrows, X86Cpu.lookThrough), from
// the tables in memory only: the vCPU's TLB entries are not on that pCPU.
// An HVM vCPU's file carries the VPID and EPTP it runs with (vmx), so its
// guest-physical addresses go through its domain's EPT as on its pCPU.

import type { Access, X86Cpu, X86MemoryWalk, X86RegisterFile, X86Registers, X86State, X86Translation, X86VmxContext } from "../machine/cpu/x86-cpu.ts";

/**
 * What the views of both architectures hold: the registers kept of the
 * vCPU (F), the pCPU they borrow for its translations (C), and how to
 * replace what is kept.
 */
export abstract class OffCpuView<F extends { state: object }, C> {
  constructor(
    protected readonly file: F,
    protected readonly borrowed: C,
    protected readonly write: (file: F) => boolean,
  ) {}

  get state(): F["state"] {
    return this.file.state;
  }
}

export class OffCpuVcpu extends OffCpuView<X86RegisterFile, X86Cpu> {
  get registers(): X86Registers {
    return this.file.registers;
  }

  /** The VPID and EPTP it translates with: as load() would give its pCPU (0 and 0 for a vCPU without EPT). */
  get vmx(): X86VmxContext {
    return this.file.vmx ?? { vpid: 0, eptp: 0n };
  }

  /** The registers that decide a translation (SDM Vol.3A 4.1.1: CR0.PG/WP, CR3, CR4, EFER, IA32_PAT, PKRU). */
  private paging(): Partial<X86Registers> {
    const r = this.file.registers;
    return { cr0: r.cr0, cr3: r.cr3, cr4: r.cr4, efer: r.efer, pat: r.pat, pkru: r.pkru };
  }

  /** As X86Cpu.peek, always from the tables in memory. */
  peek(va: bigint, access: Access, _opts: { memoryOnly?: boolean } = {}): X86Translation {
    return this.borrowed.lookThrough(this.paging(), () => this.borrowed.peek(va, access, { memoryOnly: true }), this.file.vmx);
  }

  walkMemory(va: bigint): X86MemoryWalk {
    return this.borrowed.lookThrough(this.paging(), () => this.borrowed.walkMemory(va), this.file.vmx);
  }

  /** Writes the saved registers; false when the hypervisor cannot keep the change. */
  setState(update: Partial<X86State>): boolean {
    const state = { ...this.file.state, ...update };
    return this.write({ ...this.file, state, registers: { ...this.file.registers, rflags: state.rflags } });
  }

  setRegisters(update: Partial<X86Registers>): boolean {
    const registers = { ...this.file.registers, ...update };
    const state = update.rflags === undefined ? this.file.state : { ...this.file.state, rflags: update.rflags };
    return this.write({ ...this.file, state, registers });
  }
}
