// SPDX-License-Identifier: MIT
//
// Several A64 CPUs on one memory, interleaved a few instructions at a time
// as the scheduler interleaves them: exclusive monitors and LSE atomics
// keep a shared counter exact, and SEV wakes a CPU waiting in WFE.

import { describe, expect, it } from "vitest";
import { a64Rig, RAM_BASE } from "../../../helpers/a64-exec.ts";
import { prng } from "../../../helpers/prng.ts";

const COUNTER = RAM_BASE + 0x10_0000n;

/** Runs every CPU in random slices of 1 to 3 instructions until each has left with hvc. */
function interleave(rig: ReturnType<typeof a64Rig>, seed: number): void {
  const rnd = prng(seed);
  const done = new Set<number>();
  for (let steps = 0; done.size < rig.m.cpus.length; steps++) {
    if (steps > 1_000_000) throw new Error("no progress");
    const i = Math.floor(rnd() * rig.m.cpus.length);
    if (done.has(i)) continue;
    const e = rig.m.cpu(i).run(1 + Math.floor(rnd() * 3));
    if (e.reason === "hvc") done.add(i);
    else if (e.reason !== "budget" && e.reason !== "wfi") throw new Error(`CPU ${i}: ${e.reason}`);
  }
}

describe("several CPUs", () => {
  for (const [name, increment] of [
    ["LDAXR/STLXR", `
1:
  ldaxr x2, [x1]
  add x2, x2, #1
  stlxr w3, x2, [x1]
  cbnz w3, 1b`],
    ["LDADD", `
  mov x2, #1
  ldaddal x2, x3, [x1]`],
    ["CAS", `
1:
  ldr x2, [x1]
  add x3, x2, #1
  mov x4, x2
  casal x4, x3, [x1]
  cmp x4, x2
  b.ne 1b`],
  ] as const) {
    it(`${name} keeps a shared counter exact under any interleaving`, () => {
      for (const seed of [1, 2, 3]) {
        const rig = a64Rig(`
_start:
  ldr x1, counter
  mov x5, #100
loop:
${increment}
  subs x5, x5, #1
  b.ne loop
  hvc #0
  .balign 8
counter: .quad ${COUNTER}
`, { cpus: 3 });
        interleave(rig, seed);
        expect(rig.m.memory.read64(COUNTER), `seed ${seed}`).toBe(300n);
      }
    });
  }

  it("a CPU waiting in WFE leaves with 'wfi' and goes on once another CPU's SEV sets its event register", () => {
    const rig = a64Rig(`
_start:
  ldr x1, flag
  cbnz x0, waker
1:
  wfe
  ldr x2, [x1]
  cbz x2, 1b
  hvc #0
waker:
  mov x2, #1
  str x2, [x1]
  dsb sy
  sev
  hvc #0
  .balign 8
flag: .quad ${COUNTER}
`, { cpus: 2 });
    expect(rig.cpu.run(100)).toEqual({ reason: "wfi" });
    expect(rig.m.cpu(1).run(100).reason).toBe("hvc");
    expect(rig.cpu.run(100).reason).toBe("hvc");
  });
});
