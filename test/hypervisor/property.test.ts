// SPDX-License-Identifier: MIT
//
// Isolation proved by attack: random hypercall sequences from two domains,
// hostile ones included, some pairs interleaved step by step on two pCPUs,
// with the recount checked from scratch after every operation. At least
// 100,000 operations run here; `npm run soak` runs ten million.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectConsistent } from "./helpers.ts";
import { makeWorld, opArb, runOp, type Op } from "./ops.ts";

const RUNS = Number(process.env.HV_RUNS ?? 100);
const OPS_PER_RUN = 1000;

describe("random hypercall sequences from two domains", () => {
  it(`keep the frame table equal to a recount and the domains isolated (${RUNS} runs of ${OPS_PER_RUN} operations)`, () => {
    let hypercalls = 0;
    let operations = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: OPS_PER_RUN, maxLength: OPS_PER_RUN }), fc.bigInt({ min: 0n, max: 1n << 32n }), (ops: Op[], seed: bigint) => {
        const w = makeWorld(seed);
        for (const op of ops) {
          hypercalls += runOp(w, op);
          operations++;
          expectConsistent(w.t.hv);
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.FC_SEED ?? 12), endOnFailure: true },
    );
    expect(operations).toBeGreaterThanOrEqual(100_000);
    expect(hypercalls).toBeGreaterThan(operations);
  });
});
