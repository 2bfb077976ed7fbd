// SPDX-License-Identifier: MIT
//
// The narrow register accessors a hypervisor's exit handlers use at almost
// every exit (gprAt, setRipRax) must read and write exactly what gpr() and
// setState() do, and a run after setRipRax must fetch from the new RIP
// (the fetch window is dropped, as setState drops it).

import { describe, expect, it } from "vitest";
import { execRig } from "../../helpers/x86-exec.ts";
import { GPR, GPR_NAMES } from "../../../emulator/machine/cpu/x86-cpu.ts";

describe("gprAt and setRipRax", () => {
  it("gprAt(GPR.x) is gpr(x) for every register", () => {
    const rig = execRig("_start:\n  hlt\n");
    const values = Object.fromEntries(GPR_NAMES.map((name, i) => [name, BigInt.asUintN(64, 0x1111_0000_0000_0000n * BigInt(i + 1) + BigInt(i))]));
    rig.cpu.setState(values);
    for (const name of GPR_NAMES) {
      expect(rig.cpu.gprAt(GPR[name])).toBe(values[name]);
      expect(rig.cpu.gpr(name)).toBe(values[name]);
    }
    expect(() => rig.cpu.gprAt(16)).toThrow(/no general-purpose register 16/);
    expect(() => rig.cpu.gprAt(-1)).toThrow();
  });

  it("gprIs(GPR.x, n) is gprAt(GPR.x) === BigInt(n), whatever the high half holds", () => {
    const rig = execRig("_start:\n  hlt\n");
    const cases: [bigint, number, boolean][] = [
      [29n, 29, true], [0n, 0, true], [0xffff_ffffn, 0xffff_ffff, true],
      [29n + (1n << 32n), 29, false], [1n << 63n, 0, false], [28n, 29, false], [0xffff_ffff_ffff_ffffn, 0xffff_ffff, false],
    ];
    for (const [value, n, is] of cases) {
      rig.cpu.setState({ rdi: value });
      expect(rig.cpu.gprIs(GPR.rdi, n)).toBe(is);
      expect(rig.cpu.gprAt(GPR.rdi) === BigInt(n)).toBe(is);
    }
    expect(() => rig.cpu.gprIs(16, 0)).toThrow(/no general-purpose register 16/);
  });

  it("setRipRax leaves the state setState({ rip, rax }) leaves, and the next fetch is at the new RIP", () => {
    const source = `_start:
  hlt
second:
  mov $7, %ebx
  hlt
`;
    const a = execRig(source);
    const b = execRig(source);
    const second = a.cpu.state.rip + 1n; // the first HLT is one byte
    a.cpu.setRipRax(second, 0xdead_beefn);
    b.cpu.setState({ rip: second, rax: 0xdead_beefn });
    expect(a.cpu.state).toEqual(b.cpu.state);
    a.cpu.setRipRax(second);
    expect(a.cpu.state.rax).toBe(0xdead_beefn);
    a.cpu.run(10);
    b.cpu.run(10);
    expect(a.cpu.gpr("rbx")).toBe(7n);
    expect(a.cpu.state).toEqual(b.cpu.state);
    expect(() => a.cpu.setRipRax(-1n)).toThrow(/rip must be a 64-bit unsigned bigint/);
    expect(() => a.cpu.setRipRax(0n, 1n << 64n)).toThrow(/rax must be a 64-bit unsigned bigint/);
  });
});
