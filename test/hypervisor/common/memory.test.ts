// SPDX-License-Identifier: MIT
//
// Machine memory as the hypervisor reads it: words() at frameWord(pa) (a
// walk's or a table scan's entries, with no bigint per entry) must hold the
// halves of what read64 reads at every entry of a frame, in frames of either
// RAM range, for both memories the hypervisor runs on, and frameWord must
// refuse what read64 refuses.

import { afterAll, describe, expect, it } from "vitest";
import { Machine } from "../../../emulator/machine/core/machine.ts";
import { ArrayMemory, type MachineMemory } from "../../../hypervisor/common/memory.ts";

const MiB = 1n << 20n;
const machine = new Machine({ maxPhysAddr: 46, ram: [{ base: 0n, size: 4n * MiB }, { base: 0x1_0000_0000n, size: 2n * MiB }] });
afterAll(() => machine.release());

const memories: [string, MachineMemory, bigint[]][] = [
  ["the machine's memory", machine.memory, [0n, 0x1000n, 4n * MiB - 8n, 0x1_0000_0000n, 0x1_0000_0000n + 2n * MiB - 8n]],
  ["ArrayMemory", new ArrayMemory(0x10_0000n, 0x4000), [0x10_0000n, 0x10_2ff8n, 0x10_3ff8n]],
];

const frameOf = (pa: bigint) => pa & ~0xfffn;

describe.each(memories)("words and frameWord on %s", (_, mem, addresses) => {
  it("holds read64's halves at words[frameWord + 2i] and the word after, for entry i, wherever the last access was", () => {
    const values = [0x8000_0000_0000_0001n, 0x1234_5678_9abc_def0n, 0xffff_ffff_ffff_fffen, 1n];
    addresses.forEach((pa, i) => mem.write64(pa, values[i % values.length]!));
    // Back and forth between the ranges, so that a remembered range is both used and left.
    for (const pa of [...addresses, ...[...addresses].reverse()]) {
      const words = mem.words();
      const at = mem.frameWord(Number(frameOf(pa)));
      expect(at + 1024).toBeLessThanOrEqual(words.length);
      const i = Number(pa - frameOf(pa)) / 8;
      expect(words[at + 2 * i]).toBe(Number(mem.read64(pa) & 0xffff_ffffn));
      expect(words[at + 2 * i + 1]).toBe(Number(mem.read64(pa) >> 32n));
    }
  });

  it("refuses a frame that is not RAM, as read64 does", () => {
    const outside = frameOf(addresses.at(-1)!) + 0x1000n;
    expect(() => mem.read64(outside)).toThrow();
    expect(() => mem.frameWord(Number(outside))).toThrow();
  });
});
