#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Regenerates the whole-program golden files from GNU binutils: every
// test/asm/corpus/<arch>/*.s (but *-inc.s, which others include) is
// assembled by GNU as, linked by ld at the section addresses its
// "sections:" comment names, and recorded as test/asm/golden/corpus/<arch>/
// <name>.json: each section's address and bytes, the symbol table, and
// objdump -d's listing. test/asm/corpus.test.ts compares shootdown's
// assembler and disassembler with these.
//
//   node test/asm/golden/regenerate-corpus.mjs        (needs binutils and
//                                                      binutils-aarch64-linux-gnu)

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const corpus = join(here, "..", "corpus");
const TOOLS = {
  x86_64: { as: ["as", "--64"], ld: "ld", objdump: "objdump" },
  aarch64: { as: ["aarch64-linux-gnu-as"], ld: "aarch64-linux-gnu-ld", objdump: "aarch64-linux-gnu-objdump" },
};
/** Symbols ld defines by itself; shootdown's images do not have them. */
const LINKER_SYMBOLS = new Set(["__bss_start", "_edata", "_end", "__end__", "__bss_start__", "__bss_end__", "_bss_end__", "__data_start", "_fdata"]);

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

/** The section placement a corpus file asks for: `sections: .text=0x100000 .data=0x200000`. */
export function placementOf(text) {
  const m = /sections:\s*(.*)/.exec(text);
  if (!m) throw new Error("no 'sections:' comment");
  return m[1].trim().split(/\s+/).map((spec) => {
    const [name, addr] = spec.split("=");
    return { name, address: addr };
  });
}

/** Extra options for GNU as a corpus file asks for: `as-options: -march=armv8.4-a`. */
function asOptionsOf(text) {
  const m = /as-options:\s*(.*)/.exec(text);
  return m ? m[1].trim().split(/\s+/) : [];
}

function ldArgs(placement) {
  return placement.map(({ name, address }) =>
    name === ".text" || name === ".data" || name === ".bss" ? `-T${name.slice(1)}=${address}` : `--section-start=${name}=${address}`);
}

function sectionsOf(exe) {
  const out = [];
  const data = readFileSync(exe);
  for (const line of run("readelf", ["-SW", exe]).split("\n")) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+(PROGBITS|NOBITS)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+\S+\s+(\S*)/.exec(line);
    if (!m) continue;
    const [, name, type, addr, off, size, flags] = m;
    if (!flags.includes("A")) continue;
    const n = parseInt(size, 16);
    const o = parseInt(off, 16);
    out.push({
      name,
      type: type === "NOBITS" ? "nobits" : "progbits",
      address: "0x" + BigInt("0x" + addr).toString(16),
      size: n,
      hex: type === "NOBITS" ? "" : data.subarray(o, o + n).toString("hex"),
    });
  }
  return out;
}

function symbolsOf(exe) {
  const out = [];
  for (const line of run("readelf", ["-sW", exe]).split("\n")) {
    const m = /^\s*\d+:\s+([0-9a-f]+)\s+(\d+)\s+(NOTYPE|FUNC|OBJECT)\s+(LOCAL|GLOBAL)\s+\S+\s+(\S+)\s+(\S+)$/.exec(line);
    if (!m) continue;
    const [, value, size, type, bind, ndx, name] = m;
    if (LINKER_SYMBOLS.has(name) || name.startsWith("$")) continue;
    out.push({ name, value: "0x" + BigInt("0x" + value).toString(16), size: Number(size), type: type.toLowerCase(), global: bind === "GLOBAL", absolute: ndx === "ABS" });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

for (const arch of Object.keys(TOOLS)) {
  const dir = join(corpus, arch);
  let files;
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".s") && !f.endsWith("-inc.s")).sort();
  } catch {
    continue;
  }
  const outDir = join(here, "corpus", arch);
  mkdirSync(outDir, { recursive: true });
  const t = TOOLS[arch];
  for (const file of files) {
    const src = join(dir, file);
    const text = readFileSync(src, "utf8");
    const placement = placementOf(text);
    const tmp = mkdtempSync(join(tmpdir(), "golden-"));
    const obj = join(tmp, "a.o");
    const exe = join(tmp, basename(file, ".s"));
    run(t.as[0], [...t.as.slice(1), ...asOptionsOf(text), "-o", obj, file], dir);
    run(t.ld, [...ldArgs(placement), "-o", exe, obj], dir);
    const golden = {
      source: `${arch}/${file}`,
      placement,
      sections: sectionsOf(exe),
      symbols: symbolsOf(exe),
      objdump: run(t.objdump, ["-d", exe]).replace(exe, basename(exe)),
    };
    writeFileSync(join(outDir, basename(file, ".s") + ".json"), JSON.stringify(golden, null, 1) + "\n");
    console.log(`${arch}/${file}: ${golden.sections.length} sections, ${golden.symbols.length} symbols`);
  }
}
