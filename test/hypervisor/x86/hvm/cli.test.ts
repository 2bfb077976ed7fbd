// SPDX-License-Identifier: MIT
//
// `--hvm` on the command line: wrong combinations get a clear error and the
// usage or load status (64, 2), never a stack trace; the option is recorded
// in a schedule, and a replay reproduces the run.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, shootdown, tmpFile } from "../../../helpers/run.ts";

const hello = join(ROOT, "guest", "x86_64", "hello.elf");
const armHello = join(ROOT, "guest", "aarch64", "hello.elf");

describe("--hvm refuses what it cannot run", () => {
  it.each([
    ["without --hv", [hello, "--hvm"], 64, /--hvm needs --hv/],
    ["with an AArch64 image", [armHello, "--hv", "--hvm"], 2, /--hvm runs x86-64 images as HVM domains; this one is for AArch64/],
    ["with domain 0 but not --hvm", [hello, "--hv", "--domains", "0,1"], 64, /--domains with domain 0 needs --hvm/],
    ["with domain ids that are not consecutive", [hello, "--hv", "--hvm", "--domains", "0,2"], 64, /--domains 0,2: a list must be consecutive domain ids from 0 or 1/],
    ["with a sharing option but not --hvm", [hello, "--hv", "--sharing-daemon"], 64, /--sharing-daemon needs --hv --hvm/],
    ["with a bad sharing history", [hello, "--hv", "--hvm", "--sharing-order", "random"], 64, /--sharing-order/],
    ["with more domains than the machine can hold", [hello, "--hv", "--hvm", "--domains", "4", "--dom-mem", "1G"], 2, /4 HVM domains of 1024 MiB need a machine of \d+ MiB/],
    ["with --nested", [hello, "--hv", "--hvm", "--nested"], 2, /--nested and --no-force-ipi are for x86-64 PV domains/],
    ["with --set-way", [hello, "--hv", "--hvm", "--set-way", "trap"], 2, /--set-way and --system-cache are for AArch64 images/],
    ["with a domain larger than the machine can hold", [hello, "--hv", "--hvm", "--dom-mem", "3G"], 2, /needs a machine of \d+ MiB with the EPT tables and the M2P/],
  ] as const)("%s", (_, args, status, message) => {
    const r = shootdown("run", ...args);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(status);
  });

  it("--migrate on an x86-64 PV domain is still refused (it is for AArch64 and --hvm)", () => {
    const r = shootdown("run", join(ROOT, "guest", "x86_64", "pv", "kernel.elf"), "--hv", "--migrate", "0.1");
    expect(r.stderr).toMatch(/--migrate is for AArch64 images and x86-64 --hvm domains/);
    expect(r.status).toBe(2);
  });
});

describe("--hvm in schedules", () => {
  it("is recorded, and the replay reproduces the run", () => {
    const file = tmpFile("hvm-replay.json");
    const a = shootdown("run", hello, "--hv", "--hvm", "--cpus", "2", "--vcpus", "3", "--migrate", "0.2", "--seed", "6", "--record", file);
    expect(a.status, a.stderr).toBe(0);
    const options = JSON.parse(readFileSync(file, "utf8")).options;
    expect(options.hv).toMatchObject({ hvm: true, migrate: 0.2, vcpus: 3, domMem: String(64 << 20) });
    const b = shootdown("run", hello, "--replay", file);
    expect(b.stderr).toMatch(/replay reproduced the recorded run/);
    expect(b.stdout).toBe(a.stdout);
  });

  it("is in the help, with --migrate for --hvm", () => {
    const r = shootdown("run", "--help");
    expect(r.stdout + r.stderr).toMatch(/--hvm\s+with --hv on x86-64/);
    expect(r.stdout + r.stderr).toMatch(/--migrate RATE\s+with --hv on AArch64 or --hvm/);
  });
});
