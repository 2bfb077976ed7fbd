// SPDX-License-Identifier: MIT
//
// The debugger under the hypervisor (`shootdown repl|gdb IMAGE --hv`): its
// threads are the guests' vCPUs, not the machine's pCPUs. The PV kernel's
// churn runs 4 vCPUs on 2 pCPUs, so some are always off every pCPU: those
// are read from the registers the hypervisor keeps of them, and their
// memory through their own CR3. The gdb-multiarch session is skipped (and
// says so) when gdb-multiarch is not installed.

import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tmpFile } from "../helpers/run.ts";
import { findLine as find, replLines, startStub } from "../helpers/debug-cli.ts";
import { Client } from "../helpers/gdb-client.ts";
import { readElf } from "../../asm/index.ts";

const KERNEL = join(ROOT, "guest", "x86_64", "pv", "kernel.elf");
const SYMBOLS = readElf(readFileSync(KERNEL)).symbols;
/** A symbol of the PV kernel: its address, and that as the REPL and gdb print it. */
const sym = (name: string) => {
  const value = SYMBOLS.find((x) => x.name === name)!.value;
  return { value, hex: `0x${value.toString(16)}`, gdb: `0x${value.toString(16).padStart(16, "0")}`, le: Buffer.from(new BigUint64Array([value]).buffer).toString("hex") };
};
const LOOP = sym("churn_iteration");
const START = sym("_start");
const AP_ENTRY = sym("ap_entry");
const CHURN = ["--hv", "--cpus", "2", "--vcpus", "4", "--", "workload=churn", "iterations=2"];

const repl = (commands: string[], ...args: string[]) => replLines(KERNEL, commands, ...args);

const GDB = spawnSync("gdb-multiarch", ["--version"], { encoding: "utf8" }).status === 0 ? "gdb-multiarch" : undefined;
if (!GDB) console.warn("test/cli/vcpu-debug.test.ts: the gdb-multiarch session is skipped: gdb-multiarch is not installed (apt-get install gdb-multiarch)");

/** A register's value in the REPL's `regs` output, from line `from` on. */
const reg = (lines: string[], name: string, from: number) => BigInt(find(lines, new RegExp(`(?:^|\\s)${name}\\s+(0x[0-9a-f]+)`), from)[1]!);

describe("shootdown repl --hv: vCPUs as `cpu N`", () => {
  it("numbers the vCPUs, says which run and where, and refuses a vCPU that does not exist or cannot be stepped", () => {
    const out = repl(["cpu 9", "cpu d3v0", "cpu d1v2", "regs", "step", "break churn_iteration", "continue", "cpu 0"], ...CHURN);
    expect(out[0]).toMatch(/^shootdown repl: .*kernel\.elf, 2 CPUs, 4 vCPUs, x86_64; d1v0 at 0x[0-9a-f]+ <_start>, current pCPU 0 /);
    expect(out.slice(1, 8)).toEqual([
      "error: no vCPU 9 (the guests have 4 vCPUs: 0 to 3, or by name d1v0 to d1v3)",
      "error: no vCPU d3v0 (the guests have 4 vCPUs: 0 to 3, or by name d1v0 to d1v3)",
      // vCPU 2 is down until d1v0 brings it up (VCPUOP_initialise, VCPUOP_up).
      "current vCPU 2: d1v2 off every pCPU (down)",
      "d1v2 is down and has no registers yet (VCPUOP_initialise gives it some)",
      "error: d1v2 is down and has no registers yet (VCPUOP_initialise gives it some)",
      "error: d1v2 is off every pCPU (down): nothing to step; continue lets the scheduler put it on one, or pick a vCPU that runs (cpu N)",
      `breakpoint at ${LOOP.hex} <churn_iteration>`,
    ]);
    // The breakpoint in the churn loop names the vCPU on the pCPU that hit it, which becomes the current one.
    const hit = find(out, new RegExp(`^(d1v[0-3]) on pCPU ([01]) stopped at breakpoint ${LOOP.hex} <churn_iteration>$`));
    const at = out.indexOf(hit[0]);
    expect(out[at + 1]).toMatch(new RegExp(`^=> ${LOOP.hex} <churn_iteration>:  `));
    expect(out[at + 2]).toMatch(/^current vCPU 0: d1v0 (on pCPU [01]|off every pCPU \(\w+\))$/);
  });

  it("starts on pCPU 0, whose first steps are the hypervisor's, and can look at a pCPU itself (cpu pN)", () => {
    const out = repl(["step 2", "cpu p2", "cpu p1", "tlb d1v1", "cpu d1v0", "break churn_iteration", "continue", "cpu p0", "tlb"], ...CHURN);
    expect(out[1]).toBe("pCPU 0 in the hypervisor: schedule: take a vCPU from the run queue");
    expect(out.slice(3, 7)).toEqual([
      "error: no pCPU 2 (the machine has 2: p0 to p1)",
      "current pCPU 1, running no vCPU",
      "=> 0x0:  00 00                    add %al,(%rax)",
      "error: d1v1 is off every pCPU (down): a TLB belongs to a pCPU (tlb pN shows pCPU N's)",
    ]);
    const p0 = out.findIndex((l) => /^current pCPU 0, running d1v[0-3]$/.test(l));
    expect(p0).toBeGreaterThan(0);
    expect(out[p0 + 2]).toMatch(/^pCPU 0, running d1v[0-3]: \d+ live entries$/);
  });

  it("reads a vCPU that is off every pCPU from its saved registers, and its memory through its own page tables", () => {
    // Seven hits of the churn loop on 4 vCPUs and 2 pCPUs: d1v1 has done its
    // work and gone down, off every pCPU, with its registers saved.
    const continues = Array.from({ length: 7 }, () => "continue");
    const out = repl(["break churn_iteration", ...continues, "domain", "cpu d1v1", "regs", "x/2gx $rsp", "walk $rsp", "step"], ...CHURN);
    const dom = find(out, /^d1: /);
    const domAt = out.indexOf(dom[0]);
    const vcpu1 = find(out, /^ {2}vCPU 1: down; VPID 2; L4 MFN (0x[0-9a-f]+); last on pCPU ([01])$/, domAt);
    const l4 = BigInt(vcpu1[1]!) << 12n;
    const sel = out.findIndex((l) => l === "current vCPU 1: d1v1 off every pCPU (down)");
    expect(sel).toBeGreaterThan(domAt);
    // `cpu` shows the instruction at its saved RIP; regs show that RIP and its own CR3.
    const here = find(out, /^=> (0x[0-9a-f]+) </, sel);
    expect(out[sel + 2]).toBe("d1v1 off every pCPU (down)");
    const rip = reg(out, "rip", sel + 2);
    expect(BigInt(here[1]!)).toBe(rip);
    expect(find(out, /^cr3 {2}(0x[0-9a-f]+) /, sel)[1]).toBe(`0x${l4.toString(16)}`);
    const rsp = reg(out, "rsp", sel + 2);
    // x reads through its CR3: the walk of its RSP starts there, and the bytes are those at the PA the walk ends at.
    const words = find(out, /^0x[0-9a-f]+ <[^>]+>: {2}(0x[0-9a-f]{16} 0x[0-9a-f]{16})$/, sel);
    const walk = find(out, new RegExp(`^walk 0x${rsp.toString(16)} <[^>]+> on d1v1 from CR3 0x${l4.toString(16)}$`), sel);
    const pa = find(out, /^ {2}read by kernel: allowed → PA (0x[0-9a-f]+) /, out.indexOf(walk[0]))[1]!;
    expect(out.at(-2)).toBe("error: d1v1 is off every pCPU (down): nothing to step; continue lets the scheduler put it on one, or pick a vCPU that runs (cpu N)");
    const phys = repl(["break churn_iteration", ...continues, `x/2gxp ${pa}`], ...CHURN);
    expect(find(phys, /^phys 0x[0-9a-f]+: {2}(.*)$/)[1]).toBe(words[1]);
  });

  it("translates through the off-pCPU vCPU's own L4, never through that of the vCPU on a pCPU (two domains)", () => {
    const args = ["--hv", "--cpus", "2", "--vcpus", "2", "--domains", "2", "--mem", "64M", "--", "workload=churn", "iterations=2"];
    const out = repl(["break churn_iteration", "continue", "domain", "cpu d2v1", "walk $rip", "x/4bx $rip", "cpu d1v0", "walk ap_entry"], ...args);
    const hit = find(out, /^(d[12]v0) on pCPU [01] stopped at breakpoint/);
    expect(hit[1]).toBeDefined();
    // d2v1 has not run yet: it is read from its VCPUOP_initialise context, whose CR3 is d2's L4.
    const d2 = out.indexOf(find(out, /^d2: /)[0]);
    const l4d2 = BigInt(find(out, /^ {2}vCPU 1: runnable, waiting for a pCPU; VPID 4; L4 MFN (0x[0-9a-f]+)$/, d2)[1]!) << 12n;
    const d1 = out.indexOf(find(out, /^d1: /)[0]);
    const l4d1 = BigInt(find(out, /^ {2}vCPU 0: running on pCPU [01]; VPID 1; L4 MFN (0x[0-9a-f]+)/, d1)[1]!) << 12n;
    expect(l4d1).not.toBe(l4d2);
    const sel = out.indexOf("current vCPU 3: d2v1 off every pCPU (runnable)");
    expect(sel).toBeGreaterThan(0);
    expect(out[sel + 1]).toMatch(/^=> 0x[0-9a-f]+ <ap_entry>:/);
    const w2 = out.indexOf(find(out, /^walk 0x[0-9a-f]+ <ap_entry> on d2v1 from CR3 (0x[0-9a-f]+)$/, sel)[0]);
    expect(out[w2]).toMatch(new RegExp(`from CR3 0x${l4d2.toString(16)}$`));
    expect(out[w2 + 1]).toMatch(new RegExp(`^ {2}PML4E {2}at 0x${l4d2.toString(16)} `));
    const pa2 = find(out, /allowed → PA (0x[0-9a-f]+)/, w2)[1];
    // The same address through d1v0, which runs: d1's tables and another frame.
    const w1 = out.indexOf(find(out, /^walk 0x[0-9a-f]+ <ap_entry> on d1v0 from CR3 (0x[0-9a-f]+)$/, w2 + 1)[0]);
    expect(out[w1]).toMatch(new RegExp(`from CR3 0x${l4d1.toString(16)}$`));
    const pa1 = find(out, /allowed → PA (0x[0-9a-f]+)/, w1)[1];
    expect(pa1).not.toBe(pa2);
    // The bytes x shows for d2v1 are those of the instruction `cpu` disassembled there.
    const bytes = /^=> 0x[0-9a-f]+ <ap_entry>: {2}((?:[0-9a-f]{2} )+)/.exec(out[sel + 1]!)![1]!.trim().split(" ").slice(0, 4);
    const shown = find(out, /^0x[0-9a-f]+ <ap_entry>: {2}(.*)$/, sel)[1]!.split(" ");
    expect(shown.slice(0, bytes.length)).toEqual(bytes.map((b) => `0x${b}`));
  });
});

const fromHex = (h: string) => Buffer.from(h, "hex").toString("utf8");
const ripOf = (g: string) => Buffer.from(g.slice(16 * 16, 17 * 16), "hex").readBigUInt64LE(0);

describe("shootdown gdb --hv: vCPUs as threads", () => {
  it("lists a thread per vCPU with where it runs, reads an off-pCPU one from its saved registers, and names the vCPU a breakpoint stopped", async () => {
    const { child, port } = await startStub(KERNEL, ...CHURN);
    const c = await Client.open(port);
    try {
      expect(await c.ask("qfThreadInfo")).toBe("m1,2,3,4");
      expect(await c.ask("qsThreadInfo")).toBe("l");
      // Before anything runs, d1v0 waits for a pCPU and the others are down.
      expect(fromHex(await c.ask("qThreadExtraInfo,1"))).toBe("d1v0 runnable");
      expect(fromHex(await c.ask("qThreadExtraInfo,2"))).toBe("d1v1 down");
      expect(await c.ask("T4")).toBe("OK");
      expect(await c.ask("T5")).toBe("E01");
      expect(await c.ask("Hg5")).toBe("E01");
      // d1v0 is read from its start context: RIP is the entry point.
      expect(await c.ask("Hg1")).toBe("OK");
      expect(ripOf(await c.ask("g"))).toBe(START.value);
      // A vCPU off every pCPU cannot be stepped: an error, not a stop.
      expect(await c.ask("Hc2")).toBe("OK");
      expect(await c.ask("s")).toMatch(/^E\.d1v1 is off every pCPU \(down\): nothing to step/);
      expect(await c.ask("Hc0")).toBe("OK");
      expect(await c.ask(`Z0,${LOOP.value.toString(16)},1`)).toBe("OK");
      c.write("$c#63");
      await c.take(/^\+/);
      const stop = await c.take(/^(?:\$O[0-9a-f]*#[0-9a-f]{2})*\$T05thread:([0-9a-f]+);#[0-9a-f]{2}/, 30_000);
      c.write("+");
      const thread = Number.parseInt(stop[1]!, 16);
      // The thread that stopped is a vCPU on a pCPU, at the breakpoint, and is gdb's current one.
      expect(fromHex(await c.ask(`qThreadExtraInfo,${thread.toString(16)}`))).toMatch(new RegExp(`^d1v${thread - 1} on pCPU [01]$`));
      expect(await c.ask("qC")).toBe(`QC${thread.toString(16)}`);
      expect(ripOf(await c.ask("g"))).toBe(LOOP.value);
      // The four threads say where each vCPU is.
      const infos = await Promise.all([1, 2, 3, 4].map(async (t) => fromHex(await c.ask(`qThreadExtraInfo,${t}`))));
      for (const [i, info] of infos.entries()) expect(info).toMatch(new RegExp(`^d1v${i} (on pCPU [01]|runnable|down|blocked)$`));
      expect(infos.filter((i) => / on pCPU /.test(i)).length).toBeLessThanOrEqual(2);
    } finally {
      c.socket.destroy();
      child.kill();
      await once(child, "exit");
    }
  });

  it("writes the registers of a vCPU off every pCPU into what the hypervisor keeps of it", async () => {
    const { child, port } = await startStub(KERNEL, ...CHURN);
    const c = await Client.open(port);
    const cont = async () => {
      c.write("$c#63");
      await c.take(/^\+/);
      const stop = await c.take(/^(?:\$O[0-9a-f]*#[0-9a-f]{2})*\$T05thread:([0-9a-f]+);#[0-9a-f]{2}/, 30_000);
      c.write("+");
      return Number.parseInt(stop[1]!, 16);
    };
    try {
      expect(await c.ask(`Z0,${LOOP.value.toString(16)},1`)).toBe("OK");
      // Two stops in: d1v2 is up but has not run; it has only its VCPUOP_initialise context (RIP, RSP, RDI, RSI, RFLAGS, CR3).
      await cont();
      await cont();
      expect(fromHex(await c.ask("qThreadExtraInfo,3"))).toBe("d1v2 runnable");
      expect(await c.ask("Hg3")).toBe("OK");
      expect(ripOf(await c.ask("g"))).toBe(AP_ENTRY.value);
      const moved = sym("ap_entry");
      moved.le = Buffer.from(new BigUint64Array([AP_ENTRY.value + 1n]).buffer).toString("hex");
      expect(await c.ask(`P10=${moved.le}`)).toBe("OK");
      expect(await c.ask("p10")).toBe(moved.le);
      // RAX is not part of the context: the write is refused and changes nothing.
      expect(await c.ask("P0=0100000000000000")).toBe("E45");
      expect(await c.ask("p0")).toBe("0000000000000000");
      expect(await c.ask(`P10=${AP_ENTRY.le}`)).toBe("OK");
      // Five more stops: d1v1 has finished and gone down, its registers saved; every one of them can be written.
      for (let i = 0; i < 5; i++) await cont();
      expect(fromHex(await c.ask("qThreadExtraInfo,2"))).toBe("d1v1 down");
      expect(await c.ask("Hg2")).toBe("OK");
      expect(await c.ask("P0=efbeadde00000000")).toBe("OK");
      expect(await c.ask("p0")).toBe("efbeadde00000000");
    } finally {
      c.socket.destroy();
      child.kill();
      await once(child, "exit");
    }
  });

  it.skipIf(!GDB)("gdb-multiarch: info threads, a thread off every pCPU, and a breakpoint in the churn loop", async () => {
    const { child, port } = await startStub(KERNEL, ...CHURN);
    const path = tmpFile("gdb.out");
    const fd = openSync(path, "w");
    const commands = [
      "set pagination off", `target remote 127.0.0.1:${port}`, "info threads", "break churn_iteration", "continue", "continue",
      "info threads", "thread 4", "print/x $rip", "print/x $cr3", "kill",
    ];
    spawnSync(GDB!, ["-nx", "-batch", KERNEL, ...commands.flatMap((c) => ["-ex", c])], { stdio: ["ignore", fd, fd], timeout: 60_000 });
    closeSync(fd);
    await once(child, "exit");
    const out = readFileSync(path, "utf8");
    // Four threads before the run: d1v0 waits for a pCPU, the others are down.
    expect(out).toMatch(/Thread 1 \(d1v0 runnable\)/);
    // A vCPU never initialised has no registers: gdb lists it, its registers unavailable.
    expect(out).toMatch(/Thread 4 \(d1v3 down\) +<unavailable> in \?\? \(\)/);
    // The breakpoint names the vCPU thread that hit it, and gdb switches to it.
    const hits = [...out.matchAll(new RegExp(`^Thread (\\d) hit Breakpoint 1, ${LOOP.gdb} in churn_iteration \\(\\)$`, "gm"))].map((m) => Number(m[1]));
    expect(hits).toHaveLength(2);
    // At the second stop the stopped vCPU is on a pCPU; vCPU 3 (thread 4) has been brought up and waits for one, at
    // ap_entry (its VCPUOP_initialise context), read from what the hypervisor keeps, with its own CR3.
    expect(out).toMatch(new RegExp(`\\* ${hits[1]} +Thread ${hits[1]} \\(d1v${hits[1]! - 1} on pCPU [01]\\) +${LOOP.gdb} in churn_iteration \\(\\)`));
    expect(out).toMatch(new RegExp(`Thread 4 \\(d1v3 runnable\\) +${AP_ENTRY.gdb} in ap_entry \\(\\)`));
    expect(out).toMatch(new RegExp(`^\\$1 = ${AP_ENTRY.hex}$`, "m"));
    // Its CR3 is the L4 the kernel switched to (it says which).
    const l4 = /on our own page tables \(L4 at MFN (0x[0-9a-f]+)\)/.exec(out)![1]!;
    expect(out).toMatch(new RegExp(`^\\$2 = 0x${(BigInt(l4) << 12n).toString(16)}$`, "m"));
  });
});
