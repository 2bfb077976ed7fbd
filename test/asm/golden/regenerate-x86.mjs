// SPDX-License-Identifier: MIT
//
// Regenerates test/asm/golden/x86_64/*.json from GNU binutils (as, ld,
// objdump; 2.40 on Debian bookworm), the reference the x86-64 backend's
// tests compare with when binutils is not installed:
//
//   node test/asm/golden/regenerate-x86.mjs          rewrite the golden files
//   node test/asm/golden/regenerate-x86.mjs --check  exit 1 if they are stale
//
// corpus.json    the backend's corpus files (CORPUS_FILES), assembled and linked at
//                0x100000: the bytes of each source line, objdump -d's
//                instructions, the symbols.
// decode.json    byte sequences (each followed by filler bytes) and the first
//                instruction objdump -D -b binary finds in them.
// fill.json      the code alignment padding GNU as writes, by size.
// snippets.json  small sources (forward .equ, alignment, relaxation edges)
//                with their linked bytes.
//
// The tests import the helpers below to ask binutils directly when it is
// installed.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const GOLDEN_DIR = join(here, "x86_64");
export const CORPUS_DIR = join(here, "..", "corpus", "x86_64");
export const BASE = 0x100000n;
/** The corpus files of the x86-64 backend (the core's directive files live beside them). */
export const CORPUS_FILES = ["instructions.s"];
/** Symbols ld defines by itself, at the end of .text here. */
const LINKER_SYMBOLS = new Set(["__bss_start", "_edata", "_end"]);

/** Whether as, ld and objdump can be run. */
export function binutilsAvailable() {
  try {
    for (const tool of ["as", "ld", "objdump"]) execFileSync(tool, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function run(tool, args, cwd) {
  return execFileSync(tool, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
}

function withTempDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), "x86-golden-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const toHex = (bytes) => Buffer.from(bytes).toString("hex");

/** Sections (name → { addr, bytes }) and symbols of an ELF64 little-endian file. */
export function readElf(buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true);
  const shnum = dv.getUint16(0x3c, true);
  const shstrndx = dv.getUint16(0x3e, true);
  const headers = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    headers.push({
      name: dv.getUint32(o, true),
      type: dv.getUint32(o + 4, true),
      addr: dv.getBigUint64(o + 16, true),
      offset: Number(dv.getBigUint64(o + 24, true)),
      size: Number(dv.getBigUint64(o + 32, true)),
      link: dv.getUint32(o + 40, true),
    });
  }
  const str = (table, at) => {
    const start = headers[table].offset + at;
    let end = start;
    while (buf[end] !== 0) end++;
    return buf.subarray(start, end).toString("latin1");
  };
  const sections = new Map();
  headers.forEach((h, i) => {
    const name = str(shstrndx, h.name);
    sections.set(name, { index: i, addr: h.addr, bytes: h.type === 8 ? new Uint8Array(h.size) : new Uint8Array(buf.subarray(h.offset, h.offset + h.size)) });
  });
  const symbols = [];
  for (const h of headers) {
    if (h.type !== 2) continue;
    for (let o = h.offset + 24; o < h.offset + h.size; o += 24) {
      const name = str(h.link, dv.getUint32(o, true));
      const info = buf[o + 4];
      const shndx = dv.getUint16(o + 6, true);
      if (name && (info & 0xf) !== 4 && (info & 0xf) !== 3) symbols.push({ name, address: dv.getBigUint64(o + 8, true), shndx });
    }
  }
  return { sections, symbols };
}

/** objdump -d lines → instructions { address, bytes (hex), text }; continuation lines add bytes. */
export function parseObjdump(output) {
  const insns = [];
  let current = null;
  for (const line of output.split("\n")) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*(?:\t(.*))?$/.exec(line);
    if (!m) {
      if (/^Disassembly of section|^\S/.test(line)) current = null;
      continue;
    }
    const bytes = m[2].replace(/ /g, "");
    if (m[3] === undefined && current) current.bytes += bytes;
    else {
      current = { address: BigInt(`0x${m[1]}`), bytes, text: (m[3] ?? "").trimEnd() };
      insns.push(current);
    }
  }
  return insns;
}

/** Assembles and links `source` at BASE; the .text bytes, symbols and objdump's instructions. */
export function gnuLink(source, { objdump = true } = {}) {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "x.s"), source);
    run("as", ["--64", "-o", "x.o", "x.s"], dir);
    run("ld", [`-Ttext=0x${BASE.toString(16)}`, "-e", `0x${BASE.toString(16)}`, "-o", "x", "x.o"], dir);
    const elf = readElf(readFileSync(join(dir, "x")));
    const text = elf.sections.get(".text");
    const textIndex = text.index;
    return {
      bytes: text.bytes,
      symbols: elf.symbols.filter((s) => s.shndx === textIndex).map((s) => ({ name: s.name, address: s.address, linker: LINKER_SYMBOLS.has(s.name) })),
      instructions: objdump ? parseObjdump(run("objdump", ["-d", "-z", "-j", ".text", "x"], dir)) : [],
    };
  });
}

/** GNU as's messages for `source` (errors and warnings, without file and line). */
export function gnuMessages(source) {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "x.s"), source);
    try {
      execFileSync("as", ["--64", "-o", "x.o", "x.s"], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      return [];
    } catch (e) {
      return parseMessages(String(e.stderr));
    }
  });
}

function parseMessages(stderr) {
  return stderr
    .split("\n")
    .map((l) => /^x\.s:(\d+): (Error|Warning): (.*)$/.exec(l))
    .filter(Boolean)
    .map((m) => ({ kind: m[2], message: m[3], line: Number(m[1]) }));
}

/** GNU as's warnings and errors for `source`, whether or not it assembles. */
export function gnuWarnings(source) {
  return withTempDir((dir) => {
    writeFileSync(join(dir, "x.s"), source);
    const r = spawnSync("as", ["--64", "-o", "x.o", "x.s"], { cwd: dir, encoding: "utf8" });
    return parseMessages(r.stderr);
  });
}

/** A corpus file as the golden test needs it: the bytes of each source line, objdump's instructions, the symbols. */
export function corpusGolden(source) {
  const lines = source.split("\n");
  // Labels before every line give each line's address; they change no bytes.
  const marked = lines.map((l, i) => `__line_${i + 1}: ${l}`).join("\n");
  const withMarkers = gnuLink(marked, { objdump: false });
  const plain = gnuLink(source);
  if (toHex(withMarkers.bytes) !== toHex(plain.bytes)) throw new Error("line markers changed the layout");
  const at = new Map(withMarkers.symbols.filter((s) => s.name.startsWith("__line_")).map((s) => [Number(s.name.slice(7)), s.address]));
  const end = BASE + BigInt(plain.bytes.length);
  const out = [];
  lines.forEach((text, i) => {
    const start = at.get(i + 1);
    const next = at.get(i + 2) ?? end;
    if (start !== undefined && next > start) out.push({ line: i + 1, source: text, offset: Number(start - BASE), length: Number(next - start) });
  });
  return {
    base: `0x${BASE.toString(16)}`,
    bytes: toHex(plain.bytes),
    lines: out,
    instructions: plain.instructions.map((ins) => ({ offset: Number(ins.address - BASE), bytes: ins.bytes, text: ins.text })),
    // objdump names addresses after the code by the symbols ld adds (__bss_start), so they are kept.
    symbols: plain.symbols.map((s) => ({ name: s.name, offset: Number(s.address - BASE) })),
  };
}

/** The first instruction objdump finds in each byte string (hex), as { length, text }. */
export function objdumpFirst(cases) {
  return withTempDir((dir) => {
    const files = cases.map((hex, i) => {
      const name = `c${i}.bin`;
      writeFileSync(join(dir, name), Buffer.from(hex, "hex"));
      return name;
    });
    const results = [];
    // Batches keep the command line short.
    for (let i = 0; i < files.length; i += 500) {
      const out = run("objdump", ["-D", "-z", "-b", "binary", "-m", "i386:x86-64", ...files.slice(i, i + 500)], dir);
      for (const chunk of out.split(/\n(?=c\d+\.bin:\s+file format)/)) {
        const m = /^c(\d+)\.bin:/.exec(chunk.trimStart());
        if (!m) continue;
        const first = parseObjdump(chunk)[0];
        results[Number(m[1])] = { length: first.bytes.length / 2, text: first.text };
      }
    }
    return results;
  });
}

/** The padding GNU as writes for code alignment, for each size. */
export function gnuFill(sizes) {
  return withTempDir((dir) => {
    const span = 1 << Math.ceil(Math.log2(Math.max(...sizes) + 1));
    const src = sizes.map((n) => `.section .f${n},"ax",@progbits\n.skip ${span - n}\n.balign ${span}\n`).join("");
    writeFileSync(join(dir, "x.s"), src);
    run("as", ["--64", "-o", "x.o", "x.s"], dir);
    const elf = readElf(readFileSync(join(dir, "x.o")));
    return sizes.map((n) => ({ size: n, bytes: toHex(elf.sections.get(`.f${n}`).bytes.subarray(span - n)) }));
  });
}

// ---------------------------------------------------------------------------
// The inputs.

/** Sizes of alignment padding kept in fill.json. */
export const FILL_SIZES = [...Array.from({ length: 260 }, (_, i) => i + 1), 1000, 4095];

/** Sources whose bytes depend on more than one line: forward .equ, alignment, relaxation edges. */
export const SNIPPETS = [
  { name: "forward .equ immediates and displacements", source: "add $X,%eax\nadd $X,%al\nadd $X,%rax\nmov $X,%rax\nmov $X,%eax\nmovabs $X,%rax\npush $X\nimul $X,%eax,%ebx\nimul $X,%eax\ntest $X,%ebx\nshl $X,%eax\nint $X\nret $X\nin $X,%al\nbt $X,%eax\nmov X(%rax),%eax\nmov X,%eax\nmov X(,%rax,2),%eax\nmovw $X,(%rax)\nmovb $X,(%rax)\n.equ X, 5\n" },
  { name: "forward .equ negative", source: "add $Y,%eax\nadd $Y,%al\nmov $Y,%rax\nmov Y(%rax),%eax\nmov $Y,%ax\n.equ Y, -1\n" },
  { name: "backward .equ", source: ".equ Z, 5\nadd $Z,%eax\nadd $Z,%al\nmov $Z,%rax\nmov Z(%rax),%eax\nmov Z(%rip),%eax\nmov Z,%eax\nshl $Z,%eax\nimul $Z,%eax\n" },
  { name: "forward .equ branch and rip targets", source: "jmp T\nje T\ncall T\nmov T(%rip),%eax\n.equ T, 0x100040\n" },
  { name: "absolute branch targets", source: "jmp 0x100000\ncall 0x100000\njne 0x100100\n" },
  { name: "label immediates", source: "mov $l1,%eax\nmov $l1,%rax\nmovabs $l1,%rax\npush $l1\nlea l1(%rip),%rax\nmov l1,%eax\nmov l1(,%rax,8),%rdx\nl1: ret\n" },
  { name: "short jump limits", source: "a: jmp b\n.skip 127\nb: jmp a\nc: jmp d\n.skip 128\nd: jmp c\n" },
  { name: "short jcc limits", source: "a: jne b\n.skip 127\nb: jne a\nc: jne d\n.skip 128\nd: jle c\n" },
  { name: "backward jump limits", source: "a: .skip 126\njmp a\nb: .skip 127\njmp b\n" },
  { name: "jumps relaxing each other", source: "a: jmp c\nb: jmp d\n.skip 124\nc: nop\n.skip 2\nd: jmp a\n" },
  { name: "numeric labels", source: "1: jmp 1f\n nop\n1: jmp 1b\n jne 2f\n2: ret\n" },
  { name: "alignment padding", source: "nop\n.p2align 4\nnop\n.p2align 6\nret\n.balign 32\nhlt\n.p2align 8\nret\n" },
  { name: "alignment padding with the NOP byte as the fill", source: "nop\n.p2align 3,0x90\nret\n.balign 16,0x90,3\nint3\n.p2align 4,0x90\nhlt\n.align 32,0x90\nret\n.p2align 4,0x91\nret\n" },
  { name: "MOVABS to and from 64-bit addresses, as movabs and as mov", source: "movabs 0x1122334455667788,%al\nmovabs %rax,0x8000000000\nmov 0x8000000000,%eax\nmovb %al,0x1122334455667788\nmov %fs:0x8000000000,%rax\nmovabs X,%rax\nmovabs %ax,X\nmovabs 0x10,%eax\naddr32 mov 0x10,%al\n.equ X, 0x123456789\n" },
  { name: "current location", source: "jmp .\njmp .+2\njmp .-0x7f\nje .+0x100\nlea .(%rip),%rax\n" },
];

/** One instruction's bytes in byte strings objdump should read as the floor (every case gets filler bytes appended). */
function decodeCases() {
  const cases = new Set();
  const add = (hex) => cases.add(hex.replace(/\s+/g, "").toLowerCase());
  const tails = [
    "c0", "c3", "e4", "00", "04 24", "04 20", "04 98", "04 25 f8 ff ff ff", "05 f0 ff ff ff", "40 80", "45 00", "80 00 00 00 80", "84 c0 78 56 34 12", "04 65 f8 ff ff ff",
  ];
  // One-byte opcodes with ModRM: the ALU, test, xchg, mov, lea, groups 1-3 and 5, shifts, imul, movsxd.
  const withModrm = [
    0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x18, 0x19, 0x1a, 0x1b, 0x20, 0x21, 0x22, 0x23,
    0x28, 0x29, 0x2a, 0x2b, 0x30, 0x31, 0x32, 0x33, 0x38, 0x39, 0x3a, 0x3b, 0x63, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8d,
  ];
  const hex2 = (n) => n.toString(16).padStart(2, "0");
  for (const op of withModrm) for (const t of tails) for (const r of ["", "41", "4c", "66"]) add(`${r}${hex2(op)}${t}`);
  for (const op of withModrm) for (const r of ["40", "42", "44", "48", "4f", "6648", "f0", "64", "67"]) { add(`${r}${hex2(op)}00`); add(`${r}${hex2(op)}f4`); }
  // Group opcodes: every /digit of 80, 81, 83, C0, C1, D0-D3, F6, F7, FE, FF, C6, C7, 8F, 0F BA, 0F 00, 0F 01, 0F AE.
  const groups = ["80", "81", "83", "c0", "c1", "d0", "d1", "d2", "d3", "f6", "f7", "fe", "ff", "c6", "c7", "8f", "0fba", "0f00", "0f01", "0fae", "0f1f"];
  const modrms = [0xc0, 0xc3, 0x40, 0x04];
  for (const g of groups) {
    for (let digit = 0; digit < 8; digit++) {
      for (const m of modrms) {
        const modrm = m | (digit << 3);
        const rest = (m & 7) === 4 ? "24" : m === 0x40 ? "10" : m === 0x80 ? "00 01 00 00" : "";
        for (const r of ["", "48", "41"]) add(`${r}${g}${hex2(modrm)}${rest}`);
        if (m === 0xc3) add(`66${g}${hex2(modrm)}${rest}`);
      }
    }
  }
  // Immediate edge values through the short and group forms.
  for (const imm of ["00", "7f", "80", "ff"]) for (const op of ["04", "0c", "24", "2c", "34", "3c", "a8", "6a", "b0", "b3", "cd", "e4", "e6"]) add(`${op}${imm}`);
  for (const imm of ["00000000", "ffffffff", "00000080", "ffffff7f", "78563412"]) {
    for (const op of ["05", "0d", "25", "2d", "35", "3d", "a9", "68", "b8", "bf", "e8", "e9"]) for (const r of ["", "48", "41", "66"]) add(`${r}${op}${imm}`);
  }
  add("48b8efcdab8967452301"); add("49bf0000000000000080"); add("48a10000000001000000"); add("a20000000080ffffff7f"); add("64488b042528000000"); add("65a10800000000000000");
  // Two-byte opcodes: SETcc, CMOVcc, Jcc, movzx/movsx, bt family, cmpxchg, xadd, imul, mov CR, bswap, system.
  for (let cc = 0; cc < 16; cc++) {
    for (const t of ["c0", "c7", "00", "45 00"]) add(`0f${hex2(0x90 + cc)}${t}`);
    for (const t of ["c1", "07"]) for (const r of ["", "48", "66", "4c"]) add(`${r}0f${hex2(0x40 + cc)}${t}`);
    add(`${hex2(0x70 + cc)}10`); add(`${hex2(0x70 + cc)}f0`); add(`0f${hex2(0x80 + cc)}00010000`); add(`0f${hex2(0x80 + cc)}f0ffffff`);
  }
  for (const op of ["b6", "b7", "be", "bf", "a3", "ab", "b3", "bb", "af", "b0", "b1", "c0", "c1"]) {
    for (const t of ["c0", "c3", "00", "44 24 08", "0d 00 00 00 00"]) for (const r of ["", "48", "66", "4c", "40"]) add(`${r}0f${op}${t}`);
    add(`f00f${op}03`);
  }
  for (const t of ["c0", "d8", "e0", "c1"]) for (const r of ["", "41", "44", "45", "48"]) { add(`${r}0f20${t}`); add(`${r}0f22${t}`); }
  for (let reg = 0; reg < 8; reg++) for (const r of ["", "41", "48", "49"]) add(`${r}0f${hex2(0xc8 + reg)}`);
  for (const op of ["0f30", "0f32", "fa", "fb", "f4", "cf", "48cf", "66cf", "cc", "0fa2", "0f31", "0faef0", "0faee8", "0faef8", "0f09", "0f08", "0f01c1", "0f0b",
    "67a100000000", "67a30000000048", "0f01f8", "0f01cb", "0f01ca", "0f01ee", "0f01ef", "0f01f9", "0f05", "0f07", "480f07", "9c", "9d", "669c", "669d", "f390", "90", "6690", "4890", "4190", "4990",
    "c3", "66c3", "f3c3", "3effe0", "3eff20", "3eff542408", "c20800", "c9", "66c9", "c8100001", "98", "6698", "4898", "99", "6699", "4899", "f8", "f9", "f5", "fc", "fd",
    "ec", "ed", "66ed", "ee", "ef", "66ef", "660f388200", "660f388210", "66440f388218", "660f38820425", "0fae38", "0f0118", "0f0110", "0f0108", "0f0100", "0f0138",
    "0f00d8", "0f0018", "ff30", "66ff30", "50", "4150", "6650", "58", "4f58", "6a80", "666aff", "eb00", "ebfe", "e900000000", "ffd0", "41ffd3", "ff20", "ff2425",
    "f00103", "66f00103", "f0480fb103", "f00fc103", "f0870b", "f00fba2801", "f0ff00", "f0f710", "f0f718", "f0", "6666", "66669090", "2e8b00", "3e8b00", "648b00",
    "658b00", "64658b00", "6490", "f20103", "f30103", "f3f20103", "678b00", "678b4001", "678b0500000000", "67488d0c58", "0000", "4000c0", "4000e0", "4088c6",
    "4288c6", "428b0500000000", "438b0424", "8b04e0", "8b0424", "428b0424", "8b04a5f8ffffff", "8b0425f8ffffff", "678b0425f8ffffff", "660f1f440000", "0f1f8000000000",
    "0f1f840000000000", "660f1f840000000000", "662e0f1f840000000000", "66662e0f1f840000000000", "2e660f1f840000000000", "0f1f00", "0f1f4000", "0f1f440000"]) add(op);
  // Issue 16: double shifts, bit scans, CMPXCHG8B/16B, SAHF/LAHF, ENDBR64, the FS/GS base instructions.
  for (const op of ["0fa4", "0fa5", "0fac", "0fad", "0fbc", "0fbd", "f30fbc", "f30fbd", "f30fb8", "660fbc", "66f30fbd", "f20fbc"]) {
    // REX goes after the legacy and mandatory prefixes, right before 0F.
    const at = op.indexOf("0f");
    for (const t of ["c0", "d8", "03", "4424f8", "0500000000"]) for (const r of ["", "48", "4d", "66"]) add(`${op.slice(0, at)}${r}${op.slice(at)}${t}${op.endsWith("a4") || op.endsWith("ac") ? "05" : ""}`);
  }
  // String instructions with every prefix objdump treats specially.
  for (const op of ["a4", "a5", "a6", "a7", "aa", "ab", "ac", "ad", "ae", "af"]) {
    for (const p of ["", "f3", "f2", "66", "48", "4c", "41", "67", "64", "65", "26", "2e", "36", "3e", "f366", "66f3", "f348", "f3f2", "f2f3", "6766", "67f3", "64f3", "f364", "f0", "6465", "6526"]) {
      // REX goes last.
      const rex = p.match(/^(.*?)(4[0-9a-f])$/);
      add(rex ? `${rex[1]}${rex[2]}${op}` : `${p}${op}`);
    }
  }
  // Segment-register moves (8C, 8E) with each prefix objdump reads as a size or prints.
  for (const op of ["8c", "8e"]) for (const m of ["d8", "c0", "e0", "e8", "d0", "c8", "20", "1c24", "5d08"]) for (const p of ["", "66", "48", "41", "44", "4c"]) add(`${p}${op}${m}`);
  for (const op of ["0fc70f", "480fc70f", "f0480fc74f10", "f00fc70c24", "0fc708", "9e", "9f", "f30f1efa", "f30f1efb", "f3480faec0", "f30faec8", "f3480faed0", "f3410faedc", "f30faed8"]) add(op);
  return [...cases];
}

/** Byte strings outside the floor: the decoder must leave them undecoded. */
export const OUTSIDE = ["0f0d00", "d8c0", "f20f58c0", "c5f877", "62", "06", "27", "d6", "f2c3", "f2e800000000", "2e7400", "660fae38",
  "f30faef0", "0f0f0000", "8cf8", "8ef0", "82c001", "0fb8c0", "f30fae00", "9b", "d7", "e2fe", "e3fe", "ca0800", "cb"];

const FILLER = "90909090909090909090909090909090";

/** Every golden file's name and contents. */
export function generate() {
  const corpus = {};
  for (const file of CORPUS_FILES) {
    corpus[file] = corpusGolden(readFileSync(join(CORPUS_DIR, file), "utf8"));
  }
  const inputs = decodeCases();
  const floor = objdumpFirst(inputs.map((h) => h + FILLER));
  const outside = objdumpFirst(OUTSIDE.map((h) => h + FILLER));
  return {
    "corpus.json": corpus,
    "decode.json": {
      filler: FILLER,
      floor: inputs.map((hex, i) => ({ hex, ...floor[i] })),
      outside: OUTSIDE.map((hex, i) => ({ hex, ...outside[i] })),
    },
    "fill.json": gnuFill(FILL_SIZES),
    "snippets.json": SNIPPETS.map((s) => ({ ...s, bytes: toHex(gnuLink(s.source, { objdump: false }).bytes) })),
  };
}

/** JSON with one array element per line, which keeps the files small and their diffs readable. */
export function stringify(value, indent = "") {
  if (Array.isArray(value)) return `[\n${value.map((v) => `${indent} ${JSON.stringify(v)}`).join(",\n")}\n${indent}]`;
  if (value && typeof value === "object") {
    return `{\n${Object.entries(value).map(([k, v]) => `${indent} ${JSON.stringify(k)}: ${stringify(v, `${indent} `)}`).join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes("--check");
  const files = generate();
  let stale = false;
  for (const [name, value] of Object.entries(files)) {
    const path = join(GOLDEN_DIR, name);
    const text = `${stringify(value)}\n`;
    let old = "";
    try {
      old = readFileSync(path, "utf8");
    } catch {}
    if (old === text) continue;
    stale = true;
    if (check) console.error(`${name} is stale`);
    else writeFileSync(path, text);
  }
  if (check && stale) process.exit(1);
  if (!check) console.log(`wrote ${Object.keys(files).join(", ")} in ${GOLDEN_DIR}`);
}
