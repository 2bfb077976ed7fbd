// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE --hv --hvm` runs every bare x86-64 image unchanged:
// guest/x86_64/*.elf, the GCC-built examples (guest/c/x86_64, built with
// make when gcc is there) and the prebuilt C corpus print the same console,
// byte for byte, and end with the same exit status as on the bare machine,
// with as many vCPUs as pCPUs, with more vCPUs than pCPUs, and with
// --migrate 0.05 over several seeds.

import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { shootdown, stats, ROOT } from "../../../helpers/run.ts";
import { buildExample, compilerAvailable, COMPILERS, PREBUILT_DIR } from "../../../guest/c/build.mjs";

/** A bare run with n CPUs: the console and the status every HVM run must match. */
function bare(elf: string, n: number) {
  const r = shootdown("run", elf, "--cpus", String(n));
  return { stdout: r.stdout, status: r.status };
}

const CONFIGS: [string, string[]][] = [
  ["--cpus 4", ["--cpus", "4"]],
  ["--cpus 2 --vcpus 4", ["--cpus", "2", "--vcpus", "4"]],
  ["--cpus 1 --vcpus 4 --seed 7", ["--cpus", "1", "--vcpus", "4", "--seed", "7"]],
  ...[1, 2, 3].map((s): [string, string[]] => [`--cpus 3 --vcpus 4 --migrate 0.05 --seed ${s}`, ["--cpus", "3", "--vcpus", "4", "--migrate", "0.05", "--seed", `${s}`]]),
];

function sameAsBare(elf: string, configs = CONFIGS) {
  const expected = bare(elf, 4);
  expect(expected.status).toBe(0);
  for (const [name, args] of configs) {
    const r = shootdown("run", elf, "--hv", "--hvm", ...args, "--stats");
    expect(r.stdout, `${elf} ${name}: ${r.stderr}`).toBe(expected.stdout);
    expect(r.status, `${elf} ${name}`).toBe(expected.status);
    const s = stats(r);
    expect(s.hypervisor.hvm).toBe(true);
    expect(s.hypervisor.domains[0].vcpus).toBe(4);
  }
}

describe("guest/x86_64 images under --hv --hvm print what they print bare", () => {
  it.each(["hello", "lost-update"])("%s.elf", (name) => {
    sameAsBare(join(ROOT, "guest", "x86_64", `${name}.elf`));
  });

  it("hello.elf with --migrate 0.05 does migrate vCPUs (the option acts)", () => {
    const s = stats(shootdown("run", join(ROOT, "guest", "x86_64", "hello.elf"), "--hv", "--hvm", "--cpus", "2", "--vcpus", "4", "--migrate", "0.3", "--seed", "1", "--stats"));
    expect(s.status).toBe(0);
    expect(s.hypervisor.migrations).toBeGreaterThan(0);
  });
});

const gcc = compilerAvailable("x86_64");
if (!gcc) console.warn(`HVM: ${COMPILERS.x86_64} (or make) is not installed; skipping the GCC-built x86-64 examples`);

describe(`the GCC-built guest/c/x86_64 examples under --hv --hvm${gcc ? "" : ` (skipped: ${COMPILERS.x86_64} is not installed)`}`, () => {
  it.skipIf(!gcc).each(["hello", "paging", "smp"])("%s", (name) => {
    sameAsBare(buildExample("x86_64", name), CONFIGS.filter((_, i) => i !== 2));
  });
});

describe("the prebuilt C corpus (x86-64, -O2) under --hv --hvm", () => {
  const elfs = readdirSync(PREBUILT_DIR).filter((f) => f.endsWith("-x86_64-O2.elf"));
  it("has images to run", () => expect(elfs.length).toBeGreaterThan(0));
  it.each(elfs)("%s", (f) => {
    sameAsBare(join(PREBUILT_DIR, f), [CONFIGS[1]!, CONFIGS[3]!]);
  });
});
