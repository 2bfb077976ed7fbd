// SPDX-License-Identifier: MIT
//
// Where the sections of an image go, as a simple linker script would put
// them: code first, then read-only data, then writable data, then .bss; the
// first at the base address (.text's start), each next one on the next
// 4 KiB boundary (so a kernel can map each with its own permissions).
// `-Tname=ADDR` / sectionStarts places a section explicitly, as ld does.

import { AsmError } from "./backend.ts";
import type { Section } from "./frags.ts";

const PAGE = 0x1000n;

function rank(s: Section): number {
  if (s.type === "nobits") return 3;
  if (s.flags.exec) return 0;
  return s.flags.write ? 2 : 1;
}

const alignUp = (x: bigint, a: bigint) => (x + a - 1n) & ~(a - 1n);

/** Sets each section's address; throws AsmError when two overlap or one is misaligned. */
export function placeSections(sections: Section[], starts: Map<string, bigint>, base: bigint): void {
  const ordered = [...sections].sort((a, b) => rank(a) - rank(b));
  let cursor = starts.get(".text") ?? base;
  let first = true;
  for (const s of ordered) {
    const align = BigInt(s.align);
    const explicit = starts.get(s.name);
    if (explicit !== undefined) {
      if (explicit % align !== 0n) {
        throw new AsmError(`section \`${s.name}' needs ${s.align}-byte alignment; 0x${explicit.toString(16)} is not aligned`);
      }
      s.address = explicit;
    } else {
      // The first section starts at the base itself; later ones on a page.
      s.address = alignUp(cursor, first || align > PAGE ? align : PAGE);
    }
    first = false;
    cursor = s.address + BigInt(s.size);
  }
  const byAddress = [...ordered].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  for (let i = 1; i < byAddress.length; i++) {
    const prev = byAddress[i - 1]!;
    const cur = byAddress[i]!;
    if (prev.address + BigInt(prev.size) > cur.address && prev.size > 0 && cur.size > 0) {
      throw new AsmError(`section \`${prev.name}' [0x${prev.address.toString(16)}, 0x${(prev.address + BigInt(prev.size)).toString(16)}) overlaps section \`${cur.name}' at 0x${cur.address.toString(16)}`);
    }
  }
  for (const s of ordered) {
    if (s.address + BigInt(s.size) > 1n << 64n) throw new AsmError(`section \`${s.name}' does not fit below 2^64`);
  }
}
