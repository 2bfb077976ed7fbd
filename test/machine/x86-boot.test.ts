// SPDX-License-Identifier: MIT
//
// The x86-64 boot protocol (docs/boot.md, "Boot protocol (x86-64)"): which
// images the loader refuses and why, and the state every CPU starts in,
// checked from the host and by a guest that inspects itself.

import { describe, expect, it } from "vitest";
import { Machine } from "../../emulator/machine/core/machine.ts";
import {
  bootX86, planLoad, LoadError, BOOT_MAGIC, GDT_DESCRIPTORS, CMDLINE_MAX_BYTES, encodeCmdline,
} from "../../emulator/machine/platform/x86/boot.ts";
import { image, imageFile, runSource, shootdown } from "../helpers/run.ts";

const MiB = 1n << 20n;
const TINY = "_start:\n  hlt\n";

function loadError(bytes: Uint8Array, ram = 64n * MiB): string {
  try {
    planLoad(bytes, ram);
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return (e as Error).message;
  }
  throw new Error("the image was accepted");
}

describe("the loader refuses hostile images", () => {
  const good = image(TINY);

  it("a truncated ELF names what is cut off", () => {
    expect(loadError(good.subarray(0, 40))).toMatch(/^truncated: the ELF header at offset 0x0 \(\+64 bytes\) is past the end of the 40-byte file$/);
    expect(loadError(good.subarray(0, 100))).toMatch(/^truncated: program header 0 at offset 0x40/);
  });

  it("garbage is not an ELF file", () => {
    const junk = new Uint8Array(4096).map((_, i) => (i * 37 + 11) & 0xff);
    expect(loadError(junk)).toBe("not an ELF file (bad magic at offset 0)");
  });

  it("an AArch64 image is the wrong machine", () => {
    const arm = image("_start:\n  wfi\n", { arch: "aarch64" });
    expect(loadError(arm)).toMatch(/aarch64 image \(e_machine at offset 18 is 183, EM_AARCH64\); this machine boots x86_64 images \(62, EM_X86_64\)/);
  });

  it("an ELFCLASS32 file is refused by its class", () => {
    const c32 = good.slice();
    c32[4] = 1;
    expect(loadError(c32)).toBe("not a 64-bit ELF file (EI_CLASS is 1 at offset 4; want 2, ELFCLASS64)");
  });

  it("a relocatable object is not an executable", () => {
    const rel = good.slice();
    rel[16] = 1;
    expect(loadError(rel)).toMatch(/^not an executable \(e_type is 1 at offset 16/);
  });

  it("a segment outside RAM", () => {
    const high = image(TINY, { base: 0x400_0000n });
    expect(loadError(high, 64n * MiB)).toBe(
      "program header 0 (p_paddr 0x4000000, p_memsz 0x1) reaches 0x4000001, outside RAM [0x0, 0x4000000); give more memory with --mem or link the image lower",
    );
    expect(() => planLoad(high, 128n * MiB)).not.toThrow();
  });

  it("a segment over the reserved area", () => {
    for (const base of [0x1000n, 0x8ff0n, 0x800n]) {
      const low = image(base === 0x800n ? `_start:\n  hlt\n  .skip 0x1000\n` : TINY, { base });
      expect(loadError(low)).toMatch(/overlaps the loader's reserved area 0x1000–0x8fff \(boot info, GDT, page tables\); images must load outside it$/);
    }
    expect(() => planLoad(image(TINY, { base: 0x9000n }), 64n * MiB)).not.toThrow();
    expect(() => planLoad(image(TINY, { base: 0x0n }), 64n * MiB)).not.toThrow();
  });

  it("shootdown run reports each with status 2 and the reason", () => {
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 100), /cannot load .*: truncated: program header 0/],
      [new Uint8Array(64).fill(0x90), /cannot load .*: not an ELF file \(bad magic at offset 0\)/],
      [image("_start:\n  wfi\n", { arch: "aarch64", base: 0x10_0000n }), /cannot load .*: program header 0 .* starts at 0x100000, outside RAM \[0x40000000, /],
      [image(TINY, { base: 0x400_0000n }), /cannot load .*: program header 0 .* outside RAM/],
      [image(TINY, { base: 0x2000n }), /cannot load .*: program header 0 .* overlaps the loader's reserved area/],
    ];
    for (const [bytes, message] of cases) {
      const r = shootdown("run", imageFile(bytes));
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
      expect(r.status).toBe(2);
    }
  });
});

describe("the command line", () => {
  it("fits in 3 KiB with its NUL", () => {
    expect(encodeCmdline("x".repeat(CMDLINE_MAX_BYTES - 1))).toHaveLength(3071);
    expect(() => encodeCmdline("x".repeat(CMDLINE_MAX_BYTES))).toThrow(/3072 bytes; at most 3071 fit \(3 KiB with its NUL\)/);
  });

  it("a longer one is a usage error of shootdown run", () => {
    const r = shootdown("run", imageFile(TINY), "--", "y".repeat(4000));
    expect(r.stderr.trim()).toBe("shootdown run: the guest command line is 4000 bytes; at most 3071 fit (3 KiB with its NUL)");
    expect(r.status).toBe(64);
  });
});

describe("the boot state, from the host", () => {
  const m = new Machine({ cpus: 3, maxPhysAddr: 46, ram: [{ base: 0n, size: 32n * MiB }] });
  const img = image("_start:\n  hlt\n  .data\nv: .quad 0x1122334455667788\n  .bss\nb: .skip 0x2000\n");
  bootX86(m, planLoad(img, 32n * MiB), { cmdline: "console=ttyS0 quiet" });

  it("every CPU is at the entry in 64-bit mode with the documented registers", () => {
    for (const cpu of m.cpus) {
      const s = cpu.state;
      const r = cpu.registers;
      expect(r).toMatchObject({ cr0: 0x8001_0031n, cr3: 0x3000n, cr4: 0x20n, efer: 0xd00n });
      expect(s).toMatchObject({
        rip: 0x10_0000n, rflags: 2n, cs: 0x08, ss: 0x10, cpl: 0, rdi: BigInt(cpu.index), rsi: 0x1000n, rsp: 0n, rax: 0n, r15: 0n,
        gdtrBase: 0x2000n, gdtrLimit: 0x37, idtrBase: 0n, idtrLimit: 0,
      });
      // x2APIC enabled (EN | EXTD), BSP on CPU 0 only.
      expect(s.apicBase & 0xd00n).toBe(cpu.index === 0 ? 0xd00n : 0xc00n);
    }
  });

  it("the GDT holds the documented descriptors and room for a TSS", () => {
    const got = GDT_DESCRIPTORS.map((_, i) => m.memory.read64(0x2000n + BigInt(8 * i)));
    expect(got).toEqual([0n, 0x0020_9a00_0000_0000n, 0x0000_9200_0000_0000n, 0x0000_f200_0000_0000n, 0x0020_fa00_0000_0000n, 0n, 0n]);
  });

  it("the first 4 GiB are identity-mapped with 2 MiB supervisor pages", () => {
    const cpu = m.cpu(1);
    for (const va of [0n, 0x1000n, 0x1f_ffffn, 0x20_0000n, 0x3fff_f000n, 0x4000_0000n, 0xffff_fff8n]) {
      const t = cpu.peek(va, { op: "write", priv: "kernel" });
      expect(t).toMatchObject({ ok: true, pa: va, pageSize: 2 << 20, user: false, writable: true, executeDisable: false });
      expect(cpu.peek(va, { op: "read", priv: "user" }).ok).toBe(false);
    }
    expect(cpu.peek(0x1_0000_0000n, { op: "read", priv: "kernel" })).toMatchObject({ ok: false, fault: { kind: "page-fault" } });
  });

  it("the image is loaded at p_paddr and .bss is zero", () => {
    expect(m.memory.read(0x10_0000n, 1)).toEqual(new Uint8Array([0xf4]));
    expect(m.memory.read64(0x10_1000n)).toBe(0x1122_3344_5566_7788n);
    expect(m.memory.read(0x10_2000n, 0x2000).every((b) => b === 0)).toBe(true);
  });

  it("the boot-information block and the command line", () => {
    expect(m.memory.read64(0x1000n)).toBe(BOOT_MAGIC);
    expect(Buffer.from(m.memory.read(0x1000n, 8)).toString("latin1")).toBe("SHDNBOOT");
    const v = new DataView(m.memory.read(0x1000n, 0x28).buffer);
    expect(v.getUint32(0x08, true)).toBe(1);
    expect(v.getUint32(0x0c, true)).toBe(3);
    expect(v.getBigUint64(0x10, true)).toBe(32n * MiB);
    expect(v.getBigUint64(0x18, true)).toBe(0x1100n);
    expect(v.getUint32(0x20, true)).toBe(19);
    expect(v.getUint32(0x24, true)).toBe(0);
    expect(Buffer.from(m.memory.read(0x1100n, 20)).toString("latin1")).toBe("console=ttyS0 quiet\0");
  });
});

/**
 * A guest that checks its own start state. Each CPU ORs a failure bit per
 * check into `fails`; CPU 0 waits for all and writes the mask to the debug
 * port, so the run's result is 0 exactly when every check passed.
 */
function bootCheckGuest(expect: { cpus: number; ramBytes: bigint; cmdline: string }): string {
  return `
        .equ EXPECT_CPUS, ${expect.cpus}
        .equ EXPECT_RAM, ${expect.ramBytes}
        .equ EXPECT_CMDLINE_LEN, ${Buffer.byteLength(expect.cmdline)}

# fail_unless_zero reg, bit: sets failure bit \`bit\` in %r15 unless reg is 0.
.macro fail_unless_zero reg, bit
        test \\reg, \\reg
        jz 1f
        bts $\\bit, %r15
1:
.endm

# fail_unless_eq a, b, bit: sets the bit unless a == b (a register, b anything cmp takes).
.macro fail_unless_eq a, b, bit
        cmp \\b, \\a
        je 1f
        bts $\\bit, %r15
1:
.endm

_start:
        # RFLAGS first, before any instruction changes a flag: PUSHFQ needs a
        # stack, so keep RSP and use an 8-byte one per CPU (MOV, LEA, PUSH and
        # POP change no flags).
        mov %rsp, saved_rsp(,%rdi,8)
        lea flag_stacks + 8(,%rdi,8), %rsp
        pushfq
        popq saved_rflags(,%rdi,8)
        mov saved_rsp(,%rdi,8), %rsp
        # Bit 0: every GPR but RDI and RSI is zero (r15 first: it holds the mask).
        mov %r15, %r14
        xor %r15, %r15
        fail_unless_zero %r14, 0
        .irp r, %rax, %rbx, %rcx, %rdx, %rbp, %rsp, %r8, %r9, %r10, %r11, %r12, %r13
        fail_unless_zero \\r, 0
        .endr
        # Bit 1: RSI = the boot information.
        fail_unless_eq %rsi, $0x1000, 1
        lea stacks(%rip), %rsp          # a stack: (index + 1) * 4 KiB into stacks
        lea 1(%rdi), %rax
        shl $12, %rax
        add %rax, %rsp
        mov %rdi, %r12
        # Bit 2: RDI = the CPU index = the x2APIC ID.
        mov $0x802, %ecx
        rdmsr
        fail_unless_eq %r12, %rax, 2
        # Bits 3–6: CR0, CR3, CR4, EFER.
        mov %cr0, %rax
        mov $0x80010031, %edx           # zero-extended: too wide for cmp's sign-extended imm32
        fail_unless_eq %rax, %rdx, 3
        mov %cr3, %rax
        fail_unless_eq %rax, $0x3000, 4
        mov %cr4, %rax
        fail_unless_eq %rax, $0x20, 5
        mov $0xc0000080, %ecx
        rdmsr
        shl $32, %rdx
        or %rdx, %rax
        fail_unless_eq %rax, $0xd00, 6
        # Bit 7: RFLAGS was 2 at the entry (IF clear).
        mov saved_rflags(,%r12,8), %rax
        fail_unless_eq %rax, $2, 7
        # Bit 8: GDTR = 0x2000, limit 0x37. Bit 9: IDTR = 0, limit 0.
        sub $16, %rsp
        sgdt (%rsp)
        movzwl (%rsp), %eax
        fail_unless_eq %rax, $0x37, 8
        mov 2(%rsp), %rax
        fail_unless_eq %rax, $0x2000, 8
        sidt (%rsp)
        movzwl (%rsp), %eax
        fail_unless_eq %rax, $0, 9
        mov 2(%rsp), %rax
        fail_unless_eq %rax, $0, 9
        add $16, %rsp
        # Bit 10: the GDT's seven quadwords.
        mov $0x2000, %rsi
        lea gdt_expected(%rip), %rdi
        xor %ecx, %ecx
2:      mov (%rsi,%rcx,8), %rax
        fail_unless_eq %rax, (%rdi,%rcx,8), 10
        inc %ecx
        cmp $7, %ecx
        jb 2b
        # Bit 11: the boot-information block.
        mov $0x1000, %rsi
        mov (%rsi), %rax
        mov $0x544f4f424e444853, %rdx
        fail_unless_eq %rax, %rdx, 11
        mov 8(%rsi), %eax
        fail_unless_eq %rax, $1, 11
        mov 12(%rsi), %eax
        fail_unless_eq %rax, $EXPECT_CPUS, 11
        mov 16(%rsi), %rax
        mov $EXPECT_RAM, %rdx
        fail_unless_eq %rax, %rdx, 11
        mov 24(%rsi), %rax
        fail_unless_eq %rax, $0x1100, 11
        mov 32(%rsi), %eax
        fail_unless_eq %rax, $EXPECT_CMDLINE_LEN, 11
        mov 36(%rsi), %eax
        fail_unless_eq %rax, $0, 11
        # Bit 12: the command line, NUL included.
        mov $0x1100, %rsi
        lea cmdline_expected(%rip), %rdi
        xor %ecx, %ecx
3:      movzbl (%rsi,%rcx), %eax
        movzbl (%rdi,%rcx), %edx
        fail_unless_eq %rax, %rdx, 12
        inc %ecx
        cmp $(EXPECT_CMDLINE_LEN + 1), %ecx
        jb 3b
        # Bit 13: PML4[0] → 0x4000, PDPT[0..3] → 0x5000.., 2048 PDEs of 2 MiB (A and D ignored).
        mov $0x3000, %rsi
        mov (%rsi), %rax
        and $~0x60, %rax
        fail_unless_eq %rax, $0x4003, 13
        xor %ecx, %ecx
4:      mov 0x1000(%rsi,%rcx,8), %rax
        and $~0x60, %rax
        mov %rcx, %rdx
        shl $12, %rdx
        add $0x5003, %rdx
        fail_unless_eq %rax, %rdx, 13
        inc %ecx
        cmp $4, %ecx
        jb 4b
        xor %ecx, %ecx
5:      mov 0x2000(%rsi,%rcx,8), %rax
        and $~0x60, %rax
        mov %rcx, %rdx
        shl $21, %rdx
        or $0x83, %rdx
        fail_unless_eq %rax, %rdx, 13
        inc %ecx
        cmp $2048, %ecx
        jb 5b
        # Bit 14: IA32_APIC_BASE has EN and EXTD, and BSP only on CPU 0.
        mov $0x1b, %ecx
        rdmsr
        and $0xd00, %eax
        mov $0xc00, %edx
        mov $0xd00, %ecx
        test %r12, %r12
        cmovz %ecx, %edx
        fail_unless_eq %rax, %rdx, 14

        # Report: every CPU ORs in its mask; CPU 0 writes the total.
        lock or %r15, fails(%rip)
        lock incq done(%rip)
        test %r12, %r12
        jnz 7f
6:      cmpq $EXPECT_CPUS, done(%rip)
        jb 6b
        mov fails(%rip), %rax
        out %eax, $0xf4
7:      hlt
        jmp 7b

        .data
gdt_expected:
        .quad 0, 0x00209a0000000000, 0x0000920000000000, 0x0000f20000000000, 0x0020fa0000000000, 0, 0
cmdline_expected:
        .asciz "${expect.cmdline}"
fails:  .quad 0
done:   .quad 0
saved_rsp:    .skip 8 * 64
saved_rflags: .skip 8 * 64
flag_stacks:  .skip 8 * 64
        .bss
        .balign 4096
stacks: .skip 4096 * 64
`;
}

describe("the boot state, as a guest sees it", () => {
  it.each([
    { cpus: 1, ramBytes: 64n * MiB, cmdline: "" },
    { cpus: 3, ramBytes: 32n * MiB, cmdline: "console=ttyS0 flush=ipi" },
  ])("$cpus CPU(s), $ramBytes bytes, command line '$cmdline'", (want) => {
    const r = runSource(bootCheckGuest(want), { cpus: want.cpus, memBytes: want.ramBytes, cmdline: want.cmdline });
    expect(r.end).toEqual({ kind: "debug-exit", code: 0n, cpu: 0 });
    expect(r.status).toBe(0);
  });

  it("the guest's checks can fail: the wrong CPU count, RAM and command line set bits 11 and 12", () => {
    const r = runSource(bootCheckGuest({ cpus: 2, ramBytes: 32n * MiB, cmdline: "a" }), { cpus: 2, memBytes: 64n * MiB, cmdline: "b" });
    expect(r.end).toEqual({ kind: "debug-exit", code: (1n << 11n) | (1n << 12n), cpu: 0 });
    expect(r.status).toBe(1);
  });

  it("through shootdown run, with the command line after --", () => {
    const path = imageFile(bootCheckGuest({ cpus: 2, ramBytes: 16n * MiB, cmdline: "root=/dev/vda  x" }));
    // Words after -- are joined with single spaces (an empty word makes two).
    const joined = shootdown("run", path, "--cpus", "2", "--mem", "16M", "--", "root=/dev/vda", "", "x");
    expect(joined.stderr).toMatch(/result: success/);
    expect(joined.status).toBe(0);
    const other = shootdown("run", path, "--cpus", "2", "--mem", "16384K", "--", "root=/dev/vda", "x");
    expect(other.stderr).toMatch(/result: guest-reported failure: CPU 0 wrote 0x1800 \(6144\) to the debug-exit port 0xf4/);
    expect(other.status).toBe(1);
  });
});
