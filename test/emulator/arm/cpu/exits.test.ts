// SPDX-License-Identifier: MIT
//
// How run() returns (ArmExit in emulator/machine/arm-cpu.ts): budget, wfi, hvc, smc, trap (HCR_EL2
// TVM, TSW, TWI, a stage-2 abort), breakpoint, off; power on and off; the
// progress counters and the state hash.

import { describe, expect, it } from "vitest";
import { a64Rig, RAM_BASE } from "../../../helpers/a64-exec.ts";
import { ArmPageTables, S2 } from "../../../../emulator/machine/platform/arm/page-tables.ts";
import { ArmGic } from "../../../../emulator/machine/cpu/arm-gic.ts";
import { bringUp, GICR_ISPENDR0 } from "../../../helpers/gic.ts";

const IL = 1n << 25n;

describe("exits", () => {
  it("budget, then the rest; instructions and cycles count one per instruction", () => {
    const r = a64Rig(`
_start:
  nop
  nop
  nop
  hvc #7
`);
    expect(r.run(2)).toEqual({ reason: "budget" });
    expect(r.cpu.progress).toMatchObject({ instructions: 2n, cycles: 2n });
    expect(r.run(10)).toEqual({ reason: "hvc", imm: 7, pc: RAM_BASE + 12n });
    expect(r.cpu.state.pc).toBe(RAM_BASE + 16n);
    expect(r.cpu.progress).toMatchObject({ instructions: 4n, cycles: 4n });
  });

  it("HVC and SMC at EL1 leave with the immediate, PC past them; at EL0 they are UNDEFINED", () => {
    const r = a64Rig(`
_start:
  smc #0x55
  hvc #0xffff
`);
    expect(r.run()).toEqual({ reason: "smc", imm: 0x55, pc: RAM_BASE });
    expect(r.run()).toEqual({ reason: "hvc", imm: 0xffff, pc: RAM_BASE + 4n });
  });

  it("WFI with nothing pending sleeps: 'wfi' with PC past it, and later runs retire nothing until an interrupt is pending", () => {
    const r = a64Rig(`
_start:
  sevl
  wfe
  wfi
after_wfi:
  hvc #0
`);
    expect(r.run()).toEqual({ reason: "wfi" });
    expect(r.cpu.state.pc).toBe(r.sym("after_wfi"));
    expect(r.cpu.progress.waiting).toBe(true);
    const asleep = r.cpu.progress.instructions;
    expect(r.run()).toEqual({ reason: "wfi" });
    r.cpu.skipTo(1000n);
    expect(r.run()).toEqual({ reason: "wfi" });
    expect(r.cpu.progress.instructions).toBe(asleep);
    // An SGI pending (even with PSTATE.I set, as here after reset) wakes it.
    const gic = new ArmGic(r.m.hw, 1);
    bringUp(gic, 0);
    gic.write(0, gic.sgiBase(0) + GICR_ISPENDR0, 1n << 3n);
    expect(r.run().reason).toBe("hvc");
    expect(r.cpu.progress.waiting).toBe(false);
    expect(r.cpu.progress.cycles).toBe(1001n);
  });

  it("WFE sleeps until an event: SEV on another CPU wakes it and the wake consumes the event", () => {
    const r = a64Rig(`
_start:
  mrs x1, mpidr_el1
  and x1, x1, #0xff
  cbnz x1, sender
  wfe
woken:
  hvc #0
sender:
  sev
  hvc #0
`, { cpus: 2 });
    expect(r.run()).toEqual({ reason: "wfi" });
    expect(r.run()).toEqual({ reason: "wfi" });
    expect(r.m.cpu(1).run(100).reason).toBe("hvc");
    expect(r.run().reason).toBe("hvc");
    expect(r.cpu.state.pc).toBe(r.sym("woken") + 4n);
  });

  it("HCR_EL2.TVM traps EL1 writes of the MMU registers, PC at the MSR, ESR_EL2 set", () => {
    const r = a64Rig(`
_start:
  mrs x1, sctlr_el1
  msr sctlr_el1, x1
  hvc #0
`);
    r.cpu.setState({ hcr_el2: 1n << 26n });
    // EC 0x18: Op0 = 3, Op2 = 0, Op1 = 0, CRn = 1, Rt = 1, CRm = 0, write.
    const esr = (0x18n << 26n) | IL | (3n << 20n) | (1n << 10n) | (1n << 5n);
    expect(r.run()).toEqual({ reason: "trap", kind: "sysreg", esr, pc: RAM_BASE + 4n });
    expect(r.cpu.state.esr_el2).toBe(esr);
    expect(r.cpu.state.pc).toBe(RAM_BASE + 4n);
    // The hypervisor emulates it and steps past.
    r.cpu.setState({ pc: RAM_BASE + 8n });
    expect(r.run().reason).toBe("hvc");
  });

  it("HCR_EL2.TSW traps DC ISW/CSW/CISW; HCR_EL2.TWI traps WFI", () => {
    const r = a64Rig(`
_start:
  dc cisw, x1
  wfi
`);
    r.cpu.setState({ hcr_el2: (1n << 22n) | (1n << 13n) });
    expect(r.run()).toMatchObject({ reason: "trap", kind: "set-way", pc: RAM_BASE });
    r.cpu.setState({ pc: RAM_BASE + 4n });
    expect(r.run()).toEqual({ reason: "trap", kind: "wfi", esr: (1n << 26n) | IL | 0x1e0_0000n, pc: RAM_BASE + 4n });
  });

  it("a stage-2 fault leaves as a trap with the IPA; HPFAR_EL2 and FAR_EL2 are set", () => {
    const r = a64Rig(`
_start:
  mov x1, #0x40400000
  ldr x2, [x1, #16]
  hvc #0
`);
    const s2 = new ArmPageTables(r.m.memory, { base: RAM_BASE + 0x300_0000n, limit: RAM_BASE + 0x380_0000n }, 48, 0);
    s2.map(RAM_BASE, RAM_BASE, 1n << 21n, S2.memAttr(15) | S2.R | S2.W | S2.sh(3) | S2.AF);
    r.cpu.setState({
      hcr_el2: 1n, vttbr_el2: s2.root | (1n << 48n), vtcr_el2: 16n | (2n << 6n) | (5n << 16n) | (1n << 19n),
    });
    const e = r.run();
    // EC 0x24 (a data abort from a lower EL, as EL2 sees it), DFSC translation fault at level 2, and
    // the instruction syndrome of a single-register load (DDI0487 D19.2.40): ISV, SAS = 3 (64 bits),
    // SRT = 2 (x2), SF (a 64-bit register).
    const syndrome = (1n << 24n) | (3n << 22n) | (2n << 16n) | (1n << 15n);
    expect(e).toEqual({ reason: "trap", kind: "abort", esr: (0x24n << 26n) | IL | syndrome | 0b000110n, pc: RAM_BASE + 4n, ipa: 0x4040_0010n });
    expect(r.cpu.state.hpfar_el2).toBe((0x4040_0010n >> 12n) << 4n);
    expect(r.cpu.state.far_el2).toBe(0x4040_0010n);
  });

  it("breakpoints stop before the instruction, and running again goes past", () => {
    const r = a64Rig(`
_start:
  mov x1, #1
bp:
  mov x1, #2
  hvc #0
`);
    r.cpu.setBreakpoints([r.sym("bp")]);
    expect(r.run()).toEqual({ reason: "breakpoint", pc: r.sym("bp") });
    expect(r.x(1)).toBe(1n);
    expect(r.run().reason).toBe("hvc");
    expect(r.x(1)).toBe(2n);
    expect(() => r.cpu.setBreakpoints(Array(17).fill(0n))).toThrow(/at most 16/);
  });

  it("powerOff, then powerOn at an entry with x0 = the context id, in the reset state", () => {
    const r = a64Rig(`
_start:
  mrs x1, currentel
  mrs x2, daif
  mrs x3, mpidr_el1
  hvc #0
`, { cpus: 2 });
    const second = r.m.cpu(1);
    second.powerOff();
    expect(second.run(10)).toEqual({ reason: "off" });
    expect(second.progress.off).toBe(true);
    second.powerOn(RAM_BASE, 0x1234n);
    expect(second.state.x[0]).toBe(0x1234n);
    expect(second.run(10).reason).toBe("hvc");
    const x = second.state.x;
    expect([x[1], x[2], x[3]]).toEqual([4n, 0x3c0n, 0x8000_0001n]);
    // QEMU 7.2's SCTLR_EL1 at a -kernel entry at EL1.
    expect(second.state.sctlr_el1).toBe(0x00c5_0838n);
  });

  /** Two CPUs, one instruction before `here`, where a breakpoint goes. */
  const BREAK_AT_HERE = `
_start:
  nop
here:
  hvc #0
`;

  it("each CPU steps over only its own last breakpoint: another CPU whose quantum ends there still stops", () => {
    const r = a64Rig(BREAK_AT_HERE, { cpus: 2 });
    const [a, b] = [r.m.cpu(0), r.m.cpu(1)];
    a.setBreakpoints([r.sym("here")]);
    b.setBreakpoints([r.sym("here")]);
    expect(b.run(1)).toEqual({ reason: "budget" });
    expect(a.run(10)).toEqual({ reason: "breakpoint", pc: r.sym("here") });
    expect(b.run(10)).toEqual({ reason: "breakpoint", pc: r.sym("here") });
    expect(a.run(10).reason).toBe("hvc");
    expect(b.run(10).reason).toBe("hvc");
  });

  it("a debugger's breakpoints outlive PSCI CPU_ON's reset", () => {
    const r = a64Rig(BREAK_AT_HERE, { cpus: 2 });
    const second = r.m.cpu(1);
    second.setBreakpoints([r.sym("here")]);
    second.powerOff();
    second.powerOn(RAM_BASE, 0n);
    expect(second.run(10)).toEqual({ reason: "breakpoint", pc: r.sym("here") });
  });

  it("bad input from TypeScript is a clear error", () => {
    const r = a64Rig(`
_start:
  hvc #0
`);
    expect(() => r.cpu.run(0)).toThrow(/positive integer/);
    expect(() => r.cpu.setState({ pstate: 0x9n })).toThrow(/pstate.M/);
    expect(() => r.cpu.setState({ x: [-1n] })).toThrow(/x0 must be a 64-bit/);
    expect(() => r.cpu.setState({ bogus: 1n } as never)).toThrow(/unknown AArch64 state field 'bogus'/);
    // A bad value anywhere changes nothing.
    expect(() => r.cpu.setState({ x: [5n, 1n << 64n] })).toThrow(/x1 must be a 64-bit/);
    expect(r.cpu.state.x[0]).toBe(0n);
  });

  it("the machine's state hash covers the A64 registers", () => {
    const src = `
_start:
  mov x5, #5
  hvc #0
`;
    const a = a64Rig(src);
    const b = a64Rig(src);
    a.run();
    b.run();
    expect(a.m.hw.stateHash()).toBe(b.m.hw.stateHash());
    b.cpu.setState({ x: [0n, 0n, 0n, 0n, 0n, 6n] });
    expect(a.m.hw.stateHash()).not.toBe(b.m.hw.stateHash());
  });
});
