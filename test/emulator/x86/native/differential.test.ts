// SPDX-License-Identifier: MIT
//
// The interpreter's non-privileged integer instructions against the host
// processor: random sequences (generate.ts) run natively by harness.c and
// by the interpreter, from the same registers, flags and scratch memory, at
// the same addresses; every GPR, every flag the SDM defines at the end, the
// scratch memory, and the exception (if any) must agree. When they do not,
// the interpreter is wrong: the message gives the seed and the case's
// source. SHOOTDOWN_X86_SEED=<n> runs other seeds.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assemble, formatDiagnostic } from "../../../../asm/index.ts";
import { GPR_NAMES } from "../../../../emulator/machine/cpu/x86-cpu.ts";
import { CODE_BASE, CODE_SIZE, COMPARED_FLAGS, SCRATCH_BASE, flagNames, generateBatch, type TestCase } from "./generate.ts";
import { buildHarness, hostCanRunHarness, type CaseInput, type CaseOutcome, type Harness } from "./native.ts";
import { InterpreterRig } from "./interpreter.ts";

const BATCHES = 10;
const CASES_PER_BATCH = 1000;
const BASE_SEED = Number(process.env.SHOOTDOWN_X86_SEED ?? 0x5eed_0001);
/** Failing cases shown in full in a failure message. */
const SHOWN = 4;

const available = hostCanRunHarness();

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** The differences between the host's outcome and the interpreter's, with the flags undefined at the end masked. */
function differences(c: TestCase, addresses: Map<string, bigint>, host: CaseOutcome, emu: CaseOutcome): string[] {
  const out: string[] = [];
  // The generator only lets a division fault (#DE); anything else is a case outside its rules.
  if (host.vector !== undefined && host.vector !== 0) out.push(`the host raised vector ${host.vector}: the case breaks generate.ts's rules`);
  if (host.vector !== emu.vector) out.push(`exception: host ${host.vector ?? "none"}, interpreter ${emu.vector ?? "none"}`);
  if (host.rip !== emu.rip) out.push(`rip: host ${hex(host.rip)}, interpreter ${hex(emu.rip)}`);
  GPR_NAMES.forEach((name, i) => {
    if (host.gpr[i] !== emu.gpr[i]) out.push(`${name}: host ${hex(host.gpr[i]!)}, interpreter ${hex(emu.gpr[i]!)}`);
  });
  // After a fault, the flags are those before the faulting instruction.
  let undefinedFlags = c.undefinedAtEnd;
  if (host.vector !== undefined) {
    const faulting = c.instructions.find((i) => addresses.get(i.label) === host.rip);
    undefinedFlags = faulting ? faulting.undefinedBefore : 0xfff;
  }
  const mask = BigInt(COMPARED_FLAGS & ~undefinedFlags);
  const diff = Number((host.rflags ^ emu.rflags) & mask);
  if (diff) {
    out.push(`flags ${flagNames(diff)}: host ${hex(host.rflags & mask)}, interpreter ${hex(emu.rflags & mask)} (compared: ${flagNames(Number(mask))})`);
  }
  const offsets = new Set([...host.changed.keys(), ...emu.changed.keys()]);
  for (const off of [...offsets].sort((a, b) => a - b)) {
    const h = host.changed.get(off);
    const e = emu.changed.get(off);
    if (h !== e) {
      out.push(`memory ${hex(SCRATCH_BASE + BigInt(off))}: host ${h === undefined ? "unchanged" : hex(h)}, interpreter ${e === undefined ? "unchanged" : hex(e)}`);
    }
  }
  return out;
}

function describeCase(seed: number, c: TestCase, input: CaseInput, diffs: string[]): string {
  const regs = GPR_NAMES.map((n, i) => `${n}=${hex(input.gpr[i]!)}`).join(" ");
  return [
    `seed ${seed}, case ${c.id}:`,
    ...c.instructions.map((i) => `    ${i.text}`),
    `  initial: ${regs} rflags=${hex(input.rflags)} scratch seed ${input.scratchSeed}`,
    ...diffs.map((d) => `  ${d}`),
  ].join("\n");
}

describe("x86-64 integer instructions against the host processor", () => {
  let harness: Harness | undefined;
  let rig: InterpreterRig | undefined;
  beforeAll(() => {
    if (!available) return;
    harness = buildHarness();
    rig = new InterpreterRig();
  });
  afterAll(() => harness?.dispose());

  for (let batch = 0; batch < BATCHES; batch++) {
    const seed = (BASE_SEED + batch) >>> 0;
    it.skipIf(!available)(
      `${CASES_PER_BATCH} random sequences agree on every GPR, defined flag and byte of memory (seed ${seed}; skipped without gcc on x86-64 Linux)`,
      () => {
        const { source, cases } = generateBatch(seed, CASES_PER_BATCH);
        const r = assemble("x86_64", {
          sources: [{ path: `seed-${seed}.s`, text: source }],
          sectionStarts: new Map([[".text", CODE_BASE], [".data", SCRATCH_BASE]]),
        });
        if (!r.program) throw new Error(`seed ${seed}: ${r.diagnostics.map(formatDiagnostic).join("\n")}`);
        const text = r.program.sections.find((s) => s.name === ".text")!;
        expect(text.address).toBe(CODE_BASE);
        expect(text.bytes.length).toBeLessThanOrEqual(CODE_SIZE);
        const addresses = new Map(r.program.symbols.map((s) => [s.name, s.value]));
        const inputs: CaseInput[] = cases.map((c) => ({ gpr: c.gpr, rflags: c.rflags, rip: addresses.get(c.entry)!, scratchSeed: c.scratchSeed }));

        const host = harness!.run(text.bytes, inputs);
        rig!.loadCode(text.bytes);
        const failures: string[] = [];
        let failing = 0;
        cases.forEach((c, i) => {
          const diffs = differences(c, addresses, host[i]!, rig!.run(inputs[i]!));
          if (!diffs.length) return;
          failing++;
          if (failures.length < SHOWN) failures.push(describeCase(seed, c, inputs[i]!, diffs));
        });
        expect(failing, `${failing} of ${cases.length} cases disagree:\n\n${failures.join("\n\n")}\n`).toBe(0);
      },
    );
  }
});
