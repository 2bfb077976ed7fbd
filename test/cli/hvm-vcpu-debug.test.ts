// SPDX-License-Identifier: MIT
//
// `shootdown repl|gdb IMAGE --hv --hvm`: the threads are the HVM domain's
// vCPUs (hello.elf runs 2 on 1 pCPU, so one is always off it, read from the
// guest state the HVM host keeps), memory is read through the guest's page
// tables and the EPT, and it reads what the bare machine's does at the same
// point; p2m and domain run in the REPL and as gdb `monitor` commands. The
// gdb-multiarch session is skipped (and says so) when gdb-multiarch is not
// installed.

import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run.ts";
import { findLine as find, GDB_MULTIARCH, gdbBatch, replLines, startStub } from "../helpers/debug-cli.ts";
import { Client, fromHex, monitor } from "../helpers/gdb-client.ts";
import { readElf } from "../../asm/index.ts";

const HELLO = join(ROOT, "guest", "x86_64", "hello.elf");
const ELF = readElf(readFileSync(HELLO));
const sym = (name: string) => {
  const value = ELF.symbols.find((x) => x.name === name)!.value;
  return { value, hex: `0x${value.toString(16)}`, gdb: `0x${value.toString(16).padStart(16, "0")}` };
};
const START = sym("_start");
const REPORT = sym("report");
const PARK = sym("park");
const HVM = ["--hv", "--hvm", "--cpus", "1", "--vcpus", "2"];
/** vCPU 1's alias page in hello.s (ALIAS_VA + 1 * 4096): page_b once its checks are done. */
const ALIAS_1 = "0x40001000";

const repl = (commands: string[], ...args: string[]) => replLines(HELLO, commands, ...args);

if (!GDB_MULTIARCH) console.warn("test/cli/hvm-vcpu-debug.test.ts: the gdb-multiarch session is skipped: gdb-multiarch is not installed (apt-get install gdb-multiarch)");

describe("shootdown repl --hv --hvm", () => {
  it("starts with the vCPUs, shows one off the pCPU at its saved RIP, and reads memory through the EPT as the bare machine reads it", () => {
    const script = ["break report", "continue", "x/4gx ipis_sent_total", "cpu 1", `x/1gx ${ALIAS_1}`, "x/2gx $rsp", `walk ${ALIAS_1}`];
    const hvm = repl(script, ...HVM);
    expect(hvm[0]).toMatch(new RegExp(`^shootdown repl: .*hello\\.elf, 1 CPU, 2 vCPUs, x86_64; d1v0 at ${START.hex} <_start>, current pCPU 0 `));
    expect(hvm).toContain(`d1v0 on pCPU 0 stopped at breakpoint ${REPORT.hex} <report>`);
    // d1v1 has done its checks and sleeps in park's HLT: read from what the host saved, at the instruction after it.
    const sel = hvm.indexOf("current vCPU 1: d1v1 off every pCPU (blocked in HLT)");
    expect(sel).toBeGreaterThan(0);
    expect(hvm[sel + 1]).toMatch(new RegExp(`^=> 0x${(PARK.value + 1n).toString(16)} <park\\+0x1>:  `));
    // The same lines as the bare machine at the same breakpoint: the counters, vCPU 1's alias through its own
    // tables (page_b), its stack.
    const bare = repl(script.slice(0, -1), "--cpus", "2");
    const lines = (out: string[]) => out.filter((l) => /^0x[0-9a-f]+( <[^>]+>)?: {2}0x/.test(l));
    expect(lines(hvm)).toEqual(lines(bare));
    expect(lines(hvm)).toContain(`${ALIAS_1}:  0x0000000042424242`);
    // The walk reads the guest's tables at their machine addresses and ends at the bare machine's frame, as a GPA.
    const walk = hvm.indexOf(find(hvm, new RegExp(`^walk ${ALIAS_1} on d1v1 from CR3 0x[0-9a-f]+ PCID 1 \\(VPID 2, EPTP 0x[0-9a-f]+: table addresses are GPAs, each entry shown at its machine address\\)$`))[0]);
    const pte = find(hvm, /^ {2}PTE +at 0x[0-9a-f]+ += 0x[0-9a-f]{16} {2}P RW A → frame GPA (0x[0-9a-f]+); GPA 0x[0-9a-f]+ → PA (0x[0-9a-f]+)$/, walk);
    const bareWalk = repl([...script.slice(0, 4), `walk ${ALIAS_1}`], "--cpus", "2");
    expect(find(bareWalk, /^ {2}PTE +at 0x[0-9a-f]+ += 0x[0-9a-f]{16} {2}P RW A → frame (0x[0-9a-f]+)$/)[1]).toBe(pte[1]);
    expect(pte[2]).not.toBe(pte[1]);
    expect(find(hvm, /^ {2}read by kernel: allowed → PA (0x[0-9a-f]+) /, walk)[1]).toBe(pte[2]);
  });

  it("gives clear errors: a vCPU that does not exist or is off the pCPU, p2m without a GPA or beyond the EPT", () => {
    const out = repl(["cpu 2", "cpu d1v1", "step", "p2m", "p2m 0x1000000000000", "p2m 0x1000 3", "hypercalls 1"], ...HVM);
    expect(out.slice(1, 9)).toEqual([
      "error: no vCPU 2 (the guests have 2 vCPUs: 0 to 1, or by name d1v0 to d1v1)",
      "current vCPU 1: d1v1 off every pCPU (runnable)",
      `=> ${START.hex} <_start>:  41 89 fc                 mov %edi,%r12d`,
      "error: d1v1 is off every pCPU (runnable): nothing to step; continue lets the scheduler put it on one, or pick a vCPU that runs (cpu N)",
      "error: p2m: the GPA must be a number, not '' (usage: p2m GPA [DOMAIN])",
      "error: p2m: GPA 0x1000000000000 is beyond the 48-bit guest-physical space of a 4-level EPT",
      "error: p2m: no domain 3 (the HVM host runs d1)",
      "error: hypercalls takes no argument under --hvm: the HVM host counts hypercalls by call and result, it keeps no log of each",
    ]);
  });
});

/** A register in a `g` reply (gdb's amd64 order: rax rbx rcx rdx rsi rdi rbp rsp r8–r15 rip …), 64 bits each. */
const regOf = (g: string, n: number) => Buffer.from(g.slice(n * 16, (n + 1) * 16), "hex").readBigUInt64LE(0);
const RDI = 5;
const RIP = 16;

describe("shootdown gdb --hv --hvm: vCPUs as threads", () => {
  it("lists a thread per vCPU, reads one off the pCPU from its saved guest state, stops at a breakpoint, and runs p2m and domain as monitor commands", async () => {
    const { child, port } = await startStub(HELLO, ...HVM);
    const c = await Client.open(port);
    try {
      expect(await c.ask("qfThreadInfo")).toBe("m1,2");
      expect(await c.ask("qsThreadInfo")).toBe("l");
      expect(fromHex(await c.ask("qThreadExtraInfo,1"))).toBe("d1v0 runnable");
      expect(fromHex(await c.ask("qThreadExtraInfo,2"))).toBe("d1v1 runnable");
      expect(await c.ask("T3")).toBe("E01");
      // d1v1 waits at the entry with RDI = 1 (the bare boot protocol).
      expect(await c.ask("Hg2")).toBe("OK");
      const g = await c.ask("g");
      expect(regOf(g, RIP)).toBe(START.value);
      expect(regOf(g, RDI)).toBe(1n);
      expect(await monitor(c, "domain")).toMatch(/^d1: \d+ of \d+ pages, \d+ EPT tables\n {2}d1v0: runnable, waiting for a pCPU; VPID 1\n {2}d1v1: runnable, waiting for a pCPU; VPID 2\n$/);
      expect(await monitor(c, `p2m ${START.hex}`)).toMatch(new RegExp(`^p2m: GPA ${START.hex} of d1 through the EPT .*\\n(.*\\n){4} {2}→ MFN 0x[0-9a-f]+, machine address 0x[0-9a-f]+ \\(RWX\\)\\n {2}p2m type ram_rw\\n$`));
      expect(await monitor(c, "p2m")).toBe("error: p2m: the GPA must be a number, not '' (usage: p2m GPA [DOMAIN])\n");
      expect(await c.ask(`Z0,${REPORT.value.toString(16)},1`)).toBe("OK");
      c.write("$c#63");
      await c.take(/^\+/);
      const stop = await c.take(/^(?:\$O[0-9a-f]*#[0-9a-f]{2})*\$T05(?:swbreak:;)?thread:([0-9a-f]+);#[0-9a-f]{2}/, 30_000);
      c.write("+");
      expect(stop[1]).toBe("1");
      expect(fromHex(await c.ask("qThreadExtraInfo,1"))).toBe("d1v0 on pCPU 0");
      expect(fromHex(await c.ask("qThreadExtraInfo,2"))).toBe("d1v1 blocked in HLT");
      expect(regOf(await c.ask("g"), RIP)).toBe(REPORT.value);
      // The vCPU off the pCPU: its saved RIP past park's HLT, its alias page through its own tables and the EPT.
      expect(await c.ask("Hg2")).toBe("OK");
      expect(regOf(await c.ask("g"), RIP)).toBe(PARK.value + 1n);
      expect(await c.ask(`m${ALIAS_1.slice(2)},8`)).toBe("4242424200000000");
      // A write to its registers is kept in what the host saved of it.
      expect(await c.ask("P8=efbeadde00000000")).toBe("OK");
      expect(await c.ask("p8")).toBe("efbeadde00000000");
    } finally {
      c.socket.destroy();
      child.kill();
      await once(child, "exit");
    }
  });

  it.skipIf(!GDB_MULTIARCH)("gdb-multiarch: info threads, a breakpoint, a thread off the pCPU read through the EPT, and monitor domain", async () => {
    const { child, port } = await startStub(HELLO, ...HVM);
    const out = gdbBatch(HELLO, port, ["info threads", "break report", "continue", "info threads", "thread 2", "print/x $rip", `x/gx ${ALIAS_1}`, "monitor domain", "kill"]);
    await once(child, "exit");
    expect(out).toMatch(new RegExp(`Thread 1 \\(d1v0 runnable\\) +${START.gdb} in _start \\(\\)`));
    expect(out).toMatch(new RegExp(`Thread 2 \\(d1v1 runnable\\) +${START.gdb} in _start \\(\\)`));
    expect(out).toMatch(new RegExp(`^Thread 1 hit Breakpoint 1, ${REPORT.gdb} in report \\(\\)$`, "m"));
    expect(out).toMatch(new RegExp(`\\* 1 +Thread 1 \\(d1v0 on pCPU 0\\) +${REPORT.gdb} in report \\(\\)`));
    expect(out).toMatch(new RegExp(` 2 +Thread 2 \\(d1v1 blocked in HLT\\) +0x${(PARK.value + 1n).toString(16).padStart(16, "0")} in park \\(\\)`));
    expect(out).toMatch(new RegExp(`^\\$1 = 0x${(PARK.value + 1n).toString(16)}$`, "m"));
    expect(out).toMatch(/^0x40001000:\s+0x0000000042424242$/m);
    expect(out).toMatch(/^ {2}d1v0: running on pCPU 0; VPID 1; last on pCPU 0$/m);
  });
});
