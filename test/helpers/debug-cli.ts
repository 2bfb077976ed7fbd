// SPDX-License-Identifier: MIT
//
// What the debugger's command-line tests share: `shootdown repl` fed a
// script, `shootdown gdb` started on a free port, and finding lines in
// what they print.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { expect } from "vitest";
import { CLI, ROOT, tmpFile } from "./run.ts";

/** Runs `shootdown repl ELF ARGS` on the commands; its stdout, line by line (stderr must be empty, the status 0). */
export function replLines(elf: string, commands: string[], ...args: string[]): string[] {
  const r = spawnSync(process.execPath, [CLI, "repl", elf, ...args], { input: commands.join("\n") + "\n", encoding: "utf8", timeout: 60_000, cwd: ROOT });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.split("\n");
}

/** The first line from `from` on that matches re, and its groups. */
export function findLine(lines: string[], re: RegExp, from = 0): RegExpExecArray {
  for (let i = from; i < lines.length; i++) {
    const m = re.exec(lines[i]!);
    if (m) return m;
  }
  throw new Error(`no line matches ${re} in:\n${lines.slice(from).join("\n")}`);
}

/** Starts `shootdown gdb ELF` on a free port; resolves to the child, the port, and what it wrote to stderr so far. */
export async function startStub(elf: string, ...args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, "gdb", elf, "--port", "0", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8");
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr!.on("data", (d: string) => {
      stderr += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", () => reject(new Error(`the stub exited: ${stderr}`)));
  });
  return { child, port, stderr: () => stderr };
}

/** gdb-multiarch, when it is installed (tests that need it skip, and say so, when it is not). */
export const GDB_MULTIARCH = spawnSync("gdb-multiarch", ["--version"], { encoding: "utf8" }).status === 0 ? "gdb-multiarch" : undefined;

/** Runs gdb-multiarch in batch mode on ELF against the stub at port: the commands after `target remote`; what it printed, stdout and stderr in the order written. */
export function gdbBatch(elf: string, port: number, commands: string[]): string {
  const args = ["-nx", "-batch", elf, "-ex", "set pagination off", "-ex", `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push("-ex", c);
  // Monitor and O-packet output go to stderr: one file keeps the order.
  const path = tmpFile("gdb.out");
  const fd = openSync(path, "w");
  spawnSync(GDB_MULTIARCH!, args, { stdio: ["ignore", fd, fd], timeout: 60_000 });
  closeSync(fd);
  return readFileSync(path, "utf8");
}
