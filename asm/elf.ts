// SPDX-License-Identifier: MIT
//
// ELF64 little-endian executables: written from a Program (one PT_LOAD per
// allocated section, physical = virtual address; section headers for every
// section, .symtab, .strtab, .shstrtab), and read back with every field
// that matters checked, so that a truncated or foreign file gets a message
// that says what and where.
//
//   ┌──────────────┬──────────────┬────────────────────┬─────────┬──────────┐
//   │ ELF header   │ program hdrs │ section contents   │ symtab  │ section  │
//   │ 64 bytes     │ 56 × n       │ (offset ≡ address  │ strtab  │ headers  │
//   │              │              │  mod 4 KiB)        │ shstrtab│ 64 × n   │
//   └──────────────┴──────────────┴────────────────────┴─────────┴──────────┘

import type { ArchName } from "./backend.ts";
import type { Program, ProgramSection, ProgramSymbol } from "./program.ts";

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
const MACHINES: Record<ArchName, number> = { x86_64: EM_X86_64, aarch64: EM_AARCH64 };

const ET_EXEC = 2;
const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const SHN_ABS = 0xfff1;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const STT_NOTYPE = 0;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const PAGE = 0x1000;

class StringTable {
  private readonly bytes: number[] = [0];
  private readonly index = new Map<string, number>();

  add(s: string): number {
    const known = this.index.get(s);
    if (known !== undefined) return known;
    const at = this.bytes.length;
    for (const b of new TextEncoder().encode(s)) this.bytes.push(b);
    this.bytes.push(0);
    this.index.set(s, at);
    return at;
  }

  get data(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

/** Writes a Program as an ELF64 executable. */
export function writeElf(p: Program): Uint8Array {
  const loaded = p.sections.filter((s) => s.flags.alloc && s.size > 0);
  const phnum = loaded.length;
  let offset = 64 + 56 * phnum;
  // Section contents at offsets congruent to their addresses modulo a page.
  const fileOffsets = new Map<ProgramSection, number>();
  for (const s of p.sections) {
    const want = Number(s.address % BigInt(PAGE));
    let at = align(offset, PAGE) + want;
    if (at - PAGE >= offset) at -= PAGE;
    fileOffsets.set(s, at);
    if (s.type === "progbits") offset = at + s.size;
  }

  const shstr = new StringTable();
  const str = new StringTable();
  const sectionIndex = new Map<string, number>();
  p.sections.forEach((s, i) => sectionIndex.set(s.name, i + 1));

  // Symbols: locals first, then globals (sh_info is the first global's index).
  const ordered = [...p.symbols.filter((s) => !s.global), ...p.symbols.filter((s) => s.global)];
  const symtab = new Uint8Array(24 * (ordered.length + 1));
  const sv = new DataView(symtab.buffer);
  ordered.forEach((s, i) => {
    const at = 24 * (i + 1);
    const type = s.type === "func" ? STT_FUNC : s.type === "object" ? STT_OBJECT : STT_NOTYPE;
    sv.setUint32(at, str.add(s.name), true);
    sv.setUint8(at + 4, ((s.global ? STB_GLOBAL : STB_LOCAL) << 4) | type);
    sv.setUint16(at + 6, s.section === null ? SHN_ABS : sectionIndex.get(s.section) ?? SHN_ABS, true);
    sv.setBigUint64(at + 8, BigInt.asUintN(64, s.value), true);
    sv.setBigUint64(at + 16, BigInt(s.size), true);
  });
  const firstGlobal = 1 + p.symbols.filter((s) => !s.global).length;

  const symtabOff = align(offset, 8);
  const strtabOff = symtabOff + symtab.length;
  const names = p.sections.map((s) => shstr.add(s.name));
  const symtabName = shstr.add(".symtab");
  const strtabName = shstr.add(".strtab");
  const shstrName = shstr.add(".shstrtab");
  const strData = str.data;
  const shstrOff = strtabOff + strData.length;
  const shstrData = shstr.data;
  const shoff = align(shstrOff + shstrData.length, 8);
  const shnum = p.sections.length + 4;
  const out = new Uint8Array(shoff + 64 * shnum);
  const v = new DataView(out.buffer);

  // ELF header.
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  v.setUint16(16, ET_EXEC, true);
  v.setUint16(18, MACHINES[p.arch], true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, p.entry, true);
  v.setBigUint64(32, 64n, true);
  v.setBigUint64(40, BigInt(shoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, phnum, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, shnum, true);
  v.setUint16(62, shnum - 1, true);

  // Program headers.
  loaded.forEach((s, i) => {
    const at = 64 + 56 * i;
    const flags = PF_R | (s.flags.write ? PF_W : 0) | (s.flags.exec ? PF_X : 0);
    v.setUint32(at, PT_LOAD, true);
    v.setUint32(at + 4, flags, true);
    v.setBigUint64(at + 8, BigInt(fileOffsets.get(s)!), true);
    v.setBigUint64(at + 16, s.address, true);
    v.setBigUint64(at + 24, s.address, true);
    v.setBigUint64(at + 32, BigInt(s.type === "nobits" ? 0 : s.size), true);
    v.setBigUint64(at + 40, BigInt(s.size), true);
    v.setBigUint64(at + 48, BigInt(PAGE), true);
  });

  // Contents.
  for (const s of p.sections) if (s.type === "progbits") out.set(s.bytes, fileOffsets.get(s)!);
  out.set(symtab, symtabOff);
  out.set(strData, strtabOff);
  out.set(shstrData, shstrOff);

  // Section headers.
  const header = (i: number, name: number, type: number, flags: number, addr: bigint, off: number, size: number, link: number, info: number, alignment: number, entsize: number) => {
    const at = shoff + 64 * i;
    v.setUint32(at, name, true);
    v.setUint32(at + 4, type, true);
    v.setBigUint64(at + 8, BigInt(flags), true);
    v.setBigUint64(at + 16, addr, true);
    v.setBigUint64(at + 24, BigInt(off), true);
    v.setBigUint64(at + 32, BigInt(size), true);
    v.setUint32(at + 40, link, true);
    v.setUint32(at + 44, info, true);
    v.setBigUint64(at + 48, BigInt(alignment), true);
    v.setBigUint64(at + 56, BigInt(entsize), true);
  };
  p.sections.forEach((s, i) => {
    const flags = (s.flags.alloc ? SHF_ALLOC : 0) | (s.flags.write ? SHF_WRITE : 0) | (s.flags.exec ? SHF_EXECINSTR : 0);
    header(i + 1, names[i]!, s.type === "nobits" ? SHT_NOBITS : SHT_PROGBITS, flags, s.address, fileOffsets.get(s)!, s.size, 0, 0, s.align, 0);
  });
  const symIndex = p.sections.length + 1;
  header(symIndex, symtabName, SHT_SYMTAB, 0, 0n, symtabOff, symtab.length, symIndex + 1, firstGlobal, 8, 24);
  header(symIndex + 1, strtabName, SHT_STRTAB, 0, 0n, strtabOff, strData.length, 0, 0, 1, 0);
  header(symIndex + 2, shstrName, SHT_STRTAB, 0, 0n, shstrOff, shstrData.length, 0, 0, 1, 0);
  return out;
}

/** A problem with an ELF file: what is wrong and where (a field or an offset). */
export class ElfError extends Error {
  override name = "ElfError";
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
}

export interface ElfFile {
  arch: ArchName;
  entry: bigint;
  segments: ElfSegment[];
  /** Allocated and other PROGBITS/NOBITS sections, as a Program's sections. */
  sections: ProgramSection[];
  symbols: ProgramSymbol[];
  /**
   * What was wrong in the section headers or the symbol table, which an
   * image needs for names only: the sections or symbols concerned are left
   * out, and the program headers, which are what loads, still count.
   */
  warnings: string[];
}

const MAX_SIZE = 1n << 40n;

/** Reads an ELF64 little-endian executable; throws ElfError naming the field or offset that is wrong. */
export function readElf(data: Uint8Array): ElfFile {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const need = (off: number, len: number, what: string) => {
    if (off < 0 || off + len > data.length) throw new ElfError(`truncated: ${what} at offset 0x${off.toString(16)} (+${len} bytes) is past the end of the ${data.length}-byte file`);
  };
  need(0, 64, "the ELF header");
  if (v.getUint32(0, false) !== 0x7f454c46) throw new ElfError("not an ELF file (bad magic at offset 0)");
  if (data[4] !== 2) throw new ElfError(`not a 64-bit ELF file (EI_CLASS is ${data[4]} at offset 4; want 2, ELFCLASS64)`);
  if (data[5] !== 1) throw new ElfError(`not a little-endian ELF file (EI_DATA is ${data[5]} at offset 5; want 1)`);
  const type = v.getUint16(16, true);
  if (type !== ET_EXEC) throw new ElfError(`not an executable (e_type is ${type} at offset 16; want 2, ET_EXEC: link it first)`);
  const machine = v.getUint16(18, true);
  const arch = machine === EM_X86_64 ? "x86_64" : machine === EM_AARCH64 ? "aarch64" : undefined;
  if (!arch) throw new ElfError(`unsupported machine ${machine} (e_machine at offset 18; want 62 x86-64 or 183 AArch64)`);
  const entry = v.getBigUint64(24, true);
  const phoff = v.getBigUint64(32, true);
  const shoff = v.getBigUint64(40, true);
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  const shentsize = v.getUint16(58, true);
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  if (phnum && phentsize !== 56) throw new ElfError(`e_phentsize is ${phentsize} at offset 54; want 56`);
  if (shnum && shentsize !== 64) throw new ElfError(`e_shentsize is ${shentsize} at offset 58; want 64`);
  // A table offset no file can reach (a nearer one is "truncated" at its first entry past the end).
  const table = (offset: bigint, count: number, entrySize: number, field: string, at: number, what: string) => {
    if (count && offset >= MAX_SIZE) {
      throw new ElfError(`${field} (offset ${at}) is 0x${offset.toString(16)}: the ${what} (${count} entries of ${entrySize} bytes) would lie far past the end of the ${data.length}-byte file`);
    }
  };
  table(phoff, phnum, 56, "e_phoff", 32, "program header table");

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + 56 * i;
    need(at, 56, `program header ${i}`);
    const filesz = v.getBigUint64(at + 32, true);
    const memsz = v.getBigUint64(at + 40, true);
    const offset = v.getBigUint64(at + 8, true);
    const seg: ElfSegment = {
      type: v.getUint32(at, true),
      flags: v.getUint32(at + 4, true),
      offset: Number(offset),
      vaddr: v.getBigUint64(at + 16, true),
      paddr: v.getBigUint64(at + 24, true),
      filesz: Number(filesz),
      memsz: Number(memsz),
    };
    if (seg.type === PT_LOAD) {
      if (filesz > memsz) throw new ElfError(`program header ${i}: p_filesz 0x${filesz.toString(16)} is larger than p_memsz 0x${memsz.toString(16)}`);
      if (memsz > MAX_SIZE) throw new ElfError(`program header ${i}: p_memsz 0x${memsz.toString(16)} is too large`);
      if (seg.filesz) need(seg.offset, seg.filesz, `the contents of program header ${i}`);
    }
    segments.push(seg);
  }

  const warnings: string[] = [];
  let sections: ProgramSection[] = [];
  let symbols: ProgramSymbol[] = [];
  try {
    table(shoff, shnum, 64, "e_shoff", 40, "section header table");
    ({ sections, symbols } = readSections(data, v, Number(shoff), shnum, shstrndx, need, warnings));
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    warnings.push(`section headers ignored (no section names or symbols): ${e.message}`);
  }
  return { arch, entry, segments, sections, symbols, warnings };
}

/** The sections and symbols of an image, from its section header table; throws ElfError. */
function readSections(
  data: Uint8Array, v: DataView, shoff: number, shnum: number, shstrndx: number,
  need: (off: number, len: number, what: string) => void, warnings: string[],
): { sections: ProgramSection[]; symbols: ProgramSymbol[] } {
  interface RawSection { name: number; type: number; flags: bigint; addr: bigint; offset: number; size: number; link: number; align: number }
  const raw: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + 64 * i;
    need(at, 64, `section header ${i}`);
    const size = v.getBigUint64(at + 32, true);
    if (size > MAX_SIZE) throw new ElfError(`section header ${i}: sh_size 0x${size.toString(16)} is too large`);
    raw.push({
      name: v.getUint32(at, true),
      type: v.getUint32(at + 4, true),
      flags: v.getBigUint64(at + 8, true),
      addr: v.getBigUint64(at + 16, true),
      offset: Number(v.getBigUint64(at + 24, true)),
      size: Number(size),
      link: v.getUint32(at + 40, true),
      align: Number(v.getBigUint64(at + 48, true)),
    });
  }
  const strings = (section: RawSection | undefined, what: string) => {
    if (!section) return (_: number) => "";
    need(section.offset, section.size, what);
    const bytes = data.subarray(section.offset, section.offset + section.size);
    return (at: number) => {
      if (at >= bytes.length) throw new ElfError(`a name at offset ${at} is outside ${what}`);
      const end = bytes.indexOf(0, at);
      return new TextDecoder().decode(bytes.subarray(at, end < 0 ? bytes.length : end));
    };
  };
  if (shnum && shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} at offset 62 is not a section (there are ${shnum})`);
  const sectionName = strings(shnum ? raw[shstrndx] : undefined, "the section name table");

  const sections: ProgramSection[] = [];
  const byIndex = new Map<number, string>();
  raw.forEach((s, i) => {
    if (s.type !== SHT_PROGBITS && s.type !== SHT_NOBITS) return;
    const name = sectionName(s.name);
    byIndex.set(i, name);
    if (s.type === SHT_PROGBITS) need(s.offset, s.size, `section ${name}`);
    sections.push({
      name,
      type: s.type === SHT_NOBITS ? "nobits" : "progbits",
      flags: { alloc: (s.flags & BigInt(SHF_ALLOC)) !== 0n, write: (s.flags & BigInt(SHF_WRITE)) !== 0n, exec: (s.flags & BigInt(SHF_EXECINSTR)) !== 0n },
      address: s.addr,
      align: Math.max(1, s.align),
      size: s.size,
      // A copy (a Node Buffer's slice would share the file's memory).
      bytes: s.type === SHT_PROGBITS ? new Uint8Array(data.subarray(s.offset, s.offset + s.size)) : new Uint8Array(0),
    });
  });

  const symtab = raw.find((s) => s.type === SHT_SYMTAB);
  let symbols: ProgramSymbol[] = [];
  if (symtab) {
    try {
      symbols = readSymbols(v, symtab, strings(raw[symtab.link], "the symbol name table"), byIndex, need);
    } catch (e) {
      if (!(e instanceof ElfError)) throw e;
      warnings.push(`symbol table ignored: ${e.message}`);
    }
  }
  return { sections, symbols };
}

/** The function, object and untyped symbols of a symbol table; throws ElfError. */
function readSymbols(
  v: DataView, symtab: { offset: number; size: number }, name: (at: number) => string,
  byIndex: Map<number, string>, need: (off: number, len: number, what: string) => void,
): ProgramSymbol[] {
  const symbols: ProgramSymbol[] = [];
  need(symtab.offset, symtab.size, "the symbol table");
  for (let at = symtab.offset + 24; at + 24 <= symtab.offset + symtab.size; at += 24) {
    const info = v.getUint8(at + 4);
    const shndx = v.getUint16(at + 6, true);
    const t = info & 15;
    if (t !== STT_NOTYPE && t !== STT_OBJECT && t !== STT_FUNC) continue;
    const symName = name(v.getUint32(at, true));
    if (!symName) continue;
    const section = shndx === SHN_ABS ? null : byIndex.get(shndx);
    if (section === undefined) continue;
    symbols.push({
      name: symName,
      value: v.getBigUint64(at + 8, true),
      section,
      global: info >> 4 !== STB_LOCAL,
      type: t === STT_FUNC ? "func" : t === STT_OBJECT ? "object" : "notype",
      size: Number(v.getBigUint64(at + 16, true)),
    });
  }
  return symbols;
}
