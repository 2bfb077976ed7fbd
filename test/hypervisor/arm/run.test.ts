// SPDX-License-Identifier: MIT
//
// `shootdown run IMAGE --hv` on AArch64 images: guest/aarch64/{hello,selftest}
// print QEMU's console (the golden files) byte for byte under the
// hypervisor, with as many vCPUs as pCPUs and with more vCPUs than pCPUs
// migrating; PSCI answers as the bare platform does; and what Xen injects
// for an SMC, an HVC outside PSCI and a stage-2 abort outside RAM and the
// devices reaches the guest's vector, counted, with the machine going on.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { image, imageFile, shootdown, stats, tmpFile } from "../../helpers/run.ts";
import { goldenPath } from "../../golden/guest/regenerate-aarch64.mjs";

const elf = (name: string) => join("guest", "aarch64", `${name}.elf`);
/** The console of a run: stdout up to the summary --stats leaves out. */
const golden = (name: string) => readFileSync(goldenPath(name)).toString("latin1");

describe.each(["hello", "selftest"])("guest/aarch64/%s under --hv prints QEMU's console", (name) => {
  const runs: [string, string[]][] = [
    ["--cpus 4", ["--cpus", "4"]],
    ...[1, 2, 3].map((s): [string, string[]] => [`--cpus 2 --vcpus 4 --migrate 0.05 --seed ${s}`, ["--cpus", "2", "--vcpus", "4", "--migrate", "0.05", "--seed", `${s}`]]),
    ["--cpus 2 --vcpus 4 --migrate 1 --seed 9", ["--cpus", "2", "--vcpus", "4", "--migrate", "1", "--seed", "9"]],
  ];
  it.each(runs)("%s", (_, args) => {
    const r = shootdown("run", elf(name), "--hv", ...args, "--stats");
    expect(r.stdout, r.stderr).toBe(golden(name));
    const s = stats(r);
    expect(s.status, r.stderr).toBe(0);
    expect(s.hypervisor.injected).toBe(0);
    // The stage 2 was in the way: the guest's first touches of its pages were stage-2 faults the valid bit resolved.
    expect(s.hypervisor.p2mFaultsResolved).toBeGreaterThan(0);
    if (args.includes("--migrate") && name === "hello") expect(s.hypervisor.migrations).toBeGreaterThan(0);
  });
});

describe("--migrate", () => {
  it("is recorded in the schedule, and the replay reproduces the run", () => {
    const file = tmpFile("arm-hv-replay.json");
    const a = shootdown("run", elf("hello"), "--hv", "--cpus", "2", "--vcpus", "3", "--migrate", "0.5", "--seed", "4", "--record", file);
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(readFileSync(file, "utf8")).options.hv.migrate).toBe(0.5);
    const b = shootdown("run", elf("hello"), "--hv", "--cpus", "2", "--vcpus", "3", "--replay", file);
    expect(b.stderr).toMatch(/replay reproduced the recorded run/);
    expect(b.stdout).toBe(a.stdout);
  });

  it("must be a probability, and needs --hv", () => {
    expect(shootdown("run", elf("hello"), "--hv", "--migrate", "2").stderr).toMatch(/--migrate must be a probability/);
    expect(shootdown("run", elf("hello"), "--migrate", "0.1").stderr).toMatch(/--migrate needs --hv/);
  });
});

/** w0 = a PSCI function, then HVC #0. */
const psci = (fn: number) => `movz w0, #${fn & 0xffff}\n        movk w0, #${fn >>> 16}, lsl #16\n        hvc #0\n`;
const SYSTEM_OFF = 0x8400_0008;
const SYSTEM_RESET = 0x8400_0009;
/** PSCI CPU_ON of vCPU 1 at the label `second`. */
const START_SECOND = `mov x1, #1
        adr x2, second
        ${psci(0xc400_0003)}`;

/**
 * A guest whose synchronous exceptions at EL1 (SPx) go to `handler`; `body`
 * runs first. Both end at `pass` (prints P, SYSTEM_OFF) or `fail` (prints F,
 * SYSTEM_RESET), so each check can fail.
 */
const guest = (body: string, handler = "b fail") => imageFile(image(`
_start: adr x0, vectors
        msr vbar_el1, x0
        isb
${body}
fail:   mov w0, #'F'
        bl putc
        ${psci(SYSTEM_RESET)}
pass:   mov w0, #'P'
        bl putc
        ${psci(SYSTEM_OFF)}
putc:   movz x9, #0x0900, lsl #16
        str w0, [x9]
        ret
        .balign 2048
vectors: .skip 0x200
        ${handler}
`, { arch: "aarch64" }));

const runHv = (path: string, ...args: string[]) => {
  const r = shootdown("run", path, "--hv", ...(args.includes("--cpus") ? [] : ["--cpus", "2"]), ...args, "--stats");
  return { ...r, s: stats(r) };
};

describe("PSCI over HVC for the domain's vCPUs (the bare platform's answers)", () => {
  it("VERSION is 1.1 and FEATURES knows CPU_ON, not an unknown function", () => {
    const r = runHv(guest(`
        ${psci(0x8400_0000)}
        movz x1, #0x0001, lsl #16
        add x1, x1, #1
        cmp x0, x1
        b.ne fail
        movz w1, #0x0003
        movk w1, #0xc400, lsl #16
        ${psci(0x8400_000a)}
        cbnz x0, fail
        movz w1, #0x0099
        movk w1, #0x8400, lsl #16
        ${psci(0x8400_000a)}
        cmn x0, #1
        b.ne fail
        b pass`));
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.status).toBe(0);
  });

  it("CPU_ON starts vCPU 1 with its context ID, AFFINITY_INFO follows it on and off, a vCPU beyond --vcpus is INVALID_PARAMETERS", () => {
    const r = runHv(guest(`
        mov x1, #1
        adr x2, second
        mov x3, #'2'
        ${psci(0xc400_0003)}
        cbnz x0, fail
        mov x1, #1
        adr x2, second
        ${psci(0xc400_0003)}
        cmn x0, #4                      // ALREADY_ON
        b.ne fail
        mov x1, #3                      // --vcpus 3: vCPU 3 does not exist
        ${psci(0xc400_0003)}
        cmn x0, #2
        b.ne fail
1:      mov x1, #1
        mov x2, #0
        ${psci(0xc400_0004)}            // AFFINITY_INFO: wait until vCPU 1 is off again
        cmp x0, #1
        b.ne 1b
        b pass
second: bl putc
        ${psci(0x8400_0002)}            // CPU_OFF
        b fail`), "--vcpus", "3");
    expect(r.stdout, r.stderr).toBe("2P");
    expect(r.status).toBe(0);
  });

  it("SYSTEM_RESET is a guest-reported failure, as bare", () => {
    const r = runHv(guest(`b fail`));
    expect(r.stdout).toBe("F");
    expect(r.s.end).toMatchObject({ kind: "power-off", reset: true });
    expect(r.status).toBe(1);
  });
});

describe("what Xen injects into the guest (xen/arch/arm/traps.c), counted, the machine going on", () => {
  /** The handler: ESR_EL1 = esr, ELR_EL1 = the label `elr`, FAR_EL1 = far (when given), else fail. */
  const expectException = (esr: number, elr: string, far?: string) => `
        mrs x1, esr_el1
        movz x2, #${esr >>> 16}, lsl #16
        cmp x1, x2
        b.ne fail
        mrs x1, elr_el1
        adr x2, ${elr}
        cmp x1, x2
        b.ne fail
        ${far === undefined ? "" : `mrs x1, far_el1
        ${far}
        cmp x1, x2
        b.ne fail`}
        b pass`;

  it("an SMC: UNDEFINED at the SMC (do_trap_smc → inject_undef64_exception)", () => {
    const r = runHv(guest(`
        mov x0, #0x1234
at:     smc #7
        b fail`, expectException(0x0200_0000, "at")));
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.s.hypervisor.trapOutcomes).toEqual({ "undef: SMC": 1 });
    expect(r.s.hypervisor.injected).toBe(1);
  });

  it("an HVC #0 outside PSCI: UNDEFINED, returning past the HVC (do_trap_hvc_smccc)", () => {
    const r = runHv(guest(`
        mov x0, #0x1234
        hvc #0
after:  b fail`, expectException(0x0200_0000, "after")));
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.s.hypervisor.trapOutcomes).toEqual({ "undef: HVC outside PSCI": 1 });
  });

  it("an HVC with an immediate that is not XEN_HYPERCALL_TAG: UNDEFINED (do_trap_hypercall)", () => {
    const r = runHv(guest(`
        hvc #5
after:  b fail`, expectException(0x0200_0000, "after")));
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.s.hypervisor.trapOutcomes).toEqual({ "undef: HVC with an unknown immediate": 1 });
  });

  it("a load from an IPA outside RAM and the devices: a data abort at EL1 with the address in FAR_EL1 (inject_abt64_exception)", () => {
    const r = runHv(guest(`
        movz x1, #0x1000, lsl #16
at:     ldr x2, [x1, #8]
        b fail`, expectException(0x9600_0000, "at", "movz x2, #0x1000, lsl #16\n        add x2, x2, #8")));
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.s.hypervisor.trapOutcomes).toEqual({ "abort: data access outside RAM and devices": 1 });
    expect(r.s.hypervisor.injected).toBe(1);
  });

  it("a branch to an IPA outside RAM: a prefetch abort at the target", () => {
    const r = runHv(guest(`
        movz x1, #0x1000, lsl #16
        br x1`, `
        mrs x1, esr_el1
        movz x2, #0x8600, lsl #16
        cmp x1, x2
        b.ne fail
        mrs x1, far_el1
        movz x2, #0x1000, lsl #16
        cmp x1, x2
        b.ne fail
        b pass`));
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.s.hypervisor.trapOutcomes).toEqual({ "abort: instruction fetch outside RAM": 1 });
  });
});

describe("the vGIC", () => {
  it("an SGI to a vCPU not yet started, and its redistributor's registers, are there before CPU_ON (no crash)", () => {
    const r = runHv(guest(`
        movz x1, #0x080c, lsl #16        // GICR frame of vCPU 1 (0x080a0000 + 1 << 17)
        ldr w2, [x1, #0x14]              // GICR_WAKER: ProcessorSleep | ChildrenAsleep at reset
        cmp w2, #6
        b.ne fail
        ldr x2, [x1, #8]                 // GICR_TYPER: affinity 1 in 63:32, Processor_Number 1, Last (2 vCPUs)
        lsr x3, x2, #32
        cmp x3, #1
        b.ne fail
        tbz x2, #4, fail
        mov x0, #2
        msr icc_sgi1r_el1, x0            // SGI 0 to vCPU 1, which is off
        b pass`), "--vcpus", "2");
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.s.hypervisor.injected).toBe(0);
    expect(r.s.hypervisor.gicMmio.reads).toBe(2);
  });
});

describe("hostile guests under --hv: never a crash of the machine, never a hang", () => {
  it("a device access with no instruction syndrome (a pair) and a redistributor frame beyond the vCPUs are aborts injected", () => {
    const r = runHv(guest(`
        movz x1, #0x0900, lsl #16
at1:    ldp x2, x3, [x1]                 // a pair to the UART: ESR_EL2.ISV = 0
        b fail
next:   movz x1, #0x0810, lsl #16        // the GICR frame of vCPU 3 (0x080a0000 + 3 << 17), with --vcpus 2
at2:    ldr w2, [x1]
        b fail`, `
        mrs x1, elr_el1
        adr x2, at1
        cmp x1, x2
        b.ne 1f
        adr x0, next
        msr elr_el1, x0
        eret
1:      adr x2, at2
        cmp x1, x2
        b.ne fail
        b pass`), "--vcpus", "2");
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.s.hypervisor.trapOutcomes).toEqual({ "abort: data access outside RAM and devices": 1, "abort: device access without an instruction syndrome": 1 });
  });

  it("a vector the injected exception faults on again is an exception loop that ends the run, as bare", () => {
    const r = runHv(guest(`
        msr vbar_el1, xzr
        movz x1, #0x1000, lsl #16
        br x1`));
    expect(r.s.end).toMatchObject({ kind: "crash", reason: "exception-loop" });
    expect(r.stderr).toMatch(/exception loop: d1v0 takes the exception the hypervisor injects for PC 0x200/);
    expect(r.status).toBe(2);
  });
});

describe("vCPUs sharing a pCPU", () => {
  it("a vCPU asleep in WFE when it gives the pCPU up wakes again to see what the other vCPU did (its SEV reached only the pCPU)", () => {
    const r = runHv(guest(`
        ${START_SECOND}
        cbnz x0, fail
        adr x5, flag
1:      wfe
        ldr x6, [x5]
        cbz x6, 1b
        b pass
second: adr x5, flag
        mov x6, #1
        str x6, [x5]
        sev
        ${psci(0x8400_0002)}
        .balign 8
flag:   .quad 0`), "--cpus", "1", "--vcpus", "2");
    expect(r.stdout, r.stderr).toBe("P");
    expect(r.status).toBe(0);
  });
});

describe("a domain whose every vCPU waits for nothing", () => {
  it("is a deadlock, as bare, even with more vCPUs than pCPUs (no endless switching between sleepers)", () => {
    const r = runHv(guest(`
        ${START_SECOND}
1:      wfi
        b 1b
second: wfi
        b second`), "--cpus", "1", "--vcpus", "3");
    expect(r.s.end).toMatchObject({ kind: "crash", reason: "deadlock" });
    expect(r.status).toBe(2);
  });
});

describe("--system-cache", () => {
  it("off is recorded with the run, and hello under --hv prints the golden console without a system cache", () => {
    const r = runHv(guest(`b pass`), "--system-cache", "off");
    expect(r.s.options.systemCache).toBe(false);
    expect(shootdown("run", elf("hello"), "--hv", "--cpus", "4", "--system-cache", "off").stdout).toBe(golden("hello"));
  });

  it("is on or off, and for AArch64 images only", () => {
    expect(shootdown("run", elf("hello"), "--system-cache", "maybe").stderr).toMatch(/--system-cache/);
    expect(shootdown("run", join("guest", "x86_64", "hello.elf"), "--system-cache", "off").stderr).toMatch(/--system-cache are for AArch64 images/);
  });
});
