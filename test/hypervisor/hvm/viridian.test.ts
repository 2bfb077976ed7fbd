// SPDX-License-Identifier: MIT
//
// How a guest discovers and sets up the Viridian interface: the CPUID leaves
// (xen cpuid_viridian_leaves, TLFS "Feature and Interface Discovery"), the
// synthetic MSRs with their #GPs, and the hypercall page's code.

import { describe, expect, it } from "vitest";
import { backendFor } from "../../../asm/index.ts";
import {
  HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED,
  HV_X64_MSR_GUEST_OS_ID,
  HV_X64_MSR_HYPERCALL,
  HV_X64_MSR_VP_INDEX,
  HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED,
} from "../../../hypervisor/x86/hvm/hyperv-tlfs.ts";
import { cpuidViridianLeaves, hypercallPage, newViridianDomain, rdmsrViridian, wrmsrViridian } from "../../../hypervisor/x86/hvm/viridian.ts";
import { fakeGuest } from "./fake-guest.ts";

/** The registers' bytes as the guest reads a signature: EBX, ECX, EDX (leaf 0) or EAX (leaf 1), little-endian. */
const text = (...regs: number[]) => regs.map((r) => String.fromCharCode(r & 0xff, (r >>> 8) & 0xff, (r >>> 16) & 0xff, r >>> 24)).join("");
/** A Linux guest OS ID: open source (bit 63), OS type Linux (1) in bits 62:56. */
const LINUX_GUEST_OS_ID = (1n << 63n) | (1n << 56n) | 0x0006_0800_00n;

describe("CPUID 0x40000000 and up", () => {
  const d = newViridianDomain();
  const g = { vcpuCount: 6 };

  it("0x40000000: vendor \"Microsoft Hv\" and a highest leaf of 0x40000006 (at least 0x40000005, TLFS)", () => {
    const l = cpuidViridianLeaves(0x4000_0000, d, g)!;
    expect(text(l.ebx, l.ecx, l.edx)).toBe("Microsoft Hv");
    expect(l.eax).toBe(0x4000_0006);
  });

  it("0x40000001: interface \"Hv#1\"", () => {
    expect(text(cpuidViridianLeaves(0x4000_0001, d, g)!.eax)).toBe("Hv#1");
  });

  it("0x40000003: AccessHypercallMsrs (bit 5) and AccessVpIndex (bit 6), and no privilege for MSRs that are not implemented", () => {
    const l = cpuidViridianLeaves(0x4000_0003, d, g)!;
    expect(l).toEqual({ eax: (1 << 5) | (1 << 6), ebx: 0, ecx: 0, edx: 0 });
  });

  it("0x40000004: HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED (bit 2) and ExProcessorMasks (bit 11), before any guest OS ID is written", () => {
    const l = cpuidViridianLeaves(0x4000_0004, newViridianDomain(), g)!;
    expect(HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED).toBe(1 << 2);
    expect(HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED).toBe(1 << 11);
    expect(l.eax).toBe((1 << 2) | (1 << 11));
    expect(l.ebx).toBe(0xffff_ffff); // never notify a long spin wait
  });

  it("0x40000005: the domain's vCPU count as the maximum number of virtual processors", () => {
    expect(cpuidViridianLeaves(0x4000_0005, d, { vcpuCount: 6 })!.eax).toBe(6);
    expect(cpuidViridianLeaves(0x4000_0005, d, { vcpuCount: 1 })!.eax).toBe(1);
  });

  it("0x40000006: second-level address translation in use (bit 3)", () => {
    expect(cpuidViridianLeaves(0x4000_0006, d, g)!.eax).toBe(1 << 3);
  });

  it("0x40000002: zero until the guest reports its OS ID, then Xen's version (build 0x1772, 6.0)", () => {
    const fresh = newViridianDomain();
    expect(cpuidViridianLeaves(0x4000_0002, fresh, g)).toEqual({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
    fresh.guestOsId = LINUX_GUEST_OS_ID;
    expect(cpuidViridianLeaves(0x4000_0002, fresh, g)).toEqual({ eax: 0x1772, ebx: 6 << 16, ecx: 0, edx: 0 });
  });

  it("leaves past 0x40000006 up to 0x400000ff read as zero, and others are not Viridian's", () => {
    expect(cpuidViridianLeaves(0x4000_0007, d, g)).toEqual({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
    expect(cpuidViridianLeaves(0x4000_00ff, d, g)).toEqual({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
    expect(cpuidViridianLeaves(0x4000_0100, d, g)).toBeUndefined();
    expect(cpuidViridianLeaves(0x3fff_ffff, d, g)).toBeUndefined();
    expect(cpuidViridianLeaves(1, d, g)).toBeUndefined();
  });
});

describe("the synthetic MSRs", () => {
  it("HV_X64_MSR_VP_INDEX reads the caller's VP index", () => {
    const d = newViridianDomain();
    expect(rdmsrViridian(HV_X64_MSR_VP_INDEX, d, { vpIndex: 3 })).toEqual({ kind: "ok", value: 3n });
  });

  it("HV_X64_MSR_VP_INDEX is read-only: a write is #GP", () => {
    const r = wrmsrViridian(HV_X64_MSR_VP_INDEX, 0n, newViridianDomain(), fakeGuest());
    expect(r).toMatchObject({ kind: "gp", why: expect.stringMatching(/read-only/) });
  });

  it("HV_X64_MSR_GUEST_OS_ID reads back what was written, by every VP (partition-wide)", () => {
    const d = newViridianDomain();
    expect(wrmsrViridian(HV_X64_MSR_GUEST_OS_ID, LINUX_GUEST_OS_ID, d, fakeGuest(2, 0))).toMatchObject({ kind: "ok" });
    expect(rdmsrViridian(HV_X64_MSR_GUEST_OS_ID, d, { vpIndex: 1 })).toEqual({ kind: "ok", value: LINUX_GUEST_OS_ID });
  });

  it("HV_X64_MSR_HYPERCALL with the enable bit writes the hypercall page at its GPA", () => {
    const d = newViridianDomain();
    const g = fakeGuest();
    g.map(0x5000n);
    wrmsrViridian(HV_X64_MSR_GUEST_OS_ID, LINUX_GUEST_OS_ID, d, g);
    expect(wrmsrViridian(HV_X64_MSR_HYPERCALL, 0x5001n, d, g)).toEqual({ kind: "ok", value: 0x5001n });
    expect(g.readGuestPhys(0x5000n, 4096)).toEqual(hypercallPage());
    expect(rdmsrViridian(HV_X64_MSR_HYPERCALL, d, g)).toEqual({ kind: "ok", value: 0x5001n });
  });

  it("HV_X64_MSR_HYPERCALL without a guest OS ID: the enable bit stays zero and nothing is written (TLFS)", () => {
    const d = newViridianDomain();
    const g = fakeGuest();
    g.map(0x5000n);
    expect(wrmsrViridian(HV_X64_MSR_HYPERCALL, 0x5001n, d, g)).toEqual({ kind: "ok", value: 0x5000n });
    expect(g.readGuestPhys(0x5000n, 9)).toEqual(new Uint8Array(9));
  });

  it("zeroing HV_X64_MSR_GUEST_OS_ID disables the hypercall page (TLFS)", () => {
    const d = newViridianDomain();
    const g = fakeGuest();
    g.map(0x5000n);
    wrmsrViridian(HV_X64_MSR_GUEST_OS_ID, LINUX_GUEST_OS_ID, d, g);
    wrmsrViridian(HV_X64_MSR_HYPERCALL, 0x5001n, d, g);
    wrmsrViridian(HV_X64_MSR_GUEST_OS_ID, 0n, d, g);
    expect(rdmsrViridian(HV_X64_MSR_HYPERCALL, d, g)).toEqual({ kind: "ok", value: 0x5000n });
  });

  it("HV_X64_MSR_HYPERCALL with a page beyond the GPA space is #GP and the MSR keeps its value (TLFS)", () => {
    const d = newViridianDomain();
    const g = fakeGuest(4, 0, 46);
    wrmsrViridian(HV_X64_MSR_GUEST_OS_ID, LINUX_GUEST_OS_ID, d, g);
    const r = wrmsrViridian(HV_X64_MSR_HYPERCALL, (1n << 46n) | 1n, d, g);
    expect(r).toMatchObject({ kind: "gp", why: expect.stringMatching(/beyond the 46-bit GPA space/) });
    expect(d.hypercallMsr).toBe(0n);
  });

  it("HV_X64_MSR_HYPERCALL at a GPA that is not RAM: the MSR takes the value and a warning says the page was not written (Xen's enable_hypercall_page)", () => {
    const d = newViridianDomain();
    const g = fakeGuest();
    wrmsrViridian(HV_X64_MSR_GUEST_OS_ID, LINUX_GUEST_OS_ID, d, g);
    const r = wrmsrViridian(HV_X64_MSR_HYPERCALL, 0x9000n | 1n, d, g);
    expect(r).toMatchObject({ kind: "ok", value: 0x9001n, warning: expect.stringMatching(/0x9000 is not writable guest RAM/) });
  });

  it("an unimplemented MSR in 0x40000000..0x400001ff is #GP for reads and writes; one outside is left to the host", () => {
    const d = newViridianDomain();
    for (const msr of [0x4000_0003, 0x4000_0073, 0x4000_01ff]) {
      expect(rdmsrViridian(msr, d, { vpIndex: 0 })).toMatchObject({ kind: "gp" });
      expect(wrmsrViridian(msr, 0n, d, fakeGuest())).toMatchObject({ kind: "gp" });
    }
    expect(rdmsrViridian(0x4000_0200, d, { vpIndex: 0 })).toBeUndefined();
    expect(wrmsrViridian(0xc000_0080, 0n, d, fakeGuest())).toBeUndefined();
  });
});

describe("the hypercall page", () => {
  const names = { objdump: (a: bigint) => `0x${a.toString(16)}`, source: (a: bigint) => `0x${a.toString(16)}` };
  const x86 = backendFor("x86_64");

  it("disassembles to or $0x80000000,%eax; vmcall; ret, then int3 to the end of the page", () => {
    const page = hypercallPage();
    expect(page.length).toBe(4096);
    const texts: string[] = [];
    let offset = 0;
    while (offset < 12) {
      const d = x86.decode(page, offset, BigInt(offset), names);
      texts.push(d.text.replace(/\s+/g, " ").trim());
      offset += d.length;
    }
    expect(texts).toEqual(["or $0x80000000,%eax", "vmcall", "ret", "int3", "int3", "int3"]);
    expect(page.subarray(9).every((b) => b === 0xcc)).toBe(true);
  });
});
