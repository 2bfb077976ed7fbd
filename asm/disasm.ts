// SPDX-License-Identifier: MIT
//
// Disassembly of a Program (assembled, or read from an ELF file): a listing
// in objdump -d's layout, and source text that shootdown asm (and GNU as)
// turn back into the same bytes at the same addresses.

import type { AsmContext, Backend, Decoded, Symbolizer } from "./backend.ts";
import { evaluate, parseExpr } from "./expr.ts";
import type { Program, ProgramSection, ProgramSymbol } from "./program.ts";

export interface ListedInstruction {
  address: bigint;
  bytes: Uint8Array;
  /** As objdump prints it; "..." for a run of zero bytes objdump skips. */
  text: string;
  /** The symbol objdump prints a `<name>:` line for before this instruction. */
  label?: string;
  unknown?: boolean;
  /** A run of zeros not disassembled (objdump's "..."). */
  skipped?: boolean;
}

export interface ListedSection {
  name: string;
  instructions: ListedInstruction[];
}

const hex = (v: bigint) => v.toString(16);

/** AArch64 mapping symbols ($x, $d and their $x.foo forms) mark code and data; they name nothing. */
export function isMappingSymbol(s: ProgramSymbol): boolean {
  return s.name.startsWith("$");
}

/** Where a section holds data rather than code, by its mapping symbols: ascending [address, isData]. */
function dataMap(program: Program, section: ProgramSection): [bigint, boolean][] {
  return program.symbols
    .filter((y) => y.section === section.name && isMappingSymbol(y))
    .map((y): [bigint, boolean] => [y.value, y.name.startsWith("$d")])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Is the address in a data region, and where does that region end? */
function dataRegion(map: [bigint, boolean][], address: bigint, end: bigint): { data: boolean; until: bigint } {
  let data = false;
  let until = end;
  for (const [a, d] of map) {
    if (a <= address) data = d;
    else {
      until = a;
      break;
    }
  }
  return { data, until };
}

/** Data in a code section as objdump prints it for AArch64: .word/.short/.byte by alignment, up to the next mapping symbol. */
function dataChunk(bytes: Uint8Array, offset: number, address: bigint, until: bigint): Decoded {
  let size = 4 - Number(address & 3n);
  const room = Number(until - address);
  if (size > room) size = room;
  if (size === 3) size = address & 1n ? 1 : 2;
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i] ?? 0);
  const digits = value.toString(16).padStart(size * 2, "0");
  const directive = size === 4 ? ".word" : size === 2 ? ".short" : ".byte";
  return { length: size, text: `${directive}\t0x${digits}`, source: `${directive} 0x${digits}` };
}

/**
 * Symbols sorted as objdump prefers them for an address: function, then
 * object symbols, then globals, then locals, then by name.
 */
function preference(a: ProgramSymbol, b: ProgramSymbol): number {
  const rank = (s: ProgramSymbol) => (s.type === "func" ? 0 : s.type === "object" ? 1 : 2) * 2 + (s.global ? 0 : 1);
  return rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Finds, for an address, the symbol objdump would name it after. */
export class SymbolLookup {
  /** Per section: symbols by ascending address, the preferred one first at each address. */
  private readonly bySection = new Map<string, ProgramSymbol[]>();

  constructor(private readonly program: Program) {
    for (const s of program.symbols) {
      if (s.section === null || isMappingSymbol(s)) continue;
      const list = this.bySection.get(s.section) ?? [];
      list.push(s);
      this.bySection.set(s.section, list);
    }
    for (const list of this.bySection.values()) list.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : preference(a, b)));
  }

  sectionAt(address: bigint): ProgramSection | undefined {
    return this.program.sections.find((s) => s.flags.alloc && address >= s.address && address < s.address + BigInt(Math.max(s.size, 1)));
  }

  /** The preferred symbol at or below the address in its section. */
  nearest(address: bigint): ProgramSymbol | undefined {
    const section = this.sectionAt(address);
    const list = section ? this.bySection.get(section.name) : undefined;
    if (!list) return undefined;
    let best: ProgramSymbol | undefined;
    for (const s of list) {
      if (s.value > address) break;
      if (!best || s.value > best.value) best = s;
    }
    return best;
  }

  /** The preferred symbol exactly at the address. */
  at(address: bigint): ProgramSymbol | undefined {
    const s = this.nearest(address);
    return s && s.value === address ? s : undefined;
  }

  /** "foo+0x10", or "foo" at the symbol itself; "" when no symbol is near. */
  label(address: bigint): string {
    const s = this.nearest(address);
    if (!s) return "";
    const off = address - s.value;
    return `${s.name}${off ? `+0x${hex(off)}` : ""}`;
  }

  /** objdump's "401000 <foo+0x10>". */
  objdump(address: bigint): string {
    const label = this.label(address);
    return label ? `${hex(address)} <${label}>` : hex(address);
  }
}

/** objdump skips a run of at least this many zero bytes… */
const SKIP_ZEROES = 8;
/** …or a shorter run than this that reaches the end of a symbol's range. */
const SKIP_ZEROES_AT_END = 3;

/**
 * Decodes every executable section of a program as objdump -d does: range
 * by range between symbols, each range labelled with its symbol, runs of
 * zero bytes skipped by objdump's rules.
 */
export function listing(program: Program, backend: Backend): ListedSection[] {
  const symbols = new SymbolLookup(program);
  const names: Symbolizer = {
    objdump: (a) => symbols.objdump(a),
    source: (a) => `0x${hex(a)}`,
  };
  const out: ListedSection[] = [];
  for (const s of program.sections) {
    if (!s.flags.exec || s.type !== "progbits") continue;
    const end = s.address + BigInt(s.bytes.length);
    const starts = [...new Set(program.symbols.filter((y) => y.section === s.name && !isMappingSymbol(y) && y.value > s.address && y.value < end).map((y) => y.value))].sort((a, b) => (a < b ? -1 : 1));
    const map = program.arch === "aarch64" ? dataMap(program, s) : [];
    const bounds = [s.address, ...starts, end];
    const instructions: ListedInstruction[] = [];
    for (let r = 0; r + 1 < bounds.length; r++) {
      const stop = Number(bounds[r + 1]! - s.address);
      let off = Math.max(Number(bounds[r]! - s.address), instructions.length ? Number(instructions[instructions.length - 1]!.address - s.address) + instructions[instructions.length - 1]!.bytes.length : 0);
      let first = true;
      while (off < stop) {
        const address = s.address + BigInt(off);
        const label = first ? symbols.at(address)?.name ?? (off === 0 ? s.name : undefined) : undefined;
        first = false;
        let zeros = 0;
        while (off + zeros < stop && s.bytes[off + zeros] === 0) zeros++;
        if (zeros >= SKIP_ZEROES || (off + zeros === stop && zeros > 0 && zeros < SKIP_ZEROES_AT_END)) {
          // Short of the range's end, skip whole words only, so as not to run into an instruction.
          const n = off + zeros === stop ? zeros : zeros & ~3;
          instructions.push({ address, bytes: s.bytes.slice(off, off + n), text: "...", skipped: true, ...(label ? { label } : {}) });
          off += n;
          continue;
        }
        const region = dataRegion(map, address, end);
        const d = region.data ? dataChunk(s.bytes, off, address, region.until) : backend.decode(s.bytes, off, address, names);
        const len = Math.max(1, Math.min(d.length, s.bytes.length - off));
        instructions.push({ address, bytes: s.bytes.slice(off, off + len), text: d.text, ...(label ? { label } : {}), ...(d.unknown ? { unknown: true } : {}) });
        off += len;
      }
    }
    out.push({ name: s.name, instructions });
  }
  return out;
}

const FORMAT_NAME = { x86_64: "elf64-x86-64", aarch64: "elf64-littleaarch64" } as const;

/** The listing as objdump -d prints it. */
export function formatListing(program: Program, backend: Backend, fileName: string): string {
  const lines: string[] = ["", `${fileName}:     file format ${FORMAT_NAME[program.arch]}`, "", ""];
  for (const section of listing(program, backend)) {
    lines.push(`Disassembly of section ${section.name}:`);
    // A fold, not Math.max(...list): a section of some 100,000 instructions overflows the stack as arguments.
    const width = section.instructions.reduce((w, i) => Math.max(w, hex(i.address).length), 1);
    for (const ins of section.instructions) {
      if (ins.label) {
        lines.push("");
        lines.push(`${ins.address.toString(16).padStart(16, "0")} <${ins.label}>:`);
      }
      if (ins.skipped) {
        lines.push("\t...");
        continue;
      }
      const addr = `${hex(ins.address).padStart(width + 2)}:\t`;
      if (program.arch === "aarch64") {
        const word = [...ins.bytes].reverse().map((b) => b.toString(16).padStart(2, "0")).join("");
        lines.push(`${addr}${word} \t${ins.text}`);
      } else {
        const chunks: string[] = [];
        for (let i = 0; i < ins.bytes.length; i += 7) chunks.push([...ins.bytes.slice(i, i + 7)].map((b) => b.toString(16).padStart(2, "0")).join(" "));
        lines.push(`${addr}${chunks[0]!.padEnd(21)}\t${ins.text}`);
        for (let i = 1; i < chunks.length; i++) {
          lines.push(`${hex(ins.address + BigInt(i * 7)).padStart(width + 2)}:\t${chunks[i]}`);
        }
      }
    }
    lines.push("");
  }
  return lines.join("\n");
}

/**
 * Source text for the whole program: sections with their flags, labels for
 * symbols and for every address an instruction refers to, instructions as
 * the backend spells them to give the same bytes, data as .byte, .bss as
 * .skip. Assembled with `sectionStarts` (returned alongside) it gives the
 * same sections at the same addresses.
 */
export function toSource(program: Program, backend: Backend): { text: string; sectionStarts: Map<string, bigint> } {
  const symbols = new SymbolLookup(program);
  const wanted = new Set<bigint>();
  const labelOf = (a: bigint) => {
    const s = symbols.at(a);
    return s ? s.name : `.L_${hex(a)}`;
  };
  /** The addresses the instruction being decoded names. */
  let named: bigint[] = [];
  const names: Symbolizer = {
    objdump: (a) => symbols.objdump(a),
    source: (a) => {
      wanted.add(a);
      named.push(a);
      return labelOf(a);
    },
  };
  // Decode first, so that every address named is known before labels are placed.
  const decoded = new Map<ProgramSection, { offset: number; d: Decoded; named: bigint[] }[]>();
  for (const s of program.sections) {
    if (!s.flags.exec || s.type !== "progbits") continue;
    const list: { offset: number; d: Decoded; named: bigint[] }[] = [];
    const map = program.arch === "aarch64" ? dataMap(program, s) : [];
    const end = s.address + BigInt(s.bytes.length);
    for (let off = 0; off < s.bytes.length; ) {
      const address = s.address + BigInt(off);
      const region = dataRegion(map, address, end);
      named = [];
      const d = region.data
        ? { length: Math.min(Number(region.until - address), 16), text: "", source: byteDirective(s.bytes.subarray(off, off + Math.min(Number(region.until - address), 16))) }
        : backend.decode(s.bytes, off, address, names);
      const len = Math.max(1, Math.min(d.length, s.bytes.length - off));
      list.push({ offset: off, d: len === d.length ? d : { length: len, text: "", source: byteDirective(s.bytes.subarray(off, off + len)) }, named });
      off += len;
    }
    // A short branch to an address that gets no label in this section (outside it, or inside an
    // instruction) would assemble long, as GNU as relaxes only to a label of the same section.
    const starts = new Set(list.map((i) => s.address + BigInt(i.offset)));
    starts.add(end);
    for (const item of list) {
      if (item.named.some((a) => !starts.has(a)) && assemblesLonger(backend, item.d)) {
        item.d = { length: item.d.length, text: item.d.text, source: byteDirective(s.bytes.subarray(item.offset, item.offset + item.d.length)) };
      }
    }
    decoded.set(s, list);
  }

  const labelsAt = (s: ProgramSection, start: number, end: number) => {
    const out = new Map<number, string[]>();
    const add = (a: bigint, name: string) => {
      const off = Number(a - s.address);
      if (off < start || off >= end) return;
      const l = out.get(off) ?? [];
      if (!l.includes(name)) l.push(name);
      out.set(off, l);
    };
    for (const sym of program.symbols) if (sym.section === s.name && !isMappingSymbol(sym)) add(sym.value, sym.name);
    for (const a of wanted) if (!symbols.at(a)) add(a, labelOf(a));
    return out;
  };

  const lines: string[] = [];
  const starts = new Map<string, bigint>();
  const placed = new Set<bigint>();
  for (const sym of program.symbols) if (sym.global) lines.push(`\t.globl ${sym.name}`);
  for (const sym of program.symbols) if (sym.section === null && !isMappingSymbol(sym)) lines.push(`\t.set ${sym.name}, 0x${hex(BigInt.asUintN(64, sym.value))}`);
  for (const s of program.sections) {
    if (!s.flags.alloc) continue;
    starts.set(s.name, s.address);
    const flags = `${s.flags.alloc ? "a" : ""}${s.flags.write ? "w" : ""}${s.flags.exec ? "x" : ""}`;
    lines.push("", `\t.section ${s.name}, "${flags}", @${s.type}`);
    if (s.align > 1) lines.push(`\t.balign ${s.align}`);
    const end = s.type === "nobits" ? s.size : s.bytes.length;
    const labels = labelsAt(s, 0, end + 1);
    const emitLabels = (off: number) => {
      for (const l of labels.get(off) ?? []) {
        lines.push(`${l}:`);
        placed.add(s.address + BigInt(off));
      }
    };
    const list = decoded.get(s);
    if (list) {
      for (const { offset, d } of list) {
        emitLabels(offset);
        lines.push(`\t${d.source}`);
      }
    } else if (s.type === "nobits") {
      let last = 0;
      for (const off of [...labels.keys()].sort((a, b) => a - b)) {
        if (off > last) lines.push(`\t.skip ${off - last}`);
        emitLabels(off);
        last = off;
      }
      if (end > last) lines.push(`\t.skip ${end - last}`);
    } else {
      const offsets = [...labels.keys()].sort((a, b) => a - b);
      let at = 0;
      for (const off of [...offsets, end]) {
        for (let i = at; i < off; i += 16) lines.push(`\t${byteDirective(s.bytes.subarray(i, Math.min(off, i + 16)))}`);
        if (off < end || labels.has(off)) emitLabels(off);
        at = off;
      }
    }
    emitLabels(end);
  }
  // Targets outside every section (or inside an instruction) become absolute symbols.
  for (const a of wanted) {
    if (!symbols.at(a) && !placed.has(a)) lines.push(`\t.set ${labelOf(a)}, 0x${hex(a)}`);
  }
  return { text: lines.join("\n") + "\n", sectionStarts: starts };
}

/** Whether an instruction's source, as a branch whose target GNU as cannot relax to, assembles to more bytes than it came from. */
function assemblesLonger(backend: Backend, d: Decoded): boolean {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(d.source);
  if (!m || m[1]!.startsWith(".")) return false;
  const ctx: AsmContext = { parseExpr: (text) => parseExpr(text), knownValue: (e) => evaluate(e, () => undefined) };
  try {
    const relax = backend.assemble(m[1]!, m[2]!, ctx).relax;
    return relax !== undefined && relax.long.bytes.length !== d.length;
  } catch {
    return false;
  }
}

function byteDirective(bytes: Uint8Array): string {
  return `.byte ${[...bytes].map((b) => "0x" + b.toString(16).padStart(2, "0")).join(",")}`;
}
