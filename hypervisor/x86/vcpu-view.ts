// SPDX-License-Identifier: MIT
//
// The guests' vCPUs as the debugger sees them (`shootdown repl|gdb IMAGE
// --hv`): gdb threads and the REPL's `cpu N`. A vCPU that runs on a pCPU is
// read from that pCPU (the debugger does that itself); one that is off every
// pCPU is read from what the hypervisor keeps of it: the registers saved
// when it left its last pCPU, or, if it has never run, the context
// VCPUOP_initialise (or the domain builder) gave it, which load() in
// pv-host.ts puts on a pCPU when it first runs. The list, the names and
// the numbering are common/vcpu-list.ts's, shared with the Arm hypervisor.

import type { X86RegisterFile, X86Registers, X86State } from "../../emulator/machine/cpu/x86-cpu.ts";
import { GPR_NAMES } from "../../emulator/machine/cpu/x86-cpu.ts";
import type { VcpuAccess, VcpuInfo } from "../../emulator/machine/core/platform.ts";
import type { VCpu, VCpuContext } from "../common/domain.ts";
import { allVcpus, vcpuInfos, type SchedulerState } from "../common/vcpu-list.ts";

/** What pv-host.ts keeps of a vCPU while it is off every pCPU. */
export interface SavedVcpu {
  state: X86State;
  registers: Partial<X86Registers>;
}

/** The registers load() gives a vCPU that starts from its context, besides the context's own. */
export interface PvStart {
  cr0: bigint;
  cr4: bigint;
  efer: bigint;
  gdtrBase: bigint;
  gdtrLimit: number;
}

/** What the view reads of the hypervisor's scheduler (pv-host.ts). */
export interface PvSchedulerState extends SchedulerState {
  readonly saved: ReadonlyMap<VCpu, SavedVcpu>;
  readonly start: PvStart;
}

/** The IA32_PAT value at reset (SDM Vol.3A 12.12.4), which a vCPU starts with. */
const PAT_RESET = 0x0007_0406_0007_0406n;

export class PvVcpuView implements VcpuAccess<X86RegisterFile> {
  constructor(private readonly s: PvSchedulerState) {}

  private all(): VCpu[] {
    return allVcpus(this.s);
  }

  list(): VcpuInfo[] {
    return vcpuInfos(this.s);
  }

  saved(k: number): X86RegisterFile | undefined {
    const v = this.all()[k];
    if (!v || this.s.pcpuOf(v) !== undefined) return undefined;
    const saved = this.s.saved.get(v);
    if (saved) return { state: { ...saved.state }, registers: savedRegisters(saved) };
    return v.context ? this.fromContext(v.context) : undefined;
  }

  setSaved(k: number, file: X86RegisterFile): boolean {
    const v = this.all()[k];
    if (!v || this.s.pcpuOf(v) !== undefined) return false;
    const saved = this.s.saved.get(v);
    if (saved) {
      saved.state = { ...file.state };
      const { rflags: _rflags, ...paging } = file.registers;
      saved.registers = paging;
      return true;
    }
    if (!v.context) return false;
    // A vCPU that has not run yet keeps only its context (VCPUOP_initialise's fields): the rest cannot change.
    const { state, registers } = file;
    const context: VCpuContext = { rip: state.rip, rsp: state.rsp, rdi: state.rdi, rsi: state.rsi, rflags: state.rflags, cr3: registers.cr3 };
    const would = this.fromContext(context);
    const same = (Object.keys(would.state) as (keyof X86State)[]).every((n) => would.state[n] === state[n])
      && (Object.keys(would.registers) as (keyof X86Registers)[]).every((n) => would.registers[n] === registers[n]);
    if (!same) return false;
    v.context = context;
    return true;
  }

  /** What load() puts on a pCPU for a vCPU that starts from its context; the registers it leaves alone read as 0. */
  private fromContext(c: VCpuContext): X86RegisterFile {
    const st = this.s.start;
    const state = Object.fromEntries(GPR_NAMES.map((n) => [n, 0n])) as Record<(typeof GPR_NAMES)[number], bigint>;
    const rflags = c.rflags | 2n;
    return {
      state: {
        ...state, rip: c.rip, rsp: c.rsp, rdi: c.rdi, rsi: c.rsi, rflags, cpl: 0, cs: 0x08, ss: 0x10,
        fsBase: 0n, gsBase: 0n, kernelGsBase: 0n, gdtrBase: st.gdtrBase, gdtrLimit: st.gdtrLimit, idtrBase: 0n, idtrLimit: 0,
        tr: 0, tssBase: 0n, star: 0n, lstar: 0n, cstar: 0n, fmask: 0n, apicBase: 0n,
      },
      registers: { cr0: st.cr0, cr2: 0n, cr3: c.cr3, cr4: st.cr4, efer: st.efer, rflags, pat: PAT_RESET, pkru: 0n },
    };
  }
}

/** The saved paging registers as a full set (RFLAGS is kept with the state). */
function savedRegisters(saved: SavedVcpu): X86Registers {
  const r = saved.registers;
  return {
    cr0: r.cr0 ?? 0n, cr2: r.cr2 ?? 0n, cr3: r.cr3 ?? 0n, cr4: r.cr4 ?? 0n, efer: r.efer ?? 0n,
    rflags: saved.state.rflags, pat: r.pat ?? PAT_RESET, pkru: r.pkru ?? 0n,
  };
}
