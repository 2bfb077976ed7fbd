import { readFileSync } from "node:fs";
import { engineFor } from "/work/main/emulator/run.ts";
import { withDefaults } from "/work/main/emulator/run-guest.ts";
const img = readFileSync("/work/main/guest/x86_64/lost-update.elf");
const o = withDefaults({ cpus: 2, quantum: 8 }, "x86_64");
for (const mode of ["random", "pct"] as const) {
  const e = engineFor({ ...o, mode, seed: 0n, pct: { depth: 1, horizon: Number.MAX_SAFE_INTEGER }, image: img, console: () => {}, record: false } as never);
  e.runToEnd(); console.log(mode, e.decisions);
}
