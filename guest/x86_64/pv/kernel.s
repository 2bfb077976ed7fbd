# SPDX-License-Identifier: MIT
#
# pv/kernel: a small paravirtualised x86-64 kernel for shootdown's Xen-like
# hypervisor (issue 12), written against Xen's public headers (xen.inc) and
# the issue's deviations: VMCALL hypercalls, a CPL-0 guest kernel, the
# builder's layout (README.md in this directory lists every assumption).
#
#   1. vCPU 0 starts at _start with RSI = start_info and RSP = the top of the
#      boot stack. It moves to its own stack, builds and loads an IDT (the
#      hypervisor injects page faults through it), checks start_info, reads
#      its command line (`workload=churn iterations=N`, `workload=attack`,
#      `workload=spurious-race iterations=N`)
#      and asks the hypervisor for its version, its reservation and how many
#      vCPUs the domain has (VCPUOP_is_up on ids 1, 2, ... until -ENOENT).
#   2. It builds page tables of its own (upper levels that reuse the
#      builder's L1s for the bootstrap region, as Linux does; one churn L1
#      per vCPU; an empty "hook" L2), makes every table frame read-only in
#      the bootstrap tables, pins its L4 (MMUEXT_PIN_L4_TABLE), loads it
#      (MMUEXT_NEW_BASEPTR) and unpins the bootstrap L4.
#   3. churn: vCPU 0 starts every other vCPU with VCPUOP_initialise and
#      VCPUOP_up on the new tables, and every vCPU runs churn.inc's loop;
#      the last one done (a LOCK XADD counter) shuts the domain down:
#      SHUTDOWN_poweroff when every check passed, SHUTDOWN_crash otherwise.
#      spurious-race: the same start, and race.inc's churners and walkers
#      (README.md, "The spurious-race workload").
#      attack: vCPU 0 alone runs attack.inc's forbidden operations and shuts
#      down with SHUTDOWN_poweroff when each was refused as Xen refuses it,
#      SHUTDOWN_reboot otherwise.
#
# Register use on every vCPU for the whole run: r12 = vCPU id, r13 = its
# data block (lib.inc).

        .include "xen.inc"

# ── Constants ────────────────────────────────────────────────────────────────

        # virt_base: .text is at 0x100000 (shootdown asm's default) and the
        # image has no XEN_ELFNOTE_VIRT_BASE note, so the builder rounds the
        # lowest PT_LOAD address down to 4 MiB: 0. A bootstrap-region address
        # va is at PFN (va - VIRT_BASE) >> 12.
        .equ VIRT_BASE, 0
        .equ MAX_VCPUS, 32
        .equ STACK_SHIFT, 12
        .equ STACK_SIZE, 1 << STACK_SHIFT
        .equ POOL_FRAMES, 4             # unmapped frames each vCPU churns (PFNs from v_end up)
        .equ SPARE_FRAMES, 4            # and a few more the domain must have
        .equ CHURN_VA, 0x40000000       # vCPU k's churn window: CHURN_VA + k * 2 MiB (L3 slot 1)
        .equ HOOK_VA, 0x80000000        # vCPU k's hook window: HOOK_VA + k * 2 MiB (L3 slot 2)
        .equ WINDOW_SHIFT, 21
        .equ DEFAULT_ITERATIONS, 3
        .equ MAX_ITERATIONS, 1000000
        .equ PROGRESS_EVERY, 100        # a progress line every this many iterations
        .equ WORKLOAD_CHURN, 0
        .equ WORKLOAD_ATTACK, 1
        .equ WORKLOAD_RACE, 2
        .equ PTE_TABLE, PTE_P | PTE_RW | PTE_A         # a page-table entry pointing at a table
        .equ PTE_DATA_RW, PTE_P | PTE_RW | PTE_A | PTE_D
        .equ PTE_DATA_RO, PTE_P | PTE_A
        .equ RFLAGS_RESERVED, 0x2       # bit 1 is always 1; IF clear
        .equ VGCF_in_kernel, 1 << 2     # arch-x86/xen.h
        .equ KERNEL_DS, 0x10

        .include "lib.inc"

# ── Boot (vCPU 0) ────────────────────────────────────────────────────────────

        .text
        .globl _start
_start:
        mov %rsi, start_info(%rip)
        mov %rsp, boot_stack_top(%rip)
        lea stacks + STACK_SIZE(%rip), %rsp     # our own stack: the exception handler
        xor %r12d, %r12d                        # finds the vCPU by its stack
        lea vcpu_data(%rip), %r13
        call build_idt
        lidt idtr(%rip)

        call read_start_info
        call parse_cmdline
        call ask_hypervisor
        call count_vcpus
        call plan_memory
        call build_page_tables
        call switch_page_tables
        call vcpu_setup
        cmpq $WORKLOAD_ATTACK, workload(%rip)
        je attack_main
        cmpq $WORKLOAD_RACE, workload(%rip)
        jne 1f
        call race_prepare               # before any other vCPU runs
1:      call start_vcpus
        jmp workload_main

# read_start_info: checks the magic and copies the fields we use.
read_start_info:
        mov start_info(%rip), %rsi
        lea xen_magic(%rip), %rdi
        xor %ecx, %ecx
1:      movzbl (%rdi,%rcx), %eax        # compare up to and including the NUL
        cmp %al, SI_MAGIC(%rsi,%rcx)
        jne bad_magic
        inc %ecx
        test %al, %al
        jnz 1b
        mov SI_NR_PAGES(%rsi), %rax
        mov %rax, nr_pages(%rip)
        mov SI_PT_BASE(%rsi), %rax
        mov %rax, pt_base(%rip)
        mov SI_NR_PT_FRAMES(%rsi), %rax
        mov %rax, nr_pt_frames(%rip)
        mov SI_MFN_LIST(%rsi), %rax
        mov %rax, p2m_list(%rip)
        print "pv kernel: start_info at "
        print_hex %rsi
        print ": nr_pages "
        print_dec nr_pages(%rip)
        print ", pt_base "
        print_hex pt_base(%rip)
        print " ("
        print_dec nr_pt_frames(%rip)
        print " frames), mfn_list "
        print_hex p2m_list(%rip)
        print ", boot stack top "
        print_hex boot_stack_top(%rip)
        print "\n"
        ret

bad_magic:
        print "pv kernel: start_info has not the magic \"xen-3.0-x86_64\"\n"
        mov $SHUTDOWN_crash, %edi
        jmp shutdown

# parse_cmdline: the words of start_info.cmd_line: workload=churn,
# workload=attack, workload=spurious-race, iterations=N (1 to
# MAX_ITERATIONS). Any other word is an error that says which word and what
# is allowed.
parse_cmdline:
        push %rbx
        mov start_info(%rip), %rsi
        add $SI_CMD_LINE, %rsi
        print "pv kernel: command line \""
        call puts
        print "\"\n"
next_word:
        cmpb $0x20, (%rsi)              # skip spaces
        jne 1f
        inc %rsi
        jmp next_word
1:      cmpb $0, (%rsi)
        je cmdline_done
        lea word_churn(%rip), %rdi
        call match_word
        jne 2f
        movq $WORKLOAD_CHURN, workload(%rip)
        jmp next_word
2:      lea word_attack(%rip), %rdi
        call match_word
        jne 6f
        movq $WORKLOAD_ATTACK, workload(%rip)
        jmp next_word
6:      lea word_race(%rip), %rdi
        call match_word
        jne 3f
        movq $WORKLOAD_RACE, workload(%rip)
        jmp next_word
3:      lea word_iterations(%rip), %rdi
        call match_prefix
        jne bad_word
        mov %rsi, %rbx                  # start of the number, for the message
        xor %eax, %eax
4:      movzbl (%rsi), %ecx
        cmp $0x20, %cl
        je 5f
        test %cl, %cl
        jz 5f
        sub $0x30, %ecx                 # '0'
        cmp $9, %ecx
        ja bad_number
        imul $10, %rax, %rax
        add %rcx, %rax
        cmp $MAX_ITERATIONS, %rax
        ja bad_number
        inc %rsi
        jmp 4b
5:      cmp %rbx, %rsi                  # no digits at all
        je bad_number
        test %rax, %rax
        jz bad_number
        mov %rax, iterations(%rip)
        jmp next_word
cmdline_done:
        pop %rbx
        ret

bad_number:
        mov %rbx, %rsi
        sub $11, %rsi                   # back to "iterations="
bad_word:
        print "pv kernel: unknown argument '"
        call put_word
        print "': the kernel takes workload=churn, workload=attack, workload=spurious-race and iterations=N (1 to 1000000)\n"
        mov $SHUTDOWN_crash, %edi
        jmp shutdown

# match_prefix: ZF set and %rsi moved past it when the text at %rsi starts
# with the NUL-terminated string at %rdi; else ZF clear and %rsi unchanged.
match_prefix:
        xor %ecx, %ecx
1:      movzbl (%rdi,%rcx), %eax
        test %al, %al
        jz 2f                           # all of it matched
        cmp %al, (%rsi,%rcx)
        jne 3f
        inc %ecx
        jmp 1b
2:      add %rcx, %rsi
        xor %eax, %eax                  # ZF = 1
3:      ret

# match_word: as match_prefix, but the word must end there (space or NUL).
match_word:
        push %rsi
        call match_prefix
        jne 1f
        cmpb $0x20, (%rsi)
        je 2f
        cmpb $0, (%rsi)
        je 2f
1:      pop %rsi
        or $1, %eax                     # ZF = 0
        ret
2:      add $8, %rsp                    # keep the advanced %rsi
        xor %eax, %eax                  # ZF = 1
        ret

# put_word: prints the word at %rsi (up to a space or NUL).
put_word:
        push %rsi
        push %rax
1:      movzbl (%rsi), %eax
        cmp $0x20, %al
        je 2f
        test %al, %al
        jz 2f
        mov %al, one_char(%rip)
        push %rsi
        lea one_char(%rip), %rsi
        call puts
        pop %rsi
        inc %rsi
        jmp 1b
2:      pop %rax
        pop %rsi
        ret

# ask_hypervisor: xen_version(XENVER_version), the reservation
# (XENMEM_current_reservation, XENMEM_maximum_reservation: both must equal
# nr_pages) and XENMEM_maximum_ram_page (the attacks need it).
ask_hypervisor:
        mov $XENVER_version, %edi
        xor %esi, %esi
        mov $HYPERVISOR_xen_version, %eax
        vmcall
        print "pv kernel: hypervisor version "
        push %rax
        shr $16, %rax
        call put_dec
        print "."
        pop %rax
        and $0xffff, %eax
        call put_dec
        print "\n"

        movq $DOMID_SELF, VD_DOMAIN(%r13)
        mov $XENMEM_current_reservation, %edi
        lea VD_DOMAIN(%r13), %rsi
        mov $HYPERVISOR_memory_op, %eax
        vmcall
        mov nr_pages(%rip), %rcx
        expect_reg %rcx, "XENMEM_current_reservation is nr_pages"
        mov $XENMEM_maximum_reservation, %edi
        lea VD_DOMAIN(%r13), %rsi
        mov $HYPERVISOR_memory_op, %eax
        vmcall
        expect_reg %rcx, "XENMEM_maximum_reservation is nr_pages"
        mov $XENMEM_maximum_ram_page, %edi
        xor %esi, %esi
        mov $HYPERVISOR_memory_op, %eax
        vmcall
        mov %rax, max_ram_page(%rip)
        print "pv kernel: maximum RAM page "
        call put_hex
        print "\n"
        ret

# count_vcpus: VCPUOP_is_up on ids 1, 2, ... answers 0 or 1 for a vCPU the
# domain has and -ENOENT past the last one (Xen's do_vcpu_op); we use at
# most MAX_VCPUS.
count_vcpus:
        push %rbx
        mov $1, %ebx
1:      cmp $MAX_VCPUS, %ebx
        jae 3f
        mov $VCPUOP_is_up, %edi
        mov %ebx, %esi
        xor %edx, %edx
        call vcpu_op
        test %rax, %rax
        js 2f
        inc %ebx
        jmp 1b
3:      print "pv kernel: the domain may have more vCPUs; using the first "
        print_dec %rbx
        print "\n"
        jmp 4f
2:      expect -ENOENT, "VCPUOP_is_up past the last vCPU"
4:      mov %rbx, nr_vcpus(%rip)
        print "pv kernel: "
        print_dec %rbx
        print " vCPUs, workload "
        cmpq $WORKLOAD_ATTACK, workload(%rip)
        je 5f
        cmpq $WORKLOAD_RACE, workload(%rip)
        je 6f
        print "churn, "
        jmp 7f
6:      print "spurious-race, "
7:      print_dec iterations(%rip)
        print " iterations\n"
        pop %rbx
        ret
5:      print "attack\n"
        pop %rbx
        ret

# plan_memory: v_end, the end of the bootstrap region, is the first 4 MiB
# boundary at least 512 KiB above the top of the boot stack (issue 12,
# deviation 3); PFNs from (v_end - virt_base) >> 12 are the domain's but
# unmapped, and become the vCPUs' pool frames. Checks that everything fits.
plan_memory:
        mov boot_stack_top(%rip), %rax
        add $(0x80000 + 0x400000 - 1), %rax
        and $~(0x400000 - 1), %rax
        mov %rax, v_end(%rip)
        sub $VIRT_BASE, %rax
        shr $12, %rax
        mov %rax, first_pool_pfn(%rip)
        print "pv kernel: bootstrap region ends at "
        print_hex v_end(%rip)
        print ", pool frames from PFN "
        print_dec first_pool_pfn(%rip)
        print "\n"
        cmpq $CHURN_VA, v_end(%rip)     # pt_l2_boot maps 1 GiB at most
        ja too_big
        mov nr_vcpus(%rip), %rax        # pool + spare frames must be below nr_pages
        imul $POOL_FRAMES, %rax, %rax
        add $SPARE_FRAMES, %rax
        add first_pool_pfn(%rip), %rax
        cmp nr_pages(%rip), %rax
        ja too_small
        # The builder's check, repeated: M2P[p2m[pfn]] == pfn for our first page.
        lea _start(%rip), %rax
        sub $VIRT_BASE, %rax
        shr $12, %rax
        mov %rax, %rcx
        call pfn_to_mfn
        call m2p
        expect_reg %rcx, "M2P[p2m[PFN of _start]] is that PFN"
        ret

too_big:
        print "pv kernel: the bootstrap region is larger than the 1 GiB our tables map\n"
        mov $SHUTDOWN_crash, %edi
        jmp shutdown

too_small:
        print "pv kernel: the domain has too few pages for the pool frames of its vCPUs\n"
        mov $SHUTDOWN_crash, %edi
        jmp shutdown

# ── Our page tables ──────────────────────────────────────────────────────────
#
#   pt_l4[0] → pt_l3;  pt_l3[0] → pt_l2_boot, a copy of the builder's L2: its
#   entries point at the builder's L1s, which stay in use for the bootstrap
#   region (Linux's xen_setup_kernel_pagetable does the same: the new upper
#   levels reuse the builder's L1 pages, so pinning the new L4 validates no
#   leaf again, and unpinning the old one devalidates none);
#   pt_l3[1] → pt_l2_churn → pt_l1_churn[k]: vCPU k's churn window (empty);
#   pt_l3[2] → pt_l2_hook: empty; vCPU k hooks an L1 of its own into slot k.
#   Every table is a page of .bss, between page_tables and page_tables_end.

        .equ L4_SLOT_BOOT, (VIRT_BASE >> 39) & 511
        .equ L3_SLOT_BOOT, (VIRT_BASE >> 30) & 511
        .equ PTE_MFN_MASK, 0x000ffffffffff000

# build_page_tables: fills the tables (they are ordinary writable pages now).
build_page_tables:
        lea page_tables(%rip), %rdi     # clear them: .bss should be zero, but a
        lea page_tables_end(%rip), %rcx # table must not hold anything else
        sub %rdi, %rcx
        shr $3, %rcx
        xor %eax, %eax
        cld
        rep stosq

        lea pt_l3(%rip), %rax           # the upper levels
        lea pt_l4(%rip), %rdi
        call link_table
        lea pt_l2_boot(%rip), %rax
        lea pt_l3(%rip), %rdi
        call link_table
        lea pt_l2_churn(%rip), %rax
        lea pt_l3 + 8(%rip), %rdi
        call link_table
        lea pt_l2_hook(%rip), %rax
        lea pt_l3 + 16(%rip), %rdi
        call link_table

        mov pt_base(%rip), %rax         # the builder's L2, found from its L4
        mov L4_SLOT_BOOT * 8(%rax), %rax
        call table_va
        mov L3_SLOT_BOOT * 8(%rax), %rax
        call table_va
        mov %rax, %rsi                  # copied whole into pt_l2_boot
        lea pt_l2_boot(%rip), %rdi
        mov $512, %ecx
        rep movsq

        lea pt_l2_churn(%rip), %rdi     # pt_l2_churn[k] → pt_l1_churn[k], k < nr_vcpus
        lea pt_l1_churn(%rip), %rsi
        mov nr_vcpus(%rip), %rdx
        call link_l1s
        ret

# table_va: %rax = the bootstrap-region address of the table that the
# present entry %rax points at (through the M2P); a builder table outside
# the bootstrap region ends the boot. Keeps all but %rax.
table_va:
        test $PTE_P, %al
        jz bad_bootstrap_tables
        push %rcx
        mov $PTE_MFN_MASK, %rcx
        and %rcx, %rax
        pop %rcx
        shr $12, %rax
        call m2p
        shl $12, %rax
        add $VIRT_BASE, %rax
        cmp v_end(%rip), %rax
        jae bad_bootstrap_tables
        ret

bad_bootstrap_tables:
        print "pv kernel: the builder's tables for the bootstrap region are not where start_info says\n"
        mov $SHUTDOWN_crash, %edi
        jmp shutdown

# link_l1s: entries 0 to %rdx - 1 of the L2 at %rdi point at the consecutive
# L1 pages from %rsi.
link_l1s:
        push %rbx
        push %r14
        push %r15
        mov %rdi, %r14
        mov %rsi, %r15
        mov %rdx, %rbx
        xor %ecx, %ecx
1:      cmp %rbx, %rcx
        jae 2f
        mov %rcx, %rax
        shl $12, %rax
        add %r15, %rax
        lea (%r14,%rcx,8), %rdi
        push %rcx
        call link_table
        pop %rcx
        inc %rcx
        jmp 1b
2:      pop %r15
        pop %r14
        pop %rbx
        ret

# link_table: the entry at %rdi points at the table page at %rax.
link_table:
        call va_to_mfn
        shl $12, %rax
        or $PTE_TABLE, %rax
        mov %rax, (%rdi)
        ret

# switch_page_tables: our table frames become read-only in the bootstrap
# tables (Xen refuses to type a frame as a page table while a writable
# mapping of it exists), then MMUEXT_PIN_L4_TABLE validates the whole tree,
# MMUEXT_NEW_BASEPTR loads it, and the bootstrap L4 is unpinned.
switch_page_tables:
        push %rbx
        lea page_tables(%rip), %rbx
1:      mov %rbx, %rax
        call va_to_mfn
        shl $12, %rax
        or $PTE_DATA_RO, %rax
        mov %rax, %rsi
        mov %rbx, %rdi
        mov $(UVMF_INVLPG | UVMF_LOCAL), %edx
        call update_va_mapping
        expect 0, "update_va_mapping: a table frame read-only in the bootstrap tables"
        add $4096, %rbx
        lea page_tables_end(%rip), %rax
        cmp %rax, %rbx
        jb 1b

        lea pt_l4(%rip), %rax
        call va_to_mfn
        mov %rax, l4_mfn(%rip)
        lea pt_l2_hook(%rip), %rax
        call va_to_mfn
        mov %rax, l2_hook_mfn(%rip)
        mov $MMUEXT_PIN_L4_TABLE, %edi
        mov l4_mfn(%rip), %rsi
        xor %edx, %edx
        call mmuext1
        expect 0, "MMUEXT_PIN_L4_TABLE of our L4"
        test %rax, %rax
        jnz cannot_switch
        mov $MMUEXT_NEW_BASEPTR, %edi
        mov l4_mfn(%rip), %rsi
        xor %edx, %edx
        call mmuext1
        expect 0, "MMUEXT_NEW_BASEPTR to our L4"
        test %rax, %rax
        jnz cannot_switch
        mov pt_base(%rip), %rax         # the bootstrap L4 is no longer needed
        call va_to_mfn
        mov %rax, %rsi
        mov $MMUEXT_UNPIN_TABLE, %edi
        xor %edx, %edx
        call mmuext1
        expect 0, "MMUEXT_UNPIN_TABLE of the bootstrap L4"
        print "pv kernel: on our own page tables (L4 at MFN "
        print_hex l4_mfn(%rip)
        print ")\n"
        pop %rbx
        ret

cannot_switch:
        print "pv kernel: cannot switch to our own page tables\n"
        mov $SHUTDOWN_crash, %edi
        jmp shutdown

# ── vCPUs ────────────────────────────────────────────────────────────────────

# start_vcpus: vCPU k (1 <= k < nr_vcpus) starts at ap_entry with RDI = k,
# RSI = start_info, its stack, IF clear and CR3 = xen_pfn_to_cr3(our L4):
# VCPUOP_initialise with a struct vcpu_guest_context, then VCPUOP_up.
start_vcpus:
        push %rbx
        mov $1, %ebx
1:      cmp nr_vcpus(%rip), %rbx
        jae 2f
        lea vcpu_context(%rip), %rdi    # the fields the hypervisor honours; the rest 0
        movq $VGCF_in_kernel, VGC_FLAGS(%rdi)
        lea ap_entry(%rip), %rax
        mov %rax, VGC_RIP(%rdi)
        movq $KERNEL_CS, VGC_CS(%rdi)
        movq $RFLAGS_RESERVED, VGC_RFLAGS(%rdi)
        lea 1(%rbx), %rax
        shl $STACK_SHIFT, %rax
        lea stacks(%rip), %rcx
        add %rcx, %rax
        mov %rax, VGC_RSP(%rdi)
        movq $KERNEL_DS, VGC_SS(%rdi)
        mov %rbx, VGC_RDI(%rdi)
        mov start_info(%rip), %rax
        mov %rax, VGC_RSI(%rdi)
        mov l4_mfn(%rip), %rax
        shl $XEN_PFN_TO_CR3_SHIFT, %rax
        mov %rax, VGC_CR3(%rdi)
        mov %rdi, %rdx
        mov $VCPUOP_initialise, %edi
        mov %ebx, %esi
        call vcpu_op
        expect 0, "VCPUOP_initialise"
        mov $VCPUOP_up, %edi
        mov %ebx, %esi
        xor %edx, %edx
        call vcpu_op
        expect 0, "VCPUOP_up"
        inc %rbx
        jmp 1b
2:      pop %rbx
        ret

# ap_entry: where vCPUs 1 and up start (RDI = id, on our tables already).
ap_entry:
        mov %rdi, %r12
        mov %rdi, %r13
        imul $VD_SIZE, %r13, %r13
        lea vcpu_data(%rip), %rax
        add %rax, %r13
        lidt idtr(%rip)
        call vcpu_setup
workload_main:                          # every vCPU: churn or spurious-race
        cmpq $WORKLOAD_RACE, workload(%rip)
        je race_main
        jmp churn_main

# vcpu_setup: this vCPU's pool, windows, churn L1 and vCPU mask.
vcpu_setup:
        mov %r12, %rax
        imul $POOL_FRAMES, %rax, %rax
        add first_pool_pfn(%rip), %rax
        mov %rax, VD_POOL_PFN(%r13)
        mov %r12, %rax
        shl $WINDOW_SHIFT, %rax
        mov $CHURN_VA, %ecx             # (HOOK_VA does not fit a signed 32-bit displacement)
        add %rax, %rcx
        mov %rcx, VD_WINDOW(%r13)
        mov $HOOK_VA, %ecx
        add %rax, %rcx
        mov %rcx, VD_HOOK(%r13)
        mov %r12, %rax
        shl $12, %rax
        lea pt_l1_churn(%rip), %rcx
        add %rcx, %rax
        call va_to_mfn
        mov %rax, VD_L1C_MFN(%r13)
        xor %eax, %eax                  # the vCPU bitmap with only our bit
        bts %r12, %rax
        mov %rax, VD_MASK(%r13)
        ret

        .include "churn.inc"
        .include "race.inc"
        .include "attack.inc"

# ── Data ─────────────────────────────────────────────────────────────────────

        .data
xen_magic:       .asciz "xen-3.0-x86_64"
word_churn:      .asciz "workload=churn"
word_attack:     .asciz "workload=attack"
word_race:       .asciz "workload=spurious-race"
word_iterations: .asciz "iterations="
one_char:        .byte 0, 0
idtr:   .short 32 * 16 - 1              # LIDT operand: limit, base
        .quad idt
        .balign 8
iterations:     .quad DEFAULT_ITERATIONS
workload:       .quad WORKLOAD_CHURN
failures:       .quad 0                 # failed checks, all vCPUs (LOCK INC)
vcpus_done:     .quad 0                 # vCPUs done with their workload (LOCK XADD)

        .bss
        .balign 8
start_info:     .quad 0                 # what start_info says, and what we derive
nr_pages:       .quad 0
pt_base:        .quad 0
nr_pt_frames:   .quad 0
p2m_list:       .quad 0
boot_stack_top: .quad 0
max_ram_page:   .quad 0
nr_vcpus:       .quad 0
v_end:          .quad 0
first_pool_pfn: .quad 0
l4_mfn:         .quad 0
l2_hook_mfn:    .quad 0
idt:            .skip 32 * 16
        .balign 64
vcpu_data:      .skip VD_SIZE * MAX_VCPUS
vcpu_context:   .skip VGC_SIZE          # VCPUOP_initialise's argument (copied by the call)

        .balign 4096
stacks:         .skip STACK_SIZE * MAX_VCPUS    # vCPU k's stack: stacks + k * STACK_SIZE, growing down

        .balign 4096
page_tables:
pt_l4:          .skip 4096
pt_l3:          .skip 4096
pt_l2_boot:     .skip 4096
pt_l2_churn:    .skip 4096
pt_l2_hook:     .skip 4096
pt_l1_churn:    .skip 4096 * MAX_VCPUS
page_tables_end:
