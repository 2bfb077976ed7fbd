// Included by directives.s.
        INCLUDED = 1
        .macro  pair a, b
        mov     \a, #1
        mov     \b, #2
        .endm
