// SPDX-License-Identifier: MIT
import { describe, it, expect } from "vitest";
import { MmioBus, PL011_BASE, PL011_FR_IDLE } from "../../emulator/machine/platform/arm/devices.ts";

describe("the AArch64 MMIO bus", () => {
  it("UARTDR writes reach the console; UARTFR reads TXFE|RXFE; other registers read 0", () => {
    const out: number[] = [];
    const bus = new MmioBus((b) => out.push(b));
    expect(bus.access({ address: PL011_BASE, size: 4, write: true, value: 0x141n })).toEqual({ ok: true, value: 0n });
    expect(bus.access({ address: PL011_BASE, size: 1, write: true, value: 0x0an })).toEqual({ ok: true, value: 0n });
    expect(out).toEqual([0x41, 0x0a]);
    expect(bus.uart.bytesOut).toBe(2);
    expect(bus.access({ address: PL011_BASE + 0x18n, size: 4, write: false, value: 0n })).toEqual({ ok: true, value: PL011_FR_IDLE });
    expect(bus.access({ address: PL011_BASE + 0x30n, size: 4, write: false, value: 0n })).toEqual({ ok: true, value: 0n });
    // A write to another register prints nothing.
    bus.access({ address: PL011_BASE + 0x30n, size: 4, write: true, value: 0x301n });
    expect(out).toEqual([0x41, 0x0a]);
  });

  it("no device outside the UART's page", () => {
    const bus = new MmioBus(() => {});
    expect(bus.access({ address: PL011_BASE + 0x1000n, size: 4, write: false, value: 0n })).toEqual({ ok: false });
    expect(bus.access({ address: 0x0a00_0000n, size: 4, write: true, value: 1n })).toEqual({ ok: false });
  });
});
