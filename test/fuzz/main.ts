// SPDX-License-Identifier: MIT
//
// `npm run fuzz -- [--minutes N] [--seed S] [--surface NAME] [--from I] [--cases K]`:
// runs every surface (test/fuzz/surfaces.ts) round-robin for N minutes
// (default 1), two cases at a time, and prints cases and failures by kind
// per surface; exits 1 when anything failed. A failure is rerun alone with
// --surface, --seed, --from and --cases 1.

import { parseArgs } from "node:util";
import { campaign, formatCampaign } from "./harness.ts";
import { SURFACES } from "./surfaces.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    minutes: { type: "string", default: "1" },
    seed: { type: "string" },
    surface: { type: "string", multiple: true },
    from: { type: "string", default: "0" },
    cases: { type: "string" },
    parallel: { type: "string", default: "2" },
  },
});

const minutes = Number(values.minutes);
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, not '${values.minutes}'`);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
const surfaces = values.surface ? SURFACES.filter((s) => values.surface!.includes(s.name)) : SURFACES;
if (!surfaces.length) throw new Error(`no surface named ${values.surface!.join(", ")} (surfaces: ${SURFACES.map((s) => s.name).join(", ")})`);

const started = Date.now();
process.stderr.write(`shootdown fuzz: seed ${seed}, ${minutes} minutes, surfaces ${surfaces.map((s) => s.name).join(", ")}\n`);
const reports = await campaign({
  seed,
  budgetMs: minutes * 60_000,
  surfaces,
  parallel: Number(values.parallel),
  from: Number(values.from),
  ...(values.cases !== undefined ? { maxCasesPerSurface: Number(values.cases) } : {}),
  onFailure: (surface, index, r) => process.stderr.write(`FAIL ${surface} case ${index}: ${r.failure}: ${r.detail ?? ""}\n`),
});
for (const line of formatCampaign(reports, seed, Date.now() - started)) process.stdout.write(`${line}\n`);
const failed = reports.some((r) => Object.values(r.failures).some((n) => n > 0));
process.exitCode = failed ? 1 : 0;
