// SPDX-License-Identifier: MIT
//
// INVLPG and INVPCID by address keep the micro-TLB's other pages and the
// fetch window, unless the address is the window's own page: then the next
// fetch must use the new mapping.

import { describe, expect, it } from "vitest";
import { execRig, assembleX86 } from "../../helpers/x86-exec.ts";
import { PTE, PAGE_4K } from "../../../emulator/machine/platform/x86/page-tables.ts";
import { InvpcidType } from "../../../emulator/machine/cpu/x86-cpu.ts";

const CODE_VA = 0x4000_0000n, PA_A = 0x50_0000n, PA_B = 0x60_0000n;

/** Runs code at CODE_VA (mapped to PA_A) that remaps its own page to PA_B, invalidates it with `invalidate`, and sets ESI. */
function remapOwnPage(invalidate: string): bigint {
  const rig = execRig(`_start:
  jmp *%r11
`);
  const code = assembleX86(`
  mov $100, %ecx
1:
  sub $1, %ecx
  jnz 1b
  mov %r8, (%r9)
  ${invalidate}
  mov $1, %esi
  hlt
`, CODE_VA).sections.find((s) => s.name === ".text")!.bytes;
  const at = code.findIndex((b, i) => b === 0xbe && code[i + 1] === 1 && code[i + 2] === 0);
  expect(at).toBeGreaterThan(0);
  const other = code.slice();
  other[at + 1] = 7;
  rig.m.memory.write(PA_A, code);
  rig.m.memory.write(PA_B, other);
  const leaf = rig.pt.map(CODE_VA, PA_A, PAGE_4K, PTE.RW);
  // INVPCID's descriptor: PCID 0, the linear address.
  rig.m.memory.write64(0x7_0000n, 0n);
  rig.m.memory.write64(0x7_0008n, CODE_VA);
  rig.cpu.setState({ r11: CODE_VA, r8: PA_B | PTE.P | PTE.RW, r9: leaf, r10: CODE_VA, rdx: 0x7_0000n, rax: 0n, rsi: 0n });
  rig.cpu.run(10_000);
  return rig.cpu.state.rsi;
}

/** The same loop, stopped in the middle; the host remaps the page and invalidates it through the CPU's API, between runs. */
function remapBetweenRuns(invalidate: (rig: ReturnType<typeof execRig>) => void): bigint {
  const rig = execRig(`_start:
  jmp *%r11
`);
  const code = assembleX86(`
  mov $100, %ecx
1:
  sub $1, %ecx
  jnz 1b
  mov $1, %esi
  hlt
`, CODE_VA).sections.find((s) => s.name === ".text")!.bytes;
  const at = code.findIndex((b, i) => b === 0xbe && code[i + 1] === 1 && code[i + 2] === 0);
  const other = code.slice();
  other[at + 1] = 7;
  rig.m.memory.write(PA_A, code);
  rig.m.memory.write(PA_B, other);
  const leaf = rig.pt.map(CODE_VA, PA_A, PAGE_4K, PTE.RW);
  rig.cpu.setState({ r11: CODE_VA, rsi: 0n });
  expect(rig.cpu.run(50).reason).toBe("budget");
  rig.m.memory.write64(leaf, PA_B | PTE.P | PTE.RW);
  invalidate(rig);
  rig.cpu.run(10_000);
  return rig.cpu.state.rsi;
}

describe("invalidation by address and the fetch window", () => {
  it("INVLPG of the window's page between runs (the host's call): the next fetch uses the new mapping", () => {
    expect(remapBetweenRuns((rig) => rig.cpu.invlpg(CODE_VA))).toBe(7n);
  });

  it("INVPCID type 0 of the window's page between runs: the same", () => {
    expect(remapBetweenRuns((rig) => rig.cpu.invpcid(InvpcidType.Address, 0n, CODE_VA))).toBe(7n);
  });

  it("INVLPG of another page between runs keeps the window (and so the old mapping, which the TLB may keep)", () => {
    expect(remapBetweenRuns((rig) => rig.cpu.invlpg(CODE_VA + 0x1000n))).toBe(1n);
  });

  it("INVLPG of the window's own page: the next fetch uses the new mapping", () => {
    expect(remapOwnPage("invlpg (%r10)")).toBe(7n);
  });

  it("INVPCID type 0 (one address) of the window's own page: the same", () => {
    expect(remapOwnPage("invpcid (%rdx), %rax")).toBe(7n);
  });

  it("without an invalidation the old translation may stay (it does here: the TLB keeps it)", () => {
    expect(remapOwnPage("nop")).toBe(1n);
  });
});
