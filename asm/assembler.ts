// SPDX-License-Identifier: MIT
//
// The assembler's core: reads statements (following .include, expanding
// macros and repetitions, skipping false conditionals), defines labels and
// symbols, runs directives, hands instructions to the architecture's
// backend, then lays the sections out, places them and resolves fixups.
// Every error is collected with its file and line, as GNU as reports them,
// and assembly goes on with the next statement.

import { dirname, resolve } from "node:path";
import { AsmError, type ArchName, type AsmContext, type Backend, type Fixup } from "./backend.ts";
import { parseExpr, symbolsOf, type Expr } from "./expr.ts";
import { Frag, Section, alignPadding } from "./frags.ts";
import { bindArguments, parseIrp, parseMacroHeader, substitute, type Macro } from "./macros.ts";
import { splitOperands, statementsOf, stringEnd, type Location, type Statement } from "./source.ts";
import { SymbolTable, type Value } from "./symbols.ts";
import type { LineEntry, Program, ProgramSection, ProgramSymbol, SectionFlags } from "./program.ts";
import { placeSections } from "./placement.ts";

export interface SourceFile {
  path: string;
  text: string;
}

export interface AssembleOptions {
  /** The sources, assembled in order as if concatenated. */
  sources: SourceFile[];
  /** Reads a file named by .include (resolved against the including file's directory and includeDirs); undefined when missing. */
  readFile?: (path: string) => string | undefined;
  includeDirs?: string[];
  /** Section addresses, as ld's -Ttext/-Tdata/-Tbss/--section-start; .text defaults to the architecture's base. */
  sectionStarts?: Map<string, bigint>;
  /** The entry symbol (ld's -e); default _start, else the start of .text. */
  entry?: string;
}

export type Severity = "Error" | "Warning" | "Info";

export interface Diagnostic {
  loc: Location;
  severity: Severity;
  message: string;
}

export interface AssembleResult {
  /** Undefined when there was an error. */
  program: Program | undefined;
  diagnostics: Diagnostic[];
}

/** Default address of .text: 1 MiB on x86-64 (as multiboot kernels), RAM + 512 KiB on QEMU virt for AArch64. */
export const DEFAULT_BASE: Record<ArchName, bigint> = { x86_64: 0x10_0000n, aarch64: 0x4008_0000n };

/** GNU as's limit on macro nesting; a deeper one is a runaway recursion. */
const MAX_NESTING = 100;
/** Statements processed in one run, beyond which a .rept or macro loop is taken for runaway. */
const MAX_STATEMENTS = 5_000_000;
/**
 * The most bytes all sections may hold. Fragment bytes are a JavaScript
 * array (8 bytes of heap each) until the image is written, so this keeps an
 * assembly within half a GiB of heap; guests are a few KiB.
 */
const MAX_SECTION_BYTES = 64 << 20;
const TOO_LARGE = "the sections are larger than 64 MiB in all";
/**
 * Text made by macro and .irp expansion in one run, beyond which a macro is
 * taken for one that doubles its arguments at every level (which would
 * otherwise grow a line past what a string can hold).
 */
const MAX_EXPANSION_BYTES = 128 << 20;
/** The longest line an expansion may make; each level of a doubling macro would otherwise be slower than the last. */
const MAX_EXPANDED_LINE_BYTES = 1 << 20;

/** An error after which GNU as stops reading (as_fatal): what follows would only repeat it. */
class FatalAsmError extends AsmError {
  override name = "FatalAsmError";
}

interface Frame {
  statements: Statement[];
  index: number;
  /** Macro or repetition frames: where they were invoked, for messages. */
  invokedFrom?: Location;
  isMacro?: boolean;
  /** Set by .exitm. */
  exited?: boolean;
  /** Open conditionals when the frame started; .exitm closes the ones opened since. */
  conditionalDepth?: number;
}

interface Conditional {
  /** Are statements in the current branch assembled? */
  active: boolean;
  /** Has any branch of this .if been taken? */
  taken: boolean;
  /** Was the enclosing context active? */
  outer: boolean;
  sawElse: boolean;
  /** Where the .if was. */
  loc: Location;
}

/** Known section names and their ELF attributes. */
function defaultSection(name: string): { type: "progbits" | "nobits"; flags: SectionFlags } {
  const base = name.replace(/^(\.[a-z]+)\..*$/, "$1");
  switch (base) {
    case ".text":
    case ".init":
    case ".fini":
      return { type: "progbits", flags: { alloc: true, write: false, exec: true } };
    case ".data":
      return { type: "progbits", flags: { alloc: true, write: true, exec: false } };
    case ".bss":
    case ".sbss":
      return { type: "nobits", flags: { alloc: true, write: true, exec: false } };
    case ".rodata":
      return { type: "progbits", flags: { alloc: true, write: false, exec: false } };
    default:
      return { type: "progbits", flags: { alloc: !name.startsWith(".note") && !name.startsWith(".comment"), write: false, exec: false } };
  }
}

export class Assembler implements AsmContext {
  private readonly symbols = new SymbolTable();
  private readonly sections = new Map<string, Section>();
  private section!: Section;
  /** .pushsection saves the current and the previous section; .popsection restores both. */
  private readonly sectionStack: { current: Section; previous: Section | undefined }[] = [];
  private previousSection: Section | undefined;
  private readonly macros = new Map<string, Macro>();
  private macroCount = 0;
  private readonly frames: Frame[] = [];
  private readonly conditionals: Conditional[] = [];
  private readonly diagnostics: Diagnostic[] = [];
  private loc: Location = { file: "", line: 0 };
  /** Numeric local labels: digits → definitions so far. */
  private readonly localCounts = new Map<string, number>();
  private dotCount = 0;
  private statementCount = 0;
  private expansionBytes = 0;
  /** Bytes emitted into fragments so far, against MAX_SECTION_BYTES. */
  private emittedBytes = 0;
  /** An unterminated block swallowed the rest of the input: what it defined is missing for a reason already reported. */
  private swallowedRest = false;
  private ended = false;
  /** Each instruction: where it is, to turn into the program's line table. */
  private readonly instructionLines: { loc: Location; frag: Frag; offset: number; length: number | "variable" }[] = [];
  /** AArch64 mapping symbols ($x before code, $d before data), in the order made. */
  private readonly mappingSymbols: { section: Section; frag: Frag; offset: number; kind: "insn" | "data" }[] = [];

  constructor(
    private readonly backend: Backend,
    private readonly options: AssembleOptions,
  ) {
    this.switchTo(".text");
  }

  run(): AssembleResult {
    for (const src of [...this.options.sources].reverse()) {
      this.frames.push({ statements: statementsOf(src.text, src.path, this.backend.arch), index: 0 });
    }
    for (let st = this.next(); st && !this.ended; st = this.next()) {
      this.loc = st.loc;
      if (++this.statementCount > MAX_STATEMENTS) {
        this.error(`more than ${MAX_STATEMENTS} statements: a runaway .rept or macro?`);
        break;
      }
      try {
        this.statement(st.text);
      } catch (e) {
        if (e instanceof FatalAsmError) {
          // Reported as an Error (GNU as says "Fatal error"), and nothing after it is read.
          this.error(e.message);
          break;
        }
        if (!(e instanceof AsmError)) throw e;
        this.error(e.message);
      }
    }
    const open = this.conditionals[0];
    if (open) {
      this.error("end of file inside conditional");
      this.report("Info", "here is the start of the unterminated conditional", open.loc);
    }
    const program = this.finish();
    return { program: this.hasErrors() ? undefined : program, diagnostics: this.diagnostics };
  }

  // ── Diagnostics ────────────────────────────────────────────────────────────

  private report(severity: Severity, message: string, loc: Location = this.loc): void {
    this.diagnostics.push({ loc, severity, message });
    // Inside macros, say where each was invoked, as GNU as does.
    if (loc === this.loc) {
      for (let i = this.frames.length - 1; i >= 0; i--) {
        const f = this.frames[i]!;
        if (f.isMacro && f.invokedFrom) this.diagnostics.push({ loc: f.invokedFrom, severity: "Info", message: "macro invoked from here" });
      }
    }
  }

  private error(message: string, loc?: Location): void {
    this.report("Error", message, loc);
  }

  private warning(message: string, loc?: Location): void {
    this.report("Warning", message, loc);
  }

  private hasErrors(): boolean {
    return this.diagnostics.some((d) => d.severity === "Error");
  }

  // ── Reading ────────────────────────────────────────────────────────────────

  private next(): Statement | undefined {
    while (this.frames.length) {
      const f = this.frames[this.frames.length - 1]!;
      if (!f.exited && f.index < f.statements.length) return f.statements[f.index++];
      if (f.exited && f.conditionalDepth !== undefined) this.conditionals.length = f.conditionalDepth;
      this.frames.pop();
    }
    return undefined;
  }

  /**
   * Collects the statements of a block up to its closing directive, counting
   * nested openers. A block the input ends inside has consumed everything
   * after it: it is reported once ("missing CLOSER") and is neither expanded
   * nor defined, as GNU as does, so that nothing it swallowed runs again.
   */
  private collectBlock(openers: RegExp, closer: RegExp, closerName: string): Statement[] | undefined {
    const body: Statement[] = [];
    const start = this.loc;
    let depth = 1;
    for (let st = this.next(); st; st = this.next()) {
      const word = firstWord(st.text);
      if (openers.test(word)) depth++;
      else if (closer.test(word) && --depth === 0) return body;
      body.push(st);
    }
    this.error(`missing ${closerName}`, start);
    this.swallowedRest = true;
    return undefined;
  }

  private pushFrame(statements: Statement[], isMacro: boolean): void {
    if (this.frames.filter((f) => f.invokedFrom).length >= MAX_NESTING) {
      // Fatal in GNU as too (macro.c): a runaway recursion would otherwise report itself once per level.
      throw new FatalAsmError("macros nested too deeply");
    }
    this.frames.push({ statements, index: 0, invokedFrom: this.loc, isMacro, conditionalDepth: this.conditionals.length });
  }

  // ── Statements ─────────────────────────────────────────────────────────────

  private get active(): boolean {
    const c = this.conditionals[this.conditionals.length - 1];
    return c ? c.active : true;
  }

  private statement(text: string): void {
    let rest = text.trim();
    if (!rest) return;
    const word = firstWord(rest).toLowerCase();
    if (this.conditional(word, rest.slice(firstWord(rest).length).trim())) return;
    if (!this.active) return;

    // Labels: `name:` and numeric `1:`, any number of them.
    for (;;) {
      const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*|[0-9]+)\s*:(?![:=])/.exec(rest);
      if (!m) break;
      this.defineLabel(m[1]!);
      rest = rest.slice(m[0].length).trim();
    }
    if (!rest) return;

    // Assignment: `name = expr`.
    const assign = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)\s*(.*)$/.exec(rest);
    if (assign) {
      this.assignSymbol(assign[1]!, assign[2]!, false);
      return;
    }

    const name = firstWord(rest);
    const args = rest.slice(name.length).trim();
    const lower = name.toLowerCase();
    const macro = this.macros.get(name) ?? this.macros.get(lower);
    if (lower.startsWith(".") && !macro) {
      this.directive(lower, args);
      return;
    }
    if (macro) {
      this.expandMacro(macro, args);
      return;
    }
    this.instruction(name, args);
  }

  /** .if and friends; true when the statement was one of them. */
  private conditional(word: string, args: string): boolean {
    const top = this.conditionals[this.conditionals.length - 1];
    if (/^\.if/.test(word)) {
      const outer = this.active;
      const cond = outer ? this.condition(word, args) : false;
      this.conditionals.push({ active: outer && cond, taken: cond, outer, sawElse: false, loc: this.loc });
      return true;
    }
    if (word === ".elseif") {
      if (!top) throw new AsmError(".elseif without matching .if");
      if (top.sawElse) throw new AsmError(".elseif after .else");
      const cond = top.outer && !top.taken ? this.condition(".if", args) : false;
      top.active = top.outer && !top.taken && cond;
      top.taken ||= cond;
      return true;
    }
    if (word === ".else") {
      if (!top) throw new AsmError(".else without matching .if");
      if (top.sawElse) throw new AsmError("duplicate .else");
      top.sawElse = true;
      top.active = top.outer && !top.taken;
      top.taken = true;
      return true;
    }
    if (word === ".endif") {
      if (!top) throw new AsmError(".endif without matching .if");
      this.conditionals.pop();
      return true;
    }
    return false;
  }

  private condition(word: string, args: string): boolean {
    const number = () => {
      const v = this.absolute(args, "the condition");
      return v;
    };
    switch (word) {
      case ".if":
      case ".ifne":
        return number() !== 0n;
      case ".ifeq":
        return number() === 0n;
      case ".ifgt":
        return number() > 0n;
      case ".ifge":
        return number() >= 0n;
      case ".iflt":
        return number() < 0n;
      case ".ifle":
        return number() <= 0n;
      case ".ifdef":
        return this.symbols.peek(args.trim())?.def !== undefined;
      case ".ifndef":
      case ".ifnotdef":
        return this.symbols.peek(args.trim())?.def === undefined;
      case ".ifb":
        return args.trim() === "";
      case ".ifnb":
        return args.trim() !== "";
      case ".ifc":
      case ".ifnc": {
        const [a = "", b = ""] = splitOperands(args).map((s) => s.replace(/^"(.*)"$/, "$1"));
        return (a === b) === (word === ".ifc");
      }
      default:
        throw new AsmError(`unknown pseudo-op: \`${word}'`);
    }
  }

  // ── Symbols ────────────────────────────────────────────────────────────────

  private defineLabel(name: string): void {
    if (/^[0-9]+$/.test(name)) {
      const n = (this.localCounts.get(name) ?? 0) + 1;
      this.localCounts.set(name, n);
      name = localLabelName(name, n);
    }
    const s = this.symbols.get(name);
    if (s.def) throw new AsmError(`symbol \`${name}' is already defined`);
    s.def = { kind: "label", section: this.section, frag: this.section.current, offset: this.section.current.data.length, loc: this.loc };
  }

  private assignSymbol(name: string, exprText: string, once: boolean): void {
    const s = this.symbols.get(name);
    if (s.def && (once || s.def.kind === "label" || s.def.fixed)) throw new AsmError(`symbol \`${name}' is already defined`);
    const expr = this.parseExpr(exprText);
    // A value known now is fixed now (a later .set does not change earlier uses).
    const v = this.symbols.value(expr, "parse");
    if (v?.section === undefined && v !== undefined) {
      s.def = { kind: "equ", expr: { kind: "num", value: v.value }, loc: this.loc, fixed: once };
    } else {
      s.def = { kind: "equ", expr, loc: this.loc, fixed: once };
    }
  }

  /** AsmContext: parse an expression, numeric local references and `.` resolved now. */
  parseExpr(text: string): Expr {
    const e = parseExpr(text, (digits, dir) => {
      const n = this.localCounts.get(digits) ?? 0;
      return localLabelName(digits, dir === "b" ? n : n + 1);
    });
    return this.bindNow(e);
  }

  /** Replaces `.` by a label here, and symbols whose value is already a plain number by the number. */
  private bindNow(e: Expr): Expr {
    switch (e.kind) {
      case "num":
        return e;
      case "sym": {
        if (e.name === ".") {
          const name = `\u0001dot${this.dotCount++}`;
          this.symbols.get(name).def = { kind: "label", section: this.section, frag: this.section.current, offset: this.section.current.data.length, loc: this.loc };
          return { kind: "sym", name };
        }
        const s = this.symbols.get(e.name);
        s.firstUse ??= this.loc;
        if (s.def?.kind === "equ" && s.def.expr.kind === "num") return s.def.expr;
        return e;
      }
      case "unary":
        return { kind: "unary", op: e.op, arg: this.bindNow(e.arg) };
      case "binary":
        return { kind: "binary", op: e.op, left: this.bindNow(e.left), right: this.bindNow(e.right) };
    }
  }

  /** AsmContext: the value GNU as would know while parsing this line. */
  knownValue(expr: Expr): bigint | undefined {
    const v = this.symbols.value(expr, "parse");
    return v && v.section === undefined ? v.value : undefined;
  }

  /** An expression that must be a number now (.rept counts, .if conditions, sizes). */
  private absolute(text: string, what: string): bigint {
    const v = this.knownValue(this.parseExpr(text));
    if (v === undefined) throw new AsmError(`${what} must be an absolute expression known here: '${text}'`);
    return v;
  }

  // ── Sections ───────────────────────────────────────────────────────────────

  private switchTo(name: string, flags?: SectionFlags, type?: "progbits" | "nobits"): void {
    let s = this.sections.get(name);
    if (!s) {
      const d = defaultSection(name);
      s = new Section(name, type ?? d.type, flags ?? d.flags);
      this.sections.set(name, s);
    }
    if (this.section && this.section !== s) this.previousSection = this.section;
    this.section = s;
  }

  private sectionDirective(args: string): void {
    const parts = splitOperands(args);
    const name = parts[0]?.replace(/^"(.*)"$/, "$1");
    if (!name) throw new AsmError("expected a section name");
    let flags: SectionFlags | undefined;
    let type: "progbits" | "nobits" | undefined;
    if (parts[1] !== undefined) {
      const f = parts[1].replace(/^"(.*)"$/, "$1");
      if (/[^awxMSGTo?d]/.test(f)) throw new AsmError(`unknown section flag in '${parts[1]}'`);
      flags = { alloc: f.includes("a"), write: f.includes("w"), exec: f.includes("x") };
    }
    if (parts[2] !== undefined) {
      const t = parts[2].replace(/^[@%]/, "");
      if (t !== "progbits" && t !== "nobits" && t !== "note") throw new AsmError(`unknown section type '${parts[2]}'`);
      type = t === "nobits" ? "nobits" : "progbits";
    }
    this.switchTo(name, flags, type);
  }

  // ── AArch64 mapping symbols ────────────────────────────────────────────────
  //
  // ELF for AArch64 marks where code and data start inside a section with
  // local symbols $x and $d, and disassemblers and debuggers read them.
  // They are made as GNU as makes them (tc-aarch64.c, mapping_state): data
  // in a code section gets $d, code gets $x; data in a data section gets
  // nothing unless an alignment or code comes too; of several at one
  // address only the last stays, and none stays at the end of a section.

  private mappingState(state: "data" | "insn"): void {
    if (this.backend.arch !== "aarch64") return;
    const s = this.section;
    if (s.mapState === state) return;
    if (s.mapState === "none" && state === "data" && !s.isCode) return;
    if (s.mapState === "none" && state === "insn" && (s.frags.length > 1 || s.current.data.length > 0)) {
      this.mappingSymbols.push({ section: s, frag: s.frags[0]!, offset: 0, kind: "data" });
    }
    this.mappingState2(state);
  }

  private mappingState2(state: "data" | "insn"): void {
    if (this.backend.arch !== "aarch64") return;
    const s = this.section;
    if (s.mapState === state) return;
    s.mapState = state;
    this.mappingSymbols.push({ section: s, frag: s.current, offset: s.current.data.length, kind: state });
  }

  private lineTable(): LineEntry[] {
    const sectionOf = new Map<Frag, Section>();
    for (const s of this.sections.values()) for (const f of s.frags) sectionOf.set(f, s);
    return this.instructionLines.map((e) => ({
      file: e.loc.file,
      line: e.loc.line,
      address: sectionOf.get(e.frag)!.address + BigInt(e.frag.offset + e.offset),
      size: e.length === "variable" ? e.frag.variableSize : e.length,
    }));
  }

  /** The mapping symbols that stay, as program symbols. */
  private mappingProgramSymbols(): ProgramSymbol[] {
    if (this.backend.arch !== "aarch64") return [];
    // Code padding that starts with zero bytes (to reach a 4-byte boundary)
    // is data up to the first NOP (tc-aarch64.c, aarch64_handle_align).
    for (const section of this.sections.values()) {
      for (const f of section.frags) {
        const v = f.variable;
        const fix = f.variableSize & 3;
        if (v?.kind !== "align" || !v.code || fix === 0) continue;
        const i = this.mappingSymbols.findIndex((m) => m.frag === f && m.offset === f.data.length);
        if (i >= 0) this.mappingSymbols.splice(i, 1);
        this.mappingSymbols.push({ section, frag: f, offset: f.data.length, kind: "data" });
        this.mappingSymbols.push({ section, frag: f, offset: f.data.length + fix, kind: "insn" });
      }
    }
    const at = (m: (typeof this.mappingSymbols)[number]) => m.frag.offset + m.offset;
    const kept = this.mappingSymbols.filter((m, i) =>
      at(m) < m.section.size && !this.mappingSymbols.slice(i + 1).some((n) => n.section === m.section && at(n) === at(m)));
    return kept.map((m) => ({
      name: m.kind === "insn" ? "$x" : "$d",
      value: m.section.address + BigInt(at(m)),
      section: m.section.name,
      global: false,
      type: "notype" as const,
      size: 0,
    }));
  }

  // ── Emitting bytes ─────────────────────────────────────────────────────────

  private emitBytes(bytes: ArrayLike<number>): void {
    const frag = this.section.current;
    if (this.section.type === "nobits") {
      for (let i = 0; i < bytes.length; i++) {
        if (bytes[i]) throw new AsmError(`attempt to store non-zero value in section \`${this.section.name}'`);
      }
    }
    this.emittedBytes += bytes.length;
    // Fatal: what follows would only add to it.
    if (this.emittedBytes > MAX_SECTION_BYTES) throw new FatalAsmError(TOO_LARGE);
    for (let i = 0; i < bytes.length; i++) frag.data.push(bytes[i]!);
  }

  private emitWithFixups(bytes: Uint8Array, fixups: Fixup[]): void {
    if (fixups.length && this.section.type === "nobits") throw new AsmError(`attempt to store non-zero value in section \`${this.section.name}'`);
    const frag = this.section.current;
    const offset = frag.data.length;
    this.emitBytes(bytes);
    if (fixups.length) frag.pieces.push({ offset, length: bytes.length, fixups, loc: this.loc });
  }

  private instruction(mnemonic: string, operands: string): void {
    const instr = this.backend.assemble(mnemonic, operands, this);
    // After data, GNU as aligns the next A64 instruction to 4 bytes (an
    // alignment fragment, so label distances across it are not known while
    // parsing).
    if (this.backend.arch === "aarch64" && this.section.mapState === "data") this.align(4, undefined, undefined, true);
    this.mappingState("insn");
    if (this.section.type === "nobits") throw new AsmError(`attempt to store non-zero value in section \`${this.section.name}'`);
    const frag = this.section.current;
    if (instr.relax) {
      this.instructionLines.push({ loc: this.loc, frag, offset: frag.data.length, length: "variable" });
      this.section.closeWith({ kind: "relax", instr, long: false, loc: this.loc });
      return;
    }
    this.instructionLines.push({ loc: this.loc, frag, offset: frag.data.length, length: instr.bytes.length });
    this.emitWithFixups(instr.bytes, instr.fixups);
  }

  /** A data value of `size` bytes: bytes now when known, else a fixup. */
  private dataValue(text: string, size: number, mapping: "data" | "insn" = "data"): void {
    this.mappingState(mapping);
    if (text.trim() === "") {
      this.warning("zero assumed for missing expression");
      text = "0";
    }
    const expr = this.parseExpr(text);
    const v = this.knownValue(expr);
    const bytes = new Uint8Array(size);
    if (v !== undefined) {
      this.checkTruncation(v, size);
      writeLE(bytes, 0, v, size);
      this.emitBytes(bytes);
      return;
    }
    this.emitWithFixups(bytes, [dataFixup(expr, size)]);
  }

  private checkTruncation(v: bigint, size: number): void {
    if (size >= 8) return;
    const bits = BigInt(size * 8);
    if (v >= 1n << bits || v < -(1n << (bits - 1n))) {
      const hex = (x: bigint) => "0x" + BigInt.asUintN(64, x).toString(16);
      this.warning(`value ${hex(v)} truncated to ${hex(BigInt.asUintN(size * 8, v))}`);
    }
  }

  private align(boundary: number, fill: number | undefined, max: number | undefined, code = false): void {
    if (!Number.isInteger(boundary) || boundary < 1 || (boundary & (boundary - 1)) !== 0) {
      throw new AsmError(`alignment not a power of 2`);
    }
    if (boundary > 1 << 30) throw new AsmError("alignment too large");
    this.section.align = Math.max(this.section.align, boundary);
    if (boundary === 1) return;
    this.mappingState2(this.section.isCode || code ? "insn" : "data");
    const nops = fill === undefined || fill === this.backend.nopFill;
    this.section.closeWith({ kind: "align", boundary, fill, max, code: code || (this.section.isCode && nops) });
  }

  // ── Directives ─────────────────────────────────────────────────────────────

  private directive(name: string, args: string): void {
    const ops = () => splitOperands(args);
    switch (name) {
      case ".text":
      case ".data":
      case ".bss":
        if (args && args !== "0") throw new AsmError("subsections are not supported");
        this.switchTo(name);
        return;
      case ".section":
        this.sectionDirective(args);
        return;
      case ".pushsection":
        this.sectionStack.push({ current: this.section, previous: this.previousSection });
        this.sectionDirective(args);
        return;
      case ".popsection": {
        const saved = this.sectionStack.pop();
        if (!saved) throw new AsmError(".popsection without corresponding .pushsection");
        this.section = saved.current;
        this.previousSection = saved.previous;
        return;
      }
      case ".previous":
        if (!this.previousSection) throw new AsmError(".previous without corresponding .section");
        this.switchTo(this.previousSection.name);
        return;
      case ".byte":
        for (const op of ops()) this.dataValue(op, 1);
        return;
      case ".short":
      case ".hword":
      case ".2byte":
        for (const op of ops()) this.dataValue(op, 2);
        return;
      case ".word":
        for (const op of ops()) this.dataValue(op, this.backend.wordSize);
        return;
      case ".long":
      case ".int":
      case ".4byte":
        for (const op of ops()) this.dataValue(op, 4);
        return;
      case ".quad":
      case ".8byte":
      case ".xword":
      case ".dword":
        for (const op of ops()) this.dataValue(op, 8);
        return;
      case ".inst":
        if (this.backend.arch !== "aarch64") throw new AsmError("unknown pseudo-op: `.inst'");
        for (const op of ops()) this.dataValue(op, 4, "insn");
        return;
      case ".ascii":
      case ".asciz":
      case ".string":
        this.mappingState("data");
        for (const op of ops()) {
          this.emitBytes(parseString(op));
          if (name !== ".ascii") this.emitBytes([0]);
        }
        return;
      case ".align":
      case ".balign":
      case ".p2align": {
        const [a = "", f, m] = ops();
        let n = Number(this.absolute(a, "the alignment"));
        const pow2 = name === ".p2align" || (name === ".align" && this.backend.alignIsPowerOfTwo);
        if (pow2) {
          if (n < 0 || n > 30) throw new AsmError("alignment too large");
          n = 2 ** n;
        }
        const fill = f ? Number(BigInt.asUintN(8, this.absolute(f, "the fill value"))) : undefined;
        const max = m ? Number(this.absolute(m, "the maximum")) : undefined;
        this.align(n === 0 ? 1 : n, fill, max);
        return;
      }
      case ".skip":
      case ".space":
      case ".zero": {
        const [s = "", f = "0"] = name === ".zero" ? [args, "0"] : ops();
        this.mappingState("data");
        const sizeExpr = this.parseExpr(s);
        const fill = Number(BigInt.asUintN(8, this.absolute(f, "the fill value")));
        const size = this.knownValue(sizeExpr);
        if (size === undefined) {
          this.section.closeWith({ kind: "space", size: sizeExpr, fill, loc: this.loc });
          return;
        }
        if (size < 0n) throw new AsmError(`.space, .skip or .zero with negative value`);
        if (size > BigInt(MAX_SECTION_BYTES)) throw new AsmError(TOO_LARGE);
        this.emitBytes(new Uint8Array(Number(size)).fill(fill));
        return;
      }
      case ".fill": {
        const [r = "", s = "1", v = "0"] = ops();
        this.mappingState("data");
        let size = Number(this.absolute(s, "the size"));
        const value = this.absolute(v, "the value");
        const repeatExpr = this.parseExpr(r);
        if (this.knownValue(repeatExpr) === undefined) {
          // A repeat count known only later is a .space of it (GNU as's rs_space frag); one that never
          // becomes absolute is then the .space error.
          if (size !== 1) throw new AsmError(".space, .nops or .fill specifies non-absolute value");
          this.section.closeWith({ kind: "space", size: repeatExpr, fill: Number(BigInt.asUintN(8, value)), loc: this.loc });
          return;
        }
        const repeat = this.absolute(r, "the repeat count");
        if (repeat < 0n) throw new AsmError("size negative; .fill ignored");
        if (size > 8) size = 8;
        if (repeat * BigInt(size) > BigInt(MAX_SECTION_BYTES)) throw new AsmError(TOO_LARGE);
        const bytes = new Uint8Array(size);
        writeLE(bytes, 0, value, Math.min(size, 4));
        for (let i = 0n; i < repeat; i++) this.emitBytes(bytes);
        return;
      }
      case ".org": {
        const [t = "", f = "0"] = ops();
        this.section.closeWith({ kind: "org", target: this.parseExpr(t), fill: Number(BigInt.asUintN(8, this.absolute(f, "the fill value"))), loc: this.loc });
        return;
      }
      case ".globl":
      case ".global":
        for (const op of ops()) this.symbols.get(symbolName(op)).global = true;
        return;
      case ".local":
        for (const op of ops()) this.symbols.get(symbolName(op)).global = false;
        return;
      case ".weak":
        throw new AsmError("weak symbols are not supported: an image is linked in one piece");
      case ".equ":
      case ".set":
      case ".equiv": {
        const comma = args.indexOf(",");
        if (comma < 0) throw new AsmError(`expected a comma after the name in ${name}`);
        this.assignSymbol(symbolName(args.slice(0, comma)), args.slice(comma + 1), name === ".equiv");
        return;
      }
      case ".type": {
        const [sym = "", kind = ""] = ops();
        const t = kind.replace(/^[@%]/, "");
        const s = this.symbols.get(symbolName(sym));
        if (t === "function") s.type = "func";
        else if (t === "object") s.type = "object";
        else if (t === "notype") s.type = "notype";
        else throw new AsmError(`unrecognized symbol type "${t}"`);
        return;
      }
      case ".size": {
        const [sym = "", size = ""] = ops();
        this.symbols.get(symbolName(sym)).size = this.parseExpr(size);
        return;
      }
      case ".macro": {
        const { name: macroName, params } = parseMacroHeader(args);
        const body = this.collectBlock(/^\.macro$/i, /^\.endm$/i, ".endm");
        if (!body) return;
        if (this.macros.has(macroName)) throw new AsmError(`macro \`${macroName}' was already defined`);
        this.macros.set(macroName, { name: macroName, params, body });
        return;
      }
      case ".purgem":
        if (!this.macros.delete(args.trim())) throw new AsmError(`macro \`${args.trim()}' was not defined`);
        return;
      case ".endm":
        throw new AsmError(".endm without .macro");
      case ".exitm": {
        let i = this.frames.length - 1;
        while (i >= 0 && !this.frames[i]!.isMacro) i--;
        if (i < 0) throw new AsmError(".exitm outside a macro");
        // The macro ends, and with it any repetition running inside it.
        for (; i < this.frames.length; i++) this.frames[i]!.exited = true;
        return;
      }
      case ".rept": {
        const count = this.absolute(args, "the repeat count");
        const body = this.collectBlock(/^\.(rept|irp|irpc)$/i, /^\.endr$/i, ".endr");
        if (!body) return;
        if (count < 0n) throw new AsmError(".rept count must not be negative");
        const expanded: Statement[] = [];
        for (let i = 0n; i < count; i++) {
          expanded.push(...body);
          if (expanded.length > MAX_STATEMENTS) throw new AsmError(`.rept expands to more than ${MAX_STATEMENTS} statements`);
        }
        this.pushFrame(expanded, false);
        return;
      }
      case ".irp":
      case ".irpc": {
        const { name: param, values } = parseIrp(args);
        const body = this.collectBlock(/^\.(rept|irp|irpc)$/i, /^\.endr$/i, ".endr");
        if (!body) return;
        const list = name === ".irpc" ? [...(values[0] ?? "")] : values.length ? values : [""];
        const expanded: Statement[] = [];
        for (const v of list) {
          const map = new Map([[param, v]]);
          for (const st of body) expanded.push({ text: this.expand(st.text, map, this.macroCount), loc: st.loc });
        }
        this.pushFrame(expanded, false);
        return;
      }
      case ".endr":
        throw new AsmError(".endr without .rept, .irp or .irpc");
      case ".include": {
        this.include(args);
        return;
      }
      case ".end":
        this.ended = true;
        return;
      case ".err":
        throw new AsmError(".err encountered");
      case ".error":
        throw new AsmError(args ? new TextDecoder().decode(parseString(args)) : ".error directive invoked in source file");
      case ".warning":
        this.warning(args ? new TextDecoder().decode(parseString(args)) : ".warning directive invoked in source file");
        return;
      case ".print":
        this.report("Info", new TextDecoder().decode(parseString(args)));
        return;
      // Accepted and ignored: they change nothing in a linked image.
      case ".file":
      case ".ident":
      case ".code64":
      case ".att_syntax":
      case ".cfi_startproc":
      case ".cfi_endproc":
      case ".arch":
      case ".cpu":
      case ".hidden":
        if (name === ".att_syntax" && args && args !== "prefix") throw new AsmError("only .att_syntax prefix is supported");
        if (name === ".arch" && this.backend.arch === "x86_64") throw new AsmError("unknown pseudo-op: `.arch'");
        return;
      case ".intel_syntax":
        throw new AsmError("shootdown assembles AT&T syntax only (.intel_syntax is not supported)");
      case ".code16":
      case ".code32":
        throw new AsmError(`${name} is not supported: 64-bit code only`);
      default:
        throw new AsmError(`unknown pseudo-op: \`${name}'`);
    }
  }

  private include(args: string): void {
    const file = new TextDecoder().decode(parseString(args));
    const from = dirname(this.loc.file);
    const candidates = [resolve(from, file), ...(this.options.includeDirs ?? []).map((d) => resolve(d, file))];
    const read = this.options.readFile;
    for (const path of candidates) {
      const text = read?.(path);
      if (text === undefined) continue;
      if (this.frames.length > MAX_NESTING) throw new AsmError("includes nested too deeply");
      this.frames.push({ statements: statementsOf(text, path, this.backend.arch), index: 0 });
      return;
    }
    throw new AsmError(`can't open ${file} for reading: No such file or directory`);
  }

  private expandMacro(macro: Macro, args: string): void {
    const values = bindArguments(macro, args);
    const counter = this.macroCount++;
    const body = macro.body.map((st) => ({ text: this.expand(st.text, values, counter), loc: st.loc }));
    this.pushFrame(body, true);
  }

  /** One line of a macro or .irp body with its arguments substituted, counted against MAX_EXPANSION_BYTES. */
  private expand(text: string, values: Map<string, string>, counter: number): string {
    let length = text.length;
    for (const v of values.values()) length += v.length * (text.split("\\").length - 1);
    if (this.expansionBytes + length > MAX_EXPANSION_BYTES) {
      throw new FatalAsmError(`macro expansion exceeds ${MAX_EXPANSION_BYTES >> 20} MiB of text: a runaway macro?`);
    }
    const line = substitute(text, values, counter);
    if (line.length > MAX_EXPANDED_LINE_BYTES) {
      throw new FatalAsmError(`macro expansion makes a line of ${line.length} bytes (at most ${MAX_EXPANDED_LINE_BYTES >> 20} MiB): a macro that grows its arguments at every level?`);
    }
    this.expansionBytes += line.length;
    return line;
  }

  // ── Layout, placement, fixups ──────────────────────────────────────────────

  private finish(): Program {
    const sections = [...this.sections.values()];
    for (const s of sections) this.relax(s);
    // .org and .space are bounded one by one; together they must still fit in an image we can write.
    const bytes = sections.reduce((n, s) => n + (s.type === "progbits" ? s.size : 0), 0);
    if (bytes > MAX_SECTION_BYTES) {
      const biggest = sections.reduce((a, b) => (b.size > a.size ? b : a));
      this.error(`the sections hold ${bytes} bytes (\`${biggest.name}' ${biggest.size}); an image may hold at most 64 MiB`, { file: this.options.sources[0]?.path ?? "", line: 0 });
      return { arch: this.backend.arch, entry: 0n, sections: [], symbols: [], lines: [] };
    }
    const placed = sections.filter((s) => s.flags.alloc && (s.size > 0 || this.hasLabels(s)));
    try {
      placeSections(placed, this.options.sectionStarts ?? new Map(), DEFAULT_BASE[this.backend.arch]);
    } catch (e) {
      if (!(e instanceof AsmError)) throw e;
      this.error(e.message, { file: this.options.sources[0]?.path ?? "", line: 0 });
    }
    placed.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    const out: ProgramSection[] = placed.map((s) => this.contents(s));
    if (!this.swallowedRest) this.checkUndefined();
    return {
      arch: this.backend.arch,
      entry: this.entry(placed),
      sections: out,
      symbols: [...this.programSymbols(), ...this.mappingProgramSymbols()],
      lines: this.lineTable(),
    };
  }

  private hasLabels(s: Section): boolean {
    for (const sym of this.symbols.all()) if (sym.def?.kind === "label" && sym.def.section === s && isVisible(sym.name)) return true;
    return false;
  }

  /** Section-relative value while relaxing, or undefined. */
  private relaxValue(e: Expr, loc: Location): Value | undefined {
    try {
      return this.symbols.value(e, "relax");
    } catch (err) {
      if (err instanceof AsmError) this.error(err.message, loc);
      else throw err;
      return undefined;
    }
  }

  /**
   * Lays a section out as GNU as's relax_segment does (write.c): a first
   * layout with every branch short (long at once when its target is not a
   * label of this section), then passes. A pass moves each fragment by the
   * growth before it (`stretch`); a branch whose target lies further on,
   * not yet moved in this pass, assumes the target moved by as much, unless
   * an alignment lies between them (which may absorb it); a branch that
   * does not fit becomes long for good. Passes end when nothing grows.
   */
  private relax(s: Section): void {
    let offset = 0;
    let region = 0;
    for (const f of s.frags) {
      f.offset = offset;
      f.region = region;
      f.pass = 0;
      const end = offset + f.data.length;
      const v = f.variable;
      let size = 0;
      if (v?.kind === "relax") {
        const t = this.relaxValue(v.instr.relax!.target, v.loc);
        if (!t || t.section !== s) v.long = true;
        size = v.long ? v.instr.relax!.long.bytes.length : v.instr.bytes.length;
      } else if (v?.kind === "align") {
        size = alignPadding(end, v.boundary, v.max);
        region++;
      } else if (v?.kind === "org") {
        // Assumed empty at first; it grows in the first pass.
        region++;
      } else if (v?.kind === "space") {
        size = this.spaceSize(v.size, v.loc);
      }
      f.variableSize = size;
      offset = end + size;
    }
    for (let pass = 1; pass <= 1000; pass++) {
      let stretch = 0;
      let stretched = false;
      for (const f of s.frags) {
        f.offset += stretch;
        f.pass = pass;
        const growth = this.growth(s, f, stretch, pass);
        if (growth !== 0) {
          f.variableSize += growth;
          stretch += growth;
          stretched = true;
        }
      }
      if (!stretched) return;
    }
    this.error(`section \`${s.name}' does not settle: alignment and branch sizes keep changing`, { file: "", line: 0 });
  }

  /** How much a fragment's variable part grows in this pass. */
  private growth(s: Section, f: Frag, stretch: number, pass: number): number {
    const v = f.variable;
    if (!v) return 0;
    const end = f.offset + f.data.length;
    switch (v.kind) {
      case "relax": {
        if (v.long) return 0;
        const r = v.instr.relax!;
        const t = this.relaxValue(r.target, v.loc);
        if (!t || t.section !== s) {
          v.long = true;
        } else {
          let target = t.value;
          const at = this.labelFrag(r.target);
          if (stretch !== 0 && at && at.pass !== pass) {
            if (stretch < 0 || at.region === f.region) target += BigInt(stretch);
            else if (target < BigInt(end)) return 0;
          }
          if (r.fits(target, BigInt(end))) return 0;
          v.long = true;
        }
        return r.long.bytes.length - v.instr.bytes.length;
      }
      case "align":
        return alignPadding(end, v.boundary, v.max) - f.variableSize;
      case "org": {
        const t = this.relaxValue(v.target, v.loc);
        if (!t || (t.section !== undefined && t.section !== s)) return 0;
        return Math.max(0, Number(t.value) - end) - f.variableSize;
      }
      case "space":
        return this.spaceSize(v.size, v.loc) - f.variableSize;
    }
  }

  private spaceSize(size: Expr, loc: Location): number {
    const t = this.relaxValue(size, loc);
    return t && t.section === undefined && t.value > 0n ? Math.min(Number(t.value), MAX_SECTION_BYTES) : 0;
  }

  /** The fragment of the label a branch target names (`label` or `label ± number`). */
  private labelFrag(e: Expr): Frag | undefined {
    if (e.kind === "binary" && (e.op === "+" || e.op === "-")) {
      if (e.right.kind === "num") return this.labelFrag(e.left);
      if (e.left.kind === "num" && e.op === "+") return this.labelFrag(e.right);
      return undefined;
    }
    if (e.kind !== "sym") return undefined;
    const def = this.symbols.peek(e.name)?.def;
    return def?.kind === "label" ? def.frag : undefined;
  }

  /** The section's bytes with every fixup applied. */
  private contents(s: Section): ProgramSection {
    const size = s.size;
    const bytes = new Uint8Array(s.type === "nobits" ? 0 : size);
    for (const f of s.frags) {
      if (s.type !== "nobits") bytes.set(f.data, f.offset);
      for (const p of f.pieces) {
        this.applyFixups(p.fixups, bytes.subarray(f.offset + p.offset, f.offset + p.offset + p.length), s.address + BigInt(f.offset + p.offset), p.loc);
      }
      const v = f.variable;
      if (!v) continue;
      const at = f.offset + f.data.length;
      switch (v.kind) {
        case "relax": {
          const enc = v.long ? v.instr.relax!.long : v.instr;
          const view = bytes.subarray(at, at + enc.bytes.length);
          view.set(enc.bytes);
          this.applyFixups(enc.fixups, view, s.address + BigInt(at), v.loc);
          break;
        }
        case "align":
          if (s.type !== "nobits" && f.variableSize > 0) {
            bytes.set(v.code ? this.backend.codeFill(f.variableSize, s.address + BigInt(at)) : new Uint8Array(f.variableSize).fill(v.fill ?? 0), at);
          }
          break;
        case "org": {
          const t = this.relaxValue(v.target, v.loc);
          if (!t) this.error("cannot resolve the .org target here", v.loc);
          else if (t.section !== undefined && t.section !== s) this.error("can't .org to another section", v.loc);
          else if (Number(t.value) < at) this.error("attempt to move .org backwards", v.loc);
          else if (s.type !== "nobits") bytes.fill(v.fill, at, at + f.variableSize);
          break;
        }
        case "space": {
          const t = this.relaxValue(v.size, v.loc);
          // GNU as's message for a size that is not absolute once everything is known (write.c), .fill's too.
          if (!t || t.section !== undefined) this.error(".space, .nops or .fill specifies non-absolute value", v.loc);
          else if (t.value < 0n) this.error(".space, .skip or .zero with negative value", v.loc);
          else if (s.type !== "nobits") bytes.fill(v.fill, at, at + f.variableSize);
          break;
        }
      }
    }
    return { name: s.name, type: s.type, flags: s.flags, address: s.address, align: s.align, size, bytes };
  }

  private applyFixups(fixups: Fixup[], view: Uint8Array, address: bigint, loc: Location): void {
    for (const fx of fixups) {
      let v: Value | undefined;
      try {
        v = this.symbols.value(fx.expr, "final");
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        this.error(e.message, loc);
        continue;
      }
      if (!v) {
        if (this.swallowedRest) continue;
        const missing = symbolsOf(fx.expr).find((n) => !this.symbols.peek(n)?.def);
        this.error(missing ? undefinedMessage(missing) : "expression has no value", loc);
        continue;
      }
      const message = fx.apply(view, v.value, address);
      if (message) this.error(message, loc);
    }
  }

  private checkUndefined(): void {
    // Globals named but never defined are an error only when used (reported by the fixup).
    for (const s of this.symbols.all()) {
      if (s.def?.kind === "equ") {
        try {
          if (!this.symbols.value(s.def.expr, "final")) {
            const missing = symbolsOf(s.def.expr).find((n) => !this.symbols.peek(n)?.def);
            if (missing && isVisible(s.name)) this.error(undefinedMessage(missing), s.def.loc);
          }
        } catch (e) {
          if (!(e instanceof AsmError)) throw e;
          this.error(e.message, s.def.loc);
        }
      }
    }
  }

  private entry(placed: Section[]): bigint {
    const name = this.options.entry ?? "_start";
    const s = this.symbols.peek(name);
    if (s?.def) {
      const v = this.symbols.value({ kind: "sym", name }, "final");
      if (v) return v.value;
    }
    if (this.options.entry) {
      this.error(`entry symbol \`${name}' is not defined`, { file: this.options.sources[0]?.path ?? "", line: 0 });
      return 0n;
    }
    const text = placed.find((x) => x.name === ".text") ?? placed.find((x) => x.flags.exec);
    return text?.address ?? 0n;
  }

  private programSymbols(): ProgramSymbol[] {
    const out: ProgramSymbol[] = [];
    for (const s of this.symbols.all()) {
      if (!s.def || !isVisible(s.name)) continue;
      let v: Value | undefined;
      try {
        v = this.symbols.value({ kind: "sym", name: s.name }, "final");
      } catch {
        continue;
      }
      if (!v) continue;
      let size = 0;
      if (s.size) {
        const sz = this.symbols.value(s.size, "final");
        if (sz && sz.section === undefined) size = Number(sz.value);
      }
      const section = s.def.kind === "label" ? s.def.section.name : v.section?.name ?? null;
      out.push({ name: s.name, value: BigInt.asUintN(64, v.value), section, global: s.global, type: s.type, size });
    }
    return out;
  }
}

// ── Helpers ──────────────────────────────────────────────────────────────────

function firstWord(text: string): string {
  const m = /^[^\s]+/.exec(text.trim());
  return m ? m[0] : "";
}

function symbolName(text: string): string {
  const name = text.trim();
  if (!/^[A-Za-z_.$][A-Za-z0-9_.$]*$/.test(name)) throw new AsmError(`bad symbol name '${name}'`);
  return name;
}

/** The internal name of the n-th definition of numeric label `digits`. */
function localLabelName(digits: string, n: number): string {
  return `.L${digits}\u0002${n}`;
}

/** Symbols that go into the image's symbol table: not .L locals, not internal ones. */
function isVisible(name: string): boolean {
  return !name.startsWith(".L") && !name.startsWith("\u0001");
}

function undefinedMessage(name: string): string {
  const local = /^\.L([0-9]+)\u0002([0-9]+)$/.exec(name);
  if (local) return `local label \`${local[1]}' (instance ${local[2]}) is not defined`;
  return `undefined symbol \`${name}'`;
}

export function writeLE(bytes: Uint8Array, offset: number, value: bigint, size: number): void {
  let v = BigInt.asUintN(64, value);
  for (let i = 0; i < size; i++) {
    bytes[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** A fixup for a data directive of `size` bytes: the value must fit signed or unsigned. */
function dataFixup(expr: Expr, size: number): Fixup {
  return {
    offset: 0,
    expr,
    apply(bytes, value) {
      if (size < 8) {
        const bits = BigInt(size * 8);
        if (value >= 1n << bits || value < -(1n << (bits - 1n))) {
          return `value 0x${BigInt.asUintN(64, value).toString(16)} does not fit in ${size} byte${size > 1 ? "s" : ""}`;
        }
      }
      writeLE(bytes, 0, value, size);
      return undefined;
    },
  };
}

/** A string literal's bytes, with GNU as's escapes. */
export function parseString(text: string): Uint8Array {
  const t = text.trim();
  if (!t.startsWith('"')) throw new AsmError(`expected a string: '${t}'`);
  const end = stringEnd(t, 0);
  if (t[end - 1] !== '"' || end === 1) throw new AsmError("unterminated string");
  if (t.slice(end).trim() !== "") throw new AsmError(`junk after string: '${t.slice(end).trim()}'`);
  const out: number[] = [];
  const body = t.slice(1, end - 1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== "\\") {
      for (const b of new TextEncoder().encode(ch)) out.push(b);
      continue;
    }
    const e = body[++i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, "\\": 92, '"': 34, "'": 39 };
    if (e === undefined) break;
    if (e in simple) out.push(simple[e]!);
    else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))!;
      out.push(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else if (e === "x" || e === "X") {
      const m = /^[0-9a-fA-F]+/.exec(body.slice(i + 1));
      if (!m) throw new AsmError("bad \\x escape in string");
      out.push(parseInt(m[0].slice(-2), 16));
      i += m[0].length;
    } else {
      out.push(e.charCodeAt(0));
    }
  }
  return new Uint8Array(out);
}

/** Assembles sources with a backend. */
export function assembleWith(backend: Backend, options: AssembleOptions): AssembleResult {
  return new Assembler(backend, options).run();
}
