// SPDX-License-Identifier: MIT
//
// The hypervisor's part of every validated L4: slots 256..271
// (ROOT_PAGETABLE_FIRST_XEN_SLOT..LAST), filled in by validation from one
// template (init_xen_l4_slots) and never writable by a guest. Two of them are
// used, both mapped read-only:
//
//   slot 256  0xFFFF_8000_0000_0000  the machine-to-physical table (M2P): an
//             8-byte entry per machine frame, the frame's PFN in its owner or
//             ~0 for a frame no domain owns (MACH2PHYS_VIRT_START)
//   slot 260  0xFFFF_8200_0000_0000  a flat GDT with the bare boot protocol's
//             selectors (0x08 kernel code, 0x10 kernel data, 0x18 user data,
//             0x20 user code), loaded in every vCPU's GDTR (PERDOMAIN_VIRT_START)
//
// The frames behind them belong to dom_xen, so no guest can map them
// through its own tables (get_page_from_l1e refuses a foreign owner).

import { GDT_DESCRIPTORS, GDT_LIMIT } from "../../emulator/machine/platform/x86/boot.ts";
import { ShootdownError } from "../../emulator/machine/core/errors.ts";
import { maddr, PAGE_SIZE } from "../common/memory.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { makePte, _PAGE_PRESENT, _PAGE_ACCESSED, ROOT_PAGETABLE_FIRST_XEN_SLOT, ROOT_PAGETABLE_LAST_XEN_SLOT, tableOffset } from "./pte.ts";
import { MACH2PHYS_VIRT_START } from "./public.ts";

/** Where the GDT is mapped (PERDOMAIN_VIRT_START, L4 slot 260). */
export const GDT_VIRT_START = 0xffff_8200_0000_0000n;
export { GDT_LIMIT };

/** Read-only, present, already accessed (so the CPU never needs to set A in a frame the guest cannot write). */
const XEN_RO = _PAGE_PRESENT | _PAGE_ACCESSED;

export interface XenArea {
  /** The 16 entries of L4 slots 256..271, in order. */
  readonly l4Slots: readonly bigint[];
  /** The frames of the M2P, in MFN order of the entries they hold. */
  readonly m2pMfns: readonly number[];
  /** The frame holding the GDT. */
  readonly gdtMfn: number;
}

/** The machine address of a frame's M2P entry. */
export function m2pEntryMaddr(area: XenArea, mfn: number): bigint {
  const frame = area.m2pMfns[Math.floor(mfn / 512)];
  if (frame === undefined || mfn < 0) throw new Error(`MFN 0x${mfn.toString(16)} has no M2P entry`);
  return maddr(frame, (mfn % 512) * 8);
}

export function buildXenArea(hv: Hypervisor): XenArea {
  const take = (): number => {
    const page = hv.allocator.take();
    if (!page) throw new ShootdownError("the hypervisor's frames are too few even for its own M2P and GDT");
    page.owner = hv.domXen;
    page.count = 1;
    page.allocated = true;
    hv.domXen.pageList.add(page.mfn);
    hv.domXen.totPages++;
    hv.mem.zero(maddr(page.mfn), PAGE_SIZE);
    return page.mfn;
  };
  // Tables over `leaves` (frames to map read-only from `va`), returning the L3's MFN.
  const mapReadOnly = (va: bigint, leaves: readonly number[]): number => {
    let level: number[] = [...leaves];
    for (let lvl = 1; lvl <= 3; lvl++) {
      const tables: number[] = [];
      const first = tableOffset(va, lvl);
      level.forEach((mfn, i) => {
        const slot = first + i;
        if (lvl === 3 && slot >= 512) throw new ShootdownError("the M2P does not fit in one L4 slot");
        const t = Math.floor(slot / 512);
        if (tables[t] === undefined) tables[t] = take();
        hv.mem.write64(maddr(tables[t]!, (slot % 512) * 8), makePte(mfn, XEN_RO));
      });
      level = tables;
      if (lvl === 3 && level.length !== 1) throw new ShootdownError("the M2P does not fit in one L4 slot");
    }
    return level[0]!;
  };

  const nrM2pFrames = Math.ceil((hv.frames.endMfn * 8) / PAGE_SIZE);
  const m2pMfns: number[] = [];
  const invalid = new Uint8Array(PAGE_SIZE).fill(0xff);
  for (let i = 0; i < nrM2pFrames; i++) {
    const mfn = take();
    hv.mem.write(maddr(mfn), invalid);
    m2pMfns.push(mfn);
  }
  const m2pL3 = mapReadOnly(MACH2PHYS_VIRT_START, m2pMfns);

  const gdtMfn = take();
  GDT_DESCRIPTORS.forEach((d, i) => hv.mem.write64(maddr(gdtMfn, 8 * i), d));
  const gdtL3 = mapReadOnly(GDT_VIRT_START, [gdtMfn]);

  const l4Slots: bigint[] = [];
  for (let slot = ROOT_PAGETABLE_FIRST_XEN_SLOT; slot <= ROOT_PAGETABLE_LAST_XEN_SLOT; slot++) {
    l4Slots.push(slot === tableOffset(MACH2PHYS_VIRT_START, 4) ? makePte(m2pL3, XEN_RO) : slot === tableOffset(GDT_VIRT_START, 4) ? makePte(gdtL3, XEN_RO) : 0n);
  }
  return { l4Slots, m2pMfns, gdtMfn };
}
