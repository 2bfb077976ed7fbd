// SPDX-License-Identifier: MIT
//
// The second half of the property tests (see property.test.ts), in a file of
// its own so that vitest runs the two halves on two workers.

import { describe } from "vitest";
import { propertyRuns } from "./property-runs.ts";

describe("random hypercall sequences from two domains, more seeds", () => {
  propertyRuns("third quarter", 3, 25, 1000);
  propertyRuns("fourth quarter", 4, 25, 1000);
});
