// SPDX-License-Identifier: MIT
//
// The file of `shootdown run --cost-model FILE.json`: one JSON object whose
// keys are constants of the cost model (cost-model.ts) and whose values
// replace them, for example {"ipiDelivery": 3000, "l0FlushHypercall": 6000}.
// Keys left out keep their value. An unknown key or a value that is not a
// non-negative number is an error that names the key.

import { z } from "zod";
import { ShootdownError } from "../core/errors.ts";
import { COST_MODEL, COST_MODEL_KEYS, type CostModel } from "./cost-model.ts";

/** The value as a message quotes it: JSON, cut short. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * At most a second of a 1 GHz clock per operation, and a clock from 1 MHz
 * to 1 THz: beyond them the sums of a long run would lose every digit.
 */
const MAX_CYCLES = 1e9;
const MIN_MHZ = 1;
const MAX_MHZ = 1e6;

const cycles = z.number({ error: (i) => `must be a number of cycles, not ${show(i.input)}` })
  .nonnegative({ error: (i) => `must be a non-negative number of cycles, not ${show(i.input)}` })
  .max(MAX_CYCLES, { error: (i) => `must be at most ${MAX_CYCLES} cycles, not ${show(i.input)}` });

const clockMHz = z.number({ error: (i) => `must be a clock rate in MHz, not ${show(i.input)}` })
  .min(MIN_MHZ, { error: (i) => `must be a clock rate from ${MIN_MHZ} to ${MAX_MHZ} MHz, not ${show(i.input)}` })
  .max(MAX_MHZ, { error: (i) => `must be a clock rate from ${MIN_MHZ} to ${MAX_MHZ} MHz, not ${show(i.input)}` });

const shape = Object.fromEntries(COST_MODEL_KEYS.map((k) => [k, (k === "clockMHz" ? clockMHz : cycles).optional()])) as
  Record<keyof CostModel, z.ZodOptional<z.ZodNumber>>;

const overrides = z.strictObject(shape, {
  error: (issue) => issue.code === "unrecognized_keys"
    ? `is not a constant of the cost model (the constants: ${COST_MODEL_KEYS.join(", ")})`
    : `must be a JSON object of cost-model constants, not ${show(issue.input)}`,
});

/**
 * The model with a file's overrides: `text` is the file's contents, `path`
 * names it in errors ("costs.json: "ipiSend" must be a number of cycles, not "fast"").
 */
export function parseCostModel(text: string, path: string): CostModel {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ShootdownError(`${path}: not JSON (${(e as Error).message})`);
  }
  const checked = overrides.safeParse(json);
  if (!checked.success) {
    const clauses = checked.error.issues.slice(0, 3).map((issue) => {
      if (issue.code === "unrecognized_keys") return issue.keys.map((k) => `"${k}" ${issue.message}`).join("; ");
      return issue.path.length ? `"${issue.path.join(".")}" ${issue.message}` : issue.message;
    });
    throw new ShootdownError(`${path}: ${clauses.join("; ")}`);
  }
  const model = { ...COST_MODEL };
  for (const [k, v] of Object.entries(checked.data)) if (v !== undefined) model[k as keyof CostModel] = v;
  return model;
}
