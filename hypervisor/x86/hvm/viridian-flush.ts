// SPDX-License-Identifier: MIT
//
// The four remote-flush hypercalls of the TLFS, as Xen's hvcall_flush and
// hvcall_flush_ex take them in (xen/arch/x86/hvm/viridian/viridian.c), with
// the TLFS's checks where Xen makes none.
//
//   input block at the input GPA (8-byte aligned, all within one page)
//   HvCallFlushVirtualAddressSpace (0x0002, simple)   HvCallFlushVirtualAddressSpaceEx (0x0013, simple)
//   HvCallFlushVirtualAddressList  (0x0003, rep)      HvCallFlushVirtualAddressListEx  (0x0014, rep)
//   ┌────┬───────────────┐                             ┌────┬───────────────────────────────┐
//   │  0 │ AddressSpace  │                             │  0 │ AddressSpace                  │
//   │  8 │ Flags         │                             │  8 │ Flags                         │
//   │ 16 │ ProcessorMask │                             │ 16 │ HV_VP_SET.Format              │
//   ├────┼───────────────┤                             │ 24 │ HV_VP_SET.ValidBanksMask      │
//   │ 24 │ GVA entry 0   │  (list only)                ├────┼───────────────────────────────┤
//   │ …  │ …             │                             │ 32 │ BankContents[n], the variable │
//   └────┴───────────────┘                             │    │ header: n = popcount(banks)   │
//                                                      ├────┼───────────────────────────────┤
//   GVA entry: bits 63:12 the page,                    │ 32+8n │ GVA entry 0 (list only)    │
//   bits 11:0 the number of pages after it             └────┴───────────────────────────────┘
//
// The checks run in this order (the TLFS leaves the order to the hypervisor):
//  1. the input value: RsvdZ bits, a rep count on a simple call or none on a
//     rep call, a rep start index not below the rep count, a variable header
//     on a call without one → HV_STATUS_INVALID_HYPERCALL_INPUT (TLFS "Common
//     Hypercall Status Codes", "Variable Sized Hypercall Input Headers");
//  2. the fast convention, which none of these calls accepts →
//     HV_STATUS_INVALID_PARAMETER (Xen: "These hypercalls should never use
//     the fast-call convention", -EINVAL);
//  3. the input GPA: not 8-byte aligned, beyond the GPA space, or the block
//     (with every rep) crossing its page → HV_STATUS_INVALID_ALIGNMENT (TLFS);
//  4. reading the block: any part that is not readable RAM →
//     HV_STATUS_INVALID_PARAMETER (Xen: hvm_copy_from_guest_phys failing is
//     -EINVAL);
//  5. the flags: reserved flags, or HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY on a
//     list → HV_STATUS_INVALID_PARAMETER (TLFS; Xen ignores the flags);
//  6. the address space, unless HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES: bits at
//     or above MAXPHYADDR, reserved in a CR3 → HV_STATUS_INVALID_PARAMETER
//     (TLFS HvFlushVirtualAddressSpace's return values);
//  7. the processors: an empty ProcessorMask without HV_FLUSH_ALL_PROCESSORS
//     → HV_STATUS_INVALID_PARAMETER (TLFS); a variable header size other than
//     the number of banks in ValidBanksMask → HV_STATUS_INVALID_HYPERCALL_INPUT
//     (as KVM's kvm_hv_flush_tlb checks; Xen trusts the mask); an HV_VP_SET
//     format other than sparse or all → HV_STATUS_INVALID_PARAMETER (Xen's
//     hv_vpset_to_vpmask). VP indexes at or beyond the domain's vCPU count
//     are dropped, not refused, as Xen's vpmask_set and flush_tlb drop them.
//
// A GVA beyond the canonical address space is ignored, as the TLFS says of
// "invalid GVAs", and a range is cut where it would leave the canonical half
// it starts in. On success the reps completed are the rep count, as Xen sets
// them; on an error they are 0 (nothing was flushed).

import {
  HV_FLUSH_ALL_PROCESSORS,
  HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES,
  HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY,
  HV_GENERIC_SET_ALL,
  HV_GENERIC_SET_SPARSE_4K,
  HV_STATUS_INVALID_ALIGNMENT,
  HV_STATUS_INVALID_HYPERCALL_INPUT,
  HV_STATUS_INVALID_PARAMETER,
  HV_STATUS_SUCCESS,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX,
  type HypercallInput,
  type HypercallResult,
} from "./hyperv-tlfs.ts";
import type { HvmFlushRequest, GvaRange, HvmGuest } from "./viridian.ts";

/** A flush hypercall's answer: the flush to execute, or the status and why. */
export type FlushCallResult =
  | { readonly kind: "ok"; readonly result: HypercallResult; readonly flush: HvmFlushRequest }
  | { readonly kind: "error"; readonly result: HypercallResult; readonly why: string };

/** What distinguishes the four calls: a rep list or not, a sparse VP set (_EX) or a 64-bit mask. */
interface CallShape {
  readonly rep: boolean;
  readonly ex: boolean;
  /** The fixed header's size: AddressSpace, Flags and ProcessorMask, or AddressSpace, Flags, Format and ValidBanksMask. */
  readonly fixedBytes: number;
}

const shapeOf = (callCode: number): CallShape => {
  const rep = callCode === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || callCode === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
  const ex = callCode === HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX || callCode === HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
  return { rep, ex, fixedBytes: ex ? 32 : 24 };
};

const PAGE_SIZE = 4096n;
const PAGE_MASK = PAGE_SIZE - 1n;
/** The flags these calls define; HV_FLUSH_USE_EXTENDED_RANGE_FORMAT is not offered (CPUID 0x40000003 EDX bit 14 is clear). */
const FLUSH_FLAGS_DEFINED = HV_FLUSH_ALL_PROCESSORS | HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES | HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY;
/** The VPs one HV_VP_SET bank covers. */
const VPS_PER_BANK = 64;
/** The canonical halves of the 48-bit linear address space. */
const LOWER_HALF_END = 1n << 47n;
const UPPER_HALF_START = 0xffff_8000_0000_0000n;
const ADDRESS_SPACE_END = 1n << 64n;

const hex = (v: number | bigint) => `0x${v.toString(16)}`;
const u64 = (b: Uint8Array, offset: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset, true);
const fail = (status: number, why: string): FlushCallResult => ({ kind: "error", result: { status, repsCompleted: 0 }, why });

function popcount64(v: bigint): number {
  let n = 0;
  for (let x = v; x !== 0n; x &= x - 1n) n++;
  return n;
}

/** hvcall_flush / hvcall_flush_ex: validates the call and its input block at inputGpa and says what to flush. */
export function hvcallFlush(call: string, input: HypercallInput, inputGpa: bigint, g: HvmGuest): FlushCallResult {
  const shape = shapeOf(input.callCode);

  // 1. The input value.
  if (input.reserved !== 0n) return fail(HV_STATUS_INVALID_HYPERCALL_INPUT, `${call}: reserved bits ${hex(input.reserved)} of the input value are set`);
  if (shape.rep && input.repCount === 0) return fail(HV_STATUS_INVALID_HYPERCALL_INPUT, `${call} is a rep call but its rep count is 0`);
  if (!shape.rep && input.repCount !== 0) return fail(HV_STATUS_INVALID_HYPERCALL_INPUT, `${call} is a simple call but its rep count is ${input.repCount}`);
  if (!shape.rep && input.repStart !== 0) return fail(HV_STATUS_INVALID_HYPERCALL_INPUT, `${call} is a simple call but its rep start index is ${input.repStart}`);
  if (shape.rep && input.repStart >= input.repCount) {
    return fail(HV_STATUS_INVALID_HYPERCALL_INPUT, `${call}: the rep start index ${input.repStart} is not below the rep count ${input.repCount}`);
  }
  if (!shape.ex && input.varHeadSize !== 0) return fail(HV_STATUS_INVALID_HYPERCALL_INPUT, `${call} takes no variable header but its size is ${input.varHeadSize}`);

  // 2. The calling convention.
  if (input.fast) return fail(HV_STATUS_INVALID_PARAMETER, `${call} does not take the fast (register) calling convention`);

  // 3. Where the block is.
  if ((inputGpa & 7n) !== 0n) return fail(HV_STATUS_INVALID_ALIGNMENT, `${call}: the input GPA ${hex(inputGpa)} is not 8-byte aligned`);
  if (inputGpa >> BigInt(g.physAddrBits) !== 0n) return fail(HV_STATUS_INVALID_ALIGNMENT, `${call}: the input GPA ${hex(inputGpa)} is beyond the ${g.physAddrBits}-bit GPA space`);
  const headerBytes = shape.fixedBytes + 8 * input.varHeadSize;
  const blockBytes = headerBytes + 8 * input.repCount;
  if ((inputGpa & PAGE_MASK) + BigInt(blockBytes) > PAGE_SIZE) {
    return fail(HV_STATUS_INVALID_ALIGNMENT, `${call}: the input block at ${hex(inputGpa)} (${blockBytes} bytes with ${input.repCount} reps) crosses into the next page`);
  }

  // 4. The fixed header.
  const header = g.readGuestPhys(inputGpa, shape.fixedBytes);
  if (!header) return fail(HV_STATUS_INVALID_PARAMETER, `${call}: the input block at ${hex(inputGpa)} is not readable guest RAM`);
  const addressSpace = u64(header, 0);
  const flags = u64(header, 8);

  // 5. The flags.
  if ((flags & ~FLUSH_FLAGS_DEFINED) !== 0n) return fail(HV_STATUS_INVALID_PARAMETER, `${call}: reserved flags ${hex(flags & ~FLUSH_FLAGS_DEFINED)} are set`);
  if (shape.rep && (flags & HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY) !== 0n) {
    return fail(HV_STATUS_INVALID_PARAMETER, `${call}: HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY is an invalid option for a list flush`);
  }
  const allAddressSpaces = (flags & HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES) !== 0n;

  // 6. The address space.
  if (!allAddressSpaces && addressSpace >> BigInt(g.physAddrBits) !== 0n) {
    return fail(HV_STATUS_INVALID_PARAMETER, `${call}: the address space ${hex(addressSpace)} sets bits at or above MAXPHYADDR (${g.physAddrBits}), reserved in a CR3`);
  }

  // 7. The processors.
  const vps = shape.ex ? vpSetTargets(call, header, flags, input, inputGpa, g) : maskTargets(call, u64(header, 16), flags, g);
  if (!Array.isArray(vps)) return vps;

  // The GVA list, from the rep start index on.
  let addresses: "all" | GvaRange[] = "all";
  if (shape.rep) {
    const first = inputGpa + BigInt(headerBytes + 8 * input.repStart);
    const n = input.repCount - input.repStart;
    const list = g.readGuestPhys(first, 8 * n);
    if (!list) return fail(HV_STATUS_INVALID_PARAMETER, `${call}: the GVA list at ${hex(first)} is not readable guest RAM`);
    addresses = [];
    for (let i = 0; i < n; i++) {
      const range = gvaRange(u64(list, 8 * i));
      if (range) addresses.push(range);
    }
  }

  const flush: HvmFlushRequest = {
    call,
    vps,
    addresses,
    nonGlobalOnly: (flags & HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY) !== 0n,
    allAddressSpaces,
    addressSpace,
  };
  return { kind: "ok", result: { status: HV_STATUS_SUCCESS, repsCompleted: input.repCount }, flush };
}

const allVps = (g: HvmGuest) => Array.from({ length: g.vcpuCount }, (_, i) => i);

/** HvCallFlushVirtualAddress{Space,List}: the 64-bit ProcessorMask, or every VP with HV_FLUSH_ALL_PROCESSORS (which Xen, unsure whether the caller is meant, takes to include it). */
function maskTargets(call: string, mask: bigint, flags: bigint, g: HvmGuest): number[] | FlushCallResult {
  if ((flags & HV_FLUSH_ALL_PROCESSORS) !== 0n) return allVps(g);
  if (mask === 0n) return fail(HV_STATUS_INVALID_PARAMETER, `${call}: the processor mask is empty and HV_FLUSH_ALL_PROCESSORS is not set`);
  return allVps(g).filter((vp) => vp < 64 && ((mask >> BigInt(vp)) & 1n) === 1n);
}

/** HvCallFlushVirtualAddress{Space,List}Ex: the HV_VP_SET (hv_vpset_to_vpmask). */
function vpSetTargets(call: string, header: Uint8Array, flags: bigint, input: HypercallInput, inputGpa: bigint, g: HvmGuest): number[] | FlushCallResult {
  const format = u64(header, 16);
  const validBanks = u64(header, 24);
  const banks = popcount64(validBanks);
  if (input.varHeadSize !== banks) {
    return fail(HV_STATUS_INVALID_HYPERCALL_INPUT, `${call}: the variable header holds ${input.varHeadSize} words but ValidBanksMask ${hex(validBanks)} names ${banks} banks`);
  }
  if ((flags & HV_FLUSH_ALL_PROCESSORS) !== 0n || format === HV_GENERIC_SET_ALL) return allVps(g);
  if (format !== HV_GENERIC_SET_SPARSE_4K) return fail(HV_STATUS_INVALID_PARAMETER, `${call}: the processor set's format ${hex(format)} is neither sparse (0) nor all (1)`);
  if (banks === 0) return [];
  const contentsGpa = inputGpa + 32n;
  const contents = g.readGuestPhys(contentsGpa, 8 * banks);
  if (!contents) return fail(HV_STATUS_INVALID_PARAMETER, `${call}: the processor set's bank contents at ${hex(contentsGpa)} are not readable guest RAM`);
  const vps: number[] = [];
  let slot = 0;
  for (let bank = 0; bank < 64; bank++) {
    if (((validBanks >> BigInt(bank)) & 1n) === 0n) continue;
    const mask = u64(contents, 8 * slot++);
    for (let bit = 0; bit < VPS_PER_BANK; bit++) {
      const vp = bank * VPS_PER_BANK + bit;
      if (vp < g.vcpuCount && ((mask >> BigInt(bit)) & 1n) === 1n) vps.push(vp);
    }
  }
  return vps;
}

/** One GVA entry: the page in bits 63:12 and the count of further pages in bits 11:0; undefined if the page is not canonical. */
function gvaRange(entry: bigint): GvaRange | undefined {
  const va = entry & ~PAGE_MASK;
  const pages = Number(entry & PAGE_MASK) + 1;
  const end = va < LOWER_HALF_END ? LOWER_HALF_END : va >= UPPER_HALF_START ? ADDRESS_SPACE_END : undefined;
  if (end === undefined) return undefined;
  return { va, pages: Math.min(pages, Number((end - va) / PAGE_SIZE)) };
}
