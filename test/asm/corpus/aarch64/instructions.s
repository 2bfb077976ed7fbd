// SPDX-License-Identifier: MIT
//
// Every instruction form of the A64 subset, in plain GNU as syntax (armv8-a,
// no options). Linked with -Ttext=0x40080000 -Tdata=0x40100000 for the
// whole-program golden test; regenerate-a64.mjs records each word and
// objdump's text for it.
// sections: .text=0x40080000 .data=0x40100000 .bss=0x40200000

	.text
	.globl _start
_start:
// MOVZ, MOVN, MOVK and their shifts
	movz x3, #0, lsl #0
	movz x3, #0xffff, lsl #0
	movz x3, #0x1234, lsl #0
	movz x3, #0, lsl #16
	movz x3, #0xffff, lsl #16
	movz x3, #0x1234, lsl #16
	movz x3, #0, lsl #32
	movz x3, #0xffff, lsl #32
	movz x3, #0x1234, lsl #32
	movz x3, #0, lsl #48
	movz x3, #0xffff, lsl #48
	movz x3, #0x1234, lsl #48
	movn x3, #0, lsl #0
	movn x3, #0xffff, lsl #0
	movn x3, #0x1234, lsl #0
	movn x3, #0, lsl #16
	movn x3, #0xffff, lsl #16
	movn x3, #0x1234, lsl #16
	movn x3, #0, lsl #32
	movn x3, #0xffff, lsl #32
	movn x3, #0x1234, lsl #32
	movn x3, #0, lsl #48
	movn x3, #0xffff, lsl #48
	movn x3, #0x1234, lsl #48
	movk x3, #0, lsl #0
	movk x3, #0xffff, lsl #0
	movk x3, #0x1234, lsl #0
	movk x3, #0, lsl #16
	movk x3, #0xffff, lsl #16
	movk x3, #0x1234, lsl #16
	movk x3, #0, lsl #32
	movk x3, #0xffff, lsl #32
	movk x3, #0x1234, lsl #32
	movk x3, #0, lsl #48
	movk x3, #0xffff, lsl #48
	movk x3, #0x1234, lsl #48
	movz x0, #1
	movk x30, #0xbeef
	movz w3, #0, lsl #0
	movz w3, #0xffff, lsl #0
	movz w3, #0x1234, lsl #0
	movz w3, #0, lsl #16
	movz w3, #0xffff, lsl #16
	movz w3, #0x1234, lsl #16
	movn w3, #0, lsl #0
	movn w3, #0xffff, lsl #0
	movn w3, #0x1234, lsl #0
	movn w3, #0, lsl #16
	movn w3, #0xffff, lsl #16
	movn w3, #0x1234, lsl #16
	movk w3, #0, lsl #0
	movk w3, #0xffff, lsl #0
	movk w3, #0x1234, lsl #0
	movk w3, #0, lsl #16
	movk w3, #0xffff, lsl #16
	movk w3, #0x1234, lsl #16
	movz w0, #1
	movk w30, #0xbeef
// MOV (wide, inverted wide and bitmask immediate), as GNU as picks the encoding
	mov x5, #0
	mov x5, #1
	mov x5, #-1
	mov x5, #0xffff
	mov x5, #0x10000
	mov x5, #0xffff0000
	mov x5, #-0x10000
	mov x5, #0x5555555555555555
	mov x5, #0x00ff00ff00ff00ff
	mov x5, #0x7fffffffffffffff
	mov x5, #0x8000000000000000
	mov x5, #0xffffffff
	mov x5, #0xfffffffffffeffff
	mov x5, #0x0000ffff0000ffff
	mov x5, #0x123400000000
	mov x5, #1 << 63
	mov x5, #~0x1234
	mov w5, #0
	mov w5, #-1
	mov w5, #0xffff
	mov w5, #0x10000
	mov w5, #0xffff0000
	mov w5, #0x80000000
	mov w5, #0xfffeffff
	mov w5, #0x00ff00ff
	mov w5, #0x7fffffff
	mov w5, #-0x80000000
	mov w5, #0x55555555
	mov w5, #~1
	mov xzr, #1
	mov sp, #0x10
	mov wsp, #0xff00
	mov sp, #0xffff0000ffff0000
// MOV (register) and MOV to/from SP
	mov x0, x1
	mov w0, w1
	mov x0, sp
	mov sp, x0
	mov wsp, w3
	mov w3, wsp
	mov x30, xzr
	mov wzr, w2
	mov lr, fp
	mov x16, ip1
// ADD/SUB/ADDS/SUBS (immediate) with LSL #12, CMP, CMN
	add x0, x1, #0
	add x0, x1, #1
	add x0, x1, #4095
	add x0, x1, #4096
	add x0, x1, #0xfff000
	add x0, x1, #1, lsl #12
	add x0, x1, #0, lsl #12
	add x0, x1, #0xfff, lsl #0
	add x0, x1, -8
	add x0, x1, #-4096
	add w0, w1, #0
	add w0, w1, #1
	add w0, w1, #4095
	add w0, w1, #4096
	add w0, w1, #0xfff000
	add w0, w1, #1, lsl #12
	add w0, w1, #0, lsl #12
	add w0, w1, #0xfff, lsl #0
	add w0, w1, -8
	add w0, w1, #-4096
	adds x0, x1, #0
	adds x0, x1, #1
	adds x0, x1, #4095
	adds x0, x1, #4096
	adds x0, x1, #0xfff000
	adds x0, x1, #1, lsl #12
	adds x0, x1, #0, lsl #12
	adds x0, x1, #0xfff, lsl #0
	adds x0, x1, -8
	adds x0, x1, #-4096
	adds w0, w1, #0
	adds w0, w1, #1
	adds w0, w1, #4095
	adds w0, w1, #4096
	adds w0, w1, #0xfff000
	adds w0, w1, #1, lsl #12
	adds w0, w1, #0, lsl #12
	adds w0, w1, #0xfff, lsl #0
	adds w0, w1, -8
	adds w0, w1, #-4096
	sub x0, x1, #0
	sub x0, x1, #1
	sub x0, x1, #4095
	sub x0, x1, #4096
	sub x0, x1, #0xfff000
	sub x0, x1, #1, lsl #12
	sub x0, x1, #0, lsl #12
	sub x0, x1, #0xfff, lsl #0
	sub x0, x1, -8
	sub x0, x1, #-4096
	sub w0, w1, #0
	sub w0, w1, #1
	sub w0, w1, #4095
	sub w0, w1, #4096
	sub w0, w1, #0xfff000
	sub w0, w1, #1, lsl #12
	sub w0, w1, #0, lsl #12
	sub w0, w1, #0xfff, lsl #0
	sub w0, w1, -8
	sub w0, w1, #-4096
	subs x0, x1, #0
	subs x0, x1, #1
	subs x0, x1, #4095
	subs x0, x1, #4096
	subs x0, x1, #0xfff000
	subs x0, x1, #1, lsl #12
	subs x0, x1, #0, lsl #12
	subs x0, x1, #0xfff, lsl #0
	subs x0, x1, -8
	subs x0, x1, #-4096
	subs w0, w1, #0
	subs w0, w1, #1
	subs w0, w1, #4095
	subs w0, w1, #4096
	subs w0, w1, #0xfff000
	subs w0, w1, #1, lsl #12
	subs w0, w1, #0, lsl #12
	subs w0, w1, #0xfff, lsl #0
	subs w0, w1, -8
	subs w0, w1, #-4096
	add sp, sp, #16
	sub sp, sp, #0x100
	add x0, sp, #8
	add wsp, w1, #1
	adds x0, sp, #1
	subs w0, wsp, #7
	add x1, x1, :lo12:data_word
	add x2, x3, #:lo12:data_quad
	cmp x0, #0
	cmp x1, #4095
	cmp w2, #4096
	cmp sp, #8
	cmp wsp, #1, lsl #12
	cmp x3, #-1
	cmp w4, #-4096
	cmn x0, #0
	cmn x1, #4095
	cmn w2, #4096
	cmn sp, #8
	cmn wsp, #1, lsl #12
	cmn x3, #-1
	cmn w4, #-4096
// ADD/SUB (shifted register), NEG, NEGS, CMP, CMN
	add x0, x1, x2
	add w0, w1, w2
	add x3, x4, x5, lsl #0
	add x3, x4, x5, lsl #1
	add x3, x4, x5, lsl #63
	add w3, w4, w5, lsl #0
	add w3, w4, w5, lsl #31
	add x3, x4, x5, lsr #0
	add x3, x4, x5, lsr #1
	add x3, x4, x5, lsr #63
	add w3, w4, w5, lsr #0
	add w3, w4, w5, lsr #31
	add x3, x4, x5, asr #0
	add x3, x4, x5, asr #1
	add x3, x4, x5, asr #63
	add w3, w4, w5, asr #0
	add w3, w4, w5, asr #31
	add xzr, x1, x2
	add x0, xzr, x2
	add x0, x1, xzr
	adds x0, x1, x2
	adds w0, w1, w2
	adds x3, x4, x5, lsl #0
	adds x3, x4, x5, lsl #1
	adds x3, x4, x5, lsl #63
	adds w3, w4, w5, lsl #0
	adds w3, w4, w5, lsl #31
	adds x3, x4, x5, lsr #0
	adds x3, x4, x5, lsr #1
	adds x3, x4, x5, lsr #63
	adds w3, w4, w5, lsr #0
	adds w3, w4, w5, lsr #31
	adds x3, x4, x5, asr #0
	adds x3, x4, x5, asr #1
	adds x3, x4, x5, asr #63
	adds w3, w4, w5, asr #0
	adds w3, w4, w5, asr #31
	adds xzr, x1, x2
	adds x0, xzr, x2
	adds x0, x1, xzr
	sub x0, x1, x2
	sub w0, w1, w2
	sub x3, x4, x5, lsl #0
	sub x3, x4, x5, lsl #1
	sub x3, x4, x5, lsl #63
	sub w3, w4, w5, lsl #0
	sub w3, w4, w5, lsl #31
	sub x3, x4, x5, lsr #0
	sub x3, x4, x5, lsr #1
	sub x3, x4, x5, lsr #63
	sub w3, w4, w5, lsr #0
	sub w3, w4, w5, lsr #31
	sub x3, x4, x5, asr #0
	sub x3, x4, x5, asr #1
	sub x3, x4, x5, asr #63
	sub w3, w4, w5, asr #0
	sub w3, w4, w5, asr #31
	sub xzr, x1, x2
	sub x0, xzr, x2
	sub x0, x1, xzr
	subs x0, x1, x2
	subs w0, w1, w2
	subs x3, x4, x5, lsl #0
	subs x3, x4, x5, lsl #1
	subs x3, x4, x5, lsl #63
	subs w3, w4, w5, lsl #0
	subs w3, w4, w5, lsl #31
	subs x3, x4, x5, lsr #0
	subs x3, x4, x5, lsr #1
	subs x3, x4, x5, lsr #63
	subs w3, w4, w5, lsr #0
	subs w3, w4, w5, lsr #31
	subs x3, x4, x5, asr #0
	subs x3, x4, x5, asr #1
	subs x3, x4, x5, asr #63
	subs w3, w4, w5, asr #0
	subs w3, w4, w5, asr #31
	subs xzr, x1, x2
	subs x0, xzr, x2
	subs x0, x1, xzr
	neg x0, x1
	neg w0, w1
	neg x0, x1, lsl #3
	neg w0, w1, asr #31
	neg x2, x3, lsr #63
	neg xzr, x3
	negs x0, x1
	negs w0, w1
	negs x0, x1, lsl #3
	negs w0, w1, asr #31
	negs x2, x3, lsr #63
	negs xzr, x3
	cmp x0, x1
	cmp w0, w1, lsl #4
	cmp x2, x3, asr #63
	cmp xzr, x3
	cmn x0, x1
	cmn w0, w1, lsl #4
	cmn x2, x3, asr #63
	cmn xzr, x3
// ADD/SUB (extended register), every extend, amounts 0 to 4, SP operands
	add x0, x1, w2, uxtb
	add x0, x1, w2, uxtb #4
	add w0, w1, w2, uxtb #2
	add x0, x1, w2, uxth
	add x0, x1, w2, uxth #4
	add w0, w1, w2, uxth #2
	add x0, x1, w2, uxtw
	add x0, x1, w2, uxtw #4
	add w0, w1, w2, uxtw #2
	add x0, x1, x2, uxtx
	add x0, x1, x2, uxtx #4
	add w0, w1, w2, uxtx #2
	add x0, x1, w2, sxtb
	add x0, x1, w2, sxtb #4
	add w0, w1, w2, sxtb #2
	add x0, x1, w2, sxth
	add x0, x1, w2, sxth #4
	add w0, w1, w2, sxth #2
	add x0, x1, w2, sxtw
	add x0, x1, w2, sxtw #4
	add w0, w1, w2, sxtw #2
	add x0, x1, x2, sxtx
	add x0, x1, x2, sxtx #4
	add w0, w1, w2, sxtx #2
	adds x0, x1, w2, uxtb
	adds x0, x1, w2, uxtb #4
	adds w0, w1, w2, uxtb #2
	adds x0, x1, w2, uxth
	adds x0, x1, w2, uxth #4
	adds w0, w1, w2, uxth #2
	adds x0, x1, w2, uxtw
	adds x0, x1, w2, uxtw #4
	adds w0, w1, w2, uxtw #2
	adds x0, x1, x2, uxtx
	adds x0, x1, x2, uxtx #4
	adds w0, w1, w2, uxtx #2
	adds x0, x1, w2, sxtb
	adds x0, x1, w2, sxtb #4
	adds w0, w1, w2, sxtb #2
	adds x0, x1, w2, sxth
	adds x0, x1, w2, sxth #4
	adds w0, w1, w2, sxth #2
	adds x0, x1, w2, sxtw
	adds x0, x1, w2, sxtw #4
	adds w0, w1, w2, sxtw #2
	adds x0, x1, x2, sxtx
	adds x0, x1, x2, sxtx #4
	adds w0, w1, w2, sxtx #2
	sub x0, x1, w2, uxtb
	sub x0, x1, w2, uxtb #4
	sub w0, w1, w2, uxtb #2
	sub x0, x1, w2, uxth
	sub x0, x1, w2, uxth #4
	sub w0, w1, w2, uxth #2
	sub x0, x1, w2, uxtw
	sub x0, x1, w2, uxtw #4
	sub w0, w1, w2, uxtw #2
	sub x0, x1, x2, uxtx
	sub x0, x1, x2, uxtx #4
	sub w0, w1, w2, uxtx #2
	sub x0, x1, w2, sxtb
	sub x0, x1, w2, sxtb #4
	sub w0, w1, w2, sxtb #2
	sub x0, x1, w2, sxth
	sub x0, x1, w2, sxth #4
	sub w0, w1, w2, sxth #2
	sub x0, x1, w2, sxtw
	sub x0, x1, w2, sxtw #4
	sub w0, w1, w2, sxtw #2
	sub x0, x1, x2, sxtx
	sub x0, x1, x2, sxtx #4
	sub w0, w1, w2, sxtx #2
	subs x0, x1, w2, uxtb
	subs x0, x1, w2, uxtb #4
	subs w0, w1, w2, uxtb #2
	subs x0, x1, w2, uxth
	subs x0, x1, w2, uxth #4
	subs w0, w1, w2, uxth #2
	subs x0, x1, w2, uxtw
	subs x0, x1, w2, uxtw #4
	subs w0, w1, w2, uxtw #2
	subs x0, x1, x2, uxtx
	subs x0, x1, x2, uxtx #4
	subs w0, w1, w2, uxtx #2
	subs x0, x1, w2, sxtb
	subs x0, x1, w2, sxtb #4
	subs w0, w1, w2, sxtb #2
	subs x0, x1, w2, sxth
	subs x0, x1, w2, sxth #4
	subs w0, w1, w2, sxth #2
	subs x0, x1, w2, sxtw
	subs x0, x1, w2, sxtw #4
	subs w0, w1, w2, sxtw #2
	subs x0, x1, x2, sxtx
	subs x0, x1, x2, sxtx #4
	subs w0, w1, w2, sxtx #2
	add x0, sp, x2
	add sp, x0, x2
	add sp, sp, x2, lsl #3
	add x0, sp, x2, uxtx #2
	add x0, sp, w2, uxtw
	add w0, wsp, w2
	add wsp, w1, w2, lsl #1
	add w0, wsp, w2, uxtw #4
	add x0, x1, x2, uxtx #0
	adds x0, sp, x2, lsl #1
	subs x0, sp, w2, sxtw #3
	sub sp, sp, x9
	cmp sp, x1
	cmp sp, x1, lsl #4
	cmn sp, w1, uxtw #2
	cmp x0, w1, uxtb
	cmp w0, w1, sxth #1
	cmn x5, x6, sxtx #4
	cmp wsp, w1
// ADC, SBC, NGC, CCMP, CCMN
	adc x0, x1, x2
	adcs w0, w1, w2
	sbc x0, x1, x2
	sbcs w0, w1, wzr
	ngc x0, x1
	ngcs w0, w1
	ccmp x0, x1, #4, eq
	ccmp w0, #31, #15, ne
	ccmn x0, #0, #0, hs
	ccmn w0, w1, #8, al
	ccmp x1, x2, #0, nv
	ccmp x1, x2, #2, lt
// Logical (immediate): bitmask immediates of every element size, TST
	and x0, x1, #0x5555555555555555
	and x0, x1, #0xaaaaaaaaaaaaaaaa
	and x0, x1, #0x3333333333333333
	and x0, x1, #0x1111111111111111
	and x0, x1, #0xeeeeeeeeeeeeeeee
	and x0, x1, #0x0101010101010101
	and x0, x1, #0x7f7f7f7f7f7f7f7f
	and x0, x1, #0xc0c0c0c0c0c0c0c0
	and x0, x1, #0x00ff00ff00ff00ff
	and x0, x1, #0x0ff00ff00ff00ff0
	and x0, x1, #0x0000ffff0000ffff
	and x0, x1, #0xfffe0000fffe0000
	and x0, x1, #0x00000000ffffffff
	and x0, x1, #0xffffffff00000001
	and x0, x1, #0x0000000000000001
	and x0, x1, #0x7fffffffffffffff
	and x0, x1, #0xfffffffffffffffe
	and x0, x1, #0x8000000000000000
	and x0, x1, #0x0000000000ffff00
	and x0, x1, #0xf00000000000000f
	and w0, w1, #0x55555555
	and w0, w1, #0x33333333
	and w0, w1, #0x0f0f0f0f
	and w0, w1, #0x00ff00ff
	and w0, w1, #0xff0000ff
	and w0, w1, #0x0000ffff
	and w0, w1, #0x7fffffff
	and w0, w1, #0xfffffffe
	and w0, w1, #0x80000000
	and w0, w1, #0x00000001
	and w0, w1, #0x3ffffffc
	orr x0, x1, #0x5555555555555555
	orr x0, x1, #0xaaaaaaaaaaaaaaaa
	orr x0, x1, #0x3333333333333333
	orr x0, x1, #0x1111111111111111
	orr x0, x1, #0xeeeeeeeeeeeeeeee
	orr x0, x1, #0x0101010101010101
	orr x0, x1, #0x7f7f7f7f7f7f7f7f
	orr x0, x1, #0xc0c0c0c0c0c0c0c0
	orr x0, x1, #0x00ff00ff00ff00ff
	orr x0, x1, #0x0ff00ff00ff00ff0
	orr w0, w1, #0x55555555
	orr w0, w1, #0x33333333
	orr w0, w1, #0x0f0f0f0f
	orr w0, w1, #0x00ff00ff
	orr w0, w1, #0xff0000ff
	orr w0, w1, #0x0000ffff
	eor x0, x1, #0x5555555555555555
	eor x0, x1, #0xaaaaaaaaaaaaaaaa
	eor x0, x1, #0x3333333333333333
	eor x0, x1, #0x1111111111111111
	eor x0, x1, #0xeeeeeeeeeeeeeeee
	eor x0, x1, #0x0101010101010101
	eor x0, x1, #0x7f7f7f7f7f7f7f7f
	eor x0, x1, #0xc0c0c0c0c0c0c0c0
	eor x0, x1, #0x00ff00ff00ff00ff
	eor x0, x1, #0x0ff00ff00ff00ff0
	eor w0, w1, #0x55555555
	eor w0, w1, #0x33333333
	eor w0, w1, #0x0f0f0f0f
	eor w0, w1, #0x00ff00ff
	eor w0, w1, #0xff0000ff
	eor w0, w1, #0x0000ffff
	ands x0, x1, #0x5555555555555555
	ands x0, x1, #0xaaaaaaaaaaaaaaaa
	ands x0, x1, #0x3333333333333333
	ands x0, x1, #0x1111111111111111
	ands x0, x1, #0xeeeeeeeeeeeeeeee
	ands x0, x1, #0x0101010101010101
	ands x0, x1, #0x7f7f7f7f7f7f7f7f
	ands x0, x1, #0xc0c0c0c0c0c0c0c0
	ands x0, x1, #0x00ff00ff00ff00ff
	ands x0, x1, #0x0ff00ff00ff00ff0
	ands w0, w1, #0x55555555
	ands w0, w1, #0x33333333
	ands w0, w1, #0x0f0f0f0f
	ands w0, w1, #0x00ff00ff
	ands w0, w1, #0xff0000ff
	ands w0, w1, #0x0000ffff
	and sp, x1, #0xff
	orr wsp, w1, #1
	eor sp, xzr, #0xf0
	orr x0, xzr, #0xff
	orr w0, wzr, #0xffff
	orr x0, xzr, #0xffff0000ffff0000
	ands xzr, x1, #1
	tst x0, #0x8000000000000000
	tst w0, #0x7
	tst x3, #0x5555555555555555
	bic x0, x1, #0xff
	bic w0, w1, #1
// Logical (shifted register), MVN, TST
	and x0, x1, x2
	and w0, w1, w2
	and x3, x4, x5, lsl #63
	and w3, w4, w5, lsl #0
	and x3, x4, x5, lsr #63
	and w3, w4, w5, lsr #0
	and x3, x4, x5, asr #63
	and w3, w4, w5, asr #0
	and x3, x4, x5, ror #63
	and w3, w4, w5, ror #0
	orr x0, x1, x2
	orr w0, w1, w2
	orr x3, x4, x5, lsl #63
	orr w3, w4, w5, lsl #0
	orr x3, x4, x5, lsr #63
	orr w3, w4, w5, lsr #0
	orr x3, x4, x5, asr #63
	orr w3, w4, w5, asr #0
	orr x3, x4, x5, ror #63
	orr w3, w4, w5, ror #0
	eor x0, x1, x2
	eor w0, w1, w2
	eor x3, x4, x5, lsl #63
	eor w3, w4, w5, lsl #0
	eor x3, x4, x5, lsr #63
	eor w3, w4, w5, lsr #0
	eor x3, x4, x5, asr #63
	eor w3, w4, w5, asr #0
	eor x3, x4, x5, ror #63
	eor w3, w4, w5, ror #0
	ands x0, x1, x2
	ands w0, w1, w2
	ands x3, x4, x5, lsl #63
	ands w3, w4, w5, lsl #0
	ands x3, x4, x5, lsr #63
	ands w3, w4, w5, lsr #0
	ands x3, x4, x5, asr #63
	ands w3, w4, w5, asr #0
	ands x3, x4, x5, ror #63
	ands w3, w4, w5, ror #0
	bic x0, x1, x2
	bic w0, w1, w2
	bic x3, x4, x5, lsl #63
	bic w3, w4, w5, lsl #0
	bic x3, x4, x5, lsr #63
	bic w3, w4, w5, lsr #0
	bic x3, x4, x5, asr #63
	bic w3, w4, w5, asr #0
	bic x3, x4, x5, ror #63
	bic w3, w4, w5, ror #0
	bics x0, x1, x2
	bics w0, w1, w2
	bics x3, x4, x5, lsl #63
	bics w3, w4, w5, lsl #0
	bics x3, x4, x5, lsr #63
	bics w3, w4, w5, lsr #0
	bics x3, x4, x5, asr #63
	bics w3, w4, w5, asr #0
	bics x3, x4, x5, ror #63
	bics w3, w4, w5, ror #0
	orn x0, x1, x2
	orn w0, w1, w2
	orn x3, x4, x5, lsl #63
	orn w3, w4, w5, lsl #0
	orn x3, x4, x5, lsr #63
	orn w3, w4, w5, lsr #0
	orn x3, x4, x5, asr #63
	orn w3, w4, w5, asr #0
	orn x3, x4, x5, ror #63
	orn w3, w4, w5, ror #0
	eon x0, x1, x2
	eon w0, w1, w2
	eon x3, x4, x5, lsl #63
	eon w3, w4, w5, lsl #0
	eon x3, x4, x5, lsr #63
	eon w3, w4, w5, lsr #0
	eon x3, x4, x5, asr #63
	eon w3, w4, w5, asr #0
	eon x3, x4, x5, ror #63
	eon w3, w4, w5, ror #0
	orr x0, xzr, x1, lsl #1
	orr x0, xzr, x1, lsr #0
	orn x0, xzr, x1
	mvn x0, x1
	mvn w0, w1, ror #31
	mvn x0, x1, lsl #0
	tst x0, x1
	tst w0, w1, lsr #3
	tst x0, x1, ror #63
	ands xzr, x1, x2
	bics wzr, w1, w2
// Shifts: LSL, LSR, ASR, ROR by immediate and by register
	lsl x0, x1, #0
	lsl x0, x1, #1
	lsl x0, x1, #32
	lsl x0, x1, #63
	lsl w0, w1, #0
	lsl w0, w1, #1
	lsl w0, w1, #31
	lsl x0, x1, x2
	lsl w0, w1, w2
	lslv x3, x4, x5
	lslv w3, w4, w5
	lsr x0, x1, #0
	lsr x0, x1, #1
	lsr x0, x1, #32
	lsr x0, x1, #63
	lsr w0, w1, #0
	lsr w0, w1, #1
	lsr w0, w1, #31
	lsr x0, x1, x2
	lsr w0, w1, w2
	lsrv x3, x4, x5
	lsrv w3, w4, w5
	asr x0, x1, #0
	asr x0, x1, #1
	asr x0, x1, #32
	asr x0, x1, #63
	asr w0, w1, #0
	asr w0, w1, #1
	asr w0, w1, #31
	asr x0, x1, x2
	asr w0, w1, w2
	asrv x3, x4, x5
	asrv w3, w4, w5
	ror x0, x1, #0
	ror x0, x1, #1
	ror x0, x1, #32
	ror x0, x1, #63
	ror w0, w1, #0
	ror w0, w1, #1
	ror w0, w1, #31
	ror x0, x1, x2
	ror w0, w1, w2
	rorv x3, x4, x5
	rorv w3, w4, w5
// Bitfield moves and their aliases
	ubfm x0, x1, #3, #7
	ubfm x0, x1, #0, #63
	ubfm w0, w1, #31, #30
	ubfm x0, x1, #0, #7
	ubfm x0, x1, #0, #15
	ubfm x0, x1, #0, #31
	ubfm w0, w1, #0, #7
	ubfm w0, w1, #0, #15
	ubfm x0, x1, #63, #0
	sbfm x0, x1, #10, #2
	sbfm x0, x1, #0, #7
	sbfm x0, x1, #0, #15
	sbfm x0, x1, #0, #31
	sbfm w0, w1, #0, #7
	sbfm w0, w1, #0, #15
	sbfm w0, w1, #0, #31
	sbfm x0, x1, #0, #63
	sbfm x0, x1, #1, #1
	bfm x0, x1, #10, #2
	bfm x0, x1, #2, #10
	bfm w0, w1, #0, #31
	bfm x0, xzr, #10, #2
	bfm x0, xzr, #2, #10
	ubfx x0, x1, #3, #5
	ubfx x0, x1, #0, #64
	ubfx w0, w1, #31, #1
	ubfx x0, x1, #63, #1
	sbfx x0, x1, #60, #4
	sbfx w0, w1, #0, #32
	sbfx x0, x1, #1, #63
	bfxil x0, x1, #4, #8
	bfxil w0, w1, #0, #32
	ubfiz x0, x1, #4, #8
	ubfiz w0, w1, #4, #28
	ubfiz x0, x1, #63, #1
	sbfiz x0, x1, #10, #2
	sbfiz w0, w1, #1, #31
	bfi x0, x1, #4, #8
	bfi w0, w1, #31, #1
	bfi x0, x1, #1, #63
	bfi x0, xzr, #54, #3
	uxtb w0, w1
	uxth w0, w1
	uxtb x0, w1
	sxtb x0, w1
	sxtb w0, w1
	sxth x0, w1
	sxth w0, w1
	sxtw x0, w1
	sxtw x30, wzr
// EXTR and ROR (immediate)
	extr x0, x1, x2, #0
	extr x0, x1, x2, #63
	extr w0, w1, w2, #31
	extr x0, x1, x1, #5
	extr w0, w1, w1, #0
// Multiply and divide
	mul x0, x1, x2
	mul w0, w1, w2
	madd x0, x1, x2, x3
	madd w0, w1, w2, wzr
	msub x0, x1, x2, x3
	msub w0, w1, w2, w3
	mneg x0, x1, x2
	mneg w0, w1, w2
	udiv x0, x1, x2
	udiv w0, w1, w2
	sdiv x0, x1, x2
	sdiv w0, w1, w2
	smull x0, w1, w2
	umull x0, w1, w2
	smaddl x0, w1, w2, x3
	umaddl x0, w1, w2, x3
	smsubl x0, w1, w2, x3
	umsubl x0, w1, w2, x3
	smnegl x0, w1, w2
	umnegl x0, w1, w2
	smulh x0, x1, x2
	umulh x0, x1, x2
// Conditional select and its aliases, every condition
	csel x0, x1, x2, eq
	csel x0, x1, x2, ne
	csel x0, x1, x2, cs
	csel x0, x1, x2, hs
	csel x0, x1, x2, cc
	csel x0, x1, x2, lo
	csel x0, x1, x2, mi
	csel x0, x1, x2, pl
	csel x0, x1, x2, vs
	csel x0, x1, x2, vc
	csel x0, x1, x2, hi
	csel x0, x1, x2, ls
	csel x0, x1, x2, ge
	csel x0, x1, x2, lt
	csel x0, x1, x2, gt
	csel x0, x1, x2, le
	csel x0, x1, x2, al
	csel x0, x1, x2, nv
	csinc x0, x1, x2, eq
	csinc w0, w1, w2, hi
	csinc x0, x1, x1, ne
	csinc x0, x1, x1, al
	csinc x0, xzr, xzr, lt
	csinc w0, wzr, wzr, nv
	csinv x0, x1, x2, eq
	csinv w0, w1, w2, hi
	csinv x0, x1, x1, ne
	csinv x0, x1, x1, al
	csinv x0, xzr, xzr, lt
	csinv w0, wzr, wzr, nv
	csneg x0, x1, x2, eq
	csneg w0, w1, w2, hi
	csneg x0, x1, x1, ne
	csneg x0, x1, x1, al
	csneg x0, xzr, xzr, lt
	csneg w0, wzr, wzr, nv
	cset x0, eq
	cset x0, ne
	cset x0, cs
	cset x0, hs
	cset x0, cc
	cset x0, lo
	cset x0, mi
	cset x0, pl
	cset x0, vs
	cset x0, vc
	cset x0, hi
	cset x0, ls
	cset x0, ge
	cset x0, lt
	cset x0, gt
	cset x0, le
	cset w0, ne
	csetm x0, ge
	csetm w0, lo
	cinc x0, x1, mi
	cinc w0, w1, vs
	cinv x0, x1, gt
	cinv w0, w1, le
	cneg x0, x1, pl
	cneg w0, w1, cc
// CLZ, CLS, RBIT, REV, REV16, REV32
	clz x0, x1
	clz w0, w1
	cls x0, x1
	cls w0, w1
	rbit x0, x1
	rbit w0, w1
	rev x0, x1
	rev w0, w1
	rev16 x0, x1
	rev16 w0, w1
	rev32 x0, x1
// Loads and stores: unsigned offset, LDUR fallback, pre- and post-index
	ldr x0, [x1]
	ldr x0, [x1, #8]
	ldr x2, [sp, #32760]
	ldr x0, [x1, #-1]
	ldr x0, [x1, #-256]
	ldr x0, [x1, #255]
	ldr x0, [x1, #9]
	ldr x3, [x4, #-256]!
	ldr x3, [x4, #255]!
	ldr x3, [sp, #0]!
	ldr x5, [x6], #-256
	ldr x5, [x6], #255
	ldr x5, [sp], #0
	str x0, [x1]
	str x0, [x1, #8]
	str x2, [sp, #32760]
	str x0, [x1, #-1]
	str x0, [x1, #-256]
	str x0, [x1, #255]
	str x0, [x1, #9]
	str x3, [x4, #-256]!
	str x3, [x4, #255]!
	str x3, [sp, #0]!
	str x5, [x6], #-256
	str x5, [x6], #255
	str x5, [sp], #0
	ldr w0, [x1]
	ldr w0, [x1, #4]
	ldr w2, [sp, #16380]
	ldr w0, [x1, #-1]
	ldr w0, [x1, #-256]
	ldr w0, [x1, #255]
	ldr w0, [x1, #5]
	ldr w3, [x4, #-256]!
	ldr w3, [x4, #255]!
	ldr w3, [sp, #0]!
	ldr w5, [x6], #-256
	ldr w5, [x6], #255
	ldr w5, [sp], #0
	str w0, [x1]
	str w0, [x1, #4]
	str w2, [sp, #16380]
	str w0, [x1, #-1]
	str w0, [x1, #-256]
	str w0, [x1, #255]
	str w0, [x1, #5]
	str w3, [x4, #-256]!
	str w3, [x4, #255]!
	str w3, [sp, #0]!
	str w5, [x6], #-256
	str w5, [x6], #255
	str w5, [sp], #0
	ldrb w0, [x1]
	ldrb w0, [x1, #1]
	ldrb w2, [sp, #4095]
	ldrb w0, [x1, #-1]
	ldrb w0, [x1, #-256]
	ldrb w0, [x1, #255]
	ldrb w3, [x4, #-256]!
	ldrb w3, [x4, #255]!
	ldrb w3, [sp, #0]!
	ldrb w5, [x6], #-256
	ldrb w5, [x6], #255
	ldrb w5, [sp], #0
	strb w0, [x1]
	strb w0, [x1, #1]
	strb w2, [sp, #4095]
	strb w0, [x1, #-1]
	strb w0, [x1, #-256]
	strb w0, [x1, #255]
	strb w3, [x4, #-256]!
	strb w3, [x4, #255]!
	strb w3, [sp, #0]!
	strb w5, [x6], #-256
	strb w5, [x6], #255
	strb w5, [sp], #0
	ldrh w0, [x1]
	ldrh w0, [x1, #2]
	ldrh w2, [sp, #8190]
	ldrh w0, [x1, #-1]
	ldrh w0, [x1, #-256]
	ldrh w0, [x1, #255]
	ldrh w0, [x1, #3]
	ldrh w3, [x4, #-256]!
	ldrh w3, [x4, #255]!
	ldrh w3, [sp, #0]!
	ldrh w5, [x6], #-256
	ldrh w5, [x6], #255
	ldrh w5, [sp], #0
	strh w0, [x1]
	strh w0, [x1, #2]
	strh w2, [sp, #8190]
	strh w0, [x1, #-1]
	strh w0, [x1, #-256]
	strh w0, [x1, #255]
	strh w0, [x1, #3]
	strh w3, [x4, #-256]!
	strh w3, [x4, #255]!
	strh w3, [sp, #0]!
	strh w5, [x6], #-256
	strh w5, [x6], #255
	strh w5, [sp], #0
	ldrsb x0, [x1]
	ldrsb x0, [x1, #1]
	ldrsb x2, [sp, #4095]
	ldrsb x0, [x1, #-1]
	ldrsb x0, [x1, #-256]
	ldrsb x0, [x1, #255]
	ldrsb x3, [x4, #-256]!
	ldrsb x3, [x4, #255]!
	ldrsb x3, [sp, #0]!
	ldrsb x5, [x6], #-256
	ldrsb x5, [x6], #255
	ldrsb x5, [sp], #0
	ldrsb w0, [x1]
	ldrsb w0, [x1, #1]
	ldrsb w2, [sp, #4095]
	ldrsb w0, [x1, #-1]
	ldrsb w0, [x1, #-256]
	ldrsb w0, [x1, #255]
	ldrsb w3, [x4, #-256]!
	ldrsb w3, [x4, #255]!
	ldrsb w3, [sp, #0]!
	ldrsb w5, [x6], #-256
	ldrsb w5, [x6], #255
	ldrsb w5, [sp], #0
	ldrsh x0, [x1]
	ldrsh x0, [x1, #2]
	ldrsh x2, [sp, #8190]
	ldrsh x0, [x1, #-1]
	ldrsh x0, [x1, #-256]
	ldrsh x0, [x1, #255]
	ldrsh x0, [x1, #3]
	ldrsh x3, [x4, #-256]!
	ldrsh x3, [x4, #255]!
	ldrsh x3, [sp, #0]!
	ldrsh x5, [x6], #-256
	ldrsh x5, [x6], #255
	ldrsh x5, [sp], #0
	ldrsh w0, [x1]
	ldrsh w0, [x1, #2]
	ldrsh w2, [sp, #8190]
	ldrsh w0, [x1, #-1]
	ldrsh w0, [x1, #-256]
	ldrsh w0, [x1, #255]
	ldrsh w0, [x1, #3]
	ldrsh w3, [x4, #-256]!
	ldrsh w3, [x4, #255]!
	ldrsh w3, [sp, #0]!
	ldrsh w5, [x6], #-256
	ldrsh w5, [x6], #255
	ldrsh w5, [sp], #0
	ldrsw x0, [x1]
	ldrsw x0, [x1, #4]
	ldrsw x2, [sp, #16380]
	ldrsw x0, [x1, #-1]
	ldrsw x0, [x1, #-256]
	ldrsw x0, [x1, #255]
	ldrsw x0, [x1, #5]
	ldrsw x3, [x4, #-256]!
	ldrsw x3, [x4, #255]!
	ldrsw x3, [sp, #0]!
	ldrsw x5, [x6], #-256
	ldrsw x5, [x6], #255
	ldrsw x5, [sp], #0
	ldr xzr, [x0]
	str wzr, [sp, #4]
	ldr x0, [x1, #:lo12:data_quad]
	ldr w0, [x1, :lo12:data_word]
	ldrb w0, [x1, :lo12:data_byte]
	ldrh w0, [x1, #:lo12:data_half]
	str x0, [x1, :lo12:data_quad]
	ldrsw x0, [x1, :lo12:data_word]
// LDUR and STUR
	ldur x0, [x1]
	ldur x0, [x1, #-256]
	ldur x0, [sp, #255]
	ldur x0, [x1, #8]
	stur x0, [x1]
	stur x0, [x1, #-256]
	stur x0, [sp, #255]
	stur x0, [x1, #8]
	ldur w0, [x1]
	ldur w0, [x1, #-256]
	ldur w0, [sp, #255]
	ldur w0, [x1, #8]
	stur w0, [x1]
	stur w0, [x1, #-256]
	stur w0, [sp, #255]
	stur w0, [x1, #8]
	ldurb w0, [x1]
	ldurb w0, [x1, #-256]
	ldurb w0, [sp, #255]
	ldurb w0, [x1, #8]
	sturb w0, [x1]
	sturb w0, [x1, #-256]
	sturb w0, [sp, #255]
	sturb w0, [x1, #8]
	ldurh w0, [x1]
	ldurh w0, [x1, #-256]
	ldurh w0, [sp, #255]
	ldurh w0, [x1, #8]
	sturh w0, [x1]
	sturh w0, [x1, #-256]
	sturh w0, [sp, #255]
	sturh w0, [x1, #8]
	ldursb x0, [x1]
	ldursb x0, [x1, #-256]
	ldursb x0, [sp, #255]
	ldursb x0, [x1, #8]
	ldursb w0, [x1]
	ldursb w0, [x1, #-256]
	ldursb w0, [sp, #255]
	ldursb w0, [x1, #8]
	ldursh x0, [x1]
	ldursh x0, [x1, #-256]
	ldursh x0, [sp, #255]
	ldursh x0, [x1, #8]
	ldursh w0, [x1]
	ldursh w0, [x1, #-256]
	ldursh w0, [sp, #255]
	ldursh w0, [x1, #8]
	ldursw x0, [x1]
	ldursw x0, [x1, #-256]
	ldursw x0, [sp, #255]
	ldursw x0, [x1, #8]
// Loads and stores: register offset, every extend
	ldr x0, [x1, x2]
	ldr x0, [x1, x2, lsl #3]
	ldr x0, [x1, x2, lsl #0]
	ldr x0, [sp, w2, uxtw]
	ldr x0, [x1, w2, uxtw #3]
	ldr x0, [x1, w2, sxtw]
	ldr x0, [x1, w2, sxtw #3]
	ldr x0, [x1, x2, sxtx]
	ldr x0, [x1, xzr, sxtx #3]
	ldr x0, [x1, w2, uxtw #0]
	str x0, [x1, x2]
	str x0, [x1, x2, lsl #3]
	str x0, [x1, x2, lsl #0]
	str x0, [sp, w2, uxtw]
	str x0, [x1, w2, uxtw #3]
	str x0, [x1, w2, sxtw]
	str x0, [x1, w2, sxtw #3]
	str x0, [x1, x2, sxtx]
	str x0, [x1, xzr, sxtx #3]
	str x0, [x1, w2, uxtw #0]
	ldr w0, [x1, x2]
	ldr w0, [x1, x2, lsl #2]
	ldr w0, [x1, x2, lsl #0]
	ldr w0, [sp, w2, uxtw]
	ldr w0, [x1, w2, uxtw #2]
	ldr w0, [x1, w2, sxtw]
	ldr w0, [x1, w2, sxtw #2]
	ldr w0, [x1, x2, sxtx]
	ldr w0, [x1, xzr, sxtx #2]
	ldr w0, [x1, w2, uxtw #0]
	str w0, [x1, x2]
	str w0, [x1, x2, lsl #2]
	str w0, [x1, x2, lsl #0]
	str w0, [sp, w2, uxtw]
	str w0, [x1, w2, uxtw #2]
	str w0, [x1, w2, sxtw]
	str w0, [x1, w2, sxtw #2]
	str w0, [x1, x2, sxtx]
	str w0, [x1, xzr, sxtx #2]
	str w0, [x1, w2, uxtw #0]
	ldrb w0, [x1, x2]
	ldrb w0, [x1, x2, lsl #0]
	ldrb w0, [sp, w2, uxtw]
	ldrb w0, [x1, w2, uxtw #0]
	ldrb w0, [x1, w2, sxtw]
	ldrb w0, [x1, w2, sxtw #0]
	ldrb w0, [x1, x2, sxtx]
	ldrb w0, [x1, xzr, sxtx #0]
	strb w0, [x1, x2]
	strb w0, [x1, x2, lsl #0]
	strb w0, [sp, w2, uxtw]
	strb w0, [x1, w2, uxtw #0]
	strb w0, [x1, w2, sxtw]
	strb w0, [x1, w2, sxtw #0]
	strb w0, [x1, x2, sxtx]
	strb w0, [x1, xzr, sxtx #0]
	ldrh w0, [x1, x2]
	ldrh w0, [x1, x2, lsl #1]
	ldrh w0, [x1, x2, lsl #0]
	ldrh w0, [sp, w2, uxtw]
	ldrh w0, [x1, w2, uxtw #1]
	ldrh w0, [x1, w2, sxtw]
	ldrh w0, [x1, w2, sxtw #1]
	ldrh w0, [x1, x2, sxtx]
	ldrh w0, [x1, xzr, sxtx #1]
	ldrh w0, [x1, w2, uxtw #0]
	strh w0, [x1, x2]
	strh w0, [x1, x2, lsl #1]
	strh w0, [x1, x2, lsl #0]
	strh w0, [sp, w2, uxtw]
	strh w0, [x1, w2, uxtw #1]
	strh w0, [x1, w2, sxtw]
	strh w0, [x1, w2, sxtw #1]
	strh w0, [x1, x2, sxtx]
	strh w0, [x1, xzr, sxtx #1]
	strh w0, [x1, w2, uxtw #0]
	ldrsb x0, [x1, x2]
	ldrsb x0, [x1, x2, lsl #0]
	ldrsb x0, [sp, w2, uxtw]
	ldrsb x0, [x1, w2, uxtw #0]
	ldrsb x0, [x1, w2, sxtw]
	ldrsb x0, [x1, w2, sxtw #0]
	ldrsb x0, [x1, x2, sxtx]
	ldrsb x0, [x1, xzr, sxtx #0]
	ldrsb w0, [x1, x2]
	ldrsb w0, [x1, x2, lsl #0]
	ldrsb w0, [sp, w2, uxtw]
	ldrsb w0, [x1, w2, uxtw #0]
	ldrsb w0, [x1, w2, sxtw]
	ldrsb w0, [x1, w2, sxtw #0]
	ldrsb w0, [x1, x2, sxtx]
	ldrsb w0, [x1, xzr, sxtx #0]
	ldrsh x0, [x1, x2]
	ldrsh x0, [x1, x2, lsl #1]
	ldrsh x0, [x1, x2, lsl #0]
	ldrsh x0, [sp, w2, uxtw]
	ldrsh x0, [x1, w2, uxtw #1]
	ldrsh x0, [x1, w2, sxtw]
	ldrsh x0, [x1, w2, sxtw #1]
	ldrsh x0, [x1, x2, sxtx]
	ldrsh x0, [x1, xzr, sxtx #1]
	ldrsh x0, [x1, w2, uxtw #0]
	ldrsh w0, [x1, x2]
	ldrsh w0, [x1, x2, lsl #1]
	ldrsh w0, [x1, x2, lsl #0]
	ldrsh w0, [sp, w2, uxtw]
	ldrsh w0, [x1, w2, uxtw #1]
	ldrsh w0, [x1, w2, sxtw]
	ldrsh w0, [x1, w2, sxtw #1]
	ldrsh w0, [x1, x2, sxtx]
	ldrsh w0, [x1, xzr, sxtx #1]
	ldrsh w0, [x1, w2, uxtw #0]
	ldrsw x0, [x1, x2]
	ldrsw x0, [x1, x2, lsl #2]
	ldrsw x0, [x1, x2, lsl #0]
	ldrsw x0, [sp, w2, uxtw]
	ldrsw x0, [x1, w2, uxtw #2]
	ldrsw x0, [x1, w2, sxtw]
	ldrsw x0, [x1, w2, sxtw #2]
	ldrsw x0, [x1, x2, sxtx]
	ldrsw x0, [x1, xzr, sxtx #2]
	ldrsw x0, [x1, w2, uxtw #0]
// Load literal
	ldr x0, back
	ldr w1, fwd
	ldrsw x2, back
	ldr x3, fwd
	ldr wzr, _start
// LDP, STP, LDPSW: offset, pre- and post-index
	ldp x0, x1, [x2]
	ldp x0, x1, [x2, #-512]
	ldp x0, x1, [sp, #504]
	ldp x3, x4, [x5, #-512]!
	ldp x3, x4, [sp, #504]!
	ldp x3, x4, [x5, #0]!
	ldp x6, x7, [x8], #-512
	ldp x6, x7, [x8], #504
	stp x0, x1, [x2]
	stp x0, x1, [x2, #-512]
	stp x0, x1, [sp, #504]
	stp x3, x4, [x5, #-512]!
	stp x3, x4, [sp, #504]!
	stp x3, x4, [x5, #0]!
	stp x6, x7, [x8], #-512
	stp x6, x7, [x8], #504
	ldp w0, w1, [x2]
	ldp w0, w1, [x2, #-256]
	ldp w0, w1, [sp, #252]
	ldp w3, w4, [x5, #-256]!
	ldp w3, w4, [sp, #252]!
	ldp w3, w4, [x5, #0]!
	ldp w6, w7, [x8], #-256
	ldp w6, w7, [x8], #252
	stp w0, w1, [x2]
	stp w0, w1, [x2, #-256]
	stp w0, w1, [sp, #252]
	stp w3, w4, [x5, #-256]!
	stp w3, w4, [sp, #252]!
	stp w3, w4, [x5, #0]!
	stp w6, w7, [x8], #-256
	stp w6, w7, [x8], #252
	ldpsw x0, x1, [x2]
	ldpsw x0, x1, [x2, #-256]
	ldpsw x0, x1, [sp, #252]
	ldpsw x3, x4, [x5, #-256]!
	ldpsw x3, x4, [sp, #252]!
	ldpsw x3, x4, [x5, #0]!
	ldpsw x6, x7, [x8], #-256
	ldpsw x6, x7, [x8], #252
	stp x29, x30, [sp, #-16]!
	ldp x29, x30, [sp], #16
	stp xzr, xzr, [sp, #16]
// Exclusive, acquire and release
	ldxr x0, [x1]
	ldxr w0, [x1, #0]
	ldxrb w0, [x1]
	ldxrh w0, [sp]
	ldaxr x0, [x1]
	ldaxr w0, [x1]
	ldaxrb w0, [x1]
	ldaxrh w0, [x1]
	stxr w3, x0, [x1]
	stxr w3, w0, [x1]
	stxrb w3, w0, [x1]
	stxrh w3, w0, [sp]
	stlxr w2, x0, [x1]
	stlxr w2, w0, [sp]
	stlxrb w2, w0, [x1]
	stlxrh wzr, w0, [x1]
	ldar x0, [x1]
	ldar w0, [sp]
	ldarb w0, [x1]
	ldarh w0, [x1]
	stlr x0, [x1]
	stlr w0, [x1, #0]
	stlrb w0, [x1]
	stlrh w0, [x1]
	ldxp x0, x1, [x2]
	ldxp w0, w1, [x2]
	ldaxp x0, x1, [sp]
	stxp w4, x0, x1, [x2]
	stxp w4, w0, w1, [x2]
	stlxp w4, x0, x1, [x2]
	clrex
	clrex #3
// Branches
back:
	b fwd
	b back
	bl fwd
	bl _start
	b.eq fwd
	b.eq back
	b.ne back
	b.cs back
	b.hs back
	b.cc back
	b.lo back
	b.mi back
	b.pl back
	b.vs back
	b.vc back
	b.hi back
	b.ls back
	b.ge back
	b.lt back
	b.gt back
	b.le back
	b.al back
	b.nv back
	beq fwd
	bne back
	bhs fwd
	blo fwd
	cbz x0, fwd
	cbz w1, back
	cbnz x2, fwd
	cbnz wzr, back
	tbz x0, #63, fwd
	tbz w0, #0, back
	tbz x1, #31, fwd
	tbnz x0, #32, fwd
	tbnz w5, #31, back
	tbnz xzr, #1, fwd
	br x0
	br x30
	blr x1
	blr xzr
	ret
	ret x3
	ret x30
	adr x0, fwd
	adr x1, back
	adr xzr, _start
	adrp x0, fwd
	adrp x1, data_word
	adrp x2, data_quad
	adrp x3, _start
fwd:
// Exceptions and hints
	svc #0
	svc #0xffff
	hvc #1
	hvc #0x8000
	smc #0
	smc #42
	brk #0
	brk #0x3e8
	hlt #0xf000
	hlt #0
	eret
	nop
	yield
	wfe
	wfi
	sev
	sevl
	hint #0
	hint #5
// Barriers
	dsb sy
	dmb sy
	dsb st
	dmb st
	dsb ld
	dmb ld
	dsb ish
	dmb ish
	dsb ishst
	dmb ishst
	dsb ishld
	dmb ishld
	dsb nsh
	dmb nsh
	dsb nshst
	dmb nshst
	dsb nshld
	dmb nshld
	dsb osh
	dmb osh
	dsb oshst
	dmb oshst
	dsb oshld
	dmb oshld
	dsb #0
	dmb #0
	dsb #4
	dmb #4
	dsb #8
	dmb #8
	dsb #12
	dmb #12
	dsb #15
	dmb #15
	dsb #0xb
	dmb #0xb
	isb
	isb sy
	isb #0
	isb #3
	ssbb
	pssbb
// PSTATE (MSR immediate)
	msr daifset, #2
	msr daifset, #0xf
	msr daifclr, #0
	msr daifclr, #15
	msr spsel, #0
	msr spsel, #1
// TLBI, DC, IC, AT
	tlbi vmalle1
	tlbi vmalle1is
	tlbi vae1, x3
	tlbi vae1is, x4
	tlbi aside1, x3
	tlbi aside1is, x4
	tlbi vaae1, x3
	tlbi vaae1is, x4
	tlbi vale1, x3
	tlbi vale1is, x4
	tlbi vaale1, x3
	tlbi vaale1is, x4
	tlbi ipas2e1, x3
	tlbi ipas2e1is, x4
	tlbi ipas2le1, x3
	tlbi ipas2le1is, x4
	tlbi alle2
	tlbi alle2is
	tlbi vae2, x3
	tlbi vae2is, x4
	tlbi alle1
	tlbi alle1is
	tlbi vale2, x3
	tlbi vale2is, x4
	tlbi vmalls12e1
	tlbi vmalls12e1is
	tlbi alle3
	tlbi alle3is
	tlbi vae3, x3
	tlbi vae3is, x4
	tlbi vale3, x3
	tlbi vale3is, x4
	tlbi vae1, xzr
	dc ivac, x5
	dc isw, x5
	dc csw, x5
	dc cisw, x5
	dc zva, x5
	dc cvac, x5
	dc cvau, x5
	dc civac, x5
	ic iallu
	ic ialluis
	ic ivau, x6
	at s1e1r, x7
	at s1e1w, x7
	at s1e0r, x7
	at s1e0w, x7
	at s12e1r, x7
	at s12e1w, x7
	at s12e0r, x7
	at s12e0w, x7
	at s1e2r, x7
	at s1e2w, x7
	at s1e3r, x7
	at s1e3w, x7
// SYS and SYSL
	sys #0, c8, c7, #0
	sys #0, c8, c7, #0, x1
	sys #3, c7, c5, #1, x2
	sys #0, c1, c2, #3
	sys #7, c15, c15, #7, x1
	sys #1, c0, c0, #0, xzr
	sysl x0, #0, c1, c2, #3
	sysl xzr, #7, c15, c15, #7
// MRS and MSR by name (reads of write-only and writes of read-only registers left out)
	mrs x0, midr_el1
	mrs x1, mpidr_el1
	mrs x2, revidr_el1
	mrs x3, id_aa64pfr0_el1
	mrs x4, id_aa64pfr1_el1
	mrs x5, id_aa64dfr0_el1
	mrs x6, id_aa64dfr1_el1
	mrs x7, id_aa64isar0_el1
	mrs x8, id_aa64isar1_el1
	mrs x9, id_aa64mmfr0_el1
	mrs x10, id_aa64mmfr1_el1
	mrs x11, id_aa64mmfr2_el1
	mrs x12, ccsidr_el1
	mrs x13, clidr_el1
	mrs x14, aidr_el1
	mrs x15, csselr_el1
	msr csselr_el1, x22
	mrs x16, ctr_el0
	mrs x17, dczid_el0
	mrs x18, vpidr_el2
	msr vpidr_el2, x25
	mrs x19, vmpidr_el2
	msr vmpidr_el2, x26
	mrs x20, sctlr_el1
	msr sctlr_el1, x27
	mrs x21, actlr_el1
	msr actlr_el1, x28
	mrs x22, cpacr_el1
	msr cpacr_el1, x29
	mrs x23, sctlr_el2
	msr sctlr_el2, x30
	mrs x24, actlr_el2
	msr actlr_el2, x0
	mrs x25, hcr_el2
	msr hcr_el2, x1
	mrs x26, mdcr_el2
	msr mdcr_el2, x2
	mrs x27, cptr_el2
	msr cptr_el2, x3
	mrs x28, hstr_el2
	msr hstr_el2, x4
	mrs x29, hacr_el2
	msr hacr_el2, x5
	mrs x30, sctlr_el3
	msr sctlr_el3, x6
	mrs x0, scr_el3
	msr scr_el3, x7
	mrs x1, ttbr0_el1
	msr ttbr0_el1, x8
	mrs x2, ttbr1_el1
	msr ttbr1_el1, x9
	mrs x3, tcr_el1
	msr tcr_el1, x10
	mrs x4, ttbr0_el2
	msr ttbr0_el2, x11
	mrs x6, tcr_el2
	msr tcr_el2, x13
	mrs x7, vttbr_el2
	msr vttbr_el2, x14
	mrs x8, vtcr_el2
	msr vtcr_el2, x15
	mrs x9, ttbr0_el3
	msr ttbr0_el3, x16
	mrs x10, tcr_el3
	msr tcr_el3, x17
	mrs x11, spsr_el1
	msr spsr_el1, x18
	mrs x12, elr_el1
	msr elr_el1, x19
	mrs x13, sp_el0
	msr sp_el0, x20
	mrs x14, spsel
	msr spsel, x21
	mrs x15, currentel
	mrs x18, icc_pmr_el1
	msr icc_pmr_el1, x25
	mrs x19, nzcv
	msr nzcv, x26
	mrs x20, daif
	msr daif, x27
	mrs x21, fpcr
	msr fpcr, x28
	mrs x22, fpsr
	msr fpsr, x29
	mrs x23, spsr_el2
	msr spsr_el2, x30
	mrs x24, elr_el2
	msr elr_el2, x0
	mrs x25, sp_el1
	msr sp_el1, x1
	mrs x26, spsr_el3
	msr spsr_el3, x2
	mrs x27, elr_el3
	msr elr_el3, x3
	mrs x28, sp_el2
	msr sp_el2, x4
	mrs x29, afsr0_el1
	msr afsr0_el1, x5
	mrs x30, afsr1_el1
	msr afsr1_el1, x6
	mrs x0, esr_el1
	msr esr_el1, x7
	mrs x1, afsr0_el2
	msr afsr0_el2, x8
	mrs x2, afsr1_el2
	msr afsr1_el2, x9
	mrs x3, esr_el2
	msr esr_el2, x10
	mrs x4, esr_el3
	msr esr_el3, x11
	mrs x5, far_el1
	msr far_el1, x12
	mrs x6, far_el2
	msr far_el2, x13
	mrs x7, hpfar_el2
	msr hpfar_el2, x14
	mrs x8, far_el3
	msr far_el3, x15
	mrs x9, par_el1
	msr par_el1, x16
	mrs x10, pmcr_el0
	msr pmcr_el0, x17
	mrs x11, pmccntr_el0
	msr pmccntr_el0, x18
	mrs x12, mair_el1
	msr mair_el1, x19
	mrs x13, amair_el1
	msr amair_el1, x20
	mrs x14, mair_el2
	msr mair_el2, x21
	mrs x15, amair_el2
	msr amair_el2, x22
	mrs x16, mair_el3
	msr mair_el3, x23
	mrs x17, vbar_el1
	msr vbar_el1, x24
	mrs x18, isr_el1
	mrs x19, vbar_el2
	msr vbar_el2, x26
	mrs x20, vbar_el3
	msr vbar_el3, x27
	mrs x21, icc_iar0_el1
	msr icc_eoir0_el1, x29
	mrs x23, icc_hppir0_el1
	mrs x24, icc_bpr0_el1
	msr icc_bpr0_el1, x0
	msr icc_dir_el1, x1
	mrs x26, icc_rpr_el1
	msr icc_sgi1r_el1, x3
	msr icc_asgi1r_el1, x4
	msr icc_sgi0r_el1, x5
	mrs x30, icc_iar1_el1
	msr icc_eoir1_el1, x7
	mrs x1, icc_hppir1_el1
	mrs x2, icc_bpr1_el1
	msr icc_bpr1_el1, x9
	mrs x3, icc_ctlr_el1
	msr icc_ctlr_el1, x10
	mrs x4, icc_sre_el1
	msr icc_sre_el1, x11
	mrs x5, icc_igrpen0_el1
	msr icc_igrpen0_el1, x12
	mrs x6, icc_igrpen1_el1
	msr icc_igrpen1_el1, x13
	mrs x7, icc_sre_el2
	msr icc_sre_el2, x14
	mrs x8, ich_hcr_el2
	msr ich_hcr_el2, x15
	mrs x9, ich_vtr_el2
	mrs x10, ich_misr_el2
	mrs x11, ich_vmcr_el2
	msr ich_vmcr_el2, x18
	mrs x12, contextidr_el1
	msr contextidr_el1, x19
	mrs x13, tpidr_el1
	msr tpidr_el1, x20
	mrs x14, tpidr_el0
	msr tpidr_el0, x21
	mrs x15, tpidrro_el0
	msr tpidrro_el0, x22
	mrs x17, tpidr_el2
	msr tpidr_el2, x24
	mrs x18, cntkctl_el1
	msr cntkctl_el1, x25
	mrs x19, cntfrq_el0
	msr cntfrq_el0, x26
	mrs x20, cntpct_el0
	mrs x21, cntvct_el0
	mrs x22, cntp_tval_el0
	msr cntp_tval_el0, x29
	mrs x23, cntp_ctl_el0
	msr cntp_ctl_el0, x30
	mrs x24, cntp_cval_el0
	msr cntp_cval_el0, x0
	mrs x25, cntv_tval_el0
	msr cntv_tval_el0, x1
	mrs x26, cntv_ctl_el0
	msr cntv_ctl_el0, x2
	mrs x27, cntv_cval_el0
	msr cntv_cval_el0, x3
	mrs x28, cntvoff_el2
	msr cntvoff_el2, x4
	mrs x29, cnthctl_el2
	msr cnthctl_el2, x5
	mrs x30, cnthp_tval_el2
	msr cnthp_tval_el2, x6
	mrs x0, cnthp_ctl_el2
	msr cnthp_ctl_el2, x7
	mrs x1, cnthp_cval_el2
	msr cnthp_cval_el2, x8
	mrs x2, mdccsr_el0
	mrs x3, mdscr_el1
	msr mdscr_el1, x10
	msr oslar_el1, x11
	mrs x5, oslsr_el1
	mrs x6, osdlr_el1
	msr osdlr_el1, x13
// MRS and MSR by S<op0>_<op1>_C<n>_C<m>_<op2>
	mrs x0, s3_0_c1_c0_0
	msr s3_0_c2_c0_0, x1
	mrs x2, s3_7_c15_c15_7
	msr s3_1_c11_c0_2, x3
	mrs x4, s2_0_c0_c2_2
	mrs x5, S3_3_C14_C0_2
	msr s3_4_c15_c2_0, xzr
// Spellings GNU as takes besides the canonical ones
	ADD X0, X1, X2
	Add x0, x1, x2, LSL #3
	mov x0, x1, lsl #1
	mov w2, w3, asr #31
	uxtw x0, w1
	mov x0, #'A'
	mov x1, #(1 << 4) + 2
	add x2, x3, 4095
	ldr x4, [x5, 8]
	lsl x6, x7, 3
	movz x8, 1, lsl 16
	csel x0, x1, x2, none
	csel x0, x1, x2, HS
	b.none back
	bcs fwd
	b.EQ back
	tbz x0, 3, fwd
	svc 0
	dmb ISH
	tlbi VAE1, x0
	mrs x0, SCTLR_EL1
	mov lr, fp
	mov x0, ip0
	mov x1, ip1
	ret lr
	ret

	.data
data_start:
data_byte:
	nop
data_half:
	nop
data_word:
	nop
	nop
data_quad:
	nop
	nop
