// SPDX-License-Identifier: MIT
//
// The x86-64 boot protocol of `shootdown run` (README.md, "Boot protocol
// (x86-64)"): an ELF64 image is loaded at its physical addresses, the loader
// writes a boot-information block, a GDT and an identity map of the first
// 4 GiB into a reserved area, and every CPU starts at the entry point in
// 64-bit mode with paging on, as a multiboot-like loader leaves a kernel.
//
//   physical memory after loading
//   ┌────────────┬──────────────────────────────────────────────┬──────────────┐
//   │ 0x0–0xFFF  │ 0x1000–0x8FFF reserved for the loader         │ 0x9000–…     │
//   │ free       │ 0x1000 boot info   0x1100 command line        │ the image    │
//   │            │ 0x2000 GDT         0x3000 PML4  0x4000 PDPT   │ (its p_paddr)│
//   │            │ 0x5000–0x8FFF four page directories (2 MiB)   │              │
//   └────────────┴──────────────────────────────────────────────┴──────────────┘

import { readElf, ElfError, type ElfFile } from "../../asm/index.ts";
import { ShootdownError } from "./errors.ts";
import type { Machine } from "./machine.ts";
import { PTE } from "./x86-page-tables.ts";

export const RESERVED_BASE = 0x1000n;
export const RESERVED_END = 0x9000n;
export const BOOT_INFO_ADDR = 0x1000n;
export const CMDLINE_ADDR = 0x1100n;
/** The command line's room, its terminating NUL included (0x1100–0x1CFF). */
export const CMDLINE_MAX_BYTES = 3072;
export const GDT_ADDR = 0x2000n;
export const PML4_ADDR = 0x3000n;
export const PDPT_ADDR = 0x4000n;
/** Four page directories, one per GiB of the identity map. */
export const PD_ADDR = 0x5000n;
/** The identity map covers [0, 4 GiB). */
export const IDENTITY_MAP_BYTES = 4n << 30n;

/** "SHDNBOOT" read as a little-endian u64. */
export const BOOT_MAGIC = 0x544f_4f42_4e44_4853n;
export const BOOT_VERSION = 1;
/**
 * The boot-information block at BOOT_INFO_ADDR:
 *
 *   0x00 u64 magic   0x08 u32 version   0x0C u32 CPU count   0x10 u64 RAM bytes
 *   0x18 u64 command-line address       0x20 u32 command-line length   0x24 u32 reserved
 */
export const BOOT_INFO = { MAGIC: 0x00, VERSION: 0x08, CPUS: 0x0c, RAM_BYTES: 0x10, CMDLINE_ADDR: 0x18, CMDLINE_LEN: 0x20, SIZE: 0x28 } as const;

/** Selectors of the loader's GDT; the layout SYSCALL/SYSRET expect with STAR[47:32]=0x08, STAR[63:48]=0x10. */
export const GDT_SELECTORS = { KERNEL_CS: 0x08, KERNEL_DS: 0x10, USER_DS: 0x18, USER_CS: 0x20, TSS: 0x28 } as const;
/** null, 64-bit kernel code, kernel data, user data (DPL 3), 64-bit user code (DPL 3); then 16 zero bytes for a TSS. */
export const GDT_DESCRIPTORS = [0n, 0x0020_9a00_0000_0000n, 0x0000_9200_0000_0000n, 0x0000_f200_0000_0000n, 0x0020_fa00_0000_0000n, 0n, 0n] as const;
export const GDT_LIMIT = 8 * GDT_DESCRIPTORS.length - 1;

/** CR0: PE, ET, NE, WP, PG. */
export const BOOT_CR0 = 0x8001_0031n;
/** CR4: PAE. */
export const BOOT_CR4 = 0x20n;
/** EFER: LME, LMA, NXE. */
export const BOOT_EFER = 0xd00n;
/** RFLAGS: only the always-one bit 1; IF=0. */
export const BOOT_RFLAGS = 0x2n;

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

/**
 * Reads and checks an image for a machine with `ramBytes` of RAM at 0:
 * ELF64, little-endian, ET_EXEC, x86-64, every PT_LOAD inside RAM and
 * outside the reserved area.
 */
export function planLoad(image: Uint8Array, ramBytes: bigint): LoadPlan {
  let elf: ElfFile;
  try {
    elf = readElf(image);
  } catch (e) {
    if (e instanceof ElfError) throw new LoadError(e.message);
    throw e;
  }
  if (elf.arch !== "x86_64") {
    throw new LoadError(`an ${elf.arch} image (e_machine at offset 18 is 183, EM_AARCH64); shootdown run boots x86-64 images (62, EM_X86_64)`);
  }
  const segments: LoadPlan["segments"] = [];
  elf.segments.forEach((s, i) => {
    if (s.type !== 1 || s.memsz === 0) return;
    const start = s.paddr;
    const end = s.paddr + BigInt(s.memsz);
    const what = `program header ${i} (p_paddr ${hex(start)}, p_memsz ${hex(s.memsz)})`;
    if (end > ramBytes) {
      throw new LoadError(`${what} reaches ${hex(end)}, outside RAM [0, ${hex(ramBytes)}); give more memory with --mem or link the image lower`);
    }
    if (start < RESERVED_END && end > RESERVED_BASE) {
      throw new LoadError(
        `${what} overlaps the loader's reserved area ${hex(RESERVED_BASE)}–${hex(RESERVED_END - 1n)} (boot info, GDT, page tables); images must load outside it`,
      );
    }
    segments.push({ paddr: start, bytes: image.subarray(s.offset, s.offset + s.filesz), memsz: BigInt(s.memsz) });
  });
  if (!segments.length) throw new LoadError("the image has no PT_LOAD segment to load");
  return { elf, segments };
}

/** The boot parameters that are not in the image. */
export interface BootParams {
  /** The guest command line (UTF-8, at most CMDLINE_MAX_BYTES - 1 bytes). */
  cmdline: string;
}

/** The command line's bytes, or a usage error when it does not fit. */
export function encodeCmdline(cmdline: string): Uint8Array {
  const bytes = new TextEncoder().encode(cmdline);
  if (bytes.length > CMDLINE_MAX_BYTES - 1) {
    throw new ShootdownError(`the guest command line is ${bytes.length} bytes; at most ${CMDLINE_MAX_BYTES - 1} fit (3 KiB with its NUL)`);
  }
  if (bytes.includes(0)) throw new ShootdownError("the guest command line must not contain NUL characters");
  return bytes;
}

/**
 * Loads a checked image into a fresh machine and sets every CPU to the
 * protocol's start state. The machine's RAM must be one range at 0.
 */
export function bootX86(m: Machine, plan: LoadPlan, params: BootParams): void {
  const ramBytes = m.memory.ranges().reduce((n, r) => (r.base === 0n ? r.size : n), 0n);
  const cmdline = encodeCmdline(params.cmdline);

  for (const s of plan.segments) {
    m.memory.write(s.paddr, s.bytes);
    // p_memsz beyond p_filesz is zero (.bss); fresh RAM is zero, but say so.
    const rest = s.memsz - BigInt(s.bytes.length);
    if (rest > 0n) zero(m, s.paddr + BigInt(s.bytes.length), rest);
  }

  // Boot information and the command line.
  const info = new Uint8Array(BOOT_INFO.SIZE);
  const v = new DataView(info.buffer);
  v.setBigUint64(BOOT_INFO.MAGIC, BOOT_MAGIC, true);
  v.setUint32(BOOT_INFO.VERSION, BOOT_VERSION, true);
  v.setUint32(BOOT_INFO.CPUS, m.cpus.length, true);
  v.setBigUint64(BOOT_INFO.RAM_BYTES, ramBytes, true);
  v.setBigUint64(BOOT_INFO.CMDLINE_ADDR, CMDLINE_ADDR, true);
  v.setUint32(BOOT_INFO.CMDLINE_LEN, cmdline.length, true);
  m.memory.write(BOOT_INFO_ADDR, info);
  const withNul = new Uint8Array(cmdline.length + 1);
  withNul.set(cmdline);
  m.memory.write(CMDLINE_ADDR, withNul);

  GDT_DESCRIPTORS.forEach((d, i) => m.memory.write64(GDT_ADDR + BigInt(8 * i), d));

  // Identity map of [0, 4 GiB) with 2 MiB pages: PML4[0] → PDPT, PDPT[0..3] → four PDs.
  const table = PTE.P | PTE.RW;
  m.memory.write(PML4_ADDR, new Uint8Array(0x6000));
  m.memory.write64(PML4_ADDR, PDPT_ADDR | table);
  const pdCount = Number(IDENTITY_MAP_BYTES >> 30n);
  const pds = new Uint8Array(0x1000 * pdCount);
  const pv = new DataView(pds.buffer);
  for (let gib = 0; gib < pdCount; gib++) {
    const pd = PD_ADDR + BigInt(0x1000 * gib);
    m.memory.write64(PDPT_ADDR + BigInt(8 * gib), pd | table);
    for (let i = 0; i < 512; i++) {
      const pa = (BigInt(gib) << 30n) | (BigInt(i) << 21n);
      pv.setBigUint64(0x1000 * gib + 8 * i, pa | PTE.P | PTE.RW | PTE.PS, true);
    }
  }
  m.memory.write(PD_ADDR, pds);

  for (const cpu of m.cpus) {
    cpu.reset();
    cpu.setRegisters({ cr0: BOOT_CR0, cr3: PML4_ADDR, cr4: BOOT_CR4, efer: BOOT_EFER });
    const zeroGprs = { rax: 0n, rcx: 0n, rdx: 0n, rbx: 0n, rsp: 0n, rbp: 0n, r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n };
    cpu.setState({
      ...zeroGprs,
      rip: plan.elf.entry, rflags: BOOT_RFLAGS, rdi: BigInt(cpu.index), rsi: BOOT_INFO_ADDR,
      cs: GDT_SELECTORS.KERNEL_CS, ss: GDT_SELECTORS.KERNEL_DS, cpl: 0,
      gdtrBase: GDT_ADDR, gdtrLimit: GDT_LIMIT, idtrBase: 0n, idtrLimit: 0,
    });
  }
  m.hw.x86CodeChanged();
}

function zero(m: Machine, at: bigint, length: bigint): void {
  const chunk = 1n << 20n;
  for (let a = at; a < at + length; a += chunk) {
    const n = a + chunk <= at + length ? chunk : at + length - a;
    m.memory.write(a, new Uint8Array(Number(n)));
  }
}
