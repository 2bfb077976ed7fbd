// SPDX-License-Identifier: MIT
//
// The property test both property files run (ops.ts has the generator and
// the interpreter; it stays free of vitest so the soak can bundle it).

import fc from "fast-check";
import { expect, it } from "vitest";
import { expectConsistent } from "./helpers.ts";
import { makeWorld, opArb, runOp, type Op } from "./ops.ts";

/**
 * One property test: `runs` sequences of `length` operations from fast-check
 * seed `seed` (FC_SEED in the environment overrides it, to replay a failure
 * fast-check reported), each on a fresh hypervisor, the recount checked after
 * every operation. A generous timeout: the CPU time is about a quarter of a
 * millisecond per operation, but the machines this runs on are often shared.
 */
export function propertyRuns(name: string, seed: number, runs: number, length: number): void {
  it(`${name}: ${runs} sequences of ${length} operations keep the frame table equal to a recount and the domains isolated`, { timeout: 600_000 }, () => {
    let hypercalls = 0;
    let operations = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: length, maxLength: length }), fc.bigInt({ min: 0n, max: 1n << 32n }), (ops: Op[], worldSeed: bigint) => {
        const w = makeWorld(worldSeed);
        for (const op of ops) {
          hypercalls += runOp(w, op);
          operations++;
          expectConsistent(w.t.hv);
        }
      }),
      { numRuns: runs, seed: Number(process.env.FC_SEED ?? seed), endOnFailure: true },
    );
    expect(operations).toBe(runs * length);
    expect(hypercalls).toBeGreaterThan(operations);
  });
}
