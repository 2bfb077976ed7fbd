# Included by directives.s.
        INCLUDED = 1
        .macro  pushpair a, b
        push    \a
        push    \b
        .endm
