// SPDX-License-Identifier: MIT
//
// `shootdown repl|gdb IMAGE --hv` on AArch64: the threads are the domain's
// vCPUs (hello.elf runs 4 on 2 pCPUs, so some are always off every pCPU,
// read from the context the hypervisor keeps), `cpu d1vN` selects one,
// and the Arm hypervisor's commands (p2m, vcpu) and `cache` run in the REPL
// and as gdb `monitor` commands. The gdb-multiarch session is skipped (and
// says so) when gdb-multiarch is not installed.

import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run.ts";
import { findLine as find, GDB_MULTIARCH, gdbBatch, replLines, startStub } from "../helpers/debug-cli.ts";
import { Client, fromHex, monitor } from "../helpers/gdb-client.ts";
import { readElf } from "../../asm/index.ts";

const HELLO = join(ROOT, "guest", "aarch64", "hello.elf");
const ELF = readElf(readFileSync(HELLO));
const sym = (name: string) => {
  const value = ELF.symbols.find((x) => x.name === name)!.value;
  return { value, hex: `0x${value.toString(16)}`, gdb: `0x${value.toString(16).padStart(16, "0")}` };
};
const ROUND = sym("round");
const START = sym("_start");
const HV = ["--hv", "--cpus", "2", "--vcpus", "4"];

const repl = (commands: string[], ...args: string[]) => replLines(HELLO, commands, ...args);

const GDB = GDB_MULTIARCH;
if (!GDB) console.warn("test/cli/arm-vcpu-debug.test.ts: the gdb-multiarch session is skipped: gdb-multiarch is not installed (apt-get install gdb-multiarch)");

describe("shootdown repl --hv on AArch64", () => {
  it("numbers the vCPUs, reads one off every pCPU from its context, and runs p2m, vcpu and cache", () => {
    const out = repl(["cpu 4", "cpu d1v1", "cache", "cpu d1v0", "p2m _start", `p2m ${START.hex}`, "break round", "continue", "vcpu", "cache p1", "cpu p1", "cache all"], ...HV);
    expect(out[0]).toMatch(/^shootdown repl: .*hello\.elf, 2 CPUs, 4 vCPUs, aarch64; d1v0 at 0x[0-9a-f]+ <_start>, current pCPU 0 /);
    expect(out.slice(1, 8)).toEqual([
      "error: no vCPU 4 (the guests have 4 vCPUs: 0 to 3, or by name d1v0 to d1v3)",
      "current vCPU 1: d1v1 off every pCPU (down)",
      "=> 0x0: cannot fetch (not mapped)",
      "error: d1v1 is off every pCPU (down): an L1 data cache belongs to a pCPU (cache pN shows pCPU N's)",
      "current vCPU 0: d1v0 off every pCPU (runnable)",
      // Before it runs, d1v0's context is at the entry, read through the stage 2 (its MMU is off).
      `=> ${START.hex} <_start>:  13 00 80 d2              mov x19, #0x0 // #0`,
      "error: p2m: the IPA must be a number, not '_start' (usage: p2m IPA)",
    ]);
    expect(out[8]).toMatch(new RegExp(`^p2m: IPA ${START.hex} \\(VMID 1, root MFN 0x[0-9a-f]+\\)$`));
    expect(find(out, /^ {2}→ MFN (0x[0-9a-f]+), machine address (0x[0-9a-f]+)$/, 8)[2]).not.toBe(START.hex);
    const hit = find(out, new RegExp(`^(d1v[0-3]) on pCPU ([01]) stopped at breakpoint ${ROUND.hex} <round>$`));
    const vcpu = out.indexOf(find(out, /^d1: \d+ pages, VMID 1; --set-way trap$/)[0]);
    expect(vcpu).toBeGreaterThan(out.indexOf(hit[0]));
    const rows = out.slice(vcpu + 1, vcpu + 5);
    rows.forEach((r, i) => expect(r).toMatch(new RegExp(`^ {2}d1v${i}: (running on pCPU [01]|runnable|blocked|off the pCPUs|down); need_flush_to_ram (true|false); TVM (true|false); TSW true(; last on pCPU [01])?`)));
    expect(rows.find((r) => r.startsWith(`  ${hit[1]}: `))).toContain(`running on pCPU ${hit[2]}`);
    expect(out[vcpu + 5]).toMatch(/^pCPU 1, running (d1v[0-3]|no vCPU): \d+ dirty lines$/);
    expect(find(out, /^current pCPU 1, running (d1v[0-3]|no vCPU)$/, vcpu)).toBeDefined();
    const all = find(out, /^pCPU 1, running (?:d1v[0-3]|no vCPU): (\d+) valid lines, (\d+) dirty; L1 (\d+) \(\d+ dirty\), system cache (\d+) \(\d+ dirty\)$/, vcpu);
    expect(Number(all[1])).toBeGreaterThan(0);
    const at = out.indexOf(all[0]);
    expect(out[at + 1]).toMatch(/^ {2}L1 +set +\d+ way +\d+ {2}PA 0x[0-9a-f]+ +(dirty|clean)/);
  });
});

/** PC in a `g` reply: after x0–x30 and sp, 64 bits each. */
const pcOf = (g: string) => Buffer.from(g.slice(32 * 16, 33 * 16), "hex").readBigUInt64LE(0);

describe("shootdown gdb --hv on AArch64", () => {
  it("lists a thread per vCPU, reads one off every pCPU from its context, and runs vcpu, p2m and cache as monitor commands", async () => {
    const { child, port } = await startStub(HELLO, ...HV);
    const c = await Client.open(port);
    try {
      expect(await c.ask("qfThreadInfo")).toBe("m1,2,3,4");
      expect(fromHex(await c.ask("qThreadExtraInfo,1"))).toBe("d1v0 runnable");
      expect(fromHex(await c.ask("qThreadExtraInfo,3"))).toBe("d1v2 down");
      expect(await c.ask("Hg1")).toBe("OK");
      expect(pcOf(await c.ask("g"))).toBe(START.value);
      expect(await monitor(c, "vcpu")).toMatch(/^d1: \d+ pages, VMID 1; --set-way trap\n {2}d1v0: runnable; need_flush_to_ram false; TVM false; TSW true\n/);
      expect(await monitor(c, `p2m ${START.hex}`)).toMatch(new RegExp(`^p2m: IPA ${START.hex} .*\\n(.*\\n){3} {2}→ MFN 0x[0-9a-f]+, machine address 0x[0-9a-f]+\\n$`));
      expect(await monitor(c, "p2m")).toBe("error: p2m: the IPA must be a number, not '' (usage: p2m IPA)\n");
      expect(await monitor(c, "cache")).toBe("error: d1v0 is off every pCPU (runnable): an L1 data cache belongs to a pCPU (cache pN shows pCPU N's)\n");
      expect(await c.ask(`Z0,${ROUND.value.toString(16)},4`)).toBe("OK");
      c.write("$c#63");
      await c.take(/^\+/);
      const stop = await c.take(/^(?:\$O[0-9a-f]*#[0-9a-f]{2})*\$T05(?:swbreak:;)?thread:([0-9a-f]+);#[0-9a-f]{2}/, 30_000);
      c.write("+");
      const thread = Number.parseInt(stop[1]!, 16);
      const info = fromHex(await c.ask(`qThreadExtraInfo,${thread.toString(16)}`));
      const m = /^d1v(\d) on pCPU ([01])$/.exec(info)!;
      expect(Number(m[1])).toBe(thread - 1);
      expect(pcOf(await c.ask("g"))).toBe(ROUND.value);
      // The stopped thread's cache is its pCPU's L1.
      expect(await monitor(c, "cache")).toMatch(new RegExp(`^d1v${thread - 1} on pCPU ${m[2]}: \\d+ dirty lines\\n`));
      // A thread off every pCPU reads from its context: its PC is where it was when it left.
      const infos = await Promise.all([1, 2, 3, 4].map(async (t) => fromHex(await c.ask(`qThreadExtraInfo,${t}`))));
      const off = infos.findIndex((i) => !/ on pCPU /.test(i));
      expect(off).toBeGreaterThanOrEqual(0);
      expect(await c.ask(`Hg${off + 1}`)).toBe("OK");
      const pc = pcOf(await c.ask("g"));
      expect(pc).toBeGreaterThanOrEqual(0x4008_0000n);
      expect(await c.ask(`m${pc.toString(16)},4`)).toMatch(/^[0-9a-f]{8}$/);
      // Monitor commands look at the thread gdb selected.
      expect(await monitor(c, "cache")).toBe(`error: ${infos[off]!.replace(" ", " is off every pCPU (")}): an L1 data cache belongs to a pCPU (cache pN shows pCPU N's)\n`);
    } finally {
      c.socket.destroy();
      child.kill();
      await once(child, "exit");
    }
  });

  it.skipIf(!GDB)("gdb-multiarch: info threads, a breakpoint in a vCPU, a thread off every pCPU, and monitor vcpu", async () => {
    const { child, port } = await startStub(HELLO, ...HV);
    const out = gdbBatch(HELLO, port, ["info threads", "break round", "continue", "info threads", "print/x $pc", "monitor vcpu", `monitor p2m ${START.hex}`, "kill"]);
    await once(child, "exit");
    // Four threads before the run: d1v0 waits for a pCPU at _start, the others are down.
    expect(out).toMatch(new RegExp(`Thread 1 \\(d1v0 runnable\\) +${START.gdb} in _start \\(\\)`));
    expect(out).toMatch(/Thread 4 \(d1v3 down\)/);
    const hit = new RegExp(`^Thread (\\d) hit Breakpoint 1, ${ROUND.gdb} in round \\(\\)$`, "m").exec(out);
    expect(hit).not.toBeNull();
    const n = Number(hit![1]);
    expect(out).toMatch(new RegExp(`\\* ${n} +Thread ${n} \\(d1v${n - 1} on pCPU [01]\\) +${ROUND.gdb} in round \\(\\)`));
    expect(out).toMatch(new RegExp(`^\\$1 = ${ROUND.hex}$`, "m"));
    expect(out).toMatch(new RegExp(`^ {2}d1v${n - 1}: running on pCPU [01]; need_flush_to_ram (true|false); TVM (true|false); TSW true`, "m"));
    expect(out).toMatch(new RegExp(`^p2m: IPA ${START.hex} \\(VMID 1, root MFN 0x[0-9a-f]+\\)$`, "m"));
  });
});
