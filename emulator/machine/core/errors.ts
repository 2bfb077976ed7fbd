// SPDX-License-Identifier: MIT

/**
 * An error in what the user asked for (a bad option, a malformed file, an
 * impossible configuration). The CLI prints its message, never a stack trace;
 * any other exception is a bug in shootdown itself.
 */
export class ShootdownError extends Error {
  override name = "ShootdownError";
}
