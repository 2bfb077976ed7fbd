// SPDX-License-Identifier: MIT
//
// The devices of `shootdown run` on AArch64, at QEMU virt's addresses,
// reached through the CPUs' MMIO exits (a data access to a physical address
// that is neither RAM nor the GIC; PC is already past the instruction):
//
//   0x0900_0000–0x0900_0FFF  the PL011 UART reduced to what a console needs:
//                UARTDR (+0x00) sends a byte on write and reads 0; UARTFR
//                (+0x18) reads TXFE | RXFE (0x90: the transmit FIFO is empty
//                and never full, nothing to receive); the other registers
//                take writes and read 0.
//   anything else  no device answers: the access is a bus error that stops
//                the machine, named by its address.
//
// PSCI (psci.ts) and the GIC (in the hardware module) are not here.

import type { ConsoleSink } from "../x86/devices.ts";

export const PL011_BASE = 0x0900_0000n;
export const PL011_SIZE = 0x1000n;
export const PL011_DR = 0x00n;
export const PL011_FR = 0x18n;
/** UARTFR: TXFE (bit 7) and RXFE (bit 4). */
export const PL011_FR_IDLE = 0x90n;

export interface MmioAccess {
  address: bigint;
  size: number;
  write: boolean;
  value: bigint;
}

/** What the bus did: the value read, or that no device is there. */
export type MmioResult = { ok: true; value: bigint } | { ok: false };

export class Pl011 {
  /** Bytes sent, for the summary. */
  bytesOut = 0;

  constructor(private readonly sink: ConsoleSink) {}

  read(offset: bigint): bigint {
    return offset === PL011_FR ? PL011_FR_IDLE : 0n;
  }

  write(offset: bigint, value: bigint): void {
    if (offset !== PL011_DR) return;
    this.bytesOut++;
    this.sink(Number(value & 0xffn));
  }
}

export class MmioBus {
  readonly uart: Pl011;

  constructor(sink: ConsoleSink) {
    this.uart = new Pl011(sink);
  }

  access(a: MmioAccess): MmioResult {
    if (a.address >= PL011_BASE && a.address < PL011_BASE + PL011_SIZE) {
      const offset = a.address - PL011_BASE;
      if (a.write) {
        this.uart.write(offset, a.value);
        return { ok: true, value: 0n };
      }
      return { ok: true, value: this.uart.read(offset) };
    }
    return { ok: false };
  }
}
