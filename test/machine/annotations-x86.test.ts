// SPDX-License-Identifier: MIT
//
// Guest annotations on bare x86-64 (docs/annotations.md): small guests that
// make each sanitizer event happen, the same guests doing it correctly, the
// query, --keep-going, and bad annotations, which only warn.

import { describe, expect, it } from "vitest";
import { runSource } from "../helpers/run.ts";

const PRELUDE = `
        .equ DEBUG_EXIT, 0xf4
        .equ SD_PORT, 0x5d0             # OUT to SD_PORT + op; IN from SD_PORT is the query
        .equ SD_FREE, 0
        .equ SD_ALLOC, 1
        .equ SD_WALK_BEGIN, 2
        .equ SD_WALK_END, 3
        .equ SD_TABLE_UNHOOK, 4
        .macro annotate op, reg=%eax
        mov $SD_PORT + \\op, %dx
        out \\reg, %dx
        .endm
        .macro done
        xor %eax, %eax
        out %al, $DEBUG_EXIT
        .endm
`;

/**
 * Event (a): CPU 0 enters a walker section, CPU 1 frees \`victim\` (and, when
 * \`between\` says so, does more), then CPU 0 reads it. The two CPUs take
 * turns through flags in memory, so the order is the same under any schedule.
 */
function walkerGuest(opts: { freeBeforeSection?: boolean; between?: string } = {}): string {
  return `${PRELUDE}
        .text
        .globl _start
_start:
        test %edi, %edi
        jnz cpu1
        # CPU 0, the walker.
        ${opts.freeBeforeSection ? "1: pause; cmpl $0, flag2(%rip); je 1b" : ""}
        annotate SD_WALK_BEGIN
        movl $1, flag1(%rip)
1:      pause
        cmpl $0, flag2(%rip)
        je 1b
        mov victim(%rip), %rax
        annotate SD_WALK_END
        done
cpu1:
        ${opts.freeBeforeSection ? "" : "1: pause; cmpl $0, flag1(%rip); je 1b"}
        lea victim(%rip), %rax
        shr $12, %rax
        annotate SD_FREE
        ${opts.between ?? ""}
        movl $1, flag2(%rip)
2:      cli
        hlt
        jmp 2b
        .data
        .balign 8
flag1:  .long 0
flag2:  .long 0
        .balign 4096
victim: .quad 0x1234
        .balign 4096
`;
}

/**
 * Event (b), Jann Horn's order: a page table \`tp\` is hooked under the boot
 * PD's entry for VA 16 MiB, a read fills the PDE cache, the entry goes back to
 * the 2 MiB identity leaf, and tp is freed; \`invalidate\` says whether INVLPG
 * comes before the free (it invalidates every paging-structure-cache entry,
 * SDM Vol.3A 4.10.4.1). Then a walk for the next page.
 */
function freedTableGuest(invalidate: boolean): string {
  return `${PRELUDE}
        .equ PDE_16M, 0x5000 + 8 * 8    # the boot PD's entry for VA 16 MiB (docs/boot.md)
        .equ VA, 0x1000000
        .text
        .globl _start
_start:
        lea tp(%rip), %rbx
        lea d0(%rip), %rax
        or $3, %rax
        mov %rax, (%rbx)
        lea d1(%rip), %rax
        or $3, %rax
        mov %rax, 8(%rbx)
        mov %rbx, %rax
        or $3, %rax
        mov %rax, PDE_16M
        invlpg VA
        mov VA, %rax
        movq $VA | 0x83, PDE_16M
        mov %rbx, %rax
        shr $12, %rax
        annotate SD_TABLE_UNHOOK
        ${invalidate ? "invlpg VA" : ""}
        annotate SD_FREE
        mov VA + 0x1000, %rax
        done
        .data
        .balign 4096
tp:     .fill 4096, 1, 0
d0:     .fill 4096, 1, 0
d1:     .fill 4096, 1, 0
`;
}

/**
 * Event (c): a user-accessible TLB entry for VA 16 MiB → d0, then d0 freed;
 * \`remap\` says whether the PTE moves to d1 and is invalidated first. Then
 * a read of VA.
 */
function staleEntryGuest(remap: boolean): string {
  return `${PRELUDE}
        .equ PDE_16M, 0x5000 + 8 * 8
        .equ VA, 0x1000000
        .text
        .globl _start
_start:
        orq $4, 0x3000                  # U/S in the boot PML4E and PDPTE
        orq $4, 0x4000
        mov %cr3, %rax
        mov %rax, %cr3
        lea tp(%rip), %rbx
        lea d0(%rip), %rax
        or $7, %rax
        mov %rax, (%rbx)
        mov %rbx, %rax
        or $7, %rax
        mov %rax, PDE_16M
        invlpg VA
        mov VA, %rax
        ${remap ? "lea d1(%rip), %rax; or $7, %rax; mov %rax, (%rbx); invlpg VA" : ""}
        lea d0(%rip), %rax
        shr $12, %rax
        annotate SD_FREE
        mov VA, %rax
        done
        .data
        .balign 4096
tp:     .fill 4096, 1, 0
d0:     .fill 4096, 1, 0
d1:     .fill 4096, 1, 0
`;
}

const violations = (r: { events: readonly { kind: string; message: string }[] }) => r.events.filter((e) => e.kind === "violation");

describe("x86-64 guest annotations", () => {
  it("the query at port 0x5D0 returns 0x5D5D0001; the other annotation ports read all ones", () => {
    const r = runSource(`${PRELUDE}
        .text
        .globl _start
_start:
        mov $SD_PORT, %dx
        in %dx, %eax
        cmp $0x5d5d0001, %eax
        jne fail
        mov $SD_PORT + 1, %dx
        in %dx, %eax
        cmp $0xffffffff, %eax
        jne fail
        done
fail:   mov $1, %eax
        out %al, $DEBUG_EXIT
`);
    expect(r.end).toEqual({ kind: "debug-exit", code: 0n, cpu: 0 });
    expect(r.unknownPorts).toEqual([]);
  });

  it("(a) a walker's load of a frame freed after its section began stops the run with status 4, naming both CPUs, the frame and the steps", () => {
    const r = runSource(walkerGuest(), { cpus: 2 });
    expect(r.status).toBe(4);
    expect(r.end.kind).toBe("violation");
    const message = (r.end as { message: string }).message;
    expect(message).toMatch(/^CPU 0 inside its walker section \(begun at step \d+\) read VA 0x[0-9a-f]+ in frame 0x[0-9a-f]+000 \(PFN 0x[0-9a-f]+\), freed by CPU 1 at step \d+ after the section began/);
    const detail = violations(r)[0] as unknown as { detail: { rule: string; freedBy: number } };
    expect(detail.detail.rule).toBe("walker-read-freed-frame");
    expect(detail.detail.freedBy).toBe(1);
  });

  it("(a) no report when the frame was reallocated before the walker read it", () => {
    const r = runSource(walkerGuest({ between: "annotate SD_ALLOC" }), { cpus: 2 });
    expect(r.status).toBe(0);
    expect(violations(r)).toEqual([]);
    expect(r.annotations?.made).toEqual({ WALK_BEGIN: 1, FREE: 1, ALLOC: 1, WALK_END: 1 });
  });

  it("(a) no report when the frame was freed before the section began", () => {
    const r = runSource(walkerGuest({ freeBeforeSection: true }), { cpus: 2 });
    expect(r.status).toBe(0);
    expect(violations(r)).toEqual([]);
  });

  it("(a) with --keep-going the violation is counted and the guest runs to its end", () => {
    const r = runSource(walkerGuest(), { cpus: 2, keepGoing: true });
    expect(r.end).toEqual({ kind: "debug-exit", code: 0n, cpu: 0 });
    expect(violations(r)).toHaveLength(1);
  });

  it("(a) under a random schedule: the recorded run replays to the same violation at the same step", () => {
    const a = runSource(walkerGuest(), { cpus: 2, mode: "random", seed: 3n, quantum: 7, record: true });
    expect(a.status).toBe(4);
    const again = runSource(walkerGuest(), { cpus: 2, replay: a.schedule!, record: true });
    expect(again.end).toEqual(a.end);
    expect(again.stateHash).toBe(a.stateHash);
  });

  it("(b) a walk through a PDE-cache entry whose table was freed without an invalidation is a violation", () => {
    const r = runSource(freedTableGuest(false));
    expect(r.status).toBe(4);
    expect((r.end as { message: string }).message).toMatch(
      /^CPU 0's walk for VA 0x1001000 used a PDE-cache entry built from table frame 0x[0-9a-f]+ \(PFN 0x[0-9a-f]+\), unhooked by CPU 0 at step \d+ and freed by CPU 0 at step \d+ after the entry was filled/);
  });

  it("(b) unhook, INVLPG, then free: no report", () => {
    const r = runSource(freedTableGuest(true));
    expect(r.status).toBe(0);
    expect(violations(r)).toEqual([]);
  });

  it("(c) an access through a user TLB entry filled before its frame was freed is a violation", () => {
    const r = runSource(staleEntryGuest(false));
    expect(r.status).toBe(4);
    expect((r.end as { message: string }).message).toMatch(
      /^CPU 0's access to VA 0x1000000 was translated by a 4 KiB TLB entry for frame 0x[0-9a-f]+ \(PFN 0x[0-9a-f]+\), filled before it was freed by CPU 0 at step \d+/);
  });

  it("(c) remap and INVLPG before the free: no report", () => {
    const r = runSource(staleEntryGuest(true));
    expect(r.status).toBe(0);
    expect(violations(r)).toEqual([]);
  });

  it("bad annotations are warnings in the summary, and the run goes on", () => {
    const r = runSource(`${PRELUDE}
        .text
        .globl _start
_start:
        annotate SD_WALK_END
        annotate SD_WALK_BEGIN
        annotate SD_WALK_BEGIN
        annotate SD_WALK_END
        mov $0x7fffffff, %eax
        annotate SD_FREE
        mov $0x200, %eax
        annotate SD_FREE
        annotate SD_FREE
        done
`);
    expect(r.end).toEqual({ kind: "debug-exit", code: 0n, cpu: 0 });
    const w = r.annotations!.warnings;
    expect(w).toHaveLength(4);
    expect(w[0]).toMatch(/^CPU 0 at step \d+: WALK_END outside any walker section$/);
    expect(w[1]).toMatch(/WALK_BEGIN inside the walker section begun at step \d+/);
    expect(w[2]).toMatch(/FREE of PFN 0x7fffffff, outside RAM; ignored$/);
    expect(w[3]).toMatch(/FREE of PFN 0x200, already free/);
  });

  it("a guest that never annotates has no annotation summary", () => {
    const r = runSource(`${PRELUDE}
        .text
        .globl _start
_start: done
`);
    expect(r.status).toBe(0);
    expect(r.annotations).toBeUndefined();
  });
});
