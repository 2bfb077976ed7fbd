// SPDX-License-Identifier: MIT
//
// The HVM hypercall surface on a running domain: a guest generated for the
// case, booted with `shootdown run IMAGE --hv --hvm` and random vCPU, pCPU,
// seed and migration options. CPU 0 of the guest reads CPUID
// 0x40000000..0x40000006, writes HV_X64_MSR_GUEST_OS_ID and enables the
// hypercall page, reads HV_X64_MSR_VP_INDEX, then makes the case's hypercalls
// one by one, each by VMCALL itself or by a call into the hypercall page,
// with the registers from a table; it prints every result and exits with 0.
// The other CPUs spin with interrupts disabled, so a flush that waited for
// them to take an interrupt would never return.
//
// The answers are checked against the hypercall layer run on the same
// registers over the same input blocks (hvmHypercall, hvm-op.ts): where the
// layer's answer does not depend on guest memory outside those blocks (it is
// the same whether that memory is unreadable or zeros), RAX must be exactly
// it; otherwise it must be a status or errno the layer defines. CPUID must be
// cpuidViridianLeaves's. The run must end with status 0 within its step
// bound: a flush that never completes is a failure of kind "exit-status"
// (status 3, --max-steps), a crash or an internal error as the harness
// classifies them.

import { assemble, formatDiagnostic, writeElf } from "../../asm/index.ts";
import { HV_STATUS_NAMES, HV_X64_MSR_GUEST_OS_ID, HV_X64_MSR_HYPERCALL, HV_X64_MSR_VP_INDEX } from "../../hypervisor/x86/hvm/hyperv-tlfs.ts";
import { hvmHypercall, type HvmHypercallRegs } from "../../hypervisor/x86/hvm/hvm-op.ts";
import { cpuidViridianLeaves, newViridianDomain, type HvmGuest } from "../../hypervisor/x86/hvm/viridian.ts";
import { buildFlushCall, type FlushCallChoices } from "../hypervisor/hvm/calls.ts";
import { type CaseResult, Random, runCli, classify, scratchFile } from "./harness.ts";

/** The guest's fixed layout (its .data section starts at DATA). */
const DATA = 0x20_0000n;
const RESULTS = DATA + 0x1000n;
const CPUID_OUT = DATA + 0x2000n;
const HYPERCALL_PAGE = DATA + 0x3000n;
const BLOCKS = [DATA + 0x4000n, DATA + 0x5000n];
/** The table (64 bytes a call) must end below RESULTS. */
const MAX_CALLS = 40;
/** The guest-physical address width the HVM host gives its guests: the machine's default MAXPHYADDR. */
const PHYS_ADDR_BITS = 46;
/** A Linux guest OS ID (open source, OS type Linux). */
const GUEST_OS_ID = 0x8100_0006_0800_0000n;

export interface TableEntry {
  readonly regs: Omit<HvmHypercallRegs, "cpl">;
  /** Through the hypercall page (which sets EAX bit 31 with a 32-bit OR) rather than VMCALL. */
  readonly viaPage: boolean;
  readonly what: string;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;
const q = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16)}`;

function word(r: Random): bigint {
  return r.chance(0.5) ? r.interesting() : (BigInt(r.int(2 ** 32)) << 32n) | BigInt(r.int(2 ** 32));
}

/** The case's calls and the words of its two input blocks. */
function drawCalls(r: Random, flushChoices: (r: Random) => FlushCallChoices): { table: TableEntry[]; blocks: bigint[][] } {
  const blocks: bigint[][] = [Array(512).fill(0n), Array(512).fill(0n)];
  const table: TableEntry[] = [];
  const n = 1 + r.int(MAX_CALLS);
  while (table.length < n) {
    const base = { rax: 0n, rcx: word(r), rdx: word(r), rsi: 0n, rdi: 0n, r8: word(r), r10: word(r) };
    const viaPage = r.chance(0.3);
    switch (r.int(4)) {
      case 0:
      case 1: {
        // A flush call in a block of its own; a later call may overwrite an earlier one's block, so each call
        // takes the next free block and the case has at most two flush calls that read memory.
        const k = table.filter((t) => t.what.startsWith("flush")).length;
        if (k >= BLOCKS.length) break;
        const c = buildFlushCall(flushChoices(r), BLOCKS[k]!);
        const at = Number(((c.gpa & ~7n) - BLOCKS[k]!) / 8n);
        c.words.forEach((w, j) => {
          if (at + j < 512) blocks[k]![at + j] = BigInt.asUintN(64, w);
        });
        table.push({ regs: { ...base, rax: 0x8000_0000n, rcx: c.rcx, rdx: c.gpa }, viaPage, what: `flush ${hex(c.rcx)} at ${hex(c.gpa)}` });
        break;
      }
      case 2: {
        const op = r.chance(0.7) ? 5n : word(r);
        const arg = r.chance(0.7) ? 0n : word(r);
        table.push({ regs: { ...base, rax: r.chance(0.9) ? 34n : word(r) & ~0x8000_0000n, rdi: op, rsi: arg }, viaPage: false, what: `xen ${hex(op)} ${hex(arg)}` });
        break;
      }
      default:
        table.push({ regs: { ...base, rax: 0x8000_0000n | (word(r) & 0x7fff_ffffn) }, viaPage, what: `viridian ${hex(base.rcx)}` });
    }
  }
  return { table, blocks };
}

/** The guest's source: code, then the data at DATA with the table, the blocks and room for the results. */
function guestSource(table: TableEntry[], blocks: bigint[][]): string {
  const rows = table.map((t) => `        .quad ${[t.regs.rax, t.regs.rcx, t.regs.rdx, t.regs.rdi, t.regs.rsi, t.regs.r8, t.regs.r10, t.viaPage ? 1n : 0n].map(q).join(", ")}`);
  return `
        .equ COM1, 0x3f8
        .equ DEBUG_EXIT, 0xf4
        .text
        .globl _start
_start: test %rdi, %rdi
        jnz park
        lea stack_top(%rip), %rsp
        # CPUID 0x40000000..0x40000006: EAX, EBX, ECX, EDX of each, in cpuid_out.
        mov $0x40000000, %r12d
        lea cpuid_out(%rip), %r13
1:      mov %r12d, %eax
        xor %ecx, %ecx
        cpuid
        mov %eax, 0(%r13)
        mov %ebx, 4(%r13)
        mov %ecx, 8(%r13)
        mov %edx, 12(%r13)
        add $16, %r13
        inc %r12d
        cmp $0x40000007, %r12d
        jne 1b
        # Report the guest OS, enable the hypercall page, read the VP index.
        mov $${hex(HV_X64_MSR_GUEST_OS_ID)}, %ecx
        mov $${hex(GUEST_OS_ID & 0xffff_ffffn)}, %eax
        mov $${hex(GUEST_OS_ID >> 32n)}, %edx
        wrmsr
        mov $${hex(HV_X64_MSR_HYPERCALL)}, %ecx
        mov $${hex(HYPERCALL_PAGE | 1n)}, %eax
        xor %edx, %edx
        wrmsr
        mov $${hex(HV_X64_MSR_VP_INDEX)}, %ecx
        rdmsr
        mov %eax, vp_index(%rip)
        # The calls.
        lea table(%rip), %r14
        lea results(%rip), %r13
        mov $${table.length}, %r12d
2:      mov 0(%r14), %rax
        mov 8(%r14), %rcx
        mov 16(%r14), %rdx
        mov 24(%r14), %rdi
        mov 32(%r14), %rsi
        mov 40(%r14), %r8
        mov 48(%r14), %r10
        cmpq $0, 56(%r14)
        jne 3f
        vmcall
        jmp 4f
3:      mov $${hex(HYPERCALL_PAGE)}, %r15
        call *%r15
4:      mov %rax, (%r13)
        add $64, %r14
        add $8, %r13
        dec %r12d
        jnz 2b
        # Print "R <hex>" per result, "C <hex>" per CPUID register, "V <hex>", then exit 0.
        lea results(%rip), %r13
        mov $${table.length}, %r12d
5:      mov $82, %al                # 'R'
        call line
        add $8, %r13
        dec %r12d
        jnz 5b
        lea cpuid_out(%rip), %r13
        mov $28, %r12d
6:      mov $67, %al                # 'C'
        mov (%r13), %ebx
        call putc
        mov %rbx, %rax
        call hex64
        add $4, %r13
        dec %r12d
        jnz 6b
        lea vp_index(%rip), %r13
        mov $86, %al                # 'V'
        call line
        xor %eax, %eax
        out %al, $DEBUG_EXIT
park:   pause
        jmp park

# line: the letter in AL, a space, the quadword at (%r13) in hex, a newline.
line:   call putc
        mov (%r13), %rax
hex64:  push %rax
        mov $32, %al                # ' '
        call putc
        pop %rdx
        mov $16, %ecx
7:      rol $4, %rdx
        mov %edx, %eax
        and $15, %eax
        add $48, %al                # '0'
        cmp $57, %al                # '9'
        jbe 8f
        add $39, %al                # 'a' - '0' - 10
8:      call putc
        dec %ecx
        jnz 7b
        mov $10, %al                # newline
putc:   push %rdx
        mov $COM1, %dx
        out %al, %dx
        pop %rdx
        ret

        .data
table:
${rows.join("\n")}
        .balign 4096
results: .skip 8 * ${MAX_CALLS}
vp_index: .quad 0
        .balign 4096
cpuid_out: .skip 16 * 7
        .balign 4096
hypercall_page: .skip 4096
${blocks.map((b, k) => `block${k}:\n${b.map((w) => `        .quad ${q(w)}`).join("\n")}`).join("\n")}
stack:  .skip 4096
stack_top:
`;
}

/** Assembles the guest and checks that its data landed where the expectations assume. */
function buildGuest(source: string): Uint8Array | string {
  const r = assemble("x86_64", { sources: [{ path: "hvm-fuzz.s", text: source }], sectionStarts: new Map([[".data", DATA]]) });
  if (!r.program) return `the generated guest does not assemble: ${r.diagnostics.map(formatDiagnostic).join("; ")}`;
  const at = (name: string) => r.program!.symbols.find((s) => s.name === name)?.value;
  const want: [string, bigint][] = [["results", RESULTS], ["cpuid_out", CPUID_OUT], ["hypercall_page", HYPERCALL_PAGE], ["block0", BLOCKS[0]!], ["block1", BLOCKS[1]!]];
  for (const [name, address] of want) if (at(name) !== address) return `the generated guest's ${name} is at ${at(name)}, not ${hex(address)}`;
  return writeElf(r.program);
}

/** The layer over the blocks, with the rest of guest memory unreadable or, with `zeros`, reading as zeros. */
function modelGuest(blocks: bigint[][], vcpuCount: number, zeros: boolean): HvmGuest {
  const bytes = BLOCKS.map((_, k) => {
    const b = new Uint8Array(4096);
    const v = new DataView(b.buffer);
    blocks[k]!.forEach((w, j) => v.setBigUint64(8 * j, w, true));
    return b;
  });
  return {
    vcpuCount,
    vpIndex: 0,
    physAddrBits: PHYS_ADDR_BITS,
    readGuestPhys(gpa, length) {
      const k = BLOCKS.findIndex((b) => gpa >= b && gpa + BigInt(length) <= b + 4096n);
      if (k >= 0) return bytes[k]!.slice(Number(gpa - BLOCKS[k]!), Number(gpa - BLOCKS[k]!) + length);
      return zeros ? new Uint8Array(length) : undefined;
    },
    writeGuestPhys: () => false,
  };
}

/** What RAX must be after entry i, or undefined where guest memory outside the blocks could change it. */
function expectedRax(t: TableEntry, blocks: bigint[][], vcpuCount: number): bigint | undefined {
  // The hypercall page's `or $0x80000000,%eax` is a 32-bit operation: it clears RAX's upper half.
  const rax = t.viaPage ? (t.regs.rax & 0xffff_ffffn) | 0x8000_0000n : t.regs.rax;
  const regs = { ...t.regs, rax, cpl: 0 };
  const a = hvmHypercall(regs, modelGuest(blocks, vcpuCount, false));
  const b = hvmHypercall(regs, modelGuest(blocks, vcpuCount, true));
  return a.rax === b.rax ? a.rax : undefined;
}

/** Is RAX a result the layer defines: a Viridian status (with any reps completed), or one of the Xen results? */
function defined(t: TableEntry, rax: bigint): boolean {
  if (t.viaPage || (t.regs.rax & 0x8000_0000n) !== 0n) return HV_STATUS_NAMES[Number(rax & 0xffffn)] !== undefined && (rax & ~0xfff_0000_ffffn) === 0n;
  return [0n, -22n, -38n].some((rc) => rax === BigInt.asUintN(64, rc));
}

/** A case's guest image (or why the harness could not build it), its calls and input blocks. */
export function hvmCaseImage(r: Random, flushChoices: (r: Random) => FlushCallChoices): { image: Uint8Array | string; table: TableEntry[]; blocks: bigint[][] } {
  const { table, blocks } = drawCalls(r, flushChoices);
  return { image: buildGuest(guestSource(table, blocks)), table, blocks };
}

/** One running-domain case. */
export async function hvmRunCase(r: Random, scratch: string, flushChoices: (r: Random) => FlushCallChoices): Promise<CaseResult> {
  const { image, table, blocks } = hvmCaseImage(r, flushChoices);
  if (typeof image === "string") return { failure: "exit-status", detail: `harness: ${image}` };
  const path = scratchFile(`${scratch}.elf`, image);
  const vcpus = 1 + r.int(8);
  const args = ["run", path, "--hv", "--hvm", "--vcpus", String(vcpus), "--cpus", String(1 + r.int(4)), "--seed", String(r.int(100_000)), "--max-steps", "50000000"];
  if (r.chance(0.3)) args.push("--migrate", r.pick(["0.1", "0.5", "1"]));
  if (r.chance(0.3)) args.push("--quantum", String(1 + r.int(200)));
  const what = `run ${args.slice(2).join(" ")} with ${table.map((t) => t.what).join("; ")}`;
  const o = await runCli({ args, allowed: [0], timeoutMs: 120_000, what });
  const c = classify(o, { allowed: [0] });
  if (c.failure) return { ...c, detail: `${c.detail} [${what.slice(0, 800)}]` };

  const results = [...o.stdout.matchAll(/^R ([0-9a-f]{16})$/gm)].map((m) => BigInt(`0x${m[1]}`));
  const cpuid = [...o.stdout.matchAll(/^C ([0-9a-f]{16})$/gm)].map((m) => Number(BigInt(`0x${m[1]}`) & 0xffff_ffffn));
  if (results.length !== table.length || cpuid.length !== 28) return { failure: "exit-status", detail: `the guest printed ${results.length} results and ${cpuid.length} CPUID words [${what.slice(0, 800)}]` };
  const d = newViridianDomain();
  for (let l = 0; l < 7; l++) {
    const want = cpuidViridianLeaves(0x4000_0000 + l, d, { vcpuCount: vcpus })!;
    const got = cpuid.slice(4 * l, 4 * l + 4);
    if (got.join() !== [want.eax, want.ebx, want.ecx, want.edx].join()) return { failure: "exit-status", detail: `CPUID ${hex(0x4000_0000 + l)} is ${got.map(hex).join(" ")}, not ${[want.eax, want.ebx, want.ecx, want.edx].map(hex).join(" ")} [${what.slice(0, 400)}]` };
  }
  const vp = /^V ([0-9a-f]{16})$/m.exec(o.stdout)?.[1];
  if (vp !== "0".repeat(16)) return { failure: "exit-status", detail: `CPU 0 read HV_X64_MSR_VP_INDEX as ${vp ?? "nothing"} [${what.slice(0, 400)}]` };
  for (const [i, t] of table.entries()) {
    const want = expectedRax(t, blocks, vcpus);
    const got = results[i]!;
    if (want !== undefined ? got !== want : !defined(t, got)) {
      return { failure: "exit-status", detail: `call ${i + 1} (${t.what}${t.viaPage ? ", through the hypercall page" : ""}) returned ${hex(got)}; ${want !== undefined ? `the layer answers ${hex(want)}` : "no status or errno the layer defines"} [${what.slice(0, 800)}]` };
    }
  }
  return {};
}
