// SPDX-License-Identifier: MIT
//
// The hypervisor's public entry points (README.md describes them).
//
//   const hv = new Hypervisor({ memory, firstMfn, nrFrames, nrPcpus, seed, callbacks });
//   const d = hv.createDomain(1, nrPages, nrVcpus);
//   const layout = buildPvDomain(hv, { image, domain: d, nrPages, cmdline });
//   const rax = yield* hv.hypercall(domain, vcpu, rax, [rdi, rsi, rdx, r10, r8]);   // a Routine<bigint>
//   recount(hv)   // [] when the frame table and the page tables agree

export type { StepLabel, Routine } from "./common/routine.ts";
export { runRoutine, finish, interleave } from "./common/routine.ts";
export { type MachineMemory, ArrayMemory, PAGE_SIZE, PAGE_SHIFT, maddr } from "./common/memory.ts";
export { Domain, VCpu, type VCpuContext, type P2mList } from "./common/domain.ts";
export { PageInfo, FrameTable, PGT, PAGE_TYPE_NAMES, type PageType } from "./common/frame-table.ts";
export { HvStats } from "./common/stats.ts";
export * as errno from "./common/errno.ts";
export { resultName } from "./common/errno.ts";
export {
  FLUSH_TLB,
  FLUSH_TLB_GLOBAL,
  FLUSH_VA_VALID,
  FLUSH_ORDER,
  FLUSH_ORDER_MASK,
  FLUSH_NO_ASSIST,
  FLUSH_FORCE_IPI,
  FLUSH_ROOT_PGTBL,
  TlbFlushClock,
  type FlushRequest,
  type FlushHook,
} from "./common/flush.ts";
export { Hypervisor, type HypervisorOptions, type HvCallbacks, type FrameEvent, type Cpu } from "./x86/hypervisor.ts";
export { buildPvDomain, type BuildOptions, type BuildResult } from "./x86/builder.ts";
export { recount } from "./x86/recount.ts";
export { GDT_VIRT_START, GDT_LIMIT } from "./x86/xen-area.ts";
export * as xen from "./x86/public.ts";
