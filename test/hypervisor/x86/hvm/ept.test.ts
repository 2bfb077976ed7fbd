// SPDX-License-Identifier: MIT
//
// The HVM domain's memory: guest-physical frames behind EPT on machine
// frames that are neither identity nor contiguous, the bare boot protocol's
// structures at their bare guest-physical addresses, and the guest
// annotations' PFNs translated GPA → MFN before they reach the sanitizer's
// hook.

import { describe, expect, it } from "vitest";
import { Engine } from "../../../../emulator/machine/core/engine.ts";
import { withDefaults } from "../../../../emulator/run-guest.ts";
import { bootHvmPlatform } from "../../../../hypervisor/x86/hvm/boot.ts";
import type { HvmAnnotation, HvmHost } from "../../../../hypervisor/x86/hvm/hvm-host.ts";
import { BOOT_INFO_ADDR, BOOT_MAGIC, GDT_ADDR, GDT_DESCRIPTORS } from "../../../../emulator/machine/platform/x86/boot.ts";
import { image } from "../../../helpers/run.ts";
import { guest } from "./guests.ts";

function boot(source: string, given: Parameters<typeof withDefaults>[0], annotate?: (a: HvmAnnotation) => void) {
  const elf = image(source);
  const options = withDefaults({ cpus: 2, ...given, hv: { domains: 1, vcpus: 0, domMemBytes: 0n, hvm: true, ...given.hv } }, "x86_64");
  let host: HvmHost | undefined;
  const engine = new Engine({
    options, log: false,
    build: (o, console) => bootHvmPlatform(elf, o, console, {}, { host: (h) => (host = h), ...(annotate ? { annotate } : {}) }),
  });
  return { engine, host: () => host!, options };
}

describe("EPT", () => {
  it("maps every guest frame to a machine frame that is not its own number nor the one after the previous frame's", () => {
    for (const seed of [0n, 1n, 2n]) {
      const { host, options } = boot(guest("exit 0"), { seed, memBytes: 8n << 20n });
      const ept = host().ept;
      const pages = Number(options.hv!.domMemBytes >> 12n);
      expect(pages).toBe(2048);
      const mfns = new Set<number>();
      let previous: number | undefined;
      for (let gfn = 0; gfn < pages; gfn++) {
        const mfn = ept.lookup(gfn);
        expect(mfn, `GFN ${gfn}`).toBeDefined();
        expect(mfn).not.toBe(gfn);
        if (previous !== undefined) expect(mfn).not.toBe(previous + 1);
        mfns.add(mfn!);
        previous = mfn;
      }
      expect(mfns.size).toBe(pages);
      expect(ept.lookup(pages)).toBeUndefined();
    }
  });

  it("differs from seed to seed", () => {
    const a = boot(guest("exit 0"), { seed: 1n }).host().ept;
    const b = boot(guest("exit 0"), { seed: 2n }).host().ept;
    expect([0, 1, 2, 3].map((g) => a.lookup(g))).not.toEqual([0, 1, 2, 3].map((g) => b.lookup(g)));
  });

  it("holds the boot information and the GDT at their bare guest-physical addresses, in the machine frames EPT names", () => {
    const { engine, host } = boot(guest("exit 0"), {});
    const memory = engine.platform.machine.memory as unknown as { read64(pa: bigint): bigint };
    const at = (gpa: bigint) => (BigInt(host().ept.lookup(Number(gpa >> 12n))!) << 12n) | (gpa & 0xfffn);
    expect(memory.read64(at(BOOT_INFO_ADDR))).toBe(BOOT_MAGIC);
    expect(memory.read64(at(GDT_ADDR + 8n))).toBe(GDT_DESCRIPTORS[1]);
    // The machine address the bare machine would use holds something else.
    expect(at(BOOT_INFO_ADDR)).not.toBe(BOOT_INFO_ADDR);
  });
});

describe("guest annotations (ports 0x5D0–0x5D4)", () => {
  it("reach the sanitizer's hook with a PFN translated to its MFN; other operations as given", () => {
    const seen: HvmAnnotation[] = [];
    const { engine, host } = boot(guest(`
        mov $0x5d0, %dx                 # SD_ANNOT_FREE of PFN 0x123
        mov $0x123, %eax
        out %eax, %dx
        mov $0x5d2, %dx                 # SD_ANNOT_WALK_BEGIN
        xor %eax, %eax
        out %eax, %dx
        mov $0x5d4, %dx                 # SD_ANNOT_TABLE_UNHOOK of a PFN outside RAM
        mov $0xfffff, %eax
        out %eax, %dx
        exit 0
`), { cpus: 1 }, (a) => seen.push(a));
    engine.runToEnd();
    expect(engine.endedWith?.status).toBe(0);
    expect(seen).toEqual([
      { op: 0, arg: 0x123, mfn: host().ept.lookup(0x123), pcpu: 0, vcpu: "d1v0" },
      { op: 2, arg: 0, pcpu: 0, vcpu: "d1v0" },
      { op: 4, arg: 0xfffff, pcpu: 0, vcpu: "d1v0" },
    ]);
  });
});
