// SPDX-License-Identifier: MIT
//
// The bench images that do what a kernel does first: build their own page
// tables with 4 KiB pages and turn the MMU on (on AArch64 with SCTLR_EL1.M,
// C and I and Normal write-back memory), then run a loop. Each image maps
// the 2 MiB region that holds it, one to one, so it runs wherever the
// loader put it (shootdown's and QEMU's loaders alike).

/**
 * AArch64: a 3-level stage 1 (TCR_EL1.T0SZ = 25, a 39-bit VA space starting
 * at level 1, TTBR1 walks disabled by EPD1) mapping the image's 2 MiB region
 * with 512 pages of 4 KiB, MAIR_EL1 Attr0 = Normal Inner/Outer Write-Back
 * (0xff), Inner Shareable; then SCTLR_EL1.M, C and I. `body` follows at
 * label `body`, with x20 holding the region's base and x6 the 64-word table.
 */
export function a64MmuOnSource(body: string): string {
  return `
        .text
        .globl _start
_start: adr     x9, _start
        and     x20, x9, #0xffffffffffe00000
        adr     x10, l1_table
        adr     x11, l2_table
        adr     x12, l3_table
        // Level 3: page descriptors (0b11), AttrIndx 0, SH = 0b11, AF.
        mov     x13, #0x703
        orr     x13, x13, x20
        mov     x14, #0
2:      str     x13, [x12, x14, lsl #3]
        add     x13, x13, #1, lsl #12
        add     x14, x14, #1
        cmp     x14, #512
        b.ne    2b
        orr     x13, x12, #3
        ubfx    x14, x20, #21, #9
        str     x13, [x11, x14, lsl #3]
        orr     x13, x11, #3
        ubfx    x14, x20, #30, #9
        str     x13, [x10, x14, lsl #3]
        mov     x13, #0xff
        msr     mair_el1, x13
        // T0SZ = 25, IRGN0 = ORGN0 = Write-Back, SH0 = Inner Shareable, TG0 = 4 KiB, EPD1, IPS = 32 bits.
        movz    x13, #0x3519
        movk    x13, #0x80, lsl #16
        msr     tcr_el1, x13
        msr     ttbr0_el1, x10
        dsb     ish
        isb
        mrs     x13, sctlr_el1
        orr     x13, x13, #1
        orr     x13, x13, #4
        orr     x13, x13, #0x1000
        msr     sctlr_el1, x13
        isb
        adr     x6, table
body:
${body}
        .data
        .balign 4096
l1_table: .fill 512, 8, 0
l2_table: .fill 512, 8, 0
l3_table: .fill 512, 8, 0
table:  .fill   64, 8, 3
`;
}

/** The MMU-on loop: one load, one store, five ALU operations and a branch per iteration (8 instructions); x3 counts down. */
export const A64_MMU_LOOP_BODY = `
        mov     x2, #0
        mov     x3, #-1
1:      ldr     x0, [x6, x2, lsl #3]
        add     x1, x1, x0
        str     x1, [x6, x2, lsl #3]
        eor     x7, x7, x1
        add     x2, x2, #1
        and     x2, x2, #63
        subs    x3, x3, #1
        b.ne    1b
        hvc     #0
`;

/**
 * The TLBI loop (what a kernel does when it changes one mapping): store,
 * TLBI VAE1IS of the table's page, DSB ISH, ISB, load (5 instructions and
 * the two of the count and branch). x3 counts down.
 */
export const A64_TLBI_LOOP_BODY = `
        mov     x3, #-1
        lsr     x4, x6, #12
1:      str     x3, [x6]
        tlbi    vae1is, x4
        dsb     ish
        isb
        ldr     x0, [x6]
        subs    x3, x3, #1
        b.ne    1b
        hvc     #0
`;

/** Instructions per iteration of the loops above. */
export const A64_MMU_LOOP_INSNS = 8;
export const A64_TLBI_LOOP_INSNS = 7;

/**
 * A finite version of an A64 loop body: `iterations` times instead of for
 * ever, then PSCI SYSTEM_OFF.
 */
export function finiteA64(body: string, iterations: number): string {
  const count = `movz    x3, #${iterations & 0xffff}\n        movk    x3, #${(iterations >>> 16) & 0xffff}, lsl #16`;
  const off = "movz    w0, #0x0008\n        movk    w0, #0x8400, lsl #16\n        hvc     #0";
  const source = body.replace("mov     x3, #-1", count).replace("hvc     #0", off);
  if (!source.includes("movk    x3") || !source.includes("movk    w0")) throw new Error("a bench loop changed: update finiteA64");
  return source;
}

/**
 * x86-64: the loader's long mode with 2 MiB pages, replaced by the image's
 * own 4-level tables mapping [0, 2 MiB) with 512 pages of 4 KiB (P, RW),
 * loaded into CR3; then the loop of bench/cpu.ts.
 */
export function x86OwnTablesSource(loop: string): string {
  return `
        .text
        .globl _start
_start: lea     pt(%rip), %rdi
        mov     $0x3, %eax
        xor     %ecx, %ecx
2:      mov     %rax, (%rdi,%rcx,8)
        add     $0x1000, %rax
        add     $1, %rcx
        cmp     $512, %rcx
        jne     2b
        lea     pd(%rip), %rsi
        lea     3(%rdi), %rax
        mov     %rax, (%rsi)
        lea     pdpt(%rip), %rdi
        lea     3(%rsi), %rax
        mov     %rax, (%rdi)
        lea     pml4(%rip), %rsi
        lea     3(%rdi), %rax
        mov     %rax, (%rsi)
        mov     %rsi, %cr3
${loop}
        .data
        .balign 4096
pml4:   .fill   512, 8, 0
pdpt:   .fill   512, 8, 0
pd:     .fill   512, 8, 0
pt:     .fill   512, 8, 0
`;
}

/** bench/cpu.ts's x86-64 loop (one load, five ALU operations and a branch; 8 instructions), for x86OwnTablesSource. */
export const X86_LOOP_BODY = `
        lea     table(%rip), %rsi
        xor     %edx, %edx
        mov     $-1, %rcx
1:      mov     (%rsi,%rdx,8), %rax
        add     %rax, %rbx
        xor     %rbx, %rdi
        lea     1(%rdx), %rdx
        and     $63, %edx
        cmp     %rdi, %rbx
        sub     $1, %rcx
        jnz     1b
        hlt
        .data
table:  .fill   64, 8, 3
        .text
`;
