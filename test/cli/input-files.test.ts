// SPDX-License-Identifier: MIT
//
// Endless and oversized input files (issue 17, defect 2): /dev/zero, a FIFO
// with no writer, a directory and a sparse file larger than the command
// reads are refused at once, with one line naming the file and why, for
// every command that reads a file; none is read until memory runs out.

import { execFileSync, spawnSync } from "node:child_process";
import { truncateSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { CLI, ROOT, tmpFile } from "../helpers/run.ts";

function shootdown(...args: string[]) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

function fifo(): string {
  const path = tmpFile("fifo");
  execFileSync("mkfifo", [path]);
  return path;
}

function sparse(bytes: number): string {
  const path = tmpFile("huge");
  writeFileSync(path, "");
  truncateSync(path, bytes);
  return path;
}

const MiB = 1 << 20;

/** Each command with the file in its place, its usage status, and what it says before the reason. */
const COMMANDS: { name: string; args: (f: string) => string[]; status: number; says: (f: string) => string; tooBig: number }[] = [
  { name: "run", args: (f) => ["run", f], status: 2, says: (f) => `shootdown run: cannot load ${f}: cannot read it: `, tooBig: 145 * MiB },
  { name: "disasm", args: (f) => ["disasm", f], status: 2, says: (f) => `shootdown disasm: cannot read ${f}: `, tooBig: 257 * MiB },
  { name: "walk", args: (f) => ["walk", "--vectors", f], status: 2, says: (f) => `shootdown walk: cannot read ${f}: `, tooBig: 65 * MiB },
  { name: "asm", args: (f) => ["asm", "--arch", "x86_64", f, "-o", tmpFile("out.elf")], status: 1, says: (f) => `Error: can't open ${f} for reading: `, tooBig: 65 * MiB },
  { name: "repl", args: (f) => ["repl", f], status: 64, says: (f) => `shootdown repl: cannot read ${f}: `, tooBig: 145 * MiB },
];

describe.each(COMMANDS)("shootdown $name refuses files it cannot sensibly read", ({ args, status, says, tooBig }) => {
  it.each([
    ["/dev/zero", () => "/dev/zero", "it is a character device, not a regular file"],
    ["a FIFO with no writer", fifo, "it is a FIFO, not a regular file"],
    ["a directory", () => "/tmp", "it is a directory, not a regular file"],
  ])("%s", (_what, make, why) => {
    const file = make();
    const r = shootdown(...args(file));
    expect(r.stderr).toContain(`${says(file)}${why}`);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.status).toBe(status);
    expect(r.ms).toBeLessThan(15_000);
  });

  it("a file larger than the command reads, refused before it is read", () => {
    const file = sparse(tooBig);
    const r = shootdown(...args(file));
    expect(r.stderr).toMatch(new RegExp(`it is ${tooBig / MiB} MiB; .* may be at most \\d+ MiB`));
    expect(r.status).toBe(status);
    expect(r.ms).toBeLessThan(15_000);
  });
});

describe("shootdown asm .include", () => {
  it("of /dev/zero is an error on the .include line", () => {
    const src = tmpFile("inc.s");
    writeFileSync(src, "nop\n.include \"/dev/zero\"\n");
    const r = shootdown("asm", "--arch", "x86_64", src, "-o", tmpFile("out.elf"));
    expect(r.stderr).toContain(`${src}:2: Error: cannot read /dev/zero: it is a character device, not a regular file`);
    expect(r.status).toBe(1);
  });
});

describe("schedule files", () => {
  it("run --replay /dev/zero and the REPL's replay of a FIFO are refused at once", () => {
    const hello = join(ROOT, "guest", "x86_64", "hello.elf");
    const r = shootdown("run", hello, "--replay", "/dev/zero");
    expect(r.stderr).toBe("shootdown run: cannot read /dev/zero: it is a character device, not a regular file\n");
    expect(r.status).toBe(64);
    const f = fifo();
    const started = Date.now();
    const repl = spawnSync(process.execPath, [CLI, "repl", hello], { input: `replay ${f}\nreplay /dev/zero\n`, encoding: "utf8", timeout: 20_000 });
    expect(repl.stdout).toContain(`error: cannot read ${f}: it is a FIFO, not a regular file`);
    expect(repl.stdout).toContain("error: cannot read /dev/zero: it is a character device, not a regular file");
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe("asm images", () => {
  it("an .org past 64 MiB is an error, not an image the writer cannot allocate", () => {
    const src = tmpFile("org.s");
    writeFileSync(src, "nop\n.section .weird\n.org 0x100000000\n");
    const r = shootdown("asm", "--arch", "x86_64", src, "-o", tmpFile("out.elf"));
    expect(r.stderr).toContain("Error: the sections hold 4294967297 bytes (`.weird' 4294967296); an image may hold at most 64 MiB");
    expect(r.stderr).not.toContain("internal error");
    expect(r.status).toBe(1);
  });
});
