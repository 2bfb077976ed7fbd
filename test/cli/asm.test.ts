// SPDX-License-Identifier: MIT
//
// `shootdown asm` and `shootdown disasm` as a user runs them: like `as`,
// diagnostics as file:line: Error: message, every error reported, nothing
// written when anything failed; like objdump -d for the listing.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../emulator/machine/core/wasm.ts";
import { readElf } from "../../asm/elf.ts";

const CLI = join(packageRoot(), "dist", "cli.js");

function shootdown(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "shootdown-asm-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("shootdown asm", () => {
  it("assembles several sources into one ELF image with the entry and sections asked for", () => {
    const dir = scratch({
      "a.s": ".globl _start\n_start:\n  mov $1, %eax\n  call helper\n  hlt\n",
      "b.s": ".globl helper\nhelper:\n  ret\n.data\nvalue: .quad helper\n",
    });
    const out = join(dir, "image");
    const r = shootdown("asm", "--arch", "x86_64", join(dir, "a.s"), join(dir, "b.s"), "-o", out, "--base", "0x200000", "-Tdata=0x300000");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const elf = readElf(readFileSync(out));
    expect(elf.entry).toBe(0x20_0000n);
    expect(elf.sections.map((s) => [s.name, s.address])).toEqual([[".text", 0x20_0000n], [".data", 0x30_0000n]]);
    const helper = elf.symbols.find((s) => s.name === "helper")!;
    const data = elf.sections[1]!.bytes;
    expect(new DataView(data.buffer, data.byteOffset).getBigUint64(0, true)).toBe(helper.value);
  });

  it("reports every error as file:line: Error: message, exits 1 and writes nothing", () => {
    const dir = scratch({ "bad.s": "nop\nfrobnicate %eax\nadd $1\n.byte 1/0\nmov $undefined_sym, %eax\n" });
    const out = join(dir, "image");
    const r = shootdown("asm", "--arch", "x86_64", join(dir, "bad.s"), "-o", out);
    expect(r.status).toBe(1);
    expect(existsSync(out)).toBe(false);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toBe(`${join(dir, "bad.s")}: Assembler messages:`);
    expect(lines.slice(1).map((l) => l.replace(join(dir, "bad.s"), "bad.s"))).toEqual([
      "bad.s:2: Error: no such instruction: `frobnicate %eax'",
      expect.stringMatching(/^bad\.s:3: Error: /),
      "bad.s:4: Error: division by zero",
      "bad.s:5: Error: undefined symbol `undefined_sym'",
    ]);
    expect(r.stdout).toBe("");
  });

  it("says what is wrong with the command line, in one line", () => {
    expect(shootdown("asm", "x.s", "-o", "y").stderr).toBe("shootdown asm: --arch is required (x86_64 or aarch64)\n");
    expect(shootdown("asm", "--arch", "mips", "x.s", "-o", "y").stderr).toBe("shootdown asm: --arch must be x86_64 or aarch64, not 'mips'\n");
    expect(shootdown("asm", "--arch", "x86_64", "x.s").stderr).toBe("shootdown asm: -o OUT is required\n");
    expect(shootdown("asm", "--arch", "x86_64", "x.s", "-o", "y", "--base", "zz").stderr).toBe("shootdown asm: --base must be a number (decimal or 0x hex), not 'zz'\n");
    const missing = shootdown("asm", "--arch", "x86_64", "/nonexistent/x.s", "-o", "/tmp/never");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe("Assembler messages:\nError: can't open /nonexistent/x.s for reading: No such file or directory\n");
  });

  it("writes a raw binary with --binary", () => {
    const dir = scratch({ "r.s": "_start: nop\n hlt\n" });
    const out = join(dir, "raw");
    expect(shootdown("asm", "--arch", "x86_64", join(dir, "r.s"), "-o", out, "--binary").status).toBe(0);
    expect([...readFileSync(out)]).toEqual([0x90, 0xf4]);
  });
});

describe("shootdown disasm", () => {
  it("lists an image as objdump -d does, and as source that assembles back", () => {
    const dir = scratch({ "p.s": ".globl _start\n_start:\n  mov $1, %eax\n1: dec %eax\n  jne 1b\n  hlt\n" });
    const image = join(dir, "image");
    expect(shootdown("asm", "--arch", "x86_64", join(dir, "p.s"), "-o", image).status).toBe(0);
    const r = shootdown("disasm", image);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Disassembly of section .text:");
    expect(r.stdout).toContain("0000000000100000 <_start>:");
    expect(r.stdout).toMatch(/100000:\tb8 01 00 00 00\s+\tmov\s+\$0x1,%eax/);
    expect(r.stdout).toMatch(/jne\s+100005 <_start\+0x5>/);
    const src = shootdown("disasm", image, "--source");
    writeFileSync(join(dir, "again.s"), src.stdout);
    const flags = /# shootdown asm --arch x86_64 (.*) FILE -o OUT/.exec(src.stdout)![1]!.split(" ");
    expect(shootdown("asm", "--arch", "x86_64", ...flags, join(dir, "again.s"), "-o", join(dir, "again")).status).toBe(0);
    expect(readElf(readFileSync(join(dir, "again"))).sections[0]!.bytes).toEqual(readElf(readFileSync(image)).sections[0]!.bytes);
  });

  it("refuses a file that is not an image, saying why", () => {
    const dir = scratch({ "junk": "not an elf file at all, just text that is long enough to hold a header....." });
    const r = shootdown("disasm", join(dir, "junk"));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`shootdown disasm: ${join(dir, "junk")}: not an ELF file (bad magic at offset 0)\n`);
  });

  it("disassembles raw bytes at a base address", () => {
    const dir = scratch({});
    writeFileSync(join(dir, "raw"), Buffer.from([0x90, 0xc3]));
    const r = shootdown("disasm", "--raw", "--arch", "x86_64", "--base", "0x1000", join(dir, "raw"));
    expect(r.stdout).toMatch(/1000:\t90\s+\tnop/);
    expect(r.stdout).toMatch(/1001:\tc3\s+\tret/);
  });
});
