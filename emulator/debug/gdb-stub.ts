// SPDX-License-Identifier: MIT
//
// A gdb remote-serial-protocol stub over TCP (gdb manual, "Remote Protocol").
// One gdb thread per CPU (thread id = CPU index + 1, since 0 means "any"),
// or under a hypervisor (--hv) one per guest vCPU (thread id = vCPU number
// + 1, session.ts), wherever it runs; all-stop: a stop stops every CPU, and
// `continue` runs the machine under the session's schedule, so the same gdb
// session on the same seed sees the same states.
//
// Framing: $data#xx with xx the modulo-256 sum of data. Each packet is
// acknowledged with + (or - for a bad checksum, which asks gdb to resend)
// until QStartNoAckMode. A 0x03 byte outside a packet interrupts a running
// continue. Anything else outside a packet is ignored. A packet longer than
// MAX_PACKET is read to its end without being kept, then acknowledged by its
// checksum like any other and answered with an error, so that gdb is never
// left waiting for an ack that does not come.

import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { ShootdownError } from "../machine/core/errors.ts";
import type { Session, StopReason } from "./session.ts";
import { Commands } from "./commands.ts";
import { leBytes, leValue } from "./target.ts";

/** The PacketSize we announce (hex in qSupported); gdb sends nothing longer. */
const PACKET_SIZE = 0x4000;
const MAX_PACKET = 4 * PACKET_SIZE;
/** Instructions a continue runs between looks at the socket (for Ctrl-C). */
const CONTINUE_CHUNK = 200_000n;
/** SIGTRAP, the signal of every stop gdb asked for or a breakpoint caused. */
const SIGTRAP = 5;
const SIGINT = 2;

/** A packet longer than MAX_PACKET while it is skipped: its length and checksum so far. */
interface Oversize {
  length: number;
  sum: number;
}

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const textHex = (s: string): string => Buffer.from(s, "utf8").toString("hex");

function checksum(data: string): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum;
}

/** Escapes the bytes the protocol reserves in binary data ($ # } *). */
function escapeBinary(s: string): string {
  return s.replace(/[$#}*]/g, (c) => `}${String.fromCharCode(c.charCodeAt(0) ^ 0x20)}`);
}

class BadPacket extends Error {}

const HEX_NUMBER = /^[0-9a-fA-F]+$/;
function hexNumber(s: string | undefined): bigint {
  if (s === undefined || !HEX_NUMBER.test(s)) throw new BadPacket(`bad number '${s}'`);
  return BigInt(`0x${s}`);
}

export interface GdbStubOptions {
  /** Called for lines worth telling the user (connections, disconnections). */
  log?: (line: string) => void;
}

/** One client connection's protocol state; the session outlives it. */
class Connection {
  private buf = "";
  private ack = true;
  private lastSent = "";
  private generalCpu = 0;
  private continueCpu = -1;
  private running = false;
  private closed = false;
  private swbreak = false;
  private oversize: Oversize | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly stub: GdbStub,
  ) {
    socket.setEncoding("latin1");
    socket.setNoDelay(true);
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("close", () => this.closeNow("disconnected"));
    socket.on("error", () => this.closeNow("connection error"));
  }

  private get session(): Session {
    return this.stub.session;
  }

  /** Detach or kill: the session is over for this stub. */
  private finish(): void {
    this.closed = true;
    this.socket.end();
    this.stub.detached(this);
  }

  private closeNow(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.session.interruptRequested = true;
    this.stub.connectionClosed(this, why);
    this.socket.destroy();
  }

  private write(raw: string): void {
    if (!this.closed) this.socket.write(raw, "latin1");
  }

  private send(data: string): void {
    const framed = `$${data}#${checksum(data).toString(16).padStart(2, "0")}`;
    this.lastSent = framed;
    this.write(framed);
  }

  private receive(chunk: string): void {
    this.buf += chunk;
    for (;;) {
      if (this.closed) return;
      if (this.oversize && !this.skipOversize()) return;
      // Bytes outside a packet: acks, interrupts, noise.
      let i = 0;
      while (i < this.buf.length && this.buf[i] !== "$") {
        const c = this.buf[i]!;
        if (c === "\x03") this.session.interruptRequested = true;
        else if (c === "-" && this.ack && this.lastSent) this.write(this.lastSent);
        i++;
      }
      this.buf = this.buf.slice(i);
      if (!this.buf.length) return;
      const end = this.buf.indexOf("#");
      if (end < 0 || this.buf.length < end + 3) {
        if (end < 0 && this.buf.length > MAX_PACKET) {
          const restart = this.buf.indexOf("$", 1);
          if (restart > 0) {
            this.buf = this.buf.slice(restart);
            continue;
          }
          this.oversize = { length: this.buf.length - 1, sum: checksum(this.buf.slice(1)) };
          this.buf = "";
        }
        return;
      }
      // A '$' inside means the packet was cut short and a new one began.
      const restart = this.buf.indexOf("$", 1);
      if (restart > 0 && restart < end) {
        this.buf = this.buf.slice(restart);
        continue;
      }
      const data = this.buf.slice(1, end);
      const sum = this.buf.slice(end + 1, end + 3);
      this.buf = this.buf.slice(end + 3);
      const good = /^[0-9a-fA-F]{2}$/.test(sum) && parseInt(sum, 16) === checksum(data);
      if (this.ack) this.write(good ? "+" : "-");
      if (!good) continue;
      if (this.running) continue; // all-stop: gdb sends nothing but ^C while the target runs
      this.handle(data);
    }
  }

  /**
   * Skips the rest of an oversized packet; at its end, acks or nacks it by
   * its checksum and answers an error. False while more of it is to come.
   */
  private skipOversize(): boolean {
    const o = this.oversize!;
    const end = this.buf.indexOf("#");
    const body = end < 0 ? this.buf : this.buf.slice(0, end);
    o.length += body.length;
    o.sum = (o.sum + checksum(body)) & 0xff;
    this.buf = this.buf.slice(body.length);
    if (this.buf.length < 3) return false;
    const sum = this.buf.slice(1, 3);
    this.buf = this.buf.slice(3);
    this.oversize = undefined;
    const good = /^[0-9a-fA-F]{2}$/.test(sum) && parseInt(sum, 16) === o.sum;
    if (this.ack) this.write(good ? "+" : "-");
    if (good && !this.running) this.send(`E.packet of ${o.length} bytes is longer than this stub takes (${MAX_PACKET}; PacketSize is ${PACKET_SIZE})`);
    return true;
  }

  private handle(data: string): void {
    let reply: string | undefined;
    try {
      reply = this.dispatch(data);
    } catch (e) {
      if (e instanceof BadPacket) reply = "E01";
      else if (e instanceof ShootdownError) reply = `E.${e.message}`;
      else {
        // A bug in shootdown: gdb gets an error reply, the user a line, and the stub goes on.
        this.stub.log(`internal error (a bug in shootdown) on packet '${data.slice(0, 40)}': ${(e as Error).message}`);
        reply = "E.internal error";
      }
    }
    if (reply !== undefined) this.send(reply);
  }

  /** A thread id: a thread's number (a CPU, or a vCPU under --hv), or all or any. */
  private cpuOf(thread: string): number | "all" | "any" {
    if (thread === "-1") return "all";
    if (thread === "0") return "any";
    const n = Number(hexNumber(thread));
    const count = this.session.threadsAreVcpus ? this.session.vcpuCount : this.session.target.cpuCount;
    if (n < 1 || n > count) throw new BadPacket(`no thread ${thread}`);
    return n - 1;
  }

  /** gdb's current thread: the session's, when it is a vCPU (the REPL may look at a pCPU), else the one gdb selected. */
  private gdbThread(): number {
    const k = this.session.thread;
    return k < this.session.vcpuCount ? k : this.generalCpu;
  }

  /** A thread's registers; undefined for a vCPU that has none yet (down, never initialised). */
  private registerValues(thread: number): bigint[] | undefined {
    if (!this.session.threadsAreVcpus) return this.session.target.readRegisters(thread);
    try {
      return this.session.target.readRegisters(thread);
    } catch (e) {
      if (e instanceof ShootdownError) return undefined;
      throw e;
    }
  }

  /** The pCPU that steps thread k (itself without a hypervisor); a vCPU off every pCPU is an error. */
  private stepCpu(k: number): number {
    return this.session.threadsAreVcpus ? this.stub.commands.stepCpu(k) : k;
  }

  /** The reply to a packet, or undefined when it comes later (continue). */
  private dispatch(p: string): string | undefined {
    const s = this.session;
    const t = s.target;
    switch (p[0]) {
      case "?":
        if (s.threadsAreVcpus) return this.threadStopReply(this.gdbThread(), SIGTRAP, "");
        return this.stopReply({ kind: "step", cpu: s.current }, SIGTRAP);
      case "g": {
        const regs = t.registers();
        const values = this.registerValues(this.generalCpu);
        // A vCPU that has no registers yet: every one unavailable ('x'), so that gdb lists it all the same.
        if (!values) return regs.map((r) => "x".repeat(r.bits / 4)).join("");
        return regs.map((r, i) => toHex(leBytes(values[i]!, r.bits / 8))).join("");
      }
      case "G": {
        // Every register of the 'g' layout, two hex digits a byte ('xx' for one gdb does not have); checked before any is written.
        const regs = t.registers();
        const hex = p.slice(1);
        const digits = regs.reduce((n, r) => n + r.bits / 4, 0);
        if (hex.length !== digits || !/^[0-9a-fA-Fx]*$/.test(hex)) throw new BadPacket(`G needs ${digits} hex digits, not ${hex.length}`);
        let at = 0;
        const fields = regs.map((r) => hex.slice(at, (at += r.bits / 4)));
        const unavailable = (f: string) => /^x+$/i.test(f);
        if (fields.some((f) => !unavailable(f) && !/^[0-9a-fA-F]+$/.test(f))) throw new BadPacket("bad register data");
        fields.forEach((f, i) => {
          if (!unavailable(f)) t.writeRegister(this.generalCpu, i, leValue(Buffer.from(f, "hex")));
        });
        return "OK";
      }
      case "p": {
        const n = Number(hexNumber(p.slice(1)));
        const r = t.registers()[n];
        if (!r) return "E45";
        const values = this.registerValues(this.generalCpu);
        return values ? toHex(leBytes(values[n]!, r.bits / 8)) : "x".repeat(r.bits / 4);
      }
      case "P": {
        const m = /^P([0-9a-fA-F]+)=([0-9a-fA-F]*)$/.exec(p);
        if (!m) throw new BadPacket("bad P packet");
        const n = Number(hexNumber(m[1]));
        const r = t.registers()[n];
        if (!r || m[2]!.length !== r.bits / 4) return "E45";
        return t.writeRegister(this.generalCpu, n, leValue(Buffer.from(m[2]!, "hex"))) ? "OK" : "E45";
      }
      case "m": {
        const m = /^m([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
        if (!m) throw new BadPacket("bad m packet");
        const addr = hexNumber(m[1]);
        const len = Number(hexNumber(m[2]));
        if (len > PACKET_SIZE / 2) throw new BadPacket("too long");
        const r = t.readVirtual(this.generalCpu, addr, len);
        // A partial read returns what could be read; nothing readable is EFAULT.
        return r.bytes.length ? toHex(r.bytes) : "E14";
      }
      case "M": {
        const m = /^M([0-9a-fA-F]+),([0-9a-fA-F]+):([0-9a-fA-F]*)$/.exec(p);
        if (!m) throw new BadPacket("bad M packet");
        const len = Number(hexNumber(m[2]));
        const bytes = Buffer.from(m[3]!, "hex");
        if (bytes.length !== len || m[3]!.length !== 2 * len) throw new BadPacket("length mismatch");
        return t.writeVirtual(this.generalCpu, hexNumber(m[1]), bytes) ? "OK" : "E14";
      }
      case "Z":
      case "z": {
        const m = /^[Zz]([0-9]),([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
        if (!m) throw new BadPacket("bad Z packet");
        const addr = hexNumber(m[2]);
        if (m[1] === "0") {
          if (p[0] === "Z") s.setBreakpoint(addr);
          else s.removeBreakpoint(addr);
          return "OK";
        }
        // Write watchpoints (2), and access ones (4) as write ones: the
        // bytes are watched where the selected CPU's MMU maps them now.
        if (m[1] !== "2" && m[1] !== "4") return "";
        const length = Number(hexNumber(m[3]));
        if (length < 1 || length > 8) return "E22";
        const pa = t.physicalAddress(this.generalCpu, addr);
        if (pa === undefined) return "E14";
        if (p[0] === "Z") s.watch(pa, length, addr);
        else s.unwatch(pa);
        return "OK";
      }
      case "H": {
        const m = /^H([gc])(-?[0-9a-fA-F]+)$/.exec(p);
        if (!m) throw new BadPacket("bad H packet");
        const cpu = this.cpuOf(m[2]!);
        if (m[1] === "g") {
          this.generalCpu = typeof cpu === "number" ? cpu : this.gdbThread();
          // The vCPU gdb looks at is the one `monitor` commands (cache, walk, regs …) look at too.
          if (this.session.threadsAreVcpus) this.session.thread = this.generalCpu;
        } else this.continueCpu = typeof cpu === "number" ? cpu : -1;
        return "OK";
      }
      case "T": {
        // Every vCPU is alive for gdb, down or not: it has a thread for as long as its domain exists.
        const cpu = this.cpuOf(p.slice(1));
        return typeof cpu === "number" && t.live(cpu) ? "OK" : "E01";
      }
      case "s": {
        if (p.length > 1) throw new BadPacket("s with an address is not supported");
        const thread = this.continueCpu >= 0 ? this.continueCpu : this.gdbThread();
        return this.stopped(s.step(1, this.stepCpu(thread)), thread);
      }
      case "c":
        if (p.length > 1) throw new BadPacket("c with an address is not supported");
        this.continueAll();
        return undefined;
      case "D":
        this.send("OK");
        this.finish();
        return undefined;
      case "k":
        this.finish();
        return undefined;
      case "v":
        return this.vPacket(p);
      case "q":
      case "Q":
        return this.query(p);
      default:
        return "";
    }
  }

  private vPacket(p: string): string | undefined {
    const s = this.session;
    if (p === "vCont?") return "vCont;c;C;s;S";
    if (p === "vMustReplyEmpty") return "";
    if (p.startsWith("vKill")) {
      this.send("OK");
      this.finish();
      return undefined;
    }
    if (p.startsWith("vCont;")) {
      const actions = p.slice(6).split(";").map((a) => {
        const [action, thread] = a.split(":");
        if (!action || !/^([cs]|[CS][0-9a-fA-F]{2})$/.test(action)) throw new BadPacket(`bad vCont action '${a}'`);
        return { action: action[0]!.toLowerCase(), cpu: thread === undefined ? "all" as const : this.cpuOf(thread) };
      });
      const step = actions.find((a) => a.action === "s");
      if (step) {
        const thread = typeof step.cpu === "number" ? step.cpu : this.gdbThread();
        return this.stopped(s.step(1, this.stepCpu(thread)), thread);
      }
      this.continueAll();
      return undefined;
    }
    return "";
  }

  private query(p: string): string | undefined {
    const s = this.session;
    const t = s.target;
    if (p.startsWith("qSupported")) {
      this.swbreak = /swbreak\+/.test(p);
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;QStartNoAckMode+;vContSupported+${this.swbreak ? ";swbreak+" : ""}`;
    }
    if (p === "QStartNoAckMode") {
      this.send("OK");
      this.ack = false;
      return undefined;
    }
    if (p.startsWith("qXfer:features:read:")) {
      const m = /^qXfer:features:read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m) throw new BadPacket("bad qXfer packet");
      if (m[1] !== "target.xml") return "E00";
      const xml = t.targetXml();
      const offset = Number(hexNumber(m[2]));
      const length = Number(hexNumber(m[3]));
      if (offset > xml.length) return "E00";
      const part = xml.slice(offset, offset + length);
      return `${offset + length >= xml.length ? "l" : "m"}${escapeBinary(part)}`;
    }
    if (p === "qfThreadInfo" && s.threadsAreVcpus) return `m${s.threads().filter((v) => v.vcpu).map((v) => (v.index + 1).toString(16)).join(",")}`;
    if (p === "qfThreadInfo") {
      const live = Array.from({ length: t.cpuCount }, (_, i) => i).filter((i) => t.live(i));
      return `m${live.map((i) => (i + 1).toString(16)).join(",")}`;
    }
    if (p === "qsThreadInfo") return "l";
    if (p === "qC") return `QC${((s.threadsAreVcpus ? this.gdbThread() : s.current) + 1).toString(16)}`;
    if (p === "qAttached") return "1";
    if (p.startsWith("qThreadExtraInfo,")) {
      const cpu = this.cpuOf(p.slice("qThreadExtraInfo,".length));
      if (typeof cpu !== "number") throw new BadPacket("bad thread");
      if (s.threadsAreVcpus) {
        // "d1v0 on pCPU 2", "d1v1 runnable", "d1v1 down".
        const v = s.threads()[cpu]!;
        return textHex(v.cpu !== undefined ? `${v.name} on pCPU ${v.cpu}` : `${v.name} ${v.state}`);
      }
      // An AArch64 CPU that is not live is off (PSCI CPU_ON may start it again) and an idle one waits in WFI.
      const arm = t.arch === "aarch64";
      const state = !t.live(cpu) ? (arm ? "off" : "stopped for good") : t.idle(cpu) ? (arm ? "waiting (WFI)" : "halted") : "runnable";
      return textHex(`CPU ${cpu}, ${state}`);
    }
    if (p.startsWith("qRcmd,")) {
      const hex = p.slice(6);
      if (hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw new BadPacket("bad qRcmd");
      const command = Buffer.from(hex, "hex").toString("utf8");
      let lines: string[];
      try {
        lines = this.stub.commands.execute(command);
      } catch (e) {
        if (!(e instanceof ShootdownError)) throw e;
        lines = [`error: ${e.message}`];
      }
      if (lines.length) this.output(lines.join("\n") + "\n");
      return "OK";
    }
    if (p === "qSymbol::") return "OK";
    if (p === "qOffsets") return "Text=0;Data=0;Bss=0";
    return "";
  }

  /** Runs the machine in chunks, looking at the socket between them, until it stops. */
  private continueAll(): void {
    const s = this.session;
    this.running = true;
    s.interruptRequested = false;
    const tick = () => {
      if (this.closed) {
        this.running = false;
        return;
      }
      let stop: StopReason;
      try {
        stop = s.resume(undefined, CONTINUE_CHUNK);
      } catch (e) {
        this.running = false;
        if (!(e instanceof ShootdownError)) this.stub.log(`internal error (a bug in shootdown) while running: ${(e as Error).message}`);
        this.send(`E.${(e as Error).message}`);
        return;
      }
      this.flushConsole();
      if (stop.kind === "paused") {
        setImmediate(tick);
        return;
      }
      this.running = false;
      this.send(this.stopped(stop));
    };
    setImmediate(tick);
  }

  /**
   * The reply that ends a resume (s, c, vCont): first, as O packets (allowed
   * while the target runs), the guest's console output and what the session
   * has to say about the stop (a missing invalidation, a watchpoint).
   */
  private stopped(stop: StopReason, stepped?: number): string {
    this.flushConsole();
    const notes = stop.kind === "violation" || (stop.kind === "watchpoint" && stop.va === undefined) ? this.stub.commands.describe(stop).slice(0, -1) : [];
    if (notes.length) this.output(notes.join("\n") + "\n");
    return this.stopReply(stop, stop.kind === "interrupted" ? SIGINT : SIGTRAP, stepped);
  }

  /** Text for gdb's console: O packets, each within the packet size we announced. */
  private output(text: string): void {
    const hex = textHex(text);
    const chunk = PACKET_SIZE - 16;
    for (let i = 0; i < hex.length; i += chunk) this.send(`O${hex.slice(i, i + chunk)}`);
  }

  /** Guest console output, as gdb's O packets while the target runs. */
  private flushConsole(): void {
    const text = this.stub.takeConsole();
    if (text) this.output(text);
  }

  /**
   * The stop reply naming the thread that stopped: the CPU, or under a
   * hypervisor the vCPU on the pCPU that stopped (a step names the vCPU
   * stepped, wherever it now is; a pCPU with no vCPU, the current one).
   */
  private stopReply(stop: StopReason, signal: number, stepped?: number): string {
    const s = this.session;
    this.stub.takeConsole();
    if (stop.kind === "end") return `W${(stop.status & 0xff).toString(16).padStart(2, "0")}`;
    const why = stop.kind === "breakpoint" && this.swbreak ? "swbreak:;"
      : stop.kind === "watchpoint" && stop.va !== undefined ? `watch:${stop.va.toString(16)};`
      : "";
    if (s.threadsAreVcpus) {
      const stepping = (stop.kind === "step" || stop.kind === "hv-step" || stop.kind === "idle") && stepped !== undefined;
      const thread = stepping ? stepped : s.followStop(stop.cpu);
      // A pCPU that runs no vCPU has no gdb thread: the stop names the thread gdb looked at.
      const named = thread < s.vcpuCount ? thread : this.generalCpu;
      s.thread = named;
      return this.threadStopReply(named, signal, why);
    }
    s.current = stop.cpu;
    this.generalCpu = stop.cpu;
    const sig = signal.toString(16).padStart(2, "0");
    return `T${sig}${why}thread:${(stop.cpu + 1).toString(16)};`;
  }

  private threadStopReply(thread: number, signal: number, why: string): string {
    this.generalCpu = thread;
    return `T${signal.toString(16).padStart(2, "0")}${why}thread:${(thread + 1).toString(16)};`;
  }
}

/** The stub: a TCP server on 127.0.0.1 for one gdb at a time, over one session. */
export class GdbStub {
  private server: Server | undefined;
  private client: Connection | undefined;
  private console = "";
  private done: ((why: string) => void) | undefined;
  readonly finished: Promise<string>;
  /** The REPL's commands, for `monitor`. */
  readonly commands: Commands;

  constructor(
    readonly session: Session,
    private readonly options: GdbStubOptions = {},
  ) {
    this.commands = new Commands(session);
    this.finished = new Promise((resolve) => (this.done = resolve));
  }

  log(line: string): void {
    this.options.log?.(line);
  }

  /** Guest console output collected since the last call (the session's console sink appends here). */
  addConsole(text: string): void {
    this.console += text;
  }

  takeConsole(): string {
    this.session.flushConsole();
    const t = this.console;
    this.console = "";
    return t;
  }

  /** Listens on 127.0.0.1:port (0 for any free port); resolves to the port. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => {
        if (this.client) {
          // One debugger at a time: a second connection is refused politely.
          socket.end();
          return;
        }
        this.options.log?.(`gdb connected from ${socket.remoteAddress}:${socket.remotePort}`);
        this.client = new Connection(socket, this);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        this.server = server;
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  connectionClosed(c: Connection, why: string): void {
    if (this.client !== c) return;
    this.client = undefined;
    if (this.session.endedWith) {
      // Nothing is left to debug: the guest's run is over.
      this.options.log?.(`gdb ${why}; the run is over`);
      this.close();
      this.done?.(why);
      return;
    }
    this.options.log?.(`gdb ${why}; waiting for another connection`);
  }

  /** gdb detached or killed: the stub is done. */
  detached(c: Connection): void {
    if (this.client === c) this.client = undefined;
    this.close();
    this.done?.("detached");
  }

  close(): void {
    this.server?.close();
    this.server = undefined;
  }
}
