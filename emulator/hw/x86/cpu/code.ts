// SPDX-License-Identifier: MIT
//
// The decoded-instruction cache, shared by every CPU: direct-mapped by the
// physical address of an instruction's first byte, each entry tagged with
// that address and a generation. Decoding depends only on the bytes (branch
// targets and RIP-relative operands are kept relative), so one entry serves
// every CPU and every virtual address that maps the code.
//
// Writing to code must not run stale decodings: each host page that holds a
// decoded instruction is marked PAGE_CODE in the page states
// (phys/pages.ts), every CPU store checks its page's state (which also marks
// the page written), and a store to such a page starts a new generation (all
// entries stale) and forgets which pages held code. Guests rarely write to
// their code, so this is rare.

import { decodeCache, ramHostBase, DECODE_ENTRIES, DECODE_ENTRY_SIZE, CNT_SMC_FLUSH } from "../../layout";
import { count } from "../../cpu";
import { pageWrite, pageMarkCode, pagesClearCode } from "../../phys/pages";
import { ramHostEnd } from "../../phys/ram";

/** The generation in tags (bits 63:52); 0 is never used, so a zeroed entry never matches. */
let generation: u64 = 1;

export function codeReset(): void {
  generation = 1;
}

@inline export function decodedEntry(pa: u64): usize {
  return decodeCache + <usize>(<u32>pa & (DECODE_ENTRIES - 1)) * DECODE_ENTRY_SIZE;
}

@inline export function decodedTag(pa: u64): u64 {
  return pa | (generation << 52);
}

/** Notes that the page at this host address now holds decoded code. */
@inline export function markCode(hostAddr: usize): void {
  pageMarkCode(hostAddr);
}

/** Called before every CPU store of `size` bytes at a host address (in RAM): marks its pages written. */
@inline export function checkCodeWrite(hostAddr: usize, size: u32): void {
  if (pageWrite(hostAddr) | pageWrite(hostAddr + size - 1)) flushDecoded();
}

/** Makes every decoded instruction stale (a write to code, or the host changed memory). */
export function flushDecoded(): void {
  count(CNT_SMC_FLUSH);
  generation++;
  if (generation >= 4096) {
    memory.fill(decodeCache, 0, <usize>DECODE_ENTRIES * DECODE_ENTRY_SIZE);
    generation = 1;
  }
  pagesClearCode(ramHostBase, ramHostEnd());
}
