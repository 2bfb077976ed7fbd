#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Regenerates the AArch64 golden files in test/asm/golden/aarch64/ from GNU
// binutils (aarch64-linux-gnu-as, -ld, -objdump, -nm; 2.40 is what the
// goldens were made with). Everything expected by test/asm/a64/ comes from
// here, never from the code under test:
//
//   corpus.json   every instruction line of test/asm/corpus/aarch64/*.s with
//                 the word GNU as made (linked at 0x40080000, data at
//                 0x40100000) and objdump -d's text for it, plus the symbols
//   decode.json   words objdump decodes (exhaustive sets and seeded random
//                 words in each encoding class of the subset) and its text
//   errors.json   each line of aarch64/errors.s with GNU as's first error
//   fixups.json   branches, literals and ADR at chosen distances: the word
//                 or GNU as's error
//
// Usage: node test/asm/golden/regenerate-a64.mjs [--check]
// With --check nothing is written; the exit status says whether the files
// are current (for CI).

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, "aarch64");
const CORPUS = join(HERE, "..", "corpus", "aarch64");
/** The corpus files of the A64 backend (the core's own files sit beside them). */
const CORPUS_FILES = ["instructions.s", "atomics.s"];
const TEXT = 0x40080000n;
const DATA = 0x40100000n;
const check = process.argv.includes("--check");
const tmp = mkdtempSync(join(tmpdir(), "a64-golden-"));

const tool = (name) => `aarch64-linux-gnu-${name}`;

function run(name, args, allowFail = false) {
  const r = spawnSync(tool(name), args, { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`${tool(name)}: ${r.error.message} (are GNU binutils for AArch64 installed?)`);
  if (r.status !== 0 && !allowFail) throw new Error(`${tool(name)} ${args.join(" ")}:\n${r.stderr}`);
  return r;
}

/** Assembles and links `source`, returns objdump's lines by address and nm's symbols. */
function build(source, asFlags, name) {
  const s = join(tmp, `${name}.s`), o = join(tmp, `${name}.o`), x = join(tmp, name);
  writeFileSync(s, source);
  const as = run("as", [...asFlags, "-o", o, s]);
  if (as.stderr.trim()) throw new Error(`${name}: GNU as said:\n${as.stderr}`);
  run("ld", [`-Ttext=0x${TEXT.toString(16)}`, `-Tdata=0x${DATA.toString(16)}`, "-o", x, o]);
  const dump = run("objdump", ["-d", x]).stdout;
  const lines = new Map();
  for (const line of dump.split("\n")) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f]{8}) \t(.*)$/.exec(line);
    if (m) lines.set(BigInt("0x" + m[1]), { word: m[2], text: m[3] });
  }
  const symbols = {};
  for (const line of run("nm", [x]).stdout.split("\n")) {
    const m = /^([0-9a-f]+) ([a-zA-Z]) (\S+)$/.exec(line);
    if (m && /[tTdD]/.test(m[2])) symbols[m[3]] = "0x" + BigInt("0x" + m[1]).toString(16);
  }
  return { lines, symbols };
}

/** The instruction lines of a corpus file in .text, in order: every other line is a label, a directive, a comment or blank. */
function instructionLines(text) {
  const out = [];
  let section = ".text";
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\/\/.*$/, "").trim();
    if (!line || /^[A-Za-z_.$][\w.$]*:$/.test(line)) return;
    if (line.startsWith(".")) {
      if (line === ".text" || line === ".data") section = line;
      return;
    }
    if (section === ".text") out.push({ line: i + 1, source: line });
  });
  return out;
}

function corpus() {
  const files = [];
  for (const file of CORPUS_FILES) {
    const text = readFileSync(join(CORPUS, file), "utf8");
    const march = /-march=([\w.+-]*\w)/.exec(text.split("\n").slice(0, 10).join("\n"))?.[1];
    const flags = march ? [`-march=${march}`] : [];
    const { lines, symbols } = build(text, flags, basename(file, ".s"));
    const entries = instructionLines(text).map((e, k) => {
      const address = TEXT + BigInt(4 * k);
      const d = lines.get(address);
      if (!d) throw new Error(`${file}:${e.line}: nothing at 0x${address.toString(16)}`);
      return { line: e.line, source: e.source, address: "0x" + address.toString(16), word: d.word, text: d.text };
    });
    if (lines.size !== entries.length) throw new Error(`${file}: ${lines.size} words in .text but ${entries.length} instruction lines`);
    files.push({ file, asFlags: flags, symbols, entries });
  }
  return { text: "0x" + TEXT.toString(16), data: "0x" + DATA.toString(16), files };
}

/** A seeded xorshift32, so that the random words are the same on every run. */
function rng(seed) {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/**
 * Encoding classes of the subset (mask, value): random words keep the bits
 * under the mask. Register fields are biased towards 31 and towards Rm = Rn so
 * that the aliases objdump chooses by register come up.
 */
const CLASSES = [
  ["adr/adrp", 0x1f000000, 0x10000000],
  ["add/sub immediate", 0x1f800000, 0x11000000],
  ["logical immediate", 0x1f800000, 0x12000000],
  ["move wide", 0x1f800000, 0x12800000],
  ["bitfield", 0x1f800000, 0x13000000],
  ["extract", 0x1f800000, 0x13800000],
  ["b/bl", 0x7c000000, 0x14000000],
  ["b.cond", 0xff000000, 0x54000000],
  ["cbz/cbnz", 0x7e000000, 0x34000000],
  ["tbz/tbnz", 0x7e000000, 0x36000000],
  ["exception", 0xff000000, 0xd4000000],
  ["system", 0xffc00000, 0xd5000000],
  ["sys", 0xfff80000, 0xd5080000],
  ["branch register", 0xfe000000, 0xd6000000],
  ["load literal", 0x3f000000, 0x18000000],
  ["load/store unsigned offset", 0x3f000000, 0x39000000],
  ["load/store imm9, register offset, atomics", 0x3f000000, 0x38000000],
  ["load/store register offset", 0x3f200c00, 0x38200800],
  ["atomics", 0x3f200c00, 0x38200000],
  ["load/store pair", 0x3e000000, 0x28000000],
  ["exclusive", 0x3f000000, 0x08000000],
  ["logical shifted register", 0x1f000000, 0x0a000000],
  ["add/sub shifted register", 0x1f200000, 0x0b000000],
  ["add/sub extended register", 0x1f200000, 0x0b200000],
  ["adc/sbc", 0x1fe00000, 0x1a000000],
  ["conditional compare", 0x1fe00000, 0x1a400000],
  ["conditional select", 0x1fe00000, 0x1a800000],
  ["data processing 1/2 source", 0x1fe00000, 0x1ac00000],
  ["data processing 3 source", 0x1f000000, 0x1b000000],
  ["anything", 0x00000000, 0x00000000],
];
const PER_CLASS = 100;

function decodeWords() {
  const next = rng(0xa64);
  const words = [];
  for (const [, mask, value] of CLASSES) {
    for (let i = 0; i < PER_CLASS; i++) {
      let w = next();
      if (next() & 1) w = (w & ~0x1f) | 0x1f;
      if (next() % 4 === 0) w = (w & ~(0x1f << 5)) | (0x1f << 5);
      if (next() % 4 === 0) w = (w & ~(0x1f << 16)) | (0x1f << 16);
      if (next() % 4 === 0) w = (w & ~(0x1f << 16)) | (((w >>> 5) & 0x1f) << 16);
      words.push(((w & ~mask) | value) >>> 0);
    }
  }
  // Exhaustive: hints and barriers (CRn 2 and 3), MSR (immediate) for op1 0 and 3, branch-register opcodes.
  for (let n = 0; n < 256; n++) words.push((0xd503201f | (n << 5)) >>> 0);
  for (const op1 of [0, 3]) for (let n = 0; n < 128; n++) words.push((0xd500401f | (op1 << 16) | (n << 5)) >>> 0);
  for (let opc = 0; opc < 16; opc++) for (const n of [0, 30, 31]) words.push((0xd61f0000 | (opc << 21) | (n << 5)) >>> 0);
  // Every SYS encoding with CRn 7 or 8 for op1 0, 3, 4, 6 with Rt = 31, and the TLBI ones (CRn 8) with Rt = 3 too.
  for (const op1 of [0, 3, 4, 6]) for (const crn of [7, 8]) for (let crm = 0; crm < 16; crm++) for (let op2 = 0; op2 < 8; op2++) {
    for (const t of crn === 8 ? [31, 3] : [31]) words.push((0xd5080000 | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | t) >>> 0);
  }
  // MRS in the IMPLEMENTATION DEFINED spaces (op0 3, CRn 11 and 15) and all of op0 = 3 op1 = 0, CRn 0.
  for (const crn of [11, 15]) for (let op1 = 0; op1 < 8; op1++) for (let crm = 0; crm < 16; crm += 5) for (let op2 = 0; op2 < 8; op2 += 3) {
    words.push((0xd5380000 | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5)) >>> 0);
  }
  const unique = [...new Set(words)];
  const source = "\t.text\n\t.globl _start\n_start:\n" + unique.map((w) => `\t.inst 0x${w.toString(16).padStart(8, "0")}\n`).join("");
  const { lines } = build(source, [], "decode");
  return unique.map((w, k) => {
    const d = lines.get(TEXT + BigInt(4 * k));
    if (!d || d.word !== w.toString(16).padStart(8, "0")) throw new Error(`decode: word ${k} missing`);
    return [d.word, d.text];
  });
}

function errors() {
  const path = join(OUT, "errors.s");
  const lines = readFileSync(path, "utf8").split("\n");
  const s = join(tmp, "errors.s");
  writeFileSync(s, lines.join("\n"));
  const r = run("as", ["-march=armv8.4-a", "-o", join(tmp, "errors.o"), s], true);
  const byLine = new Map();
  for (const l of r.stderr.split("\n")) {
    const m = /^.*?:(\d+): Error: (.*)$/.exec(l);
    if (m && !byLine.has(Number(m[1]))) byLine.set(Number(m[1]), m[2]);
  }
  const out = [];
  lines.forEach((raw, i) => {
    const source = raw.replace(/\/\/.*$/, "").trim();
    if (!source || source.startsWith(".") || source.endsWith(":")) return;
    const message = byLine.get(i + 1);
    if (!message) throw new Error(`errors.s:${i + 1}: GNU as accepted \`${source}'`);
    out.push({ line: i + 1, source, message });
  });
  return out;
}

/** Branch-like instructions to a label `delta` bytes away (positive: after, at least 4; negative: before). */
const FIXUP_CASES = [
  ...["b t", "bl t"].flatMap((i) => [[i, 0x7fffffc], [i, 0x8000000], [i, -0x8000000], [i, -0x8000004], [i, 6], [i, 4]]),
  ...["b.ne t", "cbz x0, t", "cbnz w3, t", "ldr x0, t", "ldr w1, t", "ldrsw x2, t"].flatMap((i) => [
    [i, 0xffffc], [i, 0x100000], [i, -0x100000], [i, -0x100004], [i, 6], [i, -4],
  ]),
  ...["tbz x0, #40, t", "tbnz w1, #3, t"].flatMap((i) => [[i, 0x7ffc], [i, 0x8000], [i, -0x8000], [i, -0x8004], [i, 6]]),
  ...[["adr x0, t", 0xfffff], ["adr x0, t", 0x100000], ["adr x0, t", -0x100000], ["adr x0, t", -0x100001], ["adr x0, t", 7]],
];

function fixups() {
  return FIXUP_CASES.map(([insn, delta], k) => {
    const after = delta > 0;
    const gap = Math.abs(delta) - (after ? 4 : 0);
    const body = after
      ? `\t${insn}\n\t.skip ${gap}\nt:\tnop\n`
      : `t:\t.skip ${Math.abs(delta)}\n\t${insn}\n`;
    const s = join(tmp, `fix${k}.s`), o = join(tmp, `fix${k}.o`), bin = join(tmp, `fix${k}.bin`);
    writeFileSync(s, "\t.text\n" + body);
    const r = run("as", ["-o", o, s], true);
    const message = /Error: (.*)$/m.exec(r.stderr)?.[1];
    if (message) return { insn, delta, message };
    run("objcopy", ["-O", "binary", "--only-section=.text", o, bin]);
    const bytes = readFileSync(bin);
    const at = after ? 0 : Math.abs(delta);
    const word = bytes.readUInt32LE(at).toString(16).padStart(8, "0");
    rmSync(bin);
    rmSync(o);
    return { insn, delta, word };
  });
}

/** Immediates GNU as resolves late: the statement uses S, defined by .equ after it. */
const LATE_CASES = [
  ...["0", "0x10000", "-1", "0x5555555555555555", "0x123456789", "0xfffffffffffeffff"].map((v) => ["mov x0, #S", v]),
  ["mov w0, #S", "0xffff0000"], ["mov w0, #S", "0x100000000"], ["mov sp, #S", "0x10"],
  ...["8", "4096", "-8", "-4096", "0x1000000"].map((v) => ["add x0, x1, #S", v]),
  ["sub x0, x1, #S", "-1"], ["cmp x0, #S", "4095"], ["add x0, x1, #S, lsl #12", "1"], ["add x0, x1, #S, lsl #12", "0x1000"],
  ["and x0, x1, #S", "0xff"], ["and x0, x1, #S", "5"], ["orr w0, w1, #S", "-2"],
  ["movz x0, #S", "0xffff"], ["movz x0, #S", "0x10000"], ["movk x0, #S, lsl #16", "0x1234"],
  ["svc #S", "0x10"], ["svc #S", "0x10000"], ["brk #S", "1"],
  ...["8", "3", "-8", "32760", "32768"].map((v) => ["ldr x0, [x1, #S]", v]),
  ["ldrb w0, [x1, #S]", "4095"], ["ldrh w0, [x1, #S]", "4095"], ["ldr x0, [x1, #S]!", "255"], ["ldr x0, [x1, #S]!", "256"],
  ["ldr x0, [x1], #S", "-256"], ["ldur x0, [x1, #S]", "-1"], ["stur w0, [x1, #S]", "256"],
  ["ldp x0, x1, [x2, #S]", "8"], ["ldp x0, x1, [x2, #S]", "4"], ["ldp x0, x1, [x2, #S]", "1024"],
  ["ldp x0, x1, [x2], #S", "-512"], ["stp w0, w1, [sp, #S]!", "-256"],
];

function late() {
  return LATE_CASES.map(([insn, value], k) => {
    const s = join(tmp, `late${k}.s`), o = join(tmp, `late${k}.o`), bin = join(tmp, `late${k}.bin`);
    writeFileSync(s, `\t.text\n\t${insn}\n\t.equ S, ${value}\n`);
    const r = run("as", ["-o", o, s], true);
    const message = /Error: (.*)$/m.exec(r.stderr)?.[1];
    if (message) return { insn, value, message };
    run("objcopy", ["-O", "binary", "--only-section=.text", o, bin]);
    return { insn, value, word: readFileSync(bin).readUInt32LE(0).toString(16).padStart(8, "0") };
  });
}

/** Alignment padding in code: `before` bytes of data, then .balign `align`, as GNU as fills it. */
function codeFill() {
  const cases = [];
  for (const align of [4, 8, 16, 32]) for (let before = 0; before < align + 4; before += before < 8 ? 1 : 5) cases.push([before, align]);
  return cases.map(([before, align], k) => {
    const s = join(tmp, `fill${k}.s`), o = join(tmp, `fill${k}.o`), bin = join(tmp, `fill${k}.bin`);
    const data = before ? `\t.byte ${Array(before).fill("0xaa").join(", ")}\n` : "";
    writeFileSync(s, `\t.text\n${data}\t.balign ${align}\n\t.byte 0xee\n`);
    run("as", ["-o", o, s]);
    run("objcopy", ["-O", "binary", "--only-section=.text", o, bin]);
    const bytes = readFileSync(bin);
    return { before, align, fill: bytes.subarray(before, bytes.length - 1).toString("hex") };
  });
}

/** ld's message for a :lo12: load whose target the access size does not divide. */
function lo12Misaligned() {
  const src = "\t.text\n\t.globl _start\n_start:\n\tldr x0, [x1, :lo12:v]\n\t.data\n\t.byte 0\nv:\t.byte 0\n";
  writeFileSync(join(tmp, "lo12.s"), src);
  run("as", ["-o", join(tmp, "lo12.o"), join(tmp, "lo12.s")]);
  const r = run("ld", ["-Ttext=0x40080000", "-Tdata=0x40100000", "-o", join(tmp, "lo12"), join(tmp, "lo12.o")], true);
  return /relocation truncated to fit: \S+/.exec(r.stderr)?.[0];
}

const outputs = {
  "corpus.json": corpus(),
  "decode.json": { objdump: execFileSync(tool("objdump"), ["--version"], { encoding: "utf8" }).split("\n")[0], words: decodeWords() },
  "errors.json": errors(),
  "fixups.json": { cases: fixups(), late: late(), codeFill: codeFill(), lo12Misaligned: lo12Misaligned() },
};
rmSync(tmp, { recursive: true, force: true });

/** JSON with every object or array that holds no other on one line: one entry per line. */
function format(v, depth = 0) {
  const pad = " ".repeat(depth);
  const nested = (x) => typeof x === "object" && x !== null;
  if (Array.isArray(v) && v.some(nested)) return "[\n" + v.map((x) => pad + " " + format(x, depth + 1)).join(",\n") + "\n" + pad + "]";
  if (nested(v) && !Array.isArray(v) && Object.values(v).some(nested)) {
    return "{\n" + Object.entries(v).map(([k, x]) => `${pad} ${JSON.stringify(k)}: ${format(x, depth + 1)}`).join(",\n") + "\n" + pad + "}";
  }
  return JSON.stringify(v);
}

let stale = false;
for (const [name, value] of Object.entries(outputs)) {
  const path = join(OUT, name);
  const text = format(value) + "\n";
  let old = "";
  try {
    old = readFileSync(path, "utf8");
  } catch {
    // A missing file is stale.
  }
  if (old !== text) {
    stale = true;
    if (check) console.error(`${name} is not current`);
    else writeFileSync(path, text);
  }
}
if (check && stale) process.exit(1);
console.log(check ? "AArch64 goldens are current" : "AArch64 goldens written");
