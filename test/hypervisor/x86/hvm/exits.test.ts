// SPDX-License-Identifier: MIT
//
// The HVM host's VM exits, one named test each, with small guests that check
// themselves: where the bare machine defines the behaviour, the guest must
// end the same bare and under --hv --hvm (console, status, crash message).

import { describe, expect, it } from "vitest";
import { imageFile, shootdown, stats, type CliResult } from "../../../helpers/run.ts";
import { guest } from "./guests.ts";

const hvm = (elf: string, ...args: string[]) => shootdown("run", elf, "--hv", "--hvm", ...args, "--stats");
const bare = (elf: string, ...args: string[]) => shootdown("run", elf, ...args, "--stats");
const end = (r: CliResult) => stats(r).end;

/** vCPU 1 turns interrupts off, vCPU 0 sends it an IPI; vCPU 1 must not take it until STI. */
const IF_CLEAR = guest(`
        test %r12, %r12
        jz sender
        cli
        movl $1, ready(%rip)
1:      cmpl $0, sent(%rip)
        je 1b
        mov $20000, %ecx
2:      dec %ecx
        jnz 2b
        cmpq $0, taken(%rip)
        jne fail
        sti
        nop
        nop
        cmpq $1, taken(%rip)
        jne fail
        exit 0
fail:   exit 3
sender:
        sti
1:      cmpl $0, ready(%rip)
        je 1b
        mov $MSR_ICR, %ecx
        mov $0x41, %eax
        mov $1, %edx
        wrmsr
        movl $1, sent(%rip)
2:      hlt
        jmp 2b
ipi:    lock incq taken(%rip)
        call eoi
        iretq
`, [[0x41, "ipi"]], `
ready:  .long 0
sent:   .long 0
taken:  .quad 0
`);

describe("x2APIC: ICR writes are virtual IPIs", () => {
  it("a virtual IPI to a vCPU with IF clear waits until it sets IF (bare waits too)", () => {
    const elf = imageFile(IF_CLEAR, "if-clear.elf");
    expect(end(bare(elf, "--cpus", "2"))).toMatchObject({ kind: "debug-exit", code: 0 });
    for (const args of [["--cpus", "2"], ["--cpus", "1", "--vcpus", "2", "--seed", "3"], ["--cpus", "2", "--vcpus", "2", "--migrate", "0.5", "--seed", "1"]]) {
      const r = hvm(elf, ...args);
      expect(end(r), `${args.join(" ")}: ${r.stderr}`).toMatchObject({ kind: "debug-exit", code: 0 });
      expect(stats(r).hypervisor.outcomes["virtual IPIs"]).toBe(1);
    }
  });

  it("a vCPU running on another pCPU takes its IPI through a kick (a VM exit for an external interrupt)", () => {
    const r = hvm(imageFile(IF_CLEAR, "kick.elf"), "--cpus", "2");
    expect(stats(r).hypervisor.exits["external-interrupt (vcpu_kick)"]).toBeGreaterThan(0);
  });
});

/** Each vCPU reads its x2APIC ID (RDMSR 0x802) and CPUID.1:EBX[31:24] many times, wherever it runs: both must be its number. */
const OWN_ID = guest(`
        mov $3000, %r13
1:      mov $0x802, %ecx
        rdmsr
        cmp %r12d, %eax
        jne fail
        mov $1, %eax
        cpuid
        shr $24, %ebx
        cmp %r12d, %ebx
        jne fail
        dec %r13
        jnz 1b
        lock incl done(%rip)
2:      cmpl $3, done(%rip)
        jb 2b
        test %r12, %r12
        jnz 3f
        exit 0
3:      cli
        hlt
fail:   exit 3
`, [], "done: .long 0\n");

/** MSRs the bare CPU refuses: each RDMSR/WRMSR must fault with #GP(0), which the handler counts and skips (2 bytes). */
const BAD_MSRS = guest(`
        mov $0x12345678, %ecx           # no such MSR
        rdmsr
        mov $0x12345678, %ecx
        xor %eax, %eax
        xor %edx, %edx
        wrmsr
        mov $0xc0000080, %ecx           # EFER with a reserved bit (bit 1)
        rdmsr
        or $2, %eax
        wrmsr
        mov $0xc0000082, %ecx           # LSTAR with a non-canonical address
        mov $0x80000000, %edx
        xor %eax, %eax
        wrmsr
        mov $0x809, %ecx                # an x2APIC register that does not exist
        rdmsr
        mov $0x802, %ecx                # the x2APIC ID is read-only
        wrmsr
        mov faults(%rip), %rax
        call puthex
        mov codes(%rip), %rax
        call puthex
        mov $0xc0000081, %ecx           # STAR takes any value and reads it back
        mov $0x00100008, %edx
        mov $0x1234, %eax
        wrmsr
        xor %eax, %eax
        xor %edx, %edx
        rdmsr
        shl $32, %rdx
        or %rdx, %rax
        call puthex
        exit 0
gp:     lock incq faults(%rip)
        pop %rax                        # the error code
        or %rax, codes(%rip)
        addq $2, (%rsp)                 # past the RDMSR or WRMSR
        iretq
`, [[13, "gp"]], "faults: .quad 0\ncodes: .quad 0\n");

describe("MSR exits", () => {
  it("RDMSR 0x802 and CPUID.1 give each vCPU its own x2APIC ID, on whichever pCPU it runs", () => {
    const elf = imageFile(OWN_ID, "own-id.elf");
    expect(end(bare(elf, "--cpus", "3"))).toMatchObject({ kind: "debug-exit", code: 0 });
    for (const args of [["--cpus", "3"], ["--cpus", "2", "--vcpus", "3", "--migrate", "0.5", "--seed", "2"], ["--cpus", "1", "--vcpus", "3"]]) {
      const r = hvm(elf, ...args);
      expect(end(r), `${args.join(" ")}: ${r.stderr}`).toMatchObject({ kind: "debug-exit", code: 0 });
      expect(stats(r).hypervisor.exits.cpuid).toBe(9000);
    }
  });

  it("a reserved MSR, a reserved bit or a read-only x2APIC register gets #GP(0) in the guest, as bare", () => {
    const elf = imageFile(BAD_MSRS, "bad-msrs.elf");
    const b = bare(elf);
    expect(b.stdout).toBe("0000000000000006 0000000000000000 0010000800001234 ");
    const h = hvm(elf);
    expect(h.stdout).toBe(b.stdout);
    expect(end(h)).toEqual(end(b));
    // The six refused accesses, STAR's write and read, and the SVR write every guest starts with.
    expect(stats(h).hypervisor.exits.msr).toBe(9 + 1);
  });
});

/** CPUID leaves as the guest sees them (leaf 1's EBX without its APIC ID byte, which is the CPU's number). */
const CPUID_LEAVES = guest(`
        lea leaves(%rip), %rsi
1:      mov (%rsi), %eax
        cmp $-1, %eax
        je 2f
        xor %ecx, %ecx
        cpuid
        and $0x00ffffff, %ebx
        push %rdx
        push %rcx
        push %rbx
        call puthex
        pop %rax
        call puthex
        pop %rax
        call puthex
        pop %rax
        call puthex
        mov $10, %eax
        call putc
        add $4, %rsi
        jmp 1b
2:      exit 0
`, [], "leaves: .long 0, 1, 7, 0x80000000, 0x80000001, 0x80000008, 0x12345, -1\n");

describe("CPUID exits", () => {
  it("answer the bare CPU's values (vendor, features, address widths)", () => {
    const elf = imageFile(CPUID_LEAVES, "cpuid.elf");
    const b = bare(elf);
    const h = hvm(elf);
    expect(h.stdout).toBe(b.stdout);
    expect(h.stdout).toMatch(/^0000000000000007 00000000006f6853 00000000214d566e 00000000776f6474 \n/); // "ShootdownVM!" (EBX masked)
    expect(stats(h).hypervisor.exits.cpuid).toBe(7);
  });
});

/** IN from a port no device serves, COM1's LSR, then OUT of 5 to the debug-exit port. */
const PORTS = guest(`
        mov $0x80, %dx
        in %dx, %al
        movzx %al, %rax
        call puthex
        mov $0x3fd, %dx
        in %dx, %al
        movzx %al, %rax
        call puthex
        mov $0x80, %dx
        in %dx, %eax
        call puthex
        exit 5
`);

describe("I/O exits", () => {
  it("COM1, unknown ports and the debug-exit port behave as bare (status 1 for a non-zero code)", () => {
    const elf = imageFile(PORTS, "ports.elf");
    const b = bare(elf);
    const h = hvm(elf);
    expect(b.stdout).toBe("00000000000000ff 0000000000000060 00000000ffffffff ");
    expect(h.stdout).toBe(b.stdout);
    expect(h.status).toBe(1);
    expect(end(h)).toEqual(end(b));
    expect(stats(h).hypervisor.exits.io).toBeGreaterThanOrEqual(4);
  });
});

/** The APIC timer, one-shot: HLT with interrupts on until it fires; then HLT with interrupts off sleeps for good. */
const TIMER = guest(`
        mov $0x83e, %ecx                # divide by 1
        mov $0xb, %eax
        xor %edx, %edx
        wrmsr
        mov $0x832, %ecx                # LVT timer: vector 0x42, one-shot
        mov $0x42, %eax
        wrmsr
        mov $0x838, %ecx                # initial count
        mov $500000, %eax
        wrmsr
        sti
1:      hlt
        cmpq $0, ticks(%rip)
        je 1b
        mov $0x839, %ecx                # the current count is 0 once it fired
        rdmsr
        call puthex
        mov ticks(%rip), %rax
        call puthex
        cmpb $1, arg(%rip)
        je forever
        exit 0
forever:
        cli
        hlt
        exit 7
tick:   lock incq ticks(%rip)
        call eoi
        iretq
`, [[0x42, "tick"]], "ticks: .quad 0\narg: .byte 0\n");

describe("HLT exits", () => {
  it("a vCPU halted with interrupts on and its timer armed wakes when the timer fires, as bare", () => {
    const elf = imageFile(TIMER, "timer.elf");
    const b = bare(elf);
    expect(b.stdout).toBe("0000000000000000 0000000000000001 ");
    const h = hvm(elf, "--cpus", "1", "--vcpus", "1");
    expect(h.stdout).toBe(b.stdout);
    expect(end(h)).toEqual(end(b));
    expect(stats(h).hypervisor.exits.hlt).toBeGreaterThan(0);
  });

  it("HLT with interrupts off and nothing else to run is a deadlock, status 2, as bare", () => {
    const src = TIMER.replace("arg: .byte 0", "arg: .byte 1");
    const elf = imageFile(src, "hlt-forever.elf");
    const b = bare(elf);
    const h = hvm(elf);
    expect(b.status).toBe(2);
    expect(h.status).toBe(2);
    expect(h.stdout).toBe(b.stdout);
    expect(end(h)).toMatchObject({ kind: "crash", reason: "deadlock" });
  });
});

/** A read of guest-physical 2 GiB through the boot identity map: outside RAM. */
const OUTSIDE_RAM = guest(`
        mov $0x80000000, %rax
        mov (%rax), %rax
        exit 0
`);

describe("EPT violations", () => {
  it("an access to a GPA outside the domain's RAM ends the run as the bare machine's bus error", () => {
    const elf = imageFile(OUTSIDE_RAM, "outside-ram.elf");
    const b = end(bare(elf));
    const r = hvm(elf);
    expect(b).toMatchObject({ kind: "crash", reason: "bus-error" });
    expect(end(r)).toEqual(b);
    expect(r.status).toBe(2);
    expect(stats(r).hypervisor.exits["ept-violation"]).toBe(1);
  });
});

describe("triple faults", () => {
  it("a guest whose IDT cannot deliver an exception ends as the bare machine's triple fault", () => {
    const elf = imageFile(guest(`
        lidt bad_idtr(%rip)
        ud2
`, [], "bad_idtr: .word 0\n .quad 0\n"), "triple.elf");
    const b = end(bare(elf));
    const r = hvm(elf);
    expect(b).toMatchObject({ kind: "crash", reason: "triple-fault" });
    expect(end(r)).toEqual(b);
    expect(stats(r).hypervisor.exits["triple-fault"]).toBe(1);
  });
});

/** vmcall nr, a1, a2: RAX = nr, RDI = a1, RSI = a2, then the result printed. */
const vmcall = (nr: number, a1: number, a2: number) => `
        mov $${nr}, %eax
        mov $${a1}, %edi
        mov $${a2}, %esi
        vmcall
        call puthex`;

describe("VMCALL exits (Xen hypercalls)", () => {
  it("hvm_op HVMOP_flush_tlbs returns 0; a non-null argument -EINVAL; other hvm_ops and hypercalls -ENOSYS", () => {
    const elf = imageFile(guest(`${vmcall(34, 5, 0)}${vmcall(34, 5, 0x1000)}${vmcall(34, 99, 0)}${vmcall(0, 0, 0)}${vmcall(0x7fffffff, 0, 0)}
        exit 0
`), "vmcall.elf");
    const r = hvm(elf);
    expect(r.stdout).toBe("0000000000000000 ffffffffffffffea ffffffffffffffda ffffffffffffffda ffffffffffffffda ");
    expect(r.status).toBe(0);
    const s = stats(r);
    expect(s.hypervisor.exits.vmcall).toBe(5);
    expect(s.hypervisor.hypercalls["hvm_op HVMOP_flush_tlbs"]).toEqual({ "0": 1, "-EINVAL": 1 });
    expect(s.hypervisor.hypercalls["hypercall 0"]).toEqual({ "-ENOSYS": 1 });
  });
});

/**
 * vCPU 1 reads VA 32 MiB (a 2 MiB page of the boot map) with interrupts off,
 * so its TLB holds the entry; vCPU 0 points that PDE at 34 MiB and, unless
 * told not to, calls HVMOP_flush_tlbs. vCPU 1, its interrupts still off,
 * reads again: 0 when it sees the new page, 4 when it still sees the old.
 */
const FLUSH_WITH_IF_CLEAR = (flush: boolean) => guest(`
        test %r12, %r12
        jz initiator
        cli
1:      cmpl $0, go(%rip)
        je 1b
        mov $0x2000000, %rax
        mov (%rax), %rbx
        cmp $0xaaaa, %rbx
        jne fail
        movl $1, ready(%rip)
2:      cmpl $0, flushed(%rip)
        je 2b
        mov (%rax), %rbx
        cmp $0xbbbb, %rbx
        je 3f
        cmp $0xaaaa, %rbx
        jne fail
        exit 4
3:      exit 0
fail:   exit 3
initiator:
        movq $0xaaaa, 0x2000000
        movq $0xbbbb, 0x2200000
        movl $1, go(%rip)
1:      cmpl $0, ready(%rip)
        je 1b
        movq $0x2200083, 0x5080         # PD[16] (32 MiB) → 34 MiB, P RW PS
${flush ? vmcall(34, 5, 0) : ""}
        movl $1, flushed(%rip)
        cli
2:      hlt
        jmp 2b
`, [], "go: .long 0\nready: .long 0\nflushed: .long 0\n");

describe("HVMOP_flush_tlbs (hvm_flush_vcpu_tlb)", () => {
  it("has taken effect on the other vCPU when it returns, though that vCPU's interrupts are off", () => {
    const elf = imageFile(FLUSH_WITH_IF_CLEAR(true), "flush-if-clear.elf");
    for (const args of [["--cpus", "2"], ["--cpus", "1", "--vcpus", "2"], ["--cpus", "2", "--seed", "4"]]) {
      const r = hvm(elf, ...args);
      expect(end(r), `${args.join(" ")}: ${r.stdout} ${r.stderr}`).toMatchObject({ kind: "debug-exit", code: 0 });
      expect(r.stdout).toBe("0000000000000000 ");
      expect(stats(r).hypervisor.outcomes["vCPUs descheduled by a pause"] ?? 0).toBeGreaterThanOrEqual(args.includes("1") ? 0 : 1);
    }
  });

  it("without it the other vCPU goes on reading through its stale TLB entry (the check above can fail)", () => {
    const r = hvm(imageFile(FLUSH_WITH_IF_CLEAR(false), "no-flush.elf"), "--cpus", "2");
    expect(end(r)).toMatchObject({ kind: "debug-exit", code: 4 });
  });

  it("callers on several vCPUs at once all succeed: one holds the lock, the others restart the VMCALL", () => {
    const elf = imageFile(guest(`
        mov $40, %r13
1:      mov $34, %eax
        mov $5, %edi
        xor %esi, %esi
        vmcall
        test %rax, %rax
        jnz fail
        dec %r13
        jnz 1b
        lock incl done(%rip)
2:      cmpl $3, done(%rip)
        jb 2b
        test %r12, %r12
        jnz 3f
        exit 0
3:      cli
        hlt
fail:   exit 3
`, [], "done: .long 0\n"), "flush-race.elf");
    let restarts = 0;
    for (const seed of [1, 2, 3, 4]) {
      const r = hvm(elf, "--cpus", "3", "--seed", String(seed), "--quantum", "50");
      expect(end(r), r.stderr).toMatchObject({ kind: "debug-exit", code: 0 });
      const calls = stats(r).hypervisor.hypercalls["hvm_op HVMOP_flush_tlbs"];
      expect(calls["0"]).toBe(120);
      restarts += calls["-ERESTART (retried)"] ?? 0;
    }
    expect(restarts).toBeGreaterThan(0);
  });
});

/**
 * The same race as FLUSH_WITH_IF_CLEAR, flushed by a Hyper-V hypercall
 * through the hypercall page (HV_X64_MSR_GUEST_OS_ID, then
 * HV_X64_MSR_HYPERCALL with the page's GPA and the enable bit):
 * `hypercall` is the RCX input value, the input block at `input`.
 */
const HYPERV_FLUSH = (control: string, block: string) => guest(`
        test %r12, %r12
        jz initiator
        cli
1:      cmpl $0, go(%rip)
        je 1b
        mov $0x2000000, %rax
        mov (%rax), %rbx
        movl $1, ready(%rip)
2:      cmpl $0, flushed(%rip)
        je 2b
        mov (%rax), %rbx
        cmp $0xbbbb, %rbx
        je 3f
        exit 4
3:      exit 0
initiator:
        movq $0xaaaa, 0x2000000
        movq $0xbbbb, 0x2200000
        mov $0x40000000, %ecx           # HV_X64_MSR_GUEST_OS_ID: Linux's
        mov $0x8100, %eax
        xor %edx, %edx
        wrmsr
        mov $0x40000001, %ecx           # HV_X64_MSR_HYPERCALL: the page, enabled
        lea hcpage(%rip), %rax
        or $1, %rax
        xor %edx, %edx
        wrmsr
        movl $1, go(%rip)
1:      cmpl $0, ready(%rip)
        je 1b
        movq $0x2200083, 0x5080         # PD[16] (32 MiB) → 34 MiB, P RW PS
        mov $${control}, %rcx
        lea input(%rip), %rdx
        xor %r8, %r8
        lea hcpage(%rip), %rax
        call *%rax
        call puthex
        movl $1, flushed(%rip)
        cli
2:      hlt
        jmp 2b
`, [], `go: .long 0
ready: .long 0
flushed: .long 0
        .balign 4096
hcpage: .space 4096
input:  ${block}
`);

describe("Hyper-V hypercalls (VMCALL with EAX bit 31, through the hypercall page)", () => {
  it("CPUID 0x40000000 and up present Hyper-V (\"Microsoft Hv\", remote TLB flush recommended); VP_INDEX is the vCPU number", () => {
    const elf = imageFile(guest(`
        mov $0x40000000, %eax
        cpuid
        call puthex
        mov %rbx, %rax
        call puthex
        mov $0x40000004, %eax
        cpuid
        and $4, %eax
        call puthex
        mov $0x40000002, %ecx
        rdmsr
        call puthex
        exit 0
`), "hyperv-cpuid.elf");
    const r = hvm(elf, "--cpus", "1");
    expect(r.stdout).toBe("0000000040000006 000000007263694d 0000000000000004 0000000000000000 ");
  });

  it.each([
    ["HvCallFlushVirtualAddressSpace, all processors", "0x0002", ".quad 0, 3, 0"],
    ["HvCallFlushVirtualAddressSpace, VP 1 by mask", "0x0002", ".quad 0, 2, 2"],
    ["HvCallFlushVirtualAddressList, one GVA on VP 1", "0x100000003", ".quad 0, 2, 2, 0x2000000"],
  ])("%s: has taken effect on a vCPU with IF clear when it returns, no pause, no wait", (_, control, block) => {
    const elf = imageFile(HYPERV_FLUSH(control, block), "hyperv-flush.elf");
    for (const args of [["--cpus", "2"], ["--cpus", "1", "--vcpus", "2"]]) {
      const r = hvm(elf, ...args);
      expect(end(r), `${args.join(" ")}: ${r.stdout} ${r.stderr}`).toMatchObject({ kind: "debug-exit", code: 0 });
      // HV_STATUS_SUCCESS, with the reps completed of a rep call.
      expect(r.stdout).toBe(control.startsWith("0x1") ? "0000000100000000 " : "0000000000000000 ");
      const s = stats(r).hypervisor;
      expect(s.outcomes["vCPUs descheduled by a pause"]).toBeUndefined();
      expect(s.outcomes["vCPU TLB flushes"]).toBeGreaterThan(0);
    }
  });

  it("a flush that names only VP 0 leaves VP 1's stale entry (the check above can fail)", () => {
    const r = hvm(imageFile(HYPERV_FLUSH("0x0002", ".quad 0, 2, 1"), "hyperv-vp0.elf"), "--cpus", "2");
    expect(end(r)).toMatchObject({ kind: "debug-exit", code: 4 });
  });

  it("bad input gets its HV_STATUS, never an exception: an unknown call code, an unaligned input block", () => {
    const r = hvm(imageFile(guest(`
        mov $0x80000000, %eax
        mov $0x0099, %rcx
        vmcall
        call puthex
        mov $0x80000000, %eax
        mov $0x0002, %rcx
        mov $0x1003, %rdx
        vmcall
        call puthex
        exit 0
`), "hyperv-bad.elf"), "--cpus", "1");
    expect(r.stdout).toBe("0000000000000002 0000000000000004 ");
    expect(r.status).toBe(0);
  });
});

describe("a vCPU's clock", () => {
  it("never goes back across migrations: RDTSC on each vCPU only grows, as on a bare CPU", () => {
    const elf = imageFile(guest(`
        rdtsc
        shl $32, %rdx
        or %rax, %rdx
        mov %rdx, %r14
        mov $20000, %r13
1:      rdtsc
        shl $32, %rdx
        or %rax, %rdx
        cmp %r14, %rdx
        jb fail
        mov %rdx, %r14
        dec %r13
        jnz 1b
        lock incl done(%rip)
2:      cmpl $3, done(%rip)
        jb 2b
        test %r12, %r12
        jnz 3f
        exit 0
3:      cli
        hlt
fail:   exit 3
`, [], "done: .long 0\n"), "tsc.elf");
    for (const seed of ["1", "2"]) {
      const r = hvm(elf, "--cpus", "2", "--vcpus", "3", "--migrate", "0.5", "--seed", seed);
      expect(end(r), r.stderr).toMatchObject({ kind: "debug-exit", code: 0 });
      expect(stats(r).hypervisor.migrations).toBeGreaterThan(0);
    }
  });
});
