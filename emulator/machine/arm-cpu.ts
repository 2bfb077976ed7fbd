// SPDX-License-Identifier: MIT
//
// One AArch64 CPU of a Machine: its MMU-related system registers, translation
// for the EL1&0 regime (stage 1, and stage 2 under it), the AT and TLBI
// instructions, and its counters.

import { ShootdownError } from "./errors.ts";
import type { HwExports } from "./wasm.ts";
import type { Layout } from "./layout.ts";
import { readCounters, type Counters } from "./counters.ts";

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

export class ArmCpu {
  constructor(
    private readonly hw: HwExports,
    private readonly layout: Layout,
    readonly index: number,
  ) {}

  private view(): DataView {
    return new DataView(this.hw.memory.buffer, this.hw.cpuBlock(this.index), this.layout.CPU_SIZE);
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
