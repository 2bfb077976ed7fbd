// SPDX-License-Identifier: MIT
//
// Guest annotations on AArch64 (docs/annotations.md): HVC #0 with X0 =
// 0xC600_0000 + op, bare and under the Arm hypervisor (--hv), where the
// guest's IPA frame is translated through the p2m before the sanitizer
// hears of it. Event (a) and its correct twin, the query, and an SMCCC call
// that is not an annotation, which keeps its old answer.

import { describe, expect, it } from "vitest";
import { image, imageFile, shootdown, stats } from "../helpers/run.ts";

/** w0 = fn, then HVC #0. */
const call = (fn: number) => `movz w0, #${fn & 0xffff}\n        movk w0, #${fn >>> 16}, lsl #16\n        hvc #0\n`;
const SD = { FREE: 0xc600_0000, ALLOC: 0xc600_0001, WALK_BEGIN: 0xc600_0002, WALK_END: 0xc600_0003, QUERY: 0xc600_00ff };
const SYSTEM_OFF = 0x8400_0008;
const SYSTEM_RESET = 0x8400_0009;
const CPU_ON = 0xc400_0003;
const CPU_OFF = 0x8400_0002;

/**
 * CPU 0 asks for the annotations (the query must answer 0x5D5D0001), starts
 * CPU 1, enters a walker section and waits; CPU 1 frees \`victim\` (then runs
 * \`between\`) and lets it go on; CPU 0 reads victim and leaves its section.
 * The MMU is off: every access is to the physical address.
 */
function walkerGuest(between = ""): string {
  return imageFile(image(`
_start: ${call(SD.QUERY)}
        movz x1, #0x0001
        movk x1, #0x5d5d, lsl #16
        cmp x0, x1
        b.ne fail
        mov x1, #1
        adr x2, second
        ${call(CPU_ON)}
        cbnz x0, fail
        ${call(SD.WALK_BEGIN)}
        cbnz x0, fail
        adr x9, flag1
        mov w1, #1
        str w1, [x9]
1:      adr x9, flag2
        ldr w1, [x9]
        cbz w1, 1b
        adr x9, victim
        ldr x5, [x9]
        ${call(SD.WALK_END)}
        ${call(SYSTEM_OFF)}
fail:   ${call(SYSTEM_RESET)}
second: adr x9, flag1
        ldr w1, [x9]
        cbz w1, second
        adr x1, victim
        lsr x1, x1, #12
        ${call(SD.FREE)}
        ${between}
        adr x9, flag2
        mov w1, #1
        str w1, [x9]
        ${call(CPU_OFF)}
        .balign 8
flag1:  .long 0
flag2:  .long 0
        .balign 4096
victim: .quad 0x1234
        .balign 4096
`, { arch: "aarch64" }), "annot-arm.elf");
}

const run = (path: string, ...args: string[]) => {
  const r = shootdown("run", path, "--cpus", "2", ...args, "--stats");
  return { ...r, s: stats(r) };
};

describe.each([["bare", []], ["--hv", ["--hv"]]] as [string, string[]][])("AArch64 guest annotations, %s", (_, extra) => {
  it("(a) a walker's load of a frame freed after its section began: status 4, with both CPUs, the frame and the steps", () => {
    const r = run(walkerGuest(), ...extra);
    expect(r.s.status, r.stderr).toBe(4);
    expect(r.s.end.message).toMatch(/^CPU \d inside its walker section \(begun at step \d+\) read VA 0x[0-9a-f]+ in frame 0x[0-9a-f]+000 \(PFN 0x[0-9a-f]+\), freed by CPU \d at step \d+ after the section began/);
    expect(r.s.annotations.made).toMatchObject({ FREE: 1, WALK_BEGIN: 1 });
    // The MMU is off, so the VA is the guest's physical address: bare, the frame itself; under the
    // hypervisor an IPA, which the p2m maps to another machine frame.
    const [, va, frame] = /read VA (0x[0-9a-f]+) in frame (0x[0-9a-f]+)/.exec(r.s.end.message)!;
    if (extra.includes("--hv")) expect(BigInt(frame!)).not.toBe(BigInt(va!) & ~0xfffn);
    else expect(BigInt(frame!)).toBe(BigInt(va!) & ~0xfffn);
  });

  it("(a) reallocated before the read: no report, and the query answered", () => {
    const r = run(walkerGuest(call(SD.ALLOC)), ...extra);
    expect(r.s.status, r.stderr).toBe(0);
    expect(r.s.events.violations).toEqual([]);
    expect(r.s.annotations).toEqual({ made: { FREE: 1, ALLOC: 1, WALK_BEGIN: 1, WALK_END: 1 }, warnings: [] });
  });
});

describe("AArch64 SMCCC calls that are not annotations", () => {
  it("bare: an unknown vendor-hypervisor call still stops the machine as before", () => {
    const r = shootdown("run", imageFile(image(`_start: ${call(0xc600_0010)}`, { arch: "aarch64" })), "--stats");
    expect(stats(r).status).toBe(2);
    expect(stats(r).end.message).toMatch(/HVC with function 0xc6000010 in w0: not a PSCI call/);
  });
});
