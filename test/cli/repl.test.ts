// SPDX-License-Identifier: MIT
//
// `shootdown repl` driven through stdin, as a script would drive it: a guest
// fills a TLB entry, changes the PDE behind it without INVLPG, then uses the
// stale entry. The REPL breaks on a symbol, steps, shows the entry as stale,
// walks the address (the new mapping, as the MMU would find it), and stops
// at the stale use. Errors are one line and the session goes on.

import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { CLI, ROOT, image, imageFile, shootdown, tmpFile } from "../helpers/run.ts";
import { STALE_GUEST } from "../helpers/debug.ts";


function repl(commands: string[], ...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, "repl", ...args], { input: commands.join("\n") + "\n", encoding: "utf8", timeout: 60_000, cwd: ROOT });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe("shootdown repl", () => {
  const guest = imageFile(STALE_GUEST, "stale.elf");

  it("breaks on a symbol, steps, shows the stale TLB entry, walks the address and stops at the stale use", () => {
    const r = repl(["break remap", "continue", "tlb", "step", "tlb", "walk 0x200000", "step", "x/2gx 0x200000", "x/1gxp 0x400000", "continue", "quit"], guest);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.stdout.split("\n");
    const at = (text: string) => {
      const i = out.findIndex((l) => l.includes(text));
      expect(i, `no line with '${text}' in\n${r.stdout}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    expect(out[0]).toMatch(/^shootdown repl: .*stale\.elf, 1 CPU, x86_64; CPU 0 at 0x100000 <_start>/);
    expect(out[1]).toBe("breakpoint at 0x10001f <remap>");
    expect(out[2]).toBe("CPU 0 stopped at breakpoint 0x10001f <remap>");
    expect(out[3]).toMatch(/^=> 0x10001f <remap>: +48 c7 04 25 08 50 00 00 83 00 40 00 movq \$0x400083,0x5008$/);
    // Before the PDE changes, the entry agrees with the tables.
    const before = at("CPU 0: 5 live entries");
    expect(out[before + 2]).toMatch(/^ {2}TLB 2M +0x200000 +→ 0x200000 +PCID 0 +RW S X D +ok$/);
    // One step runs the store to the PDE: the entry is now stale, and says why.
    expect(out[before + 6]).toMatch(/^=> 0x10002b <stale>: +48 8b 18 +mov \(%rax\),%rbx$/);
    const after = at("CPU 0: 5 live entries");
    const after2 = out.findIndex((l, i) => i > after && l === "CPU 0: 5 live entries");
    expect(out[after2 + 2]).toMatch(/^ {2}TLB 2M +0x200000 +→ 0x200000 +PCID 0 +RW S X D +STALE: the PDE at 0x5008 now maps 0x400000$/);
    // The walk reads the tables in memory: the new mapping, and the decision.
    const walk = at("walk 0x200000 on CPU 0 from CR3 0x3000");
    expect(out.slice(walk + 1, walk + 5)).toEqual([
      "  PML4E  at 0x3000         = 0x0000000000004023  P RW A → table 0x4000",
      "  PDPTE  at 0x4000         = 0x0000000000005023  P RW A → table 0x5000",
      "  PDE    at 0x5008         = 0x0000000000400083  P RW PS → frame 0x400000",
      "  read by kernel: allowed → PA 0x400000 (2M page, writable, supervisor, executable, WB)",
    ]);
    // The load through the stale entry is reported as it happens.
    expect(out[walk + 5]).toBe(
      "violation: CPU 0 used a stale TLB entry for VA 0x200000 (PCID 0): the PDE at 0x5008 was 0x2000e3 and is now 0x400083, with no invalidation in between",
    );
    // x/ reads through the CPU's MMU, stale entry and all; x/…p reads RAM.
    expect(r.stdout).toMatch(/^0x200000:  0x0000000000001234 0x0000000000000000$/m);
    expect(r.stdout).toMatch(/^phys 0x400000:  0x0000000000005678$/m);
    expect(out.at(-2)).toBe("the run ended: CPU 0 wrote 0 to the debug-exit port: success (status 0)");
  });

  it("shows what INVLPG invalidated (tlb all), and the new translation after it", () => {
    const r = repl(["break fresh", "continue", "continue", "tlb all", "step", "tlb"], guest);
    const out = r.stdout.split("\n");
    const dead = out.indexOf("CPU 0: 2 live entries, 4 dead");
    expect(dead).toBeGreaterThan(0);
    expect(out.slice(dead + 1, dead + 7).filter((l) => l.includes("0x200000  →"))).toEqual([
      "  TLB 2M       0x200000  → 0x200000  PCID 0  RW S X D  dead (invalidated or flushed)",
    ]);
    const after = out.indexOf("CPU 0: 5 live entries");
    expect(out.slice(after + 1, after + 6)).toContain("  TLB 2M       0x200000  → 0x400000  PCID 0  RW S X    ok");
  });

  it("stops a continue on the instruction that used the stale entry, not at the end of its quantum", () => {
    const r = repl(["break remap", "continue", "continue", "continue"], guest, "--cpus", "2", "--seed", "5", "--quantum", "50");
    expect(r.stdout.split("\n").slice(2, 7)).toEqual([
      "CPU 0 stopped at breakpoint 0x10001f <remap>",
      "=> 0x10001f <remap>:  48 c7 04 25 08 50 00 00 83 00 40 00 movq $0x400083,0x5008",
      "violation: CPU 0 used a stale TLB entry for VA 0x200000 (PCID 0): the PDE at 0x5008 was 0x2000e3 and is now 0x400083, with no invalidation in between",
      "=> 0x10002e <stale+0x3>:  0f 01 38                 invlpg (%rax)",
      "the run ended: CPU 0 wrote 0 to the debug-exit port: success (status 0)",
    ]);
  });

  it("goes back in time exactly: goto an earlier step and forward again retraces the same run, manual steps and all", () => {
    const opts = [guest, "--cpus", "2", "--no-detector"];
    const hashes = (out: string) => [...out.matchAll(/^state hash (0x[0-9a-f]+)$/gm)].map((m) => m[1]);
    const straight = repl(["break remap", "continue", "cpu 1", "step 3", "cpu 0", "step", "sched", "continue", "continue", "sched"], ...opts);
    const travelled = repl(["break remap", "continue", "cpu 1", "step 3", "cpu 0", "step", "goto 3", "goto 9", "sched", "goto 0", "continue", "continue", "continue", "sched"], ...opts);
    const [at9, atEnd] = hashes(straight.stdout);
    expect(hashes(travelled.stdout)).toEqual([at9, atEnd]);
    expect(travelled.stdout).toMatch(/^at step 3, CPU 0$/m);
    expect(travelled.stdout).toMatch(/^at step 9, CPU 0$/m);
  });

  it("stops at a watchpoint on a physical address when any CPU writes it", () => {
    const r = repl(["watch 0x400000", "continue", "x/1gxp 0x400000"], guest, "--cpus", "2");
    expect(r.stdout.split("\n").slice(1, 5)).toEqual([
      "watchpoint on physical 0x400000 (8 bytes, now 0x0)",
      "CPU 0 wrote physical 0x400000: 0x0 → 0x5678 (watchpoint)",
      "=> 0x10001f <remap>:  48 c7 04 25 08 50 00 00 83 00 40 00 movq $0x400083,0x5008",
      "phys 0x400000:  0x0000000000005678",
    ]);
  });

  it("runs a guest to the end in the state shootdown run reaches (the same state hash with --no-detector)", () => {
    const hello = join(ROOT, "guest", "x86_64", "hello.elf");
    const opts = ["--cpus", "4", "--seed", "3", "--quantum", "20"];
    const run = shootdown("run", hello, ...opts);
    const hash = /^state hash: (0x[0-9a-f]+)$/m.exec(run.stderr)?.[1];
    expect(hash).toBeDefined();
    const r = repl(["continue", "sched"], hello, ...opts, "--no-detector");
    expect(r.stdout).toContain("hello from CPU 3 of 4\n");
    expect(r.stdout).toContain("all checks passed\n");
    expect(r.stdout).toMatch(/^the run ended: CPU 0 wrote 0 to the debug-exit port: success \(status 0\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^state hash ${hash}$`, "m"));
  });

  it("answers a bad command with one line and goes on", () => {
    const r = repl(["break nosuch", "x/2gx 0x900000000", "walk", "frobnicate", "cpu 7", "regs"], guest);
    const out = r.stdout.split("\n");
    expect(out.slice(1, 6)).toEqual([
      "error: unknown symbol 'nosuch'",
      "error: cannot read 0x900000000: not mapped on CPU 0",
      "error: usage: walk VA [read|write|fetch] [kernel|user]",
      "error: unknown command 'frobnicate' (help lists them)",
      "error: no CPU 7 (the machine has 1)",
    ]);
    expect(out[6]).toBe("CPU 0");
    expect(out[7]).toMatch(/^rax +0x0 +rbx +0x0 +rcx +0x0$/);
    expect(r.stdout).toMatch(/^cr3  0x3000 +table 0x3000$/m);
    expect(r.status).toBe(0);
    // A walk the MMU refuses before reading any table, and one that stops at a not-present entry.
    const w = repl(["walk 0x8000000000000000", "walk 0x100000000 write user"], guest);
    expect(w.stdout.split("\n").slice(1, 9)).toEqual([
      "walk 0x8000000000000000 on CPU 0 from CR3 0x3000",
      "  stop: the address is not canonical (bits 63:47 must equal bit 47): no walk",
      "  read by kernel: #GP(0)",
      "walk 0x100000000 on CPU 0 from CR3 0x3000",
      "  PML4E  at 0x3000         = 0x0000000000004003  P RW → table 0x4000",
      "  PDPTE  at 0x4020         = 0x0000000000000000  not present",
      "  stop: the entry is not present",
      "  write by user: #PF, error code 0x6 (W U)",
    ]);
  });

  it("is deterministic: the same commands on the same seed reach the same state, and goto replays a recorded schedule", () => {
    const cmds = ["break stale", "continue", "cpu 1", "step 3", "continue", "sched"];
    const a = repl(cmds, guest, "--cpus", "2", "--seed", "9", "--quantum", "3");
    const b = repl(cmds, guest, "--cpus", "2", "--seed", "9", "--quantum", "3");
    expect(a.stdout).toBe(b.stdout);
    const hash = /^state hash (0x[0-9a-f]+)$/m.exec(a.stdout)?.[1];
    expect(hash).toBeDefined();

    // Record a session (the first continue stops at the stale use), then
    // replay it, go to a step of it, back to an earlier one, and on to the end.
    const rec = tmpFile("s.json");
    const recorded = repl(["continue", "continue", "sched"], guest, "--cpus", "2", "--seed", "4", "--quantum", "2", "--record", rec);
    expect(recorded.stderr).toMatch(/^shootdown repl: schedule recorded in .*s\.json \(\d+ decisions\)$/m);
    const total = /(\d+) instructions$/m.exec(recorded.stdout.split("\n").find((l) => l.startsWith("schedule:"))!)?.[1];
    const replayed = repl(["goto 6", "goto 4", "regs", "continue", "continue", "sched"], guest, "--replay", rec);
    expect(replayed.stdout).toMatch(/^at step 6, CPU [01]$/m);
    expect(replayed.stdout).toMatch(/^at step 4, CPU [01]$/m);
    expect(replayed.stdout).toMatch(new RegExp(`^schedule: replay of \\d+ recorded decisions; \\d+ decisions taken, ${total} instructions$`, "m"));
    expect(replayed.stdout).toMatch(/^the run ended: CPU 0 wrote 0 to the debug-exit port: success \(status 0\)$/m);
  });

  it("replays a schedule recorded by shootdown run and says whether it reproduced the run", () => {
    const rec = tmpFile("run.json");
    const run = shootdown("run", guest, "--cpus", "3", "--seed", "8", "--quantum", "3", "--record", rec);
    expect(run.status).toBe(0);
    const r = repl(["goto 5", "continue", "continue"], guest, "--replay", rec, "--no-detector");
    expect(r.stdout).toMatch(/^at step 5, CPU [012]$/m);
    expect(r.stdout).toMatch(/^the replay reproduced the recorded run \(state hash 0x[0-9a-f]+\)$/m);
    const loaded = repl(["replay " + rec, "continue", "continue"], guest, "--cpus", "3", "--no-detector", "--quantum", "7");
    expect(loaded.stdout).toMatch(/^loaded \d+ decisions \(\d+ instructions\) from .*run\.json; the machine is back at step 0/m);
    expect(loaded.stdout).toMatch(/^the replay reproduced the recorded run/m);
  });

  it("says in one line that an AArch64 image needs the A64 CPU, which is not merged yet", () => {
    const arm = imageFile(image("_start:\n  nop\n", { arch: "aarch64" }), "arm.elf");
    for (const command of ["repl", "gdb"]) {
      const args = command === "gdb" ? [CLI, command, arm, "--port", "0"] : [CLI, command, arm];
      const r = spawnSync(process.execPath, args, { input: "", encoding: "utf8", cwd: ROOT });
      expect(r.stderr).toBe(`shootdown ${command}: the AArch64 CPU is not merged yet: on AArch64 the debugger can walk, show TLBs, caches and system registers, but not run, step or read the X registers\n`);
      expect(r.status).toBe(64);
    }
  });

  it("takes the options of shootdown run", () => {
    const r = spawnSync(process.execPath, [CLI, "repl", guest, "--cpus", "0"], { input: "", encoding: "utf8", cwd: ROOT });
    expect(r.stderr).toBe("shootdown repl: --cpus must be from 1 to 64, not 0\n");
    expect(r.status).toBe(64);
  });
});
