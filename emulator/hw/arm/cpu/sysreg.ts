// SPDX-License-Identifier: MIT
//
// The system instructions of the A64 interpreter (DDI0487 C5): MRS and MSR
// (register) on the registers of the MMU, caches, exceptions, the timer and
// the GICv3 CPU interface; MSR (immediate) on SPSel, DAIFSet/DAIFClr and PAN;
// the hints (WFI, WFE, SEV, SEVL, NOP …); barriers and CLREX; and the SYS
// aliases DC, IC, AT and TLBI, which reach the MMU's and caches' own
// implementations (arm/tlbi.ts, arm/access.ts, arm/translate.ts).
//
// EL2 is modelled only as state: its registers are not accessible from EL1
// (UNDEFINED, as with EL2 implemented and no FEAT_NV), and what HCR_EL2 traps
// to EL2 — TVM writes, TSW set/way operations, TWI — leaves as a trap exit.
//
// Registers are named by their MRS/MSR key, op0:op1:CRn:CRm:op2 (bits 20:5).

import { C, cpuCount } from "../../cpu";
import {
  cpuBlocks, CPU_SIZE, ARM_SCTLR_EL1, ARM_TCR_EL1, ARM_TTBR0_EL1, ARM_TTBR1_EL1, ARM_MAIR_EL1, ARM_PAR_EL1,
  ARM_HCR_EL2, ARM_CSSELR_EL1, A64_SP_EL0, A64_ELR_EL1, A64_SPSR_EL1, A64_ESR_EL1, A64_FAR_EL1, A64_VBAR_EL1,
  A64_PLAIN, A64_MPIDR, A64_EVENT, A64_WAITING, A64_WAIT_WFI, A64_WAIT_WFE, A64_EXCL_PA, A64_EXCL_NONE, PLAIN_TPIDR_EL0, PLAIN_TPIDRRO_EL0,
  PLAIN_TPIDR_EL1, PLAIN_CONTEXTIDR_EL1, PLAIN_CPACR_EL1, PLAIN_AMAIR_EL1, PLAIN_ACTLR_EL1, PLAIN_AFSR0_EL1,
  PLAIN_AFSR1_EL1, PLAIN_MDSCR_EL1, EXIT_WFI, TRAP_SYSREG, TRAP_SET_WAY, TRAP_WFI, CPU_FAULT_FLAGS, FAULT_STAGE2,
} from "../../layout";
import { microFlush } from "../../tlb/floors";
import { maxPhysAddr } from "../../phys/ram";
import { armReg, setArmReg, SCTLR_WXN, HCR_TVM, HCR_TSW, HCR_TWI, HCR_IMO, HCR_FMO, HCR_VM } from "../regs";
import { armSyncContext, armAt, AT_WRITE, AT_EL0 } from "../translate";
import { rebuildArmAllowTable } from "../vmsa/permissions";
import { armTlbi, TLBI_IS, TLBI_VMALLE1, TLBI_VAE1, TLBI_ASIDE1, TLBI_VAAE1, TLBI_VALE1, TLBI_VAALE1 } from "../tlbi";
import { armDc, armIcInvalidateAll, DC_IVAC, DC_CVAC, DC_CIVAC, DC_ISW, DC_CSW, DC_CISW, DC_ZVA } from "../access";
import { ccsidr, clidr } from "../cache";
import { gicIsSysreg, gicSysregRead, gicSysregWrite, gicPendingIrq, ICC_SGI1R_EL1, ICC_SGI0R_EL1, ICC_ASGI1R_EL1 } from "../gic";
import { timerIsSysreg, timerSysregRead, timerSysregWrite } from "../timer";
import {
  pstate, setPstate, currentEl, xr, setX, PSTATE_NZCV, PSTATE_DAIF, PSTATE_PAN_BIT, PSTATE_I, PSTATE_SP,
} from "./state";
import {
  raiseUndef, raiseSync, raiseTrap, raiseExit, raiseAbort, syndrome, curPc, nowCycles, setIrqRecheck, cpuIndex,
  EC_SYSREG, EC_WFX, EC_FP_ACCESS,
} from "./exception";

const K_SCTLR_EL1: u32 = 0xC080;
const K_ACTLR_EL1: u32 = 0xC081;
const K_CPACR_EL1: u32 = 0xC082;
const K_TTBR0_EL1: u32 = 0xC100;
const K_TTBR1_EL1: u32 = 0xC101;
const K_TCR_EL1: u32 = 0xC102;
const K_SPSR_EL1: u32 = 0xC200;
const K_ELR_EL1: u32 = 0xC201;
const K_SP_EL0: u32 = 0xC208;
const K_SPSEL: u32 = 0xC210;
const K_CURRENTEL: u32 = 0xC212;
const K_PAN: u32 = 0xC213;
const K_NZCV: u32 = 0xDA10;
const K_DAIF: u32 = 0xDA11;
const K_AFSR0_EL1: u32 = 0xC288;
const K_AFSR1_EL1: u32 = 0xC289;
const K_ESR_EL1: u32 = 0xC290;
const K_FAR_EL1: u32 = 0xC300;
const K_PAR_EL1: u32 = 0xC3A0;
const K_MAIR_EL1: u32 = 0xC510;
const K_AMAIR_EL1: u32 = 0xC518;
const K_VBAR_EL1: u32 = 0xC600;
const K_ISR_EL1: u32 = 0xC608;
const K_CONTEXTIDR_EL1: u32 = 0xC681;
const K_TPIDR_EL1: u32 = 0xC684;
const K_TPIDR_EL0: u32 = 0xDE82;
const K_TPIDRRO_EL0: u32 = 0xDE83;
const K_MIDR_EL1: u32 = 0xC000;
const K_MPIDR_EL1: u32 = 0xC005;
const K_REVIDR_EL1: u32 = 0xC006;
const K_ID_AA64PFR0_EL1: u32 = 0xC020;
const K_ID_AA64PFR1_EL1: u32 = 0xC021;
const K_ID_AA64DFR0_EL1: u32 = 0xC028;
const K_ID_AA64ISAR0_EL1: u32 = 0xC030;
const K_ID_AA64ISAR1_EL1: u32 = 0xC031;
const K_ID_AA64MMFR0_EL1: u32 = 0xC038;
const K_ID_AA64MMFR1_EL1: u32 = 0xC039;
const K_ID_AA64MMFR2_EL1: u32 = 0xC03A;
const K_CCSIDR_EL1: u32 = 0xC800;
const K_CLIDR_EL1: u32 = 0xC801;
const K_CSSELR_EL1: u32 = 0xD000;
const K_CTR_EL0: u32 = 0xD801;
const K_DCZID_EL0: u32 = 0xD807;
const K_MDSCR_EL1: u32 = 0x8012;
const K_OSLAR_EL1: u32 = 0x8084;
const K_OSLSR_EL1: u32 = 0x808C;
const K_OSDLR_EL1: u32 = 0x809C;

// SCTLR_EL1 bits that give EL0 access (DDI0487 D19.2.118).
const SCTLR_UMA: u64 = 1 << 9;
const SCTLR_DZE: u64 = 1 << 14;
const SCTLR_UCT: u64 = 1 << 15;
const SCTLR_NTWI: u64 = 1 << 16;
const SCTLR_NTWE: u64 = 1 << 18;
const SCTLR_UCI: u64 = 1 << 26;

/** MIDR_EL1 as QEMU's -cpu max reports it. */
const MIDR: u64 = 0x000F_0510;
/** CTR_EL0: IminLine = DminLine = 4 (64 bytes), L1Ip PIPT, ERG = CWG = 4. */
const CTR: u64 = 0x8444_C004;
/** DCZID_EL0.BS = 4: DC ZVA zeroes 64 bytes. */
const DCZID: u64 = 4;

@inline function plain(index: u32): usize {
  return C + A64_PLAIN + (<usize>index << 3);
}

/** The PARange encoding of the machine's physical address size. */
function paRange(): u64 {
  const b = maxPhysAddr;
  if (b >= 52) return 6;
  if (b >= 48) return 5;
  if (b >= 44) return 4;
  if (b >= 42) return 3;
  if (b >= 40) return 2;
  if (b >= 36) return 1;
  return 0;
}

/** The ISS of a trapped MSR/MRS/SYS (EC 0x18, DDI0487 D19.2.37): Op0 Op2 Op1 CRn Rt CRm Direction. */
function sysregIss(insn: u32): u32 {
  const op0 = (insn >> 19) & 3;
  const op1 = (insn >> 16) & 7;
  const crn = (insn >> 12) & 15;
  const crm = (insn >> 8) & 15;
  const op2 = (insn >> 5) & 7;
  const rt = insn & 31;
  const read = (insn >> 21) & 1;
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read;
}

/** A register access EL0 may not make: trapped to EL1 with EC 0x18. */
function trapToEl1(insn: u32): void {
  raiseSync(EC_SYSREG, sysregIss(insn));
}

// ── MRS ──────────────────────────────────────────────────────────────────────

export function mrs(insn: u32, key: u32): void {
  const rt = insn & 31;
  const el = currentEl();
  const op1 = (key >> 11) & 7;
  // At EL0 only the op1 = 3 registers exist (and some of them only when SCTLR_EL1 says).
  if (el == 0 && op1 != 3) {
    raiseUndef();
    return;
  }
  if (timerIsSysreg(key)) {
    setX(rt, timerSysregRead(cpuIndex(), key, nowCycles));
    return;
  }
  if (gicIsSysreg(key)) {
    if (el == 0) {
      raiseUndef();
      return;
    }
    setX(rt, gicSysregRead(cpuIndex(), key));
    setIrqRecheck(true);
    return;
  }
  const sctlr = armReg(ARM_SCTLR_EL1);
  let v: u64 = 0;
  switch (key) {
    case K_NZCV: v = pstate() & PSTATE_NZCV; break;
    case K_DAIF:
      if (el == 0 && !(sctlr & SCTLR_UMA)) { trapToEl1(insn); return; }
      v = pstate() & PSTATE_DAIF;
      break;
    case K_TPIDR_EL0: v = load<u64>(plain(PLAIN_TPIDR_EL0)); break;
    case K_TPIDRRO_EL0: v = load<u64>(plain(PLAIN_TPIDRRO_EL0)); break;
    case K_CTR_EL0:
      if (el == 0 && !(sctlr & SCTLR_UCT)) { trapToEl1(insn); return; }
      v = CTR;
      break;
    case K_DCZID_EL0: v = DCZID | (el == 0 && !(sctlr & SCTLR_DZE) ? 0x10 : 0); break;
    case K_SCTLR_EL1: v = sctlr; break;
    case K_ACTLR_EL1: v = load<u64>(plain(PLAIN_ACTLR_EL1)); break;
    case K_CPACR_EL1: v = load<u64>(plain(PLAIN_CPACR_EL1)); break;
    case K_TTBR0_EL1: v = armReg(ARM_TTBR0_EL1); break;
    case K_TTBR1_EL1: v = armReg(ARM_TTBR1_EL1); break;
    case K_TCR_EL1: v = armReg(ARM_TCR_EL1); break;
    case K_SPSR_EL1: v = load<u64>(C + A64_SPSR_EL1); break;
    case K_ELR_EL1: v = load<u64>(C + A64_ELR_EL1); break;
    case K_SP_EL0:
      // With SP_EL0 selected, it is the SP, not a system register (UNDEFINED).
      if (!(pstate() & PSTATE_SP)) { raiseUndef(); return; }
      v = load<u64>(C + A64_SP_EL0);
      break;
    case K_SPSEL: v = pstate() & PSTATE_SP; break;
    case K_CURRENTEL: v = <u64>el << 2; break;
    case K_PAN: v = pstate() & PSTATE_PAN_BIT; break;
    case K_AFSR0_EL1: v = load<u64>(plain(PLAIN_AFSR0_EL1)); break;
    case K_AFSR1_EL1: v = load<u64>(plain(PLAIN_AFSR1_EL1)); break;
    case K_ESR_EL1: v = load<u64>(C + A64_ESR_EL1); break;
    case K_FAR_EL1: v = load<u64>(C + A64_FAR_EL1); break;
    case K_PAR_EL1: v = armReg(ARM_PAR_EL1); break;
    case K_MAIR_EL1: v = armReg(ARM_MAIR_EL1); break;
    case K_AMAIR_EL1: v = load<u64>(plain(PLAIN_AMAIR_EL1)); break;
    case K_VBAR_EL1: v = load<u64>(C + A64_VBAR_EL1); break;
    case K_ISR_EL1: v = gicPendingIrq(cpuIndex(), nowCycles) ? PSTATE_I : 0; break;
    case K_CONTEXTIDR_EL1: v = load<u64>(plain(PLAIN_CONTEXTIDR_EL1)); break;
    case K_TPIDR_EL1: v = load<u64>(plain(PLAIN_TPIDR_EL1)); break;
    case K_MIDR_EL1: v = MIDR; break;
    case K_MPIDR_EL1: v = load<u64>(C + A64_MPIDR); break;
    case K_REVIDR_EL1: v = 0; break;
    // EL0, EL1 and EL2 in AArch64 only, no EL3, no FP/AdvSIMD, GICv3 system registers.
    case K_ID_AA64PFR0_EL1: v = 0x01FF_0111; break;
    case K_ID_AA64PFR1_EL1: v = 0; break;
    case K_ID_AA64DFR0_EL1: v = 0x0000_0006; break;
    // Atomic = 2 (FEAT_LSE: CAS, SWP, LDADD …).
    case K_ID_AA64ISAR0_EL1: v = 0x0020_0000; break;
    case K_ID_AA64ISAR1_EL1: v = 0; break;
    // PARange, 16-bit ASIDs, 4 KiB granule only (TGran64 = 0xF, TGran16 = 0).
    case K_ID_AA64MMFR0_EL1: v = paRange() | (2 << 4) | (0xF << 24); break;
    // HAFDBS = 2 (AF and dirty state), VMIDBits = 2 (16), PAN = 1.
    case K_ID_AA64MMFR1_EL1: v = 0x0010_0022; break;
    case K_ID_AA64MMFR2_EL1: v = 0; break;
    case K_CCSIDR_EL1: v = armReg(ARM_CSSELR_EL1) == 0 ? ccsidr() : 0; break;
    case K_CLIDR_EL1: v = clidr(); break;
    case K_CSSELR_EL1: v = armReg(ARM_CSSELR_EL1); break;
    case K_MDSCR_EL1: v = load<u64>(plain(PLAIN_MDSCR_EL1)); break;
    case K_OSLSR_EL1: v = 0b1000; break;
    case K_OSDLR_EL1: v = 0; break;
    default:
      raiseUndef();
      return;
  }
  setX(rt, v);
}

// ── MSR (register) ───────────────────────────────────────────────────────────

/** Does HCR_EL2.TVM trap an EL1 write of this register to EL2 (DDI0487 D19.2.48)? */
function tvmTraps(key: u32): bool {
  switch (key) {
    case K_SCTLR_EL1: case K_TTBR0_EL1: case K_TTBR1_EL1: case K_TCR_EL1: case K_ESR_EL1: case K_FAR_EL1:
    case K_AFSR0_EL1: case K_AFSR1_EL1: case K_MAIR_EL1: case K_AMAIR_EL1: case K_CONTEXTIDR_EL1:
      return true;
    default:
      return false;
  }
}

export function msr(insn: u32, key: u32): void {
  const v = xr(insn & 31);
  const el = currentEl();
  const op1 = (key >> 11) & 7;
  if (el == 0 && op1 != 3) {
    raiseUndef();
    return;
  }
  if (el == 1 && (armReg(ARM_HCR_EL2) & HCR_TVM) && tvmTraps(key)) {
    raiseTrap(TRAP_SYSREG, syndrome(EC_SYSREG, sysregIss(insn)));
    return;
  }
  if (timerIsSysreg(key)) {
    timerSysregWrite(cpuIndex(), key, v, nowCycles);
    setIrqRecheck(true);
    return;
  }
  if (gicIsSysreg(key)) {
    if (el == 0) {
      raiseUndef();
      return;
    }
    // SGI generation is not virtualised by the CPU interface: with
    // HCR_EL2.IMO (or FMO) set, EL1 writes of ICC_SGI0R/SGI1R/ASGI1R_EL1 trap
    // to EL2 (IHI0069 12.2, "Traps and Enables" of those registers), where
    // the hypervisor sends the SGI to the vCPUs the affinity names.
    if (el == 1 && (armReg(ARM_HCR_EL2) & (HCR_IMO | HCR_FMO)) && (key == ICC_SGI1R_EL1 || key == ICC_SGI0R_EL1 || key == ICC_ASGI1R_EL1)) {
      raiseTrap(TRAP_SYSREG, syndrome(EC_SYSREG, sysregIss(insn)));
      return;
    }
    gicSysregWrite(cpuIndex(), key, v);
    setIrqRecheck(true);
    return;
  }
  switch (key) {
    case K_NZCV: setPstate((pstate() & ~PSTATE_NZCV) | (v & PSTATE_NZCV)); break;
    case K_DAIF:
      if (el == 0 && !(armReg(ARM_SCTLR_EL1) & SCTLR_UMA)) { trapToEl1(insn); return; }
      setPstate((pstate() & ~PSTATE_DAIF) | (v & PSTATE_DAIF));
      setIrqRecheck(true);
      break;
    case K_TPIDR_EL0: store<u64>(plain(PLAIN_TPIDR_EL0), v); break;
    case K_TPIDRRO_EL0:
      if (el == 0) { raiseUndef(); return; }
      store<u64>(plain(PLAIN_TPIDRRO_EL0), v);
      break;
    case K_SCTLR_EL1: {
      const old = armReg(ARM_SCTLR_EL1);
      setArmReg(ARM_SCTLR_EL1, v);
      // The micro-TLB holds translations made with the MMU on; WXN is folded into the allow table.
      microFlush();
      if ((old ^ v) & SCTLR_WXN) rebuildArmAllowTable();
      break;
    }
    case K_ACTLR_EL1: store<u64>(plain(PLAIN_ACTLR_EL1), v); break;
    case K_CPACR_EL1: store<u64>(plain(PLAIN_CPACR_EL1), v); break;
    case K_TTBR0_EL1: setArmReg(ARM_TTBR0_EL1, v); armSyncContext(); break;
    case K_TTBR1_EL1: setArmReg(ARM_TTBR1_EL1, v); armSyncContext(); break;
    case K_TCR_EL1: setArmReg(ARM_TCR_EL1, v); armSyncContext(); break;
    case K_SPSR_EL1: store<u64>(C + A64_SPSR_EL1, v); break;
    case K_ELR_EL1: store<u64>(C + A64_ELR_EL1, v); break;
    case K_SP_EL0:
      if (!(pstate() & PSTATE_SP)) { raiseUndef(); return; }
      store<u64>(C + A64_SP_EL0, v);
      break;
    case K_SPSEL: setPstate((pstate() & ~PSTATE_SP) | (v & 1)); break;
    case K_PAN: setPstate((pstate() & ~PSTATE_PAN_BIT) | (v & PSTATE_PAN_BIT)); break;
    case K_AFSR0_EL1: store<u64>(plain(PLAIN_AFSR0_EL1), v); break;
    case K_AFSR1_EL1: store<u64>(plain(PLAIN_AFSR1_EL1), v); break;
    case K_ESR_EL1: store<u64>(C + A64_ESR_EL1, v); break;
    case K_FAR_EL1: store<u64>(C + A64_FAR_EL1, v); break;
    case K_PAR_EL1: setArmReg(ARM_PAR_EL1, v); break;
    case K_MAIR_EL1: setArmReg(ARM_MAIR_EL1, v); break;
    case K_AMAIR_EL1: store<u64>(plain(PLAIN_AMAIR_EL1), v); break;
    // VBAR_EL1 bits 10:0 are RES0.
    case K_VBAR_EL1: store<u64>(C + A64_VBAR_EL1, v & ~<u64>0x7FF); break;
    case K_CONTEXTIDR_EL1: store<u64>(plain(PLAIN_CONTEXTIDR_EL1), v & 0xFFFF_FFFF); break;
    case K_TPIDR_EL1: store<u64>(plain(PLAIN_TPIDR_EL1), v); break;
    case K_CSSELR_EL1: setArmReg(ARM_CSSELR_EL1, v & 0xF); break;
    case K_MDSCR_EL1: store<u64>(plain(PLAIN_MDSCR_EL1), v); break;
    case K_OSLAR_EL1: break;
    case K_OSDLR_EL1: break;
    default:
      raiseUndef();
      return;
  }
}

// ── MSR (immediate) ──────────────────────────────────────────────────────────

/** MSR <pstatefield>, #imm: op1:op2 name the field, CRm is the immediate. */
export function msrImmediate(insn: u32): void {
  const op1 = (insn >> 16) & 7;
  const op2 = (insn >> 5) & 7;
  const imm = <u64>((insn >> 8) & 15);
  const el = currentEl();
  const field = (op1 << 3) | op2;
  if (field == 0b011_110 || field == 0b011_111) {
    // DAIFSet / DAIFClr; at EL0 only with SCTLR_EL1.UMA.
    if (el == 0 && !(armReg(ARM_SCTLR_EL1) & SCTLR_UMA)) {
      trapToEl1(insn);
      return;
    }
    const bits = imm << 6;
    setPstate(op2 == 6 ? pstate() | bits : pstate() & ~bits);
    setIrqRecheck(true);
    return;
  }
  if (el == 0) {
    raiseUndef();
    return;
  }
  if (field == 0b000_101) setPstate((pstate() & ~PSTATE_SP) | (imm & 1));
  else if (field == 0b000_100) setPstate((pstate() & ~PSTATE_PAN_BIT) | (imm & 1 ? PSTATE_PAN_BIT : 0));
  else if (field == 0b000_011) {
    // UAO: accepted and ignored (no unprivileged loads and stores change meaning here).
  } else raiseUndef();
}

// ── Hints and barriers ───────────────────────────────────────────────────────

/** HINT #imm (CRm:op2): WFE, WFI, SEV, SEVL; every other hint is a NOP. */
export function hint(insn: u32): void {
  const op = (insn >> 5) & 0x7F;
  if (op == 3) wfi(false);
  else if (op == 2) wfi(true);
  else if (op == 4) {
    // SEV: an event for every PE.
    for (let cpu: u32 = 0; cpu < cpuCount; cpu++) store<u32>(cpuBlocks + <usize>cpu * CPU_SIZE + A64_EVENT, 1);
  } else if (op == 5) store<u32>(C + A64_EVENT, 1);
}

/**
 * WFI / WFE (DDI0487 D1.6): trapped to EL1 from EL0 unless SCTLR_EL1.nTWI /
 * nTWE; WFI trapped to EL2 with HCR_EL2.TWI; otherwise, with nothing to wake
 * the CPU (no pending interrupt, for WFE no event), an exit: the machine
 * sleeps the CPU until its timer deadline or an SGI.
 */
function wfi(wfe: bool): void {
  const el = currentEl();
  const sctlr = armReg(ARM_SCTLR_EL1);
  // ISS: CV = 1, COND = 0b1110, TI = 0 for WFI, 1 for WFE.
  const iss: u32 = (1 << 24) | (0xE << 20) | (wfe ? 1 : 0);
  if (el == 0 && !(sctlr & (wfe ? SCTLR_NTWE : SCTLR_NTWI))) {
    raiseSync(EC_WFX, iss);
    return;
  }
  if (!wfe && (armReg(ARM_HCR_EL2) & HCR_TWI)) {
    raiseTrap(TRAP_WFI, syndrome(EC_WFX, iss));
    return;
  }
  if (wfe && load<u32>(C + A64_EVENT)) {
    store<u32>(C + A64_EVENT, 0);
    return;
  }
  if (gicPendingIrq(cpuIndex(), nowCycles)) return;
  // Asleep: run() returns at once, retiring nothing, until an interrupt (or for WFE an event) wakes it.
  store<u32>(C + A64_WAITING, wfe ? A64_WAIT_WFE : A64_WAIT_WFI);
  raiseExit(EXIT_WFI, curPc + 4);
}

/** CLREX, DSB, DMB, ISB, SB (CRn = 3). Accesses complete in order here, so the barriers only retire. */
export function barrier(insn: u32): void {
  const op2 = (insn >> 5) & 7;
  if (op2 == 2) store<u64>(C + A64_EXCL_PA, A64_EXCL_NONE);
  else if (op2 < 4) raiseUndef();
}

// ── SYS: DC, IC, AT, TLBI ────────────────────────────────────────────────────

const SYS_DC_IVAC: u32 = (0 << 11) | (7 << 7) | (6 << 3) | 1;
const SYS_DC_ISW: u32 = (0 << 11) | (7 << 7) | (6 << 3) | 2;
const SYS_DC_CSW: u32 = (0 << 11) | (7 << 7) | (10 << 3) | 2;
const SYS_DC_CISW: u32 = (0 << 11) | (7 << 7) | (14 << 3) | 2;
const SYS_DC_ZVA: u32 = (3 << 11) | (7 << 7) | (4 << 3) | 1;
const SYS_DC_CVAC: u32 = (3 << 11) | (7 << 7) | (10 << 3) | 1;
const SYS_DC_CVAU: u32 = (3 << 11) | (7 << 7) | (11 << 3) | 1;
const SYS_DC_CIVAC: u32 = (3 << 11) | (7 << 7) | (14 << 3) | 1;
const SYS_IC_IALLUIS: u32 = (0 << 11) | (7 << 7) | (1 << 3) | 0;
const SYS_IC_IALLU: u32 = (0 << 11) | (7 << 7) | (5 << 3) | 0;
const SYS_IC_IVAU: u32 = (3 << 11) | (7 << 7) | (5 << 3) | 1;

/** SYS #op1, Cn, Cm, #op2, Xt (op0 = 1): the DC, IC, AT and TLBI aliases; anything else is UNDEFINED. */
export function sys(insn: u32): void {
  const op1 = (insn >> 16) & 7;
  const crn = (insn >> 12) & 15;
  const crm = (insn >> 8) & 15;
  const op2 = (insn >> 5) & 7;
  const xt = xr(insn & 31);
  const el = currentEl();
  const key = (op1 << 11) | (crn << 7) | (crm << 3) | op2;
  if (crn == 8 && op1 == 0) {
    tlbi(crm, op2, xt, el);
    return;
  }
  if (crn == 7 && crm == 8 && op1 == 0 && op2 <= 3) {
    // AT S1E1R, S1E1W, S1E0R, S1E0W.
    if (el == 0) {
      raiseUndef();
      return;
    }
    const before = armReg(ARM_PAR_EL1);
    const par = armAt(xt, (op2 & 1 ? AT_WRITE : 0) | (op2 & 2 ? AT_EL0 : 0));
    // A stage-2 fault on the stage-1 walk of AT S1E1*/S1E0* is not reported
    // in PAR_EL1: it is taken to EL2 as a data abort with S1PTW and CM set
    // (DDI0487 D8.15.1, "Address translation instructions"), so that a
    // hypervisor can make the table's IPA valid and the AT run again.
    if ((par & 1) && (armReg(ARM_HCR_EL2) & HCR_VM) && (load<u32>(C + CPU_FAULT_FLAGS) & FAULT_STAGE2)) {
      setArmReg(ARM_PAR_EL1, before);
      raiseAbort(xt, false, false, true);
    }
    return;
  }
  const sctlr = armReg(ARM_SCTLR_EL1);
  switch (key) {
    case SYS_DC_ISW: case SYS_DC_CSW: case SYS_DC_CISW:
      if (el == 0) { raiseUndef(); return; }
      if (armReg(ARM_HCR_EL2) & HCR_TSW) {
        raiseTrap(TRAP_SET_WAY, syndrome(EC_SYSREG, sysregIss(insn)));
        return;
      }
      armDc(key == SYS_DC_ISW ? DC_ISW : key == SYS_DC_CSW ? DC_CSW : DC_CISW, xt, false);
      return;
    case SYS_DC_IVAC:
      if (el == 0) { raiseUndef(); return; }
      dcByVa(DC_IVAC, xt, false);
      return;
    case SYS_DC_CVAC: case SYS_DC_CIVAC:
      if (el == 0 && !(sctlr & SCTLR_UCI)) { trapToEl1(insn); return; }
      dcByVa(key == SYS_DC_CVAC ? DC_CVAC : DC_CIVAC, xt, el == 0);
      return;
    case SYS_DC_ZVA:
      if (el == 0 && !(sctlr & SCTLR_DZE)) { trapToEl1(insn); return; }
      dcByVa(DC_ZVA, xt, el == 0);
      return;
    case SYS_DC_CVAU: case SYS_IC_IVAU:
      // To the point of unification: instruction fetches are coherent here, so nothing to do.
      if (el == 0 && !(sctlr & SCTLR_UCI)) { trapToEl1(insn); return; }
      return;
    case SYS_IC_IALLU: case SYS_IC_IALLUIS:
      if (el == 0) { raiseUndef(); return; }
      armIcInvalidateAll();
      return;
    default:
      raiseUndef();
  }
}

/** DC by VA; a translation fault is a data abort with CM = 1 (and WnR = 1, DDI0487 D19.2.40). */
function dcByVa(op: u32, va: u64, el0: bool): void {
  const status = armDc(op, op == DC_ZVA ? va & ~<u64>63 : va, el0);
  if (status != 0) raiseAbort(va, false, true, op != DC_ZVA);
}

/**
 * TLBI at EL1 (op1 = 0): CRm 3 Inner Shareable, 1 Outer Shareable (the same
 * domain here: every CPU), 7 local; op2 the operation.
 */
function tlbi(crm: u32, op2: u32, xt: u64, el: u32): void {
  if (el == 0 || (crm != 3 && crm != 1 && crm != 7)) {
    raiseUndef();
    return;
  }
  let op: u32;
  switch (op2) {
    case 0: op = TLBI_VMALLE1; break;
    case 1: op = TLBI_VAE1; break;
    case 2: op = TLBI_ASIDE1; break;
    case 3: op = TLBI_VAAE1; break;
    case 5: op = TLBI_VALE1; break;
    case 7: op = TLBI_VAALE1; break;
    default:
      raiseUndef();
      return;
  }
  armTlbi(crm == 7 ? op : op | TLBI_IS, xt);
}

// ── SIMD and floating point ──────────────────────────────────────────────────

/**
 * A SIMD or floating-point instruction: none is implemented, but while
 * CPACR_EL1.FPEN traps them (its reset value 0 does, as on QEMU) they take
 * the trap (EC 0x07, ISS CV = 1, COND = 0b1110) rather than UNDEFINED.
 */
export function simdFp(): void {
  const fpen = <u32>(load<u64>(plain(PLAIN_CPACR_EL1)) >> 20) & 3;
  if (fpen == 3 || (fpen == 1 && currentEl() == 1)) raiseUndef();
  else raiseSync(EC_FP_ACCESS, 0x1E0_0000);
}
