// SPDX-License-Identifier: MIT
//
// The run engine: one loop for `shootdown run` and the debugger, the exit
// chain, and continuations (resumable exit handlers) interleaved with guest
// instructions on other CPUs, recorded and replayed exactly.

import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { Engine } from "../../emulator/machine/core/engine.ts";
import { reportOf } from "../../emulator/machine/core/report.ts";
import type { RecordedOptions } from "../../emulator/machine/core/schedule-file.ts";
import { packSteps, type Step } from "../../emulator/machine/core/scheduler.ts";
import type { ExitHandler, Handled } from "../../emulator/machine/core/exits.ts";
import { bootPlatform, runImage } from "../../emulator/run.ts";
import { Session } from "../../emulator/debug/session.ts";
import { makeTarget } from "../../emulator/debug/targets.ts";
import type { X86Cpu, X86Exit } from "../../emulator/machine/cpu/x86-cpu.ts";
import { image, ROOT } from "../helpers/run.ts";

const options = (o: Partial<RecordedOptions> = {}): RecordedOptions => ({
  cpus: 4, memBytes: 64n << 20n, cmdline: "", mode: "random", seed: 3n, quantum: 40, maxSteps: undefined, tlbChaos: undefined, ...o,
});

describe("one engine for shootdown run and the debugger", () => {
  const images = [
    { arch: "x86_64", path: join(ROOT, "guest", "x86_64", "hello.elf"), mem: 64n << 20n },
    { arch: "aarch64", path: join(ROOT, "guest", "aarch64", "hello.elf"), mem: 128n << 20n },
  ];
  it.each(images)("the same seeded schedule through run and through the debugger reaches the same state hash ($arch)", ({ path, mem }) => {
    const img = readFileSync(path);
    const o = options({ memBytes: mem });
    const run = runImage({ ...o, image: img, console: () => {}, record: true });
    expect(run.status).toBe(0);
    // The debugger runs with the missing-invalidation detector on: the hash covers architectural state and RAM only.
    const session = new Session({ image: img, options: o, makeTarget });
    expect(session.resume().kind).toBe("end");
    expect(session.endedWith?.status).toBe(0);
    expect(session.target.stateHash()).toBe(run.stateHash);
    expect(packSteps(session.schedule)).toEqual(packSteps(run.schedule!));
    // And the recorded schedule replayed in the debugger.
    const replay = new Session({ image: img, options: o, makeTarget, replay: packSteps(run.schedule!), recorded: { status: run.status, stateHash: run.stateHash } });
    expect(replay.resume().kind).toBe("end");
    expect(replay.replayVerdict()).toMatch(/^the replay reproduced the recorded run/);
  });
});

// Every CPU makes three VMCALLs, each of which a test-only handler answers
// with a continuation that yields three times, adding 1 to RAX at each step;
// the last CPU to finish reports the sum of the RAXes to the debug-exit port
// (success when it is 4 CPUs × 3 calls × 3 steps = 36).
const GUEST = `
_start:
  xor %eax, %eax
  mov $3, %ecx
1:
  vmcall
  dec %ecx
  jnz 1b
  lock addq %rax, total(%rip)
  mov $1, %edx
  lock xaddq %rdx, finished(%rip)
  cmp $3, %rdx
  jne 2f
  mov total(%rip), %rax
  sub $36, %rax
  mov $0xf4, %dx
  out %eax, %dx
2:
  cli
  hlt
  jmp 2b
.balign 8
total: .quad 0
finished: .quad 0
`;

/** The test's hypervisor: VMCALL becomes three resumable steps, then a return past the VMCALL. */
class ThreeStepHypercall implements ExitHandler<X86Cpu, X86Exit> {
  readonly name = "test hypervisor";
  calls = 0;
  steps = 0;

  handle(cpu: X86Cpu, exit: X86Exit): Handled | undefined {
    if (exit.reason !== "vmcall") return undefined;
    this.calls++;
    const self = this;
    const rip = exit.rip;
    return {
      kind: "continue",
      routine: (function* () {
        for (let i = 0; i < 3; i++) {
          yield { what: `hypercall step ${i}` };
          self.steps++;
          cpu.setState({ rax: cpu.state.rax + 1n });
        }
        // VMCALL is 3 bytes (0f 01 c1).
        cpu.setState({ rip: rip + 3n });
        return { kind: "done" } as Handled;
      })(),
    };
  }
}

function engine(img: Uint8Array, o: RecordedOptions, replay?: Step[]) {
  const hv = new ThreeStepHypercall();
  const e = new Engine({
    options: o, console: () => {},
    ...(replay ? { replay: packSteps(replay) } : {}),
    build: (opts, console) => {
      const p = bootPlatform(img, opts, console);
      p.attach(hv as unknown as ExitHandler<never, never>);
      return p;
    },
  });
  return { e, hv };
}

describe("continuations", () => {
  const img = image(GUEST);

  it("interleave hypervisor steps with guest instructions on other CPUs, and replay exactly", () => {
    const o = options({ quantum: 3 });
    const { e, hv } = engine(img, o);
    const end = e.runToEnd();
    expect(end).toEqual({ kind: "debug-exit", code: 0n, cpu: expect.any(Number) });
    expect(hv.calls).toBe(12);
    expect(hv.steps).toBe(36);
    const log = e.schedule;
    const hvSteps = log.filter((s) => s[1] === "hv");
    // Three yields and the return: four decisions per call.
    expect(hvSteps).toHaveLength(48);
    // While CPU c is in the hypervisor, other CPUs run guest instructions between its steps.
    const first = log.findIndex((s) => s[1] === "hv");
    const c = log[first]![0];
    const between = log.slice(first, log.findIndex((s, i) => i > first && s[0] === c && s[1] === "hv"));
    expect(between.some((s) => s[0] !== c && s[1] !== "hv")).toBe(true);
    // No guest instruction of CPU c between the exit and the end of its continuation.
    let inHv = false;
    let count = 0;
    for (const s of log.filter((x) => x[0] === c)) {
      if (s[1] === "hv") {
        inHv = ++count % 4 !== 0;
      } else {
        expect(inHv).toBe(false);
      }
    }
    const report = reportOf(e, img, true);
    expect(report.hypervisorSteps).toBe(48n);

    // The recorded schedule replays: the same decisions, the same state.
    const again = engine(img, o, [...log]);
    expect(again.e.runToEnd()).toEqual(end);
    expect(again.e.platform.stateHash()).toBe(e.platform.stateHash());
    expect(again.e.schedule).toEqual(log);
    expect(again.e.mode).toBe("replay");

    // A schedule that steps a continuation the CPU does not have is a divergence.
    const bad = [...log];
    const k = bad.findIndex((s) => s[1] !== "hv");
    bad[k] = [bad[k]![0], "hv"];
    const d = engine(img, o, bad).e.runToEnd();
    expect(d).toMatchObject({ kind: "crash", reason: "replay-diverged" });
    expect(d.kind === "crash" && d.message).toMatch(/steps CPU \d's continuation, and it has none/);
  });

  it("a continuation handed over with its first step taken (Handled.first) runs as the whole one does", () => {
    // The handler runs the routine up to its first yield itself; the engine's
    // first step of it takes that label without resuming the routine.
    class Primed extends ThreeStepHypercall {
      override handle(cpu: X86Cpu, exit: X86Exit): Handled | undefined {
        const h = super.handle(cpu, exit);
        if (h?.kind !== "continue") return h;
        const first = h.routine.next();
        if (first.done) throw new Error("the test's routine has steps");
        return { ...h, first: first.value };
      }
    }
    const o = options({ quantum: 3, seed: 7n });
    const whole = engine(img, o);
    const primed = new Primed();
    const e = new Engine({
      options: o, console: () => {},
      build: (opts, console) => {
        const p = bootPlatform(img, opts, console);
        p.attach(primed as unknown as ExitHandler<never, never>);
        return p;
      },
    });
    expect(e.runToEnd()).toEqual(whole.e.runToEnd());
    expect(e.schedule).toEqual(whole.e.schedule);
    expect(e.platform.stateHash()).toBe(whole.e.platform.stateHash());
    expect(primed.steps).toBe(36);
  });

  it("another seed, another interleaving of the steps; the same result", () => {
    const a = engine(img, options({ quantum: 3, seed: 1n }));
    const b = engine(img, options({ quantum: 3, seed: 2n }));
    expect(a.e.runToEnd()).toMatchObject({ kind: "debug-exit", code: 0n });
    expect(b.e.runToEnd()).toMatchObject({ kind: "debug-exit", code: 0n });
    expect(packSteps(a.e.schedule)).not.toEqual(packSteps(b.e.schedule));
  });

  it("a continuation that only waits is no progress: every CPU waiting is a deadlock", () => {
    const e = new Engine({
      options: options({ cpus: 1, mode: "round-robin" }), console: () => {},
      build: (opts, console) => {
        const p = bootPlatform(img, opts, console);
        p.attach({
          name: "waits for ever",
          handle: () => ({ kind: "continue", routine: (function* () { for (;;) yield { what: "wait for an acknowledgement", wait: true }; })() }),
        } as unknown as ExitHandler<never, never>);
        return p;
      },
    });
    expect(e.runToEnd()).toMatchObject({ kind: "crash", reason: "deadlock" });
  });

  it("a step that does work and then announces a wait is progress: a handshake between two waiting CPUs is no deadlock", () => {
    // CPU 0 waits for flag1, then sets flag2. CPU 1 sets flag1 and, in the
    // same step, starts waiting for flag2. Counting a CPU idle from the wait
    // it announces would call this a deadlock the moment CPU 1 set flag1.
    const flags = { one: false, two: false };
    const first = new Set<number>();
    const e = new Engine({
      options: options({ cpus: 4, mode: "round-robin" }), console: () => {},
      build: (opts, console) => {
        const p = bootPlatform(img, opts, console);
        p.attach({
          name: "handshake",
          handle: (cpu: X86Cpu, exit: X86Exit): Handled | undefined => {
            if (exit.reason !== "vmcall") return undefined;
            cpu.setState({ rip: cpu.state.rip + 3n });
            if (first.has(cpu.index) || cpu.index > 1) return { kind: "done" };
            first.add(cpu.index);
            const a = function* () {
              while (!flags.one) yield { what: "wait for flag1", wait: true };
              flags.two = true;
              return { kind: "done" } as Handled;
            };
            const b = function* () {
              yield { what: "set flag1" };
              flags.one = true;
              while (!flags.two) yield { what: "wait for flag2", wait: true };
              return { kind: "done" } as Handled;
            };
            return { kind: "continue", routine: cpu.index === 0 ? a() : b() };
          },
        } as unknown as ExitHandler<never, never>);
        return p;
      },
    });
    expect(e.runToEnd()).toMatchObject({ kind: "debug-exit" });
    expect(flags).toEqual({ one: true, two: true });
  });

  it("a bug in a handler ends the run with one line, never a stack", () => {
    const e = new Engine({
      options: options({ cpus: 1, mode: "round-robin" }), console: () => {},
      build: (opts, console) => {
        const p = bootPlatform(img, opts, console);
        p.attach({ name: "broken", handle: () => { throw new TypeError("oops"); } } as unknown as ExitHandler<never, never>);
        return p;
      },
    });
    expect(e.runToEnd()).toMatchObject({ kind: "crash", reason: "emulator-error", message: "emulator error (a bug in shootdown): oops" });
  });
});
