// SPDX-License-Identifier: MIT
//
// hello: the first AArch64 guest of shootdown. It boots as QEMU's virt
// machine boots a bare-metal ELF (the conventions of issue 6): CPU 0 at
// _start at EL1 with the MMU and caches off and every interrupt masked, the
// other CPUs off until PSCI CPU_ON. It checks itself:
//
//   1. CPU 0 builds translation tables (4 KiB granule, 39-bit VA, identity
//      map of RAM as Normal write-back memory and of the GIC and UART as
//      Device-nGnRnE, one alias page at ALIAS_VA), turns on the MMU and the
//      caches, sets VBAR_EL1, and sets up the GICv3 distributor and its own
//      redistributor and CPU interface.
//   2. CPU 0 asks PSCI for its version and prints every PSCI result:
//      AFFINITY_INFO of CPU 1 while it is off, CPU_ON of a target with
//      MPIDR_EL1's RES1 bit 31 set (PSCI takes the affinity fields only,
//      so there is no such CPU), then CPU_ON of CPU 1, 2, ... until CPU_ON
//      says there is no such CPU (INVALID_PARAMETERS): that gives N; once
//      CPU 1 runs, CPU_ON and AFFINITY_INFO of it again. (AFFINITY_INFO
//      right after CPU_ON would depend on timing: QEMU says OFF or ON.)
//   3. Every other CPU enters at secondary_entry with its index as the
//      context ID, turns on its MMU and caches on CPU 0's tables, and sets
//      up its redistributor and CPU interface.
//   4. Every CPU checks MPIDR_EL1 and prints "hello from CPU k of N", in
//      CPU order (a turn variable, and a lock taken with LDAXR/STXR).
//   5. Every CPU sends SGI k (its own index) to every other CPU with
//      ICC_SGI1R_EL1 and waits, in WFI, until it has taken one from each;
//      the IRQ handler acknowledges (ICC_IAR1_EL1), counts and ends
//      (ICC_EOIR1_EL1) them.
//   6. N rounds, one per CPU: every CPU reads the alias page (so its TLB
//      holds the mapping), then CPU k remaps it to the other page with
//      break-before-make and TLBI VAE1IS, DSB ISH, and every CPU checks that
//      it sees the new page.
//   7. CPUs 1..N-1 turn themselves off with CPU_OFF; CPU 0 waits until
//      AFFINITY_INFO says each is off, prints the totals and "hello: all
//      checks passed" (or what failed), and powers off with SYSTEM_OFF.
//
// Every line printed depends only on N and on what PSCI answers, never on
// timing. Register use on every CPU: x19 = CPU index, x20 = CPU count
// (once known), x21-x28 for the step at hand.

        .include "common.inc"

        .equ MAX_CPUS, 16               // SGI INTIDs 0-15 name the sender; Aff0 < 16
        .equ STACK_SIZE, 4096

        .equ ALIAS_VA, ALIAS_BASE       // l3_alias[0]
        .equ MAGIC_A, 0x41414141        // first word of page_a ("AAAA")
        .equ MAGIC_B, 0x42424242        // first word of page_b ("BBBB")

// check: counts x0 == x1 as a passed check, else as a failed one and says so.
.macro check what
        cmp x0, x1
        b.eq 1f
        mov x21, x0
        mov x22, x1
        bl lock
        print "CPU "
        mov x0, x19
        bl put_dec
        print ": \what: got "
        mov x0, x21
        bl put_hex
        print " expected "
        mov x0, x22
        bl put_hex
        print "\n"
        bl unlock
        adr x0, checks_failed
        b 2f
1:      adr x0, checks_passed
2:      mov x1, #1
        stadd x1, [x0]
.endm

// ── Boot ────────────────────────────────────────────────────────────────────

        .text
        .globl _start
_start:
        mov x19, #0                     // CPU 0; x0 (a boot-information block on shootdown) is not needed
        bl build_tables                 // with the MMU off: the stores go to RAM
        bl cpu_setup
        bl gic_dist_setup
        mov w2, #0xffff                 // SGIs 0-15
        mov x3, x19
        bl gic_cpu_setup
        bl start_cpus
        b common

// secondary_entry: CPU_ON's entry point, with x0 = the context ID = our index.
// Nothing here reads memory before our MMU and caches are on: CPU 0 has
// written to shared variables through its cache, and a non-cacheable read
// could miss what is still in that cache.
secondary_entry:
        mov x19, x0
        bl cpu_setup
        mov w2, #0xffff
        mov x3, x19
        bl gic_cpu_setup
        adr x0, cpu_up                  // tell CPU 0 that we run
        add x0, x0, x19, lsl #3
        mov x1, #1
        stlr x1, [x0]
        // fall through

common:
        mov x25, #0                     // barriers passed (see barrier)
        // Step 4: MPIDR_EL1 and hello, in CPU order.
        adr x0, turn
1:      ldar x1, [x0]
        cmp x1, x19
        b.ne 1b
        adr x0, cpu_count
        ldr x20, [x0]
        mrs x0, mpidr_el1
        orr x1, x19, #MPIDR_U
        check "MPIDR_EL1"
        bl lock
        print "hello from CPU "
        mov x0, x19
        bl put_dec
        print " of "
        mov x0, x20
        bl put_dec
        print "\n"
        bl unlock
        adr x0, turn                    // only the holder of the turn writes it
        add x1, x19, #1
        stlr x1, [x0]

        // Step 5: SGIs, once every CPU has said hello (so every redistributor is awake).
1:      ldar x1, [x0]
        cmp x1, x20
        b.ne 1b
        mov x21, #0                     // x21 = target
send_sgis:
        cmp x21, x20
        b.hs sgis_sent
        cmp x21, x19
        b.eq 1f
        mov x0, #1                      // ICC_SGI1R_EL1: INTID [27:24], Aff1.Aff2.Aff3 = 0,
        lsl x0, x0, x21                 // TargetList [15:0] (IHI0069 12.11.29)
        orr x0, x0, x19, lsl #24
        msr icc_sgi1r_el1, x0
        isb
        adr x0, sgis_sent_total
        mov x1, #1
        stadd x1, [x0]
1:      add x21, x21, #1
        b send_sgis
sgis_sent:
        adr x21, sgis_received          // wait for N - 1, IRQs masked between the test and WFI
        add x21, x21, x19, lsl #3
        sub x22, x20, #1
1:      msr daifset, #2
        ldr x0, [x21]
        cmp x0, x22
        b.hs 2f
        wfi                             // wakes on a pending IRQ even while it is masked
        msr daifclr, #2                 // take it here
        isb
        b 1b
2:
        // Step 6: N rounds of remap and TLBI VAE1IS.
        mov x23, #0                     // x23 = round
        li x24, ALIAS_VA
round:
        ldr x0, [x24]                   // the page before this round: page_a in even rounds
        tst x23, #1
        li x1, MAGIC_A
        li x2, MAGIC_B
        csel x1, x1, x2, eq
        check "alias page before the remap"
        bl barrier                      // every TLB may hold the old mapping now
        cmp x23, x19
        b.ne 2f
        bl remap_alias                  // our round
        adr x0, remapped
        add x1, x23, #1
        stlr x1, [x0]
        b 3f
2:      adr x0, remapped                // another CPU's round: wait until it has remapped
1:      ldar x1, [x0]
        add x2, x23, #1
        cmp x1, x2
        b.ne 1b
3:      isb
        ldr x0, [x24]                   // the page after this round
        tst x23, #1
        li x1, MAGIC_B
        li x2, MAGIC_A
        csel x1, x1, x2, eq
        check "alias page after TLBI VAE1IS"
        bl barrier
        add x23, x23, #1
        cmp x23, x20
        b.lo round

        // Step 7: done.
        adr x0, cpus_done
        mov x1, #1
        stadd x1, [x0]
        cbz x19, finish
        psci PSCI_CPU_OFF               // does not return when it works
        mov x21, x0
        bl lock
        print "CPU_OFF returned "
        sxtw x0, w21
        bl put_sdec
        print "\n"
        bl unlock
        b fail

finish:
        adr x0, cpus_done
1:      ldar x1, [x0]
        cmp x1, x20
        b.ne 1b
        mov x21, #1                     // every other CPU must go off
2:      cmp x21, x20
        b.hs 4f
3:      mov x1, x21
        mov x2, #0                      // lowest affinity level: 0
        psci PSCI_AFFINITY_INFO
        cmp w0, #1                      // 1 = OFF (0 ON, 2 ON_PENDING)
        b.ne 3b
        add x21, x21, #1
        b 2b
4:      print "PSCI AFFINITY_INFO after CPU_OFF: 1 (OFF) for the other "
        sub x0, x20, #1
        bl put_dec
        print " CPUs\n"
        print "SGIs: sent "
        adr x0, sgis_sent_total
        ldr x0, [x0]
        bl put_dec
        print ", received "
        adr x0, sgis_received_total
        ldr x0, [x0]
        bl put_dec
        print "\n"
        print "checks: passed "
        adr x0, checks_passed
        ldr x0, [x0]
        bl put_dec
        print ", failed "
        adr x0, checks_failed
        ldr x0, [x0]
        bl put_dec
        print "\n"
        mul x21, x20, x20               // N * (N - 1) SGIs both ways
        sub x21, x21, x20
        adr x0, sgis_sent_total
        ldr x0, [x0]
        cmp x0, x21
        b.ne fail
        adr x0, sgis_received_total
        ldr x0, [x0]
        cmp x0, x21
        b.ne fail
        adr x0, checks_failed
        ldr x0, [x0]
        cbnz x0, fail
        mul x21, x20, x20               // per CPU: MPIDR, and two per round
        lsl x21, x21, #1
        add x21, x21, x20
        adr x0, checks_passed
        ldr x0, [x0]
        cmp x0, x21
        b.ne fail
        print "hello: all checks passed\n"
        b system_off

fail:
        bl lock
        print "hello: FAILED\n"
system_off:
        psci PSCI_SYSTEM_OFF
1:      wfi                             // SYSTEM_OFF does not return
        b 1b

// ── PSCI from CPU 0: the version, CPU_ON until there is no such CPU ─────────

start_cpus:
        mov x28, x30
        print "PSCI_VERSION: "
        psci PSCI_VERSION
        bl put_hex
        print "\n"
        print "PSCI AFFINITY_INFO of CPU 1 before CPU_ON: "
        mov x1, #1                      // PSCI names a CPU by MPIDR's affinity fields only
        mov x2, #0
        psci PSCI_AFFINITY_INFO
        sxtw x0, w0
        bl put_sdec
        print "\n"
        print "PSCI CPU_ON 0x80000001 (MPIDR_EL1 with bit 31): "
        li x1, MPIDR_U | 1              // not an affinity value (DEN0022 5.1.4)
        adr x2, secondary_entry
        mov x3, #1
        psci PSCI_CPU_ON
        sxtw x0, w0
        bl put_sdec
        print "\n"
        mov x21, #1                     // x21 = the next CPU
1:      cmp x21, #MAX_CPUS
        b.hs 3f
        mov x1, x21                     // target: Aff0 = index
        adr x2, secondary_entry         // entry (physical = virtual)
        mov x3, x21                     // context ID: the index
        psci PSCI_CPU_ON
        sxtw x22, w0
        print "PSCI CPU_ON "
        mov x0, x21
        bl put_hex
        print ": "
        mov x0, x22
        bl put_sdec
        print "\n"
        cbnz x22, 2f
        add x21, x21, #1
        b 1b
2:      cmn x22, #2                     // INVALID_PARAMETERS: no such CPU
        b.ne fail
3:      mov x20, x21                    // N
        adr x0, cpu_count
        str x20, [x0]
        cmp x20, #2
        b.lo 5f
        adr x0, cpu_up + 8              // once CPU 1 runs: CPU_ON says ALREADY_ON,
4:      ldar x1, [x0]                   // AFFINITY_INFO says ON
        cbz x1, 4b
        mov x1, #1
        adr x2, secondary_entry
        mov x3, #1
        psci PSCI_CPU_ON
        sxtw x21, w0
        print "PSCI CPU_ON of CPU 1 again: "
        mov x0, x21
        bl put_sdec
        print "\n"
        mov x1, #1
        mov x2, #0
        psci PSCI_AFFINITY_INFO
        sxtw x21, w0
        print "PSCI AFFINITY_INFO of CPU 1 once on: "
        mov x0, x21
        bl put_sdec
        print "\n"
5:      mov x30, x28
        ret

// ── Per-CPU setup: MMU and caches, vectors, stack ───────────────────────────

// cpu_setup: our tables, MMU and caches on, VBAR_EL1, TPIDR_EL1 = index, SP.
cpu_setup:
        mov x28, x30
        bl mmu_on
        adr x0, vectors
        msr vbar_el1, x0
        msr tpidr_el1, x19
        adr x0, stacks                  // SP = stacks + (index + 1) * STACK_SIZE
        add x1, x19, #1
        add x0, x0, x1, lsl #12
        mov sp, x0
        isb
        mov x30, x28
        ret

// build_tables: the translation tables (CPU 0, MMU off).
//   l1[0] → l2_dev: 2 MiB Device-nGnRnE blocks over the GIC and the UART;
//   l1[1] → l2_ram: 2 MiB Normal blocks over RAM;
//   l1[2] → l2_alias → l3_alias: ALIAS_VA maps page_a.
build_tables:
        mov x28, x30
        bl build_identity_map
        adr x0, l3_alias
        adr x1, page_a
        li x2, ATTR_NORMAL | ATTR_XN | DESC_PAGE
        orr x1, x1, x2
        str x1, [x0]
        dsb ish
        mov x30, x28
        ret

// remap_alias: ALIAS_VA to the other page, break-before-make (DDI0487
// D8.14.1): invalid entry, DSB, TLBI VAE1IS (every CPU of the inner
// shareable domain), DSB ISH (all have completed it), new entry, DSB, ISB.
remap_alias:
        adr x0, l3_alias
        ldr x1, [x0]
        adr x2, page_a
        adr x3, page_b
        and x4, x1, #0xfffffffff000
        cmp x4, x2
        csel x2, x3, x2, eq             // the page it does not map now
        eor x1, x1, x4
        orr x1, x1, x2
        str xzr, [x0]
        dsb ishst
        lsr x2, x24, #12                // VA[55:12], ASID 0
        tlbi vae1is, x2
        dsb ish
        str x1, [x0]
        dsb ish
        isb
        ret

// ── Synchronisation ─────────────────────────────────────────────────────────

// lock/unlock: the console lock, taken with LDAXR/STXR, released with STLR.
// Clobber x9-x11 (lock) and x9 (unlock).
lock:
        adr x9, console_lock
        mov w10, #1
1:      ldaxr w11, [x9]
        cbnz w11, 1b
        stxr w11, w10, [x9]
        cbnz w11, 1b
        ret

unlock:
        adr x9, console_lock
        stlr wzr, [x9]
        ret

// barrier: returns once every CPU has called it as often as we have
// (arrivals only grow; our x25-th call waits for x25 * N arrivals).
barrier:
        add x25, x25, #1
        mul x10, x25, x20
        adr x9, arrivals
        mov x11, #1
        ldaddal x11, x11, [x9]
1:      ldar x11, [x9]
        cmp x11, x10
        b.lo 1b
        ret

// ── Exceptions ──────────────────────────────────────────────────────────────

// The vector table (DDI0487 D1.10.2): 16 entries of 128 bytes. IRQs from
// EL1 with SP_EL1 go to irq; anything else is unexpected.
        .balign 2048
vectors:
        .set offset, 0
        .rept 16
        .if offset == 0x280
        b irq
        .else
        mov x21, #offset
        b unexpected
        .endif
        .balign 128
        .set offset, offset + 0x80
        .endr

// irq: an SGI; count it for this CPU and in total, then end it.
irq:
        stp x0, x1, [sp, #-32]!
        stp x2, x3, [sp, #16]
        mrs x0, icc_iar1_el1
        cmp x0, #GIC_SPURIOUS
        b.hs 1f
        mrs x1, tpidr_el1
        adr x2, sgis_received
        add x2, x2, x1, lsl #3
        mov x3, #1
        stadd x3, [x2]
        adr x2, sgis_received_total
        stadd x3, [x2]
        msr icc_eoir1_el1, x0
1:      ldp x2, x3, [sp, #16]
        ldp x0, x1, [sp], #32
        eret

// unexpected: say which vector, ESR, ELR and FAR, and fail.
unexpected:
        bl lock
        print "CPU "
        mrs x0, tpidr_el1
        bl put_dec
        print ": unexpected exception, vector offset "
        mov x0, x21
        bl put_hex
        print " ESR_EL1 "
        mrs x0, esr_el1
        bl put_hex
        print " ELR_EL1 "
        mrs x0, elr_el1
        bl put_hex
        print " FAR_EL1 "
        mrs x0, far_el1
        bl put_hex
        print "\n"
        print "hello: FAILED\n"
        b system_off

// ── Data ────────────────────────────────────────────────────────────────────

        .data
        .balign 8
console_lock:   .quad 0
cpu_count:      .quad 0                 // N, written by CPU 0 before it says hello
turn:           .quad 0                 // whose turn it is to say hello
arrivals:       .quad 0                 // barrier arrivals, ever
remapped:       .quad 0                 // rounds whose remap is done
cpus_done:      .quad 0
sgis_sent_total:     .quad 0
sgis_received_total: .quad 0
checks_passed:  .quad 0
checks_failed:  .quad 0
cpu_up:         .skip 8 * MAX_CPUS      // CPU k runs with its MMU on
sgis_received:  .skip 8 * MAX_CPUS      // SGIs taken, per CPU

        .balign 4096                    // the two pages ALIAS_VA switches between
page_a: .quad MAGIC_A
        .balign 4096
page_b: .quad MAGIC_B
        .balign 4096

        .bss
        .balign 4096
l1:       .skip 4096
l2_dev:   .skip 4096
l2_ram:   .skip 4096
l2_alias: .skip 4096
l3_alias: .skip 4096
stacks:   .skip STACK_SIZE * MAX_CPUS
