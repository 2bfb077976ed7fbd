// SPDX-License-Identifier: MIT
//
// Guests for the debugger's tests (test/cli/repl.test.ts, gdb.test.ts,
// test/emulator/debug/).

/**
 * The guest builds a page table at 0x300000 for VA 0x600000–0x7FFFFF (PDE 3
 * of the boot map, at 0x5018, was a 2 MiB page nothing had used), maps VA
 * 0x600000 to PA 0x900000 with its PTE 0 and writes through it (a 4 KiB TLB
 * entry). Then it points the PTE at PA 0x901000 with no INVLPG: the next
 * load still reads the old page, until the INVLPG.
 */
export const STALE_GUEST = `
    .text
    .globl _start
_start:
    test %rdi, %rdi
    jnz spin
    movq $0x900003, 0x300000
    movq $0x300003, 0x5018
    mov $0x600000, %rax
    movq $0x1234, (%rax)
    movq $0x5678, 0x901000
remap:
    movq $0x901003, 0x300000
stale:
    mov (%rax), %rbx
    invlpg (%rax)
fresh:
    mov (%rax), %rcx
    mov $0, %al
    out %al, $0xf4
spin:
    pause
    jmp spin
`;

/**
 * The AArch64 twin of STALE_GUEST, for a machine booted as QEMU virt boots
 * one (RAM at 0x4000_0000, linked at 0x4008_0000). CPU 0 builds stage-1
 * tables at 0x4010_0000 (4 KiB granule, T0SZ 25 so the walk starts at
 * level 1, as guest/aarch64/common.inc does): RAM identity-mapped by a 1 GiB
 * block, and VA 0x8000_0000 through an L2 and an L3 table of its own to PA
 * 0x4020_0000. It turns on the MMU and the caches, writes through the
 * page (a 4 KiB TLB entry), then points the L3 descriptor at 0x4020_1000
 * with no TLBI: the next load still reads the old page, until the TLBI.
 * The end is PSCI SYSTEM_OFF.
 */
export const STALE_GUEST_A64 = `
    .text
    .globl _start
_start:
    movz x9, #0x4010, lsl #16           // l1 at 0x40100000, l2 +0x1000, l3 +0x2000
    movz x0, #0x0701
    movk x0, #0x4000, lsl #16           // l1[1]: 1 GiB block at 0x40000000, Normal, AF
    str x0, [x9, #8]
    add x0, x9, #1, lsl #12
    orr x0, x0, #3                      // l1[2] (VA 0x80000000) -> l2
    str x0, [x9, #16]
    add x0, x9, #2, lsl #12
    orr x0, x0, #3                      // l2[0] -> l3
    str x0, [x9, #0x1000]
    movz x0, #0x0703
    movk x0, #0x4020, lsl #16           // l3[0]: page 0x40200000, Normal, AF
    str x0, [x9, #0x2000]
    mov x0, #0xff                       // Attr0 Normal WB
    msr mair_el1, x0
    movz x0, #0x3519
    movk x0, #0x99, lsl #16             // T0SZ 25, WB, inner shareable, T1SZ 25, EPD1
    msr tcr_el1, x0
    msr ttbr0_el1, x9
    isb
    tlbi vmalle1
    dsb nsh
mmu_on:
    mrs x0, sctlr_el1
    orr x0, x0, #1                      // M
    orr x0, x0, #4                      // C
    orr x0, x0, #0x1000                 // I
    msr sctlr_el1, x0
    isb
    movz x1, #0x8000, lsl #16           // VA 0x80000000
    movz x0, #0x1234
    str x0, [x1]
    movz x0, #0x5678
    movz x2, #0x4020, lsl #16
    str x0, [x2, #0x1000]               // PA 0x40201000, identity-mapped
    movz x0, #0x1703
    movk x0, #0x4020, lsl #16           // the new page: 0x40201000
remap:
    str x0, [x9, #0x2000]
stale:
    ldr x2, [x1]
    lsr x0, x1, #12
    tlbi vae1, x0
    dsb nsh
    isb
fresh:
    ldr x3, [x1]
    movz x0, #0x0008
    movk x0, #0x8400, lsl #16           // PSCI SYSTEM_OFF
    hvc #0
`;
