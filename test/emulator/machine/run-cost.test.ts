// SPDX-License-Identifier: MIT
//
// What makes a short run cheap must not change what a run reports: RAM added
// again after it was used reads as zero (only fresh memory skips the
// zeroing), and a state hash computed on demand equals the eager one.

import { describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/core/machine.ts";
import { runArm } from "../../../emulator/run.ts";
import { assemble, writeElf, formatDiagnostic } from "../../../asm/index.ts";
import { a64LoopSource } from "../../../bench/qemu.ts";

describe("the cost of a run", () => {
  it("RAM added again after use reads as zero; fresh RAM too", () => {
    const m = new Machine({ cpus: 1, ram: [{ base: 0n, size: 1n << 20n }] });
    m.memory.write64(0x8000n, 0x1234n);
    m.setMaxPhysAddr(40);
    m.memory.addRange({ base: 0n, size: 1n << 20n });
    m.memory.addRange({ base: 1n << 30n, size: 4n << 20n });
    expect(m.memory.read64(0x8000n)).toBe(0n);
    expect(m.memory.read64((1n << 30n) + 0x3f_fff8n)).toBe(0n);
  });

  it("a state hash on demand is the eager one", () => {
    const r = assemble("aarch64", { sources: [{ path: "loop.s", text: a64LoopSource(100) }] });
    if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
    const image = writeElf(r.program);
    const config = {
      image, cpus: 2, memBytes: 16n << 20n, cmdline: "", mode: "round-robin" as const, seed: undefined, quantum: 1000,
      maxSteps: undefined, tlbChaos: undefined, console: () => {},
    };
    const eager = runArm(config);
    const lazy = runArm({ ...config, stateHash: "on-demand" });
    expect(eager.status).toBe(0);
    expect(lazy.stateHash).toBe(eager.stateHash);
    expect({ ...lazy }).toMatchObject({ stateHash: eager.stateHash, steps: eager.steps });
  });
});
