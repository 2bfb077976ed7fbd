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
import { STALE_GUEST, STALE_GUEST_A64 } from "../helpers/debug.ts";


function repl(commands: string[], ...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [CLI, "repl", ...args], { input: commands.join("\n") + "\n", encoding: "utf8", timeout: 60_000, cwd: ROOT });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/**
 * `continue` on 4 CPUs runs hello to its end, with its console, and reaches
 * the state `shootdown run` reports with the same options (--no-detector:
 * see docs/debugger.md).
 */
function continuesLikeRun(hello: string, passed: string, ended: string): void {
  const opts = ["--cpus", "4", "--seed", "3", "--quantum", "20"];
  const run = shootdown("run", hello, ...opts);
  const hash = /^state hash: (0x[0-9a-f]+)$/m.exec(run.stderr)?.[1];
  expect(hash).toBeDefined();
  const r = repl(["continue", "sched"], hello, ...opts, "--no-detector");
  expect(r.stdout).toContain("hello from CPU 3 of 4\n");
  expect(r.stdout).toContain(`${passed}\n`);
  expect(r.stdout.split("\n")).toContain(`the run ended: ${ended}`);
  expect(r.stdout).toMatch(new RegExp(`^state hash ${hash}$`, "m"));
}

describe("shootdown repl", () => {
  const guest = imageFile(STALE_GUEST, "stale.elf");

  it("breaks on a symbol, steps, shows the stale TLB entry, walks the address and stops at the stale use", () => {
    const r = repl(["break remap", "continue", "tlb", "step", "tlb", "walk 0x600000", "step", "x/2gx 0x600000", "x/1gxp 0x901000", "continue", "quit"], guest);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.stdout.split("\n");
    expect(out[0]).toMatch(/^shootdown repl: .*stale\.elf, 1 CPU, x86_64; CPU 0 at 0x100000 <_start>/);
    expect(out.slice(1, 4)).toEqual([
      "breakpoint at 0x100037 <remap>",
      "CPU 0 stopped at breakpoint 0x100037 <remap>",
      "=> 0x100037 <remap>:  48 c7 04 25 00 00 30 00 03 10 90 00 movq $0x901003,0x300000",
    ]);
    // Before the PTE changes, the 4 KiB entry agrees with the tables.
    expect(out[4]).toBe("CPU 0: 7 live entries");
    expect(out[5]).toBe("  TLB 4K       0x600000  → 0x900000  PCID 0  RW S X D  ok");
    expect(out[9]).toBe("  PDE cache    0x600000  → 0x300000  PCID 0            ok");
    // One step runs the store to the PTE: the entry is now stale, and says why.
    expect(out[12]).toBe("=> 0x100043 <stale>:  48 8b 18                 mov (%rax),%rbx");
    expect(out[13]).toBe("CPU 0: 7 live entries");
    expect(out[14]).toBe("  TLB 4K       0x600000  → 0x900000  PCID 0  RW S X D  STALE: the PTE at 0x300000 now maps 0x901000");
    // The walk reads the tables in memory: every level, the new frame, and the decision.
    expect(out.slice(21, 27)).toEqual([
      "walk 0x600000 on CPU 0 from CR3 0x3000",
      "  PML4E  at 0x3000         = 0x0000000000004023  P RW A → table 0x4000",
      "  PDPTE  at 0x4000         = 0x0000000000005023  P RW A → table 0x5000",
      "  PDE    at 0x5018         = 0x0000000000300023  P RW A → table 0x300000",
      "  PTE    at 0x300000       = 0x0000000000901003  P RW → frame 0x901000",
      "  read by kernel: allowed → PA 0x901000 (4K page, writable, supervisor, executable, WB)",
    ]);
    // The load through the stale entry is reported as it happens; x/ reads
    // through the CPU's MMU, stale entry and all; x/…p reads RAM.
    expect(out.slice(27, 32)).toEqual([
      "violation: CPU 0 used a stale TLB entry for VA 0x600000 (PCID 0): the PTE at 0x300000 was 0x900063 and is now 0x901003, with no invalidation in between",
      "=> 0x100046 <stale+0x3>:  0f 01 38                 invlpg (%rax)",
      "0x600000:  0x0000000000001234 0x0000000000000000",
      "phys 0x901000:  0x0000000000005678",
      "the run ended: CPU 0 wrote 0 to the debug-exit port: success (status 0)",
    ]);
  });

  it("shows what INVLPG invalidated (tlb all), and the new translation after it", () => {
    const r = repl(["break fresh", "continue", "continue", "tlb all", "step", "tlb"], guest);
    const out = r.stdout.split("\n");
    const dead = out.findIndex((l) => /^CPU 0: \d+ live entries, \d+ dead$/.test(l));
    expect(dead).toBeGreaterThan(0);
    expect(out.slice(dead + 1).filter((l) => l.includes("0x600000  →") && l.includes("dead"))).toEqual([
      "  TLB 4K       0x600000  → 0x900000  PCID 0  RW S X D  dead (invalidated or flushed)",
      "  PDE cache    0x600000  → 0x300000  PCID 0            dead (invalidated or flushed)",
    ]);
    expect(out.slice(dead + 1)).toContain("  TLB 4K       0x600000  → 0x901000  PCID 0  RW S X    ok");
  });

  it("stops a continue on the instruction that used the stale entry, not at the end of its quantum", () => {
    const r = repl(["break remap", "continue", "continue", "continue"], guest, "--cpus", "2", "--seed", "5", "--quantum", "50");
    expect(r.stdout.split("\n").slice(2, 7)).toEqual([
      "CPU 0 stopped at breakpoint 0x100037 <remap>",
      "=> 0x100037 <remap>:  48 c7 04 25 00 00 30 00 03 10 90 00 movq $0x901003,0x300000",
      "violation: CPU 0 used a stale TLB entry for VA 0x600000 (PCID 0): the PTE at 0x300000 was 0x900063 and is now 0x901003, with no invalidation in between",
      "=> 0x100046 <stale+0x3>:  0f 01 38                 invlpg (%rax)",
      "the run ended: CPU 0 wrote 0 to the debug-exit port: success (status 0)",
    ]);
  });

  it("goes back in time exactly: goto an earlier step and forward again retraces the same run, manual steps and all", () => {
    const opts = [guest, "--cpus", "2", "--no-detector"];
    const hashes = (out: string) => [...out.matchAll(/^state hash (0x[0-9a-f]+)$/gm)].map((m) => m[1]);
    const straight = repl(["break remap", "continue", "cpu 1", "step 3", "cpu 0", "step", "sched", "continue", "continue", "sched"], ...opts);
    const travelled = repl(["break remap", "continue", "cpu 1", "step 3", "cpu 0", "step", "goto 3", "goto 11", "sched", "goto 0", "continue", "continue", "continue", "sched"], ...opts);
    const [at11, atEnd] = hashes(straight.stdout);
    expect(hashes(travelled.stdout)).toEqual([at11, atEnd]);
    expect(travelled.stdout).toMatch(/^at step 3, CPU 0$/m);
    expect(travelled.stdout).toMatch(/^at step 11, CPU 0$/m);
  });

  it("stops at a watchpoint on a physical address when any CPU writes it", () => {
    const r = repl(["watch 0x901000", "continue", "x/1gxp 0x901000"], guest, "--cpus", "2");
    expect(r.stdout.split("\n").slice(1, 5)).toEqual([
      "watchpoint on physical 0x901000 (8 bytes, now 0x0)",
      "CPU 0 wrote physical 0x901000: 0x0 → 0x5678 (watchpoint)",
      "=> 0x100037 <remap>:  48 c7 04 25 00 00 30 00 03 10 90 00 movq $0x901003,0x300000",
      "phys 0x901000:  0x0000000000005678",
    ]);
  });

  it("runs a guest to the end in the state shootdown run reaches (the same state hash with --no-detector)", () => {
    continuesLikeRun(join(ROOT, "guest", "x86_64", "hello.elf"), "all checks passed", "CPU 0 wrote 0 to the debug-exit port: success (status 0)");
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

  it("takes the options of shootdown run", () => {
    const r = spawnSync(process.execPath, [CLI, "repl", guest, "--cpus", "0"], { input: "", encoding: "utf8", cwd: ROOT });
    expect(r.stderr).toBe("shootdown repl: --cpus must be from 1 to 64, not 0\n");
    expect(r.status).toBe(64);
  });
});

describe("shootdown repl (AArch64)", () => {
  const guest = imageFile(image(STALE_GUEST_A64, { arch: "aarch64", base: 0x4008_0000n }), "stale-a64.elf");
  const hello = join(ROOT, "guest", "aarch64", "hello.elf");

  it("continues hello to PSCI SYSTEM_OFF on 4 CPUs, in the state shootdown run reaches", () => {
    continuesLikeRun(hello, "hello: all checks passed", "CPU 0 called PSCI SYSTEM_OFF: success (status 0)");
    // With the detector on (the default) too: hello's remaps use break-before-make and TLBI, so nothing stops it.
    const plain = repl(["continue"], hello, "--cpus", "4");
    expect(plain.stdout).toMatch(/^the run ended: CPU 0 called PSCI SYSTEM_OFF: success \(status 0\)$/m);
    expect(plain.stdout).not.toContain("violation");
  });

  it("stops every CPU that PSCI CPU_ON starts at a breakpoint on its entry, and is deterministic", () => {
    const cmds = ["break secondary_entry", "continue", "continue", "cpu 2", "step 3", "regs", "continue", "sched"];
    const a = repl(cmds, hello, "--cpus", "4", "--seed", "9", "--quantum", "7");
    const b = repl(cmds, hello, "--cpus", "4", "--seed", "9", "--quantum", "7");
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.match(/^CPU [123] stopped at breakpoint 0x[0-9a-f]+ <secondary_entry>$/gm)).toHaveLength(3);
    expect(a.stdout).toMatch(/^state hash 0x[0-9a-f]+$/m);
  });
  it("breaks on a symbol, steps, shows the registers, the stale TLB entry after a descriptor change without TLBI, and walks the address", () => {
    const r = repl(["break remap", "continue", "regs", "tlb", "step", "tlb", "walk 0x80000000", "step", "x/2gx 0x80000000", "x/1gxp 0x40201000", "disasm stale 3", "continue"], guest, "--cpus", "2");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.stdout.split("\n");
    expect(out[0]).toMatch(/^shootdown repl: .*stale-a64\.elf, 2 CPUs, aarch64; CPU 0 at 0x40080000 <_start>/);
    expect(out.slice(1, 53)).toEqual([
      // break, continue: CPU 0 stops on the symbol, before the store to the L3 descriptor.
      "breakpoint at 0x40080090 <remap>",
      "CPU 0 stopped at breakpoint 0x40080090 <remap>",
      "=> 0x40080090 <remap>:  20 01 10 f9              str x0, [x9, #8192]",
      // regs: X0-X30, SP, PC and CPSR, then PSTATE decoded and the MMU's registers.
      "CPU 0",
      "x0      0x40201703          x1      0x80000000          x2      0x40200000",
      "x3      0x0                 x4      0x0                 x5      0x0",
      "x6      0x0                 x7      0x0                 x8      0x0",
      "x9      0x40100000          x10     0x0                 x11     0x0",
      "x12     0x0                 x13     0x0                 x14     0x0",
      "x15     0x0                 x16     0x0                 x17     0x0",
      "x18     0x0                 x19     0x0                 x20     0x0",
      "x21     0x0                 x22     0x0                 x23     0x0",
      "x24     0x0                 x25     0x0                 x26     0x0",
      "x27     0x0                 x28     0x0                 x29     0x0",
      "x30     0x0                 sp      0x0                 pc      0x40080090",
      "cpsr    0x400003c5",
      "pstate     0x400003c5         Z  EL1h  DAIF=DAIF",
      "sp_el0     0x0                sp_el1 0x0",
      "sctlr_el1  0xc5183d           M C SA SA0 I nTWI nTWE SPAN",
      "tcr_el1    0x993519           T0SZ=25 TG0=4K SH0=3 IRGN0=1 ORGN0=1  T1SZ=25 TG1=? SH1=0 IRGN1=0 ORGN1=0 EPD1  IPS=0",
      "ttbr0_el1  0x40100000         table 0x40100000 ASID 0",
      "ttbr1_el1  0x0                table 0x0 ASID 0",
      "mair_el1   0xff               Attr0=0xff Normal WB",
      "par_el1    0x0                PA 0x0",
      "hcr_el2    0x0",
      "vttbr_el2  0x0                table 0x0 VMID 0",
      "vtcr_el2   0x0",
      "vbar_el1   0x0                elr_el1 0x0  esr_el1 0x0  far_el1 0x0  spsr_el1 0x0",
      // Before the descriptor changes, the 4 KiB entry agrees with the tables.
      "CPU 0: 4 live entries",
      "  TLB 4K          0x80000000  → 0x40200000  global VMID 0  RW EL1  ok",
      "  TLB 1G          0x40000000  → 0x40000000  global VMID 0  RW EL1  ok",
      "  L2 table cache  0x80000000  → 0x40102000  ASID 0 VMID 0          ok",
      "  L1 table cache  0x80000000  → 0x40101000  ASID 0 VMID 0          ok",
      // One step runs the store to the L3 descriptor: the entry is now stale, and says why.
      "=> 0x40080094 <stale>:  22 00 40 f9              ldr x2, [x1]",
      "CPU 0: 4 live entries",
      "  TLB 4K          0x80000000  → 0x40200000  global VMID 0  RW EL1  STALE: the L3 descriptor at 0x40102000 now maps 0x40201000",
      "  TLB 1G          0x40000000  → 0x40000000  global VMID 0  RW EL1  ok",
      "  L2 table cache  0x80000000  → 0x40102000  ASID 0 VMID 0          ok",
      "  L1 table cache  0x80000000  → 0x40101000  ASID 0 VMID 0          ok",
      // The walk reads the tables (through the data caches, as the walker does): the new page.
      "walk 0x80000000 on CPU 0 from TTBR0_EL1 0x40100000 (ASID 0, T0SZ 25)",
      "  L1     at 0x40100010     = 0x0000000040101003  table → table 0x40101000",
      "  L2     at 0x40101000     = 0x0000000040102003  table → table 0x40102000",
      "  L3     at 0x40102000     = 0x0000000040201703  page AttrIndx=0 AP=0 SH=3 AF → 0x40201000",
      "  read at EL1: allowed → PA 0x40201000 (4K page, MAIR attr 0xff, SH 3, global)",
      // The load through the stale entry is reported as it happens; x/ reads through the CPU's MMU, stale entry and all; x/…p reads the memory; disasm names the symbols.
      "violation: CPU 0 used a stale TLB entry for VA 0x80000000 (ASID 0): the L3 descriptor at 0x40102000 was 0x40200703 and is now 0x40201703, with no TLBI in between",
      "=> 0x40080098 <stale+0x4>:  20 fc 4c d3              lsr x0, x1, #12",
      "0x80000000:  0x0000000000001234 0x0000000000000000",
      "phys 0x40201000:  0x0000000000005678",
      "   0x40080094 <stale>:  22 00 40 f9              ldr x2, [x1]",
      "=> 0x40080098 <stale+0x4>:  20 fc 4c d3              lsr x0, x1, #12",
      "   0x4008009c <stale+0x8>:  20 87 08 d5              tlbi vae1, x0",
      "the run ended: CPU 0 called PSCI SYSTEM_OFF: success (status 0)",
    ]);
  });
});
