// SPDX-License-Identifier: MIT
//
// selftest: every instruction form of shootdown's A64 subset (issue 4) on
// edge values, checked against the Arm ARM (DDI0487) and confirmed on
// QEMU 7.2. It boots as hello does (CPU 0 at EL1, MMU off), builds its own
// tables, turns on the MMU and caches, and prints one line per check:
//
//   ok N - name
//   not ok N - name (got X expected Y)
//
// then "selftest: all N checks passed" (or "selftest: F of N checks
// failed") and powers off with PSCI SYSTEM_OFF.
//
// Every value checked is fixed by the architecture or by the image itself
// (its own addresses), never by timing or by an implementation's choice:
// where the Arm ARM leaves fields to the implementation (ESR_EL1.ISV and
// the syndrome that goes with it, PAR_EL1's attributes and NS), the check
// masks them out. Two values are QEMU virt's conventions that shootdown
// follows on purpose: MPIDR_EL1 of CPU 0 and CNTFRQ_EL0.
//
// Exceptions that a check provokes are logged by the vector code (vector
// offset, ESR, FAR, ELR, SPSR, x0 at the time) and returned from: past the
// instruction for SVC, to x30 for an instruction abort (the check reaches
// the bad address with BLR), to the next instruction for anything else; an
// SVC from EL0 returns to EL1 at el0_resume.
//
// Registers: x19 = checks so far, x20 = passed, x21 = failed (kept by
// everything); a check keeps every register but x16, x17, x30 and x22-x24
// (report's), and keeps NZCV; x25-x28 are free for the checks.

        .include "common.inc"

        .equ TEST_VA, ALIAS_BASE        // l3_alias[0]: tpage, EL1 read/write
        .equ USER_CODE_VA, 0x80001000   // l3_alias[1]: user_page, read-only, EL0 may execute
        .equ USER_DATA_VA, 0x80002000   // l3_alias[2]: udata, read/write at EL0 and EL1
        .equ UNMAPPED_VA, 0x80003000    // l3_alias[3]: invalid (level 3 translation fault)
        .equ RO_VA, 0x80004000          // l3_alias[4]: tpage, read-only at EL1, none at EL0
        .equ L2_UNMAPPED_VA, 0x80200000 // l2_alias[1]: invalid (level 2)
        .equ L1_UNMAPPED_VA, 0xc0000000 // l1[3]: invalid (level 1)
        .equ AP_RW_ALL, 1 << 6          // AP[2:1] = 01: read/write at EL1 and EL0
        .equ AP_RO_EL1, 2 << 6          // 10: read-only at EL1, no access at EL0
        .equ AP_RO_ALL, 3 << 6          // 11: read-only at EL1 and EL0
        .equ PXN, 1 << 53

        .equ ESR_ABORT_MASK, 0xfe003fff // EC, IL, ISS[13:0]: ISV and ISS[23:14] are the implementation's
        .equ SPSR_MASK, 0xf00003df      // NZCV, DAIF, M[4:0]
        .equ PAR_PA_MASK, 0xfffffffff001    // PAR_EL1 PA[47:12] and F
        .equ PAR_FAULT_MASK, 0x7f       // PAR_EL1 FST[6:1] and F

        .equ EXC_VECTOR, 0              // one entry of exc_log
        .equ EXC_ESR, 8
        .equ EXC_FAR, 16
        .equ EXC_ELR, 24
        .equ EXC_SPSR, 32
        .equ EXC_X0, 40
        .equ EXC_SIZE, 48
        .equ EXC_MAX, 4

// check "name", expected: x0 == expected (a constant). Keeps every
// register but x16, x17 and x30, and keeps NZCV.
.macro check name, expected
        li x16, \expected
        .pushsection .data
.Lname\@:
        .asciz "\name"
        .popsection
        adr x17, .Lname\@
        bl report
.endm

// checkx "name": x0 == x1.
.macro checkx name
        mov x16, x1
        .pushsection .data
.Lname\@:
        .asciz "\name"
        .popsection
        adr x17, .Lname\@
        bl report
.endm

// flags: x0 = NZCV as MRS reads it (bits 31:28).
.macro flags
        mrs x0, nzcv
.endm

// exc_clear: forget the exceptions logged so far.
.macro exc_clear
        adr x0, exc_count
        str xzr, [x0]
.endm

// exc field, i: x0 = that field of the i-th exception logged since exc_clear.
.macro exc field, i=0
        adr x0, exc_log + \i * EXC_SIZE + \field
        ldr x0, [x0]
.endm

// check_abort "name", esr: the first exception logged was an abort with
// that syndrome (masked) and FAR_EL1 = x26.
.macro check_abort name, esr
        exc EXC_ESR
        li x1, ESR_ABORT_MASK
        and x0, x0, x1
        check "\name: ESR_EL1", \esr
        exc EXC_FAR
        mov x1, x26
        checkx "\name: FAR_EL1"
.endm

// map_test_page: l3_alias[0] maps tpage again (x6 = &l3_alias[0]); an invalid
// entry is never held in a TLB, so DSB and ISB are enough.
.macro map_test_page
        adr x1, tpage
        li x2, ATTR_NORMAL | ATTR_XN | DESC_PAGE
        orr x1, x1, x2
        str x1, [x6]
        dsb ishst
        isb
.endm

// tlbi_test op, operand: TEST_VA in the TLB, its entry made invalid, TLBI
// op (operand a register, or none), DSB ISH, ISB: the next load must fault.
.macro tlbi_test op, operand
        li x5, TEST_VA
        adr x6, l3_alias
        ldr x0, [x5]
        str xzr, [x6]
        dsb ishst
        .ifc \operand, none
        tlbi \op
        .else
        tlbi \op, \operand
        .endif
        dsb ish
        isb
        exc_clear
        ldr x0, [x5]
        map_test_page
        exc EXC_ESR
        li x1, ESR_ABORT_MASK
        and x0, x0, x1
        check "TLBI \op drops the entry: the load faults (translation, level 3)", 0x96000007
.endm

// cond_masks state, expected: with NZCV = state, the conditions that hold
// (bit i for condition code i: eq ne cs cc mi pl vs vc hi ls ge lt gt le al
// nv), once by CSEL and once by B.cond.
.macro cond_masks state, expected
        li x0, \state << 28
        msr nzcv, x0
        mov x2, #1
        mov x0, #0
        .set bit, 0
        .irp c, eq, ne, cs, cc, mi, pl, vs, vc, hi, ls, ge, lt, gt, le, al, nv
        csel x1, x2, xzr, \c
        orr x0, x0, x1, lsl #bit
        .set bit, bit + 1
        .endr
        check "csel with NZCV = \state: the conditions that hold", \expected
        li x0, \state << 28
        msr nzcv, x0
        mov x0, #0
        .set bit, 0
        .irp c, eq, ne, cs, cc, mi, pl, vs, vc, hi, ls, ge, lt, gt, le, al, nv
        b.\c 1f
        b 2f
1:      orr x0, x0, #(1 << bit)
2:
        .set bit, bit + 1
        .endr
        check "b.cond with NZCV = \state: the conditions that hold", \expected
.endm

// ── Boot ────────────────────────────────────────────────────────────────────

        .text
        .globl _start
_start:
        mov x19, #0
        mov x20, #0
        mov x21, #0
        adr x0, stack_top
        mov sp, x0
        bl build_tables
        bl mmu_on
        adr x0, vectors
        msr vbar_el1, x0
        isb

// ── MOVZ, MOVN, MOVK and the MOV aliases ────────────────────────────────────

        movz x0, #0x1234, lsl #48
        movk x0, #0x5678, lsl #16
        check "movz lsl 48, movk lsl 16", 0x1234000056780000
        movn x0, #0
        check "movn x, #0", 0xffffffffffffffff
        movn w0, #0x1234, lsl #16
        check "movn w zero-extends", 0xedcbffff
        mov x0, #-2
        check "mov x, #-2 (movn)", 0xfffffffffffffffe
        mov x0, #0x5555555555555555
        check "mov x, bitmask immediate (orr)", 0x5555555555555555
        mov x1, #-1
        mov w0, w1
        check "mov w, w clears bits 63:32", 0xffffffff
        mov x0, sp
        adr x1, stack_top
        sub x0, x0, x1
        check "mov x, sp (add)", 0

// ── ADD, SUB, ADDS, SUBS, CMP, CMN, NEG ────────────────────────────────────

        mov x1, #-1
        adds x0, x1, #1
        mrs x25, nzcv
        check "adds x: -1 + 1", 0
        mov x0, x25
        check "adds x: -1 + 1 sets Z and C", 0x60000000
        li x1, 0x7fffffffffffffff
        adds x0, x1, #1
        mrs x25, nzcv
        check "adds x: INT64_MAX + 1", 0x8000000000000000
        mov x0, x25
        check "adds x: INT64_MAX + 1 sets N and V", 0x90000000
        mov w1, #-1
        adds w0, w1, #1
        mrs x25, nzcv
        check "adds w: 0xffffffff + 1", 0
        mov x0, x25
        check "adds w: 0xffffffff + 1 sets Z and C", 0x60000000
        mov w1, #0x7fffffff
        adds w0, w1, #1
        mrs x25, nzcv
        check "adds w: INT32_MAX + 1", 0x80000000
        mov x0, x25
        check "adds w: INT32_MAX + 1 sets N and V", 0x90000000
        mov x1, #0
        subs x0, x1, #1
        mrs x25, nzcv
        check "subs x: 0 - 1", 0xffffffffffffffff
        mov x0, x25
        check "subs x: 0 - 1 borrows (C clear), sets N", 0x80000000
        mov x1, #0x8000000000000000
        subs x0, x1, #1
        mrs x25, nzcv
        check "subs x: INT64_MIN - 1", 0x7fffffffffffffff
        mov x0, x25
        check "subs x: INT64_MIN - 1 sets C and V", 0x30000000
        mov w1, #0x80000000
        subs w0, w1, #1
        mrs x25, nzcv
        check "subs w: INT32_MIN - 1", 0x7fffffff
        mov x0, x25
        check "subs w: INT32_MIN - 1 sets C and V", 0x30000000
        mov x1, #5
        cmp x1, x1
        flags
        check "cmp x, x: Z and C", 0x60000000
        mov w1, #3
        cmp w1, #4
        flags
        check "cmp w 3, #4: N only", 0x80000000
        mov x1, #-1
        cmn x1, #1
        flags
        check "cmn x -1, #1: Z and C", 0x60000000
        mov x2, #0x8000000000000000
        negs x0, x2
        mrs x25, nzcv
        check "negs x: INT64_MIN", 0x8000000000000000
        mov x0, x25
        check "negs x: INT64_MIN sets N and V", 0x90000000
        negs x0, xzr
        flags
        check "negs x: 0 sets Z and C", 0x60000000
        mov w2, #1
        neg w0, w2
        check "neg w: 1", 0xffffffff
        mov x1, #1
        add x0, x1, #0xfff, lsl #12
        check "add x, #0xfff lsl 12", 0xfff001
        sub x0, x1, #4095
        check "sub x, #4095", 0xfffffffffffff002
        mov x2, #1
        add x0, x1, x2, lsl #63
        check "add x, shifted register lsl 63", 0x8000000000000001
        add x0, x1, x2, lsl #0
        check "add x, shifted register lsl 0", 2
        mov x2, #0x8000000000000000
        add x0, x1, x2, asr #63
        check "add x, shifted register asr 63", 0
        add x0, x1, x2, lsr #63
        check "add x, shifted register lsr 63", 2
        mov w1, #0
        mov w2, #1
        sub w0, w1, w2, lsl #31
        check "sub w, shifted register lsl 31", 0x80000000
        mov x1, #100
        mov w2, #-1
        add x0, x1, w2, sxtw #2
        check "add x, extended register sxtw #2", 96
        mov x2, #0x1ff
        add x0, x1, w2, uxtb
        check "add x, extended register uxtb", 355
        mov w2, #0x8000
        sub x0, x1, w2, sxth
        check "sub x, extended register sxth", 32868
        mov w2, #0x1ffff
        add w0, w1, w2, uxth #4
        check "add w, extended register uxth #4", 0x100054
        mov x2, #-1
        subs x0, x1, x2, sxtx
        flags
        check "subs x, extended register sxtx: 100 - -1 clears C", 0
        mov x5, sp
        sub sp, sp, #32
        mov x0, sp
        add sp, sp, #32
        sub x0, x5, x0
        check "sub sp, sp, #32", 32

// ── AND, ORR, EOR, ANDS, BIC, ORN, TST ─────────────────────────────────────

        mov x1, #-1
        and x0, x1, #0xff00ff00ff00ff00
        check "and x, bitmask immediate", 0xff00ff00ff00ff00
        orr x0, xzr, #0x8000000000000001
        check "orr x, bitmask immediate (a rotated run)", 0x8000000000000001
        mov w1, #-1
        eor w0, w1, #0x55555555
        check "eor w, bitmask immediate", 0xaaaaaaaa
        mov x0, #0xf0000000
        msr nzcv, x0
        ands w0, w1, #0x80000000
        mrs x25, nzcv
        check "ands w, bitmask immediate", 0x80000000
        mov x0, x25
        check "ands w: N set, C and V cleared", 0x80000000
        mov x1, #2
        tst x1, #1
        flags
        check "tst x, #1 of 2: Z", 0x40000000
        mov x1, #-1
        mov x2, #0xf
        bic x0, x1, x2, lsl #4
        check "bic x, shifted register lsl 4", 0xffffffffffffff0f
        orn x0, xzr, x2
        check "orn x (mvn)", 0xfffffffffffffff0
        mov x1, #0
        mov x2, #1
        eor x0, x1, x2, ror #63
        check "eor x, shifted register ror 63", 2
        eor x0, x1, x2, ror #1
        check "eor x, shifted register ror 1", 0x8000000000000000
        mov w1, #0x5678
        movk w1, #0x1234, lsl #16
        mov w2, #0x80000000
        and w0, w1, w2, asr #31
        check "and w, shifted register asr 31", 0x12345678
        orr w0, w1, w2, lsr #31
        check "orr w, shifted register lsr 31", 0x12345679
        mov x0, #0xf0000000
        msr nzcv, x0
        mov x1, #0xf0
        ands x0, x1, x1, lsr #4
        flags
        check "ands x, shifted register: Z, C and V cleared", 0x40000000
        mov w1, #0xf0
        mov w2, #0x0f
        tst w1, w2
        flags
        check "tst w, w: Z", 0x40000000
        mvn w0, w1
        check "mvn w", 0xffffff0f
        mov x1, #4
        mov x2, #2
        cmp x1, x2, lsl #1
        flags
        check "cmp x, shifted register lsl 1: Z and C", 0x60000000
        mov w1, #-1
        mov w2, #0x101
        cmn w1, w2, uxtb
        flags
        check "cmn w, extended register uxtb: Z and C", 0x60000000
        mov w1, #1
        negs w0, w1, lsl #31
        mrs x25, nzcv
        check "negs w, shifted register lsl 31", 0x80000000
        mov x0, x25
        check "negs w: 0 - INT32_MIN sets N and V", 0x90000000
        mov w0, #0x1234
        movk w0, #0xffff, lsl #16
        check "movk w, lsl 16", 0xffff1234

// ── LSL, LSR, ASR, ROR (immediate and register) ────────────────────────────

        mov x1, #3
        lsl x0, x1, #63
        check "lsl x, #63", 0x8000000000000000
        lsl x0, x1, #0
        check "lsl x, #0", 3
        mov x1, #0x8000000000000000
        lsr x0, x1, #63
        check "lsr x, #63", 1
        asr x0, x1, #63
        check "asr x, #63", 0xffffffffffffffff
        lsr x0, x1, #0
        check "lsr x, #0", 0x8000000000000000
        mov x1, #1
        ror x0, x1, #63
        check "ror x, #63", 2
        ror x0, x1, #1
        check "ror x, #1", 0x8000000000000000
        mov w1, #3
        lsl w0, w1, #31
        check "lsl w, #31", 0x80000000
        mov w1, #0x80000000
        asr w0, w1, #31
        check "asr w, #31", 0xffffffff
        mov x1, #5
        mov x2, #64
        lsl x0, x1, x2
        check "lsl x, register 64 (taken mod 64)", 5
        mov x2, #63
        lsl x0, x1, x2
        check "lsl x, register 63", 0x8000000000000000
        mov w1, #0x80000000
        mov w2, #33
        lsr w0, w1, w2
        check "lsr w, register 33 (taken mod 32)", 0x40000000
        mov w2, #31
        asr w0, w1, w2
        check "asr w, register 31", 0xffffffff
        mov w1, #0x5678
        movk w1, #0x1234, lsl #16
        mov w2, #36
        ror w0, w1, w2
        check "ror w, register 36", 0x81234567
        mov x1, #0x8000000000000000
        mov x2, #0xff
        asr x0, x1, x2
        check "asr x, register 255 (taken mod 64)", 0xffffffffffffffff

// ── UBFM, SBFM, BFM and their aliases ───────────────────────────────────────

        li x1, 0xf234567890abcdef
        ubfx x0, x1, #60, #4
        check "ubfx x, #60, #4", 0xf
        sbfx x0, x1, #60, #4
        check "sbfx x, #60, #4", 0xffffffffffffffff
        sbfx x0, x1, #0, #8
        check "sbfx x, #0, #8", 0xffffffffffffffef
        sbfx w0, w1, #4, #8
        check "sbfx w, #4, #8", 0xffffffde
        ubfm x0, x1, #4, #3
        check "ubfm x, #4, #3 (ubfiz #60, #4)", 0xf000000000000000
        ubfiz x0, x1, #8, #8
        check "ubfiz x, #8, #8", 0xef00
        sbfiz x0, x1, #8, #8
        check "sbfiz x, #8, #8", 0xffffffffffffef00
        sbfm x0, x1, #63, #63
        check "sbfm x, #63, #63 (asr #63)", 0xffffffffffffffff
        mov w1, #0x80000001
        ubfm w0, w1, #31, #30
        check "ubfm w, #31, #30 (lsl #1)", 2
        mov x0, #0
        mov x2, #0xabcd
        bfi x0, x2, #8, #16
        check "bfi x, #8, #16", 0xabcd00
        mov x0, #-1
        bfi x0, xzr, #8, #16
        check "bfi x, xzr, #8, #16", 0xffffffffff0000ff
        mov x0, #-1
        mov x2, #0x3456
        movk x2, #0x12, lsl #16
        bfxil x0, x2, #16, #8
        check "bfxil x, #16, #8", 0xffffffffffffff12
        mov x0, #0
        mov x2, #1
        bfm x0, x2, #63, #0
        check "bfm x, #63, #0 (bfi #1, #1)", 2
        mov w0, #0
        bfi w0, w2, #31, #1
        check "bfi w, #31, #1", 0x80000000
        mov w1, #0x80
        sxtb x0, w1
        check "sxtb x", 0xffffffffffffff80
        mov w1, #0x8000
        sxth w0, w1
        check "sxth w", 0xffff8000
        mov w1, #0x80000000
        sxtw x0, w1
        check "sxtw x", 0xffffffff80000000
        mov w1, #0x1ff
        uxtb w0, w1
        check "uxtb w", 0xff
        mov w1, #0x1ffff
        uxth w0, w1
        check "uxth w", 0xffff

// ── MUL, MADD, MSUB, UDIV, SDIV ─────────────────────────────────────────────

        mov x1, #-1
        mov x2, #-1
        mul x0, x1, x2
        check "mul x: -1 * -1", 1
        mov x1, #0x100000000
        mul x0, x1, x1
        check "mul x: 2^32 * 2^32 wraps to 0", 0
        mov x1, #3
        mov x2, #4
        mov x3, #5
        madd x0, x1, x2, x3
        check "madd x: 3 * 4 + 5", 17
        msub x0, x1, x2, x3
        check "msub x: 5 - 3 * 4", 0xfffffffffffffff9
        mov w1, #0x10000
        mul w0, w1, w1
        check "mul w: 2^16 * 2^16 wraps to 0", 0
        mov w1, #-1
        mov w2, #2
        mov w3, #3
        madd w0, w1, w2, w3
        check "madd w: 0xffffffff * 2 + 3 wraps", 1
        mov x1, #-1
        mov x2, #2
        udiv x0, x1, x2
        check "udiv x: UINT64_MAX / 2", 0x7fffffffffffffff
        udiv x0, x1, xzr
        check "udiv x: divide by zero gives 0", 0
        mov x1, #-7
        sdiv x0, x1, x2
        check "sdiv x: -7 / 2 rounds toward zero", 0xfffffffffffffffd
        mov x1, #7
        mov x2, #-2
        sdiv x0, x1, x2
        check "sdiv x: 7 / -2 rounds toward zero", 0xfffffffffffffffd
        mov x1, #0x8000000000000000
        mov x2, #-1
        sdiv x0, x1, x2
        check "sdiv x: INT64_MIN / -1 = INT64_MIN", 0x8000000000000000
        sdiv x0, x1, xzr
        check "sdiv x: divide by zero gives 0", 0
        mov w1, #0x80000000
        mov w2, #-1
        sdiv w0, w1, w2
        check "sdiv w: INT32_MIN / -1 = INT32_MIN", 0x80000000
        mov w1, #-1
        mov w2, #16
        udiv w0, w1, w2
        check "udiv w: 0xffffffff / 16", 0x0fffffff
        udiv w0, w1, wzr
        check "udiv w: divide by zero gives 0", 0

// ── CSEL, CSINC, CSINV, CSNEG, CSET, CINC; every condition code ─────────────

        mov x1, #1
        mov x2, #2
        mov x3, #30
        mov x4, #40
        cmp x1, x2                      // 1 vs 2
        csel x0, x3, x4, lt
        check "csel lt (taken)", 30
        cmp x1, x2
        csel x0, x3, x4, ge
        check "csel ge (not taken)", 40
        cmp x1, x2
        csinc x0, x3, x4, eq
        check "csinc eq (not taken): x4 + 1", 41
        cmp x1, x2
        csinv x0, x3, x4, eq
        check "csinv eq (not taken): ~x4", 0xffffffffffffffd7
        cmp x1, x2
        csneg x0, x3, x4, eq
        check "csneg eq (not taken): -x4", 0xffffffffffffffd8
        cmp x1, x2
        csinc x0, x3, x4, ne
        check "csinc ne (taken)", 30
        cmp x1, x2
        cset x0, lo
        check "cset lo", 1
        cmp x1, x2
        cset w0, hs
        check "cset w hs", 0
        cmp x1, x2
        cinc x0, x3, lo
        check "cinc lo", 31
        mov x5, #-1
        cmp x5, #0
        csneg w0, w3, w4, hi
        check "csneg w hi (unsigned -1 > 0)", 30
        cond_masks 0x0, 0xd6aa
        cond_masks 0x4, 0xe6a9
        cond_masks 0x2, 0xd5a6
        cond_masks 0x8, 0xea9a
        cond_masks 0x1, 0xea6a
        cond_masks 0x9, 0xd65a
        cond_masks 0x6, 0xe6a5
        cond_masks 0xf, 0xe655
        cond_masks 0xa, 0xe996
        cond_masks 0x5, 0xea69

// ── CLZ, RBIT, REV ──────────────────────────────────────────────────────────

        clz x0, xzr
        check "clz x of 0", 64
        mov x1, #1
        clz x0, x1
        check "clz x of 1", 63
        mov x1, #-1
        clz x0, x1
        check "clz x of -1", 0
        clz w0, wzr
        check "clz w of 0", 32
        mov w1, #0x80000000
        clz w0, w1
        check "clz w of 0x80000000", 0
        mov x1, #1
        rbit x0, x1
        check "rbit x of 1", 0x8000000000000000
        mov w1, #0x5678
        movk w1, #0x1234, lsl #16
        rbit w0, w1
        check "rbit w", 0x1e6a2c48
        rev w0, w1
        check "rev w", 0x78563412
        li x1, 0x0123456789abcdef
        rev x0, x1
        check "rev x", 0xefcdab8967452301
        rev16 x0, x1
        check "rev16 x", 0x23016745ab89efcd
        rev32 x0, x1
        check "rev32 x", 0x67452301efcdab89

// ── Loads: every size and addressing mode, with sign extension ──────────────

        adr x1, lbuf                    // lbuf: bytes 0x80, 0x81, ..., 0xbf
        ldrb w0, [x1]
        check "ldrb w, [x]", 0x80
        ldrsb x0, [x1]
        check "ldrsb x, [x]", 0xffffffffffffff80
        ldrsb w0, [x1]
        check "ldrsb w, [x] (bits 63:32 clear)", 0xffffff80
        ldrh w0, [x1, #2]
        check "ldrh w, [x, #2]", 0x8382
        ldrsh x0, [x1, #2]
        check "ldrsh x, [x, #2]", 0xffffffffffff8382
        ldrsh w0, [x1, #2]
        check "ldrsh w, [x, #2]", 0xffff8382
        ldr w0, [x1, #4]
        check "ldr w, [x, #4]", 0x87868584
        ldrsw x0, [x1, #4]
        check "ldrsw x, [x, #4]", 0xffffffff87868584
        ldr x0, [x1, #56]
        check "ldr x, [x, #56]", 0xbfbebdbcbbbab9b8
        mov x3, x1
        ldr x0, [x3, #8]!
        check "ldr x, [x, #8]! (pre-index)", 0x8f8e8d8c8b8a8988
        sub x0, x3, x1
        check "ldr x, [x, #8]! writes back the base", 8
        ldr x0, [x3], #-8
        check "ldr x, [x], #-8 (post-index)", 0x8f8e8d8c8b8a8988
        sub x0, x3, x1
        check "ldr x, [x], #-8 writes back the base", 0
        ldrb w0, [x3, #61]!
        check "ldrb w, [x, #61]!", 0xbd
        ldrsh w0, [x3], #-59
        check "ldrsh w, [x], #-59 (an unaligned halfword, Normal memory)", 0xffffbebd
        sub x0, x3, x1
        check "ldrsh w, [x], #-59 writes back the base", 2
        ldur w0, [x1, #1]
        check "ldur w, [x, #1] (unaligned)", 0x84838281
        add x3, x1, #9
        ldur x0, [x3, #-1]
        check "ldur x, [x, #-1]", 0x8f8e8d8c8b8a8988
        add x3, x1, #256
        ldursb x0, [x3, #-256]
        check "ldursb x, [x, #-256]", 0xffffffffffffff80
        sub x3, x1, #253
        ldurh w0, [x3, #255]
        check "ldurh w, [x, #255]", 0x8382
        add x3, x1, #8
        ldursw x0, [x3, #-4]
        check "ldursw x, [x, #-4]", 0xffffffff87868584
        ldursh w0, [x3, #-6]
        check "ldursh w, [x, #-6]", 0xffff8382
        ldurb w0, [x3, #-7]
        check "ldurb w, [x, #-7]", 0x81
        mov x2, #1
        ldr x0, [x1, x2, lsl #3]
        check "ldr x, [x, x, lsl #3]", 0x8f8e8d8c8b8a8988
        ldr w0, [x1, w2, uxtw #2]
        check "ldr w, [x, w, uxtw #2]", 0x87868584
        add x3, x1, #16
        mov w2, #-8
        ldr x0, [x3, w2, sxtw]
        check "ldr x, [x, w, sxtw] (negative index)", 0x8f8e8d8c8b8a8988
        mov w2, #-1
        ldr x0, [x3, w2, sxtw #3]
        check "ldr x, [x, w, sxtw #3]", 0x8f8e8d8c8b8a8988
        mov x2, #-1
        ldr x0, [x3, x2, sxtx #3]
        check "ldr x, [x, x, sxtx #3]", 0x8f8e8d8c8b8a8988
        mov x2, #63
        ldrb w0, [x1, x2]
        check "ldrb w, [x, x]", 0xbf
        mov x2, #1
        ldrh w0, [x1, x2, lsl #1]
        check "ldrh w, [x, x, lsl #1]", 0x8382
        ldrsw x0, [x1, x2, lsl #2]
        check "ldrsw x, [x, x, lsl #2]", 0xffffffff87868584
        ldrsb w0, [x1, x2]
        check "ldrsb w, [x, x]", 0xffffff81
        ldrsh x0, [x1, x2, lsl #1]
        check "ldrsh x, [x, x, lsl #1]", 0xffffffffffff8382
        sub x3, x1, #8, lsl #12         // the largest unsigned offsets of each size
        add x3, x3, #16
        ldr x0, [x3, #32760]
        check "ldr x, [x, #32760]", 0x8f8e8d8c8b8a8988
        sub x3, x1, #4, lsl #12
        add x3, x3, #8
        ldr w0, [x3, #16380]
        check "ldr w, [x, #16380]", 0x87868584
        sub x3, x1, #2, lsl #12
        add x3, x3, #4
        ldrh w0, [x3, #8190]
        check "ldrh w, [x, #8190]", 0x8382
        sub x3, x1, #4032
        ldrb w0, [x3, #4095]
        check "ldrb w, [x, #4095]", 0xbf
        add x3, x1, #264
        ldr x0, [x3, #-256]!
        check "ldr x, [x, #-256]!", 0x8f8e8d8c8b8a8988
        sub x0, x3, x1
        check "ldr x, [x, #-256]! writes back the base", 8
        ldr x0, lit64
        check "ldr x, literal", 0x0123456789abcdef
        ldr w0, lit32
        check "ldr w, literal", 0x89abcdef
        ldrsw x0, lit32
        check "ldrsw x, literal", 0xffffffff89abcdef

// ── Stores: every size and addressing mode ──────────────────────────────────

        adr x1, sbuf
        stp xzr, xzr, [x1]
        stp xzr, xzr, [x1, #16]
        mov w2, #0x1234
        strb w2, [x1]
        strh w2, [x1, #2]
        ldr x0, [x1]
        check "strb w, [x]; strh w, [x, #2]", 0x12340034
        li x2, 0x89abcdef
        str w2, [x1, #4]
        ldr x0, [x1]
        check "str w, [x, #4]", 0x89abcdef12340034
        li x2, 0x1122334455667788
        mov x3, x1
        str x2, [x3, #8]!
        ldr x0, [x1, #8]
        check "str x, [x, #8]! (pre-index)", 0x1122334455667788
        sub x0, x3, x1
        check "str x, [x, #8]! writes back the base", 8
        mov w4, #0xaaaa
        strh w4, [x3], #4
        ldr x0, [x1, #8]
        check "strh w, [x], #4 (post-index)", 0x112233445566aaaa
        sub x0, x3, x1
        check "strh w, [x], #4 writes back the base", 12
        li x5, 0xdeadbeef
        stur w5, [x3, #-1]
        ldr x0, [x1, #8]
        check "stur w, [x, #-1] (unaligned)", 0x11deadbeef66aaaa
        mov w6, #0x0304
        movk w6, #0x0102, lsl #16
        mov x7, #4
        str w6, [x1, x7, lsl #2]
        strb w6, [x1, w7, uxtw]
        sturb w6, [x1, #20]
        sturh w6, [x1, #22]
        ldr x0, [x1, #16]
        check "str w, [x, x, lsl #2]; sturb; sturh", 0x0304000401020304
        ldr x0, [x1]
        check "strb w, [x, w, uxtw]", 0x89abcd0412340034
        mov x7, #-3
        add x3, x1, #24
        str x2, [x3, x7, sxtx #3]
        ldr x0, [x1]
        check "str x, [x, x, sxtx #3] (negative index)", 0x1122334455667788
        add x3, x1, #32
        stur x5, [x3, #-8]
        strh w6, [x3, #-8]!
        ldr x0, [x1, #24]
        check "stur x, [x, #-8]; strh w, [x, #-8]!", 0xdead0304
        sub x0, x3, x1
        check "strh w, [x, #-8]! writes back the base", 24
        strb w5, [x3], #-24
        ldr x0, [x1, #24]
        check "strb w, [x], #-24", 0xdead03ef
        sub x0, x3, x1
        check "strb w, [x], #-24 writes back the base", 0

// ── LDP, STP, LDPSW ─────────────────────────────────────────────────────────

        adr x1, sbuf
        li x2, 0x0123456789abcdef
        li x3, 0xfedcba9876543210
        stp x2, x3, [x1]
        ldp x4, x5, [x1]
        mov x0, x4
        check "stp x, x, [x]; ldp x, x, [x]: first", 0x0123456789abcdef
        mov x0, x5
        check "stp x, x, [x]; ldp x, x, [x]: second", 0xfedcba9876543210
        add x6, x1, #32
        stp x3, x2, [x6, #-16]!
        sub x0, x6, x1
        check "stp x, x, [x, #-16]! writes back the base", 16
        ldp x4, x5, [x6], #16
        mov x0, x4
        check "ldp x, x, [x], #16: first", 0xfedcba9876543210
        sub x0, x6, x1
        check "ldp x, x, [x], #16 writes back the base", 32
        sub x7, x1, #504
        ldp x4, x5, [x7, #504]
        mov x0, x5
        check "ldp x, x, [x, #504]: second", 0xfedcba9876543210
        stp w2, w3, [x1, #8]
        ldr x0, [x1, #8]
        check "stp w, w, [x, #8]", 0x7654321089abcdef
        ldp w4, w5, [x1, #8]
        mov x0, x4
        check "ldp w, w, [x, #8]: zero-extended", 0x89abcdef
        ldpsw x4, x5, [x1, #8]
        mov x0, x4
        check "ldpsw x, x, [x, #8]: first", 0xffffffff89abcdef
        mov x0, x5
        check "ldpsw x, x, [x, #8]: second", 0x76543210
        add x6, x1, #16
        stp w3, w2, [x6, #-8]!
        ldp w4, w5, [x6, #-4]!
        sub x0, x6, x1
        check "stp w, w, [x, #-8]!; ldp w, w, [x, #-4]! write back", 4
        mov x0, x5
        check "ldp w, w, [x, #-4]!: second", 0x76543210
        li x2, 0x0123456789abcdef
        li x3, 0xfedcba9876543210
        add x6, x1, #512
        stp x2, x3, [x6, #-512]!
        sub x0, x6, x1
        check "stp x, x, [x, #-512]! writes back the base", 0
        ldr x0, [x1, #8]
        check "stp x, x, [x, #-512]!: second", 0xfedcba9876543210
        ldp x4, x5, [x6], #504
        mov x0, x4
        check "ldp x, x, [x], #504: first", 0x0123456789abcdef
        sub x0, x6, x1
        check "ldp x, x, [x], #504 writes back the base", 504

// ── Exclusives, acquire and release, atomics ────────────────────────────────

        adr x1, xbuf
        str xzr, [x1]
        ldxr x0, [x1]
        mov x3, #0x55
        stxr w2, x3, [x1]
        mov x0, x2
        check "ldxr x; stxr x: status 0 (stored)", 0
        ldr x0, [x1]
        check "stxr x stored", 0x55
        ldxr x0, [x1]
        clrex
        mov x4, #0x66
        stxr w2, x4, [x1]
        mov x0, x2
        check "ldxr x; clrex; stxr x: status 1 (not stored)", 1
        ldr x0, [x1]
        check "stxr x after clrex stored nothing", 0x55
        ldaxr w0, [x1]
        mov w5, #0x77
        stlxr w2, w5, [x1]
        mov x0, x2
        check "ldaxr w; stlxr w: status 0", 0
        ldr x0, [x1]
        check "stlxr w stored 32 bits", 0x77
        stxr w2, x4, [x1]
        mov x0, x2
        check "stxr with no ldxr since the last store-exclusive: status 1", 1
        li x3, 0x8877665544332211
        stlr x3, [x1]
        ldar x0, [x1]
        check "stlr x; ldar x", 0x8877665544332211
        mov w3, #0x1234
        stlr w3, [x1]
        ldar w0, [x1]
        check "stlr w; ldar w", 0x1234
        ldr x0, [x1]
        check "stlr w stored 32 bits", 0x8877665500001234

        mov x0, #5
        str x0, [x1]
        mov x2, #5
        mov x3, #9
        cas x2, x3, [x1]
        mov x0, x2
        check "cas x (equal): returns the old value", 5
        ldr x0, [x1]
        check "cas x (equal): stores", 9
        mov x2, #5
        mov x3, #7
        casa x2, x3, [x1]
        mov x0, x2
        check "casa x (not equal): returns the old value", 9
        ldr x0, [x1]
        check "casa x (not equal): stores nothing", 9
        li x0, 0xffffffff00000009
        str x0, [x1]
        mov w2, #9
        mov w3, #0xabc
        casal w2, w3, [x1]
        ldr x0, [x1]
        check "casal w (equal): stores 32 bits", 0xffffffff00000abc
        mov x2, #0x123
        swp x2, x0, [x1]
        check "swp x: returns the old value", 0xffffffff00000abc
        ldr x0, [x1]
        check "swp x: stores", 0x123
        mov w2, #-1
        swpal w2, w0, [x1]
        check "swpal w: returns the old value", 0x123
        ldr x0, [x1]
        check "swpal w: stores 32 bits", 0xffffffff
        mov x0, #-1
        str x0, [x1]
        mov x2, #1
        ldadd x2, x0, [x1]
        check "ldadd x: returns the old value", 0xffffffffffffffff
        ldr x0, [x1]
        check "ldadd x: -1 + 1 wraps to 0", 0
        li x0, 0x00000001ffffffff
        str x0, [x1]
        ldaddal w2, w0, [x1]
        check "ldaddal w: returns the old value", 0xffffffff
        ldr x0, [x1]
        check "ldaddal w: wraps in 32 bits", 0x0000000100000000
        mov x2, #3
        stadd x2, [x1]
        ldadda x2, x0, [x1]
        check "stadd x; ldadda x", 0x0000000100000003
        ldr x0, [x1]
        check "ldadda x: stores the sum", 0x0000000100000006
        exc_clear
        add x26, x1, #2
        ldxr w0, [x26]                  // misaligned exclusive: alignment fault (DDI0487 B2.5.2)
        check_abort "ldxr w of an address not 4-aligned", 0x96000021

// ── B, BL, BR, BLR, RET, CBZ, CBNZ, TBZ, TBNZ, ADR, ADRP ────────────────────

        mov x0, #0
        mov x1, #0x8000000000000000
        mov x2, #0x100000000
        tbz x1, #63, 1f                 // bit 0: tbz on a set bit 63
        b 2f
1:      orr x0, x0, #0x1
2:      tbnz x1, #63, 1f                // bit 1: tbnz on a set bit 63
        b 2f
1:      orr x0, x0, #0x2
2:      tbz x1, #0, 1f                  // bit 2: tbz on a clear bit 0
        b 2f
1:      orr x0, x0, #0x4
2:      tbnz x1, #0, 1f                 // bit 3: tbnz on a clear bit 0
        b 2f
1:      orr x0, x0, #0x8
2:      tbnz w1, #31, 1f                // bit 4: tbnz w on bit 31 (w1 is 0)
        b 2f
1:      orr x0, x0, #0x10
2:      cbz w2, 1f                      // bit 5: cbz w of 2^32 (w2 is 0)
        b 2f
1:      orr x0, x0, #0x20
2:      cbz x2, 1f                      // bit 6: cbz x of 2^32
        b 2f
1:      orr x0, x0, #0x40
2:      cbnz x2, 1f                     // bit 7: cbnz x of 2^32
        b 2f
1:      orr x0, x0, #0x80
2:      cbnz w2, 1f                     // bit 8: cbnz w of 2^32
        b 2f
1:      orr x0, x0, #0x100
2:      check "tbz, tbnz (bits 63, 0, 31), cbz, cbnz (x and w): the branches taken", 0xa6
        adr x2, 1f
        bl 1f
1:      sub x0, x30, x2
        check "bl sets x30 to the next instruction", 0
        adr x3, blr_target
        adr x4, 1f
        mov x0, #-1
        blr x3
1:      check "blr, then ret to x30", 0
        adr x3, 1f
        mov x0, #0
        br x3
        mov x0, #1
1:      check "br", 0
        adr x5, 1f
        mov x0, #0
        ret x5
        mov x0, #1
1:      check "ret x5", 0
        adr x0, lit64
        ldr x1, lit64_address
        sub x0, x0, x1
        check "adr", 0
        adrp x0, lit64
        ldr x1, lit64_address
        and x1, x1, #~0xfff
        sub x0, x0, x1
        check "adrp", 0
        adr x0, _start                  // backwards
        ldr x1, start_address
        sub x0, x0, x1
        check "adr backwards", 0

// ── System registers, PSTATE, barriers, hints ───────────────────────────────

        mrs x0, currentel
        check "CurrentEL is EL1", 4
        mrs x0, mpidr_el1
        check "MPIDR_EL1 of CPU 0 (QEMU virt: U = 0, Aff0 = 0, bit 31 RES1)", 0x80000000
        mrs x0, cntfrq_el0
        check "CNTFRQ_EL0 is 62.5 MHz (QEMU 7.2)", 62500000
        li x1, 0x0123456789abcdef
        msr tpidr_el0, x1
        mrs x0, tpidr_el0
        check "msr/mrs tpidr_el0", 0x0123456789abcdef
        msr s3_0_c13_c0_4, x1           // TPIDR_EL1 by its encoding
        mrs x0, tpidr_el1
        check "msr s3_0_c13_c0_4 = tpidr_el1", 0x0123456789abcdef
        mov x1, #0xf0000000
        msr nzcv, x1
        mrs x0, nzcv
        check "msr/mrs nzcv", 0xf0000000
        msr daifset, #0xf
        mrs x0, daif
        check "msr daifset, #0xf", 0x3c0
        msr daifclr, #4
        mrs x0, daif
        check "msr daifclr, #4 (A)", 0x2c0
        mov x1, #0x3c0
        msr daif, x1
        mrs x0, daif
        check "msr daif, x", 0x3c0
        adr x0, sp0_stack_top
        msr sp_el0, x0
        msr spsel, #0
        mov x1, sp
        mrs x2, spsel
        msr spsel, #1
        mov x0, x2
        check "msr spsel, #0: spsel reads 0", 0
        adr x0, sp0_stack_top
        sub x0, x1, x0
        check "msr spsel, #0: sp is sp_el0", 0
        mrs x0, spsel
        check "msr spsel, #1", 1
        .irp option, sy, st, ld, ish, ishst, ishld, nsh, nshst, nshld, osh, oshst, oshld
        dsb \option
        dmb \option
        .endr
        isb
        nop
        sevl
        wfe                             // the event register is set: returns at once
        sev
        wfe
        mov x0, #1
        check "dsb and dmb (every option), isb, nop, sevl/sev then wfe", 1

// ── Cache maintenance ───────────────────────────────────────────────────────

        adr x1, cbuf
        li x2, 0x5a5a5a5a5a5a5a5a
        str x2, [x1]
        dc cvac, x1
        dc civac, x1
        dsb sy
        dc ivac, x1                     // clean already: invalidating loses nothing
        dsb sy
        ldr x0, [x1]
        check "dc cvac, dc civac, then dc ivac keep the data", 0x5a5a5a5a5a5a5a5a
        mov x3, #0                      // level 1, set 0, way 0
        dc csw, x3
        dc cisw, x3
        dsb sy
        ldr x0, [x1]
        check "dc csw, dc cisw keep the data", 0x5a5a5a5a5a5a5a5a
        ic iallu
        ic ialluis
        adr x3, _start
        ic ivau, x3
        dsb ish
        isb
        mov x0, #1
        check "ic iallu, ic ialluis, ic ivau", 1
        mrs x0, dczid_el0
        and x25, x0, #0xf               // BS: log2 of the block size in words
        and x0, x0, #0x10
        check "DCZID_EL0.DZP: dc zva permitted", 0
        mov x0, #4
        lsl x26, x0, x25                // block size in bytes
        adr x1, zva_page
        mov x2, #-1
        mov x3, #0
1:      str x2, [x1, x3]                // fill a block and the word after it
        add x3, x3, #8
        cmp x3, x26
        b.ls 1b
        dc zva, x1
        ldr x0, [x1]
        check "dc zva zeroes the first word of the block", 0
        sub x3, x26, #8
        ldr x0, [x1, x3]
        check "dc zva zeroes the last word of the block (DCZID_EL0.BS)", 0
        ldr x0, [x1, x26]
        check "dc zva leaves the next block alone", 0xffffffffffffffff

// ── Address translation (AT) ────────────────────────────────────────────────

        li x5, TEST_VA
        at s1e1r, x5
        isb
        mrs x0, par_el1
        li x1, PAR_PA_MASK
        and x0, x0, x1
        adr x1, tpage
        checkx "at s1e1r: PAR_EL1.PA of a mapped page"
        li x5, RO_VA
        at s1e1w, x5
        isb
        mrs x0, par_el1
        and x0, x0, #PAR_FAULT_MASK
        check "at s1e1w of a read-only page: permission fault, level 3", 0x1f
        adr x5, lbuf
        at s1e0r, x5
        isb
        mrs x0, par_el1
        and x0, x0, #PAR_FAULT_MASK
        check "at s1e0r of an EL1-only block: permission fault, level 2", 0x1d
        li x5, USER_DATA_VA
        at s1e0w, x5
        isb
        mrs x0, par_el1
        li x1, PAR_PA_MASK
        and x0, x0, x1
        adr x1, udata
        checkx "at s1e0w of an EL0 read/write page: PAR_EL1.PA"
        li x5, UNMAPPED_VA
        at s1e1r, x5
        isb
        mrs x0, par_el1
        and x0, x0, #PAR_FAULT_MASK
        check "at s1e1r of an invalid entry: translation fault, level 3", 0x0f
        li x5, L1_UNMAPPED_VA
        at s1e1w, x5
        isb
        mrs x0, par_el1
        and x0, x0, #PAR_FAULT_MASK
        check "at s1e1w of an invalid level-1 entry: translation fault, level 1", 0x0b

// ── TLB maintenance: each TLBI form drops a stale entry ─────────────────────

        li x25, TEST_VA >> 12           // VA[55:12], ASID 0
        tlbi_test vae1, x25
        tlbi_test vae1is, x25
        tlbi_test vale1, x25
        tlbi_test vale1is, x25
        tlbi_test vaae1, x25
        tlbi_test vaae1is, x25
        tlbi_test vaale1, x25
        tlbi_test vaale1is, x25
        mov x25, #0                     // ASID 0 in bits 63:48
        tlbi_test aside1, x25
        tlbi_test aside1is, x25
        tlbi_test vmalle1, none
        tlbi_test vmalle1is, none

// ── Synchronous exceptions taken at EL1 and returned from ───────────────────

        exc_clear
        mov x0, #0x60000000
        msr nzcv, x0
svc_el1:
        svc #0x42
        adr x0, exc_count
        ldr x0, [x0]
        check "svc #0x42 at EL1: one exception", 1
        exc EXC_VECTOR
        check "svc at EL1h: vector offset 0x200 (current EL, SP_ELx)", 0x200
        exc EXC_ESR
        check "svc #0x42: ESR_EL1 (EC 0x15, IL, imm16)", 0x56000042
        exc EXC_ELR
        adr x1, svc_el1 + 4
        checkx "svc: ELR_EL1 is the next instruction"
        exc EXC_SPSR
        li x1, SPSR_MASK
        and x0, x0, x1
        check "svc: SPSR_EL1 (Z, C, DAIF, EL1h)", 0x600003c5

        exc_clear
        adr x0, sp0_stack_top
        msr sp_el0, x0
        msr nzcv, xzr
        msr spsel, #0
        svc #0
        msr spsel, #1
        exc EXC_VECTOR
        check "svc at EL1t: vector offset 0x000 (current EL, SP_EL0)", 0
        exc EXC_SPSR
        li x1, SPSR_MASK
        and x0, x0, x1
        check "svc at EL1t: SPSR_EL1.M is EL1t", 0x000003c4

        exc_clear
brk_el1:
        brk #0x123
        exc EXC_ESR
        check "brk #0x123: ESR_EL1 (EC 0x3c, IL, imm16)", 0xf2000123
        exc EXC_ELR
        adr x1, brk_el1
        checkx "brk: ELR_EL1 is the brk itself"

        exc_clear
udf_el1:
        .inst 0x00000000                // UDF #0: permanently undefined
        exc EXC_ESR
        check "udf #0: ESR_EL1 (EC 0, IL)", 0x02000000
        exc EXC_ELR
        adr x1, udf_el1
        checkx "udf #0: ELR_EL1 is the instruction"

        exc_clear
        mrs x0, hcr_el2                 // an EL2 register from EL1
        tlbi alle1                      // an EL2 operation from EL1
        at s12e1r, x5                   // likewise
        adr x0, exc_count
        ldr x0, [x0]
        check "mrs hcr_el2, tlbi alle1, at s12e1r at EL1: three exceptions", 3
        exc EXC_ESR, 0
        check "mrs hcr_el2 at EL1 is undefined", 0x02000000
        exc EXC_ESR, 1
        check "tlbi alle1 at EL1 is undefined", 0x02000000
        exc EXC_ESR, 2
        check "at s12e1r at EL1 is undefined", 0x02000000

        exc_clear
        li x26, UNMAPPED_VA + 8
        ldr x0, [x26]
        check_abort "load from an invalid level-3 entry", 0x96000007
        exc_clear
        li x26, L2_UNMAPPED_VA
        ldr x0, [x26]
        check_abort "load from an invalid level-2 entry", 0x96000006
        exc_clear
        li x26, L1_UNMAPPED_VA + 0x10
        str x0, [x26]
        check_abort "store to an invalid level-1 entry (WnR)", 0x96000045
        exc_clear
        li x26, RO_VA + 0x20
        str x0, [x26]
        check_abort "store to a read-only page: permission fault, level 3", 0x9600004f
        li x26, RO_VA + 0x20
        exc_clear
1:      strb w0, [x26]
        exc EXC_ELR
        adr x1, 1b
        checkx "data abort: ELR_EL1 is the faulting instruction"

        exc_clear
        li x26, UNMAPPED_VA
        blr x26
        check_abort "branch to an invalid entry: instruction abort, level 3", 0x86000007
        exc EXC_ELR
        mov x1, x26
        checkx "instruction abort: ELR_EL1 is the target"
        exc_clear
        li x26, TEST_VA
        blr x26
        check_abort "branch to a PXN page: permission fault, level 3", 0x8600000f

// ── EL0: ERET to user code, faults there, SVC back ──────────────────────────

        exc_clear
        adr x0, el0_back
        adr x1, el0_resume
        str x0, [x1]
        li x0, USER_CODE_VA
        msr elr_el1, x0
        mov x0, #0x3c0                  // EL0t, DAIF masked
        msr spsr_el1, x0
        li x0, USER_DATA_VA + 4096
        msr sp_el0, x0
        adr x4, lbuf                    // an EL1-only address for EL0 to try
        eret
el0_back:
        check "EL0 computed 7 + 7 + 5 and came back with svc", 19
        adr x0, exc_count
        ldr x0, [x0]
        check "EL0: three exceptions (data abort, undefined, svc)", 3
        exc EXC_VECTOR, 0
        check "EL0 data abort: vector offset 0x400 (lower EL, AArch64)", 0x400
        exc EXC_ESR, 0
        li x1, ESR_ABORT_MASK
        and x0, x0, x1
        check "EL0 load from an EL1-only block: ESR_EL1 (EC 0x24, permission fault, level 2)", 0x9200000e
        exc EXC_FAR, 0
        adr x1, lbuf
        checkx "EL0 data abort: FAR_EL1"
        exc EXC_ELR, 0
        li x1, USER_CODE_VA + (user_load - user_page)
        checkx "EL0 data abort: ELR_EL1 (the user address)"
        exc EXC_ESR, 1
        check "mrs currentel at EL0 is undefined", 0x02000000
        exc EXC_ESR, 2
        check "svc #0x21 from EL0: ESR_EL1", 0x56000021
        exc EXC_VECTOR, 2
        check "svc from EL0: vector offset 0x400", 0x400
        exc EXC_SPSR, 2
        li x1, SPSR_MASK
        and x0, x0, x1
        check "svc from EL0: SPSR_EL1 (N, DAIF, EL0t)", 0x800003c0
        exc EXC_ELR, 2
        li x1, USER_CODE_VA + (user_svc - user_page) + 4
        checkx "svc from EL0: ELR_EL1"
        mrs x0, currentel
        check "back at EL1", 4

// ── The generic timer and the GIC: IRQ 27 wakes WFI ────────────────────────

        bl gic_dist_setup
        mov x3, #0                      // CPU 0
        mov w2, #(1 << 27)              // the virtual timer's PPI
        bl gic_cpu_setup
        mrs x25, cntvct_el0
        mrs x26, cntvct_el0
        cmp x26, x25
        cset x0, hs
        check "CNTVCT_EL0 does not go backwards", 1
        mov x0, #1000                   // 16 us at 62.5 MHz
        msr cntv_tval_el0, x0
        mov x0, #1                      // ENABLE, IMASK clear
        msr cntv_ctl_el0, x0
        isb
        adr x25, irq_count
1:      msr daifset, #2
        ldr x0, [x25]
        cbnz x0, 2f
        wfi                             // wakes on the pending IRQ while it is masked
        msr daifclr, #2
        isb
        b 1b
2:      msr daifset, #2
        check "timer: one IRQ arrived", 1
        adr x0, irq_intid
        ldr x0, [x0]
        check "timer: ICC_IAR1_EL1 gave INTID 27", 27
        adr x0, irq_ctl
        ldr x0, [x0]
        check "timer: CNTV_CTL_EL0 in the handler is ENABLE | ISTATUS", 5
        adr x0, irq_tval
        ldr w0, [x0]
        sxtw x0, w0
        cmp x0, #0
        cset x0, le
        check "timer: CNTV_TVAL_EL0 in the handler is not positive", 1

// ── Summary ─────────────────────────────────────────────────────────────────

        print "selftest: "
        cbnz x21, 1f
        print "all "
        mov x0, x19
        bl put_dec
        print " checks passed\n"
        b 2f
1:      mov x0, x21
        bl put_dec
        print " of "
        mov x0, x19
        bl put_dec
        print " checks failed\n"
2:      psci PSCI_SYSTEM_OFF
3:      wfi
        b 3b

// ── Helpers ─────────────────────────────────────────────────────────────────

// report: one result line for check x19 + 1: x0 got, x16 expected, x17 the
// name. Keeps x0-x15 and NZCV.
report:
        sub sp, sp, #144
        stp x0, x1, [sp]
        stp x2, x3, [sp, #16]
        stp x4, x5, [sp, #32]
        stp x6, x7, [sp, #48]
        stp x8, x9, [sp, #64]
        stp x10, x11, [sp, #80]
        stp x12, x13, [sp, #96]
        stp x14, x15, [sp, #112]
        mrs x9, nzcv
        stp x9, x30, [sp, #128]
        mov x22, x0
        mov x23, x16
        mov x24, x17
        add x19, x19, #1
        cmp x22, x23
        b.ne 1f
        add x20, x20, #1
        print "ok "
        mov x0, x19
        bl put_dec
        print " - "
        mov x0, x24
        bl puts
        print "\n"
        b 2f
1:      add x21, x21, #1
        print "not ok "
        mov x0, x19
        bl put_dec
        print " - "
        mov x0, x24
        bl puts
        print " (got "
        mov x0, x22
        bl put_hex
        print " expected "
        mov x0, x23
        bl put_hex
        print ")\n"
2:      ldp x9, x30, [sp, #128]
        msr nzcv, x9
        ldp x0, x1, [sp]
        ldp x2, x3, [sp, #16]
        ldp x4, x5, [sp, #32]
        ldp x6, x7, [sp, #48]
        ldp x8, x9, [sp, #64]
        ldp x10, x11, [sp, #80]
        ldp x12, x13, [sp, #96]
        ldp x14, x15, [sp, #112]
        add sp, sp, #144
        ret

blr_target:
        sub x0, x30, x4
        ret

// build_tables: the identity map, and l1[2] → l2_alias → l3_alias:
//   [0] TEST_VA → tpage, [1] USER_CODE_VA → user_page, [2] USER_DATA_VA →
//   udata, [3] invalid, [4] RO_VA → tpage read-only; l2_alias[1] and l1[3]
//   invalid.
build_tables:
        mov x28, x30
        bl build_identity_map
        adr x0, l3_alias
        adr x1, tpage
        li x2, ATTR_NORMAL | ATTR_XN | DESC_PAGE
        orr x1, x1, x2
        str x1, [x0, #0]
        adr x1, user_page
        li x2, ATTR_NORMAL | AP_RO_ALL | PXN | DESC_PAGE
        orr x1, x1, x2
        str x1, [x0, #8]
        adr x1, udata
        li x2, ATTR_NORMAL | AP_RW_ALL | ATTR_XN | DESC_PAGE
        orr x1, x1, x2
        str x1, [x0, #16]
        adr x1, tpage
        li x2, ATTR_NORMAL | AP_RO_EL1 | ATTR_XN | DESC_PAGE
        orr x1, x1, x2
        str x1, [x0, #32]
        dsb ish
        mov x30, x28
        ret

// ── Exceptions ──────────────────────────────────────────────────────────────

// The vector table (DDI0487 D1.10.2). Synchronous exceptions from EL1 (SP0
// or SPx) and from EL0 are logged; IRQs from EL1 with SP_EL1 are the timer;
// anything else is unexpected.
        .balign 2048
vectors:
        .set offset, 0
        .rept 16
        .if offset == 0x000 || offset == 0x200 || offset == 0x400
        stp x9, x10, [sp, #-16]!
        mov x9, #offset
        b sync
        .elseif offset == 0x280
        b irq
        .else
        mov x9, #offset
        b unexpected
        .endif
        .balign 128
        .set offset, offset + 0x80
        .endr

// sync: log the exception (x9 = vector offset; x9, x10 saved) and return.
sync:
        stp x11, x12, [sp, #-16]!
        adr x10, exc_count
        ldr x11, [x10]
        add x12, x11, #1
        str x12, [x10]
        cmp x11, #EXC_MAX
        b.hs 1f                         // the log is full: count only
        adr x10, exc_log
        mov x12, #EXC_SIZE
        madd x10, x11, x12, x10
        str x9, [x10, #EXC_VECTOR]
        mrs x11, esr_el1
        str x11, [x10, #EXC_ESR]
        mrs x11, far_el1
        str x11, [x10, #EXC_FAR]
        mrs x11, elr_el1
        str x11, [x10, #EXC_ELR]
        mrs x11, spsr_el1
        str x11, [x10, #EXC_SPSR]
        str x0, [x10, #EXC_X0]
1:      mrs x11, esr_el1
        lsr x11, x11, #26               // EC
        cmp x9, #0x400
        b.hs from_el0
        cmp x11, #0x15                  // SVC: ELR_EL1 is already past it
        b.eq 3f
        cmp x11, #0x21                  // instruction abort: back to the BLR that went there
        b.ne 2f
        msr elr_el1, x30
        b 3f
2:      mrs x11, elr_el1                // anything else: skip the instruction
        add x11, x11, #4
        msr elr_el1, x11
3:      ldp x11, x12, [sp], #16
        ldp x9, x10, [sp], #16
        eret
from_el0:
        cmp x11, #0x15
        b.ne 2b
        adr x11, el0_resume             // SVC from EL0: back to EL1 at el0_resume
        ldr x11, [x11]
        msr elr_el1, x11
        mov x11, #0x3c5                 // EL1h, DAIF masked
        msr spsr_el1, x11
        b 3b

// irq: the timer. Log INTID, CNTV_CTL_EL0 and CNTV_TVAL_EL0, turn the timer
// off (its level drops), end the interrupt.
irq:
        stp x0, x1, [sp, #-32]!
        str x2, [sp, #16]
        mrs x0, icc_iar1_el1
        adr x1, irq_intid
        str x0, [x1]
        cmp x0, #GIC_SPURIOUS
        b.hs 1f
        mrs x2, cntv_ctl_el0
        adr x1, irq_ctl
        str x2, [x1]
        mrs x2, cntv_tval_el0
        adr x1, irq_tval
        str x2, [x1]
        msr cntv_ctl_el0, xzr
        isb
        adr x1, irq_count
        ldr x2, [x1]
        add x2, x2, #1
        str x2, [x1]
        msr icc_eoir1_el1, x0
1:      ldr x2, [sp, #16]
        ldp x0, x1, [sp], #32
        eret

// unexpected: say which vector and the syndrome, and stop.
unexpected:
        print "unexpected exception: vector offset "
        mov x0, x9
        bl put_hex
        print " ESR_EL1 "
        mrs x0, esr_el1
        bl put_hex
        print " ELR_EL1 "
        mrs x0, elr_el1
        bl put_hex
        print "\nselftest: FAILED\n"
        psci PSCI_SYSTEM_OFF
1:      wfi
        b 1b

// Literals for the PC-relative loads.
        .balign 8
lit64:  .quad 0x0123456789abcdef
lit32:  .word 0x89abcdef
        .balign 8
lit64_address: .quad lit64
start_address: .quad _start

// ── EL0 code: one page, mapped at USER_CODE_VA ──────────────────────────────

        .balign 4096
user_page:
        mov x0, #7
        str x0, [sp, #-16]!
        ldr x2, [sp], #16
        add x0, x0, x2                  // 14
        mov x3, #5
user_load:
        ldr x3, [x4]                    // EL1-only: permission fault, skipped, x3 stays 5
        add x0, x0, x3                  // 19
        mrs x3, currentel               // undefined at EL0
        mov x1, #100
        cmp x0, x1                      // N
user_svc:
        svc #0x21
        b user_svc
        .balign 4096

// ── Data ────────────────────────────────────────────────────────────────────

        .data
        .balign 16
lbuf:                                   // 0x80, 0x81, ..., 0xbf
        .set byte, 0x80
        .rept 64
        .byte byte
        .set byte, byte + 1
        .endr
        .balign 16
sbuf:   .skip 64
xbuf:   .skip 16
el0_resume:  .quad 0
exc_count:   .quad 0
exc_log:     .skip EXC_SIZE * EXC_MAX
irq_count:   .quad 0
irq_intid:   .quad 0
irq_ctl:     .quad 0
irq_tval:    .quad 0
        .balign 64
cbuf:   .skip 64

        .bss
        .balign 4096
l1:       .skip 4096
l2_dev:   .skip 4096
l2_ram:   .skip 4096
l2_alias: .skip 4096
l3_alias:  .skip 4096
tpage:    .skip 4096
udata:    .skip 4096
zva_page: .skip 4096
sp0_stack: .skip 4096
sp0_stack_top:
stack:    .skip 8192
stack_top:
