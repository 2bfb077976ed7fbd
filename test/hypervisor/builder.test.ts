// SPDX-License-Identifier: MIT
//
// The PV domain builder places things as Xen's PV builder does (issue 12's
// list), and refuses images that are not PV kernels.

import { describe, expect, it } from "vitest";
import { ArrayMemory, Hypervisor, buildPvDomain, maddr, PGT, xen } from "../../hypervisor/index.ts";
import { LoadError } from "../../emulator/machine/core/elf-load.ts";
import { ShootdownError } from "../../emulator/machine/core/errors.ts";
import { expectConsistent, KERNEL_BASE, makeElf, makeHv, PT_NOTE, testKernel, xenNote } from "./helpers.ts";

const { START_INFO } = xen;

function oneDomain(nrPages = 1024 + 64) {
  const t = makeHv({ domains: 1, nrPages, image: testKernel(), frames: 4096 });
  return { ...t, dom: t.doms[0]! };
}

/** Reads a u64 at a guest virtual address through the builder's p2m (the bootstrap region maps PFN = (va - virt_base) >> 12). */
function readVirt(t: ReturnType<typeof oneDomain>, va: bigint): bigint {
  const { layout } = t.dom;
  return t.mem.read64(maddr(layout.p2m[Number((va - layout.virtBase) >> 12n)]!, Number(va & 0xfffn)));
}

describe("the PV domain builder", () => {
  it("backs PFNs with MFNs that are neither the PFNs nor contiguous", () => {
    const { dom } = oneDomain();
    const p2m = dom.layout.p2m;
    expect(p2m.length).toBe(1024 + 64);
    expect(new Set(p2m).size).toBe(p2m.length);
    expect(p2m.every((mfn, pfn) => mfn !== pfn)).toBe(true);
    expect(p2m.some((mfn, pfn) => pfn > 0 && Math.abs(mfn - p2m[pfn - 1]!) === 1)).toBe(false);
  });

  it("sets virt_base to the lowest p_vaddr rounded down to 4 MiB and places a PT_LOAD byte at PFN (v - virt_base) >> 12", () => {
    const bytes = new Uint8Array(0x1800).map((_, i) => i & 0xff);
    const image = makeElf(0x60_1000n, [{ vaddr: 0x60_1000n, bytes }]);
    const t = makeHv({ domains: 0, frames: 4096 });
    const d = t.hv.createDomain(1, 2048, 1);
    const layout = buildPvDomain(t.hv, { image, domain: d, nrPages: 2048 });
    expect(layout.virtBase).toBe(0x40_0000n);
    const pfn = (0x60_1000 - 0x40_0000) >> 12;
    expect(t.mem.read(maddr(layout.p2m[pfn]!), 16)).toEqual(bytes.subarray(0, 16));
    expect(t.mem.read(maddr(layout.p2m[pfn + 1]!, 0x800), 1)[0]).toBe(bytes[0x1800 - 0x800]! & 0xff);
  });

  it("takes virt_base from XEN_ELFNOTE_VIRT_BASE when the image has one", () => {
    const image = makeElf(0x80_0000n, [
      { vaddr: 0x80_0000n, bytes: new Uint8Array(0x1000) },
      { type: PT_NOTE, vaddr: 0n, bytes: xenNote(xen.XEN_ELFNOTE_VIRT_BASE, 0x70_0000n) },
    ]);
    const t = makeHv({ domains: 0, frames: 4096 });
    const layout = buildPvDomain(t.hv, { image, domain: t.hv.createDomain(1, 2048, 1), nrPages: 2048 });
    expect(layout.virtBase).toBe(0x70_0000n);
  });

  it("lays out p2m list, start_info, L4..L1 tables and boot stack after the kernel, page-aligned, in that order", () => {
    const t = oneDomain();
    const { layout } = t.dom;
    const kernelEnd = KERNEL_BASE + 0x4000n;
    expect(layout.p2mVa).toBe(kernelEnd);
    expect(layout.startInfoVa).toBe(kernelEnd + 0x3000n); // 1088 entries of 8 bytes: 3 pages
    expect(layout.ptBase).toBe(layout.startInfoVa + 0x1000n);
    expect(layout.nrPtFrames).toBe(1 + 1 + 1 + 2); // the 4 MiB bootstrap region needs two L1s
    expect(layout.stackTop).toBe(layout.ptBase + BigInt(layout.nrPtFrames + 1) * 0x1000n);
    expect(layout.vEnd).toBe(0x80_0000n);
    for (let pfn = 0; pfn < 1088; pfn++) expect(readVirt(t, layout.p2mVa + BigInt(8 * pfn))).toBe(BigInt(layout.p2m[pfn]!));
  });

  it("fills start_info at Xen's offsets: magic xen-3.0-x86_64, nr_pages, pt_base, nr_pt_frames, mfn_list, cmd_line, the rest 0", () => {
    const t = oneDomain();
    const { layout } = t.dom;
    const si = t.mem.read(maddr(layout.p2m[Number((layout.startInfoVa - layout.virtBase) >> 12n)]!), START_INFO.SIZE);
    const v = new DataView(si.buffer);
    expect(new TextDecoder().decode(si.subarray(0, 15))).toBe("xen-3.0-x86_64\0");
    expect(v.getBigUint64(START_INFO.NR_PAGES, true)).toBe(1088n);
    expect(v.getBigUint64(START_INFO.SHARED_INFO, true)).toBe(0n);
    expect(v.getBigUint64(START_INFO.PT_BASE, true)).toBe(layout.ptBase);
    expect(v.getBigUint64(START_INFO.NR_PT_FRAMES, true)).toBe(5n);
    expect(v.getBigUint64(START_INFO.MFN_LIST, true)).toBe(layout.p2mVa);
    expect(new TextDecoder().decode(si.subarray(START_INFO.CMD_LINE, START_INFO.CMD_LINE + 5))).toBe("test\0");
    expect(v.getBigUint64(START_INFO.FIRST_P2M_PFN, true)).toBe(0n);
  });

  it("types every bootstrap table, pins the L4 and makes it vCPU 0's CR3, maps the tables read-only and the rest writable", () => {
    const t = oneDomain();
    const { layout, d } = t.dom;
    const l4 = t.hv.frames.page(layout.l4Mfn);
    expect(l4.type).toBe(PGT.l4);
    expect(l4.pinned).toBe(true);
    expect(l4.typeCount).toBe(2); // the pin and vCPU 0's CR3
    expect(d.vcpus[0]!.guestTable).toBe(layout.l4Mfn);
    const types = Array.from({ length: layout.nrPtFrames }, (_, k) => t.hv.frames.page(layout.p2m[Number((layout.ptBase - layout.virtBase) >> 12n) + k]!).type);
    expect(types).toEqual([PGT.l4, PGT.l3, PGT.l2, PGT.l1, PGT.l1]);
    const firstL1 = layout.p2m[Number((layout.ptBase - layout.virtBase) >> 12n) + 3]!;
    const pte = (va: bigint) => t.mem.read64(maddr(firstL1, Number((va >> 12n) & 511n) * 8));
    expect(pte(layout.ptBase) & 3n).toBe(1n);
    expect(pte(KERNEL_BASE) & 3n).toBe(3n);
    expect(pte(layout.stackTop - 0x1000n) & 3n).toBe(3n);
    expect(t.hv.frames.page(layout.p2m[0]!).type).toBe(PGT.writable);
    // PFNs past v_end belong to the domain but nothing maps them.
    const spare = t.hv.frames.page(layout.p2m[1024]!);
    expect(spare.owner).toBe(d);
    expect(spare.count).toBe(1);
    expect(d.vcpus[0]!.context).toEqual({ rip: KERNEL_BASE, rsi: layout.startInfoVa, rsp: layout.stackTop, rdi: 0n, rflags: 2n, cr3: maddr(layout.l4Mfn) });
    expectConsistent(t.hv);
  });

  it("writes the hypervisor's L4 slots: the M2P read-only at MACH2PHYS_VIRT_START, with each frame's PFN", () => {
    const t = oneDomain();
    const { layout } = t.dom;
    const l4e = t.mem.read64(maddr(layout.l4Mfn, 256 * 8));
    expect(l4e & 3n).toBe(1n);
    expect(t.hv.getGpfnFromMfn(layout.p2m[7]!)).toBe(7n);
    // Walk the M2P mapping as the CPU would: L4 slot 256 → L3 → L2 → L1 → the entry of MFN p2m[7].
    const va = xen.MACH2PHYS_VIRT_START + 8n * BigInt(layout.p2m[7]!);
    let table = l4e;
    for (let level = 3; level >= 1; level--) table = t.mem.read64(maddr(Number((table >> 12n) & 0xff_ffff_ffffn), Number((va >> BigInt(12 + 9 * (level - 1))) & 511n) * 8));
    expect(table & 2n).toBe(0n);
    expect(t.mem.read64(maddr(Number((table >> 12n) & 0xff_ffff_ffffn), Number(va & 0xfffn)))).toBe(7n);
  });

  describe("refuses images that are not PV kernels, saying why", () => {
    const build = (image: Uint8Array, nrPages = 2048) => {
      const t = makeHv({ domains: 0, frames: 4096 });
      return () => buildPvDomain(t.hv, { image, domain: t.hv.createDomain(1, nrPages, 1), nrPages });
    };
    it("no PT_LOAD", () => {
      expect(build(makeElf(0x40_0000n, [{ type: PT_NOTE, vaddr: 0n, bytes: xenNote(3, 0n) }]))).toThrow(/no PT_LOAD/);
    });
    it("virtual addresses in the hypervisor's range", () => {
      expect(build(makeElf(0xffff_8000_0010_0000n, [{ vaddr: 0xffff_8000_0010_0000n, bytes: new Uint8Array(16) }]))).toThrow(/hypervisor's range/);
    });
    it("segments that overlap one another", () => {
      const seg = { vaddr: 0x40_0000n, bytes: new Uint8Array(0x1000) };
      expect(build(makeElf(0x40_0000n, [seg, { ...seg, vaddr: 0x40_0800n }]))).toThrow(/share a page/);
    });
    it("a builder's region that would reach the hypervisor's range", () => {
      const top = 0x7fff_fff8_0000n;
      expect(build(makeElf(top, [{ vaddr: top, bytes: new Uint8Array(0x1000) }]))).toThrow(/builder's region/);
    });
    it("larger than the domain", () => {
      expect(build(testKernel(), 512)).toThrow(/need 1024 pages .* the domain has 512/);
    });
    it("a hypervisor without frames enough for its own M2P and GDT, or with no pCPU", () => {
      const memory = new ArrayMemory(0n, 1 << 20);
      expect(() => new Hypervisor({ memory, firstMfn: 0x10, nrFrames: 3, nrPcpus: 1 })).toThrow(/too few even for its own M2P/);
      expect(() => new Hypervisor({ memory, firstMfn: 0x10, nrFrames: 64, nrPcpus: 0 })).toThrow(ShootdownError);
    });
    it("not an ELF file at all", () => {
      expect(build(new Uint8Array(100))).toThrow(LoadError);
    });
  });

  it("runs over the emulator's own Memory", async () => {
    const { Machine } = await import("../../emulator/machine/index.ts");
    const m = new Machine({ cpus: 1, ram: [{ base: 0n, size: 32n << 20n }] });
    const hv = new Hypervisor({ memory: m.memory, firstMfn: 0x200, nrFrames: 0x1e00, nrPcpus: 1, seed: 5n });
    const d = hv.createDomain(1, 1100, 1);
    const layout = buildPvDomain(hv, { image: testKernel(), domain: d, nrPages: 1100 });
    expect(m.memory.read64(maddr(layout.l4Mfn, 256 * 8)) & 1n).toBe(1n);
    expect(hv.getGpfnFromMfn(layout.p2m[3]!)).toBe(3n);
    expectConsistent(hv);
  });

  it("uses an ArrayMemory the same way", () => {
    const mem = new ArrayMemory(0n, 8 << 20);
    const hv = new Hypervisor({ memory: mem, firstMfn: 0x100, nrFrames: 0x700, nrPcpus: 1 });
    buildPvDomain(hv, { image: testKernel(), domain: hv.createDomain(3, 1024, 1), nrPages: 1024 });
    expectConsistent(hv);
  });
});
