# SPDX-License-Identifier: MIT
#
# hello: the first x86-64 guest of shootdown. It boots by the protocol of
# `shootdown run` (docs/boot.md, "Boot protocol (x86-64)") on every CPU at once
# and checks itself:
#
#   1. CPU 0 builds 4-level page tables of its own (4 KiB pages for the
#      image, and one alias page per CPU for the flush checks) and an IDT
#      (the 32 exceptions, one IPI vector per sending CPU, a spurious
#      vector); the other CPUs wait until it is done.
#   2. Every CPU loads the IDT, sets CR4.PCIDE and switches CR3 to the new
#      tables tagged with PCID 1, software-enables its x2APIC and sets IF.
#   3. Every CPU prints "hello from CPU k of N", in CPU order (a ticket), so
#      the console is the same whatever the interleaving.
#   4. Every CPU sends one IPI to every other CPU and waits until it has
#      received one from each; the handler counts and EOIs.
#   5. Every CPU remaps its alias page and checks that the new mapping is
#      seen after INVLPG, after a flushing MOV to CR3 (following a no-flush
#      one, bit 63 set) and after INVPCID.
#   6. CPU 0 waits for everyone, prints the totals and writes 0 to the debug
#      exit port when every check passed, 1 otherwise. Any exception prints
#      where it happened and writes 1.
#
# Register use on every CPU for the whole run: r12 = CPU index, r13 = CPU
# count, r15 = the boot-information block.

# ── Constants ────────────────────────────────────────────────────────────────

        .equ COM1, 0x3f8                # 16550 UART: THR at +0, LSR at +5
        .equ COM1_LSR, COM1 + 5
        .equ LSR_THRE, 0x20             # transmit holding register empty
        .equ DEBUG_EXIT, 0xf4           # isa-debug-exit: the value written ends the run

        .equ BOOT_CPUS, 0x0c            # boot information: u32 CPU count
        .equ BOOT_CMDLINE, 0x18         #   u64 command-line address
        .equ BOOT_CMDLINE_LEN, 0x20     #   u32 command-line length

        .equ MAX_CPUS, 64
        .equ STACK_SIZE, 4096

        .equ KERNEL_CS, 0x08            # the loader's GDT: 64-bit kernel code
        .equ PTE_P, 0x1
        .equ PTE_RW, 0x2
        .equ CR4_PCIDE, 1 << 17
        .equ PCID, 1                    # the PCID of our address space
        .equ ALIAS_VA, 0x40000000       # CPU k's alias page: ALIAS_VA + k * 4096 (1 GiB up)
        .equ MAGIC_A, 0x41414141        # first quadword of page_a ("AAAA")
        .equ MAGIC_B, 0x42424242        # first quadword of page_b ("BBBB")

        .equ MSR_APIC_ID, 0x802         # x2APIC registers (SDM Vol.3A 11.12.1.2)
        .equ MSR_EOI, 0x80b
        .equ MSR_SVR, 0x80f
        .equ MSR_ICR, 0x830
        .equ SVR_ENABLE, 0x100          # APIC software enable
        .equ IPI_VECTOR, 0x40           # CPU k sends IPI_VECTOR + k: distinct vectors never merge in the IRR
        .equ SPURIOUS_VECTOR, 0xff
        .equ GATE_INTERRUPT, 0x8e00     # gate bits 47:32: P, DPL 0, type 0xE (64-bit interrupt gate)

        # Vectors for which the CPU pushes an error code (SDM Vol.3A table 6-1):
        # 8, 10–14, 17, 21, 29, 30, one bit each.
        .equ ERROR_CODE_VECTORS, 0x60227d00

# ── Macros ───────────────────────────────────────────────────────────────────

# print "text": writes a string literal to the console.
.macro print text
        .pushsection .data
.Lstring\@:
        .asciz "\text"
        .popsection
        lea .Lstring\@(%rip), %rsi
        call puts
.endm

# print_dec reg: writes a register as an unsigned decimal number.
.macro print_dec reg
        mov \reg, %rax
        call put_dec
.endm

# check expected: counts %rax == expected as a passed check, else a failed one.
.macro check expected
        cmp $\expected, %rax
        jne 1f
        lock incq checks_passed(%rip)
        jmp 2f
1:      lock incq checks_failed(%rip)
2:
.endm

# set_alias page: points this CPU's alias PTE (at %rbx) at page (no invalidation).
.macro set_alias page
        lea \page(%rip), %rax
        or $(PTE_P | PTE_RW), %rax
        mov %rax, (%rbx)
.endm

# load_cr3 noflush: MOV to CR3 of our tables with PCID 1; with noflush=1 bit 63
# asks the CPU to keep the PCID's TLB entries (SDM Vol.3A 4.10.4.1).
.macro load_cr3 noflush
        lea pml4(%rip), %rax
        or $PCID, %rax
        .if \noflush
        bts $63, %rax
        .endif
        mov %rax, %cr3
.endm

# link table, index, next: table[index] = next | P | RW (flags in %rdx).
.macro link table, index, next
        lea \next(%rip), %rax
        or %rdx, %rax
        lea \table(%rip), %rdi
        mov %rax, 8 * \index(%rdi)
.endm

# ── Boot ─────────────────────────────────────────────────────────────────────

        .text
        .globl _start
_start:
        # The loader left us in 64-bit mode on its identity map with IF=0:
        # RDI = CPU index, RSI = boot information, no stack.
        mov %edi, %r12d
        mov %rsi, %r15
        mov BOOT_CPUS(%rsi), %r13d
        lea stacks(%rip), %rsp          # stack: stacks + (index + 1) * STACK_SIZE
        lea 1(%r12), %rax
        shl $12, %rax
        add %rax, %rsp

        test %r12d, %r12d
        jnz wait_for_tables
        cmp $MAX_CPUS, %r13d            # more CPUs than we have stacks for?
        ja fail
        call build_page_tables
        call build_idt
        movl $1, tables_ready(%rip)     # stores are seen in order (x86 TSO): tables first
        jmp tables_done
wait_for_tables:
        pause
        cmpl $0, tables_ready(%rip)
        je wait_for_tables
tables_done:

        # Step 2: our IDT, PCIDs, our tables, the APIC, interrupts on.
        lidt idtr(%rip)
        mov %cr4, %rax
        or $CR4_PCIDE, %rax             # allowed: CR3[11:0] is 0 (the loader's PCID 0)
        mov %rax, %cr4
        load_cr3 0                      # CR3 = pml4 | PCID 1
        mov $MSR_SVR, %ecx
        mov $(SVR_ENABLE | SPURIOUS_VECTOR), %eax
        xor %edx, %edx
        wrmsr
        sti

        # Step 3: hello, in CPU order.
1:      cmp ticket(%rip), %r12d
        je 2f
        pause
        jmp 1b
2:      test %r12d, %r12d               # CPU 0 first shows the command line, if any
        jnz 3f
        call print_cmdline
3:      print "hello from CPU "
        print_dec %r12
        print " of "
        print_dec %r13
        print "\n"
        incl ticket(%rip)               # only the ticket holder writes it

        # Step 4: one IPI to every other CPU (fixed delivery, physical destination).
        xor %ebx, %ebx
send_ipis:
        cmp %r13d, %ebx
        jae ipis_sent
        cmp %r12d, %ebx
        je 1f
        mov $MSR_ICR, %ecx
        lea IPI_VECTOR(%r12), %eax      # vector: ours
        mov %ebx, %edx                  # ICR[63:32]: the destination's x2APIC ID
        wrmsr
        lock incq ipis_sent_total(%rip)
1:      inc %ebx
        jmp send_ipis
ipis_sent:
        # Wait for N-1 IPIs. CLI, test, then STI; HLT: the STI shadow keeps an
        # interrupt from slipping in between the test and the HLT.
        lea -1(%r13), %rbx
        lea received(%rip), %rdi
wait_ipis:
        cli
        cmp %rbx, (%rdi,%r12,8)
        jae 1f
        sti
        hlt
        jmp wait_ipis
1:      sti

        # Step 5: the flush checks on this CPU's alias page.
        lea pt_alias(%rip), %rbx        # rbx = our alias PTE
        lea (%rbx,%r12,8), %rbx
        mov %r12, %r14                  # r14 = our alias address
        shl $12, %r14
        add $ALIAS_VA, %r14

        mov (%r14), %rax                # page_a, and now in the TLB
        check MAGIC_A

        set_alias page_b                # remap, then INVLPG the one address
        invlpg (%r14)
        mov (%r14), %rax
        check MAGIC_B

        set_alias page_a                # remap; a no-flush CR3 write keeps PCID 1's
        load_cr3 1                      # entries (page_b may still be cached),
        load_cr3 0                      # the flushing one drops them
        mov (%r14), %rax
        check MAGIC_A

        set_alias page_b                # remap, then INVPCID type 0 (one address, one PCID)
        push %r14                       # descriptor: [0] PCID, [8] linear address
        push $PCID
        xor %eax, %eax
        invpcid (%rsp), %rax
        add $16, %rsp
        mov (%r14), %rax
        check MAGIC_B

        # Step 6: done; CPU 0 reports once everyone is.
        lock incq cpus_done(%rip)
        test %r12d, %r12d
        jnz park
1:      cmp %r13, cpus_done(%rip)
        je 2f
        pause
        jmp 1b
2:      call report
park:   hlt                             # IF=1: other CPUs sleep until the run ends
        jmp park

# report: prints the totals and ends the run with 0 when every check passed.
report:
        print "IPIs: sent "
        print_dec ipis_sent_total(%rip)
        print ", received "
        print_dec ipis_received_total(%rip)
        print "\n"
        print "TLB flush checks: passed "
        print_dec checks_passed(%rip)
        print ", failed "
        print_dec checks_failed(%rip)
        print "\n"
        mov %r13, %rax                  # N * (N - 1) IPIs both ways
        lea -1(%r13), %rcx
        imul %rcx, %rax
        cmp %rax, ipis_sent_total(%rip)
        jne fail
        cmp %rax, ipis_received_total(%rip)
        jne fail
        cmpq $0, checks_failed(%rip)
        jne fail
        lea (,%r13,4), %rax             # four checks per CPU
        cmp %rax, checks_passed(%rip)
        jne fail
        print "all checks passed\n"
        xor %eax, %eax
        out %al, $DEBUG_EXIT
        jmp park

fail:
        print "FAILED\n"
        mov $1, %al
        out %al, $DEBUG_EXIT
        jmp park

# print_cmdline: "command line: ..." when the loader passed one.
print_cmdline:
        cmpl $0, BOOT_CMDLINE_LEN(%r15)
        je 1f
        print "command line: "
        mov BOOT_CMDLINE(%r15), %rsi
        call puts
        print "\n"
1:      ret

# ── Page tables ──────────────────────────────────────────────────────────────
#
#   pml4[0] → pdpt;  pdpt[0] → pd_low → pt_low: 4 KiB identity pages for
#   the boot information (0x1000), the loader's GDT (0x2000) and the image
#   (_start to image_end, under 2 MiB);  pdpt[1] → pd_alias → pt_alias: CPU k's alias page at
#   ALIAS_VA + k * 4096, first mapping page_a.

build_page_tables:
        mov $(PTE_P | PTE_RW), %edx
        link pml4, 0, pdpt
        link pdpt, 0, pd_low
        link pdpt, 1, pd_alias
        link pd_low, 0, pt_low
        link pd_alias, 0, pt_alias

        lea pt_low(%rip), %rdi
        mov $0x1000, %eax               # the boot information page (and the command line)
        call map_identity
        mov $0x2000, %eax               # the loader's GDT: the CPU reads descriptors
        call map_identity               # through linear addresses (interrupt delivery)
        lea _start(%rip), %rax          # the image starts with _start
        and $~0xfff, %rax
        lea image_end(%rip), %rcx
1:      call map_identity
        add $0x1000, %rax
        cmp %rcx, %rax
        jb 1b

        lea pt_alias(%rip), %rdi        # every alias starts at page_a
        lea page_a(%rip), %rax
        or %rdx, %rax
        xor %ecx, %ecx
2:      mov %rax, (%rdi,%rcx,8)
        inc %ecx
        cmp %r13d, %ecx
        jb 2b
        ret

# map_identity: pt_low entry for the page at %rax (below 2 MiB) maps it to itself.
map_identity:
        mov %rax, %rsi
        shr $12, %rsi
        mov %rax, %r8
        or %rdx, %r8
        mov %r8, (%rdi,%rsi,8)
        ret

# ── IDT ──────────────────────────────────────────────────────────────────────

build_idt:
        xor %ecx, %ecx                  # exceptions 0–31: exception_stubs + 16 * vector
1:      lea exception_stubs(%rip), %rax
        mov %rcx, %rdx
        shl $4, %rdx
        add %rdx, %rax
        call set_gate
        inc %ecx
        cmp $32, %ecx
        jb 1b
        mov $IPI_VECTOR, %ecx           # IPI vectors, one per possible sender
2:      lea ipi_handler(%rip), %rax
        call set_gate
        inc %ecx
        cmp $(IPI_VECTOR + MAX_CPUS), %ecx
        jb 2b
        mov $SPURIOUS_VECTOR, %ecx
        lea spurious_handler(%rip), %rax
        call set_gate
        ret

# set_gate: IDT entry %rcx = a 64-bit interrupt gate to KERNEL_CS:%rax
# (SDM Vol.3A figure 6-8). Keeps %rcx and %rax.
set_gate:
        lea idt(%rip), %rdi
        mov %rcx, %rsi
        shl $4, %rsi
        add %rsi, %rdi
        mov %rax, %rdx                  # offset 15:0 in bits 15:0
        and $0xffff, %edx
        or $(KERNEL_CS << 16), %edx     # selector in bits 31:16
        mov $GATE_INTERRUPT, %esi       # P, DPL, type in bits 47:32
        shl $32, %rsi
        or %rsi, %rdx
        mov %rax, %rsi                  # offset 31:16 in bits 63:48
        shr $16, %rsi
        and $0xffff, %esi
        shl $48, %rsi
        or %rsi, %rdx
        mov %rdx, (%rdi)
        mov %rax, %rdx                  # offset 63:32 in the second quadword
        shr $32, %rdx
        mov %rdx, 8(%rdi)
        ret

# ── Interrupt and exception handlers ─────────────────────────────────────────

# An IPI: count it for this CPU and in total, then EOI.
ipi_handler:
        push %rax
        push %rcx
        push %rdx
        mov $MSR_APIC_ID, %ecx          # our x2APIC ID is our CPU index
        rdmsr
        lea received(%rip), %rcx
        lock incq (%rcx,%rax,8)
        lock incq ipis_received_total(%rip)
        mov $MSR_EOI, %ecx
        xor %eax, %eax
        xor %edx, %edx
        wrmsr
        pop %rdx
        pop %rcx
        pop %rax
        iretq

# A spurious interrupt needs no EOI (SDM Vol.3A 11.9).
spurious_handler:
        iretq

# One 16-byte stub per exception: push a zero where the CPU pushes no error
# code, so that every frame is [vector, error code, RIP, CS, RFLAGS, RSP, SS].
        .balign 16
exception_stubs:
        .set vector, 0
        .rept 32
        .if ((ERROR_CODE_VECTORS >> vector) & 1) == 0
        pushq $0
        .endif
        pushq $vector
        jmp exception
        .balign 16
        .set vector, vector + 1
        .endr

# Any exception is a failed run: say which and where, then exit 1.
exception:
        print "exception "
        print_dec (%rsp)
        print " (error code "
        print_dec 8(%rsp)
        print ") on CPU "
        mov $MSR_APIC_ID, %ecx
        rdmsr
        call put_dec
        print " at RIP "
        mov 16(%rsp), %rax
        call put_hex
        print "\n"
        mov $1, %al
        out %al, $DEBUG_EXIT
1:      hlt
        jmp 1b

# ── Console ──────────────────────────────────────────────────────────────────

# putc: writes %al once the UART can take it. Keeps every register.
putc:
        push %rdx
        push %rax
        mov $COM1_LSR, %dx
1:      in %dx, %al
        test $LSR_THRE, %al
        jz 1b
        pop %rax
        mov $COM1, %dx
        out %al, %dx
        pop %rdx
        ret

# puts: writes the NUL-terminated string at %rsi. Keeps every register.
puts:
        push %rax
        push %rsi
1:      movb (%rsi), %al
        test %al, %al
        jz 2f
        call putc
        inc %rsi
        jmp 1b
2:      pop %rsi
        pop %rax
        ret

# put_dec, put_hex: write %rax in decimal or as 0x-prefixed hex.
put_dec:
        push %rcx
        mov $10, %ecx
        call put_number
        pop %rcx
        ret

put_hex:
        push %rax
        mov $0x30, %al                  # '0'
        call putc
        mov $0x78, %al                  # 'x'
        call putc
        pop %rax
        push %rcx
        mov $16, %ecx
        call put_number
        pop %rcx
        ret

# put_number: %rax in base %rcx, digits built backwards on the stack.
put_number:
        push %rax
        push %rdx
        push %rsi
        push %r8
        sub $32, %rsp
        lea 31(%rsp), %rsi
        movb $0, (%rsi)
1:      xor %edx, %edx
        div %rcx
        lea digits(%rip), %r8
        movb (%r8,%rdx), %dl
        dec %rsi
        movb %dl, (%rsi)
        test %rax, %rax
        jnz 1b
        call puts
        add $32, %rsp
        pop %r8
        pop %rsi
        pop %rdx
        pop %rax
        ret

# ── Data ─────────────────────────────────────────────────────────────────────

        .data
digits: .ascii "0123456789abcdef"
idtr:   .short 256 * 16 - 1             # LIDT operand: limit, base
        .quad idt
        .balign 8
tables_ready:   .quad 0                 # CPU 0 built the tables and the IDT
ticket:         .quad 0                 # whose turn it is to say hello
ipis_sent_total:     .quad 0
ipis_received_total: .quad 0
checks_passed:  .quad 0
checks_failed:  .quad 0
cpus_done:      .quad 0
received:       .skip 8 * MAX_CPUS      # IPIs received, per CPU

        .balign 4096                    # the two pages the alias pages switch between
page_a: .quad MAGIC_A
        .balign 4096
page_b: .quad MAGIC_B
        .balign 4096

        .bss
        .balign 4096
pml4:     .skip 4096
pdpt:     .skip 4096
pd_low:   .skip 4096
pt_low:   .skip 4096
pd_alias: .skip 4096
pt_alias: .skip 4096
idt:      .skip 256 * 16
stacks:   .skip STACK_SIZE * MAX_CPUS
image_end:
