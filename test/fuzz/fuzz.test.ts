// SPDX-License-Identifier: MIT
//
// A small slice of the fuzz campaign (test/fuzz/, `npm run fuzz` runs it for
// longer): a few seeded cases of every surface through the bundled CLI, and
// none may fail. The seed is fixed so that a failure here reproduces with
// `npm run fuzz -- --seed 17 --surface NAME --from I --cases 1`.

import { describe, expect, it } from "vitest";
import { campaign, classify, formatCampaign } from "./harness.ts";
import { SURFACES } from "./surfaces.ts";

describe("the fuzz harness", () => {
  it("classifies what counts as a failure", () => {
    const ok = { status: 1, signal: null, stdout: "", stderr: "", ms: 5, timedOut: false };
    expect(classify(ok, { allowed: [0, 1] })).toEqual({});
    expect(classify({ ...ok, status: 70 }, { allowed: [0, 1] }).failure).toBe("exit-status");
    expect(classify({ ...ok, stderr: "shootdown: internal error (a bug in shootdown; please report it):\nRangeError: x\n    at f (a.js:1:2)\n" }, { allowed: [0, 1] }).failure).toBe("stack-trace");
    expect(classify({ ...ok, stdout: "error: internal error (a bug in shootdown): x" }, { allowed: [0, 1], errorsOn: "stdout" }).failure).toBe("stack-trace");
    expect(classify({ ...ok, timedOut: true, status: null, signal: "SIGKILL" }, { allowed: [0, 1] }).failure).toBe("time");
    expect(classify({ ...ok, status: 134, stderr: "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory" }, { allowed: [0, 1] }).failure).toBe("memory");
  });

  it("a slice of every surface finds no failure", async () => {
    const started = Date.now();
    const reports = await campaign({ seed: 17, budgetMs: 25_000, surfaces: SURFACES, maxCasesPerSurface: 2, parallel: 2 });
    const text = formatCampaign(reports, 17, Date.now() - started).join("\n");
    for (const r of reports) expect(r.cases, text).toBeGreaterThan(0);
    expect(reports.flatMap((r) => r.examples), text).toEqual([]);
  }, 120_000);
});
