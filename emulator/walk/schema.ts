// SPDX-License-Identifier: MIT
//
// The page-walk vector format (docs/vectors.md), one JSON object a line, as
// zod schemas: what each field may hold, checked before a case runs, with
// messages that name the field by its JSON path and quote the value. What
// depends on more than one field (an address beyond the case's physical
// address size) is checked where the case runs.

import { z } from "zod";

/** The value as a message quotes it: JSON, cut short. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** An error message "WHAT, not VALUE", or "is missing" when there is no value. */
const not = (what: string) => (issue: { input?: unknown }) => (issue.input === undefined ? "is missing" : `${what}, not ${show(issue.input)}`);

const U64_MESSAGE = 'must be a 64-bit unsigned number (e.g. "0x1000")';

/** A 64-bit word: a hex ("0x1f") or decimal string, or a JSON integer up to 2^53. */
const u64Error = { error: not(U64_MESSAGE) };
export const u64 = z
  .union([
    z.number(u64Error).int(u64Error).min(0, u64Error).max(Number.MAX_SAFE_INTEGER, u64Error),
    z.string(u64Error).regex(/^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/, u64Error),
  ], u64Error)
  .transform((v) => BigInt(v))
  .refine((v) => v < 1n << 64n, u64Error);

/** `[[address, word], …]`: 8-byte-aligned addresses, each listed once. */
const words = z
  .array(z.tuple([u64, u64], { error: not("must be an [address, value] pair") }), { error: not("must be a list of [address, value] pairs") })
  .superRefine((list, ctx) => {
    const seen = new Map<bigint, number>();
    list.forEach(([address], i) => {
      // Zod runs this refinement even when an element failed its own check (and was not made a bigint).
      if (typeof address !== "bigint") return;
      if (address & 7n) ctx.addIssue({ code: "custom", path: [i], message: `address 0x${address.toString(16)} is not 8-byte aligned` });
      const first = seen.get(address);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: [i], message: `address 0x${address.toString(16)} is listed twice (first at [${first}])` });
      else seen.set(address, i);
    });
  });

/** A case's id: a label for the report, which prints it escaped. */
const id = z.string({ error: not("must be a string") }).max(256, { error: (i) => `must be at most 256 characters, not ${(i.input as string).length}` });

const physicalBits = z.number({ error: not("must be an integer from 32 to 52") }).int({ error: not("must be an integer from 32 to 52") })
  .min(32, { error: not("must be an integer from 32 to 52") }).max(52, { error: not("must be an integer from 32 to 52") });

/** An object with exactly these fields; an unknown one is named. */
function fields<T extends z.ZodRawShape>(shape: T, unknown: string) {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? unknown : issue.input === undefined ? "is missing" : `must be an object, not ${show(issue.input)}`),
  });
}

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: not(`must be one of ${values.join(", ")}`) });

export const X86_REGISTERS = ["cr0", "cr2", "cr3", "cr4", "efer", "rflags", "pat", "pkru"] as const;

export const x86Case = fields({
  id: id.optional(),
  arch: z.literal("x86_64"),
  cpu: fields({ maxphyaddr: physicalBits }, "is not a field of cpu (maxphyaddr)"),
  regs: fields({
    cr0: u64, cr2: u64.optional(), cr3: u64, cr4: u64, efer: u64, rflags: u64.optional(), pat: u64.optional(),
    pkru: u64.refine((v) => v <= 0xffff_ffffn, { error: "must fit in 32 bits" }).optional(),
  }, `is not a register this runner knows (${X86_REGISTERS.join(", ")})`),
  mem: words,
  mem_after: words.optional(),
  access: fields({ va: u64, op: oneOf(["read", "write", "fetch"]), priv: oneOf(["user", "kernel", "implicit"]) }, "is not a field of access (va, op, priv)"),
  expect: fields({
    pa: u64.optional(),
    fault: fields({
      vector: z.union([z.literal(14), z.literal(13)], { error: not("must be 14 (#PF) or 13 (#GP)") }),
      error_code: u64.optional(),
    }, "is not a field of a fault (vector, error_code)").optional(),
  }, "is not a field of expect (pa, fault)").superRefine((e, ctx) => {
    if (e.pa !== undefined && e.fault !== undefined) ctx.addIssue({ code: "custom", message: "has both pa and fault" });
    if (e.pa === undefined && e.fault === undefined) ctx.addIssue({ code: "custom", message: "must have pa or fault" });
    if (e.fault?.vector === 14 && e.fault.error_code === undefined) ctx.addIssue({ code: "custom", path: ["fault", "error_code"], message: "is missing (a #PF has an error code)" });
  }),
}, "is not a field of an x86_64 case");

export const ARM_REGISTERS = ["sctlr_el1", "tcr_el1", "ttbr0_el1", "ttbr1_el1", "mair_el1", "hcr_el2", "vttbr_el2", "vtcr_el2", "pstate"] as const;
export const ARM_FAULT_TYPES = ["translation", "access_flag", "permission", "address_size"] as const;

const level = z.number({ error: not("must be 0 to 3") }).int({ error: not("must be 0 to 3") }).min(0, { error: not("must be 0 to 3") }).max(3, { error: not("must be 0 to 3") });

export const armCase = fields({
  id: id.optional(),
  arch: z.literal("aarch64"),
  cpu: fields({ pa_bits: physicalBits }, "is not a field of cpu (pa_bits)"),
  regs: fields({
    sctlr_el1: u64, tcr_el1: u64, ttbr0_el1: u64, ttbr1_el1: u64, mair_el1: u64,
    hcr_el2: u64.optional(), vttbr_el2: u64.optional(), vtcr_el2: u64.optional(), pstate: u64.optional(),
  }, `is not a register this runner knows (${ARM_REGISTERS.join(", ")})`),
  mem: words,
  mem_after: words.optional(),
  access: fields({ va: u64, op: oneOf(["read", "write"]), priv: oneOf(["user", "kernel"]) }, "is not a field of access (va, op, priv)"),
  expect: fields({
    pa: u64.optional(),
    fault: fields({ type: oneOf(ARM_FAULT_TYPES), level }, "is not a field of a fault (type, level)").optional(),
  }, "is not a field of expect (pa, fault)").superRefine((e, ctx) => {
    if (e.pa !== undefined && e.fault !== undefined) ctx.addIssue({ code: "custom", message: "has both pa and fault" });
    if (e.pa === undefined && e.fault === undefined) ctx.addIssue({ code: "custom", message: "must have pa or fault" });
  }),
  par: u64.optional(),
}, "is not a field of an aarch64 case");

export type X86Case = z.output<typeof x86Case>;
export type ArmCase = z.output<typeof armCase>;

/** A JSON path as the messages write it: `regs.cr3`, `mem[2][0]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** The first few problems of a case, one clause each: "PATH MESSAGE". */
export function describeIssues(error: z.ZodError, limit = 3): string {
  const clauses = error.issues.slice(0, limit).map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => `${jsonPath([...issue.path, k])} ${issue.message}`).join("; ");
    }
    const where = jsonPath(issue.path);
    return where ? `${where} ${issue.message}` : `the case ${issue.message}`;
  });
  const more = error.issues.length - limit;
  return clauses.join("; ") + (more > 0 ? ` (and ${more} more)` : "");
}
