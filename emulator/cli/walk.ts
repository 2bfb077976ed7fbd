// SPDX-License-Identifier: MIT
//
// `shootdown walk --vectors FILE.jsonl [--json]`: replays page-walk conformance
// vectors and ends with "N passed, M failed".

import { ShootdownError } from "../machine/core/errors.ts";
import { UsageError, parseCommandLine, shown } from "./options.ts";
import { readBoundedText, MAX_VECTOR_FILE_BYTES } from "./input-file.ts";
import { runVectors, formatReport } from "../walk/vectors.ts";
import { X86VectorRunner } from "../walk/x86.ts";
import { Aarch64VectorRunner } from "../walk/aarch64.ts";

export const WALK_USAGE = `usage: shootdown walk --vectors FILE.jsonl [--json]

Replays page-walk conformance vectors: for each line, fresh memory, the
case's registers, an empty TLB and one access; compares the physical address
or the fault, and the Accessed/Dirty words. Prints each failing case and ends
with "N passed, M failed"; exits 1 when any case failed.

  --vectors FILE  the JSON Lines file to replay
  --json          print every result as a JSON line on stdout instead

Exit status: 0 every case passed; 1 a case failed or a line is malformed;
2 the file cannot be read; 64 bad options; 141 stdout was closed (| head).`;

const WALK_OPTIONS = {
  vectors: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean" },
} as const;

export function walkCommand(args: string[], out: (line: string) => void): number {
  const { values, positionals } = parseCommandLine(args, WALK_OPTIONS, { command: "walk", afterDashDash: "operands" });
  if (values.help) {
    out(WALK_USAGE);
    return 0;
  }
  if (positionals.length) throw new UsageError(`walk takes no operands, not '${shown(positionals[0]!)}' (the file is --vectors FILE)`);
  const file = values.vectors;
  if (!file) throw new UsageError("walk needs --vectors FILE");
  const text = readBoundedText(file, "a vector file", MAX_VECTOR_FILE_BYTES);
  const results = runVectors(text, { x86_64: new X86VectorRunner(), aarch64: new Aarch64VectorRunner() });
  // "0 passed, 0 failed" with status 0 would pass a truncated or wrong file as a conforming one.
  if (results.length === 0) throw new ShootdownError(`${file} has no cases (only blank lines); a vector file has one JSON object a line`);
  if (values.json) {
    for (const r of results) out(JSON.stringify(r));
  } else {
    for (const line of formatReport(results, file)) out(line);
  }
  return results.every((r) => r.status === "pass") ? 0 : 1;
}
