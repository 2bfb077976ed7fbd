// SPDX-License-Identifier: MIT
//
// Printing a decoded instruction twice: as objdump -d prints it (binutils
// 2.40, AT&T syntax, i386-dis.c), and as GNU as source that assembles back
// to the same bytes.
//
// objdump's line: the unused prefixes by name, the mnemonic (with a size
// suffix where i386-dis.c's template asks for one), padded to six columns
// and a space, then the operands in AT&T order, then "        # <address>"
// for a RIP-relative operand.

import type { DecodedInsn, DecodedOperand } from "./decode.ts";
import { LEGACY_PREFIXES, rexName } from "./prefixes.ts";
import { SUFFIX } from "./registers.ts";

/** How the printer names an address (a branch target or what a RIP-relative operand points to). */
export type AddressNamer = (address: bigint) => string;

const isIndirectBranch = (insn: DecodedInsn) => insn.form.opcode[0] === 0xff && (insn.form.ext === 2 || insn.form.ext === 4);

/** The mnemonic with objdump's suffix: Q for a memory operand, P for a 16-bit stack operation without a register, R always. */
function mnemonic(insn: DecodedInsn): string {
  const { form, osize, operands } = insn;
  // With a 32-bit address objdump calls the moffs forms mov, not movabs.
  if (operands.some((o) => o.kind === "moffs") && insn.prefixes.some((p) => p.byte === 0x67)) return "mov";
  const hasMemory = operands.some((o) => o.kind === "mem");
  const hasRegister = operands.some((o) => o.kind === "reg" && o.name !== "(dx)");
  switch (form.suffix) {
    case "Q": return hasMemory && osize ? form.mnemonic + SUFFIX[osize] : form.mnemonic;
    case "P": return osize === 16 && !hasRegister ? `${form.mnemonic}w` : form.mnemonic;
    case "R": return form.mnemonic + SUFFIX[osize!];
    case "": return form.mnemonic;
  }
}

/** The prefixes the instruction did not use, in byte order, as objdump names them. */
function unusedPrefixes(insn: DecodedInsn): string[] {
  const names = insn.prefixes.filter((p) => !p.used).map((p) => p.name ?? LEGACY_PREFIXES[p.byte]!.name);
  if (insn.rex && insn.rex !== insn.rexUsed) names.push(rexName(insn.rex));
  return names;
}

/** Operands in AT&T order (the implicit 1 of a shift is not printed). */
function attOrder(insn: DecodedInsn): DecodedOperand[] {
  const ops = insn.form.noReverse ? insn.operands : [...insn.operands].reverse();
  return ops.filter((o) => o.kind !== "one");
}

function operandText(insn: DecodedInsn, o: DecodedOperand, name: AddressNamer, source: boolean): string {
  const star = isIndirectBranch(insn) ? "*" : "";
  switch (o.kind) {
    case "reg": return o.name === "(dx)" ? "(%dx)" : `${star}%${o.name}`;
    case "imm": return `$0x${o.value.toString(16)}`;
    case "rel": return name(o.target);
    case "moffs": return `${o.seg ? `%${o.seg}:` : ""}0x${o.address.toString(16)}`;
    case "string": return o.text;
    case "mem": {
      const seg = o.mem.seg ? `%${o.mem.seg}:` : "";
      if (source && o.mem.rip) return `${star}${seg}${name(o.mem.rip.target)}(%${o.mem.addr32 ? "eip" : "rip"})`;
      return `${star}${seg}${o.mem.text}`;
    }
    case "one": return "";
  }
}

/** The line objdump -d prints after the address and bytes (trailing blanks trimmed). */
export function objdumpText(insn: DecodedInsn, name: AddressNamer): string {
  const head = [...unusedPrefixes(insn), mnemonic(insn)].join(" ");
  const ops = attOrder(insn);
  if (ops.length === 0) return head;
  let text = `${head.padEnd(6)} ${ops.map((o) => operandText(insn, o, name, false)).join(",")}`;
  const rip = insn.operands.find((o) => o.kind === "mem" && o.mem.rip);
  if (rip?.kind === "mem") text += `        # ${name(rip.mem.rip!.target)}`;
  return text;
}


/**
 * Source for GNU as, or undefined where AT&T syntax has no spelling
 * (%riz). Pseudo-prefixes keep the encodings GNU as would not choose:
 * {load} for the 8B-style direction of a register move, {disp8}/{disp32} for
 * a displacement wider than needed, {disp32} for a near branch.
 */
export function sourceText(insn: DecodedInsn, name: AddressNamer, extraPrefixes: string[] = []): string | undefined {
  const words = [...extraPrefixes, ...unusedPrefixes(insn).map((p) => p.toLowerCase())];
  const pseudo: string[] = [];
  if (insn.form.direction === "load" && insn.operands.every((o) => o.kind === "reg")) pseudo.push("{load}");
  for (const o of insn.operands) {
    if (o.kind !== "mem") continue;
    if (o.mem.unspellable) return undefined;
    if (!o.mem.hasBase || o.mem.rip) continue;
    const d = o.mem.disp;
    const natural = d === 0n && !o.mem.baseIsBp ? 0 : d >= -128n && d <= 127n ? 1 : 4;
    if (o.mem.dispSize !== natural) pseudo.push(o.mem.dispSize === 1 ? "{disp8}" : "{disp32}");
  }
  const jump = insn.form.operands[0]?.method === "J" && insn.form.operands[0].width === "z" && insn.form.mnemonic !== "call";
  if (jump) pseudo.push("{disp32}");
  const ops = attOrder(insn).map((o) => operandText(insn, o, name, true));
  return [...words, ...pseudo, mnemonic(insn)].join(" ") + (ops.length ? ` ${ops.join(",")}` : "");
}
