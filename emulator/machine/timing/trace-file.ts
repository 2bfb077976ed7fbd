// SPDX-License-Identifier: MIT
//
// The file a trace streams into: opened before the run (so that a path that
// cannot be written fails at once), written in pieces of about a megabyte.
// A write error during the run cannot stop the engine mid-decision, so it
// is kept, the rest is dropped, and close() reports it.

import { closeSync, openSync, writeSync } from "node:fs";
import { ShootdownError } from "../core/errors.ts";

const CHUNK_CHARS = 1 << 20;

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

export class TraceFile {
  private readonly fd: number;
  private pieces: string[] = [];
  private chars = 0;
  private error: string | undefined;

  /** Throws a ShootdownError "cannot write PATH: CODE" when the file cannot be created. */
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "w");
    } catch (e) {
      throw new ShootdownError(`cannot write ${path}: ${codeOf(e)}`);
    }
  }

  write = (text: string): void => {
    if (this.error !== undefined) return;
    this.pieces.push(text);
    this.chars += text.length;
    if (this.chars >= CHUNK_CHARS) this.flush();
  };

  private flush(): void {
    const bytes = Buffer.from(this.pieces.join(""), "utf8");
    this.pieces = [];
    this.chars = 0;
    try {
      for (let at = 0; at < bytes.length;) at += writeSync(this.fd, bytes, at, bytes.length - at);
    } catch (e) {
      this.error = codeOf(e);
    }
  }

  /** Writes what is left and closes the file; the error that stopped the writing, if one did. */
  close(): string | undefined {
    if (this.error === undefined) this.flush();
    try {
      closeSync(this.fd);
    } catch (e) {
      this.error ??= codeOf(e);
    }
    return this.error === undefined ? undefined : `cannot write ${this.path}: ${this.error}`;
  }
}
