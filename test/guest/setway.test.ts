// SPDX-License-Identifier: MIT
//
// guest/aarch64/setway, the scenario guest of issue 15: every CPU writes a
// pattern with its caches on, cleans its data caches by set/way, turns them
// off and checks the pattern with non-cacheable reads.
//
// What the bare machine shows (emulator/hw/arm/cache.ts):
//   --system-cache off: a set/way clean writes each dirty line of the CPU's
//     own L1 to RAM, which is everything between it and RAM, so the check
//     passes; without the set/way loop (skip-clean=1, or the DC CISW taken
//     out of the source) the pattern stays dirty in the L1 and every
//     doubleword read back is stale.
//   --system-cache on (the default): a set/way clean moves the dirty lines
//     into the system cache, which set/way operations never reach (DDI0487
//     D7.5.9; mechanisms §4.2), so RAM keeps the old values and the check
//     fails even with the correct loop. That is the hazard itself, on bare
//     hardware: a guest cannot clean a cache it cannot name by set/way.
// On QEMU, which models no caches, the guest always passes; its console is
// the golden file, and shootdown with --system-cache off prints the same.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assemble, formatDiagnostic, writeElf, type Program } from "../../asm/index.ts";
import { shootdown, stats, tmpFile } from "../helpers/run.ts";
import { GNU_AARCH64, gnuSections, hasGnuTools } from "../helpers/gnu.ts";
import { GUEST_DIR, QEMU, QEMU_ARGS, goldenPath, qemuAvailable, runQemu } from "../golden/guest/regenerate-aarch64.mjs";

const SOURCE = join(GUEST_DIR, "setway.s");
const ELF = join(GUEST_DIR, "setway.elf");
const qemu = qemuAvailable();
if (!qemu) console.warn(`setway: ${QEMU} is not installed, skipping the QEMU runs (Debian: qemu-system-arm)`);
const skippedWithoutQemu = qemu ? "" : ` (skipped: ${QEMU} is not installed)`;
const binutils = hasGnuTools(GNU_AARCH64);

/** The image as the source assembles now (or `edit` of it), as guest/build.mjs builds it. */
function assembleNow(edit: (text: string) => string = (t) => t): Program {
  const r = assemble("aarch64", { sources: [{ path: SOURCE, text: edit(readFileSync(SOURCE, "utf8")) }], includeDirs: [GUEST_DIR] });
  if (!r.program) throw new Error(r.diagnostics.map(formatDiagnostic).join("\n"));
  return r.program;
}

const lines = (text: string) => text.split("\n").slice(0, -1);
const MISMATCH = /^CPU (\d+) round (\d+): 0x([0-9a-f]+) read 0x([0-9a-f]+) expected 0x([0-9a-f]+)$/;

/**
 * Every mismatch line of a console says what the guest's pattern says it
 * must: the expected value is the round and CPU over the address, and what
 * was read is older (an earlier round's pattern of the same CPU, or the
 * zero RAM started with). Returns how many there were.
 */
function checkMismatchLines(console: string): number {
  let n = 0;
  for (const line of lines(console)) {
    const m = MISMATCH.exec(line);
    if (!m) continue;
    n++;
    const [cpu, round, addr, read, expected] = [BigInt(m[1]!), BigInt(m[2]!), BigInt(`0x${m[3]}`), BigInt(`0x${m[4]}`), BigInt(`0x${m[5]}`)];
    expect(expected, line).toBe(((round + 1n) << 48n) | (cpu << 40n) | addr);
    const older = (read & 0xff_ffff_ffffn) === addr && ((read >> 40n) & 0xffn) === cpu && read >> 48n <= round;
    expect(read === 0n || older, line).toBe(true);
  }
  return n;
}

describe("guest/aarch64/setway", () => {
  it("npm run build made setway.elf from the current setway.s", () => {
    expect(existsSync(ELF)).toBe(true);
    expect(new Uint8Array(readFileSync(ELF))).toEqual(writeElf(assembleNow()));
  });

  it.skipIf(!binutils)(`setway.s assembles with GNU as + ld to the same bytes${binutils ? "" : " (skipped without binutils-aarch64-linux-gnu)"}`, () => {
    const program = assembleNow();
    const gnu = gnuSections(GNU_AARCH64, GUEST_DIR, "setway", program);
    for (const s of program.sections.filter((s) => s.bytes.length > 0)) {
      expect(Buffer.compare(gnu.get(s.name)!, Buffer.from(s.bytes)), s.name).toBe(0);
    }
  });

  it("the golden console (QEMU's) ends with the line that says it passed", () => {
    const all = lines(readFileSync(goldenPath("setway"), "latin1"));
    expect(all.at(-1)).toBe("setway: passed: 4 rounds on 4 CPUs, 8192 doublewords checked, no mismatch");
    expect(all.filter((l) => MISMATCH.test(l) || l.includes("FAILED"))).toEqual([]);
  });

  it.skipIf(!qemu)(`on QEMU (${QEMU} ${QEMU_ARGS.join(" ")} -kernel setway.elf): passes, and prints the golden console${skippedWithoutQemu}`, () => {
    const r = runQemu(ELF);
    expect(r.timedOut, "QEMU timed out").toBe(false);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString("latin1")).toBe(readFileSync(goldenPath("setway"), "latin1"));
  });
});

describe("guest/aarch64/setway on the bare machine, without a system cache", () => {
  it("shootdown run setway.elf --cpus 4 --system-cache off prints QEMU's console byte for byte and exits with 0", () => {
    const r = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "4", "--system-cache", "off");
    expect(r.stdout, r.stderr).toBe(readFileSync(goldenPath("setway"), "latin1"));
    expect(r.stderr).toMatch(/^machine: aarch64, 4 CPUs, 128 MiB, no system cache;/m);
    expect(r.status, r.stderr).toBe(0);
  });

  it("--cpus 2 -- rounds=4: passes, with a DC CISW for every set and way of the L1 CCSIDR_EL1 describes, per CPU and round", () => {
    const r = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--system-cache", "off", "--stats", "--", "rounds=4");
    expect(lines(r.stdout)).toEqual([
      "setway: 2 CPUs, 4 rounds, a 4096-byte buffer per CPU, cleaned by set/way (DC CISW) before the caches go off",
      "setway: passed: 4 rounds on 2 CPUs, 4096 doublewords checked, no mismatch",
    ]);
    expect(r.status, r.stderr).toBe(0);
    // The default L1 (emulator/machine/core/options.ts DEFAULT_CACHES): 64 sets of 4 ways.
    const s = stats(r);
    for (const cpu of s.cpus) expect(cpu.counters.dcSetWay).toBe(4 * 64 * 4);
  });

  it("-- cpus=1 runs on one CPU of several, and a seeded interleaving passes too", () => {
    const one = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "3", "--system-cache", "off", "--", "cpus=1", "rounds=2");
    expect(lines(one.stdout).at(-1)).toBe("setway: passed: 2 rounds on 1 CPU, 1024 doublewords checked, no mismatch");
    expect(one.status, one.stderr).toBe(0);
    const seeded = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "3", "--system-cache", "off", "--seed", "7", "--", "rounds=3");
    expect(lines(seeded.stdout).at(-1)).toBe("setway: passed: 3 rounds on 3 CPUs, 4608 doublewords checked, no mismatch");
    expect(seeded.status, seeded.stderr).toBe(0);
  });

  it("-- skip-clean=1: the pattern stays dirty in the L1s, and every doubleword read back is stale (SYSTEM_RESET, status 1)", () => {
    const r = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--system-cache", "off", "--", "rounds=4", "skip-clean=1");
    const out = lines(r.stdout);
    expect(out[0]).toBe("setway: 2 CPUs, 4 rounds, a 4096-byte buffer per CPU, set/way clean skipped (skip-clean=1)");
    // Eight lines per CPU and round, then the count of the rest.
    expect(checkMismatchLines(r.stdout)).toBe(2 * 4 * 8);
    expect(out.filter((l) => /^CPU \d round \d: 504 more mismatches$/.test(l))).toHaveLength(8);
    expect(out.at(-1)).toBe("setway: FAILED: 4096 mismatches, 4 rounds on 2 CPUs, 4096 doublewords checked");
    expect(r.stderr).toMatch(/^result: guest-reported failure: CPU 0 called PSCI SYSTEM_RESET \(exit status 1\)$/m);
    expect(r.status).toBe(1);
  });

  it("with the DC CISW taken out of its set/way loop, the image fails as skip-clean=1 does", () => {
    const cisw = "        dc cisw, x11\n";
    const broken = assembleNow((t) => {
      expect(t.split(cisw)).toHaveLength(2);
      return t.replace(cisw, "");
    });
    const elf = tmpFile("setway-no-cisw.elf");
    writeFileSync(elf, writeElf(broken));
    const r = shootdown("run", elf, "--cpus", "2", "--system-cache", "off", "--", "rounds=2");
    expect(checkMismatchLines(r.stdout)).toBe(2 * 2 * 8);
    expect(lines(r.stdout).at(-1)).toBe("setway: FAILED: 2048 mismatches, 2 rounds on 2 CPUs, 2048 doublewords checked");
    expect(r.status).toBe(1);
  });
});

describe("guest/aarch64/setway on the bare machine with its system cache (the default)", () => {
  it("fails even with the correct set/way loop: the lines were cleaned into the system cache, and RAM still holds zeros", () => {
    const r = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--stats", "--", "rounds=4");
    const out = lines(r.stdout);
    expect(out[0]).toBe("setway: 2 CPUs, 4 rounds, a 4096-byte buffer per CPU, cleaned by set/way (DC CISW) before the caches go off");
    expect(checkMismatchLines(r.stdout)).toBe(2 * 4 * 8);
    // Nothing ever reaches RAM: every value read is the zero it started with.
    expect(out.filter((l) => MISMATCH.test(l) && !l.includes(" read 0x0 "))).toEqual([]);
    expect(out.at(-1)).toBe("setway: FAILED: 4096 mismatches, 4 rounds on 2 CPUs, 4096 doublewords checked");
    expect(r.status).toBe(1);
    for (const cpu of stats(r).cpus) expect(cpu.counters.dcSetWay).toBe(4 * 64 * 4);
  });
});

describe("guest/aarch64/setway under --check-stale-reads (sanitizer event (a) of mechanisms §4.6)", () => {
  it("with the system cache: the first stale read stops the run with status 4, naming the system cache as the holder", () => {
    const r = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--check-stale-reads", "--", "rounds=2");
    expect(r.stderr).toMatch(
      /^result: sanitizer violation \(status 4\) at step \d+: CPU 0 read 8 bytes at VA 0x([0-9a-f]+) \(PA 0x\1\) with a non-cacheable access and got 0x0 from RAM; the latest value written there, 0x10000\1, is in the system cache \(exit status 4\)$/m,
    );
    expect(r.status).toBe(4);
  });

  it("without it, skip-clean=1 leaves the latest value dirty in the reading CPU's own L1", () => {
    const r = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--system-cache", "off", "--check-stale-reads", "--", "skip-clean=1");
    expect(r.stderr).toMatch(/got 0x0 from RAM; the latest value written there, 0x10000[0-9a-f]+, is in CPU 0's L1 \(dirty\) \(exit status 4\)$/m);
    expect(r.status).toBe(4);
  });

  it("the correct loop without a system cache reads nothing stale; --keep-going counts every stale read the guest then reports", () => {
    const ok = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--system-cache", "off", "--check-stale-reads", "--", "rounds=2");
    expect(ok.status, ok.stderr).toBe(0);
    const counted = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--check-stale-reads", "--keep-going", "--", "rounds=1");
    expect(counted.stderr).toMatch(/^sanitizer violations found: 1024$/m);
    expect(lines(counted.stdout).at(-1)).toBe("setway: FAILED: 1024 mismatches, 1 round on 2 CPUs, 1024 doublewords checked");
  });

  it("is recorded: a replay stops at the same step; explore finds it on its first seed and its rerun command keeps it", () => {
    const schedule = tmpFile("setway-stale.json");
    const rec = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--check-stale-reads", "--seed", "5", "--record", schedule, "--", "rounds=1");
    expect(rec.status).toBe(4);
    expect(JSON.parse(readFileSync(schedule, "utf8")).options.checkStaleReads).toBe(true);
    const step = /at step (\d+):/.exec(rec.stderr)?.[1];
    expect(step).toBeDefined();
    const rep = shootdown("run", "guest/aarch64/setway.elf", "--replay", schedule);
    expect(rep.stderr).toContain(`sanitizer violation (status 4) at step ${step}:`);
    expect(rep.status).toBe(4);
    const out = tmpFile("explore-stale.json");
    const ex = shootdown("explore", "guest/aarch64/setway.elf", "--cpus", "2", "--check-stale-reads", "--strategy", "random", "--runs", "2", "--jobs", "1", "--out-schedule", out, "--", "rounds=1");
    expect(ex.stdout + ex.stderr).toMatch(/first failure: seed 0: violation: .*non-cacheable access and got 0x0 from RAM/);
    expect(ex.stdout + ex.stderr).toMatch(/shootdown run guest\/aarch64\/setway.elf .*--check-stale-reads/);
    expect(ex.status).toBe(1);
  });

  it("hello and selftest, which mix cacheable and non-cacheable accesses only as the architecture allows, read nothing stale", () => {
    for (const img of ["hello", "selftest"]) {
      const r = shootdown("run", `guest/aarch64/${img}.elf`, "--cpus", "4", "--check-stale-reads");
      expect(r.status, `${img}: ${r.stderr}`).toBe(0);
    }
  });
});

describe("guest/aarch64/setway's arguments", () => {
  it.each([["rounds=0"], ["rounds=1000001"], ["cpus=17"], ["skip-clean=2"], ["rounds="], ["colour=blue"]])(
    "refuses %s with a message naming it (SYSTEM_RESET, status 1)",
    (word) => {
      const r = shootdown("run", "guest/aarch64/setway.elf", "--system-cache", "off", "--", "rounds=2", word);
      expect(r.stdout).toBe(`setway: bad argument '${word}': it takes rounds=N (1 to 1000000), cpus=N (1 to 16) and skip-clean=0|1\n`);
      expect(r.status).toBe(1);
    },
  );

  it("--system-cache takes on or off, on AArch64 images only", () => {
    const bad = shootdown("run", "guest/aarch64/setway.elf", "--system-cache", "maybe");
    expect(bad.stderr).toMatch(/--system-cache must be on or off, not 'maybe'/);
    expect(bad.status).toBe(64);
    const x86 = shootdown("run", "guest/x86_64/hello.elf", "--system-cache", "off");
    expect(x86.stderr).toMatch(/--system-cache (is|are) for AArch64 images/);
    expect(x86.status).not.toBe(0);
    const on = shootdown("run", "guest/aarch64/setway.elf", "--system-cache", "on", "--", "rounds=1");
    expect(on.stderr).not.toMatch(/no system cache/);
    expect(on.status).toBe(1);
  });

  it("--record keeps --system-cache off, and --replay follows it", () => {
    const schedule = tmpFile("setway-schedule.json");
    const rec = shootdown("run", "guest/aarch64/setway.elf", "--cpus", "2", "--system-cache", "off", "--seed", "3", "--record", schedule, "--", "rounds=2");
    expect(rec.status, rec.stderr).toBe(0);
    expect(JSON.parse(readFileSync(schedule, "utf8")).options.systemCache).toBe(false);
    const rep = shootdown("run", "guest/aarch64/setway.elf", "--replay", schedule);
    expect(rep.stdout).toBe(rec.stdout);
    expect(rep.status, rep.stderr).toBe(0);
  });
});
