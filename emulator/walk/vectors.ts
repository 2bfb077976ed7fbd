// SPDX-License-Identifier: MIT
//
// Page-walk conformance vectors (JSON Lines; format in DESIGN.md): parsing
// with errors that name the line and the field, and the replay loop. Each
// architecture supplies a runner that replays one parsed case.

import { ShootdownError } from "../machine/core/errors.ts";

/** One case as it appears in the file, after validation of the common fields. */
export interface VectorCase {
  line: number;
  id: string;
  arch: string;
  raw: Record<string, unknown>;
}

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

/** Replays one case of an architecture; throws VectorError for a malformed case. */
export interface VectorRunner {
  run(c: VectorCase): CaseOutcome;
}

/** A malformed case: the message says which field and why. */
export class VectorError extends ShootdownError {
  override name = "VectorError";
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A field holding a number written as a hex string ("0x1f"), a decimal string, or a JSON integer. */
export function bigField(obj: Record<string, unknown>, key: string, where: string): bigint {
  const v = obj[key];
  if (v === undefined) throw new VectorError(`${where}.${key} is missing`);
  return toBig(v, `${where}.${key}`);
}

export function toBig(v: unknown, where: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    const n = BigInt(v);
    if (n < 1n << 64n) return n;
  }
  throw new VectorError(`${where} must be a 64-bit unsigned number (e.g. "0x1000"), not ${JSON.stringify(v)}`);
}

export function objField(obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> {
  const v = obj[key];
  if (!isObject(v)) throw new VectorError(`${where}.${key} must be an object`);
  return v;
}

export function stringField<T extends string>(obj: Record<string, unknown>, key: string, where: string, allowed: readonly T[]): T {
  const v = obj[key];
  if (typeof v !== "string" || !allowed.includes(v as T)) {
    throw new VectorError(`${where}.${key} must be one of ${allowed.join(", ")}, not ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** A `[[address, value], …]` list of 64-bit words. */
export function wordList(obj: Record<string, unknown>, key: string, optional: boolean): [bigint, bigint][] {
  const v = obj[key];
  if (v === undefined && optional) return [];
  if (!Array.isArray(v)) throw new VectorError(`${key} must be a list of [address, value] pairs`);
  return v.map((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new VectorError(`${key}[${i}] must be an [address, value] pair`);
    const addr = toBig(pair[0], `${key}[${i}][0]`);
    if (addr & 7n) throw new VectorError(`${key}[${i}] address 0x${addr.toString(16)} is not 8-byte aligned`);
    return [addr, toBig(pair[1], `${key}[${i}][1]`)];
  });
}

export const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Replays every case of a JSON Lines text; malformed lines become "error" results and the rest still run. */
export function runVectors(text: string, runners: Record<string, VectorRunner>): CaseResult[] {
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
      if (typeof parsed.id === "string" && parsed.id !== "") id = parsed.id;
      const arch = parsed.arch;
      if (typeof arch !== "string") throw new VectorError("arch is missing");
      const runner = runners[arch];
      if (!runner) throw new VectorError(`arch '${arch}' is not supported (supported: ${Object.keys(runners).join(", ")})`);
      const outcome = runner.run({ line, id, arch, raw: parsed });
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
    if (r.status === "fail") out.push(`FAIL ${r.id} (${file}:${r.line}): expected ${r.expected}, got ${r.got}`);
    else if (r.status === "error") out.push(`ERROR ${file}:${r.line} (${r.id}): ${r.message}`);
  }
  const passed = results.filter((r) => r.status === "pass").length;
  out.push(`${passed} passed, ${results.length - passed} failed`);
  return out;
}
