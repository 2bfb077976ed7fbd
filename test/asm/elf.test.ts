// SPDX-License-Identifier: MIT
//
// ELF64 images: what the writer produces reads back the same, binutils'
// readelf accepts it (when installed), and the reader turns damaged or
// foreign files into messages that say what and where.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assembleWith } from "../../asm/assembler.ts";
import { readElf, writeElf, ElfError } from "../../asm/elf.ts";
import { toyBackend } from "./helpers/toy-backend.ts";

const SOURCE = `.globl _start
.type _start, @function
_start: nop
  jmp _start
  .size _start, . - _start
local_label: nop
.data
.globl table
.type table, @object
table: .quad _start, 0x1122334455667788
.size table, 16
.bss
buffer: .skip 0x1800
.equ MAGIC, 0x2badb002
`;

function program() {
  const r = assembleWith(toyBackend, { sources: [{ path: "t.s", text: SOURCE }], sectionStarts: new Map([[".text", 0x10_0000n]]) });
  if (!r.program) throw new Error(JSON.stringify(r.diagnostics));
  return r.program;
}

const hasReadelf = spawnSync("readelf", ["--version"]).status === 0;

describe("the ELF writer", () => {
  it("writes what the reader reads back: entry, sections, symbols, segments", () => {
    const p = program();
    const elf = readElf(writeElf(p));
    expect(elf.arch).toBe("x86_64");
    expect(elf.entry).toBe(0x10_0000n);
    expect(elf.sections.map((s) => [s.name, s.address, s.size, s.type])).toEqual([
      [".text", 0x10_0000n, 4, "progbits"],
      [".data", 0x10_1000n, 16, "progbits"],
      [".bss", 0x10_2000n, 0x1800, "nobits"],
    ]);
    expect(elf.sections[1]!.bytes).toEqual(p.sections[1]!.bytes);
    expect(elf.symbols).toEqual(expect.arrayContaining([
      { name: "_start", value: 0x10_0000n, section: ".text", global: true, type: "func", size: 3 },
      { name: "table", value: 0x10_1000n, section: ".data", global: true, type: "object", size: 16 },
      { name: "local_label", value: 0x10_0003n, section: ".text", global: false, type: "notype", size: 0 },
      { name: "buffer", value: 0x10_2000n, section: ".bss", global: false, type: "notype", size: 0 },
      { name: "MAGIC", value: 0x2bad_b002n, section: null, global: false, type: "notype", size: 0 },
    ]));
    // One PT_LOAD per section, physical address = virtual, .bss with no file bytes.
    expect(elf.segments.map((s) => [s.paddr, s.vaddr, s.filesz, s.memsz, s.flags])).toEqual([
      [0x10_0000n, 0x10_0000n, 4, 4, 5],
      [0x10_1000n, 0x10_1000n, 16, 16, 6],
      [0x10_2000n, 0x10_2000n, 0, 0x1800, 6],
    ]);
  });

  it.skipIf(!hasReadelf)("is accepted by readelf without a warning (skipped without binutils)", () => {
    const dir = mkdtempSync(join(tmpdir(), "elf-"));
    const path = join(dir, "image");
    writeFileSync(path, writeElf(program()));
    const out = execFileSync("readelf", ["-W", "-h", "-l", "-S", "-s", path], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(out).toMatch(/Type:\s+EXEC \(Executable file\)/);
    expect(out).toMatch(/Entry point address:\s+0x100000/);
    expect(out).toMatch(/LOAD\s+0x[0-9a-f]+ 0x0+100000 0x0+100000 0x0+4 0x0+4 R E 0x1000/);
    expect(out).toMatch(/\.bss\s+NOBITS\s+0+102000/);
    expect(out).toMatch(/FUNC\s+GLOBAL DEFAULT\s+1 _start/);
    expect(out).not.toMatch(/[Ww]arning|[Ee]rror/);
  });
});

describe("the ELF reader", () => {
  const good = () => writeElf(program());
  const expectError = (data: Uint8Array, message: RegExp) => {
    expect(() => readElf(data)).toThrow(ElfError);
    expect(() => readElf(data)).toThrow(message);
  };

  it("names what is wrong with a damaged or foreign file", () => {
    expectError(new Uint8Array(10), /truncated: the ELF header at offset 0x0/);
    expectError(new Uint8Array(64), /not an ELF file \(bad magic at offset 0\)/);
    const elf32 = good();
    elf32[4] = 1;
    expectError(elf32, /not a 64-bit ELF file \(EI_CLASS is 1 at offset 4/);
    const arm32 = good();
    new DataView(arm32.buffer).setUint16(18, 40, true);
    expectError(arm32, /unsupported machine 40 \(e_machine at offset 18/);
    const object = good();
    new DataView(object.buffer).setUint16(16, 1, true);
    expectError(object, /not an executable \(e_type is 1 .*link it first/);
    const truncated = good().slice(0, 200);
    expectError(truncated, /truncated: .* past the end of the 200-byte file/);
    const bad = good();
    const phoff = 64;
    new DataView(bad.buffer).setBigUint64(phoff + 32, 0x10_0000n, true);
    expectError(bad, /program header 0: p_filesz 0x100000 is larger than p_memsz 0x4/);
  });
});
