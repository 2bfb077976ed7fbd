// SPDX-License-Identifier: MIT
//
// The devices of `shootdown run`: the COM1 UART, the debug-exit port and
// the counting of ports nobody answers, on their own and from a guest.

import { describe, expect, it } from "vitest";
import { IoBus, raxAfterIn } from "../../emulator/machine/platform/x86/devices.ts";
import { imageFile, runSource, shootdown, stats } from "../helpers/run.ts";

describe("the I/O bus", () => {
  const bus = () => {
    const out: number[] = [];
    return { bus: new IoBus((b) => out.push(b)), out };
  };

  it("THR sends a byte; LSR reads transmitter empty; the other UART registers read 0", () => {
    const { bus: b, out } = bus();
    expect(b.access({ port: 0x3f8, size: 1, write: true, value: 0x41n })).toEqual({ value: 0n });
    expect(b.access({ port: 0x3f8, size: 1, write: true, value: 0x1_0a42n })).toEqual({ value: 0n });
    expect(out).toEqual([0x41, 0x42]);
    expect(b.access({ port: 0x3fd, size: 1, write: false, value: 0n }).value).toBe(0x60n);
    for (const port of [0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fe, 0x3ff]) {
      b.access({ port, size: 1, write: true, value: 0x5an });
      expect(b.access({ port, size: 1, write: false, value: 0n }).value).toBe(0n);
    }
    expect(b.unknownPorts()).toEqual([]);
  });

  it("with LCR.DLAB set, port 0x3F8 is the divisor latch, not the console", () => {
    const { bus: b, out } = bus();
    b.access({ port: 0x3fb, size: 1, write: true, value: 0x80n });
    b.access({ port: 0x3f8, size: 1, write: true, value: 0x01n });
    b.access({ port: 0x3fb, size: 1, write: true, value: 0x03n });
    b.access({ port: 0x3f8, size: 1, write: true, value: 0x58n });
    expect(out).toEqual([0x58]);
    expect(b.uart.bytesOut).toBe(1);
  });

  it("a write to 0xF4 ends the run with the value of its size", () => {
    const { bus: b } = bus();
    expect(b.access({ port: 0xf4, size: 1, write: true, value: 0x1234n })).toEqual({ value: 0n, exit: { code: 0x34n } });
    expect(b.access({ port: 0xf4, size: 4, write: true, value: 0n })).toEqual({ value: 0n, exit: { code: 0n } });
  });

  it("other ports read all ones of their size, ignore writes, and are counted", () => {
    const { bus: b } = bus();
    expect(b.access({ port: 0x80, size: 1, write: false, value: 0n }).value).toBe(0xffn);
    expect(b.access({ port: 0x80, size: 2, write: false, value: 0n }).value).toBe(0xffffn);
    expect(b.access({ port: 0x80, size: 1, write: true, value: 1n })).toEqual({ value: 0n });
    expect(b.access({ port: 0x64, size: 4, write: false, value: 0n }).value).toBe(0xffff_ffffn);
    expect(b.access({ port: 0xf4, size: 1, write: false, value: 0n }).value).toBe(0xffn);
    expect(b.unknownPorts()).toEqual([
      { port: 0x64, reads: 1, writes: 0 },
      { port: 0x80, reads: 2, writes: 1 },
      { port: 0xf4, reads: 1, writes: 0 },
    ]);
  });

  it("IN writes AL or AX and keeps the rest of RAX; IN EAX zero-extends (SDM Vol.1 3.4.1.1)", () => {
    const rax = 0x1122_3344_5566_7788n;
    expect(raxAfterIn(rax, 1, 0x60n)).toBe(0x1122_3344_5566_7760n);
    expect(raxAfterIn(rax, 2, 0xffffn)).toBe(0x1122_3344_5566_ffffn);
    expect(raxAfterIn(rax, 4, 0xffff_ffffn)).toBe(0xffff_ffffn);
  });
});

describe("devices from a guest", () => {
  it("the UART prints what the guest writes, polling LSR as a driver does", () => {
    const r = runSource(`
_start: lea msg(%rip), %rsi
1:      mov $0x3fd, %dx
2:      in %dx, %al               # LSR: wait for THR empty
        test $0x20, %al
        jz 2b
        movb (%rsi), %al
        test %al, %al
        jz 3f
        mov $0x3f8, %dx
        out %al, %dx
        inc %rsi
        jmp 1b
3:      xor %eax, %eax
        out %al, $0xf4
msg:    .asciz "UART says hi\\n"
`);
    expect(r.console).toBe("UART says hi\n");
    expect(r.consoleBytes).toBe(13);
    expect(r.status).toBe(0);
  });

  it("IN from LSR and from unknown ports puts the documented values in RAX", () => {
    // Each wrong value sets a bit of the exit code.
    const r = runSource(`
_start: mov $0x1122334455667788, %rax
        mov $0x3fd, %dx
        in %dx, %al
        mov $0x1122334455667760, %rbx
        cmp %rbx, %rax
        je 1f
        or $1, %r15
1:      mov $0x80, %dx
        in %dx, %ax
        mov $0x112233445566ffff, %rbx
        cmp %rbx, %rax
        je 2f
        or $2, %r15
2:      in %dx, %eax
        mov $0xffffffff, %ebx
        cmp %rbx, %rax
        je 3f
        or $4, %r15
3:      out %al, %dx
        out %al, $0x81
        mov %r15, %rax
        out %al, $0xf4
`);
    expect(r.end).toEqual({ kind: "debug-exit", code: 0n, cpu: 0 });
    expect(r.unknownPorts).toEqual([{ port: 0x80, reads: 2, writes: 1 }, { port: 0x81, reads: 0, writes: 1 }]);
  });

  const exitWith = (value: number) => imageFile(`_start: mov $${value}, %eax\n  out %eax, $0xf4\n`);

  it("the debug-exit value is the result: 0 is status 0, anything else status 1", () => {
    const ok = shootdown("run", exitWith(0));
    expect(ok.stderr).toMatch(/^result: success \(CPU 0 wrote 0 to the debug-exit port 0xf4\) \(exit status 0\)$/m);
    expect(ok.status).toBe(0);
    const bad = shootdown("run", exitWith(0x2a));
    expect(bad.stderr).toMatch(/^result: guest-reported failure: CPU 0 wrote 0x2a \(42\) to the debug-exit port 0xf4 \(exit status 1\)$/m);
    expect(bad.status).toBe(1);
    const one = shootdown("run", exitWith(1), "--stats");
    expect(stats(one).end).toEqual({ kind: "debug-exit", code: 1, cpu: 0 });
    expect(one.status).toBe(1);
  });

  it("the summary lists I/O to unknown ports", () => {
    const path = imageFile(`_start: in $0x60, %al\n  in $0x60, %al\n  out %al, $0x70\n  xor %eax, %eax\n  out %al, $0xf4\n`);
    const r = shootdown("run", path);
    expect(r.stderr).toMatch(/^I\/O to unknown ports: 0x60 \(2 in, 0 out\), 0x70 \(0 in, 1 out\)$/m);
    expect(stats(shootdown("run", path, "--stats")).unknownPorts).toEqual([{ port: "0x60", reads: 2, writes: 0 }, { port: "0x70", reads: 0, writes: 1 }]);
  });
});
