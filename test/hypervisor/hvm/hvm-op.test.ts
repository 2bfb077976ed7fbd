// SPDX-License-Identifier: MIT
//
// The VMCALL exit's dispatch (Xen's hvm_hypercall): Viridian by bit 31 of
// EAX, otherwise a Xen hypercall number, with hvm_op's HVMOP_flush_tlbs
// (do_hvm_op, hvmop_flush_tlb_all) and the errnos Xen gives.

import { describe, expect, it } from "vitest";
import { EINVAL, ENOSYS, EPERM } from "../../../hypervisor/common/errno.ts";
import { encodeHypercallInput, HV_FLUSH_ALL_PROCESSORS, HV_STATUS_INVALID_HYPERCALL_CODE, HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE } from "../../../hypervisor/x86/hvm/hyperv-tlfs.ts";
import { doHvmOp, HVMOP_flush_tlbs, HYPERVISOR_hvm_op, xenHvmHypercall } from "../../../hypervisor/x86/hvm/hvm-op.ts";
import { hvmHypercall, type HvmHypercallRegs } from "../../../hypervisor/x86/hvm/hvm-op.ts";
import { fakeGuest } from "./fake-guest.ts";

const errno = (e: number) => BigInt.asUintN(64, BigInt(-e));
const regs = (r: Partial<HvmHypercallRegs>): HvmHypercallRegs => ({ rax: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, r8: 0n, r10: 0n, cpl: 0, ...r });
const ALL_VCPUS_FLUSH = { call: "HVMOP_flush_tlbs", vps: [0, 1, 2], addresses: "all", nonGlobalOnly: false, allAddressSpaces: true, addressSpace: 0n };

describe("hvm_op (34)", () => {
  it("HVMOP_flush_tlbs with a NULL handle: 0, and every vCPU of the domain flushed, all address spaces, global translations too", () => {
    const o = xenHvmHypercall({ rax: 34n, rdi: 5n, rsi: 0n }, { vcpuCount: 3 });
    expect(o).toEqual({ call: "hvm_op:HVMOP_flush_tlbs", rc: 0, rax: 0n, flush: ALL_VCPUS_FLUSH });
    expect(HYPERVISOR_hvm_op).toBe(34);
    expect(HVMOP_flush_tlbs).toBe(5);
  });

  it("HVMOP_flush_tlbs with a handle that is not NULL: -EINVAL and no flush (do_hvm_op: guest_handle_is_null)", () => {
    const o = xenHvmHypercall({ rax: 34n, rdi: 5n, rsi: 0x1000n }, { vcpuCount: 3 });
    expect(o.rc).toBe(-EINVAL);
    expect(o.rax).toBe(errno(EINVAL));
    expect(o.flush).toBeUndefined();
  });

  it.each([0n, 1n, 4n, 6n, 0x1_0000_0005n])("hvm_op %s, which this hypervisor does not implement: -ENOSYS (do_hvm_op's default)", (op) => {
    expect(doHvmOp(op, 0n, { vcpuCount: 2 })).toEqual({ rc: -ENOSYS });
  });
});

describe("Xen hypercall numbers", () => {
  it.each([0n, 1n, 17n, 26n, 33n, 35n, 63n, 0x7fff_ffffn, 1n << 32n | 34n])("number %s: -ENOSYS", (nr) => {
    const o = xenHvmHypercall({ rax: nr, rdi: 5n, rsi: 0n }, { vcpuCount: 2 });
    expect(o.rc).toBe(-ENOSYS);
    expect(o.rax).toBe(errno(ENOSYS));
    expect(o.flush).toBeUndefined();
  });
});

describe("hvm_hypercall: which ABI", () => {
  it("EAX bit 31 clear: a Xen hypercall (hvm_op flush, result 0)", () => {
    const o = hvmHypercall(regs({ rax: 34n, rdi: 5n }), fakeGuest(3));
    expect(o).toEqual({ abi: "xen", call: "hvm_op:HVMOP_flush_tlbs", resultName: "0", rax: 0n, flush: ALL_VCPUS_FLUSH });
  });

  it("EAX bit 31 set (the hypercall page's or $0x80000000,%eax): a Viridian hypercall with RCX the input value and RDX the input GPA", () => {
    const g = fakeGuest(2);
    g.putWords(0x3000n, [0x5000n, HV_FLUSH_ALL_PROCESSORS, 0n]);
    const o = hvmHypercall(regs({ rax: 0x8000_0000n, rcx: encodeHypercallInput({ callCode: HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, fast: false, varHeadSize: 0, repCount: 0, repStart: 0, reserved: 0n }), rdx: 0x3000n }), g);
    expect(o).toMatchObject({ abi: "viridian", call: "HvCallFlushVirtualAddressSpace", resultName: "HV_STATUS_SUCCESS", rax: 0n, flush: { vps: [0, 1] } });
  });

  it("EAX bit 31 set with the Xen number 34 below it is still Viridian (Xen tests the bit first)", () => {
    const o = hvmHypercall(regs({ rax: 0x8000_0022n, rdi: 5n, rcx: 0x1n }), fakeGuest(2));
    expect(o.abi).toBe("viridian");
    expect(o.rax).toBe(BigInt(HV_STATUS_INVALID_HYPERCALL_CODE));
  });

  it("bit 31 of RAX's upper half is not bit 31 of EAX: RAX 0x80000000_00000022 is a Xen number, -ENOSYS", () => {
    const o = hvmHypercall(regs({ rax: 0x8000_0000_0000_0022n, rdi: 5n }), fakeGuest(2));
    expect(o).toMatchObject({ abi: "xen", resultName: "-ENOSYS", rax: errno(ENOSYS) });
  });

  it.each([1, 3])("a hypercall from CPL %s: -EPERM whichever ABI, and nothing run (hvm_hypercall checks hvm_get_cpl first)", (cpl) => {
    const g = fakeGuest(2);
    for (const rax of [34n, 0x8000_0000n]) {
      const o = hvmHypercall(regs({ rax, rdi: 5n, cpl }), g);
      expect(o.rax).toBe(errno(EPERM));
      expect(o.flush).toBeUndefined();
      expect(o.why).toMatch(new RegExp(`CPL ${cpl}`));
    }
  });
});
