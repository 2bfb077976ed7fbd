// SPDX-License-Identifier: MIT
//
// shootdown against QEMU: the wall time of a whole run (boot, the loop,
// PSCI SYSTEM_OFF) of one A64 image, the loop of bench/cpu.ts made finite,
// in shootdown (in this process) and in qemu-system-aarch64 (TCG, as a
// process), when QEMU is installed. The instruction rate itself is in
// bench/cpu.ts.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runArm } from "../emulator/run.ts";
import { assemble, writeElf, formatDiagnostic } from "../asm/index.ts";
import type { BenchOptions } from "./cli.ts";
import { A64_LOOP_SOURCE } from "./cpu.ts";

/**
 * bench/cpu.ts's A64 loop, run `iterations` times (8 instructions each)
 * instead of for ever, then powering the machine off with PSCI SYSTEM_OFF.
 */
export function a64LoopSource(iterations: number): string {
  const count = `movz    x3, #${iterations & 0xffff}\n        movk    x3, #${(iterations >>> 16) & 0xffff}, lsl #16`;
  const off = "movz    w0, #0x0008\n        movk    w0, #0x8400, lsl #16\n        hvc     #0";
  const source = A64_LOOP_SOURCE.replace("mov     x3, #-1", count).replace("hvc     #0", off);
  if (!source.includes("movk    x3") || !source.includes("movk    w0")) throw new Error("bench/cpu.ts's A64 loop changed: update a64LoopSource");
  return source;
}

function image(iterations: number): Uint8Array {
  const r = assemble("aarch64", { sources: [{ path: "loop.s", text: a64LoopSource(iterations) }] });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return writeElf(r.program);
}

export function qemuSuite({ scale, out }: BenchOptions): void {
  const iterations = Math.max(1000, Math.round(10_000_000 * scale));
  out(`qemu: the A64 loop image, ${iterations} iterations then PSCI SYSTEM_OFF, whole runs, best of 3`);
  qemuRatio(iterations, out);
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
