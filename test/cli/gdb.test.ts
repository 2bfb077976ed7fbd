// SPDX-License-Identifier: MIT
//
// Debian's gdb-multiarch against `shootdown gdb`, in batch mode: connect,
// read registers, single-step, break on a symbol, continue, examine memory
// through the CPU's MMU (stale TLB entry and all), list the CPUs as threads,
// and run the REPL's paging commands through `monitor`. Skipped (and says
// so) when gdb-multiarch is not installed; .ci/run installs it.
// The same session runs against an AArch64 image (its descriptor changed
// without TLBI), and against hello on 4 CPUs, whose secondaries PSCI starts.

import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { armTargetXml } from "../../emulator/debug/arm-target.ts";
import { x86TargetXml } from "../../emulator/debug/x86-target.ts";
import { join } from "node:path";
import { ROOT, image, imageFile, tmpFile } from "../helpers/run.ts";
import { STALE_GUEST, STALE_GUEST_A64 } from "../helpers/debug.ts";
import { GDB_MULTIARCH, gdbBatch, startStub } from "../helpers/debug-cli.ts";

const GDB = GDB_MULTIARCH;
const gdb = gdbBatch;
if (!GDB) console.warn("test/cli/gdb.test.ts: skipped: gdb-multiarch is not installed (apt-get install gdb-multiarch)");

/** The same gdb session twice, each against a fresh stub with the same options, ending with kill. */
async function twice(elf: string, session: string[], ...args: string[]): Promise<string[]> {
  const runs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const stub = await startStub(elf, ...args);
    runs.push(gdb(elf, stub.port, [...session, "kill"]));
    await once(stub.child, "exit");
  }
  return runs;
}

describe.skipIf(!GDB)("gdb-multiarch and the target descriptions", () => {
  // gdb must accept each description for its architecture and number the
  // registers as the stub's g packet lays them out.
  it.each([
    ["aarch64", armTargetXml, ["x0", "sp", "pc", "cpsr", "sctlr_el1", "ttbr0_el1", "ttbr1_el1", "tcr_el1", "mair_el1", "hcr_el2", "vttbr_el2"]],
    ["i386:x86-64", x86TargetXml, ["rax", "rip", "eflags", "st0", "fop", "fs_base", "cr0", "cr3", "cr4", "efer", "pkru"]],
  ] as const)("gdb accepts the %s description with the system registers", (arch, xml, names) => {
    const path = tmpFile("target.xml");
    writeFileSync(path, xml());
    const r = spawnSync(GDB!, ["-nx", "-batch", "-ex", `set tdesc filename ${path}`, "-ex", `set architecture ${arch}`, "-ex", "maint print remote-registers"], { encoding: "utf8" });
    expect(r.stderr).not.toMatch(/warning|error/i);
    // Name, Nr, Rel, Offset, Size, Type, then the remote number and the offset in the g packet.
    const remote = new Map([...r.stdout.matchAll(/^ (\S+) .* (\d+) +(\d+)$/gm)].map((m) => [m[1]!, [Number(m[2]), Number(m[3])]]));
    const regs = [...xml().matchAll(/<reg name="([^"]+)" bitsize="(\d+)"/g)].map((m) => ({ name: m[1]!, bytes: Number(m[2]) / 8 }));
    for (const name of names) {
      const i = regs.findIndex((x) => x.name === name);
      const offset = regs.slice(0, i).reduce((n, x) => n + x.bytes, 0);
      expect(remote.get(name), name).toEqual([i, offset]);
    }
  });
});

describe.skipIf(!GDB)("gdb-multiarch against shootdown gdb (x86-64)", () => {
  const elf = imageFile(STALE_GUEST, "stale.elf");

  it("connects, reads registers, steps, breaks, continues, examines memory and walks through monitor", async () => {
    const stub = await startStub(elf, "--cpus", "2");
    const out = gdb(elf, stub.port, [
      "info registers", "stepi", "break remap", "continue", "x/4gx 0x600000", "info threads", "stepi", "stepi",
      "x/2gx 0x600000", "monitor tlb", "monitor walk 0x600000", "thread 2", "info registers rdi rip", "continue",
    ]);
    const [status] = await once(stub.child, "exit");
    expect(status).toBe(0);
    const lines = out.split("\n");
    // info registers: the core registers, the segment bases and the paging ones, as the target description names them.
    expect(out).toMatch(/^rax +0x0 +0$/m);
    expect(out).toMatch(/^rsi +0x1000 +4096$/m);
    expect(out).toMatch(/^rip +0x100000 +0x100000 <_start>$/m);
    expect(out).toMatch(/^eflags +0x2 +\[ \]$/m);
    expect(out).toMatch(/^cs +0x8 +8$/m);
    expect(out).toMatch(/^cr3 +0x3000 +12288$/m);
    expect(out).toMatch(/^efer +0xd00 +3328$/m);
    // stepi, break, continue.
    expect(out).toMatch(/^0x0000000000100003 in _start \(\)$/m);
    expect(out).toMatch(/^Breakpoint 1 at 0x100037$/m);
    expect(out).toMatch(/^Thread 1 hit Breakpoint 1, 0x0000000000100037 in remap \(\)$/m);
    // x/4gx through CPU 0's MMU.
    expect(out).toMatch(/^0x600000:\t0x0000000000001234\t0x0000000000000000\n0x600010:\t0x0000000000000000\t0x0000000000000000$/m);
    // One thread per CPU.
    expect(out).toMatch(/^\* 1 +Thread 1 \(CPU 0, runnable\) 0x0000000000100037 in remap \(\)$/m);
    expect(out).toMatch(/^ {2}2 +Thread 2 \(CPU 1, runnable\) 0x0000000000100000 in _start \(\)$/m);
    // The second stepi uses the stale entry: the stub says so before the stop.
    expect(out).toContain(
      "violation: CPU 0 used a stale TLB entry for VA 0x600000 (PCID 0): the PTE at 0x300000 was 0x900063 and is now 0x901003, with no invalidation in between\n0x0000000000100046 in stale ()",
    );
    // monitor runs the REPL's paging commands.
    expect(out).toMatch(/^ {2}TLB 4K +0x600000 +→ 0x900000 +PCID 0 +RW S X D +STALE: the PTE at 0x300000 now maps 0x901000$/m);
    const walk = lines.indexOf("walk 0x600000 on CPU 0 from CR3 0x3000");
    expect(lines.slice(walk + 3, walk + 6)).toEqual([
      "  PDE    at 0x5018         = 0x0000000000300023  P RW A → table 0x300000",
      "  PTE    at 0x300000       = 0x0000000000901003  P RW → frame 0x901000",
      "  read by kernel: allowed → PA 0x901000 (4K page, writable, supervisor, executable, WB)",
    ]);
    // Thread 2 is CPU 1, with RDI = 1 from the boot protocol.
    expect(out).toMatch(/^rdi +0x1 +1$/m);
    expect(out).toMatch(/^\[Inferior 1 \(Remote target\) exited normally\]$/m);
  });

  it("stops at a write watchpoint, set by virtual address and watched where the MMU maps it", async () => {
    const stub = await startStub(elf, "--cpus", "2");
    const out = gdb(elf, stub.port, ["watch *(long*)0x901000", "continue", "info registers rip", "kill"]);
    await once(stub.child, "exit");
    expect(out).toMatch(/^Thread 1 hit Hardware watchpoint 1: \*\(long\*\)0x901000\n\nOld value = 0\nNew value = 22136\n0x0000000000100037 in remap \(\)$/m);
    expect(out).toMatch(/^rip +0x100037 +0x100037 <remap>$/m);
  });

  it("is deterministic: the same gdb session on the same seed sees the same states", async () => {
    const session = ["break stale", "continue", "info registers rip", "thread 2", "stepi 5", "info registers rip rdi", "monitor sched"];
    const runs = await twice(elf, session, "--cpus", "2", "--seed", "3", "--quantum", "4");
    expect(runs[0]).toMatch(/^state hash 0x[0-9a-f]+$/m);
    expect(runs[1]).toBe(runs[0]);
  });
});

describe.skipIf(!GDB)("gdb-multiarch against shootdown gdb (AArch64)", () => {
  const elf = imageFile(image(STALE_GUEST_A64, { arch: "aarch64", base: 0x4008_0000n }), "stale-a64.elf");
  const hello = join(ROOT, "guest", "aarch64", "hello.elf");

  it("connects, reads registers, steps, breaks, continues, examines memory and walks through monitor", async () => {
    const stub = await startStub(elf, "--cpus", "2");
    const out = gdb(elf, stub.port, [
      "info registers", "stepi", "break remap", "continue", "x/4gx 0x80000000", "info threads", "stepi", "stepi",
      "x/2gx 0x80000000", "monitor tlb", "monitor walk 0x80000000", "info registers x0 x2 pc", "continue",
    ]);
    const [status] = await once(stub.child, "exit");
    expect(status).toBe(0);
    const lines = out.split("\n");
    // info registers: X0 (the boot-information block), SP, PC, CPSR (EL1h, DAIF masked, Z) and the system registers.
    expect(out).toMatch(/^x0 +0x47ffe000 +1207951360$/m);
    expect(out).toMatch(/^x30 +0x0 +0$/m);
    expect(out).toMatch(/^sp +0x0 +0x0$/m);
    expect(out).toMatch(/^pc +0x40080000 +0x40080000 <_start>$/m);
    expect(out).toMatch(/^cpsr +0x400003c5 +1073742789$/m);
    expect(out).toMatch(/^sctlr_el1 +0xc50838 +12912696$/m);
    expect(out).toMatch(/^ttbr0_el1 +0x0 +0$/m);
    // stepi, break, continue.
    expect(out).toMatch(/^0x0000000040080004 in _start \(\)$/m);
    expect(out).toMatch(/^Breakpoint 1 at 0x40080090$/m);
    expect(out).toMatch(/^Breakpoint 1, 0x0000000040080090 in remap \(\)$/m);
    // x/4gx through CPU 0's MMU (and its data cache, which holds the store).
    expect(out).toMatch(/^0x80000000:\t0x0000000000001234\t0x0000000000000000\n0x80000010:\t0x0000000000000000\t0x0000000000000000$/m);
    // CPU 1 is off until PSCI CPU_ON: one thread.
    expect(out).toMatch(/^\* 1 +Thread 1 \(CPU 0, runnable\) 0x0000000040080090 in remap \(\)$/m);
    // The second stepi uses the stale entry: the stub says so before the stop.
    expect(out).toContain(
      "violation: CPU 0 used a stale TLB entry for VA 0x80000000 (ASID 0): the L3 descriptor at 0x40102000 was 0x40200703 and is now 0x40201703, with no TLBI in between\n0x0000000040080098 in stale ()",
    );
    expect(out).toMatch(/^0x80000000:\t0x0000000000001234\t0x0000000000000000$/m);
    // monitor runs the REPL's paging commands.
    expect(out).toMatch(/^ {2}TLB 4K +0x80000000 +→ 0x40200000 +global VMID 0 +RW EL1 +STALE: the L3 descriptor at 0x40102000 now maps 0x40201000$/m);
    const walk = lines.indexOf("walk 0x80000000 on CPU 0 from TTBR0_EL1 0x40100000 (ASID 0, T0SZ 25)");
    expect(lines.slice(walk + 3, walk + 5)).toEqual([
      "  L3     at 0x40102000     = 0x0000000040201703  page AttrIndx=0 AP=0 SH=3 AF → 0x40201000",
      "  read at EL1: allowed → PA 0x40201000 (4K page, MAIR attr 0xff, SH 3, global)",
    ]);
    // The load read the old page through the stale entry.
    expect(out).toMatch(/^x2 +0x1234 +4660$/m);
    expect(out).toMatch(/^pc +0x40080098 +0x40080098 <stale\+4>$/m);
    expect(out).toMatch(/^\[Inferior 1 \(Remote target\) exited normally\]$/m);
  });

  it("sees the CPUs PSCI starts as threads, and is deterministic: the same gdb session on the same seed sees the same states", async () => {
    const session = ["break secondary_entry", "continue", "info threads", "info registers x0 x19 pc", "stepi 5", "info registers pc", "monitor sched"];
    const runs = await twice(hello, session, "--cpus", "4", "--seed", "3", "--quantum", "4");
    expect(runs[0]).toMatch(/hit Breakpoint 1, 0x[0-9a-f]+ in secondary_entry \(\)$/m);
    expect(runs[0]).toMatch(/^\* \d +Thread \d \(CPU [123], runnable\) 0x[0-9a-f]+ in secondary_entry \(\)$/m);
    expect(runs[0]).toMatch(/^ {2}1 +Thread 1 \(CPU 0, runnable\) /m);
    expect(runs[0]).toMatch(/^state hash 0x[0-9a-f]+$/m);
    expect(runs[1]).toBe(runs[0]);
  });
});
