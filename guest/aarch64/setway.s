// SPDX-License-Identifier: MIT
//
// setway: the scenario guest of issue 15 (mechanisms §4.6). Every CPU does,
// round after round, what 32-bit Linux's CPU power-down path does before it
// turns its caches off: it cleans its data caches by set/way, the loop of
// arch/arm/mm/cache-v7.S v7_flush_dcache_all (and of arm64's
// __flush_dcache_all in arch/arm64/mm/cache.S, Linux 3.x-4.x), and then
// trusts that RAM holds what it wrote. It checks that trust:
//
//   1. CPU 0 reads its arguments (below), turns its MMU and caches on and
//      starts the other CPUs with PSCI CPU_ON until CPU_ON says there is no
//      such CPU (INVALID_PARAMETERS) or `cpus=N` are running. Each CPU builds
//      its own identity-mapped stage-1 tables (RAM as Normal write-back
//      memory, the GIC and the UART as Device-nGnRnE) with its MMU off.
//   2. Every round, on every CPU, with the MMU and caches on: clean and
//      invalidate its log area to the Point of Coherency by address (DC
//      CIVAC: no cache may keep a copy of what it is about to write with
//      its caches off), write a pattern to its own 4 KiB buffer (a value of
//      the round, the CPU and the address in each doubleword), clean and
//      invalidate every data or unified cache level CLIDR_EL1 reports by
//      set/way (DC CISW), then clear SCTLR_EL1.C and M: from here on its
//      data accesses are non-cacheable (DDI0487 D8.2.11: with the stage 1
//      MMU off, data accesses are Device-nGnRnE) and see RAM only.
//      This is the order of arch/arm/kernel/reboot.c __soft_restart
//      (flush_cache_all, then cpu_proc_fin, which clears C).
//   3. With its caches off, the CPU reads its buffer back and compares each
//      doubleword with the pattern, keeping the first LOG_MAX mismatches in
//      its log (non-cacheable stores, to RAM) and counting the rest in a
//      register. Nothing shared is touched while a CPU's caches are off: a
//      non-cacheable access to a variable that other CPUs hold in their
//      caches would not be coherent with them.
//   4. The CPU turns its MMU and caches back on and, in CPU order, prints
//      one line per logged mismatch: CPU, round, address, the value read
//      and the one expected; and how many more there were, if any.
//   5. After the last round, CPUs 1..N-1 turn themselves off with CPU_OFF;
//      CPU 0 waits until AFFINITY_INFO says each is off, prints a summary
//      line and powers off with SYSTEM_OFF (status 0 under shootdown and
//      QEMU) when every doubleword matched, else SYSTEM_RESET (status 1).
//
// Set/way operations act only on the executing CPU's own caches, need not
// reach a system cache, and are not broadcast (DDI0487 D7.5.9, "Performing
// cache maintenance instructions"; mechanisms §4.2). So the check passes
// where those caches are everything between the CPU and RAM (QEMU models
// none; shootdown with --system-cache off), and fails where a dirty line
// can sit beyond them: in shootdown's system cache, or, under a hypervisor
// that passes set/way through, in the L1 of a pCPU the vCPU ran on before
// it migrated. What the bare machine shows is in test/guest/setway.test.ts.
//
// Arguments: words of the shootdown command line (`-- rounds=4`), read from
// the boot-information block x0 points at (docs/boot.md); QEMU passes none
// (x0 = 0), and the defaults are used.
//   rounds=N      rounds, 1 to 1000000 (default 4)
//   cpus=N        run on at most N CPUs, 1 to MAX_CPUS (default: all)
//   skip-clean=1  skip the set/way loop (default 0): with modelled caches the
//                 check must then fail, which is how the tests know it can
//
// Every line printed depends only on N, the arguments and what is read
// back, never on the cache geometry or on timing. Register use on every
// CPU: x19 = CPU index, x20 = CPU count, x21 = rounds, x22 = round,
// x23 = skip-clean, x24 = our buffer, x25 = barriers passed, x26 = this
// round's mismatches, x27 = our log; x28 holds the link register of the
// routines that call others.

        .include "common.inc"

        .equ MAX_CPUS, 16
        .equ STACK_SIZE, 4096
        .equ BUF_SIZE, 4096             // per CPU; 64 lines, well inside shootdown's 16 KiB L1
        .equ LOG_MAX, 8                 // mismatches logged per CPU and round; the rest are counted
        .equ LOG_ENTRY, 24              // address, value read, value expected
        .equ LOG_SIZE, 256              // per CPU: LOG_MAX entries, a whole number of lines
        .equ TABLES_SIZE, 3 * 4096      // per CPU: l1, l2_dev, l2_ram
        .equ PSCI_SYSTEM_RESET, 0x84000009
        .equ BOOT_MAGIC, 0x544F4F424E444853  // "SHDNBOOT", the boot-information block (docs/boot.md)
        .equ BOOT_CMDLINE, 0x18
        .equ BOOT_CMDLINE_LEN, 0x20
        .equ MAX_ROUNDS, 1000000
        .equ CLIDR_LOC_SHIFT, 24        // CLIDR_EL1.LoC, bits [26:24]
        .equ MMFR2_CCIDX_SHIFT, 20      // ID_AA64MMFR2_EL1.CCIDX, bits [23:20]

// ── Boot ────────────────────────────────────────────────────────────────────

        .text
        .globl _start
_start:
        mov x19, #0
        mov x21, #4                     // the defaults: rounds=4, skip-clean=0, every CPU
        mov x23, #0
        mov x20, #MAX_CPUS
        bl parse_args                   // MMU off: the loader's bytes are in RAM
        bl cpu_setup
        adr x0, rounds
        str x21, [x0]
        adr x0, skip_clean
        str x23, [x0]
        bl start_cpus                   // x20 = N from here on
        adr x0, cpu_count
        str x20, [x0]
        adr x0, go
        mov x1, #1
        stlr x1, [x0]
        bl banner
        b common

// secondary_entry: CPU_ON's entry point, x0 = the context ID = our index.
// Nothing shared is read before our caches are on: CPU 0 wrote it through
// its cache, and a non-cacheable read would see RAM.
secondary_entry:
        mov x19, x0
        bl cpu_setup
        adr x0, go
1:      ldar x1, [x0]
        cbz x1, 1b
        adr x0, cpu_count
        ldr x20, [x0]
        adr x0, rounds
        ldr x21, [x0]
        adr x0, skip_clean
        ldr x23, [x0]
        // fall through

common:
        adr x24, buffers                // x24 = our buffer, x27 = our log
        add x24, x24, x19, lsl #12
        adr x27, logs
        add x27, x27, x19, lsl #8
        mov x25, #0
        mov x22, #0
round:
        bl barrier                      // every CPU has its caches on
        bl clean_log_to_poc
        // The pattern: round + 1 in bits [63:48], the CPU in [47:40], the address below.
        add x11, x22, #1
        lsl x11, x11, #48
        orr x11, x11, x19, lsl #40
        mov x9, x24
        add x10, x24, #BUF_SIZE
1:      orr x12, x11, x9
        str x12, [x9], #8
        cmp x9, x10
        b.lo 1b
        dsb ish
        cbnz x23, 2f
        bl flush_dcache_all
2:      bl caches_off
        bl check_buffer                 // x26 = mismatches; the first LOG_MAX in our log
        bl caches_on
        bl report_round
        add x22, x22, #1
        cmp x22, x21
        b.lo round

        adr x0, cpus_done
        mov x1, #1
        stadd x1, [x0]
        cbz x19, finish
        psci PSCI_CPU_OFF               // does not return when it works
        mov x21, x0
        print "CPU_OFF returned "
        sxtw x0, w21
        bl put_sdec
        print "\n"
        b fail

finish:
        adr x0, cpus_done
1:      ldar x1, [x0]
        cmp x1, x20
        b.ne 1b
        mov x21, #1                     // every other CPU must be off first
2:      cmp x21, x20
        b.hs 4f
3:      mov x1, x21
        mov x2, #0
        psci PSCI_AFFINITY_INFO
        cmp w0, #1                      // 1 = OFF
        b.ne 3b
        add x21, x21, #1
        b 2b
4:      adr x0, rounds
        ldr x21, [x0]
        adr x0, mismatches
        ldr x22, [x0]
        cbnz x22, 5f
        print "setway: passed: "
        bl put_totals
        print ", no mismatch\n"
        psci PSCI_SYSTEM_OFF
        b hang
5:      print "setway: FAILED: "
        mov x0, x22
        bl put_dec
        print " mismatches, "
        bl put_totals
        print "\n"
fail:
        psci PSCI_SYSTEM_RESET
hang:   wfi                             // neither SYSTEM_OFF nor SYSTEM_RESET returns
        b hang

// put_totals: "R rounds on N CPUs, W doublewords checked" (x20 = N, x21 = R).
put_totals:
        mov x28, x30
        mov x0, x21
        bl put_dec
        bl put_rounds
        print " on "
        mov x0, x20
        bl put_dec
        bl put_cpus
        print ", "
        mul x0, x20, x21
        lsl x0, x0, #9                  // BUF_SIZE / 8 doublewords per CPU and round
        bl put_dec
        print " doublewords checked"
        mov x30, x28
        ret

// put_cpus: " CPU", or " CPUs" unless x20 = 1. Clobbers x0-x15.
put_cpus:
        mov x16, x30
        print " CPU"
        cmp x20, #1
        b.eq 1f
        print "s"
1:      mov x30, x16
        ret

// put_rounds: " round", or " rounds" unless x21 = 1. Clobbers x0-x15.
put_rounds:
        mov x16, x30
        print " round"
        cmp x21, #1
        b.eq 1f
        print "s"
1:      mov x30, x16
        ret

// banner: what this run does (CPU 0, once every CPU is known).
banner:
        mov x28, x30
        print "setway: "
        mov x0, x20
        bl put_dec
        bl put_cpus
        print ", "
        mov x0, x21
        bl put_dec
        bl put_rounds
        print ", a 4096-byte buffer per CPU, "
        cbnz x23, 1f
        print "cleaned by set/way (DC CISW) before the caches go off\n"
        b 2f
1:      print "set/way clean skipped (skip-clean=1)\n"
2:      mov x30, x28
        ret

// ── The round's steps ───────────────────────────────────────────────────────

// clean_log_to_poc: DC CIVAC over our log, by the smallest data cache line
// CTR_EL0.DminLine gives (log2 of words): afterwards no cache holds a copy
// that could hide, or later overwrite, what we store with our caches off.
clean_log_to_poc:
        mrs x0, ctr_el0
        ubfx x0, x0, #16, #4
        mov x1, #4
        lsl x1, x1, x0                  // bytes per line
        mov x0, x27
        add x2, x27, #LOG_SIZE
1:      dc civac, x0
        add x0, x0, x1
        cmp x0, x2
        b.lo 1b
        dsb ish
        ret

// flush_dcache_all: clean and invalidate every data or unified cache up to
// the Level of Coherency, by set/way. This is arm64's __flush_dcache_all
// (arch/arm64/mm/cache.S, Linux 3.x-4.x; the same loop as arch/arm's
// v7_flush_dcache_all): for each level below CLIDR_EL1.LoC whose Ctype is
// data, separate or unified (2 or more), select it in CSSELR_EL1, read its
// geometry from CCSIDR_EL1 and issue DC CISW for every way and set, the way
// in the top bits (shifted by the CLZ of the highest way number), the set
// above the line offset, the level in bits [3:1] (DDI0487 D7.5.9). With
// FEAT_CCIDX (ID_AA64MMFR2_EL1.CCIDX = 1; QEMU's -cpu max has it) CCSIDR_EL1
// is 64 bits wide: Associativity - 1 in [23:3], NumSets - 1 in [55:32]
// (DDI0487 D19.2.24); without it, [12:3] and [27:13]. Clobbers x0-x15.
flush_dcache_all:
        dmb sy                          // order the loop after our stores
        mrs x0, clidr_el1
        ubfx x3, x0, #CLIDR_LOC_SHIFT, #3
        lsl x3, x3, #1                  // LoC * 2, as CSSELR_EL1.Level counts in [3:1]
        cbz x3, 5f
        mrs x15, id_aa64mmfr2_el1
        ubfx x15, x15, #MMFR2_CCIDX_SHIFT, #4
        mov x10, #0                     // x10 = level << 1
1:      add x2, x10, x10, lsr #1        // 3 * level: Ctype<level+1> is at bits [3n+2:3n]
        lsr x1, x0, x2
        and x1, x1, #7
        cmp x1, #2
        b.lt 4f                         // no cache, or an instruction cache only
        msr csselr_el1, x10
        isb                             // CCSIDR_EL1 now describes that level
        mrs x1, ccsidr_el1
        and x2, x1, #7
        add x2, x2, #4                  // log2(line bytes): the set's shift
        cbz x15, 6f
        ubfx x4, x1, #3, #21            // FEAT_CCIDX
        ubfx x7, x1, #32, #24
        b 7f
6:      ubfx x4, x1, #3, #10
        ubfx x7, x1, #13, #15
7:      clz w5, w4                      // the way's shift (32 for a direct-mapped cache, where
                                        // the way field has no bits and the shifted 0 is 0)
2:      mov x9, x4                      // x9 = way, from the highest down
3:      lsl x6, x9, x5
        orr x11, x10, x6
        lsl x6, x7, x2
        orr x11, x11, x6
        dc cisw, x11
        subs x9, x9, #1
        b.ge 3b
        subs x7, x7, #1                 // x7 = set, from the highest down
        b.ge 2b
4:      add x10, x10, #2
        cmp x3, x10
        b.gt 1b
5:      mov x10, #0
        msr csselr_el1, x10
        dsb sy                          // every DC CISW has completed
        isb
        ret

// caches_off: SCTLR_EL1.C and M clear (I stays set: instruction fetches
// are not what this checks). Clobbers x0.
caches_off:
        mrs x0, sctlr_el1
        bic x0, x0, #SCTLR_M
        bic x0, x0, #SCTLR_C
        msr sctlr_el1, x0
        isb
        ret

// caches_on: SCTLR_EL1.M and C set again, on the tables of cpu_setup.
caches_on:
        mrs x0, sctlr_el1
        orr x0, x0, #SCTLR_M
        orr x0, x0, #SCTLR_C
        msr sctlr_el1, x0
        isb
        ret

// check_buffer (caches off): compares each doubleword of our buffer with the
// round's pattern; x26 = the mismatches, the first LOG_MAX of them stored in
// our log. Registers only, apart from the buffer and the log. Clobbers x9-x14.
check_buffer:
        mov x26, #0
        add x11, x22, #1
        lsl x11, x11, #48
        orr x11, x11, x19, lsl #40
        mov x9, x24
        add x10, x24, #BUF_SIZE
1:      ldr x12, [x9]
        orr x13, x11, x9
        cmp x12, x13
        b.eq 3f
        cmp x26, #LOG_MAX
        b.hs 2f
        add x14, x26, x26, lsl #1       // entry x26 at x27 + 24 * x26
        add x14, x27, x14, lsl #3
        stp x9, x12, [x14]
        str x13, [x14, #16]
2:      add x26, x26, #1
3:      add x9, x9, #8
        cmp x9, x10
        b.lo 1b
        ret

// report_round (caches on): in CPU order, a line per logged mismatch and the
// count of those not logged; adds x26 to the total.
report_round:
        mov x28, x30
        adr x0, turn                    // our turn: round * N + index
        madd x1, x22, x20, x19
1:      ldar x2, [x0]
        cmp x2, x1
        b.ne 1b
        adr x0, mismatches
        stadd x26, [x0]
        mov x16, #0                     // x16 = entry
2:      cmp x16, x26
        b.hs 3f
        cmp x16, #LOG_MAX
        b.hs 3f
        add x17, x16, x16, lsl #1
        add x17, x27, x17, lsl #3
        print "CPU "
        mov x0, x19
        bl put_dec
        print " round "
        mov x0, x22
        bl put_dec
        print ": "
        ldr x0, [x17]
        bl put_hex
        print " read "
        ldr x0, [x17, #8]
        bl put_hex
        print " expected "
        ldr x0, [x17, #16]
        bl put_hex
        print "\n"
        add x16, x16, #1
        b 2b
3:      cmp x26, #LOG_MAX
        b.ls 4f
        print "CPU "
        mov x0, x19
        bl put_dec
        print " round "
        mov x0, x22
        bl put_dec
        print ": "
        sub x0, x26, #LOG_MAX
        bl put_dec
        print " more mismatches\n"
4:      adr x0, turn
        madd x1, x22, x20, x19
        add x1, x1, #1
        stlr x1, [x0]
        mov x30, x28
        ret

// ── Arguments ───────────────────────────────────────────────────────────────

// parse_args (CPU 0, MMU off): the words of the command line in the
// boot-information block at x0, if x0 points at one in RAM: rounds=N into
// x21, skip-clean=0|1 into x23, cpus=N into x20. A word it does not know, or
// a number out of range, is reported and the run ends with SYSTEM_RESET.
// Clobbers x0-x18 (x15 = the word being read, x16 = the next byte, x17 = the
// end of the command line, x18 = our return address).
parse_args:
        mov x18, x30
        li x1, RAM
        cmp x0, x1
        b.lo 9f                         // QEMU: x0 = 0, no block
        ldr x1, [x0]
        li x2, BOOT_MAGIC
        cmp x1, x2
        b.ne 9f
        ldr x16, [x0, #BOOT_CMDLINE]    // x16 = next byte, x17 = end
        ldr w17, [x0, #BOOT_CMDLINE_LEN]
        add x17, x16, x17
1:      cmp x16, x17                    // skip spaces
        b.hs 9f
        ldrb w1, [x16]
        cmp w1, #0x20
        b.ne 2f
        add x16, x16, #1
        b 1b
2:      mov x15, x16                    // x15 = the word, for a report
        adr x0, word_rounds
        bl match_word
        cbz x0, 3f
        li x2, MAX_ROUNDS
        bl parse_number
        mov x21, x0
        b 1b
3:      adr x0, word_cpus
        bl match_word
        cbz x0, 4f
        mov x2, #MAX_CPUS
        bl parse_number
        mov x20, x0
        b 1b
4:      adr x0, word_skip_clean
        bl match_word
        cbz x0, bad_word
        ldrb w1, [x16]                  // 0 or 1, then the end of the word
        sub w1, w1, #0x30
        cmp w1, #1
        b.hi bad_word
        add x2, x16, #1
        cmp x2, x17
        b.hs 5f
        ldrb w3, [x2]
        cmp w3, #0x20
        b.ne bad_word
5:      mov x23, x1
        mov x16, x2
        b 1b
9:      mov x30, x18
        ret

// match_word: does the word at x16 start with the NUL-terminated prefix at
// x0 (which ends in '=')? If so, x0 = 1 and x16 is past it; else x0 = 0.
match_word:
        mov x1, x16
1:      ldrb w2, [x0], #1
        cbz w2, 2f
        cmp x1, x17
        b.hs 3f
        ldrb w3, [x1], #1
        cmp w2, w3
        b.eq 1b
3:      mov x0, #0
        ret
2:      mov x16, x1
        mov x0, #1
        ret

// parse_number: the decimal number at x16, 1 to x2, up to a space or the
// end; x0 = the number, x16 past it. Anything else is a bad word.
parse_number:
        mov x0, #0
        mov x3, x16
        mov x5, #10
1:      cmp x16, x17
        b.hs 2f
        ldrb w4, [x16]
        cmp w4, #0x20
        b.eq 2f
        sub w4, w4, #0x30
        cmp w4, #9
        b.hi bad_number
        madd x0, x0, x5, x4
        cmp x0, x2
        b.hi bad_number
        add x16, x16, #1
        b 1b
2:      cmp x16, x3
        b.eq bad_number                 // no digits
        cbz x0, bad_number
        ret

bad_number:
bad_word:
        mov x16, x15                    // the whole word, from its start
        print "setway: bad argument '"
1:      cmp x16, x17
        b.hs 2f
        ldrb w0, [x16], #1
        cmp w0, #0x20
        b.eq 2f
        bl putc
        b 1b
2:      print "': it takes rounds=N (1 to 1000000), cpus=N (1 to 16) and skip-clean=0|1\n"
        psci PSCI_SYSTEM_RESET
        b hang

// ── PSCI from CPU 0: CPU_ON until there is no such CPU, or x20 run ──────────

start_cpus:
        mov x28, x30
        mov x18, x20                    // the most cpus=N allows
        mov x20, #1
1:      cmp x20, x18
        b.hs 3f
        mov x1, x20                     // target: Aff0 = index
        adr x2, secondary_entry
        mov x3, x20                     // context ID: the index
        psci PSCI_CPU_ON
        cbnz x0, 2f
        add x20, x20, #1
        b 1b
2:      sxtw x0, w0
        cmn x0, #2                      // INVALID_PARAMETERS: no such CPU
        b.eq 3f
        mov x21, x0
        print "setway: PSCI CPU_ON failed: "
        mov x0, x21
        bl put_sdec
        print "\n"
        b fail
3:      mov x30, x28
        ret

// ── Per-CPU setup: tables, MMU and caches, vectors, stack ───────────────────

// cpu_setup: our own tables (built with our MMU off, so the stores go to
// RAM, which is what our table walks will read), MMU and caches on,
// VBAR_EL1, TPIDR_EL1 = index, SP.
cpu_setup:
        mov x28, x30
        adr x0, tables
        mov x1, #TABLES_SIZE
        madd x0, x1, x19, x0            // x0 = our l1; l2_dev and l2_ram follow
        bl build_tables
        li x1, MAIR_VALUE
        msr mair_el1, x1
        li x1, TCR_VALUE
        msr tcr_el1, x1
        msr ttbr0_el1, x0
        isb
        tlbi vmalle1                    // nothing from before may survive in this CPU's TLB
        dsb nsh
        mrs x0, sctlr_el1
        orr x0, x0, #SCTLR_M
        orr x0, x0, #SCTLR_C
        orr x0, x0, #SCTLR_I
        msr sctlr_el1, x0
        isb
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

// build_tables: at x0 (kept) the l1 table, then l2_dev and l2_ram, as
// common.inc's build_identity_map lays them out: l1[0] → l2_dev, 2 MiB
// Device-nGnRnE blocks over the GIC and the UART; l1[1] → l2_ram, 2 MiB
// Normal write-back blocks over the first 128 MiB of RAM. Clobbers x1-x3.
build_tables:
        add x1, x0, #4096
        orr x1, x1, #DESC_TABLE
        str x1, [x0, #0]
        add x1, x0, #8192
        orr x1, x1, #DESC_TABLE
        str x1, [x0, #8]
        add x2, x0, #4096
        add x2, x2, #(DEVICE_BLOCKS_FIRST * 8)
        li x1, GICD | ATTR_DEVICE | ATTR_XN | DESC_BLOCK
        mov x3, #DEVICE_BLOCKS
1:      str x1, [x2], #8
        add x1, x1, #(1 << 21)
        subs x3, x3, #1
        b.ne 1b
        add x2, x0, #8192
        li x1, RAM | ATTR_NORMAL | DESC_BLOCK
        mov x3, #RAM_BLOCKS
2:      str x1, [x2], #8
        add x1, x1, #(1 << 21)
        subs x3, x3, #1
        b.ne 2b
        dsb ish
        ret

// barrier: returns once every CPU has called it as often as we have
// (arrivals only grow; our x25-th call waits for x25 * N arrivals). Only
// with our caches on. Clobbers x9-x11.
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

// None is expected: every vector reports itself and the run ends.
        .balign 2048
vectors:
        .set offset, 0
        .rept 16
        mov x21, #offset
        b unexpected
        .balign 128
        .set offset, offset + 0x80
        .endr

unexpected:
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
        print "setway: FAILED\n"
        b fail

// ── Data ────────────────────────────────────────────────────────────────────

        .data
word_rounds:     .asciz "rounds="
word_cpus:       .asciz "cpus="
word_skip_clean: .asciz "skip-clean="
        .balign 8
go:             .quad 0                 // CPU 0 has published the count and the arguments
cpu_count:      .quad 0
rounds:         .quad 0
skip_clean:     .quad 0
arrivals:       .quad 0                 // barrier arrivals, ever
turn:           .quad 0                 // whose turn it is to report: round * N + index
mismatches:     .quad 0                 // over every CPU and round
cpus_done:      .quad 0

        .bss
        .balign 4096
tables:   .skip TABLES_SIZE * MAX_CPUS
// common.inc's build_identity_map and mmu_on name CPU 0's tables; this
// image builds per-CPU tables of its own and calls neither, but the names
// must resolve. l2_alias and l3_alias are never used.
        .set l1, tables
        .set l2_dev, tables + 4096
        .set l2_ram, tables + 8192
        .set l2_alias, tables
        .set l3_alias, tables
stacks:   .skip STACK_SIZE * MAX_CPUS
buffers:  .skip BUF_SIZE * MAX_CPUS     // each CPU's own page
logs:     .skip LOG_SIZE * MAX_CPUS     // each CPU's own four lines
