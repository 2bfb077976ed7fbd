// SPDX-License-Identifier: MIT
//
// `npm run soak`: ten million random operations (the property test's
// generator, without shrinking), checking the recount after every one, and
// the rate. `npm run soak -- N` runs N operations; `--check-every K` checks
// the recount after every K-th operation instead.

import fc from "fast-check";
import { recount } from "../../hypervisor/index.ts";
import { makeWorld, opArb, runOp } from "./ops.ts";

const args = process.argv.slice(2);
const total = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000_000);
const everyAt = args.indexOf("--check-every");
const checkEvery = everyAt >= 0 ? Number(args[everyAt + 1]) : 1;
const OPS_PER_WORLD = 2000;

const start = performance.now();
const cpuStart = process.cpuUsage();
let ops = 0;
let hypercalls = 0;
let opTime = 0;
let checkTime = 0;
let lastReport = start;
for (let world = 0; ops < total; world++) {
  const w = makeWorld(BigInt(world));
  const batch = fc.sample(opArb, { numRuns: Math.min(OPS_PER_WORLD, total - ops), seed: world });
  for (const op of batch) {
    const t0 = performance.now();
    hypercalls += runOp(w, op);
    const t1 = performance.now();
    opTime += t1 - t0;
    if (++ops % checkEvery === 0) {
      const problems = recount(w.t.hv);
      if (problems.length) {
        console.error(`world ${world}, operation ${ops}: ${JSON.stringify(op, (_, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))}`);
        console.error(problems.slice(0, 20).join("\n"));
        process.exit(1);
      }
      checkTime += performance.now() - t1;
    }
    if (t1 - lastReport > 10_000) {
      lastReport = t1;
      console.log(`${ops.toLocaleString("en")} operations, ${Math.round((ops / (t1 - start)) * 1000).toLocaleString("en")} per second`);
    }
  }
}
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`soak: ${ops.toLocaleString("en")} operations (${hypercalls.toLocaleString("en")} hypercalls), recount after every ${checkEvery === 1 ? "one" : `${checkEvery}th`}, no inconsistency`);
console.log(`${Math.round(ops / seconds).toLocaleString("en")} operations per second over ${seconds.toFixed(1)} s (hypercalls ${(opTime / 1000).toFixed(1)} s, recounts ${(checkTime / 1000).toFixed(1)} s)`);
console.log(`${Math.round(ops / cpuSeconds).toLocaleString("en")} operations per CPU second (${cpuSeconds.toFixed(1)} s of CPU: the rate on an idle core)`);
