// SPDX-License-Identifier: MIT
//
// An HvmGuest over a sparse guest-physical memory of 4 KiB pages, for the
// hypercall-layer tests: pages exist only where a test puts them, so an
// address anywhere else is unreadable, as an unmapped GPA is under EPT.

import type { HvmGuest } from "../../../hypervisor/x86/hvm/viridian.ts";

const PAGE = 4096n;

export interface FakeGuest extends HvmGuest {
  vcpuCount: number;
  vpIndex: number;
  physAddrBits: number;
  readonly pages: Map<bigint, Uint8Array>;
  /** Backs the page holding gpa with zeroed RAM (if it is not yet). */
  map(gpa: bigint): void;
  /** Makes the page holding gpa read-only: writes to it fail. */
  readOnly(gpa: bigint): void;
  /** Maps the pages and writes the 64-bit little-endian words at gpa; returns gpa. */
  putWords(gpa: bigint, words: readonly bigint[]): bigint;
  /** Every read the layer made, in order, as [gpa, length]. */
  readonly reads: [bigint, number][];
}

export function fakeGuest(vcpuCount = 4, vpIndex = 0, physAddrBits = 46): FakeGuest {
  const pages = new Map<bigint, Uint8Array>();
  const readOnlyPages = new Set<bigint>();
  const reads: [bigint, number][] = [];
  const spans = (gpa: bigint, length: number) => {
    const out: bigint[] = [];
    if (length === 0) return out;
    for (let p = gpa / PAGE; p <= (gpa + BigInt(length) - 1n) / PAGE; p++) out.push(p);
    return out;
  };
  const g: FakeGuest = {
    vcpuCount,
    vpIndex,
    physAddrBits,
    pages,
    reads,
    map(gpa) {
      const p = gpa / PAGE;
      if (!pages.has(p)) pages.set(p, new Uint8Array(Number(PAGE)));
    },
    readOnly(gpa) {
      readOnlyPages.add(gpa / PAGE);
    },
    readGuestPhys(gpa, length) {
      reads.push([gpa, length]);
      if (gpa < 0n || length < 0 || !spans(gpa, length).every((p) => pages.has(p))) return undefined;
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        const a = gpa + BigInt(i);
        out[i] = pages.get(a / PAGE)![Number(a % PAGE)]!;
      }
      return out;
    },
    writeGuestPhys(gpa, bytes) {
      const touched = spans(gpa, bytes.length);
      if (gpa < 0n || !touched.every((p) => pages.has(p) && !readOnlyPages.has(p))) return false;
      bytes.forEach((b, i) => {
        const a = gpa + BigInt(i);
        pages.get(a / PAGE)![Number(a % PAGE)] = b;
      });
      return true;
    },
    putWords(gpa, words) {
      const bytes = new Uint8Array(8 * words.length);
      const v = new DataView(bytes.buffer);
      words.forEach((w, i) => v.setBigUint64(8 * i, BigInt.asUintN(64, w), true));
      for (const p of spans(gpa, bytes.length)) g.map(p * PAGE);
      g.writeGuestPhys(gpa, bytes);
      return gpa;
    },
  };
  return g;
}
