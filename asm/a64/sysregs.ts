// SPDX-License-Identifier: MIT
//
// System register names for MRS and MSR (register), with their encodings
// (DDI0487 D23 "AArch64 System Register Descriptions"; the encoding of each
// is in its "Accessing" section). The set covers what a hypervisor and a
// kernel touch for the MMU, caches, exceptions, the generic timer, the GICv3
// CPU interface and self-hosted debug; any other register is written
// S<op0>_<op1>_C<n>_C<m>_<op2>.

/** [name, op0, op1, CRn, CRm, op2] */
type SysRegRow = readonly [string, number, number, number, number, number];

const SYSREGS: readonly SysRegRow[] = [
  // Identification (D23.2).
  ["midr_el1", 3, 0, 0, 0, 0],
  ["mpidr_el1", 3, 0, 0, 0, 5],
  ["revidr_el1", 3, 0, 0, 0, 6],
  ["id_aa64pfr0_el1", 3, 0, 0, 4, 0],
  ["id_aa64pfr1_el1", 3, 0, 0, 4, 1],
  ["id_aa64dfr0_el1", 3, 0, 0, 5, 0],
  ["id_aa64dfr1_el1", 3, 0, 0, 5, 1],
  ["id_aa64isar0_el1", 3, 0, 0, 6, 0],
  ["id_aa64isar1_el1", 3, 0, 0, 6, 1],
  ["id_aa64mmfr0_el1", 3, 0, 0, 7, 0],
  ["id_aa64mmfr1_el1", 3, 0, 0, 7, 1],
  ["id_aa64mmfr2_el1", 3, 0, 0, 7, 2],
  ["ccsidr_el1", 3, 1, 0, 0, 0],
  ["clidr_el1", 3, 1, 0, 0, 1],
  ["aidr_el1", 3, 1, 0, 0, 7],
  ["csselr_el1", 3, 2, 0, 0, 0],
  ["ctr_el0", 3, 3, 0, 0, 1],
  ["dczid_el0", 3, 3, 0, 0, 7],
  ["vpidr_el2", 3, 4, 0, 0, 0],
  ["vmpidr_el2", 3, 4, 0, 0, 5],
  // System control and translation (D23.2).
  ["sctlr_el1", 3, 0, 1, 0, 0],
  ["actlr_el1", 3, 0, 1, 0, 1],
  ["cpacr_el1", 3, 0, 1, 0, 2],
  ["sctlr_el2", 3, 4, 1, 0, 0],
  ["actlr_el2", 3, 4, 1, 0, 1],
  ["hcr_el2", 3, 4, 1, 1, 0],
  ["mdcr_el2", 3, 4, 1, 1, 1],
  ["cptr_el2", 3, 4, 1, 1, 2],
  ["hstr_el2", 3, 4, 1, 1, 3],
  ["hacr_el2", 3, 4, 1, 1, 7],
  ["sctlr_el3", 3, 6, 1, 0, 0],
  ["scr_el3", 3, 6, 1, 1, 0],
  ["ttbr0_el1", 3, 0, 2, 0, 0],
  ["ttbr1_el1", 3, 0, 2, 0, 1],
  ["tcr_el1", 3, 0, 2, 0, 2],
  ["ttbr0_el2", 3, 4, 2, 0, 0],
  ["ttbr1_el2", 3, 4, 2, 0, 1],
  ["tcr_el2", 3, 4, 2, 0, 2],
  ["vttbr_el2", 3, 4, 2, 1, 0],
  ["vtcr_el2", 3, 4, 2, 1, 2],
  ["ttbr0_el3", 3, 6, 2, 0, 0],
  ["tcr_el3", 3, 6, 2, 0, 2],
  // Exception state (D23.2, C5.2 special-purpose registers).
  ["spsr_el1", 3, 0, 4, 0, 0],
  ["elr_el1", 3, 0, 4, 0, 1],
  ["sp_el0", 3, 0, 4, 1, 0],
  ["spsel", 3, 0, 4, 2, 0],
  ["currentel", 3, 0, 4, 2, 2],
  ["pan", 3, 0, 4, 2, 3],
  ["uao", 3, 0, 4, 2, 4],
  ["icc_pmr_el1", 3, 0, 4, 6, 0],
  ["nzcv", 3, 3, 4, 2, 0],
  ["daif", 3, 3, 4, 2, 1],
  ["fpcr", 3, 3, 4, 4, 0],
  ["fpsr", 3, 3, 4, 4, 1],
  ["spsr_el2", 3, 4, 4, 0, 0],
  ["elr_el2", 3, 4, 4, 0, 1],
  ["sp_el1", 3, 4, 4, 1, 0],
  ["spsr_el3", 3, 6, 4, 0, 0],
  ["elr_el3", 3, 6, 4, 0, 1],
  ["sp_el2", 3, 6, 4, 1, 0],
  // Faults.
  ["afsr0_el1", 3, 0, 5, 1, 0],
  ["afsr1_el1", 3, 0, 5, 1, 1],
  ["esr_el1", 3, 0, 5, 2, 0],
  ["afsr0_el2", 3, 4, 5, 1, 0],
  ["afsr1_el2", 3, 4, 5, 1, 1],
  ["esr_el2", 3, 4, 5, 2, 0],
  ["esr_el3", 3, 6, 5, 2, 0],
  ["far_el1", 3, 0, 6, 0, 0],
  ["far_el2", 3, 4, 6, 0, 0],
  ["hpfar_el2", 3, 4, 6, 0, 4],
  ["far_el3", 3, 6, 6, 0, 0],
  ["par_el1", 3, 0, 7, 4, 0],
  // Performance monitors (a few).
  ["pmcr_el0", 3, 3, 9, 12, 0],
  ["pmccntr_el0", 3, 3, 9, 13, 0],
  // Memory attributes.
  ["mair_el1", 3, 0, 10, 2, 0],
  ["amair_el1", 3, 0, 10, 3, 0],
  ["mair_el2", 3, 4, 10, 2, 0],
  ["amair_el2", 3, 4, 10, 3, 0],
  ["mair_el3", 3, 6, 10, 2, 0],
  // Vectors and interrupt status.
  ["vbar_el1", 3, 0, 12, 0, 0],
  ["isr_el1", 3, 0, 12, 1, 0],
  ["vbar_el2", 3, 4, 12, 0, 0],
  ["vbar_el3", 3, 6, 12, 0, 0],
  // GICv3 CPU interface (DDI0487 does not define these; Arm IHI0069 12.2).
  ["icc_iar0_el1", 3, 0, 12, 8, 0],
  ["icc_eoir0_el1", 3, 0, 12, 8, 1],
  ["icc_hppir0_el1", 3, 0, 12, 8, 2],
  ["icc_bpr0_el1", 3, 0, 12, 8, 3],
  ["icc_dir_el1", 3, 0, 12, 11, 1],
  ["icc_rpr_el1", 3, 0, 12, 11, 3],
  ["icc_sgi1r_el1", 3, 0, 12, 11, 5],
  ["icc_asgi1r_el1", 3, 0, 12, 11, 6],
  ["icc_sgi0r_el1", 3, 0, 12, 11, 7],
  ["icc_iar1_el1", 3, 0, 12, 12, 0],
  ["icc_eoir1_el1", 3, 0, 12, 12, 1],
  ["icc_hppir1_el1", 3, 0, 12, 12, 2],
  ["icc_bpr1_el1", 3, 0, 12, 12, 3],
  ["icc_ctlr_el1", 3, 0, 12, 12, 4],
  ["icc_sre_el1", 3, 0, 12, 12, 5],
  ["icc_igrpen0_el1", 3, 0, 12, 12, 6],
  ["icc_igrpen1_el1", 3, 0, 12, 12, 7],
  ["icc_sre_el2", 3, 4, 12, 9, 5],
  ["ich_hcr_el2", 3, 4, 12, 11, 0],
  ["ich_vtr_el2", 3, 4, 12, 11, 1],
  ["ich_misr_el2", 3, 4, 12, 11, 2],
  ["ich_vmcr_el2", 3, 4, 12, 11, 7],
  // Thread and context IDs.
  ["contextidr_el1", 3, 0, 13, 0, 1],
  ["tpidr_el1", 3, 0, 13, 0, 4],
  ["tpidr_el0", 3, 3, 13, 0, 2],
  ["tpidrro_el0", 3, 3, 13, 0, 3],
  ["contextidr_el2", 3, 4, 13, 0, 1],
  ["tpidr_el2", 3, 4, 13, 0, 2],
  // Generic timer (D23.8).
  ["cntkctl_el1", 3, 0, 14, 1, 0],
  ["cntfrq_el0", 3, 3, 14, 0, 0],
  ["cntpct_el0", 3, 3, 14, 0, 1],
  ["cntvct_el0", 3, 3, 14, 0, 2],
  ["cntp_tval_el0", 3, 3, 14, 2, 0],
  ["cntp_ctl_el0", 3, 3, 14, 2, 1],
  ["cntp_cval_el0", 3, 3, 14, 2, 2],
  ["cntv_tval_el0", 3, 3, 14, 3, 0],
  ["cntv_ctl_el0", 3, 3, 14, 3, 1],
  ["cntv_cval_el0", 3, 3, 14, 3, 2],
  ["cntvoff_el2", 3, 4, 14, 0, 3],
  ["cnthctl_el2", 3, 4, 14, 1, 0],
  ["cnthp_tval_el2", 3, 4, 14, 2, 0],
  ["cnthp_ctl_el2", 3, 4, 14, 2, 1],
  ["cnthp_cval_el2", 3, 4, 14, 2, 2],
  // Debug (op0 = 2, D23.3).
  ["mdccsr_el0", 2, 3, 0, 1, 0],
  ["mdscr_el1", 2, 0, 0, 2, 2],
  ["oslar_el1", 2, 0, 1, 0, 4],
  ["oslsr_el1", 2, 0, 1, 1, 4],
  ["osdlr_el1", 2, 0, 1, 3, 4],
];

/** The 16-bit o0:op1:CRn:CRm:op2 field of MRS and MSR (register), bits [20:5] of the instruction, with op0 = 2 + o0. */
export const sysRegKey = (op0: number, op1: number, crn: number, crm: number, op2: number) =>
  (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;

const BY_NAME = new Map(SYSREGS.map(([name, ...f]) => [name, sysRegKey(...f)] as const));
const BY_KEY = new Map(SYSREGS.map(([name, ...f]) => [sysRegKey(...f), name] as const));

/** Every register this table names (for tests that check each against GNU as). */
export const SYSREG_NAMES: readonly string[] = SYSREGS.map((r) => r[0]);

/** A register's key from its name or from S<op0>_<op1>_C<n>_C<m>_<op2> (op0 2 or 3), in either all-lower or all-upper case. */
export function parseSysReg(text: string): number | undefined {
  const t = text.trim();
  if (t !== t.toLowerCase() && t !== t.toUpperCase()) return undefined;
  const name = t.toLowerCase();
  const known = BY_NAME.get(name);
  if (known !== undefined) return known;
  const m = /^s([23])_([0-7])_c([0-9]|1[0-5])_c([0-9]|1[0-5])_([0-7])$/.exec(name);
  return m ? sysRegKey(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) : undefined;
}

/**
 * The name objdump prints for a key, or undefined where it may know a name
 * this table lacks. objdump names registers GNU as knows, so a generic name
 * is safe only in the IMPLEMENTATION DEFINED spaces (op0 = 3 with CRn = 11
 * or 15, DDI0487 D23.3.1), where neither names any.
 */
export function sysRegName(key: number): string | undefined {
  const known = BY_KEY.get(key);
  if (known) return known;
  const op0 = key >> 14, op1 = (key >> 11) & 7, crn = (key >> 7) & 15, crm = (key >> 3) & 15, op2 = key & 7;
  if (op0 === 3 && (crn === 11 || crn === 15)) return `s${op0}_${op1}_c${crn}_c${crm}_${op2}`;
  return undefined;
}

/** S<op0>_<op1>_C<n>_C<m>_<op2>, for source text that must assemble whatever the table knows. */
export function sysRegGenericName(key: number): string {
  return `s${key >> 14}_${(key >> 11) & 7}_c${(key >> 7) & 15}_c${(key >> 3) & 15}_${key & 7}`;
}
