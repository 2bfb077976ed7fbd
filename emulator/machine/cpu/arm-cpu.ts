// SPDX-License-Identifier: MIT
//
// One AArch64 CPU of a Machine: its MMU-related system registers, translation
// for the EL1&0 regime (stage 1, and stage 2 under it), the AT and TLBI
// instructions, and its counters.

import { ShootdownError } from "../core/errors.ts";
import { budgetArg, ViewCache, type HwExports } from "../core/wasm.ts";
import type { Layout } from "../core/layout.ts";
import { readCounters, type Counters } from "../core/counters.ts";
import { lookThroughCpu } from "./look-through.ts";

/** The AArch64 system registers the machine models, by name. */
export interface ArmRegisters {
  sctlr_el1: bigint;
  tcr_el1: bigint;
  ttbr0_el1: bigint;
  ttbr1_el1: bigint;
  mair_el1: bigint;
  par_el1: bigint;
  hcr_el2: bigint;
  vttbr_el2: bigint;
  vtcr_el2: bigint;
  csselr_el1: bigint;
  /** PSTATE, of which the MMU reads PAN (bit 22). */
  pstate: bigint;
}

const REGISTER_INDEX: Record<keyof ArmRegisters, keyof Layout> = {
  sctlr_el1: "ARM_SCTLR_EL1",
  tcr_el1: "ARM_TCR_EL1",
  ttbr0_el1: "ARM_TTBR0_EL1",
  ttbr1_el1: "ARM_TTBR1_EL1",
  mair_el1: "ARM_MAIR_EL1",
  par_el1: "ARM_PAR_EL1",
  hcr_el2: "ARM_HCR_EL2",
  vttbr_el2: "ARM_VTTBR_EL2",
  vtcr_el2: "ARM_VTCR_EL2",
  csselr_el1: "ARM_CSSELR_EL1",
  pstate: "ARM_PSTATE",
};

export type ArmAccessOp = "read" | "write" | "fetch";
/** EL0 ("user") or EL1 ("kernel"). */
export type ArmPrivilege = "user" | "kernel";

export interface ArmAccess {
  op: ArmAccessOp;
  priv: ArmPrivilege;
}

export type ArmFaultType = "address_size" | "translation" | "access_flag" | "permission" | "external_walk";
const FAULT_TYPES: (ArmFaultType | undefined)[] = ["address_size", "translation", "access_flag", "permission", undefined, "external_walk"];

export interface ArmFault {
  type: ArmFaultType;
  level: number;
  /** Raised by stage 2. */
  stage2: boolean;
  /** A stage-2 fault on a stage-1 table walk. */
  s1ptw: boolean;
  /** The 6-bit fault status code (ESR_ELx.DFSC, PAR_EL1.FST). */
  fsc: number;
  va: bigint;
  /** The IPA of a stage-2 fault. */
  ipa: bigint;
}

export interface ArmMapping {
  ok: true;
  pa: bigint;
  pageSize: number;
  /** The memory attribute in MAIR encoding (combined with stage 2 when nested). */
  attr: number;
  sh: number;
  global: boolean;
}

export type ArmTranslation = ArmMapping | { ok: false; fault: ArmFault };

/** TLBI operations, local to the issuing CPU. */
const TLBI_OPS = ["VAE1", "VALE1", "VAAE1", "VAALE1", "ASIDE1", "VMALLE1", "VMALLS12E1", "IPAS2E1", "IPAS2LE1", "ALLE1", "ALLE2"] as const;
type TlbiLocalOp = (typeof TLBI_OPS)[number];
/** A TLBI operation as the instruction names it: the IS forms broadcast to every CPU. */
export type TlbiOp = TlbiLocalOp | `${TlbiLocalOp}IS`;
const TLBI_IS = 0x100;

/** DC operations. */
export type DcOp = "IVAC" | "CVAC" | "CIVAC" | "ISW" | "CSW" | "CISW" | "ZVA";
const DC_OPS: DcOp[] = ["IVAC", "CVAC", "CIVAC", "ISW", "CSW", "CISW", "ZVA"];

function checkSize(va: bigint, size: number): void {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new ShootdownError(`access size must be 1, 2, 4 or 8, not ${size}`);
  if (va % BigInt(size) !== 0n) throw new ShootdownError(`a ${size}-byte access must be aligned (0x${va.toString(16)})`);
}

/** AT operations. */
export type AtOp = "S1E1R" | "S1E1W" | "S1E0R" | "S1E0W" | "S12E1R" | "S12E1W" | "S12E0R" | "S12E0W";
const AT_WRITE = 1;
const AT_EL0 = 2;
const AT_STAGE12 = 4;

const ACC_WRITE = 1;
const ACC_FETCH = 2;
const ACC_EL0 = 4;
const MODE_PEEK = 1;
const MODE_NO_CACHE = 2;

function u64(name: string, v: bigint): bigint {
  if (typeof v !== "bigint" || v < 0n || v >= 1n << 64n) throw new ShootdownError(`${name} must be a 64-bit unsigned bigint`);
  return v;
}

export function armAccessKind(access: ArmAccess): number {
  let kind = 0;
  if (access.op === "write") kind |= ACC_WRITE;
  else if (access.op === "fetch") kind |= ACC_FETCH;
  else if (access.op !== "read") throw new ShootdownError(`unknown access op '${String(access.op)}' (read, write or fetch)`);
  if (access.priv === "user") kind |= ACC_EL0;
  else if (access.priv !== "kernel") throw new ShootdownError(`unknown privilege '${String(access.priv)}' (user or kernel)`);
  return kind;
}

/** General-purpose registers X0 … X30, as ArmState.x holds them. */
export const ARM_GPR_COUNT = 31;

/**
 * The execution state of an A64 CPU, with the MMU's registers (ArmRegisters,
 * whose PAN-only pstate gives way to the full one). `pstate` is in SPSR format: NZCV in
 * bits 31:28, PAN 22, IL 20, D A I F in 9:6, M[3:0] = EL << 2 | SPSel.
 */
export interface ArmState extends Omit<ArmRegisters, "pstate"> {
  /** X0 … X30. */
  x: bigint[];
  sp_el0: bigint;
  sp_el1: bigint;
  pc: bigint;
  pstate: bigint;
  elr_el1: bigint;
  spsr_el1: bigint;
  esr_el1: bigint;
  far_el1: bigint;
  vbar_el1: bigint;
  /** EL2 state: what a trap to EL2 leaves for the hypervisor. */
  esr_el2: bigint;
  far_el2: bigint;
  hpfar_el2: bigint;
  elr_el2: bigint;
  spsr_el2: bigint;
  vbar_el2: bigint;
  tpidr_el0: bigint;
  tpidrro_el0: bigint;
  tpidr_el1: bigint;
  contextidr_el1: bigint;
  mpidr_el1: bigint;
}

type StateU64 = Exclude<keyof ArmState, "x" | keyof ArmRegisters>;
const STATE_OFFSETS: [StateU64, keyof Layout][] = [
  ["sp_el0", "A64_SP_EL0"], ["sp_el1", "A64_SP_EL1"], ["pc", "A64_PC"], ["elr_el1", "A64_ELR_EL1"],
  ["spsr_el1", "A64_SPSR_EL1"], ["esr_el1", "A64_ESR_EL1"], ["far_el1", "A64_FAR_EL1"], ["vbar_el1", "A64_VBAR_EL1"],
  ["esr_el2", "A64_ESR_EL2"], ["far_el2", "A64_FAR_EL2"], ["hpfar_el2", "A64_HPFAR_EL2"], ["elr_el2", "A64_ELR_EL2"],
  ["spsr_el2", "A64_SPSR_EL2"], ["vbar_el2", "A64_VBAR_EL2"], ["mpidr_el1", "A64_MPIDR"],
];
const PLAIN_OFFSETS: [StateU64, keyof Layout][] = [
  ["tpidr_el0", "PLAIN_TPIDR_EL0"], ["tpidrro_el0", "PLAIN_TPIDRRO_EL0"], ["tpidr_el1", "PLAIN_TPIDR_EL1"],
  ["contextidr_el1", "PLAIN_CONTEXTIDR_EL1"],
];
const MMU_REGISTERS = ["sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "par_el1", "hcr_el2", "vttbr_el2", "vtcr_el2", "csselr_el1"] as const;

/** A vCPU's state while it is off every CPU (ArmCpu.saveContext). */
export interface ArmVcpuContext {
  state: ArmState;
  /** The software-only registers (A64_PLAIN). */
  plain: Uint8Array;
  /** The GIC context: redistributor SGI/PPI state, CPU interface, generic timer. */
  gic: Uint8Array;
  /** Asleep in WFI/WFE (A64_WAITING), and the event register. */
  waiting: number;
  event: number;
}

/** Why ArmCpu.run returned, and what the host needs to act on it. */
export type ArmExit =
  /** The instruction budget is used up. */
  | { reason: "budget" }
  /** WFI or WFE with nothing to wake the CPU; PC is past it. */
  | { reason: "wfi" }
  /** HVC / SMC at `pc`; PC is past it, X0–X7 hold the call. */
  | { reason: "hvc"; imm: number; pc: bigint }
  | { reason: "smc"; imm: number; pc: bigint }
  /**
   * A single-register load or store at `pc` to a physical address that is
   * neither RAM nor GIC; PC is past it. A write's value is `value`; for a
   * read, call completeMmioRead(value) before running again.
   */
  | { reason: "mmio"; address: bigint; size: 1 | 2 | 4 | 8; write: boolean; value: bigint; register: number; pc: bigint }
  /**
   * HCR_EL2 routes this to EL2, which is the hypervisor's: a TVM register
   * write, a TSW set/way operation, a TWI WFI, a stage-2 abort (with the IPA;
   * ESR_EL2, FAR_EL2, HPFAR_EL2 are set), or an SGI generated with IMO or
   * FMO set. PC is at the instruction.
   */
  | { reason: "trap"; kind: "sysreg" | "set-way" | "wfi" | "abort"; esr: bigint; pc: bigint; ipa?: bigint }
  /** A pair, exclusive or atomic access (or a walk) outside RAM: the CPU is stopped. */
  | { reason: "bus-error"; pc: bigint; address: bigint }
  /**
   * A synchronous exception at the very vector it is taken to (VBAR_EL1
   * unset, or a vector that faults): the CPU is stopped. ESR_EL1 and ELR_EL1
   * still describe the exception before the loop.
   */
  | { reason: "exception-loop"; pc: bigint; esr: bigint; vector: bigint }
  /** PC reached a breakpoint; the instruction there has not run. */
  | { reason: "breakpoint"; pc: bigint }
  /** The CPU is powered off. */
  | { reason: "off" }
  /** The CPU was stopped by a bus error or an exception loop and does nothing. */
  | { reason: "stopped" }
  /** Not from the CPU: the hypervisor parked it (Platform.park) and it ran nothing. */
  | { reason: "parked" };

/** Exit reasons by their hardware code, for the counters. */
const EXIT_NAMES: Record<string, keyof Layout> = {
  budget: "EXIT_BUDGET", wfi: "EXIT_WFI", hvc: "EXIT_HVC", smc: "EXIT_SMC", mmio: "EXIT_MMIO", trap: "EXIT_TRAP",
  "bus-error": "EXIT_BUS_ERROR", "exception-loop": "EXIT_EXCEPTION_LOOP", breakpoint: "EXIT_BREAKPOINT",
  off: "EXIT_OFF", stopped: "EXIT_STOPPED",
};

export class ArmCpu {
  constructor(
    private readonly hw: HwExports,
    private readonly layout: Layout,
    readonly index: number,
  ) {
    this.block = new ViewCache(hw, () => hw.cpuBlock(index), layout.CPU_SIZE);
  }

  /** The CPU block's view, made again only when linear memory has grown (a new buffer): the engine reads it at every decision. */

  private view(): DataView {
    return this.block.get();
  }

  private readonly block: ViewCache;

  /** PC read straight from the CPU block. */
  get pc(): bigint {
    return this.view().getBigUint64(this.layout.A64_PC, true);
  }

  get registers(): ArmRegisters {
    const out = {} as ArmRegisters;
    for (const [name, index] of Object.entries(REGISTER_INDEX) as [keyof ArmRegisters, keyof Layout][]) {
      // WebAssembly hands i64 results over as signed bigints.
      out[name] = BigInt.asUintN(64, this.hw.armGetRegister(this.index, this.layout[index]));
    }
    return out;
  }

  /** Loads registers as they are (MSR has no invalidation side effects on AArch64). */
  setRegisters(regs: Partial<ArmRegisters>): void {
    for (const [name, value] of Object.entries(regs) as [keyof ArmRegisters, bigint | undefined][]) {
      if (value === undefined) continue;
      const index = REGISTER_INDEX[name];
      if (index === undefined) throw new ShootdownError(`unknown AArch64 register '${name}'`);
      this.hw.armSetRegister(this.index, this.layout[index], u64(name, value));
    }
  }

  /** Translates va with every side effect the hardware has (EL1&0 regime). */
  translate(va: bigint, access: ArmAccess): ArmTranslation {
    return this.result(this.hw.armTranslateVa(this.index, u64("va", va), armAccessKind(access)), va);
  }

  /** The side-effect-free twin of translate; memoryOnly ignores the TLBs. */
  peek(va: bigint, access: ArmAccess, opts: { memoryOnly?: boolean } = {}): ArmTranslation {
    const mode = MODE_PEEK | (opts.memoryOnly ? MODE_NO_CACHE : 0);
    return this.result(this.hw.armTranslateMode(this.index, u64("va", va), armAccessKind(access), mode), va);
  }

  /**
   * Runs fn (peeks with memoryOnly) with this CPU's translation registers
   * set to regs, then puts the CPU back as it was (look-through.ts): the
   * debugger translates a vCPU that is off every pCPU, through its own
   * stage 1 and its domain's stage 2, with this CPU's walker. A register
   * write starts a new micro-TLB epoch, which the restored block takes
   * back; the micro-TLB is not architectural, and neither is a miss in it.
   */
  lookThrough<T>(regs: Partial<ArmRegisters>, fn: () => T): T {
    return lookThroughCpu(this.hw, this.index, this.layout.CPU_SIZE, () => this.setRegisters(regs), fn, () => this.hw.a64RegistersChanged(this.index));
  }

  /**
   * AT: translates without using or filling the TLB (the walk still sets AF
   * and dirty state). Returns PAR_EL1 (also written to the register) and the
   * translation it describes, with the full PA.
   */
  at(op: AtOp, va: bigint): { par: bigint; translation: ArmTranslation } {
    const flags: Record<AtOp, number> = {
      S1E1R: 0, S1E1W: AT_WRITE, S1E0R: AT_EL0, S1E0W: AT_EL0 | AT_WRITE,
      S12E1R: AT_STAGE12, S12E1W: AT_STAGE12 | AT_WRITE, S12E0R: AT_STAGE12 | AT_EL0, S12E0W: AT_STAGE12 | AT_EL0 | AT_WRITE,
    };
    const f = flags[op];
    if (f === undefined) throw new ShootdownError(`unknown AT operation '${op}'`);
    const par = BigInt.asUintN(64, this.hw.armAtOp(this.index, u64("va", va), f));
    return { par, translation: this.result((par & 1n) === 1n ? 1 : 0, va) };
  }

  /**
   * TLBI <op>[IS], Xt. The IS forms reach every CPU of the machine. Xt is as
   * the instruction takes it: VA[55:12] in bits 43:0 and the ASID in 63:48, or
   * IPA[51:12] in bits 39:0.
   */
  tlbi(op: TlbiOp, xt = 0n): void {
    const broadcast = op.endsWith("IS");
    const code = TLBI_OPS.indexOf((broadcast ? op.slice(0, -2) : op) as TlbiLocalOp);
    if (code < 0) throw new ShootdownError(`unknown TLBI operation '${op}' (operations: ${TLBI_OPS.join(", ")}, each also with IS)`);
    this.hw.armTlbiOp(this.index, code | (broadcast ? TLBI_IS : 0), u64("xt", xt));
  }

  /**
   * A load of 1, 2, 4 or 8 bytes (naturally aligned) as the CPU makes it:
   * through the MMU, then the data caches when the memory is cacheable
   * (SCTLR_EL1.M and C, a cacheable MAIR type) or straight to RAM.
   */
  load(va: bigint, size: 1 | 2 | 4 | 8, priv: ArmPrivilege = "kernel"): { ok: true; value: bigint } | { ok: false; fault: ArmFault } {
    checkSize(va, size);
    const status = this.hw.armAccess(this.index, u64("va", va), size, armAccessKind({ op: "read", priv }), 0n);
    if (status !== 0) return this.failure(va);
    return { ok: true, value: BigInt.asUintN(64, this.hw.armLoadedValue()) };
  }

  /** A store, as load() describes. */
  store(va: bigint, size: 1 | 2 | 4 | 8, value: bigint, priv: ArmPrivilege = "kernel"): { ok: true } | { ok: false; fault: ArmFault } {
    checkSize(va, size);
    const status = this.hw.armAccess(this.index, u64("va", va), size, armAccessKind({ op: "write", priv }), u64("value", value));
    return status === 0 ? { ok: true } : this.failure(va);
  }

  /**
   * DC <op>, Xt. By address (IVAC, CVAC, CIVAC, ZVA) Xt is a VA; by set/way
   * (ISW, CSW, CISW) it is the set/way/level operand the instruction takes.
   */
  dc(op: DcOp, xt: bigint, priv: ArmPrivilege = "kernel"): { ok: true } | { ok: false; fault: ArmFault } {
    const code = DC_OPS.indexOf(op);
    if (code < 0) throw new ShootdownError(`unknown DC operation '${op}'`);
    const status = this.hw.armDcOp(this.index, code, u64("xt", xt), priv === "user" ? 1 : 0);
    return status === 0 ? { ok: true } : this.failure(xt);
  }

  /** IC IALLU(IS): instruction caches are not modelled; counted. */
  icInvalidateAll(): void {
    this.hw.armIcOp(this.index);
  }

  /** CLIDR_EL1 and CCSIDR_EL1 (for the cache CSSELR_EL1 selects), as guest code reads them to walk the cache by set/way. */
  cacheIdRegisters(): { clidr: bigint; ccsidr: bigint } {
    return {
      clidr: BigInt.asUintN(64, this.hw.armCacheIdRegister(this.index, 0)),
      ccsidr: BigInt.asUintN(64, this.hw.armCacheIdRegister(this.index, 1)),
    };
  }

  // ── Execution ──────────────────────────────────────────────────────────────

  /** The interpreter's registers. */
  get state(): ArmState {
    const v = this.view();
    const L = this.layout;
    const out = { x: [] } as unknown as ArmState;
    for (let i = 0; i < ARM_GPR_COUNT; i++) out.x.push(v.getBigUint64(L.A64_X + 8 * i, true));
    out.pstate = v.getBigUint64(L.A64_PSTATE, true);
    for (const [name, off] of STATE_OFFSETS) out[name] = v.getBigUint64(L[off], true);
    for (const [name, index] of PLAIN_OFFSETS) out[name] = v.getBigUint64(L.A64_PLAIN + 8 * L[index], true);
    const regs = this.registers;
    for (const name of MMU_REGISTERS) out[name] = regs[name];
    return out;
  }

  /** Loads registers as they are (as a loader, a debugger or the hypervisor does). */
  setState(state: Partial<ArmState>): void {
    for (const key of Object.keys(state)) {
      if (key !== "x" && key !== "pstate" && !STATE_OFFSETS.some(([n]) => n === key) && !PLAIN_OFFSETS.some(([n]) => n === key)
        && !(MMU_REGISTERS as readonly string[]).includes(key)) {
        throw new ShootdownError(`unknown AArch64 state field '${key}'`);
      }
      // Every value is checked before any is written, so a bad one changes nothing.
      const value = (state as Record<string, unknown>)[key];
      if (key === "x") {
        if (!Array.isArray(value) || value.length > ARM_GPR_COUNT) throw new ShootdownError(`x must be an array of at most ${ARM_GPR_COUNT} registers`);
        value.forEach((r, i) => u64(`x${i}`, r as bigint));
      } else if (value !== undefined) u64(key, value as bigint);
    }
    const v = this.view();
    const L = this.layout;
    if (state.pstate !== undefined) {
      const m = state.pstate & 0x1fn;
      if (m !== 0n && m !== 4n && m !== 5n) throw new ShootdownError(`pstate.M must be EL0t (0), EL1t (4) or EL1h (5), not ${m}`);
    }
    state.x?.forEach((value, i) => v.setBigUint64(L.A64_X + 8 * i, value, true));
    if (state.pstate !== undefined) v.setBigUint64(L.A64_PSTATE, state.pstate, true);
    for (const [name, off] of STATE_OFFSETS) {
      const value = state[name];
      if (value !== undefined) v.setBigUint64(L[off], u64(name, value), true);
    }
    for (const [name, index] of PLAIN_OFFSETS) {
      const value = state[name];
      if (value !== undefined) v.setBigUint64(L.A64_PLAIN + 8 * L[index], u64(name, value), true);
    }
    const regs: Partial<ArmRegisters> = {};
    for (const name of MMU_REGISTERS) if (state[name] !== undefined) regs[name] = state[name];
    this.setRegisters(regs);
    this.hw.a64RegistersChanged(this.index);
  }

  /**
   * What a hypervisor switches when it moves a vCPU off this CPU (Xen's
   * ctxt_switch_from: the EL1 system registers, the vGIC CPU interface and
   * the virtual timer): the registers, the software-only registers, the
   * GIC context of this CPU (its redistributor's SGI/PPI state, its CPU
   * interface and its generic timer, one block in the hardware), and
   * whether it sleeps in WFI/WFE. The exclusive monitor is not kept: a
   * context switch clears it, as Xen's CLREX on the way out does.
   */
  saveContext(): ArmVcpuContext {
    const L = this.layout;
    const bytes = new Uint8Array(this.hw.memory.buffer);
    const plain = this.hw.cpuBlock(this.index) + L.A64_PLAIN;
    const gic = this.hw.gicBlock(this.index);
    const v = this.view();
    return {
      state: this.state,
      plain: bytes.slice(plain, plain + 8 * L.A64_PLAIN_COUNT),
      gic: bytes.slice(gic, gic + L.GIC_CPU_SIZE),
      waiting: v.getUint32(L.A64_WAITING, true),
      event: v.getUint32(L.A64_EVENT, true),
    };
  }

  /** Puts a context saveContext took (of this CPU or another) on this CPU (Xen's ctxt_switch_to). */
  loadContext(c: ArmVcpuContext): void {
    const L = this.layout;
    this.setState(c.state);
    const bytes = new Uint8Array(this.hw.memory.buffer);
    bytes.set(c.plain, this.hw.cpuBlock(this.index) + L.A64_PLAIN);
    bytes.set(c.gic, this.hw.gicBlock(this.index));
    const v = this.view();
    v.setUint32(L.A64_WAITING, c.waiting, true);
    v.setUint32(L.A64_EVENT, c.event, true);
    v.setBigUint64(L.A64_EXCL_PA, 0xffff_ffff_ffff_ffffn, true);
    this.hw.a64RegistersChanged(this.index);
  }

  /** Writes a register that holds only what software writes (AFSR0/1_EL1, AMAIR_EL1 …), as an MSR would. */
  writePlain(name: "afsr0_el1" | "afsr1_el1" | "amair_el1" | string, value: bigint): void {
    const index = ({ afsr0_el1: "PLAIN_AFSR0_EL1", afsr1_el1: "PLAIN_AFSR1_EL1", amair_el1: "PLAIN_AMAIR_EL1" } as Record<string, keyof Layout>)[name];
    if (index === undefined) throw new ShootdownError(`'${name}' is not a software-only AArch64 register`);
    this.view().setBigUint64(this.layout.A64_PLAIN + 8 * this.layout[index], u64(name, value), true);
  }

  /** This CPU's GIC context alone (a view into the hardware's block: the hypervisor borrows it to reach a vCPU's saved one). */
  gicContext(): Uint8Array {
    return new Uint8Array(this.hw.memory.buffer, this.hw.gicBlock(this.index), this.layout.GIC_CPU_SIZE);
  }

  /** Runs up to `budget` instructions (at least 1), until an exit. */
  run(budget: number | bigint): ArmExit {
    const n = budgetArg(budget);
    const reason = this.hw.a64Run(this.index, n);
    const v = this.view();
    const L = this.layout;
    const pc = v.getBigUint64(L.A64_EXIT_PC, true);
    const esr = v.getBigUint64(L.A64_EXIT_ESR, true);
    const address = v.getBigUint64(L.A64_EXIT_ADDRESS, true);
    switch (reason) {
      case L.EXIT_BUDGET: return { reason: "budget" };
      case L.EXIT_WFI: return { reason: "wfi" };
      case L.EXIT_HVC: return { reason: "hvc", imm: Number(v.getBigUint64(L.A64_EXIT_VALUE, true)), pc };
      case L.EXIT_SMC: return { reason: "smc", imm: Number(v.getBigUint64(L.A64_EXIT_VALUE, true)), pc };
      case L.EXIT_MMIO: {
        const detail = v.getUint32(L.A64_EXIT_DETAIL, true);
        const write = v.getUint32(L.A64_EXIT_WRITE, true) === 1;
        const size = v.getUint32(L.A64_EXIT_SIZE, true) as 1 | 2 | 4 | 8;
        const value = BigInt.asUintN(8 * size, v.getBigUint64(L.A64_EXIT_VALUE, true));
        return { reason: "mmio", address, size, write, value, register: write ? -1 : detail & 31, pc };
      }
      case L.EXIT_TRAP: {
        const kinds = { [L.TRAP_SYSREG]: "sysreg", [L.TRAP_SET_WAY]: "set-way", [L.TRAP_WFI]: "wfi", [L.TRAP_ABORT]: "abort" } as const;
        const kind = kinds[v.getUint32(L.A64_EXIT_DETAIL, true)] ?? "sysreg";
        return kind === "abort" ? { reason: "trap", kind, esr, pc, ipa: address } : { reason: "trap", kind, esr, pc };
      }
      case L.EXIT_BUS_ERROR: return { reason: "bus-error", pc, address };
      case L.EXIT_EXCEPTION_LOOP: return { reason: "exception-loop", pc, esr, vector: address };
      case L.EXIT_BREAKPOINT: return { reason: "breakpoint", pc };
      case L.EXIT_OFF: return { reason: "off" };
      default: return { reason: "stopped" };
    }
  }

  /** Completes the MMIO read run() exited for: the value goes to the load's register, extended as the load says. */
  completeMmioRead(value: bigint): void {
    if (this.hw.a64CompleteMmioRead(this.index, BigInt.asUintN(64, u64("value", value))) !== 0) {
      throw new ShootdownError("completeMmioRead: the CPU's last exit was not an MMIO read");
    }
  }

  /**
   * Powers the CPU on at `entry` (PSCI CPU_ON, or the boot CPU): EL1h, DAIF
   * masked, SCTLR_EL1 at reset (MMU and caches off), X0 = contextId, every
   * other register zero. TLBs and caches keep their contents.
   */
  powerOn(entry: bigint, contextId = 0n): void {
    this.hw.a64PowerOn(this.index, u64("entry", entry), u64("contextId", contextId));
  }

  powerOff(): void {
    this.hw.a64PowerOff(this.index);
  }

  /** The CPU's clock moves on to `cycles` (never back), as time passes while it sleeps. */
  skipTo(cycles: bigint): void {
    this.hw.a64SkipTo(this.index, u64("cycles", cycles));
  }

  /** Instructions retired so far (progress without the rest, for the run loop). */
  get instructions(): bigint {
    return this.view().getBigUint64(this.layout.A64_INSTRUCTIONS, true);
  }

  /** The same as a double, exact to 2^53 (a run's pieces count with it, making no bigint). */
  get instructionCount(): number {
    const v = this.view();
    const at = this.layout.A64_INSTRUCTIONS;
    return v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;
  }

  /** Is the CPU on and not stopped (progress read alone)? */
  get running(): boolean {
    return this.view().getUint32(this.layout.A64_OFF, true) === 0;
  }

  /** Is the CPU waiting in WFI or WFE (progress.waiting, read alone)? */
  get waiting(): boolean {
    return this.view().getUint32(this.layout.A64_WAITING, true) !== 0;
  }

  /** Instructions retired, modelled cycles, whether the CPU is off or stopped. */
  get progress(): { instructions: bigint; cycles: bigint; waiting: boolean; off: boolean; stopped: boolean } {
    const v = this.view();
    const L = this.layout;
    const off = v.getUint32(L.A64_OFF, true);
    return {
      instructions: v.getBigUint64(L.A64_INSTRUCTIONS, true),
      cycles: v.getBigUint64(L.A64_CYCLES, true),
      waiting: v.getUint32(L.A64_WAITING, true) !== 0,
      off: off === 1,
      stopped: off === 2,
    };
  }

  /** Synchronous exceptions taken by exception class (ESR_ELx.EC), and exits by reason. */
  get executionCounters(): { exceptionsByClass: Map<number, bigint>; exits: Record<ArmExit["reason"], bigint> } {
    const v = this.view();
    const L = this.layout;
    const exceptionsByClass = new Map<number, bigint>();
    for (let ec = 0; ec < 64; ec++) {
      const n = v.getBigUint64(L.A64_CNT_EC + 8 * ec, true);
      if (n !== 0n) exceptionsByClass.set(ec, n);
    }
    const exits = {} as Record<ArmExit["reason"], bigint>;
    for (const [name, code] of Object.entries(EXIT_NAMES)) {
      exits[name as ArmExit["reason"]] = v.getBigUint64(L.A64_CNT_EXIT + 8 * (L[code] & 15), true);
    }
    return { exceptionsByClass, exits };
  }

  /** Breakpoints at virtual addresses (at most A64_BREAKPOINT_MAX). */
  setBreakpoints(pcs: bigint[]): void {
    const L = this.layout;
    if (!Array.isArray(pcs) || pcs.length > L.A64_BREAKPOINT_MAX) throw new ShootdownError(`at most ${L.A64_BREAKPOINT_MAX} breakpoints`);
    const v = this.view();
    pcs.forEach((a, i) => v.setBigUint64(L.A64_BREAKPOINTS + 8 * i, u64("breakpoint", a), true));
    v.setUint32(L.A64_BREAKPOINT_COUNT, pcs.length, true);
  }

  private failure(va: bigint): { ok: false; fault: ArmFault } {
    const r = this.result(1, va);
    if (r.ok) throw new Error("unreachable");
    return r;
  }

  /** Empties this CPU's TLBs and walk caches (no counter). */
  flushAll(): void {
    this.hw.x86FlushAll(this.index);
  }

  reset(): void {
    this.hw.cpuReset(this.index);
  }

  counters(): Counters {
    return readCounters(this.view(), this.layout);
  }

  private result(status: number, va: bigint): ArmTranslation {
    const v = this.view();
    const L = this.layout;
    if (status === 0) {
      const info = v.getBigUint64(L.CPU_RES_INFO, true);
      return {
        ok: true,
        pa: v.getBigUint64(L.CPU_RES_PA, true),
        pageSize: 4096 * 512 ** Number((info >> 52n) & 3n),
        attr: Number((info >> 56n) & 0xffn),
        sh: Number((info >> 54n) & 3n),
        global: (info & 0x800n) !== 0n,
      };
    }
    const fsc = v.getUint32(L.CPU_FAULT_CODE, true);
    const flags = v.getUint32(L.CPU_FAULT_FLAGS, true);
    return {
      ok: false,
      fault: {
        type: FAULT_TYPES[fsc >> 2] ?? "translation",
        level: v.getUint32(L.CPU_FAULT_LEVEL, true),
        stage2: (flags & 1) !== 0,
        s1ptw: (flags & 2) !== 0,
        fsc,
        va,
        ipa: v.getBigUint64(L.CPU_FAULT_IPA, true),
      },
    };
  }
}
