// SPDX-License-Identifier: MIT
//
// Exceptions the hypervisor injects into a vCPU (xen/arch/arm/traps.c,
// inject_undef64_exception and inject_abt64_exception): the vCPU takes a
// synchronous exception at EL1 as if the hardware had raised it. ESR_EL1
// gets the class and IL with ISS 0 (Xen fills in nothing else, so an
// injected abort reads as DFSC 0), FAR_EL1 the faulting address, SPSR_EL1
// the PSTATE, ELR_EL1 the return address; the vCPU enters EL1h with D, A, I
// and F masked at VBAR_EL1's synchronous vector for where it came from.

import type { ArmCpu } from "../../emulator/machine/cpu/arm-cpu.ts";

/** ESR_ELx.EC values (DDI0487 D19.2.40). */
export const EC = {
  UNKNOWN: 0x00,
  WFX: 0x01,
  HVC64: 0x16,
  SMC64: 0x17,
  SYSREG: 0x18,
  IABT_LOWER: 0x20,
  IABT_CUR: 0x21,
  DABT_LOWER: 0x24,
  DABT_CUR: 0x25,
} as const;

const ESR_IL = 1n << 25n;
/** PSTATE for the handler: EL1h (M = 0b0101) with D, A, I, F masked (Xen's PSR_MODE_EL1h | PSR_*_MASK). */
const PSTATE_EL1H_MASKED = 0x3c5n;
/** exception_handler64: the vector group by where the exception came from (DDI0487 D1.10.2). */
const VECTOR_CURRENT_SP0 = 0x000n;
const VECTOR_CURRENT_SPX = 0x200n;
const VECTOR_LOWER_A64 = 0x400n;

const isUser = (pstate: bigint) => ((pstate >> 2n) & 3n) === 0n;

/** Takes a synchronous exception with syndrome `esr` at EL1, returning to `elr`. */
function injectSync(cpu: ArmCpu, esr: bigint, elr: bigint, far?: bigint): void {
  const s = cpu.state;
  const group = isUser(s.pstate) ? VECTOR_LOWER_A64 : s.pstate & 1n ? VECTOR_CURRENT_SPX : VECTOR_CURRENT_SP0;
  cpu.setState({
    spsr_el1: s.pstate & 0xffff_ffffn, elr_el1: elr, esr_el1: esr, pstate: PSTATE_EL1H_MASKED, pc: s.vbar_el1 + group,
    ...(far === undefined ? {} : { far_el1: far }),
  });
}

/** inject_undef64_exception: an Undefined Instruction (EC 0) returning to `elr`. */
export function injectUndef(cpu: ArmCpu, elr: bigint): void {
  injectSync(cpu, (BigInt(EC.UNKNOWN) << 26n) | ESR_IL, elr);
}

/** inject_abt64_exception: an external abort on `far` for the instruction at `pc` (a data or a prefetch abort). */
export function injectAbort(cpu: ArmCpu, prefetch: boolean, far: bigint, pc: bigint): void {
  const user = isUser(cpu.state.pstate);
  const ec = prefetch ? (user ? EC.IABT_LOWER : EC.IABT_CUR) : user ? EC.DABT_LOWER : EC.DABT_CUR;
  injectSync(cpu, (BigInt(ec) << 26n) | ESR_IL, pc, far);
}
