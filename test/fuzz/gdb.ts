// SPDX-License-Identifier: MIT
//
// The gdb stub as a fuzz surface: one `shootdown gdb` process per case,
// fed a seeded sequence of packets (well-formed ones with hostile payloads,
// bad checksums, oversized ones, noise between packets). Every packet must
// be acknowledged and answered within a bound, and the stub must neither
// die nor print an internal error.

import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { type CaseResult, type Surface, CLI, HEAP_MB, ROOT, Random, classify } from "./harness.ts";

const sum = (s: string) => [...s].reduce((n, c) => (n + c.charCodeAt(0)) & 0xff, 0).toString(16).padStart(2, "0");
const frame = (s: string) => `$${s}#${sum(s)}`;
const hex = (r: Random, n: number) => Array.from({ length: n }, () => "0123456789abcdef"[r.int(16)]).join("");
const textHex = (s: string) => Buffer.from(s).toString("hex");

/** One packet's payload. */
function payload(r: Random): string {
  const addr = () => r.pick(["0", "100000", "40080000", "ffffffffffffffff", "10000000000000000", hex(r, 1 + r.int(20))]);
  const len = () => r.pick(["0", "1", "8", "1000", "2001", "ffffffff", hex(r, 1 + r.int(9))]);
  return r.pick([
    "?", "g", `G${hex(r, r.pick([0, 1, 2, 33, 200, 1000, 1078]))}`, `p${hex(r, 1 + r.int(3))}`, `P${hex(r, 1 + r.int(2))}=${hex(r, r.pick([0, 1, 15, 16, 17]))}`,
    `m${addr()},${len()}`, `M${addr()},${len()}:${hex(r, r.int(40))}`, `X${addr()},${len()}:${Buffer.from(r.bytes(r.int(20))).toString("latin1").replace(/[$#}*]/g, (c) => `}${String.fromCharCode(c.charCodeAt(0) ^ 0x20)}`)}`,
    `Z${r.int(5)},${addr()},${len()}`, `z${r.int(5)},${addr()},${len()}`, `H${r.pick(["g", "c", "x"])}${r.pick(["0", "-1", "1", "2", "41", "zz"])}`,
    `T${r.pick(["1", "2", "0", "-1", "ffff"])}`, "s", `vCont;${r.pick(["s", "s:1", "c:2", "S05", "x", "s:zz"])}`, "vCont?", "vMustReplyEmpty",
    `qSupported:${r.pick(["multiprocess+;swbreak+", "", "PacketSize=1"])}`, "qfThreadInfo", "qsThreadInfo", "qC", "qAttached",
    `qThreadExtraInfo,${r.pick(["1", "2", "0", "zz"])}`, `qXfer:features:read:${r.pick(["target.xml", "x.xml"])}:${hex(r, 1 + r.int(6))},${hex(r, 1 + r.int(6))}`,
    `qRcmd,${textHex(r.pick(["x/100000000g _start", "x/8g $sp", "disasm _start 99999999", "disasm", "walk 0x0", "tlb", "cpu -1", "regs", "step 5", "help", "sched", "x/1g 0x10000000000000000",
      "p2m 0x100000", "p2m", "p2m 0x10000000000000000 7", "domain", "vcpu", "hypercalls 2", "cpu d1v1", "tlb p0"]))}`,
    `qRcmd,${hex(r, r.int(30))}`, Buffer.from(r.bytes(r.int(30))).toString("latin1").replace(/[$#]/g, ""), "",
  ]);
}

class Client {
  buf = "";
  closed = false;
  constructor(readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => (this.buf += d));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => (this.closed = true));
  }

  /** Waits for a reply packet (after any acks and O packets); false on timeout or close. */
  async reply(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.buf = this.buf.replace(/^[+-]+/, "");
      const m = /^\$([^#]*)#[0-9a-f]{2}/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        this.socket.write("+");
        if (!m[1]!.startsWith("O") || m[1] === "OK") return true;
        continue;
      }
      if (this.closed || Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/**
 * Half the time the debugger runs the image under the hypervisor (whose
 * threads are vCPUs, some off every pCPU): AArch64 under the Arm host, x86-64
 * as an HVM domain, with up to 4 vCPUs whatever the pCPUs.
 */
export function hypervisorArgs(r: Random, arch: "x86_64" | "aarch64"): string[] {
  if (r.chance(0.5)) return [];
  return ["--hv", ...(arch === "x86_64" ? ["--hvm"] : []), "--vcpus", String(1 + r.int(4))];
}

export const gdbSurface: Surface = {
  name: "gdb",
  async run(r: Random): Promise<CaseResult> {
    const arch = r.pick(["x86_64", "aarch64"] as const);
    const image = join(ROOT, "guest", arch, "hello.elf");
    const args = [`--max-old-space-size=${HEAP_MB}`, CLI, "gdb", image, "--port", "0", "--cpus", String(1 + r.int(4)), ...hypervisorArgs(r, arch)];
    const child = spawn(process.execPath, args, { cwd: ROOT });
    let stderr = "";
    const started = Date.now();
    const exited = new Promise<{ status: number | null; signal: string | null }>((resolve) => child.on("close", (status, signal) => resolve({ status, signal })));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.resume();
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no port")), 20_000);
        child.stderr.on("data", () => {
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const socket = connect(port, "127.0.0.1");
      await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
      const c = new Client(socket);
      const packets = 5 + r.int(30);
      for (let i = 0; i < packets; i++) {
        const p = payload(r);
        const kind = r.int(20);
        if (kind === 0) socket.write(`$${p}#00`, "latin1");
        else if (kind === 1) socket.write(frame(`M0,10000:${"0".repeat(0x20000 + r.int(1000))}`), "latin1");
        else if (kind === 2) socket.write(Buffer.from(r.bytes(r.int(40))).toString("latin1").replace(/\$/g, ""), "latin1");
        else socket.write(frame(p), "latin1");
        // A bad checksum is nacked and gets no reply; noise gets nothing; everything else is answered.
        if (kind === 0 || kind === 2) continue;
        if (!(await c.reply(20_000))) {
          if (c.closed) break;
          child.kill("SIGKILL");
          return { failure: "time", detail: `no reply to packet ${i} '${(kind === 1 ? "M0,10000:…" : p).slice(0, 60)}' within 20 s` };
        }
      }
      socket.write(frame("D"), "latin1");
      await c.reply(5000);
      socket.destroy();
    } catch (e) {
      child.kill("SIGKILL");
      return { failure: "stack-trace", detail: `${(e as Error).message}: ${stderr.slice(-200)}` };
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const { status, signal } = await exited;
    clearTimeout(timer);
    return classify({ status, signal, stdout: "", stderr, ms: Date.now() - started, timedOut: false }, { allowed: [0, 64] });
  },
};
