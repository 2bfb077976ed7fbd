// SPDX-License-Identifier: MIT
//
// The x86-64 execution state after reset.

import { C } from "../../cpu";
import { CPU_X86, X86_END, CPU_RFLAGS, X86_APIC_BASE } from "../../layout";
import { apicReset, APIC_BASE_ADDRESS, APIC_BASE_EN, APIC_BASE_EXTD, APIC_BASE_BSP } from "./apic";
import { dropFetchWindow } from "./fetch";

/** The execution state after reset: 64-bit mode is the loader's job; here registers are zero, the APIC idle. */
export function x86ExecReset(cpu: u32): void {
  memory.fill(C + CPU_X86, 0, X86_END - CPU_X86);
  store<u64>(C + CPU_RFLAGS, 2);
  store<u64>(C + X86_APIC_BASE, APIC_BASE_ADDRESS | APIC_BASE_EN | APIC_BASE_EXTD | (cpu == 0 ? APIC_BASE_BSP : 0));
  apicReset(cpu);
  dropFetchWindow();
}
