// SPDX-License-Identifier: MIT
//
// Where the CLI's output goes, and how it looks: colour only on a terminal
// and never with NO_COLOR set, and a quiet end when the reader of stdout or
// stderr goes away (`shootdown disasm IMAGE | head`).

/**
 * The status of a process that ends because its stdout or stderr was closed: what a
 * shell reports for a program killed by SIGPIPE (128 + 13), as `objdump -d |
 * head` gives. Node ignores SIGPIPE, so the write fails with EPIPE instead.
 */
export const EXIT_PIPE_CLOSED = 141;

/**
 * Whether to colour what goes to `stream`: only a terminal, and never when
 * NO_COLOR is set to anything but the empty string (https://no-color.org).
 */
export function colourFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColour = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return Boolean(stream.isTTY) && !noColour;
}

/** EX_IOERR of sysexits.h: stdout or stderr cannot be written (a full disk, say). */
export const EXIT_IO_ERROR = 74;

/**
 * Ends the process quietly, with EXIT_PIPE_CLOSED, when the reader of stdout
 * or stderr has gone (`| head`, `2>&1 | head`), and with one line (when it
 * can still be read) when a stream cannot be written for another reason:
 * otherwise either is an unhandled 'error' event and a stack trace.
 */
export function handleOutputErrors(): void {
  for (const [name, stream] of [["stdout", process.stdout], ["stderr", process.stderr]] as const) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(EXIT_PIPE_CLOSED);
      if (name === "stdout") process.stderr.write(`shootdown: cannot write to stdout: ${e.code ?? e.message}\n`);
      process.exit(EXIT_IO_ERROR);
    });
  }
}
