// SPDX-License-Identifier: MIT
//
// What every command has in common, as a user sees it through dist/cli.js:
// --version, a top-level usage that lists every command, usage errors as
// status 64 in one form, one policy for numbers and sizes, machine-readable
// output on stdout, a quiet end when stdout closes (| head), and colour only
// on a terminal without NO_COLOR.

import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT, imageFile, shootdown, stats, tmpFile } from "../helpers/run.ts";
import { BENCH_SUITES } from "../../bench/cli.ts";

const HELLO = join(ROOT, "guest", "x86_64", "hello.elf");
const VECTORS = join(ROOT, "test", "golden", "vectors", "x86_64-sample.jsonl");
/** A guest that reports success at once. */
const SUCCESS = () => imageFile("_start:\n  mov $0, %al\n  out %al, $0xf4\n");

const COMMANDS = ["run", "explore", "repl", "gdb", "walk", "asm", "disasm", "bench"];

describe("shootdown --version and the top-level usage", () => {
  it("--version prints the package's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const r = shootdown("--version");
    expect(r.stdout).toBe(`shootdown ${version}\n`);
    expect(r.status).toBe(0);
  });

  it("lists every command, and each one's --help is its usage", () => {
    const r = shootdown("help");
    expect(r.status).toBe(0);
    const listed = [...r.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]).filter((c) => c !== "help");
    expect(listed).toEqual(COMMANDS);
    for (const command of COMMANDS) {
      const help = shootdown(command, "--help");
      expect(help.stdout, command).toMatch(new RegExp(`^usage: shootdown ${command} `));
      expect(help.status, command).toBe(0);
    }
  });

  it("no command, or an unknown one, is a usage error: status 64", () => {
    const r = shootdown();
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^usage: shootdown <command>/);
    expect(r.status).toBe(64);
    const option = shootdown("--frobnicate");
    expect(option.stderr).toBe("shootdown: unknown option '--frobnicate' (see shootdown help)\n");
    expect(option.status).toBe(64);
    const command = shootdown("fly");
    expect(command.stderr).toBe("shootdown: unknown command 'fly' (see shootdown help)\n");
    expect(command.status).toBe(64);
    // What the user typed is shown escaped: one line, no escape sequence reaches the terminal.
    const forged = shootdown("fly\n\x1b[2J300 passed, 0 failed");
    expect(forged.stderr).toBe("shootdown: unknown command 'fly\\x0a\\x1b[2J300 passed, 0 failed' (see shootdown help)\n");
  });
});

describe("usage errors: status 64 and one line, 'shootdown COMMAND: …', from every command", () => {
  const file = join(ROOT, "package.json");
  it("an unknown option", () => {
    for (const command of COMMANDS) {
      const r = shootdown(command, "--bogus");
      expect(r.stderr, command).toBe(`shootdown ${command}: unknown option '--bogus' (see shootdown ${command} --help)\n`);
      expect(r.status, command).toBe(64);
    }
  });

  it("an option given twice", () => {
    const cases: [string, string[], string][] = [
      ["run", [HELLO, "--cpus", "1", "--cpus", "2"], "--cpus is given twice"],
      ["repl", [HELLO, "--seed", "1", "--seed=2"], "--seed is given twice"],
      ["gdb", [HELLO, "--port", "1", "--port", "2"], "--port is given twice"],
      ["walk", ["--vectors", VECTORS, "--vectors", VECTORS], "--vectors is given twice"],
      ["asm", ["--arch", "x86_64", "x.s", "-o", "a", "--output", "b"], "-o and --output are the same option"],
      ["disasm", ["--source", "--source", file], "--source is given twice"],
      ["bench", ["--scale", "1", "--scale", "2"], "--scale is given twice"],
    ];
    for (const [command, args, what] of cases) {
      const r = shootdown(command, ...args);
      expect(r.stderr, command).toBe(`shootdown ${command}: ${what}; give it once (see shootdown ${command} --help)\n`);
      expect(r.status, command).toBe(64);
    }
  });

  it("a missing value or operand, and a bad value", () => {
    const cases: [string, string[], string][] = [
      ["run", [HELLO, "--cpus", "-1"], "--cpus must be from 1 to 64, not -1"],
      ["run", [HELLO, "--seed", "-1"], "--seed must be from 0 to 18446744073709551615, not -1"],
      ["run", [HELLO, "--cpus", "--mem", "64M"], "--cpus needs a value (see shootdown run --help)"],
      ["repl", [HELLO, "--cpus", "-1"], "--cpus must be from 1 to 64, not -1"],
      ["gdb", [HELLO, "--port", "-1"], "--port must be from 0 to 65535, not -1"],
      ["gdb", [HELLO], "--port P is needed (0 picks a free port)"],
      ["walk", [], "walk needs --vectors FILE"],
      ["walk", ["--vectors"], "--vectors needs a value (see shootdown walk --help)"],
      ["walk", ["v.jsonl"], "walk takes no operands, not 'v.jsonl' (the file is --vectors FILE)"],
      ["asm", ["x.s", "-o", "y"], "--arch is required (x86_64 or aarch64)"],
      ["asm", ["--arch", "x86_64", "-o", "y"], "no source files"],
      ["disasm", [], "no FILE"],
      ["disasm", [file, file], "disasm takes one FILE, not 2"],
      ["disasm", ["--raw", "--arch", "x86_64", "--base", "-1", "/no/such/file"], "--base must be from 0 to 0xffffffffffffffff, not -1"],
      ["disasm", ["--base", "0x1000", file], "--base is for --raw (an ELF image says where it is loaded)"],
      ["bench", ["--scale", "-1"], "--scale must be a positive number, not '-1'"],
      ["bench", ["nosuch"], `unknown suite 'nosuch' (suites: ${BENCH_SUITES.join(", ")})`],
    ];
    for (const [command, args, message] of cases) {
      const r = spawnSync(process.execPath, [CLI, command, ...args], { input: "", encoding: "utf8", cwd: ROOT });
      expect(r.stderr, `${command} ${args.join(" ")}`).toBe(`shootdown ${command}: ${message}\n`);
      expect(r.status, `${command} ${args.join(" ")}`).toBe(64);
    }
  });
});

describe("numbers and sizes, the same for every command", () => {
  it("--cpus and --mem in hex, and sizes with or without B", () => {
    const guest = SUCCESS();
    for (const mem of ["64M", "64MB", "64MiB", "65536K", "0x4000000", "67108864"]) {
      const r = shootdown("run", guest, "--mem", mem, "--cpus", "0x2", "--stats");
      expect(r.status, mem).toBe(0);
      expect(stats(r).options, mem).toMatchObject({ memBytes: 64 * 1024 * 1024, cpus: 2 });
    }
  });

  it("repl takes hex like run", () => {
    const r = spawnSync(process.execPath, [CLI, "repl", HELLO, "--cpus", "0x2", "--mem", "0x4000000"], { input: "quit\n", encoding: "utf8", cwd: ROOT });
    expect(r.stdout).toMatch(/^shootdown repl: .*hello\.elf, 2 CPUs, x86_64;/);
    expect(r.status).toBe(0);
  });

  it("disasm --base in hex or decimal gives the same listing", () => {
    const raw = tmpFile("raw");
    writeFileSync(raw, Buffer.from([0x90, 0xc3]));
    const hex = shootdown("disasm", "--raw", "--arch", "x86_64", "--base", "0x1000", raw);
    expect(hex.stdout).toMatch(/1000:\t90\s+\tnop/);
    expect(shootdown("disasm", "--raw", "--arch", "x86_64", "--base", "4096", raw).stdout).toBe(hex.stdout);
  });
});

describe("machine-readable output goes to stdout", () => {
  it("run --json: the summary on stdout, as --stats prints it on stderr; the console on stderr", () => {
    const json = shootdown("run", HELLO, "--cpus", "2", "--json");
    expect(json.status).toBe(0);
    const lines = json.stdout.trim().split("\n");
    expect(lines.length).toBe(1);
    const summary = JSON.parse(lines[0]!);
    expect(json.stderr).toMatch(/^hello from CPU 0 of 2$/m);
    const withStats = shootdown("run", HELLO, "--cpus", "2", "--stats");
    expect(withStats.stdout).toMatch(/^hello from CPU 0 of 2$/m);
    expect(summary).toEqual(stats(withStats));
    expect(summary.status).toBe(0);
  });

  it("walk --json: one JSON line per case on stdout, nothing on stderr", () => {
    const r = shootdown("walk", "--vectors", VECTORS, "--json");
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n").map((l) => JSON.parse(l).status)).toEqual(Array(300).fill("pass"));
  });
});

/**
 * Runs the CLI, closes its stdout (or stderr) after the first chunk, as head
 * does, and reports how it ended.
 */
function cutShort(args: string[], cut: "stdout" | "stderr" = "stdout"): Promise<{ status: number | null; stderr: string; got: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let got = "";
    if (cut === "stdout") child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    else child.stdout.resume();
    child[cut].once("data", (d: Buffer) => {
      got = d.toString();
      child[cut].destroy();
    });
    child.on("close", (status) => resolve({ status, stderr, got }));
  });
}

/** 100,000 lines of console, far more than a pipe holds. */
const chattyGuest = () => imageFile(
  "_start:\n  mov $100000, %ecx\n  mov $0x3f8, %dx\n1:\n  mov $0x78, %al\n  out %al, %dx\n  mov $10, %al\n  out %al, %dx\n  dec %ecx\n  jnz 1b\n  mov $0, %al\n  out %al, $0xf4\n",
);

describe("| head: a closed stdout or stderr ends the command quietly, with status 141", () => {
  const quiet = (r: { stderr: string }) => {
    expect(r.stderr).not.toMatch(/EPIPE|Error|internal error|\n\s+at /);
  };

  it("run", async () => {
    const r = await cutShort(["run", chattyGuest()]);
    expect(r.got).toMatch(/^x\n/);
    quiet(r);
    expect(r.status).toBe(141);
  });

  it("run --json, whose console goes to stderr, when stderr closes (2>&1 | head)", async () => {
    const r = await cutShort(["run", chattyGuest(), "--json"], "stderr");
    expect(r.got).toMatch(/^x\n/);
    expect(r.status).toBe(141);
  });

  it("disasm", async () => {
    const raw = tmpFile("nops");
    writeFileSync(raw, Buffer.alloc(200_000, 0x90));
    const r = await cutShort(["disasm", "--raw", "--arch", "x86_64", raw]);
    expect(r.got).toMatch(/file format elf64-x86-64/);
    quiet(r);
    expect(r.status).toBe(141);
  });

  it("walk", async () => {
    const many = tmpFile("many.jsonl");
    writeFileSync(many, readFileSync(VECTORS, "utf8").repeat(10));
    const r = await cutShort(["walk", "--json", "--vectors", many]);
    expect(r.got).toMatch(/^\{"line":1,/);
    quiet(r);
    expect(r.status).toBe(141);
  });
});

const SCRIPT = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
if (!SCRIPT) console.warn("test/cli/usage.test.ts: colour on a terminal skipped: script(1) is not installed (apt-get install bsdutils)");

describe.skipIf(!SCRIPT)("colour: only on a terminal, never with NO_COLOR", () => {
  /** The repl on a pseudo-terminal (script(1)), given `regs` and `quit`. */
  const onTerminal = (env: NodeJS.ProcessEnv) => {
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} repl ${JSON.stringify(HELLO)}`;
    return spawnSync("script", ["-qec", command, "/dev/null"], {
      input: "regs\nquit\n", encoding: "utf8", cwd: ROOT, timeout: 60_000, env: { ...process.env, ...env },
    });
  };
  const SGR = /\x1b\[[0-9;]*m/;

  it("a terminal gets colour", () => {
    const r = onTerminal({ NO_COLOR: "" });
    expect(r.stdout).toMatch(/rip/);
    expect(r.stdout).toMatch(SGR);
  });

  it("NO_COLOR turns it off, on a terminal too", () => {
    const r = onTerminal({ NO_COLOR: "1" });
    expect(r.stdout).toMatch(/rip/);
    expect(r.stdout).not.toMatch(SGR);
  });

  it("a pipe gets none", () => {
    const r = spawnSync(process.execPath, [CLI, "repl", HELLO], { input: "regs\nfoo\nquit\n", encoding: "utf8", cwd: ROOT });
    expect(r.stdout).toMatch(/rip/);
    expect(r.stdout).toMatch(/^error: unknown command 'foo'/m);
    expect(r.stdout).not.toMatch(SGR);
  });
});
