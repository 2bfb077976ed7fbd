// SPDX-License-Identifier: MIT
//
// Memory sharing from the command line: `explore` with the sharing daemon
// finds each history's hazard in the first runs that share (the 2018 debug
// check with the generic lock, the out-of-MFN-order page lock, the
// self-deadlock of dropping references before unlocking), each replaying to
// the same report at the same step, and nothing with today's defaults; the
// REPL's `shared` and `frame` show share state and lock holders.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CLI, ROOT, shootdown, tmpFile } from "../../../helpers/run.ts";

const hello = join(ROOT, "guest", "x86_64", "hello.elf");
const MACHINE = ["--hv", "--hvm", "--cpus", "2", "--domains", "2", "--mem", "8M", "--dom-mem", "8M", "--sharing-daemon"];

function explore(runs: number, history: string[]) {
  const schedule = tmpFile("sharing-explore.json");
  const r = shootdown("explore", hello, ...MACHINE, ...history, "--runs", String(runs), "--jobs", "1", "--json", "--out-schedule", schedule);
  const summary = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, any>;
  return { status: r.status, summary, schedule, stderr: r.stderr };
}

describe("explore with the sharing daemon", () => {
  it.each([
    ["--sharing-lock generic --page-lock-check: the 2018 check trips at the first share (two page locks on one pCPU)",
      ["--sharing-lock", "generic", "--page-lock-check"], /takes the page lock of MFN 0x[0-9a-f]+ while it holds MFN 0x[0-9a-f]+'s \(--page-lock-check: a CPU holds at most one page lock, Xen cf4b30dca0\)/],
    ["--sharing-order unordered: a share takes its second page lock out of MFN order (an ABBA deadlock with a CPU locking the other way round)",
      ["--sharing-order", "unordered"], /out of MFN order, an ABBA deadlock with any CPU that locks the two the other way round/],
    ["--sharing-release before-unlock: the self-deadlock in _put_page_type on a page the pCPU holds locked",
      ["--sharing-release", "before-unlock"], /spins in _put_page_type on MFN 0x[0-9a-f]+ until its page lock is released, and pCPU \d holds that lock itself/],
  ] as const)("%s, and the schedule replays to it", (_, history, report) => {
    const r = explore(20, [...history]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.summary.failures.total).toBeGreaterThan(0);
    const first = r.summary.firstFailure;
    expect(first.kind).toBe("violation");
    expect(first.message).toMatch(report);
    const replay = shootdown("run", hello, "--replay", r.schedule);
    expect(replay.status).toBe(4);
    expect(replay.stdout + replay.stderr).toMatch(report);
    const step = /at step (\d+)/.exec(first.message)?.[1];
    expect(step).toBeDefined();
    expect(replay.stdout + replay.stderr).toContain(`at step ${step}`);
  });

  it("today's Xen (private lock, MFN order, references dropped after unlocking): 30 runs, no report, every share counted", () => {
    const r = explore(30, []);
    expect(r.summary.runs).toBe(30);
    expect(r.summary.failures.total, JSON.stringify(r.summary.firstFailure)).toBe(0);
    expect(r.status).toBe(0);
    const run = shootdown("run", hello, ...MACHINE, "--seed", "3", "--json");
    const s = JSON.parse(run.stdout);
    expect(s.hypervisor.sharing.shared).toBeGreaterThan(0);
    expect(s.hypervisor.lockViolations).toBe(0);
  });
});

describe("the REPL on shared frames", () => {
  it("`shared` lists the shared frames; `shared MFN` names the sharers and their read-only EPT entries; `frame MFN` the share state", () => {
    const repl = (lines: string[]) =>
      spawnSync(process.execPath, [CLI, "repl", hello, ...MACHINE], { input: `${lines.join("\n")}\nquit\n`, encoding: "utf8", cwd: ROOT, timeout: 60_000 }).stdout;
    const list = repl(["goto 3000000", "shared"]);
    const mfn = /  MFN (0x[0-9a-f]+): handle \d+; d1:(0x[0-9a-f]+) d2:\2; page lock free/.exec(list) ?? /  MFN (0x[0-9a-f]+): handle \d+; d2:(0x[0-9a-f]+) d1:\2; page lock free/.exec(list);
    expect(list).toMatch(/\d+ shared frames?, \d+ frames? saved/);
    expect(mfn, list).not.toBeNull();
    const out = repl(["goto 3000000", `shared ${mfn![1]}`, `frame ${mfn![1]}`, "shared 0x100", "frame 0x1"]);
    expect(out).toMatch(new RegExp(`MFN ${mfn![1]}: handle \\d+, owner dom_cow, type count 2, count 3; page lock free`));
    expect(out).toMatch(new RegExp(`  d1 gfn ${mfn![2]}: EPT ${mfn![1]} ram_shared read-only, d1's p2m lock free`));
    expect(out).toMatch(new RegExp(`MFN ${mfn![1]}: owner dom_cow, PFN SHARED_M2P_ENTRY\\n  type shared, type count 2, count 3, allocated validated; page lock free\\n  shared: handle \\d+, 2 sharers\\n  mapped by the EPT of d\\d gfn ${mfn![2]}, d\\d gfn ${mfn![2]}`));
    expect(out).toMatch(/MFN 0x100 is not a shared frame \(shared lists them\)/);
    expect(out).toMatch(/MFN 0x1 is not a frame the hypervisor manages/);
  });

  it("`shared` on a PV or bare machine says what it is for", () => {
    const pv = spawnSync(process.execPath, [CLI, "repl", join(ROOT, "guest", "x86_64", "pv", "kernel.elf"), "--hv"], { input: "shared\nquit\n", encoding: "utf8", cwd: ROOT, timeout: 60_000 });
    expect(pv.stdout + pv.stderr).toMatch(/shared: memory sharing is between HVM domains \(--hv --hvm\)/);
    const bare = spawnSync(process.execPath, [CLI, "repl", hello], { input: "shared\nquit\n", encoding: "utf8", cwd: ROOT, timeout: 60_000 });
    expect(bare.stdout + bare.stderr).toMatch(/shared: the machine runs no hypervisor/);
  });
});
