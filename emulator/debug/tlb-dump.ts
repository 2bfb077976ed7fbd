// SPDX-License-Identifier: MIT
//
// Reading a CPU's TLBs and walk caches for the debugger, the same for both
// architectures. The entries are read in place (layout.ts draws them; the
// structure descriptors in the CPU block say where each array is), and the
// module's tlbEntriesLive (emulator/hw/debug.ts) says which are still live
// under the generation floors, 32 at a time.

import type { Machine, Arch } from "../machine/core/machine.ts";
import type { Memory } from "../machine/core/memory.ts";
import { ShootdownError } from "../machine/core/errors.ts";

/** One live entry as the hardware holds it. */
export interface RawTlbEntry {
  /** layout.ts STRUCT_*: 0–2 the TLBs by page size, 3–6 the walk caches. */
  structure: number;
  index: number;
  /** The VA of the region's base. */
  tag: bigint;
  /** TLB: frame PA | info bits; walk cache: the next table's PA. */
  out: bigint;
  /** PCID (x86) or ASID (Arm). */
  asid: number;
  attrs: number;
  global: boolean;
  /** Context word: VPID/VMID (15:0), space (23:16), EPT slot (31:24). */
  ctx: number;
  /** Does it belong to the context the CPU is in now (so a walk of the current tables can judge it)? */
  current: boolean;
  /** Would a probe in its context still hit it (false: invalidated, or older than a flush)? */
  live: boolean;
}

/** The context word (as RawTlbEntry.ctx) of the translations a CPU makes now. */
export function currentContext<A extends Arch>(m: Machine<A>, cpu: number): number {
  return new DataView(m.hw.memory.buffer).getUint32(m.hw.cpuBlock(cpu) + m.layout.CPU_CUR_CTX, true);
}

/** The live entries of a CPU's TLBs and walk caches; with `dead`, also the filled ones no probe would hit any more. */
export function tlbEntries<A extends Arch>(m: Machine<A>, cpu: number, dead = false): RawTlbEntry[] {
  const L = m.layout;
  const hw = m.hw;
  const view = new DataView(hw.memory.buffer);
  const block = hw.cpuBlock(cpu);
  const curCtx = currentContext(m, cpu);
  const curAsid = view.getUint32(block + L.CPU_CUR_ASID, true);
  const out: RawTlbEntry[] = [];
  for (let s = 0; s < L.STRUCT_COUNT; s++) {
    const d = block + L.CPU_STRUCTS + s * L.DESC_SIZE;
    const base = view.getUint32(d + L.DESC_BASE, true);
    const total = (view.getUint32(d + L.DESC_SET_MASK, true) + 1) * view.getUint32(d + L.DESC_WAYS, true);
    for (let first = 0; first < total; first += 32) {
      const live = hw.tlbEntriesLive(cpu, s, first) >>> 0;
      for (let bit = 0; bit < 32 && first + bit < total; bit++) {
        const isLive = ((live >>> bit) & 1) === 1;
        const e = base + (first + bit) * L.ENTRY_SIZE;
        // A way never filled is all zero; a killed entry keeps its output.
        if (!isLive && (!dead || (view.getUint32(e + L.E_STAMP, true) === 0 && view.getBigUint64(e + L.E_OUT, true) === 0n))) continue;
        const global = (view.getUint8(e + L.E_FLAGS) & L.EF_GLOBAL) !== 0;
        const asid = view.getUint16(e + L.E_PCID, true);
        const ctx = view.getUint32(e + L.E_CTX, true);
        out.push({
          structure: s, index: first + bit, tag: view.getBigUint64(e + L.E_TAG, true), out: view.getBigUint64(e + L.E_OUT, true),
          asid, attrs: view.getUint8(e + L.E_ATTRS), global, ctx, current: ctx === curCtx && (global || asid === curAsid), live: isLive,
        });
      }
    }
  }
  return out;
}

/** Physical bytes, or undefined when they are not all RAM. */
export function readRam(memory: Memory, pa: bigint, length: number): Uint8Array | undefined {
  try {
    return memory.read(pa, length);
  } catch (e) {
    if (e instanceof ShootdownError) return undefined;
    throw e;
  }
}
