// SPDX-License-Identifier: MIT
//
// A recorded run under a hypervisor replays in the debugger with a
// watchpoint set and with goto back and forth: those split decisions into
// pieces, and a hypervisor decides time slices, timers and its daemon only
// at the end of a decision (Engine.runOnce), so the pieces run as the whole
// decision did. Before, the end of every piece reached the hypervisor as a
// budget end and the replay diverged.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT, shootdown, tmpFile } from "../../helpers/run.ts";

const cases: [string, string, string[]][] = [
  ["an HVM domain with more vCPUs than pCPUs", "hello.elf", ["--hv", "--hvm", "--cpus", "2", "--vcpus", "3", "--seed", "3"]],
  ["PV domains", join("pv", "kernel.elf"), ["--hv", "--cpus", "2", "--seed", "3"]],
];

describe("replaying a hypervisor's run in the debugger, decisions split into pieces", () => {
  it.each(cases)("%s: a watchpoint and goto back and forth, and the replay still reproduces the recorded run", (_, image, options) => {
    const path = join(ROOT, "guest", "x86_64", image);
    const schedule = tmpFile("hv-pieces.json");
    expect(shootdown("run", path, ...options, "--record", schedule).status).toBe(0);
    const r = spawnSync(process.execPath, [CLI, "repl", path, ...options], {
      input: `replay ${schedule}\nwatch 0x300000\ncontinue\ngoto 100000\ngoto 50000\ncontinue\nquit\n`, encoding: "utf8", cwd: ROOT, timeout: 120_000,
    });
    expect(r.stdout + r.stderr).not.toMatch(/diverged/);
    expect(r.stdout).toMatch(/the replay reproduced the recorded run/);
  });
});
