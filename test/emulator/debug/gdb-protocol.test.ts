// SPDX-License-Identifier: MIT
//
// The gdb stub at the level of the remote serial protocol, over a raw TCP
// socket: framing and checksums, acknowledgements and no-ack mode, malformed
// packets, reads of unmapped addresses, the target description, threads,
// breakpoints, and a client that goes away in the middle of a session.

import { afterEach, describe, expect, it } from "vitest";
import { GdbStub } from "../../../emulator/debug/gdb-stub.ts";
import { Session } from "../../../emulator/debug/session.ts";
import { makeTarget } from "../../../emulator/debug/targets.ts";
import { image } from "../../helpers/run.ts";
import { STALE_GUEST } from "../../helpers/debug.ts";
import { Client, frame, sum } from "../../helpers/gdb-client.ts";

const OPTIONS = { cpus: 2, memBytes: 64n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000, maxSteps: undefined, tlbChaos: undefined } as const;

const hexText = (s: string) => Buffer.from(s).toString("hex");
const fromHex = (h: string) => Buffer.from(h, "hex").toString("utf8");

let stubs: GdbStub[] = [];
afterEach(() => {
  for (const s of stubs) s.close();
  stubs = [];
});

async function start(): Promise<{ stub: GdbStub; port: number }> {
  const session = new Session({ image: image(STALE_GUEST), options: OPTIONS, makeTarget });
  const stub = new GdbStub(session);
  stubs.push(stub);
  return { stub, port: await stub.listen(0) };
}

describe("the gdb stub's protocol", () => {
  it("acknowledges good packets, asks for bad checksums again, and ignores noise between packets", async () => {
    const { port } = await start();
    const c = await Client.open(port);
    c.write("$qC#00");
    await c.take(/^-/);
    c.write("garbage+++");
    expect(await c.ask("qC")).toBe("QC1");
    // A '-' from gdb asks for the last reply again.
    c.write("-");
    await c.take(/^\$QC1#[0-9a-f]{2}/);
    // A packet cut short by a new '$' is dropped; the new one is answered.
    c.write("$qfThr");
    expect(await c.ask("qfThreadInfo")).toBe("m1,2");
    expect(await c.ask("qsThreadInfo")).toBe("l");
    c.socket.destroy();
  });

  it("answers malformed packets with errors and unknown ones with an empty reply", async () => {
    const { port } = await start();
    const c = await Client.open(port);
    expect(await c.ask("mzz,4")).toBe("E01");
    expect(await c.ask("m100000")).toBe("E01");
    expect(await c.ask("M100000,2:41")).toBe("E01");
    expect(await c.ask("Hgq")).toBe("E01");
    expect(await c.ask("Hg9")).toBe("E01");
    expect(await c.ask("pzz")).toBe("E01");
    expect(await c.ask("p999")).toBe("E45");
    expect(await c.ask("vCont;x")).toBe("E01");
    expect(await c.ask("qRcmd,4")).toBe("E01");
    expect(await c.ask("qXfer:features:read:target.xml:zz")).toBe("E01");
    expect(await c.ask("Z1,100000,1")).toBe("");
    expect(await c.ask("jUnknown")).toBe("");
    expect(await c.ask("")).toBe("");
    // Still alive and well.
    expect(await c.ask("?")).toBe("T05thread:1;");
    c.socket.destroy();
  });

  it("reads memory through the CPU's MMU: unmapped addresses are E14, partly mapped ones read short", async () => {
    const { port } = await start();
    const c = await Client.open(port);
    expect(await c.ask("m100000,3")).toBe("4885ff");
    expect(await c.ask("m900000000,8")).toBe("E14");
    // 64 MiB is the end of RAM: the read stops there.
    expect(await c.ask("m3fffffe,4")).toBe("0000");
    expect(await c.ask("M900000000,1:00")).toBe("E14");
    expect(await c.ask("Z2,900000000,8")).toBe("E14");
    expect(await c.ask("Z2,380000,10")).toBe("E22");
    expect(await c.ask("Z3,380000,8")).toBe("");
    expect(await c.ask("M380000,2:abcd")).toBe("OK");
    expect(await c.ask("m380000,2")).toBe("abcd");
    c.socket.destroy();
  });

  it("negotiates, serves the target description, reads and writes registers, steps and breaks", async () => {
    const { port } = await start();
    const c = await Client.open(port);
    const features = await c.ask("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
    expect(features.split(";")).toEqual(expect.arrayContaining(["qXfer:features:read+", "QStartNoAckMode+", "swbreak+", "vContSupported+"]));
    expect(await c.ask("QStartNoAckMode")).toBe("OK");
    // From here on, no acks either way.
    let xml = "";
    for (let offset = 0; ; offset += 0x100) {
      const part = await c.ask(`qXfer:features:read:target.xml:${offset.toString(16)},100`, false);
      xml += part.slice(1);
      if (part[0] === "l") break;
      expect(part[0]).toBe("m");
    }
    expect(xml).toContain('<feature name="org.gnu.gdb.i386.core">');
    expect(xml).toContain('<reg name="rip" bitsize="64" type="code_ptr" regnum="16"/>');
    expect(xml).toContain('<feature name="org.shootdown.x86.paging">');
    expect(xml).toContain('<reg name="cr3" bitsize="64" type="int" regnum="');
    expect(await c.ask("qXfer:features:read:other.xml:0,100", false)).toBe("E00");

    expect(await c.ask("Hg2", false)).toBe("OK");
    expect(await c.ask("p5", false)).toBe("0100000000000000"); // rdi of CPU 1
    expect(await c.ask("Hg1", false)).toBe("OK");
    const g = await c.ask("g", false);
    expect(g.slice(16 * 16, 16 * 17)).toBe("0000100000000000"); // rip
    expect(await c.ask("P0=efbeadde00000000", false)).toBe("OK");
    expect(await c.ask("p0", false)).toBe("efbeadde00000000");
    expect(await c.ask("T1", false)).toBe("OK");
    expect(await c.ask("T9", false)).toBe("E01");

    expect(await c.ask("vCont?", false)).toBe("vCont;c;C;s;S");
    expect(await c.ask("vCont;s:1;c", false)).toBe("T05thread:1;");
    expect(await c.ask("p10", false)).toBe("0300100000000000");
    expect(await c.ask("Z0,100037,1", false)).toBe("OK");
    expect(await c.ask("c", false)).toBe("T05swbreak:;thread:1;");
    expect(await c.ask("p10", false)).toBe("3700100000000000");
    expect(await c.ask("z0,100037,1", false)).toBe("OK");
    // monitor: the REPL's commands, their output hex-encoded in O packets.
    c.write(frame(`qRcmd,${hexText("walk 0x600000")}`));
    const o = await c.take(/^\$O([0-9a-f]+)#[0-9a-f]{2}/);
    expect(fromHex(o[1]!)).toContain("PTE    at 0x300000       = 0x0000000000900063  P RW A D → frame 0x900000");
    await c.take(/^\$OK#9a/);
    c.write(frame(`qRcmd,${hexText("frobnicate")}`));
    const e = await c.take(/^\$O([0-9a-f]+)#[0-9a-f]{2}/);
    expect(fromHex(e[1]!)).toBe("error: unknown command 'frobnicate' (help lists them)\n");
    await c.take(/^\$OK#9a/);
    // The run goes on to its end: the stale use comes first, as an O packet before the stop.
    c.write(frame("c"));
    const v = await c.take(/^\$O([0-9a-f]+)#[0-9a-f]{2}/);
    expect(fromHex(v[1]!)).toMatch(/^violation: CPU 0 used a stale TLB entry for VA 0x600000/);
    await c.take(/^\$T05thread:1;#[0-9a-f]{2}/);
    expect(await c.ask("c", false)).toBe("W00");
    c.socket.destroy();
  });

  it("survives a client that disconnects mid-session, even while the machine runs, and serves the next one", async () => {
    const { stub, port } = await start();
    const a = await Client.open(port);
    expect(await a.ask("Z0,100050,1")).toBe("OK"); // CPU 1 spins at `spin`
    // Half a packet, then gone.
    a.write("$m1000");
    a.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));

    const b = await Client.open(port);
    expect(await b.ask("?")).toBe("T05thread:1;");
    // Continue, then vanish while it runs (CPU 1 loops forever once the breakpoint is gone).
    expect(await b.ask("z0,100050,1")).toBe("OK");
    expect(await b.ask("Hc2")).toBe("OK");
    b.write(frame("vCont;c"));
    await b.take(/^\+/);
    b.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));

    const c = await Client.open(port);
    expect(await c.ask("qfThreadInfo")).toMatch(/^m1,2$|^m2$/);
    // An interrupt (^C) stops a running continue with SIGINT.
    expect(await c.ask("Hc2")).toBe("OK");
    const running = c.ask("vCont;c:2");
    await new Promise((r) => setTimeout(r, 100));
    c.write("\x03");
    expect(await running).toMatch(/^(T02thread:[12];|W00)$/);
    c.socket.destroy();
    stub.close();
  });
});
