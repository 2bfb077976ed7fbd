// SPDX-License-Identifier: MIT
//
// The remote-flush hypercalls through viridianHypercall: what each asks the
// host to flush, and one named test for each bad input with the status Xen or
// (where Xen makes no check) the TLFS gives it.

import { describe, expect, it } from "vitest";
import {
  encodeHypercallInput,
  HV_FLUSH_ALL_PROCESSORS,
  HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES,
  HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY,
  HV_FLUSH_USE_EXTENDED_RANGE_FORMAT,
  HV_STATUS_INVALID_ALIGNMENT,
  HV_STATUS_INVALID_HYPERCALL_CODE,
  HV_STATUS_INVALID_HYPERCALL_INPUT,
  HV_STATUS_INVALID_PARAMETER,
  HV_STATUS_SUCCESS,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST as LIST,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX as LIST_EX,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE as SPACE,
  HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX as SPACE_EX,
  type HypercallInput,
} from "../../../hypervisor/x86/hvm/hyperv-tlfs.ts";
import { viridianHypercall } from "../../../hypervisor/x86/hvm/viridian.ts";
import { fakeGuest, type FakeGuest } from "./fake-guest.ts";

const CR3 = 0x0012_3000n;
const IN = 0x7000n; // the input page's GPA

interface Call extends Partial<HypercallInput> {
  callCode: number;
}
/** The RCX of a call: the rep fields, fast and the variable header as given, everything else zero. */
const rcx = (c: Call) => encodeHypercallInput({ fast: false, varHeadSize: 0, repCount: 0, repStart: 0, reserved: 0n, ...c });
const call = (g: FakeGuest, c: Call, gpa = IN) => viridianHypercall({ rcx: rcx(c), rdx: gpa, r8: 0n }, g);
const status = (g: FakeGuest, c: Call, gpa = IN) => call(g, c, gpa).result.status;

describe("HvCallFlushVirtualAddressSpace (0x0002)", () => {
  it("flushes the VPs of the processor mask in the address space named, with the flags passed on", () => {
    const g = fakeGuest(4);
    g.putWords(IN, [CR3, HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY, 0b1010n]);
    const o = call(g, { callCode: SPACE });
    expect(o.result).toEqual({ status: HV_STATUS_SUCCESS, repsCompleted: 0 });
    expect(o.rax).toBe(0n);
    expect(o.flush).toEqual({ call: "HvCallFlushVirtualAddressSpace", vps: [1, 3], addresses: "all", nonGlobalOnly: true, allAddressSpaces: false, addressSpace: CR3 });
  });

  it("HV_FLUSH_ALL_PROCESSORS names every VP of the domain, the caller too, and ignores the mask", () => {
    const g = fakeGuest(3, 1);
    g.putWords(IN, [CR3, HV_FLUSH_ALL_PROCESSORS, 0n]);
    expect(call(g, { callCode: SPACE }).flush?.vps).toEqual([0, 1, 2]);
  });

  it("HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES ignores the address space, even one with reserved bits", () => {
    const g = fakeGuest(2);
    g.putWords(IN, [0xffff_ffff_ffff_ffffn, HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES, 1n]);
    expect(call(g, { callCode: SPACE }).flush).toMatchObject({ vps: [0], allAddressSpaces: true });
  });
});

describe("HvCallFlushVirtualAddressList (0x0003)", () => {
  it("flushes the GVA ranges, each entry's low 12 bits counting the pages after the first; reps completed = rep count", () => {
    const g = fakeGuest(4);
    g.putWords(IN, [CR3, 0n, 0b0101n, 0x0040_0000n, 0x7fff_0000_0003n, 0xffff_8000_0010_0fffn]);
    const o = call(g, { callCode: LIST, repCount: 3 });
    expect(o.result).toEqual({ status: HV_STATUS_SUCCESS, repsCompleted: 3 });
    expect(o.rax).toBe(3n << 32n);
    expect(o.flush).toEqual({
      call: "HvCallFlushVirtualAddressList",
      vps: [0, 2],
      addresses: [
        { va: 0x0040_0000n, pages: 1 },
        { va: 0x7fff_0000_0000n, pages: 4 },
        { va: 0xffff_8000_0010_0000n, pages: 4096 },
      ],
      nonGlobalOnly: false,
      allAddressSpaces: false,
      addressSpace: CR3,
    });
  });

  it("starts at the rep start index and still reports the total reps completed (TLFS)", () => {
    const g = fakeGuest(2);
    g.putWords(IN, [CR3, HV_FLUSH_ALL_PROCESSORS, 0n, 0x1000n, 0x2000n, 0x3000n]);
    const o = call(g, { callCode: LIST, repCount: 3, repStart: 2 });
    expect(o.result).toEqual({ status: HV_STATUS_SUCCESS, repsCompleted: 3 });
    expect(o.flush?.addresses).toEqual([{ va: 0x3000n, pages: 1 }]);
  });

  it("ignores a non-canonical GVA and cuts a range at the end of its canonical half (TLFS: invalid GVAs are ignored)", () => {
    const g = fakeGuest(1);
    g.putWords(IN, [CR3, HV_FLUSH_ALL_PROCESSORS, 0n, 0x0000_8000_0000_0000n, 0x7fff_ffff_e00fn, 0xffff_ffff_ffff_f0ffn]);
    expect(call(g, { callCode: LIST, repCount: 3 }).flush?.addresses).toEqual([
      { va: 0x7fff_ffff_e000n, pages: 2 },
      { va: 0xffff_ffff_ffff_f000n, pages: 1 },
    ]);
  });

  it("the largest list that fits in the input page (509 entries after a page-aligned header) is accepted", () => {
    const g = fakeGuest(1);
    g.putWords(IN, [CR3, HV_FLUSH_ALL_PROCESSORS, 0n, ...Array.from({ length: 509 }, (_, i) => BigInt(i) << 12n)]);
    expect(call(g, { callCode: LIST, repCount: 509 }).result).toEqual({ status: HV_STATUS_SUCCESS, repsCompleted: 509 });
  });
});

describe("HvCallFlushVirtualAddressSpaceEx (0x0013) and HvCallFlushVirtualAddressListEx (0x0014)", () => {
  it("a sparse VP set names VPs bank by bank: ValidBanksMask 0b101 with contents for banks 0 and 2", () => {
    const g = fakeGuest(200, 0);
    g.putWords(IN, [CR3, 0n, 0n, 0b101n, 0x21n, 0x4n]);
    const o = call(g, { callCode: SPACE_EX, varHeadSize: 2 });
    expect(o.result.status).toBe(HV_STATUS_SUCCESS);
    expect(o.flush?.vps).toEqual([0, 5, 130]);
    expect(o.flush?.call).toBe("HvCallFlushVirtualAddressSpaceEx");
  });

  it("the list variant finds its GVA list after the bank contents (the variable header)", () => {
    const g = fakeGuest(70);
    g.putWords(IN, [CR3, 0n, 0n, 0b10n, 0b1n, 0xabc_d000n, 0x1234_5001n]);
    const o = call(g, { callCode: LIST_EX, varHeadSize: 1, repCount: 2 });
    expect(o.result).toEqual({ status: HV_STATUS_SUCCESS, repsCompleted: 2 });
    expect(o.flush).toMatchObject({ call: "HvCallFlushVirtualAddressListEx", vps: [64], addresses: [{ va: 0xabc_d000n, pages: 1 }, { va: 0x1234_5000n, pages: 2 }] });
  });

  it("format HV_GENERIC_SET_ALL names every VP", () => {
    const g = fakeGuest(3);
    g.putWords(IN, [CR3, 0n, 1n, 0n]);
    expect(call(g, { callCode: SPACE_EX }).flush?.vps).toEqual([0, 1, 2]);
  });

  it("an empty sparse set flushes nothing and succeeds (HV_VP_SET allows empty banks; neither Xen nor the TLFS refuses it)", () => {
    const g = fakeGuest(3);
    g.putWords(IN, [CR3, 0n, 0n, 1n, 0n]);
    const o = call(g, { callCode: SPACE_EX, varHeadSize: 1 });
    expect(o.result.status).toBe(HV_STATUS_SUCCESS);
    expect(o.flush?.vps).toEqual([]);
  });
});

describe("bad input", () => {
  /** A guest with a valid HvCallFlushVirtualAddressList block of one entry at IN, which each test then spoils in one way. */
  const good = () => {
    const g = fakeGuest(4);
    g.putWords(IN, [CR3, 0n, 0b11n, 0x1000n]);
    return g;
  };

  it("the well-formed call the bad ones are made from succeeds", () => {
    expect(status(good(), { callCode: LIST, repCount: 1 })).toBe(HV_STATUS_SUCCESS);
  });

  it("an unknown call code: HV_STATUS_INVALID_HYPERCALL_CODE (Xen's default case)", () => {
    const o = call(good(), { callCode: 0x0001 });
    expect(o.result.status).toBe(HV_STATUS_INVALID_HYPERCALL_CODE);
    expect(o.why).toMatch(/unknown call code 0x1/);
  });

  it("a call Xen implements but this hypervisor does not offer (HvCallSendSyntheticClusterIpi, 0x000b): HV_STATUS_INVALID_HYPERCALL_CODE", () => {
    expect(status(good(), { callCode: 0x000b })).toBe(HV_STATUS_INVALID_HYPERCALL_CODE);
  });

  it.each([27n, 31n, 44n, 47n, 60n, 63n])("reserved bit %s of the input value set: HV_STATUS_INVALID_HYPERCALL_INPUT", (bit) => {
    const o = call(good(), { callCode: LIST, repCount: 1, reserved: 1n << bit });
    expect(o.result.status).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect(o.why).toMatch(/reserved bits/);
  });

  it("a rep count on a simple call: HV_STATUS_INVALID_HYPERCALL_INPUT", () => {
    expect(status(good(), { callCode: SPACE, repCount: 1 })).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
  });

  it("a rep start index on a simple call: HV_STATUS_INVALID_HYPERCALL_INPUT", () => {
    expect(status(good(), { callCode: SPACE, repStart: 1 })).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
  });

  it("a rep call with a rep count of zero: HV_STATUS_INVALID_HYPERCALL_INPUT", () => {
    expect(status(good(), { callCode: LIST, repCount: 0 })).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
  });

  it("a rep start index equal to the rep count: HV_STATUS_INVALID_HYPERCALL_INPUT", () => {
    expect(status(good(), { callCode: LIST, repCount: 1, repStart: 1 })).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
  });

  it("a variable header on a call that takes none: HV_STATUS_INVALID_HYPERCALL_INPUT", () => {
    expect(status(good(), { callCode: SPACE, varHeadSize: 1 })).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
  });

  it("a variable header size other than the number of banks in ValidBanksMask: HV_STATUS_INVALID_HYPERCALL_INPUT", () => {
    const g = fakeGuest(200);
    g.putWords(IN, [CR3, 0n, 0n, 0b101n, 1n, 1n]);
    expect(status(g, { callCode: SPACE_EX, varHeadSize: 1 })).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect(status(g, { callCode: SPACE_EX, varHeadSize: 3 })).toBe(HV_STATUS_INVALID_HYPERCALL_INPUT);
  });

  it.each([SPACE, LIST, SPACE_EX, LIST_EX])("the fast flag on call %s, which never takes it: HV_STATUS_INVALID_PARAMETER (Xen hvcall_flush)", (code) => {
    const rep = code === LIST || code === LIST_EX ? 1 : 0;
    expect(status(good(), { callCode: code, fast: true, repCount: rep })).toBe(HV_STATUS_INVALID_PARAMETER);
  });

  it("an input GPA that is not 8-byte aligned: HV_STATUS_INVALID_ALIGNMENT", () => {
    expect(status(good(), { callCode: LIST, repCount: 1 }, IN + 4n)).toBe(HV_STATUS_INVALID_ALIGNMENT);
  });

  it("an input GPA beyond the GPA space: HV_STATUS_INVALID_ALIGNMENT", () => {
    expect(status(good(), { callCode: SPACE }, 1n << 46n)).toBe(HV_STATUS_INVALID_ALIGNMENT);
    expect(status(good(), { callCode: SPACE }, 0xffff_ffff_ffff_f000n)).toBe(HV_STATUS_INVALID_ALIGNMENT);
  });

  it("an input block that crosses into the next page: HV_STATUS_INVALID_ALIGNMENT", () => {
    const g = good();
    g.putWords(IN + 0xff0n, [CR3, 0n, 1n]);
    expect(status(g, { callCode: SPACE }, IN + 0xff0n)).toBe(HV_STATUS_INVALID_ALIGNMENT);
  });

  it("too many reps for the page (510 entries after a page-aligned header): HV_STATUS_INVALID_ALIGNMENT", () => {
    expect(status(good(), { callCode: LIST, repCount: 510 })).toBe(HV_STATUS_INVALID_ALIGNMENT);
  });

  it("an input GPA that is not guest RAM: HV_STATUS_INVALID_PARAMETER (Xen: hvm_copy_from_guest_phys fails)", () => {
    const o = call(good(), { callCode: SPACE }, 0x20_0000n);
    expect(o.result.status).toBe(HV_STATUS_INVALID_PARAMETER);
    expect(o.why).toMatch(/0x200000 is not readable guest RAM/);
  });

  it("a GVA list that is not guest RAM: HV_STATUS_INVALID_PARAMETER", () => {
    const g = good();
    // The page is RAM, but a reader that refuses the list stands for a block that ends in an MMIO hole.
    const refusing = { ...g, readGuestPhys: (gpa: bigint, n: number) => (gpa === IN + 24n ? undefined : g.readGuestPhys(gpa, n)) };
    const o = viridianHypercall({ rcx: rcx({ callCode: LIST, repCount: 1 }), rdx: IN, r8: 0n }, refusing);
    expect(o.result.status).toBe(HV_STATUS_INVALID_PARAMETER);
    expect(o.why).toMatch(/GVA list at 0x7018/);
  });

  it("bank contents that are not guest RAM: HV_STATUS_INVALID_PARAMETER", () => {
    const g = fakeGuest(4);
    const block = 0xa000n;
    g.putWords(block, [CR3, 0n, 0n, 1n]);
    // As above: the page is RAM, but the reader refuses the bank contents.
    const refusing = { ...g, readGuestPhys: (gpa: bigint, n: number) => (gpa === block + 32n ? undefined : g.readGuestPhys(gpa, n)) };
    expect(viridianHypercall({ rcx: rcx({ callCode: SPACE_EX, varHeadSize: 1 }), rdx: block, r8: 0n }, refusing).result.status).toBe(HV_STATUS_INVALID_PARAMETER);
  });

  it("a reserved flag (HV_FLUSH_USE_EXTENDED_RANGE_FORMAT, not offered): HV_STATUS_INVALID_PARAMETER", () => {
    const g = good();
    g.putWords(IN + 8n, [HV_FLUSH_USE_EXTENDED_RANGE_FORMAT]);
    expect(status(g, { callCode: LIST, repCount: 1 })).toBe(HV_STATUS_INVALID_PARAMETER);
  });

  it("a high reserved flag (bit 63): HV_STATUS_INVALID_PARAMETER", () => {
    const g = good();
    g.putWords(IN + 8n, [1n << 63n]);
    expect(status(g, { callCode: SPACE })).toBe(HV_STATUS_INVALID_PARAMETER);
  });

  it("HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY on a list flush: HV_STATUS_INVALID_PARAMETER (TLFS: an invalid option there)", () => {
    const g = good();
    g.putWords(IN + 8n, [HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY]);
    const o = call(g, { callCode: LIST, repCount: 1 });
    expect(o.result.status).toBe(HV_STATUS_INVALID_PARAMETER);
    expect(o.why).toMatch(/HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY/);
  });

  it("an address space with bits at or above MAXPHYADDR: HV_STATUS_INVALID_PARAMETER", () => {
    const g = good();
    g.putWords(IN, [1n << 46n]);
    expect(status(g, { callCode: LIST, repCount: 1 })).toBe(HV_STATUS_INVALID_PARAMETER);
  });

  it("an empty processor mask without HV_FLUSH_ALL_PROCESSORS: HV_STATUS_INVALID_PARAMETER (TLFS)", () => {
    const g = good();
    g.putWords(IN + 16n, [0n]);
    expect(status(g, { callCode: SPACE })).toBe(HV_STATUS_INVALID_PARAMETER);
  });

  it("an HV_VP_SET format that is neither sparse nor all: HV_STATUS_INVALID_PARAMETER (Xen hv_vpset_to_vpmask)", () => {
    const g = fakeGuest(4);
    g.putWords(IN, [CR3, 0n, 2n, 0n]);
    expect(status(g, { callCode: SPACE_EX })).toBe(HV_STATUS_INVALID_PARAMETER);
  });

  it("a VP index beyond the domain is dropped, not refused (Xen's vpmask_set and flush_tlb): the others are flushed", () => {
    const g = good(); // 4 vCPUs
    g.putWords(IN + 16n, [(1n << 63n) | (1n << 4n) | 1n]);
    const o = call(g, { callCode: LIST, repCount: 1 });
    expect(o.result.status).toBe(HV_STATUS_SUCCESS);
    expect(o.flush?.vps).toEqual([0]);
  });

  it("a sparse bank beyond the domain is dropped, not refused", () => {
    const g = fakeGuest(4);
    g.putWords(IN, [CR3, 0n, 0n, 1n << 63n, ~0n]);
    const o = call(g, { callCode: SPACE_EX, varHeadSize: 1 });
    expect(o.result.status).toBe(HV_STATUS_SUCCESS);
    expect(o.flush?.vps).toEqual([]);
  });

  it("no refused call asks for a flush, and every refused call reports zero reps completed", () => {
    const o = call(good(), { callCode: LIST, repCount: 1, fast: true });
    expect(o.flush).toBeUndefined();
    expect(o.result.repsCompleted).toBe(0);
  });
});
