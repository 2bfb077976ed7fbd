// SPDX-License-Identifier: MIT
//
// The runner: how a run ends (debug exit, crash, deadlock, step limit), that
// it is a pure function of its inputs, and that a recorded schedule replays.

import { describe, expect, it } from "vitest";
import { deliveryChain } from "../../emulator/machine/platform/x86/platform.ts";
import { runSource } from "../helpers/run.ts";
import type { RunStep } from "../../emulator/machine/core/scheduler.ts";

const SPIN = "_start:\n1: pause\n  jmp 1b\n";

describe("how a run ends", () => {
  it("every CPU halted with interrupts off is a deadlock, named per CPU", () => {
    const r = runSource("_start:\n  cli\n  hlt\n", { cpus: 2 });
    expect(r.end).toMatchObject({ kind: "crash", reason: "deadlock" });
    expect(r.status).toBe(2);
    if (r.end.kind !== "crash") throw new Error();
    expect(r.end.message).toBe(
      "all CPUs halted with nothing pending: deadlock (CPU 0 halted with IF=0 at RIP 0x100001 <_start+0x1> [f4: hlt]; " +
      "CPU 1 halted with IF=0 at RIP 0x100001 <_start+0x1> [f4: hlt])",
    );
  });

  it("halting with IF=1 and nothing to come is a deadlock too; one CPU still running is not", () => {
    expect(runSource("_start:\n  sti\n  hlt\n").end).toMatchObject({ kind: "crash", reason: "deadlock" });
    // CPU 0 halts at once; CPU 1 counts to 20000, then ends the run.
    const r = runSource(`
_start: test %edi, %edi
        jnz 1f
        hlt
1:      mov $20000, %ecx
2:      dec %ecx
        jnz 2b
        mov $7, %al
        out %al, $0xf4
`, { cpus: 2, quantum: 100 });
    expect(r.end).toEqual({ kind: "debug-exit", code: 7n, cpu: 1 });
    expect(r.status).toBe(1);
    expect(r.cpus[0]!.exits.hlt).toBeGreaterThan(100);
  });

  it("--max-steps stops after exactly that many instructions over all CPUs", () => {
    const r = runSource(SPIN, { cpus: 3, maxSteps: 10_001n, quantum: 1000 });
    expect(r.end).toEqual({ kind: "step-limit", steps: 10_001n });
    expect(r.status).toBe(3);
    expect(r.cpus.reduce((n, c) => n + c.instructions, 0n)).toBe(10_001n);
  });

  it("a VMCALL with no hypervisor crashes the machine", () => {
    const r = runSource("_start:\n  nop\n  vmcall\n");
    expect(r.end).toMatchObject({ kind: "crash", reason: "vmcall", cpu: 0 });
    if (r.end.kind !== "crash") throw new Error();
    expect(r.end.message).toBe("CPU 0: VMCALL with no hypervisor to handle it at RIP 0x100001 <_start+0x1> [0f 01 c1: vmcall]");
  });

  it("a triple fault names the exceptions whose delivery failed", () => {
    expect(deliveryChain([6, 13, 8])).toBe("#UD → #GP → #DF");
    expect(deliveryChain([14, 8, 0])).toBe("#PF → #DF");
    expect(deliveryChain([11, 13, 13])).toBe("#NP → #GP → #GP → …");
  });
});

describe("determinism", () => {
  // Two CPUs race on a shared counter without LOCK: the final value depends on the interleaving.
  const RACE = `
_start: lea counter(%rip), %rsi
        mov $300, %ecx
1:      mov (%rsi), %rax
        inc %rax
        mov %rax, (%rsi)
        dec %ecx
        jnz 1b
        lock incq done(%rip)
        test %edi, %edi
        jnz 3f
2:      cmpq $2, done(%rip)
        jne 2b
        mov (%rsi), %rax
        cmp $600, %rax
        setne %al
        out %al, $0xf4
3:      hlt
        jmp 3b
        .data
counter: .quad 0
done:    .quad 0
`;

  it("the same seed gives the same schedule and state; another seed another", () => {
    const a = runSource(RACE, { cpus: 2, mode: "random", seed: 1n, quantum: 3, record: true });
    const b = runSource(RACE, { cpus: 2, mode: "random", seed: 1n, quantum: 3, record: true });
    const c = runSource(RACE, { cpus: 2, mode: "random", seed: 2n, quantum: 3, record: true });
    expect(b.schedule).toEqual(a.schedule);
    expect(b.stateHash).toBe(a.stateHash);
    expect(c.schedule).not.toEqual(a.schedule);
    expect(c.stateHash).not.toBe(a.stateHash);
    const runs = a.schedule!.filter((s): s is RunStep => s[1] !== "hv");
    expect(runs).toHaveLength(a.schedule!.length);
    expect(runs.every(([, asked]) => asked >= 1 && asked <= 3)).toBe(true);
    expect(runs.reduce((n, [, , retired]) => n + BigInt(retired), 0n)).toBe(a.steps);
    // Fine interleaving loses increments: the guest reports it.
    expect(a.end).toEqual({ kind: "debug-exit", code: 1n, cpu: 0 });
  });

  it("round-robin with a large quantum runs each CPU's loop whole", () => {
    const r = runSource(RACE, { cpus: 2, quantum: 100_000 });
    expect(r.end).toEqual({ kind: "debug-exit", code: 0n, cpu: 0 });
  });

  it("a replay reproduces the run, and a schedule that does not fit is a divergence", () => {
    const a = runSource(RACE, { cpus: 2, mode: "random", seed: 9n, quantum: 5, record: true });
    const again = runSource(RACE, { cpus: 2, replay: a.schedule!, record: true });
    expect(again.mode).toBe("replay");
    expect(again.stateHash).toBe(a.stateHash);
    expect(again.schedule).toEqual(a.schedule);
    expect(again.end).toEqual(a.end);

    const wrong = (a.schedule as RunStep[]).map((s) => [...s] as RunStep);
    wrong[10]![2] = wrong[10]![1] + 1;
    const d = runSource(RACE, { cpus: 2, replay: wrong });
    expect(d.end).toMatchObject({ kind: "crash", reason: "replay-diverged" });
    expect(d.status).toBe(2);

    const short = runSource(RACE, { cpus: 2, replay: a.schedule!.slice(0, 20) });
    expect(d.end.kind === "crash" && d.end.message).toMatch(/^replay diverged: decision 10: CPU \d retired \d+ instructions, the schedule says \d+$/);
    expect(short.end).toMatchObject({ kind: "crash", reason: "replay-diverged", message: "replay diverged: the schedule ended after 20 decisions but the run did not" });
  });

  it("TLB chaos evicts only when asked, and deterministically", () => {
    const loop = `
_start: mov $2000, %ecx
1:      mov 0x200000(,%rcx,8), %rax
        dec %ecx
        jnz 1b
        xor %eax, %eax
        out %al, $0xf4
`;
    const quiet = runSource(loop);
    expect(quiet.cpus[0]!.counters.chaosEvictions).toBe(0n);
    const a = runSource(loop, { tlbChaos: 0.5, seed: 3n });
    const b = runSource(loop, { tlbChaos: 0.5, seed: 3n });
    expect(a.cpus[0]!.counters.chaosEvictions).toBeGreaterThan(100n);
    expect(b.cpus[0]!.counters).toEqual(a.cpus[0]!.counters);
    expect(a.status).toBe(0);
  });
});
