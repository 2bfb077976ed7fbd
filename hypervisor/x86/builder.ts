// SPDX-License-Identifier: MIT
//
// The PV domain builder: places a kernel and its boot data as Xen's PV
// builder does (README.md, "The builder's layout"), so a guest written
// against Xen's ABI finds what it expects.
//
//   virt_base ─┬─ the kernel's PT_LOAD segments (PFN = (v - virt_base) >> 12)
//              ├─ p2m list: nr_pages u64 MFNs by PFN      (start_info.mfn_list)
//              ├─ start_info page                         (RSI)
//              ├─ L4, L3s, L2s, L1s, mapped read-only     (start_info.pt_base)
//              ├─ boot stack, at least one page           (RSP = its top)
//   v_end ─────┴─ the first 4 MiB boundary >= 512 KiB above the stack
//   PFNs from (v_end - virt_base) >> 12 on belong to the domain, unmapped.
//
// Every table is validated by pinning the L4 (which types the L3s, L2s and
// L1s through their references), and the L4 becomes vCPU 0's CR3.

import { readElf, ElfError, type ElfFile } from "../../asm/index.ts";
import { LoadError } from "../../emulator/machine/core/elf-load.ts";
import type { Domain, VCpuContext } from "../common/domain.ts";
import { PGT } from "../common/frame-table.ts";
import { maddr, PAGE_SIZE } from "../common/memory.ts";
import { finish } from "../common/routine.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { allocDomheapPage } from "./page-ref.ts";
import { getPageAndTypeFromMfn } from "./page-type.ts";
import { makePte, tableOffset, _PAGE_ACCESSED, _PAGE_PRESENT, _PAGE_RW } from "./pte.ts";
import { HYPERVISOR_VIRT_END, HYPERVISOR_VIRT_START, MAX_GUEST_CMDLINE, START_INFO, START_INFO_MAGIC, XEN_ELFNOTE_VIRT_BASE } from "./public.ts";

const PT_LOAD = 1;
const PT_NOTE = 4;
const MIB = 1n << 20n;
const PAGE = BigInt(PAGE_SIZE);
const hex = (v: bigint | number) => `0x${v.toString(16)}`;
const roundUp = (v: bigint, to: bigint) => ((v + to - 1n) / to) * to;

export interface BuildOptions {
  /** The ELF64 x86-64 kernel image. */
  image: Uint8Array;
  /** The domain to build into: created empty, with its vCPUs. */
  domain: Domain;
  /** Pages the domain gets (its reservation). */
  nrPages: number;
  /** The words after `--`, for start_info.cmd_line. */
  cmdline?: string;
}

/** Where the builder put things, all virtual addresses but the MFNs. */
export interface BuildResult {
  virtBase: bigint;
  vEnd: bigint;
  p2mVa: bigint;
  startInfoVa: bigint;
  ptBase: bigint;
  nrPtFrames: number;
  stackTop: bigint;
  /** MFN of each PFN. */
  p2m: readonly number[];
  /** MFN of the L4 (vCPU 0's CR3 is its machine address). */
  l4Mfn: number;
  /** vCPU 0's registers: RIP e_entry, RSI start_info, RSP the stack top, IF clear. */
  vcpu0: VCpuContext;
}

/** XEN_ELFNOTE_VIRT_BASE from the image's PT_NOTE segments, if any. */
function virtBaseNote(elf: ElfFile, image: Uint8Array): bigint | undefined {
  for (const [i, s] of elf.segments.entries()) {
    if (s.type !== PT_NOTE) continue;
    if (s.offset + s.filesz > image.length) throw new LoadError(`program header ${i} (PT_NOTE) reaches past the end of the image`);
    const v = new DataView(image.buffer, image.byteOffset + s.offset, s.filesz);
    for (let at = 0; at + 12 <= s.filesz; ) {
      const namesz = v.getUint32(at, true);
      const descsz = v.getUint32(at + 4, true);
      const type = v.getUint32(at + 8, true);
      const nameAt = at + 12;
      const descAt = nameAt + roundUpN(namesz, 4);
      if (descAt + descsz > s.filesz) throw new LoadError(`program header ${i} (PT_NOTE): a note at offset ${hex(at)} runs past the segment`);
      const name = new TextDecoder().decode(image.subarray(s.offset + nameAt, s.offset + nameAt + namesz)).replace(/\0+$/, "");
      if (name === "Xen" && type === XEN_ELFNOTE_VIRT_BASE) {
        if (descsz !== 8 && descsz !== 4) throw new LoadError(`the XEN_ELFNOTE_VIRT_BASE note has ${descsz} bytes of value; want 4 or 8`);
        return descsz === 8 ? v.getBigUint64(descAt, true) : BigInt(v.getUint32(descAt, true));
      }
      at = descAt + roundUpN(descsz, 4);
    }
  }
  return undefined;
}
const roundUpN = (v: number, to: number) => Math.ceil(v / to) * to;

/** The page tables mapping [base, end) with 4 KiB pages: one L4 and the L3s, L2s and L1s it needs. */
function countTables(base: bigint, end: bigint): { l3: number; l2: number; l1: number } {
  const span = (shift: bigint) => Number(((end - 1n) >> shift) - (base >> shift) + 1n);
  return { l3: span(39n), l2: span(30n), l1: span(21n) };
}

const inHole = (start: bigint, end: bigint) => start < HYPERVISOR_VIRT_END && end > HYPERVISOR_VIRT_START;
const nonCanonical = (start: bigint, end: bigint) => start < 0xffff_8000_0000_0000n && end > 1n << 47n;

/**
 * Builds a PV domain from an ELF64 kernel. Refuses, with a LoadError saying
 * why, an image that is not a PV kernel: no PT_LOAD, addresses in the
 * hypervisor's range or outside the canonical halves, segments overlapping
 * each other or the builder's region, or a layout larger than the domain.
 */
export function buildPvDomain(hv: Hypervisor, o: BuildOptions): BuildResult {
  const d = o.domain;
  let elf: ElfFile;
  try {
    elf = readElf(o.image);
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(e.message);
    throw e;
  }
  if (elf.arch !== "x86_64") throw new LoadError(`an ${elf.arch} image; a PV domain needs an x86-64 kernel (e_machine 62)`);
  const loads = elf.segments.map((s, i) => ({ ...s, i })).filter((s) => s.type === PT_LOAD && s.memsz > 0);
  if (!loads.length) throw new LoadError("the image has no PT_LOAD segment: it is not a PV kernel");
  for (const s of loads) {
    const end = s.vaddr + BigInt(s.memsz);
    const what = `program header ${s.i} (p_vaddr ${hex(s.vaddr)}, p_memsz ${hex(s.memsz)})`;
    if (end > 1n << 64n || nonCanonical(s.vaddr, end)) throw new LoadError(`${what} is not in a canonical half of the address space`);
    if (inHole(s.vaddr, end)) throw new LoadError(`${what} overlaps the hypervisor's range ${hex(HYPERVISOR_VIRT_START)}–${hex(HYPERVISOR_VIRT_END - 1n)}; link the kernel elsewhere`);
    for (const t of loads) {
      if (t.i <= s.i) continue;
      const tEnd = t.vaddr + BigInt(t.memsz);
      if (s.vaddr >> 12n <= (tEnd - 1n) >> 12n && t.vaddr >> 12n <= (end - 1n) >> 12n) {
        throw new LoadError(`${what} and program header ${t.i} (p_vaddr ${hex(t.vaddr)}) share a page; each page of a PV kernel comes from one segment`);
      }
    }
  }
  const lowest = loads.reduce((m, s) => (s.vaddr < m ? s.vaddr : m), loads[0]!.vaddr);
  const note = virtBaseNote(elf, o.image);
  const virtBase = note ?? (lowest / (4n * MIB)) * (4n * MIB);
  if (note !== undefined && (note & (PAGE - 1n)) !== 0n) throw new LoadError(`XEN_ELFNOTE_VIRT_BASE ${hex(note)} is not page-aligned`);
  if (lowest < virtBase) throw new LoadError(`program header at ${hex(lowest)} lies below virt_base ${hex(virtBase)} (XEN_ELFNOTE_VIRT_BASE)`);
  const kernelEnd = roundUp(loads.reduce((m, s) => (s.vaddr + BigInt(s.memsz) > m ? s.vaddr + BigInt(s.memsz) : m), 0n), PAGE);
  if (!loads.some((s) => elf.entry >= s.vaddr && elf.entry < s.vaddr + BigInt(s.memsz))) {
    throw new LoadError(`the entry point ${hex(elf.entry)} is in no PT_LOAD segment`);
  }

  // The builder's region, in Xen's order; the page-table count depends on v_end, which depends on it.
  const nrPages = o.nrPages;
  const p2mVa = kernelEnd;
  const startInfoVa = p2mVa + roundUp(BigInt(nrPages) * 8n, PAGE);
  const ptBase = startInfoVa + PAGE;
  let nrPt = 4;
  let vEnd = 0n;
  let tables = { l3: 1, l2: 1, l1: 1 };
  for (;;) {
    const stackEnd = ptBase + BigInt(nrPt) * PAGE + PAGE;
    vEnd = roundUp(stackEnd + 512n * 1024n, 4n * MIB);
    tables = countTables(virtBase, vEnd);
    const need = 1 + tables.l3 + tables.l2 + tables.l1;
    if (need <= nrPt) break;
    nrPt = need;
  }
  const nrPtFrames = 1 + tables.l3 + tables.l2 + tables.l1;
  // Frames the count reserved beyond the tables lengthen the stack, which stays at least one page.
  const stackTop = ptBase + BigInt(nrPt) * PAGE + PAGE;
  if (inHole(virtBase, vEnd) || nonCanonical(virtBase, vEnd) || vEnd > 1n << 64n) {
    throw new LoadError(`the builder's region after the kernel, ${hex(kernelEnd)}–${hex(vEnd - 1n)}, overlaps the hypervisor's range or leaves the canonical half of the address space`);
  }
  const mappedPages = Number((vEnd - virtBase) >> 12n);
  if (mappedPages > nrPages) {
    throw new LoadError(`the kernel and its boot data need ${mappedPages} pages (${hex(virtBase)}–${hex(vEnd - 1n)}) but the domain has ${nrPages}; give it more memory`);
  }
  if (nrPages > d.maxPages) throw new LoadError(`the domain's ${nrPages} pages exceed its maximum of ${d.maxPages}`);
  if (nrPages > hv.allocator.nrFree) throw new LoadError(`the domain needs ${nrPages} frames and the hypervisor has ${hv.allocator.nrFree} free`);
  const cmdline = new TextEncoder().encode(o.cmdline ?? "");
  if (cmdline.length >= MAX_GUEST_CMDLINE) throw new LoadError(`the guest command line is ${cmdline.length} bytes; start_info holds at most ${MAX_GUEST_CMDLINE - 1}`);

  // Frames: neither the PFNs nor contiguous (the allocator is seeded; refuse the obvious).
  const c = hv.on(d.vcpus[0]!);
  const p2m: number[] = [];
  for (let pfn = 0; pfn < nrPages; pfn++) {
    const prev = p2m[pfn - 1];
    const page = finish(allocDomheapPage(c, d, (mfn) => mfn !== pfn && (prev === undefined || Math.abs(mfn - prev) !== 1)));
    if (!page) throw new LoadError(`the hypervisor ran out of frames while building domain ${d.domid}`);
    p2m.push(page.mfn);
    hv.setGpfnFromMfn(page.mfn, BigInt(pfn));
    hv.mem.zero(maddr(page.mfn), PAGE_SIZE);
  }
  const va2ma = (va: bigint) => maddr(p2m[Number((va - virtBase) >> 12n)]!, Number(va & (PAGE - 1n)));
  const writeVirt = (va: bigint, bytes: Uint8Array) => {
    for (let done = 0; done < bytes.length; ) {
      const at = va + BigInt(done);
      const n = Math.min(bytes.length - done, PAGE_SIZE - Number(at & (PAGE - 1n)));
      hv.mem.write(va2ma(at), bytes.subarray(done, done + n));
      done += n;
    }
  };

  for (const s of loads) writeVirt(s.vaddr, o.image.subarray(s.offset, s.offset + s.filesz));
  const p2mBytes = new Uint8Array(nrPages * 8);
  const p2mView = new DataView(p2mBytes.buffer);
  p2m.forEach((mfn, pfn) => p2mView.setBigUint64(pfn * 8, BigInt(mfn), true));
  writeVirt(p2mVa, p2mBytes);

  const si = new Uint8Array(START_INFO.SIZE);
  const sv = new DataView(si.buffer);
  si.set(new TextEncoder().encode(START_INFO_MAGIC), START_INFO.MAGIC);
  sv.setBigUint64(START_INFO.NR_PAGES, BigInt(nrPages), true);
  sv.setBigUint64(START_INFO.PT_BASE, ptBase, true);
  sv.setBigUint64(START_INFO.NR_PT_FRAMES, BigInt(nrPtFrames), true);
  sv.setBigUint64(START_INFO.MFN_LIST, p2mVa, true);
  si.set(cmdline, START_INFO.CMD_LINE);
  writeVirt(startInfoVa, si);

  // The tables: L4 first, then the L3s, L2s and L1s, in address order within each level.
  const ptVa = (k: number) => ptBase + BigInt(k) * PAGE;
  const l3First = 1;
  const l2First = l3First + tables.l3;
  const l1First = l2First + tables.l2;
  const tableMfn = (k: number) => p2m[Number((ptVa(k) - virtBase) >> 12n)]!;
  const isPtVa = (va: bigint) => va >= ptBase && va < ptBase + BigInt(nrPtFrames) * PAGE;
  const UPPER = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED;
  const index = (va: bigint, shift: bigint) => Number((va >> shift) - (virtBase >> shift));
  for (let va = virtBase; va < vEnd; va += PAGE) {
    const l1 = l1First + index(va, 21n);
    hv.mem.write64(maddr(tableMfn(l1), tableOffset(va, 1) * 8), makePte(p2m[Number((va - virtBase) >> 12n)]!, isPtVa(va) ? _PAGE_PRESENT | _PAGE_ACCESSED : UPPER));
    // The upper entries change only where a new table begins (the first page, or an L1 slot of 0).
    if (va !== virtBase && tableOffset(va, 1) !== 0) continue;
    const l2 = l2First + index(va, 30n);
    const l3 = l3First + index(va, 39n);
    hv.mem.write64(maddr(tableMfn(l2), tableOffset(va, 2) * 8), makePte(tableMfn(l1), UPPER));
    hv.mem.write64(maddr(tableMfn(l3), tableOffset(va, 3) * 8), makePte(tableMfn(l2), UPPER));
    hv.mem.write64(maddr(tableMfn(0), tableOffset(va, 4) * 8), makePte(tableMfn(l3), UPPER));
  }

  // Pin the L4 (validating every table below it), then make it vCPU 0's CR3: two type references.
  const l4Mfn = tableMfn(0);
  const pin = finish(getPageAndTypeFromMfn(c, l4Mfn, PGT.l4, d));
  if (pin !== 0) throw new Error(`the builder's own tables failed validation (${pin})`);
  hv.frames.page(l4Mfn).pinned = true;
  hv.stats.pins++;
  if (finish(getPageAndTypeFromMfn(c, l4Mfn, PGT.l4, d)) !== 0) throw new Error("the builder's L4 would not take vCPU 0's reference");
  const v0 = d.vcpus[0]!;
  v0.guestTable = l4Mfn;
  const vcpu0: VCpuContext = { rip: elf.entry, rsi: startInfoVa, rsp: stackTop, rdi: 0n, rflags: 2n, cr3: maddr(l4Mfn) };
  v0.context = vcpu0;
  v0.initialised = true;
  v0.down = false;
  d.p2m = { va: p2mVa, mfns: p2m };
  return { virtBase, vEnd, p2mVa, startInfoVa, ptBase, nrPtFrames, stackTop, p2m, l4Mfn, vcpu0 };
}
