// Every directive the assembler takes, in GNU as syntax for AArch64.
// The golden files come from GNU as and ld with these section addresses,
// and shootdown asm must give the same bytes at the same places:
// sections: .text=0x40080000 .data=0x40100000 .mydata=0x40180000 .bss=0x40200000

        .include "directives-inc.s"        /* defines INCLUDED and the macro `pair' */

        .equ    COUNT, 3
        .set    SHIFT, 4
        MASK = (1 << SHIFT) - 1
        .equiv  ONCE, COUNT * 2 + MASK
        .equ    LATER, later_label - _start

# A whole-line comment: # in the first column.
        .text
        .globl  _start
        .type   _start, %function
_start:
        nop                                 // a comment
        b       1f                          ; nop   // two statements on one line
1:      b       2f
        .skip   4
2:      b       1b
        mov     x0, #COUNT
        mov     x1, #(ONCE - MASK)
        pair    x2, x3
        .p2align 4
aligned16:
        wfi
        .balign 8
        .byte   0x1f, 0x20, 0x03, 0xd5
        .align  5                           // AArch64: .align is a power of two
        .p2align 3,,5
        .p2align 5,,3
        ret
        .size   _start, . - _start
later_label:
        .rept   COUNT
        add     x0, x0, #1
        .endr
        .irp    reg, x4, x5, x6
        mov     \reg, xzr
        .endr
        .irpc   n, 123
        add     x7, x7, #\n
        .endr
        .if     COUNT > 2
        isb
        .elseif COUNT == 2
        dsb     sy
        .else
        wfe
        .endif
        .ifdef  INCLUDED
        .ifndef NOT_DEFINED
        sev
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
        twice   wfi, 1
        .macro  label_here name
\name\()_here:
        .pushsection .data
        .word   \@
        .popsection
        nop
        .endm
        label_here first
        label_here second
        b       first_here
        b       _start
        .inst   0xd503201f, 0xd503207f

        .data
        .globl  table
        .type   table, %object
table:
        .byte   1, 2, 0xff, -1, 'A, '\n
        .short  0x1234, -2
        .hword  7
        .word   0xbeef                      // AArch64: .word is 4 bytes
        .long   0xdeadbeef, table, . - table
        .int    5
        .quad   0x0123456789abcdef, _start, later_label - _start
        .8byte  -1
        .xword  2
        .dword  3
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
        .section .mydata, "aw", %progbits
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
