// SPDX-License-Identifier: MIT
//
// The one option parser of every `shootdown` command, and the value parsers
// its options share. The policy is getopt_long's (the GNU convention users
// of binutils and QEMU know), with three rules of our own:
//
//   --name VALUE, --name=VALUE, -x VALUE, -xVALUE
//                 an option that takes a value takes the next argument
//                 whatever it looks like, as getopt does, so `--cpus -1` is
//                 the value -1 (and out of range), not a missing value
//   --            ends the options; what follows is the guest's command line
//                 (run, repl, gdb) or more operands (the other commands)
//   once each     an option given twice is refused, under any of its names,
//                 unless it is one that collects (asm's -T and -I)
//
// Numbers are decimal or 0x hexadecimal, with a sign where the range allows
// one; sizes take K, M or G, with or without B (binary units, as QEMU's -m).
// Every usage error is a UsageError: main.ts prints it as one line,
// "shootdown COMMAND: what is wrong", and exits 64 (EX_USAGE, sysexits.h).

import { ShootdownError } from "../machine/core/errors.ts";

/** A command line that cannot be carried out as written: exit status 64. */
export class UsageError extends ShootdownError {
  override name = "UsageError";
}

/** EX_USAGE of sysexits.h: the command was used incorrectly. */
export const EXIT_USAGE = 64;

export interface OptionSpec {
  /** "string" options take a value; "boolean" ones are flags and take none. */
  type: "string" | "boolean";
  /** A one-letter name, as -o for --output. */
  short?: string;
  /** Other long names, as --schedule for --replay. */
  aliases?: readonly string[];
  /** Collects every occurrence instead of refusing a second one. */
  multiple?: boolean;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S["type"] extends "boolean" ? boolean : S["multiple"] extends true ? string[] : string;

export type OptionValues<S extends OptionSpecs> = { -readonly [K in keyof S]?: ValueOf<S[K]> };

export interface ParsedCommandLine<S extends OptionSpecs> {
  values: OptionValues<S>;
  /** The operands, in order, from anywhere among the options. */
  positionals: string[];
  /** What followed `--`, when the command keeps it apart (see `afterDashDash`). */
  rest?: string[];
}

export interface ParseSettings {
  /** The command, for messages: "run" gives "see shootdown run --help". */
  command: string;
  /**
   * What the arguments after `--` are: "rest" keeps them apart (the guest's
   * command line of run, repl and gdb), "operands" adds them to the
   * positionals (a FILE that starts with a dash).
   */
  afterDashDash?: "rest" | "operands";
}

const seeHelp = (command: string) => `(see shootdown ${command} --help)`;

const SHOWN_MAX = 64;

/**
 * A user's text as an error message shows it: control characters escaped
 * (\x1b, \n), so that the message stays one line and cannot move the
 * terminal's cursor, and at most SHOWN_MAX characters.
 */
export function shown(text: string): string {
  const escaped = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return escaped.length > SHOWN_MAX ? `${escaped.slice(0, SHOWN_MAX - 1)}…` : escaped;
}

/** Parses `args` against `specs` by the policy above; throws UsageError. */
export function parseCommandLine<S extends OptionSpecs>(args: readonly string[], specs: S, settings: ParseSettings): ParsedCommandLine<S> {
  const byLong = new Map<string, string>();
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    byLong.set(name, name);
    for (const alias of spec.aliases ?? []) byLong.set(alias, name);
    if (spec.short) byShort.set(spec.short, name);
  }
  const values: Record<string, string | boolean | string[]> = {};
  const spelled = new Map<string, string>();
  const positionals: string[] = [];
  const help = seeHelp(settings.command);

  const store = (name: string, written: string, value: string | boolean) => {
    const spec = specs[name]!;
    if (spec.multiple) {
      ((values[name] ??= []) as string[]).push(value as string);
      return;
    }
    const before = spelled.get(name);
    if (before !== undefined) {
      const both = before === written ? `${written} is given twice` : `${before} and ${written} are the same option`;
      throw new UsageError(`${both}; give it once ${help}`);
    }
    spelled.set(name, written);
    values[name] = value;
  };

  // The argument after the option at i is its value, whatever it looks like,
  // except that another of our long options (--cpus --mem 64M) is a value
  // left out rather than a value.
  const valueAfter = (i: number, written: string): string => {
    const next = args[i + 1];
    if (next === undefined || (next.startsWith("--") && byLong.has(next.slice(2).split("=")[0]!))) {
      throw new UsageError(`${written} needs a value ${help}`);
    }
    return next;
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      const after = args.slice(i + 1);
      if (settings.afterDashDash === "rest") return { values: values as OptionValues<S>, positionals, rest: after };
      positionals.push(...after);
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const written = eq < 0 ? arg : arg.slice(0, eq);
      const name = byLong.get(written.slice(2));
      if (name === undefined) throw new UsageError(`unknown option '${shown(written)}' ${help}`);
      if (specs[name]!.type === "boolean") {
        if (eq >= 0) throw new UsageError(`${written} takes no value, not '${shown(arg.slice(eq + 1))}' ${help}`);
        store(name, written, true);
        continue;
      }
      if (eq >= 0) {
        store(name, written, arg.slice(eq + 1));
        continue;
      }
      store(name, written, valueAfter(i++, written));
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const written = arg.slice(0, 2);
      const name = byShort.get(arg[1]!);
      if (name === undefined) throw new UsageError(`unknown option '${shown(written)}' ${help}`);
      if (specs[name]!.type === "boolean") {
        if (arg.length > 2) throw new UsageError(`${written} takes no value, not '${shown(arg.slice(2))}' ${help}`);
        store(name, written, true);
        continue;
      }
      if (arg.length > 2) {
        store(name, written, arg.slice(2));
        continue;
      }
      store(name, written, valueAfter(i++, written));
      continue;
    }
    // A lone "-" is an operand, as it is to getopt.
    positionals.push(arg);
  }
  return { values: values as OptionValues<S>, positionals };
}

// ── Values ───────────────────────────────────────────────────────────────────

const INTEGER = /^[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)$/;

/** The value of an integer written in decimal or 0x hex, with an optional sign. */
function integerValue(text: string): bigint | undefined {
  if (!INTEGER.test(text)) return undefined;
  const negative = text.startsWith("-");
  const digits = text.replace(/^[+-]/, "");
  const magnitude = BigInt(digits);
  return negative ? -magnitude : magnitude;
}

/** An integer option in [lo, hi]: "--cpus must be from 1 to 64, not -1". */
export function integerOption(name: string, text: string, lo: bigint, hi: bigint): bigint {
  const v = integerValue(text);
  if (v === undefined) throw new UsageError(`${name} must be an integer, not '${shown(text)}'`);
  if (v < lo || v > hi) throw new UsageError(`${name} must be from ${lo} to ${hi}, not ${shown(text)}`);
  return v;
}

/** An address or other unsigned 64-bit value. */
export function addressOption(name: string, text: string): bigint {
  const v = integerValue(text);
  if (v === undefined) throw new UsageError(`${name} must be a number (decimal or 0x hex), not '${shown(text)}'`);
  if (v < 0n) throw new UsageError(`${name} must be from 0 to 0xffffffffffffffff, not ${shown(text)}`);
  if (v >= 1n << 64n) throw new UsageError(`${name} ${shown(text)} does not fit in 64 bits`);
  return v;
}

const SIZE = /^(0[xX][0-9a-fA-F]+|[0-9]+)(?:([KMGkmg])(?:i?[Bb])?|[Bb])?$/;
const SHIFT: Record<string, bigint> = { K: 10n, M: 20n, G: 30n };

export interface SizeRule {
  min: bigint;
  max: bigint;
  /** Why the minimum, e.g. "the loader's tables and an image need it". */
  minReason: string;
  maxReason: string;
  /** The size must be a multiple of this many bytes. */
  multipleOf?: bigint;
}

const showSize = (bytes: bigint): string => {
  for (const [unit, shift] of [["G", 30n], ["M", 20n], ["K", 10n]] as const) {
    if (bytes >= 1n << shift && bytes % (1n << shift) === 0n) return `${bytes >> shift}${unit}`;
  }
  return `${bytes}`;
};

/**
 * A size in bytes: "64M", "64MB", "64MiB", "65536K", "1G", "0x4000000",
 * "4194304" (K, M and G are powers of 1024, as QEMU's -m takes them).
 */
export function sizeOption(name: string, text: string, rule: SizeRule): bigint {
  const m = SIZE.exec(text);
  if (!m) throw new UsageError(`${name} must be a size such as 64M, 512K or 1G, not '${shown(text)}'`);
  const bytes = BigInt(m[1]!) << (m[2] ? SHIFT[m[2].toUpperCase()]! : 0n);
  if (bytes < rule.min) throw new UsageError(`${name} ${shown(text)} is too small: at least ${showSize(rule.min)} (${rule.minReason})`);
  if (bytes > rule.max) throw new UsageError(`${name} ${shown(text)} is too large: at most ${showSize(rule.max)} (${rule.maxReason})`);
  if (rule.multipleOf !== undefined && bytes % rule.multipleOf) throw new UsageError(`${name} ${shown(text)} is not a multiple of ${showSize(rule.multipleOf)}`);
  return bytes;
}

/** A real number written as a decimal (with an exponent if wanted). */
function realValue(text: string): number | undefined {
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) return undefined;
  const v = Number(text);
  return Number.isFinite(v) ? v : undefined;
}

/** A probability in (0, 1]. */
export function probabilityOption(name: string, text: string): number {
  const p = realValue(text);
  if (p === undefined || p <= 0 || p > 1) throw new UsageError(`${name} must be a probability in (0, 1], not '${shown(text)}'`);
  return p;
}

/** A positive real number, as bench's --scale. */
export function positiveOption(name: string, text: string): number {
  const v = realValue(text);
  if (v === undefined || v <= 0) throw new UsageError(`${name} must be a positive number, not '${shown(text)}'`);
  return v;
}

/** One of a fixed set of words. */
export function choiceOption<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(`${name} must be ${choices.join(" or ")}, not '${shown(text)}'`);
  return text as T;
}

/** Two options that cannot be given together. */
export function exclusive(values: Record<string, unknown>, a: string, b: string): void {
  if (values[a] !== undefined && values[b] !== undefined) throw new UsageError(`--${a} and --${b} cannot be used together`);
}
