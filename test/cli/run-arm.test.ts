// SPDX-License-Identifier: MIT
//
// `shootdown run` on AArch64 images as a user runs it (dist/cli.js): PSCI
// ends the run, hostile guests end with the documented status and a
// one-line message naming the CPU, PC, instruction and reason, and runs are
// reproducible from their seed and replay exactly.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, image, imageFile, shootdown, stats, tmpFile } from "../helpers/run.ts";

const HELLO = join(ROOT, "guest", "aarch64", "hello.elf");
const arm = (source: string) => imageFile(image(source, { arch: "aarch64" }));
const firstLine = (s: string) => s.split("\n")[0]!;
const hashOf = (stderr: string) => /^state hash: (0x[0-9a-f]+)$/m.exec(stderr)?.[1];

/** w0 = a PSCI function, then HVC. */
const psci = (fn: number) => `movz w0, #${fn & 0xffff}\n        movk w0, #${fn >>> 16}, lsl #16\n        hvc #0\n`;

describe("AArch64: how a run ends", () => {
  it("PSCI SYSTEM_OFF is success, SYSTEM_RESET a guest-reported failure", () => {
    const off = shootdown("run", arm(`_start: ${psci(0x8400_0008)}`));
    expect(off.stderr).toMatch(/^result: success \(CPU 0 called PSCI SYSTEM_OFF\) \(exit status 0\)$/m);
    expect(off.status).toBe(0);
    const reset = shootdown("run", arm(`_start: ${psci(0x8400_0009)}`));
    expect(reset.stderr).toMatch(/^result: guest-reported failure: CPU 0 called PSCI SYSTEM_RESET \(exit status 1\)$/m);
    expect(reset.status).toBe(1);
  });

  it("the PL011 prints what the guest writes and UARTFR reads transmit-empty", () => {
    const r = shootdown("run", arm(`
_start: movz x1, #0x0900, lsl #16
        ldr w2, [x1, #0x18]
        mov w0, #'O'
        str w0, [x1]
        mov w0, #'K'
        strb w0, [x1]
        cmp w2, #0x90
        b.ne 1f
        mov w0, #10
        str w0, [x1]
1:      ${psci(0x8400_0008)}`));
    expect(r.stdout).toBe("OK\n");
    expect(r.status).toBe(0);
  });

  it("CPU_ON starts another CPU at its entry with the context ID in x0", () => {
    const r = shootdown("run", arm(`
_start: mov x1, #1
        adr x2, second
        mov x3, #'2'
        ${psci(0xc400_0003)}
        cbnz x0, 9f
1:      wfe
        b 1b
9:      ${psci(0x8400_0009)}
second: movz x1, #0x0900, lsl #16
        str w0, [x1]
        mov w0, #10
        str w0, [x1]
        ${psci(0x8400_0008)}`), "--cpus", "2");
    expect(r.stdout).toBe("2\n");
    expect(r.stderr).toMatch(/^result: success \(CPU 1 called PSCI SYSTEM_OFF\)/m);
    expect(r.status).toBe(0);
  });
});

describe("AArch64: hostile guests", () => {
  it("an undefined instruction with VBAR_EL1 unset: an exception loop, named with what led to it", () => {
    const r = shootdown("run", arm("_start: nop\n        .inst 0\n"));
    expect(firstLine(r.stderr)).toBe(
      "shootdown run: CPU 0: exception loop: after an undefined instruction (ESR 0x2000000) at PC 0x40080004 <_start+0x4> " +
      "[00000000: not an instruction shootdown knows], an instruction abort (ESR 0x86000010) is taken again and again " +
      "(vector 0x200; VBAR_EL1 is 0, no vector table is set) at PC 0x200 [unreadable]",
    );
    expect(r.stderr).toMatch(/^result: crash: exception-loop \(exit status 2\)$/m);
    expect(r.status).toBe(2);
  });

  it("a handler that faults on its own instruction: an exception loop, not a hang", () => {
    const r = shootdown("run", arm(`
_start: adr x0, vectors
        msr vbar_el1, x0
        isb
        adr x1, vectors
        add x1, x1, #1
        ldxr x0, [x1]              // misaligned exclusive: an alignment fault
        .balign 2048
vectors: .skip 0x200
        nop
        ldxr x2, [x1]              // and again in the handler, for ever
`));
    expect(firstLine(r.stderr)).toBe(
      "shootdown run: CPU 0: exception loop: after a data abort (ESR 0x96000021) at PC 0x40080a04 <vectors+0x204> [c85f7c22: ldxr x2, [x1]], " +
      "a data abort (ESR 0x96000021) is taken again and again (vector 0x40080a00) at PC 0x40080a04 <vectors+0x204> [c85f7c22: ldxr x2, [x1]]",
    );
    expect(r.status).toBe(2);
  });

  it("WFI with nothing to wake any CPU is a deadlock, not a spin", () => {
    const r = shootdown("run", arm("_start: wfi\n        b _start\n"), "--cpus", "1", "--stats");
    expect(stats(r)).toMatchObject({ status: 2, end: { kind: "crash", reason: "deadlock" }, instructions: 1 });
    const text = shootdown("run", arm("_start: wfi\n        b _start\n"));
    expect(firstLine(text.stderr)).toBe(
      "shootdown run: all CPUs wait (WFI) with nothing pending: deadlock (CPU 0 waiting with DAIF=0xf at PC 0x40080000 <_start> [d503207f: wfi])",
    );
  });

  it("an HVC that is not PSCI and any SMC crash the machine: nothing is behind them", () => {
    const hvc = shootdown("run", arm("_start: mov x0, #0x1234\n        hvc #0\n"));
    expect(firstLine(hvc.stderr)).toBe(
      "shootdown run: CPU 0: HVC with function 0x1234 in w0: not a PSCI call, and there is no hypervisor to handle it at PC 0x40080004 <_start+0x4> [d4000002: hvc #0x0]",
    );
    expect(hvc.status).toBe(2);
    const smc = shootdown("run", arm("_start: smc #7\n"));
    expect(firstLine(smc.stderr)).toBe("shootdown run: CPU 0: SMC #0x7 with no EL3 firmware to handle it at PC 0x40080000 <_start> [d40000e3: smc #0x7]");
    expect(smc.status).toBe(2);
  });

  it("an access to a physical address with no device is a bus error naming it", () => {
    const r = shootdown("run", arm("_start: movz x1, #0x0a00, lsl #16\n        ldr w0, [x1]\n"));
    expect(firstLine(r.stderr)).toBe(
      "shootdown run: CPU 0: bus error: read from physical address 0xa000000, outside RAM [0x40000000, 0x48000000), the GIC and the PL011 UART at PC 0x40080004 <_start+0x4> [b9400020: ldr w0, [x1]]",
    );
    expect(r.status).toBe(2);
  });

  it("an infinite loop ends at --max-steps with status 3", () => {
    const r = shootdown("run", arm("_start: b _start\n"), "--max-steps", "5000", "--stats");
    expect(stats(r)).toMatchObject({ status: 3, end: { kind: "step-limit", steps: 5000 }, instructions: 5000 });
  });

  it("images the AArch64 loader refuses: truncated, linked below RAM", () => {
    const good = image("_start: b _start\n", { arch: "aarch64" });
    const cut = shootdown("run", imageFile(good.subarray(0, 100)));
    expect(firstLine(cut.stderr)).toMatch(/^shootdown run: cannot load .*: truncated: program header 0/);
    expect(cut.status).toBe(2);
    const low = shootdown("run", imageFile(image("_start: b _start\n", { arch: "aarch64", base: 0x1000n })));
    expect(firstLine(low.stderr)).toMatch(
      /^shootdown run: cannot load .*: program header 0 \(p_paddr 0x1000, p_memsz 0x4\) starts at 0x1000, outside RAM \[0x40000000, 0x48000000\); link the image at or above 0x40000000$/,
    );
    expect(low.status).toBe(2);
  });
});

describe("AArch64: determinism, record and replay (hello on 4 CPUs)", () => {
  it("the same seed twice: the same console and state hash; another seed another schedule, the same console", () => {
    const a = shootdown("run", HELLO, "--cpus", "4", "--seed", "3", "--quantum", "50");
    const b = shootdown("run", HELLO, "--cpus", "4", "--seed", "3", "--quantum", "50");
    const c = shootdown("run", HELLO, "--cpus", "4", "--seed", "4", "--quantum", "50");
    expect(a.status).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(hashOf(b.stderr)).toBe(hashOf(a.stderr));
    expect(c.stdout).toBe(a.stdout);
    expect(c.status).toBe(0);
    expect(hashOf(c.stderr)).not.toBe(hashOf(a.stderr));
  });

  it("--record then --replay reproduces the run", () => {
    const file = tmpFile("hello-arm.json");
    const rec = shootdown("run", HELLO, "--cpus", "4", "--seed", "9", "--quantum", "20", "--record", file);
    expect(rec.status).toBe(0);
    const rep = shootdown("run", HELLO, "--replay", file);
    expect(rep.stdout).toBe(rec.stdout);
    expect(rep.stderr).toMatch(/^replay reproduced the recorded run \(state hash 0x[0-9a-f]+\)$/m);
    expect(hashOf(rep.stderr)).toBe(hashOf(rec.stderr));
    expect(rep.status).toBe(0);
  });
});
