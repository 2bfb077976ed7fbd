// SPDX-License-Identifier: MIT
//
// What both boot protocols of `shootdown run` share: reading and checking an
// ELF64 executable against the machine's RAM and the loader's reserved
// area, copying its PT_LOAD segments to their physical addresses, and the
// boot-information block with the guest command line.

import { readElf, ElfError, type ElfFile, type ArchName as Arch, type Program } from "../../../asm/index.ts";
import { ShootdownError } from "./errors.ts";

/** Why an image cannot be booted (shootdown run reports it as a machine that cannot start). */
export class LoadError extends ShootdownError {
  override name = "LoadError";
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** The PT_LOAD segments an image asks for, checked against the RAM and the reserved area. */
export interface LoadPlan {
  elf: ElfFile;
  segments: { paddr: bigint; bytes: Uint8Array; memsz: bigint }[];
}

/** The image as asm/'s Program: its symbols and sections, for crash reports and the debugger. */
export function programOf(plan: LoadPlan): Program {
  const e = plan.elf;
  return { arch: e.arch, entry: e.entry, sections: e.sections, symbols: e.symbols };
}

/** Where an image may load. */
export interface LoadRules {
  arch: Arch;
  ramBase: bigint;
  ramBytes: bigint;
  /** The loader's own area, [start, end), which segments must not overlap. */
  reserved: { start: bigint; end: bigint; what: string };
}

const E_MACHINE: Record<Arch, string> = { x86_64: "62, EM_X86_64", aarch64: "183, EM_AARCH64" };

/**
 * Reads and checks an image: ELF64, little-endian, ET_EXEC, the machine's
 * architecture, every PT_LOAD inside RAM and outside the reserved area.
 */
export function planElf(image: Uint8Array, rules: LoadRules): LoadPlan {
  let elf: ElfFile;
  try {
    elf = readElf(image);
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(e.message);
    throw e;
  }
  if (elf.arch !== rules.arch) {
    throw new LoadError(`an ${elf.arch} image (e_machine at offset 18 is ${E_MACHINE[elf.arch]}); this machine boots ${rules.arch} images (${E_MACHINE[rules.arch]})`);
  }
  const ramEnd = rules.ramBase + rules.ramBytes;
  const { reserved } = rules;
  const segments: LoadPlan["segments"] = [];
  elf.segments.forEach((s, i) => {
    if (s.type !== 1 || s.memsz === 0) return;
    const start = s.paddr;
    const end = s.paddr + BigInt(s.memsz);
    const what = `program header ${i} (p_paddr ${hex(start)}, p_memsz ${hex(s.memsz)})`;
    if (start < rules.ramBase || end > ramEnd) {
      const edge = start < rules.ramBase ? `starts at ${hex(start)}` : `reaches ${hex(end)}`;
      const advice = start < rules.ramBase ? `link the image at or above ${hex(rules.ramBase)}` : "give more memory with --mem or link the image lower";
      throw new LoadError(`${what} ${edge}, outside RAM [${hex(rules.ramBase)}, ${hex(ramEnd)}); ${advice}`);
    }
    if (start < reserved.end && end > reserved.start) {
      throw new LoadError(
        `${what} overlaps the loader's reserved area ${hex(reserved.start)}–${hex(reserved.end - 1n)} (${reserved.what}); images must load outside it`,
      );
    }
    segments.push({ paddr: start, bytes: image.subarray(s.offset, s.offset + s.filesz), memsz: BigInt(s.memsz) });
  });
  if (!segments.length) throw new LoadError("the image has no PT_LOAD segment to load");
  return { elf, segments };
}

/** Where an image is loaded: a machine, or a hypervisor's domain (its guest-physical memory and vCPUs). */
export interface LoadTarget {
  memory: { write(pa: bigint, bytes: Uint8Array): void };
  cpus: { readonly length: number };
}

/** Copies the segments to their physical addresses; p_memsz beyond p_filesz is zeroed (.bss). */
export function loadSegments(m: LoadTarget, plan: LoadPlan): void {
  for (const s of plan.segments) {
    m.memory.write(s.paddr, s.bytes);
    const rest = s.memsz - BigInt(s.bytes.length);
    if (rest > 0n) zero(m, s.paddr + BigInt(s.bytes.length), rest);
  }
}

function zero(m: LoadTarget, at: bigint, length: bigint): void {
  const chunk = 1n << 20n;
  for (let a = at; a < at + length; a += chunk) {
    const n = a + chunk <= at + length ? chunk : at + length - a;
    m.memory.write(a, new Uint8Array(Number(n)));
  }
}

/** The command line's room, its terminating NUL included. */
export const CMDLINE_MAX_BYTES = 3072;

/** The command line's bytes, or a usage error when it does not fit. */
export function encodeCmdline(cmdline: string): Uint8Array {
  const bytes = new TextEncoder().encode(cmdline);
  if (bytes.length > CMDLINE_MAX_BYTES - 1) {
    throw new ShootdownError(`the guest command line is ${bytes.length} bytes; at most ${CMDLINE_MAX_BYTES - 1} fit (3 KiB with its NUL)`);
  }
  if (bytes.includes(0)) throw new ShootdownError("the guest command line must not contain NUL characters");
  return bytes;
}

/** "SHDNBOOT" read as a little-endian u64. */
export const BOOT_MAGIC = 0x544f_4f42_4e44_4853n;
export const BOOT_VERSION = 1;
/**
 * The boot-information block (both architectures; docs/boot.md says where each
 * puts it):
 *
 *   0x00 u64 magic   0x08 u32 version   0x0C u32 CPU count   0x10 u64 RAM bytes
 *   0x18 u64 command-line address       0x20 u32 command-line length   0x24 u32 reserved
 */
export const BOOT_INFO = { MAGIC: 0x00, VERSION: 0x08, CPUS: 0x0c, RAM_BYTES: 0x10, CMDLINE_ADDR: 0x18, CMDLINE_LEN: 0x20, SIZE: 0x28 } as const;

/** Writes the boot-information block at `at` and the NUL-terminated command line at `cmdlineAt`. */
export function writeBootInfo(m: LoadTarget, at: bigint, cmdlineAt: bigint, ramBytes: bigint, cmdline: string): void {
  const bytes = encodeCmdline(cmdline);
  const info = new Uint8Array(BOOT_INFO.SIZE);
  const v = new DataView(info.buffer);
  v.setBigUint64(BOOT_INFO.MAGIC, BOOT_MAGIC, true);
  v.setUint32(BOOT_INFO.VERSION, BOOT_VERSION, true);
  v.setUint32(BOOT_INFO.CPUS, m.cpus.length, true);
  v.setBigUint64(BOOT_INFO.RAM_BYTES, ramBytes, true);
  v.setBigUint64(BOOT_INFO.CMDLINE_ADDR, cmdlineAt, true);
  v.setUint32(BOOT_INFO.CMDLINE_LEN, bytes.length, true);
  m.memory.write(at, info);
  const withNul = new Uint8Array(bytes.length + 1);
  withNul.set(bytes);
  m.memory.write(cmdlineAt, withNul);
}
