#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Regenerates qemu-7.2-gicv3.txt: what QEMU 7.2's GICv3 and generic timer
// answer to the register accesses of probe-steps.json, run on CPU 0 of
// `qemu-system-aarch64 -M virt,gic-version=3 -cpu max -smp 4`. (Without
// gic-version=3, QEMU 7.2's virt has a GICv2.) test/emulator/arm/gic.test.ts
// replays the same steps through shootdown's GIC and compares.
//
// Each step is one of
//   ["rd32" | "rd64", NAME, address]   print NAME=value of an MMIO load
//   ["wr32", address, value]           a 32-bit MMIO store
//   ["mrs", NAME, register]            print NAME=value of a system register
//   ["msr", register, value]           write a system register, then ISB
//
// Usage: node test/golden/gic/regenerate.mjs   (needs binutils-aarch64-linux-gnu
// and qemu-system-arm)

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const steps = JSON.parse(readFileSync(join(HERE, "probe-steps.json"), "utf8"));

/** ICC_* registers by their generic encoding, which every binutils accepts. */
const SYSREG = {
  ICC_PMR_EL1: "S3_0_C4_C6_0", ICC_HPPIR0_EL1: "S3_0_C12_C8_2", ICC_BPR0_EL1: "S3_0_C12_C8_3",
  ICC_RPR_EL1: "S3_0_C12_C11_3", ICC_SGI1R_EL1: "S3_0_C12_C11_5", ICC_IAR1_EL1: "S3_0_C12_C12_0",
  ICC_EOIR1_EL1: "S3_0_C12_C12_1", ICC_HPPIR1_EL1: "S3_0_C12_C12_2", ICC_BPR1_EL1: "S3_0_C12_C12_3",
  ICC_CTLR_EL1: "S3_0_C12_C12_4", ICC_SRE_EL1: "S3_0_C12_C12_5", ICC_IGRPEN1_EL1: "S3_0_C12_C12_7",
};
const reg = (name) => SYSREG[name] ?? name;

const lines = [
  "    .text", "    .globl _start", "_start:",
];
let n = 0;
const show = (name) => {
  lines.push(`    mov x20, x0`, `    adr x0, name${n}`, `    bl puts`, `    mov x0, x20`, `    bl puthex`);
  lines.push(`    b after${n}`, `name${n}: .asciz "${name}="`, `    .balign 4`, `after${n}:`);
  n++;
};
for (const s of steps) {
  if (s[0] === "rd32") { lines.push(`    ldr x1, =${s[2]}`, `    ldr w0, [x1]`); show(s[1]); }
  else if (s[0] === "rd64") { lines.push(`    ldr x1, =${s[2]}`, `    ldr x0, [x1]`); show(s[1]); }
  else if (s[0] === "wr32") lines.push(`    ldr x1, =${s[1]}`, `    ldr x2, =${s[2]}`, `    str w2, [x1]`);
  else if (s[0] === "mrs") { lines.push(`    mrs x0, ${reg(s[2])}`); show(s[1]); }
  else if (s[0] === "msr") lines.push(`    ldr x2, =${s[2]}`, `    msr ${reg(s[1])}, x2`, `    isb`);
  else throw new Error(`unknown step ${JSON.stringify(s)}`);
  if (lines.length % 400 < 12) lines.push("    b 1f", "    .ltorg", "1:");
}
lines.push(
  "    ldr w0, =0x84000008", "    hvc #0", "2:  b 2b",
  "puts:", "    ldr x1, =0x09000000", "3:  ldrb w2, [x0], #1", "    cbz w2, 4f", "    str w2, [x1]", "    b 3b", "4:  ret",
  "puthex:", "    ldr x1, =0x09000000", "    mov x3, #60",
  "5:  lsr x2, x0, x3", "    and x2, x2, #15", "    cmp x2, #10", "    add x4, x2, #'0'", "    add x2, x2, #('a' - 10)",
  "    csel x2, x4, x2, lo", "    str w2, [x1]", "    subs x3, x3, #4", "    b.ge 5b", "    mov w2, #'\\n'", "    str w2, [x1]", "    ret",
  "    .ltorg", "",
);

const dir = mkdtempSync(join(tmpdir(), "gic-probe-"));
try {
  writeFileSync(join(dir, "probe.s"), lines.join("\n"));
  execFileSync("aarch64-linux-gnu-as", ["-o", join(dir, "probe.o"), join(dir, "probe.s")]);
  execFileSync("aarch64-linux-gnu-ld", ["-Ttext=0x40080000", "-e", "_start", "-o", join(dir, "probe.elf"), join(dir, "probe.o")]);
  const out = execFileSync("qemu-system-aarch64", [
    "-M", "virt,gic-version=3", "-cpu", "max", "-smp", "4", "-nographic", "-kernel", join(dir, "probe.elf"),
  ], { timeout: 30_000, encoding: "utf8" });
  const version = execFileSync("qemu-system-aarch64", ["--version"], { encoding: "utf8" }).split("\n")[0];
  writeFileSync(join(HERE, "qemu-7.2-gicv3.txt"), `# ${version}\n${out.replace(/\r/g, "")}`);
  console.log(`${out.split("\n").filter(Boolean).length} values from ${version}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
