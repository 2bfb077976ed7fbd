// SPDX-License-Identifier: MIT
//
// Damaged ELF images (issue 17, defect 8): a header table offset far past
// the file names the table and the value; the section headers and the
// symbol table only name things, so damage there is a warning and the
// image still boots from its program headers, as objdump and ld's loaders
// treat them.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readElf } from "../../asm/index.ts";
import { ROOT, shootdown, tmpFile } from "../helpers/run.ts";

const HELLO = join(ROOT, "guest", "x86_64", "hello.elf");

function damaged(change: (v: DataView, bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(readFileSync(HELLO));
  change(new DataView(bytes.buffer), bytes);
  const path = tmpFile("damaged.elf");
  writeFileSync(path, bytes);
  return path;
}

/** The file offset of section header `i` and the header of the first SHT_SYMTAB. */
function symtabHeader(v: DataView): { offset: number; link: number } {
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  for (let i = 0; i < shnum; i++) {
    const at = shoff + 64 * i;
    if (v.getUint32(at + 4, true) === 2) return { offset: Number(v.getBigUint64(at + 24, true)), link: v.getUint32(at + 40, true) };
  }
  throw new Error("hello.elf has no symbol table");
}

describe("a header table offset of 2^40 or more", () => {
  it("e_phoff: the image is refused with the table and the value named", () => {
    const path = damaged((v) => v.setBigUint64(32, 1n << 40n, true));
    const r = shootdown("run", path);
    expect(r.stderr).toMatch(/cannot load .*: e_phoff \(offset 32\) is 0x10000000000: the program header table \(\d+ entries of 56 bytes\) would lie far past the end of the \d+-byte file/);
    expect(r.status).toBe(2);
  });

  it("e_shoff: a warning naming the table and the value, and the image boots", () => {
    const path = damaged((v) => v.setBigUint64(40, 0xffff_ffff_ffff_fff0n, true));
    const r = shootdown("run", path, "--cpus", "2");
    expect(r.stderr).toMatch(/warning: .*: section headers ignored \(no section names or symbols\): e_shoff \(offset 40\) is 0xfffffffffffffff0: the section header table/);
    expect(r.status).toBe(0);
  });
});

describe("a broken symbol table", () => {
  it("a symbol name outside the name table: symbols ignored with a warning, the image boots", () => {
    const path = damaged((v) => {
      const { offset } = symtabHeader(v);
      v.setUint32(offset + 24, 33554557, true);
    });
    expect(readElf(readFileSync(path)).warnings).toEqual(["symbol table ignored: a name at offset 33554557 is outside the symbol name table"]);
    const r = shootdown("run", path, "--cpus", "2");
    expect(r.stderr).toContain("warning: ");
    expect(r.stderr).toContain("symbol table ignored: a name at offset 33554557 is outside the symbol name table");
    expect(r.stdout).toContain("hello from CPU 1 of 2");
    expect(r.status).toBe(0);
  });

  it("a symbol table past the end of the file: the same", () => {
    const path = damaged((v) => {
      const shoff = Number(v.getBigUint64(40, true));
      const shnum = v.getUint16(60, true);
      for (let i = 0; i < shnum; i++) if (v.getUint32(shoff + 64 * i + 4, true) === 2) v.setBigUint64(shoff + 64 * i + 24, 1n << 39n, true);
    });
    const elf = readElf(readFileSync(path));
    expect(elf.symbols).toEqual([]);
    expect(elf.warnings[0]).toMatch(/^symbol table ignored: truncated: the symbol table at offset 0x8000000000/);
    expect(shootdown("run", path).status).toBe(0);
  });
});
