// SPDX-License-Identifier: MIT
//
// Memory sharing on HVM domains (hypervisor/x86/hvm/hvm-sharing.ts): a page
// shared between two running domains is mapped read-only in both EPTs, a
// guest write to it is an EPT violation that copies it (or, for the last
// sharer, makes it private), and neither domain sees the other's write;
// XENMEM_sharing_op from a privileged domain 0 by VMCALL; each domain finds
// its id in Xen's CPUID leaf base + 4.

import { describe, expect, it } from "vitest";
import { Engine } from "../../../../emulator/machine/core/engine.ts";
import { withDefaults } from "../../../../emulator/run-guest.ts";
import { bootHvmPlatform } from "../../../../hypervisor/x86/hvm/boot.ts";
import type { HvmHost } from "../../../../hypervisor/x86/hvm/hvm-host.ts";
import { finish } from "../../../../hypervisor/index.ts";
import type { Cpu } from "../../../../hypervisor/x86/hypervisor.ts";
import type { RecordedOptions } from "../../../../emulator/machine/core/schedule-file.ts";
import { image } from "../../../helpers/run.ts";
import { guest } from "./guests.ts";

const PAGE = 0x300000n;
const GFN = Number(PAGE >> 12n);

function boot(source: string, hv: Partial<NonNullable<RecordedOptions["hv"]>>, cpus = 2) {
  const elf = image(source);
  const options = withDefaults({ cpus, memBytes: 8n << 20n, hv: { domains: 2, vcpus: 1, domMemBytes: 8n << 20n, hvm: true, ...hv } }, "x86_64");
  let host: HvmHost | undefined;
  let out = "";
  const engine = new Engine({
    options, log: false, console: (b) => (out += String.fromCharCode(b)),
    build: (o, console) => bootHvmPlatform(elf, o, console, {}, { host: (h) => (host = h) }),
  });
  return { engine, host: () => host!, console: () => out };
}

/** The guest prologue: R13 = the domain id from CPUID 0x40000104 (ECX, flagged by EAX bit 4), or ~0. */
const DOMID = `
        mov $0x40000104, %eax
        cpuid
        mov $-1, %r13
        test $0x10, %eax
        jz 1f
        mov %ecx, %r13d
1:
`;

/** Fill PAGE with 0x5a, spin, write the domain id × 0x11 to its first byte, print its first two bytes and exit 0. */
const WRITER = `${DOMID}
        mov $${PAGE}, %rdi
        mov $0x5a, %al
        mov $4096, %ecx
        rep stosb
        mov $SPIN, %ecx
2:      dec %ecx
        jnz 2b
        mov %r13d, %eax
        imul $0x11, %eax
        mov %al, ${PAGE}
        movzbq ${PAGE}, %rax
        call puthex
        movzbq ${PAGE + 1n}, %rax
        call puthex
        mov $10, %al
        call putc
        exit 0
`;

describe("memory sharing between HVM domains", () => {
  it("each domain reads its id from Xen's leaf base + 4 and prints on its own COM1, prefixed", () => {
    const { engine, console } = boot(guest(`${DOMID}
        mov %r13, %rax
        call puthex
        mov $10, %al
        call putc
        exit 0
`), {});
    engine.runToEnd();
    expect(engine.endedWith?.status).toBe(0);
    expect(console().split("\n").filter(Boolean).sort()).toEqual(["[d1] 0000000000000001 ", "[d2] 0000000000000002 "]);
  });

  it("a page shared while both domains run is read-only in both EPTs; each write copies it, and neither sees the other's", () => {
    const { engine, host, console } = boot(guest(WRITER.replace("SPIN", "300000")), {});
    // Run until both domains have filled the page.
    const filled = () => host().domains.every((d) => {
      const mfn = d.ept.lookup(GFN)!;
      return engine.platform.machine.memory.read(BigInt(mfn) << 12n, 4096).every((b) => b === 0x5a);
    });
    for (let i = 0; i < 100 && !filled(); i++) engine.resume(undefined, 20_000n);
    expect(filled()).toBe(true);
    const h = host();
    const [d1, d2] = h.domains.map((d) => d.domain) as [NonNullable<HvmHost["domain"]>, NonNullable<HvmHost["domain"]>];
    const c: Cpu = { hv: h.hv, cpu: 0, vcpu: d1.vcpus[0]!, d: d1 };
    const ms = h.sharing.ms;
    ms.enabled.add(d1).add(d2);
    const s = finish(ms.nominatePage(c, d1, GFN));
    const cl = finish(ms.nominatePage(c, d2, GFN));
    expect([s.rc, cl.rc]).toEqual([0, 0]);
    expect(finish(ms.sharePages(c, d1, GFN, s.handle, d2, GFN, cl.handle))).toBe(0);
    const shared = h.domains[0]!.ept.lookup(GFN)!;
    for (const d of h.domains) {
      expect(d.ept.entry(GFN)).toEqual({ mfn: shared, type: "ram_shared" });
      expect(d.ept.writable(GFN)).toBe(false);
    }
    expect(ms.nrSharedMfns).toBe(1);
    expect(ms.nrSavedMfns).toBe(1);

    engine.runToEnd();
    expect(engine.endedWith?.status).toBe(0);
    expect(console().split("\n").filter(Boolean).sort()).toEqual([
      "[d1] 0000000000000011 000000000000005a ",
      "[d2] 0000000000000022 000000000000005a ",
    ]);
    // The first writer got a copy, the last sharer the frame itself.
    expect(ms.stats).toMatchObject({ unshared: 2, cowCopies: 1, madePrivate: 1 });
    expect(h.sharing.faults.cow).toBe(2);
    const mfns = h.domains.map((d) => d.ept.entry(GFN)!);
    expect(mfns.every((e) => e.type === "ram_rw")).toBe(true);
    expect(mfns[0]!.mfn).not.toBe(mfns[1]!.mfn);
    expect(mfns.map((e) => e.mfn)).toContain(shared);
    expect(ms.nrSharedMfns).toBe(0);
    const errors: string[] = [];
    expect(finish(ms.audit(c, errors))).toBe(0);
    expect(errors).toEqual([]);
    expect(h.hv.locks.violations).toEqual([]);
  });

  it("domain 0 shares domain 1's page into domain 2 by XENMEM_sharing_op; an unprivileged domain gets -EPERM", () => {
    // Domain 0 waits for the others to fill the page, then nominates both and shares; d1 also tries, and is refused.
    const op = 0x310000n;
    const call = `
        mov $12, %eax                   # __HYPERVISOR_memory_op
        mov $22, %edi                   # XENMEM_sharing_op
        mov $${op}, %rsi
        vmcall
`;
    const nominate = (domid: number, handleReg: string) => `
        movb $0, ${op}                  # XENMEM_sharing_op_nominate_gfn
        movw $${domid}, ${op + 2n}
        movq $${GFN}, ${op + 8n}
${call}
        call puthex
        mov ${op + 16n}, ${handleReg}
`;
    const src = guest(`${DOMID}
        test %r13, %r13
        jnz writer
        mov $100000, %ecx
3:      dec %ecx
        jnz 3b
${nominate(1, "%r14")}
${nominate(2, "%r15")}
        movb $2, ${op}                  # XENMEM_sharing_op_share
        movw $1, ${op + 2n}
        movq $${GFN}, ${op + 8n}
        mov %r14, ${op + 16n}
        movq $${GFN}, ${op + 24n}
        mov %r15, ${op + 32n}
        movw $2, ${op + 40n}
${call}
        call puthex
        mov $10, %al
        call putc
        exit 0
writer:
        cmp $1, %r13
        jne 4f
${nominate(2, "%rbx")}
4:
${WRITER.replace(DOMID, "").replace("SPIN", "400000")}
`);
    const { engine, host, console } = boot(src, { domains: 3, dom0: true }, 3);
    engine.runToEnd();
    expect(engine.endedWith?.status).toBe(0);
    const lines = console().split("\n").filter(Boolean);
    expect(lines).toContain("[d0] 0000000000000000 0000000000000000 0000000000000000 ");
    const eperm = (-1n & 0xffff_ffff_ffff_ffffn).toString(16);
    expect(lines.find((l) => l.startsWith("[d1]"))).toBe(`[d1] ${eperm} 0000000000000011 000000000000005a `);
    expect(lines.find((l) => l.startsWith("[d2]"))).toBe("[d2] 0000000000000022 000000000000005a ");
    const h = host();
    expect(h.sharing.ms.stats).toMatchObject({ nominated: 2, shared: 1, cowCopies: 1, madePrivate: 1 });
    expect(h.summary()).toMatchObject({ domains: [{ domid: 0, privileged: true }, { domid: 1 }, { domid: 2 }] });
  });
});
