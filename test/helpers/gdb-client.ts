// SPDX-License-Identifier: MIT
//
// A gdb remote-protocol client over a raw TCP socket, for tests that look at
// the bytes the stub sends.

import { connect, type Socket } from "node:net";
import { expect } from "vitest";

export const sum = (s: string) => [...s].reduce((n, c) => (n + c.charCodeAt(0)) & 0xff, 0).toString(16).padStart(2, "0");
export const frame = (s: string) => `$${s}#${sum(s)}`;

/** A client that sees the raw bytes the stub sends. */
export class Client {
  private buf = "";
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      this.buf += d;
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  static async open(port: number): Promise<Client> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new Client(socket);
  }

  write(raw: string): void {
    this.socket.write(raw, "latin1");
  }

  /** Waits until the raw input matches, then takes it off the front. */
  async take(re: RegExp, timeoutMs = 5000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.buf);
      if (m && m.index === 0) {
        this.buf = this.buf.slice(m[0].length);
        return m;
      }
      if (this.closed || Date.now() > deadline) throw new Error(`expected ${re} in ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Sends raw bytes (a framed packet), expects the ack, returns the reply's data (and acks it). */
  async send(raw: string, timeoutMs = 5000): Promise<string> {
    this.write(raw);
    await this.take(/^\+/, timeoutMs);
    const m = await this.take(/^\$([^#]*)#([0-9a-f]{2})/, timeoutMs);
    expect(m[2]).toBe(sum(m[1]!));
    this.write("+");
    return m[1]!;
  }

  /** Sends a packet, expects the ack, returns the reply's data (and acks it). */
  async ask(data: string, ack = true): Promise<string> {
    this.write(frame(data));
    if (ack) await this.take(/^\+/);
    const m = await this.take(/^\$([^#]*)#([0-9a-f]{2})/);
    expect(m[2]).toBe(sum(m[1]!));
    if (ack) this.write("+");
    return m[1]!;
  }

  get pending(): string {
    return this.buf;
  }
}


export const textHex = (s: string) => Buffer.from(s).toString("hex");
export const fromHex = (h: string) => Buffer.from(h, "hex").toString("utf8");

/** `monitor COMMAND` (qRcmd): its output, from the O packets before OK. */
export async function monitor(c: Client, command: string): Promise<string> {
  c.write(frame(`qRcmd,${textHex(command)}`));
  await c.take(/^\+/);
  let text = "";
  for (;;) {
    const m = await c.take(/^\$(O[0-9a-f]*|OK)#[0-9a-f]{2}/, 10_000);
    c.write("+");
    if (m[1] === "OK") return text;
    text += fromHex(m[1]!.slice(1));
  }
}
