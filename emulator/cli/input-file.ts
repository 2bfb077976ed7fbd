// SPDX-License-Identifier: MIT
//
// Every file a command reads (an image, a vector file, assembly sources, a
// file to disassemble) is read through readBounded: only a regular file,
// and only up to a size suited to what it is. A FIFO, a terminal or
// /dev/zero would otherwise be read until memory runs out, and a file
// larger than anything sensible would be loaded whole before any check.

import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { ShootdownError } from "../machine/core/errors.ts";

/** A file that cannot be read, or is not something the command reads: the message names the file. */
export class InputFileError extends ShootdownError {
  override name = "InputFileError";
}

const MiB = 1 << 20;

/** "64 MiB", "3 KiB", "17 bytes". */
export function sizeText(bytes: number | bigint): string {
  const n = Number(bytes);
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return "a directory";
  if (s.isFIFO()) return "a FIFO";
  if (s.isCharacterDevice()) return "a character device";
  if (s.isBlockDevice()) return "a block device";
  if (s.isSocket()) return "a socket";
  return "not a regular file";
}

/**
 * The bytes of `path`, a regular file of at most `maxBytes`; otherwise an
 * InputFileError "cannot read PATH: …" that says why. `what` names the
 * kind of file in the size message ("an image", "a vector file").
 */
export function readBounded(path: string, what: string, maxBytes: number): Buffer {
  const fail = (why: string): never => {
    throw new InputFileError(`cannot read ${path}: ${why}`);
  };
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  if (!stats.isFile()) fail(`it is ${kindOf(stats)}, not a regular file`);
  if (stats.size > maxBytes) fail(`it is ${sizeText(stats.size)}; ${what} may be at most ${sizeText(maxBytes)}`);
  let fd: number;
  try {
    // O_NONBLOCK: should the path have become a FIFO since the stat, opening it does not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  try {
    if (!fstatSync(fd).isFile()) fail("it is not a regular file");
    // One byte more than the stat said, so that a file still growing is refused rather than cut short.
    const buffer = Buffer.allocUnsafe(stats.size + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > stats.size) fail("it grew while being read");
    return buffer.subarray(0, length);
  } catch (e) {
    if (e instanceof InputFileError) throw e;
    return fail((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses what readBounded would refuse, without reading: for a reader
 * elsewhere (the debugger's `replay F`) that reads the file itself.
 */
export function checkReadable(path: string, what: string, maxBytes: number): void {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (e) {
    throw new InputFileError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!stats.isFile()) throw new InputFileError(`cannot read ${path}: it is ${kindOf(stats)}, not a regular file`);
  if (stats.size > maxBytes) throw new InputFileError(`cannot read ${path}: it is ${sizeText(stats.size)}; ${what} may be at most ${sizeText(maxBytes)}`);
}

/** readBounded as UTF-8 text. */
export function readBoundedText(path: string, what: string, maxBytes: number): string {
  return readBounded(path, what, maxBytes).toString("utf8");
}

/** The largest vector file `shootdown walk` reads (the sample files are about 1 KiB a case). */
export const MAX_VECTOR_FILE_BYTES = 64 * MiB;
/** The largest assembly source or .include file `shootdown asm` reads. */
export const MAX_SOURCE_FILE_BYTES = 64 * MiB;
/** The largest schedule file `--replay` and the debugger's `replay` read (some 15 bytes a decision). */
export const MAX_SCHEDULE_FILE_BYTES = 256 * MiB;
/** The largest cost-model file `run --cost-model` reads (a dozen constants). */
export const MAX_COST_MODEL_FILE_BYTES = 1 * MiB;
/** The largest file `shootdown disasm` reads. */
export const MAX_DISASM_FILE_BYTES = 256 * MiB;
/** What an image may hold beyond the RAM it loads into: headers, section and symbol tables. */
export const IMAGE_HEADROOM_BYTES = 16 * MiB;
