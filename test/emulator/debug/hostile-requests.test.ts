// SPDX-License-Identifier: MIT
//
// Requests no debugger should have to honour in full (issue 17, defects 5
// and 6, and the complaints about the REPL and the gdb stub): counts past a
// bound are refused at once on both architectures, in the REPL and through
// gdb's monitor; addresses wider than 64 bits are refused, not truncated;
// the stub announces its PacketSize, answers an oversized packet with an
// ack and an error, and checks the length of G, P and M payloads.

import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { GdbStub } from "../../../emulator/debug/gdb-stub.ts";
import { Session } from "../../../emulator/debug/session.ts";
import { makeTarget } from "../../../emulator/debug/targets.ts";
import { Commands, MAX_EXAMINE_BYTES } from "../../../emulator/debug/commands.ts";
import { ShootdownError } from "../../../emulator/machine/core/errors.ts";
import { CLI, ROOT, image, imageFile } from "../../helpers/run.ts";
import { STALE_GUEST, STALE_GUEST_A64 } from "../../helpers/debug.ts";
import { Client, frame } from "../../helpers/gdb-client.ts";

const OPTIONS = { cpus: 2, memBytes: 64n << 20n, cmdline: "", mode: "round-robin", seed: undefined, quantum: 1000, maxSteps: undefined, tlbChaos: undefined } as const;

const GUESTS = {
  x86_64: () => image(STALE_GUEST),
  aarch64: () => image(STALE_GUEST_A64, { arch: "aarch64", base: 0x4008_0000n }),
};

function session(arch: keyof typeof GUESTS): Session {
  return new Session({ image: GUESTS[arch](), options: { ...OPTIONS, memBytes: arch === "aarch64" ? 128n << 20n : OPTIONS.memBytes }, makeTarget });
}

/** The error a command line gives, and how long it took. */
function refusal(c: Commands, line: string): { message: string; ms: number } {
  const started = Date.now();
  try {
    c.execute(line);
  } catch (e) {
    if (!(e instanceof ShootdownError)) throw e;
    return { message: e.message, ms: Date.now() - started };
  }
  throw new Error(`'${line}' was not refused`);
}

describe.each(["x86_64", "aarch64"] as const)("REPL commands on %s", (arch) => {
  it("x/N past 64 KiB and disasm N past 4096 are refused at once", () => {
    const c = new Commands(session(arch));
    for (const [line, message] of [
      ["x/100000000g _start", "x/Ng must be from 1 to 8192, not 100000000"],
      ["x/65537b _start", "x/Nb must be from 1 to 65536, not 65537"],
      ["disasm _start 99999999", "an instruction count must be from 1 to 4096, not 99999999"],
      ["step 99999999999", "a step count must be from 1 to 50000000, not 99999999999"],
      ["goto 18446744073709551615", "goto 18446744073709551615 is more than 50000000 instructions past step 0; goto 50000000 first"],
    ]) {
      const r = refusal(c, line!);
      expect(r.message).toBe(message);
      expect(r.ms).toBeLessThan(1000);
    }
    // The bound itself is allowed.
    expect(c.execute(`x/${MAX_EXAMINE_BYTES}b _start`).length).toBeGreaterThan(1);
    expect(c.execute("disasm _start 4096").length).toBeGreaterThan(1);
  });

  it("addresses wider than 64 bits are refused, not truncated; cpu -1 is named", () => {
    const c = new Commands(session(arch));
    expect(refusal(c, "x/g 0x10000000000000000").message).toBe("'0x10000000000000000' is wider than 64 bits");
    expect(refusal(c, "break 18446744073709551617").message).toBe("'18446744073709551617' is wider than 64 bits");
    expect(refusal(c, "x/gp 0x1ffffffffffffffff0").message).toBe("'0x1ffffffffffffffff0' is wider than 64 bits");
    expect(refusal(c, "cpu -1").message).toBe("no CPU -1: CPUs are numbered from 0 to 1");
    expect(refusal(c, "cpu x").message).toBe("a CPU is a number from 0 to 1, not 'x'");
  });
});

// ── The gdb stub ─────────────────────────────────────────────────────────────

let stubs: GdbStub[] = [];
afterEach(() => {
  for (const s of stubs) s.close();
  stubs = [];
});

async function client(arch: keyof typeof GUESTS): Promise<Client> {
  const stub = new GdbStub(session(arch));
  stubs.push(stub);
  return Client.open(await stub.listen(0));
}

const hexText = (s: string) => Buffer.from(s).toString("hex");

describe.each(["x86_64", "aarch64"] as const)("the gdb stub on %s", (arch) => {
  it("announces PacketSize and refuses a monitor x/ past the bound without blocking", async () => {
    const c = await client(arch);
    expect(await c.ask("qSupported:multiprocess+;swbreak+")).toMatch(/^PacketSize=4000;/);
    const started = Date.now();
    c.write(frame(`qRcmd,${hexText("x/100000000g _start")}`));
    await c.take(/^\+/);
    const o = await c.take(/^\$O([0-9a-f]*)#[0-9a-f]{2}/);
    expect(Buffer.from(o[1]!, "hex").toString()).toBe("error: x/Ng must be from 1 to 8192, not 100000000\n");
    c.write("+");
    await c.take(/^\$OK#9a/);
    c.write("+");
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await c.ask("qC")).toBe("QC1");
    c.socket.destroy();
  });

  it("acks an oversized packet by its checksum and answers an error, then goes on", async () => {
    const c = await client(arch);
    const big = `M1000,${(0x10000).toString(16)}:${"00".repeat(0x10000)}`;
    expect(big.length).toBeGreaterThan(128 * 1024);
    expect(await c.send(frame(big))).toMatch(/^E\.packet of \d+ bytes is longer than this stub takes \(65536; PacketSize is 16384\)$/);
    // A bad checksum on an oversized packet asks for it again.
    c.write(`$${"q".repeat(70_000)}#00`);
    await c.take(/^-/);
    expect(await c.ask("qC")).toBe("QC1");
    c.socket.destroy();
  });

  it("checks the length of G, P and M payloads", async () => {
    const c = await client(arch);
    const g = await c.ask("g");
    expect(g.length).toBeGreaterThan(16);
    expect(await c.ask("G00")).toBe("E01");
    expect(await c.ask(`G${g}0`)).toBe("E01");
    expect(await c.ask(`G${g.slice(0, -1)}`)).toBe("E01");
    expect(await c.ask(`G${g.slice(0, -2)}zz`)).toBe("E01");
    // Unchanged by the refused ones, and a whole G is taken.
    expect(await c.ask("g")).toBe(g);
    expect(await c.ask(`G${g}`)).toBe("OK");
    expect(await c.ask("P0=0")).toBe("E45");
    expect(await c.ask(`P0=${"0".repeat(15)}`)).toBe("E45");
    expect(await c.ask("M1000,2:414")).toBe("E01");
    expect(await c.ask("M1000,2:41")).toBe("E01");
    c.socket.destroy();
  });
});

describe("the REPL's dot-commands", () => {
  it(".load, .save, .editor and .clear are not there; .help lists the debugger's commands", () => {
    const guest = imageFile(image(STALE_GUEST), "stale.elf");
    const r = spawnSync(process.execPath, [CLI, "repl", guest], {
      input: ".save /tmp/shootdown-save-test\n.load /etc/hostname\n.editor\n.clear\n.help\n", encoding: "utf8", timeout: 60_000, cwd: ROOT,
    });
    expect(r.stdout.match(/Invalid REPL keyword/g)).toHaveLength(4);
    expect(r.stdout).toContain("x/N[bhwg][p] ADDR");
    expect(r.status).toBe(0);
  });
});
