// SPDX-License-Identifier: MIT
//
// The numbers of Microsoft's Hypervisor Top Level Functional Specification
// (TLFS) that the Viridian layer uses, as Xen's
// xen/arch/x86/include/asm/guest/hyperv-tlfs.h names them: the synthetic
// MSRs, the CPUID bits, the hypercall call codes, flush flags and status
// codes, and the two 64-bit words of the hypercall ABI (the input value in
// RCX and the result value in RAX) with their decoders and encoders.
//
//   hypercall input value (RCX), TLFS "Hypercall Inputs"
//   63   60 59        48 47  44 43       32 31  27 26          17  16  15        0
//   ┌──────┬────────────┬──────┬───────────┬──────┬──────────────┬────┬───────────┐
//   │RsvdZ │ rep start  │RsvdZ │ rep count │RsvdZ │ var. header  │fast│ call code │
//   └──────┴────────────┴──────┴───────────┴──────┴──────────────┴────┴───────────┘
//
//   hypercall result value (RAX), TLFS "Hypercall Outputs"
//   63          44 43             32 31         16 15            0
//   ┌─────────────┬─────────────────┬─────────────┬──────────────┐
//   │    Rsvd     │ reps completed  │    Rsvd     │ HV_STATUS    │
//   └─────────────┴─────────────────┴─────────────┴──────────────┘

/** The synthetic MSRs this hypervisor implements (TLFS "Reporting the Guest OS Identity", "Establishing the Hypercall Interface"). */
export const HV_X64_MSR_GUEST_OS_ID = 0x4000_0000;
export const HV_X64_MSR_HYPERCALL = 0x4000_0001;
export const HV_X64_MSR_VP_INDEX = 0x4000_0002;
/** Xen hands every MSR from 0x40000000 to 0x400001ff to guest_{rd,wr}msr_viridian (xen/arch/x86/msr.c); the unimplemented ones #GP there. */
export const VIRIDIAN_MSR_FIRST = 0x4000_0000;
export const VIRIDIAN_MSR_LAST = 0x4000_01ff;

/** HV_X64_MSR_HYPERCALL: bit 0 enables the page, bit 1 locks the MSR (not offered here), bits 63:12 are its GPFN. */
export const HV_X64_MSR_HYPERCALL_ENABLE = 1n;
export const HV_X64_MSR_HYPERCALL_LOCKED = 2n;
export const HV_X64_MSR_HYPERCALL_PAGE_ADDRESS_SHIFT = 12n;

/** The first hypervisor CPUID leaf and the highest one this hypervisor defines (Xen's cpuid_viridian_leaves answers up to 0x40000006). */
export const HYPERV_CPUID_VENDOR_AND_MAX_FUNCTIONS = 0x4000_0000;
export const HYPERV_CPUID_INTERFACE = 0x4000_0001;
export const HYPERV_CPUID_VERSION = 0x4000_0002;
export const HYPERV_CPUID_FEATURES = 0x4000_0003;
export const HYPERV_CPUID_ENLIGHTMENT_INFO = 0x4000_0004;
export const HYPERV_CPUID_IMPLEMENT_LIMITS = 0x4000_0005;
export const HYPERV_CPUID_HW_FEATURES = 0x4000_0006;
/** Xen passes leaves 0x40000000 to 0x400000ff to cpuid_viridian_leaves; the ones it does not define read as zero. */
export const HYPERV_CPUID_LAST = 0x4000_00ff;

/** HV_PARTITION_PRIVILEGE_MASK bits (CPUID 0x40000003 EAX is bits 31:0, EBX bits 63:32). */
export const HV_MSR_HYPERCALL_AVAILABLE = 1 << 5; // AccessHypercallMsrs: HV_X64_MSR_GUEST_OS_ID and HV_X64_MSR_HYPERCALL
export const HV_MSR_VP_INDEX_AVAILABLE = 1 << 6; // AccessVpIndex: HV_X64_MSR_VP_INDEX

/** CPUID 0x40000004 EAX, implementation recommendations. */
export const HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED = 1 << 2;
export const HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED = 1 << 11;
/** CPUID 0x40000006 EAX: second-level address translation (EPT) is in use (Xen's CPUID6A_NESTED_PAGING). */
export const HV_X64_SLAT_IN_USE = 1 << 3;

/** Hypercall call codes (TLFS appendix "Hypercall Code Reference"). */
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE = 0x0002;
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST = 0x0003;
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX = 0x0013;
export const HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX = 0x0014;

export const HVCALL_NAMES: Readonly<Record<number, string>> = {
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE]: "HvCallFlushVirtualAddressSpace",
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST]: "HvCallFlushVirtualAddressList",
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX]: "HvCallFlushVirtualAddressSpaceEx",
  [HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX]: "HvCallFlushVirtualAddressListEx",
};

/** HV_FLUSH_FLAGS. */
export const HV_FLUSH_ALL_PROCESSORS = 1n << 0n;
export const HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES = 1n << 1n;
export const HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY = 1n << 2n;
/** Only valid when CPUID 0x40000003 EDX bit 14 offers extended GVA ranges, which this hypervisor does not. */
export const HV_FLUSH_USE_EXTENDED_RANGE_FORMAT = 1n << 3n;

/** HV_VP_SET.Format (TLFS datatype HV_VP_SET). */
export const HV_GENERIC_SET_SPARSE_4K = 0n;
export const HV_GENERIC_SET_ALL = 1n;

/** HV_STATUS values. */
export const HV_STATUS_SUCCESS = 0x0000;
export const HV_STATUS_INVALID_HYPERCALL_CODE = 0x0002;
export const HV_STATUS_INVALID_HYPERCALL_INPUT = 0x0003;
export const HV_STATUS_INVALID_ALIGNMENT = 0x0004;
export const HV_STATUS_INVALID_PARAMETER = 0x0005;

export const HV_STATUS_NAMES: Readonly<Record<number, string>> = {
  [HV_STATUS_SUCCESS]: "HV_STATUS_SUCCESS",
  [HV_STATUS_INVALID_HYPERCALL_CODE]: "HV_STATUS_INVALID_HYPERCALL_CODE",
  [HV_STATUS_INVALID_HYPERCALL_INPUT]: "HV_STATUS_INVALID_HYPERCALL_INPUT",
  [HV_STATUS_INVALID_ALIGNMENT]: "HV_STATUS_INVALID_ALIGNMENT",
  [HV_STATUS_INVALID_PARAMETER]: "HV_STATUS_INVALID_PARAMETER",
};

/** "HV_STATUS_INVALID_PARAMETER" for 5; the number in hex for a status this layer never returns. */
export function hvStatusName(status: number): string {
  return HV_STATUS_NAMES[status] ?? `HV_STATUS_0x${status.toString(16).padStart(4, "0")}`;
}

// Field positions of the input value.
const CALL_CODE_MASK = 0xffffn;
const FAST_BIT = 16n;
const VARHEAD_SHIFT = 17n;
const VARHEAD_MASK = 0x3ffn;
const REP_COUNT_SHIFT = 32n;
const REP_START_SHIFT = 48n;
const REP_MASK = 0xfffn;
/** The RsvdZ bits of the input value: 31:27, 47:44, 63:60. */
export const HV_HYPERCALL_INPUT_RSVD_MASK = (0x1fn << 27n) | (0xfn << 44n) | (0xfn << 60n);

/** The hypercall input value, field by field. */
export interface HypercallInput {
  readonly callCode: number;
  /** Fast: the register-based calling convention (parameters in RDX and R8, not in memory). */
  readonly fast: boolean;
  /** The variable header size, in 8-byte words. */
  readonly varHeadSize: number;
  readonly repCount: number;
  readonly repStart: number;
  /** The RsvdZ bits exactly as the caller set them (zero for a well-formed value). */
  readonly reserved: bigint;
}

/** Splits RCX into the TLFS fields; every bit of the 64 lands in exactly one field. */
export function decodeHypercallInput(rcx: bigint): HypercallInput {
  const v = BigInt.asUintN(64, rcx);
  return {
    callCode: Number(v & CALL_CODE_MASK),
    fast: ((v >> FAST_BIT) & 1n) === 1n,
    varHeadSize: Number((v >> VARHEAD_SHIFT) & VARHEAD_MASK),
    repCount: Number((v >> REP_COUNT_SHIFT) & REP_MASK),
    repStart: Number((v >> REP_START_SHIFT) & REP_MASK),
    reserved: v & HV_HYPERCALL_INPUT_RSVD_MASK,
  };
}

/** The inverse of decodeHypercallInput (a guest's hv_do_hypercall builds the same word); out-of-range fields are a bug in the caller. */
export function encodeHypercallInput(i: HypercallInput): bigint {
  const field = (value: number, mask: bigint, what: string) => {
    if (!Number.isInteger(value) || value < 0 || BigInt(value) > mask) throw new RangeError(`hypercall input: ${what} ${value} does not fit its field`);
    return BigInt(value);
  };
  if ((i.reserved & ~HV_HYPERCALL_INPUT_RSVD_MASK) !== 0n) throw new RangeError("hypercall input: reserved bits outside the RsvdZ fields");
  return (
    field(i.callCode, CALL_CODE_MASK, "call code") |
    (i.fast ? 1n << FAST_BIT : 0n) |
    (field(i.varHeadSize, VARHEAD_MASK, "variable header size") << VARHEAD_SHIFT) |
    (field(i.repCount, REP_MASK, "rep count") << REP_COUNT_SHIFT) |
    (field(i.repStart, REP_MASK, "rep start index") << REP_START_SHIFT) |
    i.reserved
  );
}

/** The hypercall result value: a status and, for rep calls, the total number of reps completed (not relative to the rep start index). */
export interface HypercallResult {
  readonly status: number;
  readonly repsCompleted: number;
}

/** RAX for a result; the reserved bits are written as zero, as Xen's union hypercall_output does. */
export function encodeHypercallResult(r: HypercallResult): bigint {
  if (!Number.isInteger(r.status) || r.status < 0 || r.status > 0xffff) throw new RangeError(`hypercall result: status ${r.status} does not fit 16 bits`);
  if (!Number.isInteger(r.repsCompleted) || r.repsCompleted < 0 || r.repsCompleted > 0xfff) throw new RangeError(`hypercall result: reps completed ${r.repsCompleted} does not fit 12 bits`);
  return BigInt(r.status) | (BigInt(r.repsCompleted) << REP_COUNT_SHIFT);
}

/** What a caller reads back from RAX, ignoring the reserved bits as the TLFS tells it to. */
export function decodeHypercallResult(rax: bigint): HypercallResult {
  const v = BigInt.asUintN(64, rax);
  return { status: Number(v & 0xffffn), repsCompleted: Number((v >> REP_COUNT_SHIFT) & REP_MASK) };
}
