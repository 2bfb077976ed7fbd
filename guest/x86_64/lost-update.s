# SPDX-License-Identifier: MIT
#
# lost-update: the smallest ordering bug, for `shootdown explore` to find.
# It boots by the protocol of `shootdown run` (docs/boot.md) on every CPU at
# once; each CPU
#
#   1. does some work of its own (a countdown loop, longer on higher CPUs,
#      so that the CPUs do not all reach step 2 together),
#   2. adds 1 to a shared counter with a plain load, an add and a plain
#      store: not atomic, so another CPU's load between this CPU's load and
#      store makes one of the two additions get lost,
#   3. counts itself as done with LOCK XADD; the CPU that finishes last
#      writes 0 to the debug-exit port when the counter equals the CPU count
#      and 1 when an update was lost; the others halt with interrupts off.
#
# Under round-robin with the default quantum every CPU does steps 1 and 2 in
# one decision and the run succeeds. The bug has depth 2 in the sense of
# PCT (Burckhardt et al. 2010): one CPU's load must come before another's
# store, and the other's load before that store; a preemption inside the
# three-instruction window between load and store is what it takes.

        .equ DEBUG_EXIT, 0xf4           # isa-debug-exit: the value written ends the run
        .equ BOOT_INFO, 0x1000          # the loader's boot-information block
        .equ BOOT_CPUS, 0x0c            #   u32 CPU count
        .equ WORK, 40                   # countdown iterations of CPU 0; CPU k does WORK * (k + 1)

        .text
        .globl _start
_start:
        # RDI = this CPU's index (docs/boot.md).
        lea 1(%rdi), %rcx
        imul $WORK, %rcx
1:      dec %rcx
        jnz 1b

        # The racy read-modify-write: nothing orders another CPU's load
        # against this CPU's store.
        mov counter(%rip), %rax
        add $1, %rax
        nop
        nop
        mov %rax, counter(%rip)

        mov $1, %eax
        lock xadd %eax, done(%rip)
        inc %eax
        cmp BOOT_INFO + BOOT_CPUS, %eax
        jne park

        # The last CPU: every addition must be there.
        mov counter(%rip), %rax
        mov BOOT_INFO + BOOT_CPUS, %ecx
        cmp %rcx, %rax
        jne lost
        xor %eax, %eax
        out %al, $DEBUG_EXIT
lost:
        mov $1, %eax
        out %al, $DEBUG_EXIT

        # The other CPUs stop here: halted with IF clear, they never run again.
park:   cli
        hlt
        jmp park

        .data
        .balign 8
counter: .quad 0
done:    .long 0
