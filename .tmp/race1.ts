import { readFileSync } from "node:fs";
import { runImage, calibratedOptions } from "/work/main/emulator/run.ts";
import { withDefaults } from "/work/main/emulator/run-guest.ts";
const img = readFileSync("/work/main/guest/x86_64/pv/kernel.elf");
const o = calibratedOptions({ ...withDefaults({ cpus: 4, cmdline: "workload=spurious-race", hv: { domains: 1, vcpus: 4, domMemBytes: 16n << 20n, nested: true } }, "x86_64"), mode: "pct", pct: { depth: 3, horizon: 0 } }, img);
const t = performance.now();
let hv = 0n, ins = 0n, dec = 0;
for (let i = 0; i < 10; i++) {
  const r = runImage({ ...o, seed: BigInt(i), image: img, console: () => {} });
  hv += r.hypervisorSteps; ins += r.steps; dec += r.decisions;
}
console.log(((performance.now() - t) / 10).toFixed(1), "ms/run", hv / 10n, "hv steps", ins / 10n, "instr", dec / 10, "decisions");
