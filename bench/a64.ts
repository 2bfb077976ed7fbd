// SPDX-License-Identifier: MIT
//
// A64 guest instructions per second: a loop image (a load, five ALU
// operations, an increment and a branch per iteration) booted as `shootdown
// run` boots it, against plain WebAssembly loads in the same run; and, when
// qemu-system-aarch64 is installed, the wall time of the whole run of the
// same image (boot, loop, PSCI SYSTEM_OFF) in shootdown and in QEMU (TCG).

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Machine } from "../emulator/machine/machine.ts";
import { planArmLoad, bootArm, ARM_RAM_BASE } from "../emulator/machine/arm-boot.ts";
import { runArm } from "../emulator/machine/arm-run.ts";
import { assemble, writeElf, formatDiagnostic } from "../asm/index.ts";
import { timeBest, perSecond, type BenchOptions } from "./cli.ts";

/** The loop runs `iterations` times (8 instructions each), then powers the machine off. */
export function a64LoopSource(iterations: number): string {
  return `
        .text
        .globl _start
_start: adr     x1, table
        mov     x2, #0
        movz    x3, #${iterations & 0xffff}
        movk    x3, #${(iterations >>> 16) & 0xffff}, lsl #16
1:      ldr     x0, [x1, x2, lsl #3]
        add     x4, x4, x0
        eor     x5, x5, x4
        add     x2, x2, #1
        and     x2, x2, #63
        cmp     x5, x4
        subs    x3, x3, #1
        b.ne    1b
        movz    w0, #0x0008
        movk    w0, #0x8400, lsl #16
        hvc     #0
        .data
table:  .fill   64, 8, 3
`;
}

function image(iterations: number): Uint8Array {
  const r = assemble("aarch64", { sources: [{ path: "loop.s", text: a64LoopSource(iterations) }] });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return writeElf(r.program);
}

export function a64Suite({ scale, out }: BenchOptions): void {
  const quantum = 100_000;
  const ram = 128n << 20n;
  const instructions = Math.max(quantum, Math.round(50_000_000 * scale / quantum) * quantum);
  // An endless loop for the instruction rate (the count never reaches 0 in time).
  const m = new Machine({ arch: "aarch64", cpus: 1, ram: [{ base: ARM_RAM_BASE, size: ram }] });
  bootArm(m, planArmLoad(image(0xffff_ffff), ram), { cmdline: "" });
  const cpu = m.cpu(0);
  const host = Number(m.hw.ramHost(ARM_RAM_BASE + 0x10_0000n, 8));
  const rounds = 7;
  for (let i = 0; i < 50; i++) cpu.run(quantum);
  let guest = Infinity;
  let load = Infinity;
  for (let round = 0; round < rounds; round++) {
    load = Math.min(load, timeBest(1, instructions, () => m.hw.benchLoad(host, 6, instructions)));
    guest = Math.min(guest, timeBest(1, instructions, () => {
      for (let done = 0; done < instructions; done += quantum) {
        const exit = cpu.run(quantum);
        if (exit.reason !== "budget") throw new Error(`bench loop stopped: ${exit.reason}`);
      }
    }));
  }
  out(`a64: AArch64 ALU-and-load loop, quanta of ${quantum}, best of ${rounds} rounds`);
  out(`  plain wasm load (baseline)        ${load.toFixed(2).padStart(7)} ns  ${perSecond(load).padStart(11)}`);
  out(`  guest instructions                ${guest.toFixed(2).padStart(7)} ns  ${perSecond(guest).padStart(11)}   ${(guest / load).toFixed(1)}x plain load`);
  qemuRatio(Math.max(1000, Math.round(instructions / 8)), out);
}

/**
 * The same finite image, whole runs (boot, loop, PSCI SYSTEM_OFF): shootdown
 * in this process, QEMU as a process; best of 3 each. A one-iteration image
 * measures each side's fixed cost, so that the loop's own rate can be told
 * apart from QEMU's start-up.
 */
function qemuRatio(iterations: number, out: (line: string) => void): void {
  const probe = spawnSync("qemu-system-aarch64", ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) {
    out("  QEMU comparison skipped: qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "shootdown-bench-"));
  try {
    const [ours, qemu] = wholeRuns(dir, iterations);
    const [ours1, qemu1] = wholeRuns(dir, 1);
    const n = iterations * 8;
    const rate = (ms: number, ms1: number) => (ms > ms1 ? `${(n / (ms - ms1) / 1e3).toFixed(0)} M/s` : "too fast to tell");
    out(`  whole run, ${n} instructions: shootdown ${ours.toFixed(0)} ms, qemu-system-aarch64 (TCG) ${qemu.toFixed(0)} ms: ${(ours / qemu).toFixed(1)}x QEMU's wall time`);
    out(`  less the one-iteration run (${ours1.toFixed(0)} ms, ${qemu1.toFixed(0)} ms): shootdown ${rate(ours, ours1)}, QEMU ${rate(qemu, qemu1)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function wholeRuns(dir: string, iterations: number): [number, number] {
  const bytes = image(iterations);
  const path = join(dir, `loop-${iterations}.elf`);
  writeFileSync(path, bytes);
  let ours = Infinity;
  let qemu = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = process.hrtime.bigint();
    const r = runArm({ image: bytes, cpus: 1, memBytes: 128n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 100_000, maxSteps: undefined, tlbChaos: undefined, console: () => {} });
    ours = Math.min(ours, Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`the loop image ended with status ${r.status} in shootdown`);
    const t1 = process.hrtime.bigint();
    const q = spawnSync("qemu-system-aarch64", ["-M", "virt", "-cpu", "max", "-m", "128M", "-nographic", "-no-reboot", "-monitor", "none", "-serial", "null", "-kernel", path], { timeout: 120_000 });
    qemu = Math.min(qemu, Number(process.hrtime.bigint() - t1) / 1e6);
    if (q.status !== 0) throw new Error(`qemu-system-aarch64 ended with status ${q.status}: ${q.stderr?.toString().trim()}`);
  }
  return [ours, qemu];
}
