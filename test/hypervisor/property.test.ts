// SPDX-License-Identifier: MIT
//
// Isolation proved by attack: random hypercall sequences from two domains,
// hostile ones included, a fifth of them raced step by step on two pCPUs,
// with the recount checked from scratch after every operation. This file and
// property-raced.test.ts run 50,000 operations each (100,000 in all);
// `npm run soak` runs ten million.

import { describe } from "vitest";
import { propertyRuns } from "./property-runs.ts";

describe("random hypercall sequences from two domains", () => {
  propertyRuns("first quarter", 1, 25, 1000);
  propertyRuns("second quarter", 2, 25, 1000);
});
