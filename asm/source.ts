// SPDX-License-Identifier: MIT
//
// From source text to statements, as GNU as's input scrubber does it:
// comments removed (per architecture), lines split at `;`, strings and
// character constants left alone.
//
//   both          /* … */ anywhere, across lines
//   x86-64        # to the end of the line; / as the first character of a line
//   AArch64       // to the end of the line; # as the first character of a line

import type { ArchName } from "./backend.ts";

/** Where a statement came from, for messages. */
export interface Location {
  file: string;
  line: number;
}

export interface Statement {
  text: string;
  loc: Location;
}

/** Comment rules of one architecture. */
interface CommentSyntax {
  /** Starts a comment anywhere on a line. */
  anywhere: string;
  /** Starts a comment when it is the first character of a line. */
  lineStart: string;
}

const COMMENTS: Record<ArchName, CommentSyntax> = {
  x86_64: { anywhere: "#", lineStart: "/" },
  aarch64: { anywhere: "//", lineStart: "#" },
};

/**
 * Splits a file into statements with their line numbers. Block comments
 * may span lines; the statement after one keeps the line where it starts.
 */
export function statementsOf(text: string, file: string, arch: ArchName): Statement[] {
  const syntax = COMMENTS[arch];
  const out: Statement[] = [];
  const lines = text.split(/\r?\n/);
  let inBlock = false;
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    let current = "";
    let i = 0;
    const flush = () => {
      out.push({ text: current, loc: { file, line: n + 1 } });
      current = "";
    };
    if (!inBlock && raw.startsWith(syntax.lineStart) && !raw.startsWith("/*")) {
      out.push({ text: "", loc: { file, line: n + 1 } });
      continue;
    }
    while (i < raw.length) {
      if (inBlock) {
        const end = raw.indexOf("*/", i);
        if (end < 0) {
          i = raw.length;
          break;
        }
        inBlock = false;
        i = end + 2;
        current += " ";
        continue;
      }
      const ch = raw[i]!;
      if (ch === '"') {
        const end = stringEnd(raw, i);
        current += raw.slice(i, end);
        i = end;
      } else if (ch === "'" ) {
        // A character constant: the quote, the character (or an escape).
        const len = raw[i + 1] === "\\" ? 3 : 2;
        current += raw.slice(i, i + len);
        i += len;
      } else if (raw.startsWith("/*", i)) {
        inBlock = true;
        i += 2;
      } else if (raw.startsWith(syntax.anywhere, i)) {
        break;
      } else if (ch === ";") {
        flush();
        i++;
      } else {
        current += ch;
        i++;
      }
    }
    flush();
  }
  return out;
}

/** Index just past the string literal that opens at text[start] == '"' (or the end of the text). */
export function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return Math.min(i + 1, text.length);
}

/**
 * Splits operands at top-level commas (not inside parentheses, brackets,
 * braces or strings), trimming each; an empty text gives no operands.
 */
export function splitOperands(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"') {
      i = stringEnd(text, i) - 1;
    } else if (ch === "'") {
      i += text[i + 1] === "\\" ? 2 : 1;
    } else if (ch === "(" || ch === "[" || ch === "{") {
      depth++;
    } else if (ch === ")" || ch === "]" || ch === "}") {
      depth--;
    } else if (ch === "," && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start).trim();
  if (parts.length || last) parts.push(last);
  return parts;
}
