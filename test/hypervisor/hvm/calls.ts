// SPDX-License-Identifier: MIT
//
// Builds a Viridian flush hypercall from a handful of choices: well formed,
// or spoiled in exactly one way, with the status the spoil must get (where
// the choices alone decide it). The property test draws the choices with
// fast-check, the fuzz surface (test/fuzz/hvm-hypercalls.ts) with its seeded
// Random; both then check the layer's answer against `expect`.

import {
  HV_FLUSH_ALL_PROCESSORS,
  HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES,
  HV_STATUS_INVALID_ALIGNMENT,
  HV_STATUS_INVALID_HYPERCALL_CODE,
  HV_STATUS_INVALID_HYPERCALL_INPUT,
  HV_STATUS_INVALID_PARAMETER,
  HV_STATUS_SUCCESS,
  HVCALL_NAMES,
} from "../../../hypervisor/x86/hvm/hyperv-tlfs.ts";

/** The ways a well-formed call is spoiled, one at a time. */
export const SPOILS = ["reserved", "fast", "varhead", "rep count", "rep start", "misalign", "flags", "address space", "format", "code"] as const;
export type Spoil = (typeof SPOILS)[number];

export const FLUSH_CALL_CODES = [0x0002, 0x0003, 0x0013, 0x0014] as const;

export interface FlushCallChoices {
  readonly code: (typeof FLUSH_CALL_CODES)[number];
  /** The rep count of a list call (1 to 12). */
  readonly reps: number;
  /** Any natural number; the rep start index is this modulo the rep count. */
  readonly start: number;
  /** Where the block starts in its page, in 8-byte words (0 to 200). */
  readonly offset: number;
  /** HV_FLUSH_* bits 2:0 (the list calls drop HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY). */
  readonly flags: bigint;
  /** The 64-bit ProcessorMask of the non-_EX calls. */
  readonly mask: bigint;
  /** A sparse HV_VP_SET (format 0) or all (format 1), for the _EX calls. */
  readonly sparse: boolean;
  readonly banksMask: bigint;
  /** 64 words; the first popcount(banksMask) are the bank contents. */
  readonly bankWords: readonly bigint[];
  /** 12 GVA entries; the first reps are the list. */
  readonly gvas: readonly bigint[];
  readonly spoil: Spoil | null;
  /** Random bits the spoils draw on. */
  readonly junk: bigint;
}

export interface BuiltCall {
  readonly rcx: bigint;
  /** The input GPA: in blockPage, at the chosen offset (plus a misalignment if spoiled so). */
  readonly gpa: bigint;
  /** The block's words, from the 8-byte-aligned address at or below gpa. */
  readonly words: readonly bigint[];
  /** The status the layer must answer, when the choices decide it. */
  readonly expect: number | undefined;
}

const popcount = (v: bigint) => [...v.toString(2)].filter((b) => b === "1").length;

export function buildFlushCall(c: FlushCallChoices, blockPage: bigint): BuiltCall {
  const rep = c.code === 0x0003 || c.code === 0x0014;
  const ex = c.code === 0x0013 || c.code === 0x0014;
  const banks = ex ? popcount(c.banksMask) : 0;
  let flags = rep ? c.flags & 3n : c.flags & 7n;
  let repCount = rep ? c.reps : 0;
  let repStart = rep ? c.start % c.reps : 0;
  let varHead = banks;
  let reserved = 0n;
  let fast = 0n;
  let code = BigInt(c.code);
  let gpa = blockPage + 8n * BigInt(c.offset);
  let addressSpace = 0x1000n * (c.junk & 0xffffn);
  let format = c.sparse ? 0n : 1n;
  // A call without a spoil succeeds unless its plain mask is empty, which the TLFS refuses.
  const emptyMask = !ex && (flags & HV_FLUSH_ALL_PROCESSORS) === 0n && c.mask === 0n;
  let expect: number | undefined = emptyMask ? HV_STATUS_INVALID_PARAMETER : HV_STATUS_SUCCESS;
  switch (c.spoil) {
    case "reserved":
      reserved = 1n << [27n, 31n, 44n, 47n, 60n, 63n][Number(c.junk % 6n)]!;
      expect = HV_STATUS_INVALID_HYPERCALL_INPUT;
      break;
    case "fast":
      fast = 1n << 16n;
      expect = HV_STATUS_INVALID_PARAMETER;
      break;
    case "varhead":
      // One word too many, or one too few when there are banks to miss.
      varHead = banks > 0 && (c.junk & 1n) === 1n ? banks - 1 : banks + 1;
      expect = HV_STATUS_INVALID_HYPERCALL_INPUT;
      break;
    case "rep count":
      repCount = rep ? 0 : 1;
      if (!rep) repStart = 0;
      expect = HV_STATUS_INVALID_HYPERCALL_INPUT;
      break;
    case "rep start":
      repStart = rep ? repCount : 1;
      expect = HV_STATUS_INVALID_HYPERCALL_INPUT;
      break;
    case "misalign":
      gpa += 1n + (c.junk & 3n);
      expect = HV_STATUS_INVALID_ALIGNMENT;
      break;
    case "flags":
      flags |= 1n << (3n + (c.junk % 61n));
      expect = HV_STATUS_INVALID_PARAMETER;
      break;
    case "address space":
      addressSpace = c.junk | (1n << 63n);
      if ((flags & HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES) === 0n) expect = HV_STATUS_INVALID_PARAMETER;
      break;
    case "format":
      format = 2n + (c.junk & 0xffffn);
      if (ex && (flags & HV_FLUSH_ALL_PROCESSORS) === 0n) expect = HV_STATUS_INVALID_PARAMETER;
      break;
    case "code":
      code = c.junk & 0xffffn;
      expect = HVCALL_NAMES[Number(code)] === undefined ? HV_STATUS_INVALID_HYPERCALL_CODE : undefined;
      break;
    case null:
      break;
  }
  const words = ex ? [addressSpace, flags, format, c.banksMask, ...c.bankWords.slice(0, banks)] : [addressSpace, flags, c.mask];
  if (rep) words.push(...c.gvas.slice(0, c.reps));
  const rcx = code | fast | (BigInt(varHead & 0x3ff) << 17n) | (BigInt(repCount) << 32n) | (BigInt(repStart) << 48n) | reserved;
  return { rcx, gpa, words, expect };
}
