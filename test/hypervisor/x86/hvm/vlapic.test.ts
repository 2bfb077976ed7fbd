// SPDX-License-Identifier: MIT
//
// hypervisor/x86/hvm/vlapic.ts against the bare x2APIC's rules (SDM Vol.3A
// 11.8, 11.12; emulator/hw/x86/cpu/apic.ts): the registers, ICR decoding,
// priority (a vector in service holds back its class and those below), EOI
// and the timer on the vCPU's clock.

import { describe, expect, it } from "vitest";
import { Vlapic } from "../../../../hypervisor/x86/hvm/vlapic.ts";

describe("Vlapic", () => {
  it("reads its ID, version and LDR as the bare x2APIC does, and refuses what bare refuses", () => {
    const v = new Vlapic(3);
    expect(v.read(0x802, 0n)).toBe(3n);
    expect(v.read(0x80d, 0n)).toBe(3n);
    expect(v.read(0x803, 0n)).toBe(0x0005_0014n);
    expect(v.read(0x809, 0n)).toBeUndefined();
    expect(v.write(0x802, 1n, 0n)).toBe("#GP");
    expect(v.write(0x8ff, 1n, 0n)).toBe("#GP");
  });

  it("decodes an ICR write: physical destination, shorthands, and ignores delivery modes other than fixed", () => {
    const v = new Vlapic(0);
    expect(v.write(0x830, (2n << 32n) | 0x41n, 0n)).toEqual({ vector: 0x41, to: 2 });
    expect(v.write(0x830, (1n << 18n) | 0x42n, 0n)).toEqual({ vector: 0x42, to: "self" });
    expect(v.write(0x830, (2n << 18n) | 0x43n, 0n)).toEqual({ vector: 0x43, to: "all" });
    expect(v.write(0x830, (3n << 18n) | 0x44n, 0n)).toEqual({ vector: 0x44, to: "all-but-self" });
    expect(v.write(0x830, (4n << 8n) | 0x45n, 0n)).toBe("ok"); // NMI delivery: not modelled, as bare
    expect(v.write(0x83f, 0x46n, 0n)).toEqual({ vector: 0x46, to: "self" });
    expect(v.read(0x830, 0n)).toBe((4n << 8n) | 0x45n);
  });

  it("delivers the highest vector above the processor priority; one in service holds back its class until EOI", () => {
    const v = new Vlapic(0);
    v.setIrq(0x41);
    v.setIrq(0x52);
    v.setIrq(5); // vectors below 16 are dropped
    expect(v.pending()).toBe(0x52);
    v.ack(0x52);
    expect(v.read(0x812, 0n)).toBe(1n << 18n); // ISR bit 0x52: word 2, bit 18
    expect(v.pending()).toBe(-1); // 0x41's class is below 0x52's
    v.setIrq(0x53);
    expect(v.pending()).toBe(-1); // the same class as the one in service
    expect(v.write(0x80b, 0n, 0n)).toBe("ok");
    expect(v.pending()).toBe(0x53);
    v.write(0x808, 0x60n, 0n); // TPR above every requested class
    expect(v.pending()).toBe(-1);
  });

  it("fires a one-shot timer at initial count × divisor on the vCPU's clock, and a periodic one every period", () => {
    const v = new Vlapic(0);
    v.write(0x83e, 0xbn, 0n); // divide by 1
    v.write(0x832, 0x47n, 0n);
    v.write(0x838, 1000n, 500n);
    expect(v.timerDeadline).toBe(1500n);
    expect(v.read(0x839, 1000n)).toBe(500n);
    v.tick(1499n);
    expect(v.pending()).toBe(-1);
    v.tick(1500n);
    expect(v.pending()).toBe(0x47);
    expect(v.timerDeadline).toBeUndefined();
    const p = new Vlapic(0);
    p.write(0x83e, 0n, 0n); // divide by 2
    p.write(0x832, (1n << 17n) | 0x48n, 0n);
    p.write(0x838, 100n, 0n);
    p.tick(200n);
    expect(p.pending()).toBe(0x48);
    expect(p.timerDeadline).toBe(400n);
    const masked = new Vlapic(0);
    masked.write(0x832, (1n << 16n) | 0x49n, 0n);
    masked.write(0x838, 1n, 0n);
    masked.tick(100n);
    expect(masked.pending()).toBe(-1);
  });
});
