// SPDX-License-Identifier: MIT
//
// Page-walk conformance vectors (JSON Lines; format in docs/vectors.md):
// each line checked against its architecture's schema (schema.ts), with
// errors that name the line, the field and the value, and the replay loop.
// Each architecture supplies a runner that replays one checked case.

import type { z } from "zod";
import { ShootdownError } from "../machine/core/errors.ts";
import { describeIssues } from "./schema.ts";

export type CaseOutcome =
  | { status: "pass" }
  | { status: "fail"; expected: string; got: string };

export interface CaseResult {
  line: number;
  id: string;
  status: "pass" | "fail" | "error";
  expected?: string;
  got?: string;
  /** For status "error": what is wrong with the line. */
  message?: string;
}

/** Replays the cases of one architecture: its schema (emulator/walk/schema.ts) and the replay of a case that passed it. */
export interface VectorRunner<Case = unknown> {
  schema: z.ZodType<Case, unknown>;
  /** Throws VectorError for what the schema cannot see (an address beyond the case's physical address size). */
  run(c: Case): CaseOutcome;
}

/** A malformed case: the message says which field and why. */
export class VectorError extends ShootdownError {
  override name = "VectorError";
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/**
 * Text from a vector file as the report prints it: control characters,
 * line and paragraph separators and bidirectional overrides escaped (so an
 * id cannot move the cursor, colour the terminal or forge a "passed" line),
 * and cut to `max` characters.
 */
export function printable(text: string, max = 80): string {
  const chars = [...text];
  const shown = chars.length > max ? [...chars.slice(0, max - 1), "…"] : chars;
  return shown.map((c) => {
    const code = c.codePointAt(0)!;
    const unsafe = code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0x2028 || code === 0x2029 ||
      (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0x200e || code === 0x200f;
    return unsafe ? `\\u${code.toString(16).padStart(4, "0")}` : c;
  }).join("");
}

/** The words a walk leaves in memory: the case's `mem`, changed by its `mem_after`. */
export function finalWords(mem: [bigint, bigint][], memAfter: [bigint, bigint][] | undefined): Map<bigint, bigint> {
  const final = new Map<bigint, bigint>();
  for (const [addr, value] of mem) final.set(addr, value);
  for (const [addr, value] of memAfter ?? []) final.set(addr, value);
  return final;
}

/** Replays every case of a JSON Lines text; malformed lines become "error" results and the rest still run. */
export function runVectors(text: string, runners: Record<string, VectorRunner<any>>): CaseResult[] {
  const results: CaseResult[] = [];
  const lines = text.split("\n");
  lines.forEach((source, i) => {
    const line = i + 1;
    if (source.trim() === "") return;
    let id = `line ${line}`;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(source);
      } catch (e) {
        throw new VectorError(`not valid JSON (${(e as Error).message})`);
      }
      if (!isObject(parsed)) throw new VectorError("a case must be a JSON object");
      // An id too long for the schema is not carried into the report either.
      if (typeof parsed.id === "string" && parsed.id !== "" && parsed.id.length <= 256) id = parsed.id;
      const arch = parsed.arch;
      if (typeof arch !== "string") throw new VectorError("arch is missing");
      const runner = runners[arch];
      if (!runner) throw new VectorError(`arch '${printable(arch, 40)}' is not supported (supported: ${Object.keys(runners).join(", ")})`);
      const checked = runner.schema.safeParse(parsed, { reportInput: true });
      if (!checked.success) throw new VectorError(describeIssues(checked.error));
      const outcome = runner.run(checked.data);
      results.push(outcome.status === "pass" ? { line, id, status: "pass" } : { line, id, ...outcome });
    } catch (e) {
      if (!(e instanceof ShootdownError)) throw e;
      results.push({ line, id, status: "error", message: e.message });
    }
  });
  return results;
}

/** The human-readable report: one line per failing case, then "N passed, M failed". */
export function formatReport(results: CaseResult[], file: string): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.status === "fail") out.push(`FAIL ${printable(r.id)} (${file}:${r.line}): expected ${r.expected}, got ${r.got}`);
    else if (r.status === "error") out.push(`ERROR ${file}:${r.line} (${printable(r.id)}): ${printable(r.message ?? "", 400)}`);
  }
  const passed = results.filter((r) => r.status === "pass").length;
  out.push(`${passed} passed, ${results.length - passed} failed`);
  return out;
}
