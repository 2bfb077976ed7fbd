// SPDX-License-Identifier: MIT
//
// Hyper-V as Xen's Viridian support presents it to an HVM guest
// (xen/arch/x86/hvm/viridian/viridian.c): the CPUID leaves 0x40000000 and up,
// the synthetic MSRs HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL and
// HV_X64_MSR_VP_INDEX, the hypercall page, and the hypercall entry that
// decodes the input value and runs the remote-flush hypercalls
// (viridian-flush.ts).
//
// Everything here is a pure function of its arguments: the host (the HVM
// exit handlers) passes in an HvmGuest, the caller's view of its domain, and
// the partition-wide ViridianDomain record, and gets back a value to put in
// a register, a #GP, or an HvmFlushRequest to execute. Nothing here touches the
// machine; the host does, so these functions run the same under a test, a
// fuzzer or the emulator.
//
// Where Xen and the TLFS differ, the choice is said where it is made. In
// short: the statuses Xen returns are Xen's (a fast call and an unreadable
// input block are HV_STATUS_INVALID_PARAMETER, an unknown call code is
// HV_STATUS_INVALID_HYPERCALL_CODE); what Xen does not check (reserved bits,
// rep counts, alignment, reserved flags, the address space) gets the status
// the TLFS gives it; and CPUID leaf 0x40000004 is not held back until the
// guest reports a Windows guest OS ID, because Linux reads it before it
// writes HV_X64_MSR_GUEST_OS_ID.

import {
  decodeHypercallInput,
  encodeHypercallResult,
  HV_MSR_HYPERCALL_AVAILABLE,
  HV_MSR_VP_INDEX_AVAILABLE,
  HV_STATUS_INVALID_HYPERCALL_CODE,
  HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED,
  HV_X64_MSR_GUEST_OS_ID,
  HV_X64_MSR_HYPERCALL,
  HV_X64_MSR_HYPERCALL_ENABLE,
  HV_X64_MSR_HYPERCALL_PAGE_ADDRESS_SHIFT,
  HV_X64_MSR_VP_INDEX,
  HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED,
  HV_X64_SLAT_IN_USE,
  HVCALL_NAMES,
  HYPERV_CPUID_LAST,
  VIRIDIAN_MSR_FIRST,
  VIRIDIAN_MSR_LAST,
  type HypercallResult,
} from "./hyperv-tlfs.ts";
import { hvcallFlush } from "./viridian-flush.ts";

/**
 * What the host implements for this layer: the calling vCPU's view of its
 * domain. Reads and writes are of guest-physical memory (through the EPT, as
 * Xen's hvm_copy_{from,to}_guest_phys).
 */
export interface HvmGuest {
  /** The number of vCPUs in the domain; VP indexes are 0 to vcpuCount - 1, each the vCPU's id (Xen's HV_X64_MSR_VP_INDEX is vcpu_id). */
  readonly vcpuCount: number;
  /** The calling vCPU's VP index. */
  readonly vpIndex: number;
  /** The guest-physical address width (MAXPHYADDR the guest sees): GPAs at or above 2^physAddrBits are outside the GPA space. */
  readonly physAddrBits: number;
  /** length bytes at gpa, or undefined if any of them is not guest RAM the guest may read (hvm_copy_from_guest_phys failing). */
  readGuestPhys(gpa: bigint, length: number): Uint8Array | undefined;
  /** Writes bytes at gpa; false, with nothing written, if any of them is not guest RAM the guest may write. */
  writeGuestPhys(gpa: bigint, bytes: Uint8Array): boolean;
}

/** One GVA range of a list flush: the page at va and the pages after it, pages in all (1 to 4096). */
export interface GvaRange {
  readonly va: bigint;
  readonly pages: number;
}

/**
 * A remote TLB flush for the host to execute before the caller resumes.
 * Xen runs every one of these through paging_flush_tlb (the Viridian flushes
 * and HVMOP_flush_tlbs alike); its older form, hvm_flush_vcpu_tlb, pauses the
 * other named vCPUs, flushes each one's TLB (a new VPID), and unpauses them,
 * so the flush has taken effect on every named vCPU when the call returns,
 * whatever their interrupt flags. That is also the TLFS's guarantee for the
 * Hyper-V calls. If the host finds another vCPU of the domain in the middle
 * of such a flush (Xen's trylock of hypercall_deadlock_mutex failing), it
 * re-executes the VMCALL instead of returning (a continuation).
 */
export interface HvmFlushRequest {
  /** The hypercall that asked: a TLFS call name or "HVMOP_flush_tlbs". */
  readonly call: string;
  /** The VP indexes (vCPU ids) to flush, ascending, each below the domain's vCPU count; the caller may be among them. */
  readonly vps: readonly number[];
  /** "all": every translation; otherwise only these ranges (Xen itself flushes everything for a list too; the host may do either). */
  readonly addresses: "all" | readonly GvaRange[];
  /** HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY: global translations may be kept. */
  readonly nonGlobalOnly: boolean;
  /** HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES: every address space, not only addressSpace. */
  readonly allAddressSpaces: boolean;
  /** The address space named (a CR3 value); meaningless when allAddressSpaces. */
  readonly addressSpace: bigint;
}

/**
 * The partition-wide Viridian state (Xen's struct viridian_domain, as far as
 * it is modelled). Both MSRs are shared by every VP of the partition.
 */
export interface ViridianDomain {
  guestOsId: bigint;
  hypercallMsr: bigint;
}

export function newViridianDomain(): ViridianDomain {
  return { guestOsId: 0n, hypercallMsr: 0n };
}

/** The build and version CPUID 0x40000002 reports: Xen's viridian_build, viridian_major and viridian_minor (those of Windows Server 2008). */
const VIRIDIAN_BUILD = 0x1772;
const VIRIDIAN_MAJOR = 6;
const VIRIDIAN_MINOR = 0;
/** CPUID 0x40000004 EBX: the spinlock retries before HvNotifyLongSpinWait; all ones means never notify, as that call is not offered here. */
const SPINLOCK_RETRIES_NEVER_NOTIFY = 0xffff_ffff;

export interface CpuidLeaf {
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
}

/** Four ASCII characters as the little-endian register CPUID returns them in. */
const ascii4 = (s: string) => (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
const ZERO: CpuidLeaf = { eax: 0, ebx: 0, ecx: 0, edx: 0 };

/**
 * cpuid_viridian_leaves: the leaf's registers for a leaf from 0x40000000 to
 * 0x400000ff, undefined for any other leaf (the host answers those). The
 * host must also set CPUID.1:ECX[31], the hypervisor-present bit, which is
 * how a guest knows to look here (TLFS "Hypervisor Discovery").
 */
export function cpuidViridianLeaves(leaf: number, d: ViridianDomain, g: Pick<HvmGuest, "vcpuCount">): CpuidLeaf | undefined {
  if (leaf < 0x4000_0000 || leaf > HYPERV_CPUID_LAST) return undefined;
  switch (leaf - 0x4000_0000) {
    case 0:
      // The highest leaf, at least 0x40000005 on a Microsoft hypervisor (TLFS "Hypervisor CPUID Leaf Range").
      return { eax: 0x4000_0006, ebx: ascii4("Micr"), ecx: ascii4("osof"), edx: ascii4("t Hv") };
    case 1:
      return { eax: ascii4("Hv#1"), ebx: 0, ecx: 0, edx: 0 };
    case 2:
      // Xen reports the version only once the guest has reported its own.
      return d.guestOsId === 0n ? ZERO : { eax: VIRIDIAN_BUILD, ebx: ((VIRIDIAN_MAJOR << 16) | VIRIDIAN_MINOR) >>> 0, ecx: 0, edx: 0 };
    case 3:
      // The partition privileges of the MSRs implemented here, and nothing more: Xen also offers the APIC and
      // frequency MSRs, which this hypervisor does not implement.
      return { eax: HV_MSR_HYPERCALL_AVAILABLE | HV_MSR_VP_INDEX_AVAILABLE, ebx: 0, ecx: 0, edx: 0 };
    case 4:
      // Xen answers zero here until a Windows guest OS ID (os >= 4) has been written. Linux reads this leaf in
      // ms_hyperv_init_platform, before hyperv_init writes HV_X64_MSR_GUEST_OS_ID, so holding it back would
      // hide the remote-flush recommendation from exactly the guest the issue is about.
      return { eax: HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED | HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED, ebx: SPINLOCK_RETRIES_NEVER_NOTIFY, ecx: 0, edx: 0 };
    case 5:
      // The maximum number of virtual processors: this domain's (Xen reports it only with HVMPV_no_vp_limit, as -1).
      return { eax: g.vcpuCount >>> 0, ebx: 0, ecx: 0, edx: 0 };
    case 6:
      // Second-level address translation is in use: the HVM host runs the guest under EPT (Xen: hap_enabled).
      return { eax: HV_X64_SLAT_IN_USE, ebx: 0, ecx: 0, edx: 0 };
    default:
      return ZERO;
  }
}

/** An MSR access's outcome: the value read (or ok for a write), or the #GP the guest takes, with why. */
export type MsrResult = { readonly kind: "ok"; readonly value: bigint; readonly warning?: string } | { readonly kind: "gp"; readonly why: string };

const isViridianMsr = (msr: number) => msr >= VIRIDIAN_MSR_FIRST && msr <= VIRIDIAN_MSR_LAST;
const hex = (v: number | bigint) => `0x${v.toString(16)}`;

/** guest_rdmsr_viridian: undefined for an MSR outside 0x40000000..0x400001ff (the host's), #GP for one of those this layer does not implement. */
export function rdmsrViridian(msr: number, d: ViridianDomain, g: Pick<HvmGuest, "vpIndex">): MsrResult | undefined {
  if (!isViridianMsr(msr)) return undefined;
  switch (msr) {
    case HV_X64_MSR_GUEST_OS_ID:
      return { kind: "ok", value: d.guestOsId };
    case HV_X64_MSR_HYPERCALL:
      return { kind: "ok", value: d.hypercallMsr };
    case HV_X64_MSR_VP_INDEX:
      return { kind: "ok", value: BigInt(g.vpIndex) };
    default:
      return { kind: "gp", why: `rdmsr ${hex(msr)}: a synthetic MSR this hypervisor does not implement` };
  }
}

/**
 * guest_wrmsr_viridian: updates d and, when the hypercall page is enabled,
 * writes the page into guest memory. Undefined for an MSR outside
 * 0x40000000..0x400001ff.
 */
export function wrmsrViridian(msr: number, value: bigint, d: ViridianDomain, g: HvmGuest): MsrResult | undefined {
  if (!isViridianMsr(msr)) return undefined;
  const v = BigInt.asUintN(64, value);
  switch (msr) {
    case HV_X64_MSR_GUEST_OS_ID:
      d.guestOsId = v;
      // TLFS "Reporting the Guest OS Identity": zeroing the ID disables the hypercall page.
      if (v === 0n) d.hypercallMsr &= ~HV_X64_MSR_HYPERCALL_ENABLE;
      return { kind: "ok", value: v };
    case HV_X64_MSR_HYPERCALL:
      return writeHypercallMsr(v, d, g);
    case HV_X64_MSR_VP_INDEX:
      // The TLFS makes HV_X64_MSR_VP_INDEX read-only, so a write faults as a write to any read-only MSR does.
      // (Xen ignores the write.)
      return { kind: "gp", why: `wrmsr ${hex(msr)} (HV_X64_MSR_VP_INDEX): the VP index is read-only` };
    default:
      return { kind: "gp", why: `wrmsr ${hex(msr)}: a synthetic MSR this hypervisor does not implement` };
  }
}

/**
 * HV_X64_MSR_HYPERCALL (TLFS "Establishing the Hypercall Interface"): a page
 * beyond the GPA space is a #GP; without a guest OS ID the enable bit stays
 * zero whatever is written; bits 11:1 are kept as written (the lock, bit 1,
 * is not offered, so it locks nothing). Enabling writes the page into guest
 * RAM as Xen's enable_hypercall_page does; if that GPA is not writable RAM,
 * Xen logs a warning and the MSR keeps its value, and so does this.
 */
function writeHypercallMsr(v: bigint, d: ViridianDomain, g: HvmGuest): MsrResult {
  const gpa = (v >> HV_X64_MSR_HYPERCALL_PAGE_ADDRESS_SHIFT) << HV_X64_MSR_HYPERCALL_PAGE_ADDRESS_SHIFT;
  if (gpa >> BigInt(g.physAddrBits) !== 0n) {
    return { kind: "gp", why: `wrmsr HV_X64_MSR_HYPERCALL ${hex(v)}: the page at ${hex(gpa)} is beyond the ${g.physAddrBits}-bit GPA space` };
  }
  const stored = d.guestOsId === 0n ? v & ~HV_X64_MSR_HYPERCALL_ENABLE : v;
  d.hypercallMsr = stored;
  if ((stored & HV_X64_MSR_HYPERCALL_ENABLE) === 0n) return { kind: "ok", value: stored };
  if (!g.writeGuestPhys(gpa, hypercallPage())) {
    return { kind: "ok", value: stored, warning: `HV_X64_MSR_HYPERCALL: the hypercall page at ${hex(gpa)} is not writable guest RAM; nothing was written there` };
  }
  return { kind: "ok", value: stored };
}

const PAGE_SIZE = 4096;
/** The hypercall page's code (enable_hypercall_page): or $0x80000000,%eax; vmcall; ret. */
const HYPERCALL_CODE = [0x0d, 0x00, 0x00, 0x00, 0x80, 0x0f, 0x01, 0xc1, 0xc3];
const INT3 = 0xcc;

/**
 * The hypercall page's 4 KiB. Bit 31 of EAX is reserved in the Viridian
 * calling convention, so Xen sets it to tell a Viridian hypercall from a Xen
 * one arriving at the same VMCALL; the rest of the page is int3, so a call
 * into the middle of it traps instead of running on.
 */
export function hypercallPage(): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE).fill(INT3);
  page.set(HYPERCALL_CODE, 0);
  return page;
}

/** The registers of a 64-bit Viridian hypercall: RCX the input value, RDX the input GPA (or the first fast parameter), R8 the output GPA. */
export interface ViridianRegs {
  readonly rcx: bigint;
  readonly rdx: bigint;
  readonly r8: bigint;
}

/** A Viridian hypercall's outcome: RAX for the caller and, on success of a flush, the flush to execute before the caller resumes. */
export interface ViridianOutcome {
  /** The call's TLFS name, or "unknown call code 0x…". */
  readonly call: string;
  readonly result: HypercallResult;
  /** encodeHypercallResult(result): what the host puts in RAX. */
  readonly rax: bigint;
  readonly flush?: HvmFlushRequest;
  /** For a failed call, what was wrong and where, for the host's log. */
  readonly why?: string;
}

/**
 * viridian_hypercall, for a caller in 64-bit mode (the host decides the mode
 * and the CPL first; see hvmHypercall in hvm-op.ts). Never throws on any register
 * values or memory contents: every bad input is a status.
 */
export function viridianHypercall(regs: ViridianRegs, g: HvmGuest): ViridianOutcome {
  const input = decodeHypercallInput(regs.rcx);
  const call = HVCALL_NAMES[input.callCode];
  if (call === undefined) {
    // Xen answers every call it does not implement with HV_STATUS_INVALID_HYPERCALL_CODE, whatever the other fields hold.
    const name = `unknown call code ${hex(input.callCode)}`;
    const result = { status: HV_STATUS_INVALID_HYPERCALL_CODE, repsCompleted: 0 };
    return { call: name, result, rax: encodeHypercallResult(result), why: `${name}: not a hypercall this hypervisor implements` };
  }
  const r = hvcallFlush(call, input, BigInt.asUintN(64, regs.rdx), g);
  const rax = encodeHypercallResult(r.result);
  return r.kind === "ok" ? { call, result: r.result, rax, flush: r.flush } : { call, result: r.result, rax, why: r.why };
}
