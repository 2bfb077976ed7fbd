// SPDX-License-Identifier: MIT
//
// The engine's rules for guests that give their CPU up (Handled.yields,
// Handled.worked): an exit carried out at once by hypervisor work is
// progress even when the guest retired nothing before it, and CPUs spinning
// on yields do not release each other, so the CPU they wait for runs even
// when PCT ranks it below them.

import { describe, expect, it } from "vitest";
import { Engine } from "../../emulator/machine/core/engine.ts";
import type { RecordedOptions } from "../../emulator/machine/core/schedule-file.ts";
import type { ExitHandler, Handled } from "../../emulator/machine/core/exits.ts";
import { bootPlatform } from "../../emulator/run.ts";
import type { X86Cpu, X86Exit } from "../../emulator/machine/cpu/x86-cpu.ts";
import { join } from "node:path";
import { image, ROOT, shootdown, tmpFile } from "../helpers/run.ts";

const PV_KERNEL = join(ROOT, "guest", "x86_64", "pv", "kernel.elf");

/** VMCALL is a yield that finds nothing else to run: carried out at the exit, with no step. */
class YieldingHypercall implements ExitHandler<X86Cpu, X86Exit> {
  readonly name = "test hypervisor";

  handle(cpu: X86Cpu, exit: X86Exit): Handled | undefined {
    if (exit.reason !== "vmcall") return undefined;
    // VMCALL is 3 bytes (0f 01 c1).
    cpu.setRipRax(exit.rip + 3n);
    return { kind: "done", worked: true, yields: true };
  }
}

function engine(img: Uint8Array, o: RecordedOptions, hv: YieldingHypercall): Engine {
  return new Engine({
    options: o, console: () => {},
    build: (opts, console) => {
      const p = bootPlatform(img, opts, console);
      p.attach(hv as unknown as ExitHandler<never, never>);
      return p;
    },
  });
}

const options = (o: Partial<RecordedOptions>): RecordedOptions => ({
  cpus: 1, memBytes: 64n << 20n, cmdline: "", mode: "random", seed: 0n, quantum: 1, maxSteps: undefined, tlbChaos: undefined, ...o,
});

describe("yields", () => {
  it("a yield carried out at its exit is progress even when the guest retired nothing before it: no false deadlock", () => {
    // A PV guest's SCHEDOP_yield exits before the VMCALL retires; a piece that
    // is only the VMCALL retires nothing, and its CPU must not count as idle.
    // Seeds 41 and 42 of this search ended as deadlocks when it did.
    const r = shootdown("explore", PV_KERNEL, "--hv", "--cpus", "4", "--nested", "--no-force-ipi", "--all", "--runs", "60", "--seed", "20", "--jobs", "1", "--json", "--out-schedule", tmpFile("yield-race.json"), "--", "workload=spurious-race");
    // Status 1: some runs failed (explore's status), and every failure is the race's violation.
    expect(r.status).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary.runs).toBe(60);
    expect(Object.keys(summary.failures.byKind)).toEqual(["violation"]);
  });

  it("two CPUs spinning on yields do not release each other: the CPU they wait for runs whatever PCT's priorities", () => {
    // The last CPU to arrive counts to 3,000 and sets the flag; the two
    // others yield until they see it. Under PCT with no change point the CPUs
    // arrive in the order of their priorities, so both spinners rank above
    // the counter: if their yields were progress they would release each
    // other at every turn, and the counter would wait for the horizon.
    const img = image(`
_start:
  mov $1, %eax
  lock xaddq %rax, arrived(%rip)
  cmp $2, %rax
  jne spin
  mov $3000, %ecx
1:
  dec %ecx
  jnz 1b
  movq $1, flag(%rip)
  xor %eax, %eax
  mov $0xf4, %dx
  out %eax, %dx
spin:
  cmpq $0, flag(%rip)
  jne 2f
  vmcall
  jmp spin
2:
  cli
  hlt
  jmp 2b
.balign 8
arrived: .quad 0
flag: .quad 0
`);
    for (let seed = 0n; seed < 12n; seed++) {
      const hv = new YieldingHypercall();
      const e = engine(img, options({ cpus: 3, mode: "pct", pct: { depth: 1, horizon: 20_000 }, quantum: 100, seed }), hv);
      expect(e.runToEnd(), `seed ${seed}`).toMatchObject({ kind: "debug-exit", code: 0n });
      // About 60 of the counter's decisions, each followed by one turn of each spinner.
      expect(e.decisions, `seed ${seed}`).toBeLessThan(1_000);
    }
  });
});
