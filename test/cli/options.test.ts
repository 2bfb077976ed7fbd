// SPDX-License-Identifier: MIT
//
// The option parser every command shares (emulator/cli/options.ts): getopt's
// rule for values, `--`, repeated options, and the number and size forms.

import { describe, expect, it } from "vitest";
import {
  UsageError, parseCommandLine, integerOption, addressOption, sizeOption, probabilityOption, positiveOption, choiceOption, shown,
  type OptionSpecs,
} from "../../emulator/cli/options.ts";
import { colourFor } from "../../emulator/cli/output.ts";

const SPECS = {
  cpus: { type: "string" },
  json: { type: "boolean" },
  output: { type: "string", short: "o" },
  section: { type: "string", short: "T", multiple: true },
  replay: { type: "string", aliases: ["schedule"] },
} as const satisfies OptionSpecs;

const parse = (args: string[], afterDashDash: "rest" | "operands" = "operands") =>
  parseCommandLine(args, SPECS, { command: "test", afterDashDash });

/** The message of the UsageError `f` throws. */
function usageError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("no UsageError");
}

describe("parseCommandLine", () => {
  it("takes values in every getopt spelling, and operands from anywhere", () => {
    const r = parse(["a", "--cpus", "2", "-o", "out", "b", "-Tdata=0x200000", "-T", "text=0x1000", "--json"]);
    expect(r.values).toEqual({ cpus: "2", output: "out", section: ["data=0x200000", "text=0x1000"], json: true });
    expect(r.positionals).toEqual(["a", "b"]);
    expect(parse(["--cpus=3", "-ox"]).values).toEqual({ cpus: "3", output: "x" });
  });

  it("takes the next argument as the value even when it starts with a dash", () => {
    expect(parse(["--cpus", "-1"]).values.cpus).toBe("-1");
    expect(parse(["-o", "-"]).values.output).toBe("-");
    expect(parse(["-"]).positionals).toEqual(["-"]);
  });

  it("says a value is missing at the end, or when the next argument is another of its options", () => {
    expect(usageError(() => parse(["--cpus"]))).toBe("--cpus needs a value (see shootdown test --help)");
    expect(usageError(() => parse(["--cpus", "--json"]))).toBe("--cpus needs a value (see shootdown test --help)");
    expect(usageError(() => parse(["-o"]))).toBe("-o needs a value (see shootdown test --help)");
  });

  it("refuses an option given twice, under any of its names", () => {
    expect(usageError(() => parse(["--cpus", "1", "--cpus=2"]))).toBe("--cpus is given twice; give it once (see shootdown test --help)");
    expect(usageError(() => parse(["--json", "--json"]))).toBe("--json is given twice; give it once (see shootdown test --help)");
    expect(usageError(() => parse(["-o", "a", "--output", "b"]))).toBe("-o and --output are the same option; give it once (see shootdown test --help)");
    expect(usageError(() => parse(["--replay", "a", "--schedule", "b"]))).toMatch(/^--replay and --schedule are the same option/);
  });

  it("refuses unknown options and values given to flags", () => {
    expect(usageError(() => parse(["--bogus"]))).toBe("unknown option '--bogus' (see shootdown test --help)");
    expect(usageError(() => parse(["--bogus=1"]))).toBe("unknown option '--bogus' (see shootdown test --help)");
    expect(usageError(() => parse(["-x"]))).toBe("unknown option '-x' (see shootdown test --help)");
    expect(usageError(() => parse(["--json=yes"]))).toBe("--json takes no value, not 'yes' (see shootdown test --help)");
  });

  it("ends the options at --: the rest apart, or as operands", () => {
    expect(parse(["img", "--cpus", "2", "--", "--cpus", "x"], "rest")).toEqual({ values: { cpus: "2" }, positionals: ["img"], rest: ["--cpus", "x"] });
    expect(parse(["--", "-file"], "operands")).toEqual({ values: {}, positionals: ["-file"] });
  });
});

describe("values", () => {
  it("integers: decimal, 0x hex and signed, range-checked", () => {
    expect(integerOption("--cpus", "0x2", 1n, 64n)).toBe(2n);
    expect(integerOption("--cpus", "0X10", 1n, 64n)).toBe(16n);
    expect(integerOption("--cpus", "+3", 1n, 64n)).toBe(3n);
    expect(integerOption("--n", "-5", -10n, 0n)).toBe(-5n);
    expect(usageError(() => integerOption("--cpus", "-1", 1n, 64n))).toBe("--cpus must be from 1 to 64, not -1");
    expect(usageError(() => integerOption("--cpus", "-0x2", 1n, 64n))).toBe("--cpus must be from 1 to 64, not -0x2");
    expect(usageError(() => integerOption("--cpus", "two", 1n, 64n))).toBe("--cpus must be an integer, not 'two'");
    expect(usageError(() => integerOption("--cpus", "1.0", 1n, 64n))).toBe("--cpus must be an integer, not '1.0'");
    expect(usageError(() => integerOption("--cpus", "", 1n, 64n))).toBe("--cpus must be an integer, not ''");
  });

  it("addresses: unsigned 64-bit", () => {
    expect(addressOption("--base", "0xffffffffffffffff")).toBe((1n << 64n) - 1n);
    expect(usageError(() => addressOption("--base", "0x10000000000000000"))).toBe("--base 0x10000000000000000 does not fit in 64 bits");
    expect(usageError(() => addressOption("--base", "-1"))).toBe("--base must be from 0 to 0xffffffffffffffff, not -1");
  });

  it("sizes: K, M and G with or without B, bytes, and hex", () => {
    const rule = { min: 2n << 20n, max: 3n << 30n, minReason: "small", maxReason: "large", multipleOf: 4096n };
    const mib64 = 64n << 20n;
    for (const text of ["64M", "64MB", "64MiB", "64m", "64mb", "65536K", "65536KB", "0x4000000", "67108864", "67108864B", "0x40M"]) {
      expect(sizeOption("--mem", text, rule), text).toBe(mib64);
    }
    expect(sizeOption("--mem", "1G", rule)).toBe(1n << 30n);
    expect(sizeOption("--mem", "1GB", rule)).toBe(1n << 30n);
    expect(usageError(() => sizeOption("--mem", "1M", rule))).toBe("--mem 1M is too small: at least 2M (small)");
    expect(usageError(() => sizeOption("--mem", "4G", rule))).toBe("--mem 4G is too large: at most 3G (large)");
    expect(usageError(() => sizeOption("--mem", "3G4K", rule))).toMatch(/must be a size such as 64M/);
    expect(usageError(() => sizeOption("--mem", "4097K", rule))).toBe("--mem 4097K is not a multiple of 4K");
    expect(usageError(() => sizeOption("--mem", "-64M", rule))).toBe("--mem must be a size such as 64M, 512K or 1G, not '-64M'");
    expect(usageError(() => sizeOption("--mem", "64T", rule))).toBe("--mem must be a size such as 64M, 512K or 1G, not '64T'");
  });

  it("probabilities, positive reals and choices", () => {
    expect(probabilityOption("--p", "1e-3")).toBe(0.001);
    expect(probabilityOption("--p", "1")).toBe(1);
    expect(usageError(() => probabilityOption("--p", "0"))).toBe("--p must be a probability in (0, 1], not '0'");
    expect(usageError(() => probabilityOption("--p", "0x1"))).toBe("--p must be a probability in (0, 1], not '0x1'");
    expect(positiveOption("--scale", ".5")).toBe(0.5);
    expect(usageError(() => positiveOption("--scale", "-1"))).toBe("--scale must be a positive number, not '-1'");
    expect(usageError(() => positiveOption("--scale", "Infinity"))).toBe("--scale must be a positive number, not 'Infinity'");
    expect(choiceOption("--arch", "aarch64", ["x86_64", "aarch64"])).toBe("aarch64");
    expect(usageError(() => choiceOption("--arch", "mips", ["x86_64", "aarch64"]))).toBe("--arch must be x86_64 or aarch64, not 'mips'");
  });
});

describe("what a message shows of the user's text", () => {
  it("escapes control characters and cuts long text, so that the message stays one short line", () => {
    expect(usageError(() => parse(["--\x1b[2Jfake\npassed"]))).toBe("unknown option '--\\x1b[2Jfake\\x0apassed' (see shootdown test --help)");
    const long = usageError(() => integerOption("--cpus", "9".repeat(5_000_000), 1n, 64n));
    expect(long).toBe(`--cpus must be from 1 to 64, not ${"9".repeat(63)}…`);
    expect(usageError(() => integerOption("--cpus", "x".repeat(100), 1n, 64n))).toBe(`--cpus must be an integer, not '${"x".repeat(63)}…'`);
    expect(shown("plain text")).toBe("plain text");
    expect(shown("\x7f\x9b")).toBe("\\x7f\\x9b");
  });
});

describe("colour", () => {
  it("only on a terminal, and never with NO_COLOR set to anything", () => {
    expect(colourFor({ isTTY: true }, {})).toBe(true);
    expect(colourFor({ isTTY: false }, {})).toBe(false);
    expect(colourFor({}, {})).toBe(false);
    expect(colourFor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colourFor({ isTTY: true }, { NO_COLOR: "0" })).toBe(false);
    // no-color.org: set and not empty.
    expect(colourFor({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
  });
});
