// SPDX-License-Identifier: MIT
//
// Statements GNU as refuses, one per line; regenerate-a64.mjs records its
// first error for each (assembled with -march=armv8.4-a).
	foo x0
	FOO x0, x1
	b.foo 1f
	add 1, x0, x0
	add x0, x1
	add x0, x1, x2, x3
	add x0, x0, #4096 + 1
	add x0, x0, #0x1000000
	add w0, w0, #0xffffffff
	add x0, x1, #1, lsl #13
	add x0, x1, #1, asr #12
	add x0, x1, x2, ror #3
	add x0, x1, x2, lsl #64
	add  x0 ,  x1 , x2 , lsl  # 3 + 100
	add x0, x1, w2
	add x0, x1, w2, uxtw #5
	add x0, sp, x2, lsl #5
	cmp x0, w1
	neg x0, sp
	movz x0, #0x10000
	movz w0, #0x10000, lsl #16
	movk x0, #-1
	movk x0, #1, lsl #8
	movz w0, #1, lsl #32
	movz x0, #1, lsl #64
	mov x0, #0x123456789
	mov w0, #0x100000000
	mov w0, #0x7ffffffffffffffe
	mov x0, #1, lsl #16
	mov wsp, #-1
	and x0, x0, #0
	and x0, x0, #5
	and w0, w0, #0x100000000
	tst x0, #0
	orn x0, x1, #0xff
	bics w0, w1, #1
	lsl x0, x1, #64
	lsl w0, w1, #32
	ubfx x0, x1, #60, #5
	ubfx w0, w1, #32, #1
	ubfx w0, w1, #31, #2
	ubfx w0, w1, #0, #0
	bfi x0, x1, #0, #65
	sbfiz x0, x1, #63, #2
	extr x0, x1, x2, #64
	cset x0, al
	cset x0
	cinc x0, x1, al
	csel x0, x1, x2, foo
	csel x0, x1, x2
	ldr x0, [x1, #32768]
	ldr x0, [x1, #-257]
	ldr x0, [x1, #-257]!
	ldr x0, [x1], #256
	ldur x0, [x1, #256]
	ldr x0, [x1, x2, lsl #1]
	ldr x0, [x1, x2, lsl]
	ldr x0, [x1, w2]
	ldr x0, [x1, x2, uxtw]
	ldr x0, [x1, w2, sxtx]
	ldr x0, [x1, w2, lsl #3]
	ldrb w0, [x1, x2, lsl #1]
	str x0, [x1, x2, lsl #2]
	ldr x0, [w1]
	ldr x0, [x1, #8]!, #8
	ldp x0, x1, [x2, #4]
	ldp x0, x1, [x2, #1024]
	ldp x0, x1, [x2], #-520
	ldp w0, w1, [x2, #256]
	ldxr x0, [x1, #8]
	ldaxr x0, [x1], #8
	stxr w0, x1, [x2, #4]
	svc #0x10000
	svc #-1
	hvc #65536
	hint #128
	tbz x0, #64, 1f
	tbz w0, #32, 1f
	tbz x0, #-1, 1f
	b.ne
	cbz sp, 1f
	br sp
	ret sp
	dsb foo
	dsb
	dmb #16
	isb #16
	isb ish
	msr daifset, #16
	msr spsel, #2
	msr daifset, x0
	mrs x0, foo_el1
	msr foo_el1, x0
	mrs x0, s3_0_c1_c0_8
	mrs x0, s4_0_c1_c0_0
	mrs x0
	mrs sctlr_el1, x0
	msr x0, sctlr_el1
	tlbi foo, x0
	tlbi vae1
	tlbi vmalle1, x0
	tlbi
	dc civac
	at s1e1r
	ic iallu, x0
	sys #8, c1, c2, #3
	sys #0, c16, c2, #3
	sys #0, c1, c2, #8
	eret x0
	nop #1
	mov x0, w1
	add w0, x1, w2
	ldrb x0, [x1]
	ldrsw w0, [x1]
	strb w0, [x1, x2, lsl #1]
	stp x0, x1, [x2, #-520]
	cas w0, x1, [x2]
	swp x0, w1, [x2]
	ldadd x0, x1, [x2, #8]
	ldar x0, [x1, #8]
	ldxp x0, w1, [x2]
	madd x0, x1, x2
	umull w0, w1, w2
	smulh w0, w1, w2
	clz x0, w1
	rev32 w0, w1
	sxtw w0, w1
	extr x0, x1, w2, #1
	ror x0, x1, #64
	ccmp x0, x1, #16, eq
	ccmp x0, #32, #0, eq
	tst sp, #1
	mvn sp, x0
	movz sp, #1
	movn x0, #1, lsl #3
	bl
	cbz x0
	tbz x0, 1f
	adr w0, 1f
	adrp x0
	br w0
	svc
	hint
	msr sctlr_el1, w0
	mrs w0, sctlr_el1
	sys #0, c8, c7
	sysl #0, c1, c2, #3
	tlbi vae1, w0
	dc zva, w1
	at s1e1r, x0, x1
	clrex #16
	ldr x0, [x1, x2, lsl #3]!
	add x0, x1, x2, lsl #1, lsl #2
	neg x0, x1, ror #3
	ldpsw w0, w1, [x2]
	sub x0, x1, #:lo12:sym
	adds x0, x1, #:lo12:sym
	cmp x0, #:lo12:sym
	ldr x0, [x1, #:lo12:sym]!
	ldur x0, [x1, #:lo12:sym]
	mov x0, #:lo12:sym
	ldrb w0, [x1, w2, uxtb]
	ldr x0, [x1, x2, asr #3]
	ldr x0, [sp, sp]
	str x0, [xzr]
	ret x0, x1
	add x0, x1, x2, lsl x3
	and x0, x1, #0x5555, lsl #1
	eor w0, w1, #0
	orr w0, w1, #-1
	tst w0, #0xffffffff
	mov w0, #0xfffffffff
	movz x0, #0x1234, lsl #16, x2
	lsl x0, x1, #-1
	ubfx x0, x1, #64, #1
	bfi x0, x1, #-1, #2
	sbfm x0, x1, #64, #0
	ubfm w0, w1, #0, #32
	ccmp x0, x1, #4, foo
	cneg x0, x1, nv
	csetm w0, al
	ldp x0, x1, [x2, #-8]!, #8
	stp w0, x1, [x2]
	ldr x0, [x1, #-256]!, #16
