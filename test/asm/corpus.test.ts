// SPDX-License-Identifier: MIT
//
// The whole-program golden test: every corpus source, assembled by
// shootdown, gives the bytes, addresses and symbols GNU as + ld gave
// (test/asm/golden/corpus/, made by regenerate-corpus.mjs); its listing
// agrees with objdump -d's, normalised for spacing; and the disassembler's
// source form assembles back to the same bytes.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble, backendFor, listing, toSource, writeElf, type ArchName, type Program } from "../../asm/index.ts";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";

interface Golden {
  source: string;
  placement: { name: string; address: string }[];
  sections: { name: string; type: string; address: string; size: number; hex: string }[];
  symbols: { name: string; value: string; size: number; type: string; global: boolean; absolute: boolean }[];
  objdump: string;
}

interface Line {
  label?: string;
  address?: string;
  bytes?: string;
  text: string;
}

const root = join(packageRoot(), "test", "asm");
const normalise = (s: string) => s.replace(/\s+/g, " ").trim();

/** objdump -d's lines as labels, instructions (continuation lines joined) and "...". */
function parseObjdump(text: string): Line[] {
  const out: Line[] = [];
  let inDisassembly = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("Disassembly of section")) {
      inDisassembly = true;
      out.push({ text: normalise(line) });
      continue;
    }
    if (!inDisassembly || !line.trim()) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([0-9a-f]+) <(.+)>:$/.exec(line))) {
      out.push({ label: m[2]!, address: BigInt("0x" + m[1]).toString(16), text: "" });
    } else if (/^\s*\.\.\.\s*$/.test(line)) {
      out.push({ text: "..." });
    } else if ((m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*(?:\t(.*))?$/.exec(line))) {
      const bytes = m[2]!.replace(/ /g, "");
      if (m[3] === undefined && out.length && out[out.length - 1]!.bytes !== undefined) {
        out[out.length - 1]!.bytes += bytes;
      } else {
        out.push({ address: m[1]!, bytes, text: normalise(m[3] ?? "") });
      }
    }
  }
  return out;
}

function ourListing(p: Program): Line[] {
  const out: Line[] = [];
  const backend = backendFor(p.arch);
  for (const section of listing(p, backend)) {
    out.push({ text: `Disassembly of section ${section.name}:` });
    for (const ins of section.instructions) {
      if (ins.label) out.push({ label: ins.label, address: ins.address.toString(16), text: "" });
      if (ins.skipped) {
        out.push({ text: "..." });
        continue;
      }
      const bytes = p.arch === "aarch64" && ins.bytes.length === 4
        ? new DataView(ins.bytes.buffer, ins.bytes.byteOffset, 4).getUint32(0, true).toString(16).padStart(8, "0")
        : Buffer.from(ins.bytes).toString("hex");
      out.push({ address: ins.address.toString(16), bytes, text: normalise(ins.text) });
    }
  }
  return out;
}

function assembleCorpus(arch: ArchName, file: string, placement: Golden["placement"]): Program {
  const path = join(root, "corpus", file);
  const r = assemble(arch, {
    sources: [{ path, text: readFileSync(path, "utf8") }],
    sectionStarts: new Map(placement.map((p) => [p.name, BigInt(p.address)])),
  });
  const errors = r.diagnostics.filter((d) => d.severity === "Error");
  expect(errors.map((d) => `${d.loc.file}:${d.loc.line}: ${d.message}`)).toEqual([]);
  return r.program!;
}

const sectionsOf = (p: Program) =>
  p.sections.filter((s) => s.flags.alloc).map((s) => ({
    name: s.name,
    type: s.type,
    address: "0x" + s.address.toString(16),
    size: s.size,
    hex: s.type === "nobits" ? "" : Buffer.from(s.bytes).toString("hex"),
  }));

const OBJDUMP: Record<ArchName, string> = { x86_64: "objdump", aarch64: "aarch64-linux-gnu-objdump" };
const hasTool = (tool: string) => spawnSync(tool, ["--version"]).status === 0;

for (const arch of ["x86_64", "aarch64"] as const) {
  const dir = join(root, "golden", "corpus", arch);
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
  } catch {
    // No golden files for this architecture yet.
  }
  describe(`${arch} corpus against GNU as, ld and objdump`, () => {
    it("has golden files", () => {
      expect(files.length).toBeGreaterThan(0);
    });
    for (const f of files) {
      const golden = JSON.parse(readFileSync(join(dir, f), "utf8")) as Golden;
      describe(golden.source, () => {
        it("assembles to the same bytes at the same addresses", () => {
          const p = assembleCorpus(arch, golden.source, golden.placement);
          expect(sectionsOf(p)).toEqual(golden.sections);
        });

        it("has the same symbols", () => {
          const p = assembleCorpus(arch, golden.source, golden.placement);
          const ours = p.symbols.filter((s) => !s.name.startsWith("$")).map((s) => ({
            name: s.name, value: "0x" + s.value.toString(16), size: s.size, type: s.type, global: s.global, absolute: s.section === null,
          })).sort((a, b) => (a.name < b.name ? -1 : 1));
          expect(ours).toEqual(golden.symbols);
        });

        it("disassembles as objdump -d does", () => {
          const p = assembleCorpus(arch, golden.source, golden.placement);
          expect(ourListing(p)).toEqual(parseObjdump(golden.objdump));
        });

        it.skipIf(!hasTool(OBJDUMP[arch]))(`is an image ${OBJDUMP[arch]} reads as it reads ld's (skipped without binutils)`, () => {
          const p = assembleCorpus(arch, golden.source, golden.placement);
          const dir = mkdtempSync(join(tmpdir(), "corpus-"));
          const name = golden.source.replace(/^.*\//, "").replace(/\.s$/, "");
          writeFileSync(join(dir, name), writeElf(p));
          const text = execFileSync(OBJDUMP[arch], ["-d", name], { cwd: dir, encoding: "utf8" });
          expect(text).toBe(golden.objdump);
        });

        it("disassembles to source that assembles back to the same bytes", () => {
          const p = assembleCorpus(arch, golden.source, golden.placement);
          const { text, sectionStarts } = toSource(p, backendFor(arch));
          const r = assemble(arch, { sources: [{ path: `${golden.source} (disassembled)`, text }], sectionStarts });
          expect(r.diagnostics.filter((d) => d.severity === "Error").map((d) => `${d.loc.line}: ${d.message} [${text.split("\n")[d.loc.line - 1]}]`)).toEqual([]);
          expect(sectionsOf(r.program!)).toEqual(sectionsOf(p));
        });
      });
    }
  });
}

