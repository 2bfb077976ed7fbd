// SPDX-License-Identifier: MIT
//
// The devices of `shootdown run`, reached through the CPUs' I/O exits (IN
// and OUT leave the hot path; RIP is already past the instruction):
//
//   0x3F8–0x3FF  COM1, a 16550-style UART reduced to what a console needs:
//                THR (0x3F8) sends a byte, LSR (0x3FD) always reads 0x60
//                (THR empty, transmitter idle); the other registers take
//                writes and read 0. LCR.DLAB is honoured so that a guest
//                programming the divisor latch prints nothing.
//   0xF4         debug exit, as QEMU's isa-debug-exit: the value written ends
//                the run and becomes its result.
//   anything else  IN reads all ones of its size, OUT is ignored; both are
//                counted per port for the run's summary.

/** One access the CPU asked for. */
export interface IoAccess {
  port: number;
  size: 1 | 2 | 4;
  write: boolean;
  /** The value written (OUT); ignored for IN. */
  value: bigint;
}

/** What the bus did: for IN, the value read; `exit` when the access ended the run. */
export interface IoResult {
  value: bigint;
  exit?: { code: bigint };
}

export const COM1_BASE = 0x3f8;
export const UART_THR = 0;
export const UART_LCR = 3;
export const UART_LSR = 5;
/** LSR: THRE (bit 5) and TEMT (bit 6). */
export const UART_LSR_IDLE = 0x60n;
const LCR_DLAB = 0x80;
export const DEBUG_EXIT_PORT = 0xf4;

/** The console side of the UART: bytes in the order the guest wrote them. */
export type ConsoleSink = (byte: number) => void;

export class Uart {
  private lcr = 0;
  /** Bytes sent, for the summary. */
  bytesOut = 0;

  constructor(private readonly sink: ConsoleSink) {}

  in(offset: number): bigint {
    return offset === UART_LSR ? UART_LSR_IDLE : 0n;
  }

  out(offset: number, value: bigint): void {
    const byte = Number(value & 0xffn);
    if (offset === UART_LCR) this.lcr = byte;
    if (offset === UART_THR && !(this.lcr & LCR_DLAB)) {
      this.bytesOut++;
      this.sink(byte);
    }
  }
}

/** Per-port counts of accesses that no device answered. */
export interface UnknownPort {
  port: number;
  reads: number;
  writes: number;
}

const mask = (size: number) => (1n << BigInt(8 * size)) - 1n;

/** The I/O port space of the machine. */
export class IoBus {
  readonly uart: Uart;
  private readonly unknown = new Map<number, UnknownPort>();

  constructor(sink: ConsoleSink) {
    this.uart = new Uart(sink);
  }

  access(a: IoAccess): IoResult {
    if (a.port >= COM1_BASE && a.port < COM1_BASE + 8) {
      if (a.write) {
        this.uart.out(a.port - COM1_BASE, a.value);
        return { value: 0n };
      }
      return { value: this.uart.in(a.port - COM1_BASE) & mask(a.size) };
    }
    if (a.port === DEBUG_EXIT_PORT && a.write) return { value: 0n, exit: { code: a.value & mask(a.size) } };
    let u = this.unknown.get(a.port);
    if (!u) this.unknown.set(a.port, (u = { port: a.port, reads: 0, writes: 0 }));
    if (a.write) {
      u.writes++;
      return { value: 0n };
    }
    u.reads++;
    return { value: mask(a.size) };
  }

  /** Ports no device answered, in port order. */
  unknownPorts(): UnknownPort[] {
    return [...this.unknown.values()].sort((a, b) => a.port - b.port);
  }
}

/** RAX after IN of `size` bytes: AL and AX keep the rest of RAX; a 32-bit IN zero-extends (SDM Vol.1 3.4.1.1). */
export function raxAfterIn(rax: bigint, size: 1 | 2 | 4, value: bigint): bigint {
  if (size === 4) return value & 0xffff_ffffn;
  const m = mask(size);
  return (rax & ~m) | (value & m);
}
