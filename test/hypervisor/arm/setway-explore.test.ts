// SPDX-License-Identifier: MIT
//
// guest/aarch64/setway under `--hv` with the set/way policy that lets it
// fail (passthrough, Xen before f253e88bec): sanitizer event (a) of
// mechanisms §4.6 named by IPA through the p2m, the explore commands of
// issue 15 finding the stale read with the system cache and without it
// (where only a migration in the middle of the set/way loop can cause it),
// and the failing schedule replaying to the very step of the stale read.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { shootdown, tmpFile } from "../../helpers/run.ts";

const IMAGE = "guest/aarch64/setway.elf";
const HV = ["--hv", "--cpus", "2", "--vcpus", "2", "--migrate", "0.05"];
/** PCT as explore runs it, with the horizon given (a measured one is the same for every seed). */
const PCT = ["--strategy", "pct", "--depth", "3", "--horizon", "20000"];

describe("sanitizer event (a) under --hv (a non-cacheable read older than a cache's copy)", () => {
  it("with the system cache: status 4, naming the IPA, the machine address the p2m maps it to, and the holder", () => {
    const r = shootdown("run", IMAGE, ...HV, "--set-way", "passthrough", "--check-stale-reads", "--", "rounds=1");
    const m = /^result: sanitizer violation \(status 4\) at step \d+: CPU \d read 8 bytes at VA 0x([0-9a-f]+) \(IPA 0x([0-9a-f]+), machine address 0x([0-9a-f]+)\) with a non-cacheable access and got 0x0 from RAM; the latest value written there, 0x[0-9a-f]+, is in the system cache \(exit status 4\)$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    // The guest maps its RAM identity, so its VA is the IPA; the p2m never maps a GFN to the frame of the same number.
    expect(m![2]).toBe(m![1]);
    expect(BigInt(`0x${m![3]}`) >> 12n).not.toBe(BigInt(`0x${m![2]}`) >> 12n);
    expect(BigInt(`0x${m![3]}`) & 0xfffn).toBe(BigInt(`0x${m![2]}`) & 0xfffn);
    expect(r.status).toBe(4);
  });

  it("is off unless asked: the guest's own check fails the same run with status 1", () => {
    const r = shootdown("run", IMAGE, ...HV, "--set-way", "passthrough", "--", "rounds=1");
    expect(r.stderr).toMatch(/^sanitizer violations: 0$/m);
    expect(r.stdout).toMatch(/^setway: FAILED: /m);
    expect(r.status).toBe(1);
  });

  it("trapped set/way (Xen's emulation) cleans what the system cache holds: no stale read", () => {
    const r = shootdown("run", IMAGE, ...HV, "--set-way", "trap", "--check-stale-reads", "--keep-going", "--", "rounds=2");
    expect(r.stderr).not.toMatch(/non-cacheable access/);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe("explore finds the stale read of a passthrough set/way loop (issue 15)", () => {
  it.each([["on"], ["off"]])("the issue's command with the system cache %s, the horizon measured (status 1 from the guest)", (cache) => {
    const out = tmpFile(`explore-setway-pass-${cache}.json`);
    const ex = shootdown("explore", IMAGE, ...HV, "--set-way", "passthrough", "--system-cache", cache, "--runs", "2000", "--jobs", "1", "--out-schedule", out);
    const text = ex.stdout + ex.stderr;
    expect(text).toMatch(/first failure: seed \d+: system-reset: CPU \d called PSCI SYSTEM_RESET: guest-reported failure/);
    // With the system cache every run fails: the first seed does.
    if (cache === "on") expect(text).toMatch(/first failure: seed 0:/);
    expect(ex.status).toBe(1);
  });

  it("without it, only a migration in the middle of the set/way loop leaves the latest copy in the L1 of the pCPU left behind; the schedule replays to the same step", () => {
    const out = tmpFile("explore-setway-pass-off.json");
    const ex = shootdown("explore", IMAGE, ...HV, "--set-way", "passthrough", "--system-cache", "off", "--check-stale-reads",
      "--horizon", "20000", "--runs", "2000", "--jobs", "1", "--out-schedule", out);
    const text = ex.stdout + ex.stderr;
    const m = /first failure: seed (\d+): violation: sanitizer violation at step (\d+): CPU (\d) read 8 bytes at VA 0x[0-9a-f]+ \(IPA 0x[0-9a-f]+, machine address 0x[0-9a-f]+\) with a non-cacheable access and got 0x[0-9a-f]+ from RAM; the latest value written there, 0x[0-9a-f]+, is in CPU (\d)'s L1 \(dirty\)/.exec(text);
    expect(m, text).not.toBeNull();
    // The copy sits in the other pCPU's L1: the vCPU's loop cleaned the L1 of the pCPU it ended on, not the one it left.
    expect(m![4]).not.toBe(m![3]);
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(out, "utf8")).options.systemCache).toBe(false);
    const rep = shootdown("run", IMAGE, "--replay", out);
    expect(rep.stderr).toContain(`sanitizer violation (status 4) at step ${m![2]}: CPU ${m![3]} read 8 bytes`);
    expect(rep.status).toBe(4);
    // The rerun command explore prints makes the same run again.
    const rerun = /^ {2}shootdown run (.*--seed \d+.*)$/m.exec(text)?.[1];
    expect(rerun).toBeDefined();
    const again = shootdown("run", ...rerun!.split(" "));
    expect(again.stderr).toContain(`at step ${m![2]}:`);
  });

  it("the same seeds with the set/way operations trapped read nothing stale", () => {
    const r = shootdown("run", IMAGE, ...HV, "--set-way", "trap", "--system-cache", "off", ...PCT, "--seed", "32", "--check-stale-reads");
    expect(r.stderr).not.toMatch(/non-cacheable access/);
    expect(r.stdout).toMatch(/^setway: passed: 4 rounds on 2 CPUs/m);
    expect(r.status, r.stderr).toBe(0);
  });
});

describe("trapped set/way with every vCPU in its power-down sequence at once (hypervisor/README.md)", () => {
  // trap-xen: p2m_invalidate_root clears the whole domain's valid bits at the end of one vCPU's flush: a page another
  // vCPU wrote after that flush cleaned it is left dirty with its valid bit 0, and that vCPU's own flush skips it.
  it("trap-xen: event (c) names the page the other vCPU dirtied, before the guest reads it stale", () => {
    const args = ["run", IMAGE, ...HV, "--set-way", "trap-xen", "--seed", "0"];
    const schedule = tmpFile("setway-trap-xen-seed-0.json");
    const stop = shootdown(...args, "--record", schedule);
    const m = /^result: sanitizer violation \(status 4\) at step (\d+): p2m_cache_flush_range for d1v\d on pCPU \d skipped IPA 0x400c4000 \(MFN 0x[0-9a-f]+\) because its valid bit is 0, while \d+ dirty lines of it sit in a cache/m.exec(stop.stderr);
    expect(m, stop.stderr).not.toBeNull();
    expect(stop.status).toBe(4);
    // The schedule file keeps the policy: its replay takes Xen's order again, to the same step.
    expect(JSON.parse(readFileSync(schedule, "utf8")).options.hv.setWay).toBe("trap-xen");
    const replay = shootdown("run", IMAGE, "--replay", schedule);
    expect(replay.stderr).toContain(`sanitizer violation (status 4) at step ${m![1]}: p2m_cache_flush_range`);
    const on = shootdown(...args, "--keep-going");
    expect(on.stdout).toMatch(/^CPU 1 round \d: 0x400c4[0-9a-f]{3} read /m);
    expect(on.status).toBe(1);
  });

  // trap: each chunk of the flush clears the valid bits of the pages it cleans (and flushes the VMID's TLBs), so the
  // other vCPU's write after the clean faults and leaves the page valid for the next flush.
  it("trap: the same run and PCT runs that stopped at event (c) under trap-xen pass, with every check on", () => {
    for (const extra of [["--seed", "0"], [...PCT, "--seed", "5"], [...PCT, "--seed", "731"]]) {
      const r = shootdown("run", IMAGE, ...HV, "--set-way", "trap", ...extra, "--check-stale-reads");
      expect(r.stderr, extra.join(" ")).toMatch(/^sanitizer violations: 0$/m);
      expect(r.stdout).toMatch(/^setway: passed: 4 rounds on 2 CPUs/m);
      expect(r.status, r.stderr).toBe(0);
      const xen = shootdown("run", IMAGE, ...HV, "--set-way", "trap-xen", ...extra);
      expect(xen.stderr, extra.join(" ")).toMatch(/skipped IPA 0x[0-9a-f]+ \(MFN 0x[0-9a-f]+\) because its valid bit is 0/);
      expect(xen.status).toBe(4);
    }
  });
});
