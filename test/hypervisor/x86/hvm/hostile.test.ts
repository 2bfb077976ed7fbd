// SPDX-License-Identifier: MIT
//
// A hostile HVM guest: random MSR accesses (the x2APIC range among them:
// ICRs to any destination and vector, timers, EOIs), CPUID leaves, port
// I/O and VMCALLs with random registers, on several vCPUs at once. Whatever
// they hold, the host answers as the architecture or the ABI says (a #GP,
// which the guest's handler skips, a status in RAX) and the run ends with
// the guest's own exit: never an exception in the host, never a hang.
// (Seed 3 found that an event injected for a vCPU paused off its pCPU
// before delivery stayed in that pCPU and reached the next vCPU there.)

import { describe, expect, it } from "vitest";
import { imageFile, shootdown, stats } from "../../../helpers/run.ts";
import { Xoshiro128 } from "../../../../emulator/machine/core/scheduler.ts";
import { guest } from "./guests.ts";

const hex = (v: bigint) => `0x${v.toString(16)}`;

function hostileOps(seed: bigint, n: number): string {
  const rng = new Xoshiro128(seed);
  const u32 = () => BigInt(rng.nextU32());
  const u64 = () => (u32() << 32n) | u32();
  const pick = <T>(xs: readonly T[]) => xs[rng.below(xs.length)]!;
  const ops: string[] = [];
  for (let k = 0; k < n; k++) {
    switch (rng.below(5)) {
      case 0: {
        // An x2APIC register (vectors of every class, every destination, the timer's registers) or any MSR.
        const msr = rng.below(3) ? 0x800n + BigInt(rng.below(0x100)) : pick([u32(), 0x40000000n + BigInt(rng.below(0x200)), 0xc0000080n, 0x1bn, 0x277n]);
        const value = pick([u64(), u32(), BigInt(rng.below(256)), (BigInt(rng.below(4)) << 32n) | BigInt(16 + rng.below(240))]);
        // A timer must not fire so often the guest never gets anywhere: its initial count stays large. An IPI's
        // vector is 32 or above: below, it would reach an exception's gate, which crashes bare as well.
        const v = msr === 0x838n ? value | 0x100000n : msr === 0x832n ? (value & ~0xffn) | 0x50n
          : msr === 0x830n || msr === 0x83fn ? value | 0x20n : value;
        ops.push(`mov $${hex(msr)}, %ecx\n        mov $${hex(v & 0xffffffffn)}, %eax\n        mov $${hex(v >> 32n)}, %edx\n        ${rng.below(2) ? "wrmsr" : "rdmsr"}`);
        break;
      }
      case 1:
        ops.push(`mov $${hex(pick([u32(), 0x40000000n + BigInt(rng.below(8)), BigInt(rng.below(8))]))}, %eax\n        mov $${hex(u32())}, %ecx\n        cpuid`);
        break;
      case 2: {
        // Any port but the debug exit, which would end the run.
        let port = BigInt(rng.below(0x10000));
        if (port === 0xf4n) port = 0x80n;
        ops.push(`mov $${hex(port)}, %dx\n        mov $${hex(u32())}, %eax\n        ${pick(["out %al, %dx", "out %eax, %dx", "in %dx, %al", "in %dx, %eax", "in %dx, %ax"])}`);
        break;
      }
      default:
        // VMCALL: Viridian (EAX bit 31) or Xen, input blocks anywhere, HVMOP_flush_tlbs among them.
        ops.push([
          `mov $${hex(pick([u64(), 0x80000000n | u32(), 34n]))}, %rax`,
          `mov $${hex(pick([u64(), BigInt(pick([2, 3, 0x13, 0x14]))| (u32() << 16n)]))}, %rcx`,
          `mov $${hex(pick([u64(), 0x10000n, 0x3000n]))}, %rdx`,
          `mov $${hex(pick([5n, u64()]))}, %rdi`,
          `mov $${hex(pick([0n, u64()]))}, %rsi`,
          "vmcall",
        ].join("\n        "));
    }
  }
  return ops.join("\n        ");
}

describe("a hostile HVM guest", () => {
  it.each([1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n])("random MSRs, CPUID, I/O and VMCALLs on 3 vCPUs (seed %s): every one answered, the guest's own exit", (seed) => {
    const body = `
        sti
        ${hostileOps(seed * 7919n + 1n, 150)}
        cli
        lock incl done(%rip)
2:      cmpl $3, done(%rip)
        jb 2b
        test %r12, %r12
        jnz 3f
        exit 0
3:      cli
        hlt
gp:     lock incq faults(%rip)
        add $8, %rsp                    # the error code
        addq $2, (%rsp)                 # past the RDMSR or WRMSR
        iretq
any:    call eoi
        iretq
`;
    const gates: [number, string][] = [[13, "gp"], ...Array.from({ length: 224 }, (_, k): [number, string] => [32 + k, "any"])];
    const elf = imageFile(guest(body, gates, "done: .long 0\nfaults: .quad 0\n"), `hostile-${seed}.elf`);
    const r = shootdown("run", elf, "--hv", "--hvm", "--cpus", "2", "--vcpus", "3", "--seed", String(seed), "--max-steps", "20000000", "--stats");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const s = stats(r);
    expect(s.end, r.stderr.slice(0, 2000)).toMatchObject({ kind: "debug-exit", code: 0 });
    expect(s.hypervisor.exits.vmcall).toBeGreaterThan(0);
  });
});
