// SPDX-License-Identifier: MIT
//
// Guest annotations (docs/annotations.md) from an x86-64 PV kernel under
// --hv: the ports 0x5D0–0x5D6 are the one exception to "IN/OUT is #GP(0)
// for a PV kernel". The frames a PV kernel names are machine frames (its
// page tables hold MFNs); one its domain does not own is a bad annotation.

import { describe, expect, it } from "vitest";
import { imageFile, shootdown, stats } from "../helpers/run.ts";

/**
 * A one-vCPU PV kernel: it stores the query's answer, looks its `victim`
 * page's MFN up in the p2m list start_info gives (`frame` replaces that
 * lookup when set), and then, inside a walker section, frees that frame and
 * (with `read`) reads it. It shuts down with SHUTDOWN_poweroff, or
 * SHUTDOWN_crash when the query did not answer 0x5D5D0001.
 */
function pvGuest(opts: { read: boolean; frame?: number; port?: number }): string {
  return `
        .equ SI_MFN_LIST, 104
        .equ HYPERVISOR_sched_op, 29
        .equ SCHEDOP_shutdown, 2
        .text
        .globl _start
_start:
        mov %rsi, %rbx
        mov $0x5d0, %dx
        in %dx, %eax
        movl $0, reason(%rip)
        cmp $0x5d5d0001, %eax
        je 1f
        movl $1, reason(%rip)           # SHUTDOWN_crash: no annotations
1:      ${opts.port !== undefined ? `mov $${opts.port}, %dx; in %dx, %al` : ""}
        lea victim(%rip), %rax
        shr $12, %rax                   # VIRT_BASE 0: the PFN
        mov SI_MFN_LIST(%rbx), %rcx
        mov (%rcx,%rax,8), %rax         # its MFN
        ${opts.frame !== undefined ? `mov $${opts.frame}, %eax` : ""}
        mov $0x5d2, %dx                 # WALK_BEGIN
        out %eax, %dx
        mov $0x5d0, %dx                 # FREE
        out %eax, %dx
        ${opts.read ? "mov victim(%rip), %rax" : ""}
        mov $0x5d3, %dx                 # WALK_END
        out %eax, %dx
        mov $HYPERVISOR_sched_op, %eax
        mov $SCHEDOP_shutdown, %edi
        lea reason(%rip), %rsi
        vmcall
        ud2
        .data
        .balign 4096
victim: .quad 42
        .balign 4096
reason: .long 0
`;
}

describe("guest annotations from a PV kernel (--hv)", () => {
  it("the query answers, and a walker reading the machine frame it freed stops the run with status 4", () => {
    const r = shootdown("run", imageFile(pvGuest({ read: true }), "pv-annot.elf"), "--hv", "--stats");
    expect(r.stderr).toMatch(/walker section .* read VA 0x[0-9a-f]+ in (MFN|frame|PFN)/i);
    expect(r.status).toBe(4);
  });

  it("the same kernel without the read passes, its annotations counted and no warning", () => {
    const r = shootdown("run", imageFile(pvGuest({ read: false }), "pv-annot-ok.elf"), "--hv", "--stats");
    expect(r.status, r.stderr).toBe(0);
    const s = stats(r);
    expect(s.annotations.made).toMatchObject({ WALK_BEGIN: 1, FREE: 1, WALK_END: 1 });
    expect(s.annotations.warnings).toEqual([]);
    expect(s.hypervisor.exits.io).toBe(4);
  });

  it("a frame the domain does not own is a bad annotation: a warning, and the run goes on", () => {
    const r = shootdown("run", imageFile(pvGuest({ read: false, frame: 0x10 }), "pv-annot-foreign.elf"), "--hv", "--stats");
    expect(r.status, r.stderr).toBe(0);
    expect(stats(r).annotations.warnings.join("\n")).toMatch(/FREE of a guest frame with no machine frame behind it/);
  });

  it("any other port is still #GP(0) for a PV kernel (this one has no IDT: the domain crashes)", () => {
    const r = shootdown("run", imageFile(pvGuest({ read: false, port: 0x60 }), "pv-annot-gp.elf"), "--hv");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/crash/);
  });
});
