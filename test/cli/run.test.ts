// SPDX-License-Identifier: MIT
//
// `shootdown run` as a user runs it (dist/cli.js): hostile guests end with
// the documented status and a one-line message naming the CPU, RIP, the
// instruction bytes and the reason; usage errors are status 64; runs are
// reproducible from their seed, and a recorded schedule replays exactly.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, imageFile, shootdown, stats, tmpFile } from "../helpers/run.ts";

const HELLO = join(ROOT, "guest", "x86_64", "hello.elf");
const HELLO_4 = ["hello from CPU 0 of 4", "hello from CPU 1 of 4", "hello from CPU 2 of 4", "hello from CPU 3 of 4",
  "IPIs: sent 12, received 12", "TLB flush checks: passed 16, failed 0", "all checks passed", ""].join("\n");

/** The first line of stderr: the crash message. */
const firstLine = (s: string) => s.split("\n")[0]!;
const hashOf = (stderr: string) => /^state hash: (0x[0-9a-f]+)$/m.exec(stderr)?.[1];

describe("hostile guests", () => {
  it("#UD with no IDT: a triple fault at the UD2", () => {
    const r = shootdown("run", imageFile("_start:\n  nop\n  ud2\n"));
    expect(firstLine(r.stderr)).toBe(
      "shootdown run: CPU 0: triple fault (could not deliver #UD → #GP → #DF; no IDT is loaded) at RIP 0x100001 <_start+0x1> [0f 0b: ud2]",
    );
    expect(r.stderr).toMatch(/^result: crash: triple-fault \(exit status 2\)$/m);
    expect(r.stdout).toBe("");
    expect(r.status).toBe(2);
  });

  it("a jump beyond the identity map: #PF on the fetch, then a triple fault", () => {
    const r = shootdown("run", imageFile("_start:\n  mov $0x100000000, %rax\n  jmp *%rax\n"), "--cpus", "2");
    expect(firstLine(r.stderr)).toMatch(
      /^shootdown run: CPU [01]: triple fault \(could not deliver #PF → #DF; no IDT is loaded\) at RIP 0x100000000 \[unreadable\]$/,
    );
    expect(r.status).toBe(2);
  });

  it("an infinite loop ends at --max-steps with status 3", () => {
    const r = shootdown("run", imageFile("_start:\n1: jmp 1b\n"), "--max-steps", "12345", "--cpus", "2", "--stats");
    expect(stats(r)).toMatchObject({ status: 3, end: { kind: "step-limit", steps: 12345 }, instructions: 12345 });
    expect(r.status).toBe(3);
    const text = shootdown("run", imageFile("_start:\n1: jmp 1b\n"), "--max-steps", "500");
    expect(text.stderr).toMatch(/^result: step limit: 500 instructions retired \(--max-steps\) with no result from the guest \(exit status 3\)$/m);
    expect(text.status).toBe(3);
  });

  it("a page-table loop: a PML4 entry pointing at the PML4 reads the tables, and a walk that leaves them faults", () => {
    // PML4[1] = the PML4 itself. The walk has four levels, so it cannot go
    // round for ever: indices 1,1,1,1 make the PML4 the page, whose
    // quadword 1 is PML4[1] itself (with A set by the walk). Indices
    // 1,1,1,2 end at PML4[2], not present: #PF, and with no IDT a triple fault.
    const r = shootdown("run", imageFile(`
_start: movq $0x3003, 0x3008          # PML4[1] → 0x3000 (P, RW)
        mov $0x8040201008, %rax      # (1,1,1,1) + 8
        mov (%rax), %rbx
        and $~0x60, %rbx             # ignore Accessed and Dirty
        cmp $0x3003, %rbx
        je 1f
        mov $1, %al                  # the recursive read saw something else
        out %al, $0xf4
1:      mov $0x8040202000, %rax      # (1,1,1,2)
        jmp *%rax
`));
    expect(firstLine(r.stderr)).toBe(
      "shootdown run: CPU 0: triple fault (could not deliver #PF → #DF; no IDT is loaded) at RIP 0x8040202000 [unreadable]",
    );
    expect(r.status).toBe(2);
  });

  it("page tables pointing above RAM: a bus error names the physical address", () => {
    const r = shootdown("run", imageFile(`
_start: mov $0x1000000003, %rax      # PML4[2] → a PDPT at 64 GiB, beyond the 64 MiB of RAM
        mov %rax, 0x3010
        mov $0x10000000000, %rax     # 1 TiB: PML4 index 2
        mov (%rax), %rbx
`));
    expect(firstLine(r.stderr)).toBe(
      "shootdown run: CPU 0: bus error: access to physical address 0x1000000000, outside RAM [0, 0x4000000) at RIP 0x10001c <_start+0x1c> [48 8b 18: mov (%rax),%rbx]",
    );
    expect(r.stderr).toMatch(/^result: crash: bus-error \(exit status 2\)$/m);
    expect(r.status).toBe(2);
  });

  it("halting for ever without a result is a deadlock", () => {
    const r = shootdown("run", imageFile("_start:\n  cli\n  hlt\n"), "--cpus", "2");
    expect(firstLine(r.stderr)).toMatch(/^shootdown run: all CPUs halted with nothing pending: deadlock \(CPU 0 halted with IF=0 at RIP 0x100001 <_start\+0x1> \[f4: hlt\]; CPU 1 /);
    expect(r.status).toBe(2);
  });
});

describe("usage", () => {
  const img = () => imageFile("_start:\n  hlt\n");

  it("bad options are status 64 with one line", () => {
    const cases: [string[], string][] = [
      [[], "shootdown run: no IMAGE"],
      [[img(), "--cpus", "65"], "shootdown run: --cpus must be from 1 to 64, not 65"],
      [[img(), "--cpus", "two"], "shootdown run: --cpus must be an integer, not 'two'"],
      [[img(), "--mem", "1M"], "shootdown run: --mem 1M is too small: at least 2M (the loader's tables and an image need it)"],
      [[img(), "--mem", "64Q"], "shootdown run: --mem must be a size such as 64M, 512K or 1G, not '64Q'"],
      [[img(), "--quantum", "0"], "shootdown run: --quantum must be from 1 to 1000000000, not 0"],
      [[img(), "--tlb-chaos", "1.5"], "shootdown run: --tlb-chaos must be a probability in (0, 1], not '1.5'"],
      [[img(), "--record", "a", "--replay", "b"], "shootdown run: --record and --replay cannot be used together"],
      [[img(), "--bogus"], "shootdown run: unknown option '--bogus' (see shootdown run --help)"],
      [[img(), "--cpus"], "shootdown run: --cpus needs a value (see shootdown run --help)"],
    ];
    for (const [args, message] of cases) {
      const r = shootdown("run", ...args);
      expect(r.stderr.split("\n")[0]).toBe(message);
      expect(r.status).toBe(64);
    }
  });

  it("--help prints the usage", () => {
    const r = shootdown("run", "--help");
    expect(r.stdout).toMatch(/^usage: shootdown run IMAGE \[options\] \[-- guest command line\]/);
    expect(r.status).toBe(0);
  });

  it("other commands exit 64 for their usage errors too", () => {
    expect(shootdown("asm", "x.s").status).toBe(64);
    expect(shootdown("disasm").status).toBe(64);
  });

  it("a missing image cannot be loaded: status 2", () => {
    const r = shootdown("run", join(ROOT, "no-such.elf"));
    expect(r.stderr).toMatch(/^shootdown run: cannot load .*no-such\.elf: cannot read it: ENOENT\n$/);
    expect(r.status).toBe(2);
  });
});

describe("determinism, record and replay (hello on 4 CPUs)", () => {
  const run = (...args: string[]) => shootdown("run", HELLO, "--cpus", "4", ...args);

  it("the same seed twice: byte-identical console and the same state hash", () => {
    const a = run("--seed", "11");
    const b = run("--seed", "11");
    expect(a.stdout).toBe(HELLO_4);
    expect(b.stdout).toBe(a.stdout);
    expect(hashOf(b.stderr)).toBe(hashOf(a.stderr));
    expect(b.stderr).toBe(a.stderr);
    expect(a.status).toBe(0);
  });

  it("--record then --replay reproduces the run", () => {
    const file = tmpFile("hello.schedule.json");
    const rec = run("--seed", "5", "--quantum", "50", "--record", file);
    expect(rec.status).toBe(0);
    expect(rec.stderr).toMatch(new RegExp(`^schedule recorded in ${file.replace(/[.]/g, "\\.")} \\(\\d+ decisions\\)$`, "m"));
    const schedule = JSON.parse(readFileSync(file, "utf8"));
    expect(schedule).toMatchObject({ format: "shootdown-schedule", version: 2, options: { cpus: 4, mode: "random", seed: "5", quantum: 50 } });
    expect(schedule.image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(schedule.end.stateHash).toBe(hashOf(rec.stderr));

    const rep = shootdown("run", HELLO, "--replay", file);
    expect(rep.stdout).toBe(rec.stdout);
    expect(hashOf(rep.stderr)).toBe(hashOf(rec.stderr));
    expect(rep.stderr).toMatch(/^replay reproduced the recorded run \(state hash 0x[0-9a-f]+\)$/m);
    expect(rep.status).toBe(0);
  });

  it("a version-1 schedule file (no continuation steps) still replays", () => {
    const file = tmpFile("hello.v1.json");
    const rec = run("--seed", "6", "--quantum", "40", "--record", file);
    expect(rec.status).toBe(0);
    const v1 = JSON.parse(readFileSync(file, "utf8"));
    expect(v1.decisions.some((d: unknown[]) => d[1] === "hv")).toBe(false);
    v1.version = 1;
    writeFileSync(file, JSON.stringify(v1));
    const rep = shootdown("run", HELLO, "--replay", file);
    expect(rep.stdout).toBe(rec.stdout);
    expect(rep.stderr).toMatch(/^replay reproduced the recorded run \(state hash 0x[0-9a-f]+\)$/m);
    expect(rep.status).toBe(0);
  });

  it("--max-steps bounds a replay whose schedule asks for more decisions than one wants to wait for", () => {
    const file = tmpFile("hello.bound.json");
    expect(run("--seed", "6", "--quantum", "40", "--record", file).status).toBe(0);
    const f = JSON.parse(readFileSync(file, "utf8"));
    // CPU 1 spins waiting for CPU 0, which the schedule never runs again: a billion single instructions.
    f.decisions = [[1, 1, 1, 1_000_000_000]];
    writeFileSync(file, JSON.stringify(f));
    const rep = shootdown("run", HELLO, "--replay", file, "--max-steps", "20000");
    expect(rep.stderr).toMatch(/step limit: 20000 instructions retired/);
    expect(rep.status).toBe(2);
  });

  it("a repeat count of a billion is followed one decision at a time, not expanded into memory", () => {
    const file = tmpFile("hello.huge.json");
    const rec = run("--seed", "6", "--quantum", "40", "--record", file);
    expect(rec.status).toBe(0);
    const f = JSON.parse(readFileSync(file, "utf8"));
    f.decisions = [[0, 1, 1, 1_000_000_000]];
    writeFileSync(file, JSON.stringify(f));
    const rep = shootdown("run", HELLO, "--replay", file);
    // CPU 0 runs one instruction a decision until it halts to wait for the others, which the schedule never runs.
    expect(rep.stderr).toMatch(/^shootdown run: replay diverged: decision \d+: CPU 0 retired 0 instructions, the schedule says 1$/m);
    expect(rep.stderr).toMatch(/exit status 2/);
    expect(rep.status).toBe(2);
  });

  it("different seeds: different schedules and states, the same console", () => {
    const files = ["1", "2", "3"].map((seed) => {
      const f = tmpFile(`seed${seed}.json`);
      const r = run("--seed", seed, "--record", f);
      expect(r.stdout).toBe(HELLO_4);
      expect(r.status).toBe(0);
      return { decisions: JSON.stringify(JSON.parse(readFileSync(f, "utf8")).decisions), hash: hashOf(r.stderr) };
    });
    expect(new Set(files.map((f) => f.decisions)).size).toBe(3);
    expect(new Set(files.map((f) => f.hash)).size).toBe(3);
  });

  it("a replay refuses another image, other options and malformed files (status 64)", () => {
    const file = tmpFile("s.json");
    expect(run("--seed", "1", "--record", file).status).toBe(0);
    const other = shootdown("run", imageFile("_start:\n  hlt\n"), "--replay", file);
    expect(other.stderr).toMatch(/^shootdown run: .*s\.json was recorded with another image \(hello\.elf\): its SHA-256 is [0-9a-f]{64}, .*'s is [0-9a-f]{64}$/m);
    expect(other.status).toBe(64);
    const cpus = shootdown("run", HELLO, "--replay", file, "--cpus", "2");
    expect(cpus.stderr.trim()).toMatch(/--cpus 2 differs from the recorded run in .*s\.json \(4\); leave it out to replay$/);
    expect(cpus.status).toBe(64);
    const same = shootdown("run", HELLO, "--replay", file, "--cpus", "4", "--seed", "1");
    expect(same.status).toBe(0);

    const bad = tmpFile("bad.json");
    writeFileSync(bad, "{ not json");
    const r = shootdown("run", HELLO, "--replay", bad);
    expect(r.stderr).toMatch(/^shootdown run: .*bad\.json: schedule file is not valid JSON: /);
    expect(r.status).toBe(64);
    writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(file, "utf8")), decisions: [[9, 1]] }));
    expect(shootdown("run", HELLO, "--replay", bad).stderr).toMatch(/decisions\[0\] names CPU 9; the run has 4/);
  });

  it("a replay that does not reproduce the run says so (status 2)", () => {
    const file = tmpFile("tampered.json");
    expect(run("--seed", "3", "--record", file).status).toBe(0);
    const s = JSON.parse(readFileSync(file, "utf8"));
    s.decisions[5] = [s.decisions[5][0], s.decisions[5][1], 0];
    writeFileSync(file, JSON.stringify(s));
    const r = shootdown("run", HELLO, "--replay", file);
    expect(firstLine(r.stderr)).toMatch(/^shootdown run: replay diverged: decision 5: CPU \d retired \d+ instructions, the schedule says 0$/);
    expect(r.status).toBe(2);
  });
});

describe("the summary", () => {
  it("--stats is one JSON object on stderr", () => {
    const r = shootdown("run", HELLO, "--cpus", "2", "--stats", "--", "a", "b");
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    const s = JSON.parse(lines[0]!);
    expect(s).toMatchObject({ status: 0, end: { kind: "debug-exit", code: 0, cpu: 0 }, options: { cpus: 2, cmdline: "a b", mode: "round-robin" } });
    expect(s.cpus).toHaveLength(2);
    expect(s.cpus[0].counters).toMatchObject({ invlpg: 1, cr3NoFlush: 1, cr3Flush: 2, invpcidAddress: 1, ipisSent: 1, ipisTaken: 1 });
    expect(s.stateHash).toMatch(/^0x[0-9a-f]+$/);
    expect(r.stdout).toBe("command line: a b\nhello from CPU 0 of 2\nhello from CPU 1 of 2\nIPIs: sent 2, received 2\nTLB flush checks: passed 8, failed 0\nall checks passed\n");
  });

  it("--tlb-chaos shows the evictions and hello still passes", () => {
    const r = shootdown("run", HELLO, "--cpus", "4", "--seed", "8", "--tlb-chaos", "0.1");
    expect(r.stdout).toBe(HELLO_4);
    expect(r.stderr).toMatch(/schedule: random interleaving, seed 8, quantum 1–1000; \d+ decisions; TLB chaos P=0\.1$/m);
    expect(r.stderr).toMatch(/^TLB: hits \d+, misses \d+, walks \d+, page faults 0, chaos evictions [1-9]\d*$/m);
    expect(r.status).toBe(0);
  });
});
