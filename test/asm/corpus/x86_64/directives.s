# Every directive the assembler takes, in GNU as syntax for x86-64 (AT&T).
# The golden files come from GNU as and ld with these section addresses,
# and shootdown asm must give the same bytes at the same places:
# sections: .text=0x100000 .data=0x200000 .mydata=0x280000 .bss=0x300000

        .include "directives-inc.s"        /* defines INCLUDED and the macro `pushpair' */

        .equ    COUNT, 3
        .set    SHIFT, 4
        MASK = (1 << SHIFT) - 1
        .equiv  ONCE, COUNT * 2 + MASK
        .equ    LATER, later_label - _start

        .text
        .globl  _start
        .type   _start, @function
_start:
        nop                                 # a comment
        jmp     1f                          ; nop   # two statements on one line
1:      jmp     2f
        .skip   3, 0x90
2:      jmp     1b
        mov     $COUNT, %eax
        mov     $LATER, %ebx                # forward: the imm32 form
        mov     $(ONCE - MASK), %ecx
        pushpair %rax, %rbx
        .p2align 4
aligned16:
        hlt
        .balign 8
        .byte   0xc3
        .align  32                          # x86: .align counts bytes
        .p2align 3,,5                       # at most 5 bytes of padding: none here
        .p2align 5,,3                       # would need more than 3: skipped
        ret
        .size   _start, . - _start
later_label:
        .rept   COUNT
        inc     %eax
        .endr
        .irp    reg, %rcx, %rdx, %rsi
        push    \reg
        .endr
        .irpc   n, 123
        add     $\n, %edi
        .endr
        .if     COUNT > 2
        cli
        .elseif COUNT == 2
        sti
        .else
        hlt
        .endif
        .ifdef  INCLUDED
        .ifndef NOT_DEFINED
        pause
        .endif
        .endif
        .ifc    abc, abc
        nop
        .endif
        .ifnc   abc, abd
        nop
        .endif
        .macro  twice insn:req, count=2
        .rept   \count
        \insn
        .endr
        .endm
        twice   nop
        twice   hlt, 1
        .macro  label_here name
\name\()_here:
        .pushsection .data
        .long   \@
        .popsection
        nop
        .endm
        label_here first
        label_here second
        jmp     first_here
        jmp     _start

        .data
        .globl  table
        .type   table, @object
table:
        .byte   1, 2, 0xff, -1, 'A, '\n
        .short  0x1234, -2
        .hword  7
        .word   0xbeef                      # x86: .word is 2 bytes
        .long   0xdeadbeef, table, . - table
        .int    5
        .quad   0x0123456789abcdef, _start, later_label - _start
        .8byte  -1
        .4byte  4
        .2byte  2
        .ascii  "ascii\t\"quoted\"\\"
        .asciz  "z"
        .string "str\001\x7f"
        .balign 8
        .fill   3, 2, 0x4142
        .fill   2, 1
        .space  4, 0xab
        .skip   2
        .zero   3
        .org    . + 2, 0xee
        .p2align 4, 0xcc
        .size   table, . - table
        .byte   8 | 1 + 1, 2 + 3 << 1, 1 == 1, 10 - 2 - 3, 3 > 2, !0, 5 ! 2, -1 >> 60, 7 & 3 == 3
        .byte   (COUNT * 10) % 7, ~0 & 0xf0, 0x80 >> 4, 1 && 0, 1 || 0, 2 <> 3, 4 >= 4, 5 <= 4
        .quad   0b1010, 017, 0x10, 1234
        .section .mydata, "aw", @progbits
        .quad   table
        .pushsection .data
        .byte   0x77
        .popsection
        .byte   0x55
        .previous
        .byte   0x66

        .bss
        .balign 64
bss_start:
        .skip   0x100
bss_word:
        .zero   8
