// SPDX-License-Identifier: MIT
//
// Choosing the table row for a statement's operands, as GNU as's
// match_template does: rows in table order, the first whose operands fit
// wins, with the operand size taken from the suffix or a register
// (process_suffix). When no row fits, the complaint is GNU as's.

import { AsmError, type AsmContext } from "../backend.ts";
import type { MemoryOperand, Operand } from "./operands.ts";
import type { Register, Size } from "./registers.ts";
import type { Candidates, Statement } from "./statement.ts";
import { widthSize, type Form, type Spec } from "./tables.ts";

export const fitsSigned = (v: bigint, bits: number) => v >= -(1n << BigInt(bits - 1)) && v < 1n << BigInt(bits - 1);

/**
 * GNU as reads an immediate that fits 16 or 32 bits unsigned as a signed
 * value of that size when the operand size is at most that, so that
 * $0xffffffff with %eax fits the sign-extended imm8 form (tc-i386.c
 * optimize_imm); 64-bit operations take the value as written.
 */
export function normalizeImmediate(v: bigint, osize: Size | undefined): bigint {
  if ((osize === 8 || osize === 16) && v >= 0n && v <= 0xffffn) return BigInt.asIntN(16, v);
  if ((osize === 8 || osize === 16 || osize === 32) && v >= 0n && v <= 0xffffffffn) return BigInt.asIntN(32, v);
  return v;
}

/** A general register operand. */
export const isGpr = (op: Operand): op is Operand & { kind: "reg"; reg: Extract<Register, { kind: "gpr" }> } =>
  op.kind === "reg" && op.reg.kind === "gpr";

/** A memory operand that is only an expression: an absolute address or a branch target. */
export const isPlainAddress = (op: Operand): op is MemoryOperand => op.kind === "mem" && !op.base && !op.index;

/** Near branches and calls through a register or memory (FF /2, FF /4) take `*`. */
export const isIndirectBranch = (f: Form) => f.opcode[0] === 0xff && (f.ext === 2 || f.ext === 4);

type Reason = "count" | "suffix" | "type" | "size";

export interface Match {
  form: Form;
  osize: Size | undefined;
  /** Operands in Intel order. */
  ops: Operand[];
}

/** Checks what does not depend on the operand size: the kind of each operand. */
function kindFits(form: Form, spec: Spec, op: Operand, cands: Candidates, st: Statement, ctx: AsmContext): boolean {
  if (op.kind !== "imm" && op.indirect && !(spec.method === "E" && isIndirectBranch(form))) return false;
  switch (spec.method) {
    case "E":
      if (op.kind === "mem") {
        if (isIndirectBranch(form) && !op.indirect) return false;
        return absoluteFits(op, ctx);
      }
      return isGpr(op);
    case "M": return op.kind === "mem" && absoluteFits(op, ctx);
    case "G": case "R": case "Z": return isGpr(op);
    case "C": return op.kind === "reg" && op.reg.kind === "cr";
    case "S": return op.kind === "reg" && op.reg.kind === "seg";
    case "AL": case "rAX": case "eAX": return isGpr(op) && op.reg.num === 0;
    case "CL": return isGpr(op) && op.reg.num === 1 && op.reg.size === 8;
    case "DX": return isGpr(op) && op.reg.num === 2 && op.reg.size === 16;
    case "1": return op.kind === "imm" && ctx.knownValue(op.expr) === 1n;
    case "I": return op.kind === "imm";
    case "J":
      if (!isPlainAddress(op) || op.seg || op.indirect) return false;
      // GNU as relaxes a branch only to a symbol it cannot resolve yet; {disp32} asks for the long form.
      if (spec.width === "b") return !st.pseudo.has("disp32") && ctx.knownValue(op.disp!) === undefined;
      return true;
    case "X": case "Y": {
      // The string operands: (%rsi) or (%esi) with any segment for X, (%rdi) or (%edi) in ES for Y (SDM Vol.2B MOVS).
      if (op.kind !== "mem" || op.index || op.disp !== undefined || op.base?.kind !== "gpr") return false;
      if (op.base.num !== (spec.method === "X" ? 6 : 7) || (op.base.size !== 64 && op.base.size !== 32)) return false;
      return spec.method === "X" || op.seg === undefined || op.seg.prefix === 0x26;
    }
    case "O": {
      if (!isPlainAddress(op)) return false;
      // GNU as's mov takes the moffs form for an address that disp32 cannot reach, or when {disp32}
      // asks for a wide address; movabs always.
      if (cands.stem === "movabs" || st.pseudo.has("disp32")) return true;
      const v = ctx.knownValue(op.disp!);
      // Under addr32 the moffs form's address is 32 bits (SDM Vol.2B "MOV", moffs), shorter than ModRM's disp32, and GNU as takes it.
      if (st.prefixes.addr === 0x67) return v === undefined || (v >= -(1n << 31n) && v < 1n << 32n);
      return v !== undefined && !fitsSigned(v, 32);
    }
  }
}

/** An absolute address (no base, no index) is a sign-extended disp32 except in the moffs forms. */
function absoluteFits(op: MemoryOperand, ctx: AsmContext): boolean {
  if (!isPlainAddress(op) || op.disp === undefined) return true;
  const v = ctx.knownValue(op.disp);
  return v === undefined || fitsSigned(v, 32);
}

/** Checks an operand against its spec at operand size `osize`; a Reason when it does not fit. */
function sizeFits(form: Form, spec: Spec, op: Operand, osize: Size | undefined, ctx: AsmContext): true | Reason {
  const size = widthSize(spec.width, osize);
  switch (spec.method) {
    case "E": case "G": case "R": case "Z": case "AL": case "rAX": case "eAX":
      if (isGpr(op) && op.reg.size !== size) return "size";
      return true;
    case "I": {
      if (op.kind !== "imm") return "type";
      const raw = ctx.knownValue(op.expr);
      if (raw === undefined) return spec.width === "bs" ? "type" : true;
      const v = normalizeImmediate(raw, osize);
      switch (spec.width) {
        case "bs": return fitsSigned(v, 8) ? true : "type";
        case "b":
          if (form.immError === "trunc") return true;
          return v >= -128n && v <= 255n ? true : immReason(form);
        case "w": return v >= -32768n && v <= 65535n ? true : immReason(form);
        case "z":
          if (osize === 64) return fitsSigned(v, 32) ? true : immReason(form);
          return true;
        default: return true;
      }
    }
    default: return true;
  }
}

const immReason = (form: Form): Reason => (form.immError === "size" ? "size" : "type");

/** Whether an operand gives the instruction its size (a register in a sized slot). */
function sizes(spec: Spec, op: Operand): boolean {
  return isGpr(op) && ["E", "G", "R", "Z", "AL", "rAX", "eAX"].includes(spec.method) && spec.width !== "w" && spec.width !== "d" && spec.width !== "q";
}

/** Why a row did not take the operands; the highest priority failure over all rows becomes the message. */
interface Failure {
  reason: Reason;
  message?: string;
  priority: number;
}
type Attempt = { match: Match } | Failure;

const failure = (reason: Reason, message?: string): Failure => ({
  reason,
  ...(message ? { message } : {}),
  priority: message ? 4 : { count: 0, suffix: 1, type: 2, size: 3 }[reason],
});

function tryForm(form: Form, opsAtt: Operand[], cands: Candidates, st: Statement, ctx: AsmContext): Attempt {
  const ops = form.noReverse ? opsAtt : [...opsAtt].reverse();
  if (ops.length !== form.operands.length) return failure("count");
  for (let i = 0; i < ops.length; i++) {
    // GNU as calls a lone register where memory or an immediate belongs a size mismatch (lidt %rax, ret %eax).
    if (!kindFits(form, form.operands[i]!, ops[i]!, cands, st, ctx)) return failure(isGpr(ops[i]!) && ops.length === 1 ? "size" : "type");
  }
  // {load} and {store} choose between the two directions of a reg,reg form.
  if (form.direction && ops.every((op) => op.kind === "reg")) {
    if (st.pseudo.has("load") && form.direction === "store") return failure("type");
    if (st.pseudo.has("store") && form.direction === "load") return failure("type");
  }
  const sized = ops.some((op, i) => sizes(form.operands[i]!, op));
  let candidates: (Size | undefined)[] = form.sizes.length ? [...form.sizes] : [undefined];
  const segmentMove = form.sizes.length === 0 && form.operands.some((s) => s.method === "S");
  if (cands.suffix !== undefined && segmentMove) {
    // GNU as takes a suffix that agrees with the other operand (the register's size, or w for memory) and writes no size prefix.
    const other = ops.find((op) => !(op.kind === "reg" && op.reg.kind === "seg"));
    if ((other && isGpr(other) ? other.reg.size : 16) !== cands.suffix) return failure("suffix");
  } else if (cands.suffix !== undefined) {
    if (!form.sizes.includes(cands.suffix)) return failure("suffix");
    candidates = [cands.suffix];
  } else if (form.default64 && !sized) {
    // A stack operation is 16 bits only when a suffix or a register says so.
    candidates = candidates.filter((s) => s === 64);
  }
  let reason: Reason = "size";
  let immFailure: Failure | undefined;
  const fitting = candidates.filter((osize) => {
    for (let i = 0; i < ops.length; i++) {
      const r = sizeFits(form, form.operands[i]!, ops[i]!, osize, ctx);
      if (r === true) continue;
      reason = r;
      if (form.operands[i]!.method === "I" && form.operands[i]!.width !== "bs" && form.operands.every((spec, j) => j === i || sizeFits(form, spec, ops[j]!, osize, ctx) === true)) {
        immFailure = failure(r, `operand ${r} mismatch for \`${cands.stem}'`);
      }
      return false;
    }
    return true;
  });
  // SDM Vol.2B XCHG: 90 is NOP, so exchanging %eax with itself (which zeroes bits 63:32) takes 87 C0.
  const xchgAcc = form.mnemonic === "xchg" && form.plusReg && ops.every((op) => isGpr(op) && op.reg.num === 0);
  const fits = xchgAcc ? fitting.filter((s) => s !== 32) : fitting;
  if (fits.length === 0) {
    if (xchgAcc && fitting.length) return failure("type");
    if (immFailure) return immFailure;
    const conflict = registerConflict(form, ops, cands);
    if (conflict) return failure("size", conflict);
    // GNU as's templates for control registers and MOVABS take only 64-bit registers, and call others a different type.
    const typeOnly = form.operands.some((spec) => spec.method === "R" || spec.method === "C" || (spec.method === "I" && spec.width === "v"));
    return failure(typeOnly ? "type" : reason);
  }
  let osize = fits[0];
  if (fits.length > 1) {
    if (form.default64 && fits.includes(64)) osize = 64;
    else throw new AsmError("no instruction mnemonic suffix given and no register operands; can't size instruction");
  }
  return { match: { form, osize, ops } };
}

/** GNU as's messages for a register that disagrees with the suffix or with another register (tc-i386.c check_*_reg). */
function registerConflict(form: Form, ops: Operand[], cands: Candidates): string | undefined {
  const widths = new Set(form.operands.filter((spec, i) => sizes(spec, ops[i]!)).map((spec) => (spec.width === "b" ? "b" : "v")));
  if (widths.size !== 1 || form.sizes.length === 0 || (form.sizes.length === 1 && form.sizes[0] !== 8)) return undefined;
  const regs = ops.filter((op, i) => sizes(form.operands[i]!, op)).filter(isGpr);
  if (cands.suffix !== undefined) {
    const wrong = regs.find((op) => op.reg.size !== cands.suffix);
    if (!wrong) return undefined;
    if (cands.suffix === 8) return `\`%${wrong.reg.name}' not allowed with \`${cands.stem}${cands.suffixLetter}'`;
    return `incorrect register \`%${wrong.reg.name}' used with \`${cands.suffixLetter}' suffix`;
  }
  const regSizes = [...new Set(regs.map((r) => r.reg.size))];
  if (regSizes.length < 2) return undefined;
  // A register of a size no row of the mnemonic takes is GNU as's operand
  // size mismatch; MOV's control- and segment-register rows make its
  // complaint an operand type mismatch (tc-i386.c match_template).
  if (cands.stem === "mov") return "operand type mismatch for `mov'";
  const sameArity = cands.forms.filter((f) => f.operands.length === ops.length);
  if (regSizes.some((size) => !sameArity.some((f) => f.sizes.includes(size)))) return `operand size mismatch for \`${cands.stem}'`;
  return `register type mismatch for \`${cands.stem}'`;
}

/** Picks the row GNU as picks, or throws GNU as's complaint. */
export function selectForm(cands: Candidates, opsAtt: Operand[], st: Statement, ctx: AsmContext): Match {
  if (cands.suffix !== undefined && !cands.forms.some((f) => f.sizes.includes(cands.suffix!))) {
    throw new AsmError(`invalid instruction suffix for \`${cands.stem}'`);
  }
  let worst: Failure = failure("count");
  for (const form of cands.forms) {
    const a = tryForm(form, opsAtt, cands, st, ctx);
    if ("match" in a) {
      checkAmbiguity(a.match, cands, opsAtt, st, ctx);
      return a.match;
    }
    if (a.priority > worst.priority) worst = a;
  }
  if (worst.message) throw new AsmError(worst.message);
  switch (worst.reason) {
    case "count": throw new AsmError(`number of operands mismatch for \`${cands.stem}'`);
    case "suffix": throw new AsmError(`operand type mismatch for \`${cands.stem}'`);
    case "size": throw new AsmError(`operand size mismatch for \`${cands.stem}'`);
    case "type": throw new AsmError(`operand type mismatch for \`${cands.stem}'`);
  }
}

/**
 * A memory operand with nothing to give it a size is ambiguous when the
 * byte and wider rows of GNU as's template would both take it; GNU as warns
 * and assumes 32 bits, which this assembler refuses.
 */
function checkAmbiguity(m: Match, cands: Candidates, opsAtt: Operand[], st: Statement, ctx: AsmContext): void {
  if (cands.suffix !== undefined || m.form.sizes.length === 0 || m.form.default64) return;
  if (m.ops.some((op, i) => sizes(m.form.operands[i]!, op))) return;
  if (!m.ops.some((op, i) => op.kind === "mem" && "EM".includes(m.form.operands[i]!.method))) return;
  const shape = (f: Form) => f.operands.map((s) => s.method).join(",");
  const sibling = cands.forms.find(
    (f) => f !== m.form && shape(f) === shape(m.form) && f.sizes.join() !== m.form.sizes.join() && "match" in tryForm(f, opsAtt, cands, st, ctx),
  );
  if (sibling) throw new AsmError("no instruction mnemonic suffix given and no register operands; can't size instruction");
}
